"""The emulator tier's tools: a DPVS emulator per test, and ansible-playbook runs against it.

Every test gets its own emulator (state file, IPC socket path and command log in the test's
tmp dir), so tests share nothing and are safe to run in parallel (``pytest -n 2``; the
bad-input cases share one playbook run per worker: use ``--dist loadgroup``).

Playbooks live in ``tests/integration/playbooks/`` and get their variables from an
extra-vars file written per run. Each module task in a playbook sets ``DPVS_EMULATOR_LOG``
(``environment:``) to its own file under ``log_dir``, so a test can tell exactly which
dpip/ipvsadm processes a task started (``Emulator.log(phase)``).

State is read back with the emulator's own ``dpip``/``ipvsadm`` (never its JSON file), and
parsed here with small independent parsers: the collection's own parsers are what is under
test, so they are not used to judge it.
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PLAYBOOKS = os.path.join(HERE, "playbooks")
EMULATOR_DIR = os.path.join(REPO, "tests", "emulator")
EMULATOR_BIN = os.path.join(EMULATOR_DIR, "bin")
PORTS_SEED001 = os.path.join(EMULATOR_DIR, "ports-seed001.json")
COLLECTIONS = os.path.join(REPO, "build", "collections")


def ansible_playbook_bin():
    """The ansible-playbook that goes with the running Python.

    ``$ANSIBLE_PLAYBOOK`` wins; then the one next to ``sys.executable`` (its
    site-packages are the ones added to the collections path); then PATH.
    """
    override = os.environ.get("ANSIBLE_PLAYBOOK")
    if override:
        return override
    sibling = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if os.access(sibling, os.X_OK):
        return sibling
    found = shutil.which("ansible-playbook")
    if found:
        return found
    pytest.fail(f"ansible-playbook not found next to {sys.executable} nor on PATH")


def collections_path():
    """build/collections (dpvs.cluster -> this checkout) + the running Python's collections."""
    paths = [COLLECTIONS]
    purelib = sysconfig.get_paths()["purelib"]
    if os.path.isdir(os.path.join(purelib, "ansible_collections")):
        paths.append(purelib)
    return os.pathsep.join(paths)


# --------------------------------------------------------------------------------------------
# Independent readers of dpip/ipvsadm output (formats: the transcripts README, sections 2.x)
# --------------------------------------------------------------------------------------------

# "inet 192.168.229.204/32 scope global dpdk0"
ADDR_RE = re.compile(r"^(?P<family>inet6?) (?P<addr>\S+) scope (?P<scope>\S+) (?P<dev>\S+)")
# "     valid_lft forever preferred_lft forever sa_used 0 sa_free 1032176 sa_miss 0"
LFT_RE = re.compile(r"^\s+valid_lft")
# "inet 10.0.96.0/24 via 0.0.0.0 src 0.0.0.0 dev dpdk0 mtu 1500 tos 0 scope link metric 0 proto auto "
ROUTE4_RE = re.compile(
    r"^inet (?P<prefix>\S+) via (?P<via>\S+) src (?P<src>\S+) dev (?P<dev>\S+) mtu (?P<mtu>\d+)"
    r" tos \d+ scope (?P<scope>\S+) metric (?P<metric>\d+)"
)
# "inet6 2001:db8:2::/64 via 2001:db8::1 dev dpdk0 mtu 1500 scope global"
# "inet6 2001:db8::/64 src 2001:db8::205 dev dpdk0 mtu 1500 scope link"
ROUTE6_RE = re.compile(
    r"^inet6 (?P<prefix>\S+)(?: via (?P<via>\S+))?(?: src (?P<src>\S+))? dev (?P<dev>\S+)"
    r"(?: mtu (?P<mtu>\d+))?(?: scope (?P<scope>\S+))?"
)
# "TCP  10.0.96.204:80 rr" / "UDP  [2001:db8::204]:53 wlc persistent 300"
SVC_RE = re.compile(r"^(?P<proto>TCP|UDP|SCTP)\s+(?P<addr>\S+):(?P<port>\d+) (?P<sched>\S+)(?P<flags>.*)$")
# "  -> 192.168.229.1:80             FullNat 1      0          0         "
RS_RE = re.compile(
    r"^  -> (?P<addr>\S+):(?P<port>\d+)\s+(?P<fwd>\S+)\s+(?P<weight>\d+)\s+(?P<active>\d+)\s+(?P<inact>\d+)"
)
# "10.0.96.204:80       1        "
LADDR_SVC_RE = re.compile(r"^(?P<svc>\S+:\d+)\s+(?P<total>\d+)\s*$")
# "                              192.168.229.204      0          0         "
LADDR_RE = re.compile(r"^\s+(?P<ip>[0-9a-fA-F.:]+)\s+(?P<conflicts>\d+)\s+(?P<conns>\d+)\s*$")


def parse_addrs(text):
    """``dpip -s addr show`` -> {(addr/plen, dev): {"family", "scope", "sapool"}}."""
    found = {}
    last = None
    for line in text.splitlines():
        match = ADDR_RE.match(line)
        if match:
            last = (match.group("addr"), match.group("dev"))
            found[last] = {"family": match.group("family"), "scope": match.group("scope"), "sapool": False}
        elif LFT_RE.match(line) and last is not None and "sa_used" in line:
            found[last]["sapool"] = True
    return found


def parse_routes(text4, text6):
    """``dpip route show`` + ``dpip -6 route show`` -> {(prefix, dev, via): {...}}."""
    found = {}
    for line in text4.splitlines():
        match = ROUTE4_RE.match(line)
        if match:
            via = None if match.group("via") == "0.0.0.0" else match.group("via")
            src = None if match.group("src") == "0.0.0.0" else match.group("src")
            found[(match.group("prefix"), match.group("dev"), via)] = {
                "src": src,
                "scope": match.group("scope"),
                "mtu": int(match.group("mtu")),
                "metric": int(match.group("metric")),
            }
    for line in text6.splitlines():
        match = ROUTE6_RE.match(line)
        if match:
            found[(match.group("prefix"), match.group("dev"), match.group("via"))] = {
                "src": match.group("src"),
                "scope": match.group("scope"),
                "mtu": int(match.group("mtu")) if match.group("mtu") else None,
                "metric": None,
            }
    return found


def parse_services(text):
    """``ipvsadm -ln`` -> {"tcp 10.0.96.204:80": {"scheduler", "flags", "rs": {"ip:port": {...}}}}."""
    found = {}
    current = None
    for line in text.splitlines():
        match = SVC_RE.match(line)
        if match:
            current = {
                "scheduler": match.group("sched"),
                "flags": match.group("flags").strip(),
                "rs": {},
            }
            found["{} {}:{}".format(match.group("proto").lower(), match.group("addr"), match.group("port"))] = current
            continue
        match = RS_RE.match(line)
        if match and current is not None:
            current["rs"]["{}:{}".format(match.group("addr"), match.group("port"))] = {
                "forward": match.group("fwd"),
                "weight": int(match.group("weight")),
                "active": int(match.group("active")),
            }
    return found


def parse_laddrs(text):
    """``ipvsadm -G`` -> {"10.0.96.204:80": ["192.168.229.204", ...]} (sorted)."""
    found = {}
    current = None
    for line in text.splitlines()[1:]:
        match = LADDR_SVC_RE.match(line)
        if match:
            current = found.setdefault(match.group("svc"), [])
            continue
        match = LADDR_RE.match(line)
        if match and current is not None:
            current.append(match.group("ip"))
    return {svc: sorted(ips) for svc, ips in found.items()}


# --------------------------------------------------------------------------------------------
# Which logged invocations change state
# --------------------------------------------------------------------------------------------

DPIP_WRITE_VERBS = {"add", "del", "set", "flush", "replace", "change", "up", "down"}
IPVSADM_WRITE_OPTS = {
    "-A",
    "--add-service",
    "-E",
    "--edit-service",
    "-D",
    "--delete-service",
    "-C",
    "--clear",
    "-R",
    "--restore",
    "-a",
    "--add-server",
    "-e",
    "--edit-server",
    "-d",
    "--delete-server",
    "-P",
    "--add-laddr",
    "-Q",
    "--del-laddr",
    "-Z",
    "--zero",
    "-U",
    "--add-blklst",
    "-V",
    "--del-blklst",
    "-O",
    "--add-whtlst",
    "-Y",
    "--del-whtlst",
    "--set",
}


def _argv(entry):
    argv = [str(arg) for arg in entry.get("argv", [])]
    if argv and os.path.basename(argv[0]) in ("dpip", "ipvsadm"):
        argv = argv[1:]
    return argv


def is_write(entry):
    """True when a logged dpip/ipvsadm invocation (``{"tool","argv","rc"}``) may change state."""
    tool = os.path.basename(entry.get("tool", ""))
    argv = _argv(entry)
    if tool == "dpip":
        words = [arg for arg in argv if not arg.startswith("-")]
        # dpip [-s] [-6] OBJECT VERB ...: "show" (or nothing) reads
        return len(words) >= 2 and words[1] in DPIP_WRITE_VERBS
    if tool == "ipvsadm":
        return any(arg in IPVSADM_WRITE_OPTS for arg in argv)
    raise AssertionError(f"unknown tool in the emulator log: {entry!r}")


# the reads of playbooks/tasks/snapshot.yml, in its order, each listing followed by a separator line
SNAPSHOT_SEPARATOR = "@@@@\n"
SNAPSHOT_KEYS = ("addr", "route", "route6", "ipvs", "laddr")
SNAPSHOT_ARGV = (
    ("dpip", "-s", "addr", "show"),
    ("dpip", "route", "show"),
    ("dpip", "-6", "route", "show"),
    ("ipvsadm", "-ln"),
    ("ipvsadm", "-G"),
)


def is_restore(entry):
    return os.path.basename(entry.get("tool", "")) == "ipvsadm" and any(
        arg in ("-R", "--restore") for arg in _argv(entry)
    )


# --------------------------------------------------------------------------------------------
# The emulator of one test
# --------------------------------------------------------------------------------------------


class Emulator:
    """One emulated DPVS daemon: its files, its control, its own dpip/ipvsadm."""

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.state = os.path.join(self.dir, "dpvs-state.json")
        self.ipc = os.path.join(self.dir, "dpvs.ipc")
        self.log_dir = os.path.join(self.dir, "logs")
        os.makedirs(self.log_dir, exist_ok=True)
        # the log of commands the test itself runs (reads, seeding)
        self.own_log = os.path.join(self.log_dir, "_test.jsonl")
        self.bin = EMULATOR_BIN
        env = dict(os.environ)
        for key in list(env):
            if key.startswith("DPVS_"):
                del env[key]
        # the tools are `#!/usr/bin/env python3` scripts: give them the running interpreter
        # directly (a pyenv shim in front of python3 costs ~100 ms per call)
        pybin = os.path.join(self.dir, "pybin")
        os.makedirs(pybin, exist_ok=True)
        if not os.path.exists(os.path.join(pybin, "python3")):
            os.symlink(sys.executable, os.path.join(pybin, "python3"))
        env["PATH"] = os.pathsep.join([EMULATOR_BIN, pybin, env.get("PATH", "")])
        env["DPVS_EMULATOR_STATE"] = self.state
        env["DPVS_EMULATOR_LOG"] = self.own_log
        env["LANG"] = env["LC_ALL"] = "C.UTF-8"  # ansible-core refuses non-UTF-8 locales
        self.base_env = env

    # -- environment ------------------------------------------------------------------------
    def env(self, with_ipc=True, log=None):
        env = dict(self.base_env)
        if with_ipc:
            env["DPVS_IPC_FILE"] = self.ipc
        if log is not None:
            env["DPVS_EMULATOR_LOG"] = log
        return env

    # -- control ----------------------------------------------------------------------------
    def ctl(self, *args, check=True):
        proc = subprocess.run(
            [os.path.join(EMULATOR_BIN, "dpvs-emulator")] + [str(a) for a in args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                "dpvs-emulator {} failed rc={}\nstdout: {}\nstderr: {}".format(
                    " ".join(map(str, args)), proc.returncode, proc.stdout, proc.stderr
                )
            )
        return proc

    def start(self, ports_file=PORTS_SEED001):
        return self.ctl("start", ports_file) if ports_file else self.ctl("start")

    def stop(self):
        return self.ctl("stop")

    def kill(self):
        return self.ctl("kill")

    def restart(self, ports_file=PORTS_SEED001):
        self.stop()
        return self.start(ports_file)

    # -- the emulator's own tools -----------------------------------------------------------
    def run(self, tool, *args, check=True, stdin=None):
        proc = subprocess.run(
            [os.path.join(EMULATOR_BIN, tool)] + [str(a) for a in args],
            env=self.env(),
            capture_output=True,
            text=True,
            input=stdin,
            timeout=60,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                "{} {} failed rc={}\nstdout: {}\nstderr: {}".format(
                    tool, " ".join(map(str, args)), proc.returncode, proc.stdout, proc.stderr
                )
            )
        return proc

    def dpip(self, *args, check=True):
        return self.run("dpip", *args, check=check)

    def ipvsadm(self, *args, check=True, stdin=None):
        return self.run("ipvsadm", *args, check=check, stdin=stdin)

    # -- state read back --------------------------------------------------------------------
    def addrs(self):
        return parse_addrs(self.dpip("-s", "addr", "show").stdout)

    def routes(self):
        return parse_routes(self.dpip("route", "show").stdout, self.dpip("-6", "route", "show").stdout)

    def services(self):
        return parse_services(self.ipvsadm("-ln").stdout)

    def laddrs(self):
        return parse_laddrs(self.ipvsadm("-G").stdout)

    def snapshot(self):
        """Everything the modules manage, as text (to compare "nothing changed")."""
        return {key: self.run(argv[0], *argv[1:]).stdout for key, argv in zip(SNAPSHOT_KEYS, SNAPSHOT_ARGV)}

    # -- command logs -----------------------------------------------------------------------
    def log_path(self, phase):
        return os.path.join(self.log_dir, f"{phase}.jsonl")

    def log(self, phase):
        """The dpip/ipvsadm invocations logged for a playbook phase (``[]`` when none ran)."""
        path = self.log_path(phase)
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def clear_logs(self):
        """Forget the logs of earlier playbook runs (phases keep their names across runs)."""
        for name in os.listdir(self.log_dir):
            if name.endswith(".jsonl") and name != os.path.basename(self.own_log):
                os.unlink(os.path.join(self.log_dir, name))

    def writes(self, phase):
        return [entry for entry in self.log(phase) if is_write(entry)]


# --------------------------------------------------------------------------------------------
# Running playbooks
# --------------------------------------------------------------------------------------------


class PlaybookResult:
    """The JSON callback's output of one ansible-playbook run, indexed by task name."""

    def __init__(self, proc, argv):
        self.argv = argv
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.data = json.loads(proc.stdout[proc.stdout.index("{") :])
        except ValueError:
            raise AssertionError(
                f"ansible-playbook printed no JSON (rc={self.rc})\nargv: {argv}\n"
                f"stdout: {proc.stdout[-4000:]}\nstderr: {proc.stderr[-4000:]}"
            ) from None
        self.tasks = {}
        self.durations = {}
        self.order = []
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                name = task["task"]["name"]
                result = task["hosts"].get("localhost", {})
                self.order.append(name)
                # tasks skipped by `when` (steps.yml) never hide the one that ran
                if name not in self.tasks or self.tasks[name].get("skipped"):
                    self.tasks[name] = result
                    self.durations[name] = task["task"].get("duration", {})
        self.stats = self.data.get("stats", {}).get("localhost", {})

    def __getitem__(self, name):
        if name not in self.tasks:
            raise AssertionError(f"no task {name!r} in the run (tasks: {self.order})\n{self.explain()}")
        return self.tasks[name]

    def __contains__(self, name):
        return name in self.tasks

    def step(self, name):
        """The result of the module step ``name`` of steps.yml."""
        for module in ("dpip_addr", "dpip_route", "ipvsadm", "dpvs_info"):
            result = self.tasks.get(f"Run {module} {name}")
            if result is not None and not result.get("skipped"):
                return result
        raise AssertionError(f"step {name!r} did not run (tasks: {self.order})\n{self.explain()}")

    def duration(self, name):
        """(start, end) of a task, in seconds since the epoch."""
        span = self.durations[name]
        return tuple(
            datetime.datetime.fromisoformat(span[key].replace("Z", "+00:00")).timestamp() for key in ("start", "end")
        )

    def snapshot(self, name):
        """The state read by tasks/snapshot.yml, keyed like Emulator.snapshot()."""
        return dict(zip(SNAPSHOT_KEYS, self[f"Snapshot {name}"]["stdout"].split(SNAPSHOT_SEPARATOR)))

    def explain(self):
        return f"rc={self.rc} stats={self.stats}\nstderr: {self.stderr[-3000:]}"


class Ansible:
    """Runs playbooks of tests/integration/playbooks against one Emulator."""

    def __init__(self, emulator, workdir):
        self.emu = emulator
        self.dir = str(workdir)
        self.runs = 0
        self.local_tmp = os.path.join(self.dir, "ansible-tmp")
        os.makedirs(self.local_tmp, exist_ok=True)
        # an empty config: no ansible.cfg of the user or of the working tree changes the runs
        self.config = os.path.join(self.dir, "ansible.cfg")
        with open(self.config, "w") as handle:
            handle.write("[defaults]\n")

    def env(self):
        # No DPVS_IPC_FILE: the playbooks pass ipc_file (the module option under test).
        env = self.emu.env(with_ipc=False, log=os.path.join(self.emu.log_dir, "_ansible.jsonl"))
        env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": collections_path(),
                "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
                "ANSIBLE_PIPELINING": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCALHOST_WARNING": "0",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
                "ANSIBLE_LOCAL_TEMP": self.local_tmp,
                "ANSIBLE_HOME": os.path.join(self.dir, "ansible-home"),
                "ANSIBLE_CONFIG": self.config,
                "ANSIBLE_FORKS": "1",
            }
        )
        return env

    def base_vars(self):
        return {
            "dpvs_ipc_file": self.emu.ipc,
            "log_dir": self.emu.log_dir,
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
        }

    def play(self, playbook, extra_vars=None, check=False, diff=False, var_files=(), args=()):
        """Run ``playbooks/<playbook>``; ``var_files`` are files under playbooks/vars/ (``-e @file``)."""
        self.runs += 1
        variables = self.base_vars()
        variables.update(extra_vars or {})
        vars_file = os.path.join(self.dir, f"vars-{self.runs:02d}.json")
        with open(vars_file, "w") as handle:
            json.dump(variables, handle, indent=2)
        argv = [
            ansible_playbook_bin(),
            "-i",
            "localhost,",
            "-c",
            "local",
        ]
        for name in var_files:
            argv.extend(["-e", "@" + os.path.join(PLAYBOOKS, "vars", name)])
        argv.extend(["-e", "@" + vars_file, os.path.join(PLAYBOOKS, playbook)])
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        argv.extend(args)
        proc = subprocess.run(
            argv, env=self.env(), cwd=self.dir, capture_output=True, text=True, timeout=300, check=False
        )
        return PlaybookResult(proc, argv)


# --------------------------------------------------------------------------------------------
# Reading module results
# --------------------------------------------------------------------------------------------


def commands(result):
    """The argv lists of a module result's ``commands`` (``-R`` batches as one argv)."""
    return [list(map(str, entry["cmd"])) for entry in result.get("commands", [])]


def command_lines(result):
    """``commands`` as text lines, ``-R`` batches expanded to their stdin lines."""
    lines = []
    for entry in result.get("commands", []):
        lines.append(" ".join(map(str, entry["cmd"])))
        for line in (entry.get("stdin") or "").splitlines():
            lines.append("  < " + line)
    return lines


def as_text(value):
    """Any result structure as one string, to look for an address in a diff of any shape."""
    return json.dumps(value, sort_keys=True)


def assert_ok(result, name=""):
    assert not result.get("failed"), f"{name} failed: {result.get('msg')}\n{as_text(result)[:3000]}"
