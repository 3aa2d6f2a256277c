#!/bin/bash
# iptables syntax in iptables-nft tables (nfpilot edit): the seed's
# iptables commands (tests/integration/list_web_iptables.sh: filter, nat,
# mangle, and ip6; ACCEPT, DROP, REJECT with several --reject-with, LOG
# with a prefix, conntrack states, limit, multiport, comment, DNAT, SNAT,
# MASQUERADE) typed through nfpilot give the same iptables-save as the same
# commands run with iptables in another namespace; inserts, replaces and
# deletes as iptables -I, -R and -D do; nft syntax there is taken only when
# iptables reads it back as the same rule, else refused with the reason
# and the iptables form; a typo is iptables' own message and changes
# nothing; a revert at the deadline gives back the exact iptables-save;
# `nfpilot list --iptables` prints the lines iptables -S prints.
. "$(dirname "$0")/../lib.sh"

setup_net
REF="$NS_PREFIX-ref"
ns_add "$REF" || bail "ip netns add $REF"
ref() { ip netns exec "$REF" "$@"; }

# iptables-save of a namespace, without its dates and counters
saved() { in_ns "$1" "$2" | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
both_saved() { saved "$1" iptables-save; saved "$1" ip6tables-save; }

# the tables and built-in chains, in both namespaces, by iptables itself
for ns in "$SRV" "$REF"; do
	in_ns "$ns" sh -e -c '
	for c in INPUT FORWARD OUTPUT; do iptables -P $c ACCEPT; ip6tables -P $c ACCEPT; done
	for c in PREROUTING INPUT OUTPUT POSTROUTING; do iptables -t nat -P $c ACCEPT; done
	for c in PREROUTING INPUT FORWARD OUTPUT POSTROUTING; do iptables -t mangle -P $c ACCEPT; done' ||
		bail "built-in chains in $ns"
done

# FAMILY TABLE CHAIN RULE: the seed's rules, in order
cat >"$TEST_TMP/seed" <<EOF
ip filter INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip filter INPUT -m conntrack --ctstate INVALID -j DROP
ip filter INPUT -i lo -j ACCEPT
ip filter INPUT -p tcp --dport 22 -s 10.200.1.0/24 -m comment --comment "ssh from the management net" -j ACCEPT
ip filter INPUT -p tcp -m multiport --dports 80,443 -m comment --comment "web" -j ACCEPT
ip filter INPUT -p udp --dport 53 -j ACCEPT
ip filter INPUT -p icmp --icmp-type echo-request -j ACCEPT
ip filter INPUT -p tcp --dport 8443 -m comment --comment "blocked port" -j DROP
ip filter INPUT -p udp --dport 1 -j REJECT --reject-with icmp-host-prohibited
ip filter INPUT -p udp --dport 2 -j REJECT --reject-with icmp-admin-prohibited
ip filter INPUT -p tcp --dport 8 -j REJECT --reject-with tcp-reset
ip filter INPUT -m mark --mark 0x2 -m comment --comment "marked (never reached: accepted above)"
ip filter LOGDROP -m limit --limit 5/min -j LOG --log-prefix "nfpt drop: "
ip filter LOGDROP -j DROP
ip filter INPUT -p tcp --dport 9999 -j LOGDROP
ip nat PREROUTING -p tcp --dport 8080 -m comment --comment "port forward" -j DNAT --to-destination $SRV_IP:80
ip nat POSTROUTING -p tcp -d $CLI_IP --dport 7000 -j SNAT --to-source 10.200.0.11
ip nat POSTROUTING -p tcp -d $CLI_IP --dport 7001 -j MASQUERADE
ip mangle PREROUTING -p tcp --dport 443 -j MARK --set-mark 0x2
ip mangle INPUT -m mark --mark 0x2 -m comment --comment "marked https"
ip mangle OUTPUT -p tcp --sport 80 -j TOS --set-tos 0x10
ip6 filter INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip6 filter INPUT -p ipv6-icmp -j ACCEPT
ip6 filter INPUT -p tcp --dport 22 -s 2001:db8:1::/48 -j ACCEPT
ip6 filter INPUT -p tcp --dport 25 -j REJECT --reject-with icmp6-adm-prohibited
ip6 filter INPUT -p tcp --dport 26 -j REJECT --reject-with tcp-reset
ip6 filter INPUT -m limit --limit 3/min -j LOG --log-prefix "v6 drop: "
EOF

# the reference: iptables itself
ref iptables -N LOGDROP || bail "iptables -N LOGDROP"
ref iptables -P INPUT DROP || bail "iptables -P INPUT DROP"
ref ip6tables -P FORWARD DROP || bail "ip6tables -P FORWARD DROP"
while read -r fam table chain rule; do
	prog=iptables
	[ "$fam" = ip6 ] && prog=ip6tables
	eval "ref $prog -t $table -A $chain $rule" || bail "$prog -t $table -A $chain $rule"
done <"$TEST_TMP/seed"

# nfpilot: one transaction a table, every rule in iptables syntax; the
# chain LOGDROP and the policies as nfpilot's own edits
edit_args() { # FAMILY TABLE: -c CHAIN --append RULE ... of that table
	local fam table chain rule
	while read -r fam table chain rule; do
		[ "$fam $table" = "$1 $2" ] && printf '%s\0' -c "$chain" --append "$rule"
	done <"$TEST_TMP/seed"
}
for ft in "ip filter" "ip nat" "ip mangle" "ip6 filter"; do
	extra=()
	[ "$ft" = "ip filter" ] && extra=(--add-chain LOGDROP -c INPUT --policy drop)
	[ "$ft" = "ip6 filter" ] && extra=(-c FORWARD --policy drop)
	mapfile -d '' args < <(edit_args $ft)
	# shellcheck disable=SC2086
	check_rc "$ft: the seed's rules in iptables syntax, one transaction" 0 \
		nfp_yes edit -t $ft "${extra[@]}" "${args[@]}"
done
check "the pending text names iptables syntax" grep -q -- '-j ACCEPT  # iptables syntax' <<<"$RC_OUT"
check "and the change was confirmed" grep -q '^confirmed' <<<"$RC_OUT"
check_eq "iptables-save and ip6tables-save: the same as iptables' own" \
	"$(both_saved "$SRV")" "$(both_saved "$REF")"
check "iptables calls no table incompatible" \
	bash -c "! ip netns exec $SRV iptables-save 2>&1 | grep -qi incompatible"

# -I, -I N, -R N, -D N of iptables: --insert, --insert N, --replace N, --delete N
# (positions of the chain before the command; --positions: some of these
# numbers are also handles of other rules)
check_rc "insert, insert as rule 3, replace and delete in one transaction" 0 nfp_yes edit \
	-t ip filter -c INPUT --positions --insert '-s 198.51.100.0/24 -j DROP' \
	--insert 3 '-A INPUT -p tcp --dport 3306 -s 10.200.0.0/24 -j ACCEPT' \
	--replace 5 '-p tcp -m multiport --dports 80,443,8000 -m comment --comment "web, and 8000" -j ACCEPT' \
	--delete 6
ref sh -e -c '
iptables -I INPUT 1 -s 198.51.100.0/24 -j DROP
iptables -I INPUT 4 -p tcp --dport 3306 -s 10.200.0.0/24 -j ACCEPT
iptables -R INPUT 7 -p tcp -m multiport --dports 80,443,8000 -m comment --comment "web, and 8000" -j ACCEPT
iptables -D INPUT 8' || bail "iptables -I -R -D"
check_eq "iptables-save: the same as after iptables -I, -I 4, -R 7, -D 8" \
	"$(saved "$SRV" iptables-save)" "$(saved "$REF" iptables-save)"

# ip and ip6 in one transaction: each compiled with its own family
check_rc "ip and ip6 rules in one transaction" 0 nfp_yes edit \
	-t ip filter -c INPUT --append '-s 192.0.2.1 -j DROP' \
	-t ip6 filter -c INPUT --append '-s 2001:db8::1 -j DROP'
ref iptables -A INPUT -s 192.0.2.1 -j DROP
ref ip6tables -A INPUT -s 2001:db8::1 -j DROP
check_eq "both families as iptables and ip6tables write them" \
	"$(both_saved "$SRV")" "$(both_saved "$REF")"

# nft syntax: taken when iptables reads it back as the same rule
check_rc "nft syntax that iptables reads back the same is taken" 0 nfp_yes edit \
	-t ip filter -c INPUT --append 'tcp dport 2201 accept'
ref iptables -A INPUT -p tcp --dport 2201 -j ACCEPT
check_eq "iptables-save shows it as iptables would write it" \
	"$(saved "$SRV" iptables-save)" "$(saved "$REF" iptables-save)"

# ... and refused when it does not: the set rule would save as accept-all-tcp
BEFORE=$(both_saved "$SRV")
check_rc "the nft set rule is refused in an iptables table" 1 nfp_yes edit \
	-t ip filter -c INPUT --append 'tcp dport { 8081, 8082 } counter accept'
check "the reason: iptables-save's reading of it" \
	grep -qF "iptables reads this as another rule: iptables-save prints it as '-A INPUT -p tcp -j ACCEPT'" <<<"$RC_ERR"
check "the iptables form to use" grep -qF -- '-m multiport --dports 8081,8082' <<<"$RC_ERR"
check_rc "an nft comment is refused too (iptables has -m comment)" 1 nfp_yes edit \
	-t ip filter -c INPUT --append 'ip saddr 192.0.2.9 drop comment "x"'
check "with the iptables comment form" grep -qF -- '-m comment --comment' <<<"$RC_ERR"
check_rc "a typo in iptables syntax is refused" 1 nfp_yes edit \
	-t ip filter -c INPUT --append '-p tcp --dprt 22 -j ACCEPT'
check "in iptables' own words" grep -qF 'iptables: unknown option "--dprt"' <<<"$RC_ERR"
check "the edit is named" grep -q 'edit 1 of 1 failed, nothing was changed' <<<"$RC_ERR"
check_rc "an ip address in an ip6 table is refused" 1 nfp_yes edit \
	-t ip6 filter -c INPUT --append '-s 10.0.0.1 -j DROP'
check "by ip6tables" grep -qF "iptables: host/network \`10.0.0.1' not found" <<<"$RC_ERR"
check_rc "a second line is refused" 1 nfp_yes edit -t ip filter -c INPUT \
	--append "$(printf -- '-j ACCEPT\n-A INPUT -j DROP')"
check "as one line" grep -q 'an iptables rule is one line' <<<"$RC_ERR"
check_eq "nothing changed by the refusals" "$(both_saved "$SRV")" "$BEFORE"

# list --iptables: iptables -S's lines, by position
LIST=$(nfp list -t ip filter -c INPUT --iptables | sed -n 's/^ *[0-9]\+ \+[^ ]\+ \+[^ ]\+ \+[0-9]\+  //p')
check_eq "list --iptables prints iptables -S's -A lines" "$LIST" \
	"$(srv iptables -S INPUT | grep '^-A')"
nfp list -t ip6 filter --iptables --json >"$TEST_TMP/ip6.json"
check_eq "--json gives each rule its iptables line" \
	"$(json_get "$TEST_TMP/ip6.json" '"\n".join(r["iptables"] for t, c, r in rules(d, chain="INPUT"))')" \
	"$(srv ip6tables -S INPUT | grep '^-A')"
check "nft's text stays in text" grep -q '"text":"tcp dport 25 counter' "$TEST_TMP/ip6.json"

# a revert at the deadline gives back the exact iptables-save
BEFORE=$(both_saved "$SRV")
check_rc "iptables-syntax edits, detached, 10 s on probation" 0 nfp edit --detach --timeout 10 \
	-t ip filter -c INPUT --insert '-j LOG --log-prefix "probation: "' --positions --delete 2 \
	-t ip nat -c POSTROUTING --append '-s 10.9.0.0/16 -j MASQUERADE' \
	-t ip6 filter -c INPUT --policy accept
check "the change is in" bash -c "ip netns exec $SRV iptables-save | grep -q 'probation: '"
check "reverted at the deadline" poll_until 15000 over
check_eq "the exact iptables-save and ip6tables-save of before" "$(both_saved "$SRV")" "$BEFORE"

finish
