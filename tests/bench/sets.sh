#!/bin/sh
# nfpilot bench: sets, side by side with nft.
#   - `nfpilot set list` against `nft list set` of a 50k-prefix interval
#     set and a 1M-address set (whole listing, and the first line: nfpilot
#     writes elements as they come, nft when all are read);
#   - adding 10k prefixes from a file on probation (`nfpilot set add --file
#     --detach`, until the change is in and the guardian keeps it) against
#     `nft -f` of `add element` with the same elements (undone, untimed);
#   - finding the range holding an address in 1M ranges (model/setelems,
#     built -O2 here: tests/bench/setfind.c), and the index of 1M
#     addresses in a hash set's order, sorted in the set screen's slices;
#   - the live view's set screen on 1M addresses and on 1M ranges (an
#     interval set): first rows, keys while loading, / an address;
#   - the rule text of the table (its base chain has `ip saddr @s drop`):
#     `nfpilot list -t inet T` against `nft -t list ruleset` (terse: no
#     named set's elements) and `nft list table inet T` (all of them).
# The load average is printed with the figures: the machine is shared.
# usage: sh tests/bench/sets.sh [NFPILOT]
#   BENCH_QUICK=1  skip the 1M-element set;  BENCH_REPS=N (default 5; 1M: 3)
#   BENCH_OUT=F    append the results as markdown to F
# Needs root; fixtures live in throw-away namespaces nfps-PID-*.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bench_setup "bench sets" nfpsets nfps "${1:-}"
export NFPILOT_LIB_DIR="$tmp/lib" NFPILOT_RUN_DIR="$tmp/run"
trap bench_cleanup_guardians EXIT
res=$tmp/results
row() { python3 "$here/measure.py" row --out "$res" "$@"; }
now() { date +%s.%N; }
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)

# set NAME N KIND [RULE]: table inet T, set s of N elements in namespace
# $pfx-NAME; KIND prefix: 10.x.y.z/28 ranges (interval set), addr: addresses
# 10.x.y.z; RULE (one that uses the set): in a base chain input of T
set_fixture() {
	ns=$pfx-$1
	ip netns add "$ns"
	made="$made $ns"
	python3 - "$2" "$3" "${4:-}" >"$tmp/$1.nft" <<'EOF'
import sys
n, kind, rule = int(sys.argv[1]), sys.argv[2], sys.argv[3]
flags = "flags interval; " if kind == "prefix" else ""
print("table inet T { set s { type ipv4_addr; %selements = {" % flags)
step = 16 if kind == "prefix" else 1
suffix = "/28" if kind == "prefix" else ""
print(",\n".join("10.%d.%d.%d%s" % ((i * step) >> 16 & 255, (i * step) >> 8 & 255, (i * step) & 255, suffix)
                 for i in range(n)))
print("}; };")
if rule:
    print("chain input { type filter hook input priority 0; policy accept; %s; };" % rule)
print("}")
EOF
	t0=$(now)
	ip netns exec "$ns" nft -f "$tmp/$1.nft"
	echo "fixture $1: $2 elements loaded in $(echo "$t0 $(now)" | awk '{ printf "%.1f", $2 - $1 }') s" >&2
}

p_pfx='10\.[0-9]+\.[0-9]+\.[0-9]+/28'
# listing WHAT NAME N PATTERN REPS: the whole listing, and its first element
# (nft writes none before it has read them all)
listing() {
	row --label "set list, $1" --goal 1.0 --reps "$5" --ns "$pfx-$2" \
	    --expect "$3" --a "$bin set list inet T s" --pa "$4" \
	    --b "nft list set inet T s" --pb "$4"
	row --label "first element, $1" --reps "$5" --ns "$pfx-$2" --expect 1 \
	    --a "sh -c '$bin set list inet T s | head -n 1'" --pa "$4" \
	    --b "sh -c 'nft list set inet T s | head -n 5'" --pb 'elements = [{] 10[.]'
}
p_addr='10\.[0-9]+\.[0-9]+\.[0-9]+'

set_fixture 50k 50000 prefix
listing "50k prefixes (interval)" 50k 50000 "$p_pfx" "$reps"

row --label "set test, 50k prefixes" --reps "$reps" --ns "$pfx-50k" --expect 1 \
    --a "$bin set test inet T s 10.0.123.4" --pa "$p_pfx" \
    --b "nft get element inet T s { 10.0.123.4 }" --pb "$p_pfx"

# adding 10k prefixes (11.x) from a file, on probation, against nft -f
python3 -c '
for i in range(10000):
    print("11.%d.%d.%d/28" % ((i * 16) >> 16 & 255, (i * 16) >> 8 & 255, (i * 16) & 255))' >"$tmp/add.txt"
{ printf 'add element inet T s {\n'; sed '$!s/$/,/' "$tmp/add.txt"; printf '}\n'; } >"$tmp/add.nft"
ns=$pfx-50k
: >"$tmp/a"; : >"$tmp/b"; : >"$tmp/c"
i=0
while [ "$i" -lt "$reps" ]; do
	t0=$(now)
	"$bin" -N "$ns" set add inet T s --file "$tmp/add.txt" --detach >/dev/null
	t1=$(now)
	"$bin" -N "$ns" rollback >/dev/null
	echo "$t0 $t1 $(now)" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/a"
	echo "$t1 $(now)" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/c"
	n=$("$bin" -N "$ns" set list inet T s | grep -c '^11\.' || true)
	[ "$n" = 0 ] || { echo "bench sets: the rollback left $n lines of 11.x" >&2; exit 1; }
	t0=$(now)
	ip netns exec "$ns" nft -f "$tmp/add.nft"
	echo "$t0 $(now)" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/b"
	# undone as the fixture was made (nft's delete element of 10k ranges
	# takes minutes: it walks its cache of the set for each)
	ip netns exec "$ns" nft flush set inet T s
	ip netns exec "$ns" nft -f "$tmp/50k.nft"
	i=$((i + 1))
done
add_a=$(median "$tmp/a") add_b=$(median "$tmp/b") add_c=$(median "$tmp/c")
ip netns del "$pfx-50k"
rm -f "$tmp/50k.nft"

if [ "$quick" != 1 ]; then
	p_rule='ip saddr @s drop'
	set_fixture 1m 1000000 addr "$p_rule"
	r=$(( reps < 3 ? reps : 3 ))
	listing "1M addresses" 1m 1000000 "$p_addr" "$r"
	# the table's rule text beside the 1M set (nfpilot also counts it)
	row --label "list with rule text, 1M set; B: nft -t list ruleset" --reps "$r" \
	    --ns "$pfx-1m" --expect 1 --a "$bin list -t inet T" --pa "$p_rule" \
	    --b "nft -t list ruleset" --pb "$p_rule"
	row --label "list with rule text, 1M set; B: nft list table" --reps 1 \
	    --ns "$pfx-1m" --expect 1 --a "$bin list -t inet T" --pa "$p_rule" \
	    --b "nft list table inet T" --pb "$p_rule"
	# the live view's set screen on it: first rows, keys while loading,
	# memory an element (tmux: tests/bench/tui_measure.py)
	if command -v tmux >/dev/null; then
		python3 "$here/tui_measure.py" setview --bin "$bin" --ns "$pfx-1m" --set s \
			--ref "inet T s" --elements 1000000 --find 10.3.4.5 \
			--label "1M addresses" --md "$tmp/setview.md"
	else
		echo "bench sets: tmux not installed, set screen skipped" >&2
	fi

	ip netns del "$pfx-1m"
	rm -f "$tmp/1m.nft"

	# the set screen on 1M ranges (an interval set: 10.x.y.z/28, all of
	# 10/8): / finds the range holding an address; nft list set of it
	# takes minutes, so once
	set_fixture 1mp 1000000 prefix
	if command -v tmux >/dev/null; then
		python3 "$here/tui_measure.py" setview --bin "$bin" --ns "$pfx-1mp" --set s \
			--ref "inet T s" --ref-reps 1 --elements 1000000 --find 10.3.4.5 \
			--label "1M /28 ranges (interval)" --md "$tmp/setview.md"
	fi
	ip netns del "$pfx-1mp"
	rm -f "$tmp/1mp.nft"
fi

cc -O2 -std=gnu11 -I"$here/../.." "$here/setfind.c" "$here/../../model/setelems.c" \
	"$here/../../util/grow.c" -o "$tmp/setfind"
find_line=$("$tmp/setfind" 1000000 | paste -sd";" -)

load1=$(cut -d' ' -f1-3 /proc/loadavg)
head="nfpilot sets bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, kernel $(uname -r), $(nft --version), load $load0 at the start, $load1 at the end, reps $reps, $(( $(date +%s) - start )) s"
echo "$head"
rc=0
python3 "$here/measure.py" table "$res" ${BENCH_OUT:+--md "$tmp/table.md"} || rc=$?
ratio=$(awk "BEGIN { printf \"%.2f\", $add_a / $add_b }")
echo "add 10k prefixes from a file: nfpilot set add --file --detach $add_a s (on probation; rollback $add_c s), nft -f add element $add_b s, ratio $ratio"
echo "lookup (model/setelems, -O2): $find_line"
if [ -n "${BENCH_OUT:-}" ]; then
	{
		echo
		echo "## Sets"
		echo
		echo "$head."
		echo "\`sh tests/bench/sets.sh\`. RSS: peak of the whole process."
		echo
		cat "$tmp/table.md"
		echo
		echo "| add 10k prefixes from a file, median s | nfpilot set add --file --detach | nft -f add element | ratio | nfpilot rollback |"
		echo "|---|---:|---:|---:|---:|"
		echo "| into the 50k-prefix set | $add_a | $add_b | $ratio | $add_c |"
		echo
		echo "Finding the range that holds an address (tests/bench/setfind.c, -O2): $find_line."
		if [ -s "$tmp/setview.md" ]; then
			echo
			echo "The live view's set screen (Enter on the set in the tree; tmux 120x40, read"
			echo "with capture-pane, a few ms of resolution; memory: VmRSS after the load less"
			echo "before, divided by the elements):"
			echo
			echo "| set | first rows | all loaded | nft list set | keys while loading | / an address | bytes an element |"
			echo "|---|---:|---:|---:|---|---:|---:|"
			cat "$tmp/setview.md"
		fi
	} >>"$BENCH_OUT"
fi
exit $rc
