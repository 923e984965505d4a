# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight: judge host_info's facts against what the host preparation roles will request.

Pure functions (the ``preflight_report`` and ``preflight_nic_map`` filters call them):

* :func:`evaluate` -- host facts + requests + policy -> ``{"checks": [{check, status, policy,
  detail}], "failed": [...], "warned": [...], "table": [lines]}``; the checks and their default
  policies are documented in docs/preflight.md.
* the ``capacity`` check is :mod:`.capacity`'s (the declared load against the workers and NICs);
* :func:`nic_map` -- the NIC map host_info read, merged with the NICs that have an interface now.

Bad input raises :class:`InputError` naming the role variable (``preflight_devices[0].pci``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError, pci_address
from ansible_collections.dpvs.cluster.plugins.module_utils.host import capacity

POLICIES = ("fail", "warn", "ignore")
# check -> default policy (docs/preflight.md explains each)
DEFAULT_POLICY = {
    "hyperthreading": "warn",
    "numa": "warn",
    "cpu_flags": "fail",
    "iommu": "fail",
    "nic_numa": "fail",
    "hugepages_memory": "fail",
    "kernel_headers": "fail",
    "mellanox": "warn",
    "capacity": "fail",
}
# checks about DPDK itself: not judged on a kernel forwarding host (capacity path kernel)
DPDK_ONLY = ("cpu_flags", "hyperthreading", "mellanox")
# checks no policy can soften: a NIC that does not exist, a Mellanox NIC or the management NIC to bind
FIXED_FAIL = ("devices", "management_nic")
CHECK_ORDER = (
    "devices",
    "management_nic",
    "cpu_flags",
    "hyperthreading",
    "numa",
    "nic_numa",
    "iommu",
    "hugepages_memory",
    "kernel_headers",
    "mellanox",
    "capacity",
)
DPDK_DRIVERS = ("vfio-pci", "igb_uio", "uio_pci_generic")
MELLANOX_VENDOR = "0x15b3"
PAGE_SIZES_KB = {"2M": 2048, "1G": 1048576}
# 0000:11:00.0 or 11:00.0
# 52:54:00:00:01:04
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$")


def _policy(policy):
    if policy is None:
        policy = {}
    if not isinstance(policy, dict):
        raise InputError("preflight_policy", policy, "must be a mapping of check name to fail, warn or ignore")
    merged = dict(DEFAULT_POLICY)
    for name, value in policy.items():
        if name in FIXED_FAIL:
            raise InputError(f"preflight_policy.{name}", value, "this check always fails; it takes no policy")
        if name not in DEFAULT_POLICY:
            raise InputError(
                f"preflight_policy.{name}", value, "unknown check (known: {})".format(", ".join(DEFAULT_POLICY))
            )
        if value not in POLICIES:
            raise InputError(f"preflight_policy.{name}", value, "must be fail, warn or ignore")
        merged[name] = value
    return merged


def _pci(path, value):
    address = pci_address(value)
    if address is None:
        raise InputError(path, value, "not a PCI address (0000:01:00.0)")
    return address


def _dict_items(value, var, list_problem, item_problem):
    """Yield ``(path, item)`` for the dicts of the list ``value`` (None: no items); InputError otherwise."""
    if value is None:
        return
    if not isinstance(value, list):
        raise InputError(var, value, list_problem)
    for index, raw in enumerate(value):
        path = f"{var}[{index}]"
        if not isinstance(raw, dict):
            raise InputError(path, raw, item_problem)
        yield path, raw


def _devices(devices):
    out = []
    for path, raw in _dict_items(
        devices,
        "preflight_devices",
        "must be a list of {pci|mac|name, driver}",
        "must be a dictionary with pci, mac or name, and driver",
    ):
        keys = [key for key in ("pci", "mac", "name") if raw.get(key) not in (None, "")]
        if not keys:
            raise InputError(path, raw, "name the NIC by pci, mac or name")
        device = {"path": path, "driver": raw.get("driver")}
        if "pci" in keys:
            device["key"], device["value"] = "pci", _pci(f"{path}.pci", raw["pci"])
        elif "mac" in keys:
            if not MAC_RE.match(str(raw["mac"])):
                raise InputError(f"{path}.mac", raw["mac"], "not a MAC address (52:54:00:00:01:04)")
            device["key"], device["value"] = "mac", str(raw["mac"]).lower()
        else:
            device["key"], device["value"] = "name", str(raw["name"])
        device["raw"] = raw[device["key"]]
        out.append(device)
    return out


def _hugepages(pages):
    out = []
    for path, raw in _dict_items(
        pages,
        "preflight_hugepages",
        "must be a list of {size: 2M|1G, node, count}",
        "must be a dictionary with size, node and count",
    ):
        size = raw.get("size")
        if size not in PAGE_SIZES_KB:
            raise InputError(f"{path}.size", size, "must be 2M or 1G")
        node = raw.get("node")
        if node is not None and (isinstance(node, bool) or not str(node).isdigit()):
            raise InputError(f"{path}.node", node, "must be a NUMA node number (0, 1, ...)")
        count = raw.get("count")
        if isinstance(count, bool) or not str(count).isdigit():
            raise InputError(f"{path}.count", count, "must be a page count >= 0")
        out.append(
            {"path": path, "size": size, "node": None if node is None else int(node), "count": int(count), "raw": raw}
        )
    return out


def _find(nics, device):
    for nic in nics:
        if device["key"] == "pci" and nic.get("pci_address") == device["value"]:
            return nic
        if device["key"] == "mac" and device["value"] in (nic.get("mac"), nic.get("permanent_mac")):
            return nic
        if device["key"] == "name" and nic.get("name") == device["value"]:
            return nic
    return None


def _kib(value):
    return f"{value // 1024} MiB" if value < 1048576 else f"{value / 1048576:.1f} GiB"


def _requests(requests):
    """Validate the role requests -> ``{devices, pages, kmods, build, noiommu, expected, share}``."""
    devices = _devices(requests.get("devices"))
    pages = _hugepages(requests.get("hugepages"))
    kmods = [str(name) for name in requests.get("kmods") or []]
    build = [str(name) for name in requests.get("kmods_build") or []]
    noiommu = bool(requests.get("vfio_noiommu"))
    expected = requests.get("numa_nodes_expected")
    if expected is not None and (isinstance(expected, bool) or not str(expected).isdigit()):
        raise InputError("preflight_numa_nodes_expected", expected, "must be a node count or null")
    share = requests.get("hugepages_max_share", 0.9)
    try:
        share = float(share)
    except (TypeError, ValueError):
        share = -1.0
    if not 0 < share <= 1:
        raise InputError("preflight_hugepages_max_share", requests.get("hugepages_max_share"), "must be in (0, 1]")
    return {
        "devices": devices,
        "pages": pages,
        "kmods": kmods,
        "build": build,
        "noiommu": noiommu,
        "expected": expected,
        "share": share,
        "capacity": capacity.normalize(requests.get("capacity")),
    }


def _carries_management(nic):
    """Whether the NIC carries the Ansible connection or a default route."""
    return nic.get("connection") or nic.get("default_route_ipv4") or nic.get("default_route_ipv6")


def _check_missing_device(device, nic, where, problems):
    """A requested NIC that is absent or has no PCI function."""
    problems["devices"].append(
        f"{where}: {device['raw']} is not a PCI network function of this host"
        + (" (a virtual interface)" if nic is not None else "")
    )
    if nic is not None and _carries_management(nic):
        problems["management_nic"].append(f"{where}: {device['raw']} carries the Ansible connection or a default route")


def _check_devices(host, req, problems, notes):
    """The ``devices`` and ``management_nic`` checks; returns ``(label, nic, device)`` per NIC to bind to DPDK."""
    bound = []
    for device in req["devices"]:
        nic = _find(host["nics"], device)
        where = f"{device['path']}.{device['key']}"
        if nic is None or not nic.get("pci_address"):
            _check_missing_device(device, nic, where, problems)
            continue
        label = f"{where}: {device['raw']} ({nic['pci_address']}{', ' + nic['name'] if nic.get('name') else ''})"
        to_dpdk = device["driver"] in DPDK_DRIVERS
        if _carries_management(nic):
            what = "the Ansible connection" if nic.get("connection") else "a default route"
            problems["management_nic"].append(f"{label} carries {what}: never rebind it")
        if to_dpdk and nic.get("vendor_id") == MELLANOX_VENDOR:
            problems["devices"].append(
                f"{label} is a Mellanox NIC (bifurcated: DPDK's mlx5 PMD runs beside mlx5_core): do not bind it"
                f" to {device['driver']}"
            )
        if to_dpdk:
            bound.append((label, nic, device))
    if req["devices"] and not problems["devices"]:
        notes["devices"].append(f"{len(req['devices'])} NIC(s) found")
    return bound


def _check_cpu(host, req, problems):
    """The ``cpu_flags`` (DPDK's flags, 1G pages) and ``hyperthreading`` checks."""
    cpu = host.get("cpu") or {}
    missing = list(cpu.get("dpdk_missing_flags") or [])
    if missing:
        problems["cpu_flags"].append("DPDK needs " + ", ".join(missing))
    one_g = [item for item in req["pages"] if item["size"] == "1G" and item["count"] > 0]
    if one_g:
        if not (cpu.get("dpdk_optional_flags") or {}).get("pdpe1gb"):
            problems["cpu_flags"].append(f"{one_g[0]['path']}.size: 1G pages requested but the CPU lacks pdpe1gb")
        elif 1048576 not in ((host.get("hugepages") or {}).get("sizes_kb") or []):
            problems["cpu_flags"].append(f"{one_g[0]['path']}.size: 1G pages requested but the kernel offers none")
    if cpu.get("hyperthreading"):
        problems["hyperthreading"].append(
            f"{cpu.get('threads_per_core')} threads per core: a DPVS worker shares its core with a sibling"
        )


def _check_numa(host, req, problems, notes):
    """The ``numa`` check: NUMA switched off or fewer nodes than expected."""
    node_count = host["numa"].get("node_count") or 0
    expected = req["expected"]
    cmdline = (host.get("kernel") or {}).get("cmdline_args") or []
    if "numa=off" in cmdline:
        problems["numa"].append("numa=off on the kernel command line")
    if expected is not None and node_count < int(expected):
        problems["numa"].append(
            f"preflight_numa_nodes_expected: {expected} nodes expected, the kernel shows {node_count}"
            " (NUMA off in the BIOS, node interleaving, or a VM without NUMA)"
        )
    if not problems["numa"]:
        notes["numa"].append(f"{node_count} node(s)")


def _check_nic_numa(host, bound, problems, notes):
    """The ``nic_numa`` check: a NIC to bind without a NUMA node on a multi-node host."""
    node_count = host["numa"].get("node_count") or 0
    for label, nic, _device in bound:
        node = nic.get("numa_node")
        if node is not None and node >= 0:
            continue
        if node_count > 1:
            problems["nic_numa"].append(
                f"{label} reports NUMA node {node} on a {node_count}-node host: DPVS refuses it;"
                " fix the firmware/ACPI or give numa_node in the inventory"
            )
        else:
            notes["nic_numa"].append(f"{label} on node {node}, one-node host")


def _check_iommu(host, req, problems, notes):
    """The ``iommu`` check: vfio-pci wanted without an active IOMMU."""
    iommu = host.get("iommu") or {}
    wants_vfio = "vfio-pci" in req["kmods"] or any(device["driver"] == "vfio-pci" for device in req["devices"])
    if not wants_vfio or iommu.get("enabled"):
        return
    if req["noiommu"]:
        notes["iommu"].append("vfio-pci in no-IOMMU mode (unsafe: no DMA isolation)")
    else:
        problems["iommu"].append(
            "vfio-pci requested but no IOMMU is active (intel_iommu=on / amd_iommu=on and VT-d/AMD-Vi in the"
            " BIOS); or set dpdk_kmods_vfio_noiommu: true, or use igb_uio/uio_pci_generic"
        )


def _hugepages_per_node(pages, nodes, problems):
    """``{node or None: [KiB requested, [paths]]}``; a request for a node the host lacks is a problem."""
    per_node = {}
    for item in pages:
        if item["node"] is not None and item["node"] not in nodes:
            problems["hugepages_memory"].append(
                f"{item['path']}.node: no NUMA node {item['node']} on this host"
                f" (nodes: {', '.join(str(node) for node in sorted(nodes))})"
            )
            continue
        key = item["node"]
        per_node.setdefault(key, [0, []])
        per_node[key][0] += item["count"] * PAGE_SIZES_KB[item["size"]]
        per_node[key][1].append(item["path"])
    return per_node


def _check_hugepages_memory(host, req, problems, notes):
    """The ``hugepages_memory`` check: the pages requested per node against the node's memory."""
    share = req["share"]
    host_total = (host.get("memory") or {}).get("total_kb")
    nodes = {node["id"]: node for node in host["numa"].get("nodes") or []}
    if not nodes:
        nodes = {0: {"id": 0, "memory_total_kb": host_total}}
    per_node = _hugepages_per_node(req["pages"], nodes, problems)
    for key, (need, paths) in sorted(per_node.items(), key=lambda entry: -1 if entry[0] is None else entry[0]):
        total = (host_total if key is None else nodes[key].get("memory_total_kb")) or 0
        where = "the host" if key is None else f"NUMA node {key}"
        if need > total * share:
            problems["hugepages_memory"].append(
                f"{', '.join(paths)}: {_kib(need)} of hugepages on {where}, which has {_kib(total)}"
                f" (at most {int(share * 100)}% may go to hugepages)"
            )
        elif need:
            notes["hugepages_memory"].append(f"{where}: {_kib(need)} of {_kib(total)}")


def _check_kernel_headers(host, req, problems):
    """The ``kernel_headers`` check: module builds need the running kernel's headers."""
    kernel = host.get("kernel") or {}
    if req["build"] and not kernel.get("headers"):
        problems["kernel_headers"].append(
            f"building {', '.join(req['build'])} needs the headers of the running kernel {kernel.get('release')}"
            f" ({kernel.get('headers_path')} is missing: install linux-headers-{kernel.get('release')}"
            f" or kernel-devel-{kernel.get('release')})"
        )


def _check_mellanox(host, problems):
    """The ``mellanox`` check: Mellanox NICs stay on mlx5_core."""
    for nic in host["nics"]:
        if nic.get("vendor_id") == MELLANOX_VENDOR:
            problems["mellanox"].append(
                f"{nic['pci_address']} {nic.get('name') or ''} is a Mellanox NIC: leave it on mlx5_core (bifurcated);"
                " DPDK uses it through the mlx5 PMD, which needs rdma-core/OFED"
            )


def _check_result(name, rule, problems, notes):
    """One row of ``checks``: the status the policy gives the check's problems, or pass with its notes."""
    if problems:
        status = {"fail": "fail", "warn": "warn", "ignore": "ignored"}[rule]
        detail = "; ".join(problems)
    else:
        status = "pass"
        detail = "; ".join(notes) or "ok"
    return {"check": name, "status": status, "policy": rule, "detail": detail}


def _report(checks):
    """The checks with the names of the failed and warned ones, and the aligned text table."""
    width = max(len(name) for name in CHECK_ORDER)
    table = [f"{'check'.ljust(width)}  status   detail"] + [
        f"{item['check'].ljust(width)}  {item['status'].ljust(7)}  {item['detail']}" for item in checks
    ]
    return {
        "checks": checks,
        "failed": [item["check"] for item in checks if item["status"] == "fail"],
        "warned": [item["check"] for item in checks if item["status"] == "warn"],
        "table": table,
    }


def evaluate(host, requests, policy=None):
    """host_info facts + requests + policy -> the report (see RETURN). Raises InputError for bad input."""
    if not isinstance(host, dict) or "nics" not in host or "numa" not in host:
        raise InputError("host", type(host).__name__, "must be the registered result of dpvs.cluster.host_info")
    policy = _policy(policy)
    req = _requests(requests or {})
    problems = {name: [] for name in CHECK_ORDER}
    notes = {name: [] for name in CHECK_ORDER}
    bound = _check_devices(host, req, problems, notes)
    kernel_path = req["capacity"]["path"] == "kernel"
    if kernel_path:
        for name in DPDK_ONLY:
            notes[name].append("not judged: a kernel forwarding host (preflight_capacity_path: kernel)")
    else:
        _check_cpu(host, req, problems)
        _check_mellanox(host, problems)
    _check_numa(host, req, problems, notes)
    _check_nic_numa(host, bound, problems, notes)
    _check_iommu(host, req, problems, notes)
    _check_hugepages_memory(host, req, problems, notes)
    _check_kernel_headers(host, req, problems)
    nics = capacity.receiving_nics(host, bound, req["capacity"]["path"])
    problems["capacity"], notes["capacity"] = capacity.judge(host, nics, req["capacity"])
    checks = [
        _check_result(name, "fail" if name in FIXED_FAIL else policy[name], problems[name], notes[name])
        for name in CHECK_ORDER
    ]
    return _report(checks)


def nic_map(host):
    """The NIC map host_info read, with every NIC that has an interface now (re)recorded."""
    if not isinstance(host, dict) or "nics" not in host:
        raise InputError("host", type(host).__name__, "must be the registered result of dpvs.cluster.host_info")
    recorded = dict(((host.get("nic_map") or {}).get("nics")) or {})
    for nic in host["nics"]:
        if not nic.get("pci_address") or not nic.get("name") or nic.get("recorded") or nic.get("virtual"):
            continue
        recorded[nic["pci_address"]] = {
            "name": nic["name"],
            "mac": nic.get("permanent_mac") or nic.get("mac"),
            "numa_node": nic.get("numa_node"),
            "kernel_driver": nic.get("kernel_driver"),
            "vendor_id": nic.get("vendor_id"),
            "device_id": nic.get("device_id"),
        }
    return {"version": 1, "nics": dict(sorted(recorded.items()))}
