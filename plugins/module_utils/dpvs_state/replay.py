# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPVS state replay, on the modules' own tables (``dpvs-cluster replay``).

    dpvs-cluster replay --state-dir /etc/dpvs/state [--timeout 60] [--dpip dpip] [--ipvsadm ipvsadm]

The readiness probe (``dpvs-cluster wait``) is :mod:`probe`; its functions are re-exported here.

``replay`` (dpvs-state.service, ordered after dpvs.service): DPVS starts with no addresses,
routes, services or local addresses; this converges it to the state the dpvs_network and
dpvs_services roles persisted (``persist``), in order, with the tables the modules use, the
persisted entries as the declared list and no purge: ``addresses.json`` (``AddressTable``),
``routes.json`` (``RouteTable``), then ``services.json`` (``IpvsTable``, every command in one
``ipvsadm -R``). A directory written before ``services.json`` existed has only
``ipvsadm.rules``: it goes through one ``ipvsadm -R`` and the counts of services, real servers
and local addresses read back must equal those of the rules. Each table is read, planned,
applied (a failing command does not stop the others) and read back; what the read-back still
lacks is a problem. An object that exists already is not planned, and a command that failed is
not a problem when the read-back has its object (``already there``).

Exit codes: 0 state applied and verified; 1 something is missing (each problem on stderr);
2 DPVS did not answer within the timeout (or its process ended); 3 unreadable state files
(a missing file is an empty one; a missing state directory is unreadable).
Environment: DPVS_IPC_FILE is passed to dpip/ipvsadm (the unit sets it for ``dpvs -x``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import sys
import time

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import CommandError
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import core
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.errors import ApplyError, NotConvergedError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import state as _dpip_state
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.parse import ParseError as DpipParseError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state import persist
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state.probe import (
    host_runner,
    not_ready,
    wait_ready,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import plan as _ipvs_plan
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs.parse import ParseError as IpvsParseError

PREFIX = "dpvs-state: "
TABLE_ERRORS = (CommandError, ApplyError, NotConvergedError, InputError, DpipParseError, IpvsParseError)


def _parser():
    parser = argparse.ArgumentParser(prog="dpvs-cluster replay", description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for DPVS to answer")
    parser.add_argument("--dpip", default="dpip")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--ipvsadm", default="ipvsadm")
    return parser


# ----------------------------------------------------------------------------- replay


def load(state_dir):
    """The persisted state: ``{addresses, routes, services}`` as the modules' parameters
    (``services`` None for a directory without services.json) and ``rules`` (ipvsadm.rules
    lines). Raises OSError or ValueError (also for an entry the modules would refuse)."""
    if not os.path.isdir(state_dir):
        raise ValueError(f"{state_dir}: no such state directory")
    state = {}
    # the modules' own checks, before any command
    checks = {
        "addresses": _dpip_state.normalize_addr_params,
        "routes": _dpip_state.normalize_route_params,
        "services": lambda params: _ipvs_plan.validate_params(dict(params, flavor="dpvs")),
    }
    for kind in persist.KINDS:
        path = os.path.join(state_dir, persist.FILES[kind])
        document = persist.read_document(path, kind, missing=kind != "services")
        try:
            state[kind] = None if document is None else persist.declared(document)
            checked = None if document is None else checks[kind](state[kind])
        except (InputError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        if kind == "services":
            state["validated"] = checked  # (flavor, desired services) for IpvsTable
    state["rules"] = persist.read_rules(os.path.join(state_dir, persist.RULES_FILE))
    return state


class Report:
    """What the replay did (stdout) and what is missing (stderr)."""

    def __init__(self):
        self.applied = []
        self.problems = []


def _dpip_line(argv):
    return " ".join(["dpip", *argv[1:]])


def _missing(kind, action):
    """A planned step the read-back still needs, as a problem."""
    item = action.item
    if action.op == "add" and kind == "addresses":
        return "address {}/{} on {} is missing after the replay".format(item["address"], item["prefixlen"], item["dev"])
    if action.op == "add":
        via = "via {} ".format(item["via"]) if item.get("via") else ""
        return "route {} {}dev {} is missing after the replay".format(item["prefix"], via, item["dev"])
    return f"still to do after the replay: {action.description}"


def _converge_replay(make_table, assume_fresh):
    """``(table, result, error)`` of one table's converge (``error``: its NotConvergedError, or
    None). ``assume_fresh``: first planned against the empty tables of a just-started DPVS,
    without reading them, the read-back judging; when that does not converge (something was
    there already and differs), planned again from a read. ``result["commands"]`` holds the
    commands of both attempts that succeeded and all of the last one's."""
    ran = []
    if assume_fresh:
        table = make_table()
        try:
            return table, core.converge(table, assume_fresh=True), None
        except NotConvergedError as exc:  # an ApplyError (a DPVS worker out of memory) stands
            ran = [entry for entry in exc.commands if entry.get("rc") == 0]
    table = make_table()
    try:
        result = core.converge(table)
    except NotConvergedError as exc:
        exc.commands = ran + exc.commands
        return table, {"changed": True, "commands": exc.commands}, exc
    result["commands"] = ran + result["commands"]
    result["changed"] = result["changed"] or bool(ran)
    return table, result, None


def replay_dpip(kind, params, runner, dpip, report, assume_fresh=False):
    """Converge one dpip table (``addresses``/``routes``) to ``params`` with the converge core:
    no purge, every command tried (``keep_going``), judged by the read-back. Returns the table
    (its ``before``: what the plan started from), None when nothing is declared."""
    if not params[kind]:
        return None

    def make_table():
        return _dpip_state.TABLES[kind](params, runner, dpip, strict_devices=False, keep_going=True)

    table, result, _error = _converge_replay(make_table, assume_fresh)
    commands = result["commands"]
    key = table.rules().key
    planned = {key(action.item) for action in table.last_plan}
    for entry in table.desired[kind]:
        if key(entry) not in planned:
            report.applied.append(_dpip_line(table.rules().add_argv(dpip, entry)) + " (already there)")
    still = {key(action.item) for action in table.remaining}
    still_argv = {tuple(action.argv) for action in table.last_plan if key(action.item) in still}
    for entry in commands:
        line = _dpip_line(entry["cmd"])
        if entry["rc"] == 0:
            report.applied.append(line)
        elif tuple(entry["cmd"]) in still_argv:
            report.problems.append(f"{line}: exit {entry['rc']}: {entry['stderr'].strip()}")
        else:
            report.applied.append(line + " (already there)")
    report.problems += [_missing(kind, action) for action in table.remaining]
    return table


def _command_line(entry):
    if "stdin" in entry:
        lines = entry["stdin"].count("\n")
        return f"ipvsadm -R ({lines} lines, exit {entry['rc']})"
    return " ".join(["ipvsadm", *entry["cmd"][1:]]) + f" (exit {entry['rc']})"


def replay_services(params, validated, runner, binaries, report, assume_fresh=False):
    """Converge the IPVS table to the declared services with the ipvsadm module's IpvsTable:
    no purge, no drain, every command in one ``ipvsadm -R`` (it goes on after a failing line),
    judged by the read-back (``plan.verify``)."""
    if not params["services"]:
        return
    params = dict(params, flavor="dpvs", purge=False, drain=False, batch_threshold=0)
    params.update(ipvsadm_path=binaries["ipvsadm"], dpip_path=binaries["dpip"])

    def get_bin(option, default):
        return params.get(option) or default

    def make_table():
        return _ipvs_plan.IpvsTable(params, runner, get_bin, validated)

    _table, result, error = _converge_replay(make_table, assume_fresh)
    report.applied += [_command_line(entry) for entry in result["commands"]]
    if error is not None:
        report.problems += [f"{problem} after the replay" for problem in error.remaining]
        if error.batch_errors:
            errors = ", ".join(f"{e['text']}({e['code']})" for e in error.batch_errors)
            report.problems.append(f"ipvsadm -R reported: {errors}")
    elif not result["changed"]:
        report.applied.append("ipvsadm: {} service(s) already there".format(len(params["services"])))


def rule_counts(rules):
    """What ``ipvsadm -R`` of ``rules`` adds: services, real servers, local addresses."""
    counts = {"services": 0, "real_servers": 0, "laddrs": 0}
    names = {"-A": "services", "--add-service": "services", "-a": "real_servers", "--add-server": "real_servers"}
    names.update({"-P": "laddrs", "--add-laddr": "laddrs"})
    for line in rules:
        name = names.get(line.split()[0])
        if name:
            counts[name] += 1
    return counts


def replay_rules(rules, runner, ipvsadm, report):
    """A directory from before services.json: one ``ipvsadm -R`` of ipvsadm.rules, then the
    counts of the read-back (``ipvs.parse`` through ``plan.read_live``) against the rules'."""
    if not rules:
        return
    rc, _out, err = runner.run([ipvsadm, "-R"], data="".join(line + "\n" for line in rules), check_rc=False)
    report.applied.append(f"ipvsadm -R ({len(rules)} lines, exit {rc})")
    parsed, _live = _ipvs_plan.read_live(runner, ipvsadm, "dpvs", with_thresholds=False)
    have = {
        "services": len(parsed["services"]),
        "real_servers": sum(len(svc["real_servers"]) for svc in parsed["services"]),
        "laddrs": sum(len(svc["laddrs"] or []) for svc in parsed["services"]),
    }
    want = rule_counts(rules)
    if have != want:
        report.problems.append(
            "ipvsadm -R left {} (expected from {} lines: {}); its errors: {}".format(
                have, len(rules), want, err.strip() or "none printed"
            )
        )


def _guarded(step, report, *args, **options):
    """Run one table's replay; an error that stops it (a read that fails, DPVS gone, output
    the parsers do not know) is a problem, and the next table still runs. Returns what the
    step returns (None after an error)."""
    try:
        return step(*args, report, **options)
    except TABLE_ERRORS as exc:
        report.problems.append(getattr(exc, "msg", None) or str(exc))
        return None


def replay(state, runner, binaries):
    """Replay the loaded ``state`` (see :func:`load`); returns the :class:`Report`. When the
    address table read first holds nothing but DPVS's own link-local addresses, DPVS has just
    started: routes and services are then planned against empty tables, without reading them
    first (:func:`_converge_replay`), which saves most of the commands on the way back to
    serving after a crash."""
    report = Report()
    addresses = _guarded(replay_dpip, report, "addresses", state["addresses"], runner, binaries["dpip"])
    fresh = addresses is not None and addresses.before is not None and _dpip_state.is_fresh(addresses.before)
    _guarded(replay_dpip, report, "routes", state["routes"], runner, binaries["dpip"], assume_fresh=fresh)
    if state["services"] is not None:
        services = state["services"], state["validated"], runner, binaries
        _guarded(replay_services, report, *services, assume_fresh=fresh)
    else:
        _guarded(replay_rules, report, state["rules"], runner, binaries["ipvsadm"])
    return report


def _summary(state, state_dir):
    if state["services"] is not None:
        ipvs = "{} service(s)".format(len(state["services"]["services"]))
    else:
        ipvs = "{} ipvsadm line(s)".format(len(state["rules"]))
    return "replayed {} address(es), {} route(s), {} from {}".format(
        len(state["addresses"]["addresses"]), len(state["routes"]["routes"]), ipvs, state_dir
    )


def replay_main(argv=None, runner=None, out=None, err=None):
    """``dpvs-cluster replay``: 0 replayed and verified, 1 something missing, 2 DPVS did not
    answer, 3 unreadable state files (see the module docstring)."""
    args = _parser().parse_args(argv)
    out, err = out or sys.stdout, err or sys.stderr
    ready, why = wait_ready(runner or host_runner(time.monotonic() + args.timeout), args.dpip, args.timeout)
    if not ready:
        return not_ready(args.timeout, why, err, PREFIX)
    try:
        state = load(args.state_dir)
    except (OSError, ValueError) as exc:
        err.write(f"{PREFIX}{exc}\n")
        return 3
    report = replay(state, runner or host_runner(), {"dpip": args.dpip, "ipvsadm": args.ipvsadm})
    for line in report.applied:
        out.write(f"{PREFIX}{line}\n")
    for problem in report.problems:
        err.write(f"{PREFIX}{problem}\n")
    if report.problems:
        return 1
    out.write(PREFIX + _summary(state, args.state_dir) + "\n")
    return 0
