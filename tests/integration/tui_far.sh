#!/bin/bash
# The counters far down a long chain (issue 18): each counter read there is
# a rule GET that the kernel answers by walking the chain from its start, so
# the live view reads them less often (nft/live.h, LIVE_COUNTER_SHARE) and
# the header says so; the counters still rise; back at the top the refresh
# is the configured one again.
. "$(dirname "$0")/../lib.sh"
TUI_SIZE=120x30
. "$(dirname "$0")/../tui_lib.sh"

N=50000
setup_net
{
	echo 'table inet far {'
	echo '	chain input {'
	echo '		type filter hook input priority filter; policy accept;'
	awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "\t\ttcp dport %d counter\n", 1000 + i % 50000 }'
	echo '		icmp type echo-request counter accept comment "last"'
	echo '	}'
	echo '}'
} >"$TEST_TMP/far.nft"
srv nft -f "$TEST_TMP/far.nft" || bail "nft -f a chain of $N rules"
printf 'refresh = 0.5\n' >"$TEST_TMP/far.conf"

tui_start NFPILOT_CONFIG="$TEST_TMP/far.conf" -- --theme mono || bail "the live view did not start"
expect "the long chain is shown" "inet far > input .* $((N + 1)) rules" 60
expect "at the top: the configured refresh" "every 0\.5s +[0-9]+ tables?"
keys Tab End
expect "at the end: the last rule is on screen" 'icmp type echo-request counter accept' 60

ip netns exec "$CLI" ping -n -q -i 0.1 -W 1 "$SRV_IP" >/dev/null 2>&1 &
BG_PIDS="$BG_PIDS $!"
expect "far down: the header says counters are read less often" \
	"every [0-9]+\.[0-9]s \(far down\) +[0-9]+ tables?" 20
pk() { local v; v=$(field pkts 'echo-request'); case "$v" in '' | *[!0-9]*) echo -1 ;; *) echo "$v" ;; esac; }
last_gt() { [ "$(pk)" -gt "$1" ]; }
if wait_until 20 last_gt 0; then p1=$(pk); ok "far down: the last rule's counter rises ($p1)"; else
	not_ok "far down: the last rule's counter stayed $(pk)"; show_screen; p1=0; fi
if wait_until 20 last_gt "$p1"; then ok "far down: and rises again ($p1 -> $(pk))"; else
	not_ok "far down: the counter stayed $p1"; show_screen; fi
every=$(screen | sed -n 's/.*every \([0-9.]*\)s (far down).*/\1/p' | head -n 1)
check "far down: the stretched interval is longer than the refresh ($every s)" \
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0.5 else 1)' "${every:-0}"

keys Home
if wait_gone '\(far down\)' 20; then ok "back at the top: the refresh is the configured one"; else
	not_ok "back at the top: still stretched"; fi
expect "... every 0.5 s" "every 0\.5s +[0-9]+ tables?"
tui_quit
finish
