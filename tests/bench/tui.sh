#!/bin/sh
# Live-view (TUI) benchmarks, driven through a private tmux server.
# usage: sh tests/bench/tui.sh [NFPILOT]        (as root; make bench runs it)
#   BENCH_QUICK=1  skip the 100k-rule chain
#   BENCH_TUI_OUT=F  also write the results table as markdown to F
# Goals (see docs/benchmarks.md, "Live view"): first screen <= 0.1 of
# `nft list ruleset`; a key answered within 50 ms while loading; one counter
# refresh of the rules on screen <= 0.1 of `nft list chain`; idle CPU with a
# 1 s refresh on a 10k-rule chain < 2 % of a core.
# Fixtures live in throw-away namespaces nfpb-PID-*; tmux runs as
# `tmux -L nfpb-PID` (never the default server). Takes ~6 min (~2 quick).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bench_setup bench-tui nfpbtui nfpb "${1:-}"
command -v tmux >/dev/null || { echo "bench-tui: tmux not installed, skipped" >&2; exit 0; }
res=$tmp/results

m() { python3 "$here/tui_measure.py" "$@"; }

start=$(date +%s)
echo "nfpilot live-view bench: $bin, $(nproc) cores, kernel $(uname -r), $(tmux -V), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

m floor --out "$res"

fixture 10k 1 10000
m first --bin "$bin" --ns "$pfx-10k" --chain big --rules 10000 --out "$res" --label "10k, chain big"
m refresh --bin "$bin" --ns "$pfx-10k" --chain big --rules 10000 --out "$res" \
    --label "10k, chain big, top" --refresh 0.2
m idle --bin "$bin" --ns "$pfx-10k" --chain big --rules 10000 --out "$res" \
    --label "10k, chain big, refresh 1 s" --secs 30
ip netns del "$pfx-10k"

if [ "$quick" != 1 ]; then
	fixture 100k 1 100000
	m first --bin "$bin" --ns "$pfx-100k" --chain big --rules 100000 --out "$res" \
	    --label "100k, chain big"
	m refresh --bin "$bin" --ns "$pfx-100k" --chain big --rules 100000 --out "$res" \
	    --label "100k, chain big, top" --refresh 0.2
	m refresh --bin "$bin" --ns "$pfx-100k" --chain big --rules 100000 --out "$res" \
	    --label "100k, chain big, at the end (G)" --end --refresh 1
	ip netns del "$pfx-100k"
fi

fixture 100x1k 100 1000
m first --bin "$bin" --ns "$pfx-100x1k" --chain c000 --rules 1000 --out "$res" \
    --label "100x1k, chain c000" --total 100000
m refresh --bin "$bin" --ns "$pfx-100x1k" --chain c000 --rules 1000 --out "$res" \
    --label "100x1k, chain c000" --refresh 0.2
ip netns del "$pfx-100x1k"

echo >&2
echo "nfpilot live view (tmux ${COLUMNS:-120}x40), total bench time $(( $(date +%s) - start )) s"
m table "$res" ${BENCH_TUI_OUT:+--md "$BENCH_TUI_OUT"}
echo "load now: $(cut -d' ' -f1-3 /proc/loadavg)"
