#!/bin/sh
# nfpilot bench: the revert at the end of a probation. For a table of 1k,
# 10k and 100k rules (gen.py: one base chain), a one-rule change is applied
# with `nfpilot apply --detach --timeout 10` (a script: its restore point is
# the whole table) and with `nfpilot edit --detach --timeout 10 --append`
# (an edit by handle: its restore point is the inverse), left unconfirmed; a watcher
# in the namespace times, against the guardian's deadline, the commit that
# restores the table (the ruleset's generation id moves) and the end of the
# probation (the guardian's restore point removed: history written). Side
# by side, nft -f loading the same table (`delete table` + the whole table,
# the text equivalent of the guardian's batch). Ratios reported, nothing
# asserted.
# usage: sh tests/bench/restore.sh [NFPILOT]
#   BENCH_REPS=N   reverts per size up to 10k (default min(BENCH_REPS, 3));
#                  nft -f loads: BENCH_REPS (100k: min(N, 3)); 100k: 1 revert
#   BENCH_QUICK=1  skip the 100k-rule table
#   BENCH_OUT=F    append the table as markdown to F
# Needs root; fixtures live in throw-away namespaces nfpr-PID-*; history and
# the guardians' state go to the temp dir (NFPILOT_LIB_DIR, NFPILOT_RUN_DIR).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bench_setup "bench restore" nfprestore nfpr "${1:-}"
export NFPILOT_LIB_DIR="$tmp/lib" NFPILOT_RUN_DIR="$tmp/run"
trap bench_cleanup_guardians EXIT # a guardian left by a bench stopped early too
TIMEOUT=10

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# the watcher, run in the namespace: inotify on the guardian's run folder
# (each persist renames info.tmp to info, the deadline in it: the last one
# before the revert is the guardian's, when the change went in and the
# deadline was set; restore.snap is removed when the probation is over) and the
# generation id (NFT_MSG_GETGEN every 2 ms: its last change is the restore's
# commit). Prints "last_persist commit over" (epoch seconds) when the
# probation is over, or fails after the time limit; the deadline is taken
# as TIMEOUT after nfpilot returned.
cat >"$tmp/watch.py" <<'EOF'
import ctypes, os, socket, struct, sys, time
run, limit = sys.argv[1], float(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
ino = libc.inotify_init1(os.O_NONBLOCK)
IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x80, 0x100, 0x200
if ino < 0 or libc.inotify_add_watch(ino, run.encode(), IN_CREATE | IN_DELETE | IN_MOVED_TO) < 0:
    sys.exit("inotify on %s failed" % run)
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
seq = 0
def genid():
    global seq
    seq += 1
    # NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETGEN, NLM_F_REQUEST; nfgenmsg
    nl.send(struct.pack("=IHHII", 20, (10 << 8) | 16, 1, seq, 0) + struct.pack("=BBH", 0, 0, 0))
    while True:
        d = nl.recv(65536)
        off = 20
        while off + 4 <= len(d):
            alen, atype = struct.unpack_from("=HH", d, off)
            if atype & 0x3fff == 1:  # NFTA_GEN_ID
                return struct.unpack_from(">I", d, off + 4)[0]
            off += (alen + 3) & ~3
print("ready", flush=True)
gens, creates, over = [(time.time(), genid())], [], None
end = time.time() + limit
while time.time() < end and over is None:
    try:
        buf = os.read(ino, 65536)
    except BlockingIOError:
        buf = b""
    t = time.time()
    off = 0
    while off < len(buf):
        wd, mask, cookie, ln = struct.unpack_from("=iIII", buf, off)
        name = buf[off + 16:off + 16 + ln].rstrip(b"\0").decode()
        off += 16 + ln
        if mask & IN_MOVED_TO and name == "info":
            creates.append(t)
        if mask & IN_DELETE and name == "restore.snap":
            g = genid()  # the revert's commit may be just before it
            if g != gens[-1][1]:
                gens.append((time.time(), g))
            if len(gens) >= 3:
                over = t
    g = genid()
    if g != gens[-1][1]:
        gens.append((time.time(), g))
    time.sleep(0.002)
if over is None or len(gens) < 3:
    sys.exit("no revert seen: %d generation changes, %d persists" % (len(gens) - 1, len(creates)))
commit = gens[-1][0]
dl = max(c for c in creates if c < commit)
print("%.4f %.4f %.4f" % (dl, commit, over))
EOF

# one NAME RULES: nft -f against the guardian's revert, of a script and of an edit
one() {
	name=$1 rules=$2 ns=$pfx-$1
	fixture "$name" 1 "$rules"
	{ echo "delete table inet T"; python3 "$here/gen.py" T 1 "$rules"; } >"$tmp/load.nft"
	nreps=$reps
	[ "$rules" -ge 100000 ] && nreps=$(( reps < 3 ? reps : 3 ))
	: >"$tmp/nft"
	i=0
	while [ "$i" -lt "$nreps" ]; do
		t0=$(now); ip netns exec "$ns" nft -f "$tmp/load.nft"; t1=$(now)
		echo "$t0 $t1" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/nft"
		i=$((i + 1))
	done
	rm -f "$tmp/load.nft"
	before=$(ip netns exec "$ns" nft -s list table inet T | md5sum)
	run="$NFPILOT_RUN_DIR/netns-$ns.$(stat -L -c %i "/run/netns/$ns")"
	mkdir -p -m 0700 "$run"
	echo 'add rule inet T big tcp dport 1 accept comment "probation"' >"$tmp/change.nft"
	nrev=$(( reps < 3 ? reps : 3 ))
	[ "$rules" -ge 100000 ] && nrev=1
	mn=$(median <"$tmp/nft")
	for kind in apply edit; do
		: >"$tmp/apply"; : >"$tmp/commit"; : >"$tmp/over"
		i=0
		while [ "$i" -lt "$nrev" ]; do
			: >"$tmp/watch.out" # not the last one's "ready" (its own redirect may come late)
			ip netns exec "$ns" python3 "$tmp/watch.py" "$run" 600 >"$tmp/watch.out" &
			w=$!
			i_ready=0
			until grep -q ready "$tmp/watch.out" 2>/dev/null; do
				i_ready=$((i_ready + 1))
				if [ "$i_ready" -gt 400 ] || ! kill -0 "$w" 2>/dev/null; then
					echo "bench restore: $name: the watcher did not start" >&2
					exit 1
				fi
				sleep 0.05
			done
			t0=$(now)
			if [ "$kind" = apply ]; then
				"$bin" -N "$ns" apply --detach --timeout "$TIMEOUT" "$tmp/change.nft" >/dev/null
			else
				"$bin" -N "$ns" edit --detach --timeout "$TIMEOUT" -t inet T -c big \
					--append 'tcp dport 1 accept comment "probation"' >/dev/null
			fi
			t1=$(now)
			echo "$t0 $t1" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/apply"
			if ! wait "$w"; then
				echo "bench restore: $name: the watcher saw no revert" >&2
				exit 1
			fi
			# the deadline: TIMEOUT after nfpilot returned (the guardian sets it
			# just before its answer; an edit's restore point is persisted again
			# after that, so the watcher's last persist is not the deadline)
			set -- $(tail -n 1 "$tmp/watch.out")
			echo "$t1 $2 $3" | awk -v T="$TIMEOUT" '{ printf "%.4f\n", $2 - ($1 + T) }' >>"$tmp/commit"
			echo "$t1 $2 $3" | awk -v T="$TIMEOUT" '{ printf "%.4f\n", $3 - ($1 + T) }' >>"$tmp/over"
			if [ "$(ip netns exec "$ns" nft -s list table inet T | md5sum)" != "$before" ]; then
				echo "bench restore: $name: the table is not as before after the revert" >&2
				exit 1
			fi
			i=$((i + 1))
		done
		ma=$(median <"$tmp/apply")
		mc=$(median <"$tmp/commit"); mo=$(median <"$tmp/over")
		echo "$name ($kind)|$rules|$mn|$ma|$mc|$mo|$(awk "BEGIN { printf \"%.3f\", $mc / $mn }")|$nreps/$nrev" \
			>>"$tmp/rows"
	done
	ip netns del "$ns"
}

start=$(date +%s)
: >"$tmp/rows"
one 1k 1000
one 10k 10000
[ "$quick" != 1 ] && one 100k 100000

load=$(cut -d' ' -f1-3 /proc/loadavg)
head="nfpilot restore bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) cores, kernel $(uname -r), $(nft --version), load $load, $(( $(date +%s) - start )) s"
{
	echo "$head"
	printf '%-12s %8s %10s %12s %12s %12s %8s %6s\n' table rules "nft -f" "apply/edit" \
		"->restored" "->over" ratio reps
	while IFS='|' read -r n r a b c d q k; do
		printf '%-12s %8s %10s %12s %12s %12s %8s %6s\n' "$n" "$r" "$a" "$b" "$c" "$d" "$q" "$k"
	done <"$tmp/rows"
	echo "(seconds, medians; ->restored: from the deadline to the commit that restores the"
	echo " table; ->over: to the end of the probation (restore point gone); ratio: ->restored / nft -f;"
	echo " apply/edit: nfpilot apply --detach / edit --detach of the one-rule change; reps: nft -f loads / reverts)"
}
if [ -n "${BENCH_OUT:-}" ]; then
	{
		echo
		echo "## Reverting at the deadline"
		echo
		echo "$head."
		echo "\`sh tests/bench/restore.sh\`: a one-rule change to table inet T (gen.py, one chain) applied with"
		echo "\`nfpilot apply --detach --timeout 10\` (apply: restore point = the whole table) or"
		echo "\`nfpilot edit --detach --timeout 10 --append\` (edit: restore point = the inverse) and not"
		echo "confirmed; times from the guardian's deadline."
		echo
		echo "| table | nft -f load | apply/edit --detach | deadline → restored | deadline → over | restored / nft -f | reps |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		while IFS='|' read -r n r a b c d q k; do
			echo "| $n, $r rules | $a | $b | $c | $d | $q | $k |"
		done <"$tmp/rows"
	} >>"$BENCH_OUT"
fi
