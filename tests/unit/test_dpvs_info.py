"""dpvs_info: gathers every table from the real v1.10.2 outputs (replayed transcripts).

The fake run_command answers each command with the transcript of that command, so the
module is tested on byte-exact DPVS output; commands nobody expects fail the test.
"""

import os
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import moduledocs
import transcripts
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner
from ansible_collections.dpvs.cluster.plugins.modules import dpvs_info

# one consistent moment of the lab: after the first laddr (67/68), with a VLAN (53/55)
REPLAY = {
    "ipvsadm -ln": "67-ipvsadm-ln.txt",
    "ipvsadm -G": "68-ipvsadm-G.txt",
    "ipvsadm -ln --stats --exact": "79-ipvsadm-ln-exact-stats.txt",
    "dpip link show": "55-dpip-link-show-with-vlan.txt",
    "dpip -s addr show": "88-dpip-s-addr-show.txt",
    "dpip route show": "89-dpip-route-show-with-laddr.txt",
    "dpip -6 route show": "35-dpip-6-route-show.txt",
    "dpip neigh show": "187-dpip-neigh-show-after-traffic.txt",
    "dpip vlan show link dpdk0": "53-dpip-vlan-show-link.txt",
}


class Replay:
    def __init__(self, table, extra=None):
        self.table = dict(table)
        self.extra = dict(extra or {})
        self.calls = []

    def __call__(self, argv, data=None, binary_data=False, environ_update=None, check_rc=False):
        command = " ".join([os.path.basename(argv[0]), *argv[1:]])
        self.calls.append(command)
        if command in self.extra:
            return self.extra[command]
        name = self.table.get(command)
        if name is None:
            raise AssertionError(f"unexpected command {command!r}")
        t = transcripts.load(name)
        return t.exit_code, t.stdout, t.stderr


def test_replayed_commands_are_the_transcripts_commands():
    for command, name in REPLAY.items():
        assert transcripts.load(name).command == command


def test_gather_all():
    replay = Replay(REPLAY)
    result = dpvs_info.gather(Runner(replay), "/usr/sbin/dpip", "/usr/sbin/ipvsadm", dpvs_info._subsets(["all"]))
    assert result["running"] is True and result["changed"] is False
    assert result["version"] == "1.10.2"
    assert [link["name"] for link in result["links"]] == ["dpdk0", "dpdk0.100"]
    lip = next(a for a in result["addresses"] if a["address"] == "192.168.229.204")
    assert lip["sapool"] is True and lip["sa_free"] == 1032176
    prefixes = {(r["family"], r["prefix"]) for r in result["routes"]}
    assert ("inet", "192.168.229.0/24") in prefixes and ("inet6", "2001:db8:2::/64") in prefixes
    assert len(result["routes"]) == 5 + 7
    assert [n["ip"] for n in result["neighbours"]] == ["192.168.229.1", "10.0.96.10", "2001:db8::77"]
    assert result["vlans"] == [{"name": "dpdk0.100", "link": "dpdk0", "proto": "802.1q", "id": 100}]
    (service,) = result["services"]
    assert (service["protocol"], service["vip"], service["port"]) == ("tcp", "10.0.96.204", 80)
    assert service["laddrs"] == [{"ip": "192.168.229.204", "conflicts": 0, "conns": 0}]
    assert service["real_servers"][0]["port"] == 0  # 67 shows the RIP:0 drift of a FullNAT RS without port
    (stats,) = result["stats"]
    assert stats["conns"] == 0 and [rs["port"] for rs in stats["real_servers"]] == [80, 8080]
    # every read ran once; the VLAN device itself was not asked for VLANs
    assert sorted(replay.calls) == sorted(REPLAY)


def test_subsets_read_only_what_is_asked():
    replay = Replay(REPLAY)
    result = dpvs_info.gather(Runner(replay), "dpip", "ipvsadm", dpvs_info._subsets(["routes"]))
    assert replay.calls == ["dpip route show", "dpip -6 route show"]  # no ipvsadm for a dpip subset
    assert result["links"] is None and result["services"] is None and result["routes"]
    assert result["running"] is True and result["version"] is None
    replay = Replay(REPLAY)
    result = dpvs_info.gather(Runner(replay), "dpip", "ipvsadm", dpvs_info._subsets(["services"]))
    assert replay.calls == ["ipvsadm -ln"] and result["services"][0]["laddrs"] is None


@pytest.mark.parametrize("name", ["00-daemon-down-ipvsadm-ln.txt", "222-stale-socket-ipvsadm-ln.txt"])
def test_daemon_down_is_running_false_not_a_failure(name):
    replay = Replay({"ipvsadm -ln": name})
    result = dpvs_info.gather(Runner(replay), "dpip", "ipvsadm", dpvs_info._subsets(["all"]))
    assert result["running"] is False and result["version"] is None
    assert all(result[key] is None for key in dpvs_info.RESULT_KEYS)
    assert replay.calls == ["ipvsadm -ln"]


def test_daemon_down_seen_by_dpip_only():
    replay = Replay({"dpip link show": "00-daemon-down-dpip-link-show.txt"})
    result = dpvs_info.gather(Runner(replay), "dpip", "ipvsadm", dpvs_info._subsets(["links"]))
    assert result["running"] is False and result["links"] is None and replay.calls == ["dpip link show"]


def test_daemon_down_on_a_later_read_too():
    table = dict(REPLAY, **{"dpip link show": "220-stale-socket-dpip-link-show.txt"})
    result = dpvs_info.gather(Runner(Replay(table)), "dpip", "ipvsadm", dpvs_info._subsets(["all"]))
    assert result["running"] is False and result["links"] is None and result["version"] is None


def test_laddrs_of_a_vip_port_shared_by_tcp_and_udp_are_read_per_service():
    listing = (
        "IP Virtual Server version 1.10.2 (size=0)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        "TCP  10.0.96.204:53 rr\n"
        "UDP  10.0.96.204:53 rr\n"
        "TCP  [2001:db8::204]:80 rr\n"
    )
    title = "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS     \n"
    tcp = title + "10.0.96.204:53       1        \n" + " " * 30 + "192.168.229.204      0          0         \n"
    udp = title + "10.0.96.204:53       1        \n" + " " * 30 + "192.168.229.205      0          7         \n"
    six = "[2001:db8::204]:80   1        \n" + " " * 30 + "192.168.229.209      0          0         \n"
    replay = Replay({}, extra={
        "ipvsadm -ln": (0, listing, ""),
        "ipvsadm -G": (0, tcp + "10.0.96.204:53       1        \n" + " " * 30
                       + "192.168.229.205      0          7         \n" + six, ""),
        "ipvsadm -G -t 10.0.96.204:53": (0, tcp, ""),
        "ipvsadm -G -u 10.0.96.204:53": (0, udp, ""),
    })
    result = dpvs_info.gather(Runner(replay), "dpip", "ipvsadm", {"services", "laddrs"})
    by_proto = {(s["protocol"], s["vip"]): [laddr["ip"] for laddr in s["laddrs"]] for s in result["services"]}
    assert by_proto == {
        ("tcp", "10.0.96.204"): ["192.168.229.204"],
        ("udp", "10.0.96.204"): ["192.168.229.205"],
        ("tcp", "2001:db8::204"): ["192.168.229.209"],
    }
    assert "ipvsadm -G -t 10.0.96.204:53" in replay.calls and "ipvsadm -G -u 10.0.96.204:53" in replay.calls
    assert not any("2001:db8::204" in call for call in replay.calls)  # not shared: the global -G is enough


def test_documentation_matches_argument_spec():
    doc = moduledocs.documentation(dpvs_info)
    opts = doc["options"]
    assert set(opts) == set(dpvs_info.ARGUMENT_SPEC)
    for name, spec in dpvs_info.ARGUMENT_SPEC.items():
        assert opts[name]["type"] == spec["type"]
        assert opts[name].get("default") == spec.get("default")
        assert opts[name].get("choices") == spec.get("choices")
        assert opts[name].get("elements") == spec.get("elements")
    returned = yaml.safe_load(dpvs_info.RETURN)
    assert set(dpvs_info.RESULT_KEYS) | {"running", "version"} == set(returned)
    yaml.safe_load(dpvs_info.EXAMPLES)
