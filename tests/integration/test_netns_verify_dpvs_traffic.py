"""playbooks/verify_dpvs_traffic.yml end to end in network namespaces, with a stand-in for DPVS.

netns_lab.py's A is the client (group `clients`); B's address 10.200.1.1 is the "VIP":
vip_stand_in.py in B answers TCP 8080 and echoes UDP 5353 itself (no DPVS), and keeps what DPVS
and the real server would: DPVS's Conns per real server (read by dpvs_info through the stand-in's
`ipvsadm`, host lb1 of group `dpvs`) and toa_stats / uoa_stats in the kernel modules' format in a
directory that rs1 (group `realservers`, the real server 10.200.2.2 by its toa_addresses) reads as
its dpvs_verify_traffic_proc_net. lb1 and rs1 run in the test's own namespace (local connection).

Checked: everything answered and the client address arrived -> the play passes and says so per
service and real server; a closed service port and a real server whose TOA counter does not grow
-> the play fails naming both in one message; dpvs_verify_traffic false -> one NOT RUN line.
"""

import json
import os
import sys

import pytest
import vip_stand_in
from netns_lab import B_CLIENT_SIDE, REPO, Ansible, Lab

PLAYBOOK = os.path.join(REPO, "playbooks", "verify_dpvs_traffic.yml")
VIP, RS = B_CLIENT_SIDE, "10.200.2.2"
WEB, CLOSED, DNS = 8080, 8081, 5353
VERIFY = "Verify | traffic through the DPVS VIPs"


def service(protocol, port):
    return {"protocol": protocol, "vip": VIP, "port": port, "scheduler": "rr",
            "real_servers": [{"ip": RS, "port": port, "forward": "fullnat"}]}  # fmt: skip


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("vip-traffic")
    lab = Lab(workdir, tag=f"vt{os.getpid() % 100000}")
    lab.files = {name: str(workdir / name) for name in ("proc_net", "sys_module", "toa_on", "uoa_on")}
    os.makedirs(lab.files["proc_net"])
    os.makedirs(lab.files["sys_module"])
    config = {
        "vip": VIP,
        "listen": [{"protocol": "tcp", "port": WEB, "mode": "answer"}, {"protocol": "udp", "port": DNS}],
        "services": [dict(protocol=p, vip=VIP, port=n, rs_ip=RS, rs_port=n)
                     for p, n in (("tcp", WEB), ("tcp", CLOSED), ("udp", DNS))],
        "proc_net": lab.files["proc_net"],
        "ipvs": str(workdir / "ipvs.json"),
        "toa_flag": lab.files["toa_on"],
        "uoa_flag": lab.files["uoa_on"],
    }  # fmt: skip
    lab.config = str(workdir / "stand-in.json")
    with open(lab.config, "w") as handle:
        json.dump(config, handle)
    try:
        lab.up()
        vip_stand_in.start(lab, lab.config)
        yield lab
    finally:
        lab.down()
        assert not any(lab.exists().values()), f"namespaces left behind: {lab.exists()}"


def inventory(lab, tmp_path, services, **client_vars):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    lb1 = dict(local, dpvs_services_services=services,
               dpvs_services_ipvsadm_path=vip_stand_in.ipvsadm_wrapper(str(tmp_path), lab.config))  # fmt: skip
    rs1 = dict(local, toa_addresses=[RS], dpvs_verify_traffic_proc_net=lab.files["proc_net"],
               dpvs_verify_traffic_sys_module=lab.files["sys_module"])  # fmt: skip
    client1 = {"ansible_connection": "local", "ansible_python_interpreter": lab.interpreter("A"), **client_vars}
    return {
        "clients": {"hosts": {"client1": client1}},
        "dpvs": {"hosts": {"lb1": lb1}},
        "realservers": {"hosts": {"rs1": rs1}},
    }


def flag(path, on):
    if on:
        open(path, "w").close()
    elif os.path.exists(path):
        os.unlink(path)


def toa_seen(lab):
    """syn_recv_sock_toa in the stand-in's toa_stats, read here (not by the collection's parser)."""
    with open(os.path.join(lab.files["proc_net"], "toa_stats")) as handle:
        line = next(line for line in handle if line.startswith("syn_recv_sock_toa "))
    return sum(int(value) for value in line.split(":", 1)[1].split())


def test_all_answered_with_the_client_address(lab, tmp_path):
    flag(lab.files["toa_on"], True)
    flag(lab.files["uoa_on"], True)
    services = [service("tcp", WEB), service("udp", DNS), dict(service("udp", 0), persistent=30)]
    before = toa_seen(lab)
    run = Ansible(lab, tmp_path).across(
        PLAYBOOK, inventory(lab, tmp_path, services, dpvs_verify_traffic_tcp_request="HEAD / HTTP/1.0\r\n\r\n")
    )
    assert run.rc == 0, run.explain()
    assert toa_seen(lab) - before == 20  # the stand-in accepted the 20 connections of the burst
    lines = run.task("Traffic | per service and real server", "client1")["msg"]
    assert lines == [
        f"tcp/{VIP}:{WEB}: 20 of 20 answered",
        f"udp/{VIP}:{DNS}: 20 of 20 answered",
        f"udp/{VIP}:0: not probed (port 0 (all ports))",
        f"rs1: 20 connections carried the client address (TOA), 20 connections reached it: tcp/{VIP}:{WEB}",
        f"rs1: 3 datagrams carried the client address (UOA), 1 flow reached it: udp/{VIP}:{DNS}",
    ]
    verdict = run.task(VERIFY, "client1")
    assert verdict["msg"] == (
        "traffic through the DPVS VIPs: 2 service(s) answered from client1, 1 not probed; "
        "client address seen by rs1 (TOA 20, UOA 3)"
    )
    tcp = run.task("Traffic | TCP connections through every VIP", "client1")
    assert tcp["targets"][f"{VIP}:{WEB}"]["local_addresses"] == ["10.200.1.2"]
    assert run.task("Traffic | TOA and UOA counters of the real servers, after the burst", "rs1")["delta"]["toa"][
        "syn_recv_sock_toa"
    ] == 20


def test_a_closed_port_and_a_missing_client_address_are_both_named(lab, tmp_path):
    flag(lab.files["toa_on"], False)  # the real server gets the connections, not the client address
    flag(lab.files["uoa_on"], True)
    services = [service("tcp", WEB), service("tcp", CLOSED), service("udp", DNS)]
    run = Ansible(lab, tmp_path).across(
        PLAYBOOK, inventory(lab, tmp_path, services, dpvs_verify_traffic_count=10, dpvs_verify_traffic_timeout=1)
    )
    assert run.rc != 0
    verdict = run.task(VERIFY, "client1")
    assert verdict["failed"] is True
    assert verdict["msg"] == (
        f"tcp/{VIP}:{CLOSED}: sent 10, answered 0 (at least 10 of 10 needed), refused 10, timed out 0, errors 0; "
        f"first error: {VIP}:{CLOSED}: connection refused; "
        f"tcp/{VIP}:{WEB}: 10 connections reached rs1, 0 carried the client address (TOA: syn_recv_sock_toa +0)"
    )
    lines = run.task("Traffic | per service and real server", "client1")["msg"]
    assert f"tcp/{VIP}:{WEB}: 10 of 10 answered" in lines
    assert f"udp/{VIP}:{DNS}: 10 of 10 answered" in lines
    assert run.stats["client1"]["failures"] == 1 and run.stats["rs1"]["failures"] == 0


def test_not_run_says_so(lab, tmp_path):
    services = [service("tcp", WEB)]
    run = Ansible(lab, tmp_path).across(
        PLAYBOOK,
        inventory(lab, tmp_path, services, dpvs_verify_traffic=False, dpvs_verify_traffic_reason="no data plane"),
    )
    assert run.rc == 0, run.explain()
    assert run.task(f"{VERIFY} (not run)", "client1")["msg"] == "traffic through the DPVS VIPs: NOT RUN (no data plane)"
    assert run.task("Traffic | TCP connections through every VIP", "client1").get("skipped") is True
    assert run.task("Traffic | TOA and UOA counters of the real servers, before the burst", "rs1").get("skipped")
