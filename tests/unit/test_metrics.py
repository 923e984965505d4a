"""The metrics collector (plugins/module_utils/metrics, dpvs-cluster metrics): its parsers on the
DPVS v1.10.2 transcripts and the kernel fixtures, its text checked by prometheus_client's own
parser of the Prometheus text format (not by this collection's code)."""

import io
import os

import pytest
import transcripts
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import parse as P
from ansible_collections.dpvs.cluster.plugins.module_utils.metrics import collector, exposition
from ansible_collections.dpvs.cluster.plugins.module_utils.metrics import dpvs as D
from ansible_collections.dpvs.cluster.plugins.module_utils.metrics import kernel as K
from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_IPVSADM = os.path.join(HERE, "fixtures", "kernel-ipvsadm")
NET_STATS = os.path.join(HERE, "fixtures", "net-stats")
MISMATCH_STDERR = "corrupted response.\ndpip: invalid parameter\n"


def stdout(name):
    return transcripts.load(name).stdout


def fixture_stdout(path):
    """A kernel-ipvsadm fixture's STDOUT (same framing as the transcripts, no byte counts)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return text.split("===== STDOUT =====\n", 1)[1].split("===== STDERR =====\n", 1)[0]


def cpu_stats_listing(lcores):
    """``dpip -s link show cpu`` as tools/dpip/link.c (v1.10.2) prints it: link_show's plane titles,
    dump_cpu_basic's "%d: cpu%d: socket %d" and "    queues %s", dump_cpu_stats's three blocks of
    "    %-20s" names over "    %-20lu" values. No transcript shows -s with cpu: these are the
    source's format strings, the same the emulator prints."""
    out = []
    for title, cid, queues, values in lcores:
        if title:
            out.append(f"<< {title} >>\n")
        out.append(f"{cid + 1}: cpu{cid}: socket 0\n    queues {queues}\n")
        rows = (
            ("lcore_loop", "pktburst", "zpktburst", "fpktburst"),
            ("z2hpktburst", "h2fpktburst", "dropped"),
            ("ipackets", "ibytes", "opackets", "obytes"),
        )
        for names in rows:
            out.append("    " + "".join(f"{name:<20}" for name in names) + "\n")
            out.append("    " + "".join(f"{values[name]:<20}" for name in names) + "\n")
    return "".join(out)


def counters(base):
    names = ("lcore_loop", "pktburst", "zpktburst", "fpktburst", "z2hpktburst", "h2fpktburst", "dropped")
    values = {name: base + i for i, name in enumerate(names)}
    values.update(ipackets=base * 10, ibytes=base * 1000, opackets=base * 9, obytes=base * 900)
    return values


CPU_LISTING = cpu_stats_listing(
    [
        ("Controll Plane", 0, "none", counters(1)),
        (None, 3, "none", counters(2)),  # a KNI lcore: the control plane's second entry
        ("Data Plane", 1, "dpdk0:rx0       dpdk0:tx0       ", counters(123456789012)),
        (None, 2, "dpdk0:rx1       dpdk0:tx1       ", counters(5)),
    ]
)


def families_of(text):
    """``{name: {frozenset(labels): value}}`` and ``{name: type}`` from prometheus_client's parser."""
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            samples.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return samples, types


def labels(**kwargs):
    return frozenset(kwargs.items())


def fake_runner(answers):
    """A Runner whose commands answer from ``answers`` ({argv tuple without the tool path: (rc,
    stdout, stderr)}); every command it ran is in ``ran``."""
    ran = []

    def run_command(argv, **_kwargs):
        ran.append(list(argv))
        return answers[tuple(argv[1:])]

    runner = Runner(run_command, retries=1)
    runner.ran = ran
    return runner


DPVS_ANSWERS = {
    ("-ln",): (0, stdout("185-ipvsadm-ln-after-traffic.txt"), ""),
    ("-ln", "--stats", "--exact"): (0, stdout("184-ipvsadm-ln-stats-after-traffic.txt"), ""),
    ("-s", "link", "show"): (0, stdout("02-dpip-s-link-show-dpdk0.txt"), ""),
    ("-s", "addr", "show"): (0, stdout("88-dpip-s-addr-show.txt"), ""),
    ("-s", "link", "show", "cpu"): (0, CPU_LISTING, ""),
}


def dpvs_text(answers):
    runner = fake_runner(answers)
    data, problems, up = D.read_dpvs(runner, "dpip", "ipvsadm")
    return exposition.render(D.dpvs_families(data, problems, up)), problems, runner


# -- the dpip link show cpu parser ------------------------------------------------------------


def test_link_cpu_show_transcript():
    assert P.parse_link_cpu_show(stdout("04-dpip-link-show-cpu.txt")) == [
        {"cpu": 0, "name": "cpu0", "socket": 0, "role": "master", "queues": [], "stats": None},
        {"cpu": 1, "name": "cpu1", "socket": 0, "role": "worker", "queues": ["dpdk0:rx0", "dpdk0:tx0"], "stats": None},
    ]


def test_link_cpu_show_stats_and_roles():
    cpus = P.parse_link_cpu_show(CPU_LISTING)
    assert [(c["name"], c["role"]) for c in cpus] == [
        ("cpu0", "master"),
        ("cpu3", "kni"),
        ("cpu1", "worker"),
        ("cpu2", "worker"),
    ]
    assert cpus[2]["stats"] == counters(123456789012)
    assert cpus[3]["queues"] == ["dpdk0:rx1", "dpdk0:tx1"]


def test_link_cpu_show_one_lcore_without_title():
    text = cpu_stats_listing([(None, 1, "dpdk0:rx0       ", counters(7))])
    [cpu] = P.parse_link_cpu_show(text)
    assert (cpu["name"], cpu["role"], cpu["stats"]["dropped"]) == ("cpu1", "unknown", 13)


@pytest.mark.parametrize(
    "text",
    [
        "<< Data Plane >>\n2: cpu1: socket 0\n    queues none\n    lcore_loop          pktburst\n",  # truncated
        "<< Data Plane >>\n2: cpu1: socket 0\n    queues none\n    lcore_loop\n    12x\n",  # not a number
        "<< Data Plane >>\n2: cpu1: socket 0\n    queues none\n    lcore_loop  pktburst\n    1\n",  # a value short
        "<< Data Plane >>\n2: cpu1: socket 0\n    rx_bursts\n    1\n",  # not a dpip name
        "1: dpdk0: socket 0 mtu 1500 rx-queue 1 tx-queue 1\n",  # dpip link show, not cpu
    ],
)
def test_link_cpu_show_refuses_what_it_does_not_know(text):
    with pytest.raises(P.ParseError):
        P.parse_link_cpu_show(text)


# -- a DPVS node --------------------------------------------------------------------------------


def test_dpvs_metrics_from_the_transcripts():
    text, problems, runner = dpvs_text(DPVS_ANSWERS)
    assert problems == {}
    samples, types = families_of(text)
    svc = labels(protocol="tcp", vip="10.0.96.204", port="80")
    rs1 = labels(protocol="tcp", vip="10.0.96.204", port="80", real_server="192.168.229.1", real_server_port="80")
    rs2 = labels(protocol="tcp", vip="10.0.96.204", port="80", real_server="192.168.229.2", real_server_port="8080")
    assert samples["dpvs_up"] == {labels(): 1}
    assert samples["dpvs_services"] == {labels(): 1}
    assert samples["dpvs_service_connections_total"] == {svc: 5}
    assert samples["dpvs_service_in_packets_total"] == {svc: 25}
    assert samples["dpvs_service_in_bytes_total"] == {svc: 1475}
    assert samples["dpvs_service_out_bytes_total"] == {svc: 1490}
    assert samples["dpvs_real_server_connections_total"] == {rs1: 5, rs2: 0}
    assert samples["dpvs_real_server_out_packets_total"] == {rs1: 25, rs2: 0}
    assert samples["dpvs_real_server_inactive_connections"] == {rs1: 5, rs2: 0}
    assert samples["dpvs_real_server_weight"] == {rs1: 1, rs2: 0}
    assert types["dpvs_service_connections"] == "counter"
    assert types["dpvs_real_server_weight"] == "gauge"
    dev = labels(device="dpdk0")
    assert samples["dpvs_device_up"] == {dev: 1}
    assert samples["dpvs_device_receive_packets_total"] == {dev: 5}
    assert samples["dpvs_device_transmit_bytes_total"] == {dev: 78}
    assert samples["dpvs_device_receive_missed_total"] == {dev: 0}
    assert samples["dpvs_device_mbufs_available"] == {dev: 16383}
    lips = {labels(local_address=a, device="dpdk0") for a in ("192.168.229.204", "192.168.229.205")}
    assert samples["dpvs_local_address_ports_free"] == dict.fromkeys(lips, 1032176)
    assert samples["dpvs_local_address_port_misses_total"] == dict.fromkeys(lips, 0)
    worker = labels(worker="cpu1", role="worker")
    assert samples["dpvs_worker_loops_total"][worker] == 123456789012
    assert samples["dpvs_worker_dropped_packets_total"][worker] == 123456789012 + 6
    assert samples["dpvs_worker_receive_bytes_total"][labels(worker="cpu3", role="kni")] == 2000
    assert set(samples["dpvs_metrics_source_up"].values()) == {1}
    assert [argv[1:] for argv in runner.ran] == [list(key) for key in DPVS_ANSWERS]


def test_dpvs_ipv6_service_labels():
    answers = dict(DPVS_ANSWERS)
    answers[("-ln", "--stats", "--exact")] = (0, stdout("159-ipvsadm-ln-stats-ipv6.txt"), "")
    samples, _types = families_of(dpvs_text(answers)[0])
    assert samples["dpvs_real_server_in_bytes_total"] == {
        labels(protocol="tcp", vip="2001:db8::204", port="80", real_server="2001:db8::10", real_server_port="80"): 0
    }


def test_a_failed_source_is_reported_and_left_out():
    answers = dict(DPVS_ANSWERS)
    answers[("-s", "addr", "show")] = (1, "", MISMATCH_STDERR)
    answers[("-v", "addr", "show")] = (0, stdout("88-dpip-s-addr-show.txt"), "")
    answers[("-s", "link", "show", "cpu")] = (0, "<< Data Plane >>\n2: cpu1: socket 0\n    bogus line\n", "")
    text, problems, _runner = dpvs_text(answers)
    assert set(problems) == {"addresses", "workers"}
    samples, _types = families_of(text)
    assert samples["dpvs_metrics_source_up"][labels(source="addresses")] == 0
    assert samples["dpvs_metrics_source_up"][labels(source="workers")] == 0
    assert samples["dpvs_metrics_source_up"][labels(source="links")] == 1
    assert "dpvs_local_address_ports_free" not in samples and "dpvs_worker_loops_total" not in samples
    assert samples["dpvs_service_connections_total"]  # the others are still there


def test_a_daemon_that_does_not_answer_is_dpvs_up_0_and_nothing_else():
    down = transcripts.load("00-daemon-down-ipvsadm-ln.txt")
    answers = dict(DPVS_ANSWERS)
    answers[("-ln",)] = (down.exit_code, down.stdout, down.stderr)
    text, problems, runner = dpvs_text(answers)
    assert "daemon" in problems
    samples, _types = families_of(text)
    assert samples == {"dpvs_up": {labels(): 0}}
    assert len(runner.ran) == 1  # nothing more asked of a daemon that is down


# -- a kernel_lb host -----------------------------------------------------------------------------


def proc_fixture(snmp="snmp-host-6.18.44-fc-v595.txt", softnet="softnet_stat-host-6.18.44-fc-v595.txt"):
    files = {"/proc/net/snmp": snmp, "/proc/net/softnet_stat": softnet}

    def read_text(path):
        return open(os.path.join(NET_STATS, files[path]), encoding="utf-8").read()

    return read_text


def test_snake_names():
    assert [K.snake(n) for n in ("InDatagrams", "RcvbufErrors", "InCsumErrors", "ReasmOKs", "ForwDatagrams")] == [
        "in_datagrams",
        "rcvbuf_errors",
        "in_csum_errors",
        "reasm_oks",
        "forw_datagrams",
    ]


def test_kernel_metrics_from_the_fixtures():
    data, problems = K.read_kernel(proc_fixture())
    assert problems == {}
    samples, types = families_of(exposition.render(K.kernel_families(data, problems)))
    # the values of the fixture's lines (Udp: 156 0 0 157 ..., Ip: 2 64 4202 ..., Tcp: ... CurrEstab 0)
    assert samples["kernel_lb_udp_in_datagrams_total"] == {labels(): 156}
    assert samples["kernel_lb_udp_out_datagrams_total"] == {labels(): 157}
    assert samples["kernel_lb_udp_rcvbuf_errors_total"] == {labels(): 0}
    assert samples["kernel_lb_ip_in_receives_total"] == {labels(): 4202}
    assert samples["kernel_lb_tcp_out_rsts_total"] == {labels(): 89}
    assert samples["kernel_lb_tcp_curr_estab"] == {labels(): 0} and types["kernel_lb_tcp_curr_estab"] == "gauge"
    assert "kernel_lb_ip_forwarding_total" not in samples and "kernel_lb_tcp_max_conn_total" not in samples
    assert not any(name.startswith(("kernel_lb_icmp", "kernel_lb_udp_lite")) for name in samples)
    assert samples["kernel_lb_softnet_processed_total"] == {labels(cpu="0"): 7, labels(cpu="1"): 0x106F}
    assert samples["kernel_lb_softnet_dropped_total"] == {labels(cpu="0"): 0, labels(cpu="1"): 0}
    assert samples["kernel_lb_metrics_source_up"] == {labels(source="snmp"): 1, labels(source="softnet"): 1}
    assert not any("ipvs" in name for name in samples)


def test_kernel_ipvs_from_the_reconstructed_kernel_format():
    """The Linux ipvsadm's --stats --exact (a fixture rebuilt from ipvsadm 1.31's format strings:
    no ip_vs module here), read only when asked."""
    answers = {
        ("-ln",): (0, fixture_stdout(os.path.join(KERNEL_IPVSADM, "ipvsadm-ln.txt")), ""),
        ("-ln", "--stats", "--exact"): (
            0,
            fixture_stdout(os.path.join(KERNEL_IPVSADM, "ipvsadm-ln-stats-exact.txt")),
            "",
        ),
    }
    runner = fake_runner(answers)
    data, problems = K.read_kernel(proc_fixture(), runner, "/usr/sbin/ipvsadm")
    assert problems == {}
    samples, _types = families_of(exposition.render(K.kernel_families(data, problems, ipvs=True)))
    svc = labels(protocol="tcp", vip="10.0.0.1", port="80")
    assert samples["kernel_lb_ipvs_service_in_bytes_total"][svc] == 123456789012
    assert samples["kernel_lb_ipvs_service_out_bytes_total"][svc] == 98765432109876543
    assert (
        samples["kernel_lb_ipvs_real_server_connections_total"][
            labels(protocol="tcp", vip="10.0.0.1", port="80", real_server="192.168.1.3", real_server_port="80")
        ]
        == 567
    )
    assert samples["kernel_lb_ipvs_service_connections_total"][labels(protocol="fwmark", fwmark="5")] == 7
    weights = samples["kernel_lb_ipvs_real_server_weight"]
    assert (
        weights[labels(protocol="tcp", vip="10.0.0.1", port="80", real_server="192.168.1.2", real_server_port="80")]
        == 1
    )
    assert samples["kernel_lb_metrics_source_up"][labels(source="ipvs_stats")] == 1


def test_kernel_ipvs_missing_module_is_a_failed_source():
    stderr = (
        "Can't initialize ipvs: Protocol not available\n"
        "Are you sure that IP Virtual Server is built in the kernel or as module?\n"
    )
    runner = fake_runner({("-ln",): (2, "", stderr), ("-ln", "--stats", "--exact"): (2, "", stderr)})
    data, problems = K.read_kernel(proc_fixture(), runner, "/usr/sbin/ipvsadm")
    assert set(problems) == {"ipvs_services", "ipvs_stats"} and "Protocol not available" in problems["ipvs_stats"]
    samples, _types = families_of(exposition.render(K.kernel_families(data, problems, ipvs=True)))
    assert samples["kernel_lb_metrics_source_up"][labels(source="ipvs_stats")] == 0
    assert samples["kernel_lb_udp_in_datagrams_total"] == {labels(): 156}


# -- the text format and the file -----------------------------------------------------------------


def test_label_values_are_escaped_for_the_text_format():
    family = exposition.Family("dpvs_service_connections_total", "counter", 'a "help"\nline')
    family.add(3, protocol="match", match='proto=tcp,src-range="a\\b"\nx')
    samples, _types = families_of(exposition.render([family]))
    assert samples["dpvs_service_connections_total"] == {
        labels(protocol="match", match='proto=tcp,src-range="a\\b"\nx'): 3
    }


@pytest.mark.parametrize(
    "name, kind, value, extra",
    [
        ("dpvs_x_total", "counter", -1, {}),  # a counter never goes down
        ("dpvs_x", "counter", 1, {}),  # a counter's name ends in _total
        ("dpvs_x_total", "gauge", 1, {}),  # and a gauge's does not
        ("dpvs-x", "gauge", 1, {}),  # not a metric name
        ("dpvs_x", "gauge", 1, {"bad-label": "v"}),
        ("dpvs_x", "gauge", "1", {}),
    ],
)
def test_bad_families_are_refused(name, kind, value, extra):
    with pytest.raises(ValueError):
        exposition.Family(name, kind, "help").add(value, **extra)


def test_one_name_twice_is_refused():
    with pytest.raises(ValueError):
        exposition.render([exposition.Family("dpvs_up", "gauge", "h"), exposition.Family("dpvs_up", "gauge", "h")])


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "dpvs.prom"
    path.write_text("old\n")
    exposition.write_atomic(str(path), "dpvs_up 1\n")
    assert path.read_text() == "dpvs_up 1\n"
    assert sorted(os.listdir(tmp_path)) == ["dpvs.prom"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_collector_writes_the_file_and_names_failed_sources(tmp_path):
    answers = dict(DPVS_ANSWERS)
    answers[("-s", "link", "show")] = (0, "unexpected\n", "")
    err = io.StringIO()
    output = tmp_path / "dpvs.prom"
    clock = iter([100.0, 100.25]).__next__
    rc = collector.main(["dpvs", "--output", str(output)], runner=fake_runner(answers), clock=clock, err=err)
    assert rc == 0
    assert err.getvalue().startswith("dpvs-cluster metrics: links: cannot parse dpip link show output")
    samples, _types = families_of(output.read_text())
    assert samples["dpvs_metrics_timestamp_seconds"] == {labels(): 100.0}
    assert samples["dpvs_metrics_duration_seconds"] == {labels(): 0.25}
    assert samples["dpvs_metrics_source_up"][labels(source="links")] == 0


def test_collector_kernel_reads_proc_below_its_root(tmp_path):
    proc = tmp_path / "proc" / "net"
    proc.mkdir(parents=True)
    for name in ("snmp", "softnet_stat"):
        (proc / name).write_text(proc_fixture()(f"/proc/net/{name}"))
    output = tmp_path / "kernel.prom"
    assert collector.main(["kernel", "--output", str(output), "--proc", str(tmp_path / "proc")], err=io.StringIO()) == 0
    samples, _types = families_of(output.read_text())
    assert samples["kernel_lb_udp_in_datagrams_total"] == {labels(): 156}


def test_collector_cannot_write(tmp_path):
    err = io.StringIO()
    output = tmp_path / "missing-dir" / "dpvs.prom"
    assert collector.main(["kernel", "--output", str(output), "--proc", str(tmp_path)], err=err) == 1
    assert f"cannot write {output}" in err.getvalue()
    assert "snmp: " in err.getvalue()  # and the sources that failed (no /proc files below tmp_path)


def test_tools_that_cannot_run_are_not_a_dpvs_that_answered():
    answers = {key: (127, "", "dpip: No such file or directory\n") for key in DPVS_ANSWERS}
    text, problems, _runner = dpvs_text(answers)
    assert set(problems) == set(D.DPVS_SOURCES)
    samples, _types = families_of(text)
    assert samples["dpvs_up"] == {labels(): 0}
    assert set(samples["dpvs_metrics_source_up"].values()) == {0}
    assert set(samples) == {"dpvs_up", "dpvs_metrics_source_up"}
