#!/bin/bash
# The set screen (issue 17), by keys (tests/tui_lib.sh) against a real
# kernel: sets and maps in the tree; Enter on a set, or @ on a rule that
# uses one, opens its elements; the rows equal `nft list set` (keys,
# concatenated fields, map values, vmap verdicts, comments, counters) for
# a plain, an interval, a concatenated, a map, a vmap and a dynamic set;
# / finds the prefix holding an address; a meter's entries appear, marked,
# while a test client is being limited; staged element edits (one, a
# list, a file; a delete) are applied on probation and confirmed, and at
# the deadline the set comes back exactly; b and o offer the set a rule
# drops (accepts) with, a connection's b goes into it; at 80x24 the screen
# fits.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net
SETCMP="$(dirname "$0")/../tools/setscreen.py"
export NFPILOT_LIB_DIR="$TEST_TMP/lib" NFPILOT_RUN_DIR="$TEST_TMP/run"
printf 'save_file.%s = %s\ntimeout = 10\n' "$SRV" "$TEST_TMP/boot.nft" >"$TEST_TMP/nfpilot.conf"
export NFPILOT_CONFIG="$TEST_TMP/nfpilot.conf"

srv nft -f - <<'EOF'
table inet fw {
	set plain {
		type ipv4_addr
		elements = { 10.1.1.1, 10.1.1.2, 192.0.2.7 }
	}
	set block {
		type ipv4_addr
		flags interval
		counter
		elements = { 198.18.0.0/15, 203.0.113.10-203.0.113.20 comment "lab",
			     198.51.100.1, 10.99.0.0/24 comment "old lab" }
	}
	set svc {
		type ipv4_addr . inet_service
		flags interval
		elements = { 10.0.0.0/8 . 22-25, 192.168.1.1 . 80 }
	}
	map natto {
		type ipv4_addr : ipv4_addr
		elements = { 10.5.0.1 : 192.168.7.1, 10.5.0.2 : 192.168.7.2 }
	}
	map ports {
		type inet_service : verdict
		elements = { 22 : jump ssh, 80 : accept, 8080 : drop }
	}
	set flood {
		type ipv4_addr
		flags dynamic,timeout
		timeout 1m
	}
	set allowed {
		type inet_service
		elements = { 443 }
	}
	set tmo {
		type ipv4_addr
		flags timeout
		elements = { 10.7.0.1 timeout 1h, 10.7.0.2 timeout 2h comment "two" }
	}
	set tyo {
		typeof ip saddr . tcp dport
	}
	map tym {
		typeof tcp dport : verdict
	}
	chain ssh {
		counter accept
	}
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr @block drop
		tcp dport vmap @ports
		icmp type echo-request update @flood { ip saddr limit rate over 2/second } counter drop
		tcp dport @allowed accept
		ct state established counter
	}
}
EOF

# open_set NAME: from the ruleset screen, the set NAME: a search for its
# name finds its tree row (Enter opens it) or a rule that uses it (@)
open_set() {
	keys Esc 1 /
	typein "$1"
	keys Enter
	if tree_selected | grep -q "@$1 "; then keys Enter; else keys @; fi
	wait_for "^ (set|map) inet fw $1 " || return 1
}
# same_as_nft DESC NAME: the rows on screen are nft's elements
same_as_nft() {
	local out
	dump
	screen >"$TEST_TMP/screen.txt"
	srv nft list set inet fw "$2" >"$TEST_TMP/nft.txt" 2>/dev/null ||
		srv nft list map inet fw "$2" >"$TEST_TMP/nft.txt"
	if out=$(python3 "$SETCMP" "$TEST_TMP/screen.txt" "$TEST_TMP/nft.txt"); then
		ok "$1 ($out elements)"
	else
		not_ok "$1"
		echo "$out" | sed 's/^/# /'
		show_screen
	fi
}

tui_start --size 160x40 -- || bail "the live view did not start"
expect "the tree lists the sets and maps with their kind and count" '^ @block +int +4│'
expect "... a map" '^ @ports +map +3│'
expect "... a dynamic set" '^ @flood +dyn +0│'

# the table's row: each set's type as nft writes it (typeof, a
# concatenation, an interval set's, a map's, a vmap's)
keys Home
for name in plain block svc natto ports tyo tym; do
	want=$(srv nft -t list sets table inet fw; srv nft -t list maps inet)
	want=$(echo "$want" | awk -v n="$name" '$1 ~ /^(set|map)$/ { s = ($2 == n) } s && $1 ~ /^type/ { sub(/^\t+/, ""); print; exit }')
	if [ -n "$want" ] && on_screen "│ (set|map) $name  $want  ([0-9]+ elements?|elements being counted) *$"; then
		ok "the tree's type of $name is nft's: $want"
	else
		not_ok "the tree's type of $name is nft's: '$want'"
		show_screen
	fi
done

open_set plain
expect "Enter on a set opens its screen: the header" '^ set inet fw plain .* 3 elements'
same_as_nft "a plain set's rows are nft's" plain
open_set block
same_as_nft "an interval set with counters and comments" block
expect "... the rules that use it" 'used by: input #1'
open_set svc
same_as_nft "a concatenation, a field a column" svc
expect "... titled by field" '^ +key\.1 +key\.2 '
open_set natto
same_as_nft "a map's values" natto
open_set ports
same_as_nft "a vmap's verdicts" ports
open_set tmo
same_as_nft "a set with timeouts" tmo
expect "expiry counts down from the timeout" '10\.7\.0\.2 +1h59m[0-9]+s of 2h +two'

# an element that expires: marked +, then shown gone
srv nft add element inet fw tmo '{ 10.7.0.9 timeout 3s }'
wait_for '^ \+ 10\.7\.0\.9 ' 5 && ok "an element added meanwhile appears, marked +" ||
	not_ok "an element added meanwhile appears, marked +"
wait_for '^ - 10\.7\.0\.9 .*\(gone\)' 15 && ok "... and once expired is shown gone" ||
	not_ok "... and once expired is shown gone"

# marked, all the filter shows, a flush: staged, listed, discarded
open_set block
keys m m d
expect "m m d: both marked elements staged for deletion" \
	'delete element inet fw block \{ 10\.99\.0\.0/24, 198\.18\.0\.0/15 \}'
keys '\'
typein lab
keys Enter D
expect "D asks about the elements the filter shows" 'deletion of the 2 elements the filter .lab. shows'
keys y F
expect "F asks to flush" 'flush of set block: delete all 4 elements'
keys y v
expect "v: the three edits" 'flush set inet fw block'
check "... the filter's two, in key order" on_screen 'delete element inet fw block \{ 10\.99\.0\.0/24, 203\.0\.113\.10-203\.0\.113\.20 \}'
keys Esc X y
expect "discarded: nothing staged" 'discarded every staged edit'
keys '\'
keys $(printf 'Bksp %.0s' $(seq 10))
keys Enter

# @ on a rule: the set it uses
keys Esc 1 /
typein '@ports'
keys Enter @
expect "@ on a rule opens the set it uses" '^ map inet fw ports '
keys /
typein 22
keys Enter Enter
expect "Enter on a jump element opens its chain" 'inet fw > ssh'
keys Bksp

# search: an address finds the prefix holding it
# the set's compiler: one scratch process of the view's, kept for every
# search while the screen is open
compilers() { pgrep -P "$(pgrep -P "$DRV_PID" | head -1)" -f 'scratch set' | tr '\n' ' '; }
open_set block
keys /
typein 198.19.200.7
keys Enter
expect "/ an address: the prefix holding it" '198\.19\.200\.7 is in 198\.18\.0\.0/15'
first=$(compilers)
keys /
typein 203.0.113.15
keys Enter
expect "... a range holding it" 'is in 203\.0\.113\.10-203\.0\.113\.20'
keys /
typein 8.8.8.8
keys Enter
expect "... and one in none is said" '8\.8\.8\.8 is in no element of block'
check "... all three by one compiler, kept ($first)" \
	eval '[ -n "$first" ] && [ "$(echo $first | wc -w)" = 1 ] && [ "$(compilers)" = "$first" ]'
keys Bksp
poll_until 5000 eval '[ -z "$(compilers)" ]'
check "... which ends when the screen is left" eval '[ -z "$(compilers)" ]'
open_set block
keys '\'
typein lab
keys Enter
expect "\\ filters: two of four shown" '2 elements shown'
expect_not "... the others hidden" '198\.51\.100\.1'
keys '\'
keys $(printf 'Bksp %.0s' $(seq 10))
keys Enter
keys '>' '>'
expect "> sorts by the next column (pkts)" '^ +key +pkts[v^] '

# a meter's entries appear while the client is being limited
open_set flood
expect "the meter is empty before" '0 elements'
# (in the background: ping waits for the replies the limit dropped)
bg ip netns exec "$CLI" ping -c 40 -i 0.05 -W 1 -q "$SRV_IP"
wait_for "^ \+ $CLI_IP " 10 && ok "the limited client appears in the meter, marked +" ||
	not_ok "the limited client appears in the meter, marked +"
same_as_nft "the meter's rows are nft's" flood
# its limit, as nft writes it, in a column of its own
want=$(srv nft list set inet fw flood | grep -o "$CLI_IP limit rate [^,}]*[0-9a-z]" | head -1)
want=${want#"$CLI_IP "}
want=${want%% counter*}
want=${want%% expires*}
field=$(grep -E "^ [+ ] $CLI_IP " "$DRV/screen" | head -1)
if [ -n "$want" ] && on_screen '^ +key +limit/quota ' && echo "$field" | grep -qF " $want "; then
	ok "the limit column is nft's text while the client is limited: $want"
else
	not_ok "the limit column is nft's text while the client is limited: '$want' in '$field'"
	show_screen
fi
# ... and what nft -j says of that limit
json=$(srv nft -j list set inet fw flood | python3 -c '
import json, sys
ip = sys.argv[1]
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("set", {}).get("elem", []):
        e = e.get("elem", e)
        l = e.get("limit") if isinstance(e, dict) and e.get("val") == ip else None
        if l:
            print("limit rate %s%d/%s" % ("over " if l.get("inv") else "", l["rate"], l["per"])
                  + (" burst %d packets" % l["burst"] if l.get("burst", 5) != 5 else ""))
' "$CLI_IP")
check_eq "... nft -j's limit of the client is the same" "$want" "$json"
# d releases the limited client: its element deleted, on probation (the
# ping over, else it comes back at once)
poll_until 10000 eval '! pgrep -f "ping -c 40 -i 0.05 -W 1 -q $SRV_IP" >/dev/null'
keys /
typein "$CLI_IP"
keys Enter d W y
wait_for 'PROBATION' 10
check "d on a meter's element releases it" eval '! srv nft list set inet fw flood | grep -q "$CLI_IP"'
keys Y
wait_gone 'PROBATION' 10

# staged element edits: one, a list, a file; a delete; v; W on probation
printf '# from a file\n10.9.1.1\n\n10.9.1.2\n' >"$TEST_TMP/add.txt"
open_set plain
before=$(srv nft list set inet fw plain)
keys a
typein 10.9.0.1
keys Enter
expect "a stages one element" 'staged \(1, W applies\): add element inet fw plain \{ 10\.9\.0\.1 \}'
keys a
typein '10.9.0.2, 10.9.0.3'
keys Enter
keys a
typein "<$TEST_TMP/add.txt"
keys Enter
expect "... a file of one a line" 'add element inet fw plain \{ 10\.9\.1\.1, 10\.9\.1\.2 \}'
keys a
typein 'not-an-address'
keys Enter
expect "a bad element: nft's message, the prompt kept" 'Error'
keys Esc /
typein 10.1.1.1
keys Enter d
expect "d marks the element staged for deletion" '^ - 10\.1\.1\.1( |$)'
keys v
expect "v lists them with the others" 'delete element inet fw plain \{ 10\.1\.1\.1 \}'
keys Esc
expect "staged adds are rows of the set screen, marked staged" '^ \+ 10\.9\.0\.1 +\(staged\)$'
expect "... all of them, the file's too" '^ \+ 10\.9\.1\.2 +\(staged\)$'
expect "... above the kernel's rows, which stay" '^   10\.1\.1\.2 *$'
expect_not "... a refused one is not" 'not-an-address'
keys W y
wait_for 'PROBATION' 10
expect_not "applied: no staged row left" '\(staged\)'
expect "... the added ones are the kernel's rows now" '^ [+ ] 10\.9\.1\.2 *$'
now=$(srv nft list set inet fw plain)
check "applied: the added ones are in" eval 'echo "$now" | grep -q "10.9.0.3" && echo "$now" | grep -q "10.9.1.2"'
check "... the deleted one is not" eval '! echo "$now" | grep -q "10\.1\.1\.1,"'
keys Y
wait_gone 'PROBATION' 10
same_as_nft "confirmed: the screen shows the set as the kernel has it" plain

# again, then the deadline: the set comes back exactly
before=$(srv nft list set inet fw plain)
keys /
typein 192.0.2.7
keys Enter d a
typein '10.9.9.9'
keys Enter W y
wait_for 'PROBATION' 10
check "the second change is in" eval 'srv nft list set inet fw plain | grep -q 10.9.9.9'
wait_gone 'PROBATION' 20
poll_until 5000 eval '[ "$(srv nft list set inet fw plain)" = "$before" ]'
check_eq "at the deadline the set is back exactly" "$before" "$(srv nft list set inet fw plain)"

# b and o offer the set a rule of the input chain drops (accepts) with
keys Esc 1 b
typein 203.0.113.99
keys Enter
expect "b offers the blocklist set the input chain drops with" \
	'Rule 1 of input drops with set @block: add 203\.0\.113\.99 to the set instead'
keys y
expect "y: the address staged into the set" 'add element inet fw block \{ 203\.0\.113\.99 \}'
keys b
typein 198.51.100.77
keys Enter n
expect "n: a drop rule instead" 'insert rule inet fw input .*ip saddr 198\.51\.100\.77 .*drop'
keys o
typein 'tcp 8443'
keys Enter
expect "o offers the allow-port set" 'Rule 4 of input accepts with set @allowed: add 8443'
keys y
expect "... staged into it" 'add element inet fw allowed \{ 8443 \}'
keys v
expect "v: the three with the others" 'add element inet fw allowed \{ 8443 \}'
keys Esc
open_set block
expect "the staged address is a row of its set" '^ \+ 203\.0\.113\.99 .*\(staged\)$'
keys X y
expect "discarded" 'discarded every staged edit'
expect_not "... and its staged row is gone" '\(staged\)'
expect "... the set's own rows stay" '203\.0\.113\.10-203\.0\.113\.20 '

# a connection's b: into the blocklist set, on probation (R reverts it)
cli ping -c 1 -W 1 "$SRV_IP" >/dev/null
keys 2 '\'
keys $(printf 'Bksp %.0s' $(seq 40))
typein "src $CLI_IP proto icmp"
keys Enter
wait_for "icmp .*$CLI_IP" 5
keys b
expect "b on a connection: into the blocklist set" "Block $CLI_IP \(into the blocklist set"
keys y
wait_for 'PROBATION' 10
check "... the address is in the set" eval 'srv nft list set inet fw block | grep -q "$CLI_IP"'
check "... and no rule was added" eval '! srv nft list chain inet fw input | grep -q "ip saddr $CLI_IP"'
keys R
wait_gone 'PROBATION' 10
check "R: the set as it was" eval '! srv nft list set inet fw block | grep -q "$CLI_IP"'
keys 1

# 80x24: the screen fits
tui_end
tui_start --size 80x24 -- || bail "the live view did not start at 80x24"
open_set block
expect "80x24: the header" '^ set inet fw block '
expect "... the rows" '203\.0\.113\.10-203\.0\.113\.20 '
expect "... the hints" ' shown +Bksp back'
keys a
typein '10.99.9.9 comment "eighty"'
keys Enter
expect "80x24: a staged add's row, marked" '^ \+ 10\.99\.9\.9 .* eighty +\(staged\)$'
keys X y
expect_not "... gone when the edits are dropped" '\(staged\)'
tui_end
finish
