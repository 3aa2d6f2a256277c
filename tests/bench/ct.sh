#!/bin/sh
# nfpilot bench: tracked connections against conntrack(8), side by side in
# one run, at 10k, 100k and 1M entries made by ctfill in throw-away
# namespaces nfpc-PID-*:
#   nfpilot ct list       vs conntrack -L    goal: ratio <= 0.5
#   nfpilot ct count      vs conntrack -C    (info)
#   nfpilot ct list --sort bytes, ct count FILTER      (info)
#   nfpilot ct kill FILTER vs conntrack -D with the same filter: 100 entries
#     of one source (the kernel applies the filter) and 200 of a /31 (it
#     cannot)                               goal: ratio <= 1.0
# and, in one process (ctbench, a release build from the release objects):
# loading in slices (the longest slice is how long a key could wait),
# bytes per entry, sorting 1M rows (goal < 0.5 s), filtering.
# usage: sh tests/bench/ct.sh [NFPILOT]     (release build: make nfpilot)
#   BENCH_REPS=N (default 5; 1M: min(N, 3)), BENCH_QUICK=1 (no 1M),
#   BENCH_OUT=F (append the tables as markdown to F)
# nf_conntrack_max is one value for the whole host: when 1M entries do not
# fit, it is raised for the run and put back on exit (the output says so).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/common.sh"
bench_setup "bench ct" nfpct nfpc "${1:-}"
res=$tmp/results

# ---- the tools: release builds
bench_tool ctfill nft model util
bench_tool ctbench conntrack nft model util

row() { python3 "$here/measure.py" row --out "$res" "$@"; }

# kill LABEL NS REPS GOAL A-TEMPLATE B-TEMPLATE VALUES...: A and B alternate,
# each run on its own value ({} in the template), so both delete as many
# entries of a table of the same size. Appends a measure.py result row.
kill_row() {
	python3 - "$res" "$@" <<'EOF'
import json, os, shlex, statistics, sys
sys.path.insert(0, os.environ["BENCH_HERE"])
from measure import enter_netns, run_once
out, label, ns, reps, goal, ta, tb = sys.argv[1:8]
vals = sys.argv[8:]
reps = int(reps)
enter_netns(ns)
res = {"label": label, "goal": goal, "reps": reps, "checkA": "ok", "checkB": "ok",
       "tA": [], "tB": [], "rssA": 0, "rssB": 0,
       "cmdA": ta.replace(ns, "NS"), "cmdB": tb.replace(ns, "NS")}
for i in range(reps):
    order = [("A", ta), ("B", tb)] if i % 2 == 0 else [("B", tb), ("A", ta)]
    for k, (key, tmpl) in enumerate(order):
        argv = shlex.split(tmpl.replace("{}", vals[2 * i + k]))
        dt, rss, rc, _ = run_once(argv)
        if rc != 0:
            res["check" + key] = "exit %d" % rc
        res["t" + key].append(dt)
        res["rss" + key] = max(res["rss" + key] or 0, rss or 0)
with open(out, "a") as f:
    f.write(json.dumps(res) + "\n")
print("  %-40s done (A %.3fs B %.3fs)" % (label, statistics.median(res["tA"]),
      statistics.median(res["tB"])), file=sys.stderr)
EOF
}
export BENCH_HERE="$here"

count_of() { ip netns exec "$1" cat /proc/sys/net/netfilter/nf_conntrack_count; }

# size NAME N REPS
size() {
	name=$1 n=$2 r=$3 ns=$pfx-$1
	ct_max_need $((n + n / 10))
	ip netns add "$ns"
	made="$made $ns"
	"$tmp/ctfill" "$ns" "$n" 2>&1 | sed "s/^/fixture $name: /" >&2
	# the library as the live view uses it, in one process
	"$tmp/ctbench" "$ns" src 10.0.0.7 | sed "s/^/$name /" >>"$tmp/lib"
	echo "  ctbench $name done" >&2
	# the live view's connections screen on it (keys while it loads)
	if command -v tmux >/dev/null 2>&1; then
		python3 "$here/tui_measure.py" ctview --bin "$bin" --ns "$ns" --entries "$n" \
			--label "$name" 2>&1 | tee -a "$tmp/tui" >&2 || true
	fi

	row --label "ct list $name" --goal 0.5 --reps "$r" --ns "$ns" --expect "$n" \
	    --a "$bin -N $ns ct list" --pa '^ *[0-9]+ (tcp|udp) ' \
	    --b "conntrack -L" --pb '^(tcp|udp) '
	row --label "ct list --json $name" --reps "$r" --ns "$ns" --expect "$n" \
	    --a "$bin -N $ns ct list --json" --pa '^  \{"id": ' \
	    --b "conntrack -L -o xml" --pb '<flow>'
	row --label "ct count $name" --reps "$r" --ns "$ns" --expect 1 \
	    --a "$bin -N $ns ct count" --pa "^$n connections tracked" \
	    --b "conntrack -C" --pb "^$n\$"
	row --label "ct list --sort bytes $name" --reps "$r" --ns "$ns" --expect "$n" \
	    --a "$bin -N $ns ct list --sort bytes" --pa '^ *[0-9]+ (tcp|udp) '
	row --label "ct list proto tcp dport 22 $name" --reps "$r" --ns "$ns" --expect $((n / 5)) \
	    --a "$bin -N $ns ct list proto tcp dport 22" --pa '^ *[0-9]+ tcp ' \
	    --b "conntrack -L -p tcp --dport 22" --pb '^tcp '

	# kills: 100 entries of one source each run (10.0.S.T = entries
	# 100*(256S+T) ... +99), then 200 of a /31; sources from the end of
	# the table so every run deletes as many
	srcs= cidrs= i=0
	k=$((n / 100 - 1))
	while [ "$i" -lt $((2 * r)) ]; do
		srcs="$srcs 10.$((k >> 16 & 255)).$((k >> 8 & 255)).$((k & 255))"
		k=$((k - 1))
		i=$((i + 1))
	done
	i=0
	while [ "$i" -lt $((2 * r)) ]; do
		k=$(( (k - 1) / 2 * 2 ))
		cidrs="$cidrs 10.$((k >> 16 & 255)).$((k >> 8 & 255)).$((k & 255))/31"
		k=$((k - 2))
		i=$((i + 1))
	done
	before=$(count_of "$ns")
	kill_row "ct kill src ADDR $name (100 entries)" "$ns" "$r" 1.0 \
		"$bin -N $ns ct kill src {}" "conntrack -D -s {}" $srcs
	kill_row "ct kill src ADDR/31 $name (200 entries)" "$ns" "$r" 1.0 \
		"$bin -N $ns ct kill src {}" "conntrack -D -s {}" $cidrs
	after=$(count_of "$ns")
	want=$((before - 2 * r * 100 - 2 * r * 200))
	if [ "$after" != "$want" ]; then
		echo "bench ct: $name: $after entries left after the kills, want $want" >&2
		echo '{"label": "kills '"$name"' deleted the wrong number", "goal": "info", "reps": 1, "checkA": "'"$after/$want"'", "tA": [0], "cmdA": "", "cmdB": ""}' >>"$res"
	fi

	ip netns del "$ns"
}

start=$(date +%s)
echo "nfpilot bench ct: $bin, reps $reps, $(nproc) cores, kernel $(uname -r), $(conntrack --version 2>&1)" >&2
size 10k 10000 "$reps"
size 100k 100000 "$(( reps < 3 ? reps : 3 ))"
[ "$quick" = 1 ] || size 1M 1000000 "$(( reps < 3 ? reps : 3 ))"

echo
echo "nfpilot ct benchmark, medians in seconds (total $(( $(date +%s) - start )) s)"
rc=0
python3 "$here/measure.py" table "$res" ${BENCH_OUT:+--md "$tmp/md"} || rc=$?
echo
echo "The library in one process (ctbench): load = a non-blocking dump in slices from a"
echo "poll() loop; slice = the longest one (a key waits at most that long); bytes per"
echo "entry with the id index, a sort index of every row and the sort's scratch."
python3 - "$tmp/lib" "${BENCH_OUT:+$tmp/md}" <<'EOF'
import json, sys
rows = []
for line in open(sys.argv[1]):
    name, js = line.split(" ", 1)
    d = json.loads(js)
    rows.append([name, "%d" % d["entries"], "%.3f" % d["load_s"], "%.1f" % d["max_slice_ms"],
                 "%.3f" % d["resync_s"], "%.1f" % d["bytes"]["per_entry_table"],
                 "%.1f" % d["bytes"]["per_entry_peak_sorting"],
                 "%.3f" % d["sort_max_s"], "%.3f" % d["sort_s"]["src"], "%.3f" % d["sort_s"]["bytes"],
                 "%.3f" % d["filter_s"],
                 "PASS" if d["sort_max_s"] < 0.5 and d["bytes"]["per_entry_peak_sorting"] <= 250
                 and d["max_slice_ms"] < 50 else "MISS"])
head = ["size", "entries", "load s", "max slice ms", "re-read s", "B/entry",
        "B/entry sorting", "slowest sort s", "sort src s", "sort bytes s", "filter s",
        "< 0.5 s, <= 250 B, < 50 ms"]
w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
for r in [head] + rows:
    print("  ".join(c.rjust(w[i]) for i, c in enumerate(r)))
if sys.argv[2]:
    with open(sys.argv[2], "a") as f:
        f.write("\nThe library in one process (ctbench):\n\n| " + " | ".join(head) + " |\n|" +
                "|".join("---:" for _ in head) + "|\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
EOF
[ -n "${BENCH_OUT:-}" ] && cat "$tmp/md" >>"$BENCH_OUT"
if [ -s "$tmp/tui" ]; then
	echo
	cat "$tmp/tui"
fi
if [ -n "${ct_max_old:-}" ]; then
	echo
	echo "nf_conntrack_max (host-wide) was raised for the 1M fixture; put back to $ct_max_old on exit."
fi
exit $rc
