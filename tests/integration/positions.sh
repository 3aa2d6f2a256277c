#!/bin/bash
# nfpilot edit addresses rules by position as iptables does (--delete 3 is
# the third rule, --insert 1 makes the new rule the first), and by handle
# with the -handle options. Positions are those of the chain before the
# command, read at one generation that the kernel then checks. A number
# that is a position and also another rule's handle is refused unless
# --positions says it is a position (edit took handles in 0.1). Errors
# name what is missing, and change nothing.
. "$(dirname "$0")/../lib.sh"

setup_net

state() { srv nft -a list ruleset 2>/dev/null | md5sum; }
ports() { srv nft list chain inet web input | sed -n 's/.*tcp dport \([0-9]*\) .*/\1/p' | tr '\n' ' '; }

# chains first: the rules' handles (from 8 on) are never positions 1..5
srv nft -f - <<'EOF' || bail "the web table"
table inet web {
	chain a {}
	chain b {}
	chain c {}
	chain d {}
	chain e {}
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 1001 counter accept
		tcp dport 1002 counter accept
		tcp dport 1003 counter accept
		tcp dport 1004 counter accept
		tcp dport 1005 counter accept
	}
}
EOF
check_eq "five rules to start with" "$(ports)" "1001 1002 1003 1004 1005 "
H3=$(srv nft -a list chain inet web input | sed -n 's/.*dport 1003 .*# handle \([0-9]*\)$/\1/p')

check_rc "--delete 3" 0 nfp_yes edit -t inet web -c input --delete 3
check_eq "the third rule is gone" "$(ports)" "1001 1002 1004 1005 "
check "what was applied names its handle" grep -q "^delete rule inet web input handle $H3\$" <<<"$RC_OUT"

check_rc "--insert 1, --insert 5 (the end), --replace 2, in one command" 0 nfp_yes edit \
	-t inet web -c input --insert 1 'tcp dport 2001 counter accept' \
	--insert 5 'tcp dport 2005 counter accept' --replace 2 'tcp dport 2002 counter accept'
check_eq "every position as the chain was before the command" "$(ports)" \
	"2001 1001 2002 1004 1005 2005 "
check_rc "--move 6 before 1, --move 2 bottom" 0 nfp_yes edit -t inet web -c input \
	--move 6 before 1 --move 2 bottom
check_eq "moved by position" "$(ports)" "2005 2001 2002 1004 1005 1001 "

BEFORE=$(state)
check_rc "--delete 7 of six rules: not found" 3 nfp_yes edit -t inet web -c input --delete 7
check_eq "... the error names the chain, its rules and the one missing" "$RC_ERR" \
	"nfpilot: --delete 7: chain input has 6 rules; there is no rule 7"
check_rc "--insert 8 of six rules: not found" 3 nfp_yes edit -t inet web -c input \
	--insert 8 'tcp dport 9 accept'
check_eq "... the error says where a rule can go" "$RC_ERR" \
	"nfpilot: --insert 8: chain input has 6 rules; a rule can be inserted at 1 to 7"
check_rc "--delete 1 in an empty chain: not found" 3 nfp_yes edit -t inet web -c a --delete 1
check_eq "... the error says it is empty" "$RC_ERR" "nfpilot: --delete 1: chain a has no rules"
check_rc "--delete 0: usage" 2 nfp_yes edit -t inet web -c input --delete 0
check "... a bad rule number" grep -q "bad rule number '0'" <<<"$RC_ERR"
check_rc "a good edit and a missing position: nothing" 3 nfp_yes edit -t inet web -c input \
	--append 'tcp dport 9 accept' --replace 9 'tcp dport 8 accept'
check_rc "--delete-handle of a missing handle: not found" 3 nfp_yes edit -t inet web -c input \
	--delete-handle 99999
check_rc "--insert-before (it took a handle): refused" 2 nfp_yes edit -t inet web -c input \
	--insert-before "$H3" 'tcp dport 9 accept'
check "... with the new spellings" grep -q 'insert-before-handle H TEXT, or --insert N TEXT' <<<"$RC_ERR"
check_eq "nothing of the refused edits applied" "$(state)" "$BEFORE"

# by handle
H1004=$(srv nft -a list chain inet web input | sed -n 's/.*dport 1004 .*# handle \([0-9]*\)$/\1/p')
check_rc "--delete-handle" 0 nfp_yes edit -t inet web -c input --delete-handle "$H1004"
check_eq "the rule with that handle is gone" "$(ports)" "2005 2001 2002 1005 1001 "

# an old script: a number meant as a handle that is also a position
srv nft -f - <<'EOF' || bail "the small table"
table ip small {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 1 accept
		tcp dport 2 accept
		tcp dport 3 accept
		tcp dport 4 accept
	}
}
EOF
BEFORE=$(state)
check_rc "--delete 3 where 3 is another rule's handle: refused" 2 nfp_yes edit \
	-t ip small -c input --delete 3
check "... it says which rule each meaning is and how to say it" grep -qF \
	'rule 3 has handle 4, and 3 is the handle of rule 2; --delete took a handle in nfpilot 0.1: write --delete-handle 3 for that one, or add --positions to mean rule 3' \
	<<<"$RC_ERR"
check_rc "--move 1 after 2 where 2 is the handle of rule 1: refused" 2 nfp_yes edit \
	-t ip small -c input --move 1 after 2
check_eq "nothing changed" "$(state)" "$BEFORE"
check_rc "--positions --delete 3" 0 nfp_yes edit -t ip small -c input --positions --delete 3
check_eq "the third rule is gone" \
	"$(srv nft list chain ip small input | sed -n 's/.*tcp dport \([0-9]*\) .*/\1/p' | tr '\n' ' ')" \
	"1 2 4 "

# as iptables -D INPUT 3 does
srv sh -e -c '
iptables -A INPUT -p tcp --dport 25 -j ACCEPT
iptables -A INPUT -p udp --dport 53 -j ACCEPT
iptables -A INPUT -s 203.0.113.0/24 -j DROP
iptables -A INPUT -p tcp --dport 80 -m comment --comment web -j ACCEPT
iptables -A INPUT -p icmp -j ACCEPT' || bail "iptables rules"
WANT=$(srv iptables -S INPUT | grep -- '^-A' | sed 3d)
check_rc "--delete 3 in iptables' INPUT" 0 nfp_yes edit -t ip filter -c INPUT --positions --delete 3
check_eq "iptables -S is that of iptables -D INPUT 3" "$(srv iptables -S INPUT | grep -- '^-A')" "$WANT"
finish
