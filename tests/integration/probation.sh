#!/bin/bash
# Every change on probation (probation/probation.h, probation/guardian.c, the verbs
# of cli/probation.c): the guardian reverts at the deadline, keeps on
# confirm, moves the deadline on extend, reverts at once on rollback and as
# soon as the applying nfpilot dies (kill -9, SIGHUP, its tmux pane
# closed) — well before the deadline; a detached apply survives its
# applier; strict mode wants the confirm from another session; status says
# what is on probation; a second apply joins the probation; the restore is
# exact (nft -s listings and iptables-save identical; a text round trip
# through nft -f is not: iptables-save calls the table incompatible);
# untouched tables, and what other tools add to them meanwhile, survive; a
# change that touches nothing starts no probation; a guardian killed with -9
# leaves its restore point for status/rollback/confirm; the history records
# every end; restore N and save FILE.
#
# Deadlines are 10 s (the minimum) where the test waits for one, 60 s where
# the revert must come long before it. Nothing sleeps a fixed time hoping:
# poll_until polls every 0.1 s.
. "$(dirname "$0")/../lib.sh"

TMUX_SOCK="nfpt-$$-prob"
tmx() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
prob_cleanup() {
	tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
	# a server leaves its socket file behind
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SOCK"
	cleanup
}
trap prob_cleanup EXIT
trap 'prob_cleanup; exit 130' INT
trap 'prob_cleanup; exit 143' TERM

ns_add "$SRV" || bail "ip netns add $SRV"
HIST="$NFPILOT_LIB_DIR/netns-$SRV/history"

# ---------------------------------------------------------------- helpers

running() { nfp status 2>/dev/null | grep -q '^probation: running'; }
holders() { [ "$(st holders)" = "$1" ]; }

# every table as nft lists it without state (counters, quota use) or handles
ruleset_s() { srv nft -s list ruleset 2>/dev/null; }
# ... and per table, in a fixed order (a restored table is re-added: its
# place among the kernel's tables may change)
tables_s() {
	local t
	for t in "inet web" "ip filter" "ip nat" "ip other"; do
		echo "== $t"
		srv nft -s list table $t 2>/dev/null
	done
}
# sorted: a list "a, c, b" as "a, b, c"
sorted() { sed 's/, /\n/g' | sort | paste -sd, | sed 's/,/, /g'; }
ipt() { srv iptables-save 2>/dev/null | grep -v '^#'; }
iptn() { srv iptables-save -t nat 2>/dev/null | grep -v '^#'; }
with_rule() { srv nft list ruleset 2>/dev/null | grep -q "$1"; }
without_rule() { ! with_rule "$1"; }

# as_before DESC: the ruleset is exactly the one before the change, in both
# listings (one ok/not ok each)
as_before() {
	check_eq "$1: nft -s list table as before, for each table" "$(tables_s)" "$TABLES0"
	check_eq "$1: iptables-save as before" "$(ipt)" "$IPT0"
}
# same_order DESC: nft -s list ruleset as before, the order of the tables
# included (base chains of the same hook and priority run in that order)
same_order() {
	check_eq "$1: nft -s list ruleset identical, tables in the same order" \
		"$(ruleset_s | sed -n 's/^table //p' | tr '\n' ' ')" \
		"$(sed -n 's/^table //p' <<<"$RULESET0" | tr '\n' ' ')"
	check_eq "$1: nft -s list ruleset identical" "$(ruleset_s)" "$RULESET0"
}

# history_n: how many history entries; meta N KEY: a field of entry N
history_n() { ls "$HIST" 2>/dev/null | grep -c '^[0-9]*$'; }
meta() { sed -n "s/^$2: //p" "$HIST/$1/meta" 2>/dev/null; }

# cmdline PID: its command line, spaces between the arguments; argv0 PID
cmdline() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null; }
argv0() { { tr '\0' '\n' <"/proc/$1/cmdline" | head -n 1; } 2>/dev/null; }

# start_applier ARGS...: nfpilot -N SRV ARGS in the background without a
# terminal (setsid: its own session) and with a stdin that stays open
# without an answer (a fifo this script holds); APPLIER_PID its pid, its
# output in $TEST_TMP/applier.out. Waits until it holds the probation.
start_applier() {
	local fifo="$TEST_TMP/fifo"
	rm -f "$fifo"
	mkfifo "$fifo"
	setsid "$NFPILOT" -N "$SRV" "$@" <"$fifo" >"$TEST_TMP/applier.out" 2>&1 &
	APPLIER_PID=$!
	disown "$APPLIER_PID"   # killed on purpose: no "Killed" line from bash
	exec {FIFO_FD}>"$fifo"
	poll_until 20000 holders 1 || return 1
	case "$(argv0 "$APPLIER_PID")" in
	*/nfpilot) ;;
	*) bail "setsid forked: $APPLIER_PID is $(argv0 "$APPLIER_PID"), not nfpilot" ;;
	esac
}
stop_applier() {
	exec {FIFO_FD}>&-
	kill -9 "$APPLIER_PID" 2>/dev/null
}

# ---------------------------------------------------------------- the ruleset

python3 - >"$TEST_TMP/web.nft" <<'EOF' || bail "writing web.nft"
print('''table inet web {
	comment "the web server"
	counter hits {
		comment "blocked hits"
	}
	quota monthly {
		over 100 mbytes
		comment "udp budget"
	}
	set blocked {
		type ipv4_addr
		flags interval
		comment "bad nets"
		elements = { 192.0.2.0/24, 198.51.100.7 }
	}
	map ports {
		type inet_service : verdict
		elements = { 22 : jump ssh, 80 : accept }
	}
	map portfwd {
		type inet_service : ipv4_addr
		elements = { 8080 : 10.200.0.1, 8443 : 10.200.0.2 }
	}''')
print('\tset many {\n\t\ttype ipv4_addr\n\t\tcomment "5000 addresses"\n\t\telements = {')
print(', '.join('10.%d.%d.%d' % (9 + (i >> 16), i >> 8 & 255, i & 255) for i in range(5000)))
print('''\t\t}
	}
	chain ssh {
		comment "ssh rules"
		counter accept
	}
	chain input {
		type filter hook input priority 0; policy accept;
		ct state established,related counter accept comment "established"
		ip saddr @blocked counter drop
		ip saddr @many counter drop comment "many"
		tcp dport vmap @ports
		ip daddr . tcp dport { 10.200.0.1 . 8080 } accept
		udp dport 53 accept
	}
}
table ip other {
	chain x {
		counter comment "not ours"
	}
}''')
EOF
srv nft -f "$TEST_TMP/web.nft" || bail "nft -f web.nft"
srv sh -e -c '
iptables -A INPUT -p icmp --icmp-type echo-request -m comment --comment ping -j ACCEPT
iptables -A INPUT -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m comment --comment web -j ACCEPT
iptables -N LOGDROP
iptables -A LOGDROP -m limit --limit 5/min -j LOG --log-prefix "drop: "
iptables -A LOGDROP -j DROP
iptables -A INPUT -s 203.0.113.0/24 -j LOGDROP
iptables -P FORWARD DROP
iptables -t nat -A PREROUTING -p tcp --dport 8080 -m comment --comment fwd -j DNAT --to-destination 10.200.0.1:80
iptables -t nat -A POSTROUTING -o lo -j MASQUERADE' || bail "iptables rules"

RULESET0=$(ruleset_s)
TABLES0=$(tables_s)
# the base chains' handles: a revert that keeps them keeps their place in
# the hook's order (beside iptables' INPUT at the same priority)
input_handle() { srv nft -a list table inet web | sed -n 's/.*chain input { # handle \([0-9]*\)$/\1/p'; }
ipt_handle() { srv nft -a list table ip filter | sed -n 's/.*chain INPUT { # handle \([0-9]*\)$/\1/p'; }
H_WEB0=$(input_handle)
H_IPT0=$(ipt_handle)
[ -n "$H_WEB0" ] && [ -n "$H_IPT0" ] || bail "no base chain handles to compare"
IPT0=$(ipt)
OTHER0=$(srv nft -a list table ip other)
check_eq "the fixture: 5000 elements in set many" \
	"$(srv nft list set inet web many | tr ',' '\n' | grep -c '10\.')" 5000
check "the fixture: iptables reads its tables" grep -q -- '-j DNAT' <<<"$(iptn)"

# the change most tests apply: one rule
printf '%s\n' 'add rule inet web input tcp dport 7001 accept comment "seven"' >"$TEST_TMP/one.nft"
# ... and one that wrecks every table but ip other
cat >"$TEST_TMP/wreck.nft" <<'EOF'
flush set inet web many
add element inet web many { 10.255.255.1 }
add element inet web blocked { 203.0.113.0/24 }
flush chain inet web input
delete map inet web ports
delete map inet web portfwd
delete chain inet web ssh
delete counter inet web hits
add chain inet web input { policy drop; }
add rule inet web input tcp dport 9 drop comment "wrecked"
flush table ip filter
add rule ip filter INPUT tcp dport 9 drop
delete table ip nat
add table inet extra
add chain inet extra c { type filter hook output priority 0; }
add rule inet extra c counter comment "made by the change"
EOF

# ---------------------------------------------------------------- a change that touches nothing

echo 'add table inet web' >"$TEST_TMP/noop.nft"
N0=$(history_n)
check_rc "a change that touches nothing" 0 nfp_yes apply --timeout 10 "$TEST_TMP/noop.nft"
check "... says there is no probation" grep -q 'nothing changed: no probation' <<<"$RC_OUT"
check "... and none runs" over
check_eq "... and records no history" "$(history_n)" "$N0"
check_rc "an edit that changes nothing (policy accept on an accepting chain)" 0 \
	nfp_yes edit -t inet web -c input --policy accept --timeout 10
check "... starts no probation either" grep -q 'nothing changed: no probation' <<<"$RC_OUT"
check "... none runs" over
check_eq "the ruleset is untouched" "$(ruleset_s)" "$RULESET0"

# ---------------------------------------------------------------- status

T0=$(ms)
check_rc "apply --detach returns at once" 0 env SSH_CONNECTION="203.0.113.9 50022 10.200.0.1 22" \
	"$NFPILOT" -N "$SRV" apply --detach --timeout 10 "$TEST_TMP/one.nft"
T1=$(ms)
check "... saying what is on probation" grep -q '^on probation: inet web' <<<"$RC_OUT"
check "the change is in" with_rule '"seven"'
STATUS=$(nfp status)
check "status: probation running" grep -qx 'probation: running' <<<"$STATUS"
LEFT=$(sed -n 's/^left: \([0-9]*\) s$/\1/p' <<<"$STATUS")
if [ -n "$LEFT" ] && [ "$LEFT" -ge 7 ] && [ "$LEFT" -le 10 ]; then
	ok "status: time left $LEFT s of 10"
else
	not_ok "status: time left '$LEFT', want 7..10: $(tr '\n' '|' <<<"$STATUS")"
fi
check_eq "status: the touched table (only that one)" "$(st tables)" "inet web"
check_eq "status: who" "$(st user)" "root"
check_eq "status: from the SSH client's address" "$(st from)" "203.0.113.9"
check_eq "status: what made it" "$(st what)" "nfpilot apply $TEST_TMP/one.nft"
check_eq "status: the change itself" "$(sed -n '/^change:$/,$p' <<<"$STATUS" | tail -n +2)" \
	"$(cat "$TEST_TMP/one.nft")"
check_eq "status: no holder (detached)" "$(st holders)" 0
GPID=$(st guardian)
check "status: the guardian's pid is a process 'nfpilot guardian $RUN_ROOT/netns-$SRV.INODE ...'" \
	grep -q "^nfpilot guardian $RUN_ROOT/netns-$SRV\.[0-9]* " <<<"$(cmdline "$GPID")"
check_eq "the guardian runs in its own session" "$(ps -o sid= -p "$GPID" | tr -d ' ')" "$GPID"
check_eq "the run folder is mode 0700" "$(stat -c %a "$RUN_ROOT"/netns-"$SRV".*)" 700

# ---------------------------------------------------------------- rollback

check_rc "rollback" 0 nfp rollback
T2=$(ms)
check "... says the tables are as before" grep -q '^rolled back' <<<"$RC_OUT"
check "... and nothing is on probation" over
check "the guardian process is gone" poll_until 5000 sh -c "! kill -0 $GPID 2>/dev/null"
as_before "after rollback"
same_order "after rollback"
check_eq "after rollback: inet web's input chain stayed in place (same handle)" \
	"$(input_handle)" "$H_WEB0"
check_eq "after rollback: iptables' INPUT stayed in place (same handle)" "$(ipt_handle)" "$H_IPT0"
if [ $((T2 - T1)) -lt 5000 ]; then
	ok "rollback reverted at once ($((T2 - T1)) ms after the apply, deadline 10 s)"
else
	not_ok "rollback took until $((T2 - T1)) ms after the apply"
fi
N=$(history_n)
check_eq "history: the rollback is recorded" "$(meta "$N" outcome)" "reverted"
check "history: why" grep -q 'rolled back on request' <<<"$(meta "$N" reason)"
check "history: the change, the tables before and after are kept" \
	test -s "$HIST/$N/change.nft" -a -s "$HIST/$N/before.snap" -a -s "$HIST/$N/after.snap"
check_eq "history: from" "$(meta "$N" from)" "203.0.113.9"

# ---------------------------------------------------------------- timeout, extend, exact restore

# the wreck, detached; another tool changes the untouched table meanwhile;
# extended after 3 s: still in at 11 s, reverted at 13 s
T0=$(ms)
check_rc "apply --detach --timeout 10 of a change wrecking three tables" 0 \
	nfp apply --detach --timeout 10 "$TEST_TMP/wreck.nft"
check "the wreck is in (set many has 1 element)" sh -c \
	"ip netns exec $SRV nft list set inet web many | grep -q '10.255.255.1 }'"
check_eq "status: the touched tables, the new one marked" "$(st tables | sorted)" \
	"inet extra (new), inet web, ip filter, ip nat"
srv nft add rule ip other x tcp dport 4 counter accept comment '"added meanwhile"'
srv nft add table ip docker
srv nft add chain ip docker c
sleep 3
check_rc "extend" 0 nfp extend
T3=$(ms)
check "extend says the time left" grep -qx 'extended: 10 s left' <<<"$RC_OUT"
LEFT=$(st left | sed 's/ s$//')
check_ge "status after extend: 9 or 10 s left" "$LEFT" 9
poll_until $((11000 - ($(ms) - T0))) false
check "past the first deadline (11 s): still on probation" running
check "... the wreck still in" with_rule '"wrecked"'
poll_until 15000 over
T4=$(ms)
DT=$((T4 - T3))
if [ "$DT" -ge 9500 ] && [ "$DT" -le 13000 ]; then
	ok "the timeout reverted 10 s after the extend ($DT ms; $((T4 - T0)) ms after the apply)"
else
	not_ok "the revert came $DT ms after the extend, want about 10000 ($((T4 - T0)) ms after the apply)"
fi
N=$(history_n)
check_eq "history: reverted" "$(meta "$N" outcome)" "reverted"
check "history: not confirmed in time" grep -q 'not confirmed within 10 s' <<<"$(meta "$N" reason)"
check_eq "history: the tables" "$(meta "$N" tables | sorted)" "inet extra (new), inet web, ip filter, ip nat"
check "the table the change made is gone" sh -c "! ip netns exec $SRV nft list table inet extra 2>/dev/null"
check_eq "set many: 5000 elements again" \
	"$(srv nft list set inet web many | tr ',' '\n' | grep -c '10\.')" 5000
check_eq "inet web exactly as before (nft -s)" "$(srv nft -s list table inet web)" \
	"$(sed -n '/^== inet web$/,/^== ip filter$/p' <<<"$TABLES0" | sed '1d;$d')"
check_eq "iptables-save exactly as before" "$(ipt)" "$IPT0"
check "iptables -L -v reads the restored tables" srv iptables -L -v -n
check "iptables -t nat -L -v too" srv iptables -t nat -L -v -n
check_eq "the untouched table kept its handles and the rule added meanwhile" \
	"$(srv nft -a list table ip other | grep -v 'added meanwhile')" "$OTHER0"
check "... the rule another tool added during the probation survived" \
	with_rule 'added meanwhile'
check "a table another tool made during the probation survived" srv nft list chain ip docker c
srv nft delete rule ip other x handle \
	"$(srv nft -a list chain ip other x | sed -n 's/.*"added meanwhile" # handle \([0-9]*\)/\1/p')"
srv nft delete table ip docker
as_before "after the timeout"

# the same tables through nft's text: nft -f loads them, but iptables no longer reads them
ns_add "$NS_PREFIX-rt" || bail "ip netns add $NS_PREFIX-rt"
srv nft list ruleset >"$TEST_TMP/text.nft" 2>/dev/null
ip netns exec "$NS_PREFIX-rt" nft -f "$TEST_TMP/text.nft"
check "a text round trip (nft list ruleset; nft -f) loads" test $? -eq 0
RT=$(ip netns exec "$NS_PREFIX-rt" iptables-save 2>&1)
check "... but iptables-save calls the tables incompatible" \
	grep -q "Table \`filter' is incompatible" <<<"$RT"
if [ "$(grep -v '^#' <<<"$RT")" != "$IPT0" ]; then
	ok "... and its iptables-save differs from the original (the binary restore's does not)"
else
	not_ok "the text round trip gives iptables-save identical output: the comparison proves nothing"
fi
ip netns del "$NS_PREFIX-rt"

# ---------------------------------------------------------------- confirm (detached, another process)

check_rc "apply --detach" 0 nfp apply --detach --timeout 10 "$TEST_TMP/one.nft"
poll_until 1000 false
check "the probation survives the applier's exit" running
check "the change is in" with_rule '"seven"'
check_rc "confirm from another process (its own session)" 0 setsid -w "$NFPILOT" -N "$SRV" confirm
check "confirm names the history entry" grep -q '^confirmed (history [0-9]*)' <<<"$RC_OUT"
check "... nothing on probation" over
check "... the change stays" with_rule '"seven"'
N=$(history_n)
check_eq "history: confirmed" "$(meta "$N" outcome)" "confirmed"
SEVEN_N=$N
T_SEVEN=$(ms)

# ---------------------------------------------------------------- the terminal's answers

printf '%s\n' 'add rule inet web input tcp dport 7002 accept comment "eight"' >"$TEST_TMP/two.nft"
check_rc "an answer other than yes" 1 answer no "$NFPILOT" -N "$SRV" apply --timeout 60 "$TEST_TMP/two.nft"
check "... reverts" grep -q 'REVERTED' <<<"$RC_ERR"
check "... at once, nothing on probation" over
check "... the change is gone" without_rule '"eight"'
check_rc "no answer at all (end of input)" 1 setsid -w "$NFPILOT" -N "$SRV" apply --timeout 60 \
	"$TEST_TMP/two.nft" </dev/null
check "... reverts" grep -q 'no answer: reverting' <<<"$RC_ERR"
check "... at once" over
check "... the change is gone" without_rule '"eight"'

# ---------------------------------------------------------------- the applier dies: revert at once

for sig in KILL HUP; do
	start_applier apply --timeout 60 "$TEST_TMP/two.nft" ||
		not_ok "SIG$sig: the applier never held the probation: $(head -c 600 "$TEST_TMP/applier.out")"
	check "SIG$sig: the change is in while nfpilot waits for an answer" with_rule '"eight"'
	T0=$(ms)
	kill -"$sig" "$APPLIER_PID"
	if poll_until 10000 over; then
		ok "SIG$sig to the applier: reverted $(( $(ms) - T0 )) ms later (deadline 60 s)"
	else
		not_ok "SIG$sig to the applier: still on probation 10 s later: $(nfp status | tr '\n' '|')"
	fi
	check "SIG$sig: the change is gone" without_rule '"eight"'
	N=$(history_n)
	check "SIG$sig: history says the applier ended without confirming" \
		grep -q "process that applied it (pid $APPLIER_PID) ended without confirming" \
		<<<"$(meta "$N" reason)"
	stop_applier
done

# in a terminal (private tmux server): closing the pane reverts; "yes" keeps
tmx new-session -d -s p -x 100 -y 20 \
	"$(printf '%q ' env NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" "$NFPILOT" -N "$SRV" apply --timeout 60 "$TEST_TMP/two.nft")"
if poll_until 20000 sh -c "tmux -L $TMUX_SOCK capture-pane -p -t p 2>/dev/null | grep -q 'Keep this change'"; then
	ok "tmux: nfpilot asks on its terminal"
else
	not_ok "tmux: no question on the screen: $(tmx capture-pane -p -t p | tr '\n' '|')"
fi
check "tmux: on probation, held by the terminal's nfpilot" holders 1
T0=$(ms)
tmx kill-pane -t p
if poll_until 10000 over; then
	ok "tmux pane closed: reverted $(( $(ms) - T0 )) ms later (deadline 60 s)"
else
	not_ok "tmux pane closed: still on probation 10 s later: $(nfp status | tr '\n' '|')"
fi
check "tmux pane closed: the change is gone" without_rule '"eight"'
tmx new-session -d -s p -x 100 -y 20 \
	"$(printf '%q ' env NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" "$NFPILOT" -N "$SRV" apply --timeout 60 "$TEST_TMP/two.nft"); echo EXIT=\$?; sleep 60"
poll_until 20000 sh -c "tmux -L $TMUX_SOCK capture-pane -p -t p 2>/dev/null | grep -q 'Keep this change'"
tmx send-keys -t p yes Enter
if poll_until 20000 sh -c "tmux -L $TMUX_SOCK capture-pane -p -t p 2>/dev/null | grep -q 'EXIT=0'"; then
	ok "tmux: yes typed on the terminal confirms (exit 0)"
else
	not_ok "tmux: after yes: $(tmx capture-pane -p -t p | tr '\n' '|')"
fi
check "... nothing on probation" over
check "... the change stays" with_rule '"eight"'
tmx kill-server 2>/dev/null
rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SOCK"
srv nft delete rule inet web input handle \
	"$(srv nft -a list chain inet web input | sed -n 's/.*"eight" # handle \([0-9]*\)/\1/p')"
BASE=$(tables_s)   # before, with the confirmed rule "seven"

# ---------------------------------------------------------------- strict mode

# the applier waits in this script's session; a confirm from the same
# login is refused, whatever session or window it comes from (a new SSH
# login counts: probation_ssh.sh)
"$NFPILOT" -N "$SRV" apply --confirm-new-session --timeout 60 "$TEST_TMP/two.nft" \
	</dev/null >"$TEST_TMP/strict.out" 2>&1 &
SPID=$!
poll_until 20000 grep -q 'confirm from a NEW login' "$TEST_TMP/strict.out"
check "strict: the applier holds the probation" holders 1
check "strict: the applier asks for a confirm from a new login" \
	grep -q 'confirm from a NEW login' "$TEST_TMP/strict.out"
check_rc "strict: confirm from the applier's session is refused" 1 nfp confirm
check "strict: ... saying why" grep -q 'strict mode' <<<"$RC_ERR"
check_rc "strict: confirm from a new session of the same login (setsid) is refused" 1 \
	setsid -w "$NFPILOT" -N "$SRV" confirm
check "strict: ... saying that setsid is the same login" grep -q 'setsid, is the same login' <<<"$RC_ERR"
# two windows of one tmux: the second window's confirm
tmx new-session -d -s strict -x 120 -y 20 "sleep 60"
tmx new-window -t strict "$NFPILOT -N $SRV confirm >$TEST_TMP/tmux.out 2>&1; echo \$? >$TEST_TMP/tmux.rc"
poll_until 10000 test -s "$TEST_TMP/tmux.rc"
check_eq "strict: confirm from another tmux window is refused" "$(cat "$TEST_TMP/tmux.rc" 2>/dev/null)" 1
check "strict: ... by strict mode" grep -q 'strict mode' "$TEST_TMP/tmux.out"
tmx kill-session -t strict 2>/dev/null
check "strict: still on probation" running
check "strict: the change is in" with_rule '"eight"'
check_rc "strict: rollback from the same login is allowed" 0 nfp rollback
wait "$SPID"
check_eq "strict: the applier ends with exit 1 (reverted)" "$?" 1
check "strict: the applier says reverted" grep -q 'REVERTED' "$TEST_TMP/strict.out"
check "strict: nothing on probation" over
check "strict: the change is gone" without_rule '"eight"'

check_rc "strict and detached" 0 nfp apply --confirm-new-session --detach --timeout 60 "$TEST_TMP/two.nft"
check_eq "strict and detached: status says strict" "$(st strict)" "yes (confirm only from another login)"
check_rc "strict and detached: confirm from the applier's session is refused" 1 nfp confirm
check "strict and detached: still on probation" running
check_rc "strict and detached: confirm from setsid is refused too" 1 setsid -w "$NFPILOT" -N "$SRV" confirm
check_rc "strict and detached: rollback" 0 nfp rollback
check "strict and detached: over" over
check_eq "the ruleset is back to the base" "$(tables_s)" "$BASE"

# ---------------------------------------------------------------- a second apply joins

printf '%s\n' 'add rule inet web input tcp dport 7003 accept comment "nine"' \
	'add table inet joined' 'add chain inet joined c' >"$TEST_TMP/three.nft"
printf '%s\n' 'add rule inet web input tcp dport 7004 accept comment "ten"' \
	'add rule ip filter INPUT tcp dport 7004 accept' >"$TEST_TMP/four.nft"
check_rc "first apply" 0 nfp apply --detach --timeout 10 "$TEST_TMP/three.nft"
poll_until 3000 false
L1=$(st left | sed 's/ s$//')
check_rc "second apply during the probation" 0 nfp apply --detach --timeout 10 "$TEST_TMP/four.nft"
check "... joins it, deadline restarted" grep -q 'joined the running one, deadline restarted' <<<"$RC_OUT"
L2=$(st left | sed 's/ s$//')
if [ -n "$L1" ] && [ -n "$L2" ] && [ "$L1" -le 8 ] && [ "$L2" -ge 9 ]; then
	ok "the deadline restarted: $L1 s left before the second apply, $L2 s after"
else
	not_ok "deadline: '$L1' s left before the second apply, '$L2' after (want <= 8, >= 9)"
fi
check_eq "status: both changes' tables" "$(st tables | sorted)" "inet joined (new), inet web, ip filter"
STATUS=$(nfp status)
check "status: the first change" grep -q '"nine"' <<<"$STATUS"
check "status: the second change" grep -q '"ten"' <<<"$STATUS"
check_eq "one guardian" "$(guardian_pids "$SRV" | wc -l)" 1
check_rc "rollback" 0 nfp rollback
check "after rollback the first change is gone" without_rule '"nine"'
check "... the second too" without_rule '"ten"'
check "... the table the first made too" sh -c "! ip netns exec $SRV nft list table inet joined 2>/dev/null"
check_eq "the restore point was the state before the first apply" "$(tables_s)" "$BASE"
check_eq "iptables-save as before both" "$(ipt)" "$IPT0"

# ---------------------------------------------------------------- a guardian killed with -9

check_rc "apply --detach" 0 nfp apply --detach --timeout 10 "$TEST_TMP/two.nft"
GPID=$(st guardian)
kill -9 "$GPID"
poll_until 5000 sh -c "! kill -0 $GPID 2>/dev/null"
STATUS=$(nfp status)
check "status: the guardian is gone and left its restore point" grep -q 'GUARDIAN GONE' <<<"$STATUS"
check "status: what it guarded" grep -qx 'tables: inet web' <<<"$STATUS"
check "status: what made it" grep -qx "what: nfpilot apply $TEST_TMP/two.nft" <<<"$STATUS"
check "the change is still in (nobody reverted it)" with_rule '"eight"'
poll_until $((11000 - 1000)) false
check "past the deadline nothing reverted it (no guardian)" with_rule '"eight"'
check_rc "a new apply meanwhile is refused" 1 nfp_yes apply --timeout 10 "$TEST_TMP/one.nft"
check "... pointing at the restore point left" grep -q 'left its restore point' <<<"$RC_ERR"
check_rc "rollback restores it" 0 nfp rollback
check "... saying so" grep -q 'restore point left behind was restored' <<<"$RC_OUT"
check_eq "... the ruleset as before" "$(tables_s)" "$BASE"
check "... nothing left" over
N=$(history_n)
check_eq "history: rolled back after the guardian died" "$(meta "$N" outcome)" "rolled back"

check_rc "again, apply --detach" 0 nfp apply --detach --timeout 10 "$TEST_TMP/two.nft"
GPID=$(st guardian)
kill -9 "$GPID"
poll_until 5000 sh -c "! kill -0 $GPID 2>/dev/null"
check_rc "confirm drops the restore point a dead guardian left" 0 nfp confirm
check "... saying so" grep -q 'restore point left behind was dropped' <<<"$RC_OUT"
check "... the change stays" with_rule '"eight"'
check "... nothing left" over
srv nft delete rule inet web input handle \
	"$(srv nft -a list chain inet web input | sed -n 's/.*"eight" # handle \([0-9]*\)/\1/p')"

# ---------------------------------------------------------------- history, restore N, save

check "the confirmed rule of long ago stays ($(( ($(ms) - T_SEVEN) / 1000 )) s after its deadline)" \
	with_rule '"seven"'
check_rc "nfpilot history" 0 nfp history
HL=$RC_OUT
check_eq "history lists every entry" "$(grep -c '^ *[0-9]\+  ' <<<"$HL")" "$(history_n)"
check "history shows confirmed entries" grep -q '  confirmed  ' <<<"$HL"
check "history shows reverted entries" grep -q '  reverted  ' <<<"$HL"
check "history shows the recovered one" grep -q '  rolled back  ' <<<"$HL"
check_rc "history show N" 0 nfp history show "$SEVEN_N"
check "history show: the change" grep -qF 'add rule inet web input tcp dport 7001 accept comment "seven"' <<<"$RC_OUT"
check "history show: outcome" grep -qx 'outcome: confirmed' <<<"$RC_OUT"
check_rc "history show N --before" 0 nfp history show "$SEVEN_N" --before
check "... the table before: no rule seven" sh -c '! grep -q "\"seven\"" "$1" && grep -q "5000 addresses" "$1"' _ "$TEST_TMP/rc.out"
check_rc "history show N --after" 0 nfp history show "$SEVEN_N" --after
check "... the table after: rule seven" grep -q '"seven"' <<<"$RC_OUT"
check_rc "history show of no such entry" 3 nfp history show 9999

check_rc "restore N --before (detached): on probation itself" 0 \
	nfp restore "$SEVEN_N" --before --detach --timeout 10
check "restore --before: rule seven is gone" without_rule '"seven"'
check_eq "restore --before: status says what" "$(st what)" "nfpilot restore $SEVEN_N --before"
check_rc "rollback of the restore" 0 nfp rollback
check "... rule seven is back" with_rule '"seven"'
check_eq "... the ruleset is the base again" "$(tables_s)" "$BASE"
check_rc "restore N --before, confirmed" 0 nfp_yes restore "$SEVEN_N" --before --timeout 10
check "... rule seven is gone" without_rule '"seven"'
check_eq "... exactly the tables before it" "$(tables_s)" "$TABLES0"
check "... over" over
check_rc "restore N (after), confirmed" 0 nfp_yes restore "$SEVEN_N" --timeout 10
check_eq "... rule seven back, the ruleset as after it" "$(tables_s)" "$BASE"

CONF="$TEST_TMP/nftables.conf"
check_rc "save FILE" 0 nfp save "$CONF"
check "save: the file loads (nft -c)" srv nft -c -f "$CONF"
check "save: names the iptables tables it leaves out" grep -q 'ip filter' <<<"$RC_OUT"
check "save: the file has inet web and its 5000 elements" \
	sh -c "grep -q 'table inet web' '$CONF' && tr ',' '\n' <'$CONF' | grep -c '10\.9\.' | grep -qx 5000"
check "save: no iptables table in the file" sh -c "! grep -q 'table ip filter' '$CONF'"
check_rc "save --check FILE: the same" 0 nfp save --check "$CONF"
cp "$CONF" "$TEST_TMP/first.conf"
check_rc "apply --detach" 0 nfp apply --detach --timeout 10 "$TEST_TMP/two.nft"
check_rc "save is refused during a probation" 1 nfp save "$CONF"
check "... saying to confirm first" grep -q 'confirm it first' <<<"$RC_ERR"
check_eq "... the file untouched" "$(md5sum <"$CONF")" "$(md5sum <"$TEST_TMP/first.conf")"
check_rc "confirm" 0 nfp confirm
check_rc "save --check FILE: differs now" 1 nfp save --check "$CONF"
check_rc "save FILE again" 0 nfp save "$CONF"
check "save: the previous file kept as FILE.bak" cmp "$CONF.bak" "$TEST_TMP/first.conf"
check "save: the new file has the confirmed rule" grep -q '"eight"' "$CONF"
check_rc "save --check FILE: the same again" 0 nfp save --check "$CONF"
check_rc "save --check of a missing file" 3 nfp save --check "$TEST_TMP/nope.conf"

check "no guardian left" over

# ---------------------------------------------------------------- rules using named objects

# in a namespace of its own: a failed revert leaves a restore point behind
OBJ="$NS_PREFIX-obj"
ns_add "$OBJ" || bail "ip netns add $OBJ"
in_ns "$OBJ" nft -f - <<'EOF' || bail "nft -f (named objects)"
table inet obj {
	counter hits {
	}
	quota monthly {
		over 100 mbytes
	}
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr 192.0.2.1 counter name "hits" drop
		udp dport 53 quota name "monthly" accept
	}
}
EOF
OBJ0=$(in_ns "$OBJ" nft -s list ruleset)
echo 'add rule inet obj input tcp dport 7001 accept' >"$TEST_TMP/obj.nft"
echo 'add table inet obj' >"$TEST_TMP/objnoop.nft"
check_rc "rules with counter name / quota name: a change that touches nothing" 0 \
	answer yes "$NFPILOT" -N "$OBJ" apply --timeout 10 "$TEST_TMP/objnoop.nft"
check "... starts no probation (the table is not seen as changed)" \
	grep -q 'nothing changed: no probation' <<<"$RC_OUT"
check_rc "rules with counter name / quota name: apply --detach" 0 \
	"$NFPILOT" -N "$OBJ" apply --detach --timeout 10 "$TEST_TMP/obj.nft"
check_rc "... rollback" 0 "$NFPILOT" -N "$OBJ" rollback
check_eq "... restores the table exactly" "$(in_ns "$OBJ" nft -s list ruleset)" "$OBJ0"
if "$NFPILOT" -N "$OBJ" status | grep -q 'GUARDIAN GONE'; then
	check_rc "... a rollback of the restore point left says why it failed" 1 \
		"$NFPILOT" -N "$OBJ" rollback
	check "... not 'no change is on probation'" sh -c '! grep -q "no change is on probation" "$1"' _ "$TEST_TMP/rc.err"
	check "... and without a leak report" sh -c '! grep -q "LeakSanitizer" "$1"' _ "$TEST_TMP/rc.err"
fi

# ---------------------------------------------------------------- at once
# confirm answers before the guardian has read and written the tables of a
# big table's history (issue 18): the entry's tables are waited for by the
# reader, and the next change need not wait for them
BIG=$NS_PREFIX-big
ns_add "$BIG" || bail "ip netns add $BIG"
{
	echo 'table inet big {'
	echo '	chain input {'
	echo '		type filter hook input priority 0; policy accept;'
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "\t\ttcp dport %d counter\n", 1000 + i }'
	echo '	}'
	echo '}'
} | in_ns "$BIG" nft -f - || bail "nft -f a 20k-rule table"
check_rc "big table: edit --detach" 0 "$NFPILOT" -N "$BIG" edit --detach --timeout 60 \
	-t inet big -c input --append 'tcp dport 9 counter comment "late"'
check_rc "... confirm at once" 0 "$NFPILOT" -N "$BIG" confirm
BIG_N=$(sed -n 's/.*(history \([0-9]*\)).*/\1/p' <<<"$RC_OUT")
check_rc "... history show N --after right after it" 0 "$NFPILOT" -N "$BIG" history show "$BIG_N" --after
check "... has the change (waited for the guardian's write)" grep -q 'comment "late"' <<<"$RC_OUT"
check_rc "... history show N --before" 0 "$NFPILOT" -N "$BIG" history show "$BIG_N" --before
check "... has the table without it" sh -c 'grep -q "tcp dport 1000 " "$1" && ! grep -q "comment \"late\"" "$1"' _ "$TEST_TMP/rc.out"
check_rc "... and a new change at once" 0 "$NFPILOT" -N "$BIG" edit --detach --timeout 10 \
	-t inet big -c input --append 'tcp dport 8 counter'
check_rc "... rolled back" 0 "$NFPILOT" -N "$BIG" rollback
finish
