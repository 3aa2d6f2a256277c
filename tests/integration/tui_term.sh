#!/bin/bash
# The live view and its terminal, in tmux: resizing below the minimum and
# back, several TERM values, every shipped theme, NO_COLOR, a broken theme
# file and a config with an unknown key (reported with FILE:LINE in the
# status line), a rule comment full of terminal escape sequences (drawn
# harmlessly), the prompt's keys as a terminal sends them (Alt-b, Home,
# End, Esc), and q giving the terminal back.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tmux_lib.sh"

setup_net
# an iptables-nft table: rules written by iptables, one with a hostile comment
EVIL=$(printf '\033]0;PWNED\007\033[2J\033[31mevil')
srv iptables -A INPUT -p tcp --dport 80 -m comment --comment "web" -j ACCEPT ||
	bail "iptables -A INPUT"
srv iptables -A INPUT -m comment --comment "$EVIL" -j ACCEPT || bail "iptables comment rule"
srv iptables -A INPUT -p icmp -j ACCEPT || bail "iptables icmp rule"

TITLE_RE="ip filter > INPUT +\(filter hook input priority 0, policy accept\) +3 rules"
HINTS_RE="^F1 help +F3 search"
ROW_RE="^.* 1 +[0-9.KM]+ +[0-9.KM]+ .*tcp dport 80 .*accept"

t0=$(date +%s)

# ---- resize below the minimum and back
tui_start || bail "tmux new-session"
expect "starts on the iptables INPUT chain" "$TITLE_RE"
expect "the tree marks the iptables-nft table [ipt]" "^ip filter +\[ipt\]"
tmx resize-window -t "$TUI_SESSION" -x 40 -y 10
expect "40x10: 'Terminal too small (40x10).'" "^Terminal too small \(40x10\)\."
expect "40x10: 'nfpilot needs 60x12.'" "^nfpilot needs 60x12\."
expect_not "40x10: the rules are not drawn" "tcp dport 80"
tmx resize-window -t "$TUI_SESSION" -x 120 -y 30
expect "back to 120x30: the chain title again" "$TITLE_RE"
expect "back to 120x30: the rules again" "$ROW_RE"
expect "back to 120x30: the status line again" "$HINTS_RE"
expect_not "back to 120x30: no 'too small' left over" "too small"
check_eq "screen is 30 lines" "$(screen | wc -l)" 30
tmx resize-window -t "$TUI_SESSION" -x 60 -y 12
# tmux keeps part of the old screen until the view redraws: the header on
# the first line and the key hints on the 12th are both there only after
redrawn_12() { screen | sed -n 1p | grep -q '^ nfpilot ' && screen | sed -n 12p | grep -Eq "$HINTS_RE"; }
if wait_until 5 redrawn_12; then ok "60x12 (the minimum) draws the live view, header to key hints"
else not_ok "60x12: not redrawn with the header on line 1 and the hints on line 12"; show_screen; fi
expect_not "60x12 is not too small" "too small"
tmx resize-window -t "$TUI_SESSION" -x 120 -y 30
expect "120x30 again" "$TITLE_RE"

# ---- the hostile comment
if wait_until 3 sh -c "tmux -L '$TMUX_SOCK' capture-pane -p -t '$TUI_SESSION' | grep -qF '/* ?]0;PWNED??[2J?[31m'"; then
	ok "the comment is drawn with '?' for ESC and BEL"
else
	not_ok "escaped comment not shown as /* ?]0;PWNED??[2J?[31m..."; show_screen
fi
title=$(tmx display-message -p -t "$TUI_SESSION" '#{pane_title}')
case "$title" in
*PWNED*) not_ok "the pane title was changed by the comment: '$title'" ;;
*) ok "the pane title is not changed ('$title')" ;;
esac
expect "the header is intact" "^ nfpilot  .*netns $SRV"
expect "the tree is intact (the comment did not clear the screen)" "^  INPUT "
if screen_e | grep -q $'\e\[31m'; then
	# 31 = red foreground: the theme does not use it for rule text; the comment
	# must not have switched it on. The default theme's rule-drop is red, but
	# there are no drop rules here.
	not_ok "a red foreground (ESC [31m) appears on screen: the comment's escape got through"
	screen_e | grep $'\e\[31m' | head -3 | cat -v | sed 's/^/# /'
else
	ok "no ESC [31m from the comment reached the screen"
fi
keys q
expect "q quits: the shell sees EXIT=0" "^EXIT=0" 5
expect_not "q restores the screen: the live view is gone" "^ nfpilot  "
check_eq "q leaves the alternate screen" "$(tmx display-message -p -t "$TUI_SESSION" '#{alternate_on}')" 0
check_eq "q makes the cursor visible again" "$(tmx display-message -p -t "$TUI_SESSION" '#{cursor_flag}')" 1

# ---- TERM values
for term in vt100 screen tmux-256color xterm-256color; do
	tui_start TERM=$term || bail "tmux new-session"
	if wait_for "$TITLE_RE" 5 >/dev/null && wait_for "$ROW_RE" 2 >/dev/null &&
		wait_for "^ nfpilot  .*netns $SRV" 2 >/dev/null && wait_for "$HINTS_RE" 2 >/dev/null; then
		ok "TERM=$term draws header, title, rules and status line"
	else
		not_ok "TERM=$term draws the screen"; show_screen
	fi
	keys t
	expect "TERM=$term: keys work (t hides the tree)" "^ ip filter > INPUT " 3
	tui_quit
	check_eq "TERM=$term: q exits 0" "$(tui_exit_status)" 0
done

# ---- themes
for th in default light mono; do
	tui_start -- --theme "$th" || bail "tmux new-session"
	expect "--theme $th loads: the status line shows the key hints, no warning" "$HINTS_RE"
	expect "--theme $th: the rules are drawn" "$ROW_RE" 2
	tui_quit
	check_eq "--theme $th: q exits 0" "$(tui_exit_status)" 0
done
# installed with another PREFIX than the default: the themes are found
# beside the binary's PREFIX (make install PREFIX=/usr after make)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
if make -s -C "$TOP" install PREFIX=/usr DESTDIR="$TEST_TMP/inst" >"$TEST_TMP/inst.log" 2>&1; then
	SAVED=$NFPILOT
	NFPILOT=$TEST_TMP/inst/usr/sbin/nfpilot
	tui_start -- --theme light || bail "tmux new-session"
	expect "make install PREFIX=/usr: --theme light loads from the installed themes" "$HINTS_RE"
	tui_quit
	NFPILOT=$SAVED
else
	not_ok "make install PREFIX=/usr DESTDIR=...: $(head -c 400 "$TEST_TMP/inst.log")"
fi
# the shipped themes differ on screen: the set of attributes used
tui_start -- --theme light
wait_for "$HINTS_RE" >/dev/null
light_hdr=$(screen_e | grep -oE $'\e\\[[0-9;]*m' | sort -u | tr -d '\n')
tui_start -- --theme default
wait_for "$HINTS_RE" >/dev/null
dflt_hdr=$(screen_e | grep -oE $'\e\\[[0-9;]*m' | sort -u | tr -d '\n')
if [ "$light_hdr" != "$dflt_hdr" ]; then ok "light and default themes draw differently"; else
	not_ok "light and default themes use the same attributes: $(printf '%s' "$dflt_hdr" | cat -v)"; fi

# NO_COLOR: no colour at all, the selection still visible (reverse)
tui_start NO_COLOR=1 || bail "tmux new-session"
expect "NO_COLOR=1: the live view is drawn" "$TITLE_RE"
expect "NO_COLOR=1: no warning in the status line" "$HINTS_RE"
colours=$(screen_e | grep -oE $'\e\\[[0-9;]*m' | grep -E '\[(3[0-7]|4[0-7]|9[0-7]|10[0-7]|38;|48;)' | sort -u | tr '\n' ' ')
check_eq "NO_COLOR=1: no colour escape on screen" "$(printf '%s' "$colours" | cat -v)" ""
if screen_e | grep -qE $'\e\\[[0-9;]*7[;m]'; then ok "NO_COLOR=1: reverse video marks the selection and bars"; else
	not_ok "NO_COLOR=1: no reverse video on screen"; fi
tui_quit

# a broken theme file: FILE:3: unknown colour, the default theme, still works
cat >"$TEST_TMP/broken.theme" <<'EOF'
# a theme with a mistake on line 3
header = white blue bold
selected = purple black
EOF
tui_start -- --theme "$TEST_TMP/broken.theme"
expect "broken theme: the status line names FILE:3: and the unknown colour" \
	"^$TEST_TMP/broken\.theme:3: unknown colour 'purple'"
expect "broken theme: the live view is drawn anyway" "$ROW_RE"
keys t
expect "broken theme: keys work (t hides the tree)" "^ ip filter > INPUT " 3
tui_quit
check_eq "broken theme: q exits 0" "$(tui_exit_status)" 0

# only one colour on line 3: still FILE:3:
printf '# one colour only\nheader = white blue\nselected = purple\n' >"$TEST_TMP/short.theme"
tui_start -- --theme "$TEST_TMP/short.theme"
expect "theme line 'selected = purple': the status line names FILE:3:" "^$TEST_TMP/short\.theme:3: "
tui_quit

# a theme that does not exist
tui_start -- --theme no-such-theme
expect "missing theme: a warning in the status line" "no-such-theme" 5
expect "missing theme: the live view is drawn anyway" "$ROW_RE"
tui_quit

# a config with an unknown key
cat >"$TEST_TMP/config" <<'EOF'
# nfpilot config
refresh = 2
colour = blue
EOF
tui_start NFPILOT_CONFIG="$TEST_TMP/config"
expect "config: '$TEST_TMP/config:3: unknown key 'colour'' in the status line" \
	"^$TEST_TMP/config:3: unknown key 'colour'"
expect "config: the valid line still applies (every 2.0s)" "every 2\.0s"
expect "config: the live view is drawn" "$ROW_RE"
tui_quit
check_eq "config with an unknown key: q exits 0" "$(tui_exit_status)" 0

# a chain long enough to arrive in many slices: the rows on screen must
# survive the rule array growing under them (found: a use after free)
python3 -c '
print("table inet long {\n\tchain big {\n\t\ttype filter hook input priority 50;")
for i in range(20000):
    print("\t\ttcp dport %d counter accept" % (i % 60000 + 1))
print("\t}\n}")' >"$TEST_TMP/long.nft"
srv nft -f "$TEST_TMP/long.nft" || bail "loading a 20k-rule chain"
tui_start
expect "the view is up" "$ROW_RE"
keys /
keys_l big
keys Enter
expect "a 20k-rule chain loads to the end" "big  \(filter hook input priority 50, policy accept\)  20000 rules$" 60
keys Tab G
expect "End shows its last rule while the text arrives" "^.* 20000 " 10
tui_quit
check_eq "the 20k-rule chain: q exits 0 (no sanitizer abort)" "$(tui_exit_status)" 0
srv nft delete table inet long

# the prompt's editor on a real terminal: what tmux sends for Alt-b (Esc b
# at once), Home and End (the terminal's own sequences), and Esc alone
tui_start
expect "the view is up (prompt keys)" "$ROW_RE"
keys /
keys_l 'dport 80'
keys M-b
keys_l X
expect "Alt-B from a terminal: a word back" '^Search: dport X80 *$'
keys Home
keys_l 'tcp '
keys End
keys_l '!'
expect "Home and End from a terminal" '^Search: tcp dport X80! *$'
keys Escape
expect "Esc alone cancels the prompt" "$HINTS_RE"
tui_quit
check_eq "prompt keys: q exits 0" "$(tui_exit_status)" 0

if [ -s "$TEST_TMP/tui.err" ]; then
	not_ok "nfpilot wrote to stderr: $(head -c 1500 "$TEST_TMP/tui.err" | tr '\n' '|')"
else
	ok "nothing on stderr (no sanitizer report)"
fi
echo "# tui_term took $(($(date +%s) - t0)) s"
finish
