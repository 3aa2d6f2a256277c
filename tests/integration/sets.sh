#!/bin/bash
# Sets and maps (cli/set.c): `set list` equals `nft list set` element for
# element — plain, interval, concatenated, typeof, map, vmap, IPv6, and
# dynamic sets filled by the kernel (a meter and `update @s` while a
# client is being rate-limited) —; `set test` finds the element holding
# an address or says it is not in (exit 1); element edits (IPv4, IPv6,
# ranges, concatenations, a flush) go in on probation and, at the
# deadline or on rollback, the sets come back exactly as they were (with
# comments, timeouts and counters); bad elements are refused with nft's
# message and nothing changes.
. "$(dirname "$0")/../lib.sh"

setup_net

cat >"$TEST_TMP/sets.nft" <<'EOF'
table inet fw {
	set plain {
		type ipv4_addr
		elements = { 10.1.1.1, 10.1.1.2, 192.0.2.7 }
	}
	set block {
		type ipv4_addr
		flags interval,timeout
		counter
		timeout 1h
		elements = { 198.18.0.0/15, 203.0.113.10-203.0.113.20 comment "lab", 192.0.2.1 timeout 2h,
			     198.51.100.1, 10.200.0.0/24 comment "the client" }
	}
	set svc {
		type ipv4_addr . inet_service
		flags interval
		elements = { 10.0.0.0/8 . 22-25, 192.168.1.1 . 80 }
	}
	set typed {
		typeof ip saddr . tcp dport
		elements = { 10.9.9.9 . 443, 10.9.9.8 . 22 }
	}
	set six {
		type ipv6_addr
		flags interval
		elements = { 2001:db8::/32, fe80::1-fe80::9, ::1 }
	}
	set ports {
		type inet_service
		elements = { 22, 80, 443 }
	}
	set macs {
		type ether_addr
		elements = { 02:00:00:00:00:01 }
	}
	set marks {
		type mark
		flags interval
		elements = { 0x1-0x5, 0x10 }
	}
	set protos {
		type inet_proto
		elements = { tcp, udp, 47 }
	}
	set ifaces {
		type ifname
		elements = { "eth0", "lo" }
	}
	set states {
		type ct_state
		elements = { established, related, new }
	}
	set portranges {
		type inet_service
		flags interval
		elements = { 1000-2000, 22 }
	}
	set markaddr {
		typeof meta mark . ip saddr
		elements = { 0x1 . 1.2.3.4 }
	}
	counter c1 {
	}
	map objmap {
		type ipv4_addr : counter
		elements = { 10.5.0.1 : "c1" }
	}
	map rangemap {
		type ipv4_addr : ipv4_addr
		flags interval
		elements = { 10.0.0.0/8 : 192.0.2.1 }
	}
	map natmap {
		type ipv4_addr : ipv4_addr . inet_service
		elements = { 10.2.2.2 : 192.168.9.9 . 8080 }
	}
	map markmap {
		type ipv4_addr : mark
		elements = { 10.3.3.3 : 0x00000010 }
	}
	map actions {
		type ipv4_addr : verdict
		elements = { 10.4.4.4 : accept, 10.4.4.5 : drop, 10.4.4.6 : jump extra }
	}
	set dyn {
		type ipv4_addr
		size 1024
		flags dynamic,timeout
		timeout 5m
	}
	chain extra {
	}
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr @block counter
		tcp dport 8080 meter flood { ip saddr limit rate 2/minute } counter accept
		tcp dport 22 update @dyn { ip saddr }
	}
}
EOF
srv nft -f "$TEST_TMP/sets.nft" || bail "the sets do not load"
start_servers
# the client is limited: the meter and @dyn fill with its address
tcp_conns 5 8080 >/dev/null
tcp_conns 2 22 >/dev/null

# elems: the elements of an `nft list set|map|meter` listing on stdin, one a
# line, sorted, each expiry's value left out (it counts down)
elems() {
	python3 -c '
import re, sys
t = sys.stdin.read()
m = re.search(r"elements = \{(.*?)\}\s*\n\s*\}", t, re.S)
out, cur, q = [], "", False
for ch in (m.group(1) if m else ""):
	if ch == "\"":
		q = not q
	if ch == "," and not q:
		out.append(cur); cur = ""
	else:
		cur += ch
if cur.strip():
	out.append(cur)
for e in sorted(" ".join(x.split()) for x in out):
	print(re.sub(r"expires [0-9dhms]+", "expires *", e))
'
}
mine() { nfp set list "$@" | sed -E 's/expires [0-9dhms]+/expires */' | sort; }

for s in "set inet fw plain" "set inet fw block" "set inet fw svc" "set inet fw typed" \
	"set inet fw six" "set inet fw ports" "set inet fw macs" "set inet fw marks" \
	"set inet fw protos" "set inet fw ifaces" "set inet fw states" "set inet fw portranges" \
	"set inet fw markaddr" "map inet fw rangemap" "map inet fw objmap" "map inet fw natmap" \
	"map inet fw markmap" "map inet fw actions" "set inet fw dyn" "meter inet fw flood"; do
	set -- $s
	want=$(srv nft list "$1" "$2" "$3" "$4" | elems)
	got=$(mine "$2" "$3" "$4")
	if [ -z "$want" ]; then
		not_ok "set list $4: nft lists no elements (the fixture is wrong)"
		continue
	fi
	check_eq "set list $4 equals nft list $1 ($(printf '%s\n' "$want" | wc -l) elements)" "$got" "$want"
done
# as many elements as nft -j has, and the same counters
srv nft -j list set inet fw block >"$TEST_TMP/block.nft.json"
check_ge "the client's element counts its packets" "$(nfp set list inet fw block --json | python3 -c 'import json,sys; print([e["packets"] for e in json.load(sys.stdin)["elements"] if e["key"] == "10.200.0.0/24"][0])')" 5
check_eq "set list block: as many elements and packets as nft -j" \
	"$(nfp set list inet fw block --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["elements"]), sum(e.get("packets", 0) for e in d["elements"]))')" \
	"$(json_get "$TEST_TMP/block.nft.json" "' '.join(str(x) for x in (len([e for e in d['nftables'][1]['set']['elem']]), sum(e['elem'].get('counter', {}).get('packets', 0) for e in d['nftables'][1]['set']['elem'] if isinstance(e, dict) and 'elem' in e)))")"
# the dynamic ones hold the client: who is being limited right now
check "the meter holds the limited client" sh -c "$NFPILOT -N $SRV set list inet fw flood | grep -q '^$CLI_IP limit rate 2/minute'"
check "@dyn holds the client, with its expiry" sh -c "$NFPILOT -N $SRV set list fw dyn | grep -q '^$CLI_IP expires [0-9]'"

# JSON: parses, one object an element, keys and data apart
nfp set list inet fw actions --json >"$TEST_TMP/act.json"
check_eq "set list --json: keys and verdicts" \
	"$(json_get "$TEST_TMP/act.json" "sorted((e['key'], e['data']) for e in d['elements'])")" \
	'[["10.4.4.4", "accept"], ["10.4.4.5", "drop"], ["10.4.4.6", "jump extra"]]'

# ---- set test: the element holding a key
check_out() { # DESC WANT-RC WANT-OUT ARGS...
	local desc=$1 rc=$2 want=$3 out got
	shift 3
	out=$(nfp set test "$@" 2>&1)
	got=$?
	out=$(printf '%s' "$out" | sed -E 's/expires [0-9dhms]+/expires */g')
	check_eq "$desc" "$got $out" "$rc $want"
}
check_out "set test: the prefix holding an address" 0 \
	"198.18.0.0/15 counter packets 0 bytes 0 expires *" inet fw block 198.19.255.255
check_out "set test: the range holding an address" 0 \
	'203.0.113.10-203.0.113.20 counter packets 0 bytes 0 expires * comment "lab"' fw block 203.0.113.15
check_out "set test: an address in no range" 1 "not in inet fw block" inet fw block 203.0.113.21
check_out "set test: a concatenation inside its ranges" 0 "10.0.0.0/8 . 22-25" inet fw svc 10.20.30.40 . 24
check_out "set test: a concatenation outside them" 1 "not in inet fw svc" inet fw svc 10.20.30.40 . 26
check_out "set test: IPv6" 0 "fe80::1-fe80::9" inet fw six fe80::5
check_out "set test: a map's key" 0 "10.4.4.6 : jump extra" inet fw actions 10.4.4.6
check_out "set test: a plain set, exact" 1 "not in inet fw plain" inet fw plain 10.1.1.3
check_rc "set test: a bad address is a usage error" 2 nfp set test inet fw block 10.1.1
case "$RC_ERR" in
*"syntax error"*10.1.1*) ok "set test: nft's message, aimed at the text typed" ;;
*) not_ok "set test: the message: $RC_ERR" ;;
esac

# ---- edits on probation, undone at the deadline
state() {
	local s
	for s in plain block svc six actions ports; do
		echo "== $s"
		srv nft list set inet fw "$s" 2>/dev/null || srv nft list map inet fw "$s"
	done | sed -E 's/expires [0-9dhms]+/expires */g'
}
BEFORE=$(state)

check "set add: IPv4, a prefix, a range, with timeout and comment" \
	nfp set add inet fw block 10.7.0.1 10.8.0.0/16 10.9.0.1-10.9.0.5 \
	'10.6.0.1 timeout 10m comment "new"' --timeout 15 --detach
check_out "the added range is in" 0 "10.9.0.1-10.9.0.5 counter packets 0 bytes 0 expires *" \
	inet fw block 10.9.0.3
check "set del: a range and a prefix that were there, with their comment" \
	nfp set del inet fw block 203.0.113.10-203.0.113.20 198.18.0.0/15 --detach
check "set add: IPv6 (joins the probation)" nfp set add inet fw six 2001:db9::1 fd00::/8 --detach
check "set del: a concatenation" nfp set del inet fw svc '192.168.1.1 . 80' --detach
check "set add: a concatenation of ranges" nfp set add fw svc '172.16.0.0/12 . 1000-2000' --detach
check "set add: a map's verdicts" nfp set add inet fw actions '10.4.4.7 : drop' '10.4.4.8 : goto extra' --detach
printf '# a file of elements\n10.1.1.9\n\n10.1.1.10\n' >"$TEST_TMP/elems.txt"
check "set add --file" nfp set add inet fw plain --file "$TEST_TMP/elems.txt" --detach
check "set flush" nfp set flush inet fw ports --detach
check_eq "set flush: the set is empty" "$(nfp set list inet fw ports)" ""
check "the changes are in" sh -c "$NFPILOT -N $SRV set list inet fw plain | grep -qx 10.1.1.10"
DURING=$(state)
[ "$DURING" != "$BEFORE" ] && ok "the sets changed" || not_ok "the sets did not change"
if poll_until 40000 over; then
	check_eq "at the deadline every set is back exactly (elements, comments, timeouts)" \
		"$(state)" "$BEFORE"
	# put back, an element expires when it would have: as one of the same
	# age that stayed, not the probation's 15 s later
	nfp set list inet fw block --json >"$TEST_TMP/block.json"
	late=$(json_get "$TEST_TMP/block.json" \
		"[e['expires_ms'] for e in d['elements'] if e['key'] == '198.18.0.0/15'][0] - [e['expires_ms'] for e in d['elements'] if e['key'] == '198.51.100.1'][0]")
	if [ -n "$late" ] && [ "$late" -lt 2000 ]; then
		ok "an element put back expires when it would have (${late} ms after one that stayed)"
	else
		not_ok "an element put back expires later than it would have: by '$late' ms"
	fi
else
	not_ok "the probation did not end by its deadline"
fi

# ---- rollback of an edit of a set with counters: the counters come back
srv nft add element inet fw block '{ 10.5.5.5 counter packets 7 bytes 700 }' 2>/dev/null ||
	srv nft add element inet fw block '{ 10.5.5.5 }'
BEFORE=$(state)
check "set del of an element with a counter" nfp set del inet fw block 10.5.5.5 --timeout 30 --detach
check "rollback" nfp rollback
check_eq "rollback: back as it was, its counter too" "$(state)" "$BEFORE"

# ---- bad input changes nothing
BEFORE=$(state)
check_rc "set add: a bad element is refused" 2 nfp set add inet fw block 10.1.1.1 300.1.1.1 --detach
case "$RC_ERR" in
*"300.1.1.1"*) ok "set add: the message names the bad element" ;;
*) not_ok "set add: the message: $RC_ERR" ;;
esac
check_rc "set add: text that would end the command is refused" 2 nfp set add inet fw plain \
	'10.1.1.5 }; flush ruleset; add element inet fw plain { 10.1.1.6' --detach
check_rc "set add: a brace in a quoted comment is no command's end" 0 nfp set add inet fw plain \
	'10.1.1.7 comment "a } b"' --timeout 10 --detach
check "... and it is rolled back" nfp rollback
check_rc "set add: an element in a range already is refused" 1 nfp set add inet fw block 198.18.1.1 --detach
case "$RC_ERR" in
*overlaps*) ok "set add: the overlap said as such" ;;
*) not_ok "set add: the overlap message: $RC_ERR" ;;
esac
check_rc "set del: an element not in the set is refused" 3 nfp set del inet fw plain 10.1.1.77 --detach
check_rc "set add: no such set" 3 nfp set add inet fw nope 10.1.1.1 --detach
check_rc "set list: no such table" 3 nfp set list inet nope plain
check_eq "nothing changed" "$(state)" "$BEFORE"
check "no probation left" over

finish
