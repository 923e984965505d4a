#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dpip_addr
short_description: Manage the interface addresses of a DPVS daemon with dpip
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Makes the addresses of DPVS devices (C(dpip addr)) match a declared list, in one task.
  - Reads the live addresses once with C(dpip -s addr show) (only C(-s) shows the sapool flag), plans the
    C(dpip addr add) and C(dpip addr del) commands, runs them unless in check mode, then reads the table back
    and fails, listing what did not converge, when it still differs.
  - An address is the same object when its family, address and device match. A different prefix length,
    scope, sapool flag or declared broadcast address is changed with C(dpip addr del) followed by
    C(dpip addr add), which briefly removes the address (traffic to it is dropped for that moment).
  - Every device named by a present address or in O(purge_devices) must exist (C(dpip link show)).
  - DPVS adds an address on its master lcore and sends it to its workers afterwards; a worker that cannot add
    it (out of hugepage memory) goes unseen, except that C(dpip -s addr show) then fails with
    C(corrupted response.). The module's read and read-back use that listing, so a run that added such an
    address, and every later run, fails naming the address and the worker (from C(dpip -v addr show)), the
    likely cause and what to do, with RV(worker_mismatch).
  - Bad input fails before any command runs, with a message naming the option, for example
    C(addresses[3].dev).
  - DPVS keeps no state across restarts; run this module again after every DPVS (re)start.
options:
  addresses:
    description:
      - The addresses to manage.
    type: list
    elements: dict
    default: []
    suboptions:
      address:
        description:
          - An IPv4 or IPv6 address, with or without a prefix length (V(10.0.96.204/32), V(10.0.96.204),
            V(2001:db8::204/64)).
          - Without a prefix length the host length is used (/32 or /128), as dpip does.
        type: str
        required: true
      dev:
        description:
          - The DPVS device, for example V(dpdk0) or a VLAN device V(dpdk0.100).
        type: str
        required: true
      scope:
        description:
          - The address scope.
          - Defaults to V(link) for IPv6 link-local addresses (fe80::/10) and to V(global) otherwise.
        type: str
        choices: [host, link, global, site]
      sapool:
        description:
          - Give the address a source-address pool (C(sapool) flag), as FullNAT local addresses (LIPs) need.
          - DPVS accepts it on IPv4 and IPv6 addresses.
        type: bool
        default: false
      broadcast:
        description:
          - A broadcast address (IPv4 only).
          - When omitted, the live broadcast address is not compared.
        type: str
      state:
        description:
          - Whether the address should exist.
        type: str
        choices: [present, absent]
        default: present
  purge:
    description:
      - Remove the live addresses that O(addresses) does not declare, on every device named in O(addresses)
        or O(purge_devices).
      - IPv6 link-local (fe80::/10) addresses, which DPVS adds to every port, are never removed.
      - Addresses with the sapool flag are removed only with O(purge_sapool=true).
    type: bool
    default: false
  purge_devices:
    description:
      - More devices on which O(purge) removes undeclared addresses (for example a device whose addresses
        should all go).
    type: list
    elements: str
    default: []
  purge_sapool:
    description:
      - Let O(purge) remove sapool addresses too. They are FullNAT local addresses, normally owned by the
        P(dpvs.cluster.ipvsadm#module) module's laddrs.
    type: bool
    default: false
  plan_fresh_when_down:
    description:
      - Only in check mode - when DPVS does not answer (no control socket, or a stale one), plan against the
        addresses of a freshly started DPVS instead of failing, and say so in a warning that starts with
        C(DPVS is not running yet). RV(commands) are then the commands a real run runs once
        DPVS has started.
      - For a check run of a play that starts DPVS before this task; in check mode nothing starts. The
        C(dpvs_network) and C(dpvs_services) roles set it when the C(dpvs) role would start C(dpvs.service).
      - A freshly started DPVS has no address but the IPv6 link-local address of each port, which O(purge)
        never removes. Without the daemon its devices are not known, so device names are not checked (the real
        run checks them), and a declared IPv6 link-local address is planned as missing.
      - Has no effect when DPVS answers, nor in a real run, where a DPVS that does not answer is always an
        error.
    type: bool
    default: false
extends_documentation_fragment:
  - dpvs.cluster.dpvs
  - dpvs.cluster.dpvs.ATTRIBUTES
  - dpvs.cluster.dpvs.DPVS_HOST
  - dpvs.cluster.dpvs.PURGE
notes:
  - Supports check mode and diff mode. Check mode plans exactly what a real run executes and returns it in
    RV(commands).
  - When the DPVS daemon is not reachable the module fails with a message that starts with
    C(DPVS daemon is not reachable), unless O(plan_fresh_when_down) is set in check mode.
seealso:
  - module: dpvs.cluster.dpip_route
  - module: dpvs.cluster.dpvs_info
"""

EXAMPLES = r"""
- name: VIP and FullNAT local addresses on dpdk0
  dpvs.cluster.dpip_addr:
    addresses:
      - address: 10.0.96.204/32
        dev: dpdk0
      - address: 192.168.229.204
        dev: dpdk0
        sapool: true
      - address: 2001:db8::204/64
        dev: dpdk0

- name: Exactly these addresses on dpdk1 (sapool ones too)
  dpvs.cluster.dpip_addr:
    addresses:
      - address: 10.0.97.204/32
        dev: dpdk1
    purge: true
    purge_sapool: true

- name: Remove an address
  dpvs.cluster.dpip_addr:
    addresses:
      - address: 10.0.96.213/32
        dev: dpdk0
        state: absent

- name: A second DPVS instance
  dpvs.cluster.dpip_addr:
    ipc_file: /var/run/dpvs-b.ipc
    addresses:
      - address: 10.0.98.204/32
        dev: dpdk0
"""

RETURN = r"""
addresses:
  description:
    - The live addresses after the run (in check mode, the addresses the plan leads to).
  returned: success
  type: list
  elements: dict
  sample:
    - family: inet
      address: 192.168.229.204
      prefixlen: 32
      scope: global
      dev: dpdk0
      broadcast: null
      valid_lft: forever
      preferred_lft: forever
      sapool: true
      sa_used: 0
      sa_free: 1032176
      sa_miss: 0
commands:
  description:
    - The dpip commands that ran (with their exit code V(rc)) or, in check mode, would run (V(rc) null).
    - Reads are not listed.
  returned: always
  type: list
  elements: dict
  sample:
    - cmd: [/usr/bin/dpip, addr, add, 10.0.96.204/32, dev, dpdk0]
      rc: 0
applied:
  description:
    - On a failure part-way, the commands that succeeded before it.
  returned: failure
  type: list
  elements: dict
not_converged:
  description:
    - When the read-back after a real run still differs, what remains to be done.
  returned: failure
  type: list
  elements: str
worker_mismatch:
  description:
    - When a DPVS worker lacks an address its master has (an add that the worker failed unseen, out of hugepage
      memory), what each worker lacks, from C(dpip -v addr show); the message names it and says what to do.
  returned: failure
  type: list
  elements: dict
  sample:
    - address: 192.168.229.204/32
      dev: dpdk0
      family: inet
      missing_on: [1]
diff:
  description:
    - The address table before and after, one line per address (V(10.0.96.204/32 dev dpdk0 scope global)),
      sorted.
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.state import dpip_argument_spec, module_main

ARGUMENT_SPEC = dpip_argument_spec(
    "addresses",
    dict(
        address=dict(type="str", required=True),
        dev=dict(type="str", required=True),
        scope=dict(type="str", choices=["host", "link", "global", "site"]),
        sapool=dict(type="bool", default=False),
        broadcast=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    ),
    purge_sapool=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module_main(module, "addresses")


if __name__ == "__main__":
    main()
