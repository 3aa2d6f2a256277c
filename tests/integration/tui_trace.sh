#!/bin/bash
# The live view's trace screen (issue 13), by keys (tests/tui_lib.sh) against
# a real kernel, at 80x24 and wide: a real ping and a TCP connect traced
# from a rule (l) show the rule whose counter rose, with its handle and
# text; Enter on a step lands on that rule, which the ruleset screen marks;
# a connection's flow is traced from the connections screen; a bad filter
# is explained and changes nothing; the count bounds a trace and its table
# goes with it; the why prompt (w) shows the deciding rule, of the staged
# ruleset while edits are staged; kill -9 during a trace leaves no table.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net
start_servers
printf 'trace_count = 3\n' >"$TEST_TMP/nfpilot.conf"
export NFPILOT_CONFIG="$TEST_TMP/nfpilot.conf"

srv nft -f - <<'EOF' || bail "web ruleset"
table inet web {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related counter accept
		iif "lo" accept
		tcp dport 9 accept comment "gone"
		tcp dport 22 counter accept
		icmp type echo-request counter accept
	}
}
EOF
# a gap in the handles: the sandbox's copy, loaded afresh, numbers its
# rules without it, so edits staged by handle must be mapped onto the copy
srv nft delete rule inet web input handle "$(srv nft -a list chain inet web input |
	sed -n 's/.*"gone" # handle \([0-9]*\)$/\1/p')" || bail "the gap in the handles"

pkts() { rule_packets "$SRV" inet web input "$1"; }
handle_of() { rule_handle "$SRV" inet web input "$1"; }
H_EST=$(handle_of "ct state")
H_SSH=$(handle_of "tcp dport 22")
H_ICMP=$(handle_of "icmp type echo-request")
# entries: how many traced packets the screen's title line counts
entries() { screen | grep -cE '^packet [0-9]+ +ip '; }
# trace_prompt_ok: l opened the trace prompt
trace_prompt() {
	on_screen '^Trace \(filter\):' && return 0
	not_ok "l opened no trace prompt"
	show_screen
	return 1
}

# why_ask PACKET: the trace screen cleared, w, the prompt emptied, PACKET, Enter
why_ask() {
	keys 3 c w
	keys $(printf 'Bksp %.0s' $(seq 60))
	typein "$1"
	keys Enter
}

for size in 80x24 150x40; do
	tui_start --size "$size" NFPILOT_CONFIG="$NFPILOT_CONFIG" -- || bail "the live view did not start ($size)"
	keys 3
	expect "$size: 3 shows the trace screen, empty" 'nothing traced: l traces packets'

	# ---- a ping traced from its rule
	keys 1 Tab : && typein 4 && keys Enter
	keys l
	trace_prompt
	expect "$size: l on the echo-request rule: its filter in the prompt" '^Trace \(filter\): proto icmp'
	expect "$size: ... and the chain its packets must pass" 'packets through inet web input'
	keys Enter
	poll_until 5000 trace_tables "$SRV" >/dev/null
	check "$size: Enter starts the trace: the tracing table is there" trace_tables "$SRV"
	before=$(pkts "$H_ICMP")
	check_eq "$size: one ping answered" "$(ping_n 1)" 1
	after=$(pkts "$H_ICMP")
	check_eq "$size: the echo-request rule counted it" "$((after - before))" 1
	wait_for '^  verdict: ' 5 >/dev/null
	expect "$size: the ping's header line" "^packet 1 +ip icmp $CLI_IP -> $SRV_IP type 8 code 0 iif v0"
	expect "$size: the rule whose counter rose decided it, with handle and text" \
		"^ > input +inet web input +\[$H_ICMP\] icmp type echo-request counter"
	expect "$size: its verdict line" "^  verdict: accept by rule $H_ICMP of inet web input; delivered"
	check_eq "$size: one packet, one entry" "$(entries)" 1

	# ---- a TCP connect traced from its rule; Enter lands on the rule
	keys 1 : && typein 3 && keys Enter
	keys l
	trace_prompt
	expect "$size: l on the ssh rule" '^Trace \(filter\): proto tcp dport 22'
	keys Enter
	poll_until 5000 trace_tables "$SRV" >/dev/null
	expect "$size: the header: the filter, the chain, the count" \
		'^ Trace: proto tcp dport 22  through inet web input  0 of 3 packets'
	before=$(pkts "$H_SSH")
	check_eq "$size: a connection to 22 answered" "$(tcp_conns 1 22)" 1
	after=$(pkts "$H_SSH")
	check_eq "$size: the ssh rule counted the SYN" "$((after - before))" 1
	expect "$size: the count (3) ends the trace" 'trace ended: 3 packets \(its count\)'
	check_eq "$size: ... and its table goes with it" "$(trace_tables "$SRV")" ""
	check_eq "$size: a new trace starts afresh: 3 entries" "$(entries)" 3
	expect "$size: the SYN first, with its flags" "^packet 1 +ip tcp $CLI_IP:[0-9]+ -> $SRV_IP:22 \[S\] iif v0"
	expect "$size: the SYN decided by the ssh rule" "^ > input +inet web input +\[$H_SSH\] tcp dport 22 counter"
	expect "$size: the next packets by the established rule" \
		"^ > input +inet web input +\[$H_EST\] ct state established,related counter"
	keys g Down Enter
	expect "$size: Enter on the step: the ruleset screen" '^ nfpilot .* gen [0-9]+'
	sel=$(selected_row)
	case "$sel" in
	*"tcp dport 22"*) ok "$size: Enter on the SYN's step selects the ssh rule" ;;
	*) not_ok "$size: Enter on the SYN's step selects the ssh rule: selected '$sel'"; show_screen ;;
	esac
	rows=$(rules_rows)
	check "$size: the rules the trace passed through are marked @" \
		sh -c "printf '%s\n' \"\$1\" | grep -qE '^@ +1 .*ct state' && printf '%s\n' \"\$1\" | grep -qE '^@ +3 .*tcp dport 22'" _ "$rows"
	check_eq "$size: ... and no other rule (not the ping's: a new trace)" \
		"$(printf '%s\n' "$rows" | grep -cE '^@')" 2

	# ---- a bad filter: explained, nothing traced
	keys 3 l
	keys $(printf 'Bksp %.0s' $(seq 40))
	typein 'dport abc'
	keys Enter
	expect "$size: a bad filter is explained in the prompt" "'abc': not a port"
	check_eq "$size: ... and no tracing table is made" "$(trace_tables "$SRV")" ""
	keys Esc

	# ---- why: the deciding rule of a packet never sent
	why_ask "tcp $CLI_IP:40000 -> $SRV_IP:22 iif v0"
	expect "$size: w: the answer as a trace entry, titled by the question" \
		"^why tcp $CLI_IP:40000 -> $SRV_IP:22 iif v0 state new$"
	expect "$size: ... asked in a sandbox" '^  asked in a sandbox: in on v0'
	expect "$size: ... decided by the ssh rule" "^  verdict: accept by rule $H_SSH of inet web input"
	why_ask "tcp $CLI_IP:40000 -> $SRV_IP:443 iif v0"
	expect "$size: a later answer: the policy drops 443" "^  verdict: drop by the policy of inet web input; dropped"
	expect "$size: ... answered in ms" 'answered in [0-9.]+ ms'
	keys w
	keys $(printf 'Bksp %.0s' $(seq 60))
	typein 'tcp 1.2.3 -> x'
	keys Enter
	expect "$size: a bad packet is explained, the prompt kept" '^Why: tcp 1\.2\.3 -> x$'
	check "$size: ... with what is wrong" on_screen "'1\.2\.3'"
	keys Esc

	# ---- why while an edit is staged: the ruleset after W
	keys 1 : && typein 4 && keys Enter
	keys A
	typein 'tcp dport 443 accept'
	keys Enter
	wait_for '  \+ +new ' 5 >/dev/null
	why_ask "tcp $CLI_IP:40000 -> $SRV_IP:443 iif v0"
	expect "$size: with an edit staged, why asks the staged ruleset: a new rule accepts" \
		"^  verdict: accept by a new rule of inet web input"
	expect "$size: ... and says so" '^  asked in a sandbox: in on v0; the rules after the staged edits$'
	keys 1 X
	expect "$size: X asks before discarding" 'Discard 1 staged edit\? \[y/N\]'
	keys y
	keys 3 c w Enter
	expect "$size: discarded: the live ruleset again, the policy drops it" \
		"^  verdict: drop by the policy of inet web input; dropped"
	check_eq "$size: nothing was applied: the chain has its 4 rules" \
		"$(srv nft -a list chain inet web input | grep -c 'accept # handle')" 4

	# ---- a staged delete, named by the host's handle: the copy's rule
	keys 1 : && typein 3 && keys Enter
	keys d
	on_screen '\[y/N\]' && keys y
	wait_for '^ *-' 5 >/dev/null
	why_ask "tcp $CLI_IP:40000 -> $SRV_IP:22 iif v0"
	expect "$size: the ssh rule staged for deletion: the policy drops 22" \
		"^  verdict: drop by the policy of inet web input; dropped"
	why_ask "icmp $CLI_IP -> $SRV_IP type echo-request iif v0"
	expect "$size: ... and the rule after it is still there, by its host's handle" \
		"^  verdict: accept by rule $H_ICMP of inet web input"
	keys 1 X
	expect "$size: X asks before discarding the delete" 'Discard 1 staged edit\? \[y/N\]'
	keys y

	# ---- from a connection: its flow
	bg ip netns exec "$CLI" sh -c "sleep 60 | socat - TCP:$SRV_IP:22"
	poll_until 5000 sh -c "ip netns exec $SRV ss -Htn state established '( sport = :22 )' | grep -q ." ||
		not_ok "$size: a connection to 22 for the connection trace"
	# its client's port: the connection to select (older ones may linger)
	CPORT=$(cli ss -Htn state established '( dport = :22 )' | awk '{ split($3, a, ":"); print a[2] }' | head -n 1)
	keys 2
	wait_for "tcp +ESTABLISHED +$CLI_IP:$CPORT +$SRV_IP:22" 5 >/dev/null
	keys '\'
	keys $(printf 'Bksp %.0s' $(seq 40))
	typein "sport $CPORT dport 22"
	keys Enter g w
	expect "$size: w on a connection: its next packet in the prompt" \
		"^Why: tcp $CLI_IP:$CPORT -> $SRV_IP:22 state established$"
	keys Enter
	expect "$size: ... asked with its conntrack entry: the established rule accepts it" \
		"^  verdict: accept by rule $H_EST of inet web input"
	keys 2 g l
	# (at 80 columns the prompt shows its end)
	expect "$size: l on a connection: its flow, both ways" \
		"^Trace \(filter\): .*22 or src $SRV_IP sport 22 dst $CLI_IP dport $CPORT \)$"
	keys Enter
	poll_until 5000 trace_tables "$SRV" >/dev/null
	# another connection to the port is not its flow; the idle one says
	# nothing until its client ends it (FIN, both ways)
	check_eq "$size: another connection to 22" "$(tcp_conns 1 22)" 1
	for p in $(pgrep -f "socat - TCP:$SRV_IP:22"); do kill "$p"; done
	wait_for '^packet 1 +ip tcp' 5 >/dev/null
	check "$size: only the connection's own packets are traced" \
		sh -c "[ -n '$CPORT' ] && ! grep -E '^packet [0-9]+ ' '$DRV/screen' | grep -vqE ' $CLI_IP:$CPORT -> $SRV_IP:22 | $SRV_IP:22 -> $CLI_IP:$CPORT '"
	expect "$size: the connection's end: 3 packets, the count" 'trace ended: 3 packets \(its count\)'
	check_eq "$size: ... each of its flow" "$(entries)" 3
	keys l $(printf 'Bksp %.0s' $(seq 200))
	typein 'dport 9'
	keys Enter
	poll_until 5000 trace_tables "$SRV" >/dev/null
	check "$size: a trace of a quiet port runs" trace_tables "$SRV"
	keys x
	expect "$size: x stops the trace" 'trace ended: 0 packets \(stopped\)'
	check_eq "$size: ... and its table goes" "$(trace_tables "$SRV")" ""
	tui_end
done

# ---- edits staged before a trace still apply: its table is a transaction
# of its own, not a change of the ruleset they were staged on
tui_start NFPILOT_CONFIG="$NFPILOT_CONFIG" -- || bail "the live view did not start"
keys 1 Tab : && typein 4 && keys Enter
keys A
typein 'tcp dport 8080 accept'
keys Enter
wait_for '  \+ +new ' 5 >/dev/null
keys 3 l Enter
poll_until 5000 trace_tables "$SRV" >/dev/null
check "a trace while an edit is staged" trace_tables "$SRV"
check_eq "the tracing table is not in the ruleset screen's tree" \
	"$(keys 1 >/dev/null; screen | grep -c nfpilot_trace_)" 0
keys 3 x 1 W
expect "W asks" 'one transaction'
keys y
wait_for 'probation' 10 >/dev/null
expect_not "the edit staged before the trace is applied, not refused as stale" 'not applied'
check_eq "... the kernel has its rule" "$(srv nft list chain inet web input | grep -c 'tcp dport 8080 ')" 1
keys Y

# ---- the sandbox of the session is made anew when the ruleset moves on;
# a rule the sandbox cannot vouch for is named in the answer
why_ask "tcp $CLI_IP:40000 -> $SRV_IP:22 iif v0"
expect "a first answer in this session" "^  verdict: accept by rule $H_SSH of inet web input"
srv nft -f - <<'EOF' || bail "a second table"
table inet extra {
	chain input {
		type filter hook input priority 10; policy accept;
		fib daddr type local tcp dport 22 counter accept
	}
}
EOF
H_FIB=$(rule_handle "$SRV" inet extra input "fib daddr")
wait_until 5 sh -c "keys 1 >/dev/null; screen | grep -q 'inet extra'"
why_ask "tcp $CLI_IP:40000 -> $SRV_IP:22 iif v0"
expect "the ruleset moved on: the answer has the new table's rule" \
	"^ > input +inet extra input +\[$H_FIB\] fib daddr type local tcp dport 22 counter accept"
expect "... and says why the sandbox may differ there" \
	"^  may differ: rule $H_FIB of inet extra input: fib"

# ---- kill -9 during a trace: the kernel removes the table with the socket
keys 3 l Enter
if poll_until 5000 trace_tables "$SRV" >/dev/null; then
	tui_kill 9 >/dev/null
	if poll_until 2000 sh -c "! ip netns exec $SRV nft list tables | grep -q nfpilot_trace_"; then
		ok "kill -9 during a trace in the live view leaves no table behind"
	else
		not_ok "kill -9 during a trace leaves no table behind: $(trace_tables "$SRV")"
	fi
else
	not_ok "a trace started for the kill test"
	show_screen
fi
tui_stop

# ---- the time bounds a trace too (trace_seconds)
printf 'trace_seconds = 1\n' >"$TEST_TMP/short.conf"
tui_start NFPILOT_CONFIG="$TEST_TMP/short.conf" -- || bail "the live view did not start"
keys 3 l
typein 'dport 9'
keys Enter
expect "trace_seconds ends a quiet trace" 'trace ended: 0 packets \(its time\)' 10
check_eq "... and its table goes" "$(trace_tables "$SRV")" ""
tui_end
finish
