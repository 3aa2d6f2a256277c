#!/bin/bash
# --json: every verb's outcome as ONE JSON object on standard output, the
# words for a person on standard error (docs/nfpilot.8, "Outcome of a
# verb"). Read back with python's json module, so an unescaped byte or a
# stray line fails the parse; the kernel's own strings (a chain comment
# with an ESC byte and invalid UTF-8) come back escaped.
. "$(dirname "$0")/../lib.sh"

setup_net
J="$TEST_TMP/out.json"
# jrun WANT_RC ARGS...: nfp ARGS --json, stdout to $J; checks the exit
# status and that stdout is exactly one line of JSON
jrun() {
	local want=$1 rc
	shift
	nfp "$@" --json >"$J" 2>"$TEST_TMP/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		not_ok "$*: exit $rc, want $want: $(head -c 400 "$TEST_TMP/err" | tr '\n' '|')"
	elif [ "$(wc -l <"$J")" != 1 ] || ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$J" 2>/dev/null; then
		not_ok "$*: standard output is not one line of JSON: $(head -c 400 "$J")"
	else
		ok "$* --json: exit $rc, one JSON object"
	fi
}
j() { json_get "$J" "$1"; }

cat >"$TEST_TMP/web.nft" <<'NFT'
table inet web {}
flush table inet web
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 80 accept
		ip saddr { 192.0.2.1, 192.0.2.2 } drop
	}
}
NFT
jrun 0 apply --dry-run "$TEST_TMP/web.nft"
check_eq "dry run: the outcome" "$(j 'd["outcome"]')" "dry run"
check_eq "dry run: the change is the script, line by line" \
	"$(j '"\n".join(d["change"])')" "$(cat "$TEST_TMP/web.nft")"
check "dry run: nothing reached the kernel" sh -c "! ip netns exec $SRV nft list table inet web 2>/dev/null"
check_eq "dry run: it would make the table (found on a copy)" "$(j '[d["changes"], d["tables"]]')" \
	'[true, [{"family": "inet", "name": "web", "new": true, "deleted": false}]]'

jrun 0 apply --detach --timeout 30 "$TEST_TMP/web.nft"
check_eq "apply: on probation" "$(j 'd["outcome"]')" "on probation"
check_eq "apply: verb, exit, no error" "$(j '[d["nfpilot"], d["verb"], d["exit"], d["error"]]')" '[1, "apply", 0, null]'
check_eq "apply: the table touched, made by it" "$(j 'd["tables"]')" '[{"family": "inet", "name": "web", "new": true, "deleted": false}]'
check "apply: a deadline within the timeout" \
	python3 -c 'import json,sys,time; p=json.load(open(sys.argv[1]))["probation"]; assert 0 < p["left"] <= 30 and time.time() - 2 <= p["deadline"] <= time.time() + 31, p' "$J"
check "apply: the words for a person went to standard error" grep -q 'on probation' "$TEST_TMP/err"

jrun 0 status
check_eq "status: running, from the apply" "$(j '[d["outcome"], d["probation"]["state"], d["probation"]["what"]]')" \
	"[\"running\", \"running\", \"nfpilot apply $TEST_TMP/web.nft\"]"
check_eq "status: timeout and tables" "$(j '[d["probation"]["timeout"], d["probation"]["tables"][0]["name"]]')" '[30, "web"]'
check_eq "status: the change" "$(j 'd["probation"]["change"][-1]')" "}"
jrun 0 extend
check_eq "extend: extended, 30 s left" "$(j '[d["outcome"], d["left"]]')" '["extended", 30]'
jrun 0 edit -t inet web -c input --append 'tcp dport 81 accept' --detach
check_eq "edit: joined, the change as an nft command" "$(j '[d["outcome"], d["probation"]["joined"], d["change"][0].split("  #")[0]]')" \
	'["on probation", true, "add rule inet web input tcp dport 81 accept"]'
jrun 0 confirm
check_eq "confirm: confirmed" "$(j 'd["outcome"]')" "confirmed"
N=$(j 'd["history"]')
jrun 0 history
check_eq "history: the last entry is the confirmed one" "$(j '[d["entries"][-1]["n"], d["entries"][-1]["outcome"]]')" "[$N, \"confirmed\"]"
jrun 0 history show "$N"
check_eq "history show: the entry's change" "$(j 'd["entry"]["change"][-1].split("  #")[0]')" "add rule inet web input tcp dport 81 accept"

# the script again takes out the rule the edit added; a second time it
# changes nothing (the same rules under new handles, the same anonymous
# set under another number): no probation
jrun 0 apply --detach "$TEST_TMP/web.nft"
check_eq "the script again: the edit's rule goes, on probation" "$(j 'd["outcome"]')" "on probation"
nfp confirm >/dev/null
jrun 0 apply --dry-run "$TEST_TMP/web.nft"
check_eq "dry run of the same script: it would change nothing" "$(j '[d["outcome"], d["changes"], d["tables"]]')" '["dry run", false, []]'
jrun 0 apply --detach "$TEST_TMP/web.nft"
check_eq "the same script again: nothing changed, no probation" "$(j '[d["outcome"], d["probation"]]')" '["nothing changed", null]'

echo 'delete table inet web' >"$TEST_TMP/del.nft"
jrun 0 apply --dry-run "$TEST_TMP/del.nft"
check_eq "dry run of a delete: the table it would delete" "$(j '[d["changes"], d["tables"][0]["name"], d["tables"][0]["deleted"]]')" '[true, "web", true]'
check "... and the table is still there" sh -c "ip netns exec $SRV nft list table inet web >/dev/null"

# errors: their code, name and message
jrun 3 confirm
check_eq "confirm without a probation: not found" "$(j '[d["outcome"], d["error"]["code"], d["error"]["name"], d["error"]["message"]]')" \
	'["error", 3, "not found", "no change is on probation"]'
jrun 2 confirm bogus
check_eq "a bad command line: usage" "$(j 'd["error"]["name"]')" "usage"
printf 'table inet bad {\n\tchain c { tcp dport 80 acept; }\n}\n' >"$TEST_TMP/bad.nft"
jrun 1 apply --detach "$TEST_TMP/bad.nft"
check "a refused script: nft's message with the file and line" \
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["error"]["message"]; assert sys.argv[2] + ":2:" in m and "acept" in m, m' "$J" "$TEST_TMP/bad.nft"
check "... and nothing changed" sh -c "! ip netns exec $SRV nft list table inet bad 2>/dev/null"
jrun 3 list -t inet nope
check_eq "list: its failure as the outcome object" "$(j '[d["verb"], d["error"]["name"]]')" '["list", "not found"]'
nfp list --json -t inet web >"$J" 2>/dev/null
check_eq "list: on success its own document" "$(j 'd["tables"][0]["name"]')" "web"

# the kernel's strings: a comment with an ESC byte and invalid UTF-8
printf 'table inet ctl {\n\tchain c { comment "a\033[31mb\377c"; }\n}\n' >"$TEST_TMP/ctl.nft"
jrun 0 apply --detach "$TEST_TMP/ctl.nft"
jrun 0 status
check "status: the comment from the guardian, escaped" grep -q 'a\\u001b\[31mb\\ufffdc' "$J"
check "status: no raw control byte on standard output" sh -c "! LC_ALL=C grep -q \$(printf '[\\001-\\037\\177]') '$J'"
check_eq "status: the string read back" "$(j 'ascii(d["probation"]["change"][1])')" "'\\tchain c { comment \"a\\x1b[31mb\\ufffdc\"; }'"
jrun 0 rollback
check_eq "rollback: rolled back, its history entry" "$(j '[d["outcome"], d["history"] > '"$N"']')" '["rolled back", true]'
check "rollback: the table is gone" sh -c "! ip netns exec $SRV nft list table inet ctl 2>/dev/null"
jrun 0 status
check_eq "status: none" "$(j '[d["outcome"], d["probation"]]')" '["none", null]'

# the other verbs: restore, save, zero
jrun 0 restore "$N" --before --detach
check_eq "restore: on probation, its change named" "$(j '[d["outcome"], d["change"][0].startswith("# nfpilot restore '"$N"' --before")]')" '["on probation", true]'
jrun 0 rollback
jrun 0 save "$TEST_TMP/boot.nft"
check_eq "save: saved, to the file" "$(j '[d["outcome"], d["file"], d["left_out"]]')" "[\"saved\", \"$TEST_TMP/boot.nft\", null]"
jrun 0 save --check "$TEST_TMP/boot.nft"
check_eq "save --check: saved (the file is what is live)" "$(j 'd["outcome"]')" "saved"
jrun 0 zero -t inet web
check_eq "zero: ok" "$(j '[d["verb"], d["outcome"], d["error"]]')" '["zero", "ok", null]'

# the set verbs: an outcome (set list has a document of its own)
srv nft 'add table inet jset; add set inet jset s { type ipv4_addr; flags interval; }'
jrun 0 set add inet jset s 10.0.0.0/8 --detach --timeout 30
check_eq "set add: on probation, the change as nft commands" \
	"$(j '[d["verb"], d["outcome"], d["change"], d["probation"] is not None]')" \
	'["set", "on probation", ["add element inet jset s { 10.0.0.0/8 }"], true]'
jrun 0 set test inet jset s 10.1.2.3
check_eq "set test: in, with the element that holds it" "$(j '[d["outcome"], d["element"]]')" \
	'["in", "10.0.0.0/8"]'
jrun 1 set test inet jset s 11.0.0.1
check_eq "set test: not in, exit 1" "$(j '[d["outcome"], d["exit"]]')" '["not in", 1]'
jrun 0 rollback
check_eq "set add: rolled back" "$(j 'd["outcome"]')" "rolled back"
finish
