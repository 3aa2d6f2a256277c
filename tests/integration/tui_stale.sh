#!/bin/bash
# The live view after an apply (issue 14, item 3), by keys
# (tests/tui_lib.sh) against a real kernel: long-lived connections to two
# ports; a drop for one of them appended behind "ct state established
# accept" and applied with W goes in on probation, and the status says how
# many established connections would not be admitted now; ! shows exactly
# those on the connections screen, D kills them and both ends see it,
# while the others go on; after a plain nft command, ! asks again and
# finds the new ones.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net
export NFPILOT_LIB_DIR="$TEST_TMP/lib"
printf 'timeout = 120\nsave_file.%s = %s\n' "$SRV" "$TEST_TMP/boot.nft" >"$TEST_TMP/nfpilot.conf"
export NFPILOT_CONFIG="$TEST_TMP/nfpilot.conf"
TUI_SIZE=150x30
srv nft -f - <<'EOF'
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		ct state established,related accept
	}
}
EOF
echo_server "$SRV" 0.0.0.0 9000 "$TEST_TMP/srv.log"
echo_server "$SRV" 0.0.0.0 9001 "$TEST_TMP/srv.log"
A=$TEST_TMP/a B=$TEST_TMP/b
start_client "$CLI" "$SRV_IP" 9000 3 "$A"
start_client "$CLI" "$SRV_IP" 9001 2 "$B"
read -r A1 A2 A3 <<<"$(tr '\n' ' ' <"$A/ports")"
read -r B1 B2 <<<"$(tr '\n' ' ' <"$B/ports")"
# rows: how many connection rows of the screen go to port $1
rows() { screen | grep -c "10\.200\.0\.1:$1 "; }

tui_start NFPILOT_CONFIG="$NFPILOT_CONFIG" NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" -- ||
	bail "the live view did not start"
keys Tab # the rules of inet web input
append_apply "tcp dport 9000 drop"
expect "after W: the status counts the connections the change no longer admits" \
	'3 established connections would not be admitted now: ! shows them, D there kills them' 20
check "the change is in the kernel, on probation" srv nft list chain inet web input
r=$(round "$A" 1)
check_eq "those connections still flow (established accept comes first)" \
	"$(res "$r" "$A1") $(res "$r" "$A2") $(res "$r" "$A3")" "ok ok ok"

keys '!'
expect "!: the connections screen, saying what it shows" \
	'3 established connections would not be admitted now: D kills them, ! shows every connection'
check_eq "!: the three connections to 9000 are listed" "$(rows 9000)" 3
check_eq "!: none of those to 9001" "$(rows 9001)" 0
keys Down
expect "the hints say what is shown" '3 shown no longer admitted \(! for all\)'
keys D
expect "D asks about them" 'Kill all 3 connections the live ruleset no longer admits\?'
keys y
expect "y: they are ended, both ends told" 'ended 3 connections \(3 local sockets reset'
check_eq "the server's ends were aborted" \
	"$(closed "$TEST_TMP/srv.log" "$A1") $(closed "$TEST_TMP/srv.log" "$A2") $(closed "$TEST_TMP/srv.log" "$A3")" \
	"ECONNABORTED ECONNABORTED ECONNABORTED"
r=$(round "$A" 2)
case "$(res "$r" "$A1") $(res "$r" "$A2") $(res "$r" "$A3")" in
*ok*) not_ok "the clients' next sends fail: got '$(res "$r" "$A1") $(res "$r" "$A2") $(res "$r" "$A3")'" ;;
*) ok "the clients' next sends fail ($(res "$r" "$A1"))" ;;
esac
r=$(round "$B" 1)
check_eq "the connections to 9001 go on" "$(res "$r" "$B1") $(res "$r" "$B2")" "ok ok"

keys '!'
expect "! again: every connection" 'every connection again'
check_eq "the two to 9001 are shown again" "$(rows 9001)" 2

# a plain nft command, not nfpilot: ! asks the live ruleset of now
srv nft add rule inet web input tcp dport 9001 drop || bail "nft add rule"
keys '!'
expect "!: the two to 9001 are found" '2 established connections would not be admitted now'
check_eq "and listed" "$(rows 9001)" 2
check_eq "and none to 9000 (those were killed)" "$(rows 9000)" 0

tui_end
finish
