#!/bin/bash
# nfpilot ct at 100k entries (made by tests/tools/ctfill in a test
# namespace; within the default nf_conntrack_max, nothing global changes):
# list, count and filters agree with conntrack and with the fill's formula,
# filters the kernel applies give what the same filter applied here gives,
# sorting orders all of them, kill-by-filter ends exactly the matches, and
# the table stays under 250 bytes per entry. Times are printed, never
# asserted (make bench measures them).
. "$(dirname "$0")/../lib.sh"

CTFILL=$(dirname "$NFPILOT")/tools/ctfill
CTBENCH=$(dirname "$NFPILOT")/tools/ctbench
[ -x "$CTFILL" ] || bail "no $CTFILL (make build/asan/tools/ctfill)"
[ -x "$CTBENCH" ] || bail "no $CTBENCH (make build/asan/tools/ctbench)"
N=100000
max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
[ "$max" -ge $((N + 1000)) ] || bail "nf_conntrack_max $max is below $N (not changed by tests)"

NS="$NS_PREFIX-big"
ns_add "$NS" || bail "ip netns add $NS"
big() { "$NFPILOT" -N "$NS" "$@"; }
check "ctfill makes $N entries" "$CTFILL" "$NS" "$N"

# what the fill's formula says a filter finds (tests/tools/ctfill.c)
expect() {
	python3 - "$N" "$1" <<'EOF'
import sys
n, what = int(sys.argv[1]), sys.argv[2]
ports = [22, 80, 443, 8080, 53]
def rows():
    for i in range(n):
        k = i // 100
        tcp = i % 10 < 8
        yield dict(src="10.%d.%d.%d" % (k >> 16 & 255, k >> 8 & 255, k & 255), k=k,
                   sport=1024 + i % 100, proto="tcp" if tcp else "udp",
                   dport=ports[i % 5] if tcp else 53, mark=7 if i % 7 == 0 else 0)
print(sum(1 for r in rows() if eval(what, {}, r)))
EOF
}
cnt() { big ct count "$@" | awk '{print $1}'; }

check_eq "ct count = conntrack -C = $N" "$(big ct count | awk '{print $1}') $(in_ns "$NS" conntrack -C)" "$N $N"
t0=$(date +%s.%N)
big ct list >"$TEST_TMP/list.txt" 2>/dev/null
t1=$(date +%s.%N)
check_eq "ct list: a header and $N lines" "$(wc -l <"$TEST_TMP/list.txt")" $((N + 1))
echo "# ct list of $N entries (ASan build): $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s"
big ct list --json >"$TEST_TMP/all.json" 2>/dev/null
in_ns "$NS" conntrack -L -o id 2>/dev/null | sed -n 's/.* id=\([0-9]*\)$/\1/p' | sort -n >"$TEST_TMP/ct.ids"
python3 -c 'import json,sys; print("\n".join(str(i) for i in sorted(c["id"] for c in json.load(open(sys.argv[1]))["connections"])))' \
	"$TEST_TMP/all.json" >"$TEST_TMP/nfp.ids"
check_eq "ct list --json has the same $N ids as conntrack -L" \
	"$(wc -l <"$TEST_TMP/nfp.ids") $(cmp -s "$TEST_TMP/nfp.ids" "$TEST_TMP/ct.ids" && echo same)" "$N same"

# ---- filters: against the formula, against conntrack, kernel against here
f_agree() { # f_agree "FILTER" "PYTHON CONDITION" CONNTRACK-ARGS...
	local f=$1 want got ctn
	want=$(expect "$2")
	shift 2
	got=$(cnt $f)
	ctn=$(in_ns "$NS" conntrack -L "$@" 2>/dev/null | wc -l)
	check_eq "'$f': $want by the formula, in nfpilot and in conntrack -L $*" "$got $ctn" "$want $want"
}
f_agree "src 10.0.0.7" 'src == "10.0.0.7"' -s 10.0.0.7
f_agree "src 10.0.1.0/24" 'k >> 8 == 1' -s 10.0.1.0/24
f_agree "mark 7" 'mark == 7' -m 7
f_agree "proto udp dport 53" 'proto == "udp" and dport == 53' -p udp --dport 53
f_agree "proto tcp dport 22" 'proto == "tcp" and dport == 22' -p tcp --dport 22
f_agree "src 10.0.3.5 proto tcp sport 1041" 'src == "10.0.3.5" and proto == "tcp" and sport == 1041' \
	-s 10.0.3.5 -p tcp --sport 1041
check_eq "'not dport 22' by the formula" "$(cnt not dport 22)" "$(expect 'dport != 22')"
check_eq "'sport 1024-1033 dport 80,443' by the formula" "$(cnt sport 1024-1033 dport 80,443)" \
	"$(expect '1024 <= sport <= 1033 and dport in (80, 443)')"
# the same filter, once given to the kernel and once kept here ("or" with itself)
for f in "src 10.0.0.7" "mark 7" "proto tcp dport 22" "src 10.0.2.200 proto udp" "status assured proto tcp"; do
	check_eq "'$f' the kernel filters = '$f' filtered here" "$(cnt $f)" "$(cnt "($f) or ($f)")"
done
t0=$(date +%s.%N)
cnt src 10.0.0.7 >/dev/null
t1=$(date +%s.%N)
echo "# ct count src 10.0.0.7 (kernel filter, ASan build): $(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }") s"
check_eq "--totals" "$(big ct count --totals | tail -n 2)" \
"  tcp 80000 (ESTABLISHED 80000), udp 20000, icmp 0, other 0
  new 0, established 100000, related 0; assured 100000; snat 0, dnat 0"

# ---- sorting every entry
big ct list --sort src --json >"$TEST_TMP/s.json" 2>/dev/null
check_eq "--sort src: $N rows by address then port" "$(python3 -c '
import json, socket, sys
c = json.load(open(sys.argv[1]))["connections"]
k = [(socket.inet_aton(x["orig"]["src"]), x["orig"]["sport"]) for x in c]
print(len(c), k == sorted(k))' "$TEST_TMP/s.json")" "$N True"
big ct list --sort dport -r --json >"$TEST_TMP/s.json" 2>/dev/null
check_eq "--sort dport -r: highest first, ties in dump order" "$(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["connections"]
d = [x["orig"]["dport"] for x in c]
print(len(c), d == sorted(d, reverse=True), d[0], d[-1])' "$TEST_TMP/s.json")" "$N True 8080 22"

# ---- the library as the live view uses it: slices, memory
"$CTBENCH" "$NS" src 10.0.0.7 >"$TEST_TMP/bench.json" 2>"$TEST_TMP/bench.err"
check_eq "ctbench loads $N entries in slices and re-reads them all" \
	"$(json_get "$TEST_TMP/bench.json" '[d["entries"], d["after_resync"], d["filter_matches"]]')" "[$N, $N, 100]"
check_eq "at most 250 bytes per entry, with the sort index and the sort's scratch" \
	"$(json_get "$TEST_TMP/bench.json" 'd["bytes"]["per_entry_peak_sorting"] <= 250')" True
echo "# ctbench (ASan build): $(cat "$TEST_TMP/bench.json")"

# ---- kill by filter at scale
check_rc "ct kill src 10.0.0.9" 0 big ct kill src 10.0.0.9
check_eq "it ended the 100 of that source, no local sockets" "$(printf '%s\n' "$RC_OUT" | head -n 1)" \
	"ended 100 connections: 100 conntrack entries deleted, 0 local sockets reset"
check_eq "conntrack finds none of them, and $((N - 100)) others" \
	"$(in_ns "$NS" conntrack -L -s 10.0.0.9 2>/dev/null | wc -l) $(in_ns "$NS" conntrack -C)" "0 $((N - 100))"
want=$(expect 'mark == 7 and proto == "udp" and src != "10.0.0.9"')
check_rc "ct kill mark 7 proto udp" 0 big ct kill mark 7 proto udp --json
check_eq "it ended the $want UDP entries marked 7" \
	"$(printf '%s' "$RC_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["matched"], d["deleted"])')" "$want $want"
check_eq "every other entry is still there" "$(cnt)" "$((N - 100 - want))"
check_eq "no UDP entry marked 7 is left; the TCP ones are" "$(cnt mark 7 proto udp) $(cnt mark 7 proto tcp)" \
	"0 $(expect 'mark == 7 and proto == "tcp" and src != "10.0.0.9"')"

finish
