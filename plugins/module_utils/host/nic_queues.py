# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NIC queue tuning: ethtool channels, queue IRQ affinity, RPS/XPS masks, txqueuelen.

One code path for the module ``dpvs.cluster.nic_queues`` and for the boot/hotplug applier:
standard library only (plus the collection's ``common`` and ``converge`` packages), so that
:func:`main` is the ``nic-queues`` command of the dpvs-cluster tool (``cli``), which the
``net_tuning`` role installs and runs from a udev rule and a oneshot unit::

    python3 /usr/local/lib/dpvs-cluster/dpvs-cluster.pyz nic-queues \
        --config /etc/dpvs-cluster/nic_queues.json [--nic enp0s5] [--lenient]

Flow, the converge core's (:class:`NicQueuesTable` run by ``converge.core.converge``): validate
every NIC entry against the live tree (unknown NIC, CPU that is not online, mask wider than the
CPUs, channels above ``ethtool -l``'s maximum) before anything changes -> read the live state ->
plan -> apply unless check mode -> read back. Channel changes come first: they recreate the
queues and their IRQs, so the masks are planned again on the new queues after a real channel
change.

Runtime tables (``sys_path``/``proc_path`` are configurable for tests on fake trees):
``/proc/irq/N/smp_affinity_list``, ``/sys/class/net/X/queues/rx-N/rps_cpus``,
``/sys/class/net/X/queues/tx-N/xps_cpus``, ``/sys/class/net/X/tx_queue_len``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import sys

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import (
    CommandError,
    Runner,
    subprocess_run_command,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import core, errors
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.plan import Action, Plan

# "16777216-edge      virtio1-input.0" -> the IRQ's action name is the last field of the line.
# A /proc/interrupts line: "  31:    0   39  IR-PCI-MSI 49153-edge      virtio1-input.0"
INTERRUPT_LINE_RE = re.compile(r"^\s*(?P<irq>\d+):\s+(?P<rest>.*)$")
# virtio-net queue IRQs: "virtio1-input.0", "virtio1-output.3" (virtio1 is the NIC's virtio device)
VIRTIO_QUEUE_RE = re.compile(r"^(?P<dev>virtio\d+)-(?P<dir>input|output)\.(?P<index>\d+)$")
# Drivers that name queue IRQs after the interface: e1000e "enp0s5-rx-0", "enp0s5-tx-0";
# ixgbe "eth0-TxRx-3"; i40e/ice "i40e-eth0-TxRx-0" (the driver prefix is optional here).
NAMED_QUEUE_TEMPLATE = r"^(?:[A-Za-z0-9_]+-)?{ifname}-(?P<dir>rx|tx|TxRx|txrx|rxtx|combined)-(?P<index>\d+)$"
# mlx5 completion vectors: "mlx5_comp3@pci:0000:03:00.0"
MLX5_QUEUE_RE = re.compile(r"^mlx5_comp(?P<index>\d+)@pci:(?P<pci>\S+)$")
# A PCI address as sysfs names it: "0000:00:05.0"
PCI_RE = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")
# A MAC address: "52:54:00:00:01:05"
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# ethtool -l section headers: "Pre-set maximums:" / "Current hardware settings:"
ETHTOOL_SECTION_RE = re.compile(r"^(?P<section>Pre-set maximums|Current hardware settings):\s*$")
# ethtool -l values: "Combined:	4", "RX:		n/a"
ETHTOOL_VALUE_RE = re.compile(r"^(?P<key>RX|TX|Other|Combined):\s+(?P<value>\d+|n/a)\s*$")
# A CPU list: "0-3,8,10-11"
CPU_LIST_RE = re.compile(r"^\s*\d+(-\d+)?(\s*,\s*\d+(-\d+)?)*\s*$")
# A hex mask as the inventory writes it: "0x3", "0xff,ffffffff"
HEX_MASK_RE = re.compile(r"^0[xX](?P<hex>[0-9a-fA-F]+(,[0-9a-fA-F]+)*)$")

CHANNEL_KEYS = ("combined", "rx", "tx")
NIC_KEYS = ("name", "mac", "pci", "channels", "irq_affinity", "rps_cpus", "xps_cpus", "txqueuelen")
TXQUEUELEN_MAX = 2**32 - 1


# Bad input (``path``, ``value``, ``problem``) or a live tree the module cannot work with: the
# collection's InputError, under the name this module has always raised.
NicQueuesError = InputError


class ApplyError(errors.ApplyError):
    """A write or an ethtool command failed part-way: ``applied`` lists the changes made before it."""

    def __init__(self, msg, applied, failed=None, cause=None):
        super(ApplyError, self).__init__(msg, applied, failed or {}, dpvs_errors=[], cause=cause)

    def fields(self):
        return dict(msg=self.msg, applied=self.applied)


class ReadBackError(ApplyError, errors.NotConvergedError):
    """The read-back after the changes differs (``remaining``: one text per value); an
    :class:`ApplyError` too, reported the same way (``applied``: every change made)."""

    def __init__(self, remaining, applied):
        errors.NotConvergedError.__init__(
            self, "read back after the change differs: {}".format("; ".join(remaining)), remaining, applied
        )
        self.applied = applied
        self.failed = {}
        self.dpvs_errors = []
        self.drained = None
        self.cause = None


# --------------------------------------------------------------------------------------------
# Pure helpers: CPU lists and masks
# --------------------------------------------------------------------------------------------
def parse_cpu_list(text):
    """``"0-2,5"`` -> ``[0, 1, 2, 5]``; ``""`` -> ``[]``."""
    text = (text or "").strip()
    if not text:
        return []
    if not CPU_LIST_RE.match(text):
        raise ValueError(f"not a CPU list: {text!r}")
    cpus = set()
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            low, high = (int(x) for x in part.split("-"))
            if high < low:
                raise ValueError(f"backwards range {part!r}")
            cpus.update(range(low, high + 1))
        else:
            cpus.add(int(part))
    return sorted(cpus)


def format_cpu_list(cpus):
    """``[0, 1, 2, 5]`` -> ``"0-2,5"`` (the kernel's smp_affinity_list format)."""
    cpus = sorted(set(cpus))
    parts = []
    start = prev = None
    for cpu in cpus:
        if prev is not None and cpu == prev + 1:
            prev = cpu
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = cpu
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)


def parse_mask(text):
    """A kernel bitmap (``"00000000,00000003"``, ``"3"``) -> sorted CPU list."""
    value = int((text or "0").strip().replace(",", "") or "0", 16)
    return [bit for bit in range(value.bit_length()) if value >> bit & 1]


def format_mask(cpus):
    """CPU list -> a bitmap the kernel accepts: hex, 32-bit groups joined by commas (``"3"``)."""
    value = 0
    for cpu in cpus:
        value |= 1 << cpu
    text = f"{value:x}"
    groups = []
    while len(text) > 8:
        groups.insert(0, text[-8:])
        text = text[:-8]
    groups.insert(0, text)
    return ",".join(groups)


def parse_ethtool_channels(text):
    """``ethtool -l`` -> ``{"max": {"rx", "tx", "other", "combined"}, "current": {...}}`` (None for n/a)."""
    result = {"max": {}, "current": {}}
    section = None
    for line in text.splitlines():
        match = ETHTOOL_SECTION_RE.match(line.strip())
        if match:
            section = "max" if match.group("section") == "Pre-set maximums" else "current"
            continue
        match = ETHTOOL_VALUE_RE.match(line.strip())
        if match and section:
            value = match.group("value")
            result[section][match.group("key").lower()] = None if value == "n/a" else int(value)
    for section in ("max", "current"):
        for key in ("rx", "tx", "other", "combined"):
            result[section].setdefault(key, None)
    return result


def parse_interrupts(text):
    """``/proc/interrupts`` -> ``{irq: action name}`` for numbered IRQs with an action.

    The name is what follows the chip name and the hardware IRQ field
    (``IR-PCI-MSI 49153-edge      virtio1-input.0``); lines with fewer fields (old kernels'
    ``PCI-MSI-edge eth0-rx-0``) give their last field.
    """
    lines = text.splitlines()
    if not lines:
        return {}
    ncpus = len(lines[0].split())
    names = {}
    for line in lines[1:]:
        match = INTERRUPT_LINE_RE.match(line)
        if not match:
            continue
        fields = match.group("rest").split()
        rest = fields[ncpus:]
        if not rest:
            continue
        name = " ".join(rest[2:]) if len(rest) >= 3 else rest[-1]
        names[int(match.group("irq"))] = name
    return names


def classify_queue_irq(name, ifname, virtio_dev, pci):
    """An IRQ action name -> ``(direction, index)`` when it is a queue of this NIC, else None.

    direction: ``rx``, ``tx`` or ``combined``.
    """
    match = VIRTIO_QUEUE_RE.match(name)
    if match:
        if virtio_dev and match.group("dev") == virtio_dev:
            return ("rx" if match.group("dir") == "input" else "tx", int(match.group("index")))
        return None
    match = re.match(NAMED_QUEUE_TEMPLATE.format(ifname=re.escape(ifname)), name)
    if match:
        direction = match.group("dir").lower()
        direction = direction if direction in ("rx", "tx") else "combined"
        return (direction, int(match.group("index")))
    match = MLX5_QUEUE_RE.match(name)
    if match and pci and match.group("pci") == pci:
        return ("combined", int(match.group("index")))
    return None


def spread(queues, cpus):
    """Round robin: queue index i -> ``[cpus[i % len(cpus)]]``; queues are ``(direction, index)``."""
    return {queue: [cpus[queue[1] % len(cpus)]] for queue in queues}


def xps_auto(tx_indexes, cpus):
    """CPUs over tx queues: CPU number i of the list goes to queue ``i % nqueues``; a queue left
    without a CPU (more queues than CPUs) gets ``cpus[q % len(cpus)]``."""
    result = {}
    count = len(tx_indexes)
    for pos, index in enumerate(tx_indexes):
        mine = [cpu for i, cpu in enumerate(cpus) if i % count == pos]
        result[index] = mine or [cpus[pos % len(cpus)]]
    return result


# --------------------------------------------------------------------------------------------
# The live tree
# --------------------------------------------------------------------------------------------
class Tree:
    """sysfs and procfs under configurable roots (fake trees in unit tests)."""

    def __init__(self, sys_path="/sys", proc_path="/proc"):
        self.sys_path = sys_path
        self.proc_path = proc_path

    def sys(self, *parts):
        return os.path.join(self.sys_path, *parts)

    def proc(self, *parts):
        return os.path.join(self.proc_path, *parts)

    @staticmethod
    def read(path, default=None):
        try:
            with open(path) as handle:
                return handle.read().strip()
        except OSError:
            if default is not None:
                return default
            raise

    @staticmethod
    def write(path, text):
        with open(path, "w") as handle:
            handle.write(text + "\n")

    @staticmethod
    def listdir(path):
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []

    # -- host ---------------------------------------------------------------------------
    def online_cpus(self):
        return parse_cpu_list(self.read(self.sys("devices", "system", "cpu", "online")))

    def node_cpus(self, node):
        path = self.sys("devices", "system", "node", f"node{node}", "cpulist")
        return parse_cpu_list(self.read(path, default=""))

    def irqbalance_running(self):
        for entry in self.listdir(self.proc_path):
            if entry.isdigit() and self.read(self.proc(entry, "comm"), default="") == "irqbalance":
                return True
        return False

    # -- NICs ---------------------------------------------------------------------------
    def netdevs(self):
        """Every netdev: ``[{name, mac, pci, virtio, pci_dir}]`` (``pci``/``pci_dir`` None for virtual devices)."""
        result = []
        for name in self.listdir(self.sys("class", "net")):
            if not os.path.exists(self.sys("class", "net", name, "address")):
                continue  # bonding_masters and other files
            device = self.sys("class", "net", name, "device")
            pci = pci_dir = virtio = None
            if os.path.exists(device):
                real = os.path.realpath(device)
                base = os.path.basename(real)
                virtio = base if base.startswith("virtio") else None
                pci_dir = os.path.dirname(real) if virtio else real
                pci = os.path.basename(pci_dir)
            mac = self.read(self.sys("class", "net", name, "address"), default="").lower()
            result.append(
                {
                    "name": name,
                    "mac": mac,
                    "pci": pci if pci and PCI_RE.match(pci) else None,
                    "virtio": virtio,
                    "pci_dir": pci_dir,
                }
            )
        return result

    def queues(self, ifname):
        entries = self.listdir(self.sys("class", "net", ifname, "queues"))
        rx = sorted(int(e[3:]) for e in entries if e.startswith("rx-"))
        tx = sorted(int(e[3:]) for e in entries if e.startswith("tx-"))
        return rx, tx

    def numa_node(self, nic):
        if not nic["pci_dir"]:
            return -1
        text = self.read(os.path.join(nic["pci_dir"], "numa_node"), default="-1")
        try:
            return int(text)
        except ValueError:
            return -1

    def queue_irqs(self, nic):
        """``{(direction, index): irq}`` of the NIC's queues, from msi_irqs and /proc/interrupts."""
        names = parse_interrupts(self.read(self.proc("interrupts"), default=""))
        msi_dir = os.path.join(nic["pci_dir"], "msi_irqs") if nic["pci_dir"] else None
        msi = [int(x) for x in self.listdir(msi_dir) if x.isdigit()] if msi_dir else []
        candidates = msi if msi else sorted(names)
        result = {}
        for irq in candidates:
            name = names.get(irq)
            if name is None:
                continue
            queue = classify_queue_irq(name, nic["name"], nic["virtio"], nic["pci"])
            if queue is not None:
                result[queue] = irq
        return result

    def irq_affinity(self, irq):
        return parse_cpu_list(self.read(self.proc("irq", str(irq), "smp_affinity_list")))

    def irq_affinity_path(self, irq):
        return self.proc("irq", str(irq), "smp_affinity_list")

    def queue_path(self, ifname, direction, index):
        kind = "rps_cpus" if direction == "rx" else "xps_cpus"
        return self.sys("class", "net", ifname, "queues", f"{direction}-{index}", kind)

    def txqueuelen_path(self, ifname):
        return self.sys("class", "net", ifname, "tx_queue_len")


# --------------------------------------------------------------------------------------------
# Input validation (before anything changes)
# --------------------------------------------------------------------------------------------
def _cpus_of_list(path, value):
    """The sorted CPUs of a list of CPU numbers or ranges (``[0, "2-3"]``)."""
    cpus = []
    for index, item in enumerate(value):
        if isinstance(item, bool):
            raise InputError(f"{path}[{index}]", item, "not a CPU number")
        try:
            cpus.extend(parse_cpu_list(str(item)))
        except ValueError:
            raise InputError(f"{path}[{index}]", item, "not a CPU number or range") from None
    return sorted(set(cpus))


def _cpus_of_text(path, value, online):
    """The CPUs of a hex mask (``"0x3"``, no wider than the host) or a CPU list (``"0-3,6"``)."""
    text = value.strip()
    match = HEX_MASK_RE.match(text)
    if match:
        cpus = parse_mask(match.group("hex"))
        if cpus and cpus[-1] >= max(online) + 1:
            raise InputError(
                path, value, f"mask is wider than the CPUs of this host (online: {format_cpu_list(online)})"
            )
        return cpus
    try:
        return parse_cpu_list(text)
    except ValueError:
        raise InputError(path, value, 'expected auto, a CPU list ("0-3,6") or a hex mask ("0x3")') from None


def _cpu_spec(path, value, online, allow_auto=True):
    """``auto`` | list of CPUs | ``"0-3"`` | ``"0x3"`` -> ``"auto"`` or a sorted CPU list."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip() == "auto":
        if not allow_auto:
            raise InputError(path, value, "auto is not accepted here")
        return "auto"
    if isinstance(value, bool):
        raise InputError(path, value, "expected auto, a CPU list or a hex mask")
    if isinstance(value, int):
        value = [value]
    if isinstance(value, (list, tuple)):
        cpus = _cpus_of_list(path, value)
    elif isinstance(value, str):
        cpus = _cpus_of_text(path, value, online)
    else:
        raise InputError(path, value, "expected auto, a CPU list or a hex mask")
    missing = [cpu for cpu in cpus if cpu not in online]
    if missing:
        raise InputError(
            path,
            value,
            f"CPU {format_cpu_list(missing)} does not exist or is offline (online: {format_cpu_list(online)})",
        )
    return cpus


def validate(specs, tree, runner, ethtool="ethtool"):
    """Check every entry against the live tree; return resolved entries. Raises InputError."""
    if not isinstance(specs, list):
        raise InputError("nics", specs, "must be a list")
    online = tree.online_cpus()
    netdevs = tree.netdevs()
    resolved = []
    seen = {}
    for pos, spec in enumerate(specs):
        path = f"nics[{pos}]"
        if not isinstance(spec, dict):
            raise InputError(path, spec, "must be a dict")
        unknown = sorted(set(spec) - set(NIC_KEYS))
        if unknown:
            raise InputError(path, unknown, "unknown keys (known: {})".format(", ".join(NIC_KEYS)))
        selectors = [key for key in ("name", "mac", "pci") if spec.get(key) not in (None, "")]
        if len(selectors) != 1:
            raise InputError(
                path, {k: spec.get(k) for k in ("name", "mac", "pci")}, "give exactly one of name, mac, pci"
            )
        key = selectors[0]
        wanted = str(spec[key]).strip().lower() if key != "name" else str(spec[key]).strip()
        matches = [nic for nic in netdevs if (nic[key] or "") == wanted]
        if not matches:
            raise InputError(
                f"{path}.{key}",
                spec[key],
                "no such NIC with a kernel netdev (known: {})".format(
                    ", ".join(nic["name"] for nic in netdevs) or "none"
                ),
            )
        nic = dict(matches[0])
        if nic["name"] in seen:
            raise InputError(path, spec[key], "{} is already tuned by nics[{}]".format(nic["name"], seen[nic["name"]]))
        seen[nic["name"]] = pos
        entry = {"pos": pos, "path": path, "nic": nic, "numa_node": tree.numa_node(nic)}
        node_cpus = (
            [cpu for cpu in tree.node_cpus(entry["numa_node"]) if cpu in online] if entry["numa_node"] >= 0 else []
        )
        entry["local_cpus"] = node_cpus or list(online)
        entry["irq_affinity"] = _cpu_spec(path + ".irq_affinity", spec.get("irq_affinity"), online)
        if entry["irq_affinity"] == []:
            raise InputError(path + ".irq_affinity", spec.get("irq_affinity"), "needs at least one CPU")
        entry["rps_cpus"] = _cpu_spec(path + ".rps_cpus", spec.get("rps_cpus"), online)
        entry["xps_cpus"] = _cpu_spec(path + ".xps_cpus", spec.get("xps_cpus"), online)
        txqueuelen = spec.get("txqueuelen")
        if txqueuelen is not None:
            if (
                isinstance(txqueuelen, bool)
                or not str(txqueuelen).isdigit()
                or not 0 < int(txqueuelen) <= TXQUEUELEN_MAX
            ):
                raise InputError(path + ".txqueuelen", txqueuelen, "must be an integer from 1 to 4294967295")
            txqueuelen = int(txqueuelen)
        entry["txqueuelen"] = txqueuelen
        entry["channels"] = _validate_channels(path + ".channels", spec.get("channels"), nic, runner, ethtool)
        resolved.append(entry)
    return resolved


def _validate_channels(path, channels, nic, runner, ethtool):
    if not channels:
        return None
    if not isinstance(channels, dict):
        raise InputError(path, channels, "must be a dict of combined/rx/tx counts")
    unknown = sorted(set(channels) - set(CHANNEL_KEYS))
    if unknown:
        raise InputError(path, unknown, "unknown channel types (known: combined, rx, tx)")
    rc, out, err = runner.run([ethtool, "-l", nic["name"]], check_rc=False)
    if rc != 0:
        raise InputError(
            path, channels, "{} cannot change channels: ethtool -l says {}".format(nic["name"], (err or out).strip())
        )
    live = parse_ethtool_channels(out)
    wanted = {}
    for key in CHANNEL_KEYS:
        if channels.get(key) is None:
            continue
        value = channels[key]
        if isinstance(value, bool) or not str(value).isdigit():
            raise InputError(f"{path}.{key}", value, "must be a count")
        value = int(value)
        top = live["max"][key]
        if top is None or top == 0:
            raise InputError(f"{path}.{key}", value, "{} has no {} channels (ethtool -l)".format(nic["name"], key))
        if value > top:
            raise InputError(
                f"{path}.{key}", value, "above the maximum of {} ({}, ethtool -l)".format(nic["name"], top)
            )
        if value == 0 and key == "combined" and not (live["max"]["rx"] or live["max"]["tx"]):
            raise InputError(f"{path}.{key}", value, "a NIC needs at least one channel")
        wanted[key] = value
    return {"wanted": wanted, "live": live["current"]}


# --------------------------------------------------------------------------------------------
# State, plan, apply
# --------------------------------------------------------------------------------------------
def read_state(entry, tree, runner, ethtool="ethtool"):
    """The live values of what the entry manages: ``{name, channels?, txqueuelen?, irqs?, rps_cpus?, xps_cpus?}``."""
    nic = entry["nic"]
    state = {"name": nic["name"]}
    if entry["channels"]:
        rc, out, _err = runner.run([ethtool, "-l", nic["name"]], check_rc=False)
        current = parse_ethtool_channels(out)["current"] if rc == 0 else {}
        state["channels"] = {key: current.get(key) for key in sorted(entry["channels"]["wanted"])}
    if entry["txqueuelen"] is not None:
        state["txqueuelen"] = int(tree.read(tree.txqueuelen_path(nic["name"])))
    rx, tx = tree.queues(nic["name"])
    if entry["irq_affinity"] is not None:
        irqs = tree.queue_irqs(nic)
        state["irqs"] = {
            f"{direction}-{index}@{irq}": format_cpu_list(tree.irq_affinity(irq))
            for (direction, index), irq in sorted(irqs.items(), key=lambda item: (item[0][1], item[0][0]))
        }
        state["_irqs"] = irqs
    state["_unreadable"] = []
    for key, direction, indexes in (("rps_cpus", "rx", rx), ("xps_cpus", "tx", tx)):
        if entry[key] is None:
            continue
        state[key] = {}
        for i in indexes:
            try:
                text = tree.read(tree.queue_path(nic["name"], direction, i))
            except OSError:
                # xps_cpus of a single-queue device: the kernel answers ENOENT (XPS needs multiqueue)
                state["_unreadable"].append(f"{direction}-{i}")
                continue
            state[key][f"{direction}-{i}"] = format_cpu_list(parse_mask(text))
    state["_queues"] = (rx, tx)
    return state


def public(state):
    return {key: value for key, value in state.items() if not key.startswith("_")}


def plan_channels(entry, state, ethtool="ethtool"):
    if not entry["channels"]:
        return []
    wanted = entry["channels"]["wanted"]
    differ = {key: value for key, value in sorted(wanted.items()) if state["channels"].get(key) != value}
    if not differ:
        return []
    argv = [ethtool, "-L", entry["nic"]["name"]]
    for key, value in sorted(differ.items()):
        argv += [key, str(value)]
    return [
        {
            "nic": entry["nic"]["name"],
            "what": "channels",
            "cmd": argv,
            "before": {key: state["channels"].get(key) for key in differ},
            "after": differ,
        }
    ]


def desired_masks(entry, state):
    """``{"irqs": {key: cpus}, "rps_cpus": {...}, "xps_cpus": {...}, "txqueuelen": N}`` for this state."""
    nic = entry["nic"]
    rx, tx = state["_queues"]
    want = {}
    if entry["txqueuelen"] is not None:
        want["txqueuelen"] = entry["txqueuelen"]
    if entry["irq_affinity"] is not None:
        irqs = state["_irqs"]
        if not irqs and not nic["pci_dir"]:
            raise InputError(
                entry["path"] + ".irq_affinity",
                entry["irq_affinity"],
                "{} is a virtual device: it has no queue IRQs".format(nic["name"]),
            )
        if not irqs:
            raise InputError(
                entry["path"] + ".irq_affinity",
                entry["irq_affinity"],
                "no queue IRQs of {} found in {} msi_irqs and /proc/interrupts: is the interface up? "
                "(e1000e and most drivers request their IRQs when it is opened)".format(
                    nic["name"], nic["pci"] or "its"
                ),
            )
        cpus = entry["local_cpus"] if entry["irq_affinity"] == "auto" else entry["irq_affinity"]
        spreadout = spread(sorted(irqs), cpus)
        want["irqs"] = {
            f"{queue[0]}-{queue[1]}@{irq}": format_cpu_list(spreadout[queue]) for queue, irq in irqs.items()
        }
    if entry["rps_cpus"] is not None:
        cpus = entry["local_cpus"] if entry["rps_cpus"] == "auto" else entry["rps_cpus"]
        want["rps_cpus"] = {f"rx-{i}": format_cpu_list(cpus) for i in rx}
    if entry["xps_cpus"] is not None:
        if entry["xps_cpus"] == "auto":
            per_queue = xps_auto(tx, entry["local_cpus"]) if tx else {}
        else:
            per_queue = {i: entry["xps_cpus"] for i in tx}
        want["xps_cpus"] = {f"tx-{i}": format_cpu_list(per_queue[i]) for i in tx}
    for key in ("rps_cpus", "xps_cpus"):
        for queue in state.get("_unreadable", []):
            want.get(key, {}).pop(queue, None)
    return want


def plan_masks(entry, state, tree):
    nic = entry["nic"]["name"]
    want = desired_masks(entry, state)
    changes = []
    if "txqueuelen" in want and state["txqueuelen"] != want["txqueuelen"]:
        changes.append(
            {
                "nic": nic,
                "what": "txqueuelen",
                "path": tree.txqueuelen_path(nic),
                "before": state["txqueuelen"],
                "after": want["txqueuelen"],
                "write": str(want["txqueuelen"]),
            }
        )
    for key, cpus in sorted(want.get("irqs", {}).items()):
        if state["irqs"].get(key) != cpus:
            irq = int(key.split("@")[1])
            changes.append(
                {
                    "nic": nic,
                    "what": "irq_affinity",
                    "queue": key.split("@")[0],
                    "irq": irq,
                    "path": tree.irq_affinity_path(irq),
                    "before": state["irqs"].get(key),
                    "after": cpus,
                    "write": cpus,
                }
            )
    for kind, direction in (("rps_cpus", "rx"), ("xps_cpus", "tx")):
        for queue, cpus in sorted(want.get(kind, {}).items(), key=lambda item: int(item[0].split("-")[1])):
            if state[kind].get(queue) != cpus:
                changes.append(
                    {
                        "nic": nic,
                        "what": kind,
                        "queue": queue,
                        "path": tree.queue_path(nic, direction, int(queue.split("-")[1])),
                        "before": state[kind].get(queue),
                        "after": cpus,
                        "write": format_mask(parse_cpu_list(cpus)),
                    }
                )
    return changes, want


def _describe(change):
    return "{} {} {}: {} -> {}".format(
        change["nic"], change["what"], change.get("queue", ""), change["before"], change["after"]
    )


def _action(change):
    """A change as the core's :class:`Action`: the ethtool command, or a sysfs/procfs write (``data``)."""
    if "cmd" in change:
        return Action(change["cmd"], _describe(change), tool="ethtool", data=change)
    return Action([], _describe(change), tool="sysfs", op="write", data=change)


def _public_change(change):
    return {k: v for k, v in change.items() if k != "write"}


class NicQueuesTable(core.Table):
    """The managed values of the NICs the entries name, for the converge core.

    The entries are validated against the live tree on construction (:class:`InputError` before
    anything changes). ``read``: each NIC's state (:func:`read_state`). ``plan``: per NIC, the
    channel change, then the mask changes (:func:`plan_masks`) and the values they lead to
    (``plan.expected``, by NIC); a real channel change recreates the queues and IRQs, so the
    masks of that NIC are a ``replan`` step, planned in ``apply`` on the state read after it.
    ``commands`` are the changes (planned; applied, in a real run); ``before``, ``after`` (the
    values planned), ``nics``, ``skipped`` and ``notes`` complete the result.

    ``lenient`` (the applier at boot/hotplug): a NIC that is absent, or whose queue IRQs are not
    there yet, is reported in ``skipped`` instead of failing the run. ``only``: names of the NICs
    to handle. ``missing_irqs="plan"`` (check mode only): a NIC whose queue IRQs are not there
    yet gets one predicted IRQ-affinity change and a note instead of an error.
    """

    def __init__(
        self, specs, tree, runner, check_mode=False, ethtool="ethtool", lenient=False, only=None, missing_irqs="fail"
    ):
        self.tree = tree
        self.runner = runner
        self.check_mode = check_mode
        self.ethtool = ethtool
        self.lenient = lenient
        self.missing_irqs = missing_irqs
        if lenient:
            entries, skipped = [], []
            for spec in specs:
                try:
                    entries.extend(validate([spec], tree, runner, ethtool))
                except InputError as exc:
                    skipped.append(str(exc))
        else:
            entries, skipped = validate(specs, tree, runner, ethtool), []
        if only:
            entries = [entry for entry in entries if entry["nic"]["name"] in only]
        self.entries = entries
        self.skipped = skipped

    def _read(self, entry):
        return read_state(entry, self.tree, self.runner, self.ethtool)

    def read(self):
        return {entry["nic"]["name"]: self._read(entry) for entry in self.entries}

    def plan(self, live):
        plan = Plan(expected={}, before={}, notes={}, skipped={})
        for entry in self.entries:
            name = entry["nic"]["name"]
            state = live[name]
            plan.facts["before"][name] = public(state)
            plan.facts["notes"][name] = []
            plan.facts["skipped"][name] = []
            plan.expected[name] = None
            channels = plan_channels(entry, state, self.ethtool)
            plan.extend(_action(change) for change in channels)
            if channels and not self.check_mode:
                plan.append(
                    Action([], f"{name}: the masks, on the queues the channel change makes", tool="replan", data=entry)
                )
                continue
            if channels:
                plan.facts["notes"][name].append(
                    f"{name}: the channel change recreates its queues and IRQs; "
                    "the masks are planned on the current ones"
                )
            plan.extend(self._plan_masks(entry, state, plan))
        return plan

    def _plan_masks(self, entry, state, plan):
        """The mask actions of one NIC on ``state``; records its notes, skips and expected values in ``plan``."""
        name = entry["nic"]["name"]
        notes, skipped = plan.facts["notes"][name], plan.facts["skipped"][name]
        predicted_irqs = []
        if entry["irq_affinity"] is not None and not state["_irqs"]:
            if self.lenient:
                skipped.append(f"{name}: no queue IRQs yet (interface down?), IRQ affinity left for later")
            elif self.check_mode and self.missing_irqs == "plan" and entry["nic"]["pci_dir"]:
                cpus = entry["local_cpus"] if entry["irq_affinity"] == "auto" else entry["irq_affinity"]
                notes.append(f"{name}: no queue IRQs yet (interface down?): IRQ affinity planned for when it is up")
                predicted_irqs.append(
                    {
                        "nic": name,
                        "what": "irq_affinity",
                        "queue": "all",
                        "irq": None,
                        "path": None,
                        "before": None,
                        "after": format_cpu_list(cpus),
                    }
                )
            if self.lenient or predicted_irqs:
                entry["irq_affinity"] = None
                del state["irqs"]
                plan.facts["before"][name].pop("irqs", None)
        mask_changes, want = plan_masks(entry, state, self.tree)
        if state["_unreadable"]:
            notes.append(
                f"{name}: {', '.join(state['_unreadable'])} cannot be read (no XPS on a one-queue device): left alone"
            )
        predicted = public(state)
        for key in ("txqueuelen", "irqs", "rps_cpus", "xps_cpus"):
            if key in want:
                predicted[key] = want[key]
        if entry["channels"]:
            predicted["channels"] = dict(plan.facts["before"][name]["channels"], **entry["channels"]["wanted"])
        plan.expected[name] = predicted
        return [_action(change) for change in predicted_irqs + mask_changes]

    def planned(self, plan):
        return [_public_change(action.data) for action in plan if action.tool != "replan"]

    def apply(self, plan):
        applied = []
        for action in plan:
            if action.tool == "replan":
                entry = action.data
                for mask in self._plan_masks(entry, self._read(entry), plan):
                    self._apply(mask.data, applied)
            else:
                self._apply(action.data, applied)
        return applied

    def _apply(self, change, applied):
        try:
            if "cmd" in change:
                self.runner.run(change["cmd"])
            else:
                self.tree.write(change["path"], change["write"])
        except CommandError as exc:
            raise ApplyError(
                "{} failed: {}".format(" ".join(change["cmd"]), exc.msg), applied, exc.to_result(), exc
            ) from exc
        except OSError as exc:
            raise ApplyError(
                "writing {!r} to {} failed: {}".format(change["write"], change["path"], exc), applied, change, exc
            ) from exc
        applied.append(_public_change(change))

    def predict(self, live, plan):
        return plan.expected

    def read_back(self, plan):
        return {entry["nic"]["name"]: public(self._read(entry)) for entry in self.entries}

    def verify(self, plan, after):
        mismatches = []
        for name, expected in plan.expected.items():
            live = after[name]
            for key, value in sorted(expected.items()):
                if live.get(key) != value:
                    mismatches.append(f"{name} {key}: wanted {value}, reads {live.get(key)}")
        return mismatches

    def not_converged(self, problems, commands, after):
        return ReadBackError(problems, commands)

    def report(self, after, plan):
        names = [entry["nic"]["name"] for entry in self.entries]
        return {
            "before": plan.facts["before"],
            "after": plan.expected,
            "nics": [_summary(entry) for entry in self.entries],
            "skipped": self.skipped + [line for name in names for line in plan.facts["skipped"][name]],
            "notes": [line for name in names for line in plan.facts["notes"][name]],
        }


def run(specs, tree, runner, check_mode=False, ethtool="ethtool", lenient=False, only=None, missing_irqs="fail"):
    """Validate, plan, apply unless check mode, read back (:class:`NicQueuesTable`). Returns a
    result dict: ``changed``, ``changes``, ``before``, ``after``, ``nics``, ``skipped``, ``notes``.

    Raises :class:`InputError` (bad input, before any change), :class:`ApplyError` (a change
    failed part-way) or :class:`ReadBackError` (an ApplyError too: a value did not stick).
    """
    table = NicQueuesTable(specs, tree, runner, check_mode, ethtool, lenient, only, missing_irqs)
    result = core.converge(table, check_mode)
    result["changes"] = result.pop("commands")
    return result


def _summary(entry):
    return {
        "name": entry["nic"]["name"],
        "mac": entry["nic"]["mac"],
        "pci": entry["nic"]["pci"],
        "numa_node": entry["numa_node"],
        "local_cpus": format_cpu_list(entry["local_cpus"]),
    }


# --------------------------------------------------------------------------------------------
# The applier (udev RUN / oneshot unit): dpvs-cluster nic-queues --config FILE [--nic NAME]
# --------------------------------------------------------------------------------------------
# How the applier runs commands outside Ansible (AnsibleModule.run_command's contract; tests replace it).
_subprocess_run_command = subprocess_run_command


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="Apply NIC queue tuning (dpvs.cluster.net_tuning).")
    parser.add_argument("--config", required=True, help='JSON file: {"nics": [...]} as the nic_queues module takes')
    parser.add_argument("--nic", action="append", help="only this NIC (repeatable; udev passes $name)")
    parser.add_argument("--lenient", action="store_true", help="skip absent NICs and missing IRQs instead of failing")
    parser.add_argument("--check", action="store_true", help="plan only")
    parser.add_argument("--sys-path", default="/sys")
    parser.add_argument("--proc-path", default="/proc")
    parser.add_argument("--ethtool", default="ethtool")
    args = parser.parse_args(argv)
    with open(args.config) as handle:
        config = json.load(handle)
    tree = Tree(args.sys_path, args.proc_path)
    runner = Runner(_subprocess_run_command)
    try:
        result = run(
            config.get("nics", []),
            tree,
            runner,
            check_mode=args.check,
            ethtool=args.ethtool,
            lenient=args.lenient,
            only=args.nic,
        )
    except errors.FAMILY as exc:  # bad input (InputError), a change that failed or did not stick (ApplyError)
        sys.stderr.write(f"nic_queues: {exc}\n")
        return 1
    for change in result["changes"]:
        sys.stdout.write(_describe(change) + "\n")
    for line in result["skipped"]:
        sys.stdout.write(f"skipped: {line}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
