#!/bin/bash
# nfpilot list on a typical web server firewall written with nft, after real
# TCP, UDP and ICMP traffic from a client namespace: every counter must equal
# nft's, the rules that must have matched must show it, text equals JSON.
. "$(dirname "$0")/../lib.sh"

setup_net
srv nft -f - <<'EOF' || bail "nft -f web ruleset"
table inet web {
	set blocked4 {
		type ipv4_addr
		elements = { 192.0.2.66, 198.51.100.7 }
	}
	set mgmt_ports {
		type inet_service
		flags interval
		elements = { 22, 9000-9010 }
	}
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related counter accept
		ct state invalid counter drop
		iif "lo" accept
		ip saddr @blocked4 counter drop
		tcp dport 22 ip saddr 10.200.1.0/24 counter accept comment "ssh from the management net"
		tcp dport { 80, 443 } counter accept comment "web"
		udp dport 53 counter accept
		icmp type echo-request counter accept
		tcp dport 8080 counter drop comment "blocked port"
		counter comment "policy drop"
	}
	chain output {
		type filter hook output priority filter; policy accept;
		oif "v0" ip daddr 10.200.0.0/16 counter
		udp sport 53 counter
	}
}
EOF
start_servers

# ---- traffic
n=$(tcp_conns 5 80);            check_eq "5 HTTP connections answered" "$n" 5
n=$(tcp_conns 3 443);           check_eq "3 HTTPS connections answered" "$n" 3
n=$(tcp_conns 2 22 "$MGMT_IP"); check_eq "2 SSH connections from the management net answered" "$n" 2
n=$(tcp_blocked 2 22);          check_eq "SSH from the client net is dropped" "$n" 0
n=$(tcp_blocked 2 8080);        check_eq "port 8080 is dropped" "$n" 0
n=$(udp_send 4 53);             check_eq "4 UDP datagrams echoed" "$n" 4
n=$(ping_n 7);                  check_eq "7 pings answered" "$n" 7
quiesce 1.5

# ---- counters equal nft's
compare_counters "$SRV" "every rule's counters equal nft's after traffic"

nfp list --json >"$TEST_TMP/all.json" 2>"$TEST_TMP/all.err"
check_eq "list --json exits 0 with nothing on stderr" "$? $(head -c 300 "$TEST_TMP/all.err")" "0 "
check "list --json parses as JSON" python3 -m json.tool "$TEST_TMP/all.json"
J="$TEST_TMP/all.json"
check_eq "JSON header" "$(json_get "$J" 'd["nfpilot"]')" 1
check_eq "one table, inet web, owner native" \
	"$(json_get "$J" '[(t["family"], t["name"], t["owner"]) for t in d["tables"]]')" \
	'[["inet", "web", "native"]]'
check_eq "input chain is a base chain with policy drop" \
	"$(json_get "$J" '[(c["type"], c["hook"], c["priority"], c["policy"]) for t in d["tables"] for c in t["chains"] if c["name"] == "input"]')" \
	'[["filter", "input", 0, "drop"]]'
check_eq "input chain has 10 rules in positions 1..10" \
	"$(json_get "$J" '[r["position"] for t, c, r in rules(d, chain="input")]')" \
	'[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]'

# rule by its text fragment -> packets
pk() { json_get "$J" "[r[\"packets\"] for t, c, r in rules(d, chain=\"$1\") if \"$2\" in r[\"text\"]]"; }
first() { printf '%s' "$1" | tr -d '[]' | cut -d, -f1; }
check_ge "established,related rule counted the replies' ACKs" "$(first "$(pk input 'established,related')")" 20
check_ge "web rule counted >= 8 SYNs" "$(first "$(pk input 'dport { 80, 443 }')")" 8
check_eq "ssh rule counted exactly the 2 management SYNs" "$(first "$(pk input 'dport 22 ip saddr')")" 2
check_ge "8080 drop rule counted the SYNs (with retransmissions)" "$(first "$(pk input 'dport 8080')")" 2
check_eq "udp 53 rule counted the first datagram of each flow (4)" "$(first "$(pk input 'udp dport 53')")" 4
# one ping run is one conntrack flow: only its first request is not established
check_eq "echo-request rule counted the ping flow's first request" "$(first "$(pk input 'echo-request')")" 1
check_eq "blocked4 rule saw nothing" "$(first "$(pk input '@blocked4')")" 0
check_ge "trailing policy counter counted the dropped SSH SYNs" "$(first "$(pk input 'comment')")" 2
check_eq "iif lo rule has no counter (null)" "$(json_get "$J" '[r["packets"] for t, c, r in rules(d, chain="input") if r["text"].startswith("iif")]')" '[null]'
check_eq "comments are reported" \
	"$(json_get "$J" '[r["comment"] for t, c, r in rules(d, chain="input") if r["comment"]]')" \
	'["ssh from the management net", "web", "blocked port", "policy drop"]'
check_eq "sets: name, key, flags-independent element counts (interval counts ranges once)" \
	"$(json_get "$J" 'sorted((s["name"], s["key"], s["elements"], s["map"]) for t in d["tables"] for s in t["sets"] if not s["name"].startswith("__"))')" \
	'[["blocked4", "type ipv4_addr", 2, false], ["mgmt_ports", "type inet_service", 2, false]]'

# handles equal nft -a's, in the same order
nft_handles=$(srv nft -a list chain inet web input | grep -v '^[[:space:]]*chain ' | sed -n 's/.* # handle \([0-9]*\)$/\1/p' | tr '\n' ' ')
nfp_handles=$(json_get "$J" '" ".join(str(r["handle"]) for t, c, r in rules(d, chain="input")) + " "')
check_eq "input rule handles in nft -a order" "$nfp_handles" "$nft_handles"

compare_text "$SRV" "every rule's text equals nft -a's"

# ---- text output: -x numbers equal the JSON ones
nfp list -x >"$TEST_TMP/all.txt" 2>"$TEST_TMP/x.err"
check_eq "list -x exits 0 with nothing on stderr" "$? $(head -c 300 "$TEST_TMP/x.err")" "0 "
txt=$(awk '/^Chain /{ch=$2} /^ +[0-9]+ +[0-9-]+ +[0-9-]+ +[0-9]+  /{print ch, $1, $2, $3, $4}' "$TEST_TMP/all.txt")
jsn=$(json_get "$J" '"\n".join("%s %d %s %s %d" % (c["name"], r["position"], "-" if r["packets"] is None else r["packets"], "-" if r["bytes"] is None else r["bytes"], r["handle"]) for t, c, r in rules(d))')
check_eq "list -x: chain, position, packets, bytes, handle of every rule equal --json" "$txt" "$jsn"
nfp list >"$TEST_TMP/human.txt" 2>&1
human=$(awk '/^Chain /{ch=$2} /^ +[0-9]+ +[0-9.KMGTPE-]+ +[0-9.KMGTPE-]+ +[0-9]+  /{print ch, $1, $2, $3, $4}' "$TEST_TMP/human.txt")
check_eq "list (human numbers): same rules; counts under 1000 printed as they are" \
	"$(printf '%s\n' "$human" | awk '{ if ($3 == "-" || ($3 ~ /^[0-9]+$/ && $3 < 1000)) print $1, $2, $3; else print $1, $2, "big" }')" \
	"$(printf '%s\n' "$txt" | awk '{ if ($3 == "-" || $3 < 1000) print $1, $2, $3; else print $1, $2, "big" }')"
check "text shows the table header" grep -q '^table inet web' "$TEST_TMP/all.txt"
check "text shows the input chain header with policy drop" \
	grep -q '^Chain input (filter hook input priority 0 policy drop' "$TEST_TMP/all.txt"
check "text shows the rule comment" grep -q 'ssh from the management net' "$TEST_TMP/all.txt"
check "text rule lines carry nft's rule text" grep -q 'tcp dport 22 ip saddr 10.200.1.0/24 counter' "$TEST_TMP/all.txt"

# ---- -t inet web -c input shows only that chain
nfp list -t inet web -c input -x >"$TEST_TMP/one.txt" 2>&1
check_eq "-t inet web -c input: one Chain header, input" \
	"$(grep '^Chain ' "$TEST_TMP/one.txt" | awk '{print $2}' | tr '\n' ' ')" "input "
check_eq "-t inet web -c input: 10 rule lines" \
	"$(grep -cE '^ +[0-9]+ +[0-9-]+ +[0-9-]+ +[0-9]+  ' "$TEST_TMP/one.txt")" 10
nfp list -t inet web -c input --json >"$TEST_TMP/one.json"
check_eq "-t inet web -c input --json: only chain input" \
	"$(json_get "$TEST_TMP/one.json" '[(t["name"], c["name"]) for t in d["tables"] for c in t["chains"]]')" '[["web", "input"]]'
nfp list -t web --json >"$TEST_TMP/t.json"
check_eq "-t web (no family) --json: both chains" \
	"$(json_get "$TEST_TMP/t.json" '[c["name"] for t in d["tables"] for c in t["chains"]]')" '["input", "output"]'

# ---- counters only mode carries the same numbers
nfp list --json --counters >"$TEST_TMP/c.json"
check_eq "--counters --json: same handles and counters as the full listing" \
	"$(json_get "$TEST_TMP/c.json" '[(r["handle"], r["packets"], r["bytes"]) for t, c, r in rules(d)]')" \
	"$(json_get "$J" '[(r["handle"], r["packets"], r["bytes"]) for t, c, r in rules(d)]')"

# ---- more traffic: counters move, and still equal nft's
before=$(first "$(pk input 'dport { 80, 443 }')")
pbefore=$(first "$(pk input 'echo-request')")
n=$(tcp_conns 3 80); check_eq "3 more HTTP connections" "$n" 3
for i in 1 2 3; do ping_n 1 >/dev/null; done
quiesce 1
nfp list --json >"$J"
after=$(first "$(pk input 'dport { 80, 443 }')")
pafter=$(first "$(pk input 'echo-request')")
check_eq "web rule counter grew by exactly the 3 new SYNs" "$((after - before))" 3
check_eq "echo-request counter grew by the 3 new ping flows" "$((pafter - pbefore))" 3
compare_counters "$SRV" "counters still equal nft's after more traffic"

# ---- a second table of the same family: chain handles are per table, each
# table keeps its own
srv nft -f - <<'EOF2' || bail "nft -f aux table"
table inet aux {
	chain pre {
		type filter hook prerouting priority -5; policy accept;
		ip saddr 10.200.1.0/24 counter
	}
	chain sub {
		counter
	}
}
EOF2
ping_n 2 "$MGMT_IP" >/dev/null
quiesce 0.5
nfp list --json >"$J"
check_eq "two tables: each lists only its own chains" \
	"$(json_get "$J" '[(t["name"], [c["name"] for c in t["chains"]]) for t in d["tables"]]')" \
	'[["web", ["input", "output"]], ["aux", ["pre", "sub"]]]'
check_eq "two tables: rule text of the aux table's rule" \
	"$(json_get "$J" '[r["text"] for t, c, r in rules(d, table="aux", chain="pre")]')" \
	'["ip saddr 10.200.1.0/24 counter"]'
compare_counters "$SRV" "two tables: counters equal nft's"
compare_text "$SRV" "two tables: rule texts equal nft -a's"
nfp list -t aux --json >"$TEST_TMP/aux.json"
check_eq "-t aux: only aux's chains" \
	"$(json_get "$TEST_TMP/aux.json" '[(t["name"], c["name"]) for t in d["tables"] for c in t["chains"]]')" \
	'[["aux", "pre"], ["aux", "sub"]]'

finish
