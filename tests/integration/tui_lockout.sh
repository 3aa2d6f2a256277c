#!/bin/bash
# The lockout pre-check in the live view (check/lockout.h): W asks the
# sandbox about the admin's SSH session with the staged edits in it. The
# issue's reproduction: flushing an input chain whose policy is drop asked
# only "Flush chain input?", and W applied it; now W says the change drops
# the session, at which policy, wrapped on an 80-column terminal, and n
# leaves the kernel untouched; y applies it anyway, on probation. The
# history screen's restore of that change is stopped the same way.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tui_lib.sh"

setup_net
srv nft add table inet web
srv nft 'add chain inet web input { type filter hook input priority 0; policy drop; }'
srv nft add rule inet web input ct state established,related accept
srv nft add rule inet web input tcp dport 22 accept
genid() { nfp list --json >"$TEST_TMP/gen.json" 2>/dev/null && json_get "$TEST_TMP/gen.json" 'd["genid"]'; }
tui_start --size 80x24 SSH_CONNECTION="$CLI_IP 40000 $SRV_IP 22" NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" ||
	bail "the live view did not start"
keys Tab
act flush-chain
wait_for 'Flush chain input' 5 >/dev/null
keys y
G0=$(genid)
keys W
expect "W: the flush is stopped by the lockout pre-check" 'LOCKOUT: this change drops your own SSH' 20
expect "... naming the session" '10\.200\.0\.2:40000 -> :22'
# the question wraps: every part of it is on screen, [y/N] last
Q=$(screen | tr -s ' \n' '  ')
check "... and the policy that drops it, wrapped, never cut" sh -c "printf '%s' '$Q' | grep -qF 'at chain input policy drop (inet web)'"
check "... suggesting strict mode" sh -c "printf '%s' '$Q' | grep -qF 'strict mode (--confirm-new-session)'"
expect "... asking, [y/N] on screen" '\[y/N\]'
keys n
check_eq "n: nothing reached the kernel (generation)" "$(genid)" "$G0"
check "n: the rules are still in" sh -c "ip netns exec $SRV nft list chain inet web input | grep -q 'dport 22 accept'"
keys W
wait_for 'LOCKOUT' 20 >/dev/null
keys y
expect "y: applied anyway, on probation" 'applied 1 edit on probation' 15
check "... the chain is flushed in the kernel" sh -c "! ip netns exec $SRV nft list chain inet web input | grep -q 'dport 22'"
keys Y
wait_for 'confirmed|kept' 10 >/dev/null
# the flushed chain, confirmed, is history entry N: its rules back by hand,
# then r in the history screen would flush them again
srv nft add rule inet web input tcp dport 22 accept
G0=$(genid)
keys H
wait_for 'History' 5 >/dev/null
keys End r
expect "history r: the restore is stopped by the lockout pre-check" 'LOCKOUT: this change drops your own SSH' 20
expect "... asking" 'anyway\?'
keys n
check_eq "n: nothing reached the kernel (generation)" "$(genid)" "$G0"
# the connections screen's b applies at once: blocking the admin's own
# address is stopped the same way
srv nft add rule inet web input ct state established,related accept
srv nft add rule inet web input icmp type echo-request accept
cli ping -c 1 -W 1 "$SRV_IP" >/dev/null
keys Esc 2
act connection-filter
typein "src $CLI_IP"
keys Enter
wait_for '[1-9][0-9]* connections? match' 5 >/dev/null
keys g b
expect "conns b asks to block" "Block $CLI_IP"
G0=$(genid)
keys y
expect "conns b: not blocked, the lockout said" 'not blocked: LOCKOUT: this change drops your own SSH' 20
check_eq "... nothing reached the kernel (generation)" "$(genid)" "$G0"
tui_end
# a change that keeps SSH in passes without a word
srv nft add rule inet web input tcp dport 80 accept
tui_start --size 80x24 SSH_CONNECTION="$CLI_IP 40000 $SRV_IP 22" NFPILOT_LIB_DIR="$NFPILOT_LIB_DIR" ||
	bail "the live view did not start"
keys Tab
act append
typein "tcp dport 443 accept"
keys Enter W
expect "a change that keeps the session asks as before" 'Apply 1 staged edit as one transaction\?' 20
expect_not "... without a lockout" 'LOCKOUT'
keys n
tui_end
finish
