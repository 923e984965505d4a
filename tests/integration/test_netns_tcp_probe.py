"""dpvs.cluster.tcp_probe against real servers in a network namespace (netns_lab.py's A -> B).

Namespace B (10.200.1.1) runs vip_stand_in.py: port 7001 accepts and never answers, 7002 accepts
and answers a request; nothing listens on 7003 (refused); 7004 is behind an iptables rule of B
that drops every SYN (timed out). The probe runs in namespace A through ansible-playbook (the
module's arguments as a play passes them) and must end within count/rate + timeout.
"""

import json
import os

import pytest
import vip_stand_in
from netns_lab import B_CLIENT_SIDE, Ansible, Lab

LISTEN, ANSWER, CLOSED, DROPPED = 7001, 7002, 7003, 7004
TARGETS = [f"{B_CLIENT_SIDE}:{port}" for port in (LISTEN, ANSWER, CLOSED, DROPPED)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tcp-probe")
    lab = Lab(workdir, tag=f"tp{os.getpid() % 100000}")
    try:
        lab.up()
        config = {
            "vip": B_CLIENT_SIDE,
            "listen": [{"protocol": "tcp", "port": LISTEN, "mode": "listen"},
                       {"protocol": "tcp", "port": ANSWER, "mode": "answer"}],
            "services": [], "proc_net": str(workdir), "ipvs": str(workdir / "ipvs.json"),
        }  # fmt: skip
        (workdir / "stand-in.json").write_text(json.dumps(config))
        vip_stand_in.start(lab, str(workdir / "stand-in.json"))
        lab.run("B", "iptables", "-A", "INPUT", "-p", "tcp", "--dport", DROPPED, "--syn", "-j", "DROP")
        yield lab
    finally:
        lab.down()
        assert not any(lab.exists().values()), f"namespaces left behind: {lab.exists()}"


def counts(entry):
    keys = ("attempted", "connected", "answered", "refused", "timed_out", "errors")
    return tuple(entry[key] for key in keys)


def test_tcp_probe_outcomes(lab, tmp_path):
    run = Ansible(lab, tmp_path).in_forwarder("tcp_probe.yml", {"targets": TARGETS}, host="client", namespace="A")
    assert run.rc == 0, run.explain()
    handshakes = run.task("Handshakes", "client")
    assert handshakes["changed"] is False
    per = handshakes["targets"]
    assert counts(per[TARGETS[0]]) == (5, 5, 5, 0, 0, 0), per  # a completed handshake is an answer
    assert counts(per[TARGETS[1]]) == (5, 5, 5, 0, 0, 0), per
    assert counts(per[TARGETS[2]]) == (5, 0, 0, 5, 0, 0), per
    assert per[TARGETS[2]]["first_error"] == f"{TARGETS[2]}: connection refused"
    assert counts(per[TARGETS[3]]) == (5, 0, 0, 0, 5, 0), per
    assert per[TARGETS[3]]["first_error"] == f"{TARGETS[3]}: no handshake within 1 s"
    assert per[TARGETS[0]]["local_addresses"] == ["10.200.1.2"]
    assert handshakes["local_addresses"] == ["10.200.1.2"]
    assert (handshakes["attempted"], handshakes["answered"], handshakes["refused"], handshakes["timed_out"]) == (
        20, 10, 5, 5)  # fmt: skip
    # 20 connections at 50/s, then at most 1 s for the last: never the SYN retries' minutes
    assert 1.0 <= handshakes["seconds"] < 2.5, handshakes["seconds"]

    requests = run.task("Requests", "client")["targets"]
    assert counts(requests[TARGETS[0]]) == (5, 5, 0, 0, 5, 0), requests  # connected, no answer
    assert requests[TARGETS[0]]["first_error"] == f"{TARGETS[0]}: no answer to the request within 1 s"
    assert counts(requests[TARGETS[1]]) == (5, 5, 5, 0, 0, 0), requests
    assert counts(requests[TARGETS[2]]) == (5, 0, 0, 5, 0, 0), requests
    assert counts(requests[TARGETS[3]]) == (5, 0, 0, 0, 5, 0), requests

    check = run.task("Check mode", "client")
    assert check["changed"] is False and check["answered"] == 2, check
    bad = run.task("Bad input", "client")
    assert bad["failed"] is True and bad["msg"].startswith("targets[0].port: a port number 1..65535"), bad["msg"]
