#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dpvs_info
short_description: Read the runtime state of a DPVS daemon
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Reads the runtime tables of DPVS with C(dpip) and C(ipvsadm) and returns them as data, in the shapes
    the other modules of the collection return (see C(docs/internals.md)).
  - Never changes anything.
  - When the DPVS daemon is not reachable (no control socket, or a stale one) the module does not fail; it
    returns RV(running=false).
  - The daemon version comes from the first line of C(ipvsadm -ln) (C(ipvsadm -v) prints a static string),
    read whenever an ipvsadm subset (V(services), V(laddrs), V(stats)) is gathered.
options:
  gather_subset:
    description:
      - What to read. V(all) reads everything.
      - V(links) is C(dpip link show); V(addresses) is C(dpip -s addr show) (with the sapool flags);
        V(routes) is C(dpip route show) and C(dpip -6 route show); V(neighbours) is C(dpip neigh show);
        V(vlans) is C(dpip vlan show link DEV) for every port (dpip prints it on stderr).
      - V(services) is C(ipvsadm -ln); V(laddrs) adds each service's local addresses from C(ipvsadm -G)
        (C(-G) prints no protocol, so a VIP:port used by two protocols is read per service with
        C(ipvsadm -G -t|-u SVC)); V(stats) is C(ipvsadm -ln --stats --exact).
      - Only the commands of the requested subsets run; C(ipvsadm) is not needed (nor looked up) when no
        ipvsadm subset is requested, and then RV(version) is null.
    type: list
    elements: str
    choices: [all, links, addresses, routes, neighbours, vlans, services, laddrs, stats]
    default: [all]
extends_documentation_fragment:
  - dpvs.cluster.dpvs
  - dpvs.cluster.dpvs.IPVSADM
  - dpvs.cluster.dpvs.READ_ONLY
  - dpvs.cluster.dpvs.DPVS_HOST
notes:
  - Supports check mode (it only reads).
seealso:
  - module: dpvs.cluster.dpip_addr
  - module: dpvs.cluster.dpip_route
  - module: dpvs.cluster.ipvsadm
"""

EXAMPLES = r"""
- name: Read everything
  dpvs.cluster.dpvs_info:
  register: dpvs

- name: Is DPVS up, and which version?
  ansible.builtin.debug:
    msg: "{{ dpvs.running }} {{ dpvs.version }}"

- name: Only the services with their local addresses, for a second instance
  dpvs.cluster.dpvs_info:
    gather_subset: [services, laddrs]
    ipc_file: /var/run/dpvs-b.ipc
  register: dpvs_b
"""

RETURN = r"""
running:
  description: Whether the DPVS daemon answered. When false every other value is null.
  returned: always
  type: bool
  sample: true
version:
  description:
    - The daemon version from the first line of C(ipvsadm -ln).
    - Null when no ipvsadm subset was gathered.
  returned: always
  type: str
  sample: 1.10.2
links:
  description: The ports (C(dpip link show)), null when not gathered.
  returned: always
  type: list
  elements: dict
  sample:
    - index: 1
      name: dpdk0
      socket: 0
      mtu: 1500
      rx_queues: 1
      tx_queues: 1
      state: UP
      speed_mbps: 10000
      duplex: full
      autoneg: fixed
      flags: [lldp]
      mac: DA:E5:DF:AE:7C:C9
      offloads: []
      stats: null
addresses:
  description: The interface addresses with their sapool flag (C(dpip -s addr show)), null when not gathered.
  returned: always
  type: list
  elements: dict
routes:
  description: The IPv4 and IPv6 routes, null when not gathered.
  returned: always
  type: list
  elements: dict
neighbours:
  description: The neighbour table, one entry per address and worker lcore, null when not gathered.
  returned: always
  type: list
  elements: dict
vlans:
  description: The VLAN devices (name, link, proto, id), null when not gathered.
  returned: always
  type: list
  elements: dict
services:
  description:
    - The virtual services with their real servers (C(ipvsadm -ln)), null when not gathered.
    - Each service has V(laddrs), its local addresses (ip, conflicts, conns), when V(laddrs) is gathered,
      otherwise null.
  returned: always
  type: list
  elements: dict
stats:
  description:
    - The counters of every service and real server (C(ipvsadm -ln --stats --exact)), null when not
      gathered.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import CommandError, DaemonDownError, Runner
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.parse import (
    ParseError,
    parse_link_show,
    parse_neigh_show,
    parse_route6_show,
    parse_route_show,
    parse_vlan_show,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.state import read_addresses
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs.parse import (
    ParseError as IpvsadmParseError,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs.parse import (
    parse_laddrs,
    parse_list,
    parse_list_stats,
)

SUBSETS = ["all", "links", "addresses", "routes", "neighbours", "vlans", "services", "laddrs", "stats"]
RESULT_KEYS = ["links", "addresses", "routes", "neighbours", "vlans", "services", "stats"]
DPIP_SUBSETS = frozenset(("links", "addresses", "routes", "neighbours", "vlans"))
IPVSADM_SUBSETS = frozenset(("services", "laddrs", "stats"))
# ipvsadm's service switch per protocol (-G prints no protocol; these disambiguate it)
SERVICE_SWITCH = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}

ARGUMENT_SPEC = dict(
    gather_subset=dict(type="list", elements="str", choices=SUBSETS, default=["all"]),
    ipc_file=dict(type="path"),
    dpip_path=dict(type="str", default="dpip"),
    ipvsadm_path=dict(type="str", default="ipvsadm"),
)


def _subsets(requested):
    wanted = set(requested or ["all"])
    if "all" in wanted:
        wanted = set(SUBSETS) - {"all"}
    return wanted


def _read(runner, argv):
    return runner.run(argv, read_only=True, record=False)


def _service_text(service):
    vip = service["vip"]
    if service.get("family") == "inet6" or ":" in vip:
        vip = f"[{vip}]"
    return f"{vip}:{service['port']}"


def merge_laddrs(services, laddrs, read_service):
    """Give each service its ``laddrs`` from ``ipvsadm -G`` output (``parse_laddrs``).

    ``-G`` prints no protocol: a VIP:port shared by two services (TCP and UDP) is read
    again per service with ``read_service(service)`` (``ipvsadm -G -t|-u SVC``).
    """
    by_endpoint = {}
    for entry in laddrs:
        by_endpoint.setdefault((entry["vip"], entry["port"]), entry)
    shared = {}
    for service in services:
        if service.get("vip") is not None:
            key = (service["vip"], service["port"])
            shared[key] = shared.get(key, 0) + 1
    for service in services:
        key = (service.get("vip"), service.get("port"))
        if service.get("vip") is None:
            service["laddrs"] = []
        elif shared[key] > 1 and service["protocol"] in SERVICE_SWITCH:
            own = [e for e in read_service(service) if (e["vip"], e["port"]) == key]
            service["laddrs"] = own[0]["laddrs"] if own else []
        else:
            entry = by_endpoint.get(key)
            service["laddrs"] = entry["laddrs"] if entry else []
    return services


def _vlans(runner, dpip, links):
    """The VLAN devices of every listed link (``dpip vlan show link DEV``, printed on STDERR)."""
    vlans = []
    for link in links:
        if any(vlan["name"] == link["name"] for vlan in vlans):
            continue  # a VLAN device listed by link show: it has no VLANs of its own
        vlans.extend(parse_vlan_show(_read(runner, [dpip, "vlan", "show", "link", link["name"]])[2]))
    return vlans


def _gather_dpip(runner, dpip, subsets, result):
    """The dpip tables of ``subsets`` into ``result``."""
    if "links" in subsets or "vlans" in subsets:
        links = parse_link_show(_read(runner, [dpip, "link", "show"])[1])
        if "links" in subsets:
            result["links"] = links
    if "addresses" in subsets:
        # the modules' read: a DPVS worker that lacks an address fails it naming the address
        result["addresses"] = read_addresses(runner, dpip)
    if "routes" in subsets:
        result["routes"] = parse_route_show(_read(runner, [dpip, "route", "show"])[1]) + parse_route6_show(
            _read(runner, [dpip, "-6", "route", "show"])[1]
        )
    if "neighbours" in subsets:
        result["neighbours"] = parse_neigh_show(_read(runner, [dpip, "neigh", "show"])[1])
    if "vlans" in subsets:
        result["vlans"] = _vlans(runner, dpip, links)


def _services(runner, ipvsadm, services, with_laddrs):
    """The services of ``ipvsadm -ln``, each with its ``laddrs`` (None unless ``with_laddrs``)."""
    if not with_laddrs:
        for service in services:
            service["laddrs"] = None
        return services
    laddrs = parse_laddrs(_read(runner, [ipvsadm, "-G"])[1])

    def read_service(service):
        argv = [ipvsadm, "-G", SERVICE_SWITCH[service["protocol"]], _service_text(service)]
        return parse_laddrs(_read(runner, argv)[1])

    return merge_laddrs(services, laddrs, read_service)


def _gather(runner, dpip, ipvsadm, subsets, result):
    """Every requested table into ``result`` (``ipvsadm -ln`` first, for the version)."""
    if subsets & IPVSADM_SUBSETS:
        listing = parse_list(_read(runner, [ipvsadm, "-ln"])[1])
        result["version"] = listing["version"]
    _gather_dpip(runner, dpip, subsets, result)
    if "services" in subsets or "laddrs" in subsets:
        result["services"] = _services(runner, ipvsadm, listing["services"], "laddrs" in subsets)
    if "stats" in subsets:
        result["stats"] = parse_list_stats(_read(runner, [ipvsadm, "-ln", "--stats", "--exact"])[1])["services"]


def gather(runner, dpip, ipvsadm, subsets):
    """Read the requested tables. Returns the result dict (``running`` False when the daemon is down)."""
    result = {"changed": False, "running": False, "version": None}
    for key in RESULT_KEYS:
        result[key] = None
    try:
        _gather(runner, dpip, ipvsadm, subsets, result)
    except DaemonDownError:
        for key in [*RESULT_KEYS, "version"]:
            result[key] = None
        return result
    result["running"] = True
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    subsets = _subsets(module.params["gather_subset"])
    dpip, ipvsadm = "dpip", "ipvsadm"
    if subsets & DPIP_SUBSETS:
        dpip = module.get_bin_path(module.params["dpip_path"], required=True)
    if subsets & IPVSADM_SUBSETS:
        ipvsadm = module.get_bin_path(module.params["ipvsadm_path"], required=True)
    runner = Runner.for_module(module, ipc_file=module.params["ipc_file"])
    try:
        result = gather(runner, dpip, ipvsadm, subsets)
    except CommandError as err:
        module.fail_json(msg=err.msg, **err.to_result())
    except (ParseError, IpvsadmParseError) as err:
        module.fail_json(msg=f"unexpected output: {err}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
