#!/bin/sh
# make demo: a small live world to watch nfpilot in, built in two network
# namespaces so the machine's own firewall is never touched.
#
#   nfpilot-demo-srv  10.200.0.1   web server: nft table inet web (policy drop)
#                                  + iptables-nft: nat port forward 8080 -> 80,
#                                  filter rules, a mangle mark
#   nfpilot-demo-cli  10.200.0.2   client, and 10.200.1.2 (the management net)
#
# The client sends HTTP-ish requests to port 80 every ~0.5 s, to the forwarded
# port 8080, pings, SSH from the management address, and knocks on blocked
# ports. nfpilot runs inside the server as a live view. Ctrl-C (or q) ends
# it and removes everything.
# usage: sh tests/demo.sh NFPILOT   (DEMO_SECONDS=N: run N seconds, no screen)
set -u
NFP=$(readlink -f "${1:-./nfpilot}")
SRV=nfpilot-demo-srv
CLI=nfpilot-demo-cli
[ -x "$NFP" ] || { echo "demo: no nfpilot binary at ${1:-./nfpilot} (make nfpilot)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces, firewall rules)" >&2; exit 1; }
for tool in ip nft iptables socat ping; do
	command -v "$tool" >/dev/null 2>&1 || { echo "demo: $tool is missing (make deps-demo)" >&2; exit 1; }
done

remove_all() {
	for ns in "$SRV" "$CLI"; do
		[ -e "/run/netns/$ns" ] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
	done
	sleep 0.2
	for ns in "$SRV" "$CLI"; do
		[ -e "/run/netns/$ns" ] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
}
cleaned=
cleanup() {
	[ -n "$cleaned" ] && return
	cleaned=1
	stty sane 2>/dev/null
	echo
	echo "demo: removing $SRV and $CLI ..."
	remove_all
	rm -rf "$DEMO_TMP"
	echo "demo: done."
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM HUP

# stale namespaces of an earlier demo that was killed hard
remove_all

# the demo's history and boot file stay out of the machine's own
# (/var/lib/nfpilot, /etc/nftables.conf): S in the demo saves here
DEMO_TMP=$(mktemp -d /tmp/nfpilot-demo.XXXXXX)
export NFPILOT_LIB_DIR="$DEMO_TMP/lib"
export NFPILOT_CONFIG="$DEMO_TMP/nfpilot.conf"
printf 'save_file.%s = %s\n' "$SRV" "$DEMO_TMP/nftables.conf" >"$NFPILOT_CONFIG"

srv() { ip netns exec "$SRV" "$@"; }
cli() { ip netns exec "$CLI" "$@"; }

echo "demo: creating namespaces $SRV and $CLI ..."
ip netns add "$SRV" && ip netns add "$CLI" || exit 1
for ns in "$SRV" "$CLI"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	ip -n "$ns" link set lo up
done
ip -n "$SRV" link add v0 type veth peer name v0 netns "$CLI" || exit 1
ip -n "$SRV" addr add 10.200.0.1/24 dev v0
ip -n "$CLI" addr add 10.200.0.2/24 dev v0
ip -n "$CLI" addr add 10.200.1.2/24 dev v0
ip -n "$SRV" link set v0 up
ip -n "$CLI" link set v0 up
ip -n "$SRV" route add 10.200.1.0/24 via 10.200.0.2 dev v0

echo "demo: loading the server's firewall (nft + iptables) ..."
srv nft -f - <<'EOF' || exit 1
table inet web {
	set blocklist {
		type ipv4_addr
		flags interval
		elements = { 192.0.2.0/24, 198.51.100.66 }
	}
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related counter accept
		ct state invalid counter drop
		iif "lo" accept
		ip saddr @blocklist counter drop comment "blocklist"
		tcp dport 22 ip saddr 10.200.1.0/24 counter accept comment "ssh from the management net"
		tcp dport { 80, 443 } counter accept comment "web"
		udp dport 53 counter accept comment "dns"
		icmp type echo-request limit rate 10/second counter accept
		counter comment "dropped by policy"
	}
	chain output {
		type filter hook output priority filter; policy accept;
		counter
	}
}
EOF
srv iptables -A INPUT -p tcp --dport 23 -m comment --comment "no telnet" -j REJECT --reject-with tcp-reset
srv iptables -A INPUT -p tcp --dport 8443 -m conntrack --ctstate NEW -m comment --comment "closed https-alt" -j DROP
srv iptables -A INPUT -p icmp --icmp-type echo-request -m comment --comment "pings seen by iptables"
srv iptables -t nat -A PREROUTING -p tcp --dport 8080 -m comment --comment "port forward 8080 -> 80" -j DNAT --to-destination 10.200.0.1:80
srv iptables -t nat -A POSTROUTING -o v0 -m comment --comment "masquerade outgoing" -j MASQUERADE
srv iptables -t mangle -A PREROUTING -p tcp --dport 443 -m comment --comment "mark https" -j MARK --set-mark 0x2

echo "demo: starting servers (tcp 22 80 443, udp 53) ..."
for p in 22 443; do
	srv socat -T 5 "TCP-LISTEN:$p,reuseaddr,fork" "SYSTEM:read l; echo port$p \$l" >/dev/null 2>&1 &
done
srv socat -T 5 "TCP-LISTEN:80,reuseaddr,fork" \
	'SYSTEM:read l; printf "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"' >/dev/null 2>&1 &
srv socat -T 1 "UDP-RECVFROM:53,reuseaddr,fork" EXEC:cat >/dev/null 2>&1 &
sleep 0.5

echo "demo: starting client traffic ..."
# everything the client runs lives in its namespace (removed with it)
cli sh -c '
	while :; do
		printf "GET / HTTP/1.0\r\n\r\n" | socat -T 2 - TCP:10.200.0.1:80,connect-timeout=1 >/dev/null 2>&1
		sleep 0.5
	done' >/dev/null 2>&1 &
cli sh -c '
	i=0
	while :; do
		i=$((i + 1))
		printf "GET /fwd HTTP/1.0\r\n\r\n" | socat -T 2 - TCP:10.200.0.1:8080,connect-timeout=1
		echo q | socat -T 1 - UDP:10.200.0.1:53
		[ $((i % 2)) = 0 ] && echo hi | socat -T 2 - TCP:10.200.0.1:443,connect-timeout=1
		[ $((i % 3)) = 0 ] && echo x | socat -T 1 - TCP:10.200.0.1:8443,connect-timeout=0.5
		[ $((i % 3)) = 1 ] && echo x | socat -T 1 - TCP:10.200.0.1:23,connect-timeout=0.5
		[ $((i % 4)) = 0 ] && echo x | socat -T 1 - TCP:10.200.0.1:3306,connect-timeout=0.5
		[ $((i % 5)) = 0 ] && echo ssh | socat -T 2 - TCP:10.200.0.1:22,connect-timeout=1,bind=10.200.1.2
		[ $((i % 5)) = 2 ] && echo ssh | socat -T 1 - TCP:10.200.0.1:22,connect-timeout=0.5
		sleep 1
	done' >/dev/null 2>&1 &
cli ping -q -i 1 10.200.0.1 >/dev/null 2>&1 &

cat <<EOF

  nfpilot demo
  ------------
  server namespace  $SRV  10.200.0.1  (nft table inet web + iptables filter/nat/mangle)
  client namespace  $CLI  10.200.0.2, 10.200.1.2 (management net)
  traffic           HTTP to :80 every 0.5 s, :8080 forwarded to :80, :443, DNS,
                    ping every second, SSH from the management net, knocks on
                    blocked ports 22 (wrong net), 23, 3306, 8443
  live view         $NFP -N $SRV   (or: watch -n 1 $NFP -N $SRV list)
  try yourself      $NFP -N $SRV list --json | python3 -m json.tool
                    ip netns exec $SRV nft list ruleset
  safe apply        in the live view: b, 10.200.1.2 (the SSH client's address),
                    W, y: the change is on probation; without Y it is reverted
                    after 60 s (R now); H shows the history, S saves to
                    $DEMO_TMP/nftables.conf (not /etc)

  Quit with q (or Ctrl-C): both namespaces and all traffic are removed.
  Your own firewall (the root namespace) is not touched.

EOF

if [ -n "${DEMO_SECONDS:-}" ]; then
	# no screen (for testing the demo itself): a few plain listings
	end=$(($(date +%s) + DEMO_SECONDS))
	while [ "$(date +%s)" -lt "$end" ]; do
		sleep 1
	done
	"$NFP" -N "$SRV" list
	exit $?
fi

sleep 2
if [ -t 0 ] && [ -t 1 ] && "$NFP" --help 2>/dev/null | grep -q 'live view'; then
	# nfpilot's own live view (q quits it, ? shows the keys)
	"$NFP" -N "$SRV"
elif [ -t 0 ] && [ -t 1 ] && command -v watch >/dev/null 2>&1 && command -v bash >/dev/null 2>&1; then
	# watch redraws; a reader of the keyboard ends it on q
	watch -n 1 -t "'$NFP' -N '$SRV' list" &
	wpid=$!
	bash -c 'while IFS= read -rsn1 k; do [ "$k" = q ] || [ "$k" = Q ] && exit 0; done' </dev/tty
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
else
	while :; do
		clear 2>/dev/null || printf '\033[H\033[2J'
		date
		"$NFP" -N "$SRV" list
		echo "(Ctrl-C to quit)"
		sleep 1
	done
fi
