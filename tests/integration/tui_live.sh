#!/bin/bash
# The live view, driven by keys (tests/tui_lib.sh) on a web firewall in a
# test namespace with real traffic from the client: counters and rates of
# the right rules rise, idle rules stay 0, rules without a counter show
# "-", the numbers equal nft's, sort, pause, a rule added from outside,
# zeroing with confirmation; the counter columns at 80x24.
. "$(dirname "$0")/../lib.sh"
TUI_SIZE=160x30
. "$(dirname "$0")/../tui_lib.sh"

setup_net
srv nft -f - <<'EOF' || bail "nft -f web ruleset"
table inet web {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		icmp type echo-request counter accept comment "ping"
		tcp dport 80 counter accept comment "web"
		tcp dport 443 counter accept comment "idle"
		ct state established,related counter accept
		tcp dport 22 jump ssh
	}
	chain ssh {
		ip saddr 10.200.1.0/24 counter accept comment "mgmt"
		counter drop
	}
}
EOF
bg srv socat -T 5 TCP-LISTEN:80,reuseaddr,fork "SYSTEM:read l; echo port80 \$l" 2>/dev/null
wait_port "$SRV" tcp 80 || bail "socat on port 80"

PING='icmp type echo-request'
WEB='tcp dport 80 '
IDLE='tcp dport 443'
LO='iif "lo" accept'

# nft_ctr TEXT packets|bytes: the counter of the input rule containing TEXT
nft_ctr() {
	srv nft list chain inet web input |
		grep -F -- "$1" | sed -n "s/.*counter packets \([0-9]*\) bytes \([0-9]*\).*/\1 \2/p" |
		awk -v w="$2" '{ print (w == "packets" ? $1 : $2) }'
}
# int VALUE: digits only, else -1 (so comparisons fail loudly)
int() { case "$1" in '' | *[!0-9]*) echo -1 ;; *) echo "$1" ;; esac; }
pkts_of() { int "$(field pkts "$1")"; }
# pkts_gt TEXT N / pkts_ge TEXT N: the row's packets, read now, compared
pkts_gt() { [ "$(pkts_of "$1")" -gt "$2" ]; }
pkts_ge() { [ "$(pkts_of "$1")" -ge "$2" ]; }

# continuous pings, 10 a second, in the background
PING_PID=""
ping_start() {
	ip netns exec "$CLI" ping -n -q -i 0.1 -W 1 "$SRV_IP" >/dev/null 2>&1 &
	PING_PID=$!
	BG_PIDS="$BG_PIDS $PING_PID"
}
ping_stop() {
	[ -n "$PING_PID" ] && kill "$PING_PID" 2>/dev/null && wait "$PING_PID" 2>/dev/null
	PING_PID=""
}

t0=$(date +%s)
tui_start -- --theme mono || bail "the live view did not start"
expect "live view starts: header names the namespace" "netns $SRV"
expect "chain title of the first base chain" "inet web > input +\(filter hook input priority 0, policy drop\) +6 rules"
expect "column header" "# +pkts +bytes +pkt/s +B/s +history +handle +rule"
expect "tree shows the table and its chains" "^inet web"
check_eq "rule without counter: pkts '-'" "$(field pkts "$LO")" "-"
check_eq "rule without counter: rate columns 'no ctr'" "$(field pps "$LO") $(field bps "$LO")" "no ctr"

# ---- pings: the echo-request rule's packets rise, with a rate
ping_start
wait_until 5 pkts_gt "$PING" 0
p1=$(pkts_of "$PING")
check_ge "echo-request rule shows packets while pinging" "$p1" 1
if wait_until 5 pkts_gt "$PING" "$p1"; then
	ok "echo-request packets rise on the next refreshes ($p1 -> $(pkts_of "$PING"))"
else
	not_ok "echo-request packets rise: stayed $p1"; show_screen
fi
rate_nonzero() {
	local r
	r=$(field pps "$PING")
	awk -v r="$r" 'BEGIN { exit !(r ~ /^[0-9.]+[KMGTPE]?$/ && r + 0 > 0) }'
}
if wait_until 5 rate_nonzero; then
	ok "echo-request rule shows a non-zero pkt/s ($(field pps "$PING"))"
else
	not_ok "echo-request pkt/s non-zero: '$(field pps "$PING")'"; show_screen
fi

# ---- TCP to port 80
w0=$(pkts_of "$WEB")
n=$(tcp_conns 5 80)
check_eq "5 connections to port 80 answered" "$n" 5
if wait_until 4 pkts_ge "$WEB" $((w0 + 5)); then
	ok "port 80 rule's packets rise by >= 5 ($w0 -> $(pkts_of "$WEB"))"
else
	not_ok "port 80 rule's packets rise: $w0 -> $(pkts_of "$WEB")"; show_screen
fi
check_eq "idle port 443 rule stays 0 packets" "$(field pkts "$IDLE")" 0
check_eq "idle port 443 rule stays 0 pkt/s" "$(field pps "$IDLE")" 0

# ---- one scale per chain for the history column: one packet to the idle
# rule (a SYN answered by a reset), next to ~10 pings a second, draws a low
# bar, not a full one
cli socat -T 1 - "TCP:$SRV_IP:443,connect-timeout=1" </dev/null >/dev/null 2>&1
one_pkt() { [ "$(field pkts "$IDLE")" = 1 ]; }
wait_until 4 one_pkt || not_ok "the idle rule did not count the one SYN: $(field pkts "$IDLE")"
next_screen 3 >/dev/null
next_screen 3 >/dev/null
H=$(field history "$IDLE")
FULL=$(printf '\xe2\x96\x88') LOW=$(printf '\xe2\x96\x81')
if grep -qF "$FULL" <<<"$H" || ! grep -qF "$LOW" <<<"$H"; then
	not_ok "history of one packet next to the pings: '$H' (a full bar, or none)"
	show_screen
else
	ok "history of one packet next to the pings is low: '$H'"
fi

# ---- sort by rate: the pinged rule first, "#" keeps its real position
keys s
expect "s: header shows [sorted by rate]" "\[sorted by rate\]"
busiest() { first_rule_row | grep -qF "$PING"; }
if wait_until 4 busiest; then
	ok "sorted: the busiest rule (echo-request) is the first row"
else
	not_ok "sorted: first row is '$(first_rule_row)'"; show_screen
fi
check_eq "sorted: '#' of the first row is its real position 2" "$(field num "$PING")" 2
keys s
wait_gone "\[sorted by rate\]" 3
if first_rule_row | grep -qF "$LO"; then
	ok "s again: real order (rule 1 first)"
else
	not_ok "s again: first row '$(first_rule_row)'"
fi

# ---- pause: [PAUSED], counters stand still while nft's go on
keys p
expect "p: header shows [PAUSED]" "\[PAUSED\]"
pa=$(pkts_of "$PING")
na=$(nft_ctr "$PING" packets)
# two refreshes' time: the kernel counts 25 more pings (10 a second)
nft_past() { [ "$(nft_ctr "$PING" packets)" -ge $((na + 25)) ]; }
poll_until 10000 nft_past || not_ok "paused: the pings go on (nft's counter stays $na)"
dump
pb=$(pkts_of "$PING")
nb=$(nft_ctr "$PING" packets)
check_eq "paused: counters do not change ($pa, nft went $na -> $nb)" "$pb" "$pa"
check_ge "paused: the kernel's counter did move meanwhile" "$nb" $((na + 5))
keys p
wait_gone "\[PAUSED\]" 3
if wait_until 4 pkts_gt "$PING" "$pb"; then
	ok "p again: counters move again"
else
	not_ok "p again: counters stuck at $pb"; show_screen
fi

# ---- traffic stops: the screen equals nft's counters
ping_stop
same_as_nft() {
	local t
	for t in "$PING" "$WEB" "$IDLE" 'established,related'; do
		[ "$(field pkts "$t")" = "$(human "$(nft_ctr "$t" packets)")" ] || return 1
		[ "$(field bytes "$t")" = "$(human "$(nft_ctr "$t" bytes)")" ] || return 1
	done
}
if wait_until 4 same_as_nft; then
	ok "shown packets and bytes equal nft's ($PING: $(field pkts "$PING") / $(field bytes "$PING"))"
else
	not_ok "counters equal nft's: screen ping $(field pkts "$PING")/$(field bytes "$PING"), nft $(nft_ctr "$PING" packets)/$(nft_ctr "$PING" bytes); web screen $(field pkts "$WEB")/$(field bytes "$WEB"), nft $(nft_ctr "$WEB" packets)/$(nft_ctr "$WEB" bytes)"
	show_screen
fi
idle_rate() { [ "$(field pps "$PING")" = 0 ]; }
if wait_until 4 idle_rate; then ok "rate falls to 0 when traffic stops"; else
	not_ok "rate after traffic stopped: '$(field pps "$PING")'"; fi

# ---- select the port 80 rule, then rules appear from outside
keys Tab Down Down
sel_is() { selected_row | grep -qF -- "$1"; }
if wait_until 2 sel_is "$WEB"; then ok "Tab Down Down selects rule 3 (port 80)"; else
	not_ok "selection: '$(selected_row)'"; show_screen; fi
srv nft add rule inet web input tcp dport 8443 counter accept comment '"added-outside"' ||
	not_ok "nft add rule"
expect "a rule added by nft from outside appears within 2 s" "tcp dport 8443 counter accept comment \"added-outside\"" 2
expect "the title counts 7 rules" "inet web > input .* 7 rules" 2
srv nft insert rule inet web input tcp dport 9443 counter accept comment '"inserted-outside"' ||
	not_ok "nft insert rule"
expect "a rule inserted at the top from outside appears" "tcp dport 9443 .*inserted-outside" 2
if wait_until 2 sel_is "$WEB"; then
	ok "the selection stays on the port 80 rule after the insert"
else
	not_ok "selection jumped after an outside insert: '$(selected_row)'"; show_screen
fi
check_eq "the port 80 rule is now #4" "$(field num "$WEB")" 4

# ---- zero one rule: n and Esc cancel, y zeroes
# (by position, so that this part does not depend on the check above)
keys g Down Down
if wait_until 2 sel_is "$PING"; then ok "g Down Down selects the echo-request rule (#3)"; else
	not_ok "selection: '$(selected_row)'"; fi
zp=$(nft_ctr "$PING" packets)
check_ge "echo-request rule has packets before zeroing" "$zp" 10
keys z
expect "z asks for confirmation" "Zero the counters of rule 3 \(handle [0-9]+\) in chain input\? \[y/N\]"
keys n
expect "n cancels" "cancelled"
check_eq "after n: nft's counter unchanged" "$(nft_ctr "$PING" packets)" "$zp"
check_eq "after n: the screen still shows it" "$(field pkts "$PING")" "$(human "$zp")"
keys z
expect "z asks again" "Zero the counters of rule 3"
keys Esc
wait_gone "\[y/N\]" 2 && ok "Esc closes the question" || not_ok "Esc closes the question"
check_eq "after Esc: nft's counter unchanged" "$(nft_ctr "$PING" packets)" "$zp"
keys z
expect "z asks a third time" "\[y/N\]"
keys y
expect "y: counters zeroed" "counters zeroed"
zeroed() { [ "$(field pkts "$PING")" = 0 ] && [ "$(field bytes "$PING")" = 0 ]; }
if wait_until 3 zeroed; then ok "the zeroed rule shows 0 packets 0 bytes"; else
	not_ok "zeroed rule shows $(field pkts "$PING") / $(field bytes "$PING")"; show_screen; fi
check_eq "nft agrees: packets and bytes 0" "$(nft_ctr "$PING" packets) $(nft_ctr "$PING" bytes)" "0 0"
check_ge "other rules keep their counters (port 80)" "$(nft_ctr "$WEB" packets)" 5
check_eq "the port 80 row still shows them" "$(field pkts "$WEB")" "$(human "$(nft_ctr "$WEB" packets)")"

# ---- Z: every rule of the table (chain ssh too)
srv nft list chain inet web ssh | grep -q 'counter packets' || not_ok "ssh chain has counters"
n=$(tcp_blocked 1 22)
check_eq "a SYN to port 22 is dropped in chain ssh" "$n" 0
check_ge "chain ssh counted it (nft)" "$(srv nft list chain inet web ssh | sed -n 's/.*counter packets \([0-9]*\).*drop.*/\1/p')" 1
keys Z
expect "Z asks for the whole table" "Zero the counters of every rule in table inet web\? \[y/N\]"
keys y
expect "Z y: counters zeroed" "counters zeroed"
ctrs=$(srv nft list table inet web | grep -o 'counter packets [0-9]* bytes [0-9]*')
check_ge "Z y: nft lists the table's counters" "$(grep -c . <<<"$ctrs")" 5
check_eq "Z y: nft shows every counter of the table at 0" "$(grep -vc 'packets 0 bytes 0' <<<"$ctrs")" 0
web_zero() { [ "$(field pkts "$WEB")" = 0 ]; }
if wait_until 3 web_zero; then ok "Z y: the port 80 row shows 0"; else
	not_ok "Z y: port 80 row shows $(field pkts "$WEB")"; show_screen; fi

# ---- quit
tui_quit
check_eq "q quits with status 0" "$(tui_exit_status)" 0

# ---- 80x24: the counter columns stay, the rule text is cut (with a marker), not wrapped
check_eq "3 more connections to port 80" "$(tcp_conns 3 80)" 3
tui_start --size 80x24 -- --theme mono || bail "the live view did not start at 80x24"
expect "80x24: the column header keeps # pkts bytes pkt/s B/s" "# +pkts +bytes +pkt/s +B/s +rule$"
web_as_nft() {
	[ "$(field pkts "$WEB")" = "$(human "$(nft_ctr "$WEB" packets)")" ] &&
		[ "$(field bytes "$WEB")" = "$(human "$(nft_ctr "$WEB" bytes)")" ]
}
if wait_until 4 web_as_nft; then ok "80x24: the port 80 row shows nft's packets and bytes"; else
	not_ok "80x24: port 80 row $(field pkts "$WEB")/$(field bytes "$WEB"), nft $(nft_ctr "$WEB" packets)/$(nft_ctr "$WEB" bytes)"
	show_screen
fi
check "80x24: the rule text is cut at the right edge, with the marker" \
	on_screen 'tcp dport 80 counter.*…$'
tui_quit
check_eq "80x24: q quits with status 0" "$(tui_exit_status)" 0
if [ -s "$TEST_TMP/tui.err" ]; then
	not_ok "nfpilot wrote to stderr: $(head -c 1500 "$TEST_TMP/tui.err" | tr '\n' '|')"
else
	ok "nothing on stderr (no sanitizer report)"
fi
echo "# tui_live took $(($(date +%s) - t0)) s"
finish
