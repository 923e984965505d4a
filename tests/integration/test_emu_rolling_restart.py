"""playbooks/rolling_restart.yml over three DPVS nodes, one emulator each (docs/ha.md).

Each node is an inventory host with its own emulator: an interpreter wrapper gives the host's
modules and commands that emulator's environment. keepalived is rendered for each node (its
binary is /bin/true here: the drain's orchestration is under test, not keepalived; VRRP runs for
real in test_netns_keepalived.py). The restart command stops and starts the node's emulator and
replays the node's persisted state with dpvs-cluster replay, as dpvs.service and
dpvs-state.service do; the playbook then verifies the node. Asserted: the order (node after node,
drain, restart, verify, undrain), never two nodes drained at once, a failure on the second node
stopping the run with the third untouched, no restart where none is needed, and no restart of a
node without a standby.
"""

import json
import os
import shlex
import subprocess
import sys
import time

import pytest
from ansible_collections.dpvs.cluster.plugins.action.host_tool import build_pyz
from emutier import EMULATOR_BIN, PORTS_SEED001, Emulator, ansible_playbook_bin, collections_path
from test_emu_dpvs_role import role_vars

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, "playbooks", "rolling_restart.yml")
CONVERGE = os.path.join(REPO, "tests", "integration", "playbooks", "dpvs_role_all.yml")
NODES = ("n1", "n2", "n3")
RESTART = """#!/bin/sh
set -e
echo restarted >> {marks}
{bin}/dpvs-emulator stop
{bin}/dpvs-emulator start {ports}
exec {python} {tool} replay --state-dir {state} --timeout 10 --dpip {bin}/dpip --ipvsadm {bin}/ipvsadm
"""


class Node:
    def __init__(self, name, workdir, tool):
        self.name = name
        self.dir = str(workdir)
        self.emu = Emulator(workdir / "emu")
        self.emu.start()
        self.vars = role_vars(self.emu, workdir)
        self.marks = os.path.join(self.dir, "restarts")
        self.restart = os.path.join(self.dir, "restart.sh")
        with open(self.restart, "w") as handle:
            handle.write(
                RESTART.format(
                    marks=self.marks,
                    bin=EMULATOR_BIN,
                    ports=PORTS_SEED001,
                    python=sys.executable,
                    tool=tool,
                    state=os.path.join(self.vars["dpvs_root"], "etc", "dpvs", "state"),
                )
            )
        os.chmod(self.restart, 0o755)
        self.python = os.path.join(self.dir, "python")
        env = self.emu.env(log=os.path.join(self.emu.log_dir, "_ansible.jsonl"))
        exports = "".join(
            f"export {key}={shlex.quote(value)}\n" for key, value in sorted(env.items()) if key.isidentifier()
        )
        with open(self.python, "w") as handle:
            handle.write(f'#!/bin/sh\n{exports}exec {sys.executable} "$@"\n')
        os.chmod(self.python, 0o755)
        self.conf = os.path.join(self.dir, "keepalived")

    def host_vars(self, **extra):
        return {
            **self.vars,
            "ansible_connection": "local",
            "ansible_python_interpreter": self.python,
            "log_dir": self.emu.log_dir,
            "dpvs_cluster_prepare_host": False,
            "dpvs_network_purge": False,  # keepalived's VIPs live on dpdk2 (validate.yml refuses the purge)
            "keepalived_enabled": True,
            "keepalived_binary": "/bin/true",
            "keepalived_manage_service": False,
            "keepalived_conf_dir": self.conf,
            "keepalived_state_dir": os.path.join(self.conf, "state"),
            "keepalived_systemd_dir": self.conf,
            "keepalived_priority": {"n1": 150, "n2": 100, "n3": 50}[self.name],
            "keepalived_vrrp_instances": [
                {
                    "name": "VI_WAN",
                    "interface": "dpdk2.kni",
                    "dpdk_interface": "dpdk2",
                    "virtual_router_id": 51,
                    "vips": ["10.0.96.210/24"],
                }
            ],
            "dpvs_rolling_restart_argv": [self.restart],
            "dpvs_rolling_ready_argv": ["true"],
            "dpvs_rolling_drain_timeout": 4,
            **extra,
        }

    def restarts(self):
        if not os.path.exists(self.marks):
            return 0
        with open(self.marks) as handle:
            return len(handle.read().split())

    def drained(self):
        path = os.path.join(self.conf, "keepalived.conf")
        with open(path) as handle:
            return "    priority 1\n" in handle.read()


class Cluster:
    def __init__(self, workdir):
        self.dir = str(workdir)
        tool = os.path.join(self.dir, "dpvs-cluster.pyz")
        with open(tool, "wb") as handle:
            handle.write(build_pyz())
        self.nodes = {name: Node(name, workdir / name, tool) for name in NODES}
        self.runs = 0
        self.config = os.path.join(self.dir, "ansible.cfg")
        with open(self.config, "w") as handle:
            handle.write("[defaults]\n")

    def play(self, playbook, per_host=None, **extra):
        self.runs += 1
        started = time.monotonic()
        hosts = {name: node.host_vars(**extra, **(per_host or {}).get(name, {})) for name, node in self.nodes.items()}
        inventory = os.path.join(self.dir, f"inventory-{self.runs:02d}.json")
        with open(inventory, "w") as handle:
            json.dump({"all": {"children": {"dpvs": {"hosts": hosts}}}}, handle, indent=2)
        env = dict(self.nodes["n1"].emu.env(with_ipc=False))
        env.update(
            ANSIBLE_COLLECTIONS_PATH=collections_path(),
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_PIPELINING="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCAL_TEMP=os.path.join(self.dir, "ansible-tmp"),
            ANSIBLE_HOME=os.path.join(self.dir, "ansible-home"),
            ANSIBLE_CONFIG=self.config,
            ANSIBLE_FORKS="3",
        )
        argv = [ansible_playbook_bin(), "-i", inventory, playbook]
        proc = subprocess.run(argv, env=env, cwd=self.dir, capture_output=True, text=True, timeout=600, check=False)
        data = json.loads(proc.stdout[proc.stdout.index("{") :]) if "{" in proc.stdout else {}
        print(f"run {self.runs} ({os.path.basename(playbook)}, {sorted(extra)}): {time.monotonic() - started:.1f} s")
        return proc, data

    def stop(self):
        for node in self.nodes.values():
            node.emu.ctl("stop", check=False)


def events(data, prefix="Rolling | "):
    """(host, task) in the order they ran, tasks that ran (not skipped) and start with ``prefix``."""
    found = []
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            name = task["task"]["name"]
            for host, result in task["hosts"].items():
                if name.startswith(prefix) and not result.get("skipped"):
                    found.append((host, name))
    return found


def steps(data):
    """Per host, the rolling steps it went through, in order (drain, restart, verified, undrain)."""
    marks = {
        "Rolling | drain - VRRP priority 1, keepalived restarted (the VIPs go to the standby)": "drain",
        "Rolling | restart DPVS": "restart",
        "Verify | nothing differs on this DPVS node": "verified",
        "Rolling | undrain - keepalived back to its priorities": "undrain",
    }
    return [(host, marks[name]) for host, name in events(data, "") if name in marks]


@pytest.fixture
def cluster(tmp_path):
    cluster = Cluster(tmp_path)
    try:
        proc, _data = cluster.play(CONVERGE)
        assert proc.returncode == 0, explain(proc)
        yield cluster
    finally:
        cluster.stop()


def explain(proc):
    """The failed tasks' messages (per host), or the end of the output when there is no JSON."""
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        return f"rc={proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    failed = [
        f"{host}: {task['task']['name']}: {result.get('msg')}"
        for play in data.get("plays", [])
        for task in play.get("tasks", [])
        for host, result in task["hosts"].items()
        if result.get("failed") or result.get("unreachable")
    ]
    return f"rc={proc.returncode} stats={data.get('stats')} failed={failed}"


def test_rolling_restart(cluster):
    """One cluster, the cases in order (each starts from the state the one before left)."""
    nothing_to_restart_restarts_nothing(cluster)
    one_node_at_a_time_in_order(cluster)
    a_failure_on_the_second_node_stops_the_run(cluster)
    a_node_without_a_standby_is_not_restarted(cluster)


def nothing_to_restart_restarts_nothing(cluster):
    proc, data = cluster.play(PLAYBOOK)
    assert proc.returncode == 0, explain(proc)
    assert steps(data) == []
    assert [node.restarts() for node in cluster.nodes.values()] == [0, 0, 0]


def one_node_at_a_time_in_order(cluster):
    proc, data = cluster.play(PLAYBOOK, dpvs_rolling_force=True)
    assert proc.returncode == 0, explain(proc)
    expected = [(host, step) for host in NODES for step in ("drain", "restart", "verified", "undrain")]
    assert steps(data) == expected
    drained = set()
    for host, step in steps(data):  # never two nodes drained at once
        if step == "drain":
            drained.add(host)
        elif step == "undrain":
            drained.discard(host)
        assert len(drained) <= 1
    assert [node.restarts() for node in cluster.nodes.values()] == [1, 1, 1]
    assert not any(node.drained() for node in cluster.nodes.values())
    for node in cluster.nodes.values():  # replayed after the restart: the inventory's services are back
        assert "10.0.96.204:80" in node.emu.ipvsadm("-ln").stdout


def a_failure_on_the_second_node_stops_the_run(cluster):
    before = {name: node.restarts() for name, node in cluster.nodes.items()}
    n3 = cluster.nodes["n3"]
    n3.emu.clear_logs()
    snapshot = n3.emu.snapshot()
    proc, data = cluster.play(
        PLAYBOOK, dpvs_rolling_force=True, per_host={"n2": {"dpvs_rolling_restart_argv": ["false"]}}
    )
    assert proc.returncode != 0
    n1 = [("n1", "drain"), ("n1", "restart"), ("n1", "verified"), ("n1", "undrain")]
    assert steps(data) == [*n1, ("n2", "drain"), ("n2", "restart")]  # n2's restart failed: not verified, not undrained
    assert cluster.nodes["n2"].drained()  # left drained: its VIPs stay on the standby until someone looks
    assert not n3.drained() and n3.restarts() == before["n3"]
    assert n3.emu.writes("_ansible") == [] and n3.emu.snapshot() == snapshot
    assert not [event for event in events(data, "") if event[0] == "n3" and "Validate" not in event[1]]


def a_node_without_a_standby_is_not_restarted(cluster):
    before = [node.restarts() for node in cluster.nodes.values()]
    proc, data = cluster.play(PLAYBOOK, dpvs_rolling_force=True, keepalived_enabled=False)
    assert proc.returncode != 0
    assert "has no VRRP standby" in proc.stdout and steps(data) == []
    assert [node.restarts() for node in cluster.nodes.values()] == before
