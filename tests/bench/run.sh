#!/bin/sh
# nfpilot benchmarks: nfpilot against the reference tool (nft), side by side.
# usage: sh tests/bench/run.sh [NFPILOT]        (make bench: ./nfpilot)
#   BENCH_REPS=N   repetitions for fixtures up to 10k rules (default 5;
#                  100k rules: min(N, 3))
#   BENCH_QUICK=1  skip the 100k-rule fixture
#   BENCH_OUT=F    also write the results table as markdown to F
# Needs root. Fixtures live in throw-away network namespaces nfpb-PID-*;
# the root namespace's ruleset is never touched.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bench_setup bench nfpbench nfpb "${1:-}"
reps_big=$(( reps < 3 ? reps : 3 ))
res=$tmp/results

row() { python3 "$here/measure.py" row --out "$res" "$@"; }

# Patterns for the output check: one match per listed rule.
p_text='accept comment \\?"r[0-9]+'           # rule text (nft, nfpilot text and JSON)
p_cnt='^ *[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ *$'    # nfpilot --counters row: num pkts bytes handle

full() { # full NAME N REPS
	row --label "full listing $1" --goal 1.2 --reps "$3" --ns "$pfx-$1" --expect "$2" \
	    --a "$bin -N $pfx-$1 list" --pa "$p_text" \
	    --b "nft list ruleset" --pb "$p_text"
}

refresh() { # refresh NAME CHAIN N REPS
	row --label "counter refresh $1, chain $2" --goal 0.2 --reps "$4" --ns "$pfx-$1" --expect "$3" \
	    --a "$bin -N $pfx-$1 list -t inet T -c $2 --counters" --pa "$p_cnt" \
	    --b "nft list chain inet T $2" --pb "$p_text"
	row --label "one chain with text $1, chain $2" --reps "$4" --ns "$pfx-$1" --expect "$3" \
	    --a "$bin -N $pfx-$1 list -t inet T -c $2" --pa "$p_text" \
	    --b "nft list chain inet T $2" --pb "$p_text"
}

start=$(date +%s)
echo "nfpilot bench: $bin, reps $reps (100k: $reps_big), $(nproc) cores, kernel $(uname -r), $(nft --version)" >&2

ip netns add "$pfx-empty"; made="$made $pfx-empty"
row --label "full listing, empty ruleset" --reps "$reps" --ns "$pfx-empty" --expect 0 \
    --a "$bin -N $pfx-empty list" --pa "$p_text" --b "nft list ruleset" --pb "$p_text"
ip netns del "$pfx-empty"

fixture 1k 1 1000
full 1k 1000 "$reps"
ip netns del "$pfx-1k"

fixture 10k 1 10000
full 10k 10000 "$reps"
refresh 10k big 10000 "$reps"
ip netns del "$pfx-10k"

if [ "$quick" != 1 ]; then
	fixture 100k 1 100000
	full 100k 100000 "$reps_big"
	row --label "JSON listing 100k" --reps "$reps_big" --ns "$pfx-100k" --expect 100000 \
	    --a "$bin -N $pfx-100k list --json" --pa "$p_text" \
	    --b "nft -j list ruleset" --pb '"comment": "r[0-9]+", "expr"'
	ip netns del "$pfx-100k"
fi

fixture 100x1k 100 1000
full 100x1k 100000 "$reps_big"
refresh 100x1k c050 1000 "$reps"
ip netns del "$pfx-100x1k"

echo >&2
echo "nfpilot benchmark, medians in seconds (total bench time $(( $(date +%s) - start )) s)"
rc=0
python3 "$here/measure.py" table "$res" ${BENCH_OUT:+--md "$BENCH_OUT"} || rc=$?
echo
echo "PASS/MISS: ratio nfpilot/reference against the goal; BAD: a command failed or"
echo "listed the wrong number of rules (output check: nfpilot/reference, found/expected)."
echo "Exit status 1 when a row is BAD; MISS is reported, not an error."
sh "$here/tui.sh" "$bin" || rc=1  # live view (tmux); BENCH_QUICK=1 skips its 100k chain
sh "$here/apply.sh" "$bin" || rc=1  # one insert into a big chain: nfpilot edit against nft -f
sh "$here/positions.sh" "$bin" || rc=1  # rule 3 by position: edit --delete 3 against iptables -D
sh "$here/restore.sh" "$bin" || rc=1  # the revert at the deadline, 1k-100k rules, against nft -f
sh "$here/ct.sh" "$bin" || rc=1  # conntrack: ct list/count/kill against conntrack, 10k-1M entries
sh "$here/sets.sh" "$bin" || rc=1  # sets: set list/test/add against nft, 50k-1M elements
sh "$here/why.sh" "$bin" || rc=1  # why: a sandbox copy of 1k/10k rules against nft -f; later answers
sh "$here/lockout.sh" "$bin" || rc=1  # the lockout pre-check through apply --dry-run, 1k/10k rules, against nft -f
sh "$here/stale.sh" "$bin" || rc=1  # ct stale: 10k/100k connections asked of a sandbox, against conntrack -L
exit $rc
