# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planner and apply of the ipvsadm module (DPVS and Linux kernel flavours).

``plan()`` compares the canonical desired services (``_ipvs_model.normalize``) with the
canonical live table (``_ipvs_model.live_services``) and returns the minimal ordered actions:

1. service adds (``-A``) and edits (``-E`` with the full option set). On DPVS, ``-E`` cannot
   drop persistence, ``--ops``, ``--expire-quiescent``, ``--quic`` or change ``--dest-check``
   (libipvs ``dpvs_update_service_by_options``), so those changes recreate the service
   (``-D`` + ``-A`` + its real servers, laddrs and lists: a brief disruption);
2. real server replacements: ``-d`` before ``-a`` for a forwarding-method change and for a live
   port-0 real server (a FullNAT/masq RS without port drops traffic) whose IP is declared;
3. real server adds (``-a``), then edits (``-e``: weight/thresholds, full option set);
4. laddr adds (``--add-laddr``), black/white list adds;
5. with ``drain``: weight 0 (``-e ... -w 0``) for every real server being removed, then a wait
   until their ActiveConn is 0 (polling ``ipvsadm -ln -t SVC``) or ``drain_timeout`` passes;
6. deletions: laddrs (``--del-laddr``), list entries, real servers (``-d``), services (``-D``);
7. ``dpip addr add LIP/32 dev IF sapool`` for every LIP that ``--del-laddr`` took off the NIC
   while a service of the resulting table still uses it (DPVS removes it regardless).

``execution_units()`` turns the actions into what runs: one process per command, or, when
the plan has more than ``batch_threshold`` ipvsadm commands, one ``ipvsadm -R`` process per
run of consecutive ipvsadm commands (a drain wait splits it in two). ``-R`` keeps going after
a failing line and returns the last line's code only, so a batch is judged by the read-back
(``verify()``), never by its exit code. Check mode and real runs share the units, so the
commands predicted in check mode are the commands a real run executes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import (
    InputError,
    device,
    int_range,
    item_path,
    path_join,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import (
    CommandError,
    Runner,
    find_tool,
    sockopt_errors,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import core, edge
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import purge_guard as _purge_guard
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.errors import ApplyError, NotConvergedError
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.plan import Action, Plan
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import workers as _workers
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.parse import ParseError as DpipParseError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.parse import parse_addr_show, parse_link_show
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as M
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs.parse import (
    ParseError,
    parse_allowlist,
    parse_blocklist,
    parse_laddrs,
    parse_list,
    parse_list_thresholds,
)

# the order of the phases (see the module docstring)
PHASES = (
    "service",
    "rs_replace",
    "rs_add",
    "rs_edit",
    "laddr_add",
    "acl_add",
    "drain_weight",
    "drain_wait",
    "laddr_del",
    "acl_del",
    "rs_del",
    "service_del",
    "lip_address",
)

# --add-laddr/--del-laddr also add/delete the NIC address and ignore the result: "msg#47 header:
# already exist(-3)" (IFADDR_ADD) / "msg#48 header: not exist(-4)" (IFADDR_DEL) are noise on stderr
# (transcript 215); the laddr error itself comes as msg#0/#1.
LADDR_NIC_NOISE = ((47, -3), (48, -4))

# the lines of `ipvsadm -h` that only DPVS's ipvsadm prints
DPVS_HELP_MARKERS = ("--add-laddr", "--get-laddr")
# kernel ipvsadm when ip_vs is not loaded: "Are you sure that IP Virtual Server is built in the kernel or as module?"
KERNEL_IPVS_MISSING = "IP Virtual Server is built in the kernel"

# From this many desired services the listings of a read (-ln, -ln --thresholds, -G, the lists) run
# at the same time: at 10,000 services they are most of a no-op run (docs/performance.md); below,
# one after the other, in the order the tests and the transcripts show.
PARALLEL_READS_FROM = 500
# From this much JSON (services_json, or a services_file of this size; about 250 services) the
# module starts those listings before it validates its input (Runner.prefetch): at 10,000 services
# the validation and the listings take about a second each, and now take it side by side.
PREFETCH_FROM_CHARS = 100_000


def _copied(value):
    """A deep copy of plain data (dicts, lists, tuples, scalars), as ``copy.deepcopy`` makes it but
    without its memo: a plan copies every desired service, 10,000 of them in a quarter of the time."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return value.__class__(_copied(item) for item in value)
    return value


class NeedLists(Exception):
    """The plan recreates a service whose black/white lists were not read: read them, replan."""


class IpvsPlan(Plan):
    """The ordered actions, the table they lead to (``expected``) and the drain targets."""

    def __init__(self, actions, expected, drain_targets, flavor, purged=()):
        super(IpvsPlan, self).__init__(actions, expected, purged)
        self.drain_targets = drain_targets
        self.flavor = flavor

    def ipvsadm_count(self):
        return self.tool_count("ipvsadm")


# ----------------------------------------------------------------------------- planning


def _options_equal(a, b):
    return all(a[k] == b[k] for k in M.default_options())


def edit_can_express(live_opts, want_opts, flavor):
    """Whether ``-E`` reaches ``want_opts`` from ``live_opts`` (else: recreate).

    The kernel's ``-E`` replaces the whole service config. DPVS merges by option
    (``dpvs_update_service_by_options``): persistence, ``--ops`` and ``--expire-quiescent`` can
    be set but never cleared, ``--quic`` is not applied, ``--dest-check`` only when it passes
    the daemon's sanity check.
    """
    if flavor != "dpvs":
        return True
    if live_opts["persistent"] is not None and want_opts["persistent"] is None:
        return False
    for flag in ("ops", "expire_quiescent"):
        if live_opts[flag] and not want_opts[flag]:
            return False
    return live_opts["quic"] == want_opts["quic"] and live_opts["dest_check"] == want_opts["dest_check"]


class _Planner:
    def __init__(self, desired, live, flavor, purge, drain, manage_laddr_addresses, lip_dev, fallback_dev):
        self.desired = desired
        self.live = list(live)
        self.live_map = {s["key"]: s for s in live}
        self.flavor = flavor
        self.purge = purge
        self.drain = drain
        self.manage_laddr_addresses = manage_laddr_addresses
        self.lip_dev = lip_dev or (lambda ip: None)
        self.fallback_dev = fallback_dev
        self.phases = {name: [] for name in PHASES}
        # entries are replaced (target()) or removed, never changed in place: no copy of the live table
        self.expected = {s["key"]: s for s in live}
        self.drain_targets = []
        self.purged = []
        self.laddr_deleted = []
        self.declared_devs = {}
        for svc in desired:
            for laddr in svc["laddrs"] or []:
                self.declared_devs.setdefault(laddr["ip"], laddr["dev"])

    def add(self, phase, argv, description, tool="ipvsadm", data=None):
        self.phases[phase].append(Action(argv, description, tool=tool, phase=phase, data=data))

    # --- helpers

    def dev_of(self, ip):
        dev = self.declared_devs.get(ip) or self.lip_dev(ip)
        return dev or self.fallback_dev

    def del_laddr(self, svc, ip, phase="laddr_del"):
        laddr = {"ip": ip, "dev": self.dev_of(ip)}
        self.add(phase, M.render_del_laddr(svc, laddr), f"remove local address {ip} from {svc['label']}")
        self.laddr_deleted.append(laddr)

    def drain_rs(self, svc, rs, description):
        """Weight 0 for ``rs`` (unless it is 0 already) and a drain target for the wait."""
        if rs["weight"] != 0:
            self.add("drain_weight", M.render_edit_rs(svc, dict(rs, weight=0)), description)
        self.drain_targets.append(
            {
                "service": svc["label"],
                "key": svc["key"],
                "target": M.service_target(svc),
                "ip": rs["ip"],
                "port": rs["port"],
                "active_conns": rs.get("active_conns"),
            }
        )

    def remove_rs(self, svc, rs):
        label = f"{M.rs_label(rs)} from {svc['label']}"
        if self.drain:
            self.drain_rs(svc, rs, f"drain {label}: weight 0")
        self.add("rs_del", M.render_del_rs(svc, rs), f"remove real server {label}")

    def remove_service(self, cur):
        for laddr in cur["laddrs"] or []:
            self.del_laddr(cur, laddr["ip"])
        if self.drain:
            for rs in cur["real_servers"]:
                self.drain_rs(cur, rs, f"drain {M.rs_label(rs)} of {cur['label']}: weight 0")
        self.add("service_del", M.render_del_service(cur), f"remove service {cur['label']}")
        self.expected.pop(cur["key"], None)

    def target(self, want, cur):
        """The service as it will be after the plan (canonical shape)."""
        svc = {
            k: _copied(want[k])
            for k in ("key", "label", "protocol", "vip", "port", "fwmark", "family", "state", "options")
        }
        if want["real_servers"] is not None:
            svc["real_servers"] = [
                {
                    "ip": rs["ip"],
                    "port": rs["port"],
                    "family": rs["family"],
                    "forward": rs["forward"],
                    "weight": rs["weight"],
                    "u_threshold": rs["u_threshold"],
                    "l_threshold": rs["l_threshold"],
                    "active_conns": 0,
                    "inactive_conns": 0,
                }
                for rs in want["real_servers"]
            ]
            if cur is not None:  # keep the live counters of kept real servers
                live_rs = {(r["ip"], r["port"]): r for r in cur["real_servers"]}
                for rs in svc["real_servers"]:
                    old = live_rs.get((rs["ip"], rs["port"]))
                    if old is not None:
                        rs["active_conns"] = old["active_conns"]
                        rs["inactive_conns"] = old["inactive_conns"]
        else:
            svc["real_servers"] = _copied(cur["real_servers"]) if cur is not None else []
        if want["laddrs"] is not None:
            svc["laddrs"] = [{"ip": laddr["ip"], "dev": laddr["dev"]} for laddr in want["laddrs"]]
        elif cur is not None:
            svc["laddrs"] = _copied(cur["laddrs"])
        else:
            svc["laddrs"] = [] if self.flavor == "dpvs" else None
        for name in ("blocklist", "allowlist"):
            if want[name] is not None:
                svc[name] = list(want[name])
            elif cur is not None:
                svc[name] = _copied(cur[name])
            else:
                svc[name] = [] if self.flavor == "dpvs" else None
        return svc

    # --- per service

    def create(self, want, rs_list, laddrs, acls, phase="service"):
        self.add(phase, M.render_add_service(want, self.flavor), f"add service {want['label']}")
        for rs in rs_list:
            self.add("rs_add", M.render_add_rs(want, rs), f"add real server {M.rs_label(rs)} to {want['label']}")
        for laddr in laddrs:
            self.add(
                "laddr_add", M.render_add_laddr(want, laddr), f"add local address {laddr['ip']} to {want['label']}"
            )
        for name, entries in acls:
            for entry in entries:
                self.add(
                    "acl_add", M.render_acl(want, name, entry, True), f"add {entry} to the {name} of {want['label']}"
                )

    def recreate(self, want, cur):
        label = want["label"]
        rs_list = want["real_servers"] if want["real_servers"] is not None else cur["real_servers"]
        if want["laddrs"] is not None:
            keep = {laddr["ip"] for laddr in want["laddrs"]}
            for laddr in cur["laddrs"] or []:
                if laddr["ip"] not in keep:
                    self.del_laddr(cur, laddr["ip"], phase="service")
            laddrs = want["laddrs"]
        else:
            laddrs = [{"ip": laddr["ip"], "dev": self.dev_of(laddr["ip"])} for laddr in cur["laddrs"] or []]
        acls = []
        for name in ("blocklist", "allowlist"):
            if want[name] is not None:
                acls.append((name, want[name]))
            elif cur[name] is None and self.flavor == "dpvs":
                raise NeedLists(label)
            else:
                acls.append((name, cur[name] or []))
        self.add("service", M.render_del_service(cur), f"remove service {label} to recreate it (-E cannot)")
        self.create(want, [dict(rs, u_threshold=rs.get("u_threshold") or 0) for rs in rs_list], laddrs, acls)

    def update_rs(self, want, cur):
        live_rs = {(r["ip"], r["port"]): r for r in cur["real_servers"]}
        wanted = {(r["ip"], r["port"]): r for r in want["real_servers"]}
        wanted_ips = {r["ip"] for r in want["real_servers"]}
        label = want["label"]
        for key, old in live_rs.items():
            new = wanted.get(key)
            if new is None:
                if old["port"] == 0 and old["ip"] in wanted_ips and want["protocol"] != "fwmark":
                    # RS:0 (a FullNAT/masq RS added without port) is drift: replace it
                    self.add(
                        "rs_replace", M.render_del_rs(want, old), f"remove port-0 real server {old['ip']}:0 of {label}"
                    )
                else:
                    self.remove_rs(cur, old)
                continue
            if old["forward"] != new["forward"]:
                self.add(
                    "rs_replace",
                    M.render_del_rs(want, old),
                    f"remove {M.rs_label(old)} of {label} to change its forwarding "
                    f"({old['forward']} -> {new['forward']})",
                )
                self.add("rs_add", M.render_add_rs(want, new), f"add real server {M.rs_label(new)} to {label}")
                continue
            thresholds_known = old.get("u_threshold") is not None
            if old["weight"] != new["weight"] or (
                thresholds_known
                and (old["u_threshold"], old["l_threshold"]) != (new["u_threshold"], new["l_threshold"])
            ):
                self.add("rs_edit", M.render_edit_rs(want, new), f"update real server {M.rs_label(new)} of {label}")
        for key, new in wanted.items():
            if key not in live_rs:
                self.add("rs_add", M.render_add_rs(want, new), f"add real server {M.rs_label(new)} to {label}")

    def update_laddrs(self, want, cur):
        live_ips = [laddr["ip"] for laddr in cur["laddrs"] or []]
        wanted = [laddr["ip"] for laddr in want["laddrs"]]
        for laddr in want["laddrs"]:
            if laddr["ip"] not in live_ips:
                self.add(
                    "laddr_add", M.render_add_laddr(want, laddr), f"add local address {laddr['ip']} to {want['label']}"
                )
        for ip in live_ips:
            if ip not in wanted:
                self.del_laddr(want, ip)

    def update_acls(self, want, cur):
        for name in ("blocklist", "allowlist"):
            if want[name] is None:
                continue
            live = cur[name] or []
            for entry in want[name]:
                if entry not in live:
                    self.add(
                        "acl_add",
                        M.render_acl(want, name, entry, True),
                        f"add {entry} to the {name} of {want['label']}",
                    )
            for entry in live:
                if entry not in want[name]:
                    self.add(
                        "acl_del",
                        M.render_acl(want, name, entry, False),
                        f"remove {entry} from the {name} of {want['label']}",
                    )

    def plan_service(self, want, cur):
        """The actions of one declared service (``cur``: its live state or None)."""
        if want["state"] == "absent":
            if cur is not None:
                self.remove_service(cur)
            return
        if cur is None:
            acls = [(n, want[n]) for n in ("blocklist", "allowlist") if want[n]]
            self.create(want, want["real_servers"] or [], want["laddrs"] or [], acls)
            self.expected[want["key"]] = self.target(want, None)
            return
        if not _options_equal(cur["options"], want["options"]):
            if not edit_can_express(cur["options"], want["options"], self.flavor):
                self.recreate(want, cur)
                self.expected[want["key"]] = self.target(want, cur)
                return
            self.add("service", M.render_edit_service(want, self.flavor), f"update the options of {want['label']}")
        if want["real_servers"] is not None:
            self.update_rs(want, cur)
        if want["laddrs"] is not None:
            self.update_laddrs(want, cur)
        self.update_acls(want, cur)
        self.expected[want["key"]] = self.target(want, cur)

    def purge_undeclared(self):
        """Remove the manageable live services that are not declared."""
        declared = {svc["key"] for svc in self.desired}
        for cur in self.live:
            if cur["key"] not in declared and M.manageable(cur):
                count = len(cur["real_servers"])
                self.purged.append(f"{cur['label']} ({count} real server{'' if count == 1 else 's'})")
                self.remove_service(cur)

    def restore_lip_addresses(self):
        """Put back on the NIC every LIP ``--del-laddr`` took off that a service still uses."""
        in_use = {laddr["ip"] for svc in self.expected.values() for laddr in svc.get("laddrs") or []}
        done = set()
        for laddr in self.laddr_deleted:
            if laddr["ip"] in in_use and laddr["ip"] not in done:
                done.add(laddr["ip"])
                self.add(
                    "lip_address",
                    M.render_lip_address(laddr),
                    f"put local address {laddr['ip']} back on {laddr['dev']}: --del-laddr removed it, "
                    "another service still uses it",
                    tool="dpip",
                )

    def run(self):
        for want in self.desired:
            self.plan_service(want, self.live_map.get(want["key"]))
        if self.purge:
            self.purge_undeclared()
        if self.drain_targets:
            self.add("drain_wait", [], "wait for the drained real servers", tool="wait", data=self.drain_targets)
        if self.manage_laddr_addresses:
            self.restore_lip_addresses()
        actions = [action for name in PHASES for action in self.phases[name]]
        expected = sorted(self.expected.values(), key=M._sort_key)
        return IpvsPlan(actions, expected, self.drain_targets, self.flavor, self.purged)


def plan(
    desired,
    live,
    flavor,
    purge=False,
    drain=False,
    manage_laddr_addresses=True,
    lip_dev=None,
    fallback_dev="dpdk0",
):
    """Plan the actions that turn ``live`` into ``desired`` (both canonical, see _ipvs_model).

    ``lip_dev(ip)`` names the device of a live local address that is not declared (``-G`` does
    not show it; the module looks it up in ``dpip addr show``); ``fallback_dev`` is used when
    even that fails (``--del-laddr`` insists on ``-F``). Raises NeedLists when a recreated
    service's black/white lists were not read.
    """
    return _Planner(desired, live, flavor, purge, drain, manage_laddr_addresses, lip_dev, fallback_dev).run()


# ----------------------------------------------------------------------------- execution


def execution_units(the_plan, batch_threshold):
    """What runs, in order: ``{"kind": "cmd", "action"}``, ``{"kind": "restore", "actions"}``
    (one ``ipvsadm -R``) or ``{"kind": "wait", "action"}``."""
    batch = the_plan.ipvsadm_count() > batch_threshold
    units = []
    group = []

    def flush():
        if len(group) > 1:
            units.append({"kind": "restore", "actions": list(group)})
        elif group:
            units.append({"kind": "cmd", "action": group[0]})
        del group[:]

    for action in the_plan.actions:
        if action.tool == "ipvsadm" and batch:
            group.append(action)
            continue
        flush()
        units.append({"kind": "wait" if action.tool == "wait" else "cmd", "action": action})
    flush()
    return units


def restore_stdin(actions):
    return "".join(M.restore_line(action.argv) + "\n" for action in actions)


def unit_command(unit, binaries):
    """The ``commands`` entry of a unit (``rc`` None until it ran); None for a wait."""
    if unit["kind"] == "restore":
        return {"cmd": [binaries["ipvsadm"], "-R"], "stdin": restore_stdin(unit["actions"]), "rc": None}
    if unit["kind"] == "cmd":
        action = unit["action"]
        return {"cmd": [binaries[action.tool], *action.argv], "rc": None}
    return None


def planned_commands(units, binaries):
    return [entry for entry in (unit_command(unit, binaries) for unit in units) if entry is not None]


def _error_text(stderr, stdout=""):
    errors = sockopt_errors(stderr)
    if errors:
        return "; ".join(f"{e['text']}({e['code']})" for e in errors)
    # never the misleading "Success" line ipvsadm prints after a daemon error
    lines = [
        line.strip() for line in (stderr or stdout or "").splitlines() if line.strip() and line.strip() != "Success"
    ]
    return " / ".join(lines[-3:]) if lines else "no error text"


def _failure_message(entry, stderr, stdout, description, applied):
    msg = "{} failed (rc={}): {} (while trying to {})".format(
        " ".join(entry["cmd"]), entry["rc"], _error_text(stderr, stdout), description
    )
    if applied:
        msg += f"; {len(applied)} command(s) had been applied before it"
    return msg


def apply(units, runner, binaries, drain_timeout=30, drain_poll=1, sleep=time.sleep, clock=time.monotonic):
    """Run the units. Returns ``(commands, drained, batch_errors)``; raises ApplyError when a
    plain command fails (``-R`` batches are judged by the read-back instead)."""
    commands = []
    drained = []
    batch_errors = []
    for unit in units:
        if unit["kind"] == "wait":
            drained += wait_drain(
                runner, binaries["ipvsadm"], unit["action"].data, drain_timeout, drain_poll, sleep, clock
            )
            continue
        entry = unit_command(unit, binaries)
        if unit["kind"] == "restore":
            batch_errors += _run_restore(runner, entry, commands, drained)
        else:
            _run_command(runner, entry, unit["action"], commands, drained)
        commands.append(entry)
    return commands, drained, batch_errors


def _run_restore(runner, entry, commands, drained):
    """Run one ``ipvsadm -R`` batch; returns its DPVS errors (minus the laddr NIC noise)."""
    try:
        rc, _out, err = runner.run(entry["cmd"], data=entry["stdin"], check_rc=False, record=False)
    except CommandError as exc:  # the daemon went away
        failed = dict(entry, rc=exc.rc)
        raise ApplyError(
            exc.msg, commands, dict(failed, stdout=exc.stdout, stderr=exc.stderr), exc.dpvs_errors, drained
        ) from exc
    entry["rc"] = rc
    return [e for e in sockopt_errors(err) if (e["msg"], e["code"]) not in LADDR_NIC_NOISE]


def _run_command(runner, entry, action, commands, drained):
    """Run one plain command; raises ApplyError when it fails."""
    try:
        rc, out, err = runner.run(entry["cmd"], check_rc=False, record=False)
    except CommandError as exc:  # DaemonDownError
        failed = dict(entry, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr)
        raise ApplyError(exc.msg, commands, failed, exc.dpvs_errors, drained) from exc
    entry["rc"] = rc
    if rc != 0 and action.tool == "dpip" and any(e["code"] == -3 for e in sockopt_errors(err)):
        rc = 0  # the LIP is on the NIC already: what we wanted
    if rc != 0:
        failed = dict(entry, stdout=out, stderr=err)
        raise ApplyError(
            _failure_message(entry, err, out, action.description, commands),
            commands,
            failed,
            sockopt_errors(err),
            drained,
        )


def wait_drain(runner, ipvsadm, targets, timeout, poll, sleep=time.sleep, clock=time.monotonic):
    """Poll ``ipvsadm -ln -t SVC`` until every target's ActiveConn is 0 or ``timeout`` passes.

    Returns one ``{"service", "ip", "port", "seconds", "active_conns", "timed_out"}`` per target.
    """
    start = clock()
    results = {}
    pending = list(range(len(targets)))
    last = {}
    while True:
        by_service = {}
        for idx in pending:
            by_service.setdefault(tuple(targets[idx]["target"]), []).append(idx)
        for target, indexes in by_service.items():
            conns = _active_conns(runner, ipvsadm, target)
            for idx in indexes:
                t = targets[idx]
                active = conns.get((t["ip"], t["port"]), 0)  # gone: nothing left to drain
                last[idx] = active
                if active == 0:
                    results[idx] = (round(clock() - start, 1), 0, False)
        pending = [idx for idx in pending if idx not in results]
        if not pending:
            break
        if clock() - start >= timeout:
            for idx in pending:
                results[idx] = (round(clock() - start, 1), last.get(idx), True)
            break
        sleep(poll)
    return [_drained(t, *results[idx]) for idx, t in enumerate(targets)]


def _active_conns(runner, ipvsadm, target):
    """``{(ip, port): ActiveConn}`` of one service's real servers ({} when it cannot be read)."""
    rc, out, _err = runner.run([ipvsadm, "-ln", *target], check_rc=False, read_only=True, record=False)
    if rc != 0:
        return {}
    try:
        services = parse_list(out)["services"]
    except ParseError:
        return {}
    return {(rs["ip"], rs["port"]): rs["active_conns"] for svc in services for rs in svc["real_servers"]}


def _drained(target, seconds, active_conns, timed_out):
    """One ``drained`` result entry."""
    return {
        "service": target["service"],
        "ip": target["ip"],
        "port": target["port"],
        "seconds": seconds,
        "active_conns": active_conns,
        "timed_out": timed_out,
    }


def added_local_addresses(the_plan):
    """The LIPs the plan puts on the NIC (``--add-laddr``, and ``dpip addr add`` after a
    ``--del-laddr``): a DPVS worker may fail each of them unseen (``_workers``)."""
    ips = []
    for action in the_plan:
        if action.phase == "laddr_add":
            ips.append(action.argv[action.argv.index("-z") + 1])
        elif action.phase == "lip_address":
            ips.append(next(arg for arg in action.argv if "/" in arg).split("/")[0])
    return ips


def planned_drains(the_plan):
    """``drained`` for a plan that did not run (check mode): what would be drained."""
    return [_drained(t, None, t["active_conns"], None) for t in the_plan.drain_targets]


# ----------------------------------------------------------------------------- reading


def _read(runner, argv):
    return runner.run(argv, read_only=True, record=False)[1]


def detect_flavor(runner, ipvsadm):
    """``dpvs`` when ``ipvsadm -h`` mentions ``--add-laddr`` (DPVS's ipvsadm, which needs the
    daemon even for ``-h``), else ``kernel`` when ``ipvsadm -ln``'s header says 1.2.x (or the
    kernel's "IP Virtual Server is built in the kernel" error), else ``dpvs``.

    Returns ``(flavor, ln_text)``: the ``-ln`` output when it was read (reused as the live read).
    """
    rc, out, err = runner.run([ipvsadm, "-h"], check_rc=False, read_only=True, record=False)
    if any(marker in out for marker in DPVS_HELP_MARKERS):
        return "dpvs", None
    if rc != 0 and KERNEL_IPVS_MISSING in (err or "") + (out or ""):
        return "kernel", None
    text = _read(runner, [ipvsadm, "-ln"])
    version = parse_list(text)["version"] or ""
    return ("kernel" if version.startswith("1.2.") else "dpvs"), text


def read_live(runner, ipvsadm, flavor, with_thresholds=True, with_lists=False, ln_text=None, parallel=False):
    """Read the live table: ``-ln`` (+ ``--thresholds``), on DPVS ``-G`` (``-G -t/-u SVC`` for a
    VIP:port that exists for several protocols: ``-G`` prints no protocol) and, when asked, the
    black/white lists. With ``parallel`` (a big desired table) the listings are read at the same
    time, before ``-ln`` says whether there is a service to list them for.
    Returns ``(parsed_list, canonical_live)``."""
    texts = _listings(runner, ipvsadm, flavor, with_thresholds, with_lists, ln_text, parallel)
    parsed = parse_list(texts.pop("ln"))
    thresholds = None
    if with_thresholds and parsed["services"]:
        thresholds = parse_list_thresholds(_text(texts, "thresholds", runner, [ipvsadm, "-ln", "--thresholds"]))
    laddrs = None
    laddr_detail = {}
    blocklist = allowlist = None
    if flavor == "dpvs":
        laddr_detail = read_laddrs(runner, ipvsadm, parsed, texts.get("laddrs"))
        laddrs = {key: [laddr["ip"] for laddr in entries] for key, entries in laddr_detail.items()}
        if with_lists:
            blocklist = parse_blocklist(_text(texts, "blocklist", runner, [ipvsadm, "--get-blklst"]))
            allowlist = parse_allowlist(_text(texts, "allowlist", runner, [ipvsadm, "--get-whtlst"]))
    live = M.live_services(parsed, thresholds, laddrs, blocklist, allowlist)
    for svc in parsed["services"]:
        entries = laddr_detail.get(M._parsed_key(svc), [])
        svc["laddrs"] = None if laddrs is None else [dict(laddr) for laddr in entries]
    return parsed, live


def _text(texts, name, runner, argv):
    """The listing ``name`` when it was read already, else ``argv`` read now."""
    return texts[name] if name in texts else _read(runner, argv)


def listing_commands(ipvsadm, flavor, with_thresholds=True, with_lists=False):
    """``{name: argv}`` of the listings a read of the table may take: ``-ln``, with thresholds
    ``-ln --thresholds``, on DPVS ``-G`` and, with lists, the black/white lists."""
    wanted = {"ln": [ipvsadm, "-ln"]}
    if with_thresholds:
        wanted["thresholds"] = [ipvsadm, "-ln", "--thresholds"]
    if flavor == "dpvs":
        wanted["laddrs"] = [ipvsadm, "-G"]
        if with_lists:
            wanted["blocklist"] = [ipvsadm, "--get-blklst"]
            wanted["allowlist"] = [ipvsadm, "--get-whtlst"]
    return wanted


def _listings(runner, ipvsadm, flavor, with_thresholds, with_lists, ln_text, parallel):
    """``{"ln": text}`` (read unless given); with ``parallel`` also the other listings the read
    may need, all read at once (:meth:`Runner.reads`; one listing alone is read as ever)."""
    wanted = listing_commands(ipvsadm, flavor, with_thresholds, with_lists)
    if not parallel:
        wanted = {"ln": wanted["ln"]}
    if ln_text is not None:
        del wanted["ln"]
    texts = dict(zip(wanted, runner.reads(list(wanted.values()))))
    if ln_text is not None:
        texts["ln"] = ln_text
    return texts


def read_laddrs(runner, ipvsadm, parsed, g_text=None):
    """``{(protocol, vip, port): [{"ip", "conflicts", "conns"}]}`` from ``ipvsadm -G`` (its
    output ``g_text`` when it was read already)."""
    by_addr = {}
    for svc in parsed["services"]:
        if svc["protocol"] in M.PROTOCOLS:
            by_addr.setdefault((svc["vip"], svc["port"]), []).append(svc)
    result = {}
    if not by_addr:
        return result
    for entry in parse_laddrs(g_text if g_text is not None else _read(runner, [ipvsadm, "-G"])):
        svcs = by_addr.get((entry["vip"], entry["port"]), [])
        if len(svcs) == 1:
            result[M._parsed_key(svcs[0])] = entry["laddrs"]
    for svcs in by_addr.values():
        if len(svcs) < 2:
            continue
        for svc in svcs:  # tcp and udp on one VIP:port: ask per service
            target = M.service_target({"key": M._parsed_key(svc), "family": svc["family"]})
            entries = parse_laddrs(_read(runner, [ipvsadm, "-G", *target]))
            result[M._parsed_key(svc)] = entries[0]["laddrs"] if entries else []
    return result


# ----------------------------------------------------------------------------- results


def verify(expected, live):
    """What differs between the planned table and the read-back (empty when converged)."""
    problems = []
    got = {svc["key"]: svc for svc in live}
    want = {svc["key"]: svc for svc in expected}
    for key, exp in want.items():
        cur = got.get(key)
        if cur is None:
            problems.append(f"{exp['label']}: service missing")
            continue
        problems += _service_problems(exp, cur)
    for key, cur in got.items():
        if key not in want and M.manageable(cur):
            problems.append(f"{cur['label']}: service still present")
    return problems


def _service_problems(exp, cur):
    """What differs in one service: options, real servers, local addresses, lists."""
    label = exp["label"]
    problems = [
        f"{label}: {name} is {cur['options'][name]!r}, want {exp['options'][name]!r}"
        for name in M.default_options()
        if exp["options"][name] != cur["options"][name]
    ]
    problems += _rs_problems(label, exp["real_servers"], cur["real_servers"])
    if exp.get("laddrs") is not None and cur.get("laddrs") is not None:
        exp_ips = sorted(laddr["ip"] for laddr in exp["laddrs"])
        cur_ips = sorted(laddr["ip"] for laddr in cur["laddrs"])
        if exp_ips != cur_ips:
            problems.append(f"{label}: local addresses are {cur_ips}, want {exp_ips}")
    for name in ("blocklist", "allowlist"):
        if exp.get(name) is not None and cur.get(name) is not None and sorted(exp[name]) != sorted(cur[name]):
            problems.append(f"{label}: {name} is {sorted(cur[name])}, want {sorted(exp[name])}")
    return problems


def _rs_problems(label, expected_rs, live_rs):
    """Missing, different (fields known on both sides) and unexpected real servers."""
    problems = []
    cur_rs = {(r["ip"], r["port"]): r for r in live_rs}
    exp_rs = {(r["ip"], r["port"]): r for r in expected_rs}
    for rkey, rs in exp_rs.items():
        have = cur_rs.get(rkey)
        rlabel = M.rs_label(rs)
        if have is None:
            problems.append(f"{label}: real server {rlabel} missing")
            continue
        for field in ("forward", "weight", "u_threshold", "l_threshold"):
            if rs.get(field) is None or have.get(field) is None:
                continue
            if rs[field] != have[field]:
                problems.append(f"{label}: real server {rlabel} {field} is {have[field]!r}, want {rs[field]!r}")
    for rkey, rs in cur_rs.items():
        if rkey not in exp_rs:
            problems.append(f"{label}: unexpected real server {M.rs_label(rs)}")
    return problems


# the forwarding methods of the parser shape (a KeyError for anything else)
PARSER_FORWARDS = {v: v for v in ("fullnat", "masq", "dr", "tunnel", "snat", "local")}


def to_parser_shape(table, live_parsed):
    """A canonical table in the parser shape of ``parse_list`` services (+ ``laddrs``), for the
    ``services`` result of check mode (the table the plan leads to)."""
    live_by_key = {M._parsed_key(s): s for s in live_parsed["services"]}
    out = []
    for svc in table:
        old = live_by_key.get(svc["key"])
        if old is not None and not M.manageable(svc):
            out.append(old)
            continue
        old_laddrs = {laddr["ip"]: laddr for laddr in (old or {}).get("laddrs") or []}
        out.append(
            {
                "protocol": svc["protocol"],
                "vip": svc["vip"],
                "port": svc["port"],
                "fwmark": svc["fwmark"],
                "match": None,
                "family": svc["family"],
                "scheduler": svc["options"]["scheduler"],
                "flags": _parser_flags(svc["options"], old),
                "real_servers": [_parser_rs(rs) for rs in svc["real_servers"]],
                "laddrs": None
                if svc.get("laddrs") is None
                else [
                    old_laddrs.get(laddr["ip"], {"ip": laddr["ip"], "conflicts": 0, "conns": 0})
                    for laddr in svc["laddrs"]
                ],
            }
        )
    return out


def _parser_flags(o, old):
    """The parser's ``flags`` of canonical options ``o`` (``pe``/``sched_flags`` kept from ``old``)."""
    return {
        "hash_target": o["hash_target"],
        "persistent": o["persistent"],
        "netmask": o["netmask"],
        "pe": old["flags"]["pe"] if old else None,
        "sched_flags": list(old["flags"]["sched_flags"]) if old else [],
        "ops": o["ops"],
        "synproxy": o["synproxy"],
        "conn_timeout": o["conn_timeout"],
        "proxy_protocol": o["proxy_protocol"],
        "expire_quiescent": o["expire_quiescent"],
        "quic": o["quic"],
        "dest_check": o["dest_check"],
    }


def _parser_rs(rs):
    """A canonical real server in the parser shape."""
    return {
        "ip": rs["ip"],
        "port": rs["port"],
        "forward": PARSER_FORWARDS[rs["forward"]],
        "weight": rs["weight"],
        "active_conns": rs.get("active_conns") or 0,
        "inactive_conns": rs.get("inactive_conns") or 0,
        "inhibited": False,
        "overload": False,
    }


# ----------------------------------------------------------------------------- the module


def validate_params(params):
    """Every check that needs no command (flavour rules too when the flavour is given)."""
    flavor = params.get("flavor") or "auto"
    if flavor not in ("auto", *M.FLAVORS):
        raise InputError("flavor", flavor, "must be auto, dpvs or kernel")
    desired = M.normalize(params.get("services"), None if flavor == "auto" else flavor)
    int_range("batch_threshold", params.get("batch_threshold", 20), 0, 1000000)
    _purge_guard.limits(params)
    int_range("drain_timeout", params.get("drain_timeout", 30), 0, 86400)
    poll = params.get("drain_poll", 1)
    if isinstance(poll, bool) or not isinstance(poll, (int, float)) or not 0 < poll <= 3600:
        raise InputError("drain_poll", poll, "must be a number of seconds > 0")
    if core.fresh_option(params) and flavor == "kernel":
        raise InputError(
            core.FRESH_OPTION,
            True,
            "is for DPVS (flavor dpvs or auto): the Linux kernel's IPVS has no daemon that a run starts",
        )
    return flavor, desired


class IpvsTable(core.Table):
    """The IPVS table for the converge core. Construction validates the input; the first ``read``
    validates what needs the live system (the flavour probe, laddr devices against ``dpip link
    show``: ``_probe``) before it reads the table."""

    def __init__(self, params, runner, get_bin, validated=None, sleep=time.sleep, clock=time.monotonic):
        self.params = params
        self.runner = runner
        self.get_bin = get_bin
        self.sleep = sleep
        self.clock = clock
        self.flavor, desired = validated or validate_params(params)
        self.desired = self._own(desired)
        self.binaries = {"ipvsadm": get_bin("ipvsadm_path", "ipvsadm")}
        self.ln_text = None
        self.probed = False
        self.links = self.addrs = None
        self.with_thresholds = self.with_lists = False
        self.parsed = self.units = self.services = None
        self.drained = self.batch_errors = None
        self.applied = []

    def _probe(self):
        """The flavour (``auto``: probed, then its rules checked) and the laddr devices, once."""
        if self.flavor == "auto":
            self.flavor, self.ln_text = detect_flavor(self.runner, self.binaries["ipvsadm"])
            self.desired = self._own(M.normalize(self.params.get("services"), self.flavor))
        self.links = self._check_laddr_devices()
        self._reads()
        self.probed = True

    def _own(self, desired):
        """The services this module keeps; keepalived's (``owner: keepalived``) are set aside in
        ``foreign``: the read leaves them out, so they are neither planned, purged nor verified."""
        self.foreign = {svc["key"]: svc["label"] for svc in desired if svc["owner"] != "ipvsadm"}
        return M.owned(desired) if self.foreign else desired

    def _reads(self):
        """Which extra listings a read needs: thresholds, black/white lists."""
        self.with_thresholds = any(s["state"] == "present" and s["real_servers"] is not None for s in self.desired)
        self.with_lists = self.flavor == "dpvs" and any(
            s["blocklist"] is not None or s["allowlist"] is not None for s in self.desired
        )

    def dpip(self):
        """dpip is resolved only when needed (laddr devices, LIP re-assertion)."""
        if "dpip" not in self.binaries:
            self.binaries["dpip"] = self.get_bin("dpip_path", "dpip")
        return self.binaries["dpip"]

    def _check_laddr_devices(self):
        declared = [(svc, j, laddr) for svc in self.desired for j, laddr in enumerate(svc["laddrs"] or [])]
        if not declared:
            return None
        links = parse_link_show(_read(self.runner, [self.dpip(), "link", "show"]))
        known = sorted(link["name"] for link in links)
        for svc, j, laddr in declared:
            device(path_join(item_path(path_join(svc["path"], "laddrs"), j), "dev"), laddr["dev"], known=known)
        return links

    def lip_dev(self, ip):
        if self.addrs is None:
            self.addrs = parse_addr_show(_read(self.runner, [self.dpip(), "addr", "show"]))
        for addr in self.addrs:
            if addr["address"] == ip:
                return addr["dev"]
        return None

    def _read_live(self, with_lists, ln_text=None):
        """``(parsed, live)``: ``live`` without the services keepalived keeps (``foreign``), for
        every read of the table (the first, a re-read with the lists, the read-back)."""
        parallel = len(self.desired) >= PARALLEL_READS_FROM
        parsed, live = read_live(
            self.runner, self.binaries["ipvsadm"], self.flavor, self.with_thresholds, with_lists, ln_text, parallel
        )
        if self.foreign:
            live = [svc for svc in live if svc["key"] not in self.foreign]
        return parsed, live

    def read(self):
        if not self.probed:
            self._probe()
        self.parsed, live = self._read_live(self.with_lists, self.ln_text)
        self.runner.forget_prefetched()  # listings started early serve this first read only
        return live

    def fresh(self):
        """A freshly started DPVS: no service. With ``flavor: auto`` the flavour is DPVS's (only
        DPVS's ipvsadm says the daemon is down); laddr devices are not checked (nothing answers
        ``dpip link show``), the real run checks them."""
        if self.flavor == "kernel":
            return None
        if self.flavor == "auto":
            self.flavor = "dpvs"
            self.desired = self._own(M.normalize(self.params.get("services"), self.flavor))
        self._reads()
        self.parsed = {"version": None, "size": None, "services": []}
        return []

    def plan(self, live):
        options = dict(
            purge=bool(self.params.get("purge")),
            drain=bool(self.params.get("drain")),
            manage_laddr_addresses=self.params.get("manage_laddr_addresses", True) is not False,
            lip_dev=self.lip_dev,
            fallback_dev=self.links[0]["name"] if self.links else "dpdk0",
        )
        try:
            return plan(self.desired, live, self.flavor, **options)
        except NeedLists:
            # a recreated service's black/white lists were not read: read them, plan again (the
            # live table is replaced in place, so the guard and the diff see the lists too)
            self.with_lists = True
            self.parsed, live[:] = self._read_live(True)
            return plan(self.desired, live, self.flavor, **options)

    def guard(self, live, plan):
        _purge_guard.check(
            plan.purged,
            sum(1 for svc in live if M.manageable(svc)),
            sum(1 for svc in plan.expected if M.manageable(svc)),
            _purge_guard.limits(self.params),
            "services",
            "services",
            self.params.get("option_names"),
        )

    def planned(self, plan):
        self.units = execution_units(plan, self.params.get("batch_threshold", 20))
        if any(unit["kind"] == "cmd" and unit["action"].tool == "dpip" for unit in self.units):
            self.dpip()
        self.drained = planned_drains(plan)
        return planned_commands(self.units, self.binaries)

    def apply(self, plan):
        commands, self.drained, self.batch_errors = apply(
            self.units,
            self.runner,
            self.binaries,
            drain_timeout=self.params.get("drain_timeout", 30),
            drain_poll=self.params.get("drain_poll", 1),
            sleep=self.sleep,
            clock=self.clock,
        )
        self.applied = commands
        return commands

    def predict(self, live, plan):
        self.services = to_parser_shape(plan.expected, self.parsed) if plan else self.parsed["services"]
        return live

    def read_back(self, plan):
        """The table read again; after LIPs were added, also ``dpip -s addr show``: ``-G`` lists
        a LIP that a DPVS worker failed to add (out of hugepage memory), that listing fails
        (``_workers.check``: an ApplyError naming it)."""
        parsed_after, live_after = self._read_live(self.with_lists)
        self.services = parsed_after["services"]
        added = added_local_addresses(plan) if self.flavor == "dpvs" else []
        if added:
            _workers.check(self.runner, self.dpip(), self.applied, added, self.drained)
        return live_after

    def verify(self, plan, after):
        return verify(plan.expected, after)

    def not_converged(self, problems, commands, after):
        msg = "the IPVS table did not converge: " + "; ".join(problems[:5])
        if len(problems) > 5:
            msg += f" (and {len(problems) - 5} more)"
        if self.batch_errors:
            msg += "; ipvsadm -R reported: " + ", ".join(f"{e['text']}({e['code']})" for e in self.batch_errors)
        return NotConvergedError(msg, problems, commands, batch_errors=self.batch_errors)

    def report(self, after, plan):
        result = {"flavor": self.flavor, "drained": self.drained, "owned_elsewhere": sorted(self.foreign.values())}
        if self.params.get("return_services", True):
            result["services"] = self.services
        return result

    def render(self, state):
        return M.render_table(state, self.flavor)

    def render_after(self, plan, after):
        return M.render_table(plan.expected, self.flavor)


def run(
    params, runner, get_bin, check_mode=False, want_diff=False, sleep=time.sleep, clock=time.monotonic, validated=None
):
    """The ipvsadm module, minus AnsibleModule: the converge core over :class:`IpvsTable`.
    ``get_bin(option, default)`` resolves a binary (``ipvsadm_path``, ``dpip_path``);
    ``validated`` is ``validate_params(params)`` when the caller has it already (normalising
    10,000 services costs about half a second)."""
    table = IpvsTable(params, runner, get_bin, validated, sleep=sleep, clock=clock)
    return core.converge(table, check_mode, want_diff, fresh_when_down=core.fresh_option(params))


def _table_chars(params):
    """How much JSON the table given as ``services_json`` or ``services_file`` is (0 otherwise)."""
    if params.get("services_json"):
        return len(params["services_json"])
    path = params.get("services_file")
    return os.path.getsize(path) if path and os.path.isfile(path) else 0


def prefetch_listings(module, runner, params):
    """For a big table (:data:`PREFETCH_FROM_CHARS`) with its flavour given, the listings the
    first read takes (``-ln``, ``-ln --thresholds``; on DPVS ``-G`` and ``dpip link show``), started
    before the input is validated. Reading changes nothing, so an input error still stops the
    module before any change; a tool that is not found is left to :func:`find_tool`."""
    flavor = params.get("flavor")
    if flavor not in ("dpvs", "kernel") or _table_chars(params) < PREFETCH_FROM_CHARS:
        return
    ipvsadm = module.get_bin_path(params.get("ipvsadm_path") or "ipvsadm")
    if ipvsadm is None:
        return
    argvs = list(listing_commands(ipvsadm, flavor).values())
    if flavor == "dpvs":
        dpip = module.get_bin_path(params.get("dpip_path") or "dpip")
        if dpip is not None:
            argvs.append([dpip, "link", "show"])
    runner.prefetch(argvs)


def run_module(module, sleep=time.sleep, clock=time.monotonic, prepare=None):
    """Entry point of plugins/modules/ipvsadm.py: validate (before the binaries are looked up),
    converge, and report every error through the converge edge. ``prepare(params, options)``
    returns the parameters to use (the module passes ``services_file.with_file``; it is not
    imported here, since the host tool's replay imports this file with the standard library
    alone and services_file uses Ansible's type checkers)."""
    params = module.params

    runner = Runner.for_module(module, ipc_file=params.get("ipc_file"))

    def get_bin(option, default):
        absent_is_down = module.check_mode and core.fresh_option(params) and params.get("flavor") != "kernel"
        return find_tool(module, runner, params.get(option) or default, absent_is_down)

    loaded = {}

    def validate(raw):
        prefetch_listings(module, runner, raw)
        if prepare is not None:
            raw = prepare(raw, module.argument_spec["services"]["options"])
        loaded.update(raw)
        return validate_params(loaded)

    def converge(validated):
        return run(
            loaded, runner, get_bin, module.check_mode, module._diff, sleep=sleep, clock=clock, validated=validated
        )

    edge.run_module(module, validate, converge, parsers=((ParseError, ""), (DpipParseError, "")))
