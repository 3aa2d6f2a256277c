#!/bin/bash
# A dump the ruleset changes under (NLM_F_DUMP_INTR) must end, and leave
# its socket usable: rule dumps of a 300-rule chain (nft/nl.h nl_talk, as
# snapshots and the guardian's snapshot after a change take them) while
# another thread commits without pause. A dump whose last buffer came
# interrupted used to wait for ever for a rest already read: a guardian
# hung so after its probation ended (tests/tools/dumpintr.c).
. "$(dirname "$0")/../lib.sh"

TOOL=$(dirname "$NFPILOT")/tools/dumpintr
[ -x "$TOOL" ] || { not_ok "setup: no $TOOL (make build/asan/tools/dumpintr)"; finish; }
ns_add "$SRV" || bail "ip netns add $SRV"
for rules in 300 1000; do
	out=$("$TOOL" "$SRV" "$rules" 300 2>&1)
	rc=$?
	check_eq "$rules rules: every one of 300 dumps returned, whole or interrupted ($out)" "$rc" 0
	read -r _ _ _ intr _ whole <<<"$out"
	check_ge "... some were interrupted (the case was met)" "${intr:-0}" 1
	check_ge "... and the whole ones counted every rule, on the same socket after them" "${whole:-0}" 1
	srv nft delete table inet D
done
finish
