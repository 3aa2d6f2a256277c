#!/bin/sh
# nfpilot bench: deleting rule 3 of a long iptables-nft chain by its
# position, as `iptables -D INPUT 3` does it, side by side (median of
# BENCH_REPS runs, default 5; 100k rules: min(reps, 3)). A position costs
# nfpilot one read of the chain (the handles in order, at one generation);
# the same delete by handle is timed too. Every edit is on probation:
# `nfpilot edit --detach` is timed until the change is in, its confirm and
# the rule put back (iptables -I INPUT 3) are not.
# usage: sh tests/bench/positions.sh [NFPILOT]
#   BENCH_QUICK=1  skip the 100k-rule chain
#   BENCH_OUT=F    append the table as markdown to F
# Needs root; fixtures live in throw-away namespaces nfpp-PID-*.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bench_setup "bench positions" nfppos nfpp "${1:-}"
bench_probation

now() { date +%s.%N; }
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# rule i: -s 10.a.b.c, one address each
addr() { echo "10.$(($1 / 65536)).$(($1 / 256 % 256)).$(($1 % 256))"; }

# chain N: ip filter INPUT with N rules, by iptables-restore
chain() {
	ns=$pfx-$1
	ip netns add "$ns"
	made="$made $ns"
	python3 -c '
import sys
n = int(sys.argv[1])
print("*filter\n:INPUT ACCEPT [0:0]")
for i in range(1, n + 1):
    print("-A INPUT -s 10.%d.%d.%d/32 -j ACCEPT" % (i // 65536, i // 256 % 256, i % 256))
print("COMMIT")' "$1" | ip netns exec "$ns" iptables-restore
}

# third: rule 3 is 10.0.0.3, or the run went wrong
third() {
	got=$(ip netns exec "$ns" iptables -S INPUT 3)
	[ "$got" = "-A INPUT -s $(addr "$1")/32 -j ACCEPT" ] || {
		echo "bench positions: rule 3 is '$got', want $(addr "$1")" >&2
		exit 1
	}
}

# one LABEL N: time the three deletes, alternating
one() {
	label=$1 n=$2 r=$reps
	[ "$n" -ge 100000 ] && r=$(( reps < 3 ? reps : 3 ))
	: >"$tmp/a"; : >"$tmp/b"; : >"$tmp/c"
	i=0
	while [ "$i" -lt "$r" ]; do
		for side in a b c; do
			third 3
			h=$(ip netns exec "$ns" nft -a list chain ip filter INPUT 2>/dev/null |
				sed -n 's/.*10\.0\.0\.3 .*# handle \([0-9]*\)$/\1/p')
			t0=$(now)
			case $side in
			a) "$bin" -N "$ns" edit --detach -t ip filter -c INPUT --positions \
				--delete 3 >/dev/null ;;
			b) "$bin" -N "$ns" edit --detach -t ip filter -c INPUT --delete-handle "$h" \
				>/dev/null ;;
			c) ip netns exec "$ns" iptables -D INPUT 3 ;;
			esac
			t1=$(now)
			[ "$side" = c ] || "$bin" -N "$ns" confirm >/dev/null
			echo "$t0 $t1" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/$side"
			third 4 # rule 4 moved up: 3 is gone
			ip netns exec "$ns" iptables -I INPUT 3 -s "$(addr 3)/32" -j ACCEPT
		done
		i=$((i + 1))
	done
	ma=$(med "$tmp/a"); mb=$(med "$tmp/b"); mc=$(med "$tmp/c")
	echo "$label|$ma|$mb|$mc|$(awk "BEGIN { printf \"%.2f\", $ma / $mc }")|$(awk "BEGIN { printf \"%.2f\", $ma / $mb }")|$r" >>"$tmp/rows"
}

start=$(date +%s)
: >"$tmp/rows"
for n in 1000 10000 100000; do
	[ "$n" -ge 100000 ] && [ "$quick" = 1 ] && continue
	chain "$n"
	one "rule 3 of 1 chain x $n rules" "$n"
	ip netns del "$ns"
done
load=$(cut -d' ' -f1-3 /proc/loadavg)
head="nfpilot positions bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) cores, kernel $(uname -r), $(iptables --version), load $load, $(( $(date +%s) - start )) s"
echo "$head"
printf '%-30s %10s %10s %12s %9s %9s %5s\n' "delete (median s)" "--delete 3" "-handle H" \
	"iptables -D" "/iptables" "/handle" reps
while IFS='|' read -r l a b c r s k; do
	printf '%-30s %10s %10s %12s %9s %9s %5s\n' "$l" "$a" "$b" "$c" "$r" "$s" "$k"
done <"$tmp/rows"
echo "(nfpilot edit --detach: until the change is on probation)"
if [ -n "${BENCH_OUT:-}" ]; then
	{
		echo
		echo "## Deleting rule 3 by position"
		echo
		echo "$head."
		echo "\`sh tests/bench/positions.sh\`: \`nfpilot -N NS edit --detach -t ip filter -c INPUT --positions --delete 3\`"
		echo "and \`--delete-handle H\` (on probation; the confirm not timed) against \`iptables -D INPUT 3\`,"
		echo "in an iptables-nft chain of \`-s ADDR -j ACCEPT\` rules, alternating."
		echo
		echo "| delete, median seconds | nfpilot --delete 3 | nfpilot --delete-handle H | iptables -D INPUT 3 | position / iptables | position / handle | reps |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		while IFS='|' read -r l a b c r s k; do
			echo "| $l | $a | $b | $c | $r | $s | $k |"
		done <"$tmp/rows"
	} >>"$BENCH_OUT"
fi
