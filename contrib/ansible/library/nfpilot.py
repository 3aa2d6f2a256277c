#!/usr/bin/python
# -*- coding: utf-8 -*-
# An Ansible module for nfpilot(8): the network vendors' "commit confirmed"
# for Linux netfilter. It runs the nfpilot installed on the managed host
# with an argument vector (never a shell) and reads its --json outcome
# (docs/nfpilot.8, "Outcome of a verb"); nfpilot's guardian does the rest:
# a change not confirmed by its deadline is reverted on the host itself,
# whether or not Ansible can still reach it.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: nfpilot
short_description: Apply an nftables ruleset on probation, confirm it from a new login
description:
  - Applies an nft script (a ruleset file or nft commands) with
    C(nfpilot apply --detach) as one transaction, on probation; unless it
    is confirmed before the probation's deadline, nfpilot's guardian on the
    managed host restores the tables it touched, by itself.
  - Confirms a probation with C(nfpilot confirm --id ID) in a later task.
    Run that task on a NEW SSH connection (a C(reset_connection) meta
    task before it); a confirm that gets through proves new logins still work.
    A host the confirm cannot reach reverts at its deadline.
  - The id (NETCONF's persist-id) makes the confirm keep only this change;
    if another change joined the probation meanwhile, or it already
    reverted, the confirm fails and changes nothing.
  - A script that applies the same rules again (one that starts with
    C(table inet web {}) and C(flush table inet web)) changes nothing the
    second time; then no probation starts and the task reports ok.
  - Calls the installed C(nfpilot) with an argument vector and reads its
    C(--json) outcome; every message comes from nfpilot.
version_added: "0.1.0"
author:
  - nfpilot contributors
options:
  state:
    description:
      - C(applied) applies the script on probation.
      - C(confirmed) keeps the probation named by I(id).
      - C(rolled_back) reverts the probation named by I(id) now.
    type: str
    choices: [applied, confirmed, rolled_back]
    default: applied
  src:
    description:
      - The nft script on the managed host (what C(nft -f) takes).
      - One of I(src) and I(content) with I(state=applied).
    type: path
  content:
    description:
      - The nft script itself, nft commands one a line (written to a
        file of the module's temporary folder on the managed host).
    type: str
  timeout:
    description:
      - Seconds of probation (10 to 3600); the change is reverted this long
        after it went in unless confirmed.
    type: int
    default: 60
  id:
    description:
      - The probation's id, as I(state=applied) returned it
        (C(probation_id)). Empty or null (nothing changed, so nothing is on
        probation) is nothing to do, ok.
    type: str
  netns:
    description:
      - Work inside this network namespace (C(nfpilot -N)).
    type: str
  executable:
    description:
      - The nfpilot program on the managed host.
    type: path
    default: nfpilot
  ignore_lockout:
    description:
      - Apply even if nfpilot's lockout pre-check finds that the script
        drops an SSH session of the host (the module's own connection
        among them) or IPv6 neighbour discovery; otherwise such a script
        is not applied and the task fails with outcome C(lockout), saying
        which rule or policy drops what.
    type: bool
    default: false
notes:
  - Check mode with I(state=applied) runs C(nfpilot apply --dry-run);
    nft checks the script, nothing reaches the live tables, and nfpilot
    runs it on its sandbox's copy of them (a network namespace of its
    own), so the task reports changed only if the script would change a
    table (I(tables) says which). Where no sandbox can be made, a valid
    script is reported as changed.
  - Diff mode shows the change as nft commands.
  - Needs root on the managed host (C(become)), as nfpilot does.
requirements:
  - nfpilot on the managed host
'''

EXAMPLES = r'''
- name: Apply the firewall on probation (reverted in 120 s unless confirmed)
  nfpilot:
    state: applied
    content: "{{ lookup('template', 'web.nft.j2') }}"
    timeout: 120
  register: fw

- name: A new SSH connection for the confirm
  meta: reset_connection

- name: Confirm from the new login (a host that cannot be reached reverts)
  nfpilot:
    state: confirmed
    id: "{{ fw.probation_id }}"

- name: A ruleset file already on the host
  nfpilot:
    src: /etc/nftables.d/web.nft
    timeout: 60
'''

RETURN = r'''
outcome:
  description: nfpilot's outcome word.
  returned: always
  type: str
  sample: on probation
probation_id:
  description: The probation's id, for I(state=confirmed); null when nothing changed.
  returned: when state is applied
  type: str
  sample: 5f0c2a9e3b7d4418
deadline:
  description: When the change reverts unless confirmed, seconds since 1970.
  returned: when a probation started
  type: int
  sample: 1796125829
tables:
  description: The tables the change touched (in check mode, would change).
  returned: when a probation started, and in check mode
  type: list
  elements: dict
  sample: [{"family": "inet", "name": "web", "new": false, "deleted": false}]
change:
  description: The change as nft commands, one line each.
  returned: when state is applied
  type: list
  elements: str
  sample: ["flush table inet web", "table inet web {"]
stale:
  description: Established connections the applied ruleset would no longer admit (they
    flow on until their conntrack entry goes; C(nfpilot ct stale --kill) ends them); null
    when not asked (more than 20000 tracked connections or rules); a warning says so when
    there are any.
  returned: when a probation started
  type: int
  sample: 0
history:
  description: The history entry of a confirmed or rolled back change (nfpilot history show N).
  returned: when state is confirmed or rolled_back and it changed
  type: int
  sample: 12
nfpilot:
  description: nfpilot's whole JSON answer.
  returned: always
  type: dict
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule


def run(module, verb, args):
    """nfpilot VERB ARGS --json: (exit status, its JSON answer, stderr)."""
    exe = module.params['executable']
    if '/' not in exe:
        exe = module.get_bin_path(exe, required=True)
    argv = [exe]
    if module.params['netns']:
        argv += ['-N', module.params['netns']]
    argv += [verb] + args + ['--json']
    rc, out, err = module.run_command(argv)
    try:
        answer = json.loads(out)
    except ValueError:
        module.fail_json(msg='nfpilot %s gave no JSON answer (is it nfpilot >= 0.1 with '
                         '--json?)' % verb, rc=rc, stdout=out, stderr=err, cmd=argv)
    return rc, answer, err


def fail(module, answer, err, **extra):
    e = answer.get('error') or {}
    module.fail_json(msg=e.get('message') or answer.get('outcome') or 'nfpilot failed',
                     rc=answer.get('exit'), error=e, outcome=answer.get('outcome'),
                     nfpilot=answer, stderr=err, **extra)


def applied(module):
    p = module.params
    if not p['src'] and p['content'] is None:
        module.fail_json(msg='state=applied needs src or content')
    path = p['src']
    if path is None:
        path = os.path.join(module.tmpdir, 'ansible-ruleset.nft')
        with open(path, 'w') as f:
            f.write(p['content'])
    if module.check_mode:
        rc, answer, err = run(module, 'apply', ['--dry-run', path])
    else:
        rc, answer, err = run(module, 'apply', ['--detach', '--timeout', str(p['timeout'])] +
                              (['--ignore-lockout'] if p['ignore_lockout'] else []) + [path])
    change = answer.get('change') or []
    result = dict(outcome=answer.get('outcome'), change=change, nfpilot=answer)
    if module._diff:
        result['diff'] = dict(before='', after='\n'.join(change) + ('\n' if change else ''),
                              before_header='the live tables',
                              after_header='nft commands of the change')
    if rc != 0:
        fail(module, answer, err, change=change)
    prob = answer.get('probation') or {}
    if module.check_mode:
        # found on a copy of the live tables; null: it could not be told
        changed = answer.get('changes') is not False
    else:
        changed = answer.get('outcome') == 'on probation'
    result.update(changed=changed, probation_id=prob.get('id'),
                  deadline=prob.get('deadline'), tables=answer.get('tables') or [])
    if 'stale' in answer:
        result['stale'] = answer['stale']
        if answer['stale']:
            module.warn('%d established connection(s) would not be admitted by the new rules; '
                        'they flow on until their conntrack entries go (nfpilot ct stale '
                        'lists them, nfpilot ct stale --kill ends them)' % answer['stale'])
    module.exit_json(**result)


def settle(module, verb, done):
    pid = module.params['id']
    if not pid:
        module.exit_json(changed=False, outcome='nothing on probation',
                         msg='no probation id: the change changed nothing, so nothing is '
                         'on probation', nfpilot={})
    if module.check_mode:
        rc, answer, err = run(module, 'status', [])
        prob = answer.get('probation') or {}
        if rc != 0 or prob.get('id') != pid:
            answer.setdefault('error', None)
            answer['error'] = answer['error'] or {
                'message': 'probation %s is not the one running (it reverted, or another '
                           'change joined it)' % pid}
            fail(module, answer, err)
        module.exit_json(changed=True, outcome='would be ' + done, nfpilot=answer)
    rc, answer, err = run(module, verb, ['--id', pid])
    if rc != 0:
        fail(module, answer, err)
    module.exit_json(changed=True, outcome=answer.get('outcome'),
                     history=answer.get('history'), nfpilot=answer)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='applied',
                       choices=['applied', 'confirmed', 'rolled_back']),
            src=dict(type='path'),
            content=dict(type='str'),
            timeout=dict(type='int', default=60),
            id=dict(type='str'),
            netns=dict(type='str'),
            executable=dict(type='path', default='nfpilot'),
            ignore_lockout=dict(type='bool', default=False),
        ),
        mutually_exclusive=[['src', 'content']],
        supports_check_mode=True,
    )
    state = module.params['state']
    if state == 'applied':
        applied(module)
    elif state == 'confirmed':
        settle(module, 'confirm', 'confirmed')
    else:
        settle(module, 'rollback', 'rolled back')


if __name__ == '__main__':
    main()
