#!/bin/bash
# nfpilot's errors: exit codes (2 usage, 3 not found, 4 permission), one
# "nfpilot: ..." line on stderr naming what was wrong, nothing changed in the
# ruleset by any failing call (the probation's options and verbs included); and hostile kernel strings (terminal escapes in
# a rule comment) never reach the terminal raw.
. "$(dirname "$0")/../lib.sh"

setup_net
srv nft -f - <<'EOF' || bail "nft -f"
table inet web {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 counter accept comment "ssh"
	}
}
EOF
ESC_COMMENT=$(printf 'evil\033[31mRED\033]0;pwned\007tail')
srv iptables -A INPUT -p tcp --dport 80 -m comment --comment "$ESC_COMMENT" -j ACCEPT ||
	bail "iptables rule with an escape-sequence comment"

ruleset_state() { srv nft -a list ruleset 2>&1 | md5sum; }
genid() { nfp list --json --counters 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["genid"])'; }
STATE0=$(ruleset_state)
GEN0=$(genid)
check "genid is a number" test "$GEN0" -ge 0

# err_case DESC WANT_RC PATTERN CMD...: exit code, exactly one stderr line
# "nfpilot: ..." matching PATTERN (extended regex, case-insensitive), nothing
# on stdout.
err_case() {
	local desc=$1 want=$2 pat=$3
	shift 3
	check_rc "$desc" "$want" "$@"
	local last
	last=$(printf '%s\n' "$RC_ERR" | tail -n 1)
	if [ "$(printf '%s\n' "$RC_ERR" | grep -c '^nfpilot: ')" = 1 ] &&
	   printf '%s' "$last" | grep -qiE "^nfpilot: .*($pat)"; then
		ok "$desc: message '$last'"
	else
		not_ok "$desc: want one 'nfpilot: ...$pat...' line on stderr, got: $(printf '%s' "$RC_ERR" | tr '\n' '|' | head -c 600)"
	fi
	check_eq "$desc: nothing on stdout" "$RC_OUT" ""
}

# ---- usage errors: 2
err_case "unknown global option" 2 "unknown option.*--bogus" "$NFPILOT" --bogus list
err_case "unknown list option" 2 "--frobnicate" "$NFPILOT" -N "$SRV" list --frobnicate
err_case "unknown verb" 2 "unknown verb.*frob" "$NFPILOT" -N "$SRV" frob
err_case "no verb and no terminal (live view refused)" 2 "verb|terminal" "$NFPILOT" -N "$SRV" </dev/null
err_case "-N without a name" 2 "-N.*name|namespace" "$NFPILOT" -N
err_case "-c without -t" 2 "-c|-t" "$NFPILOT" -N "$SRV" list -c input
err_case "-t without a table" 2 "-t|table" "$NFPILOT" -N "$SRV" list -t
err_case "-N with a path is refused" 2 "invalid|\.\./etc" "$NFPILOT" -N ../etc list

# ---- not found: 3
err_case "unknown namespace" 3 "nfpt-$$-nosuch" "$NFPILOT" -N "nfpt-$$-nosuch" list
err_case "unknown table" 3 "nosuchtable" "$NFPILOT" -N "$SRV" list -t nosuchtable
err_case "unknown table with family" 3 "nosuchtable" "$NFPILOT" -N "$SRV" list -t inet nosuchtable
err_case "table in the wrong family" 3 "web" "$NFPILOT" -N "$SRV" list -t ip6 web
err_case "unknown chain" 3 "nosuchchain" "$NFPILOT" -N "$SRV" list -t inet web -c nosuchchain
err_case "unknown chain, --json" 3 "nosuchchain" "$NFPILOT" -N "$SRV" list -t inet web -c nosuchchain --json
err_case "chain of another table" 3 "input" "$NFPILOT" -N "$SRV" list -t ip filter -c input

# ---- the probation's options and verbs (nothing on probation here)
echo 'add rule inet web input tcp dport 23 drop' >"$TEST_TMP/x.nft"
err_case "apply --timeout below the minimum" 2 "--timeout.*10 to 3600.*'5'" \
	"$NFPILOT" -N "$SRV" apply --timeout 5 "$TEST_TMP/x.nft"
err_case "apply --timeout above the maximum" 2 "--timeout.*'3601'" \
	"$NFPILOT" -N "$SRV" apply --timeout 3601 "$TEST_TMP/x.nft"
err_case "apply --timeout without seconds" 2 "--timeout" \
	"$NFPILOT" -N "$SRV" apply "$TEST_TMP/x.nft" --timeout
err_case "the live view's --timeout: the same check" 2 "--timeout: seconds from 10 to 3600, not '60s'" \
	"$NFPILOT" -N "$SRV" --timeout 60s list
err_case "edit --timeout below the minimum" 2 "--timeout.*'9'" \
	"$NFPILOT" -N "$SRV" edit -t inet web -c input --timeout 9 --append 'tcp dport 23 drop'
err_case "confirm with nothing on probation" 3 "no change is on probation" "$NFPILOT" -N "$SRV" confirm
err_case "rollback with nothing on probation" 3 "no change is on probation" "$NFPILOT" -N "$SRV" rollback
err_case "extend with nothing on probation" 3 "no change is on probation" "$NFPILOT" -N "$SRV" extend
err_case "confirm with an argument" 2 "confirm.*unexpected.*now" "$NFPILOT" -N "$SRV" confirm now
check_rc "status with nothing on probation" 0 "$NFPILOT" -N "$SRV" status
check_eq "status says so" "$RC_OUT" "probation: none"

# ---- permission: 4 (not root, inside the namespace and entering one)
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
err_case "not root (list)" 4 "root|permission" srv setpriv --reuid=65534 --regid=65534 --clear-groups "$NFPILOT" list
err_case "not root (list --json)" 4 "root|permission" srv setpriv --reuid=65534 --regid=65534 --clear-groups "$NFPILOT" list --json
err_case "not root entering a namespace" 4 "root|permission" nobody "$NFPILOT" -N "$SRV" list
err_case "not root (status)" 4 "root|permission" srv setpriv --reuid=65534 --regid=65534 --clear-groups "$NFPILOT" status
err_case "not root (confirm)" 4 "root|permission" srv setpriv --reuid=65534 --regid=65534 --clear-groups "$NFPILOT" confirm

# ---- help and version: 0
check_rc "--help" 0 "$NFPILOT" --help
check "--help prints the usage on stdout" grep -q '^usage: nfpilot' "$TEST_TMP/rc.out"
check_rc "-h" 0 "$NFPILOT" -h
check_rc "--version" 0 "$NFPILOT" --version
check "--version prints 'nfpilot N.N.N'" grep -qE '^nfpilot [0-9]+\.[0-9]+\.[0-9]+' "$TEST_TMP/rc.out"
check_rc "list --help" 0 "$NFPILOT" list --help
check "list --help names --json" grep -q -- '--json' "$TEST_TMP/rc.out"

# ---- nothing changed by any of the above
check_eq "ruleset unchanged by the failed calls (nft -a list ruleset)" "$(ruleset_state)" "$STATE0"
check_eq "generation id unchanged by the failed calls" "$(genid)" "$GEN0"

# ---- hostile comment: text output sanitised, JSON escaped
nfp list >"$TEST_TMP/t.txt" 2>"$TEST_TMP/t.err"
check "list with a hostile comment exits 0" test $? -eq 0
if LC_ALL=C grep -q "$(printf '[\033\007]')" "$TEST_TMP/t.txt" "$TEST_TMP/t.err"; then
	not_ok "text output carries raw ESC/BEL bytes: $(grep -a evil "$TEST_TMP/t.txt" | od -c | head -5 | tr '\n' '|')"
else
	ok "text output has no ESC or BEL byte"
fi
check "text shows the comment with control characters replaced by '?'" \
	grep -qF 'evil?[31mRED?]0;pwned?tail' "$TEST_TMP/t.txt"
nfp list -x -t filter -c INPUT >"$TEST_TMP/t2.txt" 2>&1
if LC_ALL=C grep -q "$(printf '[\033\007]')" "$TEST_TMP/t2.txt"; then
	not_ok "list -x -t filter -c INPUT carries raw ESC/BEL bytes"
else
	ok "list -x -t filter -c INPUT has no ESC or BEL byte"
fi
nfp list --json >"$TEST_TMP/j.json" 2>&1
if LC_ALL=C grep -q "$(printf '[\033\007]')" "$TEST_TMP/j.json"; then
	not_ok "--json carries raw ESC/BEL bytes"
else
	ok "--json has no raw ESC or BEL byte"
fi
check "--json escapes ESC as \\u001b" grep -qF '\u001b[31mRED' "$TEST_TMP/j.json"
got=$(json_get "$TEST_TMP/j.json" '[r["comment"] for t, c, r in rules(d, table="filter")][0].encode("unicode_escape").decode()')
check_eq "--json comment decodes to the exact kernel string" "$got" \
	"$(python3 -c 'import sys; print(sys.argv[1].encode("unicode_escape").decode())' "$ESC_COMMENT")"

# ---- empty namespace: an empty listing, not an error
ns_add "$NS_PREFIX-empty"
check_rc "list in an empty namespace" 0 "$NFPILOT" -N "$NS_PREFIX-empty" list
check_rc "list --json in an empty namespace" 0 "$NFPILOT" -N "$NS_PREFIX-empty" list --json
check_eq "empty namespace: no tables" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["tables"])' <"$TEST_TMP/rc.out")" "[]"
err_case "-t in an empty namespace" 3 "web" "$NFPILOT" -N "$NS_PREFIX-empty" list -t web

check_eq "ruleset still unchanged at the end" "$(ruleset_state)" "$STATE0"
finish
