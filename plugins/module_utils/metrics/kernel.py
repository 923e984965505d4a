# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metrics of a kernel_lb host (docs/metrics.md): the kernel's UDP/IP/TCP counters, softnet
drops per CPU and, when asked, the Linux IPVS table's counters.

The parsers are ``kernel.net_stats`` (``/proc/net/snmp``, ``/proc/net/softnet_stat``; those of
the ``net_stats_info`` module) and ``ipvs.parse`` (the Linux ipvsadm, the same shape as DPVS's).
The Linux ipvsadm is read only when asked (``ipvs``): run on a host without the ``ip_vs``
module, ``ipvsadm`` loads it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import CommandError
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs.parse import parse_list, parse_list_stats
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.net_stats import parse_snmp, parse_softnet_stat
from ansible_collections.dpvs.cluster.plugins.module_utils.metrics.dpvs import ipvs_families, source_family
from ansible_collections.dpvs.cluster.plugins.module_utils.metrics.exposition import Family

PREFIX = "kernel_lb"
# /proc/net/snmp sections exported, and their fields that are settings or gauges, not counters
SNMP_SECTIONS = ("Ip", "Udp", "Tcp")
SNMP_SETTINGS = frozenset(
    ("Ip.Forwarding", "Ip.DefaultTTL", "Tcp.RtoAlgorithm", "Tcp.RtoMin", "Tcp.RtoMax", "Tcp.MaxConn")
)
SNMP_GAUGES = frozenset(("Tcp.CurrEstab",))
# softnet_stat column -> help
SOFTNET_COUNTERS = (
    ("processed", "Packets the CPU's softirq processed."),
    ("dropped", "Packets dropped: the CPU's backlog queue was full (net.core.netdev_max_backlog)."),
    ("time_squeeze", "Times the softirq ran out of budget with work left (net.core.netdev_budget)."),
    ("received_rps", "RPS inter-processor interrupts received."),
    ("flow_limit_count", "Packets dropped by the flow limit."),
)
KERNEL_SOURCES = ("snmp", "softnet")
IPVS_SOURCES = ("ipvs_services", "ipvs_stats")


def snake(name):
    """``InDatagrams`` -> ``in_datagrams``, ``RcvbufErrors`` -> ``rcvbuf_errors``, ``ReasmOKs`` ->
    ``reasm_oks`` (the /proc/net/snmp names as metric name parts)."""
    name = name.replace("OKs", "Oks")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def snmp_families(snmp):
    """``kernel_lb_<section>_<counter>_total`` for the counters of :data:`SNMP_SECTIONS`."""
    families = []
    for section in SNMP_SECTIONS:
        for name, value in (snmp.get(section) or {}).items():
            key = f"{section}.{name}"
            if key in SNMP_SETTINGS:
                continue
            gauge = key in SNMP_GAUGES
            metric = f"{PREFIX}_{section.lower()}_{snake(name)}" + ("" if gauge else "_total")
            family = Family(metric, "gauge" if gauge else "counter", f"/proc/net/snmp {section} {name}.")
            families.append(family.add(value))
    return families


def softnet_families(cpus):
    """``kernel_lb_softnet_<column>_total{cpu}`` (32-bit counters: they wrap, rate() sees a reset)."""
    families = [
        Family(f"{PREFIX}_softnet_{column}_total", "counter", f"/proc/net/softnet_stat: {text}")
        for column, text in SOFTNET_COUNTERS
    ]
    for cpu in cpus:
        for (column, _text), family in zip(SOFTNET_COUNTERS, families):
            if column in cpu:
                family.add(cpu[column], cpu=str(cpu["cpu"]))
    return families


def read_kernel(read_text, runner=None, ipvsadm=None):
    """``(data by source, problem by source)``. ``read_text(path)`` reads a /proc file; the Linux
    IPVS table is read (``runner``, ``ipvsadm``) only when ``ipvsadm`` is given."""
    readers = {
        "snmp": lambda: parse_snmp(read_text("/proc/net/snmp")),
        "softnet": lambda: parse_softnet_stat(read_text("/proc/net/softnet_stat")),
    }
    sources = KERNEL_SOURCES
    if ipvsadm:
        readers["ipvs_services"] = lambda: parse_list(runner.run([ipvsadm, "-ln"], read_only=True, record=False)[1])[
            "services"
        ]
        readers["ipvs_stats"] = lambda: parse_list_stats(
            runner.run([ipvsadm, "-ln", "--stats", "--exact"], read_only=True, record=False)[1]
        )["services"]
        sources = KERNEL_SOURCES + IPVS_SOURCES
    data, problems = {}, {}
    for source in sources:
        try:
            data[source] = readers[source]()
        except (OSError, CommandError, ValueError) as err:
            problems[source] = str(err)
    return data, problems


def kernel_families(data, problems, ipvs=False):
    """The families of a kernel_lb host from :func:`read_kernel`'s answer."""
    families = [source_family(PREFIX, KERNEL_SOURCES + (IPVS_SOURCES if ipvs else ()), problems)]
    families += snmp_families(data.get("snmp") or {})
    families += softnet_families(data.get("softnet") or [])
    if ipvs:
        families += ipvs_families(f"{PREFIX}_ipvs", data.get("ipvs_services"), data.get("ipvs_stats"))
    return families
