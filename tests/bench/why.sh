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
	sandbox_fixture "$size"
	row --label "why, $size rules" --goal info --reps "$reps" --ns "$ns" --expect 1 \
	    --a "$bin -N $ns why '$packet'" --pa 'verdict: accept by the policy of inet T big' \
	    --b "unshare -n nft -f $tmp/$size.nft"
	ip netns exec "$ns" "$tmp/whybench" "$ns" 50 "$packet" | sed "s/^/$size /" >>"$tmp/lib"
done

# the live view (tmux, tui_measure.py trace): keys while 1000 pings a
# second are traced, then why's later answers in the same session
if command -v tmux >/dev/null; then
	ns=$pfx-tv
	ip netns add "$ns"
	ip netns add "$ns-c"
	made="$made $ns $ns-c"
	ip -n "$ns" link set lo up
	ip -n "$ns" link add t0 type veth peer name t1 netns "$ns-c"
	ip -n "$ns" addr add 198.51.100.1/24 dev t0
	ip -n "$ns-c" addr add 198.51.100.2/24 dev t1
	ip -n "$ns" link set t0 up
	ip -n "$ns-c" link set t1 up
	python3 "$here/gen.py" T 1 1000 >"$tmp/tv.nft"
	ip netns exec "$ns" nft -f "$tmp/tv.nft"
	ip netns exec "$ns-c" ping -c 1 -W 5 198.51.100.1 >/dev/null || true  # neighbours known
	python3 "$here/tui_measure.py" trace --bin "$bin" --ns "$ns" --client "$ns-c" \
	    --dst 198.51.100.1 --filter 'proto icmp dst 198.51.100.1' \
	    --packet 'tcp 198.51.100.2:40000 -> 198.51.100.1:22' >"$tmp/tv.json" ||
		echo "bench why: the live view's part failed (above): its rows are left out" >&2
else
	echo "bench why: tmux not installed: the live view's part is left out" >&2
fi

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
[ -s "$tmp/tv.json" ] && python3 - "$tmp/tv.json" "${BENCH_OUT:-}" <<'EOF'
import json, statistics, sys
d = json.load(open(sys.argv[1]))
ms = lambda v: "%.1f ms" % (v * 1e3)
rows = [
    ["keys 1/3, no trace", ms(statistics.median(d["keys_idle"])), ms(max(d["keys_idle"]))],
    ["keys 1/3, tracing %.0f packets/s" % d["traced_per_s"],
     ms(statistics.median(d["keys_tracing"])), ms(max(d["keys_tracing"]))],
    ["why, first answer (sandbox made)", ms(d["answers"][0]), ""],
    ["why, later answers (%d)" % (len(d["answers"]) - 1),
     ms(statistics.median(d["answers"][1:])), ms(max(d["answers"][1:]))],
]
head = ["live view", "median", "longest"]
print("\nThe live view (tmux): the trace screen and why in one session; nfpilot's CPU "
      "while tracing: %.0f %% of a core; load %.1f -> %.1f" % (100 * d["cpu_share"],
                                                            d["load_start"], d["load_end"]))
for r in [head] + rows:
    print("  ".join("%-36s" % c for c in r))
if sys.argv[2]:
    with open(sys.argv[2], "a") as f:
        f.write("\nThe live view (tmux): nfpilot's CPU while tracing %.0f %% of a core; load "
                "%.1f -> %.1f\n\n| " % (100 * d["cpu_share"], d["load_start"], d["load_end"]) +
                " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
EOF
true
