#!/bin/bash
# iptables words in a native table (issue 16, item 3): a rule typed as
# iptables takes it (-p tcp --dport 80 -j ACCEPT, or -A INPUT ...) is
# translated by iptables-translate, shown, and staged only once confirmed
# (nfpilot edit --translate; in the live view a question). The translated
# rules then do with real traffic what the iptables rules say; what
# iptables-translate cannot translate, or refuses, is said in its words and
# changes nothing. At 80x24, as an admin's terminal is.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net
start_servers
command -v iptables-translate >/dev/null || { skip "iptables words" "no iptables-translate"; finish; }

. "$(dirname "$0")/../tui_edit_lib.sh"

state() { srv nft -a list ruleset 2>/dev/null | md5sum; }

srv nft -f - <<'EOF' || bail "the native tables"
table inet web {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		iif "lo" accept
	}
}
table ip nat {
	chain prerouting {
		type nat hook prerouting priority -100;
	}
}
EOF
check_eq "nothing answers on 80 before" "$(tcp_conns 1 80)" 0

# ---- the CLI
BEFORE=$(state)
check_rc "iptables words without --translate, not on a terminal: refused" 2 \
	nfp_yes edit -t inet web -c input --append '-p tcp --dport 80 -j ACCEPT'
check "... the translation is shown" grep -qx '  tcp dport 80 counter accept' <<<"$RC_OUT"
check "... and what stages it" grep -q 'add --translate to stage that nft rule' <<<"$RC_ERR"
check_eq "... nothing changed" "$(state)" "$BEFORE"

check_rc "--translate stages the translations" 0 nfp_yes edit --translate -t inet web -c input \
	--append '-p tcp --dport 80 -j ACCEPT' \
	--append '-A INPUT -s 10.200.1.2 -p tcp --dport 22 -m comment --comment "ssh from management" -j ACCEPT' \
	--insert '-I INPUT -p tcp -m multiport --dports 8080,8443 -j REJECT --reject-with tcp-reset'
check "... each shown" grep -qx '  ip saddr 10.200.1.2 tcp dport 22 counter accept comment "ssh from management"' <<<"$RC_OUT"
check_eq "the kernel has the nft rules iptables-translate wrote" \
	"$(krules inet web input)" \
	"$(lines 'ip protocol tcp tcp dport { 8080, 8443 } counter reject with tcp reset' \
		'ct state established,related accept' 'iif "lo" accept' 'tcp dport 80 counter accept' \
		'ip saddr 10.200.1.2 tcp dport 22 counter accept comment "ssh from management"')"
check_eq "-p tcp --dport 80 -j ACCEPT: web answers" "$(tcp_conns 3 80)" 3
check_eq "-s 10.200.1.2 ... --dport 22: ssh answers from the management address" \
	"$(tcp_conns 2 22 10.200.1.2)" 2
check_eq "... and not from elsewhere (policy drop)" "$(tcp_conns 1 22 10.200.0.2)" 0
check_eq "443 is not opened" "$(tcp_conns 1 443)" 0
check "--reject-with tcp-reset: 8080 is refused at once, not dropped" \
	sh -c "ip netns exec $CLI socat -T 2 - TCP:$SRV_IP:8080,connect-timeout=2 </dev/null 2>&1 | grep -q 'Connection refused'"
check_ge "... and counted on the rule" \
	"$(srv nft list chain inet web input | sed -n 's/.*8443 } counter packets \([0-9]*\) .*/\1/p')" 1

check_rc "-j DNAT in a native nat chain (-t nat from the chain's type)" 0 nfp_yes edit --translate \
	-t ip nat -c prerouting --append '-p tcp --dport 8081 -j DNAT --to-destination 10.200.0.1:80' \
	-t inet web -c input --append '-p tcp --dport 8081 -j ACCEPT'
check "... translated as dnat" grep -q 'dnat to 10.200.0.1:80' <<<"$RC_OUT"
check_eq "port 8081 reaches the web server" "$(tcp_conns 2 8081)" 2

# on a terminal (script(1) gives it one) it asks
on_tty() { printf '%s\n' "$1" | script -qec "$NFPILOT -N $SRV edit --detach -t inet web -c input --append '$2'" /dev/null; }
BEFORE=$(state)
check_rc "on a terminal, n to the question" 1 on_tty n '-p tcp --dport 444 -j ACCEPT'
check "... it asked, showing the translation" grep -q 'tcp dport 444 counter accept' <<<"$RC_OUT"
check "... and says nothing changed" grep -q 'the translation was not confirmed; nothing was changed' <<<"$RC_OUT"
check_eq "... nothing did" "$(state)" "$BEFORE"
check_rc "on a terminal, y stages it" 0 on_tty y '-p tcp --dport 444 -j ACCEPT'
check "... the rule is in the kernel" sh -c "ip netns exec $SRV nft list chain inet web input | grep -q 'tcp dport 444 counter'"
check_rc "... kept" 0 nfp confirm

# the family decides the translator
srv nft -f - <<'EOF' || bail "ip6 and netdev tables"
table ip6 six {
	chain input {
		type filter hook input priority 0;
	}
}
table netdev edge {
	chain ingress {
		type filter hook ingress device v0 priority 0;
	}
}
EOF
check_rc "an ip6 table: ip6tables-translate" 0 nfp_yes edit --translate -t ip6 six -c input \
	--append '-s 2001:db8::/32 -p tcp --dport 22 -j DROP'
check "... ip6's words" grep -qx '  ip6 saddr 2001:db8::/32 tcp dport 22 counter drop' <<<"$RC_OUT"
check_rc "an inet table, an IPv6 address: ip6tables-translate when iptables-translate refuses" 0 \
	nfp_yes edit --translate -t inet web -c input --append '-s 2001:db8::7 -j DROP'
check "... ip6 saddr" grep -qx '  ip6 saddr 2001:db8::7 counter drop' <<<"$RC_OUT"
BEFORE=$(state)
check_rc "a netdev table: no iptables there" 1 nfp_yes edit --translate -t netdev edge -c ingress \
	--append '-s 10.0.0.1 -j DROP'
check_eq "... said so" "$RC_ERR" \
	"nfpilot: iptables words are for ip, ip6 and inet tables; write nft syntax here"
check_eq "... nothing changed" "$(state)" "$BEFORE"

BEFORE=$(state)
check_rc "untranslatable (-m recent): refused" 1 nfp_yes edit --translate -t inet web -c input \
	--append '-p tcp --dport 22 -m recent --set -j ACCEPT'
check_eq "... in iptables-translate's words" "$RC_ERR" \
	"nfpilot: iptables-translate cannot translate '-p tcp --dport 22 -m recent --set -j ACCEPT' into nft: it answers with a comment, its word for a match or target without an nft form"
check_rc "a typo iptables refuses: its own message" 2 nfp_yes edit --translate -t inet web -c input \
	--append '-p tcp --dprt 22 -j ACCEPT'
check_eq "... without its version banner" "$RC_ERR" 'nfpilot: iptables-translate: unknown option "--dprt"'
check_rc "two rules in one (-s a,b): refused" 1 nfp_yes edit --translate -t inet web -c input \
	--append '-s 10.0.0.1,10.0.0.2 -j DROP'
check "... saying so" grep -q 'makes 2 nft rules' <<<"$RC_ERR"
check_rc "another iptables command (-D): refused" 2 nfp_yes edit --translate -t inet web -c input \
	--append '-D INPUT 3'
check "... saying only a rule translates" grep -q 'only a rule translates' <<<"$RC_ERR"
check_eq "nothing of the refused edits changed" "$(state)" "$BEFORE"

# ---- the live view at 80x24
TUI_SIZE=80x24
start
goto_chain 'inet web' input || not_ok "inet web input in the tree"
prompt_type A '-p tcp --dport 443 -j ACCEPT'
expect "the question shows the translation" 'iptables-translate makes it: tcp dport 443 counter'
expect "... and asks, its [y/N] on screen (wrapped)" '(^|rule\? )\[y/N\]$'
keys y
expect "y stages the nft rule, marked +" '│ \+.* tcp dport 443 counter'
check_eq "nothing in the kernel before W" "$(tcp_conns 1 443)" 0
apply_y "the translated rule"
check_eq "443 answers once applied" "$(tcp_conns 2 443)" 2

BEFORE=$(state)
prompt_type A '-p udp --dport 53 -m recent --set -j DROP'
expect "untranslatable: the editor stays open with iptables-translate's answer" \
	'cannot translate'
keys Esc
prompt_type A '-p tcp --dport 25 -j ACCEPT'
expect "a translation can be declined" 'stage this nft rule\?'
keys n
expect_not "... and is not staged" 'tcp dport 25'
check_eq "none of it reached the kernel" "$(state)" "$BEFORE"
stop
finish
