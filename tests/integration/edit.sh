#!/bin/bash
# nfpilot edit: staged edits applied as ONE transaction. A web server's
# firewall built from an empty ruleset entirely through edits, then checked
# with real traffic; ten edits whose last is invalid change nothing and name
# that edit; a change made by someone else after the edits were prepared is
# refused by the kernel's generation check; moving and deleting rules of a
# table made by iptables keeps iptables -S and -L -v working. Every change
# is on probation (tests/integration/probation.sh): here it is confirmed by
# answering "yes" on stdin (nfp_yes).
. "$(dirname "$0")/../lib.sh"

setup_net
start_servers

state() { srv nft -a list ruleset 2>/dev/null | md5sum; }

check_rc "build the web firewall from nothing in one transaction" 0 nfp_yes edit \
	-t inet web --add-table \
	--add-chain input 'type filter hook input priority 0; policy accept;' \
	-c input \
	--append 'ct state established,related accept' \
	--append 'ct state invalid drop' \
	--append 'iif "lo" accept' \
	--append 'ip saddr 10.200.1.0/24 tcp dport 22 accept comment "ssh from management"' \
	--append 'tcp dport { 80, 443 } accept comment "web"' \
	--append 'icmp type echo-request accept' \
	--policy drop
check "the new table went on probation" grep -q '^on probation: inet web (new)' <<<"$RC_OUT"
check "and was confirmed on the terminal" grep -q '^confirmed' <<<"$RC_OUT"
check_eq "nothing on probation after the confirm" "$(nfp status)" "probation: none"
LIST=$(srv nft -a list chain inet web input)
check "policy is drop" grep -q 'policy drop' <<<"$LIST"
check "rules in order, each with a counter before its verdict" python3 -c '
import re, sys
rules = [l.strip() for l in sys.stdin if "# handle" in l and not l.strip().startswith("chain ")]
want = ["ct state established,related counter", "ct state invalid counter", "iif \"lo\" counter",
        "tcp dport 22 counter", "tcp dport { 80, 443 } counter", "icmp type echo-request counter"]
assert len(rules) == 6, rules
for r, w in zip(rules, want):
    assert w in r, (r, w)
' <<<"$LIST"
check_eq "web answers" "$(tcp_conns 3 80)" 3
check_eq "ssh answers from the management address" "$(tcp_conns 2 22 10.200.1.2)" 2
check_eq "ssh does not answer from elsewhere" "$(tcp_conns 1 22 10.200.0.2)" 0
check_eq "8080 is closed" "$(tcp_conns 1 8080)" 0
check_ge "ping answers" "$(ping_n 2)" 2
ESTAB=$(srv nft -a list chain inet web input | sed -n 's/.*established,related counter packets \([0-9]*\).*/\1/p')
check_ge "established traffic counted on the first rule" "$ESTAB" 1

# ten edits, the last invalid: nothing changes, edit 10 is named
BEFORE=$(state)
args=()
for p in 1001 1002 1003 1004 1005 1006 1007 1008 1009; do args+=(--append "tcp dport $p accept"); done
args+=(--append 'tcp dportt 1010 accept')
check_rc "ten edits with a typo in the last fail" 1 nfp_yes edit -t inet web -c input "${args[@]}"
check "the failing edit is named" grep -q 'edit 10 of 10 failed, nothing was changed' <<<"$RC_ERR"
check "nft's message points at the typo" grep -q 'dportt' <<<"$RC_ERR"
check_eq "ruleset unchanged after the failed edits" "$(state)" "$BEFORE"
H7=$(srv nft -a list chain inet web input | sed -n 's/.*tcp dport { 80, 443 }.*# handle \([0-9]*\)/\1/p')
check_rc "a kernel refusal (no such handle) names its edit, exit 3" 3 \
	nfp_yes edit -t inet web -c input --delete-handle "$H7" --delete-handle 99999
check "the kernel's failure is mapped to edit 2" grep -q 'edit 2 of 2 failed' <<<"$RC_ERR"
check_eq "ruleset unchanged after the refused delete" "$(state)" "$BEFORE"

# no limit on the edits of one transaction: a chain, 70 rules in it and a move
args=(-c bulk)
for p in $(seq 3001 3070); do args+=(--append "tcp dport $p accept"); done
HICMP=$(srv nft -a list chain inet web input | sed -n 's/.*icmp type echo-request.*# handle \([0-9]*\)/\1/p')
check_rc "72 edits in one transaction" 0 nfp_yes edit -t inet web --add-chain bulk "${args[@]}" \
	-c input --move-handle "$HICMP" top
check "all of them applied" grep -q '^applied 72 edits as one transaction' <<<"$RC_OUT"
check_eq "the 70 rules in order" \
	"$(srv nft list chain inet web bulk | sed -n 's/.*tcp dport \([0-9]*\) counter.*accept/\1/p' | tr '\n' ' ')" \
	"$(seq 3001 3070 | tr '\n' ' ')"
check "the moved rule is first" sh -c "ip netns exec $SRV nft list chain inet web input | grep -A1 'policy drop' | grep -q 'icmp type echo-request'"
BEFORE=$(state)

# someone else changes the ruleset between preparing and applying
GEN=$(nfp list --json --counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["genid"])')
srv nft add rule inet web input tcp dport 9999 counter accept comment '"other admin"'
AFTER_OTHER=$(state)
check_rc "edits prepared on an old generation are refused" 1 \
	nfp_yes edit --genid "$GEN" -t inet web -c input --append 'tcp dport 2222 accept'
check "the refusal says the ruleset changed" grep -q 'ruleset changed' <<<"$RC_ERR"
check_eq "nothing of the refused edits applied" "$(state)" "$AFTER_OTHER"
check "edits on the current generation apply" nfp_yes edit \
	--genid "$(nfp list --json --counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["genid"])')" \
	-t inet web -c input --append 'tcp dport 2222 accept'

# iptables: move and delete keep the table readable by iptables
srv sh -e -c '
iptables -A INPUT -p tcp --dport 25 -m comment --comment smtp -j ACCEPT
iptables -A INPUT -p icmp --icmp-type echo-request -m comment --comment ping -j ACCEPT
iptables -A INPUT -p udp --dport 53 -j ACCEPT
iptables -A INPUT -s 203.0.113.0/24 -j DROP' || bail "iptables rules"
ping_n 2 >/dev/null
handle_of() { srv nft -a list chain ip filter INPUT | grep -- "$1" | sed -n 's/.*# handle \([0-9]*\)$/\1/p'; }
HS=$(handle_of 'dport 25'); HP=$(handle_of 'icmp'); HU=$(handle_of 'udp dport 53')
PING_PKTS=$(srv iptables -L INPUT -v -x -n | awk '/icmptype 8/ {print $1}')
check "move and delete in the iptables table" nfp_yes edit -t ip filter -c INPUT \
	--move-handle "$HP" top --move-handle "$HS" bottom --delete-handle "$HU"
check_eq "iptables -S shows the new order, comments kept" \
	"$(srv iptables -S INPUT | grep -- '^-A')" \
	"$(printf '%s\n' \
		'-A INPUT -p icmp -m icmp --icmp-type 8 -m comment --comment ping -j ACCEPT' \
		'-A INPUT -s 203.0.113.0/24 -j DROP' \
		'-A INPUT -p tcp -m tcp --dport 25 -m comment --comment smtp -j ACCEPT')"
check "iptables -L -v still works" srv iptables -L INPUT -v -n
check_eq "the moved rule kept its counter" \
	"$(srv iptables -L INPUT -v -x -n | awk '/icmptype 8/ {print $1}')" "$PING_PKTS"
check_rc "bad usage: edit without a table" 2 nfp_yes edit --append accept

# nfpilot apply FILE: an nft script as one transaction
printf '%s\n' 'add rule inet web input tcp dport 7001 accept' \
	'add rule inet web input tcp dportt 7002 accept' >"$TEST_TMP/bad.nft"
BEFORE=$(state)
check_rc "apply of a script with an error fails" 1 nfp_yes apply "$TEST_TMP/bad.nft"
check "its message gives file, line and nft's reason" \
	grep -q 'bad.nft:2:.*syntax error' <<<"$RC_ERR"
check_eq "nothing of the script applied" "$(state)" "$BEFORE"
printf '%s\n' 'add rule inet web input tcp dport 7001 accept' \
	'add rule inet web input tcp dport 7002 accept' >"$TEST_TMP/good.nft"
check "apply of a good script" nfp_yes apply "$TEST_TMP/good.nft"
check_eq "both of its rules are in" \
	"$(srv nft list chain inet web input | grep -c 'tcp dport 700[12] accept')" 2
# what nft -f takes, nfpilot apply takes: the check (nft's dry run) must not
# leave its mark on the real run
srv nft add set inet web bad '{ type ipv4_addr; flags interval; elements = { 192.0.2.0/24, 198.51.100.7 }; }'
echo 'delete element inet web bad { 192.0.2.0/24 }' >"$TEST_TMP/delelem.nft"
check "nft -c accepts deleting an element of an interval set" srv nft -c -f "$TEST_TMP/delelem.nft"
check "apply of a script deleting an element of an interval set" nfp_yes apply "$TEST_TMP/delelem.nft"
check_eq "... the element is gone" "$(srv nft list set inet web bad | grep -c '192\.0\.2\.0/24')" 0
check_rc "apply on a stale generation is refused" 1 nfp_yes apply --genid 1 "$TEST_TMP/good.nft"
check_rc "apply of a missing file" 3 nfp_yes apply "$TEST_TMP/nope.nft"
finish
