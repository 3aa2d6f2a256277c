#!/bin/bash
# nfpilot ct list/count/acct against conntrack(8), after real TCP, UDP and
# ICMP traffic through the server namespace: the same entries with the same
# tuples, states, marks and counters; NAT (a port forward to a local port,
# and a forward to another host with masquerade) shows the changed reply
# tuple; every filter finds what `conntrack -L` finds with the same filter;
# the events API keeps a table equal to a fresh dump.
. "$(dirname "$0")/../lib.sh"

ROOT_ACCT=$(cat /proc/sys/net/netfilter/nf_conntrack_acct)
CTWATCH=$(dirname "$NFPILOT")/tools/ctwatch
[ -x "$CTWATCH" ] || bail "no $CTWATCH (make build/asan/tools/ctwatch)"

setup_net
srv nft -f - <<'EOF' || bail "nft -f ruleset"
table inet ctt {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 2222 redirect to :22
		tcp dport 8888 dnat ip to 10.200.1.2:7777
	}
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		ip daddr 10.200.1.0/24 oif "v0" masquerade
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related counter
		tcp dport 443 ct mark set 5
	}
}
EOF

# ---- accounting: off in a new namespace; turned on by nfpilot
check_rc "ct acct (show) in a new namespace" 0 nfp ct acct
check_eq "accounting starts off" "$RC_OUT" "accounting is off, timestamps are off"
check_rc "ct acct on" 0 nfp ct acct on
check_eq "ct acct on says what it does" "$RC_OUT" \
	"accounting is on: packets and bytes are counted for connections made from now on"
check_eq "the namespace's sysctl is on" "$(srv cat /proc/sys/net/netfilter/nf_conntrack_acct)" 1
check_eq "the root namespace's accounting is untouched" \
	"$(cat /proc/sys/net/netfilter/nf_conntrack_acct)" "$ROOT_ACCT"
srv sysctl -qw net.netfilter.nf_conntrack_timestamp=1
# UDP and ICMP entries must outlive the checks (30 s by default)
srv sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 net.netfilter.nf_conntrack_icmp_timeout=600

# ---- traffic
start_servers
bg ip netns exec "$CLI" socat -T 5 "TCP-LISTEN:7777,bind=$MGMT_IP,reuseaddr,fork" \
	"SYSTEM:read l; echo port7777 \$l" 2>/dev/null
wait_port "$CLI" tcp 7777 || bail "server on $MGMT_IP:7777"
cat >"$TEST_TMP/echo.py" <<'EOF'
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
def serve(c):
    while True:
        d = c.recv(4096)
        if not d:
            return
        c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
cat >"$TEST_TMP/hold.py" <<'EOF'
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
c.sendall(b"x" * 1000)
got = 0
while got < 1000:
    got += len(c.recv(4096))
open(sys.argv[3], "w").write("%d\n" % c.getsockname()[1])
time.sleep(600)
EOF
bg ip netns exec "$SRV" python3 "$TEST_TMP/echo.py" 9000
wait_port "$SRV" tcp 9000 || bail "echo server on 9000"
bg ip netns exec "$CLI" python3 "$TEST_TMP/hold.py" "$SRV_IP" 9000 "$TEST_TMP/hold.port"
for i in $(seq 50); do [ -s "$TEST_TMP/hold.port" ] && break; sleep 0.1; done
HOLD=$(cat "$TEST_TMP/hold.port" 2>/dev/null)
[ -n "$HOLD" ] || bail "persistent connection to 9000"

n=$(tcp_conns 3 80);   check_eq "3 HTTP connections answered" "$n" 3
n=$(tcp_conns 2 443);  check_eq "2 HTTPS connections answered (marked 5)" "$n" 2
n=$(tcp_conns 2 2222); check_eq "2 connections through the port forward 2222 -> 22" "$n" 2
n=$(tcp_conns 2 8888); check_eq "2 connections forwarded to $MGMT_IP:7777 (dnat + masquerade)" "$n" 2
n=$(udp_send 4 53);    check_eq "4 UDP datagrams echoed" "$n" 4
n=$(ping_n 3);         check_eq "3 pings answered" "$n" 3
quiesce 1.5

# ---- the listing equals conntrack's
J=$TEST_TMP/ct.json
nfp ct list --json >"$J" 2>"$TEST_TMP/ct.err"
check_eq "ct list --json exits 0, nothing on stderr" "$? $(head -c 300 "$TEST_TMP/ct.err")" "0 "
check "ct list --json parses" python3 -m json.tool "$J"
check_eq "JSON header: accounting and timestamps on" \
	"$(json_get "$J" '(d["nfpilot"], d["accounting"], d["timestamps"], d["matched"] == len(d["connections"]))')" \
	'[1, true, true, true]'

# conntrack -L -o id (argv[2]) parsed into the fields nfpilot reports
CONNTRACK_PY='
import json, sys
def parse(path):
    out = {}
    for line in open(path):
        w = line.split()
        if not w or "=" in w[0]:
            continue
        e = {"proto": w[0], "orig": {}, "reply": {}, "status": [], "mark": 0, "zone": 0}
        rest = w[3:]
        if rest and "=" not in rest[0] and not rest[0].startswith("["):
            e["state"] = rest[0]
            rest = rest[1:]
        e["timeout"] = int(w[2])
        side = None
        for t in rest:
            if t.startswith("["):
                e["status"].append(t.strip("[]"))
                continue
            k, _, v = t.partition("=")
            if k == "src":
                side = "orig" if not e["orig"] else "reply"
            if k in ("src", "dst"):
                e[side][k] = v
            elif k in ("sport", "dport", "type", "code", "packets", "bytes") and side:
                if k in e[side] and k in ("packets", "bytes"):
                    continue
                e[side][k] = int(v)
            elif k == "id" and side and "id" not in e[side] and e["proto"] in ("icmp", "icmpv6", "ipv6-icmp"):
                e[side]["id"] = int(v)
            elif k == "id":
                e["ctid"] = int(v)
            elif k in ("mark", "zone"):
                e[k] = int(v)
        out[e.get("ctid")] = e
    return out
'

# compare_ct DESC: every entry of nfpilot's JSON against conntrack -L -o id,
# by id: tuples, state, mark, zone, both counters; timeouts within 3 s.
compare_ct() {
	local desc=$1 try out
	for try in 1 2 3; do
		nfp ct list --json >"$TEST_TMP/cmp.json" 2>/dev/null
		srv conntrack -L -o id >"$TEST_TMP/cmp.ct" 2>/dev/null
		if out=$(python3 -c "$CONNTRACK_PY"'
nfp = {c["id"]: c for c in json.load(open(sys.argv[1]))["connections"]}
ct = parse(sys.argv[2])
bad = []
if set(nfp) != set(ct):
    bad.append("ids: only nfpilot %s, only conntrack %s" % (sorted(set(nfp) - set(ct)), sorted(set(ct) - set(nfp))))
for i in sorted(set(nfp) & set(ct)):
    a, b = nfp[i], ct[i]
    name = "id %d (%s %s)" % (i, a["proto"], a["orig"])
    if a["proto"] != b["proto"] and not (a["proto"] == "icmpv6" and b["proto"] == "ipv6-icmp"):
        bad.append("%s: proto %s vs %s" % (name, a["proto"], b["proto"]))
    if b.get("state") and a["state"] != b["state"]:
        bad.append("%s: state %s vs %s" % (name, a["state"], b["state"]))
    for side in ("orig", "reply"):
        for k, v in b[side].items():
            if k in ("packets", "bytes"):
                got = a[side + "_" + k]
            else:
                got = a[side].get(k)
            if got != v:
                bad.append("%s: %s %s %s vs %s" % (name, side, k, got, v))
    for k in ("mark", "zone"):
        if a[k] != b[k]:
            bad.append("%s: %s %s vs %s" % (name, k, a[k], b[k]))
    if abs(a["timeout"] - b["timeout"]) > 3:
        bad.append("%s: timeout %s vs %s" % (name, a["timeout"], b["timeout"]))
    if ("ASSURED" in b["status"]) != ("assured" in a["status"]):
        bad.append("%s: assured %s vs %s" % (name, a["status"], b["status"]))
    if ("UNREPLIED" in b["status"]) != ("seen-reply" not in a["status"]):
        bad.append("%s: unreplied %s vs %s" % (name, a["status"], b["status"]))
if bad or not nfp:
    print("\n".join(bad[:15]) or "no entries")
    sys.exit(1)
print("%d entries" % len(nfp))
' "$TEST_TMP/cmp.json" "$TEST_TMP/cmp.ct" 2>&1); then
			ok "$desc ($out)"
			return 0
		fi
		sleep 1
	done
	not_ok "$desc: $(printf '%s' "$out" | head -c 2000 | tr '\n' '|')"
}
compare_ct "every entry equals conntrack -L's: tuples, state, mark, zone, counters both ways"

# ---- what the traffic must have left
q() { json_get "$J" "$1"; }
check_eq "3 TCP flows to port 80 from the client, in TIME_WAIT" \
	"$(q '[(c["orig"]["src"], c["orig"]["dst"], c["state"]) for c in d["connections"] if c["proto"] == "tcp" and c["orig"]["dport"] == 80]')" \
	"[[\"$CLI_IP\", \"$SRV_IP\", \"TIME_WAIT\"], [\"$CLI_IP\", \"$SRV_IP\", \"TIME_WAIT\"], [\"$CLI_IP\", \"$SRV_IP\", \"TIME_WAIT\"]]"
check_eq "each HTTP flow counted its packets both ways (>= 5 out, >= 4 back) and bytes" \
	"$(q '[(c["orig_packets"] >= 5, c["reply_packets"] >= 4, c["orig_bytes"] > 250, c["reply_bytes"] > 200) for c in d["connections"] if c["proto"] == "tcp" and c["orig"]["dport"] == 80]' | tr -d ' ')" \
	'[[true,true,true,true],[true,true,true,true],[true,true,true,true]]'
json_get "$J" '[(c["orig_packets"], c["reply_packets"], c["orig_bytes"], c["reply_bytes"]) for c in d["connections"] if c["proto"] == "tcp" and c["orig"]["dport"] == 80]' | sed 's/^/# http counters: /' 
check_eq "timestamps: every flow has a start within the last 5 minutes" \
	"$(q 'all(c["start"] and 0 <= __import__("time").time() - c["start"] < 300 for c in d["connections"])')" True
check_eq "the held connection is ESTABLISHED and assured, 1000 bytes each way plus headers" \
	"$(q '[(c["state"], "assured" in c["status"], c["orig_bytes"] >= 1000, c["reply_bytes"] >= 1000) for c in d["connections"] if c["proto"] == "tcp" and c["orig"]["sport"] == '"$HOLD"']')" \
	'[["ESTABLISHED", true, true, true]]'
check_eq "4 UDP flows to 53, replied (ESTABLISHED), 1 packet each way" \
	"$(q '[(c["state"], c["ctstate"], c["orig_packets"], c["reply_packets"]) for c in d["connections"] if c["proto"] == "udp"]')" \
	'[["ESTABLISHED", "established", 1, 1], ["ESTABLISHED", "established", 1, 1], ["ESTABLISHED", "established", 1, 1], ["ESTABLISHED", "established", 1, 1]]'
check_eq "one ICMP flow: echo request type 8 code 0, reply type 0, 3 packets each way" \
	"$(q '[(c["orig"]["type"], c["orig"]["code"], c["reply"]["type"], c["orig"]["id"] == c["reply"]["id"], c["orig_packets"], c["reply_packets"]) for c in d["connections"] if c["proto"] == "icmp"]')" \
	'[[8, 0, 0, true, 3, 3]]'
check_eq "the 2 HTTPS flows carry mark 5, nothing else is marked" \
	"$(q 'sorted((c["orig"].get("dport"), c["mark"]) for c in d["connections"] if c["mark"])')" \
	'[[443, 5], [443, 5]]'
check_eq "port forward 2222: dnat to the local port 22, no snat" \
	"$(q '[(c["reply"]["src"], c["reply"]["sport"], c["dnat"], c["snat"], "dnat" in c["status"]) for c in d["connections"] if c["proto"] == "tcp" and c["orig"]["dport"] == 2222]')" \
	"[[\"$SRV_IP\", 22, true, false, true], [\"$SRV_IP\", 22, true, false, true]]"
check_eq "forward 8888: dnat to $MGMT_IP:7777 and masquerade to $SRV_IP" \
	"$(q '[(c["reply"]["src"], c["reply"]["sport"], c["reply"]["dst"], c["dnat"], c["snat"]) for c in d["connections"] if c["proto"] == "tcp" and c["orig"]["dport"] == 8888]')" \
	"[[\"$MGMT_IP\", 7777, \"$SRV_IP\", true, true], [\"$MGMT_IP\", 7777, \"$SRV_IP\", true, true]]"
check_eq "no NAT on the plain flows" \
	"$(q 'sorted(set((c["dnat"], c["snat"]) for c in d["connections"] if c["orig"].get("dport") in (80, 443, 53, 9000)))')" \
	'[[false, false]]'

# ---- text output
nfp ct list -x >"$TEST_TMP/ct.txt" 2>"$TEST_TMP/ct.txt.err"
check_eq "ct list exits 0 with nothing on stderr (accounting on)" "$? $(head -c 300 "$TEST_TMP/ct.txt.err")" "0 "
check "text header names the columns" \
	grep -qE '^ +ID PROTO +STATE +SOURCE +DESTINATION +TIMEOUT +>PKTS +>BYTES +<PKTS +<BYTES +MARK +ZONE +AGE NAT$' "$TEST_TMP/ct.txt"
check_eq "text: one line per entry" "$(($(wc -l <"$TEST_TMP/ct.txt") - 1))" "$(q 'len(d["connections"])')"
check "text: the port forward shows its dnat target" \
	grep -qE "tcp +TIME_WAIT +$CLI_IP:[0-9]+ +$SRV_IP:2222 .* dnat $SRV_IP:22\$" "$TEST_TMP/ct.txt"
check "text: the forward shows dnat and snat" \
	grep -qE "$SRV_IP:8888 .* dnat $MGMT_IP:7777 snat $SRV_IP:[0-9]+\$" "$TEST_TMP/ct.txt"
check "text: ICMP without ports" grep -qE "icmp +ESTABLISHED +$CLI_IP +$SRV_IP " "$TEST_TMP/ct.txt"
hold_line=$(grep -E " $CLI_IP:$HOLD " "$TEST_TMP/ct.txt")
check_eq "text -x: the held connection's bytes are exact, as in JSON" \
	"$(printf '%s\n' "$hold_line" | awk '{print $8, $10}')" \
	"$(q '" ".join(str(c[k]) for c in d["connections"] if c["proto"] == "tcp" and c["orig"]["sport"] == '"$HOLD"' for k in ("orig_bytes", "reply_bytes"))')"

# ---- filters agree with conntrack -L filtered the same way
ids_nfp() { nfp ct list --json "$@" 2>/dev/null | python3 -c 'import json,sys; print(" ".join(str(i) for i in sorted(c["id"] for c in json.load(sys.stdin)["connections"])))'; }
ids_ct() { srv conntrack -L -o id "$@" 2>/dev/null | sed -n 's/.* id=\([0-9]*\)$/\1/p' | sort -n | tr '\n' ' ' | sed 's/ $//'; }
agree() { # agree "NFPILOT FILTER" CONNTRACK-ARGS...
	local f=$1 a b try
	shift
	for try in 1 2 3; do
		a=$(ids_nfp $f)
		b=$(ids_ct "$@")
		[ "$a" = "$b" ] && break
		sleep 0.5
	done
	if [ "$a" = "$b" ] && [ -n "$a" ]; then
		ok "filter '$f' finds what conntrack -L $* finds ($(echo $a | wc -w) entries)"
	else
		not_ok "filter '$f' vs conntrack -L $*: nfpilot [$a], conntrack [$b]"
	fi
}
agree "src $CLI_IP" -s "$CLI_IP"
agree "src 10.200.0.0/24" -s 10.200.0.0/24
agree "dst $SRV_IP" -d "$SRV_IP"
agree "proto tcp dport 80" -p tcp --dport 80
agree "proto tcp sport $HOLD" -p tcp --sport "$HOLD"
agree "proto tcp state time_wait" -p tcp --state TIME_WAIT
agree "state established proto tcp" -p tcp --state ESTABLISHED
agree "proto udp" -p udp
agree "proto icmp" -p icmp
agree "mark 5" -m 5
agree "rsrc $MGMT_IP" -r "$MGMT_IP"
agree "rdst $SRV_IP proto tcp" -p tcp -q "$SRV_IP"
# (conntrack -g/-n also count ICMP flows as NATed: it compares the echo id
# with the reply's type; compare TCP only)
agree "status dnat proto tcp" -p tcp -g
agree "status snat proto tcp" -p tcp -n
agree "family ipv4" -f ipv4
agree "proto tcp dport 2222 rsport 22" -p tcp --dport 2222 --reply-port-src 22

# either direction, negation, lists: against conntrack lists merged by hand
union() { printf '%s\n' "$@" | tr ' ' '\n' | grep . | sort -nu | tr '\n' ' ' | sed 's/ $//'; }
check_eq "host $MGMT_IP = conntrack -s | -d | -r | -q $MGMT_IP" "$(ids_nfp host $MGMT_IP)" \
	"$(union "$(ids_ct -s $MGMT_IP)" "$(ids_ct -d $MGMT_IP)" "$(ids_ct -r $MGMT_IP)" "$(ids_ct -q $MGMT_IP)")"
check_eq "port 7777 = conntrack -p tcp --reply-port-src 7777" "$(ids_nfp port 7777)" \
	"$(ids_ct -p tcp --reply-port-src 7777)"
check_eq "dport 80,443 proto tcp = --dport 80 + --dport 443" "$(ids_nfp dport 80,443 proto tcp)" \
	"$(union "$(ids_ct -p tcp --dport 80)" "$(ids_ct -p tcp --dport 443)")"
check_eq "proto udp or proto icmp = -p udp + -p icmp" "$(ids_nfp proto udp or proto icmp)" \
	"$(union "$(ids_ct -p udp)" "$(ids_ct -p icmp)")"
all=$(ids_ct)
tcp=$(ids_ct -p tcp)
check_eq "not proto tcp = everything but -p tcp" "$(ids_nfp not proto tcp)" \
	"$(comm -23 <(printf '%s\n' $all | sort) <(printf '%s\n' $tcp | sort) | sort -n | tr '\n' ' ' | sed 's/ $//')"
check_eq "! proto tcp is not proto tcp" "$(ids_nfp '!' proto tcp)" "$(ids_nfp not proto tcp)"
check_eq "one quoted argument is the same filter as words" "$(ids_nfp "proto tcp dport 80")" \
	"$(ids_nfp proto tcp dport 80)"

# ---- count
c1=$(nfp ct count | awk '{print $1}')
c2=$(srv conntrack -C)
check_eq "ct count = conntrack -C" "$c1" "$c2"
nfp ct count --json >"$TEST_TMP/count.json"
check_eq "ct count --json: the namespace's count and the host's maximum" \
	"$(json_get "$TEST_TMP/count.json" '[d["count"], d["max"]]')" \
	"[$(srv cat /proc/sys/net/netfilter/nf_conntrack_count), $(cat /proc/sys/net/netfilter/nf_conntrack_max)]"
check_eq "ct count FILTER counts the matches" "$(nfp ct count proto udp | awk '{print $1, $2, $3}')" \
	"4 connections match"
nfp ct count --totals >"$TEST_TMP/tot.txt"
check_eq "ct count --totals: by protocol and TCP state, ct state and NAT" "$(cat "$TEST_TMP/tot.txt")" \
"15 connections tracked, maximum $(cat /proc/sys/net/netfilter/nf_conntrack_max)
  tcp 10 (ESTABLISHED 1, TIME_WAIT 9), udp 4, icmp 1, other 0
  new 0, established 15, related 0; assured 10; snat 2, dnat 4"

# ---- sorting
nfp ct list --sort bytes --json >"$TEST_TMP/s.json"
check_eq "--sort bytes: biggest first" \
	"$(json_get "$TEST_TMP/s.json" '(lambda v: all(a >= b for a, b in zip(v, v[1:])))([c["orig_bytes"] + c["reply_bytes"] for c in d["connections"]])')" True
check_eq "--sort bytes lists the held connection first" \
	"$(json_get "$TEST_TMP/s.json" 'd["connections"][0]["orig"]["sport"]')" "$HOLD"
nfp ct list --sort dport -r --json >"$TEST_TMP/s.json"
check_eq "--sort dport -r: highest port first" \
	"$(json_get "$TEST_TMP/s.json" 'd["connections"][0]["orig"]["dport"]')" 9000

# ---- accounting off: new connections have no counters, and nfpilot says so
check_rc "ct acct off" 0 nfp ct acct off
ping_n 1 >/dev/null
nfp ct list --json proto icmp >"$TEST_TMP/off.json"
check_eq "a flow made with accounting off has null counters; older flows keep theirs" \
	"$(json_get "$TEST_TMP/off.json" 'sorted(str(c["orig_packets"]) for c in d["connections"])')" \
	'["3", "None"]'
check_eq "JSON says accounting is off" "$(json_get "$TEST_TMP/off.json" 'd["accounting"]')" False
nfp ct list proto icmp >/dev/null 2>"$TEST_TMP/off.err"
check "text listing says accounting is off and how to turn it on" \
	grep -q "note: accounting is off (net.netfilter.nf_conntrack_acct=0).*'nfpilot ct acct on'" "$TEST_TMP/off.err"

# ---- events: a table followed by events equals a fresh dump
bg ip netns exec "$SRV" "$CTWATCH" "$SRV" 4 >"$TEST_TMP/watch.json" 2>"$TEST_TMP/watch.err"
WATCH=$!
sleep 1
n=$(tcp_conns 3 80); check_eq "3 more HTTP connections while followed" "$n" 3
n=$(udp_send 2 53);  check_eq "2 more UDP flows while followed" "$n" 2
nfp ct kill proto udp dport 53 >/dev/null
wait "$WATCH"
check_eq "ctwatch: the followed table equals a fresh dump" "$?" 0
# the 4 older UDP flows were made before anyone listened: no destroy event
# (nf_conntrack_events=2); the re-read marks them gone
check_eq "ctwatch: news for 5 flows, destroy events for the 2 new UDP flows, 6 gone, nothing missing" \
	"$(json_get "$TEST_TMP/watch.json" '(d["news"] >= 5, d["destroys"] >= 2, d["gone"] >= 6, d["marked_new"] >= 3, d["missing"], d["extra"])')" \
	'[true, true, true, true, 0, 0]'

# ---- IPv6: the same over a v6 TCP connection and pings
srv sysctl -qw net.ipv6.conf.v0.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0
cli sysctl -qw net.ipv6.conf.v0.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0
ip -n "$SRV" addr add 2001:db8:200::1/64 dev v0 nodad
ip -n "$CLI" addr add 2001:db8:200::2/64 dev v0 nodad
bg ip netns exec "$SRV" socat -T 5 TCP6-LISTEN:9600,reuseaddr,fork "SYSTEM:read l; echo six \$l" 2>/dev/null
wait_port "$SRV" tcp 9600 || bail "v6 server"
r=$(echo hi | cli socat -T 2 - "TCP6:[2001:db8:200::1]:9600,connect-timeout=2" 2>/dev/null)
check_eq "a TCP connection over IPv6 answered" "$r" "six hi"
n=$(cli ping -6 -n -q -c 2 -i 0.05 -W 1 2001:db8:200::1 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
check_eq "2 IPv6 pings answered" "$n" 2
quiesce 1
compare_ct "after IPv6 traffic, every entry still equals conntrack -L's"
nfp ct list --json family ipv6 >"$TEST_TMP/v6.json"
check_eq "the IPv6 TCP flow: addresses and ports both ways, TIME_WAIT" \
	"$(json_get "$TEST_TMP/v6.json" '[(c["orig"]["src"], c["orig"]["dst"], c["orig"]["dport"], c["reply"]["src"], c["reply"]["dport"] == c["orig"]["sport"], c["state"]) for c in d["connections"] if c["proto"] == "tcp"]')" \
	'[["2001:db8:200::2", "2001:db8:200::1", 9600, "2001:db8:200::1", true, "TIME_WAIT"]]'
check_eq "the IPv6 ping: icmpv6 echo request 128, reply 129" \
	"$(json_get "$TEST_TMP/v6.json" '[(c["orig"]["type"], c["reply"]["type"], c["orig_packets"]) for c in d["connections"] if c["proto"] == "icmpv6"]')" \
	'[[128, 129, null]]'
nfp ct list family ipv6 proto tcp >"$TEST_TMP/v6.txt" 2>/dev/null
check "text: IPv6 endpoints in brackets" grep -qE "\[2001:db8:200::2\]:[0-9]+ +\[2001:db8:200::1\]:9600 " "$TEST_TMP/v6.txt"
agree "family ipv6" -f ipv6
agree "src 2001:db8:200::/64" -f ipv6 -s 2001:db8:200::/64
agree "dst 2001:db8:200::1 proto tcp dport 9600" -f ipv6 -d 2001:db8:200::1 -p tcp --dport 9600
check_eq "an IPv4 prefix never matches IPv6 entries" "$(ids_nfp family ipv6 src 0.0.0.0/0)" ""

# ---- usage errors
check_rc "ct without a command: usage" 2 nfp ct
check_rc "ct frob: unknown command" 2 nfp ct frob
check_rc "--sort nope: unknown column" 2 nfp ct list --sort nope
check "the error names the column" grep -q "unknown sort column 'nope'" <<<"$RC_ERR"
check_rc "an unknown namespace" 3 "$NFPILOT" -N "nfpt-none-$$" ct list
check_rc "ct --help" 0 nfp ct --help
check "help explains the filter words" grep -q "host ADDR\[/LEN\] *any of the four addresses" <<<"$RC_OUT"

finish
