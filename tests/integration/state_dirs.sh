#!/bin/bash
# Who made the folders nfpilot keeps its state in (issue 11, item 9, the
# folders): the run folder of a namespace (/run/nfpilot/netns-NAME.INODE,
# where the guardian's socket lives) and the history's are lstat'ed from /
# down; one another user made — to plant a fake guardian socket that
# answers "rolled back" — or a symbolic link is refused with a message,
# before anything is asked of it; root's own is tightened to 0700.
# NFPILOT_RUN_DIR / NFPILOT_LIB_DIR in a root temp folder keep working.
. "$(dirname "$0")/../lib.sh"

ns_add "$SRV" || bail "ip netns add $SRV"
srv nft add table inet web || bail "a table"
chmod 0755 "$TEST_TMP"
INO=$(stat -L -c %i "/run/netns/$SRV")
RUN="$RUN_ROOT/netns-$SRV.$INO"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mode_of() { stat -c '%a %U' "$1"; }

check_rc "status before anything: no probation" 0 nfp status
check_eq "... the run folder is root's, 0700" "$(mode_of "$RUN")" "700 root"

# ---- a folder a local user made, with a socket that answers as a guardian.
# (The machine's /run/nfpilot is root's 0700: nobody cannot reach into it.
# The same with a run root nobody can reach, as before nfpilot made it.)
URUN="$TEST_TMP/urun-root"
mkdir -m 0755 "$URUN"
UDIR="$URUN/netns-$SRV.$INO"
mkdir -m 0700 "$UDIR" && chown 65534 "$UDIR"
as_nobody /usr/bin/python3 - "$UDIR/sock" >"$TEST_TMP/fake.out" 2>&1 <<'EOF2' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(4)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    try:
        c.recv(65536)
        c.send(b"ok 99")
    except OSError:
        pass
    c.close()
EOF2
FAKE=$!
BG_PIDS="$BG_PIDS $FAKE"
poll_until 5000 grep -q ready "$TEST_TMP/fake.out" || bail "a fake guardian socket: $(cat "$TEST_TMP/fake.out")"
unfp() { env NFPILOT_RUN_DIR="$URUN" "$NFPILOT" -N "$SRV" "$@"; }
check_rc "rollback with a run folder nobody made: refused" 1 unfp rollback
check "... naming the folder and its owner" grep -q "$UDIR belongs to uid 65534" <<<"$RC_ERR"
check "... and never saying it rolled back" eval '! grep -q "rolled back" <<<"$RC_OUT$RC_ERR"'
check_rc "confirm: refused the same" 1 unfp confirm
check "... never 'confirmed'" eval '! grep -q "^confirmed" <<<"$RC_OUT"'
check_rc "status: refused the same" 1 unfp status
check "... saying how to fix it" grep -q "remove it (rm -r $UDIR)" <<<"$RC_ERR"
echo 'add table inet x' >"$TEST_TMP/x.nft"
check_rc "apply: refused, nothing applied" 1 unfp apply --detach "$TEST_TMP/x.nft"
check "... table inet x not made" eval '! srv nft list table inet x >/dev/null 2>&1'
check_eq "... the user's folder left as it was" "$(mode_of "$UDIR")" "700 nobody"
kill "$FAKE" 2>/dev/null

# ---- a symbolic link as the run folder, to a folder of nobody's
mkdir -m 0700 "$TEST_TMP/evil" && chown 65534 "$TEST_TMP/evil"
rm -rf "$RUN"
ln -s "$TEST_TMP/evil" "$RUN"
check_rc "a symbolic link as the run folder: refused" 1 nfp status
check "... saying it is a link" grep -q "$RUN is a symbolic link" <<<"$RC_ERR"
check "... nothing made behind it" eval '[ -z "$(ls -A "$TEST_TMP/evil")" ]'
rm -f "$RUN"

# ---- root's own, loosened: tightened, used
mkdir -m 0755 "$RUN"
chmod 0755 "$RUN"
check_rc "root's run folder at 0755: used" 0 nfp status
check_eq "... tightened to 0700" "$(mode_of "$RUN")" "700 root"

# ---- the roots the tests move: a root temp folder works, a user's is refused
check_rc "NFPILOT_RUN_DIR in a root temp folder (made 0700)" 0 \
	env NFPILOT_RUN_DIR="$TEST_TMP/run" "$NFPILOT" -N "$SRV" status
check_eq "... made 0700" "$(mode_of "$TEST_TMP/run")" "700 root"
check_eq "... and its namespace folder" "$(mode_of "$TEST_TMP/run/netns-$SRV.$INO")" "700 root"
mkdir -m 0700 "$TEST_TMP/urun" && chown 65534 "$TEST_TMP/urun"
check_rc "NFPILOT_RUN_DIR a folder nobody owns: refused" 1 \
	env NFPILOT_RUN_DIR="$TEST_TMP/urun" "$NFPILOT" -N "$SRV" status
check "... naming it" grep -q "$TEST_TMP/urun belongs to uid 65534" <<<"$RC_ERR"
check_rc "NFPILOT_RUN_DIR relative: refused" 1 \
	env NFPILOT_RUN_DIR="run" "$NFPILOT" -N "$SRV" status
check "... not an absolute path" grep -q "not an absolute path" <<<"$RC_ERR"
mkdir -m 0700 "$TEST_TMP/ulib" && chown 65534 "$TEST_TMP/ulib"
check_rc "NFPILOT_LIB_DIR a folder nobody owns: history refused" 1 \
	env NFPILOT_LIB_DIR="$TEST_TMP/ulib" "$NFPILOT" -N "$SRV" history
check "... naming it" grep -q "$TEST_TMP/ulib belongs to uid 65534" <<<"$RC_ERR"
mkdir -m 0777 "$TEST_TMP/olib"
chmod 0777 "$TEST_TMP/olib"
check_rc "NFPILOT_LIB_DIR below a folder anyone can write: refused" 1 \
	env NFPILOT_LIB_DIR="$TEST_TMP/olib/lib" "$NFPILOT" -N "$SRV" history
check "... naming it" grep -q "$TEST_TMP/olib can be written by other users" <<<"$RC_ERR"
check_rc "NFPILOT_LIB_DIR in a root temp folder: history works" 0 nfp history
check_eq "... made 0700" "$(mode_of "$NFPILOT_LIB_DIR/netns-$SRV/history")" "700 root"
finish
