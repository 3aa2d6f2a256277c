#!/bin/sh
# nfpilot bench: `why` — a question asked of a sandbox holding a copy of
# the ruleset. For tables of 1k and 10k rules (gen.py: one base chain on
# input; the packet matches none, so the kernel walks every rule), side by
# side with `nft -f` loading the same table into a fresh namespace (the
# sandbox's cost floor: it loads a copy too). Then, in one process
# (whybench, a release build from the release objects), what a live-view
# session pays: the sandbox made once, later answers (median and longest
# of 50; the issue's goal: at most 10 ms each). Ratios and times reported,
# nothing asserted.
# usage: sh tests/bench/why.sh [NFPILOT]   (release build: make nfpilot)
#   BENCH_REPS=N   repetitions (default 5)
#   BENCH_OUT=F    append the tables as markdown to F
# Needs root; fixtures live in throw-away namespaces nfpw-PID-*.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/common.sh"
bench_setup "bench why" nfpwhy nfpw "${1:-}"
export BENCH_HERE="$here"
res=$tmp/results
bench_tool whybench sandbox conntrack nft model util

row() { python3 "$here/measure.py" row --out "$res" "$@"; }
packet='tcp 192.0.2.1:40000 -> 10.9.0.1:22'

echo "bench why: $bin, reps $reps, $(nproc) cores, kernel $(uname -r)" >&2
for size in 1k 10k; do
	n=$(echo "$size" | sed 's/k$/000/')
	ns=$pfx-$size
	ip netns add "$ns"
	made="$made $ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link add d0 type veth peer name d1
	ip -n "$ns" addr add 10.9.0.1/24 dev d0
	ip -n "$ns" link set d0 up
	ip -n "$ns" link set d1 up
	ip -n "$ns" route add 192.0.2.0/24 dev d0
	python3 "$here/gen.py" T 1 "$n" >"$tmp/$size.nft"
	ip netns exec "$ns" nft -f "$tmp/$size.nft"
	row --label "why, $size rules" --goal info --reps "$reps" --ns "$ns" --expect 1 \
	    --a "$bin -N $ns why '$packet'" --pa 'verdict: accept by the policy of inet T big' \
	    --b "unshare -n nft -f $tmp/$size.nft"
	ip netns exec "$ns" "$tmp/whybench" "$ns" 50 "$packet" | sed "s/^/$size /" >>"$tmp/lib"
done

python3 "$here/measure.py" table "$res" ${BENCH_OUT:+--md "$BENCH_OUT"}
echo
echo "In one process (whybench): the sandbox made once, then 50 answers"
python3 - "$tmp/lib" "${BENCH_OUT:-}" <<'EOF'
import json, sys
rows = []
for line in open(sys.argv[1]):
    size, js = line.split(" ", 1)
    d = json.loads(js)
    rows.append([size, "%.0f ms" % (d["open"] * 1e3), "%.1f ms" % (d["median"] * 1e3),
                 "%.1f ms" % (d["max"] * 1e3)])
head = ["rules", "sandbox made", "answer (median)", "answer (longest)"]
for r in [head] + rows:
    print("  ".join("%-16s" % c for c in r))
if sys.argv[2]:
    with open(sys.argv[2], "a") as f:
        f.write("\nwhy in one process (whybench): the sandbox made once, then 50 answers\n\n| " +
                " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
EOF
