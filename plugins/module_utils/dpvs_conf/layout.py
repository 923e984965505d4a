# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Worker layout of a DPVS host: ports, master and worker cores, queues, EAL options.

A pure function of the host's NUMA facts and the inventory's NIC list (no I/O). The rules
(docs/dpvs_conf.md, "Worker layout"):

* Ports: DPDK numbers PCI ports in PCI address order, and the N-th ``device`` block of
  dpvs.conf names port N (transcripts README section 4). The NICs are sorted by PCI address,
  named ``dpdk0..`` in that order, and the EAL allow-list (``-a``) lists them in the same
  order; a name given in the inventory must match its position. vdevs (``--vdev``, with
  ``--no-pci``) keep the inventory order and cannot be mixed with PCI NICs.
* One master lcore (DPVS cpu_id 0), on the NUMA node of port 0, on a housekeeping (not
  isolated) core when there is one; it polls no port.
* Slave workers (cpu_id 1..W) on the NUMA nodes of the NICs, in proportion to the NICs each
  node holds, isolated cores first. Every worker serves every port, and worker ``k`` owns
  rx/tx queue ``k-1`` of each port (the DPVS sample layout): queue ids start at 0, are
  contiguous, and each port has W queues, which must fit the NIC (``max_rx_queues``) and
  DPVS (16).
* EAL ``--lcores 0@M,1@C1,...`` maps DPVS cpu ids to physical cores, so cpu ids stay 0..W
  whatever the core numbers (DPVS keeps a 64-bit lcore mask).
* ``max_socket`` (CONFIG_DPVS_MAX_SOCKET of the build) is the host's NUMA node count: DPVS
  makes its packet and connection pools on every node (``get_numa_nodes()``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import PCI_RE, InputError, boolean, pci_address

# "0000:01:00.0" or "01:00.0" (domain 0 implied)
# "net_af_packet0,iface=eth1", "net_tap0", "virtio_user0,path=/dev/vhost-net"
VDEV_RE = re.compile(r"^(?P<driver>net_[a-z0-9_]+?|virtio_user|eth_[a-z0-9_]+?)(?P<index>\d+)(?:,[^\s]+)?$")
# characters systemd would expand or split in ExecStart= ("%" specifiers, "$" variables, quotes)
UNIT_UNSAFE = set("%$;\"'\\")

MAX_QUEUES = 16  # DPVS NETIF_MAX_QUEUES (queue_number <16, 0-16>)
AUTO_WORKERS_CAP = 8
RSS_TYPES = ("all", "ip", "tcp", "udp", "sctp", "ether", "port", "tunnel")

# Kernel drivers (before binding) and whether DPVS's sa_pool flow rules (rte_flow) work on
# them, from the NIC reports of USERS.md pain point 3. Unknown drivers count as "no": flow off
# with redirect on works everywhere, flow on where it is unsupported breaks FullNAT silently.
RTE_FLOW_DRIVERS = {
    "ixgbe": True,  # 82599 / X520 / X540: the seed's NICs, flow director in perfect mode
    "ice": True,  # E810
    "mlx5_core": True,  # ConnectX-4/5/6 (bifurcated: never bound to vfio)
    "i40e": False,  # X710: rte_flow_validate "Invalid IPv4 item" (iqiyi/dpvs#767)
    "igb": False,  # I350 / I210 (#56, #228)
    "igc": False,
    "e1000": False,
    "e1000e": False,
    "virtio-pci": False,  # KVM virtio (#121)
    "virtio_net": False,
    "vmxnet3": False,  # VMware (#811, #959)
    "bnxt_en": False,  # BCM57412 (#562)
}

NIC_KEYS = (
    "name",
    "pci",
    "vdev",
    "numa_node",
    "driver",
    "rte_flow",
    "max_rx_queues",
    "max_tx_queues",
    "rx_descriptors",
    "tx_descriptors",
    "rss",
    "mtu",
    "promisc",
    "allmulticast",
    "kni_name",
    "mbuf_fast_free",
    "role",
)
NIC_DEFAULTS = {
    "rx_descriptors": 256,
    "tx_descriptors": 512,
    "rss": "all",
    "mtu": None,
    "promisc": False,
    "allmulticast": False,
    "kni_name": None,
    "mbuf_fast_free": False,
}


def _int(path, value, low, high):
    if isinstance(value, bool) or value is None:
        raise InputError(path, value, f"must be a number {low}..{high}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(path, value, f"must be a number {low}..{high}") from None
    if str(number) != str(value).strip():
        raise InputError(path, value, f"must be a whole number {low}..{high}")
    if not low <= number <= high:
        raise InputError(path, value, f"must be {low}..{high}")
    return number


def pci_sort_key(address):
    match = PCI_RE.match(address)
    return tuple(int(match.group(part), 16) for part in ("domain", "bus", "dev", "fn"))


def normalize_pci(path, value):
    """``01:00.0`` -> ``0000:01:00.0`` (lower case); InputError when it is not a PCI address."""
    address = pci_address(value)
    if address is None:
        raise InputError(path, value, "not a PCI address (expected DDDD:BB:DD.F, e.g. 0000:01:00.0)")
    return address


def _node_cpus(host):
    """``{node: [cpus]}`` from host facts (``numa_nodes: {"0": {"cpus": [...]}}``)."""
    nodes = host.get("numa_nodes") if isinstance(host, dict) else None
    if not isinstance(nodes, dict) or not nodes:
        raise InputError("dpvs_host_facts.numa_nodes", nodes, "no NUMA nodes in the host facts")
    out = {}
    for key, info in nodes.items():
        node = _int(f"dpvs_host_facts.numa_nodes[{key!r}]", key, 0, 1023)
        cpus = (info or {}).get("cpus") if isinstance(info, dict) else None
        if not isinstance(cpus, (list, tuple)):
            raise InputError(f"dpvs_host_facts.numa_nodes[{key!r}].cpus", cpus, "must be a list of cpu numbers")
        out[node] = sorted(_int(f"dpvs_host_facts.numa_nodes[{key!r}].cpus", cpu, 0, 65535) for cpu in cpus)
    return out


def _normalize_nics(nics, host, node_cpus):
    """The inventory's NICs checked and completed (defaults, NUMA node, driver), in port order."""
    if not isinstance(nics, (list, tuple)) or not nics:
        raise InputError("dpvs_nics", nics, "declare at least one NIC (pci or vdev)")
    pci_facts = host.get("pci_devices") or {}
    out = []
    warnings = []
    seen = {}
    for index, raw in enumerate(nics):
        out.append(_normalize_nic(index, raw, pci_facts, node_cpus, seen, warnings))
    _number_ports(out)
    return out, warnings


def _normalize_nic(index, raw, pci_facts, node_cpus, seen, warnings):
    """One entry of dpvs_nics, checked and completed; ``seen`` maps device keys to indexes."""
    path = f"dpvs_nics[{index}]"
    has_pci = _check_nic_keys(path, raw)
    nic = dict(NIC_DEFAULTS)
    nic.update({key: value for key, value in raw.items() if value is not None})
    nic["index"] = index
    key = _nic_device(path, raw, nic, has_pci)
    if key in seen:
        raise InputError(
            f"{path}.{'pci' if has_pci else 'vdev'}",
            raw.get("pci") or raw.get("vdev"),
            f"also dpvs_nics[{seen[key]}]",
        )
    seen[key] = index
    facts = pci_facts.get(nic["pci"], {}) if nic["pci"] else {}
    nic["numa_node"] = _nic_numa_node(path, raw, nic, facts, node_cpus, warnings)
    nic["driver"] = raw.get("driver") or facts.get("kernel_driver") or None
    _nic_settings(path, raw, nic)
    nic["rte_flow"] = _nic_rte_flow(path, raw, nic, warnings)
    return nic


def _check_nic_keys(path, raw):
    """Refuse an entry that is not a dict, has unknown keys or not exactly one of pci/vdev;
    True for a PCI NIC."""
    if not isinstance(raw, dict):
        raise InputError(path, raw, "must be a dictionary")
    unknown = sorted(set(raw) - set(NIC_KEYS))
    if unknown:
        raise InputError(f"{path}.{unknown[0]}", raw[unknown[0]], "unknown key (known: {})".format(", ".join(NIC_KEYS)))
    has_pci, has_vdev = raw.get("pci") is not None, raw.get("vdev") is not None
    if has_pci == has_vdev:
        raise InputError(path, raw, "give exactly one of pci (a PCI NIC) or vdev (a DPDK virtual device)")
    return has_pci


def _nic_device(path, raw, nic, has_pci):
    """Set ``pci``/``vdev`` of ``nic`` (normalised); return the key that must be unique."""
    if has_pci:
        nic["pci"] = normalize_pci(f"{path}.pci", raw["pci"])
        nic["vdev"] = None
        return nic["pci"]
    vdev = str(raw["vdev"]).strip()
    if not VDEV_RE.match(vdev) or UNIT_UNSAFE & set(vdev):
        raise InputError(f"{path}.vdev", raw["vdev"], "not a DPDK vdev (e.g. net_af_packet0,iface=eth1)")
    nic["vdev"] = vdev
    nic["pci"] = None
    return vdev.split(",", 1)[0]


def _nic_numa_node(path, raw, nic, facts, node_cpus, warnings):
    """The NIC's NUMA node: the inventory's numa_node wins (the explicit override), else sysfs."""
    single_node = len(node_cpus) == 1
    if raw.get("numa_node") is not None:
        node = _int(f"{path}.numa_node", raw["numa_node"], 0, 1023)
    elif nic["pci"] and facts.get("numa_node") is not None:
        node = int(facts["numa_node"])
        if node < 0:
            if not single_node:
                raise InputError(
                    f"{path}.numa_node",
                    node,
                    f"sysfs reports NUMA node -1 for {nic['pci']} on a {len(node_cpus)}-node host: set numa_node "
                    "in the inventory (the node of the socket the slot is wired to)",
                )
            node = min(node_cpus)
            warnings.append(f"{path}: {nic['pci']} reports NUMA node -1; one-node host, using node {node}")
    elif single_node:
        node = min(node_cpus)
    else:
        raise InputError(
            f"{path}.numa_node", None, f"unknown on a {len(node_cpus)}-node host (not in the host facts): set it"
        )
    if node not in node_cpus:
        raise InputError(f"{path}.numa_node", node, f"no such NUMA node on this host (nodes: {sorted(node_cpus)})")
    return node


def _nic_settings(path, raw, nic):
    """Check and normalise the queue limits, descriptors, rss, mtu and on/off flags of ``nic``."""
    for way in ("rx", "tx"):
        limit = raw.get(f"max_{way}_queues")
        nic[f"max_{way}_queues"] = None if limit is None else _int(f"{path}.max_{way}_queues", limit, 1, 65535)
        nic[f"{way}_descriptors"] = _int(f"{path}.{way}_descriptors", nic[f"{way}_descriptors"], 16, 8192)
    if nic["rss"] not in RSS_TYPES:
        raise InputError(f"{path}.rss", nic["rss"], "must be one of " + ", ".join(RSS_TYPES))
    if nic["mtu"] is not None:
        nic["mtu"] = _int(f"{path}.mtu", nic["mtu"], 68, 9000)
    for flag in ("promisc", "allmulticast", "mbuf_fast_free"):
        nic[flag] = boolean(f"{path}.{flag}", nic[flag])


def _nic_rte_flow(path, raw, nic, warnings):
    """Whether DPVS's flow rules work on the NIC: the inventory's rte_flow, else by driver."""
    if raw.get("rte_flow") is not None:
        return boolean(f"{path}.rte_flow", raw["rte_flow"])
    if nic["vdev"]:
        return False
    if nic["driver"] not in RTE_FLOW_DRIVERS:
        warnings.append(
            f"{path}: driver {nic['driver'] or 'unknown'} not in the rte_flow table: assuming no rte_flow "
            "(sa_pool flow off, redirect on); set rte_flow: true if the NIC supports DPVS's flow rules"
        )
    return RTE_FLOW_DRIVERS.get(nic["driver"] or "", False)


def _number_ports(nics):
    """Sort PCI NICs by address (vdevs keep their order) and name them dpdk0.. (port ids)."""
    kinds = {nic["vdev"] is None for nic in nics}
    if len(kinds) > 1:
        raise InputError(
            "dpvs_nics",
            [nic.get("pci") or nic.get("vdev") for nic in nics],
            "mixes PCI NICs and vdevs: their relative port order depends on DPDK's bus probe order; use one kind",
        )
    if nics[0]["vdev"] is None:
        nics.sort(key=lambda nic: pci_sort_key(nic["pci"]))
    for position, nic in enumerate(nics):
        expected = f"dpdk{position}"
        name = nic.get("name")
        if name is not None and name != expected:
            why = (
                "DPDK numbers PCI ports in PCI address order ({}), and the N-th device of dpvs.conf "
                "names port N".format(" < ".join(n["pci"] for n in nics))
                if nic["vdev"] is None
                else "vdev ports are numbered in inventory order"
            )
            raise InputError(
                f"dpvs_nics[{nic['index']}].name", name, f"this NIC is port {position}, so it is {expected}: {why}"
            )
        nic["name"] = expected
        nic["port_id"] = position


def _usable(cpus, isolated, exclude):
    """Cores of one node in preference order: isolated first, then the others."""
    free = [cpu for cpu in cpus if cpu not in exclude]
    return [cpu for cpu in free if cpu in isolated] + [cpu for cpu in free if cpu not in isolated]


def _split(total, weights):
    """``total`` split over ``weights`` (``{node: weight}``) by largest remainder, ties to the
    lower node."""
    whole = sum(weights.values())
    shares = {node: total * weight // whole for node, weight in weights.items()}
    rest = total - sum(shares.values())
    order = sorted(weights, key=lambda node: (-(total * weights[node] % whole), node))
    for node in order[:rest]:
        shares[node] += 1
    return shares


def layout(
    nics,
    host,
    workers="auto",
    workers_per_node=None,
    master_cpu=None,
    reserved_cpus=None,
    icmp_redirect_worker=None,
    eal_extra_args=None,
):
    """The layout of a DPVS host (see the module docstring). Raises InputError.

    ``host``: ``{"numa_nodes": {node: {"cpus": [...]}}, "isolated_cpus": [...],
    "pci_devices": {pci: {"numa_node": N, "kernel_driver": ...}}}`` (host_info's facts through the
    dpvs_host_view filter).
    """
    if not isinstance(host, dict):
        raise InputError("dpvs_host_facts", host, "must be host facts in the shape of the dpvs_host_view filter")
    node_cpus = _node_cpus(host)
    isolated = {int(cpu) for cpu in host.get("isolated_cpus") or []}
    reserved = {_int(f"dpvs_reserved_cpus[{i}]", cpu, 0, 65535) for i, cpu in enumerate(reserved_cpus or [])}
    ports, warnings = _normalize_nics(nics, host, node_cpus)
    cpu_node = {cpu: node for node, cpus in node_cpus.items() for cpu in cpus}
    master = _master(master_cpu, ports[0]["numa_node"], node_cpus, cpu_node, reserved, isolated)
    usable = {node: _usable(node_cpus[node], isolated, reserved | {master}) for node in node_cpus}
    per_node, total = _worker_counts(workers, workers_per_node, ports, node_cpus, usable)

    slaves = _slave_cores(per_node, usable, master, reserved, workers_per_node or workers, bool(workers_per_node))
    lcores = _lcores(master, cpu_node[master], slaves, icmp_redirect_worker, ports, isolated, warnings)
    warnings.extend(_cross_numa_warnings(lcores[1:], ports))
    for port in ports:
        port["rx_queues"] = port["tx_queues"] = total
    lcores_arg = ",".join("{}@{}".format(lcore["cpu_id"], lcore["core"]) for lcore in lcores)
    return {
        "ports": ports,
        "lcores": lcores,
        "master": lcores[0],
        "workers": lcores[1:],
        "worker_count": total,
        "workers_per_node": {node: per_node.get(node, 0) for node in sorted(node_cpus)},
        "numa_nodes": sorted(node_cpus),
        "max_socket": max(node_cpus) + 1,
        "lcores_arg": lcores_arg,
        "allow_list": [port["pci"] for port in ports if port["pci"]],
        "eal_args": _eal_args(lcores_arg, ports, eal_extra_args),
        "rte_flow": all(port["rte_flow"] for port in ports),
        "warnings": warnings,
    }


def _master(master_cpu, home, node_cpus, cpu_node, reserved, isolated):
    """The master's core: ``master_cpu``, else a housekeeping core on port 0's node ``home``."""
    if master_cpu is not None:
        master = _int("dpvs_master_cpu", master_cpu, 0, 65535)
        if master not in cpu_node:
            raise InputError("dpvs_master_cpu", master_cpu, f"no such cpu on this host (cpus: {_ranges(cpu_node)})")
        if master in reserved:
            raise InputError("dpvs_master_cpu", master_cpu, "is in dpvs_reserved_cpus")
        return master
    candidates = [cpu for cpu in node_cpus[home] if cpu not in reserved]
    if not candidates:
        raise InputError("dpvs_reserved_cpus", sorted(reserved), f"leaves no cpu on NUMA node {home} for the master")
    housekeeping = [cpu for cpu in candidates if cpu not in isolated]
    return (housekeeping or candidates)[0]


def _worker_counts(workers, workers_per_node, ports, node_cpus, usable):
    """``({node: workers}, total)``, checked against DPVS's and the NICs' queue limits."""
    nic_nodes = {}
    for port in ports:
        nic_nodes[port["numa_node"]] = nic_nodes.get(port["numa_node"], 0) + 1
    queue_limits = [
        (port[f"max_{way}_queues"], f"dpvs_nics[{port['index']}].max_{way}_queues", port["name"])
        for port in ports
        for way in ("rx", "tx")
        if port[f"max_{way}_queues"] is not None
    ]
    if workers_per_node:
        per_node, total = _workers_from_mapping(workers, workers_per_node, node_cpus)
    else:
        total = _worker_total(workers, nic_nodes, usable, queue_limits)
        per_node = _split(total, nic_nodes)
    if total > MAX_QUEUES:
        raise InputError(
            "dpvs_workers",
            total,
            f"DPVS gives each worker its own queue on every port and a port has at most {MAX_QUEUES}",
        )
    for limit, limit_path, name in queue_limits:
        if total > limit:
            raise InputError(
                limit_path,
                limit,
                f"{name} needs {total} queues (one per worker, every worker serves every port) but has {limit}: "
                f"lower dpvs_workers to {limit} or less",
            )
    return per_node, total


def _workers_from_mapping(workers, workers_per_node, node_cpus):
    """``({node: workers}, total)`` from dpvs_workers_per_node (dpvs_workers must agree)."""
    if not isinstance(workers_per_node, dict):
        raise InputError("dpvs_workers_per_node", workers_per_node, "must be a mapping NUMA node -> worker count")
    per_node = {}
    for key, count in workers_per_node.items():
        node = _int("dpvs_workers_per_node", key, 0, 1023)
        if node not in node_cpus:
            raise InputError(f"dpvs_workers_per_node[{key!r}]", count, f"no NUMA node {node} on this host")
        per_node[node] = _int(f"dpvs_workers_per_node[{key!r}]", count, 0, MAX_QUEUES)
    total = sum(per_node.values())
    if workers not in (None, "auto") and _int("dpvs_workers", workers, 1, MAX_QUEUES) != total:
        raise InputError("dpvs_workers", workers, f"differs from the sum of dpvs_workers_per_node ({total})")
    if total < 1:
        raise InputError("dpvs_workers_per_node", workers_per_node, "places no worker")
    return per_node, total


def _worker_total(workers, nic_nodes, usable, queue_limits):
    """The worker count: ``workers``, or for ``auto`` the most the cap, the NICs and the cores allow."""
    if workers not in (None, "auto"):
        return _int("dpvs_workers", workers, 1, 10**6)
    total = min(
        [AUTO_WORKERS_CAP, MAX_QUEUES, sum(len(usable[node]) for node in nic_nodes)]
        + [entry[0] for entry in queue_limits]
    )
    if total < 1:
        raise InputError(
            "dpvs_workers", workers, f"no core left for a worker on the NICs' NUMA nodes {sorted(nic_nodes)}"
        )
    return total


def _slave_cores(per_node, usable, master, reserved, requested, per_node_given):
    """``[(node, core)]`` of the slave workers, the first usable cores of each node."""
    slaves = []
    for node in sorted(per_node):
        count = per_node[node]
        if count > len(usable[node]):
            raise InputError(
                "dpvs_workers_per_node" if per_node_given else "dpvs_workers",
                requested,
                "puts {} workers on NUMA node {}, which has {} usable cores ({}; master {} and reserved {} "
                "excluded)".format(
                    count, node, len(usable[node]), _ranges(usable[node]) or "none", master, sorted(reserved) or "none"
                ),
            )
        slaves.extend((node, cpu) for cpu in usable[node][:count])
    return slaves


def _lcores(master, master_node, slaves, icmp_redirect_worker, ports, isolated, warnings):
    """The master and the slave lcores (``slaves``: ``[(node, core)]``) with their queues."""
    lcores = [{"cpu_id": 0, "name": "cpu0", "type": "master", "core": master, "numa_node": master_node}]
    for cpu_id, (node, core) in enumerate(slaves, 1):
        lcores.append({"cpu_id": cpu_id, "name": f"cpu{cpu_id}", "type": "slave", "core": core, "numa_node": node})
    if icmp_redirect_worker is not None:
        redirect = _int("dpvs_icmp_redirect_worker", icmp_redirect_worker, 1, len(slaves))
    else:
        redirect = None
    for lcore in lcores:
        lcore["icmp_redirect_core"] = lcore["cpu_id"] == redirect
        lcore["ports"] = []
        if lcore["type"] == "slave":
            queue = lcore["cpu_id"] - 1
            lcore["ports"] = [
                {"name": port["name"], "rx_queue_ids": [queue], "tx_queue_ids": [queue]} for port in ports
            ]
            if lcore["core"] not in isolated and isolated:
                warnings.append(f"{lcore['name']} runs on core {lcore['core']}, which is not isolated")
    return lcores


def _cross_numa_warnings(workers, ports):
    """One warning per NUMA node whose workers also poll ports of another node."""
    warnings = []
    for node in sorted({lcore["numa_node"] for lcore in workers}):
        names = [lcore["name"] for lcore in workers if lcore["numa_node"] == node]
        cross = [port["name"] for port in ports if port["numa_node"] != node]
        if cross:
            warnings.append(
                "workers on NUMA node {} ({}) also poll {} on another node: every worker serves every "
                "port, so a host with NICs on two nodes crosses NUMA for some of them".format(
                    node, ", ".join(names), ", ".join(cross)
                )
            )
    return warnings


def _eal_args(lcores_arg, ports, eal_extra_args):
    """EAL options: ``--lcores``, the allow-list (or ``--no-pci`` and the vdevs), the extra args."""
    eal = ["--lcores", lcores_arg]
    if ports[0]["vdev"] is None:
        for port in ports:
            eal += ["-a", port["pci"]]
    else:
        eal.append("--no-pci")
        for port in ports:
            eal += ["--vdev", port["vdev"]]
    for i, arg in enumerate(eal_extra_args or []):
        text = str(arg) if isinstance(arg, (str, int)) and not isinstance(arg, bool) else ""
        if not text.strip() or any(ch.isspace() for ch in text) or UNIT_UNSAFE & set(text):
            raise InputError(
                f"dpvs_eal_extra_args[{i}]", arg, "one argument per item, without blanks, quotes, %, $, ; or backslash"
            )
        eal.append(str(arg))
    return eal


def _ranges(cpus):
    """``[0, 1, 2, 5]`` -> ``"0-2,5"``."""
    out = []
    for cpu in sorted(set(cpus)):
        if out and out[-1][1] == cpu - 1:
            out[-1][1] = cpu
        else:
            out.append([cpu, cpu])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in out)
