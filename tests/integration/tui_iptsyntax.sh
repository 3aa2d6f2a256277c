#!/bin/bash
# iptables-nft tables in the live view, at 80x24 (tests/tui_lib.sh): I shows
# each rule as iptables-save prints it (and back); the prompts say they take
# iptables syntax; a rule typed as iptables -S prints it is staged and, after
# W, iptables-save equals iptables' own for the same commands (another
# namespace); e edits the -S form; nft text iptables would misread is
# refused in the editor with the iptables form to use.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

TUI_SIZE=80x24
setup_net
REF="$NS_PREFIX-ref"
ns_add "$REF" || bail "ip netns add $REF"

. "$(dirname "$0")/../tui_edit_lib.sh"

saved() { in_ns "$1" iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
for ns in "$SRV" "$REF"; do
	in_ns "$ns" sh -e -c '
	iptables -A INPUT -p tcp --dport 25 -m comment --comment smtp -j ACCEPT
	iptables -A INPUT -p udp --dport 53 -j ACCEPT
	iptables -A INPUT -s 203.0.113.0/24 -j DROP' || bail "iptables rules in $ns"
done

start
goto_chain 'ip filter' INPUT || bail "the chain INPUT of ip filter"
keys t # without the tree: more room for the rule text at 80 columns
expect "nft's text first" 'udp dport 53 counter'
expect_not "no -A line before I" '-A INPUT'
keys I
# (cut at the column's end: r shows a rule whole)
expect "I: the rules as iptables-save prints them" ' 3 -A INPUT -p udp -m udp --dport'
expect "I: every rule" ' 4 -A INPUT -s 203.0.113.0/24 -j D'
expect_not "I: no nft text left" 'udp dport 53 counter'
sel '-A INPUT -p tcp'
keys r
expect "r: the rule whole, its iptables-save line with its comment" \
	'^  -A INPUT -p tcp -m tcp --dport 25 -m comment --comment smtp -j ACCEPT'
keys Esc
keys I
expect "I again: nft's text" 'udp dport 53 counter'
expect_not "I again: no -A line" '-A INPUT -p udp'
keys I

# the prompt takes iptables syntax
sel '203.0.113.0/24'
keys A
expect "A says iptables" '^Append rule \(iptables\):'
keys Esc
N0=$(staged_n)
stage_ok "A in iptables syntax" A '-p tcp --dport 2222 -m comment --comment "ssh alt" -j ACCEPT'
expect_mark "the staged rule shows +" 'dport 2222' '+'

# nft text that iptables would read as another rule: refused in the editor
N1=$(staged_n)
prompt_type A 'tcp dport { 8081, 8082 } counter accept'
expect "refused: iptables-save's reading" "iptables reads this as another rule" 8
expect "with the iptables form to use" '-m multiport --dports 8081,8082'
keys Esc
check_eq "the refused rule is not staged" "$(staged_n)" "$N1"
check "it was more than the one before" test "$N1" -gt "$N0"

# e: the rule as iptables -S prints it, after -A INPUT
sel '-p udp'
keys e
expect "e edits the -S form" '^Edit rule \(iptables\): -p udp -m udp --dport 53 -j ACCEPT'
keys Esc

apply_y "the iptables rule"
in_ns "$REF" iptables -A INPUT -p tcp --dport 2222 -m comment --comment "ssh alt" -j ACCEPT
check_eq "iptables-save: the same as iptables' own -A" "$(saved "$SRV")" "$(saved "$REF")"
focus rules
keys G r
expect "the applied rule as iptables-save prints it" \
	'^  -A INPUT -p tcp -m tcp --dport 2222 -m comment --comment "ssh alt" -j ACCEPT' 8
keys Esc
stop
finish
