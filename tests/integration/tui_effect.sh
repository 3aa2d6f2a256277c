#!/bin/bash
# The effect check of the rules o and b write (check/effect.h), in the live
# view: the packet each is for is asked of the sandbox, for the place the
# rule goes and, once staged, for what decides it. The issue's cases: an
# allow appended after `counter drop` (or a counting rule) was dead; an
# allow in inet web while iptables' ip filter INPUT drops the port did
# nothing, said nothing. Now the allow goes before the first rule that
# would drop or count the port's packets, works with real traffic, and
# counts them; the other chain's drop is said, with the rule or policy,
# and L puts the accept there, where it works with real traffic.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

# apply_w "N edits": W, y, applied on probation
apply_w() {
	keys W
	wait_for 'one transaction' 20 >/dev/null
	keys y
	expect "W: applied" "applied $1 on probation" 15
}

# allow_in_web PORT: the live view started, o tcp PORT in inet web input
# (the first base chain in the tree may be ip filter's)
allow_in_web() {
	tui_start NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" || bail "the live view did not start"
	keys Tab
	for i in $(seq 8); do
		screen | grep -q 'inet web input' && screen | grep -Eq '^.{0,3}>? *input' && break
		keys Down
	done
	act allow-port
	typein "tcp $1"
	keys Enter
}

setup_net
bg ip netns exec "$SRV" socat -T 5 TCP-LISTEN:8443,reuseaddr,fork 'SYSTEM:read l; echo port8443 $l' 2>/dev/null
bg ip netns exec "$SRV" socat -T 5 TCP-LISTEN:9443,reuseaddr,fork 'SYSTEM:read l; echo port9443 $l' 2>/dev/null
wait_port "$SRV" tcp 8443 || bail "socat on 8443"
wait_port "$SRV" tcp 9443 || bail "socat on 9443"
srv nft -f - <<'EOF'
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 accept
		ct state established,related accept
		counter comment "dropped by policy"
		counter drop
	}
}
EOF
check_eq "before: 8443 is dropped" "$(tcp_conns 1 8443)" 0
tui_start NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" || bail "the live view did not start"
keys Tab
act allow-port
typein "tcp 8443"
keys Enter
expect "o: staged" 'staged'
rows=$(screen | grep -n '│' | grep -e 'tcp dport 8443 accept' -e 'dropped by policy' | cut -d: -f1 | tr '\n' ' ')
set -- $rows
if [ $# -eq 2 ] && [ "$(screen | sed -n "${1}p" | grep -c 8443)" = 1 ]; then
	ok "o: the accept goes before the counting rule and the drop, not at the end"
else
	not_ok "o: not before the counting rule: rows $rows"; show_screen
fi
expect_not "o: in the right place, no warning" 'does not decide'
counted() { srv nft list chain inet web input | sed -n 's/.*counter packets \([0-9]*\) bytes [0-9]* comment "dropped by policy".*/\1/p'; }
apply_w "1 edit"
C0=$(counted)
check_eq "with real traffic: 8443 gets through (3 of 3)" "$(tcp_conns 3 8443)" 3
check "... counted by the new accept" sh -c "ip netns exec $SRV nft list chain inet web input | grep -Eq 'tcp dport 8443 counter packets [1-9]'"
check_eq "... not by the counting rule" "$(counted)" "$C0"
keys Y
wait_for 'confirmed|kept' 10 >/dev/null
tui_end

# iptables' INPUT drops 9443 on the same hook
srv iptables-nft -P INPUT DROP
srv iptables-nft -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
srv iptables-nft -A INPUT -p tcp --dport 22 -j ACCEPT
srv iptables-nft -A INPUT -p tcp --dport 8443 -j ACCEPT
srv nft flush chain inet web input
check_eq "before: 9443 is dropped (by ip filter INPUT)" "$(tcp_conns 1 9443)" 0
allow_in_web 9443
expect "o in inet web: the other chain's drop is said" 'the new accept is never reached by tcp' 20
Q=$(screen | tr -s ' \n' '  ')
check "... naming ip filter INPUT's policy and the hook" sh -c "printf '%s' '$Q' | grep -qF 'chain INPUT policy drop (ip filter) drops it (another base chain of the input hook'"
check "... and L, the place where it works" sh -c "printf '%s' '$Q' | grep -qF 'L puts it at the end of ip filter INPUT'"
keys L
expect "L: staged in ip filter INPUT instead" 'staged \(1, W applies\): add rule ip filter INPUT tcp dport 9443 accept'
expect_not "... where it works: no warning" 'never reached|does not decide'
apply_w "1 edit"
check "... the accept is in ip filter INPUT" sh -c "ip netns exec $SRV nft list chain ip filter INPUT | grep -q 'dport 9443'"
check_eq "with real traffic: 9443 gets through (3 of 3)" "$(tcp_conns 3 9443)" 3
keys Y
wait_for 'confirmed|kept' 10 >/dev/null
tui_end

# both chains of the input hook drop 7443 (the demo's case): an accept in
# one of them is not enough, L puts one in each, each before its chain's
# counting rule, and the two together work with real traffic
bg ip netns exec "$SRV" socat -T 5 TCP-LISTEN:7443,reuseaddr,fork 'SYSTEM:read l; echo port7443 $l' 2>/dev/null
wait_port "$SRV" tcp 7443 || bail "socat on 7443"
srv iptables-nft -F INPUT
srv iptables-nft -P INPUT ACCEPT
srv iptables-nft -A INPUT -p tcp --dport 7443 -j DROP
srv nft -f - <<'EOF'
flush table inet web
table inet web {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		tcp dport 22 accept
		counter comment "dropped by policy"
	}
}
EOF
check_eq "before: 7443 is dropped (by both)" "$(tcp_conns 1 7443)" 0
allow_in_web 7443
expect "o: ip filter INPUT's drop is said" 'the new accept is never reached by tcp' 20
Q=$(screen | tr -s ' \n' '  ')
check "... and L, one in each chain that decides" sh -c "printf '%s' '$Q' | grep -qE 'L puts one in each chain that decides: before its rule [0-9]+, in ip filter INPUT and before its rule [0-9]+, in inet web input'"
keys L
expect "L: two accepts staged" 'staged \(2, W applies\): insert rule inet web input position [0-9]+ tcp dport 7443 accept'
expect_not "... they work: no warning" 'never reached|does not decide'
apply_w "2 edits"
C0=$(counted)
check_eq "with real traffic: 7443 gets through (3 of 3)" "$(tcp_conns 3 7443)" 3
check "... counted by the accept in ip filter INPUT" sh -c "ip netns exec $SRV nft list chain ip filter INPUT 2>/dev/null | grep -Eq 'dport 7443 counter packets [1-9][0-9]* bytes [0-9]+ accept'"
check "... and by the one in inet web input" sh -c "ip netns exec $SRV nft list chain inet web input | grep -Eq 'tcp dport 7443 counter packets [1-9]'"
check_eq "... not by inet web's counting rule" "$(counted)" "$C0"
keys Y
wait_for 'confirmed|kept' 10 >/dev/null
tui_end

# b: the block goes into the input chain the address's packets meet first,
# not the table selected
srv iptables-nft -F INPUT
srv iptables-nft -P INPUT ACCEPT
srv nft -f - <<'EOF'
flush ruleset
table inet a {
	chain input {
		type filter hook input priority 10; policy accept;
	}
}
table inet b {
	chain input {
		type filter hook input priority -10; policy accept;
	}
}
EOF
check_eq "before: the client gets through" "$(tcp_conns 1 8443)" 1
tui_start NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" || bail "the live view did not start"
keys Home
keys Down
expect "inet a input selected" "inet a > input"
act block
typein "$CLI_IP"
keys Enter
expect "b: staged in inet b, the chain of the input hook met first" \
	"staged \\(1, W applies\\): insert rule inet b input ip saddr $CLI_IP drop"
apply_w "1 edit"
check_eq "with real traffic: the client is blocked" "$(tcp_conns 1 8443)" 0
check_eq "... the management address is not" "$(tcp_conns 1 8443 "$MGMT_IP")" 1
keys R
wait_for 'REVERTED|reverted' 10 >/dev/null
tui_end

# rules typed with A: an accept after the drop is said dead, L moves it;
# a drop after an accept for the same port is never reached
srv nft -f - <<'EOF'
flush ruleset
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 accept
		counter drop
	}
}
EOF
tui_start NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" || bail "the live view did not start"
keys Tab
act append
typein "tcp dport 8443 accept"
keys Enter
# said: the status line, its wrapped lines joined
said() { wait_for 'staged' 20 >/dev/null; screen | tr -s ' \n' '  ' | grep -qE "$1"; }
check "A: an accept after the drop is said, with the drop" \
	said 'the new rule is never reached by tcp [0-9.:]+ -> [0-9.]+:8443 state new: rule [0-9]+ of inet web input \(counter drop\) drops it first'
check "... and L" said 'L puts it before that rule, in inet web input'
keys L
expect_not "L: now it works" 'never reached|does not decide'
act append
typein "tcp dport 22 drop"
keys Enter
check "A: a drop after the accept of its port is never reached" \
	said 'the new rule is never reached by tcp [0-9.:]+ -> [0-9.]+:22 state new: rule [0-9]+ of inet web input \(tcp dport 22 accept\) accepts it first'
keys u
apply_w "1 edit"
check_eq "with real traffic: 8443 gets through where L put it (2 of 2)" "$(tcp_conns 2 8443)" 2
tui_end
finish
