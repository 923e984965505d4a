"""dpvs-cluster metrics as the metrics role's timer runs it: the zip application the host_tool
action builds, run by a Python that sees only the zip and the standard library, against a DPVS
emulator (a service added with ipvsadm, port counters from its ports file) and against this
machine's real /proc/net/snmp (a UDP burst over loopback must raise Udp InDatagrams).

The output is read with prometheus_client's parser, not with the collection's code."""

import json
import os
import socket
import subprocess
import sys

import pytest
from ansible_collections.dpvs.cluster.plugins.action import host_tool
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.parallel_safe

PORT_STATS = {
    "ipackets": 1234567,
    "opackets": 7654321,
    "ibytes": 987654321012,
    "obytes": 123,
    "ierrors": 2,
    "oerrors": 3,
    "imissed": 44,
    "rx_nombuf": 5,
}


@pytest.fixture(scope="module")
def pyz(tmp_path_factory):
    path = tmp_path_factory.mktemp("tool") / "dpvs-cluster.pyz"
    path.write_bytes(host_tool.build_pyz())
    return str(path)


def run_tool(pyz, args, env=None):
    return subprocess.run(
        [sys.executable, "-I", "-S", pyz, "metrics", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def read_prom(path):
    """``{metric name: {frozenset(labels): value}}`` of a textfile."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return samples


def test_dpvs_metrics_of_a_service_on_the_emulator(emulator, tmp_path, pyz):
    ports = {
        "workers": 2,
        "ports": [{"name": "dpdk0", "rx_queues": 2, "tx_queues": 2, "stats": PORT_STATS}, {"name": "dpdk1"}],
    }
    ports_file = tmp_path / "ports.json"
    ports_file.write_text(json.dumps(ports))
    emulator.restart(str(ports_file))
    emulator.ipvsadm("-A", "-u", "10.0.96.204:53", "-s", "rr")
    emulator.ipvsadm("-a", "-u", "10.0.96.204:53", "-r", "192.168.229.1:53", "-b", "-w", "3")
    emulator.ipvsadm("-a", "-u", "10.0.96.204:53", "-r", "192.168.229.2:5353", "-b", "-w", "0")
    emulator.ipvsadm("--add-laddr", "-z", "192.168.229.204", "-u", "10.0.96.204:53", "-F", "dpdk0")
    output = tmp_path / "textfile" / "dpvs.prom"
    output.parent.mkdir()
    bin_dir = emulator.bin
    argv = ["dpvs", "--output", str(output), "--dpip", f"{bin_dir}/dpip", "--ipvsadm", f"{bin_dir}/ipvsadm"]
    proc = run_tool(pyz, [*argv, "--ipc-file", emulator.ipc], env=emulator.env(with_ipc=False))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    samples = read_prom(output)
    assert samples["dpvs_up"] == {frozenset(): 1}
    assert set(samples["dpvs_metrics_source_up"].values()) == {1}
    svc = {"protocol": "udp", "vip": "10.0.96.204", "port": "53"}
    assert samples["dpvs_service_connections_total"] == {frozenset(svc.items()): 0}
    weights = {
        dict(key)["real_server"] + ":" + dict(key)["real_server_port"]: value
        for key, value in samples["dpvs_real_server_weight"].items()
        if set(svc.items()) <= key
    }
    assert weights == {"192.168.229.1:53": 3, "192.168.229.2:5353": 0}
    dev0 = frozenset({("device", "dpdk0")})
    assert samples["dpvs_device_receive_bytes_total"][dev0] == 987654321012
    assert samples["dpvs_device_receive_missed_total"][dev0] == 44
    assert samples["dpvs_device_receive_nombuf_total"][dev0] == 5
    assert samples["dpvs_device_up"][frozenset({("device", "dpdk1")})] == 1
    assert samples["dpvs_local_address_ports_used"] == {
        frozenset({("local_address", "192.168.229.204"), ("device", "dpdk0")}): 0
    }
    workers = {dict(key)["worker"]: dict(key)["role"] for key in samples["dpvs_worker_loops_total"]}
    assert workers == {"cpu0": "master", "cpu1": "worker", "cpu2": "worker"}
    assert os.listdir(output.parent) == ["dpvs.prom"]  # no temporary left

    # DPVS stopped: the next run says so, and the service's figures are gone, not stale
    emulator.stop()
    proc = run_tool(pyz, [*argv, "--ipc-file", emulator.ipc], env=emulator.env(with_ipc=False))
    assert proc.returncode == 0, proc.stderr
    assert "dpvs-cluster metrics: daemon: DPVS daemon is not reachable" in proc.stderr
    samples = read_prom(output)
    assert samples["dpvs_up"] == {frozenset(): 0}
    assert "dpvs_service_connections_total" not in samples


def udp_burst(count):
    """``count`` datagrams over loopback to a socket that reads them all (delivered: InDatagrams)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5)
        for index in range(count):
            tx.sendto(b"metrics %d" % index, rx.getsockname())
        for _index in range(count):
            rx.recv(64)


def test_kernel_metrics_of_this_machine(tmp_path, pyz):
    if not os.path.exists("/proc/net/snmp"):
        pytest.skip("NOT RUN: no /proc/net/snmp on this machine")
    output = tmp_path / "kernel.prom"
    proc = run_tool(pyz, ["kernel", "--output", str(output)])
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    before = read_prom(output)
    assert before["kernel_lb_metrics_source_up"] == {
        frozenset({("source", "snmp")}): 1,
        frozenset({("source", "softnet")}): 1,
    }
    for name in (
        "kernel_lb_udp_in_datagrams_total",
        "kernel_lb_udp_rcvbuf_errors_total",
        "kernel_lb_ip_in_receives_total",
    ):
        [value] = before[name].values()
        assert value >= 0 and value == int(value), name
    cpus = [dict(key)["cpu"] for key in before["kernel_lb_softnet_dropped_total"]]
    assert cpus and all(cpu.isdigit() for cpu in cpus)
    assert all(v >= 0 and v == int(v) for v in before["kernel_lb_softnet_processed_total"].values())
    udp_burst(200)
    assert run_tool(pyz, ["kernel", "--output", str(output)]).returncode == 0
    after = read_prom(output)
    grown = (
        after["kernel_lb_udp_in_datagrams_total"][frozenset()] - before["kernel_lb_udp_in_datagrams_total"][frozenset()]
    )
    assert grown >= 200
