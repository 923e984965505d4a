# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DPVS view of ``host_info``'s facts: what the ``dpvs`` role's layout and hugepage estimate read.

``dpvs_view(facts, pci)`` turns the facts of ``dpvs.cluster.host_info`` into the shape the
``dpvs_layout`` and ``dpvs_hugepages`` filters take (also the shape of the role's
``dpvs_host_facts`` override)::

    {"numa_nodes": {"0": {"cpus": [0, 2], "hugepages": {"2048kB": {"nr": 1024, "free": 1000}}}},
     "isolated_cpus": [2],
     "pci_devices": {"0000:01:00.0": {"present": True, "numa_node": 0, "kernel_driver": "ixgbe",
                                       "vendor": "0x8086", "device": "0x10fb"}},
     "vhost_net": True, "dpvs_running": False, "dpvs_pid": None}

A kernel without NUMA (``numa.node_count == 0``) is one node 0 with the online cpus and the
host's hugepage pools. ``kernel_driver`` is host_info's ``kernel_driver`` (the kernel driver even
while the NIC is bound to a DPDK driver), falling back to the current driver when none is known.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _pools(pools):
    return {
        f"{size}kB": {"nr": int(pool.get("total") or 0), "free": int(pool.get("free") or 0)}
        for size, pool in sorted((pools or {}).items(), key=lambda item: int(item[0]))
    }


def dpvs_view(facts, pci=()):
    """host_info facts + the PCI addresses DPVS uses -> the dpvs role's host facts (see above)."""
    if not isinstance(facts, dict) or "numa" not in facts or "nics" not in facts:
        raise ValueError("not the facts of dpvs.cluster.host_info (no numa, no nics)")
    numa = facts["numa"]
    if numa.get("node_count"):
        nodes = {
            str(node["id"]): {"cpus": list(node["cpus"]), "hugepages": _pools(node.get("hugepages"))}
            for node in numa["nodes"]
        }
    else:
        nodes = {"0": {"cpus": list(facts["cpu"]["online"]), "hugepages": _pools(facts["hugepages"]["pools"])}}
    by_pci = {nic["pci_address"]: nic for nic in facts["nics"] if nic.get("pci_address")}
    devices = {}
    for address in pci:
        nic = by_pci.get(address)
        if nic is None:
            devices[address] = {
                "present": False,
                "numa_node": None,
                "kernel_driver": None,
                "vendor": None,
                "device": None,
            }
            continue
        node = nic.get("numa_node")
        devices[address] = {
            "present": True,
            "numa_node": -1 if node is None else node,
            "kernel_driver": nic.get("kernel_driver") or nic.get("driver"),
            "vendor": nic.get("vendor_id"),
            "device": nic.get("device_id"),
        }
    dpvs = facts.get("dpvs") or {}
    return {
        "numa_nodes": nodes,
        "isolated_cpus": list(facts["cpu"].get("isolated") or []),
        "pci_devices": devices,
        "vhost_net": bool(facts.get("vhost_net")),
        "dpvs_running": bool(dpvs.get("running")),
        "dpvs_pid": dpvs.get("pid"),
    }


_UNITS_KB = {"K": 1, "KB": 1, "M": 1024, "MB": 1024, "G": 1024 * 1024, "GB": 1024 * 1024}


def _size_kb(size):
    """'2M', '1G', '2048kB' -> 2048, 1048576, 2048."""
    text = str(size).strip().upper()
    digits = text.rstrip("KMGB")
    return int(digits) * _UNITS_KB[text[len(digits) :] or "K"]


def with_planned_pages(view, pages):
    """``view`` as it will be once the per-node pools of ``pages`` (the ``pages`` result of
    ``dpvs.cluster.hugepages`` in check mode: ``node``, ``size``, ``before``, ``after``) are set:
    ``nr`` becomes ``after`` and ``free`` moves by ``after - before`` (never below 0). System-wide
    pools (``node`` null) are left out: the kernel spreads them over the nodes itself."""
    nodes = {
        key: dict(node, hugepages={k: dict(v) for k, v in node["hugepages"].items()})
        for key, node in view["numa_nodes"].items()
    }
    for page in pages or []:
        node = nodes.get(str(page.get("node")))
        if page.get("node") is None or node is None:
            continue
        pool = node["hugepages"].setdefault(f"{_size_kb(page['size'])}kB", {"nr": 0, "free": 0})
        after, before = int(page["after"]), int(page["before"])
        pool["free"] = max(0, pool["free"] + after - before)
        pool["nr"] = after
    return dict(view, numa_nodes=nodes)
