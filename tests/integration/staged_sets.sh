#!/bin/bash
# Staged sets (nfpilot edit --add-set, the live view's O): a set is made in
# the same transaction as its table, its chain and the rule that looks it
# up, its spec checked by nft when staged; real traffic shows the set at
# work; a refused spec names its edit and changes nothing; a set staged in
# a live table goes when its change is rolled back.
. "$(dirname "$0")/../lib.sh"

setup_net
start_servers

state() { srv nft -a list ruleset 2>/dev/null | md5sum; }

check_rc "table, set, base chain and a rule looking up the set: one transaction" 0 \
	nfp_yes edit -t inet web --add-table \
	--add-set blocklist "type ipv4_addr; flags interval; elements = { $CLI_IP/32 }" \
	--add-chain input 'type filter hook input priority 0; policy accept;' \
	-c input --append 'ip saddr @blocklist drop'
check "one probation for the four edits" grep -q '^applied 4 edits as one transaction' <<<"$RC_OUT"
check "the set is there with its element" grep -q "elements = { $CLI_IP }" \
	<<<"$(srv nft list set inet web blocklist)"
check_eq "the blocked address gets no answer" "$(tcp_blocked 2 80)" 0
check_eq "the other address of the client does" "$(tcp_conns 2 80 "$MGMT_IP")" 2
DROPS=$(srv nft list chain inet web input | sed -n 's/.*@blocklist counter packets \([0-9]*\).*/\1/p')
check_ge "the rule's counter counted the blocked SYNs" "$DROPS" 2

BEFORE=$(state)
check_rc "a set spec nft refuses" 1 nfp_yes edit -t inet web --add-set s2 'type ipv4_adr;'
check "the edit is named" grep -q 'edit 1 of 1 failed, nothing was changed: add set inet web s2' \
	<<<"$RC_ERR"
check "with nft's own word" grep -q 'unknown datatype ipv4_adr' <<<"$RC_ERR"
check_eq "nothing changed" "$(state)" "$BEFORE"
check_rc "a rule looking up a set nobody made" 1 nfp_yes edit -t inet web -c input \
	--append 'tcp dport @nosuch accept'
check_eq "nothing changed either" "$(state)" "$BEFORE"

SHAPE=$(srv nft -s list ruleset)
check_rc "a set and its rule in the live table, on probation (detached)" 0 \
	nfp edit --detach -t inet web --add-set ports 'type inet_service; elements = { 8080 }' \
	-c input --insert 'tcp dport @ports drop'
check_eq "8080 is closed by the new set" "$(tcp_blocked 1 8080)" 0
check_rc "rolled back" 0 nfp rollback
check_eq "the set is gone with its rule" "$(srv nft list sets 2>/dev/null | grep -c ports)" 0
check_eq "the table is as before (a restore gives new handles)" "$(srv nft -s list ruleset)" \
	"$SHAPE"
check_eq "8080 answers again" "$(tcp_conns 1 8080 "$MGMT_IP")" 1
finish
