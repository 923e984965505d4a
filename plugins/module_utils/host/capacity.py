# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity: can this host carry the load declared for it (the preflight ``capacity`` check)?

Pure functions:

* :func:`normalize` -- the role's capacity inputs -> a checked request (InputError names the role
  variable: ``preflight_capacity_target.pps``);
* :func:`line_rate_pps` -- the packets per second a link carries at a frame size;
* :func:`judge` -- host_info's facts + the NICs that carry the load + the request ->
  ``(problems, notes)``: the arithmetic written out, e.g. ``pps: target 8.00 Mpps > capacity
  5.80 Mpps = 2 workers x 2.90 Mpps (limit: workers; NIC 10 Gbit/s at 64 B = 14.88 Mpps)``.

Packets per second are the packets the host receives and forwards, both directions counted
(clients to the VIPs and the real servers' answers), as DPVS's performance report counts them.
Capacity = min(forwarding units x the figure per unit, the line rate of the NICs that receive);
new connections per second = forwarding units x the figure per unit. Units: DPVS workers (path
``dpvs``) or the CPUs that forward in the kernel's softirq (path ``kernel``). docs/preflight.md
gives the figures' sources.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError

PATHS = ("dpvs", "kernel")
TARGET_KEYS = ("pps", "new_conns_per_s", "packet_bytes")
# Ethernet: 8 bytes of preamble and start delimiter + 12 of inter-frame gap per frame on the wire
WIRE_OVERHEAD_BYTES = 20
MIN_FRAME_BYTES = 64
MAX_FRAME_BYTES = 16384
# the auto worker count of the dpvs role's layout is at most this (dpvs_conf/layout.py AUTO_WORKERS_CAP)
AUTO_DPVS_WORKERS_CAP = 8
# request key -> the role variable an error names
VARIABLES = {
    "target": "preflight_capacity_target",
    "path": "preflight_capacity_path",
    "workers": "preflight_capacity_workers",
    "nic_speed_mbps": "preflight_capacity_nic_speed_mbps",
    "dpvs_pps_per_worker": "preflight_capacity_dpvs_pps_per_worker",
    "dpvs_conns_per_worker": "preflight_capacity_dpvs_conns_per_worker",
    "kernel_pps_per_cpu": "preflight_capacity_kernel_pps_per_cpu",
    "kernel_conns_per_cpu": "preflight_capacity_kernel_conns_per_cpu",
}
# The figures per forwarding unit when the request leaves them out (the role passes its variables,
# whose defaults these are; docs/preflight.md gives the sources). DPVS: the DPVS v1.9.2 performance
# report, one worker: 2,900,244 UDP FullNAT packets/s received, 200,000 TCP FullNAT connections/s.
# Kernel: a conservative estimate from an iptables DNAT/SNAT UDP forwarder (1.48 Mpps received at
# 21.8% softirq time of 16 vCPUs, about 0.42 Mpps per CPU); no published figure for new connections.
DEFAULT_FIGURES = {
    "dpvs_pps_per_worker": 2900000,
    "dpvs_conns_per_worker": 200000,
    "kernel_pps_per_cpu": 400000,
    "kernel_conns_per_cpu": None,
}


def _positive(path, value, optional=False, whole=False):
    """``value`` as a number > 0 (a numeric string too: templated defaults); None when optional and unset."""
    if value is None or value == "":
        if optional:
            return None
        raise InputError(path, value, "a number > 0 is required")
    if isinstance(value, bool):
        raise InputError(path, value, "must be a number > 0")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(path, value, "must be a number > 0") from None
    if not math.isfinite(number) or number <= 0:
        raise InputError(path, value, "must be a number > 0")
    if whole and number != int(number):
        raise InputError(path, value, "must be a whole number")
    return int(number) if whole else number


def _target(raw):
    """The declared target: None when none is declared, else ``{pps, new_conns_per_s, packet_bytes}``."""
    var = VARIABLES["target"]
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise InputError(var, raw, "must be a mapping with pps, new_conns_per_s and/or packet_bytes")
    unknown = sorted(str(key) for key in raw if key not in TARGET_KEYS)
    if unknown:
        raise InputError(f"{var}.{unknown[0]}", raw[unknown[0]], "unknown key (known: " + ", ".join(TARGET_KEYS) + ")")
    pps = _positive(f"{var}.pps", raw.get("pps"), optional=True)
    conns = _positive(f"{var}.new_conns_per_s", raw.get("new_conns_per_s"), optional=True)
    size = _positive(f"{var}.packet_bytes", raw.get("packet_bytes"), optional=True, whole=True)
    if size is not None and not MIN_FRAME_BYTES <= size <= MAX_FRAME_BYTES:
        raise InputError(
            f"{var}.packet_bytes",
            raw.get("packet_bytes"),
            f"an Ethernet frame size in bytes, {MIN_FRAME_BYTES} to {MAX_FRAME_BYTES}",
        )
    if pps is None and conns is None:
        raise InputError(var, raw, "declare pps and/or new_conns_per_s (or null for no target)")
    return {"pps": pps, "new_conns_per_s": conns, "packet_bytes": size or MIN_FRAME_BYTES}


def normalize(raw):
    """The capacity inputs of the preflight role -> a checked request; InputError names the variable."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise InputError("capacity", raw, "must be a mapping of the preflight_capacity_* inputs")
    path = raw.get("path") or "dpvs"
    if path not in PATHS:
        raise InputError(VARIABLES["path"], path, "must be dpvs or kernel")
    workers = raw.get("workers")
    workers = "auto" if workers in (None, "", "auto") else _positive(VARIABLES["workers"], workers, whole=True)
    request = {
        "target": _target(raw.get("target")),
        "path": path,
        "workers": workers,
        "nic_speed_mbps": _positive(VARIABLES["nic_speed_mbps"], raw.get("nic_speed_mbps"), optional=True),
    }
    for name, default in DEFAULT_FIGURES.items():
        request[name] = _positive(VARIABLES[name], raw.get(name, default), optional=name == "kernel_conns_per_cpu")
    return request


def line_rate_pps(speed_mbps, packet_bytes):
    """Frames per second a link of ``speed_mbps`` carries at ``packet_bytes`` (preamble and gap added)."""
    return speed_mbps * 1e6 / ((packet_bytes + WIRE_OVERHEAD_BYTES) * 8)


def _mpps(value):
    """``8.00 Mpps``; below 10,000 packets/s, where two decimals of Mpps would read 0.00: ``500 pps``."""
    return f"{value / 1e6:.2f} Mpps" if value >= 10000 else f"{value:,.0f} pps"


def _per_s(value):
    return f"{value:,.0f}/s"


def _count(units, word):
    """``2 workers``, ``1 worker``."""
    return f"{units} {word[:-1] if units == 1 else word}"


def _gbits(speed_mbps):
    return f"{speed_mbps / 1000:g} Gbit/s"


def _units(host, request):
    """``(count, word, note)``: the forwarding units (DPVS workers, kernel CPUs) and how they were counted."""
    cpus = int(((host.get("cpu") or {}).get("count")) or 1)
    if request["path"] == "kernel":
        if request["workers"] == "auto":
            return cpus, "CPUs", f"{cpus} CPUs: every online CPU forwards"
        return request["workers"], "CPUs", None
    if request["workers"] != "auto":
        return request["workers"], "workers", None
    count = max(1, min(AUTO_DPVS_WORKERS_CAP, cpus - 1))
    return (
        count,
        "workers",
        f"workers auto: at most {count} ({AUTO_DPVS_WORKERS_CAP}, or the CPUs less the master; the dpvs layout"
        " may place fewer: set dpvs_workers or preflight_capacity_workers for an exact figure)",
    )


def _nic_speed(nics, request):
    """``(Mbit/s or None, what)``: the given speed, or the sum of the NICs' link speeds when all are known."""
    if request["nic_speed_mbps"] is not None:
        return request["nic_speed_mbps"], "preflight_capacity_nic_speed_mbps"
    if not nics:
        return None, "no NIC to measure (none to bind, no default route)"
    unknown = [nic.get("name") or nic.get("pci_address") for nic in nics if not nic.get("speed_mbps")]
    if unknown:
        return None, (
            f"link speed of {', '.join(str(name) for name in unknown)} unknown (bound to DPDK, down, or not"
            " reported): set preflight_capacity_nic_speed_mbps"
        )
    names = ", ".join(str(nic.get("name") or nic.get("pci_address")) for nic in nics)
    return sum(nic["speed_mbps"] for nic in nics), names


def _judge_pps(target, units, word, per_unit, speed, speed_what):
    """``(problem or None, note)`` for the packets per second."""
    size = target["packet_bytes"]
    by_units = units * per_unit
    units_text = f"{_count(units, word)} x {_mpps(per_unit)}"
    if speed is None:
        capacity, limit = by_units, f"limit: {word}; NIC bound not counted: {speed_what}"
        formula = units_text
    else:
        by_nic = line_rate_pps(speed, size)
        nic_text = f"NIC {_gbits(speed)} at {size} B = {_mpps(by_nic)}"
        if by_nic < by_units:
            capacity, formula, limit = by_nic, nic_text, f"limit: NIC; {units_text} = {_mpps(by_units)}"
        else:
            capacity, formula, limit = by_units, units_text, f"limit: {word}; {nic_text}"
    if target["pps"] > capacity:
        return f"pps: target {_mpps(target['pps'])} > capacity {_mpps(capacity)} = {formula} ({limit})", None
    return None, f"pps: target {_mpps(target['pps'])} <= capacity {_mpps(capacity)} = {formula} ({limit})"


def _judge_conns(target, units, word, per_unit, figure_var):
    """``(problem or None, note)`` for the new connections per second."""
    if per_unit is None:
        return None, f"new connections: no figure per unit ({figure_var}): not judged"
    capacity = units * per_unit
    text = f"capacity {_per_s(capacity)} = {_count(units, word)} x {_per_s(per_unit)}"
    if target["new_conns_per_s"] > capacity:
        return f"new connections: target {_per_s(target['new_conns_per_s'])} > {text}", None
    return None, f"new connections: target {_per_s(target['new_conns_per_s'])} <= {text}"


def judge(host, nics, request):
    """``(problems, notes)`` of the capacity check; ``nics``: the host_info NICs that receive the load."""
    target = request["target"]
    if target is None:
        return [], [f"no target declared ({VARIABLES['target']})"]
    units, word, units_note = _units(host, request)
    prefix = "dpvs" if request["path"] == "dpvs" else "kernel"
    unit_name = "worker" if prefix == "dpvs" else "cpu"
    results = []
    if target["pps"] is not None:
        speed, speed_what = _nic_speed(nics, request)
        per_unit = request[f"{prefix}_pps_per_{unit_name}"]
        results.append(_judge_pps(target, units, word, per_unit, speed, speed_what))
    if target["new_conns_per_s"] is not None:
        name = f"{prefix}_conns_per_{unit_name}"
        results.append(_judge_conns(target, units, word, request[name], VARIABLES[name]))
    problems = [problem for problem, _note in results if problem]
    notes = [note for _problem, note in results if note]
    if units_note:
        (problems if problems else notes).append(units_note)
    return problems, notes


def receiving_nics(host, bound, path):
    """The NICs that receive the load: the NICs to bind to DPDK (path dpvs), else the PCI NICs that
    carry a default route (path kernel: the kernel forwards on them)."""
    if path == "dpvs":
        return [nic for _label, nic, _device in bound]
    return [
        nic
        for nic in host.get("nics") or []
        if nic.get("pci_address") and (nic.get("default_route_ipv4") or nic.get("default_route_ipv6"))
    ]
