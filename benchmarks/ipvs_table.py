"""How long does it take to load an IPVS table, five ways, side by side.

A table of N services x M real servers (FullNAT, with ports) + K local addresses per service
(the same K LIPs shared by all services, as a LIP pool on the LAN port is) is loaded:

1. raw ``ipvsadm -R``: every rule as a stdin line of one process (the floor);
2. the ``dpvs.cluster.ipvsadm`` module, cold (empty table), through ansible-playbook; the
   module's own share is the task's duration from the JSON callback;
3. the same module run again (nothing to do: read, compare, report no change);
4. an ``ansible.builtin.command`` loop, one task item per rule: measured on a sample of S
   rules and EXTRAPOLATED to the whole table (it is too slow to run in full);
5. a shell loop that starts one ``ipvsadm`` process per rule;
6. ``profile`` (not in the default set): the module alone, no ansible-playbook, on the loaded
   table (a no-op), under cProfile: its wall time, its peak RSS and the functions it spends
   its time in, by cumulative and by own time (``--profile-top`` of each).

Each method starts from an empty table and its result is read back (``ipvsadm -ln``/``-G``)
and checked, so a fast wrong answer cannot win.

By default it runs against the repository's DPVS emulator, started in a temp dir. Against a
real DPVS (or kernel IPVS: ``--flavor kernel``, which has no laddrs) pass ``--dpip``,
``--ipvsadm`` (and ``--ipc-file``) and ``--allow-flush``: between methods the table is
flushed with ``ipvsadm -C`` and the LIPs removed from the NIC, so never point it at a host
that carries traffic.

    python benchmarks/ipvs_table.py --services 50 --real-servers 4 --laddrs 2
"""

import argparse
import contextlib
import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EMULATOR_BIN = os.path.join(REPO, "tests", "emulator", "bin")
DEFAULT_PORTS = os.path.join(REPO, "tests", "emulator", "ports-seed001.json")
COLLECTIONS = os.path.join(REPO, "build", "collections")


def ensure_collection_link():
    """build/collections/ansible_collections/dpvs/cluster -> this repository (make setup makes it)."""
    link = os.path.join(COLLECTIONS, "ansible_collections", "dpvs", "cluster")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if not os.path.islink(link):
        with contextlib.suppress(FileExistsError):
            os.symlink(REPO, link)


# the collection's runner (it imports nothing of Ansible) reads the table back, with its retry of
# DPVS's transient read error
ensure_collection_link()
sys.path.insert(0, COLLECTIONS)
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import (  # noqa: E402
    CommandError,
    Runner,
    subprocess_run_command,
)

# "TCP  10.0.96.1:80 rr"
SERVICE_LINE_RE = re.compile(r"^(TCP|UDP|SCTP)\s+\S+:\d+ ")
# "  -> 192.168.229.1:8000             FullNat 1      0          0         "
RS_LINE_RE = re.compile(r"^  -> \S+:\d+ ")
# "                              192.168.229.200      0          0         "
LADDR_LINE_RE = re.compile(r"^\s+[0-9a-fA-F.:]+\s+\d+\s+\d+\s*$")


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


def build_table(services, real_servers, laddrs, lan_dev, kernel):
    """The desired table as module input (a list of service dicts)."""
    table = []
    for i in range(services):
        svc = {
            "protocol": "tcp",
            "vip": f"10.{100 + i // 62500}.{i // 250 % 250}.{i % 250 + 1}",
            "port": 80,
            "scheduler": "rr",
            "real_servers": [
                {"ip": f"192.168.{229 + j // 250}.{j % 250 + 1}", "port": 8000 + i % 1000,
                 "forward": "masq" if kernel else "fullnat", "weight": 1}
                for j in range(real_servers)
            ],
        }  # fmt: skip
        if not kernel:
            svc["laddrs"] = [{"ip": f"192.168.{240 + k // 250}.{k % 250 + 1}", "dev": lan_dev} for k in range(laddrs)]
        table.append(svc)
    return table


def rule_lines(table):
    """The same table as ipvsadm option lines (what ``ipvsadm -R`` reads), in apply order."""
    lines = []
    for svc in table:
        key = f"-t {svc['vip']}:{svc['port']}"
        lines.append(f"-A {key} -s {svc['scheduler']}")
        for rs in svc["real_servers"]:
            switch = "-m" if rs["forward"] == "masq" else "-b"
            lines.append(f"-a {key} -r {rs['ip']}:{rs['port']} {switch} -w {rs['weight']}")
        for laddr in svc.get("laddrs", []):
            lines.append(f"--add-laddr {key} -z {laddr['ip']} -F {laddr['dev']}")
    return lines


# ---------------------------------------------------------------------------------------------
# The target: the emulator, or a real DPVS / kernel IPVS
# ---------------------------------------------------------------------------------------------


class Target:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.emulated = args.dpip is None and args.ipvsadm is None
        self.dpip = os.path.abspath(args.dpip or os.path.join(EMULATOR_BIN, "dpip"))
        self.ipvsadm = os.path.abspath(args.ipvsadm or os.path.join(EMULATOR_BIN, "ipvsadm"))
        self.ipc_file = args.ipc_file or (os.path.join(workdir, "dpvs.ipc") if self.emulated else None)
        env = dict(os.environ)
        path = [os.path.dirname(self.ipvsadm), os.path.dirname(self.dpip)]
        if self.emulated:
            # the emulator's tools are `#!/usr/bin/env python3`: run them on this interpreter
            # (a pyenv shim in front of python3 would add ~100 ms to every process)
            pybin = os.path.join(workdir, "pybin")
            os.makedirs(pybin, exist_ok=True)
            os.symlink(sys.executable, os.path.join(pybin, "python3"))
            path.append(pybin)
        env["PATH"] = os.pathsep.join([*path, env.get("PATH", "")])
        env["LANG"] = env["LC_ALL"] = "C.UTF-8"  # ansible-core refuses other locales
        env.pop("DPVS_EMULATOR_LOG", None)
        if self.ipc_file:
            env["DPVS_IPC_FILE"] = self.ipc_file
        if self.emulated:
            env["DPVS_EMULATOR_STATE"] = os.path.join(workdir, "dpvs-state.json")
        self.env = env

    def run(self, argv, stdin=None, check=True):
        proc = subprocess.run(argv, input=stdin, env=self.env, capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            sys.exit(f"{shlex.join(argv)} failed rc={proc.returncode}: {proc.stderr.strip()[-500:]}")
        return proc

    def read(self, argv):
        """stdout of a read-only command through the collection's runner, which retries DPVS's
        transient ``msg callback failed(-23)`` (a real v1.10.2 gave it to ``ipvsadm -ln`` right
        after a 10,000-service -R, which aborted the benchmark)."""
        try:
            return Runner(subprocess_run_command, environ=self.env).run(argv, read_only=True)[1]
        except CommandError as exc:
            sys.exit(exc.msg)

    def emulator(self, *args):
        return self.run([os.path.join(EMULATOR_BIN, "dpvs-emulator"), *args])

    def start(self):
        if self.emulated:
            self.emulator("start", self.args.ports_file)

    def stop(self):
        if self.emulated:
            self.run([os.path.join(EMULATOR_BIN, "dpvs-emulator"), "stop"], check=False)

    def reset(self, table):
        """An empty table: restart the emulator; on a real target flush and drop the LIPs."""
        if self.emulated:
            self.emulator("stop")
            self.emulator("start", self.args.ports_file)
            return
        self.run([self.ipvsadm, "-C"])
        lips = {(laddr["ip"], laddr["dev"]) for svc in table for laddr in svc.get("laddrs", [])}
        for ip, dev in sorted(lips):
            self.run([self.dpip, "addr", "del", f"{ip}/32", "dev", dev], check=False)

    def count(self):
        """(services, real servers, laddrs) in the live table."""
        listing = self.read([self.ipvsadm, "-ln"]).splitlines()
        services = sum(1 for line in listing if SERVICE_LINE_RE.match(line))
        rss = sum(1 for line in listing if RS_LINE_RE.match(line))
        laddrs = 0
        if self.args.flavor != "kernel":
            listing = self.read([self.ipvsadm, "-G"]).splitlines()[1:]
            laddrs = sum(1 for line in listing if LADDR_LINE_RE.match(line))
        return services, rss, laddrs


# ---------------------------------------------------------------------------------------------
# ansible-playbook
# ---------------------------------------------------------------------------------------------


def ansible_playbook_bin(args):
    if args.ansible_playbook:
        return args.ansible_playbook
    sibling = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if os.access(sibling, os.X_OK):
        return sibling
    found = shutil.which("ansible-playbook")
    if not found:
        sys.exit("ansible-playbook not found (pass --ansible-playbook)")
    return found


def play(target, args, playbook, variables):
    """Run a playbook; return (wall seconds, task durations {name: seconds}, result of each task)."""
    ensure_collection_link()
    vars_file = os.path.join(target.workdir, "bench-vars.json")
    base = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "bench_dpip": target.dpip,
        "bench_ipvsadm": target.ipvsadm,
        "bench_ipc_file": target.ipc_file,
        "bench_flavor": args.flavor,
    }
    base.update(variables)
    with open(vars_file, "w") as handle:
        json.dump(base, handle)
    paths = [COLLECTIONS]
    purelib = sysconfig.get_paths()["purelib"]
    if os.path.isdir(os.path.join(purelib, "ansible_collections")):
        paths.append(purelib)
    config = os.path.join(target.workdir, "ansible.cfg")  # empty: no user or tree config applies
    with open(config, "w") as handle:
        handle.write("[defaults]\n")
    env = dict(target.env)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(paths),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_PIPELINING": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_CONFIG": config,
            "ANSIBLE_LOCAL_TEMP": os.path.join(target.workdir, "ansible-tmp"),
        }
    )
    argv = [ansible_playbook_bin(args), "-i", "localhost,", "-c", "local", "-e", "@" + vars_file,
            os.path.join(HERE, playbook)]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=target.workdir, check=False)
    wall = time.perf_counter() - started
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        sys.exit(f"{playbook}: no JSON output (rc={proc.returncode})\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    durations, results = {}, {}
    for task in data["plays"][0]["tasks"]:
        name = task["task"]["name"]
        span = task["task"]["duration"]
        start, end = (datetime.datetime.fromisoformat(span[k].replace("Z", "+00:00")) for k in ("start", "end"))
        durations[name] = (end - start).total_seconds()
        results[name] = task["hosts"].get("localhost", {})
    if proc.returncode != 0:
        failed = {name: r.get("msg") for name, r in results.items() if r.get("failed")}
        sys.exit(f"{playbook} failed (rc={proc.returncode}): {failed or proc.stderr[-2000:]}")
    return wall, durations, results


# ---------------------------------------------------------------------------------------------
# The methods
# ---------------------------------------------------------------------------------------------


class Row:
    def __init__(self, method, seconds, rules, note="", verified=None):
        self.method = method
        self.seconds = seconds
        self.rules = rules
        self.note = note
        self.verified = verified


def check_table(target, expected):
    got = target.count()
    return "ok" if got == expected else f"MISMATCH {got} != {expected}"


def bench_restore(target, table, lines, expected):
    target.reset(table)
    started = time.perf_counter()
    target.run([target.ipvsadm, "-R"], stdin="\n".join(lines) + "\n")
    seconds = time.perf_counter() - started
    return Row("ipvsadm -R (one process)", seconds, len(lines), verified=check_table(target, expected))


def own(durations, task):
    """A task's time minus that of ansible.builtin.ping: the module's own work, roughly."""
    return durations[task] - durations["Baseline, a module that does nothing"]


def table_input(target, args, table, prefix=""):
    """How the module gets the table: the ``services`` option, or with ``--services-file`` a
    JSON file it reads itself (``services_file``), or with ``--services-json`` one JSON string
    (``services_json``, as the dpvs_services role hands it over)."""
    if args.services_json:
        return {f"{prefix}services_json": json.dumps(table)}
    if not args.services_file:
        return {f"{prefix}services": table}
    path = os.path.join(target.workdir, "services.json")
    with open(path, "w") as handle:
        json.dump(table, handle)
    return {f"{prefix}services_file": path}


def bench_module(target, args, table, lines, expected):
    target.reset(table)
    variables = {"bench_batch_threshold": args.batch_threshold, **table_input(target, args, table, "bench_")}
    wall, durations, results = play(target, args, "ipvs_table.yml", variables)
    task = "Converge the IPVS table"
    cold = results[task]
    if not cold.get("changed"):
        sys.exit("the cold converge reported no change: is the table really empty?")
    cold_row = Row(
        "module, cold converge (ansible-playbook)",
        wall,
        len(lines),
        f"module task {durations[task]:.2f} s ({own(durations, task):.2f} s over ping); "
        f"{len(cold.get('commands', []))} write process(es)",
        check_table(target, expected),
    )
    wall, durations, results = play(target, args, "ipvs_table.yml", variables)
    noop = results[task]
    noop_row = Row(
        "module, no-op re-run (ansible-playbook)",
        wall,
        len(lines),
        f"module task {durations[task]:.2f} s ({own(durations, task):.2f} s over ping); changed={noop.get('changed')}",
        "ok" if noop.get("changed") is False else "CHANGED on a re-run",
    )
    return cold_row, noop_row


ROLE_SERVICES_TASK = "Services | converge virtual services, real servers and local addresses"


def bench_role(target, args, table, lines, expected):
    """The dpvs_services role, cold then again (no-op), with the table as dpvs_services_services
    (an extra variable, as an inventory would hold it)."""
    target.reset(table)
    variables = {
        "bench_batch_threshold": args.batch_threshold,
        "bench_state_dir": os.path.join(target.workdir, "state"),
        "dpvs_services_services": table,
    }
    rows = []
    for label, want_changed in (("cold", True), ("no-op", False)):
        wall, durations, results = play(target, args, "dpvs_services_role.yml", variables)
        task = next(name for name in durations if name.endswith(ROLE_SERVICES_TASK))
        changed = results[task].get("changed")
        tasks = sum(durations.values())
        rows.append(
            Row(
                f"role dpvs_services, {label} (ansible-playbook)",
                wall,
                len(lines),
                f"converge task {durations[task]:.2f} s; all {len(durations)} tasks {tasks:.2f} s; changed={changed}",
                check_table(target, expected) if changed is want_changed else f"changed={changed}",
            )
        )
    return rows


def bench_command_loop(target, args, table, lines):
    target.reset(table)
    sample = lines[: args.sample]
    rules = [[target.ipvsadm, *shlex.split(line)] for line in sample]
    _wall, durations, results = play(target, args, "command_loop.yml", {"bench_rules": rules})
    task = "One ansible.builtin.command per rule"
    per_rule = durations[task] / len(sample)
    done = len(results[task].get("results", []))
    return Row(
        "ansible.builtin.command loop",
        per_rule * len(lines),
        len(lines),
        f"EXTRAPOLATED from {len(sample)} rules ({per_rule * 1000:.0f} ms/rule)",
        "ok" if done == len(sample) else f"MISMATCH {done} items != {len(sample)}",
    )


def bench_shell_loop(target, table, lines, expected, sample):
    target.reset(table)
    chosen = lines if not sample else lines[:sample]
    script = os.path.join(target.workdir, "rules.sh")
    with open(script, "w") as handle:
        handle.write("set -e\n")
        for line in chosen:
            handle.write(f"{shlex.quote(target.ipvsadm)} {line}\n")
    started = time.perf_counter()
    target.run(["sh", script])
    seconds = time.perf_counter() - started
    if sample:
        return Row(
            "shell loop, one ipvsadm per rule",
            seconds / len(chosen) * len(lines),
            len(lines),
            f"EXTRAPOLATED from {len(chosen)} rules",
            "ok (sample)",
        )
    return Row("shell loop, one ipvsadm per rule", seconds, len(lines), "", check_table(target, expected))


PROFILED = r"""
import cProfile, pstats, resource, runpy, sys
module, args_file, top = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.argv = [module, args_file]
profiler = cProfile.Profile()
try:
    profiler.runcall(runpy.run_path, module, run_name="__main__")
except SystemExit:
    pass
stats = pstats.Stats(profiler, stream=sys.stderr)
stats.sort_stats("cumulative").print_stats(top)
stats.sort_stats("tottime").print_stats(top)
sys.stderr.write("maxrss_kb=%d\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def bench_profile(target, args, table, lines, expected):
    """The module alone on the loaded table (no-op), under cProfile, with its peak RSS."""
    target.reset(table)
    target.run([target.ipvsadm, "-R"], stdin="\n".join(lines) + "\n")
    params = {
        **table_input(target, args, table),
        "flavor": args.flavor,
        "batch_threshold": args.batch_threshold,
        "return_services": False,
    }
    params.update(ipvsadm_path=target.ipvsadm, dpip_path=target.dpip)
    if target.ipc_file:
        params["ipc_file"] = target.ipc_file
    args_file = os.path.join(target.workdir, "module-args.json")
    with open(args_file, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": params}, handle)
    module = os.path.join(REPO, "plugins", "modules", "ipvsadm.py")
    env = dict(target.env, PYTHONPATH=COLLECTIONS)
    argv = [sys.executable, "-c", PROFILED, module, args_file, str(args.profile_top)]
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    result = json.loads(proc.stdout or "{}")
    rss = re.search(r"maxrss_kb=(\d+)", proc.stderr)
    if result.get("failed") or rss is None:
        sys.exit(f"the profiled module failed: {result.get('msg') or proc.stderr[-2000:]}")
    print(proc.stderr[: rss.start()])
    return Row(
        "module alone, no-op, under cProfile",
        seconds,
        len(lines),
        f"peak RSS {int(rss.group(1)) / 1024:.0f} MB; changed={result.get('changed')}",
        "ok" if result.get("changed") is False else "CHANGED on a loaded table",
    )


def table_option(args):
    if args.services_json:
        return "services_json"
    return "services_file" if args.services_file else "the services option"


def print_table(rows, args, lines, target):
    what = "emulator" if target.emulated else f"{target.ipvsadm}"
    print(
        f"\nIPVS table: {args.services} services x {args.real_servers} real servers"
        + ("" if args.flavor == "kernel" else f" + {args.laddrs} laddrs each")
        + f" = {len(lines)} rules; target: {what}; batch_threshold {args.batch_threshold}"
        + f"; table as {table_option(args)}\n"
    )
    header = f"{'method':<42} {'seconds':>9} {'rules/s':>9}  {'check':<8} note"
    print(header)
    print("-" * len(header))
    for row in rows:
        rate = row.rules / row.seconds if row.seconds else float("inf")
        print(f"{row.method:<42} {row.seconds:>9.2f} {rate:>9.0f}  {row.verified or '':<8} {row.note}")
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--services", type=int, default=50, help="N services (default 50)")
    parser.add_argument("--real-servers", type=int, default=4, help="M real servers per service (default 4)")
    parser.add_argument("--laddrs", type=int, default=2, help="K local addresses per service (default 2)")
    parser.add_argument("--sample", type=int, default=20, help="rules run by the command loop (default 20)")
    parser.add_argument("--shell-sample", type=int, default=0, help="extrapolate the shell loop from this many rules")
    parser.add_argument("--dpip", help="dpip binary (default: the emulator's)")
    parser.add_argument("--ipvsadm", help="ipvsadm binary (default: the emulator's)")
    parser.add_argument("--ipc-file", help="DPVS control socket (DPVS_IPC_FILE)")
    parser.add_argument("--flavor", choices=["auto", "dpvs", "kernel"], default="auto")
    parser.add_argument("--lan-dev", default="dpdk0", help="device of the local addresses (default dpdk0)")
    parser.add_argument("--ports-file", default=DEFAULT_PORTS, help="emulator ports file")
    parser.add_argument("--batch-threshold", type=int, default=20, help="the module's batch_threshold")
    parser.add_argument("--ansible-playbook", help="ansible-playbook to use")
    parser.add_argument(
        "--methods",
        default="restore,module,command,shell",
        help="comma-separated subset of restore,module,role,command,shell,profile (default: all but role, profile)",
    )
    parser.add_argument(
        "--services-file",
        action="store_true",
        help="hand the module the table as a JSON file (services_file) instead of the services option",
    )
    parser.add_argument(
        "--services-json",
        action="store_true",
        help="hand the module the table as one JSON string (services_json, as the dpvs_services role does)",
    )
    parser.add_argument("--profile-top", type=int, default=15, help="functions the profile prints (default 15)")
    parser.add_argument("--allow-flush", action="store_true", help="needed against a real DPVS/IPVS (flushes it!)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    if (args.dpip or args.ipvsadm) and not args.allow_flush:
        parser.error("against a real DPVS/IPVS the table is flushed between methods: add --allow-flush")
    kernel = args.flavor == "kernel"
    methods = set(args.methods.split(","))
    table = build_table(args.services, args.real_servers, 0 if kernel else args.laddrs, args.lan_dev, kernel)
    lines = rule_lines(table)
    expected = (args.services, args.services * args.real_servers, 0 if kernel else args.services * args.laddrs)

    rows = []
    with tempfile.TemporaryDirectory(prefix="dpvs-bench-") as workdir:
        target = Target(args, workdir)
        target.start()
        try:
            if "restore" in methods:
                rows.append(bench_restore(target, table, lines, expected))
            if "module" in methods:
                rows.extend(bench_module(target, args, table, lines, expected))
            if "role" in methods:
                rows.extend(bench_role(target, args, table, lines, expected))
            if "command" in methods:
                rows.append(bench_command_loop(target, args, table, lines))
            if "shell" in methods:
                rows.append(bench_shell_loop(target, table, lines, expected, args.shell_sample))
            if "profile" in methods:
                rows.append(bench_profile(target, args, table, lines, expected))
            target.reset(table)
        finally:
            target.stop()
    print_table(rows, args, lines, target)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    "services": args.services,
                    "real_servers": args.real_servers,
                    "laddrs": 0 if kernel else args.laddrs,
                    "rules": len(lines),
                    "rows": [vars(row) for row in rows],
                },
                handle,
                indent=2,
            )
    return 0 if all((row.verified or "ok").startswith("ok") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
