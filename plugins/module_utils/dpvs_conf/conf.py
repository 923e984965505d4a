# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dpvs.conf: the keyword schema of DPVS v1.10.2, a parser, a validator, a change classifier.

Standard library only: the ``dpvs`` role copies this file to the DPVS host and runs it as the
``validate:`` command of the dpvs.conf template task::

    python3 _dpvs_conf.py --strict --version 1.10.2 /etc/dpvs.conf

Sources (see docs/dpvs_conf.md): the keyword list and the ``<init>``/``<normal>`` kinds are
``conf/dpvs.conf.items`` of DPVS v1.10.2 as summarised in the transcripts README section 4; the
value ranges are the ``<default, range>`` notes of ``conf/dpvs.conf.items``.

Syntax (DPVS's keepalived-derived parser): nested ``keyword args {`` ... ``}`` blocks; ``!`` and
``#`` start a comment; ``<...>`` is an inline comment, so ``<init>`` is documentation for the
reader (DPVS knows the kind of each keyword from its own code). The validator checks a marker
when there is one and, with ``strict``, that every init-only keyword outside an init block
carries it (the generated files always do).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import sys

INIT = "init"
NORMAL = "normal"

# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------
# Each keyword: {"kind", "type", ...}. Types:
#   int (min, max), onoff, flag (no value), enum (choices), str, ints (a list of ints),
#   block (children), named (a block with one NAME argument: device/bonding/worker/port).
# "since": the first DPVS version with the keyword; "repeat": may appear more than once.
INT_MAX = 2147483647
LOG_LEVELS = ("EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG")
RSS_TYPES = ("all", "ip", "tcp", "udp", "sctp", "ether", "port", "tunnel")
MAX_QUEUES = 16  # NETIF_MAX_QUEUES: queue_number <16, 0-16> in dpvs.conf.items
MAX_LCORES = 64  # DPVS_MAX_LCORE; sa_pool keeps a 64-bit lcore mask
# the state names of ipvs_defs' timeout blocks and of tcp's conn_reuse_state, in DPVS's order
UDP_TIMEOUTS = ("oneway", "normal", "last")
TCP_TIMEOUTS = (
    "none",
    "established",
    "syn_sent",
    "syn_recv",
    "fin_wait",
    "time_wait",
    "close",
    "close_wait",
    "last_ack",
    "listen",
    "synack",
    "last",
)
REUSE_STATES = ("close", "time_wait", "fin_wait", "close_wait", "last_ack")


def _int(kind, low, high, **extra):
    return dict(kind=kind, type="int", min=low, max=high, **extra)


def _onoff(kind, **extra):
    return dict(kind=kind, type="onoff", **extra)


def _flag(kind, **extra):
    return dict(kind=kind, type="flag", **extra)


def _enum(kind, choices, **extra):
    return dict(kind=kind, type="enum", choices=tuple(choices), **extra)


def _str(kind, **extra):
    return dict(kind=kind, type="str", **extra)


def _ints(kind, low, high):
    return dict(kind=kind, type="ints", min=low, max=high)


def _block(kind, children, named=False, **extra):
    return dict(kind=kind, type="named" if named else "block", children=children, **extra)


TIMEOUT = (1, 31535999)

DEVICE = _block(
    INIT,
    {
        "rx": _block(
            INIT,
            {
                "queue_number": _int(INIT, 0, MAX_QUEUES),
                "descriptor_number": _int(INIT, 16, 8192),
                "rss": _enum(INIT, RSS_TYPES),
            },
        ),
        "tx": _block(
            INIT,
            {
                "queue_number": _int(INIT, 0, MAX_QUEUES),
                "descriptor_number": _int(INIT, 16, 8192),
                "mbuf_fast_free": _onoff(INIT, since=(1, 10, 0)),
            },
        ),
        "mtu": _int(INIT, 0, 9000),
        "promisc_mode": _flag(INIT),
        "allmulticast": _flag(INIT),
        "kni_name": _str(INIT),
    },
    named=True,
)

BONDING = _block(
    INIT,
    {
        "mode": _int(INIT, 0, 6),
        "slave": _str(INIT, repeat=True),
        "primary": _str(INIT),
        "numa_node": _int(INIT, 0, 7),
        "kni_name": _str(INIT),
        "options": _str(INIT),
    },
    named=True,
)

WORKER = _block(
    INIT,
    {
        "type": _enum(INIT, ("master", "slave", "kni")),
        "cpu_id": _int(INIT, 0, MAX_LCORES - 1),
        "icmp_redirect_core": _flag(INIT),
        "port": _block(
            INIT,
            {
                "rx_queue_ids": _ints(INIT, 0, MAX_QUEUES - 1),
                "tx_queue_ids": _ints(INIT, 0, MAX_QUEUES - 1),
                "isol_rx_cpu_ids": _ints(INIT, 0, MAX_LCORES - 1),
                "isol_rxq_ring_sz": _int(INIT, 1024, INT_MAX),
            },
            named=True,
        ),
    },
    named=True,
)

SCHEMA = {
    "global_defs": _block(
        NORMAL,
        {
            "log_level": _enum(NORMAL, LOG_LEVELS),
            "log_file": _str(NORMAL),
            "log_with_timestamp": _onoff(NORMAL),
            "log_async_mode": _onoff(INIT),
            "log_async_pool_size": _int(INIT, 1023, INT_MAX),
            "pdump": _onoff(INIT),
            "kni": _onoff(INIT, since=(1, 9, 4)),
            "lldp": _onoff(NORMAL),
        },
    ),
    "netif_defs": _block(
        NORMAL,
        {
            "pktpool_size": _int(INIT, 1023, 134217728),
            "pktpool_cache": _int(INIT, 32, 8192),
            "fdir_mode": _enum(INIT, ("perfect", "signature")),
            "device": DEVICE,
            "bonding": BONDING,
        },
    ),
    "worker_defs": _block(NORMAL, {"worker": WORKER}),
    "timer_defs": _block(NORMAL, {"schedule_interval": _int(NORMAL, 1, 10000000)}),
    "neigh_defs": _block(
        NORMAL,
        {"unres_queue_length": _int(INIT, 16, 8192), "timeout": _int(NORMAL, 1, 3600)},
    ),
    "ipset_defs": _block(NORMAL, {"ipset_hash_pool_size": _int(INIT, 65536, 524288)}),
    "ipv4_defs": _block(
        NORMAL,
        {
            "forwarding": _onoff(NORMAL),
            "default_ttl": _int(INIT, 0, 255),
            "fragment": _block(
                INIT,
                {
                    "bucket_number": _int(INIT, 32, 65536),
                    "bucket_entries": _int(INIT, 1, 256),
                    "max_entries": _int(INIT, 1, INT_MAX),
                    "ttl": _int(INIT, 1, 255),
                },
            ),
        },
    ),
    "ipv6_defs": _block(
        NORMAL,
        {
            "disable": _onoff(NORMAL),
            "forwarding": _onoff(NORMAL),
            "addr_gen_mode": _enum(NORMAL, ("eui64", "none", "stable-privacy", "random")),
            "stable_secret": _str(NORMAL),
            "route6": _block(
                NORMAL,
                {
                    "method": _enum(INIT, ("hlist", "lpm")),
                    "recycle_time": _int(NORMAL, 1, 36000),
                    "lpm": _block(
                        NORMAL,
                        {
                            "lpm6_max_rules": _int(INIT, 16, INT_MAX),
                            "lpm6_num_tbl8s": _int(INIT, 16, INT_MAX),
                            "rt6_hash_bucket": _int(INIT, 2, INT_MAX),
                        },
                    ),
                },
            ),
        },
    ),
    "ctrl_defs": _block(
        NORMAL,
        {
            "lcore_msg": _block(
                NORMAL,
                {
                    "ring_size": _int(INIT, 256, 524288),
                    "sync_msg_timeout_us": _int(NORMAL, 1, INT_MAX),
                    "priority_level": _enum(NORMAL, ("low", "norm", "high", "ign")),
                },
            )
        },
    ),
    "ipvs_defs": _block(
        NORMAL,
        {
            "conn": _block(
                NORMAL,
                {
                    "conn_pool_size": _int(INIT, 65536, INT_MAX),
                    "conn_pool_cache": _int(INIT, 1, INT_MAX),
                    "conn_init_timeout": _int(NORMAL, *TIMEOUT),
                    "expire_quiescent_template": _flag(NORMAL),
                    "fast_xmit_close": _flag(INIT),
                    "redirect": _onoff(INIT),
                },
            ),
            "udp": _block(
                NORMAL,
                {
                    "defence_udp_drop": _flag(NORMAL),
                    "uoa_mode": _enum(NORMAL, ("opp", "ipo")),
                    "uoa_max_trail": _int(NORMAL, 0, 255),
                    "timeout": _block(NORMAL, {name: _int(NORMAL, *TIMEOUT) for name in UDP_TIMEOUTS}),
                },
            ),
            "tcp": _block(
                NORMAL,
                {
                    "defence_tcp_drop": _flag(NORMAL),
                    "timeout": _block(
                        NORMAL,
                        {name: _int(NORMAL, *TIMEOUT) for name in TCP_TIMEOUTS},
                    ),
                    "synproxy": _block(
                        NORMAL,
                        {
                            "synack_options": _block(
                                NORMAL,
                                {
                                    "mss": _int(NORMAL, 1, 65535),
                                    "ttl": _int(NORMAL, 1, 255),
                                    "sack": _flag(NORMAL),
                                    "wscale": _int(NORMAL, 0, 14),
                                    "timestamp": _flag(NORMAL),
                                },
                            ),
                            "close_client_window": _flag(NORMAL),
                            "defer_rs_syn": _flag(NORMAL),
                            "rs_syn_max_retry": _int(NORMAL, 1, 99),
                            "ack_storm_thresh": _int(NORMAL, 1, 999),
                            "max_ack_saved": _int(NORMAL, 1, 63),
                            "conn_reuse_state": _block(
                                NORMAL,
                                {name: _flag(NORMAL) for name in REUSE_STATES},
                            ),
                        },
                    ),
                },
            ),
        },
    ),
    "sa_pool": _block(
        NORMAL,
        {"pool_hash_size": _int(INIT, 1, 128), "flow_enable": _onoff(INIT)},
    ),
}


def parse_version(text):
    """``"1.10.2"`` / ``"v1.10.2"`` / ``"1.10-2"`` (dpvs -v) -> ``(1, 10, 2)``; ValueError otherwise."""
    raw = str(text).strip().lstrip("vV").replace("-", ".")
    parts = raw.split(".")
    if not 2 <= len(parts) <= 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"not a DPVS version: {text!r} (expected like 1.10.2)")
    numbers = [int(part) for part in parts]
    while len(numbers) < 3:
        numbers.append(0)
    return tuple(numbers)


def lookup(path):
    """The schema entry of a keyword path like ``("ipvs_defs", "conn", "redirect")`` (named
    blocks without their names), or None."""
    children = SCHEMA
    entry = None
    for part in path:
        if children is None or part not in children:
            return None
        entry = children[part]
        children = entry.get("children")
    return entry


def kind_of(path):
    """``init`` when the keyword or any block around it is init-only, else ``normal``."""
    children = SCHEMA
    kind = NORMAL
    for part in path:
        entry = (children or {}).get(part)
        if entry is None:
            return None
        if entry["kind"] == INIT:
            kind = INIT
        children = entry.get("children")
    return kind


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------


class ConfError(ValueError):
    """A dpvs.conf the validator rejects; ``problems`` lists every finding."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(ConfError, self).__init__("; ".join(self.problems))


class Node:
    """One statement: ``keyword args`` or ``keyword args { children }``."""

    __slots__ = ("args", "children", "keyword", "line", "marker")

    def __init__(self, keyword, args, marker, line):
        self.keyword = keyword
        self.args = args
        self.marker = marker
        self.line = line
        self.children = None

    def label(self):
        return " ".join([self.keyword, *self.args])

    def to_data(self):
        """Plain data (for tests and comparisons): [keyword, args, marker, children|None]."""
        children = None if self.children is None else [child.to_data() for child in self.children]
        return [self.keyword, list(self.args), self.marker, children]


def _tokens(line):
    """Tokens of one line: words, quoted strings (unquoted), ``{``, ``}`` and markers.

    ``!``/``#`` at a token start ends the line; ``<...>`` is a comment, returned as
    ``("marker", text)`` so that ``<init>`` can be checked."""
    out = []
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        if ch.isspace():
            i += 1
        elif ch in "!#":
            break
        elif ch in "{}":
            out.append(("brace", ch))
            i += 1
        elif ch == "<":
            end = line.find(">", i)
            if end < 0:
                raise ValueError("'<' without '>'")
            out.append(("marker", line[i + 1 : end].strip()))
            i = end + 1
        elif ch == '"':
            end = line.find('"', i + 1)
            if end < 0:
                raise ValueError("unterminated quote")
            out.append(("word", line[i + 1 : end]))
            i = end + 1
        else:
            j = i
            while j < n and not line[j].isspace() and line[j] not in '{}"<':
                j += 1
            out.append(("word", line[i:j]))
            i = j
    return out


def parse(text):
    """dpvs.conf text -> list of top-level :class:`Node`; raises :class:`ConfError` on syntax
    errors (unbalanced braces, a block without a keyword, ...)."""
    root = []
    stack = [root]
    owners = []
    problems = []
    for lineno, line in enumerate((text or "").splitlines(), 1):
        try:
            tokens = _tokens(line)
        except ValueError as exc:
            problems.append(f"line {lineno}: {exc}")
            continue
        _parse_line(tokens, lineno, stack, owners, problems)
    for owner in owners:
        problems.append(f"line {owner.line}: block '{owner.label()}' is never closed")
    if problems:
        raise ConfError(problems)
    return root


def _parse_line(tokens, lineno, stack, owners, problems):
    """Add the statements of one line to the open block ``stack[-1]``; ``{``/``}`` open and
    close blocks (``owners``: the nodes of the open blocks)."""
    marker = None
    current = None
    for kind, value in tokens:
        if kind == "marker":
            if value in (INIT, NORMAL) and current is None:
                marker = value
        elif kind == "brace" and value == "{":
            if current is None or current.children is not None:
                problems.append(f"line {lineno}: '{{' without a keyword before it")
                continue
            current.children = []
            stack.append(current.children)
            owners.append(current)
            current = None
        elif kind == "brace":
            if len(stack) == 1:
                problems.append(f"line {lineno}: '}}' without an open block")
            else:
                stack.pop()
                owners.pop()
            current = None
        elif current is None:
            current = Node(value, [], marker, lineno)
            marker = None
            stack[-1].append(current)
        else:
            current.args.append(value)


# --------------------------------------------------------------------------------------------
# Validator
# --------------------------------------------------------------------------------------------


def _int_problem(value, entry):
    if not value.isdigit() or not entry["min"] <= int(value) <= entry["max"]:
        return f"{value!r} is not a number {entry['min']}..{entry['max']}"
    return None


def _onoff_problem(value, entry):
    return None if value in ("on", "off") else f"{value!r} must be on or off"


def _enum_problem(value, entry):
    return None if value in entry["choices"] else f"{value!r} must be one of {', '.join(entry['choices'])}"


def _str_problem(value, entry):
    return "empty value" if value == "" else None


# the check of a one-value keyword by schema type: the problem with ``value``, or None
VALUE_PROBLEMS = {"int": _int_problem, "onoff": _onoff_problem, "enum": _enum_problem, "str": _str_problem}


def _check_value(node, entry, where, problems):
    """Problems of one statement's arguments (and block) against its schema entry."""
    vtype = entry["type"]
    args = node.args
    if vtype in ("block", "named"):
        _check_block(node, vtype, where, problems)
        return
    if node.children is not None:
        problems.append(f"{where}: is not a block")
    if vtype == "flag":
        if args:
            problems.append(f"{where}: takes no value (got {' '.join(args)})")
        return
    if vtype == "ints":
        if not args:
            problems.append(f"{where}: needs at least one number")
        found = (_int_problem(arg, entry) for arg in args)
        problems.extend(f"{where}: {problem}" for problem in found if problem)
        return
    if len(args) != 1:
        problems.append(f"{where}: expects one value (got {len(args)}: {' '.join(args)})")
        return
    check = VALUE_PROBLEMS.get(vtype)
    problem = check(args[0], entry) if check else None
    if problem:
        problems.append(f"{where}: {problem}")


def _check_block(node, vtype, where, problems):
    """A block takes no argument (a named one: its name) and must have a ``{ body }``."""
    want = 1 if vtype == "named" else 0
    if len(node.args) != want:
        problems.append(f"{where}: expects {'a name' if want else 'no argument'} (got {node.args})")
    if node.children is None:
        problems.append(f"{where}: expects a {{ block }}")


def _walk(nodes, children, path, in_init, strict, version, problems):
    seen = {}
    for node in nodes:
        names = [
            *path,
            node.label() if node.keyword in children and children[node.keyword]["type"] == "named" else node.keyword,
        ]
        where = "/".join(names) + f" (line {node.line})"
        entry = children.get(node.keyword)
        if entry is None:
            known = ", ".join(sorted(children))
            problems.append(f"{where}: unknown keyword '{node.keyword}' here (known: {known})")
            continue
        since = entry.get("since")
        if since and version is not None and version < since:
            problems.append(f"{where}: needs DPVS {'.'.join(map(str, since))} or later")
        key = node.label() if entry["type"] == "named" else node.keyword
        if key in seen and not entry.get("repeat"):
            problems.append(f"{where}: given twice (also line {seen[key]})")
        seen.setdefault(key, node.line)
        if node.marker is not None and node.marker != entry["kind"]:
            problems.append(f"{where}: marked <{node.marker}> but DPVS treats it as <{entry['kind']}>")
        leaf = entry["type"] not in ("block", "named")
        if strict and leaf and entry["kind"] == INIT and not in_init and node.marker != INIT:
            problems.append(f"{where}: init-only keyword without its <init> marker")
        _check_value(node, entry, where, problems)
        if node.children is not None and entry.get("children") is not None:
            _walk(
                node.children,
                entry["children"],
                names,
                in_init or node.marker == INIT,
                strict,
                version,
                problems,
            )


def find(nodes, *path):
    """The nodes at a keyword path below ``nodes`` (named blocks matched by keyword only)."""
    found = [node for node in nodes if node.keyword == path[0]]
    for part in path[1:]:
        found = [child for node in found for child in (node.children or []) if child.keyword == part]
    return found


def value_of(nodes, *path, default=None):
    """The single value of a keyword path, or ``default``; flags give True."""
    hits = find(nodes, *path)
    if not hits:
        return default
    node = hits[-1]
    if not node.args:
        return True
    return node.args[0]


def _int_or(text, default):
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def _semantics(tree, problems):
    """Cross-keyword rules DPVS enforces at start (or that make it misbehave)."""
    devices = find(tree, "netif_defs", "device")
    bonds = find(tree, "netif_defs", "bonding")
    names = [node.args[0] for node in devices + bonds if node.args]
    if not devices and not bonds:
        problems.append("netif_defs: no device: DPVS needs at least one port")
    assigned, slaves = _check_workers(find(tree, "worker_defs", "worker"), names, problems)
    for device in devices:
        _check_device_queues(device, assigned, problems)
    _check_flow(tree, slaves, problems)
    _check_rounding(tree, problems)


def _check_workers(workers, names, problems):
    """Check the workers; return the queues they poll, ``{device: {"rx": [(queue id, worker
    label)], "tx": [...]}}``, and the number of slaves."""
    masters = [w for w in workers if value_of(w.children or [], "type") == "master"]
    if len(masters) != 1:
        problems.append(
            "worker_defs: exactly one worker must be 'type master' (found {}: {})".format(
                len(masters), ", ".join(w.label() for w in masters) or "none"
            )
        )
    cpu_ids = {}
    redirect_cores = []
    assigned = {name: {"rx": [], "tx": []} for name in names}
    slaves = 0
    for worker in workers:
        label = worker.label()
        wtype = _check_worker(worker, cpu_ids, redirect_cores, problems)
        ports = [node for node in worker.children or [] if node.keyword == "port"]
        if wtype == "master" and ports:
            problems.append(f"worker_defs/{label}: the master worker polls no port (remove its port blocks)")
        if wtype == "slave":
            slaves += 1
            if not ports:
                problems.append(f"worker_defs/{label}: a slave worker without any port")
        _assign_queues(label, ports, assigned, names, problems)
    if len(redirect_cores) > 1:
        problems.append(f"worker_defs: icmp_redirect_core on more than one worker ({', '.join(redirect_cores)})")
    return assigned, slaves


def _check_worker(worker, cpu_ids, redirect_cores, problems):
    """Check one worker's type, cpu_id (unique, matching its name) and icmp_redirect_core;
    return its type."""
    body = worker.children or []
    wtype = value_of(body, "type")
    cpu = value_of(body, "cpu_id")
    label = worker.label()
    if wtype is None:
        problems.append(f"worker_defs/{label}: no 'type'")
    if cpu is None:
        problems.append(f"worker_defs/{label}: no 'cpu_id'")
    elif cpu in cpu_ids:
        problems.append(f"worker_defs/{label}: cpu_id {cpu} is also used by {cpu_ids[cpu]}")
    else:
        cpu_ids[cpu] = label
        if worker.args and worker.args[0] != f"cpu{cpu}":
            problems.append(f"worker_defs/{label}: named {worker.args[0]} but cpu_id is {cpu} (name it cpu{cpu})")
    if value_of(body, "icmp_redirect_core"):
        redirect_cores.append(label)
        if wtype != "slave":
            problems.append(f"worker_defs/{label}: icmp_redirect_core belongs on a slave worker")
    return wtype


def _assign_queues(label, ports, assigned, names, problems):
    """Record the rx/tx queue ids of worker ``label``'s port blocks in ``assigned``."""
    for port in ports:
        pname = port.args[0] if port.args else "?"
        if pname not in assigned:
            problems.append(
                f"worker_defs/{label}/port {pname}: no such device in netif_defs "
                f"(devices: {', '.join(names) or 'none'})"
            )
            continue
        for way in ("rx", "tx"):
            for node in find(port.children or [], f"{way}_queue_ids"):
                assigned[pname][way].extend((_int_or(arg, -1), label) for arg in node.args)


def _check_device_queues(device, assigned, problems):
    """Each queue of the device polled by exactly one worker, ids 0..queue_number-1."""
    name = device.args[0] if device.args else "?"
    body = device.children or []
    for way in ("rx", "tx"):
        number = _int_or(value_of(body, way, "queue_number"), None)
        if number is None:
            problems.append(f"netif_defs/device {name}: no {way} queue_number")
            continue
        owners = {}
        for qid, owner in assigned.get(name, {}).get(way, []):
            if qid in owners:
                problems.append(
                    f"device {name}: {way} queue {qid} is given to {owners[qid]} and to {owner} (one queue, one worker)"
                )
            owners.setdefault(qid, owner)
        if sorted(owners) != list(range(number)):
            problems.append(
                "device {}: {} queue ids of the workers are {} but queue_number is {}: the ids must start "
                "at 0 and be contiguous, one per queue".format(name, way, sorted(owners) or "none", number)
            )


def _check_flow(tree, slaves, problems):
    """sa_pool without rte_flow: one worker, or redirect on (the transcripts README section 4)."""
    flow = value_of(tree, "sa_pool", "flow_enable", default="on")
    redirect = value_of(tree, "ipvs_defs", "conn", "redirect", default="off")
    if flow == "off" and slaves > 1 and redirect != "on":
        problems.append(
            f"sa_pool flow_enable off with {slaves} slave workers needs ipvs_defs/conn/redirect on: without flow "
            "rules a FullNAT reply reaches a worker that does not own the connection"
        )


def _check_rounding(tree, problems):
    """Sizes DPVS rounds at start: a generator should emit what DPVS will use."""
    pktpool = _int_or(value_of(tree, "netif_defs", "pktpool_size"), None)
    if pktpool is not None and (pktpool + 1) & pktpool:
        problems.append(f"netif_defs/pktpool_size: {pktpool} is not 2^n-1 (DPVS rounds it; use e.g. 65535)")
    entries = _int_or(value_of(tree, "ipv4_defs", "fragment", "bucket_entries"), None)
    buckets = _int_or(value_of(tree, "ipv4_defs", "fragment", "bucket_number"), None)
    maximum = _int_or(value_of(tree, "ipv4_defs", "fragment", "max_entries"), None)
    if entries is not None and entries & (entries - 1):
        problems.append(f"ipv4_defs/fragment/bucket_entries: {entries} is not a power of 2 (DPVS rounds it down)")
    if None not in (entries, buckets, maximum) and maximum > buckets * entries:
        problems.append(
            f"ipv4_defs/fragment/max_entries: {maximum} exceeds bucket_number * bucket_entries = {buckets * entries} "
            "(DPVS replaces it with half of that)"
        )


def validate(text, strict=False, version=None):
    """Check a dpvs.conf. Returns the parsed tree; raises :class:`ConfError` listing every problem.

    ``strict``: an init-only keyword must carry ``<init>`` unless a block around it does
    (generated files; the lab file of the transcripts passes).
    ``version``: a tuple like ``(1, 10, 2)``; keywords newer than it are refused.
    """
    tree = parse(text)
    problems = []
    for node in tree:
        entry = SCHEMA.get(node.keyword)
        where = f"{node.keyword} (line {node.line})"
        if entry is None:
            problems.append(f"{where}: unknown section (known: {', '.join(SCHEMA)})")
            continue
        if node.children is None:
            problems.append(f"{where}: a section must be a {{ block }}")
            continue
        if node.args:
            problems.append(f"{where}: a section takes no argument")
    seen = {}
    for node in tree:
        if node.keyword in seen:
            problems.append(f"{node.keyword} (line {node.line}): section given twice (also line {seen[node.keyword]})")
        seen.setdefault(node.keyword, node.line)
    _walk(
        [node for node in tree if node.keyword in SCHEMA and node.children is not None],
        SCHEMA,
        [],
        False,
        strict,
        version,
        problems,
    )
    if not problems:
        _semantics(tree, problems)
    if problems:
        raise ConfError(problems)
    return tree


# --------------------------------------------------------------------------------------------
# Change classification
# --------------------------------------------------------------------------------------------


def flatten(tree):
    """``{("netif_defs", "device dpdk0", "rx", "queue_number"): ("2",), ...}``: every leaf with
    its arguments (flags: ``()``), blocks keyed with their names."""
    out = {}

    def walk(nodes, path, schema_path):
        for node in nodes:
            entry = lookup([*schema_path, node.keyword])
            named = entry is not None and entry["type"] == "named"
            key = [*path, node.label() if named else node.keyword]
            if node.children is not None:
                out[tuple(key)] = ("{block}",)
                walk(node.children, key, [*schema_path, node.keyword])
            else:
                out[tuple(key)] = tuple(node.args)

    walk(tree, [], [])
    return out


def _schema_path(key):
    return [part.split(" ", 1)[0] for part in key]


def classify_changes(old_text, new_text, new_tree=None):
    """What a move from ``old_text`` to ``new_text`` needs.

    Returns ``{"init": [...], "normal": [...], "new": bool}``: each item a line like
    ``ipvs_defs/conn/conn_pool_size: 65536 -> 131072``; ``new`` when there is no old file.
    ``init`` changes need a DPVS restart; ``normal`` ones a reload (SIGHUP). ``new_tree``: the
    parsed form of ``new_text`` when the caller has it (``build.render`` writes both).
    """
    result = {"init": [], "normal": [], "new": not (old_text or "").strip()}
    if result["new"]:
        return result
    try:
        old = flatten(parse(old_text))
    except ConfError:
        old = {}
        result["init"].append("the current file does not parse: treated as an init change")
    new = flatten(parse(new_text) if new_tree is None else new_tree)
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        # a block appearing or going away counts once, through its leaves
        if "{block}" in ((before or ()) + (after or ())):
            if before is None or after is None:
                kind = kind_of(_schema_path(key)) or INIT
                if kind == INIT and lookup(_schema_path(key)) is not None:
                    result[kind].append("{}: {}".format("/".join(key), "added" if before is None else "removed"))
            continue
        kind = kind_of(_schema_path(key)) or INIT
        text = "{}: {} -> {}".format(
            "/".join(key),
            " ".join(before) if before is not None else "(absent)",
            " ".join(after) if after is not None else "(absent)",
        )
        result[kind].append(text)
    return result


# --------------------------------------------------------------------------------------------
# Command line (the role's `validate:`)
# --------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check a DPVS dpvs.conf (keywords, values, workers and queues).")
    parser.add_argument("file")
    parser.add_argument("--strict", action="store_true", help="require <init> markers (generated files)")
    parser.add_argument("--version", default=None, help="DPVS version the file is for, e.g. 1.10.2")
    args = parser.parse_args(argv)
    try:
        version = parse_version(args.version) if args.version else None
        with open(args.file, encoding="utf-8") as handle:
            validate(handle.read(), strict=args.strict, version=version)
    except ConfError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{args.file}: {problem}\n")
        return 1
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"{args.file}: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
