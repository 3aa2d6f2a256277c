# tests/tui_lib.sh — the TUI tests' driver (sourced after tests/lib.sh).
#
# The live view runs on a terminal of its own (a pty that
# tests/tools/tuidrive.py holds, of a fixed size) and is driven through its
# test socket (NFPILOT_TEST_FD, ui/driver.h): a step is a key, an action of
# ui/keymap.h or typed text, and it runs only once the view is idle (no
# rules or text loading, nothing unread from the kernel or the terminal);
# its answer is the whole screen as drawn, read back from ncurses. Nothing
# sleeps a fixed time: waits are answered at the redraw that shows what
# they wait for. tests/tmux_lib.sh is for what needs a terminal emulator.
#
#   tui_start [--size COLSxROWS] [--first] [VAR=VALUE...] [-- ARGS...]
#                        nfpilot -N $SRV ARGS (default 120x30,
#                        TERM=xterm-256color, LANG=C.UTF-8), returns once it
#                        is up and idle (--first: at its first screen, while
#                        it may still load); ends an earlier one
#   keys NAME...         keys by name as the help screen writes them:
#                        Down PgUp PgDn Home End Tab Enter Bksp Esc Space
#                        Ctrl-L F3 q / \ ...; each a step
#   act ACTION...        actions by name (ui/keymap.h): apply, insert, ...
#   typein TEXT          TEXT typed (into a prompt), one step
#   append_apply RULE    A, RULE, Enter, W, y: appended, applied on probation
#   dump                 read the screen once the view is idle
#   next_screen [SECS]   the screen after the next redraw
#   screen               the screen last read (by any step), as text
#   on_screen ERE        a line of it matches
#   wait_for ERE [SECS]  until a screen line matches (default 5 s)
#   wait_gone ERE [SECS] until no line matches
#   wait_until SECS CMD  until CMD succeeds, tried again at each redraw
#   expect DESC ERE [SECS] / expect_not DESC ERE (on the idle screen)
#   press TEXT           bytes typed on the terminal, at once (not a step)
#   click X Y            a mouse click at the cell X, Y (0-based)
#   hangup, tui_kill SIG the terminal closed; a signal to nfpilot
#   tui_quit             q, until nfpilot has ended
#   tui_end              Esc Esc, tui_quit, tui_stop; a sanitizer report fails
#   tui_exit_status      its exit status, "" while it runs
#   field COL TEXT       a rules-pane column (num pkts bytes pps bps history
#                        handle rule) of the first row containing TEXT
#   selected_row, first_rule_row, rules_rows, tree_selected
#                        rules-pane rows from the "#" column on; the tree row
#                        drawn as the selection

#
# TUI_STEP_SECS (60): how long a step may take before it fails; a test
# that loads 100k rules or entries gives more, for a loaded machine.

TUI_SIZE=${TUI_SIZE:-120x30}
TUIDRIVE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tools/tuidrive.py"
DRV=""          # the harness's folder while a view runs
DRV_PID=""
DRV_N=0
DRV_REPLY=""
TUI_EXIT=""

tui_cleanup() {
	tui_stop
	cleanup
}
trap tui_cleanup EXIT
trap 'tui_cleanup; exit 130' INT
trap 'tui_cleanup; exit 143' TERM

# drv FIELD...: one command to the harness (fields joined by tabs), its
# answer in DRV_REPLY; 0 when it is "ok ..." (or "exit N", the view ended)
drv() {
	local IFS=$'\t' part line
	DRV_REPLY="fail no live view is running"
	if [ -n "$DRV" ]; then
		printf '%s\n' "$*" >&"$DRV_W"
		# a read that times out keeps what it read of the line
		part=""
		until IFS= read -r -t 1 line <&"$DRV_R"; do
			part+=$line
			kill -0 "$DRV_PID" 2>/dev/null && continue
			line="fail the harness ended (tests/tools/tuidrive.py)"
			part=""
			break
		done
		DRV_REPLY=$part$line
	fi
	case $DRV_REPLY in
	ok*) return 0 ;;
	exit\ *) TUI_EXIT=${DRV_REPLY#exit }; return 0 ;;
	esac
	return 1
}

# tui_stop: end the view (its terminal closes) and the harness
tui_stop() {
	[ -n "$DRV" ] || return 0
	drv hangup >/dev/null
	kill "$DRV_PID" 2>/dev/null
	wait "$DRV_PID" 2>/dev/null
	exec {DRV_W}>&- {DRV_R}<&-
	DRV=""
}

tui_start() {
	local size=$TUI_SIZE envs=() up=(dump)
	tui_stop
	if [ "${1:-}" = --size ]; then
		size=$2
		shift 2
	fi
	if [ "${1:-}" = --first ]; then
		up=(wait 60 .)
		shift
	fi
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	DRV_N=$((DRV_N + 1))
	DRV="$TEST_TMP/drv$DRV_N"
	mkdir -p "$DRV" && mkfifo "$DRV/in" "$DRV/out" || return 1
	: >"$DRV/screen"
	: >"$DRV/marks"
	exec {DRV_W}<>"$DRV/in" {DRV_R}<>"$DRV/out"
	TUI_EXIT=""
	TUI_STEP_SECS=${TUI_STEP_SECS:-60} python3 "$TUIDRIVE" "$DRV" "$size" "$TEST_TMP/tui.err" env TERM=xterm-256color \
		LANG=C.UTF-8 LC_ALL=C.UTF-8 "${envs[@]}" "$NFPILOT" -N "$SRV" "$@" &
	DRV_PID=$!
	if ! drv "${up[@]}" || [ -n "$TUI_EXIT" ]; then
		echo "# tui_start: the live view did not start: $DRV_REPLY"
		show_screen
		return 1
	fi
}

# step CMD ARGS...: a step; on a failure, says why and shows the screen
step() {
	drv "$@" && return 0
	echo "# $1 $2: $DRV_REPLY"
	show_screen
	return 1
}

keys() { step key "$@"; }
act() {
	local a
	for a in "$@"; do step do "$a" || return 1; done
}
typein() { step type "$1"; }
# append_apply RULE: on the rules of a chain, A, RULE typed, Enter, W and y
# to its question: the rule appended and applied on probation (what the
# view says then is the caller's to read)
append_apply() {
	keys A
	wait_for 'rule>|Append|append' 5 >/dev/null
	typein "$1"
	keys Enter W
	wait_for 'one transaction' 5 >/dev/null
	keys y
}
dump() { step dump; }
next_screen() { drv next "${1:-5}"; }
screen() { cat "$DRV/screen" 2>/dev/null; }
# on_screen ERE: a line of the screen last read matches
on_screen() { grep -Eq -- "$1" "$DRV/screen"; }
press() { drv press "$1"; }
click() { drv click "$1" "$2"; }
hangup() { drv hangup; }
tui_kill() { drv kill "$1"; }

# wait_for ERE [SECS]: until a screen line matches ERE (default 5 s); shows
# the screen and returns 1 when none did in time.
wait_for() {
	drv wait "${2:-5}" "$1" && return 0
	echo "# wait_for: no line matches /$1/ after ${2:-5} s ($DRV_REPLY)"
	show_screen
	return 1
}

# wait_gone ERE [SECS]: until no screen line matches ERE.
wait_gone() {
	drv gone "${2:-5}" "$1" && return 0
	echo "# wait_gone: a line still matches /$1/ after ${2:-5} s ($DRV_REPLY)"
	show_screen
	return 1
}

# wait_until SECS CMD...: CMD (which reads the screen) until it succeeds,
# tried again after each redraw.
wait_until() {
	local end=$(($(date +%s%N) / 1000000 + ${1%.*} * 1000)) left
	shift
	while :; do
		"$@" && return 0
		left=$((end - $(date +%s%N) / 1000000))
		[ "$left" -gt 0 ] || return 1
		next_screen "$((left / 1000)).$(printf %03d $((left % 1000)))" >/dev/null
	done
}

# expect_not DESC ERE: ok when no line matches ERE once the view is idle
expect_not() {
	dump
	if screen | grep -Eq -- "$2"; then
		not_ok "$1: /$2/ is on screen"
		show_screen
	else
		ok "$1"
	fi
}

# tui_exit_status: nfpilot's exit status, "" while it runs
tui_exit_status() {
	if drv exit 0 && [ -n "$TUI_EXIT" ]; then echo "$TUI_EXIT"; fi
}

# tui_quit: q, then until nfpilot has ended (5 s)
tui_quit() {
	keys q >/dev/null
	[ -n "$TUI_EXIT" ] || drv exit 5
}

# tui_end: out of any prompt or question, q, the harness ended; a
# sanitizer's report on nfpilot's stderr is a failure
tui_end() {
	keys Esc Esc
	tui_quit
	tui_stop
	if [ -s "$TEST_TMP/tui.err" ] && grep -q 'Sanitizer' "$TEST_TMP/tui.err"; then
		not_ok "sanitizer report: $(head -c 1500 "$TEST_TMP/tui.err" | tr '\n' '|')"
	fi
}

# ---------------------------------------------------------------- the screen
# query WHAT ARGS: a part of the last screen the harness finds (see
# tests/tools/tuidrive.py), printed; 1 when it is not there
query() {
	local v
	drv "$@" || return 1
	v=${DRV_REPLY#ok}
	printf '%s\n' "${v# }"
}
field() { query field "$1" "$2"; }
selected_row() { query selected; }
first_rule_row() { query firstrule; }
tree_selected() { query treesel; }
rules_rows() { drv rows && cat "$DRV/result"; }

# human N: N as the TUI shows counters (fmt_human: 999, 1.2K, 34M)
# (awk, not python: it runs in loops that wait for the screen)
human() {
	awk -v v="$1" 'BEGIN {
		if (v < 1000) { print v; exit }
		f = v; u = 0
		while (f >= 999.95 && u < 5) { f /= 1000.0; u++ }
		printf(f < 9.95 ? "%.1f%s\n" : "%.0f%s\n", f, substr("KMGTPE", u, 1))
	}'
}
