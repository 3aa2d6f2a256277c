#!/bin/bash
# The holes of issue 11 in the probation protocol, each driven as it was
# found: a change reaches the kernel only through a guardian that holds its
# restore point (a script fed through a FIFO after the probation it would
# have joined ended; a client that holds and commits after the end); no
# size of change breaks the protocol (a 220 KB script, three 85 KB set
# rules in one edit); the guardian reverts on SIGTERM and starts through
# systemd-run where systemd runs (a stand-in here); a socket that is not
# root's is not the guardian's; an apply right after a probation ends
# starts the next one; ps shows nothing of who applied what.
. "$(dirname "$0")/../lib.sh"

ns_add "$SRV" || bail "ip netns add $SRV"
RUN=""
run_dir() { ls -d "$RUN_ROOT/netns-$SRV."* 2>/dev/null | head -n 1; }
ruleset_s() { srv nft -s list ruleset 2>/dev/null; }
with_rule() { srv nft list ruleset 2>/dev/null | grep -q "$1"; }

srv nft -f - <<'EOF' || bail "the base ruleset"
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 80 accept comment "web"
	}
}
EOF
BASE=$(ruleset_s)
echo 'add rule inet web input tcp dport 7001 accept comment "a"' >"$TEST_TMP/a.nft"

# ---------------------------------------------------------------- a script read through a FIFO

check_rc "a probation (10 s)" 0 nfp apply --detach --timeout 10 "$TEST_TMP/a.nft"
mkfifo "$TEST_TMP/fifo"
"$NFPILOT" -N "$SRV" apply --detach --timeout 30 "$TEST_TMP/fifo" >"$TEST_TMP/f.out" 2>&1 &
FPID=$!
poll_until 25000 over || not_ok "the first probation did not end"
check_eq "... reverted at its deadline" "$(ruleset_s)" "$BASE"
printf '%s\n' 'add rule inet web input tcp dport 22 drop comment "late"' >"$TEST_TMP/fifo"
wait "$FPID"
check_eq "the script fed after it: applied (exit 0)" "$?" 0
check "... on a probation of its own" grep -q '^probation: running' <<<"$(nfp status)"
check "... which keeps it" grep -q 'tcp dport 22 drop' <<<"$(nfp status)"
check_rc "... rollback" 0 nfp rollback
check_eq "... reverts it" "$(ruleset_s)" "$BASE"

# a client that holds, then commits after the probation ended: nothing
# reaches the kernel (the applier only ever asks the guardian)
check_rc "a probation for a late joiner" 0 nfp apply --detach --timeout 60 "$TEST_TMP/a.nft"
RUN=$(run_dir)
printf 'add rule inet web input tcp dport 23 drop comment "unguarded"\n' >"$RUN/late.nft"
printf 'late\n' >"$RUN/late.txt"
python3 - "$RUN/sock" "$RUN/late.nft" "$RUN/late.txt" "$TEST_TMP/late.go" >"$TEST_TMP/late.out" 2>&1 <<'EOF' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(b"hold %d detach" % 1)
print(s.recv(65536).decode(), flush=True)
# meanwhile: a rollback from another login; the test says when it is done
end = time.monotonic() + 30
while not os.path.exists(sys.argv[4]) and time.monotonic() < end:
    time.sleep(0.05)
try:
    s.send(("commit script %s %s" % (sys.argv[2], sys.argv[3])).encode())
    print("answer:", s.recv(65536).decode() or "closed", flush=True)
except OSError as e:
    print("answer: error", e, flush=True)
EOF
LPID=$!
poll_until 5000 grep -q '^ok' "$TEST_TMP/late.out"
check_rc "the probation is rolled back by another login" 0 nfp rollback
: >"$TEST_TMP/late.go"
wait "$LPID"
check "the late commit reaches no guardian" grep -Eq '^answer: (closed|error)' "$TEST_TMP/late.out"
check "... and nothing of it is in the kernel" sh -c '! ip netns exec "$0" nft list ruleset | grep -q unguarded' "$SRV"
check_eq "... the ruleset as before" "$(ruleset_s)" "$BASE"

# ---------------------------------------------------------------- big changes

python3 - >"$TEST_TMP/big.nft" <<'EOF'
print("add set inet web big { type ipv4_addr; }")
n = 0
while n < 18000:
    print("add element inet web big { %s }" % ", ".join(
        "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(n, n + 100)))
    n += 100
print('add rule inet web input ip saddr @big drop comment "big"')
EOF
check_ge "a script of more than 220 KB" "$(stat -c %s "$TEST_TMP/big.nft")" 220000
check_rc "... on probation" 0 nfp apply --detach "$TEST_TMP/big.nft"
check "... status names its table" grep -q '^tables: inet web' <<<"$(nfp status)"
check "... and shows the change" grep -q 'add set inet web big' <<<"$(nfp status)"
check_rc "... rollback" 0 nfp rollback
check_eq "... reverts it all" "$(ruleset_s)" "$BASE"

ELEMS=$(python3 -c 'print(", ".join("10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(7500)))')
check_ge "three set rules of more than 85 KB" "${#ELEMS}" 85000
check_rc "... in one edit, on probation" 0 nfp edit --detach -t inet web -c input \
	--append "ip saddr { $ELEMS } counter drop" --append "ip daddr { $ELEMS } counter drop" \
	--append "ip saddr { $ELEMS } tcp dport 1 drop"
check_eq "... all three in" "$(srv nft list chain inet web input | grep -c 'drop')" 3
check_rc "... rollback" 0 nfp rollback
check_eq "... reverts them" "$(ruleset_s)" "$BASE"

# ---------------------------------------------------------------- SIGTERM, systemd

check_rc "a probation" 0 nfp apply --detach --timeout 60 "$TEST_TMP/a.nft"
GPID=$(st guardian)
kill -TERM "$GPID"
poll_until 10000 over || not_ok "... the guardian did not end on SIGTERM"
check_eq "SIGTERM to the guardian: it reverts first" "$(ruleset_s)" "$BASE"
check "... and says so in the history" grep -rq 'stopped (SIGTERM)' "$NFPILOT_LIB_DIR"

# systemd-run's stand-in: starts the command on its own, as a unit would
cat >"$TEST_TMP/systemd-run" <<EOF
#!/bin/sh
echo "\$@" >>"$TEST_TMP/systemd-run.args"
while [ "\${1#--}" != "\$1" ]; do shift; done
setsid "\$@" </dev/null >/dev/null 2>&1 &
EOF
chmod +x "$TEST_TMP/systemd-run"
check_rc "where systemd runs, the guardian is a unit (systemd-run)" 0 \
	env NFPILOT_SYSTEMD_RUN="$TEST_TMP/systemd-run" "$NFPILOT" -N "$SRV" apply --detach "$TEST_TMP/a.nft"
check "... systemd-run was asked for it" grep -q -- '--unit=nfpilot-guardian-' "$TEST_TMP/systemd-run.args"
check "... in this network namespace" grep -q -- '--property=NetworkNamespacePath=/proc/' "$TEST_TMP/systemd-run.args"
check "... the probation runs" grep -q '^probation: running' <<<"$(nfp status)"
check_rc "... rollback" 0 nfp rollback
check_eq "... reverts it" "$(ruleset_s)" "$BASE"

# ---------------------------------------------------------------- whose socket

RUN=$(run_dir)
python3 - "$RUN/sock" >/dev/null 2>&1 <<'EOF' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
os.setgid(65534)
os.setuid(65534)   # listens as nobody: its peer credentials say so
s.listen(4)
while True:
    c, _ = s.accept()
    c.recv(100)
    c.send(b"ok 99")
EOF
FAKE=$!
poll_until 5000 test -S "$RUN/sock"
check_rc "a socket not root's: rollback refuses it" 1 nfp rollback
check "... saying so" grep -q 'not the guardian' <<<"$RC_ERR"
check "... and prints no history number" eval '! grep -q "history 99" <<<"$RC_OUT"'
kill "$FAKE" 2>/dev/null
wait "$FAKE" 2>/dev/null
rm -f "$RUN/sock"

# ---------------------------------------------------------------- a damaged restore point

check_rc "a probation whose guardian is killed" 0 nfp apply --detach "$TEST_TMP/a.nft"
GPID=$(st guardian)
RUN=$(run_dir)
kill -9 "$GPID"
poll_until 5000 sh -c "! kill -0 $GPID 2>/dev/null"
truncate -s 100 "$RUN/restore.snap"
check "status: a damaged restore point, said so" grep -q '^probation: DAMAGED RESTORE POINT' <<<"$(nfp status)"
check_rc "rollback cannot restore it" 1 nfp rollback
check "... and says what can be done" grep -q 'nfpilot confirm sets it aside' <<<"$RC_ERR"
check_rc "a new apply is refused" 1 nfp apply --detach "$TEST_TMP/a.nft"
check "... with advice that works" grep -q 'damaged restore point.*nfpilot confirm sets it aside' <<<"$RC_ERR"
check_rc "confirm sets it aside" 0 nfp confirm
check "... kept beside, renamed" sh -c 'ls "$0"/restore.snap.damaged-* >/dev/null' "$RUN"
check "... nothing on probation" over
check_rc "... and the next apply works" 0 nfp apply --detach "$TEST_TMP/a.nft"
check_rc "... rollback" 0 nfp rollback
srv nft -f - <<<"$(printf 'flush ruleset\n%s\n' "$BASE")"
check_eq "the base again" "$(ruleset_s)" "$BASE"

# ---------------------------------------------------------------- one after the other, and ps

good=0
for i in 1 2 3 4 5; do
	nfp apply --detach "$TEST_TMP/a.nft" >/dev/null 2>&1 && nfp rollback >/dev/null 2>&1 &&
		good=$((good + 1))
done
check_eq "an apply right after a probation ended starts the next (5 of 5)" "$good" 5
check_rc "a probation, from an SSH-looking session" 0 env SSH_CONNECTION="203.0.113.9 5555 10.0.0.1 22" \
	"$NFPILOT" -N "$SRV" apply --detach "$TEST_TMP/a.nft"
GPID=$(st guardian)
check_eq "ps shows the guardian's run folder only" "$(tr '\0' ' ' <"/proc/$GPID/cmdline")" \
	"nfpilot guardian $(run_dir) "
check "... while status still says who and from where" grep -q '^from: 203.0.113.9' <<<"$(nfp status)"
check_rc "... rollback" 0 nfp rollback

finish
