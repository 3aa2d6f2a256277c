#!/bin/bash
# Mixed tables (issue 16, item 5): a plain `iptables -t nat -A POSTROUTING`
# on a host with a native `ip nat` table merges iptables-nft's chains into
# it; an nft rule in iptables-nft's INPUT is one iptables cannot show (it
# prints `-A INPUT -p tcp -j ACCEPT` for `tcp dport { 8081, 8082 }`). Both
# are badged [mixed] in the tree (live: within a second of the change),
# explained in the table's summary and in the rule's detail, and said by
# nfpilot list and its JSON. At 80x24.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net
. "$(dirname "$0")/../tui_edit_lib.sh"

jmixed() {
	nfp list --json | python3 -c '
import json, sys
t = [t for t in json.load(sys.stdin)["tables"] if t["family"] == sys.argv[1] and t["name"] == sys.argv[2]][0]
print(t["owner"], t["mixed"])' "$@"
}

srv nft -f - <<'EOF' || bail "the native nat table"
table ip nat {
	chain postrouting {
		type nat hook postrouting priority 100;
		oifname "lo" masquerade
	}
}
EOF
check_eq "a native ip nat table is not mixed" "$(jmixed ip nat)" "native False"
check "... nfpilot list has no [mixed]" sh -c "! $NFPILOT -N $SRV list -t ip nat | grep -q mixed"

TUI_SIZE=80x24
start
expect_not "the tree has no [mixed] before" '\[mixed\]'

srv iptables -t nat -A POSTROUTING -o v0 -j MASQUERADE || bail "iptables -t nat"
check "iptables merged its chain into the native table" \
	sh -c "ip netns exec $SRV nft list table ip nat | grep -q 'chain POSTROUTING'"
wait_for '^ip nat +\[mixed\]' 5 >/dev/null
expect "the live view badges ip nat [mixed] within a second" '^ip nat +\[mixed\]'
# the table's summary: on its tree row
focus tree
keys PgUp PgUp
expect "its summary says whose chains are whose" "mixed: iptables-nft's chains POSTROUTING"
expect "... and what iptables shows of it (wrapped)" 'iptables lists and saves only its$'
goto_chain 'ip nat' POSTROUTING || not_ok "POSTROUTING in the tree"
sel 'oifname'
keys r
expect "the detail of iptables' rule: a mixed table" '^Mixed table:'
expect "... its chain is iptables-nft's" "Chain POSTROUTING is iptables-nft's"
keys Esc
goto_chain 'ip nat' postrouting || not_ok "postrouting in the tree"
sel 'oifname'
keys r
expect "the detail of the native rule: its chain is nft's own" "Chain postrouting is nft's own"
keys Esc
keys A
expect "the native chain's editor takes nft (and iptables words, translated)" '^Append rule:$'
keys Esc
goto_chain 'ip nat' POSTROUTING || not_ok "POSTROUTING in the tree"
keys A
expect "iptables-nft's chain's editor takes iptables syntax" '^Append rule \(iptables\):$'
keys Esc

# native rules in iptables-nft's table
srv iptables -A INPUT -p tcp --dport 22 -j ACCEPT || bail "iptables -A INPUT"
srv nft add rule ip filter INPUT tcp dport '{ 8081, 8082 }' counter accept || bail "nft rule"
check_eq "iptables shows it without its ports (the reason for the badge)" \
	"$(srv iptables -S INPUT | tail -n 1)" "-A INPUT -p tcp -j ACCEPT"
goto_chain 'ip filter' INPUT || not_ok "ip filter INPUT in the tree"
expect "ip filter: [mixed] once its rules are read" '^ip filter +\[mixed\]'
sel '8081'
keys r
expect "the nft rule's detail says iptables cannot show it" \
	"This rule is nft's own \(an expression iptables-nft never"
keys Esc
sel 'tcp dport 22'
keys r
expect_not "iptables' own rule does not say so" "This rule is nft's own"
keys Esc
stop

check_eq "list --json: ip nat native and mixed" "$(jmixed ip nat)" "native True"
check_eq "list --json: ip filter iptables-nft's and mixed" "$(jmixed ip filter)" "iptables-nft True"
check_eq "nfpilot list: the header and what it means" \
	"$(nfp list -t ip filter | head -n 2)" \
	"$(lines 'table ip filter  [iptables-nft]  [mixed]  -- managed by iptables-nft: its rules in iptables syntax' \
		"  mixed: 1 rule of nft's own in iptables-nft's chains: iptables -S and iptables-save cannot show it as it is")"
# editing a mixed table: iptables-nft's chain takes iptables syntax, compiled
# by iptables-nft; the native chain takes nft, and iptables words translated
check_rc "iptables syntax in POSTROUTING of the mixed ip nat" 0 nfp_yes edit \
	-t ip nat -c POSTROUTING --append '-o v1 -j MASQUERADE'
check "... compiled by iptables-nft, not translated" grep -q 'iptables syntax' <<<"$RC_OUT"
check_eq "... iptables -S shows it as iptables writes it" \
	"$(srv iptables -t nat -S POSTROUTING | tail -n 1)" "-A POSTROUTING -o v1 -j MASQUERADE"
check_rc "iptables words in its native postrouting" 0 nfp_yes edit --translate \
	-t ip nat -c postrouting --append '-o v2 -j MASQUERADE'
check "... translated into nft" grep -qx '  oifname "v2" counter masquerade' <<<"$RC_OUT"
check "... and there in nft's form" sh -c "ip netns exec $SRV nft list chain ip nat postrouting | grep -q 'oifname \"v2\" counter packets [0-9]* bytes [0-9]* masquerade'"
BEFORE=$(srv nft -a list table ip nat | md5sum)
check_rc "nft text in iptables-nft's POSTROUTING: refused (iptables could not read it back)" 1 \
	nfp_yes edit -t ip nat -c POSTROUTING --append 'oifname "v3" counter masquerade'
check_eq "... nothing changed" "$(srv nft -a list table ip nat | md5sum)" "$BEFORE"

srv nft delete rule ip filter INPUT handle \
	"$(srv nft -a list chain ip filter INPUT | sed -n 's/.*8082 }.*# handle \([0-9]*\)$/\1/p')"
check_eq "the nft rule deleted: ip filter no longer mixed" "$(jmixed ip filter)" "iptables-nft False"
finish
