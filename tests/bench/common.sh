# Sourced by the bench scripts (after setting here=): the nfpilot binary,
# root, a temp dir and throw-away namespaces removed on exit, fixtures.

# bench_setup WHO TMPNAME NSPREFIX [NFPILOT]: sets bin, quick, reps, tmp,
# pfx (namespace prefix, with the PID) and made (namespaces to remove)
bench_setup() {
	bin=${4:-./nfpilot}
	case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
	[ -x "$bin" ] || { echo "$1: no nfpilot binary at $bin (make nfpilot)" >&2; exit 2; }
	[ "$(id -u)" = 0 ] || { echo "$1: needs root (network namespaces)" >&2; exit 2; }
	quick=${BENCH_QUICK:-0}
	reps=${BENCH_REPS:-5}
	tmp=$(mktemp -d "/tmp/$2.XXXXXX")
	pfx=$3-$$
	made=
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}

# bench_probation: the probations' history and state in the temp dir, and
# at the end every process left in the namespaces (a guardian) ended
bench_probation() {
	export NFPILOT_LIB_DIR="$tmp/lib" NFPILOT_RUN_DIR="$tmp/run"
	trap bench_cleanup_guardians EXIT
}

# bench_cleanup_guardians: as bench_cleanup, and first every process left in
# the namespaces (a guardian of a bench stopped early)
bench_cleanup_guardians() {
	for ns in $made; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	done
	bench_cleanup
}

bench_cleanup() {
	for ns in $made; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$tmp"
	if [ -n "${ct_max_old:-}" ]; then
		echo "$ct_max_old" >/proc/sys/net/netfilter/nf_conntrack_max
		echo "nf_conntrack_max put back to $ct_max_old" >&2
	fi
}

# bench_tool NAME LIB...: tests/tools/NAME.c built into $tmp/NAME against
# the release archives build/lib/LIB.a (times of an ASan build mean nothing)
bench_tool() {
	tool=$1
	shift
	archives=
	for l; do
		[ -f "$top/build/lib/$l.a" ] ||
			{ echo "bench: no release archive $top/build/lib/$l.a (make nfpilot)" >&2; exit 2; }
		archives="$archives $top/build/lib/$l.a"
	done
	${CC:-cc} -std=gnu11 -O2 -g -I"$top" \
		$(pkg-config --cflags libmnl libnftnl libnetfilter_conntrack) -pthread \
		-o "$tmp/$tool" "$top/tests/tools/$tool.c" $archives \
		$(pkg-config --libs libnftables libnftnl libmnl libnetfilter_conntrack) -pthread
}

# ct_max_need N: nf_conntrack_max (one value for the whole host) at least N
# for the run; put back on exit (bench_cleanup), and said so
ct_max_need() {
	if [ "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" -lt "$1" ]; then
		: "${ct_max_old:=$(cat /proc/sys/net/netfilter/nf_conntrack_max)}"
		echo "$1" >/proc/sys/net/netfilter/nf_conntrack_max
		echo "nf_conntrack_max raised from $ct_max_old to $1 for the run (host-wide)" >&2
	fi
}

# fixture NAME CHAINS RULES_PER_CHAIN: table inet T of gen.py (one chain:
# base chain "big", hook input; else regular chains c000...) in namespace
# $pfx-NAME
fixture() {
	ns=$pfx-$1
	ip netns add "$ns"
	made="$made $ns"
	python3 "$here/gen.py" T "$2" "$3" > "$tmp/$1.nft"
	t0=$(date +%s.%N)
	ip netns exec "$ns" nft -f "$tmp/$1.nft"
	t1=$(date +%s.%N)
	rm -f "$tmp/$1.nft"
	echo "fixture $1: $2 x $3 rules loaded in $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s" >&2
}

# veth_ns NS ADDR/LEN ROUTE: namespace NS (removed at the end) with lo up
# and one veth, d0 ADDR, with a route to ROUTE through it
veth_ns() {
	ip netns add "$1"
	made="$made $1"
	ip -n "$1" link set lo up
	ip -n "$1" link add d0 type veth peer name d1
	ip -n "$1" addr add "$2" dev d0
	ip -n "$1" link set d0 up
	ip -n "$1" link set d1 up
	ip -n "$1" route add "$3" dev d0
}

# sandbox_fixture SIZE: namespace $pfx-SIZE (ns) with one veth, d0
# 10.9.0.1/24 and a route to 192.0.2.0/24 (where the packets a sandbox is
# asked about come from), and table inet T of gen.py with SIZE (1k, 10k)
# rules, kept in $tmp/SIZE.nft for `nft -f` side by side
sandbox_fixture() {
	ns=$pfx-$1
	veth_ns "$ns" 10.9.0.1/24 192.0.2.0/24
	python3 "$here/gen.py" T 1 "$(echo "$1" | sed 's/k$/000/')" >"$tmp/$1.nft"
	ip netns exec "$ns" nft -f "$tmp/$1.nft"
}
