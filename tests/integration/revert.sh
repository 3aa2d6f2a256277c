#!/bin/bash
# The revert never fails (issue 10): rule forms the kernel dumps in a form
# it refuses back (meters, set updates of several statements, chain
# bindings) restore exactly; a restore point the kernel refuses stops the
# change before anything goes in (the test hook NFPILOT_TEST_BREAK_RESTORE
# makes one: no real form is refused any more); --force applies anyway
# and says so; a table the kernel refuses during a revert keeps no other
# table from coming back, and status says REVERT FAILED, why, and what each
# way out does; kernel errors are never "nf_tables is not available";
# status shows dates; the history maps old handles to new ones.
. "$(dirname "$0")/../lib.sh"

ns_add "$SRV" || bail "ip netns add $SRV"
HIST="$NFPILOT_LIB_DIR/netns-$SRV/history"

ruleset_s() { srv nft -s list ruleset 2>/dev/null; }
history_n() { ls "$HIST" 2>/dev/null | grep -c '^[0-9]*$'; }
meta() { sed -n "s/^$2: //p" "$HIST/$1/meta" 2>/dev/null; }
run_files() { ls "$RUN_ROOT/netns-$SRV."*/ 2>/dev/null | grep -v '^lock$' | tr '\n' ' '; }

# ---------------------------------------------------------------- the forms

cat >"$TEST_TMP/forms.nft" <<'EOF'
table inet fw {
	set seen { type ipv4_addr; flags dynamic; }
	set recent { type ipv4_addr; flags dynamic,timeout; timeout 1m; }
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 ct state new meter ssh-meter { ip saddr limit rate 3/minute } accept
		update @recent { ip saddr limit rate 1/second counter }
		add @seen { ip saddr }
		update @recent { ip saddr }
		meta l4proto ipv6-icmp jump { counter accept; }
		tcp dport 23 jump { ip saddr 10.0.0.0/8 accept; counter drop; }
		counter comment "last"
	}
}
table ip other {
	chain c {
		type filter hook output priority 0; policy accept;
		counter comment "other"
	}
}
EOF
srv nft -f "$TEST_TMP/forms.nft" || bail "the forms do not load"
BASE=$(ruleset_s)
FW0=$(srv nft -s list table inet fw)
OTHER0=$(srv nft -s list table ip other)
tables_as_before() {
	[ "$(srv nft -s list table inet fw 2>/dev/null)" = "$FW0" ] &&
		[ "$(srv nft -s list table ip other 2>/dev/null)" = "$OTHER0" ]
}
has_table() { srv nft list table "$@" >/dev/null 2>&1; }
status_says() { nfp status 2>/dev/null | grep -q "$1"; }
echo 'flush ruleset' >"$TEST_TMP/flush.nft"
echo 'add rule inet fw input tcp dport 9 drop' >"$TEST_TMP/small.nft"

check_rc "flush ruleset on probation (meters, set updates, bindings)" 0 \
	nfp apply --detach "$TEST_TMP/flush.nft"
check_eq "... the ruleset is empty meanwhile" "$(ruleset_s)" ""
check_rc "... rollback" 0 nfp rollback
check_eq "... every table exactly as before, in the same order" "$(ruleset_s)" "$BASE"
check "... nothing left" over

check_rc "a small change, then the deadline" 0 nfp apply --detach --timeout 10 "$TEST_TMP/small.nft"
poll_until 20000 over || not_ok "... the guardian did not end within 20 s"
check_eq "... reverted exactly" "$(ruleset_s)" "$BASE"
N=$(history_n)
check_eq "... history: reverted" "$(meta "$N" outcome)" "reverted"

# ---------------------------------------------------------------- handles

check_rc "history show of the revert" 0 nfp history show "$N"
check "... says the rules got new handles" grep -q "^handles: the revert gave [0-9]* rules new handles" <<<"$RC_OUT"
check_rc "history show --handles" 0 nfp history show "$N" --handles
# the last rule of input: its handle now, and the map's line for it
NOW=$(srv nft -a list chain inet fw input | sed -n 's/.*comment "last" # handle \([0-9]*\)$/\1/p')
check "... maps a rule to its handle now ($NOW)" grep -q "^inet fw chain input: rule [0-9]* is now $NOW\$" <<<"$RC_OUT"

# ---------------------------------------------------------------- a refused restore point

H0=$(history_n)
check_rc "a restore point the kernel refuses: the apply is refused" 1 \
	env NFPILOT_TEST_BREAK_RESTORE=inet:fw "$NFPILOT" -N "$SRV" apply --detach "$TEST_TMP/flush.nft"
check "... naming the table, the object and why" grep -q \
	"the kernel refused the restore of table inet fw: Numerical result out of range at" <<<"$RC_ERR"
check "... saying how to force it" grep -q -- "--force applies it anyway" <<<"$RC_ERR"
check "... never 'not available'" eval '! grep -q "not available" <<<"$RC_ERR"'
check_eq "... nothing changed" "$(ruleset_s)" "$BASE"
check "... no probation (the guardian ends)" poll_until 5000 over
check_eq "... no history entry" "$(history_n)" "$H0"
check_eq "... no file left in the run folder" "$(run_files)" ""
LAST=$(srv nft -a list chain inet fw input | sed -n 's/.*comment "last" # handle \([0-9]*\)$/\1/p')
check_rc "the same through nfpilot edit (its inverse)" 1 env NFPILOT_TEST_BREAK_RESTORE=inet:fw \
	"$NFPILOT" -N "$SRV" edit --detach -t inet fw -c input --delete-handle "$LAST"
check "... refused the same way" grep -q "the kernel refused the restore of table inet fw" <<<"$RC_ERR"
check_eq "... nothing changed" "$(ruleset_s)" "$BASE"

# ---------------------------------------------------------------- forced, and a revert that fails for one table

check_rc "--force applies it anyway" 0 env NFPILOT_TEST_BREAK_RESTORE=inet:fw \
	"$NFPILOT" -N "$SRV" apply --force --detach "$TEST_TMP/flush.nft"
check "... warning that the guardian cannot undo it" grep -q \
	"WARNING (--force): the guardian cannot undo all of it: the kernel refused the restore of table inet fw" <<<"$RC_ERR"
check_rc "rollback: the revert fails for that table" 1 nfp rollback
check "... saying which and why" grep -q "REVERT FAILED for inet fw: the kernel refused" <<<"$RC_ERR"
check "... never 'not available'" eval '! grep -q "not available" <<<"$RC_ERR"'
check_eq "... the other table came back" "$(srv nft -s list table ip other 2>&1)" "$OTHER0"
check "... and inet fw did not (it stays as the change left it)" eval '! has_table inet fw'

# (LC_ALL=C, as lib.sh sets: the status dash is printed as ASCII "-")
STATUS=$(nfp status)
check "status: REVERT FAILED, naming the table" grep -Eq '^probation: REVERT FAILED (—|-) inet fw did not come back' <<<"$STATUS"
check "status: why" grep -q '^why: .*Numerical result out of range' <<<"$STATUS"
check "status: what rollback would do" grep -q '^  nfpilot rollback: .*try that revert again' <<<"$STATUS"
check "status: what restore N --before would do" grep -q "^  nfpilot restore $(history_n) --before: " <<<"$STATUS"
check "status: what confirm would do" grep -q '^  nfpilot confirm: .*keep the rules as they are now' <<<"$STATUS"
check "status: the start as a date" grep -Eq '^started: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}' <<<"$STATUS"
check "status: not GUARDIAN GONE" eval '! grep -q "GUARDIAN GONE" <<<"$STATUS"'
check_eq "history: the failed revert" "$(meta "$(history_n)" outcome)" "revert failed"
echo 'add table inet x' >"$TEST_TMP/other.nft"
check_rc "a new apply meanwhile is refused" 1 nfp apply --detach "$TEST_TMP/other.nft"
check "... saying the revert failed" grep -q "the revert of the last probation failed" <<<"$RC_ERR"
check_rc "rollback again (the kernel takes it now)" 0 nfp rollback
check "... every table as before" tables_as_before
check "... nothing left" over
check_eq "history: rolled back" "$(meta "$(history_n)" outcome)" "rolled back"

# the same at the deadline: the guardian restores what it can by itself
check_rc "forced again, then the deadline" 0 env NFPILOT_TEST_BREAK_RESTORE=ip:other \
	"$NFPILOT" -N "$SRV" apply --force --detach --timeout 10 "$TEST_TMP/flush.nft"
poll_until 25000 status_says 'REVERT FAILED' || not_ok "... no REVERT FAILED within 25 s"
check_eq "... inet fw came back by itself" "$(srv nft -s list table inet fw 2>&1)" "$FW0"
check "... status names ip other" grep -Eq 'REVERT FAILED (—|-) ip other did not come back' <<<"$(nfp status)"
check_rc "confirm keeps the rules as they are" 0 nfp confirm
check "... nothing left" over
srv nft flush ruleset
srv nft -f "$TEST_TMP/forms.nft"

# ---------------------------------------------------------------- a killed guardian

check_rc "a guardian killed, rollback by hand" 0 nfp apply --detach "$TEST_TMP/small.nft"
GPID=$(nfp status | sed -n 's/^guardian: //p')
kill -9 "$GPID"
poll_until 5000 sh -c "! kill -0 $GPID 2>/dev/null"
check "status: GUARDIAN GONE when it was killed" grep -q '^probation: GUARDIAN GONE' <<<"$(nfp status)"
check_rc "rollback restores what it left" 0 nfp rollback
check_eq "... exactly" "$(ruleset_s)" "$BASE"

finish
