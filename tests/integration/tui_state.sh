#!/bin/bash
# State that stays true (issue 15, item 4), driven by keys at 80x24 and at
# 160x40: [not saved] follows the ruleset when its generation moves (a
# change from outside, nfpilot restore), not only at start and after one's
# own save; a message goes after a while (an error or a warning later) or
# at the next key; a staged policy shows in the tree (marked *) and the
# chain's title, a staged delete or flush marks the chain in the tree; in a
# network namespace S has no default file — it asks for one, naming the
# namespace, or uses save_file.NAME from the config — and the help names
# the real file. `nfpilot save` in a namespace without a file says so.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

ns_add "$SRV" || bail "ip netns add $SRV"
BOOT="$TEST_TMP/boot.nft"
CONF="$TEST_TMP/nfpilot.conf"
ruleset() {
	srv nft flush ruleset
	srv nft -f - <<'EOF'
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		ct state established,related accept
		tcp dport 22 accept
	}
	chain extra {
		tcp dport 8080 accept
	}
}
EOF
}

start() {
	tui_start --size "$SIZE" "$@" || bail "the live view did not start"
	wait_for 'F1 help' 10 >/dev/null || { show_screen; bail "the live view did not start"; }
}
# to_chain NAME: the chain selected in the tree (the focus stays there)
to_chain() {
	local i
	keys PgUp PgUp
	for i in $(seq 10); do
		screen | sed -n 2p | grep -q "inet web > $1 " && return 0
		keys Down
	done
	not_ok "chain $1 not found in the tree"
}
# help_says DESC TEXT: the help screen's line for S is TEXT — at 80
# columns what fits of it (a marker where it is cut aside)
help_says() {
	local line
	# (scrolled a little: at 80x24 the lines S's text wraps onto are below
	# the first page)
	keys '?' Down Down Down Down
	# the text, with the lines it wraps onto (indented under it)
	line=$(screen | awk '/^ *S  +Save the live ruleset/ { sub(/^ *S +/, ""); t = $0; p = 1; next }
		p && /^                      [^ ]/ { sub(/^ +/, " "); t = t $0; next }
		{ p = 0 } END { print t }' | sed 's/ *$//; s/[>…]$//')
	keys Esc
	if [ "$SIZE" = 80x24 ]; then
		check "$1 (what fits: '$line')" test "${#line}" -ge 40 -a "${2#"$line"}" != "$2"
	else
		check_eq "$1" "$line" "$2"
	fi
}
# question DESC TEXT: the y/N question (at 80 columns its start)
question() {
	local want=$2
	[ "$SIZE" = 80x24 ] && want=${want:0:60}
	expect "$1" "$(printf '%s' "$want" | sed 's/[][().*^$\\]/\\&/g')"
}

for SIZE in 80x24 160x40; do
	ruleset || bail "a ruleset"
	rm -f "$BOOT" "$BOOT.bak"

	# ---- a namespace without save_file.NAME: S asks, naming it
	printf 'save_file = %s\n' "$TEST_TMP/host.nft" >"$CONF"
	start NFPILOT_CONFIG="$CONF"
	expect "$SIZE: no file for the namespace: [not saved]" '\[not saved'
	help_says "$SIZE: the help says the namespace has no file, and the key" \
		"Save the live ruleset to the boot file: namespace $SRV has none, S asks (config: save_file.$SRV)"
	keys S
	expect "$SIZE: S asks for a file, naming the namespace" \
		"^Save namespace $SRV's ruleset to \\(no default\\):"
	typein 'boot.nft'
	keys Enter
	expect "$SIZE: a relative path is refused, the prompt stays" 'absolute path'
	keys Ctrl-U
	typein "$BOOT"
	keys Enter
	question "$SIZE: then the question names the namespace and the file" \
		"Save namespace $SRV's live ruleset to $BOOT (the previous file kept as .bak)?"
	keys y
	expect "$SIZE: ... y saves there" "saved to $BOOT"
	check "$SIZE: ... the file holds the ruleset" grep -q 'dport 8080' "$BOOT"
	check "$SIZE: ... never the machine's file of the config" test ! -e "$TEST_TMP/host.nft"
	expect_not "$SIZE: ... and the header says saved" '\[not saved'
	help_says "$SIZE: the help names the file from now on" \
		"Save the live ruleset to the boot file: $BOOT (loaded at boot)"

	# ---- [not saved] follows the generation: an outside change, a restore
	srv nft add rule inet web extra tcp dport 9090 accept
	wait_for '\[not saved' 10 >/dev/null
	expect "$SIZE: a change from outside: [not saved]" '\[not saved'
	srv nft delete table inet web && ruleset
	wait_gone '\[not saved|\[save: rechecking' 10 >/dev/null
	expect_not "$SIZE: the ruleset as saved again: saved" '\[not saved|\[save: rechecking'
	check_rc "$SIZE: a change on probation from the CLI" 0 \
		nfp edit --detach --timeout 60 -t inet web -c extra --append 'tcp dport 7070 accept'
	check_rc "$SIZE: ... confirmed" 0 nfp confirm
	wait_for '\[not saved' 10 >/dev/null
	expect "$SIZE: ... [not saved]" '\[not saved'
	N=$(nfp history | awk '$1 ~ /^[0-9]+$/ { n = $1 } END { print n }')
	check_rc "$SIZE: nfpilot restore $N --before" 0 nfp restore "$N" --before --detach
	check_rc "$SIZE: ... confirmed" 0 nfp confirm
	wait_gone '\[not saved|\[save: rechecking' 10 >/dev/null
	expect_not "$SIZE: after the restore the header says saved again" \
		'\[not saved|\[save: rechecking'
	tui_end

	# ---- save_file.NAME: S uses it, says the namespace
	printf 'save_file = %s\nsave_file.%s = %s\n' "$TEST_TMP/host.nft" "$SRV" "$BOOT" >"$CONF"
	start NFPILOT_CONFIG="$CONF"
	help_says "$SIZE: save_file.NAME: the help names it" \
		"Save the live ruleset to the boot file: $BOOT (loaded at boot)"
	keys S
	question "$SIZE: ... S asks about it, naming the namespace" \
		"Save namespace $SRV's live ruleset to $BOOT (the previous file kept as .bak)?"
	keys n

	# ---- a staged policy where the live one is shown, a staged delete, flush
	to_chain input
	act policy
	expect "$SIZE: a staged drop policy in the tree, marked" '^ +input *in drop\*'
	[ "$SIZE" = 160x40 ] &&
		expect "$SIZE: ... and in the chain's title" 'policy accept -> staged drop'
	act undo
	expect "$SIZE: undone: the live policy, unmarked" '^ +input *in accept +[0-9]'
	to_chain extra
	act delete-chain
	keys y
	expect "$SIZE: a staged chain delete marks the chain -" '^ -extra '
	act undo
	act flush-chain
	keys y
	expect "$SIZE: a staged flush marks it *" '^ \*extra '
	act discard
	keys y

	# ---- messages expire
	to_chain extra
	act sort
	expect "$SIZE: a message" 'sorted by packet rate'
	wait_gone 'sorted by packet rate' 15 >/dev/null
	expect_not "$SIZE: ... gone after a while with no key" 'sorted by packet rate'
	act sort
	act policy
	expect "$SIZE: a warning" 'only base chains have a policy'
	if [ "$SIZE" = 80x24 ]; then
		wait_gone 'only base chains have a policy' 12 >/dev/null
		expect "$SIZE: ... still there when a message would have gone" \
			'only base chains have a policy'
		wait_gone 'only base chains have a policy' 30 >/dev/null
		expect_not "$SIZE: ... gone later" 'only base chains have a policy'
	fi
	act policy
	check "$SIZE: the warning again" on_screen 'only base chains have a policy'
	keys Down
	expect_not "$SIZE: a key clears a message at once" 'only base chains have a policy'
	act sort
	tui_end
done

# opens FILE: how often FILE is opened until FILE.stop appears (each save
# check opens the boot file once); the count in FILE.opens
opens() {
	python3 - "$1" <<'PY' &
import ctypes, os, struct, sys, select
f = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
IN_OPEN = 0x20
assert fd >= 0 and libc.inotify_add_watch(fd, f.encode(), IN_OPEN) >= 0
open(f + ".ready", "w").close()
n = 0
while not os.path.exists(f + ".stop"):
    if select.select([fd], [], [], 0.1)[0]:
        buf = os.read(fd, 65536)
        while buf:
            wd, mask, cookie, ln = struct.unpack_from("iIII", buf)
            n += bool(mask & IN_OPEN)
            buf = buf[16 + ln:]
open(f + ".opens", "w").write(str(n))
PY
	OPENS_PID=$!
	poll_until 5000 test -e "$1.ready"
}

# ---- a busy ruleset (many generations a second): the boot file is checked
# again at most once a second (or three times as long as a check takes),
# never at every move, and the header stays true: rechecking while the
# generation shown is not checked, saved once the ruleset is as saved
SIZE=80x24
ruleset || bail "a ruleset"
printf 'refresh = 0.2\nsave_file.%s = %s\n' "$SRV" "$BOOT" >"$CONF"
srv nft list ruleset >"$BOOT"
start NFPILOT_CONFIG="$CONF"
wait_gone '\[not saved|\[save: rechecking' 10 >/dev/null
expect_not "busy: the boot file holds the ruleset: saved" '\[not saved|\[save: rechecking'
opens "$BOOT"
T0=$(ms)
MOVES=0
while [ $(($(ms) - T0)) -lt 6000 ]; do
	MOVES=$((MOVES + 2))
	srv nft add rule inet web extra tcp dport 9191 accept
	srv nft delete rule inet web extra handle \
		"$(srv nft -a list chain inet web extra | sed -n 's/.*9191 accept # handle //p')"
done
BUSY_MS=$(($(ms) - T0))
: >"$BOOT.stop"
wait "$OPENS_PID"
wait_gone '\[not saved|\[save: rechecking' 10 >/dev/null
expect_not "busy: afterwards, the ruleset as saved: saved" '\[not saved|\[save: rechecking'
CHECKS=$(cat "$BOOT.opens")
check "busy: $CHECKS save checks in ${BUSY_MS} ms of $MOVES changes: at most one a second" \
	test "$CHECKS" -ge 1 -a "$CHECKS" -le $((BUSY_MS / 1000 + 3))
srv nft add rule inet web extra tcp dport 9292 accept
wait_for '\[not saved' 10 >/dev/null
expect "busy: then one change more: [not saved]" '\[not saved: lost at reboot\]'
tui_end

# ---- nfpilot save in a namespace
printf 'save_file = %s\n' "$TEST_TMP/host.nft" >"$CONF"
check_rc "nfpilot save in a namespace without save_file.NAME refuses" 2 \
	env NFPILOT_CONFIG="$CONF" "$NFPILOT" -N "$SRV" save
check "... saying what to do" grep -q "namespace $SRV has no boot file.*save_file.$SRV" <<<"$RC_ERR"
check "... and writes no file" test ! -e "$TEST_TMP/host.nft"
printf 'save_file.%s = %s\n' "$SRV" "$TEST_TMP/ns.nft" >"$CONF"
check_rc "with save_file.NAME it saves there" 0 env NFPILOT_CONFIG="$CONF" "$NFPILOT" -N "$SRV" save
check "... the file" grep -q 'dport 8080' "$TEST_TMP/ns.nft"

finish
