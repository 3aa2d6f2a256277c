#!/bin/bash
# apply FILE: which tables a script changed, as the kernel tells it (the
# guardian listens to the nf_tables notifications of the commit,
# nft/changed.h). A table the commit did not name is left out of the
# restore point without a re-read; a big one it named (over 20000 rules) is
# kept without a re-read, as a big table an edit names; a small one it
# named is compared, so a script that changed nothing starts no probation.
. "$(dirname "$0")/../lib.sh"

setup_net
python3 "$(dirname "$0")/../bench/gen.py" B 1 25000 | sed 's/hook input priority 0/hook input priority 10/' >"$TEST_TMP/big.nft"
cat >"$TEST_TMP/small.nft" <<'NFT'
table inet S {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 80 accept
	}
}
NFT
srv nft -f "$TEST_TMP/big.nft" || bail "load the 25000-rule table"
srv nft -f "$TEST_TMP/small.nft" || bail "load the small table"
big_text() { srv nft -s list table inet B | md5sum; }
small_text() { srv nft -s list table inet S | md5sum; }
BIG0=$(big_text)
SMALL0=$(small_text)

echo 'add rule inet S input tcp dport 443 accept' >"$TEST_TMP/s.nft"
check_rc "a script changing the small table" 0 nfp apply --detach --timeout 30 "$TEST_TMP/s.nft"
check_eq "... on probation: that table only (the big one not named)" "$(st tables)" "inet S"
check "... no lockout pre-check above 20000 rules, and it says so" \
	grep -q 'no lockout pre-check (the ruleset has 250[0-9][0-9] rules, too many to copy' <<<"$RC_ERR"
check_rc "... rolled back" 0 nfp rollback
check "... over" over
check_eq "... the small table as before" "$(small_text)" "$SMALL0"
check_eq "... the big one untouched" "$(big_text)" "$BIG0"

echo 'add rule inet B big tcp dport 1 accept comment "told"' >"$TEST_TMP/b.nft"
check_rc "a script adding one rule to the big table" 0 nfp apply --detach --timeout 30 "$TEST_TMP/b.nft"
check_eq "... on probation: the big table" "$(st tables)" "inet B"
check_rc "... rolled back" 0 nfp rollback
check "... over" over 60000
check_eq "... the big table exactly as before" "$(big_text)" "$BIG0"

echo 'add rule inet S input tcp dport 80 accept' >"$TEST_TMP/same.nft"
echo 'delete rule inet S input handle HANDLE' >>"$TEST_TMP/same.nft"
H=$(srv nft -a list chain inet S input | sed -n 's/.*tcp dport 80 accept # handle \([0-9]*\)$/\1/p')
sed -i "s/HANDLE/$H/" "$TEST_TMP/same.nft"
check_rc "a script that leaves the small table as it was (a rule re-added, the old one deleted)" \
	0 nfp apply --detach --timeout 30 "$TEST_TMP/same.nft"
check "... starts no probation: compared, nothing changed" grep -q 'nothing changed' <<<"$RC_OUT"
check "... over" over

{ echo 'flush table inet B'; sed -n '/^table/,$p' "$TEST_TMP/big.nft"; } >"$TEST_TMP/again.nft"
check_rc "the big table flushed and loaded again as it was" 0 nfp apply --detach --timeout 30 "$TEST_TMP/again.nft"
check_eq "... on probation: the kernel named it, a big table is not read again to compare" \
	"$(st tables)" "inet B"
check_rc "... rolled back" 0 nfp rollback
check "... over" over 60000
check_eq "... its text as before" "$(big_text)" "$BIG0"
finish
