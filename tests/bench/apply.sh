#!/bin/sh
# nfpilot bench: applying ONE insert into a big chain, nfpilot edit against
# nft -f of the same one-line change, side by side (median of BENCH_REPS runs,
# default 5; the inserted rule is deleted between runs, untimed). Every edit
# is on probation: `nfpilot edit --detach` is timed until the change is in
# and the guardian keeps it, then `nfpilot confirm` on its own (it records
# the tables before and after in the history).
# usage: sh tests/bench/apply.sh [NFPILOT]
#   BENCH_QUICK=1  skip the 100k-rule single chain
#   BENCH_OUT=F    append the table as markdown to F
# Needs root; fixtures live in throw-away namespaces nfpa-PID-*.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bench_setup "bench apply" nfpapply nfpa "${1:-}"
# the probations' history and state stay in the temp dir
export NFPILOT_LIB_DIR="$tmp/lib" NFPILOT_RUN_DIR="$tmp/run"
trap bench_cleanup_guardians EXIT # a guardian left by a bench stopped early too

# now: seconds with nanoseconds
now() { date +%s.%N; }

# one LABEL NS CHAIN: time the insert both ways, REPS times each, alternating
one() {
	label=$1 ns=$2 chain=$3
	# the anchor: the rule in the middle of the chain
	h=$(ip netns exec "$ns" nft -a list chain inet T "$chain" |
		sed -n 's/.*# handle \([0-9]*\)$/\1/p' | awk '{ a[NR] = $1 } END { print a[int(NR / 2) + 1] }')
	printf 'insert rule inet T %s position %s tcp dport 1 accept\n' "$chain" "$h" >"$tmp/one.nft"
	: >"$tmp/a" ; : >"$tmp/b" ; : >"$tmp/c"
	i=0
	while [ "$i" -lt "$reps" ]; do
		for side in a b; do
			t0=$(now)
			if [ $side = a ]; then
				"$bin" -N "$ns" edit --detach -t inet T -c "$chain" \
					--insert-before-handle "$h" 'tcp dport 1 accept' >/dev/null
				t1=$(now)
				"$bin" -N "$ns" confirm >/dev/null
				echo "$t1 $(now)" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/c"
			else
				ip netns exec "$ns" nft -f "$tmp/one.nft"
				t1=$(now)
			fi
			echo "$t0 $t1" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/$side"
			# check and undo: exactly one "tcp dport 1 " rule
			x=$(ip netns exec "$ns" nft -a list chain inet T "$chain" |
				awk '/tcp dport 1 .*accept # handle/ { n++; nh = $NF } END { print n + 0, nh }')
			set -- $x
			if [ "$1" != 1 ]; then
				echo "bench apply: $label ($side): $1 inserted rules, want 1" >&2
				exit 1
			fi
			ip netns exec "$ns" nft delete rule inet T "$chain" handle "$2"
		done
		i=$((i + 1))
	done
	ma=$(sort -n "$tmp/a" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	mb=$(sort -n "$tmp/b" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	mc=$(sort -n "$tmp/c" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	echo "$label|$ma|$mb|$(awk "BEGIN { printf \"%.3f\", $ma / $mb }")|$mc" >>"$tmp/rows"
}

# whole LABEL NS RULES: a script of the whole table (`flush table inet T` and
# its RULES rules, as gen.py writes them), `nfpilot apply --detach` (its
# restore point: every table, read whole; the kernel's notifications of the
# commit tell which changed) then `nfpilot confirm`, against nft -f of the
# same file, alternating; 100k: min(reps, 3) each
whole() {
	label=$1 ns=$2 rules=$3 n=$reps
	[ "$rules" -ge 100000 ] && n=$(( reps < 3 ? reps : 3 ))
	{ echo "flush table inet T"; python3 "$here/gen.py" T 1 "$rules"; } >"$tmp/whole.nft"
	: >"$tmp/a" ; : >"$tmp/b"
	i=0
	while [ "$i" -lt "$n" ]; do
		t0=$(now)
		"$bin" -N "$ns" apply --detach --timeout 600 "$tmp/whole.nft" >/dev/null
		"$bin" -N "$ns" confirm >/dev/null 2>&1 || : # none when nothing changed
		t1=$(now)
		ip netns exec "$ns" nft -f "$tmp/whole.nft"
		t2=$(now)
		echo "$t0 $t1" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/a"
		echo "$t1 $t2" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/b"
		i=$((i + 1))
	done
	rm -f "$tmp/whole.nft"
	ma=$(sort -n "$tmp/a" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	mb=$(sort -n "$tmp/b" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	echo "$label|$ma|$mb|$(awk "BEGIN { printf \"%.3f\", $ma / $mb }")|$n" >>"$tmp/wrows"
}

# the nft -f timing above includes `ip netns exec`; measure that overhead once
# so the table can show it (nfpilot enters the namespace itself with -N)

start=$(date +%s)
: >"$tmp/rows"
: >"$tmp/wrows"
if [ "$quick" != 1 ]; then
	fixture 100k 1 100000
	one "insert into 1 chain x 100k rules" "$pfx-100k" big
	whole "apply FILE: the whole table, 100k rules" "$pfx-100k" 100000
	ip netns del "$pfx-100k"
fi
fixture 10k 1 10000
one "insert into 1 chain x 10k rules" "$pfx-10k" big
whole "apply FILE: the whole table, 10k rules" "$pfx-10k" 10000
ip netns del "$pfx-10k"
fixture 100x1k 100 1000
one "insert into c050 of 100 chains x 1k" "$pfx-100x1k" c050
ip netns del "$pfx-100x1k"
ns=$pfx-empty
ip netns add "$ns"; made="$made $ns"
: >"$tmp/c"
i=0
while [ "$i" -lt "$reps" ]; do
	t0=$(now); ip netns exec "$ns" true; t1=$(now)
	echo "$t0 $t1" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/c"
	i=$((i + 1))
done
exec_ms=$(sort -n "$tmp/c" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] * 1000 }')

load=$(cut -d' ' -f1-3 /proc/loadavg)
head="nfpilot apply bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) cores, kernel $(uname -r), $(nft --version), load $load, reps $reps, $(( $(date +%s) - start )) s"
{
	echo "$head"
	printf '%-40s %12s %12s %7s %12s\n' "one insert (median s)" "nfpilot edit" "nft -f" ratio \
		"+ confirm"
	while IFS='|' read -r l a b r c; do
		printf '%-40s %12s %12s %7s %12s\n' "$l" "$a" "$b" "$r" "$c"
	done <"$tmp/rows"
	echo "(nfpilot edit --detach: until the change is on probation; + confirm: nfpilot confirm after it)"
	printf '%-40s %12s %12s %7s %5s\n' "a whole-table script (median s)" "apply+confirm" "nft -f" \
		ratio reps
	while IFS='|' read -r l a b r c; do
		printf '%-40s %12s %12s %7s %5s\n' "$l" "$a" "$b" "$r" "$c"
	done <"$tmp/wrows"
	echo "(nft -f runs under ip netns exec: ${exec_ms} ms of it is that wrapper)"
}
if [ -n "${BENCH_OUT:-}" ]; then
	{
		echo
		echo "## Applying one edit to a big ruleset"
		echo
		echo "$head."
		echo "\`sh tests/bench/apply.sh\`: \`nfpilot -N NS edit --detach -t inet T -c C --insert-before-handle H 'tcp dport 1 accept'\`"
		echo "(on probation), then \`nfpilot confirm\` timed on its own,"
		echo "against \`nft -f\` of \`insert rule inet T C position H tcp dport 1 accept\`; H is the middle rule."
		echo
		echo "| one insert, median seconds | nfpilot edit --detach | nft -f | ratio | + nfpilot confirm |"
		echo "|---|---:|---:|---:|---:|"
		while IFS='|' read -r l a b r c; do
			echo "| $l | $a | $b | $r | $c |"
		done <"$tmp/rows"
		echo
		echo "A script of the whole table (\`flush table inet T\` and its rules): \`nfpilot apply --detach FILE\`"
		echo "then \`nfpilot confirm\`, against \`nft -f FILE\`, alternating:"
		echo
		echo "| whole-table script, median seconds | nfpilot apply + confirm | nft -f | ratio | reps |"
		echo "|---|---:|---:|---:|---:|"
		while IFS='|' read -r l a b r c; do
			echo "| $l | $a | $b | $r | $c |"
		done <"$tmp/wrows"
		echo
		echo "nft -f runs under \`ip netns exec\` (${exec_ms} ms of its time); nfpilot enters the namespace itself."
	} >>"$BENCH_OUT"
fi
