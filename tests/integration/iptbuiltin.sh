#!/bin/bash
# iptables' words into a built-in chain iptables-nft has not made yet: in
# a namespace with no tables at all, `nfpilot edit -t ip filter -c INPUT
# --append "-p tcp ..."` makes table and chain as `iptables -A INPUT ...`
# would (the chain as iptables-nft itself makes it, asked in a scratch
# namespace), in ONE transaction on probation: iptables-save then equals
# that of the same commands run with iptables in another namespace (filter,
# nat with DNAT and MASQUERADE, ip6 mangle), the base chains equal
# iptables' own, and the rules work on real traffic. A chain that is not
# one of iptables' built-in ones, a table or a chain that is not there
# are refused in words (exit 3), changing nothing, in native tables too.
. "$(dirname "$0")/../lib.sh"

setup_net
REF="$NS_PREFIX-ref"
ns_add "$REF" || bail "ip netns add $REF"
ref() { ip netns exec "$REF" "$@"; }
start_servers
saved() { in_ns "$1" "$2" | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
all_saved() { saved "$1" iptables-save; saved "$1" ip6tables-save; }
# the base chain lines nft prints (type, hook, priority, policy), per chain
bases() { in_ns "$1" nft list ruleset 2>/dev/null | grep -E '^\s*(table|chain|type) ' | tr -s '\t ' ' '; }

check_eq "no tables at first" "$(srv nft list ruleset 2>/dev/null)" ""

# ---- 1. filter: table and two chains made by the first rules
check_rc "edit: two rules into INPUT, one into FORWARD, no table there" 0 \
	nfp edit --detach -t ip filter -c INPUT --append "-p tcp --dport 22 -j ACCEPT" \
	--append "-p tcp --dport 80 -j DROP" -c FORWARD --append "-s 10.9.0.0/16 -j DROP"
check_eq "it says what iptables-nft makes, once a chain" \
	"$(printf '%s\n' "$RC_OUT" | grep -c 'at its first rule: staged with it')" 2
check "... the table with the first" grep -qF -e \
	"--append: iptables-nft makes table and chain ip filter INPUT at its first rule: staged with it (type filter hook input priority 0; policy accept;)" \
	<<<"$RC_OUT"
check "one transaction of 6 edits" grep -qx "applied 6 edits as one transaction:" <<<"$RC_OUT"
check_rc "confirm" 0 nfp confirm
ref iptables -A INPUT -p tcp --dport 22 -j ACCEPT
ref iptables -A INPUT -p tcp --dport 80 -j DROP
ref iptables -A FORWARD -s 10.9.0.0/16 -j DROP
check_eq "iptables-save equals that of the same iptables commands" "$(all_saved "$SRV")" \
	"$(all_saved "$REF")"
check_eq "the base chains are iptables' own (type, hook, priority, policy)" \
	"$(bases "$SRV")" "$(bases "$REF" | grep -v -A1 'chain OUTPUT' | grep -v '^--$')"
check_eq "port 22 answers" "$(tcp_conns 1 22)" 1
check_eq "port 80 is dropped" "$(tcp_blocked 1 80)" 0

# ---- 2. nat: DNAT and MASQUERADE into chains not there yet
check_rc "edit: a port forward and a masquerade, no nat table there" 0 \
	nfp edit --detach -t ip nat -c PREROUTING \
	--append "-p tcp --dport 8000 -j DNAT --to-destination $SRV_IP:8080" \
	-c POSTROUTING --append "-o v0 -d 10.9.0.0/16 -j MASQUERADE"
check "... the nat chains as iptables makes them" grep -qF \
	"(type nat hook prerouting priority -100; policy accept;)" <<<"$RC_OUT"
check_rc "confirm" 0 nfp confirm
ref iptables -t nat -A PREROUTING -p tcp --dport 8000 -j DNAT --to-destination "$SRV_IP:8080"
ref iptables -t nat -A POSTROUTING -o v0 -d 10.9.0.0/16 -j MASQUERADE
check_eq "iptables-save equals iptables' again" "$(all_saved "$SRV")" "$(all_saved "$REF")"
check_eq "a connection to 8000 reaches 8080 (the DNAT works)" "$(tcp_conns 1 8000)" 1

# ---- 3. ip6 mangle, one rule; then rolled back: the table goes
before=$(srv nft list ruleset 2>/dev/null)
check_rc "edit: ip6 mangle OUTPUT, no ip6 table there" 0 \
	nfp edit --detach -t ip6 mangle -c OUTPUT --append "-p tcp -j MARK --set-mark 0x1"
check "... a route chain at priority -150, as ip6tables makes it" grep -qF \
	"(type route hook output priority -150; policy accept;)" <<<"$RC_OUT"
check_eq "ip6tables -S shows the rule" "$(srv ip6tables -t mangle -S OUTPUT | tail -n 1)" \
	"-A OUTPUT -p tcp -j MARK --set-xmark 0x1/0xffffffff"
check_rc "rollback" 0 nfp rollback
check_eq "the ip6 table is gone again, the rest as it was" "$(srv nft list ruleset 2>/dev/null)" "$before"

# ---- 4. what is not there is said so, and nothing changes
before=$(srv nft list ruleset 2>/dev/null)
check_rc "a chain that is not one of iptables' built-in ones, table there" 3 \
	nfp edit --detach -t ip filter -c web --append "-j ACCEPT"
check_eq "... said in words" "$RC_ERR" \
	"nfpilot: --append: no chain 'web' in table ip filter (--add-chain web makes it)"
check_rc "the same, no table raw there" 3 nfp edit --detach -t ip raw -c web --append "-j ACCEPT"
check "... no table, and how one is made" grep -qF \
	"nfpilot: --append: no table ip raw (--add-table makes it; iptables' words into one of iptables' built-in chains" \
	<<<"$RC_ERR"
check "... no translation offered for a table that is not there" \
	eval '! grep -q iptables-translate <<<"$RC_OUT$RC_ERR"'
srv nft add table inet web
check_rc "native: a rule into a chain that is not there" 3 \
	nfp edit --detach -t inet web -c nochain --append "tcp dport 22 accept"
check_eq "... said in words, not as ENOENT" "$RC_ERR" \
	"nfpilot: --append: no chain 'nochain' in table inet web (--add-chain nochain makes it)"
check_rc "native: a table that is not there" 3 \
	nfp edit --detach -t inet nope -c input --append "tcp dport 22 accept"
check_eq "... said in words" "$RC_ERR" "nfpilot: --append: no table inet nope (--add-table makes it)"
check_rc "native: --delete-chain of a chain that is not there" 3 \
	nfp edit --detach -t inet web --delete-chain nochain
check_eq "... said in words" "$RC_ERR" "nfpilot: --delete-chain: no chain 'nochain' in table inet web"
check_rc "native: --policy of a chain that is not there" 3 \
	nfp edit --detach -t inet web -c nochain --policy drop
check_rc "a chain made in the same command takes its rules" 0 \
	nfp edit --detach -t inet web --add-chain c2 -c c2 --append "tcp dport 9 accept"
check_rc "rollback" 0 nfp rollback
srv nft delete table inet web
check_eq "nothing else changed" "$(srv nft list ruleset 2>/dev/null)" "$before"
check "no probation left" test "$(nfp status)" = "probation: none"

finish
