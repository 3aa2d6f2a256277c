# tests/tmux_lib.sh — helpers of the TUI tests (sourced after tests/lib.sh).
#
# The live view runs in a PRIVATE tmux server (tmux -L nfpt-<pid>), never the
# user's default one, in a window of fixed size. The screen is read back with
# capture-pane; nothing sleeps a fixed time hoping: wait_for polls.
#
#   tui_start [ENV=VALUE...] -- [NFPILOT ARGS...]
#       nfpilot -N $SRV in a new session "t" (120x30), TERM=tmux-256color (what
#       tmux emulates: its Home/End keys are \e[1~ \e[4~, not xterm's)
#       and LANG=C.UTF-8 unless given; the command's exit status is printed
#       as "EXIT=N" in the pane when it ends.
#   keys KEY...          tmux send-keys (key names: Enter, Down, BSpace, ...)
#   keys_l TEXT          send-keys -l (literal text)
#   screen               the pane as plain text
#   screen_e             the pane with attributes (escape sequences)
#   wait_for ERE [SECS]  poll the screen every 0.1 s until a line matches
#   wait_gone ERE [SECS] until no line matches
#   wait_until SECS CMD  until CMD succeeds

TMUX_SOCK="nfpt-$$"
TUI_SESSION=t
TUI_W=${TUI_W:-120}
TUI_H=${TUI_H:-30}

tmx() { tmux -L "$TMUX_SOCK" "$@"; }

tui_cleanup() {
	local sock
	sock=$(tmux -L "$TMUX_SOCK" display-message -p '#{socket_path}' 2>/dev/null)
	tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
	# the server leaves its socket file behind
	[ -n "$sock" ] && rm -f "$sock"
	cleanup
}
trap tui_cleanup EXIT
trap 'tui_cleanup; exit 130' INT
trap 'tui_cleanup; exit 143' TERM

# tui_start [VAR=VALUE ...] [-- ARGS...]: start nfpilot -N $SRV ARGS in a
# fresh tmux session; ends any earlier one.
tui_start() {
	local envs=() args=() cmd q
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	args=("$@")
	# a server that stays when its last session is killed: else the
	# new-session below may reach it while it exits ("server exited
	# unexpectedly", 1 time in 20 here)
	tmx -f /dev/null start-server \; set-option -g exit-empty off 2>/dev/null
	tmx kill-session -t "$TUI_SESSION" 2>/dev/null
	cmd="env TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8"
	for q in "${envs[@]}"; do cmd="$cmd $(printf '%q' "$q")"; done
	cmd="$cmd $(printf '%q' "$NFPILOT") -N $(printf '%q' "$SRV")"
	for q in "${args[@]}"; do cmd="$cmd $(printf '%q' "$q")"; done
	# ASan reports go to a file we can show; the exit status to the pane
	cmd="$cmd 2>$TEST_TMP/tui.err; echo EXIT=\$?; sleep 300"
	tmx -f /dev/null new-session -d -s "$TUI_SESSION" -x "$TUI_W" -y "$TUI_H" "$cmd" ||
		return 1
	tmx set-option -t "$TUI_SESSION" status off >/dev/null
	tmx set-option -t "$TUI_SESSION" remain-on-exit on >/dev/null
	tmx resize-window -t "$TUI_SESSION" -x "$TUI_W" -y "$TUI_H" 2>/dev/null
	return 0
}

keys() { tmx send-keys -t "$TUI_SESSION" "$@"; }
keys_l() { tmx send-keys -t "$TUI_SESSION" -l "$1"; }
screen() { tmx capture-pane -p -t "$TUI_SESSION"; }
screen_e() { tmx capture-pane -p -e -t "$TUI_SESSION"; }

# matches ERE / no_match ERE: a line of the screen matches, or none does
matches() { screen | grep -Eq -- "$1"; }
no_match() { ! matches "$1"; }

# wait_for ERE [SECS]: until a screen line matches ERE (default 5 s);
# prints the screen on failure and returns 1.
wait_for() {
	wait_until "${2:-5}" matches "$1" && return 0
	echo "# wait_for: no line matches /$1/ after ${2:-5}s"
	show_screen
	return 1
}

# wait_gone ERE [SECS]: until no screen line matches ERE.
wait_gone() {
	wait_until "${2:-5}" no_match "$1" && return 0
	echo "# wait_gone: a line still matches /$1/ after ${2:-5}s"
	show_screen
	return 1
}

# expect_not DESC ERE: ok when no line matches ERE right now. It looks
# once: use it only after a wait (expect, wait_for, wait_until) for what
# the key or resize draws, or it passes on the screen from before
expect_not() {
	if matches "$2"; then
		not_ok "$1: /$2/ is on screen"
		show_screen
	else
		ok "$1"
	fi
}

# tui_exit_status: the EXIT=N the pane printed, or "" while still running
tui_exit_status() {
	screen | sed -n 's/^EXIT=\([0-9]*\).*/\1/p' | tail -n 1
}

# tui_quit: q, then wait for the EXIT= line
tui_quit() {
	keys q
	wait_for '^EXIT=[0-9]+' 5 >/dev/null
}

# wait_until SECS CMD...: until CMD succeeds (tests/lib.sh's poll_until)
wait_until() {
	local secs=$1
	shift
	poll_until $((${secs%.*} * 1000)) "$@"
}
