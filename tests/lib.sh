# tests/lib.sh — shared helpers of the integration tests (sourced by bash).
#
# Every test builds its own world: a "server" and a "client" network namespace
# joined by a veth pair, named nfpt-<pid>-... so parallel runs never collide.
# Nothing here touches the root namespace's ruleset: every nft, iptables and
# conntrack command runs through `ip netns exec`.
#
#   server  SRV  v0 10.200.0.1/24, route to 10.200.1.0/24 (management net) via client
#   client  CLI  v0 10.200.0.2/24 and 10.200.1.2/24 (the management address)
#
# Output is TAP-like: "ok - what" / "not ok - what: evidence" / "skip - what:
# reason" (something this machine cannot check: never a pass); tests/run.sh
# counts those lines. Call `finish` at the end of a script.

set -u
: "${NFPILOT:?NFPILOT must name the nfpilot binary}"
export LC_ALL=C

SRV_IP=10.200.0.1
CLI_IP=10.200.0.2
MGMT_IP=10.200.1.2
NS_PREFIX="nfpt-$$"
SRV="$NS_PREFIX-srv"
CLI="$NS_PREFIX-cli"
TEST_TMP=$(mktemp -d "/tmp/nfpt-$$.XXXXXX")
# Every change is on probation (probation/probation.h): the history of each test
# goes to its temp dir, never the machine's /var/lib/nfpilot. The guardians'
# state stays under /run/nfpilot (one folder per namespace, named after it:
# netns-NAME.INODE), removed with the namespace by cleanup.
export NFPILOT_LIB_DIR="$TEST_TMP/lib"
# the prompts' history (ui/prompt.h) too, and readline reads no ~/.inputrc
export XDG_STATE_HOME="$TEST_TMP/state" INPUTRC=/dev/null
RUN_ROOT=${NFPILOT_RUN_DIR:-/run/nfpilot}
TESTS_PASSED=0
TESTS_FAILED=0
TESTS_SKIPPED=0
BG_PIDS=""
MY_NETNS=""

# ---------------------------------------------------------------- assertions

ok() {
	TESTS_PASSED=$((TESTS_PASSED + 1))
	echo "ok - $*"
}

not_ok() {
	TESTS_FAILED=$((TESTS_FAILED + 1))
	echo "not ok - $*"
}

# skip WHAT REASON: WHAT cannot be checked here (a kernel feature or a tool
# this machine lacks); counted apart, never as a pass.
skip() {
	TESTS_SKIPPED=$((TESTS_SKIPPED + 1))
	echo "skip - $1: $2"
}

# check DESC CMD [ARGS...]: ok when CMD succeeds; otherwise not ok with its
# output (first lines) as the evidence.
check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc: exit $rc: $(printf '%s' "$out" | head -c 1500 | tr '\n' '|')"
	fi
}

# check_eq DESC GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1: got '$(printf '%s' "$2" | head -c 600 | tr '\n' '|')', want '$(printf '%s' "$3" | head -c 600 | tr '\n' '|')'"
	fi
}

# check_ge DESC GOT MIN (integers)
check_ge() {
	if [ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null; then
		ok "$1"
	else
		not_ok "$1: got '$2', want >= $3"
	fi
}

# check_rc DESC WANT_RC CMD...: exit code of CMD must be WANT_RC; sets
# RC_OUT (stdout) and RC_ERR (stderr) for further checks.
check_rc() {
	local desc=$1 want=$2 rc
	shift 2
	"$@" >"$TEST_TMP/rc.out" 2>"$TEST_TMP/rc.err"
	rc=$?
	RC_OUT=$(cat "$TEST_TMP/rc.out")
	RC_ERR=$(cat "$TEST_TMP/rc.err")
	if [ "$rc" -eq "$want" ]; then
		ok "$desc (exit $rc)"
	else
		not_ok "$desc: exit $rc, want $want; stderr: $(printf '%s' "$RC_ERR" | head -c 600 | tr '\n' '|'); stdout: $(printf '%s' "$RC_OUT" | head -c 400 | tr '\n' '|')"
	fi
}

# trace_tables NS: the tracing tables nfpilot left in NS (none may outlive
# the nfpilot that made it: the kernel deletes them with its socket).
trace_tables() {
	in_ns "$1" nft list tables 2>/dev/null | grep nfpilot_trace_
}

# rule_packets NS FAMILY TABLE CHAIN HANDLE: the packets counted by that rule
rule_packets() {
	in_ns "$1" nft -j list chain "$2" "$3" "$4" | python3 -c '
import json, sys
h = int(sys.argv[1])
for o in json.load(sys.stdin)["nftables"]:
    r = o.get("rule")
    if r and r["handle"] == h:
        for e in r["expr"]:
            if isinstance(e, dict) and "counter" in e:
                print(e["counter"]["packets"]); sys.exit(0)
print(-1)' "$5"
}
# rule_handle NS FAMILY TABLE CHAIN TEXT: the handle of the rule containing TEXT
rule_handle() {
	in_ns "$1" nft -a list chain "$2" "$3" "$4" | grep -F -- "$5" | sed -n 's/.*# handle \([0-9]*\)$/\1/p' | head -n 1
}
# finish: summary line, exit 1 when anything failed. No test leaves a
# tracing table behind, in its namespaces or the machine's own (only read).
finish() {
	local ns left
	for ns in $MY_NETNS; do
		left=$(trace_tables "$ns")
		[ -n "$left" ] && not_ok "no tracing table left in $ns: $left"
	done
	left=$(nft list tables 2>/dev/null | grep nfpilot_trace_)
	[ -n "$left" ] && not_ok "no tracing table left in the root namespace: $left"
	echo "# $(basename "$0" .sh): $TESTS_PASSED passed, $TESTS_FAILED failed, $TESTS_SKIPPED skipped"
	[ "$TESTS_FAILED" -eq 0 ] && exit 0
	exit 1
}

# bail DESC: a setup step failed, nothing more can be checked.
bail() {
	not_ok "setup: $*"
	finish
}

# ---------------------------------------------------------------- namespaces

# in NS CMD...: run CMD inside namespace NS.
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
srv() { ip netns exec "$SRV" "$@"; }
cli() { ip netns exec "$CLI" "$@"; }

# nfp ARGS...: the binary under test, inside the server namespace.
nfp() { "$NFPILOT" -N "$SRV" "$@"; }

# answer WORD CMD...: run CMD with WORD as the answer to the probation's
# question ("Keep this change?"). setsid: no controlling terminal, so it
# reads stdin even when the tests run on a terminal (and a background
# process group never stops on reading /dev/tty). Exit status of CMD.
answer() {
	local word=$1
	shift
	printf '%s\n' "$word" | setsid -w "$@"
}
# nfp_yes ARGS...: nfp, its change confirmed on the terminal.
nfp_yes() { answer yes "$NFPILOT" -N "$SRV" "$@"; }

# guardian_pids NS: the guardian processes keeping a probation of NS.
guardian_pids() {
	local p cmd
	for p in $(ip netns pids "$1" 2>/dev/null); do
		cmd=$({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null)
		case "$cmd" in "nfpilot guardian $RUN_ROOT/netns-$1."*) echo "$p" ;; esac
	done
}

# end_probation NS: no guardian of NS outlives the test: killed (the
# namespace goes, there is nothing to restore), its run folder removed.
end_probation() {
	local p d
	for p in $(guardian_pids "$1"); do
		kill -9 "$p" 2>/dev/null
	done
	for d in "$RUN_ROOT/netns-$1."*; do
		[ -d "$d" ] && rm -rf "$d"
	done
}

cleanup() {
	local p ns
	trap - EXIT INT TERM
	for p in $BG_PIDS; do
		kill "$p" 2>/dev/null
	done
	for ns in $MY_NETNS; do
		end_probation "$ns"
	done
	for ns in $MY_NETNS; do
		# processes we started inside our own namespaces (socat children)
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$p" 2>/dev/null
		done
	done
	sleep 0.1
	for ns in $MY_NETNS; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		end_probation "$ns"
	done
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# ns_add NAME: a fresh namespace, lo up, IPv6 off (no stray ND/MLD packets
# in the counters), removed on exit.
ns_add() {
	ip netns add "$1" || return 1
	MY_NETNS="$MY_NETNS $1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	ip -n "$1" link set lo up
}

# setup_net: server and client namespaces joined by a veth pair.
setup_net() {
	ns_add "$SRV" || bail "ip netns add $SRV"
	ns_add "$CLI" || bail "ip netns add $CLI"
	ip -n "$SRV" link add v0 type veth peer name v0 netns "$CLI" || bail "veth pair"
	ip -n "$SRV" addr add "$SRV_IP/24" dev v0
	ip -n "$CLI" addr add "$CLI_IP/24" dev v0
	ip -n "$CLI" addr add "$MGMT_IP/24" dev v0
	ip -n "$SRV" link set v0 up
	ip -n "$CLI" link set v0 up
	ip -n "$SRV" route add 10.200.1.0/24 via "$CLI_IP" dev v0
	# the server may forward (DNAT/SNAT tests), the client answers on both nets
	srv sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	local i
	for i in $(seq 50); do
		cli ping -c 1 -W 1 -q "$SRV_IP" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	bail "no connectivity between $CLI and $SRV"
}

# bg CMD...: start CMD in the background, killed on exit.
bg() {
	"$@" &
	BG_PIDS="$BG_PIDS $!"
}

# wait_port NS PROTO PORT: until something listens there (max ~5 s).
wait_port() {
	local i
	for i in $(seq 50); do
		if [ "$2" = tcp ]; then
			in_ns "$1" ss -Hltn "sport = :$3" | grep -q . && return 0
		else
			in_ns "$1" ss -Hlun "sport = :$3" | grep -q . && return 0
		fi
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- TUI tests
# Shared by tests/tui_lib.sh (the driver) and tests/tmux_lib.sh, each of
# which defines screen and wait_for.

# show_screen: the last screen and nfpilot's stderr as "# " lines
show_screen() {
	echo "# ---- screen:"
	screen | sed 's/^/# |/'
	if [ -s "$TEST_TMP/tui.err" ]; then
		echo "# ---- nfpilot stderr:"
		head -c 3000 "$TEST_TMP/tui.err" | sed 's/^/# /'
	fi
}

# expect DESC ERE [SECS]: ok when the screen shows ERE in time
expect() {
	if wait_for "$2" "${3:-5}"; then ok "$1"; else not_ok "$1: /$2/ not on screen"; fi
}

# ---------------------------------------------------------------- sshd
# A private OpenSSH server in a test namespace (never the machine's sshd or
# /etc/ssh): its config, host key and authorized_keys in a folder of the
# test's temp dir; root logs in with a test key (probation_ssh, ansible).
SSHD=$(command -v sshd || echo /usr/sbin/sshd)

# ssh_keys DIR: DIR (0700) with a host key, an admin key and its
# authorized_keys; sshd's privilege separation folder (Debian's tmpfiles
# would make it at boot)
ssh_keys() {
	mkdir -p "$1" && chmod 700 "$1" &&
		ssh-keygen -q -t ed25519 -N '' -C nfpilot-test-host -f "$1/host_key" &&
		ssh-keygen -q -t ed25519 -N '' -C nfpilot-test-admin -f "$1/admin_key" &&
		cp "$1/admin_key.pub" "$1/authorized_keys" && chmod 600 "$1/authorized_keys" &&
		{ [ -d /run/sshd ] || mkdir -m 0755 /run/sshd; }
}

# sshd_start DIR NAME NS IP [CONFIG LINE...]: sshd in NS on IP:22 with
# DIR's keys (DIR/NAME.conf, .pid, .log), the lines added to its config;
# checked with sshd -t first, back once it listens. 1 (said why) if not.
sshd_start() {
	local d=$1 name=$2 ns=$3 ip=$4
	shift 4
	printf '%s\n' "ListenAddress $ip:22" "HostKey $d/host_key" "PidFile $d/$name.pid" \
		"AuthorizedKeysFile $d/authorized_keys" "PermitRootLogin prohibit-password" \
		"PubkeyAuthentication yes" "PasswordAuthentication no" \
		"KbdInteractiveAuthentication no" "UsePAM no" "StrictModes no" "PrintMotd no" \
		"X11Forwarding no" "$@" >"$d/$name.conf"
	if ! in_ns "$ns" "$SSHD" -t -f "$d/$name.conf"; then
		echo "# sshd -t: $d/$name.conf is refused"
		return 1
	fi
	bg ip netns exec "$ns" "$SSHD" -D -f "$d/$name.conf" -E "$d/$name.log"
	wait_port "$ns" tcp 22 && return 0
	echo "# sshd does not listen on $ip:22: $(tail -n 5 "$d/$name.log")"
	return 1
}

# ssh_login DIR ARGS...: ssh from the client namespace with DIR's admin key
ssh_login() {
	local d=$1
	shift
	cli ssh -F /dev/null -i "$d/admin_key" -o IdentitiesOnly=yes -o IdentityAgent=none \
		-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o ConnectTimeout=3 -o LogLevel=ERROR "$@"
}

# start_servers [NS]: TCP listeners on 22 80 443 8080 that read one line and
# answer "port<N> <line>"; a UDP echo on 53. In the server namespace by default.
start_servers() {
	local ns=${1:-$SRV} p
	for p in 22 80 443 8080; do
		bg ip netns exec "$ns" socat -T 5 "TCP-LISTEN:$p,reuseaddr,fork" \
			"SYSTEM:read l; echo port$p \$l" 2>/dev/null
	done
	bg ip netns exec "$ns" socat -T 1 "UDP-RECVFROM:53,reuseaddr,fork" EXEC:cat 2>/dev/null
	for p in 22 80 443 8080; do
		wait_port "$ns" tcp "$p" || bail "socat server on tcp $p in $ns"
	done
	wait_port "$ns" udp 53 || bail "socat server on udp 53 in $ns"
}

# port_forward TABLE: in table inet TABLE of the server, tcp 8888 forwarded
# to the client's management address, port 9100 (DNAT), masqueraded on the
# way (so the answers come back through the server): a forwarded
# connection with both NATs.
port_forward() {
	srv nft -f - <<EOF || bail "nft -f port forward"
table inet $1 {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 8888 dnat ip to $MGMT_IP:9100
	}
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		ip daddr 10.200.1.0/24 oif "v0" masquerade
	}
}
EOF
}

# ipv6_on: IPv6 on the veth pair, the server 2001:db8:200::1/64, the
# client ::2 (no duplicate address detection: usable at once).
ipv6_on() {
	srv sysctl -qw net.ipv6.conf.v0.disable_ipv6=0
	cli sysctl -qw net.ipv6.conf.v0.disable_ipv6=0
	ip -n "$SRV" addr add 2001:db8:200::1/64 dev v0 nodad
	ip -n "$CLI" addr add 2001:db8:200::2/64 dev v0 nodad
}

# Long-lived connections, each tried again on request (ct_kill, ct_stale):
# echo_server NS ADDR PORT LOG: tests/tools/echo_server.py in the background,
# which logs "closed PEERPORT why" when a connection ends.
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/tools" && pwd)
echo_server() {
	touch "$4"
	bg ip netns exec "$1" python3 "$TOOLS/echo_server.py" "$2" "$3" "$4"
	wait_port "$1" tcp "$3" || bail "echo server on $2:$3 in $1"
}
# start_client NS HOST PORT N DIR: background client, waits for its ports
start_client() {
	mkdir -p "$5"
	bg ip netns exec "$1" python3 "$TOOLS/echo_client.py" "$2" "$3" "$4" "$5"
	poll_until 5000 test -s "$5/ports" || bail "client $1 -> $2:$3 did not connect"
}
# round DIR K: let the client try every connection once more; prints results
round() {
	touch "$1/go.$2"
	poll_until 5000 test -s "$1/result.$2"
	cat "$1/result.$2"
}
# res RESULTS PORT: the result of one connection
res() { printf '%s\n' "$1" | awk -v p="$2" '$1 == p {print $2}'; }
# closed LOG PORT: why the server's end of PORT closed (waits up to 2 s)
closed() {
	poll_until 2000 grep -qs "^closed $2 " "$1"
	awk -v p="$2" '$1 == "closed" && $2 == p {print $3}' "$1"
}


# tcp_conns N PORT [SRCADDR [DST]]: N TCP connections from the client that send a
# line and read the answer. Prints how many got an answer.
tcp_conns() {
	local n=$1 port=$2 src=${3:-} dst=${4:-$SRV_IP} i good=0 bind="" reply
	[ -n "$src" ] && bind=",bind=$src"
	for i in $(seq "$n"); do
		reply=$(echo "hello$i" | cli socat -T 2 - \
			"TCP:$dst:$port,connect-timeout=1$bind" 2>/dev/null)
		# "port<N> hello<i>"; through a port forward N is the real port
		case "$reply" in "port"*" hello$i") good=$((good + 1)) ;; esac
	done
	echo "$good"
}

# tcp_blocked N PORT: N connection attempts expected to fail (dropped SYNs,
# 1 s connect timeout). Prints how many got an answer (should be 0).
tcp_blocked() {
	local n=$1 port=$2 i good=0 reply
	for i in $(seq "$n"); do
		reply=$(echo "x" | cli timeout 3 socat -T 1 - \
			"TCP:$SRV_IP:$port,connect-timeout=0.5" 2>/dev/null)
		[ -n "$reply" ] && good=$((good + 1))
	done
	echo "$good"
}

# udp_send N PORT: N datagrams to the server, each answered by the echo.
# Prints how many answers came back.
udp_send() {
	local n=$1 port=$2 i good=0 reply
	for i in $(seq "$n"); do
		reply=$(echo "dns$i" | cli timeout 3 socat -T 0.5 - "UDP:$SRV_IP:$port" 2>/dev/null)
		[ "$reply" = "dns$i" ] && good=$((good + 1))
	done
	echo "$good"
}

# ping_n N [SRCADDR]: N echo requests from the client; prints replies received.
ping_n() {
	local n=$1 src=${2:-} out
	if [ -n "$src" ]; then
		out=$(cli ping -n -q -c "$n" -i 0.05 -W 1 -I "$src" "$SRV_IP" 2>&1)
	else
		out=$(cli ping -n -q -c "$n" -i 0.05 -W 1 "$SRV_IP" 2>&1)
	fi
	printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

# quiesce: let the last FINs, retransmissions and UDP echo children finish.
quiesce() {
	sleep "${1:-1}"
}

# ---------------------------------------------------------------- waiting

# ms: now, in milliseconds.
ms() { date +%s%3N; }

# poll_until MS CMD...: run CMD every 0.1 s until it succeeds (0) or MS
# milliseconds passed (1). For a condition, never a fixed sleep.
poll_until() {
	local end=$(( $(ms) + $1 ))
	shift
	until "$@"; do
		[ "$(ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
	return 0
}

# st KEY: a field of nfpilot status (in the server namespace)
st() { nfp status 2>/dev/null | sed -n "s/^$1: //p" | head -n 1; }

# over [MS]: no probation in the server namespace (status says none, and no
# guardian process of it is left).
# (a guardian that has answered may still write the history's tables: it
# is waited for, a little: MS, 5000 unless told, longer for a big table)
over() {
	poll_until "${1:-5000}" eval '[ "$(nfp status 2>/dev/null)" = "probation: none" ] &&
		[ -z "$(guardian_pids "$SRV")" ]' && return 0
	# what is left, for the failure's line
	echo "status: $(nfp status 2>&1 | tr '\n' '|') guardians: $(guardian_pids "$SRV" | tr '\n' ' ')"
	return 1
}

# ---------------------------------------------------------------- JSON helpers

# json_get FILE PY-EXPR: evaluate a python expression over the parsed JSON
# (bound to `d`); prints the result (lists/dicts as JSON).
json_get() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
def rules(d, fam=None, table=None, chain=None):
    for t in d["tables"]:
        if fam and t["family"] != fam: continue
        if table and t["name"] != table: continue
        for c in t["chains"]:
            if chain and c["name"] != chain: continue
            for r in c["rules"]:
                yield t, c, r
v = eval(sys.argv[2])
print(v if isinstance(v, (str, int)) else json.dumps(v))
EOF
}

# compare_counters NS DESC: nfpilot's counters of every rule in NS against
# nft's (same namespace, taken right after). Retries a few times in case a
# late packet arrived between the two reads. One ok/not ok line.
compare_counters() {
	local ns=$1 desc=$2 try out
	for try in 1 2 3; do
		"$NFPILOT" -N "$ns" list --json >"$TEST_TMP/cmp.nfp" 2>"$TEST_TMP/cmp.err" || {
			not_ok "$desc: nfpilot -N $ns list --json failed: $(head -c 400 "$TEST_TMP/cmp.err")"
			return 1
		}
		in_ns "$ns" nft -j list ruleset >"$TEST_TMP/cmp.nft" 2>&1
		if out=$(python3 -c "$COMPARE_PY" "$TEST_TMP/cmp.nfp" "$TEST_TMP/cmp.nft" 2>&1); then
			ok "$desc ($out)"
			return 0
		fi
		sleep 1
	done
	not_ok "$desc: $(printf '%s' "$out" | head -c 2000 | tr '\n' '|')"
	return 1
}

# nfpilot --json (argv[1]) against `nft -j list ruleset` (argv[2]): the same
# rules by (family, table, chain, handle), the same packets and bytes for every
# rule with a counter, no counter where nft has none, the same named sets,
# "compat" exactly where nft shows xt expressions, nft's native comments.
# Prints a summary; exit 1 and the differences otherwise.
COMPARE_PY='
import json, sys
nfp = json.load(open(sys.argv[1]))
nft = json.load(open(sys.argv[2]))["nftables"]
def counter_of(exprs):
    for e in exprs:
        if isinstance(e, dict) and "counter" in e and isinstance(e["counter"], dict) \
           and "packets" in e["counter"]:
            return (e["counter"]["packets"], e["counter"]["bytes"])
    return None
want, want_sets, want_compat, want_comment = {}, set(), {}, {}
for o in nft:
    if "rule" in o:
        r = o["rule"]
        k = (r["family"], r["table"], r["chain"], r["handle"])
        want[k] = counter_of(r.get("expr", []))
        want_compat[k] = any(isinstance(e, dict) and "xt" in e for e in r.get("expr", []))
        if "comment" in r:
            want_comment[k] = r["comment"]
    elif "set" in o or "map" in o:
        s = o.get("set") or o.get("map")
        want_sets.add((s["family"], s["table"], s["name"]))
got, got_sets, dup = {}, set(), []
for t in nfp["tables"]:
    for c in t["chains"]:
        for r in c["rules"]:
            k = (t["family"], t["name"], c["name"], r["handle"])
            if k in got:
                dup.append("rule listed twice: %s" % (k,))
            got[k] = None if r["packets"] is None else (r["packets"], r["bytes"])
            if k in want_compat and r["compat"] != want_compat[k]:
                dup.append("%s: compat %s, nft has xt expressions: %s" % (k, r["compat"], want_compat[k]))
            if k in want_comment and r["comment"] != want_comment[k]:
                dup.append("%s: comment %r, nft %r" % (k, r["comment"], want_comment[k]))
    for s in t.get("sets", []):
        if not s["name"].startswith("__"):
            got_sets.add((t["family"], t["name"], s["name"]))
bad = dup[:20]
for k in sorted(set(want) - set(got), key=str):
    bad.append("missing in nfpilot: %s" % (k,))
for k in sorted(set(got) - set(want), key=str):
    bad.append("not in nft: %s" % (k,))
withc = 0
for k in sorted(set(got) & set(want), key=str):
    if want[k] is not None:
        withc += 1
    if got[k] != want[k]:
        bad.append("%s: nfpilot %s, nft %s" % (k, got[k], want[k]))
if got_sets != want_sets:
    bad.append("sets: nfpilot %s, nft %s" % (sorted(got_sets), sorted(want_sets)))
if not want:
    bad.append("nft lists no rules at all")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("%d rules, %d with counters, %d packets in all, %d sets" % (len(want), withc,
      sum(v[0] for v in want.values() if v), len(want_sets)))
'

# compare_text NS DESC: the text of every rule equals nft -a -s's, by
# (family, table, chain, handle), in nfpilot's JSON and plain listings
# (tests/corpus/listing.py: rules nft prints on several lines included).
compare_text() {
	local ns=$1 desc=$2 out
	"$NFPILOT" -N "$ns" list --json >"$TEST_TMP/txt.nfp" 2>"$TEST_TMP/txt.err" &&
		"$NFPILOT" -N "$ns" list -x >"$TEST_TMP/txt.plain" 2>>"$TEST_TMP/txt.err" || {
		not_ok "$desc: nfpilot -N $ns list failed: $(head -c 400 "$TEST_TMP/txt.err")"
		return 1
	}
	in_ns "$ns" nft -a -s list ruleset >"$TEST_TMP/txt.nft" 2>/dev/null
	if out=$(python3 "$(dirname "${BASH_SOURCE[0]}")/corpus/listing.py" "$TEST_TMP/txt.nfp" \
		 "$TEST_TMP/txt.plain" "$TEST_TMP/txt.nft" 2>&1); then
		ok "$desc ($out)"
	else
		not_ok "$desc: $(printf '%s' "$out" | head -c 2000 | tr '\n' '|')"
	fi
}
