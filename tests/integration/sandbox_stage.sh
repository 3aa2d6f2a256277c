#!/bin/bash
# The sandbox staged by differences (sandbox/sandbox.h sandbox_stage): one
# sandbox staged A, then B (not built on A: A's table put back first), then
# B and more (built on B: only the rest runs), then nothing, must answer
# each question as a sandbox made afresh with exactly that change does —
# the same steps, rules by the host's handles, the same verdicts and rule
# text — and as the host's ruleset once nothing is staged; a table put
# back has new handles in the copy, and the host's rules still map to
# them; a change nft refuses leaves the host's ruleset, the sandbox open;
# a table the kernel will not take back closes it, and it says so;
# the table of admissions (sandbox_admits) stays through a stage and never
# shows in an answer. Through tests/tools/sbstage (real kernel, the
# server's namespace; the host's ruleset is never changed).
. "$(dirname "$0")/../lib.sh"

SBSTAGE=$(dirname "$NFPILOT")/tools/sbstage
[ -x "$SBSTAGE" ] || bail "no $SBSTAGE (make build/asan/tools/sbstage)"

setup_net
srv nft -f - <<'EOF'
table inet t {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 accept comment "ssh"
		tcp dport 80 drop comment "web"
		tcp dport 443 counter
	}
}
table ip other {
	chain input {
		type filter hook input priority 10; policy accept;
		tcp dport 8443 drop comment "other"
	}
}
EOF
handle() { # TABLE-ARGS COMMENT: the host's handle of the rule with that comment
	srv nft -a list chain $1 | sed -n "s/.*comment \"$2\" # handle \([0-9]*\)/\1/p"
}
H22=$(handle "inet t input" ssh)
H80=$(handle "inet t input" web)
HO=$(handle "ip other input" other)
before=$(srv nft -a list ruleset)

p() { echo "tcp $CLI_IP:40000 -> $SRV_IP:$1"; }
ASK=(ask "$(p 22)" ask "$(p 80)" ask "$(p 443)" ask "$(p 8443)")
T=$TEST_TMP
cat >"$T/A.nft" <<'EOF'
insert rule inet t input tcp dport 22 drop
EOF
cat >"$T/B.nft" <<EOF
delete rule inet t input handle {inet t $H80}
insert rule ip other input tcp dport 8443 accept
EOF
cat "$T/B.nft" - >"$T/C.nft" <<'EOF'
chain inet t input { policy drop; }
EOF
echo 'this is not nft' >"$T/bad.nft"

# one sandbox, staged again and again (ask after each stage)
"$SBSTAGE" "$SRV" copy inet t "$H22" "${ASK[@]}" \
	stage "$T/A.nft" "${ASK[@]}" \
	stage "$T/B.nft" copy inet t "$H22" "${ASK[@]}" \
	stage "$T/C.nft" "${ASK[@]}" \
	stage - copy inet t "$H22" "${ASK[@]}" \
	stage "$T/A.nft" stage "$T/bad.nft" "${ASK[@]}" \
	admits "$(p 80)" stage "$T/A.nft" admits "$(p 22)" ask "$(p 22)" >"$T/seq" 2>"$T/seq.err"
check_eq "one sandbox staged A, B, B and more, nothing, a refused change: it ran them all" \
	"$? $(grep -c . "$T/seq")" "0 37"
# answers of a sandbox made afresh for each change
for x in host A B C; do
	if [ $x = host ]; then
		"$SBSTAGE" "$SRV" "${ASK[@]}" >"$T/fresh.$x" 2>&1
	else
		"$SBSTAGE" "$SRV" stage "$T/$x.nft" "${ASK[@]}" >"$T/fresh.$x" 2>&1
	fi
done
asks() { sed -n "$1,$2p" "$T/seq"; }
fresh() { grep '^ask' "$T/fresh.$1"; }

check_eq "at first, the host's ruleset: as a fresh sandbox answers" "$(asks 2 5)" "$(fresh host)"
check_eq "staged A: as a fresh sandbox with A answers" "$(asks 7 10)" "$(fresh A)"
check_eq "staged B after A (A put back): as a fresh sandbox with B answers" \
	"$(asks 13 16)" "$(fresh B)"
check_eq "staged B and more after B (only the rest run): as a fresh sandbox with it answers" \
	"$(asks 18 21)" "$(fresh C)"
check_eq "staged nothing after that: the host's ruleset again" "$(asks 24 27)" "$(fresh host)"

# the answers themselves: each change does what it says
check_eq "A: port 22 dropped by the rule A adds, with its text" "$(asks 7 7)" \
	"ask: t/input rule new drop => drop by step 0: tcp dport 22 drop"
check_eq "B: port 22 accepted again by the host's rule $H22 (A is gone)" "$(asks 13 13)" \
	"ask: t/input rule $H22 accept other/input policy 0 accept => accept by step 1: (no text)"
check_eq "B: port 80's drop deleted (the policy decides), 8443 accepted by B's rule" \
	"$(asks 14 14 | sed 's/ =>.*//') | $(asks 16 16 | sed 's/.*=> //')" \
	"ask: t/input policy 0 accept other/input policy 0 accept | accept by step 1: tcp dport 8443 accept"
check_eq "B and more: port 443 dropped by the policy it sets" "$(asks 20 20 | sed 's/.*=> //')" \
	"drop by step 1: (no text)"
check_eq "nothing: port 80 dropped by the host's rule $H80, 8443 by $HO" \
	"$(asks 25 25 | cut -d' ' -f2-5) $(asks 27 27 | sed 's/.*other.input //; s/ =>.*//')" \
	"t/input rule $H80 drop rule $HO drop"

# handles: a table put back has new ones in the copy; the host's still map
c0=$(sed -n 1p "$T/seq"); c1=$(sed -n 12p "$T/seq"); c2=$(sed -n 23p "$T/seq")
if [ "${c0%% *}" = "copy:" ] && [ "$c0" != "$c1" ] && [ "$c1" != "$c2" ] && [ "$c0" != "$c2" ]; then
	ok "the host's rule $H22 has a new copy handle each time its table is put back ($c0, $c1, $c2)"
else
	not_ok "copy handles of rule $H22 as loaded, after B, after nothing: '$c0' '$c1' '$c2'"
fi

# a change nft refuses: said, the host's ruleset, the sandbox open
refused=$(sed -n 29p "$T/seq")
case $refused in
"error: "*"not nft"*) ok "a change nft refuses is said with nft's words" ;;
*) not_ok "a change nft refuses: '$refused'" ;;
esac
check_eq "... the copy is then the host's, and the sandbox still answers" "$(asks 30 33)" \
	"$(fresh host)"

# the table of admissions through a stage
check_eq "admits, a stage, admits again: port 80 refused by the host's, 22 by A" \
	"$(sed -n 34p "$T/seq") $(sed -n 36p "$T/seq")" "admits: refused admits: refused"
check_eq "... and an answer after it has no step of the table of admissions" \
	"$(sed -n 37p "$T/seq")" "ask: t/input rule new drop => drop by step 0: tcp dport 22 drop"

# a table that cannot be put back: the sandbox is closed, and says so
"$SBSTAGE" "$SRV" stage "$T/A.nft" break inet:t stage "$T/B.nft" ask "$(p 22)" >"$T/broken" 2>&1
rc=$?
case "$(sed -n 3p "$T/broken")|$(sed -n 4p "$T/broken")|$rc" in
"error: sandbox: the tables staged before could not be put back: "*"inet t"*"(closed)|error: the sandbox was closed: the steps after it not made|1")
	ok "a table the kernel will not take back: the stage fails, the sandbox is closed, nothing more is asked of it" ;;
*) not_ok "a table that cannot be put back: $(tr '\n' '|' <"$T/broken") (exit $rc)" ;;
esac

check_eq "the host's ruleset is untouched" "$(srv nft -a list ruleset)" "$before"
finish
