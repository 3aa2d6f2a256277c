#!/bin/bash
# Rule text of a table with a big named set (issue 17, item 5): nft 1.0.6
# fetches every element of every set of a table for `list chain` and
# `list table`, even terse (1M elements: 24 s and 645 MB a listing);
# nfpilot's rule text leaves named sets' elements out (nft/ruletext.c) and
# must still be nft's own text. A table with a named set of 100k
# addresses and rules using it, a small set, a map, a vmap, a typeof set,
# an object map and a meter (named), and anonymous sets, maps and vmaps
# (which stay whole in the rules):
#   - `nfpilot list` and `--json` give each rule the text `nft -a -s list
#     table` gives it, and the sets' types as nft writes them;
#   - the live view shows the same text on its screen;
#   - memory: the listing holds no element (at most 64 bytes an element
#     beyond a table without sets: the issue's budget; the elements
#     fetched took 645 bytes each). Release binary (NFPILOT_RELEASE): ASan's
#     memory says nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"
. "$(dirname "$0")/../tui_edit_lib.sh"

N=100000
setup_net
# W first: the live view's first screen is its chain, before T's text
srv nft -f - <<'EOF' || bail "table inet W"
table inet W {
	chain c {
		tcp dport 22 accept
	}
}
EOF
python3 - "$N" >"$TEST_TMP/t.nft" <<'EOF'
import sys
n = int(sys.argv[1])
print("table inet T {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = {")
print(",\n".join("10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(n)))
print("""\t\t}
	}
	set small {
		type ipv4_addr
		elements = { 1.2.3.4, 5.6.7.8 }
	}
	map marks {
		type inet_service : mark
		elements = { 80 : 0x1, 443 : 0x2 }
	}
	map ports {
		type inet_service : verdict
		elements = { 22 : accept, 23 : drop }
	}
	counter c1 {
	}
	set tf {
		typeof ip saddr . tcp dport
	}
	map om {
		type ipv4_addr : counter
		elements = { 1.1.1.1 : "c1" }
	}
	chain other {
		ip daddr @small accept
		meta mark set tcp dport map @marks
		ip saddr . tcp dport @tf accept
		counter name ip saddr map @om
		tcp dport 22 meter flood { ip saddr limit rate 10/second } accept
	}
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr @s drop
		ip saddr { 192.168.1.1, 192.168.1.2 } accept
		ip daddr { 10.9.0.0/16, 172.16.0.0-172.16.0.9 } drop
		tcp dport vmap @ports
		tcp dport vmap { 25 : drop, 26 : jump other }
		meta mark set tcp dport map { 8080 : 0x3, 8081 : 0x4 }
		counter
	}
}""")
EOF
srv nft -f "$TEST_TMP/t.nft" || bail "table inet T with a set of $N"

# nft's text of each rule, "HANDLE<tab>TEXT" in handle order (the
# elements of the sets too: nft's listing holds them, the join not)
srv nft -a -s list table inet T | python3 -c '
import re, sys
depth, chain, out = 0, None, []
for line in sys.stdin:
    body = line.strip()
    m = re.match(r"(.*) # handle (\d+)$", body)
    if depth == 1 and body.startswith("chain "):
        chain = body.split()[1]
    elif depth == 2 and chain and m:
        out.append((int(m.group(2)), chain, m.group(1)))
    depth += body.count("{") - body.count("}")
    if depth <= 1:
        chain = None
for h, c, t in sorted(out):
    print("%s\t%d\t%s" % (c, h, t))' >"$TEST_TMP/nftc.txt"
cut -f 2- "$TEST_TMP/nftc.txt" >"$TEST_TMP/nft.txt"
check_eq "nft lists the 12 rules" "$(wc -l <"$TEST_TMP/nft.txt")" 12

# nfpilot list: "   num  pkts  bytes  handle  rule" rows
check_rc "nfpilot list of the table" 0 nfp list -t inet T
sed -nE 's/^ +[0-9]+ +[^ ]+ +[^ ]+ +([0-9]+)  (.*)$/\1\t\2/p' <<<"$RC_OUT" | sort -n \
	>"$TEST_TMP/list.txt"
check "... each rule's text is nft's" diff "$TEST_TMP/nft.txt" "$TEST_TMP/list.txt"
check "... the big set with its type and count" \
	grep -qx "set s (type ipv4_addr) $N elements" <<<"$RC_OUT"
check "... the map's types" grep -qx "map marks (type inet_service : mark) 2 elements" <<<"$RC_OUT"
check "... a typeof set's words" \
	grep -qx "set tf (typeof ip saddr . tcp dport) 0 elements" <<<"$RC_OUT"
check "... an object map's types" grep -qx "map om (type ipv4_addr : counter) 1 element" <<<"$RC_OUT"
check_rc "nfpilot list --json of the table" 0 nfp list --json -t inet T
python3 -c '
import json, sys
d = json.load(sys.stdin)
for h, t in sorted((r["handle"], r["text"]) for c in d["tables"][0]["chains"] for r in c["rules"]):
    print("%d\t%s" % (h, t))' <<<"$RC_OUT" >"$TEST_TMP/json.txt"
check "... each rule's text is nft's" diff "$TEST_TMP/nft.txt" "$TEST_TMP/json.txt"

# peak RSS in kB of a command (and of the processes it waited for)
peak_kb() {
	python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}
# status field (kB) of a process
vm_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
budget_kb=$((N * 64 / 1024))
if [ -z "${NFPILOT_RELEASE:-}" ]; then
	skip "memory of the listing" "needs NFPILOT_RELEASE (make check sets it)"
else
	base=$(peak_kb "$NFPILOT_RELEASE" -N "$SRV" list -t inet W)
	big=$(peak_kb "$NFPILOT_RELEASE" -N "$SRV" list -t inet T)
	check "nfpilot list holds no element: peak RSS $big kB, a table without sets $base kB (budget +$budget_kb kB)" \
		test "$big" -le $((base + budget_kb))
fi

# the live view: the same text on screen; started before T is made (its
# memory then is the base), it reads T when the kernel announces it
srv nft delete table inet T || bail "delete table T"
if [ -n "${NFPILOT_RELEASE:-}" ]; then
	NFPILOT=$NFPILOT_RELEASE TUI_SIZE=200x30 start
else
	TUI_SIZE=200x30 start
fi
pid=$(pgrep -P "$DRV_PID" -x nfpilot)
hwm0=$(vm_kb "$pid" VmHWM)
srv nft -f "$TEST_TMP/t.nft" || bail "table T again"
wait_for '@s ' 60 >/dev/null || not_ok "the live view shows T's set s"
for chain in input other; do
	goto_chain 'inet T' "$chain" || not_ok "chain $chain of T in the tree"
	dump >/dev/null
	bad=""
	while IFS=$'\t' read -r c h text; do
		[ "$c" = "$chain" ] || continue
		field rule "$text" >/dev/null
		[ "$DRV_REPLY" = "ok $text" ] || bad="$bad|$text: $DRV_REPLY"
		field handle "$text" >/dev/null
		[ "$DRV_REPLY" = "ok $h" ] || bad="$bad|handle $h: $DRV_REPLY"
	done <"$TEST_TMP/nftc.txt"
	if [ -z "$bad" ]; then
		ok "the live view: chain $chain's rules with nft's text ($(grep -c "^$chain"$'\t' "$TEST_TMP/nftc.txt"))"
	else
		not_ok "the live view: chain $chain's rules with nft's text: $bad"
		show_screen
	fi
done
if [ -n "${NFPILOT_RELEASE:-}" ]; then
	hwm1=$(vm_kb "$pid" VmHWM)
	check "the live view holds no element: peak RSS $hwm1 kB, $hwm0 kB before T (budget +$budget_kb kB)" \
		test "$hwm1" -le $((hwm0 + budget_kb))
else
	skip "memory of the live view" "needs NFPILOT_RELEASE (make check sets it)"
fi
stop
finish
