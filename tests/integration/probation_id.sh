#!/bin/bash
# A probation's id (NETCONF's persist-id): apply prints it, the run folder
# keeps it, status shows it; confirm, rollback and extend with --id act
# only on that probation. Another id is refused with exit 3 and changes
# nothing; a change that joins gives the probation a new id, so the first
# id no longer confirms a change its owner did not see; after the
# guardian's death the id of its restore point (the run folder's info)
# still decides.
. "$(dirname "$0")/../lib.sh"

setup_net
cat >"$TEST_TMP/web.nft" <<'NFT'
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 80 accept
	}
}
NFT
OTHER=0123456789abcdef
has_web() { ip netns exec "$SRV" nft list table inet web >/dev/null 2>&1; }
running_id() { st id; }

check_rc "apply --detach" 0 nfp apply --detach --timeout 30 "$TEST_TMP/web.nft"
ID=$(printf '%s\n' "$RC_OUT" | sed -n 's/^probation id: \([0-9a-f]*\) .*/\1/p')
check "apply printed the probation id: 16 hex digits" sh -c "printf '%s' '$ID' | grep -Eqx '[0-9a-f]{16}'"
check_eq "status shows it" "$(running_id)" "$ID"
RUN=$(ls -d "$RUN_ROOT/netns-$SRV".* 2>/dev/null | head -n 1)
check_eq "the run folder's info keeps it" "$(sed -n 's/^id: //p' "$RUN/info" 2>/dev/null)" "$ID"

for v in confirm rollback extend; do
	check_rc "$v --id of another probation is refused" 3 nfp "$v" --id "$OTHER"
	check "... saying so" sh -c "printf '%s' '$RC_ERR' | grep -q -- '--id $OTHER: the change on probation has another id'"
	check_eq "... and nothing was done: still on probation, same id" "$(running_id)" "$ID"
done
check "the table is still in" has_web
check_rc "an id that is no id: usage" 2 nfp confirm --id 'xyz;'
check_rc "extend --id of this probation" 0 nfp extend --id "$ID"

# a change joins: a new id; the first id no longer confirms
check_rc "an edit joins the probation" 0 nfp edit -t inet web -c input --append 'tcp dport 81 accept' --detach
ID2=$(printf '%s\n' "$RC_OUT" | sed -n 's/^probation id: \([0-9a-f]*\) .*/\1/p')
check "the joined probation has a new id" sh -c "[ -n '$ID2' ] && [ '$ID2' != '$ID' ]"
check_eq "status shows the new id" "$(running_id)" "$ID2"
check_rc "confirm --id of the first change, since joined: refused" 3 nfp confirm --id "$ID"
check "... still on probation" sh -c "$(printf '%q' "$NFPILOT") -N $SRV status | grep -q '^probation: running'"
check_rc "confirm --id of the joined probation" 0 nfp confirm --id "$ID2"
check "confirmed: nothing on probation" over
check "... the table stays" has_web
check_rc "confirm --id when nothing is on probation: not found" 3 nfp confirm --id "$ID2"
LAST=$(nfp history 2>/dev/null | tail -n 1 | awk '{print $1}')
check "history show: the confirmed change's id" sh -c "$(printf '%q' "$NFPILOT") -N $SRV history show $LAST | grep -qx 'id:      $ID2'"

# JSON: the id in apply's and status's answer
nfp apply --detach --json "$TEST_TMP/web.nft" >"$TEST_TMP/a.json" 2>/dev/null
JID=$(json_get "$TEST_TMP/a.json" 'd["probation"]["id"]')
nfp status --json >"$TEST_TMP/s.json" 2>/dev/null
check_eq "status --json: the id apply --json gave" "$(json_get "$TEST_TMP/s.json" 'd["probation"]["id"]')" "$JID"
nfp rollback --id "$OTHER" --json >"$TEST_TMP/r.json" 2>/dev/null
check_eq "rollback --id of another: exit 3 in JSON, its message" \
	"$(json_get "$TEST_TMP/r.json" '[d["exit"], d["error"]["name"], "another id" in d["error"]["message"]]')" \
	'[3, "not found", true]'
check_rc "rollback --id of this probation" 0 nfp rollback --id "$JID"

# the guardian killed: its restore point stays, with its id
BEFORE=$(srv nft -s list ruleset)
check_rc "apply --detach again" 0 nfp apply --detach --timeout 30 "$TEST_TMP/web.nft"
ID3=$(printf '%s\n' "$RC_OUT" | sed -n 's/^probation id: \([0-9a-f]*\) .*/\1/p')
for p in $(guardian_pids "$SRV"); do kill -9 "$p"; done
poll_until 5000 sh -c "$(printf '%q' "$NFPILOT") -N $SRV status | grep -q 'GUARDIAN GONE'"
check_eq "guardian gone: status still shows the id" "$(running_id)" "$ID3"
check_rc "guardian gone: rollback --id of another is refused" 3 nfp rollback --id "$OTHER"
check "... nothing done: the change is still in" sh -c "[ \"\$(ip netns exec $SRV nft -s list ruleset)\" != '$BEFORE' ]"
check_rc "guardian gone: rollback --id of its probation restores" 0 nfp rollback --id "$ID3"
check_eq "... the ruleset is as before the change" "$(srv nft -s list ruleset)" "$BEFORE"
nfp history --json >"$TEST_TMP/h.json" 2>/dev/null
check_eq "history --json: the recovery's entry keeps the dead guardian's id" \
	"$(json_get "$TEST_TMP/h.json" '[d["entries"][-1]["outcome"], d["entries"][-1]["id"]]')" "[\"rolled back\", \"$ID3\"]"
finish
