# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metrics of a DPVS node (docs/metrics.md), from the collection's own parsers.

:func:`read_dpvs` runs the read-only listings through the collection's runner and parses them
(``ipvs.parse``, ``dpip.parse``, ``dpip.state.read_addresses``); :func:`dpvs_families` turns
the parsed data into metric families. Every VIP, real server, device and lcore is a label,
never part of a metric name: the set of names is fixed. :func:`ipvs_families` is shared with
the kernel path (``kernel.py``), which reads the Linux ipvsadm's listings in the same shape.

A source (one listing) that fails or cannot be parsed is left out and reported in
``<prefix>_metrics_source_up{source=...} 0``: its families are absent, never stale.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import CommandError, DaemonDownError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.parse import parse_link_cpu_show, parse_link_show
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.state import read_addresses
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs.parse import parse_list, parse_list_stats
from ansible_collections.dpvs.cluster.plugins.module_utils.metrics.exposition import Family

# the sources of a DPVS node, in reading order
DPVS_SOURCES = ("services", "service_stats", "links", "addresses", "workers")

# ipvsadm --stats column -> (metric suffix, help)
IPVS_STATS = (
    ("conns", "connections_total", "Connections scheduled (ipvsadm Conns)."),
    ("inpkts", "in_packets_total", "Packets from clients (ipvsadm InPkts)."),
    ("outpkts", "out_packets_total", "Packets to clients (ipvsadm OutPkts)."),
    ("inbytes", "in_bytes_total", "Bytes from clients (ipvsadm InBytes)."),
    ("outbytes", "out_bytes_total", "Bytes to clients (ipvsadm OutBytes)."),
)
# ipvsadm -ln real server column -> (metric suffix, help)
IPVS_GAUGES = (
    ("active_conns", "active_connections", "Active connections now (ipvsadm ActiveConn)."),
    ("inactive_conns", "inactive_connections", "Inactive connections now (ipvsadm InActConn)."),
    ("weight", "weight", "Scheduling weight (0: drained)."),
)
# dpip -s link show counter -> (metric name, kind, help)
LINK_STATS = (
    ("ipackets", "dpvs_device_receive_packets_total", "counter", "Packets received by the port (ipackets)."),
    ("opackets", "dpvs_device_transmit_packets_total", "counter", "Packets sent by the port (opackets)."),
    ("ibytes", "dpvs_device_receive_bytes_total", "counter", "Bytes received by the port (ibytes)."),
    ("obytes", "dpvs_device_transmit_bytes_total", "counter", "Bytes sent by the port (obytes)."),
    ("ierrors", "dpvs_device_receive_errors_total", "counter", "Erroneous packets received (ierrors)."),
    ("oerrors", "dpvs_device_transmit_errors_total", "counter", "Failed transmissions (oerrors)."),
    (
        "imissed",
        "dpvs_device_receive_missed_total",
        "counter",
        "Packets the NIC dropped because no RX descriptor was free: the workers did not keep up (imissed).",
    ),
    ("rx_nombuf", "dpvs_device_receive_nombuf_total", "counter", "RX mbuf allocation failures (rx_nombuf)."),
    ("mbuf-avail", "dpvs_device_mbufs_available", "gauge", "Free mbufs of the port's packet pool (mbuf-avail)."),
    ("mbuf-inuse", "dpvs_device_mbufs_in_use", "gauge", "mbufs of the port's packet pool in use (mbuf-inuse)."),
)
# dpip -s link show cpu counter -> (metric name, help)
WORKER_STATS = (
    ("lcore_loop", "dpvs_worker_loops_total", "Main loop iterations of the lcore (lcore_loop)."),
    ("pktburst", "dpvs_worker_rx_bursts_total", "RX bursts polled (pktburst)."),
    ("zpktburst", "dpvs_worker_rx_empty_bursts_total", "RX bursts that brought no packet (zpktburst)."),
    ("z2hpktburst", "dpvs_worker_rx_upto_half_bursts_total", "RX bursts of 0 to half a burst (z2hpktburst)."),
    ("h2fpktburst", "dpvs_worker_rx_over_half_bursts_total", "RX bursts over half a burst (h2fpktburst)."),
    ("fpktburst", "dpvs_worker_rx_full_bursts_total", "RX bursts that filled the burst: saturation (fpktburst)."),
    ("dropped", "dpvs_worker_dropped_packets_total", "Packets the lcore dropped (dropped)."),
    ("ipackets", "dpvs_worker_receive_packets_total", "Packets the lcore received (ipackets)."),
    ("ibytes", "dpvs_worker_receive_bytes_total", "Bytes the lcore received (ibytes)."),
    ("opackets", "dpvs_worker_transmit_packets_total", "Packets the lcore sent (opackets)."),
    ("obytes", "dpvs_worker_transmit_bytes_total", "Bytes the lcore sent (obytes)."),
)


def service_labels(service):
    """The labels that name a service: ``protocol`` and ``vip``/``port`` (``fwmark`` for a
    firewall-mark service, ``match`` for a DPVS SNAT match service)."""
    labels = {"protocol": service["protocol"]}
    if service.get("vip") is not None:
        labels["vip"] = service["vip"]
        labels["port"] = str(service["port"])
    if service.get("fwmark") is not None:
        labels["fwmark"] = str(service["fwmark"])
    if service.get("match") is not None:
        labels["match"] = service["match"]
    return labels


def _rs_labels(service, real_server):
    return dict(service_labels(service), real_server=real_server["ip"], real_server_port=str(real_server["port"]))


def ipvs_families(prefix, services=None, stats=None):
    """Service and real-server families of ``prefix`` from ``parse_list`` services (gauges) and
    ``parse_list_stats`` services (counters); either may be None (its source failed)."""
    svc = {key: Family(f"{prefix}_service_{suffix}", "counter", "Service: " + text) for key, suffix, text in IPVS_STATS}
    rs = {
        key: Family(f"{prefix}_real_server_{suffix}", "counter", "Real server: " + text)
        for key, suffix, text in IPVS_STATS
    }
    gauges = {
        key: Family(f"{prefix}_real_server_{suffix}", "gauge", "Real server: " + text)
        for key, suffix, text in IPVS_GAUGES
    }
    count = Family(f"{prefix}_services", "gauge", "IPVS services in the table.")
    for service in stats or []:
        for key, family in svc.items():
            family.add(service[key], **service_labels(service))
        for real_server in service["real_servers"]:
            for key, family in rs.items():
                family.add(real_server[key], **_rs_labels(service, real_server))
    if services is not None:
        count.add(len(services))
    for service in services or []:
        for real_server in service["real_servers"]:
            for key, family in gauges.items():
                family.add(real_server[key], **_rs_labels(service, real_server))
    return [count, *svc.values(), *rs.values(), *gauges.values()]


def link_families(links):
    """Per-port families (label ``device``) from ``parse_link_show`` of ``dpip -s link show``."""
    families = [Family(name, kind, text) for _key, name, kind, text in LINK_STATS]
    up = Family("dpvs_device_up", "gauge", "1 when the port's link is up, else 0.")
    for link in links:
        up.add(1 if link["state"] == "UP" else 0, device=link["name"])
        for (key, *_rest), family in zip(LINK_STATS, families):
            if link["stats"] and key in link["stats"]:
                family.add(link["stats"][key], device=link["name"])
    return [up, *families]


def address_families(addresses):
    """The FullNAT local address pools (``sapool`` addresses of ``dpip -s addr show``)."""
    used = Family("dpvs_local_address_ports_used", "gauge", "Ports of the local address's sapool in use (sa_used).")
    free = Family("dpvs_local_address_ports_free", "gauge", "Free ports of the local address's sapool (sa_free).")
    miss = Family(
        "dpvs_local_address_port_misses_total",
        "counter",
        "Times a connection found no free port on the local address (sa_miss): add local addresses.",
    )
    for address in addresses:
        if address["sapool"] and address["sa_used"] is not None:
            labels = {"local_address": address["address"], "device": address["dev"]}
            used.add(address["sa_used"], **labels)
            free.add(address["sa_free"], **labels)
            miss.add(address["sa_miss"], **labels)
    return [used, free, miss]


def worker_families(cpus):
    """Per-lcore families (labels ``worker`` = cpuN, ``role``) from ``parse_link_cpu_show``."""
    families = [Family(name, "counter", text) for _key, name, text in WORKER_STATS]
    for cpu in cpus:
        for (key, *_rest), family in zip(WORKER_STATS, families):
            if cpu["stats"] and key in cpu["stats"]:
                family.add(cpu["stats"][key], worker=cpu["name"], role=cpu["role"])
    return families


def _read(runner, argv):
    return runner.run(argv, read_only=True, record=False)[1]


def read_dpvs(runner, dpip, ipvsadm):
    """Every DPVS source: ``(data by source, problem by source, up)``; ``up`` is False when the
    daemon does not answer (nothing more is asked) or when no source could be read."""
    readers = {
        "services": lambda: parse_list(_read(runner, [ipvsadm, "-ln"]))["services"],
        "service_stats": lambda: parse_list_stats(_read(runner, [ipvsadm, "-ln", "--stats", "--exact"]))["services"],
        "links": lambda: parse_link_show(_read(runner, [dpip, "-s", "link", "show"])),
        "addresses": lambda: read_addresses(runner, dpip),
        "workers": lambda: parse_link_cpu_show(_read(runner, [dpip, "-s", "link", "show", "cpu"])),
    }
    data, problems = {}, {}
    for source in DPVS_SOURCES:
        try:
            data[source] = readers[source]()
        except DaemonDownError as err:
            return {}, {"daemon": err.msg}, False
        except (CommandError, ValueError) as err:
            problems[source] = str(err)
    # nothing read (the tools missing, say): nobody can tell that the daemon answered
    return data, problems, bool(data)


def source_family(prefix, sources, problems):
    """``<prefix>_metrics_source_up{source}``: 1 for each source read, 0 for each that failed."""
    family = Family(f"{prefix}_metrics_source_up", "gauge", "1 when the source was read and parsed, else 0.")
    for source in sources:
        family.add(0 if source in problems else 1, source=source)
    return family


def dpvs_families(data, problems, up):
    """The families of a DPVS node from :func:`read_dpvs`'s answer."""
    families = [Family("dpvs_up", "gauge", "1 when the DPVS daemon answered, else 0.").add(1 if up else 0)]
    if "daemon" in problems:
        return families
    families.append(source_family("dpvs", DPVS_SOURCES, problems))
    families += ipvs_families("dpvs", data.get("services"), data.get("service_stats"))
    families += link_families(data.get("links") or [])
    families += address_families(data.get("addresses") or [])
    families += worker_families(data.get("workers") or [])
    return families
