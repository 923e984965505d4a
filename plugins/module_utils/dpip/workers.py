# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPVS workers that lack an address their master has (a master/worker mismatch).

DPVS v1.10.2 adds an interface address on its master lcore, answers the caller, and only then
sends the address to the workers, without waiting (``__inet_addr_add``: an asynchronous
multicast). A worker whose ``ifa_entry_add`` fails is not heard of: short of hugepage memory
(a sapool address, a FullNAT local address, allocates its sa_pool on every worker) DPVS logs
``IFA: [01] ifa_entry_add: add ifaddr 192.168.229.204 failed -- no memory``, while ``dpip addr
add`` and ``ipvsadm --add-laddr`` exited 0 and ``dpip addr show``, ``dpip route show`` and
``ipvsadm -G`` list the address (they show the master's tables).

Two listings tell:

* ``dpip -s addr show`` sums the sa counters of every worker (``ifaddr_get_stats``); when a
  worker's count differs from the master's (``ifa naddr does not match -- master=3,
  slave[1]=2`` in DPVS's log) the daemon answers with no data, and dpip prints ``corrupted
  response.`` and ``dpip: invalid parameter`` and exits 1, for as long as the tables differ.
  dpip_addr reads this listing anyway (only ``-s`` shows the sapool flag): it is the detector,
  at no extra cost.
* ``dpip -v addr show`` lists every lcore's own table (lines prefixed ``[NN]``, the master's
  first) and never fails: it names what each worker lacks. It runs only once ``-s`` failed.

:func:`read_stats` is the ``-s`` read with that diagnosis (:class:`WorkerMismatchError`);
:func:`check` is the check after an apply that added addresses; :func:`message` says what
happened and what to do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import CommandError
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.errors import ApplyError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.parse import (
    ADDR_LINE1_RE,
    ADDR_LINE2_RE,
    ParseError,
)

# what dpip prints when the daemon's -s answer is empty (tools/dpip/addr.c, addr_do_cmd)
CORRUPTED = "corrupted response."
HUGEPAGE_DOCS = "docs/dpvs_conf.md, 'Hugepage estimate'"


class WorkerMismatchError(CommandError):
    """``dpip -s addr show`` failed because a worker's address table differs from the master's.
    ``missing``: ``[{"address": "192.168.229.204/32", "dev", "family", "missing_on": [1]}]``
    (empty when ``dpip -v addr show`` could not name them); reported as ``worker_mismatch``."""

    def __init__(self, cmd, rc, stdout, stderr, missing, msg):
        self.missing = missing
        super(WorkerMismatchError, self).__init__(cmd, rc, stdout, stderr, msg=msg)

    def to_result(self):
        result = super(WorkerMismatchError, self).to_result()
        result["worker_mismatch"] = self.missing
        return result


def is_mismatch(rc, stderr):
    """The failure of ``dpip -s addr show`` while master and workers differ."""
    return rc != 0 and CORRUPTED in (stderr or "")


def lcore_tables(text):
    """``dpip -v addr show`` -> ``[(cid, [entry, ...]), ...]`` in the order listed (the master's
    table first), each entry ``{"address": "ADDR/PLEN", "dev", "family"}``."""
    lines = [line.rstrip() for line in (text or "").splitlines() if line.strip()]
    tables = []
    for index in range(0, len(lines), 2):
        head = ADDR_LINE1_RE.match(lines[index])
        if not head or head.group("cid") is None:
            raise ParseError("dpip -v addr show", lines[index], index + 1)
        if index + 1 >= len(lines) or not ADDR_LINE2_RE.match(lines[index + 1]):
            raise ParseError("dpip -v addr show", lines[index + 1] if index + 1 < len(lines) else "", index + 2)
        cid = int(head.group("cid"))
        if not tables or tables[-1][0] != cid:
            tables.append((cid, []))
        entry = {
            "address": "{}/{}".format(head.group("address").lower(), head.group("plen")),
            "dev": head.group("dev"),
            "family": head.group("family"),
        }
        tables[-1][1].append(entry)
    return tables


def missing_addresses(text):
    """The master's addresses some worker lacks, from ``dpip -v addr show``:
    ``[{"address", "dev", "family", "missing_on": [cid, ...]}]`` in the master's order. A worker
    with no address at all prints nothing, so it cannot be named here."""
    tables = lcore_tables(text)
    if not tables:
        return []
    master = tables[0][1]
    missing = []
    for entry in master:
        key = (entry["address"], entry["dev"])
        lacking = [cid for cid, table in tables[1:] if key not in {(e["address"], e["dev"]) for e in table}]
        if lacking:
            missing.append(dict(entry, missing_on=lacking))
    return missing


def diagnose(runner, dpip):
    """What each worker lacks (``dpip -v addr show``); ``[]`` when that listing fails too."""
    try:
        out = runner.run([dpip, "-v", "addr", "show"], read_only=True, record=False)[1]
    except CommandError:
        return []
    return missing_addresses(out)


def _where(item):
    lcores = ", ".join(f"[{cid:02d}]" for cid in item["missing_on"])
    return "{} dev {} (missing on worker {})".format(item["address"], item["dev"], lcores)


def message(missing, added=None):
    """What happened and what to do. ``added``: the addresses (no prefix length) this run added
    (None: a read that found the state of an earlier run)."""
    if missing:
        names = "; ".join(_where(item) for item in missing)
        first = missing[0]
        log = "IFA: [{:02d}] ifa_entry_add: add ifaddr {} failed -- no memory".format(
            first["missing_on"][0], first["address"].split("/")[0]
        )
    else:
        names = "an address (dpip -v addr show did not name it: a worker that has no address at all lists nothing)"
        log = "IFA: [NN] ifa_entry_add: add ifaddr ... failed -- no memory"
    text = f"a DPVS worker could not add {names}"
    if added is not None:
        earlier = [item["address"] for item in missing if item["address"].split("/")[0] not in added]
        if earlier:
            text += " ({} left by an earlier change)".format(", ".join(earlier))
    return (
        text + ": out of hugepage memory? See DPVS's log for '" + log + "'. DPVS adds an address on its master "
        "and then sends it to the workers without waiting, so the add exited 0, and `dpip addr show` and "
        "`ipvsadm -G` list it while that worker lacks it (its traffic there fails); `dpip -s addr show` fails "
        "with 'corrupted response.' until master and workers agree. Give DPVS more hugepages (the dpvs role's "
        "hugepage estimate: " + HUGEPAGE_DOCS + "; hugepages_pages), then restart DPVS (the dpvs-state replay "
        "adds everything again) or delete the address and run again (dpip addr del ADDR dev DEV; for a FullNAT "
        "local address ipvsadm --del-laddr, which takes it off the NIC too)"
    )


def read_stats(runner, dpip):
    """``dpip -s addr show`` (stdout). A failure with the mismatch signature raises
    :class:`WorkerMismatchError` naming what each worker lacks (one more read, ``-v``); other
    failures raise as the runner does."""
    argv = [dpip, "-s", "addr", "show"]
    rc, out, err = runner.run(argv, check_rc=False, read_only=True, record=False)
    if is_mismatch(rc, err):
        missing = diagnose(runner, dpip)
        raise WorkerMismatchError(argv, rc, out, err, missing, message(missing))
    if rc != 0:
        raise CommandError(argv, rc, out, err)
    return out


def apply_error(err, applied, added, drained=None):
    """The :class:`ApplyError` of a mismatch found right after an apply that added the
    addresses ``added`` (no prefix length): ``applied`` ran (the adds exited 0: a worker's failure
    never reaches the caller); the failed command is the read that found it; ``worker_mismatch``
    what each worker lacks."""
    failed = {"cmd": err.cmd, "rc": err.rc, "stdout": err.stdout, "stderr": err.stderr}
    what = message(err.missing, added)
    exits = ", each exited 0" if all(entry.get("rc") == 0 for entry in applied) else ""
    msg = f"the plan was applied ({len(applied)} command(s){exits}: see applied), but {what}"
    details = {"worker_mismatch": err.missing}
    return ApplyError(msg, applied, failed, dpvs_errors=[], drained=drained, cause=err, details=details)


def check(runner, dpip, applied, added, drained=None):
    """After an apply that added the addresses ``added`` (no prefix length): raises
    :func:`apply_error` when a worker lacks what the master has. One command (``dpip -s addr
    show``) when all is well, two when not."""
    try:
        read_stats(runner, dpip)
    except WorkerMismatchError as err:
        raise apply_error(err, applied, added, drained) from err
