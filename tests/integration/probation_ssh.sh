#!/bin/bash
# The lockout nfpilot exists for, end to end over a real SSH connection. A
# private OpenSSH server (its own config, host key and authorized_keys in
# the test's temp dir; never the machine's sshd or /etc/ssh) runs in the
# server namespace; the client namespace logs in as root with a test key
# and runs nfpilot there in a pseudo-terminal. Its change sets policy drop
# on input with no rule for established traffic: the session hangs, the
# "yes" typed into it never arrives, a second login is locked out; nothing
# is confirmed, the guardian reverts at the deadline, and a new login gets
# in again. Strict mode (--confirm-new-session) over SSH: with established
# traffic accepted but new logins dropped, the applying session cannot
# confirm and nobody else can get in to: it reverts; with port 22 open a
# new login confirms. The control: yes typed into a session that stays
# alive confirms. These changes pass the lockout pre-check with
# --ignore-lockout: this is the net behind it (tests/integration/lockout.sh).
. "$(dirname "$0")/../lib.sh"

[ -x "$SSHD" ] || bail "no sshd (sh tests/deps.sh check installs openssh-server)"
command -v ssh >/dev/null || bail "no ssh client (openssh-client)"

setup_net
D="$TEST_TMP/ssh"
ssh_keys "$D" || bail "ssh keys"
sshd_start "$D" sshd "$SRV" "$SRV_IP" "PrintLastLog no" "AllowTcpForwarding no" "LogLevel VERBOSE" ||
	bail "sshd in $SRV"

# login ARGS...: ssh from the client namespace to the server as root
login() { ssh_login "$D" "$@"; }

check_eq "a login works before the change" "$(login root@"$SRV_IP" 'echo in; cat /proc/self/net/dev | grep -c v0' 2>&1)" \
	"$(printf 'in\n1')"

# the change: drop everything coming in, established SSH included
cat >"$D/drop.nft" <<'EOF'
table inet lockout {
	chain input {
		type filter hook input priority 0; policy drop;
		iif "lo" accept
	}
}
EOF
BEFORE=$(srv nft -s list ruleset)

# the admin's session: a pseudo-terminal (-tt), what is typed comes from a
# fifo, what the server says goes to a file
mkfifo "$D/typed"
( login -tt root@"$SRV_IP" \
	"NFPILOT_LIB_DIR=$NFPILOT_LIB_DIR ASAN_OPTIONS=${ASAN_OPTIONS:-} $NFPILOT apply --ignore-lockout --timeout 10 $D/drop.nft" \
	<"$D/typed" >"$D/session.out" 2>"$D/session.err"
  echo "$?" >"$D/session.rc" ) &
SESSION=$!
BG_PIDS="$BG_PIDS $SESSION"
exec {TYPED}>"$D/typed"
T0=$(ms)
if poll_until 20000 grep -q 'Keep this change' "$D/session.out"; then
	ok "over SSH nfpilot applies the change and asks on the session's terminal"
else
	not_ok "no question in the SSH session: $(tr '\r\n' '||' <"$D/session.out" | head -c 600) $(head -c 300 "$D/session.err")"
fi
check "the drop policy is in" sh -c "ip netns exec $SRV nft list chain inet lockout input | grep -q 'policy drop'"
check_eq "the session's nfpilot holds the probation" "$(st holders)" 1
check_eq "status: applied from the SSH client's address" "$(st from)" "$CLI_IP"
# the admin answers... into a session that no longer gets anything through
printf 'yes\r' >&"$TYPED"
T_TYPED=$(ms)
locked_out() { ! login -o ConnectTimeout=2 root@"$SRV_IP" true 2>/dev/null; }
check "a new login during the probation is locked out" locked_out
poll_until $((8000 - ($(ms) - T0))) false
check "the typed yes never arrived: still on probation" \
	sh -c "$(printf '%q' "$NFPILOT") -N $SRV status | grep -q '^probation: running'"
check "the session hangs: no outcome reached the admin" \
	sh -c "! grep -q -e REVERTED -e 'confirmed\.' '$D/session.out' '$D/session.err'"

if poll_until 15000 over; then
	ok "the guardian reverted at the deadline ($(( $(ms) - T0 )) ms after the question, timeout 10 s)"
else
	not_ok "still on probation $(( $(ms) - T0 )) ms after the question: $(nfp status | tr '\n' '|')"
fi
check_eq "the ruleset is as before the change" "$(srv nft -s list ruleset)" "$BEFORE"
H="$NFPILOT_LIB_DIR/netns-$SRV/history"
N=$(ls "$H" 2>/dev/null | sort -n | tail -n 1)
check_eq "history: reverted" "$(sed -n 's/^outcome: //p' "$H/$N/meta" 2>/dev/null)" "reverted"
check "history: because nobody confirmed in time" \
	grep -q '^reason: not confirmed within 10 s' "$H/$N/meta"
check_eq "history: from the SSH client" "$(sed -n 's/^from: //p' "$H/$N/meta" 2>/dev/null)" "$CLI_IP"
check_eq "nothing was ever confirmed" "$(grep -l '^outcome: confirmed' "$H"/*/meta 2>/dev/null | wc -l)" 0
check_eq "a new SSH login gets in again" "$(login root@"$SRV_IP" 'echo in-again' 2>&1)" "in-again"

# the old session comes back to life with the revert: nfpilot says so and ends
if poll_until 30000 test -s "$D/session.rc"; then
	check_eq "the hung session's nfpilot ends with exit 1 (not confirmed)" "$(cat "$D/session.rc")" 1
	check "... telling the admin it reverted" grep -q 'REVERTED' "$D/session.out" "$D/session.err"
else
	not_ok "the hung session did not end 30 s after the revert"
fi
exec {TYPED}>&-

# the control: the same drop policy with a rule for established traffic
# keeps the session alive, and the yes typed into it confirms
cat >"$D/safe.nft" <<'EOF'
table inet lockout {
	chain input {
		type filter hook input priority 0; policy drop;
		iif "lo" accept
		ct state established,related accept
	}
}
EOF
# strict mode (--confirm-new-session), what it is for: the same policy
# keeps the admin's session alive but lets no new login in, so nobody can
# confirm and it reverts; with port 22 open a new login confirms it
# session NAME COMMAND: COMMAND over SSH in the background (a shell
# command line; $N is nfpilot with the test's environment), output in
# $D/NAME.out, exit status in $D/NAME.rc
N="NFPILOT_LIB_DIR=$NFPILOT_LIB_DIR ASAN_OPTIONS=${ASAN_OPTIONS:-} $NFPILOT"
session() {
	( login -tt root@"$SRV_IP" "$2" </dev/null >"$D/$1.out" 2>&1
	  echo "$?" >"$D/$1.rc" ) &
	BG_PIDS="$BG_PIDS $!"
	poll_until 20000 grep -q 'on probation' "$D/$1.out"
}
sed 's/ct state established,related accept/&\n\t\ttcp dport 22 accept/' "$D/safe.nft" >"$D/open.nft"
# in the applying session: the apply in the background, then a confirm
session strict1 "$N apply --ignore-lockout --confirm-new-session --timeout 10 $D/safe.nft & \
	until $N status | grep -q '^holders: 1'; do sleep 0.1; done; \
	$N confirm; echo CONFIRM=\$?; wait \$!"
T0=$(ms)
check "strict over SSH: the session says to confirm from a new login" \
	poll_until 5000 grep -q 'confirm from a NEW login' "$D/strict1.out"
check "strict over SSH: a confirm from the applying session is refused" \
	poll_until 5000 grep -q 'CONFIRM=1' "$D/strict1.out"
check "strict over SSH: ... saying why" grep -q 'strict mode' "$D/strict1.out"
check "strict over SSH: a new login cannot get in to confirm" locked_out
if poll_until 15000 test -s "$D/strict1.rc"; then
	ok "strict over SSH: not confirmed from a new login, reverted ($(( $(ms) - T0 )) ms, timeout 10 s)"
	check_eq "strict over SSH: the session's nfpilot ends with exit 1" "$(cat "$D/strict1.rc")" 1
else
	not_ok "strict over SSH: the session has not ended 15 s later"
fi
check "strict over SSH: the table is gone again" sh -c "! ip netns exec $SRV nft list table inet lockout 2>/dev/null"
session strict2 "$N apply --confirm-new-session --timeout 10 $D/open.nft"
check_eq "strict over SSH: with port 22 open a new login confirms" \
	"$(login root@"$SRV_IP" "$N confirm" 2>&1 | sed -n 's/^\(confirmed\) (history [0-9]*).*/\1/p')" \
	"confirmed"
poll_until 10000 test -s "$D/strict2.rc"
check_eq "strict over SSH: the applying session's nfpilot ends with exit 0" "$(cat "$D/strict2.rc" 2>/dev/null)" 0
check "strict over SSH: nothing on probation" over
srv nft delete table inet lockout

mkfifo "$D/typed2"
( login -tt root@"$SRV_IP" \
	"NFPILOT_LIB_DIR=$NFPILOT_LIB_DIR ASAN_OPTIONS=${ASAN_OPTIONS:-} $NFPILOT apply --ignore-lockout --timeout 10 $D/safe.nft" \
	<"$D/typed2" >"$D/session2.out" 2>&1
  echo "$?" >"$D/session2.rc" ) &
BG_PIDS="$BG_PIDS $!"
exec {TYPED}>"$D/typed2"
poll_until 20000 grep -q 'Keep this change' "$D/session2.out"
printf 'yes\r' >&"$TYPED"
if poll_until 10000 test -s "$D/session2.rc"; then
	check_eq "control: with established traffic accepted, yes typed over SSH confirms (exit 0)" \
		"$(cat "$D/session2.rc")" 0
else
	not_ok "control: the session did not end after yes: $(tr '\r\n' '||' <"$D/session2.out" | head -c 600)"
fi
exec {TYPED}>&-
check "control: nothing on probation" over
check "control: the drop policy stays" sh -c "ip netns exec $SRV nft list chain inet lockout input | grep -q 'policy drop'"
check "control: a new login is refused by the confirmed policy (port 22 not open)" locked_out
finish
