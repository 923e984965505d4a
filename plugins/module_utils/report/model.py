# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report model: the inventory's hosts (+ live facts) -> VIPs, nodes, services, real servers.

``build(hosts, live=None)``:

* ``hosts``: ``{name: {"groups": [...], VARIABLE: value, ...}}``, the variables playbooks/report.yml
  reads from ``hostvars`` (``ansible_host``, ``dpvs_nics``, ``dpvs_host_facts``, ``dpvs_workers``,
  ``dpvs_workers_per_node``, ``dpvs_master_cpu``, ``dpvs_reserved_cpus``,
  ``dpvs_icmp_redirect_worker``, ``dpvs_network_addresses``, ``dpvs_services_services``,
  ``keepalived_enabled``, ``keepalived_vrrp_instances``, ``keepalived_priority``,
  ``keepalived_services``, ``kernel_forwarder_address``, ``kernel_forwarder_mode``,
  ``kernel_forwarder_forwards``, ``toa_addresses``); a missing variable is ``None``.
* ``live``: ``None`` (inventory alone) or ``{name: {"info": dpvs_info's result, "facts":
  host_info's result or None}}`` for the DPVS nodes that were read.

Every list of the model is sorted (by name, address, label), so the same input gives the same
page. A value the inventory gets wrong is a ``problems`` entry of its node, never an exception:
the report shows what it can.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.host import dpvs_view
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.layout import PCI_RE, layout, pci_sort_key
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as ipvs_model
from ansible_collections.dpvs.cluster.plugins.module_utils.keepalived.conf import Names, vrrp_instances

KINDS = ("dpvs", "kernel_lb")
STAT_KEYS = ("conns", "inpkts", "outpkts", "inbytes", "outbytes")
NO_FACTS = "workers and queues: need NUMA facts (dpvs_host_facts, or dpvs_report_live=true)"


def _address_key(text):
    """Sort key of an address (IPv4 before IPv6, numeric), any text last."""
    try:
        address = ipaddress.ip_address(str(text).split("/", maxsplit=1)[0])
    except ValueError:
        return (2, 0, str(text))
    return (address.version, int(address), str(text))


def _host(text):
    return str(text).split("/", maxsplit=1)[0]


# ----------------------------------------------------------------------------- ports and workers


def _declared_ports(nics):
    """The ports as DPDK will name them (PCI order; vdevs in inventory order), without host facts."""
    nics = [nic for nic in nics or [] if isinstance(nic, dict)]
    pci = sorted((nic for nic in nics if PCI_RE.match(str(nic.get("pci") or ""))), key=lambda n: pci_sort_key(n["pci"]))
    others = [nic for nic in nics if nic not in pci]
    return [
        {
            "name": f"dpdk{index}",
            "pci": nic.get("pci") or nic.get("vdev"),
            "numa_node": nic.get("numa_node"),
            "driver": nic.get("driver"),
            "role": nic.get("role"),
            "rx_queues": None,
            "tx_queues": None,
        }
        for index, nic in enumerate(pci + others)
    ]


def _host_facts(variables, live):
    if isinstance(variables.get("dpvs_host_facts"), dict):
        return variables["dpvs_host_facts"]
    facts = (live or {}).get("facts")
    if not isinstance(facts, dict) or "numa" not in facts:
        return None
    pcis = [str(nic["pci"]) for nic in variables.get("dpvs_nics") or [] if isinstance(nic, dict) and nic.get("pci")]
    return dpvs_view(facts, pcis)


def _layout(variables, live, problems):
    """(ports, NUMA nodes with master and workers, note) of a DPVS node."""
    nics = variables.get("dpvs_nics") or []
    try:
        host = _host_facts(variables, live)
    except ValueError as err:
        problems.append(f"host facts: {err}")
        host = None
    if host is None:
        return _declared_ports(nics), [], NO_FACTS
    try:
        out = layout(
            nics,
            host,
            workers=variables.get("dpvs_workers") or "auto",
            workers_per_node=variables.get("dpvs_workers_per_node") or None,
            master_cpu=variables.get("dpvs_master_cpu"),
            reserved_cpus=variables.get("dpvs_reserved_cpus") or None,
            icmp_redirect_worker=variables.get("dpvs_icmp_redirect_worker"),
        )
    except InputError as err:
        problems.append(f"layout: {err}")
        return _declared_ports(nics), [], "no layout: " + str(err)
    ports = [
        {key: port.get(key) for key in ("name", "numa_node", "driver", "role", "rx_queues", "tx_queues")}
        for port in out["ports"]
    ]
    for port, raw in zip(ports, out["ports"]):
        port["pci"] = raw.get("pci") or raw.get("vdev")
    numa = []
    for node in out["numa_nodes"]:
        lcores = [lc for lc in out["lcores"] if lc["numa_node"] == node]
        numa.append(
            {
                "node": node,
                "master": next(
                    ({"cpu_id": lc["cpu_id"], "core": lc["core"]} for lc in lcores if lc["type"] == "master"), None
                ),
                "workers": [_worker(lc) for lc in lcores if lc["type"] != "master"],
            }
        )
    return ports, numa, None


def _worker(lcore):
    queues = sorted({q for port in lcore["ports"] for q in port["rx_queue_ids"]})
    return {"cpu_id": lcore["cpu_id"], "core": lcore["core"], "rx_queues": queues}


def _live_ports(ports, info):
    """Each port with its live link (state, speed, queues, NUMA socket); live-only ports appended."""
    links = {link["name"]: link for link in (info or {}).get("links") or []}
    for port in ports:
        port["state"] = "not read" if info is None else "missing"
        port["speed_mbps"] = None
        port["layout_rx_queues"] = port["rx_queues"]
        link = links.pop(port["name"], None)
        if link:
            port.update(state=link.get("state"), speed_mbps=link.get("speed_mbps"))
            port["rx_queues"], port["tx_queues"] = link.get("rx_queues"), link.get("tx_queues")
            if port["numa_node"] is None:
                port["numa_node"] = link.get("socket")
    for name in sorted(links):
        link = links[name]
        ports.append(
            {
                "name": name,
                "pci": None,
                "numa_node": link.get("socket"),
                "driver": None,
                "role": "not in the inventory",
                "rx_queues": link.get("rx_queues"),
                "tx_queues": link.get("tx_queues"),
                "state": link.get("state"),
                "speed_mbps": link.get("speed_mbps"),
                "layout_rx_queues": None,
            }
        )
    return ports


def _port_drift(node, ports, drift):
    for port in ports:
        if port["state"] == "missing":
            drift.append(f"{node}: port {port['name']} ({port['pci']}) is declared but DPVS has no such port")
        elif port["role"] == "not in the inventory":
            drift.append(f"{node}: port {port['name']} is in DPVS but not in dpvs_nics")
        elif port["layout_rx_queues"] not in (None, port["rx_queues"]):
            drift.append(
                f"{node}: port {port['name']} runs {port['rx_queues']} rx queue(s), the inventory's layout gives it "
                f"{port['layout_rx_queues']}"
            )


# ----------------------------------------------------------------------------- services


def _ports_text(ports):
    if not isinstance(ports, list):
        ports = [ports]
    return ",".join(str(port) for port in ports)


def _declared_services(node, variables, kinds, problems):
    """The services this node serves, as the inventory declares them (canonical, labelled)."""
    tables = []
    if "dpvs" in kinds:
        tables.append(("dpvs", "dpvs_services_services", variables.get("dpvs_services_services")))
    elif variables.get("keepalived_services"):
        tables.append(("kernel", "keepalived_services", variables.get("keepalived_services")))
    rows = []
    for flavor, name, services in tables:
        try:
            table = ipvs_model.normalize(services or [], flavor)
        except InputError as err:
            problems.append(f"{name}: {err}")
            continue
        rows.extend(_service_row(node, "dpvs" if flavor == "dpvs" else "kernel_lb", svc) for svc in table)
    if "kernel_lb" in kinds:
        rows.extend(_forward_rows(node, variables))
    return rows


def _service_row(node, kind, svc):
    return {
        "node": node,
        "kind": kind,
        "key": (svc["protocol"], str(svc["vip"] or svc["fwmark"]), str(svc["port"])),
        "protocol": svc["protocol"],
        "vip": str(svc["vip"] or f"fwmark {svc['fwmark']}"),
        "port": str(svc["port"]),
        "scheduler": svc["options"]["scheduler"],
        "owner": svc.get("owner") or "ipvsadm",
        "laddrs": sorted((laddr["ip"] for laddr in svc["laddrs"] or []), key=_address_key),
        "state": "declared",
        "stats": None,
        "real_servers": [
            {
                "ip": rs["ip"],
                "port": str(rs["port"]),
                "forward": rs["forward"],
                "weight": rs["weight"],
                "state": "declared",
            }
            for rs in svc["real_servers"] or []
        ],
    }


def _forward_rows(node, variables):
    """kernel_forwarder's forwards: one service per forward (its ports, its backend)."""
    vip = str(variables.get("kernel_forwarder_address") or "?")
    mode = str(variables.get("kernel_forwarder_mode") or "iptables")
    rows = []
    for forward in variables.get("kernel_forwarder_forwards") or []:
        if not isinstance(forward, dict):
            continue
        ports = _ports_text(forward.get("ports"))
        rows.append(
            {
                "node": node,
                "kind": "kernel_lb",
                "key": (str(forward.get("protocol") or "udp"), vip, ports),
                "protocol": str(forward.get("protocol") or "udp"),
                "vip": vip,
                "port": ports,
                "scheduler": "sh" if mode == "ipvs" else "iptables DNAT",
                "owner": "kernel_forwarder",
                "laddrs": [],
                "state": "declared",
                "stats": None,
                "real_servers": [
                    {
                        "ip": str(forward.get("backend")),
                        "port": str(forward.get("backend_port") or ports),
                        "forward": "masq" if mode == "ipvs" else "dnat",
                        "weight": None,
                        "state": "declared",
                    }
                ],
            }
        )
    return rows


def _stats_map(stats):
    found = {}
    for svc in stats or []:
        key = (svc.get("protocol"), str(svc.get("vip")), str(svc.get("port")))
        found[key] = svc
        for rs in svc.get("real_servers") or []:
            found[(*key, str(rs.get("ip")), str(rs.get("port")))] = rs
    return found


def _counters(entry):
    if entry is None:
        return None
    return {name: entry.get(name) for name in STAT_KEYS}


def _live_rs(rs, counters):
    state = "ok"
    if rs.get("inhibited"):
        state = "inhibited"
    elif rs.get("weight") == 0:
        state = "quiesced (weight 0)"
    return {
        "state": state,
        "weight": rs.get("weight"),
        "active_conns": rs.get("active_conns"),
        "inactive_conns": rs.get("inactive_conns"),
        "stats": _counters(counters),
    }


def _merge_live(rows, node, info, drift):
    """Declared rows of a DPVS node + its live services: state, counters, drift."""
    live = {}
    for svc in info.get("services") or []:
        live[(svc.get("protocol"), str(svc.get("vip")), str(svc.get("port")))] = svc
    stats = _stats_map(info.get("stats"))
    for row in rows:
        if row["kind"] != "dpvs":
            continue
        svc = live.pop(row["key"], None)
        if svc is None:
            row["state"] = "missing"
            drift.append(f"{node}: service {_label(row)} is declared but not in DPVS")
            continue
        row["state"] = "ok"
        if svc.get("scheduler") and svc["scheduler"] != row["scheduler"]:
            row["state"] = "differs"
            drift.append(
                f"{node}: service {_label(row)} schedules {svc['scheduler']} in DPVS, {row['scheduler']} declared"
            )
        row["stats"] = _counters(stats.get(row["key"]))
        _merge_real_servers(row, svc, stats, drift)
    for key in sorted(live, key=lambda k: (k[0] or "", _address_key(k[1]), k[2])):
        row = _extra_service(node, live[key])
        row["stats"] = _counters(stats.get(key))
        _merge_real_servers(row, live[key], stats, [])
        drift.append(f"{node}: service {_label(row)} is in DPVS but not in the inventory")
        rows.append(row)


def _extra_service(node, svc):
    return {
        "node": node,
        "kind": "dpvs",
        "key": (svc.get("protocol"), str(svc.get("vip")), str(svc.get("port"))),
        "protocol": svc.get("protocol"),
        "vip": str(svc.get("vip")),
        "port": str(svc.get("port")),
        "scheduler": svc.get("scheduler"),
        "owner": "not in the inventory",
        "laddrs": [],
        "state": "extra",
        "stats": None,
        "real_servers": [],
    }


def _merge_real_servers(row, svc, stats, drift):
    live = {(str(rs.get("ip")), str(rs.get("port"))): rs for rs in svc.get("real_servers") or []}
    gathered = svc.get("laddrs") is not None
    row["laddrs_live"] = sorted((str(la.get("ip")) for la in svc.get("laddrs") or []), key=_address_key)
    for laddr in row["laddrs"]:
        if gathered and laddr not in row["laddrs_live"]:
            drift.append(f"{row['node']}: local address {laddr} of {_label(row)} is not in DPVS")
    for rs in row["real_servers"]:
        found = live.pop((rs["ip"], rs["port"]), None)
        if found is not None:
            rs.update(_live_rs(found, stats.get((*row["key"], rs["ip"], rs["port"]))))
        elif row["owner"] == "keepalived":
            rs["state"] = "down (out of DPVS: keepalived's health check)"
        else:
            rs["state"] = "missing"
            drift.append(f"{row['node']}: real server {rs['ip']}:{rs['port']} of {_label(row)} is not in DPVS")
    for key in sorted(live, key=lambda k: (_address_key(k[0]), k[1])):
        found = live[key]
        extra = {"ip": key[0], "port": key[1], "forward": found.get("forward")}
        extra.update(_live_rs(found, stats.get((*row["key"], *key))))
        extra["state"] = "extra"
        if row["state"] != "extra":
            drift.append(
                f"{row['node']}: real server {key[0]}:{key[1]} of {_label(row)} is in DPVS, not in the inventory"
            )
        row["real_servers"].append(extra)


def _label(row):
    vip = f"[{row['vip']}]" if ":" in row["vip"] else row["vip"]
    return f"{row['protocol']} {vip}:{row['port']}"


def _address_drift(node, variables, info, drift):
    live = {(str(a.get("address")), str(a.get("dev"))) for a in info.get("addresses") or []}
    for item in variables.get("dpvs_network_addresses") or []:
        if not isinstance(item, dict) or item.get("state", "present") != "present" or not item.get("address"):
            continue
        key = (_host(item["address"]), str(item.get("dev")))
        if key not in live:
            drift.append(f"{node}: address {item['address']} on {item.get('dev')} is declared but not in DPVS")


# ----------------------------------------------------------------------------- VRRP


def _vrrp(variables, kinds, problems):
    instances = variables.get("keepalived_vrrp_instances")
    if not instances:
        return []
    flavor = "dpvs" if "dpvs" in kinds else "kernel"
    out, found = vrrp_instances(instances, flavor, variables.get("keepalived_priority") or 100, Names())
    problems.extend(found)
    enabled = bool(variables.get("keepalived_enabled"))
    return [
        {
            "name": inst["name"],
            "interface": inst["dpdk_interface"] or inst["interface"],
            "virtual_router_id": inst["virtual_router_id"],
            "priority": inst["priority"],
            "vips": inst["vips"],
            "enabled": enabled,
        }
        for inst in sorted(out, key=lambda i: i["name"])
    ]


# ----------------------------------------------------------------------------- nodes


def _health(kinds, info, live_mode):
    if "dpvs" not in kinds:
        return "not read" if live_mode else "declared"
    if not live_mode:
        return "declared"
    if info is None or _unread(info):
        return "not read"
    return "up" if info.get("running") else "down"


def _unread(info):
    """Why dpvs_info's result holds no reading (unreachable host, failed module), or None."""
    if info.get("unreachable") or info.get("skipped") or "running" not in info:
        return str(info.get("msg") or "no result").strip().splitlines()[0]
    return None


def _not_read(name, info):
    if info is None:
        return f"{name}: DPVS was not read (no result from the host)"
    reason = _unread(info)
    return f"{name}: DPVS was not read: {reason}" if reason else f"{name}: DPVS does not answer"


def _node(name, variables, live, live_mode, drift):
    kinds = [kind for kind in KINDS if kind in (variables.get("groups") or [])]
    problems = []
    host_live = (live or {}).get(name) or {}
    info = host_live.get("info") if isinstance(host_live.get("info"), dict) else None
    ports, numa, note = ([], [], None)
    if "dpvs" in kinds:
        ports, numa, note = _layout(variables, host_live, problems)
        if live_mode:
            ports = _live_ports(ports, info if info and info.get("running") else None)
            if info and info.get("running"):
                _port_drift(name, ports, drift)
    services = _declared_services(name, variables, kinds, problems)
    health = _health(kinds, info, live_mode)
    if info is not None and info.get("running"):
        _merge_live(services, name, info, drift)
        _address_drift(name, variables, info, drift)
    elif live_mode and "dpvs" in kinds:
        drift.append(_not_read(name, info))
    node = {
        "name": name,
        "kinds": kinds,
        "address": None if variables.get("ansible_host") is None else str(variables["ansible_host"]),
        "health": health,
        "ports": ports,
        "numa": numa,
        "layout_note": note,
        "vrrp": _vrrp(variables, kinds, problems),
        "kernel_forwarder": _kernel_forwarder(variables) if "kernel_lb" in kinds else None,
        "problems": problems,
    }
    return node, services


def _kernel_forwarder(variables):
    return {
        "address": str(variables.get("kernel_forwarder_address") or "?"),
        "mode": str(variables.get("kernel_forwarder_mode") or "iptables"),
    }


def _vips(nodes, services):
    found = {}
    for row in services:
        entry = found.setdefault(row["vip"], {"address": row["vip"], "nodes": set(), "services": set(), "vrrp": set()})
        entry["nodes"].add(row["node"])
        entry["services"].add(f"{row['protocol']}/{row['port']}")
    for node in nodes:
        for inst in node["vrrp"]:
            for vip in inst["vips"]:
                entry = found.setdefault(
                    _host(vip), {"address": _host(vip), "nodes": set(), "services": set(), "vrrp": set()}
                )
                entry["nodes"].add(node["name"])
                entry["vrrp"].add(f"{inst['name']} (vrid {inst['virtual_router_id']})")
    return [
        {
            "address": entry["address"],
            "nodes": sorted(entry["nodes"]),
            "services": sorted(entry["services"]),
            "vrrp": sorted(entry["vrrp"]),
        }
        for entry in sorted(found.values(), key=lambda e: _address_key(e["address"]))
    ]


def _real_servers(hosts, services):
    """Real servers by address, each with the inventory host that has that address (if any)."""
    names = {}
    for name in sorted(hosts):
        variables = hosts[name]
        if "realservers" not in (variables.get("groups") or []):
            continue
        for address in [variables.get("ansible_host"), *(variables.get("toa_addresses") or [])]:
            if address is not None:
                names.setdefault(str(address), name)
    found = {}
    for row in services:
        for rs in row["real_servers"]:
            entry = found.setdefault(
                rs["ip"], {"ip": rs["ip"], "host": names.get(rs["ip"]), "nodes": set(), "states": set()}
            )
            entry["nodes"].add(row["node"])
            entry["states"].add(rs["state"])
    return [
        {"ip": e["ip"], "host": e["host"], "nodes": sorted(e["nodes"]), "health": _rs_health(e["states"])}
        for e in sorted(found.values(), key=lambda e: _address_key(e["ip"]))
    ]


def _rs_health(states):
    """The worst state of one real server over every service and node that lists it."""
    for word in ("missing", "down", "inhibited", "quiesced", "extra", "ok", "declared"):
        for state in sorted(states):
            if state.startswith(word):
                return word
    return sorted(states)[0] if states else "declared"


def build(hosts, live=None):
    """The report model (see the module docstring)."""
    live_mode = live is not None
    nodes, services, drift = [], [], []
    for name in sorted(hosts or {}):
        variables = hosts[name] or {}
        if not any(kind in (variables.get("groups") or []) for kind in KINDS):
            continue
        node, rows = _node(name, variables, live, live_mode, drift)
        nodes.append(node)
        services.extend(rows)
    services.sort(key=lambda r: (r["node"], _address_key(r["vip"]), r["protocol"] or "", r["port"]))
    for row in services:
        row["label"] = _label(row)
        row.pop("key", None)
    others = {
        group: sorted(name for name, v in (hosts or {}).items() if group in ((v or {}).get("groups") or []))
        for group in ("realservers", "clients")
    }
    return {
        "live": live_mode,
        "nodes": nodes,
        "vips": _vips(nodes, services),
        "services": services,
        "real_servers": _real_servers(hosts or {}, services),
        "drift": drift,
        "hosts": others,
    }
