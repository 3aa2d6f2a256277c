#!/bin/sh
# nfpilot bench: the lockout pre-check (check/lockout.h) — the sandbox made,
# the change staged in it, the admin's SSH session asked about (established
# and new) — on tables of 1k and 10k rules (gen.py: one base chain on
# input, the packets match none, so the kernel walks every rule). Measured
# through `apply --dry-run` (the script checked, staged in a sandbox copy,
# compared; no probation), with the pre-check (a session named by
# SSH_CONNECTION, cut by the change's drop policy) and without it
# (--ignore-lockout): their difference is the pre-check's own cost. Side by
# side with `nft -f` of the same table into a fresh namespace (the floor:
# the sandbox loads a copy too). Ratios and times reported, nothing
# asserted. Then the live view's o and b keys (tmux, tui_measure.py quick):
# the first makes the session's sandbox, the later ones stage their rule on
# it by differences.
# usage: sh tests/bench/lockout.sh [NFPILOT]   (release build: make nfpilot)
#   BENCH_REPS=N   repetitions (default 5)
#   BENCH_OUT=F    append the table as markdown to F
# Needs root; fixtures live in throw-away namespaces nfpl-PID-*.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bench_setup "bench lockout" nfplock nfpl "${1:-}"
res=$tmp/results
row() { python3 "$here/measure.py" row --out "$res" "$@"; }

cat >"$tmp/change.nft" <<'EOF'
table inet lk {
	chain input {
		type filter hook input priority -10; policy drop;
		iif "lo" accept
	}
}
EOF
ssh="env SSH_CONNECTION=192.0.2.1\ 40000\ 10.9.0.1\ 22"
echo "bench lockout: $bin, reps $reps, $(nproc) cores, kernel $(uname -r)" >&2
for size in 1k 10k; do
	sandbox_fixture "$size"
	row --label "apply --dry-run + pre-check, $size rules" --goal info --reps "$reps" --ns "$ns" \
	    --expect 1 --a "$ssh $bin -N $ns apply --dry-run $tmp/change.nft" \
	    --pa 'pre-check would stop it: this change drops your own SSH session' \
	    --b "unshare -n nft -f $tmp/$size.nft"
	row --label "apply --dry-run, no pre-check, $size rules" --goal info --reps "$reps" \
	    --ns "$ns" --expect 1 \
	    --a "$ssh $bin -N $ns apply --dry-run --ignore-lockout $tmp/change.nft" \
	    --pa 'would change inet lk' --b "unshare -n nft -f $tmp/$size.nft"
	# the live view's o and b: each key places, stages and checks its rule
	# on the session's sandbox (tui_measure.py quick; the first makes it)
	if command -v tmux >/dev/null; then
		for key in o b; do
			python3 "$here/tui_measure.py" quick --bin "$bin" --ns "$ns" --key "$key" \
			    --keys 6 --label "$size rules" >>"$tmp/keys" ||
				echo "bench lockout: the live view's $key failed (above)" >&2
		done
	fi
done
python3 "$here/measure.py" table "$res" ${BENCH_OUT:+--md "$BENCH_OUT"}
[ -s "$tmp/keys" ] || exit 0
echo
python3 "$here/tui_measure.py" table "$tmp/keys" --md "$tmp/keys.md"
[ -z "${BENCH_OUT:-}" ] || { echo; cat "$tmp/keys.md"; } >>"$BENCH_OUT"
