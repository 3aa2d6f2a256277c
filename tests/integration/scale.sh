#!/bin/bash
# nfpilot list at scale: one chain of 100000 rules (loaded with nft -f in a
# namespace) must come out whole, in order, with nft's handles and rule text;
# named sets count their elements (50000 in a hash set; an interval set counts
# each range once; a map its entries).
. "$(dirname "$0")/../lib.sh"

NRULES=${NFPT_SCALE_RULES:-100000}
NELEMS=50000
NRANGES=1000
NS="$NS_PREFIX-scale"
elapsed() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
ns_add "$NS" || bail "ip netns add $NS"

python3 - "$NRULES" "$NELEMS" "$NRANGES" >"$TEST_TMP/big.nft" <<'EOF'
import sys
n, ne, nr = map(int, sys.argv[1:4])
out = ["table ip big {"]
out.append("  set many { type ipv4_addr; elements = { %s } }" %
           ", ".join("10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255) for i in range(ne)))
out.append("  set ranges { type ipv4_addr; flags interval; elements = { %s } }" %
           ", ".join("172.16.%d.%d-172.16.%d.%d" % (i // 64, (i % 64) * 4, i // 64, (i % 64) * 4 + 2)
                     for i in range(nr)))
out.append("  map ports { type inet_service : verdict; elements = { %s } }" %
           ", ".join("%d : accept" % (1000 + i) for i in range(500)))
out.append("  chain c {")
out.append("    type filter hook input priority 0; policy accept;")
for i in range(n):
    a = "192.168.%d.%d" % ((i >> 8) & 255, i & 255)
    k = i % 4
    if k == 0:
        out.append("    ip saddr %s tcp dport %d counter accept" % (a, 1 + i % 65000))
    elif k == 1:
        out.append("    ip daddr %s udp dport %d counter drop" % (a, 1 + i % 65000))
    elif k == 2:
        out.append("    ip saddr %s counter comment \"rule %d\"" % (a, i))
    else:
        out.append("    tcp sport %d ip daddr %s accept" % (1 + i % 65000, a))
out.append("  }")
out.append("}")
print("\n".join(out))
EOF

t0=$(date +%s.%N)
in_ns "$NS" nft -f "$TEST_TMP/big.nft" || bail "nft -f of $NRULES rules"
t1=$(date +%s.%N)
echo "# nft -f of $NRULES rules + sets: $(elapsed "$t0" "$t1") s"

# ---- nft's view: handles and text, in order
t0=$(date +%s.%N)
in_ns "$NS" nft -a list chain ip big c >"$TEST_TMP/nft.txt" || bail "nft -a list chain"
t1=$(date +%s.%N)
echo "# nft -a list chain: $(elapsed "$t0" "$t1") s"

# ---- nfpilot --json
t0=$(date +%s.%N)
"$NFPILOT" -N "$NS" list --json >"$TEST_TMP/big.json" 2>"$TEST_TMP/err"
rc=$?
t1=$(date +%s.%N)
T_JSON=$(elapsed "$t0" "$t1")
echo "# nfpilot list --json: $T_JSON s"
check_eq "list --json of $NRULES rules exits 0 ($(head -c 300 "$TEST_TMP/err"))" "$rc" 0

python3 - "$TEST_TMP/big.json" "$TEST_TMP/nft.txt" "$NRULES" >"$TEST_TMP/cmp.out" 2>&1 <<'EOF'
import json, random, re, sys
d = json.load(open(sys.argv[1]))
n = int(sys.argv[3])
nft = []
for line in open(sys.argv[2]):
    m = re.match(r"^\t\t(.*) # handle (\d+)$", line.rstrip("\n"))
    if m:
        # nfpilot shows counters in their own columns, not in the text
        text = re.sub(r"counter packets \d+ bytes \d+", "counter", m.group(1))
        nft.append((int(m.group(2)), text))
t = [t for t in d["tables"] if t["name"] == "big"][0]
c = [c for c in t["chains"] if c["name"] == "c"][0]
rules = c["rules"]
res = {}
res["count"] = len(rules)
res["nft_count"] = len(nft)
res["positions"] = [r["position"] for r in rules] == list(range(1, n + 1))
res["handles"] = [r["handle"] for r in rules] == [h for h, _ in nft]
random.seed(7)
picks = [0, 1, 2, 3, n // 2, n - 2, n - 1] + random.sample(range(n), 40)
bad = [(i + 1, rules[i]["text"], nft[i][1]) for i in picks
       if i < len(rules) and i < len(nft) and rules[i]["text"] != nft[i][1]]
res["text_bad"] = bad[:5]
res["counters"] = sum(1 for r in rules if r["packets"] is not None)
res["comments"] = sum(1 for r in rules if r["comment"])
res["comment_ok"] = all(r["comment"] == "rule %d" % (r["position"] - 1)
                        for r in rules[2::4])
res["sets"] = sorted((s["name"], s["map"], s["elements"]) for s in t["sets"]
                     if not s["name"].startswith("__"))
print(json.dumps(res))
EOF
R=$(cat "$TEST_TMP/cmp.out")
r() { python3 -c "import json,sys; print(json.dumps(json.loads(sys.argv[1])[sys.argv[2]]))" "$R" "$1" 2>/dev/null || echo "?? $R"; }
check_eq "nft -a lists $NRULES rules (the test's own sanity)" "$(r nft_count)" "$NRULES"
check_eq "nfpilot lists $NRULES rules" "$(r count)" "$NRULES"
check_eq "positions are 1..$NRULES" "$(r positions)" true
check_eq "handles equal nft -a's, in order" "$(r handles)" true
check_eq "47 spot-checked rule texts equal nft -a's" "$(r text_bad)" "[]"
check_eq "rules with a counter: 3 of every 4" "$(r counters)" "$((NRULES / 4 * 3))"
check_eq "comments: 1 of every 4" "$(r comments)" "$((NRULES / 4))"
check_eq "comment of every commented rule is its own" "$(r comment_ok)" true
check_eq "sets: 50000 elements; interval set counts 1000 ranges once; map 500 entries" "$(r sets)" \
	"[[\"many\", false, $NELEMS], [\"ports\", true, 500], [\"ranges\", false, $NRANGES]]"

# ---- text output
t0=$(date +%s.%N)
"$NFPILOT" -N "$NS" list -x -t ip big -c c >"$TEST_TMP/big.txt" 2>"$TEST_TMP/err"
rc=$?
t1=$(date +%s.%N)
echo "# nfpilot list -x -t ip big -c c: $(elapsed "$t0" "$t1") s"
check_eq "list -x -t ip big -c c exits 0" "$rc" 0
check_eq "text shows $NRULES rule lines" \
	"$(grep -cE '^ *[0-9]+ +[0-9-]+ +[0-9-]+ +[0-9]+  ' "$TEST_TMP/big.txt")" "$NRULES"
last=$(grep -E '^ *[0-9]+ ' "$TEST_TMP/big.txt" | tail -n 1 | awk '{print $1, $4}')
check_eq "text: last rule line is position $NRULES with nft's last handle" "$last" \
	"$NRULES $(sed -n 's/.* # handle \([0-9]*\)$/\1/p' "$TEST_TMP/nft.txt" | tail -n 1)"

# ---- counters only (the fast path)
t0=$(date +%s.%N)
"$NFPILOT" -N "$NS" list --counters --json >"$TEST_TMP/cnt.json" 2>"$TEST_TMP/err"
rc=$?
t1=$(date +%s.%N)
echo "# nfpilot list --counters --json: $(elapsed "$t0" "$t1") s"
check_eq "list --counters --json exits 0" "$rc" 0
check_eq "--counters: same $NRULES handles" \
	"$(json_get "$TEST_TMP/cnt.json" 'sum(1 for t, c, r in rules(d, chain="c"))')" "$NRULES"

# ---- real traffic on the loopback hits rules 3 and 65539 (ip saddr
# 192.168.0.2 counter): every counter of the 100000 must equal nft's
in_ns "$NS" ip addr add 192.168.0.2/32 dev lo
n=$(in_ns "$NS" ping -n -c 3 -i 0.05 -W 1 -q -I 192.168.0.2 192.168.0.2 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
check_eq "3 loopback pings answered" "$n" 3
"$NFPILOT" -N "$NS" list --json -t ip big >"$TEST_TMP/big2.json"
in_ns "$NS" nft -a list chain ip big c >"$TEST_TMP/nft2.txt"
python3 - "$TEST_TMP/big2.json" "$TEST_TMP/nft2.txt" >"$TEST_TMP/cmp2.out" 2>&1 <<'EOF2'
import json, re, sys
d = json.load(open(sys.argv[1]))
nft = {}
for line in open(sys.argv[2]):
    h = re.search(r" # handle (\d+)$", line)
    if h and line.startswith("\t\t"):
        m = re.search(r"counter packets (\d+) bytes (\d+)", line)
        nft[int(h.group(1))] = (int(m.group(1)), int(m.group(2))) if m else None
rules = [r for t in d["tables"] for c in t["chains"] for r in c["rules"]]
mine = {r["handle"]: (None if r["packets"] is None else (r["packets"], r["bytes"])) for r in rules}
bad = [(h, mine.get(h), nft.get(h)) for h in set(mine) | set(nft) if mine.get(h) != nft.get(h)]
hit = [(r["position"], r["packets"]) for r in rules if r["packets"]]
print(json.dumps({"bad": bad[:5], "nbad": len(bad), "hit": hit}))
EOF2
R=$(cat "$TEST_TMP/cmp2.out")
check_eq "all $NRULES counters equal nft -a's after traffic" "$(r nbad) $(r bad)" "0 []"
check_eq "exactly rules 3 and 65539 counted the 6 ICMP packets" "$(r hit)" "[[3, 6], [65539, 6]]"

finish
