#!/bin/bash
# The connections screen's NAT column (issue 15): a connection both
# DNATed (a port forward) and SNATed, its NAT text longer than the
# column's 28: at 200 columns it is shown whole (the NAT column takes the
# room the others leave); where it cannot be (110 columns, 80x24), it ends
# in the cut marker;
# Enter shows the connection whole, NAT and both directions.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net
srv nft -f - <<EOF2
table ip nat {
	chain pre {
		type nat hook prerouting priority -100;
		tcp dport 8443 dnat to $SRV_IP:9000
	}
	chain in {
		type nat hook input priority 100;
		ip saddr $CLI_IP tcp dport 9000 snat to 10.200.0.77
	}
}
EOF2
srv ip addr add 10.200.0.77/32 dev lo
bg ip netns exec "$SRV" socat "TCP-LISTEN:9000,reuseaddr,fork" EXEC:cat
wait_port "$SRV" tcp 9000 || bail "echo server"
(sleep 300 | ip netns exec "$CLI" socat - "TCP:$SRV_IP:8443" >/dev/null 2>&1) &
BG_PIDS="$BG_PIDS $!"
poll_until 5000 eval 'srv conntrack -L 2>/dev/null | grep -q "dport=8443.*src=10.200.0.1 dst=10.200.0.77"' ||
	bail "no NATed connection: $(srv conntrack -L 2>&1 | head -3)"
NAT="dnat $SRV_IP:9000 snat 10.200.0.77:[0-9]+"

tui_start --size 200x30 || bail "the live view did not start"
keys 2
expect "200 columns: the NAT column shows both translations whole" "tcp .*$CLI_IP:[0-9]+ +$SRV_IP:8443 .*$NAT( |$)"
check "... not cut: no marker in the NAT cell" eval "! on_screen '$NAT[^ ]*[…>]'"

tui_start --size 110x30 || bail "the live view did not start"
keys 2
expect "110 columns: the NAT cell that does not fit ends in the cut marker" "dnat $SRV_IP:9000 snat [0-9.]*… "
keys Enter
expect "Enter: the connection whole" '^ connection  \(Up/Down scroll'
expect "... its NAT whole" "^nat +$NAT$"
expect "... and its reply direction" "^Reply: +$SRV_IP:9000 -> 10.200.0.77:[0-9]+$"
keys Esc
expect "Esc: back on the connections" 'connections [0-9]+ of'
tui_start --size 80x24 || bail "the live view did not start"
keys 2
expect "80x24: the NAT column is there, cut with the marker" "$SRV_IP:8443 +dnat [0-9.]*…$"
tui_end
finish
