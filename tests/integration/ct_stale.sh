#!/bin/bash
# nfpilot ct stale: the established connections the live ruleset no longer
# admits. Long-lived connections of every way (in to the server, forwarded
# through its DNAT, out from it, over IPv6) go on after plain nft commands
# add drops behind "ct state established accept" — the misconception of
# issue 14 — and ct stale names exactly those whose first packet the
# kernel (on a sandbox copy) now refuses, as a new connection really is
# refused; a filter narrows it; a plain iptables command is seen too;
# --json; --kill ends them at both ends while the others go on; loopback
# connections are asked through lo; a change made through nfpilot says
# how many it leaves flowing before the confirm is asked for.
. "$(dirname "$0")/../lib.sh"

setup_net
port_forward web
srv nft -f - <<'EOF' || bail "nft -f ruleset"
table inet web {
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
	}
	chain output {
		type filter hook output priority filter; policy accept;
		ct state established,related accept
	}
}
EOF
ipv6_on

echo_server "$SRV" 0.0.0.0 9000 "$TEST_TMP/srv.log"
echo_server "$SRV" 0.0.0.0 9001 "$TEST_TMP/srv.log"
echo_server "$SRV" 2001:db8:200::1 9700 "$TEST_TMP/srv.log"
echo_server "$CLI" "$MGMT_IP" 9100 "$TEST_TMP/cli.log"
echo_server "$CLI" "$MGMT_IP" 9200 "$TEST_TMP/cli.log"
A=$TEST_TMP/a B=$TEST_TMP/b F=$TEST_TMP/f O=$TEST_TMP/o V=$TEST_TMP/v
start_client "$CLI" "$SRV_IP" 9000 3 "$A"
start_client "$CLI" "$SRV_IP" 9001 2 "$B"
start_client "$CLI" "$SRV_IP" 8888 1 "$F"
start_client "$SRV" "$MGMT_IP" 9200 1 "$O"
start_client "$CLI" 2001:db8:200::1 9700 1 "$V"
read -r A1 A2 A3 <<<"$(tr '\n' ' ' <"$A/ports")"
read -r B1 B2 <<<"$(tr '\n' ' ' <"$B/ports")"
F1=$(cat "$F/ports") O1=$(cat "$O/ports") V1=$(cat "$V/ports")
# the sorted source ports of `ct stale --json`
stale_ports() { python3 -c 'import json,sys; print(" ".join(str(p) for p in sorted(c["orig"]["sport"] for c in json.load(sys.stdin)["connections"])))'; }
sorted() { printf '%s\n' "$@" | sort -n | tr '\n' ' ' | sed 's/ $//'; }

# ---- 1. nothing changed: every one is admitted
check_rc "ct stale before any change" 0 nfp ct stale
check_eq "it says all 8 were checked and would be admitted" "$RC_OUT" \
	"every one of the 8 established connections checked would be admitted now"

# ---- 2. plain nft commands (not nfpilot) drop a port on each way
srv nft add rule inet web input tcp dport 9000 drop || bail "nft add rule input"
srv nft add rule inet web input tcp dport 9700 drop || bail "nft add rule input 9700"
srv nft add rule inet web forward tcp dport 9100 drop || bail "nft add rule forward"
srv nft add rule inet web output tcp dport 9200 drop || bail "nft add rule output"
r=$(round "$A" 1)
check_eq "the connections to 9000 still echo after the drop (established accept comes first)" \
	"$(res "$r" "$A1") $(res "$r" "$A2") $(res "$r" "$A3")" "ok ok ok"
check_eq "and a new connection to 9000 is refused, one to 9001 is not" \
	"$(tcp_blocked 1 9000) $(cli python3 -c "import socket; c = socket.create_connection(('$SRV_IP', 9001), timeout=2); c.sendall(b'x'); print(c.recv(9).decode())" 2>&1)" \
	"0 x"
check_rc "ct stale after the nft commands" 0 nfp ct stale
check_eq "it counts 6 of the 8 as no longer admitted" "$(printf '%s\n' "$RC_OUT" | head -n 1)" \
	"6 established connections would not be admitted now (of 8 checked):"
check_eq "it lists a header and 6 rows" "$(printf '%s\n' "$RC_OUT" | wc -l)" 8
check "the rows are the connections to 9000, 9100 (via the DNAT of 8888), 9200 and 9700" \
	test "$(printf '%s\n' "$RC_OUT" | grep -c ':9000 \|:8888 \|:9200 \|\]:9700 ')" = 6
check_rc "ct stale --json" 0 nfp ct stale --json
check_eq "JSON: checked 8, unsure 0, stale 6" \
	"$(printf '%s' "$RC_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["checked"], d["unsure"], d["stale"], len(d["connections"]))')" \
	"8 0 6 6"
check_eq "JSON: exactly the source ports of the dropped ways" "$(printf '%s' "$RC_OUT" | stale_ports)" \
	"$(sorted "$A1" "$A2" "$A3" "$F1" "$O1" "$V1")"
check_eq "JSON: the forwarded one is shown with its DNAT" \
	"$(printf '%s' "$RC_OUT" | python3 -c 'import json,sys; print([c["dnat"] for c in json.load(sys.stdin)["connections"] if c["orig"]["dport"] == 8888])')" \
	"[True]"

# ---- 3. a filter narrows what is asked
check_rc "ct stale dport 9001" 0 nfp ct stale dport 9001
check_eq "the two to 9001 are admitted" "$RC_OUT" \
	"every one of the 2 established connections checked would be admitted now"
check_rc "ct stale sport $A2" 0 nfp ct stale sport "$A2" --json
check_eq "one connection asked, the one refused" "$(printf '%s' "$RC_OUT" | stale_ports)" "$A2"
check_rc "a bad filter" 2 nfp ct stale dport 99999
check "the message names the word" grep -q "ct stale: bad filter: word 2 '99999'" <<<"$RC_ERR"

# ---- 3b. a plain iptables command (an iptables-nft table beside inet web)
srv iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT || bail "iptables -A"
srv iptables -A INPUT -p tcp --dport 9001 -j DROP || bail "iptables -A 9001"
check_rc "ct stale dport 9001 after iptables -A INPUT ... --dport 9001 -j DROP" 0 \
	nfp ct stale dport 9001 --json
check_eq "the two to 9001 are found" "$(printf '%s' "$RC_OUT" | stale_ports)" "$(sorted "$B1" "$B2")"
srv iptables -F INPUT || bail "iptables -F"
check_rc "ct stale dport 9001 after iptables -F INPUT" 0 nfp ct stale dport 9001
check_eq "they are admitted again" "$RC_OUT" \
	"every one of the 2 established connections checked would be admitted now"

# ---- 4. --kill ends them at both ends; the others go on
check_rc "ct stale --kill dport 9000" 0 nfp ct stale --kill dport 9000
check_eq "it lists the 3 and says what it ended" "$(printf '%s\n' "$RC_OUT" | sed -n '1p;$p')" \
"3 established connections would not be admitted now (of 3 checked):
ended 3 connections: 3 conntrack entries deleted, 3 local sockets reset"
check_eq "the server's ends were aborted" \
	"$(closed "$TEST_TMP/srv.log" "$A1") $(closed "$TEST_TMP/srv.log" "$A2") $(closed "$TEST_TMP/srv.log" "$A3")" \
	"ECONNABORTED ECONNABORTED ECONNABORTED"
r=$(round "$A" 2)
for p in $A1 $A2 $A3; do
	case $(res "$r" "$p") in
	ECONNRESET | EPIPE | eof) ok "the client's next send on $p fails ($(res "$r" "$p"))" ;;
	*) not_ok "the client's next send on $p fails: got '$(res "$r" "$p")'" ;;
	esac
done
r=$(round "$B" 1)
check_eq "the connections to 9001 go on" "$(res "$r" "$B1") $(res "$r" "$B2")" "ok ok"
r=$(round "$V" 1)
check_eq "so does the IPv6 one (not in the filter)" "$(res "$r" "$V1")" ok
check_rc "ct stale --kill --json (the rest)" 0 nfp ct stale --kill --json
check_eq "JSON: 3 stale; killed: 3 deleted, 2 with a local socket reset, the forwarded one without" \
	"$(printf '%s' "$RC_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); k=d["killed"]; print(d["stale"], k["deleted"], k["sockets_reset"], k["without_socket"])')" \
	"3 3 2 1"
check_eq "the server's IPv6 end and the remote end of the outgoing one were reset" \
	"$(closed "$TEST_TMP/srv.log" "$V1") $(closed "$TEST_TMP/cli.log" "$O1")" "ECONNABORTED ECONNRESET"
check_rc "ct stale after the kills" 0 nfp ct stale
check_eq "nothing stale is left; the two to 9001 remain" "$RC_OUT" \
	"every one of the 2 established connections checked would be admitted now"
r=$(round "$B" 2)
check_eq "and they still echo" "$(res "$r" "$B1") $(res "$r" "$B2")" "ok ok"

# ---- 5. loopback: both ends on this host, asked through lo
echo_server "$SRV" 127.0.0.1 9300 "$TEST_TMP/lo.log"
start_client "$SRV" 127.0.0.1 9300 2 "$TEST_TMP/l"
check_rc "ct stale dport 9300 (two loopback connections)" 0 nfp ct stale dport 9300
check_eq "both admitted" "$RC_OUT" \
	"every one of the 2 established connections checked would be admitted now"
srv nft add rule inet web input tcp dport 9300 drop || bail "nft add rule 9300"
check_rc "ct stale dport 9300 after a drop of 9300" 0 nfp ct stale dport 9300
check_eq "both refused" "$(printf '%s\n' "$RC_OUT" | head -n 1)" \
	"2 established connections would not be admitted now (of 2 checked):"
srv nft insert rule inet web input iif lo accept || bail "nft insert iif lo accept"
check_rc "ct stale dport 9300 after iif lo accept first" 0 nfp ct stale dport 9300
check_eq "both admitted again" "$RC_OUT" \
	"every one of the 2 established connections checked would be admitted now"

# ---- 6. a change through nfpilot says so itself, on probation
check_rc "edit --detach: a drop of 9001 on probation" 0 \
	nfp edit --detach -t inet web -c input --append "tcp dport 9001 drop"
check "it warns that the 2 connections to 9001 flow on" grep -qF \
	"warning: 2 established connections would not be admitted now; they flow on until their conntrack entries go (\`nfpilot ct stale\` lists them, \`nfpilot ct stale --kill\` ends them)" \
	<<<"$RC_ERR"
check_rc "rollback" 0 nfp rollback
check_rc "edit --detach --json: a drop of 9300 before the lo accept" 0 \
	nfp edit --detach --json -t inet web -c input --insert "tcp dport 9300 drop"
check_eq "JSON: stale 2 (the loopback pair)" \
	"$(printf '%s' "$RC_OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stale"])')" 2
check_rc "rollback" 0 nfp rollback
check_rc "edit --detach: a drop nobody's connection uses" 0 \
	nfp edit --detach -t inet web -c input --append "tcp dport 9999 drop"
check "no warning about connections then" eval '! grep -q "would not be admitted" <<<"$RC_ERR"'
check_rc "rollback" 0 nfp rollback

finish
