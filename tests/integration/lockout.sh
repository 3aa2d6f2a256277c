#!/bin/bash
# The lockout pre-check (check/lockout.h) of apply and edit: a change is
# evaluated in a sandbox copy before it reaches the kernel, for the admin's
# own SSH connection (established and new), the host's other SSH sessions
# and IPv6 neighbour discovery. A change that cuts one is refused (exit
# 6) with the rule or policy that decides, and the ruleset's generation
# does not move; --ignore-lockout applies it anyway. First with the
# session named by SSH_CONNECTION, then over a real SSH connection (a
# private sshd in the server namespace) with and without SSH_CONNECTION
# (then the sshd peer of the session is found), with another admin's
# session open; then IPv6 neighbour discovery, caught and then fixed, with
# real traffic.
. "$(dirname "$0")/../lib.sh"

setup_net
genid() { nfp list --json >"$TEST_TMP/gen.json" 2>/dev/null && json_get "$TEST_TMP/gen.json" 'd["genid"]'; }
D="$TEST_TMP/lk"
mkdir -p "$D"
# lockout_table RULE...: table inet lockout, an input chain with policy
# drop and these rules
lockout_table() {
	printf 'table inet lockout {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n'
	printf '\t\t%s\n' "$@"
	printf '\t}\n}\n'
}
lockout_table 'iif "lo" accept' >"$D/drop.nft"
lockout_table 'iif "lo" accept' 'ct state established,related accept' >"$D/est.nft"
sed 's/ct state established,related accept/&\n\t\ttcp dport 22 accept/' "$D/est.nft" >"$D/open.nft"
sed 's/policy drop;/&\n\t\tip saddr 10.200.0.2 tcp dport 22 counter reject/' "$D/open.nft" >"$D/reject.nft"

G0=$(genid)
export SSH_CONNECTION="$CLI_IP 40000 $SRV_IP 22"
check_rc "a drop policy without an established accept is refused" 6 nfp apply --detach "$D/drop.nft"
check "... naming the session and the policy that drops it" grep -qF \
	"this change drops your own SSH session (10.200.0.2:40000 -> :22) at chain input policy drop (inet lockout)" \
	"$TEST_TMP/rc.err"
check "... suggesting strict mode and the way to apply it anyway" \
	sh -c "grep -q -- '--confirm-new-session' '$TEST_TMP/rc.err' && grep -q -- '--ignore-lockout' '$TEST_TMP/rc.err'"
check_eq "... and nothing reached the kernel (generation)" "$(genid)" "$G0"
check_rc "established accepted, new logins dropped: refused" 6 nfp apply --detach "$D/est.nft"
check "... a new SSH connection from 10.200.0.2 is dropped at the policy" grep -qF \
	"drops a new SSH connection from 10.200.0.2 at chain input policy drop (inet lockout)" "$TEST_TMP/rc.err"
check "... and the established session passes" sh -c "! grep -q 'your own SSH session' '$TEST_TMP/rc.err'"
check_rc "a reject rule for the admin's address is refused" 6 nfp apply --detach "$D/reject.nft"
check "... naming the rule that rejects it" grep -qE \
	"new SSH connection from 10.200.0.2 at the rule the change adds to inet lockout input \(ip saddr 10.200.0.2 tcp dport 22 counter .*reject" "$TEST_TMP/rc.err"
srv nft add table inet lockout
srv nft 'add chain inet lockout input { type filter hook input priority 0; policy accept; }'
srv nft add rule inet lockout input tcp dport 22 accept
G0=$(genid)
H=$(srv nft -a list chain inet lockout input | sed -n 's/.*tcp dport 22 accept # handle \([0-9]*\)/\1/p')
check_rc "edit: deleting the rule that lets SSH in is refused" 6 \
	nfp edit -t inet lockout -c input --delete-handle "$H" --policy drop
check "... at the policy" grep -qF "drops your own SSH session (10.200.0.2:40000 -> :22) at chain input policy drop (inet lockout)" "$TEST_TMP/rc.err"
check_eq "... nothing reached the kernel" "$(genid)" "$G0"
check_rc "edit: a drop policy with SSH accepted passes the check" 0 \
	nfp edit --detach -t inet lockout -c input --policy drop
nfp confirm >/dev/null 2>&1
check_rc "--json: outcome lockout" 6 nfp edit --json -t inet lockout -c input --delete-handle "$H"
check_eq "... its outcome" "$(json_get "$TEST_TMP/rc.out" 'd["outcome"]')" "lockout"
check "... and the verdict" sh -c "grep -q 'drops your own SSH session' '$TEST_TMP/rc.out'"
check_rc "--ignore-lockout applies it anyway" 0 nfp apply --detach --ignore-lockout "$D/drop.nft"
nfp rollback >/dev/null 2>&1
srv nft delete table inet lockout
# restore N: the tables it puts back are checked as a revert loads them
check_rc "a change that drops SSH, confirmed anyway" 0 nfp apply --detach --ignore-lockout "$D/drop.nft"
nfp confirm >/dev/null 2>&1
N=$(ls "$NFPILOT_LIB_DIR/netns-$SRV/history" | sort -n | tail -n 1)
srv nft delete table inet lockout
G0=$(genid)
check_rc "restore of that entry is refused" 6 nfp restore --detach "$N"
check "... at the policy it puts back" grep -qF \
	"drops your own SSH session (10.200.0.2:40000 -> :22) at chain input policy drop (inet lockout)" "$TEST_TMP/rc.err"
check_eq "... nothing reached the kernel" "$(genid)" "$G0"
check_rc "restore --ignore-lockout puts it back" 0 nfp restore --detach --ignore-lockout "$N"
nfp rollback >/dev/null 2>&1
# a set the SSH accept looks up
srv nft -f - <<'EOF'
table inet lockout {
	set admins { type ipv4_addr; elements = { 10.200.0.2, 10.200.0.77 }; }
	chain input {
		type filter hook input priority 0; policy drop;
		ip saddr @admins tcp dport 22 accept
	}
}
EOF
G0=$(genid)
check_rc "set flush of the set that lets the admin in is refused" 6 nfp set flush --detach inet lockout admins
check "... at the policy" grep -qF "drops your own SSH session (10.200.0.2:40000 -> :22) at chain input policy drop (inet lockout)" "$TEST_TMP/rc.err"
check_rc "set del of the admin's address is refused" 6 nfp set del --detach inet lockout admins 10.200.0.2
check_eq "... nothing reached the kernel" "$(genid)" "$G0"
check_rc "set del of another address passes" 0 nfp set del --detach inet lockout admins 10.200.0.77
nfp confirm >/dev/null 2>&1
srv nft delete table inet lockout
check_rc "--dry-run says what the pre-check would say (exit 0)" 0 nfp apply --dry-run "$D/drop.nft"
check "... the lockout pre-check would stop it, and why" grep -qF \
	"the lockout pre-check would stop it: this change drops your own SSH session (10.200.0.2:40000 -> :22)" "$TEST_TMP/rc.out"
check_rc "a session ending in another namespace is not this one's" 0 \
	env SSH_CONNECTION="192.0.2.9 40000 192.0.2.1 22" "$NFPILOT" -N "$SRV" apply --dry-run "$D/drop.nft"
check "... no lockout said" sh -c "! grep -q 'pre-check' '$TEST_TMP/rc.out'"
unset SSH_CONNECTION

# over a real SSH connection
if [ ! -x "$SSHD" ] || ! command -v ssh >/dev/null; then
	skip "lockout over SSH" "no sshd or ssh client (sh tests/deps.sh check installs them)"
else
	S="$TEST_TMP/ssh"
	ssh_keys "$S" || bail "ssh keys"
	sshd_start "$S" sshd "$SRV" "$SRV_IP" "PrintLastLog no" "AllowTcpForwarding no" || bail "sshd"
	N="NFPILOT_LIB_DIR=$NFPILOT_LIB_DIR ASAN_OPTIONS=${ASAN_OPTIONS:-} $NFPILOT"
	G0=$(genid)
	ssh_login "$S" root@"$SRV_IP" "$N apply --detach $D/drop.nft" >"$D/ssh1.out" 2>&1
	check_eq "over SSH: the drop policy is refused (exit 6)" "$?" 6
	check "... your own SSH session, its real address and port" grep -qE \
		"drops your own SSH session \(10\.200\.0\.2:[0-9]+ -> :22\) at chain input policy drop" "$D/ssh1.out"
	check_eq "... generation unchanged" "$(genid)" "$G0"
	check "... no table made" sh -c "! ip netns exec $SRV nft list table inet lockout 2>/dev/null"
	ssh_login "$S" root@"$SRV_IP" "env -u SSH_CONNECTION $N apply --detach $D/drop.nft" >"$D/ssh2.out" 2>&1
	check_eq "over SSH without SSH_CONNECTION: refused too (the sshd's peer)" "$?" 6
	check "... its session found" grep -qE "your own SSH session \(10\.200\.0\.2:[0-9]+ -> :22\)" "$D/ssh2.out"
	# another admin, logged in from the management address
	ssh_login "$S" -b "$MGMT_IP" root@"$SRV_IP" "sleep 30" >/dev/null 2>&1 &
	OTHER=$!
	BG_PIDS="$BG_PIDS $OTHER"
	poll_until 5000 sh -c "ip netns exec $SRV conntrack -L -p tcp --dport 22 -s $MGMT_IP 2>/dev/null | grep -q ESTABLISHED"
	ssh_login "$S" root@"$SRV_IP" "$N apply --detach $D/drop.nft" >"$D/ssh3.out" 2>&1
	check_eq "over SSH with another admin logged in: refused" "$?" 6
	check "... and 1 other SSH session, from the management address" grep -qE \
		"; and 1 other SSH session \(10\.200\.1\.2:[0-9]+ -> :22 at chain input policy drop" "$D/ssh3.out"
	printf 'table ip mgmt {\n\tchain input {\n\t\ttype filter hook input priority -10; policy accept;\n\t\tip saddr 10.200.1.0/24 tcp dport 22 drop\n\t}\n}\n' >"$D/mgmt.nft"
	ssh_login "$S" root@"$SRV_IP" "$N apply --detach $D/mgmt.nft" >"$D/ssh4.out" 2>&1
	check_eq "a change that drops only the other admin's session is refused" "$?" 6
	check "... this change drops 1 other SSH session, at the rule" grep -qE \
		"this change drops 1 other SSH session \(10\.200\.1\.2:[0-9]+ -> :22 at .*ip mgmt input \(ip saddr 10\.200\.1\.0/24 tcp dport 22 drop" "$D/ssh4.out"
	kill "$OTHER" 2>/dev/null
	ssh_login "$S" root@"$SRV_IP" "$N apply --detach $D/open.nft; $N confirm" >"$D/ssh5.out" 2>&1
	check "over SSH: with port 22 open the change goes in" sh -c "ip netns exec $SRV nft list table inet lockout >/dev/null"
	check_eq "... and a new login still gets in" "$(ssh_login "$S" root@"$SRV_IP" 'echo in' 2>&1)" "in"
	srv nft delete table inet lockout
fi

# IPv6 neighbour discovery
for ns in "$SRV" "$CLI"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.v0.disable_ipv6=0 \
		net.ipv6.conf.v0.accept_dad=0
done
ip -n "$SRV" addr add fd00:200::1/64 dev v0 nodad
ip -n "$CLI" addr add fd00:200::2/64 dev v0 nodad
poll_until 5000 sh -c "ip netns exec $CLI ping -6 -c 1 -W 1 fd00:200::1 >/dev/null 2>&1"
sed 's/tcp dport 22 accept/&\n\t\ticmpv6 type echo-request accept/' "$D/open.nft" >"$D/v6.nft"
sed 's/icmpv6 type echo-request accept/icmpv6 type { echo-request, nd-neighbor-solicit, nd-neighbor-advert } accept/' \
	"$D/v6.nft" >"$D/v6nd.nft"
G0=$(genid)
check_rc "a drop policy without neighbour discovery is refused, whatever the session" 6 \
	nfp apply --detach "$D/v6.nft"
check "... IPv6 neighbour discovery, at the policy" grep -qF \
	"this change drops IPv6 neighbour discovery from a neighbour of this host at chain input policy drop (inet lockout): IPv6 to this host stops" \
	"$TEST_TMP/rc.err"
check_eq "... generation unchanged" "$(genid)" "$G0"
check_rc "an IPv6 session: its own neighbour discovery" 6 \
	env SSH_CONNECTION="fd00:200::2 40000 fd00:200::1 22" "$NFPILOT" -N "$SRV" apply --detach "$D/v6.nft"
check "... from its address" grep -qF "drops IPv6 neighbour discovery from fd00:200::2 at chain input policy drop (inet lockout): IPv6 to your session stops" "$TEST_TMP/rc.err"
# what the check said, with real traffic: applied anyway, ping -6 dies
# once the neighbour entry is gone
check_rc "applied anyway" 0 nfp apply --detach --ignore-lockout "$D/v6.nft"
ip -n "$CLI" neigh flush dev v0
ip -n "$SRV" neigh flush dev v0
check_eq "... and ping -6 is cut (0 of 3)" \
	"$(cli ping -6 -n -q -c 3 -i 0.2 -W 1 fd00:200::1 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')" 0
nfp rollback >/dev/null 2>&1
check_rc "with neighbour discovery accepted the check passes" 0 nfp apply --detach "$D/v6nd.nft"
ip -n "$CLI" neigh flush dev v0
ip -n "$SRV" neigh flush dev v0
check_eq "... and ping -6 gets through (3 of 3)" \
	"$(cli ping -6 -n -q -c 3 -i 0.2 -W 1 fd00:200::1 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')" 3
nfp confirm >/dev/null 2>&1
finish
