#!/bin/bash
# The rules screen's number columns hold their numbers whole (issue 11,
# item 10): in a chain of 100000 rules the last one's position shows as
# 100000 in the # column, not "10000", and big handles show whole in the
# handle column; the columns keep that width from the top of the chain.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

ns_add "$SRV" || bail "ip netns add $SRV"
N=100000
python3 - "$N" >"$TEST_TMP/big.nft" <<'EOF'
import sys
n = int(sys.argv[1])
print("table inet big {\n\tchain c {")
for i in range(n):
    print("\t\tip saddr 10.%d.%d.%d counter accept" % (i >> 16 & 255, i >> 8 & 255, i & 255))
print("\t}\n}")
EOF
srv nft -f "$TEST_TMP/big.nft" || bail "a chain of $N rules"
LAST=$(srv nft -a list chain inet big c | sed -n 's/.* # handle \([0-9]*\)$/\1/p' | tail -n 1)

# the view is not idle before the text of all 100k rules is in (a minute
# under ASan on a loaded machine): keys are typed on its terminal at once,
# and each wait is answered at the redraw that shows what it waits for
TUI_STEP_SECS=300
tui_start --size 120x20 --first || bail "the live view did not start"
press "$(printf '\t')"
wait_for "> c +$N rules$" 120 >/dev/null || bail "chain c not shown loaded"
# the header's # sits over the numbers: the column is as wide as 100000
expect "the # column is titled" '^.*#  +pkts'
press "$(tput -T xterm-256color kend)"
if wait_for " $N  +0 " 30 >/dev/null; then
	ok "End: the last rule shows position $N whole"
else
	not_ok "End: position $N not shown whole: $(screen | grep -E '10000|ip saddr 10.1.134.159' | head -3 | tr '\n' '|')"
fi
# on the screen that shows it
check "... never cut to 10000" eval '! on_screen " 10000  +0 "'
if wait_for " $LAST +ip saddr 10\.1\.134\.159 " 30 >/dev/null; then
	ok "... its handle ($LAST) whole in the handle column"
else
	not_ok "... its handle ($LAST) not shown whole"
	show_screen
fi
press "$(tput -T xterm-256color khome)"
expect "Home: position 1 in the same wide column" '^.*  +1  +0 '
if [ -s "$TEST_TMP/tui.err" ] && grep -q Sanitizer "$TEST_TMP/tui.err"; then
	not_ok "sanitizer report: $(head -c 1500 "$TEST_TMP/tui.err" | tr '\n' '|')"
fi
tui_quit
finish
