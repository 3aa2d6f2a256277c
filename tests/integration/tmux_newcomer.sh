#!/bin/bash
# The newcomer's whole session (issue 15, "done when"), at 80x24 in tmux, by
# keys, from an EMPTY ruleset: the web server's firewall — a table, its
# input chain with policy drop, established first, invalid dropped, an
# address dropped, SSH, HTTP and HTTPS allowed, ping — staged and applied
# in ONE probation; real traffic between the test namespaces shows it work
# (the counters rise, 8080 is dropped); delete rule 3; LOG before the DROP
# policy; SSH rate-limited (the rule edited); NAT: masquerade and a port
# forward (8443 to 443), a connection through it; a connection killed on
# the connections screen (its client sees it end); save (S); restore the
# first change from the history (H, r). Every screen read back is checked:
# no line is cut without the marker (tests/tools/uncut.py).
. "$(dirname "$0")/../lib.sh"
TUI_W=80 TUI_H=24
. "$(dirname "$0")/../tmux_lib.sh"

command -v tmux >/dev/null || { skip "newcomer session: tmux is not installed"; finish; }
setup_net
srv nft flush ruleset
# servers: 80, 443 and 8080 answer a line; 22 echoes for as long as the
# client stays (the connection killed later)
for p in 80 443 8080; do
	bg ip netns exec "$SRV" socat -T 5 "TCP-LISTEN:$p,reuseaddr,fork" \
		"SYSTEM:read l; echo port$p \$l" 2>/dev/null
done
bg ip netns exec "$SRV" socat "TCP-LISTEN:22,reuseaddr,fork" EXEC:cat 2>/dev/null
for p in 22 80 443 8080; do wait_port "$SRV" tcp "$p" || bail "server on tcp $p"; done

BOOT="$TEST_TMP/boot.nft"
printf 'save_file.%s = %s\n' "$SRV" "$BOOT" >"$TEST_TMP/nfpilot.conf"
UNCUT="$(dirname "$0")/../tools/uncut.py"
RULES=('ct state established,related accept' 'ct state invalid drop'
       'ip saddr 203.0.113.7 drop' 'tcp dport 22 accept' 'tcp dport 80 accept'
       'tcp dport 443 accept' 'icmp type echo-request accept')
# uncut DESC: the screen now has no line cut without the marker (the rule
# texts and names of this session are known whole)
SCREENS=0
uncut() {
	local out
	screen >"$TEST_TMP/screen.txt"
	SCREENS=$((SCREENS + 1))
	if out=$(python3 "$UNCUT" "$TEST_TMP/screen.txt" "${RULES[@]}" \
		'tcp dport 22 ct state new limit rate 10/minute accept' \
		'log prefix "fw-drop: " counter' 'oifname "v0" masquerade' \
		"tcp dport 8443 dnat ip to $SRV_IP:443"); then
		return 0
	fi
	not_ok "$1: a line cut without the marker: $(tr '\n' ';' <<<"$out")"
	show_screen
}
# see DESC ERE [SECS]: expect, then the cut check on that screen
see() { expect "$1" "$2" "${3:-5}"; uncut "$1"; }
# prompt KEY LABEL TEXT: a prompt opened by KEY, TEXT typed, Enter
prompt() {
	keys "$1"
	wait_for "^$2" 3 >/dev/null || { not_ok "key $1 opened no prompt /$2/"; return 1; }
	uncut "prompt $2"
	[ -n "$3" ] && keys_l "$3"
	uncut "prompt $2 with its text"
	keys Enter
}
# staged N DESC: the header counts N staged edits
staged() { see "$2" "\[$1 staged\]"; }
# apply DESC: W, y; on probation; Y keeps it
apply() {
	keys W
	see "$1: W asks" 'one transaction\?' || return 1
	keys y
	see "$1: applied on probation, the banner counts down" 'PROBATION [0-9]+:[0-9]{2}' 20
	keys Y
	see "$1: Y confirms" 'confirmed \(history [0-9]+\)' 10
}
krules() {
	srv nft list chain "$@" 2>&1 | sed -n 's/^\t\t//p' | grep -v '^type ' |
		sed 's/counter packets [0-9]* bytes [0-9]*/counter/'
}

tui_start NFPILOT_CONFIG="$TEST_TMP/nfpilot.conf" || bail "tmux did not start"
see "80x24: the live view of an empty ruleset" 'F1 help' 10
check_eq "nothing in the kernel" "$(srv nft list ruleset)" ""

# ---- the web server's firewall: one transaction, one probation
prompt T 'New table' 'inet filter'
staged 1 "T: a table staged"
prompt c 'New chain' 'input type filter hook input priority 0; policy drop;'
staged 2 "c: its input chain with policy drop, staged in the staged table"
n=2
for r in "${RULES[@]}"; do
	prompt A 'Append rule' "$r"
	n=$((n + 1))
	staged "$n" "A $r"
done
see "the staged rules in the rules pane, marked +" '│ \+ +icmp type echo-reques'
expect_not "... the # column says nothing cut (a 'new' cut to 'n…')" '│ \+n…'
check_eq "still nothing in the kernel" "$(srv nft list ruleset)" ""
apply "the firewall from nothing"
check_eq "one probation: one history entry" "$(nfp history 2>/dev/null | grep -cE '^ *[0-9]+ ')" 1
check_eq "kernel: the seven rules in order, each with a counter" "$(krules inet filter input)" \
	"$(printf '%s\n' "${RULES[@]}" | sed 's/ \(accept\|drop\)$/ counter \1/')"
check "kernel: policy drop" grep -q 'policy drop;' <<<"$(srv nft list chain inet filter input)"
# to_chain TABLE CHAIN: the chain's rules shown (Tab between the panes,
# Down in the tree), as a newcomer finds it
to_chain() {
	local i
	for i in 1 2 3 4; do
		wait_until 1 matches "$1 > $2 " && return 0
		keys Tab
		wait_until 1 matches "$1 > $2 " && return 0
		keys Down
	done
	return 1
}
to_chain 'inet filter' input
see "the chain's rules after the apply" 'inet filter > input  \(input, drop\)  7 rules'

# ---- real traffic: it works, the counters rise
check_eq "http answers" "$(tcp_conns 3 80)" 3
check_eq "https answers" "$(tcp_conns 1 443)" 1
check_eq "8080 is dropped by the policy" "$(tcp_blocked 1 8080)" 0
see "the counters of tcp dport 80 rise on screen" \
	'│ *5 +[1-9][0-9]* +[0-9.]+[KM]? .*tcp dport 80' 10

# ---- delete rule 3 (go to it with :3)
prompt : 'Go to rule' 3
keys d
see "d on rule 3 stages its delete, marked -" '│ -3 .*ip saddr 203\.0\.113\.7'
apply "delete rule 3"
check "kernel: the address rule is gone" eval '! krules inet filter input | grep -q 203.0.113.7'

# ---- LOG before the DROP policy: a log rule at the end of the chain
prompt A 'Append rule' 'log prefix "fw-drop: " counter'
# ---- SSH rate-limited: the ssh rule edited
prompt : 'Go to rule' 3
see "rule 3 is now the ssh rule" '│  3 .*tcp dport 22 counter'
keys e
wait_for '^Edit rule' 3 >/dev/null
keys C-u
keys_l 'tcp dport 22 ct state new limit rate 10/minute accept'
uncut "the edit prompt"
keys Enter
staged 2 "log and rate limit staged"
apply "log before drop, ssh rate limit"
check_eq "kernel: the ssh rule is limited, the log rule last" "$(krules inet filter input)" \
	"$(printf '%s\n' 'ct state established,related counter accept' 'ct state invalid counter drop' \
		'tcp dport 22 ct state new limit rate 10/minute counter accept' \
		'tcp dport 80 counter accept' 'tcp dport 443 counter accept' \
		'icmp type echo-request counter accept' 'log prefix "fw-drop: " counter')"
tcp_blocked 1 8080 >/dev/null
LOGGED=$(srv nft list chain inet filter input | sed -n 's/.*fw-drop: " counter packets \([0-9]*\).*/\1/p')
check_ge "the dropped SYN to 8080 went through the log rule first" "$LOGGED" 1

# ---- NAT: masquerade and a port forward, in a new table
prompt T 'New table' 'ip nat'
prompt c 'New chain' 'post type nat hook postrouting priority 100;'
prompt A 'Append rule' 'oifname "v0" masquerade'
prompt c 'New chain' 'pre type nat hook prerouting priority -100;'
prompt A 'Append rule' "tcp dport 8443 dnat ip to $SRV_IP:443"
staged 5 "the NAT table, its chains and rules staged"
apply "NAT"
check "kernel: masquerade" grep -q 'oifname "v0" .*masquerade' <<<"$(srv nft list table ip nat)"
check_eq "the port forward 8443 reaches 443" "$(tcp_conns 1 8443)" 1

# ---- kill a connection on the connections screen
(sleep 300 | ip netns exec "$CLI" socat - "TCP:$SRV_IP:22" >/dev/null 2>&1) &
KILLED=$!
BG_PIDS="$BG_PIDS $KILLED"
poll_until 5000 eval '[ "$(srv ss -Htn state established "( sport = :22 )" | wc -l)" -ge 1 ]' ||
	bail "the ssh-like client did not connect"
keys 2
see "2: the connections screen" '^ [0-9]+ shown +1 rules'
# the earlier connections (TIME_WAIT, some hundred) may fill the page at
# 80x24: the filter brings the ssh one up, as an admin would
keys '\'
wait_for '^Filter' 3 >/dev/null
keys_l 'dport 22'
keys Enter
see "a filter keeps it" '1 connection matches'
see "... the ssh connection, established" "tcp +ESTABLISHED +$CLI_IP:[0-9]+ +$SRV_IP:22 "
keys d
see "d asks" "Kill tcp $CLI_IP:[0-9]+ -> $SRV_IP:22\\?"
keys y
check "it ends: the client has no connection to 22 any more" wait_until 5 \
	eval '[ "$(cli ss -Htn state established "( dport = :22 )" | wc -l)" = 0 ]'
keys 1

# ---- save, then restore the first change
keys S
see "S asks about the namespace's file" "$BOOT"
keys y
see "saved" "saved to $BOOT" 10
check "the boot file holds the ruleset" grep -q 'limit rate 10/minute' "$BOOT"
check_rc "nfpilot save --check agrees" 0 nfp save --check "$BOOT"
keys H
see "H: the history, four changes, newest last" '^ +4  [0-9-]+ [0-9:]+  confirmed .*ip nat \(new\)' 5
keys Home
see "Home: the first change selected, its commands below" '^ change 1: nfpilot live view'
keys r
see "r asks to restore it (the question wraps, its [y/N] on screen)" 'on probation\? \[y/N\]'
keys y
see "the restore is on probation" 'PROBATION [0-9]+:[0-9]{2}' 20
keys Y
see "and confirmed" 'confirmed \(history [0-9]+\)' 10
check_eq "kernel: the seven rules of the first change again" "$(krules inet filter input)" \
	"$(printf '%s\n' "${RULES[@]}" | sed 's/ \(accept\|drop\)$/ counter \1/')"
see "the header says it is not saved any more" '\[not saved' 10
check "$SCREENS screens checked for lines cut without the marker" test "$SCREENS" -ge 40
tui_quit
finish
