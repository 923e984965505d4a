# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPDK's hugepage files of one file prefix (``dpvs-cluster hugepage-files``, dpvs.service's ExecStopPost).

    dpvs-cluster hugepage-files [--prefix rte] [--clean] [--proc /proc]

DPDK backs its memory with files in a hugetlbfs mount, one per hugepage (or per memseg list with
``--single-file-segments``), named ``<file-prefix>map_<N>`` (EAL ``--file-prefix``, default
``rte``: ``rtemap_0``, ``rtemap_1``, ...). They outlive the process, and their pages stay taken
until they are removed: a DPVS that stopped keeps its ~1000 2 MB pages. DPDK removes the
unlocked files of every prefix when it starts again (``clear_hugedir``), not when it exits.

This lists the files of ``--prefix`` in every hugetlbfs mount of ``/proc/mounts`` and, with
``--clean``, removes those that no live process uses: none has it open (``/proc/PID/fd``) or
mapped (``/proc/PID/maps``), and no DPDK process holds its lock on it (``flock``, DPDK's own
test). While it removes, it holds the mount's directory lock, which a starting DPDK takes too.
A file in use is kept and named with its users. Other prefixes are never touched.

Exit codes: 0 done (files in use are kept, and listed); 1 a file could not be removed, or
``/proc/mounts`` could not be read; 2 wrong arguments.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import fcntl
import os
import re
import sys
import time

PREFIX = "dpvs-cluster hugepage-files: "
# seconds to wait for a mount's directory lock (a starting DPDK holds it while it sets up)
LOCK_TIMEOUT = 5.0
MiB = 1024 * 1024


def _unescape(field):
    """A path of /proc/mounts: blanks and backslashes are octal escapes (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def hugetlbfs_mounts(proc_root="/proc"):
    """The mount points of every hugetlbfs in ``PROC/mounts``, in its order, once each."""
    mounts = []
    with open(os.path.join(proc_root, "mounts"), encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) >= 3 and fields[2] == "hugetlbfs":
                point = _unescape(fields[1])
                if point not in mounts:
                    mounts.append(point)
    return mounts


def is_map_file(name, prefix):
    """Whether ``name`` is a hugepage file of ``prefix``: ``<prefix>map_<digits>``."""
    head = prefix + "map_"
    return name.startswith(head) and name[len(head) :].isdigit()


def map_files(mount, prefix):
    """The paths of ``prefix``'s hugepage files in ``mount``, sorted by their number."""
    try:
        names = [name for name in os.listdir(mount) if is_map_file(name, prefix)]
    except OSError:
        return []
    names.sort(key=lambda name: int(name[len(prefix) + 4 :]))
    return [os.path.join(mount, name) for name in names]


def _comm(proc_root, pid):
    try:
        with open(os.path.join(proc_root, pid, "comm"), encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return "?"


def _mapped(proc_root, pid, wanted):
    """The paths of ``wanted`` that process ``pid`` maps (``/proc/PID/maps``, 6th field)."""
    found = set()
    try:
        with open(os.path.join(proc_root, pid, "maps"), encoding="utf-8", errors="replace") as handle:
            for line in handle:
                fields = line.rstrip("\n").split(None, 5)
                if len(fields) == 6:
                    path = fields[5]
                    if path.endswith(" (deleted)"):
                        path = path[: -len(" (deleted)")]
                    if path in wanted:
                        found.add(path)
    except OSError:
        pass  # the process ended, or a kernel thread
    return found


def _opened(proc_root, pid, wanted):
    """The paths of ``wanted`` that process ``pid`` has open (``/proc/PID/fd/*`` links)."""
    found = set()
    directory = os.path.join(proc_root, pid, "fd")
    try:
        fds = os.listdir(directory)
    except OSError:
        return found
    for fd in fds:
        try:
            target = os.readlink(os.path.join(directory, fd))
        except OSError:
            continue
        if target in wanted:
            found.add(target)
    return found


def users(paths, proc_root="/proc"):
    """``{path: ["PID (comm)", ...]}`` for the ``paths`` a live process has open or mapped."""
    wanted, found = set(paths), {}
    try:
        pids = [name for name in os.listdir(proc_root) if name.isdigit()]
    except OSError:
        return found
    me = str(os.getpid())
    for pid in pids:
        if pid == me:
            continue
        for path in _mapped(proc_root, pid, wanted) | _opened(proc_root, pid, wanted):
            found.setdefault(path, []).append(f"{pid} ({_comm(proc_root, pid)})")
    return found


def dpdk_locked(path):
    """Whether a process holds a lock on ``path`` (a DPDK process holds a shared one on each of
    its hugepage files); a file that cannot be opened counts as locked (left alone)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the lock we may have taken
    return False


class Mount:
    """What was done in one hugetlbfs mount."""

    def __init__(self, path):
        self.path = path
        self.removed = []  # (path, bytes)
        self.kept = []  # (path, why)
        self.failed = []  # (path, error)


def _lock_dir(path, timeout, clock=time.monotonic, sleep=time.sleep):
    """An fd holding ``path``'s exclusive directory lock (DPDK's), or None after ``timeout``."""
    fd = os.open(path, os.O_RDONLY)
    deadline = clock() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError:
            if clock() >= deadline:
                os.close(fd)
                return None
            sleep(0.1)


def clean_mount(mount, prefix, proc_root="/proc", remove=False, lock_timeout=LOCK_TIMEOUT):
    """List (``remove``: remove) ``prefix``'s unused hugepage files in ``mount``: a :class:`Mount`."""
    result = Mount(mount)
    try:
        lock = _lock_dir(mount, lock_timeout) if remove else None
    except OSError as exc:
        result.failed.append((mount, exc.strerror or str(exc)))
        return result
    if remove and lock is None:
        result.failed.append((mount, f"its directory lock is held (a DPDK process is starting) for {lock_timeout:g}s"))
        return result
    try:
        files = map_files(mount, prefix)
        in_use = users(files, proc_root)
        for path in files:
            _one(path, in_use.get(path), remove, result)
    finally:
        if lock is not None:
            os.close(lock)
    return result


def _one(path, used_by, remove, result):
    if used_by:
        result.kept.append((path, "in use by " + ", ".join(sorted(used_by))))
        return
    if dpdk_locked(path):
        result.kept.append((path, "locked by a DPDK process"))
        return
    try:
        size = os.stat(path).st_size
        if remove:
            os.unlink(path)
    except OSError as exc:
        result.failed.append((path, exc.strerror or str(exc)))
        return
    result.removed.append((path, size))


def report(result, prefix, remove, out, limit=10):
    """Lines on ``out`` for one mount: what was (or would be) freed, what was kept and why."""
    verb = "removed" if remove else "unused (--clean removes them)"
    if result.removed:
        size = sum(size for _path, size in result.removed)
        names = [os.path.basename(path) for path, _size in result.removed]
        shown = names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]}"
        out.write(f"{PREFIX}{result.path}: {verb} {len(names)} {prefix}map_* file(s) ({shown}), {size / MiB:g} MiB\n")
    elif not result.kept and not result.failed:
        out.write(f"{PREFIX}{result.path}: no {prefix}map_* files\n")
    for path, why in result.kept[:limit]:
        out.write(f"{PREFIX}{path}: kept, {why}\n")
    if len(result.kept) > limit:
        out.write(f"{PREFIX}{result.path}: ... and {len(result.kept) - limit} more kept\n")
    for path, why in result.failed:
        out.write(f"{PREFIX}{path}: not removed: {why}\n")


def _parser():
    parser = argparse.ArgumentParser(prog="dpvs-cluster hugepage-files", description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="rte", help="DPDK's --file-prefix (default rte)")
    parser.add_argument("--clean", action="store_true", help="remove the files no process uses")
    parser.add_argument("--proc", default="/proc", help="where procfs is (tests)")
    return parser


def main(argv=None, out=None):
    """``dpvs-cluster hugepage-files``: 0 done, 1 a file not removed or no /proc/mounts, 2 usage."""
    parser = _parser()
    args = parser.parse_args(argv)
    out = out or sys.stdout
    if not args.prefix or "/" in args.prefix or args.prefix in (".", ".."):
        parser.error(f"--prefix {args.prefix!r}: a DPDK file prefix is a non-empty file name")
    try:
        mounts = hugetlbfs_mounts(args.proc)
    except OSError as exc:
        out.write(f"{PREFIX}{os.path.join(args.proc, 'mounts')}: {exc.strerror or exc}\n")
        return 1
    if not mounts:
        out.write(f"{PREFIX}no hugetlbfs mount in {os.path.join(args.proc, 'mounts')}\n")
    failed = False
    for mount in mounts:
        result = clean_mount(mount, args.prefix, args.proc, remove=args.clean)
        report(result, args.prefix, args.clean, out)
        failed = failed or bool(result.failed)
    return 1 if failed else 0
