# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hugepage memory DPVS v1.10.2 on DPDK 24.11 takes per NUMA node, from a dpvs.conf model.

Why: "no memory" (``failed to init tc: no memory``, ``frag table ... allocation ... at socket 0
failed``) is the most common first-start failure (USERS.md pain point 1), and it strikes later
too when an address is added (``IFA: [01] ifa_entry_add: add ifaddr ... failed -- no memory``,
issue 12). DPVS allocates its pools and tables at start, per NUMA node, from DPDK's hugepage
heap, and more per local address (LIP) and per service at run time. This counts them so that
the role's preflight can compare them with the hugepages of each node before DPVS starts.

Each term is an allocation DPVS makes (its source line is in the comment where it is counted),
costed the way DPDK 24.11 lays it out (docs/dpvs_conf.md "Hugepage estimate" has the table):

* an ``rte_mempool`` of n objects of e bytes (:func:`_mempool`): every object gets a 64 B header
  and is padded to an ODD number of cache lines (x86 spreads objects over the 4 memory channels
  EAL assumes without ``-n``), objects do not cross a 2 MB page, plus a header memzone that holds
  RTE_MAX_LCORE (128) per-lcore caches of 8256 B when the pool has a cache (1 MiB), plus the ring
  of ``align32pow2(n+1)`` pointers ("ring_mp_mc");
* every allocation takes a 128 B ``malloc_elem`` header, and one of a page or more takes whole 2 MB
  pages of its own (:func:`_heap`): DPDK's heap grows by ``ceil(size / page)`` pages and carves the
  block from the END of the free element, so the rest of the last page lies below the block and
  is not merged with the next growth. Measured: one LIP's 40 MiB sa_pool took 21 pages, not 20.

Measured on DPVS v1.10.2 / DPDK 24.11.3 (issue 12; ``tests/unit/test_hugepage_model.py``): role
defaults, master + 1 worker, one port: 1014 pages at start, 1035 with one LIP, 27 more pages for
10,000 services. This model gives 1030, 1051 and 27 pages for that shape before the margin.

Entry points: :func:`estimate_model` counts from the conf model the file is written from (the
``dpvs_conf`` filter, ``build.build``); :func:`estimate` reads the same values from a dpvs.conf
text (the ``dpvs_hugepages`` filter, for a file that was not generated here). Both end in
:func:`need`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.conf import find, parse, value_of

MIB = 1024 * 1024
PAGE = 2 * MIB  # the 2 MB hugepages the hugepages role reserves (1 GB pages only round the node total up)
LINE = 64  # RTE_CACHE_LINE_SIZE (x86)
BIG = PAGE  # allocations from here on take pages of their own (the heap carves from the end)
MARGIN = 0.10  # dpvs_hugepages_margin's default; docs/dpvs_conf.md says why

# DPDK 24.11 (lib/, x86_64, default meson options)
MALLOC_ELEM = 128  # sizeof(struct malloc_elem), cache aligned: eal/common/malloc_elem.h:23
OBJ_HEADER = 64  # struct rte_mempool_objhdr (24 B) aligned to a line: mempool/rte_mempool.c:224
MEMPOOL_STRUCT = 192  # sizeof(struct rte_mempool)
MEMPOOL_CACHE = 8256  # sizeof(struct rte_mempool_cache): objs[RTE_MEMPOOL_CACHE_MAX_SIZE * 2], rte_mempool.h:90
RTE_MAX_LCORE = 128  # config/x86 (meson max_lcores): RTE_MEMPOOL_HEADER_SIZE, rte_mempool.h:371
RING_STRUCT = 384  # sizeof(struct rte_ring): ring/rte_ring.c:76 rte_ring_get_memsize_elem
MEM_CHANNELS = 4  # rte_memory_get_nchannel() without EAL -n: arch_mem_object_align, rte_mempool.c:93
MBUF_ELT = 128 + 2048 + 128  # struct rte_mbuf + RTE_MBUF_DEFAULT_BUF_SIZE (data + headroom)
FRAG_PKT = 256  # sizeof(struct ip_frag_pkt): ip_frag/ip_reassembly.h; 2 hash functions per bucket
LPM6_TBL24 = (1 << 24) * 4  # struct rte_lpm6 tbl24: lpm/rte_lpm6.c:102

# DPVS v1.10.2 (src/, include/; sizes from its headers compiled against DPDK 24.11 on x86_64)
DPVS_MAX_LCORE = 64  # config.mk CONFIG_DPVS_MAX_LCORE: rings are made for every lcore slot
CONN_ELT = 576  # sizeof(struct dp_vs_conn)
REDIRECT_ELT = 64  # sizeof(struct dp_vs_redirect)
SYNPROXY_ACK_POOL = 1048575  # DP_VS_SYNPROXY_ACK_MBUFPOOL_SIZE, ipvs/ip_vs_synproxy.c:73
SYNPROXY_ACK_ELT = 64  # struct dp_vs_synproxy_ack_pakcet, __rte_cache_aligned
IPSET_HASH_POOL = 262143  # IPSET_HASH_POOL_SIZE_DEF: ipset/ipset_hash.c:359 ignores ipset_hash_pool_size
IPSET_HASH_ELT = 24 + 128  # struct hash_entry + HASH_ELEM_SIZE_MAX
TC_MBUF_ELT = 24  # struct tc_mbuf
CONN_TABLE = (1 << 20) * 16  # DPVS_CONN_TBL_SIZE list heads: ipvs/ip_vs_conn.c:41
TIMER_LEVEL = (2 << 18) * 16  # LEVEL_SIZE list heads, LEVEL_DEPTH 2 levels: timer.c:65
LIST_TABLE = (1 << 16) * 16  # DPVS_BLKLST_TAB_SIZE / DPVS_WHTLST_TAB_SIZE list heads
SA_ENTRY = 40  # sizeof(struct sa_entry)
SA_ENTRY_POOL = 56  # sizeof(struct sa_entry_pool)
SA_PORTS = 65536  # MAX_PORT: sa_pool.c:98 takes MAX_PORT >> shift entries per worker
SERVICE_BYTES = 448  # sizeof(struct dp_vs_service) 320 + malloc_elem, one per lcore: ip_vs_service.c:463
# The rest of what 10,000 services took (54 MiB on master + 1 worker, 896 B of it per service in
# the per-lcore copies above) is not one allocation of the source; counted per service on the
# master's node, as measured (4,800 B; docs/dpvs_conf.md).
SERVICE_MEASURED = 4800
KNI_PORT = MIB  # virtio-user vrings (queue_size 1024) and the 2048-slot rx ring: kni.c:57, kni.c:622
QUEUE_DMA = 128 * 1024  # a PMD's DMA ring for its largest ring (ixgbe: 8192 x 16 B), per rx and tx queue
DESC_BYTES = 64  # a descriptor plus its software ring slot, generous
SMALL_MASTER = 4 * MIB  # EAL (ethdev data, service cores), ports, small DPVS tables on the master's node
SMALL_NODE = 2 * MIB  # small per-lcore and per-port structures on another node with an lcore or a port


def _align(number, unit):
    return -(-number // unit) * unit


def _pow2_ceil(number):
    power = 1
    while power < number:
        power <<= 1
    return power


def _pow2_floor(number):
    """DPVS's ``is_power2(n, 0, &lower)``: the largest power of 2 <= n (n itself below 2)."""
    if number < 2:
        return number
    return 1 << (number.bit_length() - 1)


def _dpvs_count(number):
    """DPVS's "round to 2^n-1" of pktpool_size, conn_pool_size, ...: ``is_power2(n, 1)`` - 1."""
    return _pow2_floor(number + 1) - 1


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _on(value, default):
    """A model's True/False or a text's on/off (``None``: not written, so DPVS's default)."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "on"
    return bool(value)


def _heap(size):
    """Bytes of hugepage one rte_malloc / rte_memzone_reserve of ``size`` bytes takes: the 128 B
    malloc_elem header, and from BIG on whole 2 MB pages (try_expand_heap_primary,
    eal/common/malloc_heap.c:404, and malloc_elem_alloc carving from the end)."""
    taken = _align(size, LINE) + MALLOC_ELEM
    return _align(taken, PAGE) if size >= BIG else taken


def _obj_size(elt):
    """rte_mempool_calc_obj_size (rte_mempool.c:217): header + element, padded to an odd number of
    cache lines (gcd with MEM_CHANNELS x 1 rank must be 1)."""
    lines = -(-(OBJ_HEADER + _align(elt, 8)) // LINE)
    while math.gcd(lines, MEM_CHANNELS) != 1:
        lines += 1
    return lines * LINE


def _mempool(count, elt, cache, priv=0):
    """Heap bytes of ``rte_mempool_create(count, elt, cache)``: the objects (populate_default and
    rte_mempool_op_calc_mem_size_helper: no object crosses a page), the header memzone with the
    per-lcore caches, and the ring of the default "ring_mp_mc" ops (rte_mempool_ring.c:98)."""
    total = _obj_size(elt)
    per_page = PAGE // total
    if per_page:
        last = (count - 1) % per_page + 1
        objects = last * total + (count - last) // per_page * PAGE + total - 1
    else:
        objects = _align(total, PAGE) * count
    header = MEMPOOL_STRUCT + (RTE_MAX_LCORE * MEMPOOL_CACHE if cache else 0) + _align(priv, LINE)
    ring = RING_STRUCT + _pow2_ceil(count + 1) * 8
    return _heap(objects) + _heap(header) + _heap(ring)


def _dpvs_mempool(size_min, size_max, pool_kbytes):
    """Heap bytes of DPVS's ``dpvs_mempool_create`` (mempool.c:83): one rte_mempool per power of 2
    from size_min (at least 64) to size_max, each of about pool_kbytes, cache 64."""
    size = _pow2_floor(max(size_min, 64))
    top = _pow2_floor(min(size_max, MIB))
    pool = max(_pow2_floor(pool_kbytes) * 1024, top * 16)
    total = 0
    while size <= top:
        count = pool // size
        cache = 64 if count * 2 // 3 > 64 else count // 2  # mp_elem_create, mempool.c:51
        total += _mempool(_dpvs_count(count), size, cache)
        size *= 2
    return total


def _ring(slots):
    """Heap bytes of ``rte_ring_create`` with ``slots`` (a power of 2) pointers."""
    return _heap(RING_STRUCT + slots * 8)


def estimate(conf_text, layout, lip_count=0, margin=MARGIN, service_count=0):
    """Hugepage bytes DPVS needs per NUMA node for ``conf_text`` on the host of ``layout``.

    The text entry point (the ``dpvs_hugepages`` filter): the values are read from the parsed
    text, then :func:`need` counts them as :func:`estimate_model` does for a model.
    """
    return need(values_of_text(parse(conf_text)), layout, lip_count, margin, service_count)


def estimate_model(model, layout, lip_count=0, margin=MARGIN, service_count=0):
    """The same estimate from the conf model of ``model.conf_model`` (what the file is written from)."""
    return need(values_of_model(model), layout, lip_count, margin, service_count)


def values_of_model(model):
    """What the model counts, from a conf model (``None``: not written, so DPVS's default)."""
    sections = model["sections"]
    conn = sections["ipvs_defs"]["conn"]
    route6 = sections["ipv6_defs"]["route6"]
    values = _values(
        lambda *path: _lookup(sections, path),
        [
            {"label": f"worker {worker['name']}", "cpu_id": _int(worker["cpu_id"], None), "type": worker["type"]}
            for worker in model["workers"]
        ],
        [
            {
                "name": device["name"],
                "queues": sum(_int(device[way]["queue_number"], 1) for way in ("rx", "tx")),
                "rings": sum(
                    _int(device[way]["queue_number"], 1) * _int(device[way]["descriptor_number"], 512)
                    for way in ("rx", "tx")
                ),
            }
            for device in model["devices"]
        ],
    )
    values.update(redirect=_on(conn["redirect"], False), route6_method=route6["method"] or "hlist")
    return values


def _lookup(sections, path):
    node = sections
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def values_of_text(tree):
    """What the model counts, from a parsed dpvs.conf (absent keywords: DPVS's defaults)."""
    workers = []
    for worker in find(tree, "worker_defs", "worker"):
        body = worker.children or []
        workers.append(
            {"label": worker.label(), "cpu_id": _int(value_of(body, "cpu_id"), None), "type": value_of(body, "type")}
        )
    devices = []
    for device in find(tree, "netif_defs", "device"):
        body = device.children or []
        devices.append(
            {
                "name": device.args[0] if device.args else "?",
                "queues": sum(_int(value_of(body, way, "queue_number"), 1) for way in ("rx", "tx")),
                "rings": sum(
                    _int(value_of(body, way, "queue_number"), 1) * _int(value_of(body, way, "descriptor_number"), 512)
                    for way in ("rx", "tx")
                ),
            }
        )
    values = _values(lambda *path: value_of(tree, *path), workers, devices)
    values.update(
        redirect=_on(value_of(tree, "ipvs_defs", "conn", "redirect"), False),
        route6_method=value_of(tree, "ipv6_defs", "route6", "method") or "hlist",
    )
    return values


def _values(get, workers, devices):
    """The values both readers share; ``get(*path)`` is a keyword's value or None. Defaults are
    DPVS's own (its *_DEF constants) for keywords the file does not have."""
    return {
        "pktpool_size": _dpvs_count(_int(get("netif_defs", "pktpool_size"), 65535)),
        "pktpool_cache": _int(get("netif_defs", "pktpool_cache"), 256),
        "conn_pool_size": _dpvs_count(_int(get("ipvs_defs", "conn", "conn_pool_size"), 2097152)),
        "conn_pool_cache": _int(get("ipvs_defs", "conn", "conn_pool_cache"), 256),
        "bucket_number": _int(get("ipv4_defs", "fragment", "bucket_number"), 4096),
        "bucket_entries": _int(get("ipv4_defs", "fragment", "bucket_entries"), 16),
        "pool_hash_size": _int(get("sa_pool", "pool_hash_size"), 16),
        "msg_ring_size": _pow2_floor(_int(get("ctrl_defs", "lcore_msg", "ring_size"), 4096)),
        "kni": _on(get("global_defs", "kni"), True),
        "log_async": _on(get("global_defs", "log_async_mode"), False),
        "log_pool_size": _dpvs_count(_int(get("global_defs", "log_async_pool_size"), 16384)),
        "lpm6_max_rules": _pow2_floor(_int(get("ipv6_defs", "route6", "lpm", "lpm6_max_rules"), 256)),
        "lpm6_num_tbl8s": _pow2_floor(_int(get("ipv6_defs", "route6", "lpm", "lpm6_num_tbl8s"), 4096)),
        "rt6_hash_bucket": _pow2_floor(_int(get("ipv6_defs", "route6", "lpm", "rt6_hash_bucket"), 256)),
        "workers": workers,
        "devices": devices,
    }


def need(values, layout, lip_count=0, margin=MARGIN, service_count=0):
    """Hugepage bytes per NUMA node for the ``values`` of :func:`values_of_model` /
    :func:`values_of_text` on the host of ``layout``, with ``lip_count`` FullNAT local addresses
    and ``service_count`` services.

    Returns ``{"per_node": {node: bytes}, "per_node_mib": {node: MiB (rounded up)},
    "terms": [{"node", "what", "bytes"}], "lip_count", "service_count", "margin", "estimate": True}``;
    ``per_node`` is the sum of the node's terms times ``1 + margin``, in whole 2 MB pages.
    """
    nodes = list(range(layout["max_socket"]))
    place = _placement(values, layout)
    items = []
    _node_pools(items, values, nodes)
    _master_terms(items, values, place)
    _lcore_terms(items, values, place)
    _runtime_terms(items, values, place, lip_count, service_count)
    _port_terms(items, values, place)
    per_node = {}
    for node in nodes:
        total = sum(item["bytes"] for item in items if item["node"] == node)
        per_node[node] = _align(int(total * (1 + margin)), PAGE)
    return {
        "per_node": per_node,
        "per_node_mib": {node: -(-amount // MIB) for node, amount in per_node.items()},
        "terms": items,
        "lip_count": lip_count,
        "service_count": service_count,
        "margin": margin,
        "estimate": True,
    }


def _placement(values, layout):
    """The NUMA node of the master, of every EAL lcore and of every slave, and of every port."""
    lcore_node = {lcore["cpu_id"]: lcore["numa_node"] for lcore in layout["lcores"]}
    lcores = [(worker, lcore_node.get(worker["cpu_id"], 0)) for worker in values["workers"]]
    masters = [node for worker, node in lcores if worker["type"] == "master"]
    return {
        "master": masters[0] if masters else 0,
        "lcores": lcores,
        "slaves": [node for worker, node in lcores if worker["type"] == "slave"],
        "ports": {port["name"]: port["numa_node"] for port in layout["ports"]},
    }


def _add(items, node, what, amount):
    """Append a term of ``amount`` bytes on ``node`` to ``items`` (nothing for 0)."""
    if amount:
        items.append({"node": node, "what": what, "bytes": int(amount)})


def _node_pools(items, values, nodes):
    """The mempools DPVS makes on EVERY NUMA node of the host (``get_numa_nodes()`` =
    numa_max_node()+1), whether an lcore or a port is there or not."""
    pkt, pkt_cache = values["pktpool_size"], values["pktpool_cache"]
    conn, conn_cache = values["conn_pool_size"], values["conn_pool_cache"]
    for node in nodes:
        # netif.c:1107 netif_pktmbuf_pool_init: rte_pktmbuf_pool_create(pktpool_size, pktpool_cache)
        _add(items, node, f"packet pool: {pkt} mbufs", _mempool(pkt, MBUF_ELT, pkt_cache, priv=8))
        # ipvs/ip_vs_conn.c:1858 dp_vs_conn_init: one dp_vs_conn_N pool per node
        _add(items, node, f"connection pool: {conn} x dp_vs_conn", _mempool(conn, CONN_ELT, conn_cache))
        if values["redirect"]:
            # ipvs/ip_vs_redirect.c:279 dp_vs_redirect_cache_alloc: as many as connections
            _add(items, node, f"redirect pool: {conn} x dp_vs_redirect", _mempool(conn, REDIRECT_ELT, conn_cache))
        # ipvs/ip_vs_synproxy.c:160 dp_vs_synproxy_init: a fixed 2^20-1 saved-ACK pool per node
        ack = _mempool(SYNPROXY_ACK_POOL, SYNPROXY_ACK_ELT, 256)
        _add(items, node, f"synproxy ACK pool: {SYNPROXY_ACK_POOL} (fixed)", ack)
        # ipset/ipset_hash.c:359 ipset_hash_init: 262143 entries whatever ipset_hash_pool_size says
        ipset = _mempool(IPSET_HASH_POOL, IPSET_HASH_ELT, 256)
        _add(items, node, f"ipset hash pool: {IPSET_HASH_POOL} (fixed)", ipset)
        # tc/tc.c:340 tc_init: one tc_mbuf per packet mbuf
        _add(items, node, f"tc mbuf pool: {pkt} x tc_mbuf", _mempool(pkt, TC_MBUF_ELT, pkt_cache))


def _master_terms(items, values, place):
    """What the master lcore allocates for everyone (on its node, SOCKET_ID_ANY / rte_socket_id())."""
    node = place["master"]
    # ctrl.c:1085 msg_init: dpvs_mempool "mp_msg" 64 B..128 KiB, 2 MiB each (12 rte_mempools)
    _add(items, node, "lcore message pools (mp_msg)", _dpvs_mempool(32, 131072, 2048))
    # neigh.c:1185 neigh_init: dpvs_mempool "neigh_mempool" 64..256 B, 1 MiB each
    _add(items, node, "neighbour message pools", _dpvs_mempool(32, 256, 1024))
    # ctrl.c:1104 (ring_size slots) and netif.c:2568 (2048 slots): a ring for EVERY lcore slot
    rings = DPVS_MAX_LCORE * (_ring(values["msg_ring_size"]) + _ring(2048))
    _add(items, node, f"message and ARP rings: {DPVS_MAX_LCORE} lcore slots", rings)
    # ipvs/ip_vs_conn.c:1829 template table; timer.c:456 the global timer (2 levels)
    _add(items, node, "connection template table and global timer", _heap(CONN_TABLE) + 2 * _heap(TIMER_LEVEL))
    if values["redirect"]:
        slaves = len(place["slaves"])
        # ipvs/ip_vs_redirect.c:317 the redirect hash table; :372 a 2048-slot ring per worker pair
        _add(items, node, "redirect table and rings", _heap(CONN_TABLE) + slaves * (slaves - 1) * _ring(2048))
    if values["log_async"]:
        pool = values["log_pool_size"]
        # log.c:352 log_slave_init: the async log pool is created on socket 0; log.c:344 its ring
        _add(items, 0, f"async log pool: {pool} x 1024 B", _mempool(pool, 1024, 64) + _ring(4096))
    _add(items, node, "EAL and small DPVS structures", SMALL_MASTER)


def _lcore_terms(items, values, place):
    """Tables every EAL lcore (master and workers) allocates on its own node."""
    frag = FRAG_PKT * _pow2_ceil(values["bucket_number"]) * values["bucket_entries"] * 2
    for worker, node in place["lcores"]:
        label = worker["label"]
        # ipv4_frag.c:407 ipv4_frag_init -> rte_ip_frag_table_create (ip_frag/rte_ip_frag_common.c:61)
        _add(items, node, f"ipv4 reassembly table of {label}", _heap(128 + frag))
        # ipvs/ip_vs_blklst.c:473 and ipvs/ip_vs_whtlst.c:536: per lcore (CALL_MAIN)
        _add(items, node, f"blocklist and allowlist tables of {label}", 2 * (_heap(LIST_TABLE) + _heap(4096)))
        if values["route6_method"] == "lpm":
            _add(items, node, f"IPv6 LPM of {label}", _lpm6(values))
        if worker["type"] == "master":
            continue
        # timer.c:445 dpvs_timer_init: a 2-level timer wheel per EAL worker lcore
        _add(items, node, f"timer wheel of {label}", 2 * _heap(TIMER_LEVEL))
        if worker["type"] == "slave":
            # ipvs/ip_vs_conn.c:1206 conn_init_lcore: per forwarding worker
            _add(items, node, f"connection table of {label}", _heap(CONN_TABLE))


def _lpm6(values):
    """ipv6/route6_lpm.c:166-183 rt6_setup_lcore: rt6_array, rt6_hash and rte_lpm6_create
    (lpm/rte_lpm6.c:259-283: tbl24, tbl8 groups of 256 entries, the tbl8 pool and headers)."""
    tbl8s = values["lpm6_num_tbl8s"]
    return (
        _heap(LPM6_TBL24 + tbl8s * 256 * 4 + 4096)
        + _heap(tbl8s * 4)
        + _heap(tbl8s * 12)
        + _heap(values["lpm6_max_rules"] * 8 + 64)
        + _heap(values["rt6_hash_bucket"] * 16)
        + _heap(values["lpm6_max_rules"] * 128)
    )


def _runtime_terms(items, values, place, lip_count, service_count):
    """What LIPs and services add after start."""
    slaves = place["slaves"]
    if lip_count and slaves:
        shift = max(len(slaves) - 1, 0).bit_length()  # sa_pool.c:723: mask bits for the workers
        hash_size = values["pool_hash_size"]
        per = _heap(SA_ENTRY_POOL * hash_size + SA_ENTRY * (SA_PORTS >> shift) * hash_size)
        for node in sorted(set(slaves)):
            count = slaves.count(node)
            # sa_pool.c:104 sa_pool_alloc_hash, on the worker that owns the LIP's ports
            _add(items, node, f"sa_pool: {lip_count} LIP(s) x {count} worker(s)", lip_count * count * per)
    if service_count:
        for worker, node in place["lcores"]:
            _add(items, node, f"{service_count} services on {worker['label']}", service_count * SERVICE_BYTES)
        _add(items, place["master"], f"{service_count} services (measured rest)", service_count * SERVICE_MEASURED)


def _port_terms(items, values, place):
    """Per port, on the port's node: the PMD's DMA rings and the KNI virtio-user port."""
    busy = {node for _worker, node in place["lcores"]} | set(place["ports"].values())
    for device in values["devices"]:
        node = place["ports"].get(device["name"], 0)
        rings = device["queues"] * QUEUE_DMA + device["rings"] * DESC_BYTES
        _add(items, node, f"{device['name']} descriptor rings", rings)
        if values["kni"]:
            _add(items, node, f"{device['name']} KNI (virtio-user)", KNI_PORT)
    for node in sorted(busy - {place["master"]}):
        _add(items, node, "small per-lcore and per-port structures", SMALL_NODE)


def compare(need, host):
    """Per node: the need of :func:`need` against the host's hugepages.

    ``host``: the dpvs_host_view shape of host_info facts, ``numa_nodes[node].hugepages["2048kB"] = {"nr", "free"}``.
    Returns ``[{"node", "need_mib", "need_pages_2m", "free_mib", "reserved_mib", "fits_free",
    "fits_reserved"}]``: a DPVS that is not running needs ``free``; a running one holds its pages
    already, so then ``reserved`` (nr_hugepages) is the measure."""
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
                "need_pages_2m": -(-amount // PAGE),
                "free_mib": free // MIB,
                "reserved_mib": reserved // MIB,
                "fits_free": free >= amount,
                "fits_reserved": reserved >= amount,
            }
        )
    return out
