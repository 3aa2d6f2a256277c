#!/bin/bash
# nfpilot why: the answer for a packet never sent, from a sandbox holding
# a copy of the server's ruleset, must be what a real packet sent from the
# client gets: for a table of rulesets, the same path (table, chain, rule,
# verdict at every step) as `nfpilot trace` shows for the real packet, and
# the same verdict; the host's own counters never see the asked packet;
# what the sandbox cannot reproduce is named; bad questions change nothing.
. "$(dirname "$0")/../lib.sh"

setup_net
start_servers

# path FILE [N]: the path of the Nth JSON packet of FILE (a trace line, or
# a why answer), as "table chain type handle verdict" steps, then its verdict
path() {
	python3 - "$1" "${2:-1}" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
if len(lines) < n:
    print("no packet %d" % n); sys.exit(0)
p = json.loads(lines[n - 1])
p = p.get("answer", p)
steps = ["%s/%s %s %s %s" % (s["table"], s["chain"], s["type"], s["handle"], s["verdict"])
         for s in p["path"]]
d = p["decided_by"]
print(" | ".join(steps) + " => " + str(p["verdict"]) +
      (" by %s" % steps[d] if d is not None else ""))
EOF
}

# real OUT FILTER N CMD...: the trace of the real packets CMD sends (N of them)
real() {
	local out=$1 filter=$2 n=$3 pid
	shift 3
	"$NFPILOT" -N "$SRV" trace "$filter" --json --count "$n" --seconds 10 >"$out" 2>"$out.err" &
	pid=$!
	poll_until 5000 trace_tables "$SRV" >/dev/null || not_ok "trace started: $(cat "$out.err")"
	"$@" >/dev/null
	wait "$pid"
}

# same DESC REALFILE N PACKET: why PACKET answers as the Nth real packet went
same() {
	local desc=$1 file=$2 n=$3 q=$4 want got
	want=$(path "$file" "$n")
	if ! nfp why --json "$q" >"$TEST_TMP/why.json" 2>"$TEST_TMP/why.err"; then
		not_ok "$desc: why failed: $(cat "$TEST_TMP/why.err")"
		return
	fi
	got=$(path "$TEST_TMP/why.json")
	case "$want" in
	"no packet"*|"") not_ok "$desc: the real packet was not traced: $want" ;;
	*) check_eq "$desc ($want)" "$got" "$want" ;;
	esac
}

# ---- the web server firewall
srv nft -f - <<'EOF' || bail "web ruleset"
table inet web {
	set admins { type ipv4_addr; flags interval; elements = { 10.200.0.0/28, 192.0.2.0/24 } }
	chain ssh {
		ip saddr @admins counter accept
		counter drop
	}
	chain checks {
		ip saddr 10.200.0.99 drop
	}
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related counter accept
		iif "lo" accept
		jump checks
		tcp dport vmap { 22 : jump ssh, 80 : accept, 8080 : goto ssh }
	}
}
EOF
# a handle a fresh copy numbers otherwise (one rule was added and deleted
# before it): the sandbox must map the copy's handles back to the host's
srv nft add rule inet web input counter
srv nft delete rule inet web input handle "$(srv nft -a list chain inet web input | sed -n 's/^\t\tcounter .*# handle \([0-9]*\)$/\1/p')"
srv nft add rule inet web input icmp type echo-request counter accept

real "$TEST_TMP/ssh.json" 'dst 10.200.0.1 dport 22' 2 tcp_conns 1 22
same "a SYN to 22: checks, then the vmap jumps to ssh, the admins set accepts" \
	"$TEST_TMP/ssh.json" 1 'tcp 10.200.0.2:40000 -> 10.200.0.1:22 iif v0'
same "the next packet of that connection: established" \
	"$TEST_TMP/ssh.json" 2 'tcp 10.200.0.2:40000 -> 10.200.0.1:22 iif v0 state established'
real "$TEST_TMP/web.json" 'dst 10.200.0.1 dport 80' 1 tcp_conns 1 80
same "a SYN to 80: the vmap accepts" "$TEST_TMP/web.json" 1 \
	'tcp 10.200.0.2:40000 -> 10.200.0.1:80'
real "$TEST_TMP/goto.json" 'dst 10.200.0.1 dport 8080' 1 tcp_conns 1 8080
same "a SYN to 8080: goto ssh" "$TEST_TMP/goto.json" 1 'tcp 10.200.0.2:40000 -> 10.200.0.1:8080'
real "$TEST_TMP/drop.json" 'dst 10.200.0.1 dport 443' 1 tcp_blocked 1 443
same "a SYN to 443: the policy drops it" "$TEST_TMP/drop.json" 1 \
	'tcp 10.200.0.2:40000 -> 10.200.0.1:443'
real "$TEST_TMP/ping.json" 'proto icmp dst 10.200.0.1' 1 ping_n 1
same "a ping" "$TEST_TMP/ping.json" 1 'icmp 10.200.0.2 -> 10.200.0.1 type echo-request'
real "$TEST_TMP/udp.json" 'dst 10.200.0.1 dport 53' 1 udp_send 1 53
same "a datagram to 53: the policy drops it" "$TEST_TMP/udp.json" 1 \
	'udp 10.200.0.2:40000 -> 10.200.0.1:53'

# the asked packet never reaches the host: its counters stay as they were
before=$(srv nft list table inet web | grep -c "packets 0 ")
srv nft list table inet web >"$TEST_TMP/before.nft"
nfp why 'tcp 10.200.0.2:40000 -> 10.200.0.1:22' >"$TEST_TMP/why.txt" 2>&1
nfp why 'tcp 10.200.0.2:40000 -> 10.200.0.1:22 state established' >/dev/null 2>&1
srv nft list table inet web >"$TEST_TMP/after.nft"
check "the host's counters did not see the asked packets" cmp "$TEST_TMP/before.nft" "$TEST_TMP/after.nft"
check_ge "(some counters are not zero: the comparison can fail)" "$(grep -c 'packets [1-9]' "$TEST_TMP/after.nft")" 1
H_ADM=$(srv nft -a list chain inet web ssh | sed -n 's/.*@admins.*# handle \([0-9]*\)$/\1/p')
check "the text answer names the rule, its handle and text" \
	grep -qE "^ > input +inet web ssh +\[$H_ADM\] ip saddr @admins counter accept +-> accept" "$TEST_TMP/why.txt"
check "... and says how it was asked" grep -q "^  asked in a sandbox: in on v0, the interface of the route to the source" "$TEST_TMP/why.txt"
check "... and the verdict" grep -q "verdict: accept by rule $H_ADM of inet web ssh; delivered to this host" "$TEST_TMP/why.txt"

# ---- --after FILE: the ruleset as it would be after applying FILE, then
# really applied: the real packet takes the path why foretold (by rule
# text: the new rule's handle is given only when it goes in)
cat >"$TEST_TMP/change.nft" <<'EOF'
insert rule inet web input tcp dport 443 counter accept comment "https"
add chain inet web late
add rule inet web late counter
insert rule inet web input ip saddr 10.200.0.0/24 jump late
insert rule inet web input meta hour "00:00"-"23:59" counter
EOF
# textpath FILE [N]: as path, rule text instead of handles
textpath() {
	python3 - "$1" "${2:-1}" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
p = json.loads(lines[int(sys.argv[2]) - 1])
p = p.get("answer", p)
print(" | ".join("%s/%s %s %s %s" % (s["table"], s["chain"], s["type"], s["text"], s["verdict"])
                 for s in p["path"]) + " => " + str(p["verdict"]))
EOF
}
srv nft list ruleset >"$TEST_TMP/before_after.nft"
nfp why --json --after "$TEST_TMP/change.nft" 'tcp 10.200.0.2:40000 -> 10.200.0.1:443' 	>"$TEST_TMP/after.json" 2>"$TEST_TMP/after.err"
nfp why --after "$TEST_TMP/change.nft" 'tcp 10.200.0.2:40000 -> 10.200.0.1:443' >"$TEST_TMP/after.txt" 2>&1
srv nft list ruleset >"$TEST_TMP/after_after.nft"
check "--after changes nothing on the host" cmp "$TEST_TMP/before_after.nft" "$TEST_TMP/after_after.nft"
check "the rule the file makes decides, marked new" 	grep -qE '^ > input +inet web input +\[new\] tcp dport 443 counter accept comment "https" +-> accept' "$TEST_TMP/after.txt"
check "... and so does the verdict line" grep -q "verdict: accept by a new rule of inet web input" "$TEST_TMP/after.txt"
check "a new rule the sandbox cannot vouch for is named" \
	grep -q "may differ: a new rule of inet web input: time of day" "$TEST_TMP/after.txt"
srv nft -f "$TEST_TMP/change.nft" || bail "applying the change"
real "$TEST_TMP/after_real.json" 'dst 10.200.0.1 dport 443' 1 tcp_conns 1 443
want=$(textpath "$TEST_TMP/after_real.json")
check_eq "once applied, the real packet goes as --after said ($want)" "$(textpath "$TEST_TMP/after.json")" "$want"
echo 'add rule inet web input tcp dpor 443 accept' >"$TEST_TMP/bad.nft"
check_rc "--after a file nft refuses" 2 nfp why --after "$TEST_TMP/bad.nft" 'tcp 10.200.0.2:1 -> 10.200.0.1:22'
check "... shows nft's message" sh -c "printf '%s' \"\$1\" | grep -q 'syntax error'" _ "$RC_ERR"
srv nft delete rule inet web input handle "$(srv nft -a list chain inet web input | sed -n 's/.*"https" # handle \([0-9]*\)$/\1/p')"
srv nft delete rule inet web input handle "$(srv nft -a list chain inet web input | sed -n 's/.*jump late # handle \([0-9]*\)$/\1/p')"
srv nft delete rule inet web input handle "$(srv nft -a list chain inet web input | sed -n 's/.*meta hour .*# handle \([0-9]*\)$/\1/p')"

# ---- NAT: DNAT before the filter; a second base chain on input at
# another priority in another table
srv nft -f - <<'EOF' || bail "nat ruleset"
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 8443 counter dnat to 10.200.0.1:80
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oif "v0" ip daddr 10.200.0.2 counter masquerade
	}
}
table ip early {
	chain input {
		type filter hook input priority -10; policy accept;
		tcp dport 80 counter meta mark set 7
	}
}
EOF
real "$TEST_TMP/dnat.json" 'dport 8443,80 dst 10.200.0.1' 1 tcp_conns 1 8443
same "DNAT 8443 -> 80, then two input chains of two tables" "$TEST_TMP/dnat.json" 1 \
	'tcp 10.200.0.2:40000 -> 10.200.0.1:8443'
check "the DNAT is shown" sh -c "grep -q '\"nat\":\"destination 10.200.0.1:8443 -> 10.200.0.1:80\"' '$TEST_TMP/why.json'"
real "$TEST_TMP/masq.json" 'proto icmp dst 10.200.0.2' 1 srv ping -c 1 -W 1 "$CLI_IP"
same "a ping the server sends: masquerade in postrouting" "$TEST_TMP/masq.json" 1 \
	'icmp 10.200.0.1 -> 10.200.0.2 type echo-request'
check "... asked as sent by this host" grep -q '"how":"sent by this host"' "$TEST_TMP/why.json"
srv nft delete table ip early
srv nft delete table ip nat

# ---- forwarded: a route of the host's (copied into the sandbox) sends it
# back out of v0; the forward chain decides
cli ip route add 198.51.100.0/24 via "$SRV_IP"
srv ip route add 198.51.100.0/24 via "$CLI_IP"
srv nft -f - <<'EOF' || bail "forward ruleset"
table inet relay {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ip daddr 198.51.100.0/28 counter accept
	}
}
EOF
real "$TEST_TMP/fwd.json" 'proto icmp dst 198.51.100.7' 1 cli ping -c 1 -W 1 198.51.100.7
same "a forwarded ping: the host's route and the forward chain" "$TEST_TMP/fwd.json" 1 \
	'icmp 10.200.0.2 -> 198.51.100.7 type echo-request'
real "$TEST_TMP/fwd2.json" 'proto icmp dst 198.51.100.77' 1 cli ping -c 1 -W 1 198.51.100.77
same "... one the forward policy drops" "$TEST_TMP/fwd2.json" 1 \
	'icmp 10.200.0.2 -> 198.51.100.77 type echo-request'
check "... the answer ends where the packet does" grep -q '"end":"dropped"' "$TEST_TMP/why.json"
srv nft delete table inet relay

# ---- the same web server firewall, built with iptables
srv nft delete table inet web
srv iptables-nft -N SSH || bail "iptables"
srv iptables-nft -A SSH -s 10.200.0.0/28 -j ACCEPT
srv iptables-nft -A SSH -j DROP
srv iptables-nft -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
srv iptables-nft -A INPUT -i lo -j ACCEPT
srv iptables-nft -A INPUT -p tcp --dport 22 -j SSH
srv iptables-nft -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
srv iptables-nft -A INPUT -p icmp --icmp-type echo-request -j ACCEPT
srv iptables-nft -P INPUT DROP
real "$TEST_TMP/ipt.json" 'dst 10.200.0.1 dport 22' 2 tcp_conns 1 22
same "iptables: a SYN to 22 jumps to SSH, accepted there" "$TEST_TMP/ipt.json" 1 \
	'tcp 10.200.0.2:40000 -> 10.200.0.1:22'
same "iptables: the next packet, established" "$TEST_TMP/ipt.json" 2 \
	'tcp 10.200.0.2:40000 -> 10.200.0.1:22 state established'
real "$TEST_TMP/ipt443.json" 'dst 10.200.0.1 dport 443' 1 tcp_conns 1 443
same "iptables: multiport accepts 443" "$TEST_TMP/ipt443.json" 1 'tcp 10.200.0.2:40000 -> 10.200.0.1:443'
real "$TEST_TMP/ipt8080.json" 'dst 10.200.0.1 dport 8080' 1 tcp_blocked 1 8080
same "iptables: the policy drops 8080" "$TEST_TMP/ipt8080.json" 1 'tcp 10.200.0.2:40000 -> 10.200.0.1:8080'
nfp why 'tcp 10.200.0.2:40000 -> 10.200.0.1:443' >"$TEST_TMP/ipt.txt" 2>&1
check "iptables rules are shown as the rules screen shows them" \
	grep -qE "^ > input +ip filter INPUT +\[[0-9]+\] meta l4proto tcp tcp dport \{ 80, 443 \} counter accept +-> accept" "$TEST_TMP/ipt.txt"
srv iptables-nft -F
srv iptables-nft -X
srv iptables-nft -P INPUT ACCEPT
srv nft flush ruleset

# ---- IPv6: neighbour discovery and an echo request
for ns in "$SRV" "$CLI"; do
	in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.v0.disable_ipv6=0 \
		net.ipv6.conf.v0.accept_dad=0 >/dev/null
done
srv ip addr add fd00:200::1/64 dev v0 nodad
cli ip addr add fd00:200::2/64 dev v0 nodad
srv nft -f - <<'EOF' || bail "ip6 ruleset"
table ip6 web6 {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } counter accept
		icmpv6 type echo-request counter accept
	}
}
EOF
real "$TEST_TMP/nd.json" 'proto icmpv6 src fd00:200::2' 2 cli ping -6 -c 1 -W 2 fd00:200::1
python3 - "$TEST_TMP/nd.json" >"$TEST_TMP/nd.order" <<'EOF'
import json, sys
print(" ".join(str(json.loads(l)["icmp_type"]) for l in open(sys.argv[1]) if l.strip()))
EOF
if [ "$(cat "$TEST_TMP/nd.order")" = "135 128" ]; then
	same "IPv6: the neighbour solicitation before the ping" "$TEST_TMP/nd.json" 1 \
		'icmpv6 fd00:200::2 -> ff02::1:ff00:1 type nd-neighbor-solicit iif v0'
	same "IPv6: the echo request" "$TEST_TMP/nd.json" 2 \
		'icmpv6 fd00:200::2 -> fd00:200::1 type echo-request'
else
	not_ok "IPv6: the real ping began with a neighbour solicitation: types $(cat "$TEST_TMP/nd.order")"
fi
real "$TEST_TMP/v6tcp.json" 'dst fd00:200::1 dport 22' 1 cli socat -T 1 - "TCP6:[fd00:200::1]:22,connect-timeout=0.5" 2>/dev/null
same "IPv6: a SYN to 22, dropped by the policy" "$TEST_TMP/v6tcp.json" 1 \
	'tcp [fd00:200::2]:40000 -> [fd00:200::1]:22'
srv nft flush ruleset

# ---- what a sandbox cannot reproduce is named, not guessed
srv nft -f - <<'EOF' || bail "notes ruleset"
table inet host {
	set seen { type ipv4_addr; flags dynamic, timeout; timeout 1m; }
	chain input {
		type filter hook input priority 0; policy accept;
		fib daddr type local counter
		meta hour "00:00"-"23:59" counter
		ip saddr @seen counter
		tcp dport 22 accept
		socket transparent 1 counter
	}
}
EOF
nfp why 'tcp 10.200.0.2:40000 -> 10.200.0.1:22' >"$TEST_TMP/notes.txt" 2>&1
hh() { srv nft -a list chain inet host input | grep -F -- "$1" | sed -n 's/.*# handle \([0-9]*\)$/\1/p'; }
check "fib is named" grep -q "may differ: rule $(hh 'fib daddr') of inet host input: fib:" "$TEST_TMP/notes.txt"
check "time of day is named" grep -q "may differ: rule $(hh 'meta hour') of inet host input: time of day" "$TEST_TMP/notes.txt"
check "a dynamic set is named" grep -q "may differ: rule $(hh '@seen') of inet host input: a dynamic set" "$TEST_TMP/notes.txt"
check "a rule after the deciding one is not (it was never evaluated)" \
	sh -c "! grep -q 'socket' '$TEST_TMP/notes.txt'"
nfp why 'tcp 10.200.0.2:40000 -> 10.200.0.1:443 iif eth7' >"$TEST_TMP/eth7.txt" 2>&1
check "an interface the host lacks is said so" grep -q "may differ: this host has no interface of that name" "$TEST_TMP/eth7.txt"
check "a rule after the deciding one is noted when the chain ends by policy" grep -q "socket: matches the host's sockets" "$TEST_TMP/eth7.txt"

# ---- kill -9 while the sandbox is being made: the host is as it was
python3 "$(dirname "$0")/../bench/gen.py" big 1 20000 | srv nft -f - || bail "a big table"
srv nft -s list ruleset >"$TEST_TMP/before_kill.nft"
"$NFPILOT" -N "$SRV" why 'tcp 10.200.0.2:40000 -> 10.200.0.1:22' >/dev/null 2>&1 &
pid=$!
# in the sandbox: its network namespace is neither this one nor the server's
root_ns=$(stat -L -c %i /proc/self/ns/net) srv_ns=$(stat -L -c %i "/run/netns/$SRV")
in_sandbox() {
	local ns
	ns=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) &&
		[ "$ns" != "$root_ns" ] && [ "$ns" != "$srv_ns" ]
}
sandbox_or_gone() { in_sandbox || ! kill -0 "$pid" 2>/dev/null; }
poll_until 30000 sandbox_or_gone
if in_sandbox && kill -9 "$pid" 2>/dev/null; then
	wait "$pid" 2>/dev/null
	srv nft -s list ruleset >"$TEST_TMP/after_kill.nft"
	check "a why killed -9 leaves the host's ruleset as it was" cmp "$TEST_TMP/before_kill.nft" "$TEST_TMP/after_kill.nft"
	check_eq "... and no process of it in the namespace" "$(ip netns pids "$SRV" | grep -c -x "$pid")" 0
else
	skip "kill -9 during why" "why ended before it was seen making its sandbox"
fi
srv nft delete table inet big

# ---- bad questions: a clear message, exit 2, nothing left behind
check_rc "no port" 2 nfp why 'tcp 10.200.0.2 -> 10.200.0.1'
check "... says to give the port" sh -c "printf '%s' \"\$1\" | grep -q 'give the destination port'" _ "$RC_ERR"
check_rc "a typo" 2 nfp why 'tcp 10.200.0.2:1 -> 10.200.0.1:22 stat new'
check "... names the word" sh -c "printf '%s' \"\$1\" | grep -q \"word 5 'stat': unknown word\"" _ "$RC_ERR"
check_rc "related TCP" 2 nfp why 'tcp 10.200.0.2:1 -> 10.200.0.1:22 state related'
check "... says why not" sh -c "printf '%s' \"\$1\" | grep -q 'helper'" _ "$RC_ERR"
check_rc "no packet" 2 nfp why
check_rc "sent by this host to a multicast address" 2 nfp why 'icmpv6 fd00:200::1 -> ff02::1'
check "... says what it cannot be told" sh -c "printf '%s' \"\$1\" | grep -q 'leaves by an interface why cannot be told'" _ "$RC_ERR"
check_rc "not root" 4 srv setpriv --reuid=65534 --regid=65534 --clear-groups "$NFPILOT" why 'udp 10.200.0.2:1 -> 10.200.0.1:53'
check_eq "no namespace left by the sandboxes" "$(ip netns list | grep -c "^$NS_PREFIX")" 2

finish
