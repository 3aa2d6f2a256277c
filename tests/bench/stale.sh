#!/bin/sh
# nfpilot bench: `ct stale` — every established connection's first packet
# asked of the kernel on a sandbox copy of the ruleset (sandbox_admits:
# bursts of 256, arrivals and admissions read back from sets). 10k and
# 100k entries made by ctfill (ctnetlink inserts) in throw-away
# namespaces nfps-PID-*: sources 10.A.B.C behind an interface d0, all to
# 192.168.0.1 (an address of d0), ports 22 80 443 8080 (tcp) and 53
# (udp); the ruleset accepts established connections first and then
# drops tcp dport 22, so a fifth of them (every i % 5 == 0) are stale.
# Side by side with `conntrack -L` of the same table (the floor: reading
# the table alone), with the load average before and after; connections
# checked per second = entries / median time of ct stale. Nothing asserted.
# usage: sh tests/bench/stale.sh [NFPILOT]   (release build: make nfpilot)
#   BENCH_REPS=N (default 5; 100k: min(N, 3)), BENCH_OUT=F (markdown to F)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/common.sh"
bench_setup "bench stale" nfpstale nfps "${1:-}"
export BENCH_HERE="$here"
res=$tmp/results
bench_tool ctfill nft model util
row() { python3 "$here/measure.py" row --out "$res" "$@"; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench stale: $bin, reps $reps, $(nproc) cores, kernel $(uname -r), load $load0" >&2
for size in 10k 100k; do
	n=$(echo "$size" | sed 's/k$/000/')
	r=$reps
	[ "$n" -ge 100000 ] && r=$(( reps < 3 ? reps : 3 ))
	ns=$pfx-$size
	ct_max_need $((2 * n))
	veth_ns "$ns" 192.168.0.1/24 10.0.0.0/8
	ip netns exec "$ns" nft -f - <<'EOF'
table inet T {
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
		tcp dport 22 drop
	}
}
EOF
	"$tmp/ctfill" "$ns" "$n" 2>&1 | sed "s/^/fixture $size: /" >&2
	row --label "ct stale, $size connections" --goal info --reps "$r" --ns "$ns" --expect 1 \
	    --a "$bin -N $ns ct stale" \
	    --pa "^$((n / 5)) established connections would not be admitted now \\(of $n checked\\)" \
	    --b "conntrack -L" --pb "^tcp .* dport=22 "
	sed -i '$ s/"checkB": "[0-9]*\/1"/"checkB": "ok"/' "$res"
	# the live view: ! on the loaded connections screen, keys meanwhile
	if command -v tmux >/dev/null 2>&1; then
		python3 "$here/tui_measure.py" ctstale --bin "$bin" --ns "$ns" --entries "$n" \
			--label "$size" 2>&1 | tee -a "$tmp/tui" >&2 || true
	fi
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

python3 "$here/measure.py" table "$res" ${BENCH_OUT:+--md "$BENCH_OUT"}
python3 - "$res" "$load0" "$load1" "${BENCH_OUT:-}" <<'EOF'
import json, statistics, sys
lines = []
for l in open(sys.argv[1]):
    d = json.loads(l)
    n = int(d["label"].split(", ")[1].split("k ")[0]) * 1000
    a, b = statistics.median(d["tA"]), statistics.median(d["tB"])
    lines.append("%s: %.0f connections checked per second (conntrack -L reads %.0f a second)"
                 % (d["label"], n / a, n / b))
lines.append("load average before %s, after %s (2 cores, shared)" % (sys.argv[2], sys.argv[3]))
try:
    lines += [l.strip() for l in open(sys.argv[1].rsplit("/", 1)[0] + "/tui")]
except OSError:
    pass
print("\n".join(lines))
if sys.argv[4]:
    with open(sys.argv[4], "a") as f:
        f.write("\n" + "\n".join("- " + l for l in lines) + "\n")
EOF
