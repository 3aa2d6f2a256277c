#!/bin/bash
# nfpilot list on a web server firewall written with iptables (iptables-nft):
# filter with conntrack, comments, icmp types and policy DROP; nat with a DNAT
# port forward, SNAT and MASQUERADE; mangle MARK and TOS. After real traffic,
# every counter must equal nft's and iptables' own, and iptables must still
# read its tables afterwards.
. "$(dirname "$0")/../lib.sh"

setup_net
# a second server address, the SNAT source
ip -n "$SRV" addr add 10.200.0.11/24 dev v0
ipt() { srv iptables "$@" || bail "iptables $*"; }

ipt -P INPUT DROP
ipt -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ipt -A INPUT -m conntrack --ctstate INVALID -j DROP
ipt -A INPUT -i lo -j ACCEPT
ipt -A INPUT -p tcp --dport 22 -s 10.200.1.0/24 -m comment --comment "ssh from the management net" -j ACCEPT
ipt -A INPUT -p tcp -m multiport --dports 80,443 -m comment --comment "web" -j ACCEPT
ipt -A INPUT -p udp --dport 53 -j ACCEPT
ipt -A INPUT -p icmp --icmp-type echo-request -j ACCEPT
ipt -A INPUT -p tcp --dport 8443 -m comment --comment "blocked port" -j DROP
ipt -A INPUT -m mark --mark 0x2 -m comment --comment "marked (never reached: accepted above)"
ipt -N LOGDROP
ipt -A LOGDROP -m limit --limit 5/min -j LOG --log-prefix "nfpt drop: "
ipt -A LOGDROP -j DROP
ipt -A INPUT -p tcp --dport 9999 -j LOGDROP
ipt -t nat -A PREROUTING -p tcp --dport 8080 -m comment --comment "port forward" -j DNAT --to-destination "$SRV_IP:80"
ipt -t nat -A POSTROUTING -p tcp -d "$CLI_IP" --dport 7000 -j SNAT --to-source 10.200.0.11
ipt -t nat -A POSTROUTING -p tcp -d "$CLI_IP" --dport 7001 -j MASQUERADE
ipt -t mangle -A PREROUTING -p tcp --dport 443 -j MARK --set-mark 0x2
ipt -t mangle -A INPUT -m mark --mark 0x2 -m comment --comment "marked https"
ipt -t mangle -A OUTPUT -p tcp --sport 80 -j TOS --set-tos 0x10

srv iptables-save >"$TEST_TMP/save.before"
srv iptables -S >"$TEST_TMP/S.before"

start_servers
# listeners on the client for connections the server opens; they answer with
# the source address they saw
for p in 7000 7001; do
	bg ip netns exec "$CLI" socat -T 5 "TCP-LISTEN:$p,reuseaddr,fork" \
		'SYSTEM:read l; echo "$SOCAT_PEERADDR"' 2>/dev/null
	wait_port "$CLI" tcp "$p" || bail "socat on client tcp $p"
done

# ---- traffic
n=$(tcp_conns 4 80);              check_eq "4 HTTP connections answered" "$n" 4
n=$(tcp_conns 3 443);             check_eq "3 HTTPS connections answered" "$n" 3
n=$(tcp_conns 2 22 "$MGMT_IP");   check_eq "2 SSH connections from the management net" "$n" 2
n=$(tcp_blocked 2 22);            check_eq "SSH from the client net is dropped" "$n" 0
n=$(tcp_blocked 1 8443);          check_eq "port 8443 is dropped" "$n" 0
n=$(tcp_blocked 1 9999);          check_eq "port 9999 goes to LOGDROP" "$n" 0
r=$(echo fwd | cli socat -T 2 - "TCP:$SRV_IP:8080,connect-timeout=1" 2>/dev/null)
check_eq "port 8080 is forwarded to 80 by DNAT" "$r" "port80 fwd"
r=$(echo fwd2 | cli socat -T 2 - "TCP:$SRV_IP:8080,connect-timeout=1" 2>/dev/null)
check_eq "second forwarded connection" "$r" "port80 fwd2"
n=$(udp_send 3 53);               check_eq "3 UDP datagrams echoed" "$n" 3
n=$(ping_n 5 "$MGMT_IP");         check_eq "5 pings from the management address" "$n" 5
r=$(echo out | srv socat -T 2 - "TCP:$CLI_IP:7000,connect-timeout=1" 2>/dev/null)
check_eq "server->client 7000 leaves with the SNAT source" "$r" "10.200.0.11"
r=$(echo out | srv socat -T 2 - "TCP:$CLI_IP:7001,connect-timeout=1,bind=10.200.0.11" 2>/dev/null)
check_eq "server->client 7001 bound to .11 is masqueraded to $SRV_IP" "$r" "$SRV_IP"
quiesce 1.5

# ---- counters equal nft's
compare_counters "$SRV" "every rule's counters equal nft's (filter, nat, mangle)"

J="$TEST_TMP/all.json"
nfp list --json >"$J" 2>"$TEST_TMP/err"
check_eq "list --json exits 0 with nothing on stderr" "$? $(head -c 300 "$TEST_TMP/err")" "0 "
check "list --json parses" python3 -m json.tool "$J"
check_eq "tables and owners" \
	"$(json_get "$J" 'sorted((t["family"], t["name"], t["owner"]) for t in d["tables"])')" \
	'[["ip", "filter", "iptables-nft"], ["ip", "mangle", "iptables-nft"], ["ip", "nat", "iptables-nft"]]'
check_eq "-m comment comments are in JSON" \
	"$(json_get "$J" 'sorted(r["comment"] for t, c, r in rules(d) if r["comment"])')" \
	'["blocked port", "marked (never reached: accepted above)", "marked https", "port forward", "ssh from the management net", "web"]'
check_eq "every iptables rule has a counter" \
	"$(json_get "$J" 'len([1 for t, c, r in rules(d) if r["packets"] is None])')" 0
check_eq "rules with -m comment/conntrack/multiport are compat (xt) rules" \
	"$(json_get "$J" 'sorted(set(r["compat"] for t, c, r in rules(d) if r["comment"]))')" '[true]'
check_eq "user chain LOGDROP: not a base chain, 2 rules" \
	"$(json_get "$J" '[(c.get("hook"), len(c["rules"])) for t in d["tables"] for c in t["chains"] if c["name"] == "LOGDROP"]')" \
	'[[null, 2]]'
pk() { json_get "$J" "[r[\"packets\"] for t, c, r in rules(d, table=\"$1\", chain=\"$2\") if r[\"comment\"] == \"$3\"]"; }
check_eq "DNAT rule counted the 2 forwarded connections" "$(pk nat PREROUTING 'port forward')" "[2]"
check_eq "mangle mark match counted the https packets (3 connections)" \
	"$(json_get "$J" '[r["packets"] >= 3 * 4 for t, c, r in rules(d, table="mangle", chain="INPUT")]')" '[true]'
check_eq "ssh rule counted the 2 management SYNs" "$(pk filter INPUT 'ssh from the management net')" "[2]"
check_eq "blocked-port rule counted the SYNs of the 8443 attempt (>=1)" \
	"$(json_get "$J" '[r["packets"] >= 1 for t, c, r in rules(d, table="filter", chain="INPUT") if r["comment"] == "blocked port"]')" '[true]'
check_eq "SNAT and MASQUERADE rules counted 1 connection each" \
	"$(json_get "$J" '[r["packets"] for t, c, r in rules(d, table="nat", chain="POSTROUTING")]')" '[1, 1]'

# ---- nfpilot equals iptables' own view: -L -v -x per rule, and policy counters
python3 - "$J" "filter nat mangle" "$SRV" >"$TEST_TMP/ipt.out" 2>&1 <<'EOF'
import json, subprocess, sys
d = json.load(open(sys.argv[1]))
bad, n = [], 0
for table in sys.argv[2].split():
    out = subprocess.run(["ip", "netns", "exec", sys.argv[3], "iptables", "-t", table,
                          "-L", "-v", "-x", "-n", "--line-numbers"],
                         capture_output=True, text=True, check=True).stdout
    ipt, chain = {}, None
    pol = {}
    for line in out.splitlines():
        f = line.split()
        if line.startswith("Chain "):
            chain = f[1]
            ipt[chain] = []
            if "policy" in f:  # Chain INPUT (policy DROP 12 packets, 345 bytes)
                i = f.index("policy")
                pol[chain] = (int(f[i + 2]), int(f[i + 4]))
        elif f and f[0].isdigit():
            ipt[chain].append((int(f[0]), int(f[1]), int(f[2])))
    t = [t for t in d["tables"] if t["family"] == "ip" and t["name"] == table][0]
    for c in t["chains"]:
        mine = [(r["position"], r["packets"], r["bytes"]) for r in c["rules"]]
        if mine != ipt.get(c["name"]):
            bad.append("%s %s: nfpilot %s, iptables %s" % (table, c["name"], mine, ipt.get(c["name"])))
        n += len(mine)
        if c["name"] in pol:
            got = (c.get("packets"), c.get("bytes"))
            if got != pol[c["name"]]:
                bad.append("%s %s policy counters: nfpilot %s, iptables %s" % (table, c["name"], got, pol[c["name"]]))
    # iptables-nft creates built-in chains only when first used; -L shows them all
    mine = set(c["name"] for c in t["chains"])
    if len(mine) != len(t["chains"]) or not mine <= set(ipt) or \
       any(ipt[x] for x in set(ipt) - mine):
        bad.append("%s chains: nfpilot %s, iptables %s" % (table, sorted(c["name"] for c in t["chains"]), sorted(ipt)))
print("\n".join(bad) if bad else "%d rules" % n)
sys.exit(1 if bad else 0)
EOF
if [ $? -eq 0 ]; then
	ok "every rule's position, packets, bytes and every policy counter equal iptables -L -v -x ($(cat "$TEST_TMP/ipt.out"))"
else
	not_ok "nfpilot vs iptables -L -v -x: $(tr '\n' '|' <"$TEST_TMP/ipt.out" | head -c 2000)"
fi
check_ge "INPUT policy DROP counted the dropped SSH SYNs" \
	"$(json_get "$J" '[c.get("packets") for t in d["tables"] if t["name"] == "filter" for c in t["chains"] if c["name"] == "INPUT" and c.get("hook") == "input"][0]')" 2

compare_text "$SRV" "every rule's text equals nft -a's"

# ---- text output
nfp list -x >"$TEST_TMP/all.txt" 2>"$TEST_TMP/x.err"
check_eq "list -x exits 0 with nothing on stderr" "$? $(head -c 300 "$TEST_TMP/x.err")" "0 "
check "text: filter table header names iptables-nft" grep -q '^table ip filter  \[iptables-nft\]' "$TEST_TMP/all.txt"
check "text: nat table header names iptables-nft" grep -q '^table ip nat  \[iptables-nft\]' "$TEST_TMP/all.txt"
check "text: INPUT header with policy drop and its counters" \
	grep -qE '^Chain INPUT \(filter hook input priority 0 policy drop [0-9]+ packets, [0-9]+ bytes\)' "$TEST_TMP/all.txt"
check "text: comment shown" grep -q 'ssh from the management net' "$TEST_TMP/all.txt"
txt=$(awk '/^table /{tb=$3} /^Chain /{ch=$2} /^ +[0-9]+ +[0-9-]+ +[0-9-]+ +[0-9]+  /{print tb, ch, $1, $2, $3, $4}' "$TEST_TMP/all.txt" | sort)
jsn=$(json_get "$J" '"\n".join("%s %s %d %s %s %d" % (t["name"], c["name"], r["position"], r["packets"], r["bytes"], r["handle"]) for t, c, r in rules(d))' | sort)
check_eq "list -x numbers equal --json for every rule" "$txt" "$jsn"
nfp list -t nat -c PREROUTING --json >"$TEST_TMP/one.json"
check_eq "-t nat -c PREROUTING: just that chain" \
	"$(json_get "$TEST_TMP/one.json" '[(t["name"], c["name"], len(c["rules"])) for t in d["tables"] for c in t["chains"]]')" \
	'[["nat", "PREROUTING", 1]]'

# ---- iptables still works, nothing changed
check "iptables -L -v works afterwards" srv iptables -L -v -n
check "iptables -t nat -L -v works afterwards" srv iptables -t nat -L -v -n
srv iptables -S >"$TEST_TMP/S.after" 2>&1
check "iptables -S output unchanged by nfpilot" diff "$TEST_TMP/S.before" "$TEST_TMP/S.after"
srv iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' >"$TEST_TMP/save.after"
grep -v '^#' "$TEST_TMP/save.before" | sed 's/\[[0-9]*:[0-9]*\]//' >"$TEST_TMP/save.b"
check "iptables-save (counters aside) unchanged" diff "$TEST_TMP/save.b" "$TEST_TMP/save.after"
check "iptables reports no incompatible tables" bash -c "! ip netns exec $SRV iptables -L -n 2>&1 | grep -qi incompatible"

finish
