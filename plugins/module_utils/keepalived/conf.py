# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keepalived.conf from the inventory, for the DPVS fork (``dpvs``) or stock keepalived (``kernel``).

:func:`build` takes the services table (the ipvsadm module's ``services``; only the entries with
``owner: keepalived`` are keepalived's), the VRRP instances and the host's settings, and returns
``{"text", "restart_text", "services", "problems"}``: the file's body, the part of it a reload
cannot apply (DPVS's local address groups: DPVS issue #575, a reload leaves the per-core laddr
tables out of sync), the labels of the virtual servers and every input problem, each naming the
variable the user wrote. :data:`KEYWORDS` says where each keyword the renderer writes comes
from; a test keeps every rendered keyword in it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import (
    InputError,
    boolean,
    device,
    int_range,
    ip_address,
    ip_interface,
    item_path,
    message,
    path_join,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as _ipvs_model

FLAVORS = ("dpvs", "kernel")
STOCK = "keepalived.conf(5), stock keepalived 2.0"
FORK_CHECK = "DPVS fork: tools/keepalived/keepalived/check/check_parser.c"
FORK_VRRP = "DPVS fork: tools/keepalived/keepalived/vrrp/vrrp_parser.c"
# keyword -> where it comes from (docs/ha.md has the same table)
KEYWORDS = {
    **{
        word: STOCK
        for word in [
            "global_defs",
            "router_id",
            "script_user",
            "enable_script_security",
            "vrrp_instance",
            "state",
            "interface",
            "virtual_router_id",
            "priority",
            "advert_int",
            "nopreempt",
            "unicast_peer",
            "track_interface",
            "virtual_ipaddress",
            "virtual_server",
            "delay_loop",
            "lb_algo",
            "lb_kind",
            "protocol",
            "persistence_timeout",
            "persistence_granularity",
            "ops",
            "real_server",
            "weight",
            "uthreshold",
            "lthreshold",
            "TCP_CHECK",
            "HTTP_GET",
            "SSL_GET",
            "MISC_CHECK",
            "UDP_CHECK",
            "connect_port",
            "connect_timeout",
            "retry",
            "delay_before_retry",
            "url",
            "path",
            "status_code",
            "misc_path",
            "misc_timeout",
            "require_reply",
        ]
    },
    **{
        word: FORK_CHECK
        for word in [
            "local_address_group",
            "laddr_group_name",
            "syn_proxy",
            "expire_quiescent_conn",
            "quic",
            "establish_timeout",
            "proxy_protocol",
            "hash_target",
        ]
    },
    "dpdk_interface": FORK_VRRP,
}
LB_KIND = {"fullnat": "FNAT", "masq": "NAT", "dr": "DR", "tunnel": "TUN"}
CHECK_BLOCK = {"tcp": "TCP_CHECK", "http": "HTTP_GET", "https": "SSL_GET", "misc": "MISC_CHECK", "udp": "UDP_CHECK"}
# the fork's virtual_server flags and values, from the ipvsadm module's service options
FORK_FLAGS = (("synproxy", "syn_proxy"), ("expire_quiescent", "expire_quiescent_conn"), ("quic", "quic"))
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
VRRP_KEYS = (
    "name",
    "interface",
    "virtual_router_id",
    "vips",
    "priority",
    "advert_int",
    "preempt",
    "unicast_peers",
    "track_interfaces",
    "dpdk_interface",
)
INDENT = "    "


class Names:
    """The user's variable names, for messages."""

    def __init__(
        self, services="keepalived_services", vrrp="keepalived_vrrp_instances", priority="keepalived_priority"
    ):
        self.services = services
        self.vrrp = vrrp
        self.priority = priority


# ----------------------------------------------------------------------------- input


def keepalived_services(services, flavor, names):
    """``(canonical keepalived services, problems)`` of the table."""
    try:
        table = _ipvs_model.normalize(services or [], flavor)
    except InputError as err:
        return [], [message(err, {"services": names.services})]
    mine = _ipvs_model.owned(table, "keepalived")
    problems = []
    for svc in mine:
        problems += _service_problems(svc, flavor, names)
    return mine, problems


def _service_problems(svc, flavor, names):
    where = names.services + svc["path"][len("services") :]
    problems = []
    forwards = sorted({rs["forward"] for rs in svc["real_servers"] or []})
    if len(forwards) > 1:
        problems.append(f"{where}: keepalived sets one forwarding method per virtual server, not {', '.join(forwards)}")
    for name in ("blocklist", "allowlist"):
        if svc.get(name) is not None:
            problems.append(f"{where}.{name}: not rendered into keepalived.conf; keep the service with owner: ipvsadm")
    if svc["options"].get("dest_check"):
        problems.append(f"{where}.dest_check: keepalived has no such keyword; drop it or keep owner: ipvsadm")
    if flavor == "kernel" and svc["laddrs"]:
        problems.append(f"{where}.laddrs: local addresses are DPVS's (FullNAT); the kernel flavour has none")
    return problems


def vrrp_instances(instances, flavor, priority, names):
    """``(normalised VRRP instances, problems)``."""
    try:
        host_priority = int_range(names.priority, priority, 1, 254)
        if not isinstance(instances, list):
            raise InputError(names.vrrp, instances, "must be a list")
        out = [_vrrp(item_path(names.vrrp, i), raw, flavor, host_priority) for i, raw in enumerate(instances)]
        _vrrp_unique(names.vrrp, out)
    except InputError as err:
        return [], [str(err)]
    return out, []


def _vrrp(path, raw, flavor, host_priority):
    if not isinstance(raw, dict):
        raise InputError(path, raw, "must be a dictionary (name, interface, virtual_router_id, vips, ...)")
    unknown = sorted(set(raw) - set(VRRP_KEYS))
    if unknown:
        raise InputError(
            path_join(path, unknown[0]), raw[unknown[0]], "unknown key (known: " + ", ".join(VRRP_KEYS) + ")"
        )
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InputError(path_join(path, "name"), name, "must be a word of letters, digits, _ . - (VI_1)")
    if raw.get("dpdk_interface") is not None and flavor != "dpvs":
        raise InputError(
            path_join(path, "dpdk_interface"), raw["dpdk_interface"], "is the DPVS fork's: flavour dpvs only"
        )
    vips = raw.get("vips")
    if not isinstance(vips, list) or not vips:
        raise InputError(path_join(path, "vips"), vips, "must be a non-empty list of addresses (10.0.96.204/24)")
    return {
        "path": path,
        "name": name,
        "interface": device(path_join(path, "interface"), raw.get("interface")),
        "dpdk_interface": _opt(raw, "dpdk_interface", lambda v: device(path_join(path, "dpdk_interface"), v)),
        "virtual_router_id": int_range(path_join(path, "virtual_router_id"), raw.get("virtual_router_id"), 1, 255),
        "vips": [ip_interface(item_path(path_join(path, "vips"), i), v).with_prefixlen for i, v in enumerate(vips)],
        "priority": int_range(path_join(path, "priority"), _default(raw.get("priority"), host_priority), 1, 254),
        "advert_int": int_range(path_join(path, "advert_int"), _default(raw.get("advert_int"), 1), 1, 255),
        "preempt": boolean(path_join(path, "preempt"), raw.get("preempt"), default=True),
        "unicast_peers": _list(path, raw, "unicast_peers", ip_address),
        "track_interfaces": _list(path, raw, "track_interfaces", device),
    }


def _default(value, default):
    return default if value is None else value


def _opt(raw, key, convert):
    return None if raw.get(key) is None else convert(raw[key])


def _list(path, raw, key, convert):
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise InputError(path_join(path, key), value, "must be a list")
    return [str(convert(item_path(path_join(path, key), i), item)) for i, item in enumerate(value)]


def _vrrp_unique(path, instances):
    names, ids = {}, {}
    for inst in instances:
        if inst["name"] in names:
            raise InputError(path_join(inst["path"], "name"), inst["name"], f"used twice (also {names[inst['name']]})")
        names[inst["name"]] = inst["path"]
        key = (inst["interface"], inst["virtual_router_id"])
        if key in ids:
            raise InputError(
                path_join(inst["path"], "virtual_router_id"),
                inst["virtual_router_id"],
                f"used twice on {inst['interface']} (also {ids[key]}): one router id per instance and link",
            )
        ids[key] = inst["path"]


def network_problems(instances, network, names):
    """VRRP VIPs against the dpvs_network role's static addresses (``network``: ``addresses``,
    ``purge``, ``purge_devices``, as the inventory gives them): a VIP declared there too would be
    held by every node at once; a purge of the device keepalived puts VIPs on would take them off
    the master at the next run (``names``: unused, the paths carry the variable already)."""
    del names
    problems = []
    static = {}
    for item in network.get("addresses") or []:
        if isinstance(item, dict) and item.get("address") and item.get("state", "present") == "present":
            static.setdefault(str(item["address"]).split("/", maxsplit=1)[0], item.get("dev"))
    purged = {item.get("dev") for item in network.get("addresses") or [] if isinstance(item, dict)}
    purged |= set(network.get("purge_devices") or [])
    for inst in instances:
        for j, vip in enumerate(inst["vips"]):
            address = vip.split("/", maxsplit=1)[0]
            if address in static:
                problems.append(
                    f"{item_path(path_join(inst['path'], 'vips'), j)}: {address} is also in dpvs_network_addresses "
                    "(every node would hold it at once): leave the VIP to keepalived and remove it there"
                )
        if network.get("purge") and inst["dpdk_interface"] in purged:
            problems.append(
                f"{path_join(inst['path'], 'dpdk_interface')}: dpvs_network_purge would remove the VIPs keepalived "
                f"puts on {inst['dpdk_interface']} from the master at every run: set dpvs_network_purge: false on "
                "keepalived nodes"
            )
    return problems


# ----------------------------------------------------------------------------- rendering


def _block(head, lines):
    """``head {``, each line one level deeper (nested blocks included), ``}``."""
    return [f"{head} {{", *[INDENT + line for line in lines], "}"]


def _check_lines(check):
    kind = check["type"]
    lines = []
    if kind in ("http", "https"):
        lines += _block("url", [f"path {check['path']}", f"status_code {check['status_code']}"])
    if kind == "misc":
        lines += [f"misc_path {check['script']}", f"misc_timeout {check['timeout']}"]
    else:
        if check["port"] is not None:
            lines.append(f"connect_port {check['port']}")
        lines.append(f"connect_timeout {check['timeout']}")
    lines += [f"retry {check['retries']}", f"delay_before_retry {check['retry_delay']}"]
    if kind == "udp" and check["require_reply"]:
        lines.append("require_reply")
    return _block(CHECK_BLOCK[kind], lines)


def _real_server(svc, rs):
    lines = [f"weight {rs['weight']}"]
    if rs.get("u_threshold"):
        lines.append(f"uthreshold {rs['u_threshold']}")
    if rs.get("l_threshold"):
        lines.append(f"lthreshold {rs['l_threshold']}")
    if svc["health_check"]:
        lines += _check_lines(svc["health_check"])
    port_number = rs["port"] or svc["port"]
    head = f"real_server {rs['ip']} {port_number}" if port_number else f"real_server {rs['ip']}"
    return _block(head, lines)


def laddr_group_name(svc):
    """``laddr_tcp_10_0_96_204_80``: one group per service, named after it."""
    if svc["key"][0] == "fwmark":
        return f"laddr_fwmark_{svc['key'][1]}"
    return "laddr_{}_{}_{}".format(svc["protocol"], re.sub(r"[^0-9A-Za-z]", "_", svc["vip"]), svc["port"])


def _service_options(svc, flavor):
    opts = svc["options"]
    lines = [f"lb_algo {opts['scheduler']}"]
    forwards = sorted({rs["forward"] for rs in svc["real_servers"] or []})
    if forwards:
        lines.append(f"lb_kind {LB_KIND[forwards[0]]}")
    if svc["key"][0] != "fwmark":
        lines.append(f"protocol {svc['protocol'].upper()}")
    if opts.get("persistent"):
        lines.append(f"persistence_timeout {opts['persistent']}")
    if opts.get("netmask"):
        lines.append(f"persistence_granularity {opts['netmask']}")
    if opts.get("ops"):
        lines.append("ops")
    if flavor == "dpvs":
        lines += _fork_options(svc, opts)
    return lines


def _fork_options(svc, opts):
    lines = [word for option, word in FORK_FLAGS if opts.get(option)]
    if opts.get("conn_timeout"):
        lines.append(f"establish_timeout {opts['conn_timeout']}")
    if opts.get("proxy_protocol") and opts["proxy_protocol"] != "disable":
        lines.append(f"proxy_protocol {opts['proxy_protocol']}")
    if opts.get("hash_target"):
        lines.append(f"hash_target {opts['hash_target']}")
    if svc["laddrs"]:
        lines.append(f"laddr_group_name {laddr_group_name(svc)}")
    return lines


def virtual_server(svc, flavor):
    """The ``virtual_server`` block of one keepalived service (a list of lines)."""
    head = (
        f"virtual_server fwmark {svc['fwmark']}"
        if svc["key"][0] == "fwmark"
        else f"virtual_server {svc['vip']} {svc['port']}"
    )
    lines = [f"delay_loop {svc['health_check']['interval']}"] if svc["health_check"] else []
    lines += _service_options(svc, flavor)
    for rs in svc["real_servers"] or []:
        lines += _real_server(svc, rs)
    return _block(head, lines)


def laddr_groups(services):
    """The fork's ``local_address_group`` blocks of the services with local addresses."""
    lines = []
    for svc in services:
        if svc["laddrs"]:
            lines += _block(
                f"local_address_group {laddr_group_name(svc)}",
                [f"{laddr['ip']} {laddr['dev']}" for laddr in svc["laddrs"]],
            )
    return lines


def vrrp_instance(inst):
    lines = ["state BACKUP", f"interface {inst['interface']}"]
    if inst["dpdk_interface"]:
        lines.append(f"dpdk_interface {inst['dpdk_interface']}")
    lines += [
        f"virtual_router_id {inst['virtual_router_id']}",
        f"priority {inst['priority']}",
        f"advert_int {inst['advert_int']}",
    ]
    if not inst["preempt"]:
        lines.append("nopreempt")
    if inst["unicast_peers"]:
        lines += _block("unicast_peer", inst["unicast_peers"])
    if inst["track_interfaces"]:
        lines += _block("track_interface", inst["track_interfaces"])
    lines += _block("virtual_ipaddress", inst["vips"])
    return _block(f"vrrp_instance {inst['name']}", lines)


def global_defs(router_id, services):
    lines = [f"router_id {router_id}"]
    if any((svc["health_check"] or {}).get("type") == "misc" for svc in services):
        # MISC_CHECK programs run as root, and only when no one else can change them
        lines += ["script_user root", "enable_script_security"]
    return _block("global_defs", lines)


DRAINED_PRIORITY = 1
DRAINED = "# drained: every VRRP instance at priority 1 (a rolling restart runs on this node)"


def build(services, instances, flavor, priority=100, router_id="lb", names=None, network=None, drain=False):
    """The keepalived.conf of one host (see the module's docstring); ``network``: the host's
    dpvs_network inputs, checked against the VIPs (:func:`network_problems`). ``drain``: every
    VRRP instance at priority 1, so that the other nodes hold the VIPs; entering and leaving it is
    a restart (``restart_text`` says so): keepalived's stop hands the VIPs over at once, with or
    without preemption."""
    names = names or Names()
    if flavor not in FLAVORS:
        return {
            "text": "",
            "restart_text": "",
            "services": [],
            "problems": [f"flavor: must be dpvs or kernel (got {flavor!r})"],
        }
    mine, problems = keepalived_services(services, flavor, names)
    vrrp, vrrp_problems = vrrp_instances(instances, flavor, priority, names)
    problems += vrrp_problems or network_problems(vrrp, network or {}, names)
    if mine and (network or {}).get("kernel_ipvs_purge"):
        problems.append(
            f"{names.services}: kernel_forwarder (kernel_forwarder_mode ipvs, kernel_forwarder_purge true) would purge "
            f"keepalived's services ({', '.join(svc['label'] for svc in mine)}) from this host's IPVS table at every "
            "run: set kernel_forwarder_purge: false here, or keep these services out of keepalived"
        )
    if not NAME_RE.match(str(router_id)):
        problems.append(f"keepalived_router_id: must be a word of letters, digits, _ . - (got {router_id!r})")
    if problems:
        return {"text": "", "restart_text": "", "services": [], "problems": problems}
    restart = laddr_groups(mine)
    if drain:
        vrrp = [dict(inst, priority=DRAINED_PRIORITY) for inst in vrrp]
        restart = [DRAINED, *restart]
    lines = global_defs(router_id, mine)
    for inst in vrrp:
        lines += ["", *vrrp_instance(inst)]
    if restart:
        lines += ["", *restart]
    for svc in mine:
        lines += ["", *virtual_server(svc, flavor)]
    return {
        "text": "\n".join(lines) + "\n",
        "restart_text": "\n".join(restart) + ("\n" if restart else ""),
        "services": [svc["label"] for svc in mine],
        "problems": [],
    }


def keywords(text):
    """The keywords of a keepalived.conf text: the first word of each line that is not a value
    inside a list block (addresses, peers, interfaces, laddr entries)."""
    found, stack = set(), []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith(("#", "!")):
            continue
        if words[0] == "}":
            stack.pop()
            continue
        if not (stack and stack[-1] in LIST_BLOCKS):
            found.add(words[0])
        if words[-1] == "{":
            stack.append(words[0])
    return found


LIST_BLOCKS = ("virtual_ipaddress", "unicast_peer", "track_interface", "local_address_group")
