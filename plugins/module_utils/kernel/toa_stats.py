# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counters of DPVS's toa.ko and uoa.ko on a real server: pure parsers, no file access.

``/proc/net/toa_stats`` (DPVS v1.10.2 ``kmod/toa/toa.c``, ``toa_stats_show``): a header of
34 spaces and ``CPU%d`` plus 7 spaces per online CPU, then one line per counter, its name as
``%-25s:`` and its value on each online CPU as ``%10lu `` (a per-CPU counter)::

                                      CPU0       CPU1
    syn_recv_sock_toa        :        20          3
    syn_recv_sock_no_toa     :         5          0

The counters: ``syn_recv_sock_toa`` (a connection accepted with a TOA option: it carried the
client address), ``syn_recv_sock_no_toa``, ``getname_toa_ok``, ``getname_toa_mismatch``,
``getname_toa_bypass``, ``getname_toa_empty`` and, when toa.ko is built with IPv6 or NAT64,
``ip6_address_alloc`` and ``ip6_address_free``.

``/proc/net/uoa_stats`` (``kmod/uoa/uoa.c``, ``uoa_stats_show``): a header line and one line
of seven ``%8llu`` totals: ``success``, ``miss``, ``invalid`` (socket look-ups of a client
address), ``uoa_got`` (a UDP datagram arrived with the UOA option: it carried the client
address), ``uoa_none``, ``uoa_saved``, ``uoa_ack_fail``::

     Success     Miss  Invalid|UOA  Got     None    Saved Ack-Fail
           0        0        0        3      210        3        0

Both files exist only in the initial network namespace's ``/proc/net`` (the modules create
them with ``init_net``); TOA itself hooks every namespace's TCP, UOA only the initial one's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.net_stats import StatsFormatError

TOA_CPU_RE = re.compile(r"^CPU(\d+)$")
# "syn_recv_sock_toa        :         0          0 " (a value of more than 10 digits touches the colon)
TOA_LINE_RE = re.compile(r"^(?P<name>[a-z0-9_]+)\s*:(?P<values>\s*\d+(?:\s+\d+)*)?\s*$")
UOA_HEADER = " Success     Miss  Invalid|UOA  Got     None    Saved Ack-Fail"
UOA_COLUMNS = ("success", "miss", "invalid", "uoa_got", "uoa_none", "uoa_saved", "uoa_ack_fail")

# The counter that proves a client address arrived, per module.
PROOF = {"toa": "syn_recv_sock_toa", "uoa": "uoa_got"}


def parse_toa_stats(text):
    """``/proc/net/toa_stats`` -> ``{"cpus": [0, 1], "counters": {"syn_recv_sock_toa": 23, ...}}``.

    Each counter is the sum over the online CPUs the header lists.
    """
    lines = (text or "").splitlines()
    if not lines:
        raise StatsFormatError("empty toa_stats")
    header = lines[0].split()
    cpus = []
    for token in header:
        match = TOA_CPU_RE.match(token)
        if not match:
            raise StatsFormatError(f"line 1: not a CPU header: {lines[0]!r}")
        cpus.append(int(match.group(1)))
    if not cpus:
        raise StatsFormatError(f"line 1: no CPU in the header: {lines[0]!r}")
    counters = {}
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        match = TOA_LINE_RE.match(line)
        if not match:
            raise StatsFormatError(f"line {number}: not a 'name: values' line: {line!r}")
        values = [int(value) for value in (match.group("values") or "").split()]
        if len(values) != len(cpus):
            raise StatsFormatError(f"line {number}: {len(values)} values for {len(cpus)} CPUs: {line!r}")
        counters[match.group("name")] = sum(values)
    if PROOF["toa"] not in counters:
        raise StatsFormatError(f"no {PROOF['toa']} line")
    return {"cpus": cpus, "counters": counters}


def parse_uoa_stats(text):
    """``/proc/net/uoa_stats`` -> ``{"counters": {"success": 0, ..., "uoa_got": 3, ...}}``."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if len(lines) != 2:
        raise StatsFormatError(f"{len(lines)} lines, expected a header and one line of values")
    if lines[0].split() != UOA_HEADER.split():
        raise StatsFormatError(f"line 1: not the uoa_stats header: {lines[0]!r}")
    fields = lines[1].split()
    if len(fields) != len(UOA_COLUMNS) or not all(field.isdigit() for field in fields):
        raise StatsFormatError(f"line 2: expected {len(UOA_COLUMNS)} counters: {lines[1]!r}")
    return {"counters": dict(zip(UOA_COLUMNS, (int(field) for field in fields)))}


PARSERS = {"toa": parse_toa_stats, "uoa": parse_uoa_stats}


def parse(name, text):
    """The counters of module ``name`` (``toa`` or ``uoa``) from its stats file's text."""
    return PARSERS[name](text)


def delta(before, after):
    """Growth of each counter present in both (``{"syn_recv_sock_toa": 20, ...}``); negative when
    the counters went back (the module was reloaded, or a CPU went offline between the readings)."""
    before = before or {}
    return {name: value - before[name] for name, value in (after or {}).items() if isinstance(before.get(name), int)}
