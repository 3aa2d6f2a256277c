#!/bin/bash
# The live view's tracked connections screen (issue 6), by keys
# (tests/tui_lib.sh) against a real kernel: real TCP, UDP and ICMP flows
# with their tuples and totals; a new connection appears marked; the filter
# and its count, a bad filter explained; sorting; d kills one connection
# and its client sees it end; D kills every one shown; x turns a rule into
# a filter; b blocks the source on probation and kills its connections (R
# brings it back); C turns accounting on; 100k entries load and sort.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net
export NFPILOT_LIB_DIR="$TEST_TMP/lib"
printf 'save_file.%s = %s\n' "$SRV" "$TEST_TMP/boot.nft" >"$TEST_TMP/nfpilot.conf"
export NFPILOT_CONFIG="$TEST_TMP/nfpilot.conf"
TUI_SIZE=150x30
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
# client: an idle connection from the client namespace (no wait: the
# sleep only holds socat's input open)
client() {
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
	# else the text would be typed as keys of the screen (d kills)
	on_screen '^Filter:' || { not_ok "filter '$1': \ opened no prompt"; show_screen; return 1; }
	keys $(printf 'Bksp %.0s' $(seq 40))
	typein "$1"
	keys Enter
}
for i in 1 2 3; do client; done
echo q | cli socat -T 1 - "UDP:$SRV_IP:53" >/dev/null 2>&1
cli ping -c 2 -i 0.2 -q "$SRV_IP" >/dev/null
poll_until 5000 eval '[ "$(estab)" -ge 3 ]' || bail "the 3 clients did not connect"

tui_start NFPILOT_CONFIG="$NFPILOT_CONFIG" NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" -- ||
	bail "the live view did not start"
keys 2
expect "2: the connections screen with its count" 'connections [1-9][0-9]* of [0-9]+ max'
expect "the TCP connections with their tuples" "tcp +ESTABLISHED +$CLI_IP:[0-9]+ +$SRV_IP:9000"
expect "the UDP flow" "udp .*$CLI_IP:[0-9]+ +$SRV_IP:53"
expect "the ping" "icmp .*$CLI_IP +$SRV_IP"
expect "totals by protocol" 'tcp 3 udp 1 icmp 1 '
expect "totals by TCP state" ' ESTABLISHED 3 '
expect "accounting off is said" 'accounting off'

client
expect "a new connection appears, marked +" "^\+ tcp +[A-Z_]+ +$CLI_IP" 5

# ---- the filter
filter 'dport 9000 proto tcp'
expect "the filter and its count" '4 connections match'
filter 'dport abc'
expect "a bad filter explains itself" "'abc': not a port"
check "a bad filter keeps the prompt open" on_screen '^Filter: dport abc$'
keys Esc '>'
expect "> sorts by the next column" 'sorted by DESTINATION'
check "... and its title is marked" on_screen '^  PROTO .* SOURCE +DESTINATION +v '

# ---- d kills one, and its client sees it end
filter 'dport 9000'
wait_for '4 connections match' 3 >/dev/null
keys g d
expect "d asks first" 'Kill tcp'
keys y
expect "d: ended, with the socket reset" 'ended 1 connection \(1 local socket'
# the reset is sent at once; the client's socat ends when it reads it
poll_until 5000 eval '[ "$(clients)" -le 3 ]'
check_eq "d: exactly one client saw its connection end" "$(clients)" 3
check_eq "d: the server has 3 connections left" "$(estab)" 3

# ---- D kills every one shown
keys D
expect "D asks, with the count" 'Kill all [1-9][0-9]* connections'
keys y
# the 3 clients left, and the entry d's reset left closing (for 10 s, if
# the kernel made one)
expect "D: ended them, the 3 clients' sockets reset" \
	'ended [34] connections \(3 local sockets reset'
poll_until 5000 eval '[ "$(clients)" -eq 0 ]'
check_eq "D: no client connection is left" "$(clients)" 0
check_eq "D: the server has none left" "$(estab)" 0
check "a new connection still works" echo_ok

# ---- x: from a rule to its connections
client
keys 1
wait_for 'F1 help' 3 >/dev/null
keys Tab G x
expect "x opens a filter made from the rule" 'proto tcp dport 9000'
keys Enter
expect "x: the rule's connections" '[1-9][0-9]* connections? match'
expect "x: the new client's among them" "^[+ ] tcp +ESTABLISHED +$CLI_IP:[0-9]+ +$SRV_IP:9000 "
# every row shown (the killed ones too, marked - until they fade) is the rule's
check_eq "x: no row of another port" \
	"$(screen | sed -n '4,$p' | grep -E '^[-+ ] [a-z]' | grep -vcE "^[-+ ] tcp .* $SRV_IP:9000 ")" 0

# ---- b: block the source on probation, kill its connections; R undoes it
filter "src $CLI_IP dport 9000"
wait_for '[1-9][0-9]* connections? match' 3 >/dev/null
keys g
keys b
expect "b asks to block and kill" "Block $CLI_IP"
keys y
expect "b: on probation" 'PROBATION [0-9]:[0-9]{2}' 10
poll_until 5000 eval '[ "$(clients)" -eq 0 ]'
check_eq "b: the client's connection ended" "$(clients)" 0
check "b: the drop rule is in the kernel" sh -c "ip netns exec $SRV nft list ruleset | grep -q 'ip saddr $CLI_IP'"
blocked() { ! echo_ok; }
check "b: new connections from it are dropped" blocked
keys R
expect "R: the block is reverted" 'REVERTED'
check "after R: the client gets in again" echo_ok

# ---- C: accounting on
keys C
expect "C asks to turn accounting on" 'accounting on'
keys y
expect "C: turned on, and it says so" 'accounting on: connections made from now on'
expect_not "C: no longer 'accounting off'" 'accounting off'
check_eq "C: the sysctl is on" "$(srv sysctl -n net.netfilter.nf_conntrack_acct)" 1
tui_quit
sanity=$(grep -c Sanitizer "$TEST_TMP/tui.err" 2>/dev/null)
check_eq "no sanitizer report" "${sanity:-0}" 0
tui_stop

# ---- 100k entries load and sort
FILL="$(dirname "$NFPILOT")/tools/ctfill"
max=$(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo 0)
if [ ! -x "$FILL" ] || [ "$max" -lt 110000 ]; then
	skip "100k entries load and sort" "no ctfill or nf_conntrack_max $max below 110000"
else
	"$FILL" "$SRV" 100000 >/dev/null 2>&1 || not_ok "ctfill 100000"
	TUI_STEP_SECS=300 # a step waits for the load of 100k entries
	tui_start NFPILOT_CONFIG="$NFPILOT_CONFIG" NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" -- ||
		bail "the live view did not start"
	# typed on the terminal at once, not steps: a step waits for the load
	press 2
	press jj
	expect "100k: keys are answered while it loads (or it is loaded)" 'connections [0-9]+' 5
	expect "100k: all loaded" 'connections 10[0-9]{4} of' 60
	keys '>'
	expect "100k: sorted" 'sorted by DESTINATION' 10
	filter 'mark 7 proto tcp'
	# ctfill: mark 7 on every 7th entry, tcp on 8 of 10
	expect "100k: the filter counts the 11429 it must" '11429 connections match' 10
	tui_quit
	sanity=$(grep -c Sanitizer "$TEST_TMP/tui.err" 2>/dev/null)
	check_eq "100k: no sanitizer report" "${sanity:-0}" 0
fi
finish
