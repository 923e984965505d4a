# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPVS readiness probe and state replay (installed on DPVS hosts by the dpvs.cluster.dpvs role).

    python3 dpvs_state.py wait   [--timeout 60] [--dpip dpip]
    python3 dpvs_state.py replay --state-dir /etc/dpvs/state [--timeout 60] [--dpip dpip] [--ipvsadm ipvsadm]

``wait`` (dpvs.service ExecStartPost): exits 0 as soon as ``dpip link show`` answers, so that
systemd counts DPVS as started only when its control plane works (DPVS takes seconds to
initialise, and dpip/ipvsadm fail until then).

``replay`` (dpvs-state.service, ordered after dpvs.service): DPVS starts with no addresses,
routes, services or local addresses; this applies the state the dpvs_network and
dpvs_services roles persisted, in order: ``addresses.json`` (``dpip addr add``),
``routes.json`` (``dpip route add``), then ``ipvsadm.rules`` through one ``ipvsadm -R``.
``ipvsadm -R`` goes on after a failing line and returns only the last line's exit code, so the
result is judged by reading the tables back (``dpip addr show``, ``dpip [-6] route show``,
``ipvsadm -ln``, ``ipvsadm -G``) and comparing them with the files. An object that already
exists (a replay on a DPVS that was not restarted) is not an error when the read-back matches.

Exit codes: 0 state applied and verified; 1 something is missing (each problem on stderr);
2 DPVS did not answer within the timeout; 3 unreadable state files.
Environment: DPVS_IPC_FILE is passed to dpip/ipvsadm (the unit sets it for ``dpvs -x``).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

FORMAT = 1
# "inet 10.0.96.204/32 scope global dpdk2" / "inet6 2001:db8::204/64 scope global dpdk0"
ADDR_RE = re.compile(r"^(?:\[\d+\] )?(inet6?) (\S+) scope \S+ (\S+)")
# "inet 10.0.96.0/24 via 0.0.0.0 src 0.0.0.0 dev dpdk2 mtu 1500 tos 0 scope link metric 0 proto auto "
ROUTE4_RE = re.compile(r"^inet (\S+) via (\S+) src \S+ dev (\S+) ")
# "inet6 2001:db8:2::/64 via 2001:db8::1 dev dpdk0 mtu 1500 scope global" / "inet6 default via ..."
ROUTE6_RE = re.compile(r"^inet6 (\S+)(?: via (\S+))?(?: src \S+)? dev (\S+)")
# "TCP  10.0.96.204:80 rr" (ipvsadm -ln service line)
SERVICE_RE = re.compile(r"^(TCP|UDP|SCTP|FWM|MATCH)\s+\S")
# "  -> 192.168.229.1:80             FullNat 1      0          0" (not the header line)
RS_RE = re.compile(r"^  -> (?!RemoteAddress)\S+\s+\S+\s+\d+")
# "                              192.168.229.204      0          0" (ipvsadm -G local address line)
LADDR_RE = re.compile(r"^\s+[0-9a-fA-F.:]+\s+\d+\s+\d+\s*$")
ENV = dict(os.environ, LANG="C", LC_ALL="C")


def run(argv, stdin=None):
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=ENV, timeout=120, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def wait_ready(dpip, timeout, interval=0.5):
    """True once ``dpip link show`` exits 0 (DPVS answers on its control socket)."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        try:
            rc, _out, err = run([dpip, "link", "show"])
        except OSError as exc:
            rc, err = 127, str(exc)
        if rc == 0:
            return True, ""
        last = (err or "").strip()
        if time.monotonic() >= deadline:
            return False, last
        time.sleep(interval)


def load_json(path, kind):
    if not os.path.exists(path):
        return {"format": FORMAT, "kind": kind, "entries": [], "commands": []}
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("kind") != kind:
        raise ValueError(f"{path}: not a dpvs.cluster {kind} state file (format {FORMAT})")
    if not all(isinstance(cmd, list) and cmd for cmd in data.get("commands", [])):
        raise ValueError(f"{path}: commands must be argument lists")
    return data


def load_rules(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def apply_dpip(dpip, data, problems, applied):
    for cmd in data["commands"]:
        rc, _out, err = run([dpip, *cmd])
        line = "dpip " + " ".join(cmd)
        if rc == 0:
            applied.append(line)
        elif "already exist" in err:
            applied.append(line + " (already there)")
        else:
            problems.append(f"{line}: exit {rc}: {err.strip()}")


def check_addresses(dpip, data, problems):
    rc, out, err = run([dpip, "addr", "show"])
    if rc != 0:
        problems.append(f"dpip addr show: exit {rc}: {err.strip()}")
        return
    live = set()
    for line in out.splitlines():
        match = ADDR_RE.match(line)
        if match:
            live.add((match.group(2), match.group(3)))
    for entry in data["entries"]:
        key = ("{}/{}".format(entry["address"], entry["prefixlen"]), entry["dev"])
        if key not in live:
            problems.append("address {} on {} is missing after the replay".format(*key))


def _route_prefix(prefix):
    return {"0.0.0.0/0": "0.0.0.0/0", "::/0": "default"}.get(prefix, prefix)


def check_routes(dpip, data, problems):
    live = set()
    for argv, regex in (([dpip, "route", "show"], ROUTE4_RE), ([dpip, "-6", "route", "show"], ROUTE6_RE)):
        rc, out, err = run(argv)
        if rc != 0:
            problems.append("{}: exit {}: {}".format(" ".join(argv[1:]), rc, err.strip()))
            continue
        for line in out.splitlines():
            match = regex.match(line)
            if match:
                via = match.group(2)
                live.add((match.group(1), None if via in (None, "0.0.0.0") else via, match.group(3)))
    for entry in data["entries"]:
        key = (_route_prefix(entry["prefix"]), entry["via"], entry["dev"])
        if key not in live:
            problems.append(
                "route {} {}dev {} is missing after the replay".format(
                    entry["prefix"], "via {} ".format(entry["via"]) if entry["via"] else "", entry["dev"]
                )
            )


def expected_counts(rules):
    counts = {"services": 0, "real_servers": 0, "laddrs": 0}
    for line in rules:
        words = line.split()
        if words[0] in ("-A", "--add-service"):
            counts["services"] += 1
        elif words[0] in ("-a", "--add-server"):
            counts["real_servers"] += 1
        elif words[0] in ("-P", "--add-laddr"):
            counts["laddrs"] += 1
    return counts


def live_counts(ipvsadm, problems):
    counts = {"services": 0, "real_servers": 0, "laddrs": 0}
    rc, out, err = run([ipvsadm, "-ln"])
    if rc != 0:
        problems.append(f"ipvsadm -ln: exit {rc}: {err.strip()}")
        return None
    for line in out.splitlines():
        if SERVICE_RE.match(line):
            counts["services"] += 1
        elif RS_RE.match(line):
            counts["real_servers"] += 1
    rc, out, err = run([ipvsadm, "-G"])
    if rc != 0:
        problems.append(f"ipvsadm -G: exit {rc}: {err.strip()}")
        return None
    counts["laddrs"] = sum(1 for line in out.splitlines()[1:] if LADDR_RE.match(line))
    return counts


def replay(args):
    ready, why = wait_ready(args.dpip, args.timeout)
    if not ready:
        sys.stderr.write(f"dpvs-state: DPVS did not answer 'dpip link show' within {args.timeout}s: {why}\n")
        return 2
    try:
        addresses = load_json(os.path.join(args.state_dir, "addresses.json"), "addresses")
        routes = load_json(os.path.join(args.state_dir, "routes.json"), "routes")
        rules = load_rules(os.path.join(args.state_dir, "ipvsadm.rules"))
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"dpvs-state: {exc}\n")
        return 3
    problems = []
    applied = []
    apply_dpip(args.dpip, addresses, problems, applied)
    apply_dpip(args.dpip, routes, problems, applied)
    restore_errors = ""
    if rules:
        rc, _out, err = run([args.ipvsadm, "-R"], stdin="\n".join(rules) + "\n")
        applied.append(f"ipvsadm -R ({len(rules)} lines, exit {rc})")
        restore_errors = err.strip()
    check_addresses(args.dpip, addresses, problems)
    check_routes(args.dpip, routes, problems)
    if rules:
        want = expected_counts(rules)
        have = live_counts(args.ipvsadm, problems)
        if have is not None and have != want:
            problems.append(
                "ipvsadm -R left {} (expected from {} lines: {}); its errors: {}".format(
                    have, len(rules), want, restore_errors or "none printed"
                )
            )
    for line in applied:
        sys.stdout.write(f"dpvs-state: {line}\n")
    if problems:
        for problem in problems:
            sys.stderr.write(f"dpvs-state: {problem}\n")
        return 1
    sys.stdout.write(
        "dpvs-state: replayed {} address(es), {} route(s), {} ipvsadm line(s) from {}\n".format(
            len(addresses["commands"]), len(routes["commands"]), len(rules), args.state_dir
        )
    )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="DPVS readiness probe and runtime state replay")
    sub = parser.add_subparsers(dest="command")
    for name in ("wait", "replay"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for DPVS to answer")
        cmd.add_argument("--dpip", default="dpip")
        if name == "replay":
            cmd.add_argument("--state-dir", required=True)
            cmd.add_argument("--ipvsadm", default="ipvsadm")
    args = parser.parse_args(argv)
    if args.command == "wait":
        ready, why = wait_ready(args.dpip, args.timeout)
        if not ready:
            sys.stderr.write(f"dpvs-state: DPVS did not answer 'dpip link show' within {args.timeout}s: {why}\n")
            return 2
        return 0
    if args.command == "replay":
        return replay(args)
    parser.print_usage(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
