#!/bin/bash
# nft/snapshot.c: a snapshot of whole tables restored in one batch puts
# them back exactly — native tables with sets, maps, objects, anonymous
# sets and jumps; tables written by iptables (iptables-save identical); a
# table created after the snapshot is deleted; a table not in the snapshot
# keeps what another tool added meanwhile; a guarded restore is refused
# when the ruleset moved on; a 10k-rule chain and a 20k-element set too.
. "$(dirname "$0")/../lib.sh"

SNAPTEST=$(dirname "$NFPILOT")/tools/snaptest
[ -x "$SNAPTEST" ] || bail "no $SNAPTEST (make build/asan/tools/snaptest)"
setup_net

srv nft -f - <<'EOF2' || bail "nft -f"
table inet web {
	counter hits {
	}
	quota monthly {
		over 100 mbytes
	}
	set blocked {
		type ipv4_addr
		flags interval
		elements = { 192.0.2.0/24, 198.51.100.7 }
	}
	map ports {
		type inet_service : verdict
		elements = { 22 : jump ssh, 80 : accept }
	}
	chain ssh {
		counter accept
	}
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related counter accept
		tcp dport { 22, 80, 443 } counter accept comment "web"
		ip saddr @blocked counter name "hits" drop
		tcp dport vmap @ports
		udp dport 53 quota name "monthly" accept
	}
}
table ip other {
	chain x {
		counter
	}
}
EOF2
srv sh -e -c '
iptables -A INPUT -p icmp --icmp-type echo-request -m comment --comment ping -j ACCEPT
iptables -A INPUT -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -j ACCEPT
iptables -N LOGDROP
iptables -A LOGDROP -j LOG --log-prefix "drop: "
iptables -A LOGDROP -j DROP
iptables -A INPUT -s 203.0.113.0/24 -j LOGDROP
iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.200.0.1:80
iptables -t nat -A POSTROUTING -o lo -j MASQUERADE
iptables -P INPUT DROP' || bail "iptables rules"

tables() { for t in "inet web" "ip filter" "ip nat"; do srv nft -s list table $t; done; }
ipt() { srv iptables-save | grep -v '^#'; }
BEFORE=$(tables)
IPT_BEFORE=$(ipt)

out=$("$SNAPTEST" "$SRV" -t inet web -t ip filter -t ip nat -t inet created -- sh -c '
	nft flush table inet web
	nft delete map inet web ports
	nft delete chain inet web ssh
	nft add rule inet web input drop
	iptables -F; iptables -X LOGDROP; iptables -t nat -F; iptables -P INPUT ACCEPT
	nft add table inet created
	nft add rule ip other x accept comment \"added-meanwhile\"' 2>&1)
check "restore of 4 tables reports success" grep -q '^restored$' <<<"$out"
check_eq "native and iptables tables listed as before (nft -s)" "$(tables)" "$BEFORE"
check_eq "iptables-save as before" "$(ipt)" "$IPT_BEFORE"
check "iptables -L -v still reads the tables" srv iptables -L -v -n
check "the table created after the snapshot is gone" \
	sh -c "! ip netns exec $SRV nft list table inet created 2>/dev/null"
check "a table outside the snapshot keeps what was added meanwhile" \
	sh -c "ip netns exec $SRV nft list table ip other | grep -q added-meanwhile"

# a guarded restore must be refused by the kernel: the command moved the
# generation on, and nothing of the restore may happen
out=$("$SNAPTEST" "$SRV" -g -t inet web -- nft add rule inet web input counter comment \"after\" 2>&1)
check "guarded restore refused with a clear reason" grep -q 'ruleset changed' <<<"$out"
check "refused restore changed nothing" \
	sh -c "ip netns exec $SRV nft list chain inet web input | grep -q after"
srv nft delete rule inet web input handle \
	"$(srv nft -a list chain inet web input | sed -n 's/.*comment "after" # handle \([0-9]*\)/\1/p')"

# big: 10k rules referencing a 20k-element set
python3 - >"$TEST_TMP/big.nft" <<'EOF2'
print('table inet big {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = {')
print(', '.join('10.%d.%d.%d' % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(20000)))
print('\t\t}\n\t}\n\tchain c {\n\t\ttype filter hook input priority 10;')
for i in range(10000):
	print('\t\tip saddr @s tcp dport %d counter accept comment "r%d"' % (i + 1, i))
print('\t}\n}')
EOF2
srv nft -f "$TEST_TMP/big.nft" || bail "loading the big table"
BIG=$(srv nft -s list table inet big | md5sum)
out=$("$SNAPTEST" "$SRV" -t inet big -- nft flush table inet big 2>&1)
check "10k rules and 20k elements restored" grep -q '^restored$' <<<"$out"
check_eq "big table identical after restore" "$(srv nft -s list table inet big | md5sum)" "$BIG"
check_eq "20k set elements back" \
	"$(srv nft list set inet big s | tr ',' '\n' | grep -c '10\.')" 20000
finish
