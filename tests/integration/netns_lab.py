"""The network-namespace tier's tools: seed 000's three machines as namespaces, and playbook runs.

``Lab`` builds A (client) -- B (forwarder) -- C (UDP echo server) on two veth links with
addresses of a private test range that exists only inside these namespaces:

    A a-side 10.200.1.2/24 ==== 10.200.1.1/24 B 10.200.2.1/24 ==== 10.200.2.2/24 C

A has no route to 10.200.2.0/24 and C none to 10.200.1.0/24: a datagram from A reaches C
only through B's DNAT, and C's answer reaches A only if B's SNAT made C answer B. Names carry
the test process id, so parallel runs on one machine do not collide; ``down`` removes
everything (killing the namespaces' processes first).

Playbooks run in B with ``ip netns exec B ansible-playbook`` (local connection: iptables and
sysctl act in B), or across namespaces with one interpreter wrapper per namespace
(``ip netns exec NS python``) so that one play reaches A and B. Results come from the JSON
callback.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
from emutier import ansible_playbook_bin, collections_path

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PLAYBOOKS = os.path.join(HERE, "playbooks")
UDP_TOOLS = os.path.join(HERE, "udp_tools.py")
IP = shutil.which("ip") or "/usr/sbin/ip"

A_ADDR, B_CLIENT_SIDE, B_SERVER_SIDE, C_ADDR = "10.200.1.2", "10.200.1.1", "10.200.2.1", "10.200.2.2"
SEED_PORTS = list(range(7890, 7901))


class Lab:
    def __init__(self, workdir, tag=None):
        self.dir = str(workdir)
        self.tag = tag or f"kf{os.getpid() % 100000}"
        self.ns = {name: f"{self.tag}{name.lower()}" for name in "ABC"}
        self.processes = []

    # -- building and removing ----------------------------------------------------------
    def _ip(self, *args, check=True):
        proc = subprocess.run([IP, *args], capture_output=True, text=True, timeout=30, check=False)
        if check and proc.returncode != 0:
            pytest.fail(f"`ip {' '.join(args)}` failed rc={proc.returncode}: {proc.stderr.strip()}")
        return proc

    def up(self):
        if os.geteuid() != 0:
            pytest.fail("the network-namespace tier needs root (ip netns, iptables, sysctl in namespaces)")
        for name in self.ns.values():
            self._ip("netns", "add", name)
        a, b, c = self.ns["A"], self.ns["B"], self.ns["C"]
        links = ((f"{self.tag}ab", a, f"{self.tag}ba", b), (f"{self.tag}bc", b, f"{self.tag}cb", c))
        for left, left_ns, right, right_ns in links:
            self._ip("link", "add", left, "type", "veth", "peer", "name", right)
            self._ip("link", "set", left, "netns", left_ns)
            self._ip("link", "set", right, "netns", right_ns)
        for ns, dev, addr in (
            (a, f"{self.tag}ab", f"{A_ADDR}/24"),
            (b, f"{self.tag}ba", f"{B_CLIENT_SIDE}/24"),
            (b, f"{self.tag}bc", f"{B_SERVER_SIDE}/24"),
            (c, f"{self.tag}cb", f"{C_ADDR}/24"),
        ):
            self._ip("-n", ns, "addr", "add", addr, "dev", dev)
            self._ip("-n", ns, "link", "set", dev, "up")
        for ns in self.ns.values():
            self._ip("-n", ns, "link", "set", "lo", "up")

    def down(self):
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        for name in self.ns.values():
            pids = self._ip("netns", "pids", name, check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            self._ip("netns", "del", name, check=False)

    def exists(self):
        listed = self._ip("netns", "list", check=False).stdout
        return {name: any(line.split()[0] == ns for line in listed.splitlines() if line.strip())
                for name, ns in self.ns.items()}  # fmt: skip

    # -- running things inside ----------------------------------------------------------
    def run(self, name, *argv, check=True, timeout=60, env=None):
        proc = subprocess.run(
            [IP, "netns", "exec", self.ns[name], *map(str, argv)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"in {name}: {' '.join(map(str, argv))} failed rc={proc.returncode}\n"
                f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
            )
        return proc

    def start_echo(self, ports="7890-7900"):
        proc = subprocess.Popen(
            [IP, "netns", "exec", self.ns["C"], sys.executable, UDP_TOOLS, "echo", "--ports", ports],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.processes.append(proc)
        line = proc.stdout.readline().strip()
        if line != "ready":
            proc.kill()
            raise AssertionError(f"the echo server did not start: {line!r} {proc.stderr.read()[-2000:]}")
        return proc

    def burst(self, ports, count=200, timeout=5.0, target=B_CLIENT_SIDE):
        spec = ",".join(str(port) for port in ports)
        proc = self.run(
            "A",
            sys.executable,
            UDP_TOOLS,
            "burst",
            "--target",
            target,
            "--ports",
            spec,
            "--count",
            count,
            "--timeout",
            timeout,
            timeout=timeout + 60,
        )
        return json.loads(proc.stdout)

    def iptables_save(self, name="B"):
        """Rules only (no comments, counters zeroed): comparable between two moments."""
        text = self.run(name, "iptables-save").stdout
        return "\n".join(line for line in text.splitlines() if not line.startswith("#"))

    def tagged_rules(self, comment="dpvs.cluster kernel_forwarder"):
        return [line for line in self.run("B", "iptables-save", "-t", "nat").stdout.splitlines() if comment in line]

    def udp_counter(self, name, counter):
        """One Udp counter of /proc/net/snmp in namespace ``name`` (read here, not by the module)."""
        lines = [line.split() for line in self.run(name, "cat", "/proc/net/snmp").stdout.splitlines()]
        header, values = (line for line in lines if line and line[0] == "Udp:")
        return int(values[header.index(counter)])

    def conntrack_flows(self, port, name="B"):
        """How many UDP conntrack entries in ``name`` go to ``port`` (conntrack -L)."""
        proc = self.run(name, "conntrack", "-L", "-p", "udp", "--orig-port-dst", port, check=False)
        assert proc.returncode == 0, proc.stderr
        return len([line for line in proc.stdout.splitlines() if line.startswith("udp")])

    def sysctl(self, name, key):
        return self.run(name, "sysctl", "-n", key).stdout.strip()

    def interpreter(self, name):
        """An executable that runs Python inside namespace ``name`` (ansible_python_interpreter)."""
        path = os.path.join(self.dir, f"python-in-{name}")
        with open(path, "w") as handle:
            handle.write(f'#!/bin/sh\nexec {IP} netns exec {self.ns[name]} {sys.executable} "$@"\n')
        os.chmod(path, 0o755)
        return path


class PlayResult:
    """One ansible-playbook run's JSON callback output, indexed by host and task name."""

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
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                for host, result in task["hosts"].items():
                    name = task["task"]["name"]
                    known = self.tasks.setdefault(host, {})
                    if name not in known or known[name].get("skipped"):
                        known[name] = result
        self.stats = self.data.get("stats", {})

    def task(self, name, host="forwarder"):
        found = self.tasks.get(host, {})
        for task_name, result in found.items():
            if task_name == name or task_name.endswith(" : " + name):
                return result
        raise AssertionError(f"no task {name!r} for {host} (tasks: {list(found)})\n{self.explain()}")

    def items(self, name, host="forwarder"):
        """The loop items of a task that ran, as {label-ish item: result}."""
        return self.task(name, host).get("results", [])

    def explain(self):
        failed = {
            host: {
                name: [result.get("msg")]
                + [
                    item.get("msg")
                    for item in result.get("results", [])
                    if isinstance(item, dict) and item.get("failed")
                ]
                for name, result in tasks.items()
                if result.get("failed")
            }
            for host, tasks in self.tasks.items()
        }
        return f"rc={self.rc} stats={self.stats} failed={failed}\nstderr: {self.stderr[-3000:]}"


class Ansible:
    """ansible-playbook runs of this tier (no user or working-tree config)."""

    def __init__(self, lab, workdir):
        self.lab = lab
        self.dir = str(workdir)
        self.runs = 0
        os.makedirs(os.path.join(self.dir, "ansible-tmp"), exist_ok=True)
        self.config = os.path.join(self.dir, "ansible.cfg")
        with open(self.config, "w") as handle:
            handle.write("[defaults]\n")

    def env(self):
        env = dict(os.environ)
        env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": collections_path(),
                "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
                "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
                "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
                "ANSIBLE_PIPELINING": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCALHOST_WARNING": "0",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
                "ANSIBLE_LOCAL_TEMP": os.path.join(self.dir, "ansible-tmp"),
                "ANSIBLE_REMOTE_TEMP": os.path.join(self.dir, "ansible-tmp"),
                "ANSIBLE_ASYNC_DIR": os.path.join(self.dir, "ansible-async"),
                "ANSIBLE_HOME": os.path.join(self.dir, "ansible-home"),
                "ANSIBLE_CONFIG": self.config,
                "ANSIBLE_FORKS": "2",
                "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8",
            }
        )
        return env

    def _write(self, name, data):
        self.runs += 1
        path = os.path.join(self.dir, f"{self.runs:02d}-{name}")
        with open(path, "w") as handle:
            json.dump(data, handle, indent=2)
        return path

    def _run(self, argv, namespace=None, timeout=300):
        if namespace:
            argv = [IP, "netns", "exec", self.lab.ns[namespace], *argv]
        proc = subprocess.run(
            argv, env=self.env(), cwd=self.dir, capture_output=True, text=True, timeout=timeout, check=False
        )
        return PlayResult(proc, argv)

    def in_forwarder(self, playbook, variables, check=False, diff=False, host="forwarder", namespace="B"):
        """``ip netns exec B ansible-playbook`` on host ``forwarder`` (local connection)."""
        inventory = self._write(
            "inventory.json",
            {"all": {"hosts": {host: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}},
        )
        extra = self._write("vars.json", variables)
        argv = [ansible_playbook_bin(), "-i", inventory, "-e", "@" + extra, os.path.join(PLAYBOOKS, playbook)]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        return self._run(argv, namespace=namespace)

    def across(self, playbook, inventory, variables=None):
        """A playbook over several namespaces (each host's interpreter runs in its namespace)."""
        path = self._write("inventory.json", inventory)
        argv = [ansible_playbook_bin(), "-i", path, playbook]
        if variables:
            argv[3:3] = ["-e", "@" + self._write("vars.json", variables)]
        return self._run(argv)
