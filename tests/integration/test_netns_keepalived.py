"""keepalived's VRRP for real (the kernel flavour): two nodes and a client in network namespaces.

K1 and K2 (the load balancers) and C (a client) share one link (a bridge in namespace S),
10.201.0.0/24 with the VIP 10.201.0.100. The keepalived role renders and config-tests
keepalived.conf in each node's namespace (the distribution's keepalived, ``-t`` against the
namespace's own interfaces), idempotently; the test then runs keepalived (VRRP only: the
checker needs Linux IPVS, which the VM lab has) and measures:

* election: from both started to the VIP on K1 (priority 150 over 100);
* graceful failover: K1's keepalived stopped (SIGTERM: it sends priority 0) -> the VIP answers
  ping from C, now from K2;
* preemption: K1 started again -> the VIP back on K1, off K2;
* node loss: K1's link down (its keepalived still runs) -> K2 master after the master-down
  interval (3 x advert_int + skew, 3.6 s at advert_int 1), the VIP answering from K2.

The figures go to the test's log (``-s``) and to $DPVS_CLUSTER_FIGURES (a JSON file) when set;
the bounds asserted are keepalived's own timers plus a margin. The golden kernel-flavour files
of tests/unit/golden/keepalived pass the same binary's config test here too.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from netns_lab import IP, REPO, Ansible, Lab

NET = "10.201.0"
VIP = f"{NET}.100"
ADDRS = {"K1": f"{NET}.1", "K2": f"{NET}.2", "C": f"{NET}.3"}
PRIORITY = {"K1": 150, "K2": 100}
KEEPALIVED = "/usr/sbin/keepalived"
WHOAMI_PORT = 7000
WHOAMI = """import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", int(sys.argv[2])))
server.listen(16)
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    conn.sendall(sys.argv[1].encode())
    conn.close()
"""
ASK = """import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.5) as conn:
        print(conn.recv(16).decode())
except OSError:
    pass
"""
GOLDEN = os.path.join(REPO, "tests", "unit", "golden", "keepalived")


class VrrpLab(Lab):
    """K1, K2 and C on one bridge (in S)."""

    def __init__(self, workdir):
        super().__init__(workdir, tag=f"ka{os.getpid() % 100000}")
        self.ns = {name: f"{self.tag}{name.lower()}" for name in ("K1", "K2", "C", "S")}
        self.keepalived = {}

    def dev(self, name):
        return f"{self.tag}{name.lower()}"

    def up(self):
        if os.geteuid() != 0:
            pytest.fail("the network-namespace tier needs root")
        for ns in self.ns.values():
            self._ip("netns", "add", ns)
        bridge = self.ns["S"]
        self._ip("-n", bridge, "link", "add", "br0", "type", "bridge")
        self._ip("-n", bridge, "link", "set", "br0", "up")
        for name in ("K1", "K2", "C"):
            inside, port = self.dev(name), f"{self.dev(name)}p"
            self._ip("link", "add", inside, "type", "veth", "peer", "name", port)
            self._ip("link", "set", inside, "netns", self.ns[name])
            self._ip("link", "set", port, "netns", bridge)
            self._ip("-n", bridge, "link", "set", port, "master", "br0")
            self._ip("-n", bridge, "link", "set", port, "up")
            self._ip("-n", self.ns[name], "addr", "add", f"{ADDRS[name]}/24", "dev", inside)
            self._ip("-n", self.ns[name], "link", "set", inside, "up")
            self._ip("-n", self.ns[name], "link", "set", "lo", "up")

    def start_keepalived(self, name, conf):
        run = os.path.join(self.dir, f"run-{name}")
        os.makedirs(run, exist_ok=True)
        log = open(os.path.join(run, "keepalived.log"), "a")  # noqa: SIM115 (the process writes to it)
        argv = [IP, "netns", "exec", self.ns[name], KEEPALIVED, "--vrrp", "--dont-fork", "--log-console"]
        argv += ["--log-detail", "--use-file", conf, "--pid", f"{run}/k.pid", "--vrrp_pid", f"{run}/v.pid"]
        argv += ["--checkers_pid", f"{run}/c.pid"]
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(proc)
        self.keepalived[name] = proc
        return proc

    def stop_keepalived(self, name, sig=signal.SIGTERM):
        proc = self.keepalived.pop(name)
        proc.send_signal(sig)
        proc.wait(timeout=20)

    def holds_vip(self, name):
        out = self._ip("-n", self.ns[name], "-o", "-4", "addr", "show", "dev", self.dev(name), check=False).stdout
        return f" {VIP}/24 " in out

    def start_whoami(self, name):
        """A TCP server on port WHOAMI_PORT in ``name`` that answers with the node's name."""
        proc = subprocess.Popen(
            [IP, "netns", "exec", self.ns[name], sys.executable, "-c", WHOAMI, name, str(WHOAMI_PORT)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.processes.append(proc)
        assert proc.stdout.readline().strip() == "ready"

    def who_answers(self):
        """The node that answers a TCP connection from C to the VIP, or None."""
        proc = self.run("C", sys.executable, "-c", ASK, VIP, str(WHOAMI_PORT), check=False)
        return proc.stdout.strip() or None


def wait_for(predicate, timeout, step=0.02):
    """Seconds until ``predicate()`` is true (AssertionError after ``timeout``)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s: {predicate.__doc__ or predicate}")
        time.sleep(step)
    return time.monotonic() - start


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not os.path.exists(KEEPALIVED):
        pytest.fail(f"{KEEPALIVED} is missing: make setup installs the distribution's keepalived")
    lab = VrrpLab(tmp_path_factory.mktemp("vrrp"))
    try:
        lab.up()
        lab.start_whoami("K1")
        lab.start_whoami("K2")
        yield lab
    finally:
        lab.down()
        assert not any(lab.exists().values()), f"namespaces left behind: {lab.exists()}"


@pytest.fixture(scope="module")
def ansible(lab, tmp_path_factory):
    return Ansible(lab, tmp_path_factory.mktemp("ansible"))


def conf_dir(lab, name):
    return os.path.join(lab.dir, f"etc-{name}")


def inventory(lab, **extra):
    hosts = {}
    for name in ("K1", "K2"):
        hosts[name.lower()] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": lab.interpreter(name),
            "keepalived_enabled": True,
            "keepalived_install_package": False,
            "keepalived_manage_service": False,
            "keepalived_conf_dir": conf_dir(lab, name),
            "keepalived_state_dir": os.path.join(conf_dir(lab, name), "state"),
            "keepalived_priority": PRIORITY[name],
            "keepalived_services": [],
            "keepalived_vrrp_instances": [
                {"name": "VI_TEST", "interface": lab.dev(name), "virtual_router_id": 77, "vips": [f"{VIP}/24"]}
            ],
            **extra,
        }
    return {"all": {"children": {"kernel_lb": {"hosts": hosts}}}}


PLAYBOOK = os.path.join(REPO, "tests", "integration", "playbooks", "keepalived.yml")


def play(ansible, lab, check=False, **extra):
    argv_extra = ["--check"] if check else []
    path = ansible._write("inventory.json", inventory(lab, **extra))
    from emutier import ansible_playbook_bin

    result = ansible._run([ansible_playbook_bin(), "-i", path, PLAYBOOK, *argv_extra])
    assert result.rc == 0, result.explain()
    return result


def changed(result):
    return {host: stats["changed"] for host, stats in result.stats.items()}


@pytest.fixture(scope="module")
def rendered(lab, ansible):
    """The role's runs: check mode writes nothing, the first run writes, the second changes nothing."""
    checked = play(ansible, lab, check=True)
    assert all(count > 0 for count in changed(checked).values())
    assert not os.path.exists(os.path.join(conf_dir(lab, "K1"), "keepalived.conf"))
    first = play(ansible, lab)
    assert all(count > 0 for count in changed(first).values())
    second = play(ansible, lab)
    assert changed(second) == {"k1": 0, "k2": 0}, second.stats
    return {name: os.path.join(conf_dir(lab, name), "keepalived.conf") for name in ("K1", "K2")}


def test_the_role_renders_a_config_the_binary_accepts(rendered, lab):
    for name, path in rendered.items():
        with open(path) as handle:
            text = handle.read()
        assert (
            text.startswith("#")
            and f"    priority {PRIORITY[name]}\n" in text
            and f"    interface {lab.dev(name)}\n" in text
        )
        assert lab.run(name, KEEPALIVED, "--config-test", "--use-file", path, check=False).returncode == 0


def test_a_bad_interface_is_refused_by_the_config_test_and_the_file_kept(rendered, lab, ansible):
    with open(rendered["K1"]) as handle:
        before = handle.read()
    bad = [{"name": "VI_TEST", "interface": "nosuchdev0", "virtual_router_id": 77, "vips": [f"{VIP}/24"]}]
    path = ansible._write("inventory.json", inventory(lab, keepalived_vrrp_instances=bad))
    from emutier import ansible_playbook_bin

    result = ansible._run([ansible_playbook_bin(), "-i", path, PLAYBOOK, "--limit", "k1"])
    assert result.rc != 0
    assert "failed to validate" in json.dumps(result.task("Config | keepalived.conf", host="k1"))
    with open(rendered["K1"]) as handle:
        assert handle.read() == before


@pytest.mark.parametrize("golden", sorted(glob.glob(os.path.join(GOLDEN, "kernel-*.conf"))), ids=os.path.basename)
def test_golden_kernel_files_pass_the_distributions_config_test(golden, lab, tmp_path):
    """The golden files name eth0/eth1/eth2: made here, in K1's namespace, as veth pairs."""
    for dev in ("eth0", "eth1", "eth2"):
        if lab._ip("-n", lab.ns["K1"], "link", "show", dev, check=False).returncode != 0:
            lab._ip("-n", lab.ns["K1"], "link", "add", dev, "type", "veth", "peer", "name", dev + "p")
    proc = lab.run("K1", KEEPALIVED, "--config-test", "--use-file", golden, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def record(figures):
    print("\nVRRP figures (s): " + json.dumps(figures))
    target = os.environ.get("DPVS_CLUSTER_FIGURES")
    if target:
        with open(target, "a") as handle:
            handle.write(json.dumps({"test": "netns_keepalived", **figures}) + "\n")


def test_vrrp_failover(rendered, lab):
    figures = {}
    for name in ("K2", "K1"):
        lab.start_keepalived(name, rendered[name])
    figures["election"] = round(wait_for(lambda: lab.holds_vip("K1") and not lab.holds_vip("K2"), 15), 2)
    assert lab.who_answers() == "K1"

    start = time.monotonic()
    lab.stop_keepalived("K1")
    wait_for(lambda: lab.holds_vip("K2"), 5)
    wait_for(lambda: lab.who_answers() == "K2", 5, step=0)  # C follows K2's gratuitous ARP
    figures["graceful_failover"] = round(time.monotonic() - start, 2)
    assert not lab.holds_vip("K1")

    start = time.monotonic()
    lab.start_keepalived("K1", rendered["K1"])
    wait_for(lambda: lab.holds_vip("K1") and not lab.holds_vip("K2"), 15)
    wait_for(lambda: lab.who_answers() == "K1", 5, step=0)
    figures["preempt_back"] = round(time.monotonic() - start, 2)

    start = time.monotonic()
    lab.run("K1", IP, "link", "set", lab.dev("K1"), "down")
    wait_for(lambda: lab.holds_vip("K2"), 8)
    figures["node_loss_to_backup_master"] = round(time.monotonic() - start, 2)
    wait_for(lambda: lab.who_answers() == "K2", 5, step=0)
    figures["node_loss_to_vip_answering"] = round(time.monotonic() - start, 2)
    record(figures)
    assert figures["graceful_failover"] < 2.0  # priority 0 advert: the backup takes over at once
    # master-down interval 3 x 1 s + (256 - 100) / 256 s = 3.61 s, plus the poll and the ARP
    assert 3.0 < figures["node_loss_to_backup_master"] < 5.5
