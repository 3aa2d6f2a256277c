#!/bin/bash
# A restore point as small as the change (apply/inverse.c): every kind of
# edit by handle, alone and mixed, in native and iptables-nft tables, is
# undone exactly by its inverse — nft -s list ruleset and iptables-save as
# before — by rollback, at the deadline and when the applier dies; a
# second change joining the probation of the same table still comes back
# to the state before the first; the history's "before" is the state
# before; the edits that need a whole table (a chain deleted, a table
# made, a chain binding) take one and revert as exactly.
. "$(dirname "$0")/../lib.sh"

ns_add "$SRV" || bail "ip netns add $SRV"

state() { srv nft -s list ruleset 2>/dev/null; srv iptables-save 2>/dev/null | grep -v '^#'; }

cat >"$TEST_TMP/base.nft" <<'EOF'
table inet fw {
	set allow {
		type ipv4_addr
		elements = { 10.0.0.1, 10.0.0.2 }
	}
	chain input {
		type filter hook input priority 0; policy accept;
		ct state established,related accept comment "r1"
		tcp dport { 22, 80, 443 } counter accept comment "r2"
		ip saddr @allow accept comment "r3"
		tcp dport 8080 ct state new meter m { ip saddr limit rate 3/minute } accept comment "r4"
		udp dport { 53, 123 } ip saddr { 10.0.0.0/8, 192.168.0.0/16 } accept comment "r5"
		meta l4proto ipv6-icmp jump { counter accept; } comment "r6"
		counter drop comment "r7"
	}
	chain extra {
		udp dport 53 accept comment "e1"
		tcp dport 53 accept comment "e2"
	}
	chain empty {
	}
}
table ip other {
	chain c {
		type filter hook output priority 0; policy accept;
		counter comment "o1"
	}
}
EOF
load() {
	srv nft flush ruleset
	srv nft -f "$TEST_TMP/base.nft" || bail "the base ruleset does not load"
	srv iptables -A INPUT -p tcp -m multiport --dports 25,587 -m comment --comment x1 -j ACCEPT
	srv iptables -A INPUT -p icmp --icmp-type echo-request -m limit --limit 5/s -j ACCEPT
	srv iptables -A INPUT -m conntrack --ctstate INVALID -j DROP
	srv iptables -A INPUT -p udp --dport 514 -j LOG --log-prefix "x4 "
}
load
BASE=$(state)
# h CHAIN COMMENT: the handle of the rule with that comment (nft -a)
h() { srv nft -a list chain inet fw "$1" | sed -n "s/.*comment \"$2\" # handle \([0-9]*\)\$/\1/p"; }
# hx N: the handle of iptables rule N of INPUT
hx() { srv nft -a list chain ip filter INPUT | grep -v "chain INPUT" | sed -n 's/.* # handle \([0-9]*\)$/\1/p' | sed -n "$1p"; }

# undone DESC EDIT-ARGS...: edit --detach, then rollback: exactly as before
# (after load: the handles in EDIT-ARGS are the loaded ruleset's)
undone() {
	local desc=$1
	shift
	if ! nfp edit --detach "$@" >"$TEST_TMP/e.out" 2>&1; then
		not_ok "$desc: the edit failed: $(head -c 500 "$TEST_TMP/e.out" | tr '\n' '|')"
		return
	fi
	if [ "$(state)" = "$BASE" ]; then
		not_ok "$desc: the edit changed nothing"
		nfp rollback >/dev/null 2>&1
		return
	fi
	if ! nfp rollback >"$TEST_TMP/r.out" 2>&1; then
		not_ok "$desc: rollback failed: $(head -c 500 "$TEST_TMP/r.out" | tr '\n' '|')"
		return
	fi
	check_eq "$desc: rolled back exactly" "$(state)" "$BASE"
}

# ---------------------------------------------------------------- one kind of edit

load
undone "append" -t inet fw -c input --append 'tcp dport 9 drop'
load
undone "insert at the top" -t inet fw -c input --insert 'tcp dport 9 drop'
load
undone "insert before and after" -t inet fw -c input --insert-before-handle "$(h input r3)" 'tcp dport 9 drop' \
	--insert-after-handle "$(h input r3)" 'tcp dport 10 drop'
load
undone "delete a rule with anonymous sets" -t inet fw -c input --delete-handle "$(h input r5)"
load
undone "delete the first rule" -t inet fw -c input --delete-handle "$(h input r1)"
load
undone "delete the last rule" -t inet fw -c input --delete-handle "$(h input r7)"
load
undone "delete two rules side by side" -t inet fw -c input --delete-handle "$(h input r2)" --delete-handle "$(h input r3)"
load
undone "delete the first three" -t inet fw -c input --delete-handle "$(h input r1)" --delete-handle "$(h input r2)" \
	--delete-handle "$(h input r3)"
load
undone "delete a meter" -t inet fw -c input --delete-handle "$(h input r4)"
load
undone "replace a rule with an anonymous set" -t inet fw -c input --replace-handle "$(h input r2)" 'tcp dport 22 accept'
load
undone "replace twice" -t inet fw -c input --replace-handle "$(h input r3)" 'tcp dport 1 accept' \
	--replace-handle "$(h input r3)" 'tcp dport 2 accept'
load
undone "replace, then delete" -t inet fw -c input --replace-handle "$(h input r3)" 'tcp dport 1 accept' \
	--delete-handle "$(h input r3)"
load
undone "move a rule down" -t inet fw -c input --move-handle "$(h input r1)" bottom
load
undone "move a rule up" -t inet fw -c input --move-handle "$(h input r4)" top
load
undone "move an anonymous-set rule" -t inet fw -c input --move-handle "$(h input r5)" after "$(h input r1)"
load
undone "the policy" -t inet fw -c input --policy drop
load
undone "flush a chain" -t inet fw --flush-chain input
load
undone "flush, then add" -t inet fw --flush-chain extra -c extra --append 'udp dport 1 accept'
load
undone "a new chain, a rule in it, a jump to it" -t inet fw --add-chain new -c new --append 'counter' \
	-c input --insert 'jump new'
load
undone "a new base chain" -t inet fw --add-chain hook2 'type filter hook output priority 5; policy accept;'
load
undone "a chain deleted (whole table)" -t inet fw --delete-chain empty
load
undone "a rule with a chain binding deleted (whole table)" -t inet fw -c input --delete-handle "$(h input r6)"
load
undone "a new table" -t inet made --add-table --add-chain c -c c --append 'counter'
load
undone "everything at once" -t inet fw -c input --insert 'tcp dport 9 drop' --delete-handle "$(h input r2)" \
	--replace-handle "$(h input r7)" 'counter reject' --move-handle "$(h input r3)" top --policy drop \
	-c extra --delete-handle "$(h extra e1)" --add-chain new2 -t ip other -c c --append 'counter'

# ---------------------------------------------------------------- iptables-nft

load
undone "iptables: delete a rule" -t ip filter -c INPUT --delete-handle "$(hx 1)"
load
undone "iptables: delete two" -t ip filter -c INPUT --delete-handle "$(hx 2)" --delete-handle "$(hx 3)"
load
undone "iptables: move one" -t ip filter -c INPUT --move-handle "$(hx 4)" top
load
undone "iptables: the policy" -t ip filter -c INPUT --policy drop

# ---------------------------------------------------------------- the history

load
nfp edit --detach -t inet fw -c input --delete-handle "$(h input r5)" --replace-handle "$(h input r2)" 'tcp dport 22 accept' \
	>/dev/null
check_rc "confirm an inverse's probation" 0 nfp confirm
N=$(sed -n 's/^confirmed (history \([0-9]*\)).*/\1/p' <<<"$RC_OUT")
nfp history show "$N" --before | tr -d ' \t' >"$TEST_TMP/hb"
load
srv nft -s list table inet fw | tr -d ' \t' >"$TEST_TMP/want"
check "history show --before: the table before the change" grep -qxFf "$TEST_TMP/want" "$TEST_TMP/hb"
check_eq "... every line of it" "$(grep -cxFf "$TEST_TMP/want" "$TEST_TMP/hb")" "$(wc -l <"$TEST_TMP/want")"

# ---------------------------------------------------------------- joins

load
check_rc "an edit" 0 nfp edit --detach -t inet fw -c input --insert 'tcp dport 9 drop' \
	--delete-handle "$(h input r3)"
check_rc "... a second edit of the same table joins" 0 nfp edit --detach -t inet fw -c input \
	--delete-handle "$(h input r2)" --replace-handle "$(h input r7)" 'counter reject' -c extra --append 'counter'
check_rc "... and a script" 0 nfp apply --detach <(echo 'add rule inet fw extra tcp dport 7 drop'; \
	echo 'add rule ip other c counter')
check_rc "... rollback" 0 nfp rollback
check_eq "... the state before the first" "$(state)" "$BASE"
check "... nothing left" over

# ---------------------------------------------------------------- the deadline, the applier's end

load
check_rc "an edit, then its deadline" 0 nfp edit --detach --timeout 10 -t inet fw -c input \
	--delete-handle "$(h input r5)" --insert 'tcp dport 9 drop' --policy drop
poll_until 25000 over || not_ok "... the guardian did not end within 25 s"
check_eq "... reverted exactly" "$(state)" "$BASE"

load
mkfifo "$TEST_TMP/fifo"
setsid "$NFPILOT" -N "$SRV" edit -t inet fw -c input --delete-handle "$(h input r2)" --append 'tcp dport 9 drop' \
	<"$TEST_TMP/fifo" >"$TEST_TMP/a.out" 2>&1 &
APID=$!
exec {FD}>"$TEST_TMP/fifo"
poll_until 20000 sh -c "$NFPILOT -N $SRV status 2>/dev/null | grep -q '^holders: 1'" ||
	not_ok "the applier never held the probation"
kill -9 "$APID" 2>/dev/null
wait "$APID" 2>/dev/null
exec {FD}>&-
poll_until 10000 over || not_ok "... no revert within 10 s of the applier's death"
check_eq "an edit whose applier died: reverted at once, exactly" "$(state)" "$BASE"

finish
