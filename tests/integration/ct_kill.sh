#!/bin/bash
# nfpilot ct kill: a killed local TCP connection ends at both ends (the
# client's next send fails, the server's read fails), checked by the
# test's own client and server; a filter ends exactly the connections that
# match and leaves the others working; the listening socket and an
# unconnected UDP server survive; a forwarded connection only loses its
# conntrack entry, and the output says so; deleting the entry alone
# (--no-sockets) does not end a TCP connection; bad filters explain
# themselves and exit 2.
. "$(dirname "$0")/../lib.sh"

setup_net
port_forward ctk
srv nft -f - <<'EOF' || bail "nft -f ruleset"
table inet ctk {
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related counter
	}
}
EOF
srv sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600

echo_server "$SRV" 0.0.0.0 9000 "$TEST_TMP/srv.log"

# ---- 1. one local TCP connection of four (the server side is local)
C=$TEST_TMP/c1
start_client "$CLI" "$SRV_IP" 9000 4 "$C"
read -r P1 P2 P3 P4 <<<"$(tr '\n' ' ' <"$C/ports")"
r=$(round "$C" 1)
check_eq "4 connections echo before any kill" "$(printf '%s\n' "$r" | awk '{print $2}' | tr '\n' ' ')" "ok ok ok ok "

check_rc "ct kill proto tcp sport $P1 dport 9000" 0 nfp ct kill proto tcp sport "$P1" dport 9000
check_eq "it says: 1 ended, 1 entry deleted, 1 local socket reset" "$RC_OUT" \
	"ended 1 connection: 1 conntrack entry deleted, 1 local socket reset"
check_eq "the server's end was aborted (its read failed: ECONNABORTED)" "$(closed "$TEST_TMP/srv.log" "$P1")" ECONNABORTED
r=$(round "$C" 2)
case $(res "$r" "$P1") in
ECONNRESET | EPIPE | eof) ok "the client's next send on $P1 fails ($(res "$r" "$P1"))" ;;
*) not_ok "the client's next send on $P1 fails: got '$(res "$r" "$P1")'" ;;
esac
check_eq "the other three connections still echo" "$(res "$r" "$P2") $(res "$r" "$P3") $(res "$r" "$P4")" "ok ok ok"
check_eq "no conntrack entry left for $P1" "$(srv conntrack -L -p tcp --sport "$P1" 2>/dev/null | wc -l)" 0
check_eq "the other three entries are still there" \
	"$(nfp ct count proto tcp dport 9000 state established | awk '{print $1}')" 3

# ---- 2. a filter that matches two: exactly those end
check_rc "ct kill proto tcp dport 9000 sport $P2,$P3 --json" 0 nfp ct kill proto tcp dport 9000 sport "$P2,$P3" --json
check_eq "JSON: 2 matched, 2 deleted, 2 local, 2 sockets reset, 0 without a socket" \
	"$(printf '%s' "$RC_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["matched"], d["deleted"], d["local"], d["sockets_reset"], d["without_socket"], d["already_gone"], d["failed"])')" \
	"2 2 2 2 0 0 0"
r=$(round "$C" 3)
check_eq "$P2 and $P3 fail on their next send, $P4 still echoes" \
	"$(res "$r" "$P2" | sed 's/ECONNRESET\|EPIPE\|eof/closed/') $(res "$r" "$P3" | sed 's/ECONNRESET\|EPIPE\|eof/closed/') $(res "$r" "$P4")" \
	"closed closed ok"
check_eq "the server saw both aborted" "$(closed "$TEST_TMP/srv.log" "$P2") $(closed "$TEST_TMP/srv.log" "$P3")" \
	"ECONNABORTED ECONNABORTED"
n=$(cli python3 -c "import socket; c = socket.create_connection(('$SRV_IP', 9000), timeout=2); c.sendall(b'x'); print(c.recv(9).decode())" 2>&1)
check_eq "the listening socket survived: a new connection echoes" "$n" x

# ---- 3. the local end is the client (an outgoing connection from the server namespace)
echo_server "$CLI" "$MGMT_IP" 9200 "$TEST_TMP/cli.log"
C3=$TEST_TMP/c3
start_client "$SRV" "$MGMT_IP" 9200 2 "$C3"
read -r Q1 Q2 <<<"$(tr '\n' ' ' <"$C3/ports")"
check_rc "ct kill dst $MGMT_IP dport 9200 sport $Q1 (the local client's own connection)" 0 \
	nfp ct kill dst "$MGMT_IP" dport 9200 sport "$Q1"
check_eq "it says: 1 local socket reset" "$RC_OUT" \
	"ended 1 connection: 1 conntrack entry deleted, 1 local socket reset"
check_eq "the remote server was reset (its read failed: ECONNRESET)" "$(closed "$TEST_TMP/cli.log" "$Q1")" ECONNRESET
r=$(round "$C3" 1)
check_eq "the local client's next send fails (ECONNABORTED); the other connection echoes" \
	"$(res "$r" "$Q1") $(res "$r" "$Q2")" "ECONNABORTED ok"

# ---- 3b. the same over IPv6
ipv6_on
echo_server "$SRV" 2001:db8:200::1 9700 "$TEST_TMP/srv6.log"
C6=$TEST_TMP/c6
start_client "$CLI" 2001:db8:200::1 9700 2 "$C6"
read -r V1 V2 <<<"$(tr '\n' ' ' <"$C6/ports")"
check_rc "ct kill src 2001:db8:200::2 dport 9700 sport $V1 (IPv6)" 0 \
	nfp ct kill src 2001:db8:200::2 dport 9700 sport "$V1"
check_eq "it says: 1 local socket reset" "$RC_OUT" \
	"ended 1 connection: 1 conntrack entry deleted, 1 local socket reset"
check_eq "the IPv6 server's end was aborted" "$(closed "$TEST_TMP/srv6.log" "$V1")" ECONNABORTED
r=$(round "$C6" 1)
case "$(res "$r" "$V1") $(res "$r" "$V2")" in
"ECONNRESET ok" | "EPIPE ok" | "eof ok") ok "the IPv6 client's next send fails, the other connection echoes" ;;
*) not_ok "the IPv6 client's next send fails, the other echoes: got '$(res "$r" "$V1") $(res "$r" "$V2")'" ;;
esac

# ---- 4. a forwarded connection: only the entry is deleted, and nfpilot says so
echo_server "$CLI" "$MGMT_IP" 9100 "$TEST_TMP/cli.log"
C4=$TEST_TMP/c4
start_client "$CLI" "$SRV_IP" 8888 1 "$C4"
F1=$(cat "$C4/ports")
check_eq "the forwarded connection is tracked with dnat and snat" \
	"$(nfp ct list --json dport 8888 | python3 -c 'import json,sys; print([(c["dnat"], c["snat"]) for c in json.load(sys.stdin)["connections"]])')" \
	"[(True, True)]"
check_rc "ct kill dport 8888" 0 nfp ct kill dport 8888
check_eq "it says what it did and did not do" "$RC_OUT" \
"ended 1 connection: 1 conntrack entry deleted, 0 local sockets reset
1 without a local socket (forwarded, or its socket already closed): only the conntrack entry was deleted. The endpoints were not told; a TCP connection that sends again is tracked anew (nf_conntrack_tcp_loose=1) unless a rule drops its packets."
check_eq "the entry is gone right after" "$(nfp ct count dport 8888 | awk '{print $1}')" 0
r=$(round "$C4" 1)
check_eq "the forwarded connection itself goes on (nothing told its endpoints)" "$(res "$r" "$F1")" ok
check_eq "and the kernel tracks it anew (loose pickup)" "$(nfp ct count proto tcp sport "$F1" | awk '{print $1}')" 1

# ---- 5. --no-sockets: deleting the entry alone does not end a local TCP connection
C5=$TEST_TMP/c5
start_client "$CLI" "$SRV_IP" 9000 1 "$C5"
G1=$(cat "$C5/ports")
check_rc "ct kill --no-sockets sport $G1" 0 nfp ct kill --no-sockets proto tcp sport "$G1"
check_eq "it says the sockets were left alone" "$(printf '%s\n' "$RC_OUT" | tail -n 1)" \
	"sockets were left alone (--no-sockets): local programs were not told"
r=$(round "$C5" 1)
check_eq "the connection still echoes: the entry alone is not the connection" "$(res "$r" "$G1")" ok
check_eq "its next packet re-created the entry" "$(nfp ct count proto tcp sport "$G1" | awk '{print $1}')" 1
check_rc "ct kill sport $G1 (with sockets) ends it" 0 nfp ct kill proto tcp sport "$G1"
r=$(round "$C5" 2)
case $(res "$r" "$G1") in
ECONNRESET | EPIPE | eof) ok "now its next send fails ($(res "$r" "$G1"))" ;;
*) not_ok "now its next send fails: got '$(res "$r" "$G1")'" ;;
esac

# ---- 6. UDP: entries go, the unconnected server socket stays
start_servers
n=$(udp_send 3 53); check_eq "3 UDP flows to the echo on 53" "$n" 3
check_rc "ct kill proto udp dport 53" 0 nfp ct kill proto udp dport 53 --json
check_eq "3 entries deleted, no socket reset (the server's socket is not connected)" \
	"$(printf '%s' "$RC_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["deleted"], d["sockets_reset"])')" "3 0"
n=$(udp_send 2 53); check_eq "the UDP server still answers" "$n" 2

# ---- 7. dry run, nothing matching, --all
check_rc "ct kill --dry-run proto udp" 0 nfp ct kill --dry-run proto udp
check_eq "--dry-run lists the 2 matches (and a header)" "$(printf '%s\n' "$RC_OUT" | wc -l)" 3
check_eq "--dry-run ended nothing" "$(nfp ct count proto udp | awk '{print $1}')" 2
check_rc "a filter that matches nothing" 0 nfp ct kill src 192.0.2.99
check_eq "it says so" "$RC_OUT" "no connection matches"
check_rc "ct kill without a filter is refused" 2 nfp ct kill
check "the refusal says how to kill everything" grep -q "ct kill needs a filter (or --all to end every tracked connection)" <<<"$RC_ERR"
before=$(srv conntrack -C)
check_rc "ct kill --all" 0 nfp ct kill --all
check "--all ended every connection" grep -q "^ended $before connections" <<<"$RC_OUT"

# ---- 8. bad filters explain themselves
check_rc "a misspelt key" 2 nfp ct kill srcc 10.0.0.1
check_eq "the message names the word and lists the keys" "$(printf '%s\n' "$RC_ERR" | head -n 1)" \
	"nfpilot: ct kill: bad filter: word 1 'srcc': unknown filter word (keys: src dst rsrc rdst host sport dport rsport rdport port proto family state ctstate status mark zone id; also: not ! or and ( ))"
check_eq "it shows the filter with the word underlined" "$(printf '%s\n' "$RC_ERR" | tail -n 2)" \
"  srcc 10.0.0.1
  ^^^^"
check_rc "a prefix out of range" 2 nfp ct list src 10.0.0.0/33 dport 22
check_eq "the prefix is pointed at" "$(printf '%s\n' "$RC_ERR" | sed -n '1p;3p')" \
"nfpilot: ct list: bad filter: word 2 '10.0.0.0/33': prefix length 33 is out of range for IPv4 (0-32); 'src' needs an address (10.0.0.1, 10.0.0.0/8, 2001:db8::/32)
      ^^^^^^^^^^^"
check_rc "a missing value" 2 nfp ct count dport
check "it says what dport needs" grep -q "'dport' needs a port (22, 1024-65535, 80,443) after it" <<<"$RC_ERR"
check_rc "an unclosed (" 2 nfp ct list "(" dport 22 or dport 80
check "it says which ( is not closed" grep -q "word 1: this '(' is never closed" <<<"$RC_ERR"
check_rc "a terminal escape in a filter is not echoed raw" 2 nfp ct list "src $(printf '\033[31m')x"
check "the escape is shown as ?" grep -q "src ?\[31mx" <<<"$RC_ERR"
check_rc "an unknown option" 2 nfp ct kill --force src 1.2.3.4

finish
