#!/bin/bash
# The files root's nfpilot writes (issue 11, item 3): `save` writes through
# a fresh temporary file in the target's folder and never through a link;
# a target or a folder on the path that another user owns or can write is
# refused with a message, and so is a target that is a symbolic link; the
# mode is never more than 0644 unless asked (--mode, config save_mode), and
# never set-id or writable by others even then; FILE.bak the same; a full
# disk is "No space left on device". The history nfpilot writes is 0600 in
# 0700 folders. The local user is `nobody`, through setpriv.
. "$(dirname "$0")/../lib.sh"

ns_add "$SRV" || bail "ip netns add $SRV"
srv nft -f - <<'EOF' || bail "a ruleset"
table inet web {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 accept
	}
}
EOF
# nobody must reach its folder under the test's temp dir
chmod 0755 "$TEST_TMP"
NOBODY_UID=65534
as_nobody() { setpriv --reuid=$NOBODY_UID --regid=65534 --clear-groups "$@"; }
# mode_of FILE: "4777 root", as stat says
mode_of() { stat -c '%a %U' "$1"; }

# A file of root's a link could make nfpilot write: it must never change.
VICTIM="$TEST_TMP/victim"
printf 'precious\n' >"$VICTIM"
chmod 0600 "$VICTIM"
victim_intact() {
	[ "$(cat "$VICTIM")" = precious ] && [ "$(mode_of "$VICTIM")" = "600 root" ]
}

# ---- the audit's case: a folder a local user owns, fw.nft at 4777, and
# fw.nft.nfpilot-new a link to a file of root's
U="$TEST_TMP/user"
mkdir "$U" && chown $NOBODY_UID "$U" && chmod 0755 "$U"
as_nobody sh -c "echo 'table inet user { }' >'$U/fw.nft' && chmod 4777 '$U/fw.nft' &&
	ln -s '$VICTIM' '$U/fw.nft.nfpilot-new'" || bail "nobody's files"
check_rc "save into a folder nobody owns: refused" 1 nfp save "$U/fw.nft"
check "... the message names the folder and its owner" grep -q "$U belongs to uid $NOBODY_UID" <<<"$RC_ERR"
check "... the root file behind the link is untouched" victim_intact
check_eq "... fw.nft is as the user left it" "$(mode_of "$U/fw.nft") $(cat "$U/fw.nft")" \
	"4777 nobody table inet user { }"
check "... no .bak, no temporary file left" eval '[ -z "$(ls -A "$U" | grep -v "^fw.nft$\|^fw.nft.nfpilot-new$")" ]'

# ---- a root folder, but the target is the user's / world-writable / a link
R="$TEST_TMP/root"
mkdir -m 0755 "$R"
as_nobody sh -c "true" || true
touch "$R/user.nft" && chown $NOBODY_UID "$R/user.nft"
check_rc "a target another user owns: refused" 1 nfp save "$R/user.nft"
check "... saying whose it is" grep -q "user.nft belongs to uid $NOBODY_UID" <<<"$RC_ERR"
check_eq "... and left as it was" "$(mode_of "$R/user.nft") $(stat -c %s "$R/user.nft")" "644 nobody 0"
install -m 0666 /dev/null "$R/open.nft"
check_rc "a target anyone can write (0666): refused" 1 nfp save "$R/open.nft"
check "... saying so, with its mode" grep -q "open.nft can be written by other users (mode 0666)" <<<"$RC_ERR"
ln -s "$VICTIM" "$R/link.nft"
check_rc "a target that is a symbolic link: refused" 1 nfp save "$R/link.nft"
check "... saying it is a link, and to what" grep -q "link.nft is a symbolic link to $VICTIM" <<<"$RC_ERR"
check "... the file it points to is untouched" victim_intact
check "... the link is still a link" test -L "$R/link.nft"

# ---- a folder anyone can write, sticky or not; an ancestor nobody owns
mkdir -m 0777 "$TEST_TMP/open"
chmod 0777 "$TEST_TMP/open"
check_rc "into a folder anyone can write (0777): refused" 1 nfp save "$TEST_TMP/open/fw.nft"
check "... saying so" grep -q "open can be written by other users (mode 0777)" <<<"$RC_ERR"
check "... nothing written" test ! -e "$TEST_TMP/open/fw.nft"
chmod 1777 "$TEST_TMP/open"
check_rc "into a sticky folder anyone can write (1777, as /tmp): refused" 1 \
	nfp save "$TEST_TMP/open/fw.nft"
mkdir -m 0755 "$U/sub" 2>/dev/null || as_nobody mkdir -m 0755 "$U/sub"
chown root "$U/sub"
check_rc "into a root folder below one nobody owns: refused" 1 nfp save "$U/sub/fw.nft"
check "... naming the folder nobody owns" grep -q "$U belongs to uid $NOBODY_UID" <<<"$RC_ERR"
as_nobody ln -s "$R" "$U/to-root"
check_rc "through a link in nobody's folder to a root folder: refused" 1 \
	nfp save "$U/to-root/fw.nft"
check "... nothing written there" test ! -e "$R/fw.nft"
ln -s "$R" "$TEST_TMP/root-link"
check_rc "through root's own link to a root folder: saved" 0 nfp save "$TEST_TMP/root-link/fw.nft"
check "... into the real folder" test -f "$R/fw.nft"

# ---- a root folder, the old name of the temporary file a link: not used
ln -s "$VICTIM" "$R/boot.nft.nfpilot-new"
install -m 4755 /dev/null "$R/boot.nft"
echo '# before' >"$R/boot.nft"
chmod 4755 "$R/boot.nft"
check_rc "save over a 4755 file of root's" 0 nfp save "$R/boot.nft"
check "... the root file behind the old temporary name is untouched" victim_intact
check_eq "... the new file: 0644 at most, no set-id" "$(mode_of "$R/boot.nft")" "644 root"
check "... it holds the ruleset" grep -q 'table inet web' "$R/boot.nft"
check_eq "... the previous one kept as .bak" "$(cat "$R/boot.nft.bak")" "# before"
check_eq "... .bak is 0644 at most too" "$(mode_of "$R/boot.nft.bak")" "644 root"
check "... no temporary file left" eval '[ -z "$(ls -A "$R" | grep nfpilot-)" ] || [ "$(ls -A "$R" | grep nfpilot-)" = boot.nft.nfpilot-new ]'
chmod 0600 "$R/boot.nft"
check_rc "save over a 0600 file" 0 nfp save "$R/boot.nft"
check_eq "... stays 0600 (never looser than it was)" "$(mode_of "$R/boot.nft")" "600 root"
check_rc "--mode 0750: the admin asks" 0 nfp save --mode 0750 "$R/boot.nft"
check_eq "... 0750" "$(mode_of "$R/boot.nft")" "750 root"
check_rc "--mode 4755: refused" 2 nfp save --mode 4755 "$R/boot.nft"
check_rc "--mode 0664: refused" 2 nfp save --mode 0664 "$R/boot.nft"
check_eq "... the file as it was" "$(mode_of "$R/boot.nft")" "750 root"
printf 'save_mode = 0640\n' >"$TEST_TMP/mode.conf"
check_rc "config save_mode = 0640" 0 env NFPILOT_CONFIG="$TEST_TMP/mode.conf" \
	"$NFPILOT" -N "$SRV" save "$R/boot.nft"
check_eq "... 0640" "$(mode_of "$R/boot.nft")" "640 root"
printf 'save_mode = 4777\n' >"$TEST_TMP/bad.conf"
check_rc "config save_mode = 4777 is ignored (warned): the default" 0 \
	env NFPILOT_CONFIG="$TEST_TMP/bad.conf" "$NFPILOT" -N "$SRV" save "$R/boot.nft"
check_eq "... the previous file's bits within 0644" "$(mode_of "$R/boot.nft")" "640 root"
rm -f "$R/boot.nft.bak"
ln -s "$VICTIM" "$R/boot.nft.bak"
check_rc "FILE.bak a symbolic link: refused" 1 nfp save "$R/boot.nft"
check "... saying so" grep -q "boot.nft.bak is a symbolic link" <<<"$RC_ERR"
check "... the file behind it is untouched" victim_intact

# ---- a full disk: the real errno, the file as it was (a private mount
# namespace: the tmpfs is seen by this command only)
FULL="$TEST_TMP/full"
mkdir -m 0700 "$FULL"
OUT=$(unshare -m --propagation private sh -c '
	mount -t tmpfs -o size=64k,mode=0700 tmpfs "$1" || exit 99
	echo "# old" >"$1/fw.nft"
	dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null
	"$2" -N "$3" save "$1/fw.nft"
	echo "rc=$?"
	echo "old=$(cat "$1/fw.nft")"
	ls -A "$1" | grep -c nfpilot-' sh "$FULL" "$NFPILOT" "$SRV" 2>&1)
case "$OUT" in
*"rc=99"*) skip "save on a full disk" "cannot mount a tmpfs here" ;;
*)
	check "a full disk: not saved, exit 1" grep -q '^rc=1$' <<<"$OUT"
	check "... says 'No space left on device', not 'Input/output error'" \
		grep -q 'No space left on device' <<<"$OUT"
	check "... the file as it was" grep -q '^old=# old$' <<<"$OUT"
	check_eq "... no temporary file left" "$(tail -n 1 <<<"$OUT")" 0
	;;
esac

# ---- the history root writes: 0600 files in 0700 folders
check_rc "a change, confirmed (history written)" 0 nfp_yes edit -t inet web -c input \
	--append 'tcp dport 2222 accept'
H="$NFPILOT_LIB_DIR/netns-$SRV/history"
check_eq "history folder 0700" "$(mode_of "$H")" "700 root"
E1=$(ls "$H" | sort -n | tail -n 1)
check_eq "entry folder 0700" "$(mode_of "$H/$E1")" "700 root"
for f in meta change.nft; do
	check_eq "history $f 0600" "$(mode_of "$H/$E1/$f")" "600 root"
done
# the guardian writes the entry's tables after its answer (.writing while it does)
check "the entry is complete once the guardian is done" poll_until 10000 eval '[ ! -e "$H/$E1/.writing" ]'
check "no temporary file left in the entry" eval '! ls -A "$H/$E1" | grep -q nfpilot-'

# ---- beside iptables-nft's tables of ip and ip6 with xt extensions (a
# DNAT target, recent matches): libxtables prints one family's extensions a
# process, so a listing of both in one process said "XT target DNAT not
# found" and leaked (ASan: exit 1). save, save --check and history show
# --before list them as the live view does: each such family in a process
# of its own.
srv iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.1:80 &&
	srv ip6tables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT \
		--to-destination '[fd00::1]:80' &&
	srv iptables -A INPUT -m addrtype --dst-type LOCAL -m recent --name a --set -j ACCEPT &&
	srv ip6tables -A INPUT -m addrtype --dst-type LOCAL -m recent --name b --set -j ACCEPT ||
	bail "iptables-nft tables of ip and ip6"
srv nft -f - <<'EOF' || bail "native tables of ip and ip6"
table ip mine { set allow { type ipv4_addr; elements = { 10.1.1.1, 10.1.1.2 }; };
	chain c { ip saddr @allow accept; }; }
table ip6 mine6 { chain c { ip6 saddr fd00::/64 accept; }; }
EOF
check_rc "save beside ip and ip6 iptables-nft tables with xt extensions" 0 nfp save "$R/xt.nft"
check_eq "... nothing on stderr (no 'XT target DNAT not found', no leak)" "$RC_ERR" ""
check "... the four iptables-nft tables left out, named" grep -q \
	"^left out, managed by iptables-nft: ip nat, ip6 nat, ip filter, ip6 filter$" <<<"$RC_OUT"
# the file: its header, then nft's own text of every other table
want=$(for t in "inet web" "ip mine" "ip6 mine6"; do srv nft -s list table $t; done)
check_eq "... the file holds the other tables as nft -s prints them" \
	"$(sed '1,/^flush ruleset$/d' "$R/xt.nft" | sed '1{/^$/d}')" "$want"
check_rc "save --check of it" 0 nfp save --check "$R/xt.nft"
check_eq "... nothing on stderr" "$RC_ERR" ""
check "... the live ruleset is what it loads" grep -q "is what $R/xt.nft loads" <<<"$RC_OUT"
printf 'add rule ip nat PREROUTING tcp dport 9 counter\nadd rule ip6 nat PREROUTING tcp dport 9 counter\n' \
	>"$TEST_TMP/both.nft"
check_rc "a change to ip nat and ip6 nat, confirmed" 0 nfp_yes apply "$TEST_TMP/both.nft"
N=$(nfp history | awk '$1 ~ /^[0-9]+$/ { n = $1 } END { print n }')
check_rc "history show --before of it (both tables, in a scratch namespace)" 0 \
	nfp history show "$N" --before
check_eq "... nothing on stderr" "$RC_ERR" ""
check "... ip nat's DNAT as nft prints it" grep -q "tcp dport 8080 counter dnat to 10.0.0.1:80" \
	<<<"$RC_OUT"
check "... and ip6 nat's" grep -q "tcp dport 8080 counter dnat to \[fd00::1\]:80" <<<"$RC_OUT"

finish
