# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An ESTIMATE of the hugepage memory DPVS takes per NUMA node, from a dpvs.conf model.

Why: "no memory" and "frag table ... allocation ... at socket 0 failed" are the most common
first-start failures (USERS.md pain point 1). DPVS allocates its big tables at start, per NUMA
node, from hugepages; this adds them up so that a preflight can compare them with the free
hugepages of each node before DPVS is started.

What is counted (where DPVS allocates it, from its sources; object sizes are estimates, not
measurements: docs/dpvs_conf.md "Hugepage estimate" gives the reasoning):

* packet pool: ``pktpool_size`` mbufs on EVERY NUMA node of the host
  (``netif_pktmbuf_pool_init``: one pool per ``get_numa_nodes()`` = numa_max_node()+1),
  MBUF_BYTES each (2048 data + 128 headroom + 128 struct rte_mbuf + mempool header);
* connection pool: ``conn_pool_size`` connections on every node (``dp_vs_conn_init``: one
  mempool per node), CONN_BYTES each (sizeof(struct dp_vs_conn) + mempool header, estimated);
* IPv4 reassembly tables: one per enabled lcore (master and workers) on the lcore's node
  (``ipv4_frag_init``), DPDK's ``rte_ip_frag_table_create`` size:
  align32pow2(bucket_number) * bucket_entries * 2 entries of FRAG_ENTRY_BYTES;
* sa_pool: for every local address (LIP) and every slave worker, ``pool_hash_size`` arrays of
  65536 ``struct sa_entry`` on the worker's node (``sa_pool_create`` / ``sa_pool_alloc_hash``);
* NIC rings: rx and tx descriptors of every queue of a port, on the port's node;
* a fixed EAL/DPDK overhead per node that holds an lcore or a port, and a relative margin.

Entry points: :func:`estimate_model` counts from the conf model the file is written from (the
``dpvs_conf`` filter, ``build.build``); :func:`estimate` reads the same values from a dpvs.conf
text (the ``dpvs_hugepages`` filter, for a file that was not generated here). Both end in
:func:`need`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.conf import find, parse, value_of

MIB = 1024 * 1024
MBUF_BYTES = 2048 + 128 + 128 + 64  # RTE_MBUF_DEFAULT_BUF_SIZE + struct rte_mbuf + mempool hdr
CONN_BYTES = 640  # sizeof(struct dp_vs_conn) (~576, estimated) + mempool object header
FRAG_ENTRY_BYTES = 256  # struct ip_frag_pkt, cache-aligned (8 fragments of 16 bytes + key/lru)
SA_ENTRY_BYTES = 40  # struct sa_entry: list_head + inet_addr + port + flags
SA_PORTS = 65536  # sa_entries[MAX_PORT] per hash bucket
DESC_BYTES = 64  # a descriptor plus its software ring slot, generous
EAL_OVERHEAD = 64 * MIB  # memzones, malloc heap, ethdev and lcore structures (a guess with room)
MARGIN = 0.10


def _pow2_ceil(number):
    power = 1
    while power < number:
        power <<= 1
    return power


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def estimate(conf_text, layout, lip_count=0, overhead=EAL_OVERHEAD, margin=MARGIN):
    """Hugepage bytes DPVS needs per NUMA node for ``conf_text`` on the host of ``layout``.

    The text entry point (the ``dpvs_hugepages`` filter): the values are read from the parsed
    text, then :func:`need` counts them as :func:`estimate_model` does for a model.
    """
    return need(values_of_text(parse(conf_text)), layout, lip_count, overhead, margin)


def estimate_model(model, layout, lip_count=0, overhead=EAL_OVERHEAD, margin=MARGIN):
    """The same estimate from the conf model of ``model.conf_model`` (what the file is written from)."""
    return need(values_of_model(model), layout, lip_count, overhead, margin)


def values_of_model(model):
    """What the estimate counts, from a conf model (``None``: not written, so DPVS's default)."""
    sections = model["sections"]
    fragment = sections["ipv4_defs"]["fragment"]
    return {
        "pktpool_size": _int(sections["netif_defs"]["pktpool_size"], 65535),
        "conn_pool_size": _int(sections["ipvs_defs"]["conn"]["conn_pool_size"], 2097152),
        "bucket_number": _int(fragment["bucket_number"], 4096),
        "bucket_entries": _int(fragment["bucket_entries"], 16),
        "pool_hash_size": _int(sections["sa_pool"]["pool_hash_size"], 16),
        "workers": [
            {"label": f"worker {worker['name']}", "cpu_id": _int(worker["cpu_id"], None), "type": worker["type"]}
            for worker in model["workers"]
        ],
        "devices": [
            {
                "name": device["name"],
                "rings": sum(
                    _int(device[way]["queue_number"], 1) * _int(device[way]["descriptor_number"], 512)
                    for way in ("rx", "tx")
                ),
            }
            for device in model["devices"]
        ],
    }


def values_of_text(tree):
    """What the estimate counts, from a parsed dpvs.conf (absent keywords: DPVS's defaults)."""
    workers = []
    for worker in find(tree, "worker_defs", "worker"):
        body = worker.children or []
        workers.append(
            {"label": worker.label(), "cpu_id": _int(value_of(body, "cpu_id"), None), "type": value_of(body, "type")}
        )
    devices = []
    for device in find(tree, "netif_defs", "device"):
        body = device.children or []
        rings = sum(
            _int(value_of(body, way, "queue_number"), 1) * _int(value_of(body, way, "descriptor_number"), 512)
            for way in ("rx", "tx")
        )
        devices.append({"name": device.args[0] if device.args else "?", "rings": rings})
    return {
        "pktpool_size": _int(value_of(tree, "netif_defs", "pktpool_size"), 65535),
        "conn_pool_size": _int(value_of(tree, "ipvs_defs", "conn", "conn_pool_size"), 2097152),
        "bucket_number": _int(value_of(tree, "ipv4_defs", "fragment", "bucket_number"), 4096),
        "bucket_entries": _int(value_of(tree, "ipv4_defs", "fragment", "bucket_entries"), 16),
        "pool_hash_size": _int(value_of(tree, "sa_pool", "pool_hash_size"), 16),
        "workers": workers,
        "devices": devices,
    }


def need(values, layout, lip_count=0, overhead=EAL_OVERHEAD, margin=MARGIN):
    """Hugepage bytes per NUMA node for the ``values`` of :func:`values_of_model` /
    :func:`values_of_text` on the host of ``layout``.

    Returns ``{"per_node": {node: bytes}, "per_node_mib": {node: MiB (rounded up)},
    "terms": [{"node", "what", "bytes"}], "lip_count", "margin", "estimate": True}``.
    """
    nodes = list(range(layout["max_socket"]))
    lcore_node = {lcore["cpu_id"]: lcore["numa_node"] for lcore in layout["lcores"]}
    port_node = {port["name"]: port["numa_node"] for port in layout["ports"]}
    items = []
    _pool_terms(items, values, nodes)
    _worker_terms(items, values, lcore_node, lip_count)
    for device in values["devices"]:
        name = device["name"]
        _add(items, port_node.get(name, 0), f"{name} descriptor rings", device["rings"] * DESC_BYTES)
    busy = set(lcore_node.values()) | set(port_node.values())
    for node in nodes:
        if node in busy:
            _add(items, node, "EAL and DPDK overhead", overhead)

    per_node = {}
    for node in nodes:
        total = sum(item["bytes"] for item in items if item["node"] == node)
        per_node[node] = int(total * (1 + margin))
    return {
        "per_node": per_node,
        "per_node_mib": {node: -(-amount // MIB) for node, amount in per_node.items()},
        "terms": items,
        "lip_count": lip_count,
        "margin": margin,
        "estimate": True,
    }


def _add(items, node, what, amount):
    """Append a term of ``amount`` bytes on ``node`` to ``items`` (nothing for 0)."""
    if amount:
        items.append({"node": node, "what": what, "bytes": int(amount)})


def _pool_terms(items, values, nodes):
    """The packet and connection pools DPVS makes on every NUMA node."""
    pktpool = values["pktpool_size"]
    conn_pool = values["conn_pool_size"]
    for node in nodes:
        _add(items, node, f"packet pool: {pktpool} mbufs x {MBUF_BYTES} B", pktpool * MBUF_BYTES)
        _add(items, node, f"connection pool: {conn_pool} x {CONN_BYTES} B", conn_pool * CONN_BYTES)


def _worker_terms(items, values, lcore_node, lip_count):
    """The reassembly table of every lcore and the sa_pools of the slaves, on their nodes."""
    frag = _pow2_ceil(values["bucket_number"]) * values["bucket_entries"] * 2 * FRAG_ENTRY_BYTES
    slaves = []
    for worker in values["workers"]:
        node = lcore_node.get(worker["cpu_id"], 0)
        _add(items, node, f"ipv4 reassembly table of {worker['label']}", frag)
        if worker["type"] == "slave":
            slaves.append(node)
    hash_size = values["pool_hash_size"]
    per_lip = hash_size * SA_PORTS * SA_ENTRY_BYTES
    for node in sorted(set(slaves)):
        count = slaves.count(node)
        _add(
            items,
            node,
            f"sa_pool: {lip_count} LIP(s) x {count} worker(s) x {hash_size} x {SA_PORTS} entries",
            lip_count * count * per_lip,
        )


def compare(need, host):
    """Per node: the estimate of :func:`estimate` against the host's hugepages.

    ``host``: the dpvs_host_view shape of host_info facts, ``numa_nodes[node].hugepages["2048kB"] = {"nr", "free"}``.
    Returns ``[{"node", "need_mib", "free_mib", "reserved_mib", "fits_free", "fits_reserved"}]``:
    a DPVS that is not running needs ``free``; a running one holds its pages already, so then
    ``reserved`` (nr_hugepages) is the measure."""
    out = []
    nodes = host.get("numa_nodes") or {}
    for node, amount in sorted(need["per_node"].items()):
        info = nodes.get(str(node), nodes.get(node, {})) or {}
        free = reserved = 0
        for size, pages in (info.get("hugepages") or {}).items():
            size_kb = _int(str(size).lower().replace("kb", ""), 0)
            free += _int(pages.get("free"), 0) * size_kb * 1024
            reserved += _int(pages.get("nr"), 0) * size_kb * 1024
        out.append(
            {
                "node": node,
                "need_mib": -(-amount // MIB),
                "free_mib": free // MIB,
                "reserved_mib": reserved // MIB,
                "fits_free": free >= amount,
                "fits_reserved": reserved >= amount,
            }
        )
    return out
