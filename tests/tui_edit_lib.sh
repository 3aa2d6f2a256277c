# tests/tui_edit_lib.sh — helpers of the editing tests (sourced after
# tests/lib.sh and tests/tui_lib.sh, once setup_net ran): start and stop the
# live view, go to a chain or a rule, stage an edit through its prompt, apply
# on probation and confirm, and the kernel's rules to compare with.

FOCUS=tree

# start: the live view on $SRV (TERM=xterm-256color, as a user's terminal)
start() {
	tui_start || bail "the live view did not start"
	FOCUS=tree
	wait_for 'F1 help' 10 >/dev/null || { show_screen; bail "the live view did not start"; }
}
stop() {
	local p
	keys Esc Esc
	tui_quit
	check "q ends the live view" test -n "$(tui_exit_status)"
	tui_stop
	# a live view left behind without its terminal (it would spin): ours, by pid
	for p in $(pgrep -f "nfpilot -N $SRV\$" 2>/dev/null); do
		not_ok "nfpilot $p still runs after its terminal closed"
		kill -9 "$p" 2>/dev/null
	done
	if [ -s "$TEST_TMP/tui.err" ] && grep -q 'Sanitizer' "$TEST_TMP/tui.err"; then
		not_ok "sanitizer report: $(head -c 1500 "$TEST_TMP/tui.err" | tr '\n' '|')"
	fi
}

# focus tree|rules
focus() {
	[ "$FOCUS" = "$1" ] && return
	keys Tab
	FOCUS=$1
}

# goto_chain "FAMILY TABLE" CHAIN: select the chain in the tree (header of
# the rules pane says "FAMILY TABLE > CHAIN"), then focus the rules pane
goto_chain() {
	local i re="$1 > $2( |$)" h prev= same=0
	focus tree
	keys PgUp PgUp
	for i in $(seq 60); do
		h=$(screen | sed -n 2p)
		grep -Eq -- "$re" <<<"$h" && { focus rules; return 0; }
		# the header does not move: the rules pane had the focus after all
		if [ "$h" = "$prev" ]; then
			same=$((same + 1))
			if [ "$same" -ge 3 ]; then
				keys Tab PgUp PgUp
				same=0
			fi
		else
			same=0
		fi
		prev=$h
		keys Down
	done
	echo "# goto_chain: $1 > $2 not found"
	show_screen
	focus rules
	return 1
}

# sel TEXT: select the rule row containing TEXT (fixed string) in the rules pane
sel() {
	local i
	focus rules
	keys PgUp PgUp
	for i in $(seq 60); do
		selected_row 2>/dev/null | grep -qF -- "$1" && return 0
		keys Down
	done
	echo "# sel: no row with '$1' could be selected"
	show_screen
	return 1
}

# mark_of TEXT: the staged mark (+ - * ~ or space) of the rule row showing TEXT
mark_of() {
	rules_rows | grep -F -- "$1" | head -n 1 | cut -c2
}
# expect_mark DESC TEXT MARK
mark_is() { [ "$(mark_of "$1")" = "$2" ]; }
expect_mark() {
	if wait_until 3 mark_is "$2" "$3"; then ok "$1 (mark '$3')"; return 0; fi
	not_ok "$1: mark of the row with '$2' is '$(mark_of "$2")', want '$3'"
	show_screen
}

# prompt_type KEY TEXT: open a prompt with KEY (its label must show), type
# TEXT, Enter. Returns 1 (typing nothing) when the prompt did not open.
prompt_label() {
	case $1 in
	# an iptables-nft table's say "(iptables)"
	i) echo '^Insert rule above( \(iptables\))?:' ;; a) echo '^Insert rule below( \(iptables\))?:' ;;
	A) echo '^Append rule( \(iptables\))?:' ;; e) echo '^Edit rule( \(iptables\))?:' ;;
	M) echo '^Move to position:' ;;
	c) echo '^New chain' ;; T) echo '^New table' ;; O) echo '^New set' ;; b) echo '^Block address:' ;;
	o) echo '^Allow port' ;; *) echo ':' ;;
	esac
}
prompt_type() {
	keys "$1"
	if ! wait_for "$(prompt_label "$1")" 3 >/dev/null; then
		echo "# key $1 opened no prompt; status line: $(screen | tail -n 1)"
		return 1
	fi
	[ -n "$2" ] && typein "$2"
	keys Enter
}

# stage_ok DESC KEY TEXT: a prompt edit that must be staged
stage_ok() {
	local before
	before=$(staged_n)
	if ! prompt_type "$2" "$3"; then
		not_ok "$1: key $2 opened no prompt"
		show_screen
		return 1
	fi
	if wait_until 8 staged_more "$before"; then
		ok "$1 staged"
	else
		not_ok "$1: not staged (was $before staged)"
		show_screen
		keys Esc
	fi
}
# staged_n: the "[N staged]" count of the title line (0 when absent)
staged_n() {
	local n
	n=$(screen | head -n 1 | sed -n 's/.*\[\([0-9]*\) staged\].*/\1/p')
	echo "${n:-0}"
}
staged_more() { [ "$(staged_n)" -gt "$1" ]; }

# confirm PATTERN KEY: a question (status line) matching PATTERN, answered KEY
confirm() {
	if wait_for "$1" 5 >/dev/null; then
		keys "$2"
		return 0
	fi
	echo "# no question /$1/"
	show_screen
	return 1
}

# apply_y DESC: W, y, wait for "applied N edits" on probation, Y keeps it
apply_y() {
	keys W
	if ! confirm 'one transaction' y; then
		not_ok "$1: W asked nothing"
		return 1
	fi
	if wait_for 'applied [0-9]+ edits? on probation' 15 >/dev/null &&
	   screen | grep -Eq 'PROBATION [0-9]+:[0-9]{2}'; then
		ok "$1: applied, on probation"
	else
		not_ok "$1: no 'applied ... on probation' or no banner"
		show_screen
		return 1
	fi
	keys Y
	if wait_for 'confirmed \(history [0-9]+\)' 10 >/dev/null; then
		ok "$1: confirmed with Y"
	else
		not_ok "$1: Y did not confirm"
		show_screen
		return 1
	fi
}

# krules FAMILY TABLE CHAIN: the kernel's rules of the chain, in order,
# counter values stripped
krules() {
	srv nft list chain "$@" 2>&1 | sed -n 's/^\t\t//p' | grep -v '^type ' |
		sed 's/counter packets [0-9]* bytes [0-9]*/counter/'
}
# kstate: the whole ruleset with handles (moves renumber), counters stripped
kstate() {
	srv nft -a list ruleset | sed 's/counter packets [0-9]* bytes [0-9]*/counter/' | md5sum
}
lines() { printf '%s\n' "$@"; }
# row_index TEXT: the line number of the rules-pane row containing TEXT
row_index() { rules_rows | grep -nF -- "$1" | head -n 1 | cut -d: -f1; }
