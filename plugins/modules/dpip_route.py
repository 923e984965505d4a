#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dpip_route
short_description: Manage the routing tables of a DPVS daemon with dpip
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Makes the IPv4 and IPv6 routes of DPVS (C(dpip route), C(dpip -6 route)) match a declared list, in one
    task.
  - Reads the live routes once with C(dpip route show) and C(dpip -6 route show), plans the C(dpip route add)
    and C(dpip route del) commands, runs them unless in check mode, then reads the tables back and fails,
    listing what did not converge, when they still differ.
  - A route is the same object when its family, prefix, device and gateway (O(routes[].via)) match. A route
    with the same identity but another source address, scope, MTU or metric is changed with
    C(dpip route del) followed by C(dpip route add).
  - The plan comes from the live tables, never from dpip exit codes (adding an existing IPv4 route exits 0,
    an existing IPv6 route exits 1).
  - Every device named by a present route or in O(purge_devices) must exist (C(dpip link show)).
  - Bad input fails before any command runs, with a message naming the option, for example
    C(routes[2].via).
  - DPVS keeps no state across restarts; run this module again after every DPVS (re)start.
options:
  routes:
    description:
      - The routes to manage.
    type: list
    elements: dict
    default: []
    suboptions:
      prefix:
        description:
          - The destination, V(NETWORK/PLEN) (V(10.0.96.0/24), V(2001:db8:1::/64)) or V(default).
          - Host bits must be zero.
        type: str
        required: true
      family:
        description:
          - The address family. Only needed for a V(default) route without O(routes[].via); otherwise it is
            taken from the prefix or the gateway, and must agree with them when given.
        type: str
        choices: [inet, inet6]
      dev:
        description:
          - The DPVS device the route goes out of.
        type: str
        required: true
      via:
        description:
          - The gateway, of the same family as the prefix.
        type: str
      src:
        description:
          - The preferred source address, of the same family as the prefix.
          - When omitted the route has no source address (a live one is a difference).
        type: str
      scope:
        description:
          - The route scope. Defaults to V(link) without O(routes[].via) and to V(global) with it, as dpip does.
        type: str
        choices: [host, link, global, kni_host]
      mtu:
        description:
          - The route MTU (68..65535 for IPv4, 1280..65535 for IPv6).
          - When omitted the live MTU is not compared (dpip shows the device MTU).
        type: int
      metric:
        description:
          - The route metric (IPv4 only; C(dpip -6 route show) does not report one).
          - When omitted the live metric is not compared.
        type: int
      state:
        description:
          - Whether the route should exist.
        type: str
        choices: [present, absent]
        default: present
  purge:
    description:
      - Remove the live routes that O(routes) does not declare, on every device named in O(routes) or
        O(purge_devices).
      - Never removes the routes DPVS creates for its own addresses, namely V(scope host) routes, IPv6
        link-local prefixes, and the link routes of connected prefixes (whose prefix is the network of a
        local address, or whose source is a local address).
    type: bool
    default: false
  purge_devices:
    description:
      - More devices on which O(purge) removes undeclared routes.
    type: list
    elements: str
    default: []
  plan_fresh_when_down:
    description:
      - Only in check mode - when DPVS does not answer (no control socket, or a stale one), plan against the
        routes of a freshly started DPVS instead of failing, and say so in a warning that starts with
        C(DPVS is not running yet). RV(commands) are then the commands a real run runs once
        DPVS has started.
      - For a check run of a play that starts DPVS before this task; in check mode nothing starts. The
        C(dpvs_network) and C(dpvs_services) roles set it when the C(dpvs) role would start C(dpvs.service).
      - A freshly started DPVS has no route but the two routes of each port's IPv6 link-local address, which
        O(purge) never removes. Without the daemon its devices are not known, so device names are not checked
        (the real run checks them). The routes DPVS adds for the addresses that an earlier task adds are not
        in a fresh table, so a declared route that has the identity of such a route (the prefix route of an
        address with a prefix length) is planned as an addition.
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
  - module: dpvs.cluster.dpip_addr
  - module: dpvs.cluster.dpvs_info
"""

EXAMPLES = r"""
- name: Connected networks, a gateway route and the default route
  dpvs.cluster.dpip_route:
    routes:
      - prefix: 10.0.96.0/24
        dev: dpdk0
      - prefix: 192.168.229.0/24
        dev: dpdk0
      - prefix: 172.16.0.0/16
        via: 10.0.96.1
        src: 10.0.96.204
        dev: dpdk0
      - prefix: default
        via: 10.0.96.1
        dev: dpdk0
      - prefix: 2001:db8:2::/64
        via: 2001:db8::1
        dev: dpdk0

- name: Exactly these routes on dpdk0 (DPVS's own address routes stay)
  dpvs.cluster.dpip_route:
    routes:
      - prefix: 10.0.96.0/24
        dev: dpdk0
    purge: true

- name: An IPv6 default route through the link, no gateway
  dpvs.cluster.dpip_route:
    routes:
      - prefix: default
        family: inet6
        dev: dpdk1
"""

RETURN = r"""
routes:
  description:
    - The live IPv4 and IPv6 routes after the run (in check mode, the routes the plan leads to).
  returned: success
  type: list
  elements: dict
  sample:
    - family: inet
      prefix: 172.16.0.0/16
      via: 10.0.96.1
      src: 10.0.96.204
      dev: dpdk0
      mtu: 1500
      tos: 0
      scope: global
      metric: 0
      proto: auto
commands:
  description:
    - The dpip commands that ran (with their exit code V(rc)) or, in check mode, would run (V(rc) null).
    - Reads are not listed.
  returned: always
  type: list
  elements: dict
  sample:
    - cmd: [/usr/bin/dpip, route, add, 10.0.96.0/24, dev, dpdk0]
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
diff:
  description:
    - The routing tables before and after, one line per route
      (V(inet 10.0.96.0/24 dev dpdk0 scope link mtu 1500 metric 0)), sorted.
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.state import dpip_argument_spec, module_main

ARGUMENT_SPEC = dpip_argument_spec(
    "routes",
    dict(
        prefix=dict(type="str", required=True),
        family=dict(type="str", choices=["inet", "inet6"]),
        dev=dict(type="str", required=True),
        via=dict(type="str"),
        src=dict(type="str"),
        scope=dict(type="str", choices=["host", "link", "global", "kni_host"]),
        mtu=dict(type="int"),
        metric=dict(type="int"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    ),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module_main(module, "routes")


if __name__ == "__main__":
    main()
