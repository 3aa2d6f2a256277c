#!/bin/bash
# The snapshot reader under libFuzzer (issue 11): restore points and
# history files are read back by rollback, confirm, history and the
# guardian, and a damaged one must be refused as damaged — never a crash,
# an exit() in libnftnl, a leak or undefined behaviour.
#
# The fuzzer (tests/fuzz/fuzz_snapfile.c; make check builds it when
# clang-14 is there) starts from
#   - generated seeds (build/asan/tools/snapseeds): every kind of object
#     libnftnl knows, each attribute it writes, a delta of every step;
#   - real restore points: every corpus case (tests/corpus) loaded in turn
#     into a namespace and snapshotted whole;
# runs every earlier finding (tests/fuzz/regressions/) once, then fuzzes
# FUZZ_TIME seconds (60; `make fuzz`: 600). A finding leaves its
# reproducer under build/fuzz/artifacts/ (FUZZ_ARTIFACTS), named in the
# not ok line; `build/fuzz/fuzz_snapfile FILE` replays it. FUZZ_KEEP=DIR
# keeps the seeds and the corpus the run grew there.
. "$(dirname "$0")/../lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
FUZZER=${FUZZER:-$TOP/build/fuzz/fuzz_snapfile}
SEEDER=$TOP/build/asan/tools/snapseeds
TIME=${FUZZ_TIME:-60}
ART=${FUZZ_ARTIFACTS:-$TOP/build/fuzz/artifacts}/$(date +%Y%m%d-%H%M%S)-$$
SEEDS=$TEST_TMP/seeds
CORPUS=$TEST_TMP/corpus

if [ ! -x "$FUZZER" ]; then
	skip "fuzz the snapshot reader" "no $FUZZER (built with clang-14, libclang-rt-14-dev)"
	finish
fi
[ -x "$SEEDER" ] || bail "no $SEEDER"
mkdir -p "$SEEDS" "$CORPUS" "$ART" || bail "mkdir"

check "seeds: generated snapshots of every kind of object" "$SEEDER" "$SEEDS"

# ---------------------------------------------------------------- real ones

NS=$NS_PREFIX-fz
make_ns() {
	local i
	ns_add "$NS" || return 1
	in_ns "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
		net.ipv6.conf.default.disable_ipv6=0 >/dev/null
	ip -n "$NS" link add d0 type veth peer name d1 || return 1
	ip -n "$NS" link add d2 type veth peer name d3 || return 1
	for i in 0 1 2 3; do
		ip -n "$NS" addr add "10.99.$i.1/24" dev "d$i"
		ip -n "$NS" addr add "fd00:99:$i::1/64" dev "d$i" nodad
		ip -n "$NS" link set "d$i" up
	done
}

# snap NAME: the namespace's tables as seeds NAME-*
snap() {
	local d=$TEST_TMP/real f
	rm -rf "$d" && mkdir "$d"
	"$SEEDER" -n "$NS" "$d" >/dev/null 2>&1 || return 1
	for f in "$d"/*; do
		mv "$f" "$SEEDS/$1-$(basename "$f")"
	done
}

if make_ns; then
	cases=0
	seeded=0
	for f in "$TOP"/tests/corpus/nft/*.nft "$TOP"/tests/corpus/iptables/*.rules; do
		[ -e "$f" ] || continue
		cases=$((cases + 1))
		in_ns "$NS" nft flush ruleset
		case "$f" in
		*.nft) in_ns "$NS" nft -f "$f" >/dev/null 2>&1 || continue ;;
		*.rules)
			in_ns "$NS" iptables-restore "$f" >/dev/null 2>&1 || continue
			[ -e "${f}6" ] && in_ns "$NS" ip6tables-restore "${f}6" >/dev/null 2>&1 ;;
		esac
		snap "$(basename "$f" | tr . -)" && seeded=$((seeded + 1))
	done
	check_ge "seeds: restore points of corpus cases ($seeded of $cases)" "$seeded" 1
else
	skip "seeds: restore points of corpus cases" "no namespace $NS"
fi

# nothing nfpilot writes is refused: the real restore points above all
check "every seed reads back whole" "$SEEDER" -c "$SEEDS"/*

# ---------------------------------------------------------------- earlier findings

set -- "$TOP"/tests/fuzz/regressions/*
if [ -e "$1" ]; then
	check "every earlier finding ($# in tests/fuzz/regressions) replays without a failure" \
		"$FUZZER" "$@"
fi

# ---------------------------------------------------------------- the run

(cd "$TEST_TMP" && "$FUZZER" -max_total_time="$TIME" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -dict="$TOP/tests/fuzz/snapfile.dict" -artifact_prefix="$ART/" \
	"$CORPUS" "$SEEDS") >"$TEST_TMP/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$TEST_TMP/fuzz.log")
cov=$(grep -o 'cov: [0-9]*' "$TEST_TMP/fuzz.log" | tail -n 1)
found=$(ls "$ART" 2>/dev/null)
if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
	ok "fuzzed the snapshot reader ${TIME}s: ${runs:-?} runs ($cov), no crash, exit, leak or UB"
	rmdir "$ART" 2>/dev/null
else
	cp "$TEST_TMP/fuzz.log" "$ART/fuzz.log" 2>/dev/null
	not_ok "fuzzing the snapshot reader: exit $rc after ${runs:-?} runs; reproducer:" \
		"$(printf '%s ' "$ART"/* | head -c 400); report: $(grep -m 3 -E \
		'ERROR|SUMMARY|fuzz_snapfile:' "$TEST_TMP/fuzz.log" | tr '\n' '|' | head -c 800)"
fi
rmdir "$(dirname "$ART")" 2>/dev/null
if [ -n "${FUZZ_KEEP:-}" ]; then
	mkdir -p "$FUZZ_KEEP" && cp -r "$SEEDS" "$CORPUS" "$FUZZ_KEEP"/
fi

finish
