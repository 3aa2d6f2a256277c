#!/bin/bash
# Every prompt is a line editor (issue 15, item 2: GNU readline, ui/prompt.h),
# driven by keys at 80x24 and at 160x40: cursor keys, Home/End, Ctrl-A/E/K/U/W,
# Alt-B/F, Delete; a line longer than the screen scrolls, a marker at each
# side where text is hidden; history per kind of prompt kept across runs (a file of
# mode 0600 in $XDG_STATE_HOME/nfpilot); Tab completes a chain, a set and an
# nft keyword, and lists what fits when more than one does; Esc cancels and
# the filter stays as it was; an empty filter clears it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

ns_add "$SRV" || bail "ip netns add $SRV"
srv nft -f - <<'EOF' || bail "a ruleset"
table inet web {
	set blocked_hosts { type ipv4_addr; elements = { 192.0.2.9 } }
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 accept
		tcp dport 80 accept
	}
	chain web_allow {
	}
	chain web_deny {
	}
}
EOF
HIST="$XDG_STATE_HOME/nfpilot"

# prompt_line: the status line (the prompt), its trailing blanks cut
prompt_line() { dump >/dev/null; screen | tail -n 1 | sed 's/ *$//'; }
# line_is DESC TEXT: the prompt line reads TEXT
line_is() { check_eq "$1" "$(prompt_line)" "$2"; }
# status_says ERE: the status line, with the lines a long message wraps onto
status_says() { screen | tail -n 3 | tr '\n' ' ' | grep -Eq -- "$1"; }

# to_input: the input chain's rules pane
to_input() {
	local i
	keys PgUp PgUp
	for i in $(seq 10); do
		screen | sed -n 2p | grep -q 'inet web > input' && break
		keys Down
	done
	keys Tab
}

start() {
	tui_start --size "$1" || bail "the live view did not start"
	wait_for 'F1 help' 10 >/dev/null || { show_screen; bail "the live view did not start"; }
	to_input
}


for size in 80x24 160x40; do
	rm -rf "$HIST"
	start "$size"

	# ---- moving and changing inside the line
	act append
	typein 'dport 81 accept'
	keys Ctrl-A
	typein 'tcp '
	line_is "$size: Ctrl-A then typing inserts at the start" \
		'Append rule: tcp dport 81 accept'
	keys Ctrl-W
	line_is "$size: Ctrl-W deletes the word before the cursor" \
		'Append rule: dport 81 accept'
	keys Ctrl-E
	typein ' comment "x"'
	line_is "$size: Ctrl-E then typing appends" \
		'Append rule: dport 81 accept comment "x"'
	keys Alt-b Alt-b Alt-b Ctrl-K
	line_is "$size: Alt-B three times then Ctrl-K cuts to the end" 'Append rule: dport 81'
	keys Home Alt-f Left Delete
	typein 'X'
	line_is "$size: Home, Alt-F, Left, Delete, typing: the last letter replaced" \
		'Append rule: dporX 81'
	keys End Left Left Bksp
	line_is "$size: End, Left Left, Bksp deletes before the cursor" 'Append rule: dporX 1'
	keys Right Right Right
	typein '!'
	line_is "$size: Right past the end stays at the end" 'Append rule: dporX 1 !'
	keys Ctrl-U
	line_is "$size: Ctrl-U clears the line" 'Append rule:'

	# ---- Tab: a chain, a set, a keyword; more than one fits: listed
	typein 'tcp dport 81 jump web_a'
	keys Tab
	line_is "$size: Tab completes a chain name" 'Append rule: tcp dport 81 jump web_allow'
	keys Ctrl-U
	typein 'jump web_'
	keys Tab
	expect "$size: Tab with two chains that fit lists both" 'web_allow +web_deny'
	line_is "$size: ... and the line keeps what they share" 'Append rule: jump web_'
	keys Ctrl-U
	typein 'ip saddr @blocked_h'
	keys Tab
	line_is "$size: Tab completes a set name after @" 'Append rule: ip saddr @blocked_hosts'
	typein 'dr'
	keys Tab
	line_is "$size: Tab completes an nft keyword" 'Append rule: ip saddr @blocked_hosts drop'
	keys Ctrl-U
	typein 'ip saddr @blocked_hosts counter dr'
	keys Tab Enter
	# the message may wrap onto the lines above the status line
	if wait_until 5 status_says 'staged.*@blocked_hosts counter d'; then
		ok "$size: Enter stages the completed rule"
	else
		not_ok "$size: Enter stages the completed rule: $(screen | tail -n 3 | tr '\n' '|')"
	fi
	act insert
	typein 'tcp dport 22 accept comment "old"'
	keys Home Enter
	act append
	typein 'ip saddr @blocked_hosts counter drop'
	keys Enter

	# ---- a staged chain completes too
	keys Tab
	act add-chain
	typein 'web_staged'
	keys Enter
	keys Tab
	act append
	typein 'jump web_st'
	keys Tab
	line_is "$size: Tab completes a staged chain's name" 'Append rule: jump web_staged'
	keys Esc
	act undo

	# ---- a line longer than the screen scrolls to keep the cursor on it
	# (nft takes a comment of up to 128 characters)
	long="tcp dport 1 accept comment \"$(printf 'x%.0s' $(seq 125))\""
	act append
	typein "$long"
	line=$(prompt_line)
	check "$size: a long line shows its end where the cursor is" \
		test "${line: -5}" = 'xxxx"' -a "${#line}" -le "${size%x*}"
	check "$size: ... and not its start" eval '! grep -q "tcp dport" <<<"$line"'
	check "$size: ... the marker after the label says text is hidden there" \
		eval 'grep -q "^Append rule: …" <<<"$line"'
	keys Home
	line=$(prompt_line)
	check "$size: Home shows its start again" \
		eval '[ "${line:0:36}" = "Append rule: tcp dport 1 accept comm" ]'
	check "$size: ... and the marker at the right edge that it goes on" \
		eval 'grep -q "x…$" <<<"$line"'
	keys Left Left End
	line=$(prompt_line)
	check "$size: End: its end again, the marker after the label" \
		eval 'grep -q "^Append rule: ….*x\"$" <<<"$line"'
	keys Esc

	# ---- Esc cancels: the filter stays; an empty filter clears it
	act filter
	typein 'dport 22'
	keys Enter
	expect "$size: a filter set" '\[filtered\]'
	expect_not "$size: ... dport 80 is not shown" 'tcp dport 80 accept'
	act filter
	line_is "$size: the filter prompt holds the filter" 'Filter: dport 22'
	keys Ctrl-U
	typein 'zzz'
	keys Esc
	expect "$size: Esc keeps the filter as it was" '\[filtered\]'
	expect_not "$size: ... dport 80 is still not shown" 'tcp dport 80 accept'
	act filter
	keys Ctrl-U Enter
	expect_not "$size: an empty filter clears it" '\[filtered\]'
	expect "$size: ... dport 80 is shown again" 'tcp dport 80 accept'

	# ---- history: per kind, across a restart
	act search
	typein 'dport 80'
	keys Enter
	act append
	keys Up
	line_is "$size: Up in a rule prompt recalls the last rule" \
		'Append rule: ip saddr @blocked_hosts counter drop'
	keys Down
	line_is "$size: Down comes back to the empty line" 'Append rule:'
	keys Esc
	act search
	keys Up
	line_is "$size: Up in the search prompt recalls the search, not the rule" \
		'Search: dport 80'
	keys Esc
	act discard
	keys y
	tui_end
	check "$size: the rules' history is a file" test -f "$HIST/history-rule"
	check_eq "$size: ... of mode 0600" "$(stat -c %a "$HIST/history-rule" 2>/dev/null)" 600
	check_eq "$size: ... its folder 0700" "$(stat -c %a "$HIST" 2>/dev/null)" 700
	start "$size"
	act append
	keys Up
	line_is "$size: after a restart Up recalls the rule typed before" \
		'Append rule: ip saddr @blocked_hosts counter drop'
	keys Ctrl-U Ctrl-R
	typein 'dport 22'
	line_is "$size: Ctrl-R searches the rules typed before" \
		"(reverse-i-search)\`dport 22': tcp dport 22 accept comment \"old\""
	keys End
	line_is "$size: ... End ends the search on what it found" \
		'Append rule: tcp dport 22 accept comment "old"'
	keys Esc
	act filter
	keys Up
	line_is "$size: the filter history after a restart" 'Filter: dport 22'
	keys Esc
	tui_end
done

# a state folder another user owns (sudo keeping a user's HOME): nothing
# written there as root, the prompt works, and it says so once
mkdir -p "$TEST_TMP/theirs" && chown nobody "$TEST_TMP/theirs"
tui_start --size 80x24 XDG_STATE_HOME="$TEST_TMP/theirs" || bail "the live view did not start"
wait_for 'F1 help' 10 >/dev/null
act search
typein 'dport 80'
keys Enter
expect "a state folder of another user: the history is not kept, it says why" \
	'prompt history not kept: .*theirs'
check "... nothing written in it" test ! -e "$TEST_TMP/theirs/nfpilot"
act search
keys Up
line_is "... yet Up recalls it within the run" 'Search: dport 80'
tui_end

# a history file that is no text the prompt takes is read as what it holds
mkdir -p "$HIST"
printf 'tcp dport 99 accept\n%s\n' "$(head -c 3000 /dev/zero | tr '\0' a)" >"$HIST/history-rule"
chmod 600 "$HIST/history-rule"
start 80x24
act append
keys Up
line_is "a too long line in the history file is left out" 'Append rule: tcp dport 99 accept'
tui_end

finish
