#!/bin/bash
# nfpilot trace: real packets between the test namespaces, each with its
# path through the ruleset, checked against the counters of the rules the
# kernel says decided; the temporary table never outlives nfpilot (kill -9
# included); bad filters change nothing.
. "$(dirname "$0")/../lib.sh"

setup_net
start_servers

srv nft -f - <<'EOF' || bail "web ruleset"
table inet web {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related counter accept
		iif "lo" accept
		tcp dport { 22, 80 } counter accept comment "ssh and web"
		icmp type echo-request counter accept
	}
}
EOF

# trace_bg OUT ARGS...: nfpilot trace in the background, started once its
# table is there
trace_bg() {
	local out=$1
	shift
	"$NFPILOT" -N "$SRV" trace "$@" >"$out" 2>"$out.err" &
	TRACE_PID=$!
	poll_until 5000 trace_tables "$SRV" >/dev/null || not_ok "trace started: $(cat "$out.err")"
}

H_ICMP=$(rule_handle "$SRV" inet web input "icmp type echo-request")
H_WEB=$(rule_handle "$SRV" inet web input "tcp dport")
H_EST=$(rule_handle "$SRV" inet web input "ct state")

# ---- pings: the echo-request rule decided, and its counter rose as much
before=$(rule_packets "$SRV" inet web input "$H_ICMP")
trace_bg "$TEST_TMP/ping.json" 'proto icmp dst 10.200.0.1' --json --count 3 --seconds 10
got=$(ping_n 3)
wait "$TRACE_PID"
after=$(rule_packets "$SRV" inet web input "$H_ICMP")
check_eq "3 pings answered" "$got" 3
res=$(python3 - "$TEST_TMP/ping.json" "$H_ICMP" "$H_EST" <<'EOF'
import json, sys
pk = [json.loads(l) for l in open(sys.argv[1])]
out = []
for p in pk:
    d = p["path"][p["decided_by"]] if p["decided_by"] is not None else {}
    out.append("%s %s %s>%s %s %s %s" % (p["proto"], p["icmp_type"], p["src"], p["dst"], p["verdict"],
               d.get("handle"), p["end"]))
print("|".join(out))
EOF
)
# the first ping is new: the echo-request rule; the next ones belong to the
# same "connection" for conntrack: established
check_eq "trace of 3 pings: each decided by the rule the kernel counted" "$res" \
	"icmp 8 10.200.0.2>10.200.0.1 accept $H_ICMP delivered to this host|icmp 8 10.200.0.2>10.200.0.1 accept $H_EST delivered to this host|icmp 8 10.200.0.2>10.200.0.1 accept $H_EST delivered to this host"
check_eq "the echo-request rule's counter rose by 1" "$((after - before))" 1
check_eq "the trace's table is gone when it ends" "$(trace_tables "$SRV")" ""

# ---- TCP connects: the SYN is decided by the web rule, with its text and comment
before=$(rule_packets "$SRV" inet web input "$H_WEB")
trace_bg "$TEST_TMP/tcp.txt" 'dport 22 dst 10.200.0.1' --count 2 --seconds 10
got=$(tcp_conns 1 22)
wait "$TRACE_PID"
after=$(rule_packets "$SRV" inet web input "$H_WEB")
check_eq "connection to 22 answered" "$got" 1
check "SYN decided by the web rule, shown with its handle and text" \
	grep -qE "^ > input +inet web input +\[$H_WEB\] tcp dport \{ 22, 80 \} counter accept comment \"ssh and web\" +-> accept" "$TEST_TMP/tcp.txt"
check "its headers in one line" grep -qE "^packet 1 ip tcp 10\.200\.0\.2:[0-9]+ -> 10\.200\.0\.1:22 \[S\] iif v0 len 60" "$TEST_TMP/tcp.txt"
check "the verdict line names the rule" grep -q "verdict: accept by rule $H_WEB of inet web input; delivered to this host" "$TEST_TMP/tcp.txt"
check_ge "the web rule's counter rose" "$((after - before))" 1

# ---- a closed port: the policy drops it
trace_bg "$TEST_TMP/drop.txt" 'dport 443' --count 1 --seconds 10
tcp_blocked 1 443 >/dev/null
wait "$TRACE_PID"
check "a SYN to 443 is dropped by the chain's policy" \
	grep -q "verdict: drop by the policy of inet web input; dropped" "$TEST_TMP/drop.txt"
check "the policy step is marked as the deciding one" grep -qE "^ > input +inet web input +policy drop" "$TEST_TMP/drop.txt"

# ---- NAT before the filter, a jump and a return, and an iptables-nft table
srv nft -f - <<'EOF' || bail "nat ruleset"
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 8443 counter dnat to 10.200.0.1:443
	}
}
table inet web {
	chain checks {
		ip saddr 10.200.0.2 counter
	}
}
EOF
srv nft insert rule inet web input jump checks
srv iptables-nft -A INPUT -p tcp --dport 443 -j ACCEPT || bail "iptables rule"
H_DNAT=$(rule_handle "$SRV" ip nat prerouting "dnat to")
H_IPT=$(rule_handle "$SRV" ip filter INPUT "443")
trace_bg "$TEST_TMP/nat.txt" 'dport 8443,443' --count 1 --seconds 10
got=$(tcp_conns 1 8443)
wait "$TRACE_PID"
# ip filter INPUT accepts it, then inet web's input (another table on
# the same hook) drops it by its policy
check_eq "connection to 8443 not answered" "$got" 0
check "the DNAT rule is on the path" grep -qE "prerouting +ip nat prerouting +\[$H_DNAT\] tcp dport 8443 counter dnat to 10\.200\.0\.1:443 +-> accept" "$TEST_TMP/nat.txt"
check "the change NAT made is shown" grep -q "nat        destination 10.200.0.1:8443 -> 10.200.0.1:443" "$TEST_TMP/nat.txt"
check "the headers are those the packet came with" grep -qE "^packet 1 ip tcp 10\.200\.0\.2:[0-9]+ -> 10\.200\.0\.1:8443 \[S\]" "$TEST_TMP/nat.txt"
check "the jump and the return are on the path" \
	sh -c "grep -qE 'input +inet web input +\[[0-9]+\] jump checks +-> jump checks' '$TEST_TMP/nat.txt' &&
	       grep -qE 'input +inet web checks +\[[0-9]+\] ip saddr 10.200.0.2 counter\$' '$TEST_TMP/nat.txt' &&
	       grep -qE 'input +inet web checks +end of chain: return' '$TEST_TMP/nat.txt'"
check "the iptables-nft rule accepted it, shown as the rules screen shows it" \
	grep -qE "^   input +ip filter INPUT +\[$H_IPT\] .*443.* -> accept" "$TEST_TMP/nat.txt"
check "then the policy of the other table's input chain dropped it" \
	grep -q "verdict: drop by the policy of inet web input; dropped" "$TEST_TMP/nat.txt"

# ---- kill -9 during a trace: the kernel deletes the table
"$NFPILOT" -N "$SRV" trace --seconds 60 >/dev/null 2>&1 &
pid=$!
if poll_until 5000 trace_tables "$SRV" >/dev/null; then
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	if poll_until 2000 sh -c "! ip netns exec $SRV nft list tables | grep -q nfpilot_trace_"; then
		ok "kill -9 during a trace leaves no table behind"
	else
		not_ok "kill -9 during a trace leaves no table behind: $(trace_tables "$SRV")"
	fi
else
	not_ok "trace started for the kill test"
	kill -9 "$pid" 2>/dev/null
fi

# ---- bounded: at most --count packets, at most --rate a second
trace_bg "$TEST_TMP/flood.json" 'proto icmp' --json --rate 5 --seconds 2
cli ping -n -q -f -c 300 -W 1 "$SRV_IP" >/dev/null 2>&1
wait "$TRACE_PID"
n=$(wc -l <"$TEST_TMP/flood.json")
# 300 requests and 300 replies in well under 2 s: 5 a second, burst 5
if [ "$n" -ge 1 ] && [ "$n" -le 20 ]; then
	ok "a flood is traced at the rate asked ($n packets of 600)"
else
	not_ok "a flood is traced at the rate asked: $n packets of 600"
fi
trace_bg "$TEST_TMP/count.json" 'proto icmp' --json --count 2 --seconds 10
ping_n 5 >/dev/null
wait "$TRACE_PID"
check_eq "--count 2 stops after 2 packets" "$(wc -l <"$TEST_TMP/count.json")" 2

# ---- bad input: a clear message, exit 2, no table made
check_rc "a typo in the filter" 2 nfp trace 'dprot 22'
check "... names the word" sh -c "printf '%s' \"\$1\" | grep -q \"word 1 'dprot': unknown filter word\"" _ "$RC_ERR"
check_rc "a TCP state means nothing for a packet" 2 nfp trace 'state syn_sent'
check "... says so" sh -c "printf '%s' \"\$1\" | grep -q 'a packet has no TCP or SCTP state'" _ "$RC_ERR"
check_rc "--count 0" 2 nfp trace --count 0
check_rc "not root" 4 srv setpriv --reuid=65534 --regid=65534 --clear-groups "$NFPILOT" trace --seconds 1
check_eq "no table left by refused traces" "$(trace_tables "$SRV")" ""

finish
