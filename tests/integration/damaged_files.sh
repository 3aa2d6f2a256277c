#!/bin/bash
# Damaged restore points and history files (issue 11, item 8), end to end.
# Each damage that made nfpilot exit or crash before — an attribute of the
# wrong length (libnftnl exit()ed: "nf_tables kernel ABI is broken"), an
# expression without its name (a NULL dereferenced: rc 139), a file cut
# between two messages (read as a smaller table) — is reported as damaged,
# with the reason, by history show --before, restore N, status, rollback
# and the guardian's join; nothing changes, the guardian lives on, and
# confirm sets a damaged restore point aside. tests/tools/snapdamage
# damages the files (probation/snapfile.h has their format).
. "$(dirname "$0")/../lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
DAMAGE=$TOP/build/asan/tools/snapdamage
[ -x "$DAMAGE" ] || bail "no $DAMAGE (make build/asan/tools/snapdamage)"
ns_add "$SRV" || bail "ip netns add $SRV"
HIST="$NFPILOT_LIB_DIR/netns-$SRV/history"
run_dir() { ls -d "$RUN_ROOT/netns-$SRV."* 2>/dev/null | head -n 1; }
ruleset_s() { srv nft -s list ruleset 2>/dev/null; }

srv nft -f - <<'EOF' || bail "the base ruleset"
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 80 accept comment "web"
		ip saddr 10.0.0.1 counter drop comment "bad"
	}
}
EOF
BASE=$(ruleset_s)
echo 'add rule inet web input tcp dport 7001 accept comment "a"' >"$TEST_TMP/a.nft"

# why HOW: what the reason says for each damage
why() {
	case "$1" in
	length) echo 'expression 1 ([a-z]*): attribute [0-9]* has length 3, wants 4' ;;
	noname) echo 'expression 1: no expression name' ;;
	cut) echo 'cut short' ;;
	esac
}

# ---------------------------------------------------------------- history files

check_rc "a change on probation" 0 nfp apply --detach "$TEST_TMP/a.nft"
check_rc "... confirmed" 0 nfp confirm
N=$(sed -n 's/^confirmed (history \([0-9]*\)).*/\1/p' <<<"$RC_OUT")
[ -n "$N" ] && [ -s "$HIST/$N/before.snap" ] || bail "no history entry"
cp "$HIST/$N/before.snap" "$TEST_TMP/before.snap"
AFTER=$(ruleset_s)
for how in length noname cut; do
	cp "$TEST_TMP/before.snap" "$HIST/$N/before.snap"
	"$DAMAGE" "$how" "$HIST/$N/before.snap" || { not_ok "damage a file ($how)"; continue; }
	check_rc "$how: history show --before refuses it (no exit in libnftnl, no crash)" 1 \
		nfp history show "$N" --before
	check "... as damaged, saying why" grep -q "before.snap: damaged: .*$(why "$how")" <<<"$RC_ERR"
	check_rc "$how: restore $N --before refuses it" 1 nfp restore "$N" --before
	check "... as damaged" grep -q 'damaged: ' <<<"$RC_ERR"
	check_eq "... nothing changed" "$(ruleset_s)" "$AFTER"
done
cp "$TEST_TMP/before.snap" "$HIST/$N/before.snap"
check_rc "the file as it was: history show --before" 0 nfp history show "$N" --before
check "... the rules before the change" grep -q 'comment "bad"' <<<"$RC_OUT"

# ---------------------------------------------------------------- a restore point left behind

for how in length noname; do
	srv nft -f - <<<"$(printf 'flush ruleset\n%s\n' "$BASE")"
	check_rc "$how: a probation whose guardian is killed" 0 nfp apply --detach "$TEST_TMP/a.nft"
	GPID=$(st guardian)
	RUN=$(run_dir)
	kill -9 "$GPID"
	poll_until 5000 sh -c "! kill -0 $GPID 2>/dev/null"
	LEFT=$(ruleset_s)
	"$DAMAGE" "$how" "$RUN/restore.snap" || { not_ok "damage the restore point ($how)"; continue; }
	check "... status: a damaged restore point, said so" \
		grep -q '^probation: DAMAGED RESTORE POINT' <<<"$(nfp status)"
	check_rc "... rollback cannot restore it (no exit, no crash)" 1 nfp rollback
	check "... saying it is damaged" grep -q 'damaged' <<<"$RC_ERR"
	check_eq "... nothing changed" "$(ruleset_s)" "$LEFT"
	check_rc "... confirm sets it aside" 0 nfp confirm
	check "... nothing on probation" over
done
srv nft -f - <<<"$(printf 'flush ruleset\n%s\n' "$BASE")"

# ---------------------------------------------------------------- the guardian's join

# join PATH: what the guardian answers (its socket is SOCK_SEQPACKET)
join() {
	python3 - "$(run_dir)/sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(("join " + sys.argv[2]).encode())
print(s.recv(65536).decode(errors="replace"))
EOF
}

check_rc "a probation" 0 nfp apply --detach --timeout 60 "$TEST_TMP/a.nft"
GPID=$(st guardian)
for how in length noname cut; do
	cp "$TEST_TMP/before.snap" "$TEST_TMP/join.snap"
	"$DAMAGE" "$how" "$TEST_TMP/join.snap" || { not_ok "damage a join file ($how)"; continue; }
	REPLY=$(join "$TEST_TMP/join.snap" 2>&1)
	check "$how: the guardian refuses a damaged file to join" grep -q '^err .*damaged' <<<"$REPLY"
	check "... and lives on" kill -0 "$GPID"
done
check_rc "... its probation rolls back" 0 nfp rollback
check_eq "... to the base" "$(ruleset_s)" "$BASE"

finish
