#!/bin/bash
# The live view's tracked connections screen (issue 6), by keys in tmux
# against a real kernel: real TCP, UDP and ICMP flows with their tuples; a
# new connection appears marked; the filter and its count, a bad filter
# explained; sorting; d kills one connection and its client sees it end; D
# kills every one shown; x turns a rule into a filter; b blocks the source
# on probation and kills its connections (R brings it back); C turns
# accounting on; 100k entries load and sort.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tmux_lib.sh"

setup_net
export NFPILOT_LIB_DIR="$TEST_TMP/lib"
printf 'save_file.%s = %s\n' "$SRV" "$TEST_TMP/boot.nft" >"$TEST_TMP/nfpilot.conf"
export NFPILOT_CONFIG="$TEST_TMP/nfpilot.conf"
TUI_W=150
srv sysctl -qw net.netfilter.nf_conntrack_acct=0 2>/dev/null

srv nft -f - <<'EOF'
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		ct state established,related accept
		tcp dport 9000 counter accept
	}
}
EOF
# an echo server; clients keep their connection open until killed
bg ip netns exec "$SRV" socat "TCP-LISTEN:9000,reuseaddr,fork" EXEC:cat
bg ip netns exec "$SRV" socat -T 30 "UDP-RECVFROM:53,reuseaddr,fork" EXEC:cat
wait_port "$SRV" tcp 9000 || bail "echo server"
client() { # client: an idle connection from the client namespace
	(sleep 300 | ip netns exec "$CLI" socat - "TCP:$SRV_IP:9000" >/dev/null 2>&1) &
	BG_PIDS="$BG_PIDS $!"
}
# clients: how many client connections still run (socat ends on a reset)
clients() { pgrep -fc "socat - TCP:$SRV_IP:9000" || true; }
# echo_ok: a fresh connection gets its line echoed
echo_ok() { [ "$(echo hi | cli socat -T 2 - "TCP:$SRV_IP:9000,connect-timeout=1" 2>/dev/null)" = hi ]; }
estab() { srv ss -Htn state established '( sport = :9000 )' | wc -l; }
# filter TEXT: \, the prompt emptied (it shows the filter in force), TEXT, Enter
filter() {
	keys '\'
	wait_for 'Filter' 3 >/dev/null
	for i in $(seq 40); do keys BSpace; done
	keys_l "$1"
	keys Enter
}
for i in 1 2 3; do client; done
echo q | cli socat -T 1 - "UDP:$SRV_IP:53" >/dev/null 2>&1
cli ping -c 2 -i 0.2 -q "$SRV_IP" >/dev/null
sleep 0.5

tui_start NFPILOT_CONFIG="$NFPILOT_CONFIG" NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" -- ||
	bail "tmux session"
wait_for 'F1 help' 10 >/dev/null || bail "the live view did not start"
keys 2
expect "2: the connections screen with its count" 'connections [0-9]+ of [0-9]+ max'
expect "the TCP connections with their tuples" "tcp +ESTABLISHED +$CLI_IP:[0-9]+ +$SRV_IP:9000"
expect "the UDP flow" "udp .*$CLI_IP:[0-9]+ +$SRV_IP:53"
expect "the ping" "icmp .*$CLI_IP +$SRV_IP"
expect "totals by protocol and TCP state" 'tcp [0-9]+ udp [0-9]+ icmp [0-9]+.*' 
expect "accounting off is said" 'accounting off'

client
expect "a new connection appears, marked +" "^\+ tcp +[A-Z_]+ +$CLI_IP" 5

# ---- the filter
filter 'dport 9000 proto tcp'
expect "the filter and its count" '4 connections match'
filter 'dport abc'
expect "a bad filter explains itself" 'abc'
check "a bad filter keeps the prompt open" sh -c "tmux -L $TMUX_SOCK capture-pane -p -t t | grep -q 'Filter'"
keys Escape
sleep 0.3
keys '>'
expect "> sorts by another column" 'sorted by'

# ---- d kills one, and its client sees it end
filter 'dport 9000'
wait_for '4 connections match' 3 >/dev/null
keys g d
expect "d asks first" 'Kill tcp'
keys y
expect "d: ended, with the socket reset" 'ended 1 connection \(1 local socket'
sleep 1
check_eq "d: exactly one client saw its connection end" "$(clients)" 3
check_eq "d: the server has 3 connections left" "$(estab)" 3

# ---- D kills every one shown
keys D
expect "D asks, with the count" 'Kill all [0-9]+ connection'
keys y
expect "D: ended them" 'ended [0-9]+ connection'
sleep 1
check_eq "D: no client connection is left" "$(clients)" 0
check_eq "D: the server has none left" "$(estab)" 0
check "a new connection still works" echo_ok

# ---- x: from a rule to its connections
client
keys 1
wait_for 'F1 help' 3 >/dev/null
keys Tab G
sleep 0.3
keys x
expect "x opens a filter made from the rule" 'proto tcp dport 9000'
keys Enter
expect "x: the rule's connections" '1 connection matches|[0-9]+ connections match'

# ---- b: block the source on probation, kill its connections; R undoes it
filter "src $CLI_IP dport 9000"
wait_for '1 connection matches' 3 >/dev/null
keys g
keys b
expect "b asks to block and kill" "Block $CLI_IP"
keys y
expect "b: on probation" 'PROBATION [0-9]:[0-9]{2}' 10
sleep 1
check_eq "b: the client's connection ended" "$(clients)" 0
check "b: the drop rule is in the kernel" sh -c "ip netns exec $SRV nft list ruleset | grep -q 'ip saddr $CLI_IP'"
blocked() { ! echo_ok; }
check "b: new connections from it are dropped" blocked
keys R
expect "R: the block is reverted" 'REVERTED'
sleep 0.5
check "after R: the client gets in again" echo_ok

# ---- C: accounting on
keys C
expect "C asks to turn accounting on" 'accounting on'
keys y
sleep 1.5
expect_not "C: no longer 'accounting off'" 'accounting off'
check_eq "C: the sysctl is on" "$(srv sysctl -n net.netfilter.nf_conntrack_acct)" 1
tui_quit
sanity=$(grep -c Sanitizer "$TEST_TMP/tui.err" 2>/dev/null)
check_eq "no sanitizer report" "${sanity:-0}" 0
tmx kill-session -t "$TUI_SESSION" 2>/dev/null

# ---- 100k entries load and sort
FILL="$(dirname "$NFPILOT")/tools/ctfill"
max=$(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo 0)
if [ ! -x "$FILL" ] || [ "$max" -lt 110000 ]; then
	ok "# skip 100k: no ctfill or nf_conntrack_max $max below 110000"
else
	"$FILL" "$SRV" 100000 >/dev/null 2>&1 || not_ok "ctfill 100000"
	tui_start NFPILOT_CONFIG="$NFPILOT_CONFIG" NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" -- ||
		bail "tmux session"
	wait_for 'F1 help' 10 >/dev/null
	keys 2
	keys Down Down
	expect "100k: keys are answered while it loads (or it is loaded)" 'connections [0-9]+' 5
	expect "100k: all loaded" 'connections 10[0-9]{4} of' 60
	keys '>'
	expect "100k: sorted" 'sorted by' 10
	filter 'mark 7 proto tcp'
	expect "100k: the filter counts" '[0-9]+ connections match' 10
	tui_quit
	sanity=$(grep -c Sanitizer "$TEST_TMP/tui.err" 2>/dev/null)
	check_eq "100k: no sanitizer report" "${sanity:-0}" 0
fi
finish
