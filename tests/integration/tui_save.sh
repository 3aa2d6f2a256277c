#!/bin/bash
# S in the live view never saves the boot file while a change is on
# probation in this namespace (issue 11, item 5): not another login's
# (the guardian answers), not one whose guardian died and left its restore
# point; it says why and what to do, and asks nothing. `nfpilot save`
# refuses the same. Once the probation is settled, S saves.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

ns_add "$SRV" || bail "ip netns add $SRV"
CONF="$TEST_TMP/nfpilot.conf"
BOOT="$TEST_TMP/boot.nft"
printf 'save_file.%s = %s\ntimeout = 60\n' "$SRV" "$BOOT" >"$CONF"
export NFPILOT_CONFIG="$CONF"
srv nft -f - <<'EOF' || bail "a ruleset"
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 accept
	}
}
EOF

tui_start NFPILOT_CONFIG="$CONF" NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" -- ||
	bail "the live view did not start"

# press_s: S, and y should it ask (it must not); S's own screen (the
# view idle again) shows the question or the refusal
press_s() {
	keys S
	if on_screen "Save namespace $SRV's live ruleset to $BOOT"; then
		ASKED=yes
		keys y
	else
		ASKED=no
	fi
}

# ---- another login's change on probation, its guardian alive
check_rc "another login: a change on probation (detached)" 0 \
	nfp edit --detach --timeout 60 -t inet web -c input --append 'tcp dport 99 drop'
wait_for 'PROBATION of another session' 5 >/dev/null
press_s
check_eq "S during another login's probation: nothing asked" "$ASKED" no
expect "... says why: a change is on probation" 'not saved: a change is on probation'
check "... the boot file is not written" test ! -e "$BOOT"
check_rc "nfpilot save refuses the same" 1 nfp save
check "... saying why and what to do" grep -q 'on probation.*nfpilot confirm' <<<"$RC_ERR"
check "... and writes nothing" test ! -e "$BOOT"
check_rc "the other login rolls it back" 0 nfp rollback
check "... dport 99 is gone from the kernel" eval 'r=$(srv nft list ruleset) && ! grep -q "dport 99" <<<"$r"'

# ---- a guardian killed, its restore point left behind
check_rc "a change on probation again" 0 \
	nfp edit --detach --timeout 60 -t inet web -c input --append 'tcp dport 98 drop'
poll_until 5000 eval '[ -n "$(guardian_pids "$SRV")" ]' || not_ok "no guardian seen"
for p in $(guardian_pids "$SRV"); do kill -9 "$p"; done
poll_until 5000 eval 'nfp status | grep -q "GUARDIAN GONE"' ||
	not_ok "status does not say the guardian is gone: $(nfp status 2>&1 | head -3 | tr '\n' '|')"
press_s
check_eq "S with a restore point left: nothing asked" "$ASKED" no
expect "... says to settle it first" 'not saved: a probation ended without its guardian'
check "... the boot file is not written" test ! -e "$BOOT"
check_rc "nfpilot save refuses the same" 1 nfp save
check "... naming rollback and confirm" grep -q 'nfpilot rollback or nfpilot confirm' <<<"$RC_ERR"
check_rc "rollback puts the restore point back" 0 nfp rollback

# ---- settled: S saves, without the rolled-back rules
over || not_ok "a probation is still there: $(nfp status 2>&1 | head -2 | tr '\n' '|')"
press_s
check_eq "S with no probation: asks" "$ASKED" yes
expect "... and saves" "saved to $BOOT"
check "... the file holds the ruleset" grep -q 'dport 22' "$BOOT"
check "... and neither rolled-back change" eval '! grep -Eq "dport (98|99)" "$BOOT"'
if [ -s "$TEST_TMP/tui.err" ] && grep -q Sanitizer "$TEST_TMP/tui.err"; then
	not_ok "sanitizer report: $(head -c 1500 "$TEST_TMP/tui.err" | tr '\n' '|')"
fi
tui_quit
finish
