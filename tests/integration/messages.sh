#!/bin/bash
# What reaches the admin's terminal (issue 11, item 10): names a hostile
# program gave a table and a chain — ESC, BEL, the bidi override U+202E,
# a lone 0x9B (CSI on 8-bit terminals) — come out made safe in list,
# status, history and every error message; under LC_ALL=C no byte >= 0x80
# at all, under C.UTF-8 UTF-8 text stays. A refusal of root by the kernel
# (a table another process owns) is exit 1, "not permitted", never "needs
# root" (exit 4); nfpilot edit as non-root says why it exits 4.
. "$(dirname "$0")/../lib.sh"

ns_add "$SRV" || bail "ip netns add $SRV"
NFTNAME="$(dirname "$0")/../tools/nftname.py"

# raw: the name as bytes, for nfpilot's command line
TABLE_ESC='ev\x1b[31m\x07\xe2\x80\xaeil\x9b'
CHAIN_ESC='c\x1b]0;x\x07'
TABLE=$(printf "$TABLE_ESC")
CHAIN=$(printf "$CHAIN_ESC")
srv python3 "$NFTNAME" inet "$TABLE_ESC" "$CHAIN_ESC" || bail "a table with a hostile name"
srv nft add table inet plain
srv nft add chain inet plain c
srv nft add rule inet plain c counter comment "\"caf$(printf '\303\251')\""

# raw_bytes FILE...: ok when none of ESC, BEL, the UTF-8 of U+202E, 0x9B
# alone is there
raw_bytes() {
	LC_ALL=C grep -q "$(printf '[\033\007\233]')" "$@" ||
		LC_ALL=C grep -qF "$(printf '\342\200\256')" "$@"
}
# clean DESC FILE...: not one raw control byte in the files
clean() {
	local d=$1
	shift
	if raw_bytes "$@"; then
		not_ok "$d: raw control bytes: $(cat "$@" | od -c | head -4 | tr '\n' '|')"
	else
		ok "$d"
	fi
}
# ascii DESC FILE...: no byte >= 0x80 (a non-UTF-8 locale)
ascii() {
	local d=$1
	shift
	if LC_ALL=C grep -q "$(printf '[\200-\377]')" "$@"; then
		not_ok "$d: bytes >= 0x80: $(LC_ALL=C grep -a "$(printf '[\200-\377]')" "$@" | od -c | head -4 | tr '\n' '|')"
	else
		ok "$d"
	fi
}

# ---- list
O="$TEST_TMP/o"
E="$TEST_TMP/e"
nfp list >"$O" 2>"$E"
check_eq "list with hostile names exits 0" "$?" 0
clean "list: no raw ESC, BEL, U+202E or 0x9B" "$O" "$E"
check "list: the table shown, its controls as '?'" grep -qF 'table inet ev?[31m????il?' "$O"
check "list: the chain shown, its controls as '?'" grep -qF 'c?]0;x?' "$O"
LC_ALL=C nfp list >"$O" 2>"$E"
ascii "list under LC_ALL=C: no byte >= 0x80 (the comment's é too)" "$O" "$E"
LC_ALL=C.UTF-8 nfp list >"$O" 2>"$E"
check "list under C.UTF-8: UTF-8 text kept" grep -qF "caf$(printf '\303\251')" "$O"
clean "list under C.UTF-8: still no raw controls" "$O" "$E"
nfp list --json >"$O" 2>"$E"
check "--json: U+202E escaped, not raw" python3 -c '
import json, sys
raw = open(sys.argv[1], "rb").read()
json.loads(raw)
sys.exit(0 if b"\\u202e" in raw and b"\xe2\x80\xae" not in raw else 1)' "$O"

# ---- errors: cli_fail prints what the kernel and the command line named
check_rc "edit: deleting a missing handle in the hostile chain: not found" 3 \
	nfp edit -t inet "$TABLE" -c "$CHAIN" --delete-handle 99999
printf '%s\n' "$RC_ERR" >"$E"
clean "... its error names them without raw bytes" "$E"
check "... and says which (sanitised)" grep -qF 'ev?[31m' "$E"
check_rc "list -t TABLE -c missing: not found" 3 nfp list -t inet "$TABLE" -c "nosuch$(printf '\033[2J')"
printf '%s\n' "$RC_ERR" >"$E"
clean "... the error has no raw bytes" "$E"
check_rc "an nft error of several lines" 1 nfp edit -t inet "$TABLE" -c "$CHAIN" \
	--append "tcp dport 1 $(printf 'bogus\033[5m')"
printf '%s\n' "$RC_ERR" >"$E"
clean "... no raw bytes in any line" "$E"
check_ge "... its lines kept ($(wc -l <"$E") lines)" "$(wc -l <"$E")" 2

# ---- status and history: the hostile table deleted by a script (by its
# handle: nft cannot name it) from a file whose name is hostile too, on
# probation, then confirmed
# (nft -j aborts on the name's broken UTF-8: the handle from nft -a)
H=$(srv nft -a list ruleset | LC_ALL=C sed -n 's/^table inet ev.* { # handle \([0-9]*\)$/\1/p')
SCRIPT="$TEST_TMP/$(printf 'del\033[1m\342\200\256.nft')"
printf 'delete table inet handle %s\n' "$H" >"$SCRIPT"
check_rc "a script deleting the hostile table, on probation (detached)" 0 \
	nfp apply --detach "$SCRIPT"
nfp status >"$O" 2>"$E"
check "status names the table on probation" grep -qF 'ev?[31m' "$O"
check "status names the script" grep -qF 'del?[1m???.nft' "$O"
clean "status: no raw bytes" "$O" "$E"
LC_ALL=C nfp status >"$O" 2>&1
ascii "status under LC_ALL=C: no byte >= 0x80" "$O"
check_rc "confirm" 0 nfp confirm
nfp history >"$O" 2>"$E"
check "history lists the change" grep -qF 'ev?[31m' "$O"
clean "history: no raw bytes" "$O" "$E"
N=$(nfp history | awk '$1 ~ /^[0-9]+$/ { n = $1 } END { print n }')
nfp history show "$N" >"$O" 2>"$E"
check "history show $N names the script" grep -qF 'del?[1m???.nft' "$O"
clean "history show $N: no raw bytes" "$O" "$E"
nfp history show "$N" --before >"$O" 2>"$E"
check "history show $N --before lists the table" grep -qF 'ev?[31m' "$O"
clean "history show $N --before: no raw bytes" "$O" "$E"

# ---- EPERM as root: the hostile table made again, owned by another
# process (the owner flag: only that process may change it), and a plain
# one the same. restore N --before must put the table back and the kernel
# refuses: a refusal (1) naming the table safely, never "needs root" (4)
mkfifo "$TEST_TMP/own.in"
srv python3 "$NFTNAME" --own inet "$TABLE_ESC" "$CHAIN_ESC" <"$TEST_TMP/own.in" >"$TEST_TMP/own1" &
BG_PIDS="$BG_PIDS $!"
srv python3 "$NFTNAME" --own inet own c <"$TEST_TMP/own.in" >"$TEST_TMP/own2" &
BG_PIDS="$BG_PIDS $!"
exec 7>"$TEST_TMP/own.in"
poll_until 5000 eval 'grep -q ready "$TEST_TMP/own1" && grep -q ready "$TEST_TMP/own2"' ||
	bail "tables another process owns"
check_rc "restore $N --before of a table another process owns: a refusal (1)" 1 \
	nfp restore "$N" --before --detach
printf '%s\n' "$RC_ERR" >"$E"
clean "... the restore error names the table without raw bytes" "$E"
check "... names it" grep -qF 'ev?[31m' "$E"
check "... says the kernel refused" grep -qi 'not permitted' "$E"
check "... never that root needs root" eval '! grep -qi "needs root" "$E"'
check_rc "edit --force of an owned table: the kernel refuses root: 1, not 4" 1 \
	nfp edit --force --detach -t inet own --flush-chain c
check "... says the kernel refused" grep -qi 'not permitted' <<<"$RC_ERR"
check "... never that root needs root" eval '! grep -qi "needs root" <<<"$RC_ERR"'
exec 7>&-
over || end_probation "$SRV"

# ---- an answer that cannot be written (a full disk): exit 1 and the real
# errno, never a silent success or "Input/output error"
for verb in status history list; do
	"$NFPILOT" -N "$SRV" $verb >/dev/full 2>"$E"
	check_eq "nfpilot $verb >/dev/full: exit 1" "$?" 1
	check "... says 'No space left on device'" grep -q 'No space left on device' "$E"
done

# ---- not root: exit 4 and a message, every time
nobody() { srv setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
for args in "edit -t inet plain -c c --append accept" "edit" "edit --genid 1 -t inet plain -c c --delete 1" \
	"edit -t inet plain --add-table"; do
	# shellcheck disable=SC2086
	check_rc "not root: nfpilot $args" 4 nobody "$NFPILOT" $args
	check "... says it needs root" grep -q 'needs root' <<<"$RC_ERR"
done
check_rc "not root: edit --help needs no kernel" 0 nobody "$NFPILOT" edit --help
check "... and prints the usage" grep -q '^usage: nfpilot' <<<"$RC_OUT"
finish
