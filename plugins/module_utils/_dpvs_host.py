# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host facts DPVS depends on, read from sysfs (and /proc, /dev): NUMA nodes with their cpus
and hugepages, isolated cpus, NIC NUMA nodes and drivers, vhost-net, a running dpvs.

Every path is below a root given by the caller, so tests run on a fake tree. Pure reading; no
commands. Formats (Linux ABI, Documentation/ABI/stable/sysfs-devices-node and
Documentation/admin-guide/mm/hugetlbpage.rst):

* ``devices/system/node/nodeN/cpulist``: ``0-3,8-11``
* ``devices/system/node/nodeN/hugepages/hugepages-2048kB/{nr,free}_hugepages``: ``1024``
* ``devices/system/cpu/isolated``, ``devices/system/cpu/online``: cpu lists (may be empty)
* ``bus/pci/devices/0000:01:00.0/numa_node``: ``0`` or ``-1``; ``.../driver`` -> ``.../ixgbe``
* ``kernel/mm/hugepages/hugepages-2048kB/{nr,free}_hugepages``: the whole host (no NUMA)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# "node0", "node12"
NODE_DIR_RE = re.compile(r"^node(\d+)$")
# "hugepages-2048kB"
HUGEPAGE_DIR_RE = re.compile(r"^hugepages-(\d+kB)$")
# one item of a cpu list: "3" or "8-11"
CPU_ITEM_RE = re.compile(r"^(\d+)(?:-(\d+))?$")


def parse_cpulist(text):
    """``"0-3,8,10-11"`` -> ``[0, 1, 2, 3, 8, 10, 11]``; ValueError on anything else."""
    cpus = []
    for item in (text or "").strip().split(","):
        item = item.strip()
        if not item:
            continue
        match = CPU_ITEM_RE.match(item)
        if not match:
            raise ValueError(f"not a cpu list: {text!r}")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
        cpus.extend(range(low, high + 1))
    return sorted(set(cpus))


def _read(path, default=None):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return default


def _int(text, default=None):
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def _hugepages(directory):
    out = {}
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    for name in names:
        match = HUGEPAGE_DIR_RE.match(name)
        if match:
            base = os.path.join(directory, name)
            out[match.group(1)] = {
                "nr": _int(_read(os.path.join(base, "nr_hugepages")), 0),
                "free": _int(_read(os.path.join(base, "free_hugepages")), 0),
            }
    return out


def numa_nodes(sysfs):
    """``{"0": {"cpus": [...], "hugepages": {"2048kB": {"nr", "free"}}}}``. A kernel without
    NUMA (no ``devices/system/node``) is one node 0 with the online cpus and the host's pages."""
    base = os.path.join(sysfs, "devices", "system", "node")
    nodes = {}
    try:
        names = os.listdir(base)
    except OSError:
        names = []
    for name in sorted(names):
        match = NODE_DIR_RE.match(name)
        if not match:
            continue
        path = os.path.join(base, name)
        nodes[match.group(1)] = {
            "cpus": parse_cpulist(_read(os.path.join(path, "cpulist"), "")),
            "hugepages": _hugepages(os.path.join(path, "hugepages")),
        }
    if not nodes:
        online = _read(os.path.join(sysfs, "devices", "system", "cpu", "online"), "")
        nodes["0"] = {
            "cpus": parse_cpulist(online),
            "hugepages": _hugepages(os.path.join(sysfs, "kernel", "mm", "hugepages")),
        }
    return dict(sorted(nodes.items(), key=lambda item: int(item[0])))


def pci_device(sysfs, address):
    """``{"present", "numa_node", "kernel_driver", "vendor", "device"}`` of one PCI function."""
    base = os.path.join(sysfs, "bus", "pci", "devices", address)
    if not os.path.isdir(base):
        return {"present": False, "numa_node": None, "kernel_driver": None, "vendor": None, "device": None}
    driver = os.path.join(base, "driver")
    return {
        "present": True,
        "numa_node": _int(_read(os.path.join(base, "numa_node")), -1),
        "kernel_driver": os.path.basename(os.readlink(driver)) if os.path.islink(driver) else None,
        "vendor": _read(os.path.join(base, "vendor")),
        "device": _read(os.path.join(base, "device")),
    }


def dpvs_process(pid_file, proc_root="/proc"):
    """``(running, pid)`` from the dpvs pid file: running when the pid exists in /proc."""
    pid = _int(_read(pid_file))
    if not pid or pid < 1:
        return False, None
    return os.path.isdir(os.path.join(proc_root, str(pid))), pid


def gather(sysfs="/sys", pci=(), pid_file="/var/run/dpvs.pid", proc_root="/proc", vhost_net="/dev/vhost-net"):
    running, pid = dpvs_process(pid_file, proc_root)
    return {
        "numa_nodes": numa_nodes(sysfs),
        "isolated_cpus": parse_cpulist(_read(os.path.join(sysfs, "devices", "system", "cpu", "isolated"), "")),
        "pci_devices": {address: pci_device(sysfs, address) for address in pci},
        "vhost_net": os.path.exists(vhost_net),
        "dpvs_running": running,
        "dpvs_pid": pid,
    }
