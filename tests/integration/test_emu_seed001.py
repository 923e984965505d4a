"""Seed 001 acceptance: the section 3 FullNAT deployment, converged by the collection's modules."""

import re

import pytest
from emutier import PORTS_SEED001, assert_ok

pytestmark = pytest.mark.parallel_safe

SEED_ROUTES = {
    ("10.0.96.204/32", "dpdk2", None): "host",
    ("192.168.229.204/32", "dpdk0", None): "host",
    ("10.0.96.0/24", "dpdk2", None): "link",
    ("192.168.229.0/24", "dpdk0", None): "link",
    ("0.0.0.0/0", "dpdk2", "10.0.96.254"): "global",
}


def assert_seed_state(emulator):
    addrs = {key: value for key, value in emulator.addrs().items() if value["family"] == "inet"}
    assert set(addrs) == {("10.0.96.204/32", "dpdk2"), ("192.168.229.204/32", "dpdk0")}, addrs
    assert addrs[("192.168.229.204/32", "dpdk0")]["sapool"] is True
    routes = {key: value["scope"] for key, value in emulator.routes().items() if ":" not in key[0]}
    assert routes == SEED_ROUTES
    services = emulator.services()
    assert set(services) == {"tcp 10.0.96.204:80"}
    assert services["tcp 10.0.96.204:80"]["scheduler"] == "rr"
    assert services["tcp 10.0.96.204:80"]["rs"] == {
        "192.168.229.1:80": {"forward": "FullNat", "weight": 1, "active": 0}
    }
    assert emulator.laddrs() == {"10.0.96.204:80": ["192.168.229.204"]}


def test_seed001_converges_then_is_idempotent_and_rejects_the_seeds_mistake(emulator, ansible):
    assert emulator.services() == {}
    first = ansible.play("seed001_fullnat.yml", var_files=["seed001.yml"])
    assert first.rc == 0, first.explain()
    assert first.stats["failures"] == 0
    for task in ("VIP on the WAN port", "Routes to the client and real-server networks",
                 "Service, real servers and local addresses"):  # fmt: skip
        assert_ok(first[task], task)
        assert first[task]["changed"] is True, task
    assert_seed_state(emulator)

    emulator.clear_logs()
    second = ansible.play("seed001_fullnat.yml", var_files=["seed001.yml"])
    assert second.rc == 0, second.explain()
    assert second.stats["changed"] == 0, second.stats
    for phase in ("seed_addr", "seed_route", "seed_ipvsadm", "seed_info"):
        assert emulator.log(phase), phase
        assert emulator.writes(phase) == [], (phase, emulator.writes(phase))
    assert_seed_state(emulator)

    # the seed's `ipvsadm -a -t 10.0.96.204:80 -r 192.168.229.1 -b` (no RS port)
    emulator.clear_logs()
    mistake = ansible.play("seed001_fullnat.yml", var_files=["seed001.yml", "seed001_rs_without_port.yml"])
    assert mistake.rc != 0
    failed = mistake["Service, real servers and local addresses"]
    assert failed.get("failed") is True
    msg = failed["msg"]
    assert "services[0].real_servers[0].port" in msg, msg
    assert re.search(r"port 0", msg) and re.search(r"drop", msg, re.I), msg
    assert emulator.log("seed_ipvsadm") == [], "commands ran before the bad input was rejected"
    assert_seed_state(emulator)


def test_restart_loses_everything_and_a_rerun_restores_it(emulator, ansible):
    first = ansible.play("seed001_fullnat.yml", var_files=["seed001.yml"])
    assert first.rc == 0, first.explain()
    converged = emulator.snapshot()

    emulator.restart(PORTS_SEED001)
    assert emulator.services() == {}
    assert emulator.laddrs() == {}
    assert not [key for key, value in emulator.addrs().items() if value["family"] == "inet"]

    again = ansible.play("seed001_fullnat.yml", var_files=["seed001.yml"])
    assert again.rc == 0, again.explain()
    assert again.stats["changed"] >= 3, again.stats
    assert emulator.snapshot() == converged
    assert_seed_state(emulator)
