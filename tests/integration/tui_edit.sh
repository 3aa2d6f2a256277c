#!/bin/bash
# The live view's staged editing (issue 4), driven by keys (tests/tui_lib.sh) against a
# real kernel: every kind of edit shows its mark in place, nothing reaches the
# kernel before W, and after W + y the kernel has exactly the expected rules
# in the expected order; a web server's firewall built from an empty ruleset
# by keys alone and checked with real traffic; invalid rules (in the editor
# and at apply time); a concurrent change refused ("changed") until Ctrl-L;
# moves and deletes in an iptables-nft table (nft text iptables would
# misread refused); undo/redo/discard; the two
# warnings; at 80x24 a question and the editor's complaint.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net

. "$(dirname "$0")/../tui_edit_lib.sh"

###########################################################################
# 2. The classic web-server firewall from an EMPTY ruleset, by keys only
srv nft flush ruleset
start_servers
start
# structure first, then its rules, each an atomic apply (tui_scratch.sh
# stages the whole firewall and applies it in one)
stage_ok "T inet web" T 'inet web'
apply_y "T applied"
expect "the new table is shown in the tree" '^inet web'
focus tree
keys PgUp
stage_ok "c input with a base-chain spec" c \
	'input type filter hook input priority 0; policy accept;'
apply_y "the base chain applied"
check_eq "kernel: chain input hooks input with policy accept" \
	"$(srv nft list chain inet web input | grep -c 'type filter hook input priority filter; policy accept;')" 1
goto_chain 'inet web' input || not_ok "the applied chain is in the tree"
for r in 'ct state established,related accept' 'ct state invalid drop' 'iif "lo" accept' \
	'tcp dport 22 ip saddr 10.200.1.0/24 accept' 'tcp dport { 80, 443 } accept' \
	'icmp type echo-request accept'; do
	stage_ok "A $r" A "$r"
done
expect_mark "appended rule shows +" 'icmp type echo-request' '+'
keys P
if screen | grep -q 'cut existing sessions'; then
	not_ok "P with an established rule staged must not warn"
	show_screen
	keys y
else
	ok "P with an established rule staged: no warning"
fi
check_eq "no rule in the kernel before W" "$(srv nft list ruleset | grep -v policy | grep -c accept)" 0
apply_y "web firewall"
LIST=$(srv nft list chain inet web input 2>&1)
check "kernel: policy drop" grep -q 'policy drop' <<<"$LIST"
check_eq "kernel: the six rules in order, with counters" "$(krules inet web input | grep -v '^policy')" \
	"$(lines 'ct state established,related counter accept' 'ct state invalid counter drop' \
		'iif "lo" counter accept' 'tcp dport 22 ip saddr 10.200.1.0/24 counter accept' \
		'tcp dport { 80, 443 } counter accept' 'icmp type echo-request counter accept')"
check_eq "web answers" "$(tcp_conns 3 80)" 3
check_eq "https answers" "$(tcp_conns 1 443)" 1
check_eq "ssh answers from the management address" "$(tcp_conns 2 22 10.200.1.2)" 2
check_eq "ssh does not answer from elsewhere" "$(tcp_conns 1 22 10.200.0.2)" 0
check_eq "8080 is closed" "$(tcp_conns 1 8080)" 0
check_ge "ping answers" "$(ping_n 2)" 2
stop

###########################################################################
# 1. Each kind of edit
FIX='table inet web {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 1001 accept comment "r1"
		tcp dport 1002 accept comment "r2"
		tcp dport 1003 accept comment "r3"
		tcp dport 1004 accept comment "r4"
		tcp dport 1005 accept comment "r5"
		tcp dport 1006 accept comment "r6"
	}
	chain other {
		tcp dport 7 accept comment "o1"
		tcp dport 8 accept comment "o2"
	}
	chain gone {
	}
}'
srv nft flush ruleset
srv nft -f - <<<"$FIX" || bail "fixture"
start
goto_chain 'inet web' input
K0=$(kstate)

# round A: i a A e d
sel '"r2"' && stage_ok "i above r2" i 'tcp dport 2001 accept'
expect_mark "inserted rule shows +" 'dport 2001' '+'
check "i: the new row is right above r2" test "$(row_index 'dport 2001')" -lt "$(row_index '"r2"')"
sel '"r3"' && stage_ok "a below r3" a 'tcp dport 2002 accept'
check "a: the new row is right below r3" test "$(row_index 'dport 2002')" -eq "$(($(row_index '"r3"') + 1))"
stage_ok "A append" A 'tcp dport 2003 accept'
expect_mark "appended rule shows +" 'dport 2003' '+'
if sel '"r4"'; then
	keys e
	expect "e: the editor is pre-filled with the rule" 'Edit rule: tcp dport 1004 accept comment "r4"'
	keys Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp \
		Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp \
		Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp Bksp
	before=$(staged_n)
	typein 'tcp dport 1044 accept comment "r4x"'
	keys Enter
	wait_until 8 staged_more "$before" && ok "e staged" || { not_ok "e not staged"; show_screen; keys Esc; }
	expect_mark "edited rule shows *" 'r4x' '*'
fi
sel 'dport 1005' && keys d
expect_mark "deleted rule shows -" 'dport 1005' '-'
expect "the deleted row keeps its whole rule text" 'tcp dport 1005 accept comment "r5"' 1
check_eq "round A: kernel unchanged before W" "$(kstate)" "$K0"
apply_y "round A (i a A e d)"
check_eq "round A: kernel rules in order" "$(krules inet web input)" \
	"$(lines 'tcp dport 1001 accept comment "r1"' 'tcp dport 2001 counter accept' \
		'tcp dport 1002 accept comment "r2"' 'tcp dport 1003 accept comment "r3"' \
		'tcp dport 2002 counter accept' 'tcp dport 1044 counter accept comment "r4x"' \
		'tcp dport 1006 accept comment "r6"' 'tcp dport 2003 counter accept')"

# round B: marked delete (m on r1, m on r6, d)
K0=$(kstate)
sel '"r1"' && keys m
sel '"r6"' && keys m
keys d
expect_mark "marked delete: r1 shows -" 'dport 1001' '-'
expect_mark "marked delete: r6 shows -" 'dport 1006' '-'
check_eq "round B: kernel unchanged before W" "$(kstate)" "$K0"
apply_y "round B (m m d)"
check_eq "round B: kernel rules in order" "$(krules inet web input)" \
	"$(lines 'tcp dport 2001 counter accept' \
		'tcp dport 1002 accept comment "r2"' 'tcp dport 1003 accept comment "r3"' \
		'tcp dport 2002 counter accept' 'tcp dport 1044 counter accept comment "r4x"' \
		'tcp dport 2003 counter accept')"

# round C: K K, J, M
K0=$(kstate)
if sel '"r3"'; then
	keys K
	keys K
	expect_mark "K: moved rule shows ~" '"r3"' '~'
	check "K K: r3 is now above 2001 on screen" test "$(row_index '"r3"')" -lt "$(row_index 'dport 2001')"
fi
sel 'dport 2001' && keys J
check "J: 2001 is now below r2 on screen" test "$(row_index 'dport 2001')" -gt "$(row_index '"r2"')"
sel 'dport 2003' && stage_ok "M to position 1" M 1
expect_mark "M: moved rule shows ~" 'dport 2003' '~'
check_eq "M 1: the moved rule is the first row on screen" "$(row_index 'dport 2003')" 1
check_eq "round C: kernel unchanged before W" "$(kstate)" "$K0"
apply_y "round C (K K, J, M)"
check_eq "round C: kernel rules in order" "$(krules inet web input)" \
	"$(lines 'tcp dport 2003 counter accept' 'tcp dport 1003 accept comment "r3"' \
		'tcp dport 1002 accept comment "r2"' 'tcp dport 2001 counter accept' \
		'tcp dport 2002 counter accept' 'tcp dport 1044 counter accept comment "r4x"')"

# round D: P (answering the warning y), c, c base chain, F, D, T
K0=$(kstate)
keys P
confirm 'cut existing sessions' y && ok "P: warning without an established rule, y stages it" ||
	not_ok "P: no warning"
check_eq "P staged" "$(staged_n)" 1
focus tree
stage_ok "c plain chain" c 'fwdchain'
goto_chain 'inet web' other
keys F
confirm 'Flush chain other' y || not_ok "F on other asked nothing"
expect_mark "F: flushed rules show -" 'dport 7 ' '-'
goto_chain 'inet web' gone
keys D
confirm 'Delete chain gone' y || not_ok "D on gone asked nothing"
stage_ok "T ip t2" T 'ip t2'
keys v
expect "pending view lists the policy" 'policy drop'
expect "pending view lists the flush" 'flush chain inet web other'
expect "pending view lists the chain deletion" 'delete chain inet web gone'
expect "pending view lists the table" 'add table ip t2'
keys q
check_eq "round D: kernel unchanged before W" "$(kstate)" "$K0"
apply_y "round D (P c c F D T)"
check "kernel: input policy drop" grep -q 'policy drop' <<<"$(srv nft list chain inet web input)"
check "kernel: chain fwdchain exists" srv nft list chain inet web fwdchain
check_eq "kernel: other is empty" "$(krules inet web other)" ""
check "kernel: chain gone is gone" bash -c "! ip netns exec $SRV nft list chain inet web gone 2>/dev/null"
check "kernel: table ip t2 exists" srv nft list table ip t2

# round D2: c with a base-chain spec, alone (W left the selection on ip t2,
# the table round D made)
K0=$(kstate)
goto_chain 'inet web' input
focus tree
stage_ok "c base chain" c 'out type filter hook output priority 0; policy accept;'
keys v
expect "pending view lists the base chain" 'chain inet web out.*hook output'
keys q
check_eq "round D2: kernel unchanged before W" "$(kstate)" "$K0"
apply_y "round D2 (c base chain)" || { keys X; confirm Discard y; }
check "kernel: chain out hooks output" grep -q 'hook output priority filter; policy accept' \
	<<<"$(srv nft list chain inet web out 2>&1)"

# round E: b, o (in table web)
K0=$(kstate)
goto_chain 'inet web' input
stage_ok "b block 192.0.2.7" b '192.0.2.7'
stage_ok "o allow tcp 8080" o 'tcp 8080'
expect_mark "block rule shows +" 'saddr 192.0.2.7' '+'
expect_mark "allow rule shows +" 'dport 8080' '+'
check_eq "round E: kernel unchanged before W" "$(kstate)" "$K0"
apply_y "round E (b o)"
KR=$(krules inet web input)
check_eq "b: the drop is the first rule" "$(sed -n 1p <<<"$KR")" 'ip saddr 192.0.2.7 counter drop'
check_eq "o: the accept is the last rule" "$(tail -n 1 <<<"$KR")" 'tcp dport 8080 counter accept'
check_eq "round E: eight rules" "$(wc -l <<<"$KR")" 8

###########################################################################
# 6. undo / redo / discard
K0=$(kstate)
stage_ok "undo test: first append" A 'tcp dport 3101 accept'
stage_ok "undo test: second append" A 'tcp dport 3102 accept'
keys u
expect "u says undone" 'undone'
keys v
expect "pending view after u: one edit" 'Pending changes: 1 edit'
expect_not "pending view after u: 3102 not there" 'dport 3102'
keys q
keys U
expect "U says redone" 'redone'
keys v
expect "pending view after U: two edits, 3102 back" 'dport 3102'
keys q
keys u
expect "u again" 'undone'
keys Ctrl-R
expect "Ctrl-R redoes" 'redone'
check_eq "undo/redo: two staged" "$(staged_n)" 2
keys X
confirm 'Discard' y || not_ok "X asked nothing"
expect "X: discarded" 'discarded'
check_eq "X: nothing staged" "$(staged_n)" 0
keys v
expect "pending view after X: nothing staged" 'Pending changes: 0 edits'
expect_not "pending view after X: no 3101" 'dport 3101'
keys q
check_eq "undo/redo/discard: kernel unchanged" "$(kstate)" "$K0"

###########################################################################
# 7. the two warnings, answered n
K0=$(kstate)
srv nft add chain inet web acc '{ type filter hook forward priority 0; policy accept; }'
srv nft add rule inet web acc tcp dport 5 accept
srv nft add chain inet web in2 '{ type filter hook input priority 10; policy accept; }'
srv nft add rule inet web in2 tcp dport 6 accept
K0=$(kstate)
keys Ctrl-L
goto_chain 'inet web' acc
keys F
if wait_for 'leaves the host open.*\[y/N\]' 5 >/dev/null; then ok "F on an accept chain warns"; else not_ok "F: no warning"; fi
keys n
check_eq "F answered n: nothing staged" "$(staged_n)" 0
goto_chain 'inet web' in2
keys P
if wait_for 'cut existing sessions' 5 >/dev/null; then ok "P drop without established warns"; else not_ok "P: no warning"; fi
expect "the policy warning's [y/N] is visible (120 columns)" '\[y/N\]' 1
keys n
check_eq "P answered n: nothing staged" "$(staged_n)" 0
check_eq "warnings: kernel unchanged" "$(kstate)" "$K0"

###########################################################################
# 3. invalid rules: in the editor, and at apply time
goto_chain 'inet web' in2
keys A
typein 'tcp dportt 1 accept'
keys Enter
expect "an invalid rule: nft's syntax error above the editor" 'syntax error'
expect "the editor stays open" '^Append rule: tcp dportt 1 accept'
keys Esc
keys A
typein 'ip saddr @nope drop'
keys Enter
expect "a rule using a missing set: nft's error" '^Error: .*(No such file|does not exist|nope)'
expect "the editor stays open" '^Append rule: ip saddr @nope drop'
keys Esc
check_eq "refused rules: nothing staged" "$(staged_n)" 0

# a batch whose last edit fails in the kernel: its rule is deleted by
# someone else; after Ctrl-L (reload keeps the edits) W fails on that edit
srv nft add rule inet web in2 tcp dport 61 accept
srv nft add rule inet web in2 tcp dport 62 accept
keys Ctrl-L
stage_ok "batch: append 1" A 'tcp dport 3201 accept'
stage_ok "batch: append 2" A 'tcp dport 3202 accept'
sel 'dport 62 ' && keys d
expect_mark "batch: delete shows -" 'dport 62 ' '-'
H62=$(srv nft -a list chain inet web in2 | sed -n 's/.*dport 62 accept # handle \([0-9]*\)/\1/p')
srv nft delete rule inet web in2 handle "$H62"
K0=$(kstate)
keys Ctrl-L
check_eq "Ctrl-L keeps the three edits" "$(staged_n)" 3
keys W
confirm 'one transaction' y
if wait_for 'not applied' 10 >/dev/null; then ok "W of the batch is refused"; else not_ok "W of the batch: no refusal"; fi
expect "the status line names edit 3" 'edit 3'
check_eq "batch refused: kernel unchanged" "$(kstate)" "$K0"
keys X
confirm 'Discard' y

###########################################################################
# 4. a concurrent change between staging and W
goto_chain 'inet web' in2
stage_ok "concurrent: append 3301" A 'tcp dport 3301 accept'
srv nft add rule inet web in2 tcp dport 3999 accept
K0=$(kstate)
keys W
confirm 'one transaction' y
expect "W after a concurrent change: refused, 'changed'" 'not applied: the ruleset changed since'
check_eq "concurrent: nothing applied" "$(kstate)" "$K0"
keys Ctrl-L
check_eq "concurrent: Ctrl-L keeps the edit" "$(staged_n)" 1
apply_y "concurrent: W after Ctrl-L"
check_eq "concurrent: both rules in the kernel" \
	"$(krules inet web in2 | grep -c 'dport 3301\|dport 3999')" 2
stop

###########################################################################
# 5. moves and deletes in an iptables-nft table
srv nft flush ruleset
srv sh -e -c '
iptables -A INPUT -p tcp --dport 25 -m comment --comment smtp -j ACCEPT
iptables -A INPUT -p icmp --icmp-type echo-request -m comment --comment ping -j ACCEPT
iptables -A INPUT -p udp --dport 53 -j ACCEPT
iptables -A INPUT -s 203.0.113.0/24 -j DROP' || bail "iptables rules"
ping_n 2 >/dev/null
PING_PKTS=$(srv iptables -L INPUT -v -x -n | awk '/icmptype 8/ {print $1}')
start
expect "the tree marks the iptables table" '\[ipt\]'
goto_chain 'ip filter' INPUT
K0=$(kstate)
sel 'icmp' && keys K
expect_mark "ipt: K shows ~" 'icmp' '~'
sel 'udp dport 53' && keys d
expect_mark "ipt: d shows -" 'udp dport 53' '-'
sel 'dport 25' && keys J
sel 'dport 25' && keys J
check "ipt: smtp is now last on screen" test "$(row_index 'dport 25')" -gt "$(row_index '203.0.113.0')"
N0=$(staged_n)
# nft syntax that iptables would read as another rule (tui_iptsyntax.sh
# stages iptables syntax)
sel '203.0.113.0' && prompt_type i 'tcp dport { 26, 27 } accept'
expect "ipt: the editor refuses nft text iptables misreads" "iptables-save prints it as" 8
keys Esc
check_eq "ipt: the refused rule stages nothing" "$(staged_n)" "$N0"
check_eq "ipt: kernel unchanged before W" "$(kstate)" "$K0"
apply_y "ipt moves and delete"
check_eq "iptables -S shows the new order, comments kept" \
	"$(srv iptables -S INPUT | grep -- '^-A')" \
	"$(lines '-A INPUT -p icmp -m icmp --icmp-type 8 -m comment --comment ping -j ACCEPT' \
		'-A INPUT -s 203.0.113.0/24 -j DROP' \
		'-A INPUT -p tcp -m tcp --dport 25 -m comment --comment smtp -j ACCEPT')"
check "iptables -L -v still works" srv iptables -L INPUT -v -n
check_eq "the moved rule kept its counter" \
	"$(srv iptables -L INPUT -v -x -n | awk '/icmptype 8/ {print $1}')" "$PING_PKTS"
stop

###########################################################################
# 8. at 80x24: a question keeps its [y/N], the editor shows nft's complaint
srv nft flush ruleset
srv nft -f - <<'EOF' || bail "fixture at 80x24"
table inet web {
	chain in2 {
		type filter hook input priority 10; policy accept;
		tcp dport 6 accept
	}
}
EOF
tui_start --size 80x24 || bail "the live view did not start at 80x24"
FOCUS=tree
goto_chain 'inet web' in2
keys P
check_eq "80x24: the policy warning wraps, whole, ending with its [y/N]" "$(screen | tail -n 2)" \
	"$(lines 'No established/related accept in in2: drop will cut existing sessions such as' \
		'your own SSH. Stage? [y/N]')"
keys n
check_eq "80x24: answered n, nothing staged" "$(staged_n)" 0
act append
typein 'tcp dportt 1 accept'
keys Enter
check_eq "80x24: nft's complaint over the editor" "$(screen | tail -n 2)" \
	"$(lines 'Error: syntax error, unexpected string' 'Append rule: tcp dportt 1 accept')"
stop
finish
