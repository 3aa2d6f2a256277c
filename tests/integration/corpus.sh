#!/bin/bash
# The feature corpus (issue 10): every case of tests/corpus/nft/*.nft (nft -f
# input) and tests/corpus/iptables/NAME.rules[6] (iptables-restore and
# ip6tables-restore input), each in a fresh namespace of its own:
#
#   load  it loads (a case this kernel cannot load is a skip with the reason
#         its header gives: "kernel: CONFIG_X", "refused-by-kernel: WHY",
#         "needs-cmd: TOOL"; any other refusal is a failure); an iptables
#         case lists in iptables-save exactly as written, with no warning
#   (b)   nfpilot list --json and list equal nft -a -s (table by table) rule by rule
#         (tests/corpus/listing.py; rules nft prints on several lines, chain
#         bindings, are expected in nft's one-line form)
#   (c)   `flush ruleset` applied on probation, then `nfpilot rollback`:
#         nft -s list ruleset identical, table order included (and
#         iptables-save/ip6tables-save identical for the iptables cases)
#   (d)   one more rule (or chain) in every table applied with --timeout 10
#         and left to its deadline: identical again. The deadlines of all
#         cases run out together: one wait, polling every namespace's status.
#
# Namespaces get veth pairs d0-d1 and d2-d3 (this kernel has no dummy
# driver), up, 10.99.N.1/24 (and fd00:99:N::1/64 for "needs: ipv6" cases;
# IPv6 stays off otherwise), named $NS_PREFIX-N (CORPUS_NS_PREFIX=P: P-N).
# CORPUS=GLOB picks cases by name, e.g. CORPUS='nft/dynset-*' or
# CORPUS='iptables/*'.
. "$(dirname "$0")/../lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS_DIR=$TOP/tests/corpus
LISTING=$CORPUS_DIR/listing.py
PICK=${CORPUS:-*}
PREFIX=${CORPUS_NS_PREFIX:-$NS_PREFIX}


# meta FILE KEY: the value of the header line "# KEY: value" (first one)
meta() { sed -n "s/^# $2: //p" "$1" | head -n 1; }

# evidence TEXT: the details of a not ok, as TAP comment lines
evidence() { printf '%s\n' "$1" | head -n "${2:-40}" | sed 's/^/#   /'; }

kernel_config() {
	if [ -r /proc/config.gz ]; then
		zcat /proc/config.gz
	elif [ -r "/boot/config-$(uname -r)" ]; then
		cat "/boot/config-$(uname -r)"
	fi
}
KCONFIG=$(kernel_config)

# ---------------------------------------------------------------- one case

# case_files KIND NAME: the files of a case (iptables: .rules and .rules6)
case_files() {
	if [ "$1" = nft ]; then
		echo "$CORPUS_DIR/nft/$2.nft"
	else
		local f
		for f in "$CORPUS_DIR/iptables/$2.rules" "$CORPUS_DIR/iptables/$2.rules6"; do
			[ -e "$f" ] && echo "$f"
		done
	fi
}

# header_of KIND NAME KEY: the first value of KEY in any of the case's files
header_of() {
	local f v
	for f in $(case_files "$1" "$2"); do
		v=$(meta "$f" "$3")
		[ -n "$v" ] && { echo "$v"; return; }
	done
}

# make_ns NS IPV6: the case's namespace with its devices
make_ns() {
	local ns=$1 v6=$2 i
	ns_add "$ns" || return 1
	if [ "$v6" = yes ]; then
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
			net.ipv6.conf.default.disable_ipv6=0 >/dev/null
	fi
	ip -n "$ns" link add d0 type veth peer name d1 || return 1
	ip -n "$ns" link add d2 type veth peer name d3 || return 1
	for i in 0 1 2 3; do
		ip -n "$ns" addr add "10.99.$i.1/24" dev "d$i"
		[ "$v6" = yes ] && ip -n "$ns" addr add "fd00:99:$i::1/64" dev "d$i" nodad
		ip -n "$ns" link set "d$i" up
	done
	return 0
}

# load KIND NAME NS: load the case; its errors on stdout
load() {
	local f rc=0 line
	for f in $(case_files "$1" "$2"); do
		case "$f" in
		*.nft) in_ns "$3" nft -f "$f" 2>&1 || rc=1 ;;
		*.rules)
			while read -r line; do
				in_ns "$3" ipset $line 2>&1 || rc=1
			done < <(sed -n 's/^# ipset: //p' "$f")
			in_ns "$3" iptables-restore "$f" 2>&1 || rc=1 ;;
		*.rules6) in_ns "$3" ip6tables-restore "$f" 2>&1 || rc=1 ;;
		esac
	done
	return $rc
}

# refusal KIND NAME ERRORS: why the case cannot load here, when its header
# says so and the kernel agrees; nothing (a failure) otherwise
refusal() {
	local conf why err
	err=$(printf '%s\n' "$3" | grep -m 1 'Error:\|failed\|[Ee]rror occurred' |
		sed 's|^[^ ]*/||')
	conf=$(header_of "$1" "$2" kernel)
	if [ -n "$conf" ]; then
		if [ -z "$KCONFIG" ]; then
			echo "kernel config unreadable, $conf probably missing; $err"
		elif ! printf '%s\n' "$KCONFIG" | grep -q "^$conf=[ym]"; then
			echo "kernel lacks $conf; $err"
		fi
		return
	fi
	why=$(header_of "$1" "$2" refused-by-kernel)
	if [ -n "$why" ] && printf '%s\n' "$3" | grep -q 'Could not process rule'; then
		echo "$why; $err"
	fi
}

# state NS KIND: the ruleset as it must come back: nft -s list ruleset (kernel
# order of tables), and for iptables cases iptables-save and ip6tables-save
# without their date lines and with counters zeroed
state() {
	nft_stable "$1" -s list ruleset
	if [ "$2" = iptables ]; then
		echo "== iptables-save"
		in_ns "$1" iptables-save 2>&1 | grep -v '^# Generated\|^# Completed' |
			sed 's/\[[0-9]*:[0-9]*\]$/[0:0]/'
		echo "== ip6tables-save"
		in_ns "$1" ip6tables-save 2>&1 | grep -v '^# Generated\|^# Completed' |
			sed 's/\[[0-9]*:[0-9]*\]$/[0:0]/'
	fi
}

# nft_by_table NS: nft -a -s of every table, each by its own nft process. One
# `nft list ruleset` translates the xt targets of iptables tables with one
# libxtables state: after an ip table's, those of an ip6 table are "not
# found" and print as nothing ("counter " for a DNAT rule) -- a wrong
# reference for the comparison.
#
# nft 1.0.6 itself does not list an xt match the same way every time: of 300
# `nft -a -s list table ip filter` of iptables/conntrack.rules, 294 print
# `xt match connlimit` and 6 a translation for the wrong family (`add
# @connlimit0 { ip6 saddr and ffff:ffff:: ct count over 4 }` in an ip
# table); nfpilot printed the first all 300 times. The reference is the
# text most of five nft runs print.
nft_by_table() {
	local fam name
	in_ns "$1" nft list tables 2>/dev/null | while read -r _ fam name; do
		nft_stable "$1" -a -s list table "$fam" "$name"
	done
}

# nft_stable NS ARGS...: what most of five `nft ARGS...` print (see above)
nft_stable() {
	local ns=$1 i
	shift
	for i in 1 2 3 4 5; do
		in_ns "$ns" nft "$@" 2>/dev/null | base64 -w0
		echo
	done | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }' | base64 -d
}

status_of() { "$NFPILOT" -N "$1" status 2>&1; }

# revert_why NS: what the guardian recorded about the last change's end
# (history show: "why: ...", with the kernel's refusal when the revert failed)
revert_why() {
	local n
	n=$("$NFPILOT" -N "$1" history 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { n = $1 } END { print n }')
	[ -n "$n" ] && "$NFPILOT" -N "$1" history show "$n" 2>&1 | sed -n 's/^why: *//p'
}

# change_script NS: one more rule in the first chain of every table (a chain
# where a table has none); bound chains (__chainN) are no place for it
change_script() {
	in_ns "$1" nft -s list ruleset 2>/dev/null | awk '
		/^table / { if (t != "") out(); fam = $2; t = $3; c = ""; next }
		/^\tchain / { if (c == "" && $2 !~ /^__chain/) c = $2; next }
		function out() {
			if (c != "") print "add rule " fam " " t " " c " counter"
			else print "add chain " fam " " t " nfpc_probe"
		}
		END { if (t != "") out() }'
}

# reset NS KIND NAME: end whatever probation is left, put the case back
reset_case() {
	"$NFPILOT" -N "$1" confirm >/dev/null 2>&1
	end_probation "$1"
	in_ns "$1" nft flush ruleset
	load "$2" "$3" "$1" >/dev/null 2>&1
}

PENDING=""
echo 'flush ruleset' >"$TEST_TMP/flush.nft"

run_case() {
	local kind=$1 name=$2 ns=$3 id="$1/$2" d=$TEST_TMP/c/$3 out rc why v6 cmd
	mkdir -p "$d"
	cmd=$(header_of "$kind" "$name" needs-cmd)
	if [ -n "$cmd" ] && ! command -v "$cmd" >/dev/null; then
		skip "$id" "$cmd is not installed"
		return
	fi
	v6=no
	[ -n "$(header_of "$kind" "$name" needs | grep -w ipv6)" ] && v6=yes
	make_ns "$ns" "$v6" || { not_ok "$id: namespace $ns with d0..d3"; return; }

	# ---- load
	if ! out=$(load "$kind" "$name" "$ns"); then
		why=$(refusal "$kind" "$name" "$out")
		if [ -n "$why" ]; then
			skip "$id" "$why"
		else
			not_ok "$id: does not load"
			evidence "$out" 20
		fi
		return
	fi
	if [ "$kind" = iptables ]; then
		local f want got
		for f in $(case_files "$kind" "$name"); do
			case "$f" in *.rules6) cmd=ip6tables-save ;; *) cmd=iptables-save ;; esac
			want=$(grep -v '^#' "$f")
			got=$(in_ns "$ns" $cmd 2>&1 | grep -v '^# Generated\|^# Completed' |
				sed 's/\[[0-9]*:[0-9]*\]$/[0:0]/')
			if [ "$got" = "$want" ]; then
				ok "$id: $cmd lists $(basename "$f") as written, no warning"
			else
				not_ok "$id: $cmd differs from $(basename "$f")"
				evidence "$(diff <(echo "$want") <(echo "$got"))" 20
			fi
		done
	fi

	# ---- (b) the listing, in a UTF-8 locale as an admin's terminal is
	# (lib.sh's LC_ALL=C would turn every byte >= 0x80 into '?': messages.sh)
	if ! "$NFPILOT" -N "$ns" list --json >"$d/list.json" 2>"$d/list.err" ||
		! LC_ALL=C.UTF-8 "$NFPILOT" -N "$ns" list -x >"$d/list.txt" 2>>"$d/list.err"; then
		not_ok "$id: (b) nfpilot list failed"
		evidence "$(cat "$d/list.err")" 10
	else
		nft_by_table "$ns" >"$d/nft.txt"
		if out=$(python3 "$LISTING" "$d/list.json" "$d/list.txt" "$d/nft.txt" 2>&1); then
			ok "$id: (b) nfpilot lists every rule as nft does ($out)"
		else
			not_ok "$id: (b) nfpilot's listing differs from nft's"
			evidence "$out"
		fi
	fi

	# ---- (c) flush ruleset on probation, then rollback
	state "$ns" "$kind" >"$d/before"
	out=$("$NFPILOT" -N "$ns" apply --detach "$TEST_TMP/flush.nft" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		not_ok "$id: (c) apply --detach of flush ruleset: exit $rc"
		evidence "$out" 10
	else
		[ -z "$(in_ns "$ns" nft -s list ruleset 2>/dev/null)" ] ||
			not_ok "$id: (c) after applying flush ruleset, the ruleset is not empty"
		out=$("$NFPILOT" -N "$ns" rollback 2>&1)
		rc=$?
		state "$ns" "$kind" >"$d/after"
		if [ "$rc" -eq 0 ] && cmp -s "$d/before" "$d/after"; then
			ok "$id: (c) flush ruleset on probation, rollback: ruleset exactly as before"
		else
			not_ok "$id: (c) flush ruleset on probation, rollback (exit $rc): not as before"
			evidence "rollback: $out" 10
			evidence "history: $(revert_why "$ns")" 4
			evidence "$(status_of "$ns" | sed 's/^/status: /')" 2
			evidence "$(diff "$d/before" "$d/after" | sed 's/^/diff: /')" 20
		fi
	fi
	if [ "$(status_of "$ns")" != "probation: none" ] || ! cmp -s "$d/before" <(state "$ns" "$kind"); then
		reset_case "$ns" "$kind" "$name"
		state "$ns" "$kind" >"$d/before"
	fi

	# ---- (d) a small change on probation; its deadline comes later
	change_script "$ns" >"$d/change.nft"
	out=$("$NFPILOT" -N "$ns" apply --detach --timeout 10 "$d/change.nft" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		not_ok "$id: (d) apply --detach --timeout 10 of a small change: exit $rc"
		evidence "$(cat "$d/change.nft")" 6
		evidence "$out" 10
		return
	fi
	if cmp -s "$d/before" <(state "$ns" "$kind"); then
		not_ok "$id: (d) the change applied, yet the ruleset did not change"
		evidence "$(cat "$d/change.nft")" 6
	fi
	PENDING="$PENDING $kind:$name:$ns"
}

# ---------------------------------------------------------------- all cases

CASES=""
for f in "$CORPUS_DIR"/nft/*.nft; do
	CASES="$CASES nft/$(basename "$f" .nft)"
done
for f in "$CORPUS_DIR"/iptables/*.rules "$CORPUS_DIR"/iptables/*.rules6; do
	n=$(basename "$f"); n=${n%.rules6}; n=${n%.rules}
	case " $CASES " in *" iptables/$n "*) ;; *) CASES="$CASES iptables/$n" ;; esac
done

START=$(ms)
i=0
for c in $CASES; do
	# shellcheck disable=SC2053
	[[ $c == $PICK ]] || continue
	i=$((i + 1))
	run_case "${c%%/*}" "${c#*/}" "$PREFIX-$i"
done
[ "$i" -gt 0 ] || bail "no case matches CORPUS='$PICK'"
LAST_APPLY=$(ms)

# ---- (d) the deadlines: poll every pending namespace until its probation
# is over (10 s after its apply, some slack for the guardians' revert)
waiting=$PENDING
end=$((LAST_APPLY + 30000))
while [ -n "$waiting" ] && [ "$(ms)" -lt "$end" ]; do
	left=""
	for p in $waiting; do
		ns=${p##*:}
		status_of "$ns" | grep -q '^probation: running' && left="$left $p"
	done
	waiting=$left
	[ -n "$waiting" ] && sleep 0.5
done
for p in $PENDING; do
	kind=${p%%:*}; rest=${p#*:}; name=${rest%%:*}; ns=${p##*:}; d=$TEST_TMP/c/$ns
	st=$(status_of "$ns")
	state "$ns" "$kind" >"$d/after.d"
	if [ "$st" = "probation: none" ] && cmp -s "$d/before" "$d/after.d"; then
		ok "$kind/$name: (d) a small change, then its deadline: ruleset exactly as before"
	else
		not_ok "$kind/$name: (d) a small change, then its deadline: not as before"
		evidence "history: $(revert_why "$ns")" 4
		evidence "$(printf '%s\n' "$st" | sed 's/^/status: /')" 2
		evidence "$(diff "$d/before" "$d/after.d" | sed 's/^/diff: /')" 20
	fi
done
echo "# corpus: $i cases in $(( ($(ms) - START) / 1000 )) s"
finish
