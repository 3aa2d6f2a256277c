#!/bin/bash
# The probation's paths under valgrind's memcheck, on the release build (it
# does not mix with the sanitizers): no uninitialised byte may be read —
# issue 11 found the digest that says whether a table changed hashing
# libmnl's unset padding, so a change to one table put others on probation.
# Every process is traced, the guardian (exec'd by the applier) included.
. "$(dirname "$0")/../lib.sh"

if [ -z "${NFPILOT_RELEASE:-}" ] || ! command -v valgrind >/dev/null; then
	skip "valgrind run" "needs valgrind and NFPILOT_RELEASE (make check sets it)"
	finish
fi
ns_add "$SRV" || bail "ip netns add $SRV"
VG="valgrind --quiet ${VG_EXTRA:-} --trace-children=yes --child-silent-after-fork=yes --error-exitcode=99
	--leak-check=no --suppressions=$(dirname "$0")/../valgrind.supp --log-file=$TEST_TMP/vg.%p.log"
# vg ARGS...: the release nfpilot in the server namespace, under valgrind
vg() { $VG "$NFPILOT_RELEASE" -N "$SRV" "$@"; }
errors() { cat "$TEST_TMP"/vg.*.log 2>/dev/null | grep -c '^==[0-9]*== [A-Z]'; }

srv nft -f - <<'EOF2' || bail "the base ruleset"
table inet web {
	set allow { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 } }
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport { 22, 80 } counter accept comment "web"
		ip saddr @allow accept
		tcp dport 8080 meter m { ip saddr limit rate 3/minute } accept
	}
}
table ip other {
	counter hits { }
	chain c {
		counter name "hits"
	}
}
EOF2
BASE=$(srv nft -s list ruleset)
echo 'add table inet web' >"$TEST_TMP/noop.nft"
echo 'add rule inet web input tcp dport 9 drop' >"$TEST_TMP/one.nft"

check_rc "a script that changes nothing (every table digested)" 0 vg apply --detach "$TEST_TMP/noop.nft"
check "... starts no probation (the digests agree)" grep -q 'nothing changed' <<<"$RC_OUT"
check_rc "a script on probation" 0 vg apply --detach "$TEST_TMP/one.nft"
check "... only the table it changed is kept" grep -q '^tables: inet web$' <<<"$(nfp status)"
check_rc "... rollback (the whole-table restore)" 0 vg rollback
H=$(srv nft -a list chain inet web input | sed -n 's/.*"web" # handle \([0-9]*\)$/\1/p')
check_rc "an edit on probation (its inverse)" 0 vg edit --detach -t inet web -c input --delete-handle "$H" \
	--append 'tcp dport 7 drop'
check_rc "... confirm (the history's before, from the inverse)" 0 vg confirm
check_rc "the history shows it" 0 vg history show 2 --before
H=$(srv nft -a list chain inet web input | sed -n 's/.*dport 7 .*# handle \([0-9]*\)$/\1/p')
check_rc "another edit, rolled back" 0 vg edit --detach -t inet web -c input --delete-handle "$H"
check_rc "... rollback (the inverse)" 0 vg rollback
poll_until 20000 over || not_ok "the last guardian did not end"
# sets: the elements read in slices, compiled, undone
check_rc "set list" 0 vg set list inet web allow
check_rc "set test (the element compiled in a scratch namespace)" 0 vg set test inet web allow 10.0.0.2
check_rc "set add on probation (the elements' inverse)" 0 vg set add inet web allow 10.0.0.3 \
	'10.0.0.4 comment "x"' --detach
check_rc "... rollback (the elements put back)" 0 vg rollback
poll_until 20000 over || not_ok "the set's guardian did not end"
# why: the sandbox's requests (interfaces, conntrack entry, the staged
# change), in a namespace of its own: under valgrind, libnftables' listing
# of table ip other fails ("listing the ip tables failed", nfpilot list too)
ns_add "$CLI" || bail "ip netns add $CLI"
in_ns "$CLI" nft add table inet web
vgw() { $VG "$NFPILOT_RELEASE" -N "$CLI" why "$@"; }
check_rc "why, a packet on an interface the host lacks" 0 vgw 'tcp 10.0.0.9:1 -> 10.0.0.1:22 iif eth9'
check_rc "why, established (a conntrack entry made first)" 0 vgw 'tcp 10.0.0.9:1 -> 10.0.0.1:22 iif eth9 state established'
in_ns "$CLI" nft add chain inet web input '{ type filter hook input priority 0; }'
check_rc "why --after a change" 0 vgw --after "$TEST_TMP/one.nft" 'tcp 10.0.0.9:1 -> 10.0.0.1:9 iif eth9'

check_ge "valgrind ran every process (its logs)" "$(ls "$TEST_TMP"/vg.*.log 2>/dev/null | wc -l)" 8
check_eq "no error in any of them" "$(errors)" 0
[ "$(errors)" = 0 ] || cat "$TEST_TMP"/vg.*.log | head -60 | sed 's/^/# /'

finish
