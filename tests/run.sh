#!/bin/sh
# The test runner of `make check`: cmocka unit tests, then every
# tests/integration/*.sh against the given nfpilot binary.
# usage: tests/run.sh NFPILOT [UNIT_TEST_BINARY...]
# Select integration scripts with T=pattern (shell glob on the file name).
# Integration scripts print TAP-like lines: "ok - what" / "not ok - what" /
# "skip - what: reason". The last line is "N passed, N failed", with
# ", N skipped" when anything was skipped (a skip is never a pass).
set -u
NFPILOT=$(readlink -f "$1"); shift
export NFPILOT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
top=$(cd "$(dirname "$0")/.." && pwd)
pass=0
fail=0
skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for u in "$@"; do
	echo "== unit: $(basename "$u")"
	"$u" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "not ok - $(basename "$u") exited with $rc"
		fail=$((fail + 1))
	fi
done

for t in "$top"/tests/integration/${T:-*}.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	echo "== integration: $name"
	t0=$(date +%s)
	timeout 900 bash "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	echo "# $name: $(($(date +%s) - t0)) s"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	s=$(grep -c '^skip ' "$log")
	pass=$((pass + p))
	fail=$((fail + f))
	skipped=$((skipped + s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with $rc (timeout or crash)"
		fail=$((fail + 1))
	fi
done

if [ "$skipped" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skipped skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
