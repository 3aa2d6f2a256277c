#!/bin/bash
# The Ansible module and role (contrib/ansible/) for real: ansible-playbook
# in the client namespace against three "hosts", three test namespaces each
# running a private sshd on its own address (the probation_ssh set-up),
# nfpilot run there by the module over SSH. A ruleset that keeps SSH open
# is applied and confirmed on all three; check mode changes nothing and
# shows the change; the same ruleset again is ok, not changed. Then a
# rollout one host at a time (serial: 1, max_fail_percentage: 0) where the
# second host's ruleset refuses new SSH logins: its apply goes through the
# connection already open, the confirm on a new connection cannot reach
# it, the play fails there and stops before the third host; the second
# host reverts by itself at its deadline; afterwards all three take new
# logins, the first carries the new ruleset, the third the old one.
. "$(dirname "$0")/../lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
command -v ansible-playbook >/dev/null || { skip "ansible" "no ansible-playbook (sh tests/deps.sh check installs ansible-core)"; finish; }
[ -x "$SSHD" ] || bail "no sshd (sh tests/deps.sh check installs openssh-server)"
PY=/usr/bin/python3
[ -x "$PY" ] || bail "no /usr/bin/python3 for the module on the hosts"

setup_net
H1=$SRV H2="$NS_PREFIX-h2" H3="$NS_PREFIX-h3"
IP1=$SRV_IP IP2=10.200.2.1 IP3=10.200.3.1
for n in 2 3; do
	ns="$NS_PREFIX-h$n"
	ns_add "$ns" || bail "ip netns add $ns"
	ip -n "$ns" link add v0 type veth peer name "v$n" netns "$CLI" || bail "veth to $ns"
	ip -n "$ns" addr add "10.200.$n.1/24" dev v0
	ip -n "$CLI" addr add "10.200.$n.2/24" dev "v$n"
	ip -n "$ns" link set v0 up
	ip -n "$CLI" link set "v$n" up
done

D="$TEST_TMP/fleet"
ssh_keys "$D" || bail "ssh keys"
mkdir -p "$D/remote" "$D/local"
for n in 1 2 3; do
	eval "ns=\$H$n ip=\$IP$n"
	sshd_start "$D" "sshd_$n" "$ns" "$ip" || bail "sshd in $ns"
done
login() { ssh_login "$D" root@"$1" "$2"; } # login IP CMD: a new SSH login from the client namespace
for n in 1 2 3; do
	eval "ip=\$IP$n"
	[ "$(login "$ip" 'echo in' 2>&1)" = in ] || bail "no SSH login to $ip"
done

# the controller: its own config, inventory and folders; the SSH master
# connection persists between tasks, so only the role's reset_connection
# makes the confirm a new login
# what ansible-core reports, as JSON for the checks below (its json
# callback is in a collection Debian's ansible-core does not ship): every
# task result and the recap's stats
mkdir -p "$D/callbacks"
cat >"$D/callbacks/record.py" <<'PYCB'
import json, os
from ansible.plugins.callback import CallbackBase

class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'record'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.results = []

    def _add(self, status, res):
        self.results.append({"host": res._host.get_name(), "task": res._task.get_name(),
                             "status": status, "result": res._result})

    def v2_runner_on_ok(self, res):
        self._add("ok", res)

    def v2_runner_on_failed(self, res, ignore_errors=False):
        self._add("failed", res)

    def v2_runner_on_unreachable(self, res):
        self._add("unreachable", res)

    def v2_runner_on_skipped(self, res):
        self._add("skipped", res)

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        out = {"results": self.results, "stats": {h: stats.summarize(h) for h in hosts}}
        with open(os.environ["NFPT_RECORD"], "w") as f:
            json.dump(out, f, default=str)
PYCB
cat >"$D/ansible.cfg" <<CFG
[defaults]
callback_plugins = $D/callbacks
callbacks_enabled = record
inventory = $D/hosts.yml
library = $TOP/contrib/ansible/library
roles_path = $TOP/contrib/ansible/roles
local_tmp = $D/local
remote_tmp = $D/remote
host_key_checking = False
timeout = 4
forks = 3
retry_files_enabled = False
[ssh_connection]
ssh_args = -F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile=/dev/null -o ControlMaster=auto -o ControlPersist=120s -o ConnectTimeout=3
control_path_dir = $D/cp
retries = 0
pipelining = True
CFG
cat >"$D/hosts.yml" <<INV
firewalls:
  hosts:
    h1: { ansible_host: $IP1 }
    h2: { ansible_host: $IP2 }
    h3: { ansible_host: $IP3 }
  vars:
    ansible_user: root
    ansible_ssh_private_key_file: $D/admin_key
    ansible_python_interpreter: $PY
INV
# the test's playbook: the role, one ruleset file per host and version
cat >"$D/play.yml" <<PLAY
- hosts: firewalls
  gather_facts: false
  serial: "{{ batch | default(3) }}"
  max_fail_percentage: 0
  environment:
    NFPILOT_LIB_DIR: "$NFPILOT_LIB_DIR"
    ASAN_OPTIONS: "${ASAN_OPTIONS:-}"
  roles:
    - role: nfpilot_confirmed
      vars:
        nfpilot_ruleset: "$D/{{ version }}-{{ inventory_hostname }}.nft"
        nfpilot_timeout: 15
        nfpilot_executable: "$NFPILOT"
PLAY
# ruleset VERSION PORT [lockout]: established traffic and (unless lockout)
# new SSH logins accepted, PORT marks the version; the empty table and the
# flush make it the same when applied again (an anonymous set too)
ruleset() {
	cat <<NFT
table inet fleet {}
flush table inet fleet
table inet fleet {
	chain input {
		type filter hook input priority 0; policy drop;
		iif "lo" accept
		ct state established,related accept
$([ "${3:-}" = lockout ] || printf '\t\ttcp dport 22 accept\n')
		tcp dport { 80, 443 } accept
		tcp dport $2 accept
	}
}
NFT
}
for h in h1 h2 h3; do
	ruleset v1 8001 >"$D/v1-$h.nft"
	ruleset v2 8002 >"$D/v2-$h.nft"
done
ruleset v2 8002 lockout >"$D/v2-h2.nft"

# play NAME ARGS...: ansible-playbook in the client namespace (its words
# in $D/NAME.out), what it reported in $D/NAME.json, exit status in PLAY_RC
play() {
	local name=$1
	shift
	rm -f "$D/$name.json"
	cli env LC_ALL=C.UTF-8 ANSIBLE_CONFIG="$D/ansible.cfg" NFPT_RECORD="$D/$name.json" \
		HOME="$D" ansible-playbook "$D/play.yml" "$@" >"$D/$name.out" 2>&1
	PLAY_RC=$?
	[ -s "$D/$name.json" ] || echo '{"results": [], "stats": {}}' >"$D/$name.json"
}
# stat NAME HOST KEY: that host's count in the play's stats (0 if absent)
stat() { json_get "$D/$1.json" "d['stats'].get('$2', {}).get('$3', 0)"; }
# result NAME HOST TASKNO EXPR: EXPR over the host's TASKNO-th task result
# (r; the role's: 0 apply, 1 confirm), "" if it has none
result() {
	python3 - "$D/$1.json" "$2" "$3" "$4" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
mine = [x for x in d["results"] if x["host"] == sys.argv[2]]
if int(sys.argv[3]) >= len(mine):
    print("")
    sys.exit(0)
x = mine[int(sys.argv[3])]
r = dict(x["result"], _status=x["status"])
v = eval(sys.argv[4])
print(v if isinstance(v, (str, int)) else json.dumps(v))
PYEOF
}
marker() { ip netns exec "$1" nft list chain inet fleet input 2>/dev/null | sed -n 's/.*tcp dport \(800[0-9]\) accept.*/\1/p'; }
none_on() { [ "$("$NFPILOT" -N "$1" status 2>/dev/null)" = "probation: none" ]; }
last_outcome() {
	local h="$NFPILOT_LIB_DIR/netns-$1/history" n
	n=$(ls "$h" 2>/dev/null | sort -n | tail -n 1)
	sed -n 's/^outcome: //p' "$h/$n/meta" 2>/dev/null
}
entries() { ls "$NFPILOT_LIB_DIR/netns-$1/history" 2>/dev/null | wc -l; }

# ---- 1: apply and confirm on all three
play first -e version=v1
check_eq "all three: the play succeeds" "$PLAY_RC" 0
[ "$PLAY_RC" = 0 ] || echo "# $(tail -c 2000 "$D/first.out" | tr '\n' '|')"
for n in 1 2 3; do
	eval "ns=\$H$n"
	check_eq "h$n: changed (applied and confirmed), no failure" \
		"$(stat first h$n changed) $(stat first h$n failures) $(stat first h$n unreachable)" "2 0 0"
	check_eq "h$n: the ruleset is in" "$(marker "$ns")" 8001
	check "h$n: nothing left on probation" none_on "$ns"
	check_eq "h$n: the history says confirmed" "$(last_outcome "$ns")" confirmed
done
ID1=$(result first h1 0 'r.get("probation_id") or ""')
check_eq "h1: the apply asked the connections: none left flowing that the rules refuse" \
	"$(result first h1 0 'r.get("stale")')" 0
check "h1: the apply task returned a probation id" sh -c "printf '%s' '$ID1' | grep -Eqx '[0-9a-f]{16}'"
check_eq "h1: the confirm, on a new login, kept that id's probation" \
	"$(result first h1 1 'r["nfpilot"]["outcome"] + " " + r["invocation"]["module_args"]["id"]')" "confirmed $ID1"

# ---- 2: check mode changes nothing and shows the change (diff)
B1=$(srv nft -s list ruleset)
play check -e version=v2 --check --diff
check_eq "check mode: the play succeeds" "$PLAY_RC" 0
check_eq "check mode: nothing reached h1's kernel" "$(srv nft -s list ruleset)" "$B1"
check_eq "check mode: h2 and h3 unchanged" "$(marker "$H2") $(marker "$H3")" "8001 8001"
check "check mode: nothing on probation" none_on "$H1"
check_eq "check mode: the diff shows the change as nft commands" \
	"$(result check h1 0 '"\ttcp dport 8002 accept\n" in (r["diff"] if isinstance(r["diff"], dict) else r["diff"][0])["after"]')" True
check_eq "check mode: the dry run's outcome" "$(result check h1 0 'r["outcome"]')" "dry run"
check_eq "check mode: every host would change (found on a copy of its tables)" \
	"$(stat check h1 changed) $(stat check h2 changed) $(stat check h3 changed) $(result check h3 0 'r["tables"][0]["name"]')" "1 1 1 fleet"
play check_same -e version=v1 --check
check_eq "check mode with the ruleset they hold: ok, nothing would change" \
	"$PLAY_RC $(stat check_same h1 changed) $(stat check_same h2 changed) $(stat check_same h3 changed)" "0 0 0 0"

# ---- 3: the same ruleset again: ok, not changed
N1=$(entries "$H1")
play again -e version=v1
check_eq "the same ruleset again: the play succeeds" "$PLAY_RC" 0
check_eq "... every host ok, none changed" "$(stat again h1 changed) $(stat again h2 changed) $(stat again h3 changed)" "0 0 0"
check_eq "... the apply said nothing changed" "$(result again h2 0 'r["outcome"]')" "nothing changed"
check_eq "... no probation, no history entry" "$(entries "$H1")" "$N1"

# ---- 4: one host at a time; the second's change locks new SSH logins out:
# nfpilot's lockout pre-check refuses it (the module's own SSH connection)
N2=$(entries "$H2")
N3=$(entries "$H3")
B2=$(ip netns exec "$H2" nft -s list ruleset)
play lockout -e version=v2 -e batch=1
check "the rollout fails" test "$PLAY_RC" -ne 0
check_eq "h1: applied and confirmed" "$(stat lockout h1 changed) $(stat lockout h1 failures) $(stat lockout h1 unreachable)" "2 0 0"
check_eq "h1: carries the new ruleset" "$(marker "$H1")" 8002
check_eq "h1: confirmed" "$(last_outcome "$H1")" confirmed
check_eq "h2: the apply fails, refused by the lockout pre-check" \
	"$(stat lockout h2 failures) $(result lockout h2 0 'r["outcome"]')" "1 lockout"
check "h2: ... saying a new SSH connection is dropped, and where" sh -c \
	"grep -Eq 'drops a new SSH connection from [0-9.]+ at chain input policy drop \(inet fleet\)' '$D/lockout.out'"
check_eq "h2: nothing applied, nothing on probation, no history entry" \
	"$(ip netns exec "$H2" nft -s list ruleset | md5sum) $(none_on "$H2" && echo none) $(entries "$H2")" \
	"$(printf '%s\n' "$B2" | md5sum) none $N2"
check_eq "h3: the rollout stopped before it" "$(stat lockout h3 ok) $(stat lockout h3 changed)" "0 0"
# the net behind the pre-check: the same change forced past it goes in,
# the confirm cannot reach h2, and its guardian reverts it
T0=$(ms)
play rollout -e version=v2 -e batch=1 -e nfpilot_ignore_lockout=true
check "forced past the pre-check: the rollout fails" test "$PLAY_RC" -ne 0
check_eq "h1: holds it already, ok" "$(stat rollout h1 changed) $(stat rollout h1 failures)" "0 0"
check_eq "h2: the confirm could not reach it (unreachable)" "$(stat rollout h2 unreachable)" 1
check_eq "h2: the apply went in over the open connection" "$(result rollout h2 0 'r["outcome"]')" "on probation"
check "h2: the apply said its own SSH connection would not be admitted now" test \
	"$(result rollout h2 0 'r.get("stale") or 0')" -ge 1
check "h2: ... as a warning of the play" grep -Eq \
	'WARNING\]: [0-9]+ established connection\(s\) would not be admitted by the new rules' "$D/rollout.out"
check_eq "h3: the rollout stopped before it (max_fail_percentage)" "$(stat rollout h3 ok) $(stat rollout h3 changed)" "0 0"
check_eq "h3: still the old ruleset" "$(marker "$H3")" 8001
check_eq "h3: not touched (no history entry)" "$(entries "$H3")" "$N3"
if none_on "$H2"; then
	not_ok "h2: already over right after the play ($(( $(ms) - T0 )) ms): $(last_outcome "$H2")"
else
	ok "h2: its change is still on probation when the play ends"
fi
if poll_until 30000 none_on "$H2"; then
	ok "h2: reverted by itself at its deadline ($(( $(ms) - T0 )) ms after the play started, timeout 15 s)"
else
	not_ok "h2: still on probation 30 s after the play: $("$NFPILOT" -N "$H2" status | tr '\n' '|')"
fi
check_eq "h2: the history says reverted" "$(last_outcome "$H2")" reverted
check "h2: ... because nobody confirmed" grep -q '^reason: not confirmed within 15 s' \
	"$NFPILOT_LIB_DIR/netns-$H2/history/$(ls "$NFPILOT_LIB_DIR/netns-$H2/history" | sort -n | tail -n 1)/meta"
check_eq "h2: the ruleset is as before" "$(ip netns exec "$H2" nft -s list ruleset)" "$B2"
for n in 1 2 3; do
	eval "ip=\$IP$n"
	check_eq "h$n: a new SSH login gets in afterwards" "$(login "$ip" 'echo in' 2>&1)" in
done
finish
