# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hugepage pools per NUMA node and page size: validate, plan, apply, read back.

The pools are a runtime table in sysfs (``nr_hugepages`` of
``/sys/devices/system/node/nodeN/hugepages/hugepages-<kB>kB`` per node, of
``/sys/kernel/mm/hugepages/hugepages-<kB>kB`` for the whole host). One path for every run, the
converge core's (:class:`HugepageTable` run by ``converge.core.converge``): **validate all input ->
read the pools once -> plan (the counts that differ) -> write unless check mode -> read back**.
The kernel allocates what it can: a write of 600 may leave 412 pages when memory is fragmented or
short, so the read-back is what counts (a shortfall is the table not converging).

Everything is read through :class:`HugepageFS` (a :class:`_host_facts.SysFS` that can also write)
below a configurable root, so the unit tests run on a fake sysfs tree in a temporary directory.
The readers are the facts collector's (:mod:`_host_facts`), not copies.

:func:`boot_main` is the boot-time job of ``dpvs-hugepages.service`` (``dpvs-cluster hugepages
CONFIG [SYSFS_ROOT]``): it writes the counts of the hugepages role's configuration and reads them
back, exit status 1 when the kernel gave fewer pages than asked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sys

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError, item_path, path_join
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import core, errors
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.plan import Action, Plan
from ansible_collections.dpvs.cluster.plugins.module_utils.host.facts import (
    SysFS,
    _cpu_facts,
    _hugepage_pools,
    _memory_facts,
    _numa_facts,
)

# The page sizes the collection manages, as users write them -> kB, as sysfs names them.
SIZES = {"2M": 2048, "1G": 1048576}
SIZE_NAMES = {kb: name for name, kb in SIZES.items()}
GLOBAL_BASE = "/sys/kernel/mm/hugepages"
NODE_BASE = "/sys/devices/system/node/node{node}/hugepages"


class HugepageFS(SysFS):
    """:class:`SysFS` plus the one write this needs (``nr_hugepages``)."""

    def write(self, path, text):
        with open(self._path(path), "w") as handle:
            handle.write(text)


class ShortfallError(errors.NotConvergedError):
    """The kernel allocated fewer pages than asked (or freed fewer): the read-back differs.

    ``shortfalls``: the pools short (``pages`` items); ``applied``: the writes done; ``pages``:
    every pool as read back."""

    def __init__(self, shortfalls, applied, pages):
        self.shortfalls = shortfalls
        self.applied = applied
        self.pages = pages
        parts = [_shortfall(item) for item in shortfalls]
        written = ", ".join(f"{where(w['node'])} {w['size']} {w['before']} -> {w['count']}" for w in applied)
        super(ShortfallError, self).__init__(
            "the kernel allocated fewer hugepages than asked (memory fragmented or in use): "
            + "; ".join(parts)
            + f". Written: {written or 'nothing'}. The pages it did allocate are kept.",
            parts,
            applied,
        )

    def fields(self):
        return dict(msg=self.msg, changed=bool(self.applied), pages=self.pages, applied=self.applied)


class WriteError(errors.ApplyError, OSError):
    """A write of ``nr_hugepages`` failed (an ``OSError`` too, as the write's own error was):
    ``applied`` lists the writes done before it, ``cause`` is the write's error."""

    def __init__(self, cause, applied, write):
        super(WriteError, self).__init__(
            f"writing a hugepage count failed: {cause}", applied, write, dpvs_errors=[], cause=cause
        )

    def fields(self):
        return dict(msg=self.msg, changed=bool(self.applied), applied=self.applied)


def _shortfall(item):
    return f"{where(item['node'])} size {item['size']}: asked {item['requested']}, got {item['after']}"


def where(node):
    return "system-wide" if node is None else f"node {node}"


def memory_of(node):
    return "the host" if node is None else f"node {node}"


def pool_path(node, size_kb):
    base = GLOBAL_BASE if node is None else NODE_BASE.format(node=node)
    return f"{base}/hugepages-{size_kb}kB"


def read_host(fs):
    """What validation and planning need, read with the facts collector's readers."""
    numa = _numa_facts(fs)
    memory, hugepages = _memory_facts(fs)
    cpu = _cpu_facts(fs)
    return {
        "flags": cpu["flags"],
        "sizes_kb": hugepages["sizes_kb"],
        "memory_total_kb": memory["total_kb"],
        "nodes": {node["id"]: node for node in numa["nodes"]},
        "pools": hugepages["pools"],
    }


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _entry(item, path, host):
    """One entry checked on its own (keys, size, node, count): ``(size, node, count, size_kb)``."""
    if not isinstance(item, dict):
        raise InputError(path, item, "must be a dict with size, node and count")
    unknown = sorted(set(item) - {"size", "node", "count"})
    if unknown:
        raise InputError(path, item, f"unknown key(s) {', '.join(unknown)}; expected size, node, count")
    size, node, count = item.get("size"), item.get("node"), item.get("count")
    if size not in SIZES:
        raise InputError(path_join(path, "size"), size, "must be 2M or 1G")
    size_kb = SIZES[size]
    if size_kb not in host["sizes_kb"]:
        raise InputError(
            path_join(path, "size"),
            size,
            f"the kernel offers no {size} pages here (no {GLOBAL_BASE}/hugepages-{size_kb}kB)",
        )
    if size == "1G" and host["flags"] and "pdpe1gb" not in host["flags"]:
        raise InputError(path_join(path, "size"), size, "the CPU lacks the pdpe1gb flag (no 1G pages)")
    if node is not None:
        if not _is_int(node) or node < 0:
            raise InputError(path_join(path, "node"), node, "must be a NUMA node number >= 0 (or omitted)")
        if node not in host["nodes"]:
            known = ", ".join(str(n) for n in sorted(host["nodes"])) or "none: no NUMA support"
            raise InputError(path_join(path, "node"), node, f"no such NUMA node on this host (nodes: {known})")
    if not _is_int(count) or count < 0:
        raise InputError(path_join(path, "count"), count, "must be a whole number >= 0")
    return size, node, count, size_kb


def _memory_kb(host, node):
    """The memory of ``node`` (None: the whole system) in kB; None when unknown."""
    return host["memory_total_kb"] if node is None else host["nodes"][node]["memory_total_kb"]


def _check_totals(entries, host, base):
    """All sizes together must fit each node (or the system)."""
    per_scope = {}
    for entry in entries:
        per_scope.setdefault(entry["node"], []).append(entry)
    for node, group in per_scope.items():
        total_kb = _memory_kb(host, node)
        asked_kb = sum(entry["count"] * entry["size_kb"] for entry in group)
        if total_kb is not None and asked_kb > total_kb:
            last = group[-1]
            raise InputError(
                path_join(item_path(base, last["index"]), "count"),
                last["count"],
                f"the pages asked for {memory_of(node)} ({asked_kb // 1024} MiB over all sizes) exceed its "
                f"{total_kb // 1024} MiB",
            )


def validate(pages, host, base="pages"):
    """Check every entry against the host; return ``[{index, node, size, size_kb, count}]``.

    Raises :class:`InputError` with a path such as ``pages[2].count`` for the first problem.
    """
    if not isinstance(pages, list):
        raise InputError(base, pages, "must be a list of {size, node, count}")
    entries, seen, scopes = [], {}, {}
    for index, item in enumerate(pages):
        path = item_path(base, index)
        size, node, count, size_kb = _entry(item, path, host)
        key = (node, size)
        if key in seen:
            raise InputError(path, item, f"{where(node)} size {size} is already given in {item_path(base, seen[key])}")
        seen[key] = index
        scope = "node" if node is not None else "system"
        other = scopes.setdefault(size, (scope, index))
        if other[0] != scope:
            raise InputError(
                path,
                item,
                f"size {size} is given both per node and system-wide ({item_path(base, other[1])}); "
                "the kernel spreads a system-wide count over the nodes: use one or the other",
            )
        total_kb = _memory_kb(host, node)
        if total_kb is not None and count * size_kb > total_kb:
            raise InputError(
                path_join(path, "count"),
                count,
                f"{count} pages of {size} are {count * size_kb // 1024} MiB, more than the "
                f"{total_kb // 1024} MiB of {memory_of(node)} (at most {total_kb // size_kb})",
            )
        entries.append({"index": index, "node": node, "size": size, "size_kb": size_kb, "count": count})
    _check_totals(entries, host, base)
    return entries


def read_pool(fs, node, size_kb):
    """``{"total", "free", "surplus"}`` of one pool, through the collector's reader."""
    base = GLOBAL_BASE if node is None else NODE_BASE.format(node=node)
    pools = _hugepage_pools(fs, base, with_reserved=False)
    return pools.get(str(size_kb), {"total": None, "free": None, "surplus": None})


def _label(node, size):
    return f"{'system' if node is None else f'node{node}'} {size}"


class HugepageTable(core.Table):
    """The pools the entries name, for the converge core. Input is validated against the host on
    construction (:class:`InputError` before anything is read or written).

    The live state (``read``) is one item per entry, ``{node, size, requested, before, free}``;
    the state after (``predict``, ``read_back``) adds ``after`` (and a ``free`` read again). The
    plan's actions are the ``nr_hugepages`` writes (``data``: ``{node, size, path, before,
    count}``), decreases first (what they free may serve the increases); ``commands`` are those
    write records, as ``applied`` reports them.
    """

    def __init__(self, fs, pages, allow_partial=False):
        self.fs = fs
        self.allow_partial = allow_partial
        self.entries = validate(pages, read_host(fs))

    def read(self):
        state = []
        for entry in self.entries:
            pool = read_pool(self.fs, entry["node"], entry["size_kb"])
            state.append(
                {
                    "node": entry["node"],
                    "size": entry["size"],
                    "requested": entry["count"],
                    "before": pool["total"],
                    "free": pool["free"],
                }
            )
        return state

    def plan(self, live):
        writes = [
            {
                "node": entry["node"],
                "size": entry["size"],
                "path": pool_path(entry["node"], entry["size_kb"]) + "/nr_hugepages",
                "before": item["before"],
                "count": entry["count"],
            }
            for entry, item in zip(self.entries, live)
            if item["before"] != entry["count"]
        ]
        writes.sort(key=lambda w: w["before"] is not None and w["count"] > w["before"])
        actions = [
            Action(
                [],
                f"{where(w['node'])} {w['size']} {w['before']} -> {w['count']}",
                tool="sysfs",
                op="write",
                data=w,
            )
            for w in writes
        ]
        return Plan(actions, live=live)

    def planned(self, plan):
        return [action.data for action in plan]

    def apply(self, plan):
        applied = []
        for action in plan:
            write = action.data
            try:
                self.fs.write(write["path"], str(write["count"]))
            except OSError as exc:
                raise WriteError(exc, applied, write) from exc
            applied.append(write)
        return applied

    def predict(self, live, plan):
        # the count asked for; free stays the value read
        return [dict(item, after=item["requested"]) for item in live]

    def read_back(self, plan):
        after = []
        for entry, item in zip(self.entries, plan.facts["live"]):
            pool = read_pool(self.fs, entry["node"], entry["size_kb"])
            after.append(dict(item, after=pool["total"], free=pool["free"]))
        return after

    def _short(self, after):
        return [] if self.allow_partial else [item for item in after if item["after"] != item["requested"]]

    def verify(self, plan, after):
        return [_shortfall(item) for item in self._short(after)]

    def not_converged(self, problems, commands, after):
        return ShortfallError(self._short(after), commands, after)

    def report(self, after, plan):
        return {"pages": after}

    def render(self, state):
        return {_label(s["node"], s["size"]): s["before"] for s in state}

    def render_after(self, plan, after):
        return {_label(s["node"], s["size"]): s["after"] for s in after}


def run(fs, pages, check_mode=False, allow_partial=False):
    """The whole path. Returns the module result, ``diff`` included (the caller drops it unless
    asked): ``changed``, ``pages``, ``writes`` (``{path, value}``: the plan's writes), ``diff``.

    Raises :class:`InputError` before any write, :class:`ShortfallError` after a write the kernel
    could not satisfy (unless ``allow_partial``), :class:`WriteError` (an ``OSError``) from a
    failed write; both carry ``applied``, the writes done.
    """
    result = core.converge(HugepageTable(fs, pages, allow_partial), check_mode, want_diff=True)
    result["writes"] = [{"path": w["path"], "value": w["count"]} for w in result.pop("commands")]
    return result


def root_fs(root="/"):
    """The live system (``/``), or a fake tree below ``root`` (tests)."""
    return HugepageFS(root)


# --------------------------------------------------------------------------------------------
# The boot-time job (dpvs-hugepages.service): dpvs-cluster hugepages CONFIG [SYSFS_ROOT]
# --------------------------------------------------------------------------------------------
def _nr_hugepages(page):
    return pool_path(page["node"], page["size_kb"]) + "/nr_hugepages"


def _count(fs, path):
    text = fs.read(path)
    try:
        return int(text)
    except (TypeError, ValueError):
        return None  # no such pool (or not a number)


def write_pools(fs, pages, out):
    """Write every pool of ``pages`` (``{node, size_kb, count}``, the role's configuration),
    decreases first (what they free may serve the increases), read them back and print one line
    per pool. Returns the number of pools short of their count."""
    before = [_count(fs, _nr_hugepages(page)) for page in pages]
    order = sorted(range(len(pages)), key=lambda i: before[i] is not None and before[i] < pages[i]["count"])
    problems = {}
    for index in order:
        try:
            fs.write(_nr_hugepages(pages[index]), str(pages[index]["count"]))
        except OSError as exc:
            problems[index] = exc
    short = 0
    for index in order:
        page = pages[index]
        got = _count(fs, _nr_hugepages(page))
        line = f"{where(page['node'])} {page['size_kb']}kB: asked {page['count']}, got {got}"
        if index in problems:
            line += f" (the write failed: {problems[index]})"
        out.write(line + "\n")
        short += got != page["count"]
    return short


def boot_main(argv, fs=None, out=None):
    """``dpvs-cluster hugepages CONFIG [SYSFS_ROOT]``: write the pools of CONFIG (the hugepages
    role's JSON, ``{"pages": [{node, size_kb, count}]}``) below SYSFS_ROOT (``/sys``). Exit status
    0, 1 when the kernel gave fewer pages than asked (or CONFIG cannot be read), 2 for a usage error."""
    out = out or sys.stdout
    usage = "usage: dpvs-cluster hugepages CONFIG [SYSFS_ROOT]\n"
    if list(argv) in (["-h"], ["--help"]):
        out.write(usage)
        return 0
    if len(argv) not in (1, 2) or argv[0].startswith("-"):
        sys.stderr.write(usage)
        return 2
    try:
        with open(argv[0]) as handle:
            pages = json.load(handle)["pages"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        sys.stderr.write(f"dpvs-cluster hugepages: cannot read {argv[0]}: {exc!r}\n")
        return 1
    fs = fs or HugepageFS("/", sysfs=argv[1] if len(argv) > 1 else None)
    return 1 if write_pools(fs, pages, out) else 0
