"""_net_stats parsers on /proc/net/snmp and /proc/net/softnet_stat captured on a real kernel.

Fixtures (tests/unit/fixtures/net-stats, kernel 6.18): the host's files, and /proc/net/snmp of
a fresh network namespace after known UDP traffic (5 datagrams delivered, 3 to a closed port;
then 200 datagrams into a socket with the smallest receive buffer).
"""

import glob
import os

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel import net_stats as ns

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "net-stats")


def fixture(pattern):
    found = sorted(glob.glob(os.path.join(FIXTURES, pattern)))
    assert len(found) == 1, (pattern, found)
    with open(found[0]) as handle:
        return handle.read()


UDP_NAMES = [
    "InDatagrams",
    "NoPorts",
    "InErrors",
    "OutDatagrams",
    "RcvbufErrors",
    "SndbufErrors",
    "InCsumErrors",
    "IgnoredMulti",
    "MemErrors",
]


def test_snmp_host_every_section_in_order():
    snmp = ns.parse_snmp(fixture("snmp-host-*.txt"))
    assert list(snmp) == ["Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite"]
    assert list(snmp["Udp"]) == UDP_NAMES
    assert snmp["Udp"]["InDatagrams"] == 156
    assert snmp["Udp"]["OutDatagrams"] == 157
    assert snmp["Ip"]["Forwarding"] == 2
    assert snmp["Ip"]["InReceives"] == 4202
    assert snmp["Tcp"]["MaxConn"] == -1
    assert snmp["IcmpMsg"] == {"InType3": 1}


def test_snmp_netns_counts_the_known_traffic():
    snmp = ns.parse_snmp(fixture("snmp-netns-after-udp-*.txt"))
    assert snmp["Udp"]["InDatagrams"] == 5
    assert snmp["Udp"]["NoPorts"] == 3
    assert snmp["Udp"]["OutDatagrams"] == 8
    assert snmp["Icmp"]["OutDestUnreachs"] == 3
    assert snmp["IcmpMsg"] == {"InType3": 3, "OutType3": 3}


def test_snmp_rcvbuf_overflow_is_an_error_counter():
    result = ns.collect(snmp_text=fixture("snmp-netns-rcvbuf-overflow-*.txt"))
    assert result["snmp"]["Udp"]["RcvbufErrors"] == 199
    assert result["errors"]["Udp.RcvbufErrors"] == 199
    assert result["errors"]["Udp.InErrors"] == 199
    assert result["errors"]["Udp.NoPorts"] == 0
    assert "softnet.dropped" not in result["errors"]  # softnet not gathered
    assert "softnet" not in result


def test_softnet_host_6x_has_15_columns_with_cpu_numbers():
    cpus = ns.parse_softnet_stat(fixture("softnet_stat-host-*.txt"))
    assert [cpu["cpu"] for cpu in cpus] == [0, 1]
    assert cpus[0]["processed"] == 0x7
    assert cpus[1]["processed"] == 0x106F
    assert all(cpu["dropped"] == 0 and cpu["time_squeeze"] == 0 for cpu in cpus)
    assert set(cpus[0]) == {
        "processed",
        "dropped",
        "time_squeeze",
        "received_rps",
        "flow_limit_count",
        "backlog_len",
        "cpu",
        "input_qlen",
        "process_qlen",
    }
    totals = ns.softnet_totals(cpus)
    assert totals["processed"] == 0x7 + 0x106F
    assert totals["dropped"] == 0


def test_softnet_11_column_kernels_number_cpus_by_line():
    # the 4.x/5.4 layout (11 columns, no CPU number), values made up: 2 CPUs, drops on the second
    text = (
        "0000002a 00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n"
        "00000100 00000005 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000003 00000000\n"
    )
    cpus = ns.parse_softnet_stat(text)
    assert cpus == [
        {"processed": 42, "dropped": 0, "time_squeeze": 1, "received_rps": 0, "flow_limit_count": 0, "cpu": 0},
        {"processed": 256, "dropped": 5, "time_squeeze": 2, "received_rps": 3, "flow_limit_count": 0, "cpu": 1},
    ]
    result = ns.collect(softnet_text=text)
    assert result["errors"] == {"softnet.dropped": 5, "softnet.time_squeeze": 3, "softnet.flow_limit_count": 0}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Udp: InDatagrams NoPorts\nUdp: 1\n", "2 counter names but 1 values"),
        ("Udp: InDatagrams NoPorts\n", "has no value line"),
        ("Udp: InDatagrams\nIp: 1\n", "has no value line"),
        ("Udp: InDatagrams\nUdp: x\n", "not all integers"),
        ("garbage\n", "not a 'Section: fields' line"),
    ],
)
def test_snmp_format_errors_say_where(text, problem):
    with pytest.raises(ns.StatsFormatError, match=problem):
        ns.parse_snmp(text)


def test_softnet_format_error():
    with pytest.raises(ns.StatsFormatError, match="line 2"):
        ns.parse_softnet_stat("00000001 00000000 00000000\nnot hex at all\n")


def test_deltas_from_the_netns_captures():
    before = ns.collect(snmp_text=fixture("snmp-netns-after-udp-*.txt"), softnet_text="0000000a 00000001 00000000\n")
    after = ns.collect(
        snmp_text=fixture("snmp-netns-rcvbuf-overflow-*.txt"), softnet_text="0000001a 00000004 00000000\n"
    )
    delta = ns.deltas(before, after)
    # the two captures are two different namespaces: counters went back (reported as negative)
    assert delta["snmp"]["Udp"]["InDatagrams"] == 0 - 5
    assert delta["snmp"]["Udp"]["RcvbufErrors"] == 199
    assert delta["softnet_totals"]["processed"] == 16
    assert delta["errors"]["softnet.dropped"] == 3
    assert delta["errors"]["Udp.RcvbufErrors"] == 199
    assert delta["errors"]["Udp.NoPorts"] == -3


def test_deltas_account_for_one_softnet_wrap_and_skip_missing_keys():
    before = {"softnet_totals": {"dropped": 0xFFFFFFFE}, "errors": {"softnet.dropped": 0xFFFFFFFE}, "snmp": {}}
    after = {
        "softnet_totals": {"dropped": 1, "processed": 5},
        "errors": {"softnet.dropped": 1, "Udp.NoPorts": 4},
        "snmp": {"Udp": {"NoPorts": 4}},
    }
    delta = ns.deltas(before, after)
    assert delta["softnet_totals"] == {"dropped": 3}
    assert delta["errors"] == {"softnet.dropped": 3}
    assert "snmp" not in delta


def test_deltas_ignore_ansible_result_noise():
    current = ns.collect(snmp_text=fixture("snmp-host-*.txt"), softnet_text=fixture("softnet_stat-host-*.txt"))
    registered = dict(current, changed=False, failed=False, invocation={"module_args": {}})
    delta = ns.deltas(registered, current)
    assert all(value == 0 for value in delta["errors"].values())
    assert delta["errors"]
    assert all(value == 0 for section in delta["snmp"].values() for value in section.values())


def run_module(tmp_path, args):
    """net_stats_info as Ansible runs it: a process reading its arguments from a JSON file."""
    import json
    import subprocess
    import sys

    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run(
        [sys.executable, "-m", "ansible_collections.dpvs.cluster.plugins.modules.net_stats_info", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": os.pathsep.join(sys.path), "LANG": "C.UTF-8"},
    )
    return proc.returncode, json.loads(proc.stdout)


def test_the_module_reads_a_proc_tree_and_reports_deltas(tmp_path):
    proc_root = tmp_path / "proc"
    (proc_root / "net").mkdir(parents=True)
    (proc_root / "net" / "snmp").write_text(fixture("snmp-netns-after-udp-*.txt"))
    (proc_root / "net" / "softnet_stat").write_text(fixture("softnet_stat-host-*.txt"))
    rc, before = run_module(tmp_path, {"proc_path": str(proc_root)})
    assert rc == 0 and before["changed"] is False
    assert before["errors"]["Udp.NoPorts"] == 3 and before["softnet_totals"]["processed"] == 0x7 + 0x106F
    (proc_root / "net" / "snmp").write_text(fixture("snmp-netns-rcvbuf-overflow-*.txt"))
    rc, after = run_module(tmp_path, {"proc_path": str(proc_root), "gather_subset": ["snmp"], "baseline": before})
    assert rc == 0 and "softnet" not in after
    assert after["delta"]["errors"]["Udp.RcvbufErrors"] == 199
    rc, failed = run_module(tmp_path, {"proc_path": str(tmp_path / "nowhere")})
    assert rc == 1 and failed["msg"].startswith("cannot read the snmp counters"), failed
