#!/bin/bash
# A whole firewall from NOTHING in one transaction (issue 15, item 3): from an
# empty ruleset, by keys in the live view, a table, its input chain with
# policy drop, a blocklist set and the seed's seven web-server rules and a
# drop of the set's addresses are all staged — a staged table takes a staged
# chain and a staged set, a staged chain takes staged rules, an insert
# anchors on a staged rule — and go in with ONE W, on ONE probation. A chain
# or set spec nft refuses is refused when staged, in the prompt, not at W.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net

. "$(dirname "$0")/../tui_edit_lib.sh"

srv nft flush ruleset
start_servers
start

stage_ok "T inet filter (empty ruleset)" T 'inet filter'
expect "the staged table is in the tree at once, marked +" '^\+inet filter'
check_eq "nothing in the kernel yet" "$(srv nft list ruleset)" ""

# a spec nft refuses stays in the prompt with nft's message; nothing staged
keys c
wait_for '^New chain' 3 >/dev/null
typein 'input type filter hook input priority 0; policy dorp;'
keys Enter
expect "a bad chain spec is refused when staged" '[Ee]rror'
check_eq "the bad chain is not staged" "$(staged_n)" 1
keys Esc
wait_gone '^New chain' 3 >/dev/null

# a set in the staged table: a bad type is refused in the prompt
keys O
wait_for '^New set' 3 >/dev/null
typein 'blocklist type ipv4_adr;'
keys Enter
expect "a bad set spec is refused when staged, with nft's word" 'unknown datatype ipv4_adr'
check_eq "the bad set is not staged" "$(staged_n)" 1
keys Esc
wait_gone '^New set' 3 >/dev/null
stage_ok "O blocklist in the staged table" O \
	"blocklist type ipv4_addr; flags interval; elements = { $MGMT_IP/32 }"
expect "the status line says the nft command" 'add set inet filter blocklist'

stage_ok "c input in the staged table" c 'input type filter hook input priority 0; policy drop;'
expect "the staged chain is in the tree with its hook and policy" '^ \+input +in drop'
expect "and selected: its rules pane" 'inet filter > input  \(filter hook input priority 0, policy drop\)'

# established, lo; then invalid inserted after the staged established rule
for r in 'ct state established,related accept' 'iif "lo" accept'; do
	stage_ok "A $r" A "$r"
done
FOCUS=rules # a staged rule takes the focus to the rules pane
sel 'established,related'
stage_ok "a: after a staged rule" a 'ct state invalid drop'
sel 'ct state invalid drop'
stage_ok "a: a lookup in the staged set" a 'ip saddr @blocklist drop'
for r in 'tcp dport 22 accept' 'tcp dport 80 accept' 'tcp dport 443 accept' \
	'icmp type echo-request accept'; do
	stage_ok "A $r" A "$r"
done
check_eq "eleven edits staged: the table, the set, the chain, eight rules" "$(staged_n)" 11
check_eq "the staged rows in order" \
	"$(rules_rows | grep -o 'ct state established,related accept\|ct state invalid drop\|ip saddr @blocklist drop\|iif "lo" accept\|tcp dport [0-9]* accept\|icmp type echo-request accept')" \
	"$(lines 'ct state established,related accept' 'ct state invalid drop' \
		'ip saddr @blocklist drop' 'iif "lo" accept' \
		'tcp dport 22 accept' 'tcp dport 80 accept' 'tcp dport 443 accept' \
		'icmp type echo-request accept')"
check_eq "still nothing in the kernel" "$(srv nft list ruleset)" ""

keys v
expect "the pending view names the anchor as a staged rule" 'after the rule of edit 4'
keys Esc

apply_y "the whole firewall in one W"
check_eq "one probation: one history entry" "$(nfp history 2>/dev/null | grep -cE '^ *[0-9]+ ')" 1
RS=$(srv nft list ruleset)
check "kernel: table inet filter" grep -q '^table inet filter {' <<<"$RS"
check "kernel: input hooks input with policy drop" \
	grep -q 'type filter hook input priority filter; policy drop;' <<<"$RS"
check "kernel: the set with its element" grep -q "elements = { $MGMT_IP }" <<<"$RS"
check_eq "kernel: the eight rules in order, with counters" "$(krules inet filter input)" \
	"$(lines 'ct state established,related counter accept' 'ct state invalid counter drop' \
		'ip saddr @blocklist counter drop' \
		'iif "lo" counter accept' 'tcp dport 22 counter accept' 'tcp dport 80 counter accept' \
		'tcp dport 443 counter accept' 'icmp type echo-request counter accept')"
check_eq "http answers" "$(tcp_conns 2 80)" 2
check_eq "https answers" "$(tcp_conns 1 443)" 1
check_eq "8080 is dropped by the policy" "$(tcp_conns 1 8080)" 0
check_eq "http is dropped from the address in the set" "$(tcp_conns 1 80 "$MGMT_IP")" 0
expect "the tree shows the chain as the kernel has it (no + mark)" '^  input +in +drop +8'
expect "the header counts in the singular: 1 table 1 chain" ' 1 table 1 chain 8 rules'
expect "after W and Y the chain the edits made is still the one shown" \
	'^inet filter .*│ inet filter > input '
stop
finish
