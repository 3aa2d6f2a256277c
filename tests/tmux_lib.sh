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
#   field COL TEXT       a column of the rule row containing TEXT (see below)
#   selected_row         the highlighted rule row

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

# show_screen: the screen and nfpilot's stderr as "# " lines, for failures
show_screen() {
	echo "# ---- screen:"
	screen | sed 's/^/# |/'
	if [ -s "$TEST_TMP/tui.err" ]; then
		echo "# ---- nfpilot stderr:"
		head -c 3000 "$TEST_TMP/tui.err" | sed 's/^/# /'
	fi
}

# wait_for ERE [SECS]: until a screen line matches ERE (default 5 s);
# prints the screen on failure and returns 1.
wait_for() {
	local pat=$1 secs=${2:-5} end
	end=$(($(date +%s%N) + ${secs%.*} * 1000000000))
	while :; do
		screen | grep -Eq -- "$pat" && return 0
		[ "$(date +%s%N)" -ge "$end" ] && break
		sleep 0.1
	done
	echo "# wait_for: no line matches /$pat/ after ${secs}s"
	show_screen
	return 1
}

# wait_gone ERE [SECS]: until no screen line matches ERE.
wait_gone() {
	local pat=$1 secs=${2:-5} end
	end=$(($(date +%s%N) + ${secs%.*} * 1000000000))
	while :; do
		screen | grep -Eq -- "$pat" || return 0
		[ "$(date +%s%N)" -ge "$end" ] && break
		sleep 0.1
	done
	echo "# wait_gone: a line still matches /$pat/ after ${secs}s"
	show_screen
	return 1
}

# expect DESC ERE [SECS]: ok when the screen shows ERE in time
expect() {
	if wait_for "$2" "${3:-5}"; then ok "$1"; else not_ok "$1: /$2/ not on screen"; fi
}

# expect_not DESC ERE: ok when no line matches ERE right now. It looks
# once: use it only after a wait (expect, wait_for, wait_until) for what
# the key or resize draws, or it passes on the screen from before
expect_not() {
	if screen | grep -Eq -- "$2"; then
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

# ---------------------------------------------------------------- screen parsing
# A small parser of `capture-pane -p -e`: text per cell plus the SGR state
# (reverse, background), and the rules pane's columns found from the column
# header line ("#  pkts  bytes  pkt/s  B/s history  handle rule").
TUI_PY="$TEST_TMP/tui_screen.py"
cat >"$TUI_PY" <<'PYEOF'
import re, sys

def parse(data):
    # capture-pane -e writes only changes of attributes: the state carries
    # over from one line to the next
    lines, rev, bg = [], False, None
    for raw in data.split("\n"):
        cells, i = [], 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\x1b":
                m = re.match(r"\x1b\[([0-9;]*)m", raw[i:])
                if m:
                    ps = [int(p) if p else 0 for p in m.group(1).split(";")]
                    k = 0
                    while k < len(ps):
                        p = ps[k]
                        if p == 0: rev, bg = False, None
                        elif p == 7: rev = True
                        elif p == 27: rev = False
                        elif 40 <= p <= 47 or 100 <= p <= 107: bg = p
                        elif p == 49: bg = None
                        elif p in (38, 48):
                            if k + 1 < len(ps) and ps[k + 1] == 5: 
                                if p == 48: bg = ("c", ps[k + 2] if k + 2 < len(ps) else 0)
                                k += 2
                            elif k + 1 < len(ps) and ps[k + 1] == 2:
                                k += 4
                        k += 1
                    i += m.end()
                    continue
                m = re.match(r"\x1b[()][0-9A-Za-z]|\x1b\][^\x07]*\x07|\x1b.", raw[i:])
                i += m.end() if m else 1
                continue
            if ch in "\x0e\x0f":
                i += 1
                continue
            cells.append((ch, rev, bg))
            i += 1
        lines.append(cells)
    return lines

def text(cells):
    return "".join(c[0] for c in cells)

def columns(lines):
    for n, cells in enumerate(lines):
        t = text(cells)
        m = re.search(r"#\s+pkts\s+bytes", t)
        if not m:
            continue
        cols = {}
        for title, key, right in (("#", "num", 1), ("pkts", "pkts", 1), ("bytes", "bytes", 1),
                                  ("pkt/s", "pps", 1), ("B/s", "bps", 1),
                                  ("history", "history", 0), ("handle", "handle", 1),
                                  ("rule", "rule", 0)):
            j = t.find(title, m.start())
            if j < 0:
                continue
            if key == "rule":
                cols[key] = (j, 10**6)
            elif right:
                cols[key] = (j + len(title) - 6, j + len(title) + 1)
            else:
                cols[key] = (j, j + 9)
        return n, cols
    return None, {}

def selected(cells, x):
    if x >= len(cells):
        return False
    rev, bg = cells[x][1], cells[x][2]
    return rev or bg == 46

def main():
    cmd = sys.argv[1]
    lines = parse(sys.stdin.read())
    while lines and not text(lines[-1]).strip():
        lines.pop()
    lines = lines[:-1]   # the status line
    hn, cols = columns(lines)
    if hn is None:
        sys.exit(1)
    x0 = cols["num"][0]
    rows = [l for l in lines[hn + 1:] if len(text(l).strip())]
    if cmd == "field":       # field NAME TEXT: NAME column of the first row containing TEXT
        name, want = sys.argv[2], sys.argv[3]
        for l in lines[hn + 1:]:
            t = text(l)
            if want in t[x0:]:
                a, b = cols[name]
                print(t[a:b].strip())
                return
        sys.exit(1)
    if cmd == "selected":    # the selected rule row of the rules pane (from "#" on)
        for l in lines[hn + 1:]:
            if selected(l, x0 + 6):
                print(text(l)[x0:].rstrip())
                return
        sys.exit(1)
    if cmd == "treesel":     # the tree row shown as selected with focus (reverse)
        for l in lines[1:hn + 40]:
            if len(l) > 1 and x0 > 2 and l[1][1] and "#" not in text(l)[:x0]:
                print(text(l)[:x0 - 6].rstrip())
                return
        sys.exit(1)
    if cmd == "rows":        # every rules-pane row from "#" on
        for l in lines[hn + 1:]:
            print(text(l)[x0:].rstrip())
        return
    if cmd == "firstrule":   # the first rule row
        for l in lines[hn + 1:]:
            t = text(l)[x0:]
            if re.match(r"\s*\d+\s", t):
                print(t.rstrip())
                return
        sys.exit(1)
main()
PYEOF

# field COLUMN TEXT: a column (num pkts bytes pps bps history handle rule) of
# the first rule row containing TEXT (fixed string), as shown
field() { screen_e | python3 "$TUI_PY" field "$1" "$2"; }
# selected_row: the selected rule's row, from the "#" column on
selected_row() { screen_e | python3 "$TUI_PY" selected; }
first_rule_row() { screen_e | python3 "$TUI_PY" firstrule; }
rules_rows() { screen_e | python3 "$TUI_PY" rows; }
# tree_selected: the tree row drawn reversed (the tree has the focus; mono theme)
tree_selected() { screen_e | python3 "$TUI_PY" treesel; }

# human N: N as the TUI shows counters (fmt_human: 999, 1.2K, 34M)
human() {
	python3 -c '
import sys
v = int(sys.argv[1]); u = -1; f = float(v)
if v < 1000: print(v); sys.exit()
while f >= 999.95 and u < 4: f /= 1000.0; u += 1
print(("%.1f%s" if f < 9.95 else "%.0f%s") % (f, "KMGTPE"[u]))' "$1"
}

# wait_until SECS CMD...: poll CMD every 0.1 s until it succeeds
wait_until() {
	local secs=$1 end
	shift
	end=$(($(date +%s%N) + ${secs%.*} * 1000000000))
	while :; do
		"$@" && return 0
		[ "$(date +%s%N)" -ge "$end" ] && return 1
		sleep 0.1
	done
}
