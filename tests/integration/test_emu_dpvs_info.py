"""dpvs.cluster.dpvs_info against a running emulator (the daemon-down case: test_emu_daemon_down.py)."""

import pytest
from emutier import as_text

pytestmark = pytest.mark.parallel_safe


def seed(emulator):
    emulator.dpip("addr", "add", "10.0.96.204/32", "dev", "dpdk2")
    emulator.dpip("route", "add", "10.0.96.0/24", "dev", "dpdk2")
    emulator.dpip("-6", "route", "add", "2001:db8:1::/64", "dev", "dpdk2")
    emulator.ipvsadm("-A", "-t", "10.0.96.204:80", "-s", "rr")
    emulator.ipvsadm("-a", "-t", "10.0.96.204:80", "-r", "192.168.229.1:80", "-b")
    emulator.ipvsadm("--add-laddr", "-z", "192.168.229.204", "-t", "10.0.96.204:80", "-F", "dpdk0")
    emulator.ipvsadm("-A", "-u", "10.0.96.204:80", "-s", "wlc")


def test_structures_of_a_running_daemon(emulator, ansible):
    seed(emulator)
    steps = [
        {"name": "all", "module": "dpvs_info", "args": {}},
        {"name": "in_check_mode", "module": "dpvs_info", "args": {}, "check": True},
        {"name": "links_only", "module": "dpvs_info", "args": {"gather_subset": ["links"]}},
    ]
    run = ansible.play("steps.yml", {"steps": steps})
    assert run.rc == 0, run.explain()
    info = run.step("all")
    assert info["running"] is True
    assert info["changed"] is False
    assert info["version"] == "1.10.2"
    assert [link["name"] for link in info["links"]] == ["dpdk0", "dpdk1", "dpdk2", "dpdk3"]
    by_addr = {(a["address"], a["dev"]): a for a in info["addresses"]}
    assert by_addr[("10.0.96.204", "dpdk2")]["prefixlen"] == 32
    assert by_addr[("10.0.96.204", "dpdk2")]["sapool"] is False
    assert by_addr[("192.168.229.204", "dpdk0")]["sapool"] is True  # the LIP --add-laddr put there
    prefixes = {(r["family"], r["prefix"], r["dev"]) for r in info["routes"]}
    assert ("inet", "10.0.96.0/24", "dpdk2") in prefixes
    assert ("inet6", "2001:db8:1::/64", "dpdk2") in prefixes
    services = {(s["protocol"], s["vip"], s["port"]): s for s in info["services"]}
    assert set(services) == {("tcp", "10.0.96.204", 80), ("udp", "10.0.96.204", 80)}
    tcp = services[("tcp", "10.0.96.204", 80)]
    assert tcp["scheduler"] == "rr"
    assert [(rs["ip"], rs["port"], rs["forward"]) for rs in tcp["real_servers"]] == [("192.168.229.1", 80, "fullnat")]
    # -G has no protocol column: the LIP belongs to the TCP service only
    assert [laddr["ip"] for laddr in tcp["laddrs"]] == ["192.168.229.204"]
    assert services[("udp", "10.0.96.204", 80)]["laddrs"] == []
    assert "10.0.96.204" in as_text(info["stats"])
    assert isinstance(info["neighbours"], list)
    assert isinstance(info["vlans"], list)
    assert emulator.log("all") and not emulator.writes("all")

    check = run.step("in_check_mode")
    assert check["running"] is True and check["changed"] is False
    assert check["services"] == info["services"]

    links = run.step("links_only")
    assert [link["name"] for link in links["links"]] == ["dpdk0", "dpdk1", "dpdk2", "dpdk3"]
    ran = [" ".join(entry["argv"]) for entry in emulator.log("links_only")]
    assert not any("ipvsadm" in entry["tool"] for entry in emulator.log("links_only")), ran
