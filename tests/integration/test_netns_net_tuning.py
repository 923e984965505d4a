"""net_tuning for real, inside a network namespace (root; fails, never skips, without one).

Only per-namespace sysctls are set live here (somaxconn, tcp_rmem/wmem, conntrack UDP
timeouts, ip_forward, optmem_max): the socket-buffer maxima, netdev_max_backlog and
nf_conntrack_max are global or read-only in a child namespace, so they are checked in
file-only mode (net_tuning_sysctl_apply: false) and the host's values must not move.
"""

import os
import subprocess

import pytest
from netns_lab import Ansible, Lab

GLOBAL_KEYS = (
    "net.core.rmem_max",
    "net.core.wmem_max",
    "net.core.netdev_max_backlog",
    "net.netfilter.nf_conntrack_max",
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("netns-tuning"), tag=f"nt{os.getpid() % 100000}")
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


def host_sysctl(key):
    return subprocess.run(["sysctl", "-n", key], capture_output=True, text=True, check=True).stdout.strip()


def file_keys(path):
    with open(path) as handle:
        return dict(
            line.split("=", 1) for line in handle.read().splitlines() if line.strip() and not line.startswith("#")
        )


def per_namespace_vars(path, **extra):
    variables = {
        "net_tuning_sysctl_file": path,
        "net_tuning_load_modules": False,
        # global or read-only in a child namespace: not set live here
        "net_tuning_rmem_default": None,
        "net_tuning_rmem_max": None,
        "net_tuning_wmem_default": None,
        "net_tuning_wmem_max": None,
        "net_tuning_netdev_max_backlog": None,
        "net_tuning_somaxconn": 8192,
        "net_tuning_tcp_rmem": "4096 131072 16777216",
        "net_tuning_tcp_wmem": "4096 16384 16777216",
        "net_tuning_conntrack_udp_timeout": 20,
        "net_tuning_conntrack_udp_timeout_stream": 90,
        "net_tuning_ip_forward": 1,
        "net_tuning_sysctl_extra": {"net.core.optmem_max": 81920},
    }
    variables.update(extra)
    return variables


def test_net_tuning_sysctl_in_a_namespace(lab, tmp_path):
    ansible = Ansible(lab, tmp_path / "ansible")
    path = str(tmp_path / "sysctl.d" / "60-dpvs-net-tuning.conf")
    host_before = {key: host_sysctl(key) for key in (*GLOBAL_KEYS, "net.core.somaxconn", "net.ipv4.ip_forward")}
    live_before = lab.sysctl("B", "net.core.somaxconn")

    def play(variables, check=False):
        return ansible.in_forwarder("net_tuning.yml", variables, check=check, diff=check, host="tuned")

    check = play(per_namespace_vars(path), check=True)
    assert check.rc == 0, check.explain()
    predicted = check.task("Sysctl | values in the file, and live", "tuned")["results"]
    assert len([item for item in predicted if item["changed"]]) == 7
    assert not os.path.exists(path)
    assert lab.sysctl("B", "net.core.somaxconn") == live_before

    apply = play(per_namespace_vars(path))
    assert apply.rc == 0, apply.explain()
    assert file_keys(path) == {
        "net.core.somaxconn": "8192",
        "net.ipv4.tcp_rmem": "4096 131072 16777216",
        "net.ipv4.tcp_wmem": "4096 16384 16777216",
        "net.netfilter.nf_conntrack_udp_timeout": "20",
        "net.netfilter.nf_conntrack_udp_timeout_stream": "90",
        "net.ipv4.ip_forward": "1",
        "net.core.optmem_max": "81920",
    }
    assert lab.sysctl("B", "net.core.somaxconn") == "8192"
    assert lab.sysctl("B", "net.ipv4.tcp_rmem").split() == ["4096", "131072", "16777216"]
    assert lab.sysctl("B", "net.netfilter.nf_conntrack_udp_timeout_stream") == "90"
    assert lab.sysctl("B", "net.core.optmem_max") == "81920"
    assert lab.sysctl("B", "net.ipv4.ip_forward") == "1"

    again = play(per_namespace_vars(path))
    assert again.rc == 0 and again.stats["tuned"]["changed"] == 0, again.explain()

    # a live value changed behind the role's back is put back
    lab.run("B", "sysctl", "-w", "net.core.somaxconn=1024")
    drift = play(per_namespace_vars(path))
    assert drift.stats["tuned"]["changed"] == 1, drift.explain()
    assert lab.sysctl("B", "net.core.somaxconn") == "8192"

    # optmem_max dropped from the inventory and somaxconn changed: purged / rewritten
    changed = play(per_namespace_vars(path, net_tuning_somaxconn=4096, net_tuning_sysctl_extra={}))
    assert changed.rc == 0, changed.explain()
    keys = file_keys(path)
    assert "net.core.optmem_max" not in keys and keys["net.core.somaxconn"] == "4096"
    assert lab.sysctl("B", "net.core.somaxconn") == "4096"

    # the global keys, file only: written for the next boot, nothing live moves
    file_only = per_namespace_vars(
        path,
        net_tuning_somaxconn=4096,
        net_tuning_sysctl_extra={},
        net_tuning_sysctl_apply=False,
        net_tuning_rmem_max=10000000,
        net_tuning_wmem_max=10000000,
        net_tuning_netdev_max_backlog=400000,
        net_tuning_conntrack_max=1048576,
    )
    boot = play(file_only)
    assert boot.rc == 0, boot.explain()
    keys = file_keys(path)
    assert keys["net.core.rmem_max"] == "10000000" and keys["net.core.netdev_max_backlog"] == "400000"
    assert keys["net.netfilter.nf_conntrack_max"] == "1048576"
    assert {key: host_sysctl(key) for key in host_before} == host_before

    bad = play(per_namespace_vars(path, net_tuning_tcp_rmem="4096 87380", net_tuning_somaxconn=-1))
    assert bad.rc != 0
    msg = bad.task("Preflight | sysctl values are valid", "tuned")["msg"]
    assert msg == ["net.core.somaxconn: must be >= 0", 'net_tuning_tcp_rmem: must be three numbers "min default max"']

    # an extra key with shell metacharacters, a value with a newline, a key the kernel does not
    # have: refused before any change (the file is as it was)
    with open(path) as handle:
        file_before = handle.read()
    metachars = play(per_namespace_vars(path, net_tuning_sysctl_extra={
        "net.core.optmem_max;reboot": 1, "net.core.optmem_max": "81920\nkernel.panic=1"}))  # fmt: skip
    assert metachars.rc != 0
    msg = metachars.task("Preflight | sysctl values are valid", "tuned")["msg"]
    assert 'net_tuning_sysctl_extra: "net.core.optmem_max;reboot" is not a sysctl key' in " ".join(msg), msg
    assert "net_tuning_sysctl_extra: the value of net.core.optmem_max has a newline" in " ".join(msg), msg
    missing = play(per_namespace_vars(path, net_tuning_sysctl_extra={"net.core.optmem_maxx": 1}))
    assert missing.rc != 0
    msg = missing.task("Preflight | no unknown extra sysctl key", "tuned")["msg"]
    assert msg.startswith("net_tuning_sysctl_extra: net.core.optmem_maxx not found under /proc/sys"), msg
    with open(path) as handle:
        assert handle.read() == file_before
