"""net_tuning's NIC part for real, inside a network namespace (root; fails, never skips, without one).

Real veth devices in namespace B: the lab's B-side veths (one queue each) and a pair created
here with two rx and two tx queues. RPS/XPS masks and txqueuelen are set by the role
(dpvs.cluster.nic_queues), checked in sysfs as the namespace sees it; check mode writes
nothing, diff shows before/after, a rerun changes nothing, a changed mask is one change, bad
input is refused before anything moves, and the applier the role installs (the module's own
code in the dpvs-cluster tool) puts the values back from its JSON configuration as it would at boot. veth has no IRQs:
IRQ affinity is exercised by the unit tests' fake trees and in the VM lab.
"""

import json
import os
import sys

import pytest
from netns_lab import Ansible, Lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("netns-nicq"), tag=f"nq{os.getpid() % 100000}")
    try:
        lab.up()
        tag = lab.tag
        lab.run("B", "ip", "link", "add", f"{tag}q0", "numtxqueues", "2", "numrxqueues", "2", "type", "veth",
                "peer", "name", f"{tag}q1", "numtxqueues", "2", "numrxqueues", "2")  # fmt: skip
        lab.run("B", "ip", "link", "set", f"{tag}q0", "up")
        lab.run("B", "ip", "link", "set", f"{tag}q1", "up")
        yield lab
    finally:
        lab.down()


def sysfs(lab, dev, *path):
    return lab.run("B", "cat", os.path.join("/sys/class/net", dev, *path)).stdout.strip()


def mask_cpus(text):
    value = int(text.replace(",", ""), 16)
    return [bit for bit in range(value.bit_length()) if value >> bit & 1]


def role_vars(tmp_path, nics, **extra):
    variables = {
        # the sysctl part off: only the NIC part runs here, into the test's directory
        "net_tuning_sysctl_file": str(tmp_path / "sysctl.d" / "60-dpvs-net-tuning.conf"),
        "net_tuning_load_modules": False,
        "net_tuning_rmem_default": None,
        "net_tuning_rmem_max": None,
        "net_tuning_wmem_default": None,
        "net_tuning_wmem_max": None,
        "net_tuning_netdev_max_backlog": None,
        "net_tuning_somaxconn": None,
        "net_tuning_tcp_rmem": None,
        "net_tuning_tcp_wmem": None,
        "net_tuning_nics": nics,
        "net_tuning_nics_activate": False,
        "net_tuning_tool": str(tmp_path / "lib" / "dpvs-cluster.pyz"),
        "net_tuning_applier_python": sys.executable,
        "net_tuning_nics_config": str(tmp_path / "etc" / "nic_queues.json"),
        "net_tuning_udev_rule": str(tmp_path / "udev" / "71-dpvs-net-tuning.rules"),
        "net_tuning_systemd_dir": str(tmp_path / "systemd"),
    }
    variables.update(extra)
    return variables


def test_rps_xps_txqueuelen_on_veth(lab, tmp_path):
    ansible = Ansible(lab, tmp_path / "ansible")
    q0, ba = f"{lab.tag}q0", f"{lab.tag}ba"
    cpus = [int(c) for c in lab.run("B", "cat", "/sys/devices/system/cpu/online").stdout.strip().split("-")]
    online = list(range(cpus[0], cpus[-1] + 1))
    assert len(online) >= 2, "the test needs two CPUs to tell masks apart"
    nics = [
        {"name": q0, "rps_cpus": "auto", "xps_cpus": "auto", "txqueuelen": 5000},
        {"mac": sysfs(lab, ba, "address"), "rps_cpus": "0x2", "xps_cpus": [0], "txqueuelen": 2000},
    ]

    def play(variables, check=False):
        return ansible.in_forwarder("net_tuning.yml", variables, check=check, diff=check, host="tuned")

    before = {
        "q0_rps": [sysfs(lab, q0, "queues", f"rx-{i}", "rps_cpus") for i in (0, 1)],
        "q0_len": sysfs(lab, q0, "tx_queue_len"),
        "ba_len": sysfs(lab, ba, "tx_queue_len"),
    }
    assert before["q0_len"] == "1000"

    check = play(role_vars(tmp_path, nics), check=True)
    assert check.rc == 0, check.explain()
    result = check.task("NICs | channels, IRQ affinity, RPS/XPS masks and txqueuelen, live", "tuned")
    assert result["changed"] is True
    predicted = {(c["nic"], c["what"], c.get("queue")): c["after"] for c in result["changes"]}
    all_cpus = f"{online[0]}-{online[-1]}"
    assert predicted[(q0, "rps_cpus", "rx-0")] == all_cpus and predicted[(q0, "rps_cpus", "rx-1")] == all_cpus
    assert predicted[(q0, "xps_cpus", "tx-0")] == str(online[0])  # the CPUs shared out over two tx queues
    assert predicted[(q0, "xps_cpus", "tx-1")] == str(online[1])
    assert predicted[(q0, "txqueuelen", None)] == 5000
    assert predicted[(ba, "rps_cpus", "rx-0")] == "1" and predicted[(ba, "xps_cpus", "tx-0")] == "0"
    assert result["diff"]["before"][q0]["txqueuelen"] == 1000 and result["diff"]["after"][q0]["txqueuelen"] == 5000
    # nothing written
    assert [sysfs(lab, q0, "queues", f"rx-{i}", "rps_cpus") for i in (0, 1)] == before["q0_rps"]
    assert sysfs(lab, q0, "tx_queue_len") == "1000"
    assert not os.path.exists(tmp_path / "etc" / "nic_queues.json")

    apply = play(role_vars(tmp_path, nics))
    assert apply.rc == 0, apply.explain()
    assert [mask_cpus(sysfs(lab, q0, "queues", f"rx-{i}", "rps_cpus")) for i in (0, 1)] == [online, online]
    assert mask_cpus(sysfs(lab, q0, "queues", "tx-0", "xps_cpus")) == [online[0]]
    assert mask_cpus(sysfs(lab, q0, "queues", "tx-1", "xps_cpus")) == [online[1]]
    assert sysfs(lab, q0, "tx_queue_len") == "5000" and sysfs(lab, ba, "tx_queue_len") == "2000"
    assert mask_cpus(sysfs(lab, ba, "queues", "rx-0", "rps_cpus")) == [1]
    applied = apply.task("NICs | channels, IRQ affinity, RPS/XPS masks and txqueuelen, live", "tuned")
    assert len(applied["changes"]) == len(result["changes"]) == 8

    # the persistence files: the applier's configuration, the udev rule, the unit
    with open(tmp_path / "etc" / "nic_queues.json") as handle:
        assert json.load(handle) == {"nics": nics}
    rule = (tmp_path / "udev" / "71-dpvs-net-tuning.rules").read_text()
    assert f'KERNEL=="{q0}", ATTR{{tx_queue_len}}="5000"' in rule
    assert f'ATTR{{address}}=="{nics[1]["mac"]}", ATTR{{tx_queue_len}}="2000"' in rule
    assert rule.count("--nic $name") == 2
    unit = (tmp_path / "systemd" / "dpvs-nic-queues.service").read_text()
    assert "After=network-online.target" in unit and "--lenient --config" in unit

    again = play(role_vars(tmp_path, nics))
    assert again.rc == 0 and again.stats["tuned"]["changed"] == 0, again.explain()

    # one mask changed behind the role's back: one change
    lab.run("B", "sh", "-c", f"echo 0 > /sys/class/net/{q0}/queues/rx-1/rps_cpus")
    drift = play(role_vars(tmp_path, nics))
    changes = drift.task("NICs | channels, IRQ affinity, RPS/XPS masks and txqueuelen, live", "tuned")["changes"]
    assert [(c["nic"], c["what"], c["queue"], c["before"], c["after"]) for c in changes] == [
        (q0, "rps_cpus", "rx-1", "", all_cpus)
    ]

    # the boot/hotplug applier (the module's code in the tool the role installed) restores what a
    # reboot resets, with the command the unit and the udev rule run
    tool = tmp_path / "lib" / "dpvs-cluster.pyz"
    assert f"{sys.executable} {tool} nic-queues --lenient --config" in unit and f"{tool} nic-queues" in rule
    lab.run("B", "sh", "-c", f"echo 0 > /sys/class/net/{q0}/queues/rx-0/rps_cpus; ip link set {q0} txqueuelen 1000")
    applier = [sys.executable, str(tool), "nic-queues", "--lenient",
               "--config", str(tmp_path / "etc" / "nic_queues.json")]  # fmt: skip
    run = lab.run("B", *applier, "--nic", q0)
    assert f"{q0} rps_cpus rx-0" in run.stdout and f"{q0} txqueuelen" in run.stdout
    assert mask_cpus(sysfs(lab, q0, "queues", "rx-0", "rps_cpus")) == online
    assert sysfs(lab, q0, "tx_queue_len") == "5000"
    assert lab.run("B", *applier).stdout == ""  # nothing left to do

    # [] turns RPS off
    off = play(role_vars(tmp_path, [dict(nics[0], rps_cpus=[]), nics[1]]))
    assert off.rc == 0, off.explain()
    assert [sysfs(lab, q0, "queues", f"rx-{i}", "rps_cpus").strip("0,") for i in (0, 1)] == ["", ""]


@pytest.mark.parametrize(
    "nic,message",
    [
        ({"name": "nosuch0", "txqueuelen": 3000}, "net_tuning_nics[1].name: no such NIC"),
        ({"name": "{tag}ba", "rps_cpus": [0, 64]}, "CPU 64 does not exist"),
        ({"name": "{tag}ba", "xps_cpus": "0xffff"}, "mask is wider than the CPUs"),
        ({"name": "{tag}ba", "irq_affinity": "auto"}, "is a virtual device: it has no queue IRQs"),
    ],
)
def test_bad_nic_input_changes_nothing(lab, tmp_path, nic, message):
    ansible = Ansible(lab, tmp_path / "ansible")
    q0 = f"{lab.tag}q0"
    length = sysfs(lab, q0, "tx_queue_len")
    nic = {key: (value.format(tag=lab.tag) if isinstance(value, str) else value) for key, value in nic.items()}
    bad = ansible.in_forwarder(
        "net_tuning.yml", role_vars(tmp_path, [{"name": q0, "txqueuelen": int(length) + 7}, nic]), host="tuned"
    )
    assert bad.rc != 0
    assert message in bad.task("Preflight | NIC entries are valid on this host", "tuned")["msg"]
    assert sysfs(lab, q0, "tx_queue_len") == length
    assert not os.path.exists(tmp_path / "sysctl.d")  # refused before the sysctl part too
