# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel network counters: pure parsers for /proc/net/snmp and /proc/net/softnet_stat.

Text in, plain data out; nothing here opens a file. The module ``net_stats_info`` reads
the files and calls these functions.

* ``/proc/net/snmp`` holds pairs of lines per protocol: a header with the counter names
  and a line with the values (per network namespace).
* ``/proc/net/softnet_stat`` holds one line per online CPU of hexadecimal 32-bit columns
  (global, not per namespace). Kernels before 5.10 print 11 columns (no CPU number: the
  line number is then used, which is wrong when CPUs are offline); 5.10+ print 13, 6.x 15.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors"
# "Udp: 156 0 0 157 0 0 0 0 0"
SNMP_LINE_RE = re.compile(r"^(?P<section>[A-Za-z][A-Za-z0-9]*):(?P<fields>(?:\s+\S+)*)\s*$")

# "0000106f 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
SOFTNET_LINE_RE = re.compile(r"^[0-9a-fA-F]+(?: [0-9a-fA-F]+)+$")

# Column meanings of softnet_stat (net/core/net-procfs.c, softnet_seq_show); None: always 0.
SOFTNET_COLUMNS = (
    "processed",
    "dropped",  # the backlog queue was full (netdev_max_backlog)
    "time_squeeze",  # net_rx_action ran out of budget (netdev_budget / netdev_budget_usecs)
    None,
    None,
    None,
    None,
    None,  # was fastroute
    None,  # was cpu_collision
    "received_rps",
    "flow_limit_count",
    "backlog_len",  # 5.10+
    "cpu",  # 5.10+
    "input_qlen",  # 6.x
    "process_qlen",  # 6.x
)
SOFTNET_WRAP = 1 << 32
SOFTNET_TOTALS = ("processed", "dropped", "time_squeeze", "received_rps", "flow_limit_count")
SOFTNET_GAUGES = ("backlog_len", "cpu", "input_qlen", "process_qlen")

# The counters that mean a datagram was lost or refused, as "Section.Counter" (softnet: totals).
ERROR_COUNTERS = (
    "Udp.InErrors",
    "Udp.NoPorts",
    "Udp.RcvbufErrors",
    "Udp.SndbufErrors",
    "Udp.InCsumErrors",
    "Udp.MemErrors",
    "Ip.InHdrErrors",
    "Ip.InAddrErrors",
    "Ip.InDiscards",
    "Ip.OutDiscards",
    "Ip.OutNoRoutes",
    "softnet.dropped",
    "softnet.time_squeeze",
    "softnet.flow_limit_count",
)


class StatsFormatError(ValueError):
    """The text does not have the expected format (line number and reason in the message)."""


def parse_snmp(text):
    """``/proc/net/snmp`` -> ``{"Udp": {"InDatagrams": 156, ...}, "Ip": {...}, ...}``.

    Every section is returned, in file order; values are integers (``Tcp.MaxConn`` is -1).
    """
    sections = {}
    pending = None  # (section, names, line number) of a header waiting for its values
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        match = SNMP_LINE_RE.match(line)
        if not match:
            raise StatsFormatError(f"line {number}: not a 'Section: fields' line: {line!r}")
        section = match.group("section")
        fields = match.group("fields").split()
        if pending is None or pending[0] != section:
            if pending is not None:
                raise StatsFormatError(f"line {pending[2]}: header of {pending[0]} has no value line")
            pending = (section, fields, number)
            continue
        names = pending[1]
        if len(fields) != len(names):
            raise StatsFormatError(f"line {number}: {section} has {len(names)} counter names but {len(fields)} values")
        try:
            values = [int(field) for field in fields]
        except ValueError:
            raise StatsFormatError(f"line {number}: {section} values are not all integers: {line!r}") from None
        sections[section] = dict(zip(names, values))
        pending = None
    if pending is not None:
        raise StatsFormatError(f"line {pending[2]}: header of {pending[0]} has no value line")
    return sections


def parse_softnet_stat(text):
    """``/proc/net/softnet_stat`` -> one dict per line (online CPU), named columns only."""
    cpus = []
    for index, line in enumerate((text or "").splitlines()):
        line = line.strip()
        if not line:
            continue
        if not SOFTNET_LINE_RE.match(line):
            raise StatsFormatError(f"line {index + 1}: not hexadecimal columns: {line!r}")
        columns = [int(column, 16) for column in line.split()]
        if len(columns) < 3:
            raise StatsFormatError(f"line {index + 1}: {len(columns)} columns, expected at least 3")
        entry = {}
        for name, value in zip(SOFTNET_COLUMNS, columns):
            if name is not None:
                entry[name] = value
        entry.setdefault("cpu", len(cpus))
        cpus.append(entry)
    return cpus


def softnet_totals(cpus):
    """Sum the counters (not the queue gauges) over all CPUs."""
    return {name: sum(cpu.get(name, 0) for cpu in cpus) for name in SOFTNET_TOTALS}


def error_counters(snmp, totals):
    """The ERROR_COUNTERS that exist in this kernel's output, flat: ``{"Udp.NoPorts": 3, ...}``."""
    found = {}
    for key in ERROR_COUNTERS:
        section, name = key.split(".", 1)
        source = totals if section == "softnet" else snmp.get(section)
        if source is not None and name in source:
            found[key] = source[name]
    return found


def _delta(before, after, wrap=None):
    if wrap is not None and after < before:
        return after + wrap - before
    return after - before


def deltas(baseline, current):
    """Growth of every counter from ``baseline`` to ``current`` (both: results of ``collect``).

    Only counters present in both are compared. softnet columns are 32-bit and may wrap
    once between two readings; /proc/net/snmp counters are 64-bit.
    """
    out = {}
    base_snmp = baseline.get("snmp") or {}
    snmp = {}
    for section, counters in (current.get("snmp") or {}).items():
        before = base_snmp.get(section)
        if not isinstance(before, dict):
            continue
        snmp[section] = {
            name: _delta(before[name], value) for name, value in counters.items() if isinstance(before.get(name), int)
        }
    if snmp:
        out["snmp"] = snmp
    base_totals = baseline.get("softnet_totals") or {}
    totals = {
        name: _delta(base_totals[name], value, SOFTNET_WRAP)
        for name, value in (current.get("softnet_totals") or {}).items()
        if isinstance(base_totals.get(name), int)
    }
    if totals:
        out["softnet_totals"] = totals
    base_errors = baseline.get("errors") or {}
    out["errors"] = {
        key: _delta(base_errors[key], value, SOFTNET_WRAP if key.startswith("softnet.") else None)
        for key, value in (current.get("errors") or {}).items()
        if isinstance(base_errors.get(key), int)
    }
    return out


def collect(snmp_text=None, softnet_text=None):
    """Parse whichever texts are given into the module's result shape."""
    result = {}
    snmp = parse_snmp(snmp_text) if snmp_text is not None else {}
    cpus = parse_softnet_stat(softnet_text) if softnet_text is not None else []
    totals = softnet_totals(cpus) if softnet_text is not None else {}
    if snmp_text is not None:
        result["snmp"] = snmp
    if softnet_text is not None:
        result["softnet"] = cpus
        result["softnet_totals"] = totals
    result["errors"] = error_counters(snmp, totals)
    return result
