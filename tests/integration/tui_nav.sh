#!/bin/bash
# Moving around the live view, driven by keys (tests/tui_lib.sh): search across chains (/, n, N),
# following a jump rule and coming back, the filter, the help screen (every
# action of ui/keymap.h listed), hiding the tree, switching panes, paging
# through a chain of 300 rules, the mouse (clicks on the view's terminal);
# at 80x24 the whole screen.
. "$(dirname "$0")/../lib.sh"
TUI_SIZE=160x30
. "$(dirname "$0")/../tui_lib.sh"
KEYMAP_H="$(dirname "$0")/../../ui/keymap.h"

setup_net
{
	cat <<'EOF'
table inet web {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related counter accept
		icmp type echo-request counter accept comment "ping"
		tcp dport 80 counter accept comment "web"
		tcp dport 443 counter accept comment "tls"
		tcp dport 22 jump ssh
		udp dport 53 counter accept
		counter jump big
	}
	chain ssh {
		ip saddr 10.200.1.0/24 counter accept comment "needle one"
		counter drop
	}
	chain other {
		ip saddr 192.0.2.1 counter drop comment "needle two"
	}
	chain big {
EOF
	for i in $(seq 1 299); do
		printf '\t\tip saddr 198.51.%d.%d counter drop\n' $((i / 250)) $((i % 250 + 1))
	done
	printf '\t\tip saddr 203.0.113.99 counter drop comment "last-rule"\n'
	printf '\t}\n}\n'
} >"$TEST_TMP/web.nft"
srv nft -f "$TEST_TMP/web.nft" || bail "nft -f web ruleset"

sel_is() { selected_row | grep -qF -- "$1"; }
# expect_sel DESC TEXT: the selected rule row contains TEXT
expect_sel() {
	if wait_until 2 sel_is "$2"; then ok "$1"; else
		not_ok "$1: selected row is '$(selected_row)'"; show_screen; fi
}
title_re() { echo "^.{0,40} inet web > $1 "; }

t0=$(date +%s)
tui_start -- --theme mono || bail "the live view did not start"
expect "live view starts on inet web > input" "$(title_re input)"
# search looks into loaded chains: the driver starts once the view is idle,
# that is every chain loaded, so the first screen already counts them all
check "idle at start: the tree counts the 300 rules of chain big" on_screen "^  big +300 *│"
check "idle at start: the tree lists chain ssh with its 2 rules" on_screen "^  ssh +2 *│"

# ---- search
keys /
expect "/ opens the search prompt" "^Search:"
typein "needle"
expect "typed text shows in the prompt" "^Search: needle"
keys Enter
expect "Enter: search opens chain ssh" "$(title_re ssh)"
expect_sel "search selects the matching rule (needle one)" 'comment "needle one"'
keys n
expect "n: next match in chain other" "$(title_re other)"
expect_sel "n selects 'needle two'" 'comment "needle two"'
keys N
expect "N: back to chain ssh" "$(title_re ssh)"
expect_sel "N selects 'needle one' again" 'comment "needle one"'
keys /
typein "no-such-text-anywhere"
keys Enter
expect "a search without a match says so" "'no-such-text-anywhere' not found"

# ---- jump and back
keys /
typein "jump ssh"
keys Enter
expect "search 'jump ssh' opens input" "$(title_re input)"
expect_sel "the jump rule is selected" "tcp dport 22 jump ssh"
keys Enter
expect "Enter on 'jump ssh' opens chain ssh" "$(title_re ssh)"
expect_sel "in ssh, the first rule is selected" 'comment "needle one"'
keys Bksp
expect "Backspace returns to input" "$(title_re input)"
expect_sel "... with the jump rule still selected" "tcp dport 22 jump ssh"
keys Down Down Right
expect "Right on 'counter jump big' opens chain big" "$(title_re big)"
keys Left
expect "Left returns to input" "$(title_re input)"
expect_sel "... with 'counter jump big' selected" "counter jump big"
keys Up Up
expect_sel "Up Up selects the jump to ssh again" "tcp dport 22 jump ssh"
keys Up Enter
expect "Enter on a rule that is no jump shows it whole" "^Rule [0-9]+ of chain input, table"
expect "... with its handle and counter" "^Handle: +[0-9]+"
keys Esc
expect "... Esc closes it: back in input" "$(title_re input)"

# ---- filter
n_all=$(rules_rows | grep -cE '^ +[0-9]+ ')
check_eq "input shows its 8 rules" "$n_all" 8
keys '\'
expect "\\ opens the filter prompt" "^Filter:"
typein "dport"
keys Enter
expect "filter: header says [filtered]" "\[filtered\]"
expect "filter: title shows the pattern" "$(title_re input).*filter: dport"
n_f=$(rules_rows | grep -cE '^ +[0-9]+ ')
n_fd=$(rules_rows | grep -E '^ +[0-9]+ ' | grep -c dport)
check_eq "filter 'dport' leaves the 4 matching rules" "$n_f" 4
check_eq "... and only rules containing 'dport'" "$n_fd" 4
if rules_rows | grep -qE '^ +7 .*udp dport 53'; then
	ok "filtered rows keep their real position (#7 udp dport 53)"
else
	not_ok "filtered rows keep positions: $(rules_rows | tr '\n' '|')"
fi
keys '\'
expect "\\ again: the prompt holds the current filter" "^Filter: dport"
keys Bksp Bksp Bksp Bksp Bksp
expect "the pattern can be erased" "^Filter: *$"
keys Enter
wait_gone "\[filtered\]" 2 && ok "empty filter: [filtered] is gone" || not_ok "empty filter turns it off"
check_eq "empty filter: all 8 rules again" "$(rules_rows | grep -cE '^ +[0-9]+ ')" 8

# ---- help lists every action of the keymap
keys '?'
expect "? opens the help screen" "nfpilot help"
: >"$TEST_TMP/help.txt"
for i in $(seq 130); do
	screen >>"$TEST_TMP/help.txt"
	keys Down
done
screen >>"$TEST_TMP/help.txt"
missing=""
nhelp=0
while IFS= read -r h; do
	[ -n "$h" ] || continue
	nhelp=$((nhelp + 1))
	grep -qF -- "$h" "$TEST_TMP/help.txt" || missing="$missing|$h"
done < <(sed -n 's/.*, "\([^"]*\)") *\\\{0,1\}$/\1/p' "$KEYMAP_H")
check_ge "keymap.h has help texts to look for" "$nhelp" 20
check_eq "the help screen lists every action's help text ($nhelp)" "$missing" ""
gmissing=""
for g in $(sed -n 's/^\tX([A-Z_]*, "[^"]*", "\([^"]*\)".*/\1/p' "$KEYMAP_H" | sort -u | tr ' ' '_'); do
	grep -qF -- "${g//_/ }" "$TEST_TMP/help.txt" || gmissing="$gmissing|${g//_/ }"
done
check_eq "the help screen shows every group" "$gmissing" ""
check_eq "the help shows each screen's keys under its own heading, no '(connections: ...)' notes" \
	"$(grep -c '(connections:' "$TEST_TMP/help.txt")" 0
if grep -qE '^  \? F1 +Show this help' "$TEST_TMP/help.txt" &&
	grep -qE '^  q F10 +Quit nfpilot' "$TEST_TMP/help.txt"; then
	ok "help lists the keys of each action ('? F1', 'q F10')"
else
	not_ok "help keys column: $(grep -E 'Show this help|Quit nfpilot' "$TEST_TMP/help.txt" | head -2 | tr '\n' '|')"
fi
# scrolled far past the end, the help still shows its last lines: scrolling
# stops at the end (otherwise one Up per extra Down is needed to come back)
expect "help: Down stops at the end, the last line stays on screen" "Mouse: click selects" 2
keys Up
# one Up moves one line back: the notes before the last line are still there
expect "help: one Up after scrolling to the end shows the previous lines again" "are highlighted. Rates are per second" 2
keys q
expect "q closes the help (and does not quit)" "$(title_re input)"
if [ -z "$(tui_exit_status)" ]; then ok "still running after q in help"; else
	not_ok "q in help quit nfpilot"; fi

# ---- refresh interval
keys +
expect "+: refresh every 0.5 s (header)" "every 0\.5s"
keys - -
expect "- -: refresh every 2.0 s" "every 2\.0s"
keys +
expect "+: back to every 1.0 s" "every 1\.0s"

# ---- hide the tree, switch panes
keys t
expect "t hides the tree: the rules pane starts at the left edge" "^ inet web > input "
expect_not "t: no tree rows left" "^  ssh "
keys t
expect "t again shows the tree" "^  ssh +2"
keys Tab
treesel_is() { tree_selected | grep -qF -- "$1"; }
if wait_until 2 treesel_is "input"; then ok "Tab: the tree has the focus (input highlighted)"; else
	not_ok "Tab to tree: tree selection '$(tree_selected)'"; show_screen; fi
if selected_row >/dev/null; then
	not_ok "with the tree focused no rule row is highlighted: '$(selected_row)'"
else
	ok "with the tree focused no rule row is highlighted"
fi
keys Down
expect "Down in the tree moves to the next chain (ssh)" "$(title_re ssh)"
keys Tab
expect_sel "Tab again: the rules pane has the focus" 'comment "needle one"'

# ---- a chain of 300 rules: PgDn, End, Home
keys Tab Down Down
expect "Down Down in the tree opens chain big" "$(title_re big).*300 rules"
keys Tab
expect_sel "Tab: the first rule of big is selected" "198.51.0.2 "
keys PgDn
page=$(($(rules_rows | grep -cE '^ +[0-9]+ ') - 1))
sel_num() { selected_row | awk '{print $1}'; }
check_eq "PgDn moves the selection one page down (#$((page + 1)))" "$(sel_num)" $((page + 1))
keys PgDn
check_eq "PgDn again: #$((2 * page + 1))" "$(sel_num)" $((2 * page + 1))
keys End
expect "End shows the last rule" '^.* 300 .*203\.0\.113\.99 counter drop comment "last-rule"'
expect_sel "End selects the last rule" "last-rule"
keys Home
expect_sel "Home selects the first rule" "198.51.0.2 "
keys G
expect_sel "G selects the last rule" "last-rule"
keys g
expect_sel "g selects the first rule" "198.51.0.2 "
for i in $(seq 14); do keys PgDn; done
expect "PgDn repeated stops at the last rule" 'last-rule'
expect_sel "... which is selected" "last-rule"
keys PgUp
check_eq "PgUp goes back one page" "$(sel_num)" $((300 - page))

# ---- mouse: a click as the terminal sends it (in its terminfo's kmous
# form), written on the view's terminal: ncurses reads a person's click
row_y() { screen | grep -nE -m1 -- "$1" | cut -d: -f1; }
y=$(($(row_y '^  ssh ') - 1))
click 3 "$y"
expect "mouse: a click on the tree row 'ssh' opens chain ssh" "$(title_re ssh)"
if wait_until 2 treesel_is "ssh"; then ok "mouse: ... and the tree has the focus on it"; else
	not_ok "mouse: tree selection after the click: '$(tree_selected)'"; show_screen; fi
y=$(($(row_y '^.* 2 .*counter drop *$') - 1))
click 60 "$y"
expect_sel "mouse: a click on rule 2 of ssh selects it" "counter drop"
check_eq "mouse: the selected rule is #2" "$(sel_num)" 2
y=$(($(row_y '^  other ') - 1))
click 3 "$y"
expect "mouse: a click on the tree row 'other' opens chain other" "$(title_re other)"

tui_quit
check_eq "q quits with status 0" "$(tui_exit_status)" 0

# ---- 80x24, the whole screen as a person sees it: the start, and the
# search prompt over the status line (the header's host, namespace and
# generation vary: checked apart)
printf 'save_file.%s = %s\n' "$SRV" "$TEST_TMP/none.nft" >"$TEST_TMP/nfpilot.conf"
tui_start --size 80x24 NFPILOT_CONFIG="$TEST_TMP/nfpilot.conf" -- --theme mono ||
	bail "the live view did not start at 80x24"
check "80x24: the header, with [not saved] at its right end" \
	on_screen "^ nfpilot  .*\[not saved: lost at reboot\]$"
check_eq "80x24: the screen below the header" "$(screen | sed 1d)" "$(cat <<'EOF'
inet web                 │ inet web > input  (input, drop)  8 rules
  input       in drop   8│  #   pkts  bytes  pkt/s    B/s rule
  ssh                   2│  1      -      -     no    ctr iif "lo" accept
  other                 1│  2      0      0               ct state established,…
  big                 300│  3      0      0               icmp type echo-reques…
                         │  4      0      0               tcp dport 80 counter …
                         │  5      0      0               tcp dport 443 counter…
                         │  6      -      -     no    ctr tcp dport 22 jump ssh
                         │  7      0      0               udp dport 53 counter …
                         │  8      0      0               counter jump big
                         │
                         │
                         │
                         │
                         │
                         │
                         │
                         │
                         │
                         │
                         │
                         │
F1 help  F3 search  F4 filter  F6 sort  F7 pause  F8 zero  F2 toggle-tree
EOF
)"
check_eq "80x24: the tree has the focus, on chain input" "$(tree_selected)" "  input       in drop"
keys Tab /
typein "needle"
check_eq "80x24: Tab, / and text: the rule selected, the prompt on the status line" \
	"$(selected_row; screen | tail -n 1)" \
	"$(printf '%s\n' '  1      -      -     no    ctr iif "lo" accept' 'Search: needle')"
keys Enter
expect "80x24: the search opens chain ssh" "$(title_re ssh)"
tui_quit
check_eq "80x24: q quits with status 0" "$(tui_exit_status)" 0
if [ -s "$TEST_TMP/tui.err" ]; then
	not_ok "nfpilot wrote to stderr: $(head -c 1500 "$TEST_TMP/tui.err" | tr '\n' '|')"
else
	ok "nothing on stderr (no sanitizer report)"
fi
echo "# tui_nav took $(($(date +%s) - t0)) s"
finish
