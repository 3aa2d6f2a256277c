#!/bin/bash
# Every screen at 80x24 and at the minimum, 60x12 (issue 15, item 1), as a
# person sees it: the whole screen compared with the one kept in
# tests/integration/screens/ (SIZE-NAME.txt; the header's host, namespace
# and generation, and dates, replaced by placeholders; its badge kept). The tree narrows
# (policy, then hook dropped before names are cut; a cut name shows both
# ends and the marker; the title holds the selected name whole), rule text
# ends in a marker where it continues and scrolls with > and <, a rule
# shows whole with r, and a y/N question wraps with its [y/N] on screen.
# UPDATE_SCREENS=1 writes the screens instead (to review with git diff).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

SCREENS="$(cd "$(dirname "$0")" && pwd)/screens"
setup_net
srv nft -f - <<'EOF' || bail "the test ruleset"
table inet filter {
	set blocked { type ipv4_addr; elements = { 192.0.2.1 } }
	chain input { type filter hook input priority 0; policy accept;
		ct state invalid drop
		iif "lo" accept
		ip saddr @blocked drop
		tcp dport 22 ip saddr 10.200.1.0/24 ct state new limit rate 3/minute accept comment "ssh from the management network only"
		tcp dport { 80, 443 } accept
		jump DOCKER-ISOLATION-STAGE-1
	}
	chain DOCKER-ISOLATION-STAGE-1 { jump DOCKER-ISOLATION-STAGE-2; }
	chain DOCKER-ISOLATION-STAGE-2 { counter return; }
	chain forward { type filter hook forward priority 0; policy drop; }
}
table ip nat {
	chain PREROUTING { type nat hook prerouting priority dstnat; policy accept; tcp dport 8080 dnat to 10.200.0.1:80; }
	chain POSTROUTING { type nat hook postrouting priority srcnat; policy accept; oifname "v0" masquerade; }
}
EOF
printf 'save_file = %s\n' "$TEST_TMP/none.nft" >"$TEST_TMP/nfpilot.conf"

# normal: the screen with what varies replaced
normal() {
	screen | sed -E -e 's/^ nfpilot  .*(\[[^]]*\])$/ nfpilot  HEADER  \1/' \
		-e 's/^ nfpilot  .*  connections [0-9]+ of [0-9]+.*/ nfpilot  HEADER  connections N of M (cut where its host and namespace end)/' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?/DATE/g' \
		-e "s/$SRV/NETNS/g"
}

# shot SIZE NAME DESC: the screen as kept, or kept anew (UPDATE_SCREENS=1)
shot() {
	local want="$SCREENS/$1-$2.txt"
	dump
	if [ -n "${UPDATE_SCREENS:-}" ]; then
		mkdir -p "$SCREENS"
		normal >"$want"
		ok "$1 $3: kept as $want"
		return
	fi
	if [ ! -f "$want" ]; then
		not_ok "$1 $3: no $want (UPDATE_SCREENS=1 makes it)"
		return
	fi
	if diff -u "$want" <(normal) >"$TEST_TMP/diff"; then
		ok "$1 $3: the whole screen"
	else
		not_ok "$1 $3: the screen differs from $want"
		sed 's/^/# /' "$TEST_TMP/diff" | head -60
	fi
}

sel_is() { selected_row | grep -qF -- "$1"; }

for size in 80x24 60x12; do
	cols=${size%x*}
	tui_start --size "$size" NFPILOT_CONFIG="$TEST_TMP/nfpilot.conf" -- --theme mono ||
		bail "the live view did not start at $size"
	wait_for 'F1 help' 10 >/dev/null
	shot "$size" rules "the ruleset screen at start (the tree has the focus)"
	keys Down
	expect "$size: the selected chain's name is whole in the title" \
		' DOCKER-ISOLATION-STAGE-1  1 rule'
	keys Tab
	shot "$size" rules-docker "a long chain name: cut in its middle in the tree, whole in the title"
	keys Tab Up Tab
	shot "$size" rules-input "the input chain: rule text cut with a marker"
	keys Down Down Down
	keys '>'
	shot "$size" scrolled "> scrolls the rule text: a marker where it went"
	keys '<'
	expect "$size: < scrolls back" '^.*│ +4 +.* tcp dport 22 ip'
	keys r
	shot "$size" detail "r: the rule whole, wrapped, with its counter, comment and chain"
	keys Esc
	keys Up
	keys r
	expect "$size: r on a rule using a set names the set" '^Uses set blocked.* \(1 element\)$'
	keys Esc
	keys P
	wait_for '\[y/N\]' 3 >/dev/null
	shot "$size" question "a y/N question wraps, its [y/N] on screen"
	keys n
	keys d
	[ "$size" = 80x24 ] && expect "$size: d says what it staged in words" \
		'^staged \(1, W applies\): delete rule 3 \(ip saddr @blocked drop\) of chain input$'
	keys v
	shot "$size" pending "the pending changes"
	keys Esc u
	keys K
	[ "$size" = 80x24 ] && expect "$size: K says what it staged in words" \
		'^staged \(1, W applies\): move rule 3 \(ip saddr @blocked drop\) above rule 2 \(iif$'
	keys u
	keys :
	typein 5
	keys Enter
	if sel_is '  5 '; then ok "$size: :5 goes to rule 5"; else
		not_ok "$size: :5 goes to rule 5: selected '$(selected_row)'"; show_screen; fi
	keys '?'
	shot "$size" help "the help"
	keys Esc
	keys H
	shot "$size" history "the history (empty)"
	keys Esc
	keys 2
	shot "$size" conns "the connections screen"
	keys 1
	tui_quit
	check_eq "$size: q quits with status 0" "$(tui_exit_status)" 0
done
if [ -s "$TEST_TMP/tui.err" ]; then
	not_ok "nfpilot wrote to stderr: $(head -c 1500 "$TEST_TMP/tui.err" | tr '\n' '|')"
else
	ok "nothing on stderr (no sanitizer report)"
fi
finish
