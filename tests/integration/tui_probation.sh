#!/bin/bash
# The live view's side of the safe apply (issue 5), driven by keys
# (tests/tui_lib.sh) against a real kernel: W puts the change on probation with a countdown
# banner; E extends, R reverts, Y keeps; the deadline reverts by itself and
# says so; quitting asks once then reverts; closing its terminal or killing
# nfpilot reverts at once; strict mode refuses Y and takes `nfpilot confirm` from
# another session; a probation started elsewhere shows in the header and Y
# confirms it; a CLI change joins the view's probation and R reverts both;
# H lists the history; S saves to the configured boot file with a .bak and
# clears [not saved].
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net
export NFPILOT_LIB_DIR="$TEST_TMP/lib"
CONF="$TEST_TMP/nfpilot.conf"
BOOT="$TEST_TMP/boot.nft"
printf 'save_file.%s = %s\ntimeout = 10\n' "$SRV" "$BOOT" >"$CONF"
export NFPILOT_CONFIG="$CONF"

srv nft -f - <<'EOF'
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 accept
	}
}
table inet other {
	chain c {
	}
}
EOF

start() {
	tui_start NFPILOT_CONFIG="$CONF" NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" -- "$@" ||
		bail "the live view did not start"
	keys Tab # the rules of inet web input, the first base chain
}
sanitizer_clean() {
	if [ -s "$TEST_TMP/tui.err" ] && grep -q 'Sanitizer' "$TEST_TMP/tui.err"; then
		not_ok "sanitizer report: $(head -c 1500 "$TEST_TMP/tui.err" | tr '\n' '|')"
	fi
}
# has_port N: the kernel's inet web input has a rule for tcp dport N
has_port() { srv nft list chain inet web input | grep -q "dport $1 "; }
# wait_kernel yes|no N SECS: until has_port N is (not) true
no_port() { ! has_port "$1"; }
wait_kernel() {
	if [ "$1" = yes ]; then poll_until $((${3:-5} * 1000)) has_port "$2"
	else poll_until $((${3:-5} * 1000)) no_port "$2"; fi
}
# apply_port N: append "tcp dport N drop" and apply it with W y
apply_port() {
	append_apply "tcp dport $1 drop"
	wait_for 'applied 1 edit on probation' 15
}
# banner_secs: the seconds left the banner shows (empty: no banner)
banner_secs() {
	screen | sed -n 's/^ *PROBATION \([0-9]*\):\([0-9]*\).*/\1 \2/p' | head -n 1 |
		awk '{ print $1 * 60 + $2 }'
}

start
expect "no boot file yet: the header says [not saved]" 'not saved: lost at reboot'

# ---- W: on probation, banner, countdown; E extends; R reverts
if apply_port 81; then ok "W: applied on probation"; else not_ok "W: no probation message"; fi
check "the kernel has the change during the probation" wait_kernel yes 81 3
s1=$(banner_secs)
check "banner with a countdown (at most 10 s)" test -n "$s1" -a "${s1:-99}" -le 10
# the banner's next second, within two
below() { [ "$(banner_secs)" -lt "$1" ] 2>/dev/null; }
wait_until 3 below "${s1:-0}"
s2=$(banner_secs)
check "the countdown runs ($s1 s, then $s2 s)" test -n "$s2" -a "${s2:-99}" -lt "${s1:-0}"
keys E
expect "E: extended" 'extended: [0-9]+ s left'
s3=$(banner_secs)
check "E restarts the countdown ($s2 s, then $s3 s, on E's own screen)" \
	test -n "$s3" -a "${s3:-0}" -gt "${s2:-99}"
keys R
expect "R: reverted, and it says so" 'REVERTED: rolled back'
check "R: the change is gone from the kernel" wait_kernel no 81 5
check "R: the banner is gone" test -z "$(banner_secs)"

# ---- the deadline reverts by itself
apply_port 82 >/dev/null
check "second apply on probation" wait_kernel yes 82 3
expect "the deadline reverts, and the view says why" 'REVERTED: not confirmed within 10 s' 15
check "deadline: the change is gone from the kernel" wait_kernel no 82 3
check "the untouched table survived" srv nft list table inet other

# ---- Y keeps; S saves; H shows the history
apply_port 83 >/dev/null
keys Y
expect "Y: confirmed, with its history entry" 'confirmed \(history [0-9]+\)'
# nothing is left that could revert it: no probation, its guardian ended
# (it would have reverted at the 10 s deadline, so the wait is longer)
check "Y: the guardian ends, no probation left" poll_until 15000 over
check "Y: the change stays in the kernel" has_port 83
expect "after the confirm: [not saved]" 'not saved: lost at reboot'
keys S
if wait_for "Save namespace $SRV's live ruleset" 5 >/dev/null; then keys y; fi
expect "S: saved to the configured file" "saved to $BOOT"
check "S: the file has the confirmed rule" grep -Eq 'tcp dport 83 (counter )?drop' "$BOOT"
check "S: the file loads (nft -c)" srv nft -c -f "$BOOT"
expect_not "S: [not saved] is gone" 'not saved'
keys S
if wait_for "Save namespace $SRV's live ruleset" 5 >/dev/null; then keys y; fi
# the step of y ends once the view is idle again: the save is written
check "S again: the previous file is kept as .bak" test -s "$BOOT.bak"
keys H
expect "H: the history view" 'History: changes'
expect "H: the reverts are listed (R, the deadline)" '^ +1  .*  reverted '
check "... both" on_screen '^ +2  .*  reverted '
expect "H: the confirm is listed" '^ +3  .*  confirmed '
expect "H: the selected change's commands" 'tcp dport 83 drop'
# FROM whole: the history's row shows where the change came from, as
# `nfpilot history show` has it
LAST=$(nfp history 2>/dev/null | awk '$1 ~ /^[0-9]+$/ {n=$1} END {print n}')
FROM=$(nfp history show "$LAST" 2>/dev/null | sed -n 's/^from:    //p')
if [ -n "$FROM" ] && screen | grep -F -- "$FROM" | grep -qE "^ +$LAST "; then
	ok "H: the FROM column shows '$FROM' whole"
else
	not_ok "H: the FROM column does not show '$FROM' whole for entry $LAST"
	show_screen
fi
# r restores the entry before it (the deadline's revert of port 82): as
# `nfpilot restore N`, on probation; R reverts it
keys Up r
expect "H r: asks before it restores" 'Restore the tables of history entry [0-9]+ .*\[y/N\]'
keys y
expect "H r y: restored on probation" 'restored the tables of history entry [0-9]+ on probation' 10
check "H r y: the entry's change (port 82) is back in the kernel" wait_kernel yes 82 5
keys R
expect "R: the restore is reverted" 'REVERTED' 10
check "R: port 82 is gone again" wait_kernel no 82 5

# ---- a CLI change joins the view's probation; R reverts both
apply_port 84 >/dev/null
printf 'add rule inet web input tcp dport 85 drop\n' >"$TEST_TMP/join.nft"
out=$(nfp apply --detach "$TEST_TMP/join.nft" 2>&1)
if grep -q 'joined' <<<"$out"; then ok "a CLI apply joins the view's probation"
else not_ok "a CLI apply did not join: $(tr '\n' '|' <<<"$out")"; fi
both_ports() { has_port 84 && has_port 85; }
check "both changes in the kernel" both_ports
keys R
expect "R after the join: reverted" 'REVERTED: rolled back on request'
check "R after the join: the view's change is gone" wait_kernel no 84 5
check "R after the join: the CLI's change is gone too" wait_kernel no 85 5

# ---- quitting during the probation asks once, then reverts
apply_port 86 >/dev/null
keys q
expect "q during a probation warns first" 'quitting REVERTS it'
tui_quit
check "q twice: nfpilot ended" test -n "$(tui_exit_status)"
check "q twice: the change is reverted" wait_kernel no 86 5
sanitizer_clean

# ---- closing the terminal reverts at once
start
apply_port 87 >/dev/null
check "hang-up test: applied" wait_kernel yes 87 3
hangup
check "closing the terminal reverts at once (well before the deadline)" wait_kernel no 87 5

# ---- kill -9 of the live view reverts at once
start
apply_port 88 >/dev/null
check "kill test: applied" wait_kernel yes 88 3
tui_kill 9
check_eq "kill -9: nfpilot ended by the signal" "$(tui_exit_status)" 137
check "kill -9 of nfpilot reverts at once" wait_kernel no 88 5

# ---- strict mode: Y refused, a confirm from another session counts
start --confirm-new-session
apply_port 89 >/dev/null
expect "strict: the banner asks for a new login" 'confirm from a NEW login'
keys Y
expect "strict: Y is refused" 'this session cannot confirm'
check "strict: still on probation after Y" test -n "$(banner_secs)"
# no new login can be had here (no sshd, no audit sessions): setsid and
# this script are the view's login; a new SSH login confirms in
# probation_ssh.sh
out=$(setsid "$NFPILOT" -N "$SRV" confirm 2>&1)
if grep -q 'the same login' <<<"$out"; then ok "strict: nfpilot confirm from the same login (setsid) is refused"
else not_ok "strict: confirm from the same login: $(tr '\n' '|' <<<"$out")"; fi
check "strict: still on probation after it" test -n "$(banner_secs)"
keys R
expect "strict: R reverts (the same login may roll back)" 'REVERTED: rolled back on request' 5
check "strict: the change is gone" wait_kernel no 89

# ---- a probation started elsewhere shows in the header; Y confirms it
printf 'add rule inet web input tcp dport 90 drop\n' >"$TEST_TMP/other.nft"
nfp apply --detach "$TEST_TMP/other.nft" >/dev/null 2>&1
expect "another session's probation shows in the header" 'PROBATION of another session' 5
keys Y
expect "Y confirms another session's probation" 'confirmed the change on probation'
check "Y: the other session's guardian ends, no probation left" poll_until 5000 over
check "the other session's change stays" has_port 90
tui_quit
check "q without a probation of ours quits at once" test -n "$(tui_exit_status)"
sanitizer_clean
finish
