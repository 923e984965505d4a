"""The purge guard (_purge_guard) in the three state modules: a purge that would empty a live
table, or remove more than purge_max objects, stops before any write (check mode too), lists
what it would remove and names the option or role variable that allows it."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ansible_collections.dpvs.cluster.plugins.module_utils.converge import purge_guard as _purge_guard
from test_dpip_state import FakeDpip, _module_run, addr_params, route_params
from test_ipvs_plan import FakeIPVS, module_run

ROLE_NAMES = {
    "services": "dpvs_services_services",
    "purge_all": "dpvs_services_purge_all",
    "purge_max": "dpvs_services_purge_max",
}


def live_services(count):
    fake = FakeIPVS()
    for i in range(count):
        fake.setup(f"-A -t 10.0.96.{i + 1}:80 -s rr", f"-a -t 10.0.96.{i + 1}:80 -r 192.168.229.1:80 -b")
    fake.calls.clear()
    return fake


@pytest.mark.parametrize("check_mode", [False, True])
def test_an_empty_services_list_cannot_purge_a_live_table(check_mode):
    fake = live_services(3)
    result = module_run(fake, services=[], purge=True, option_names=ROLE_NAMES, check_mode=check_mode)
    assert result["failed"] is True and result["commands"] == []
    assert fake.writes() == [] and len(fake.services) == 3
    assert result["would_remove"] == [f"tcp 10.0.96.{i}:80 (1 real server)" for i in (1, 2, 3)]
    msg = result["msg"]
    assert "purge would remove all 3 services" in msg and "10.0.96.2:80" in msg
    assert "dpvs_services_services is spelt right" in msg and "dpvs_services_purge_all: true" in msg


def test_purge_all_confirms_emptying_the_table():
    fake = live_services(3)
    result = module_run(fake, services=[], purge=True, purge_all=True)
    assert result["failed"] is False and result["changed"] is True
    assert fake.services == {}


def test_more_than_purge_max_is_refused_and_the_limit_can_be_raised():
    fake = live_services(25)
    keep = [{"vip": "10.0.96.1", "port": 80, "scheduler": "rr"}]
    refused = module_run(fake, services=keep, purge=True)
    assert refused["failed"] is True and fake.writes() == [] and len(fake.services) == 25
    assert "purge would remove 24 services (of 25 in the live table), more than purge_max (20)" in refused["msg"]
    assert "(and 14 more)" in refused["msg"] and len(refused["would_remove"]) == 24
    done = module_run(fake, services=keep, purge=True, purge_max=24, batch_threshold=100)
    assert done["failed"] is False, done
    assert len(fake.services) == 1


def test_a_purge_within_the_limit_that_keeps_something_needs_no_confirmation():
    fake = live_services(3)
    renamed = [{"vip": "10.0.96.9", "port": 80, "scheduler": "rr"}]  # every live service replaced
    result = module_run(fake, services=renamed, purge=True)
    assert result["failed"] is False and set(fake.services) == {("tcp", "10.0.96.9", 80)}
    assert module_run(live_services(0), services=[], purge=True)["failed"] is False  # nothing live: nothing to guard


def test_bad_guard_options_are_input_errors_named_as_the_role_variable():
    fake = live_services(1)
    result = module_run(fake, services=[], purge=True, purge_max=-1, option_names=ROLE_NAMES)
    assert result["failed"] is True and result["msg"].startswith("dpvs_services_purge_max: must be 0..")
    port = module_run(fake, services=[{"vip": "10.0.96.1", "port": "http"}], option_names=ROLE_NAMES)
    assert port["msg"].startswith("dpvs_services_services[0].port: ")
    assert fake.writes() == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_an_empty_address_list_cannot_purge_a_device(check_mode):
    fake = FakeDpip()
    for ip in ("10.0.96.204", "10.0.96.205"):
        _module_run("addresses", addr_params([{"address": ip, "dev": "dpdk0"}]), fake)
    fake.calls.clear()
    names = {"addresses": "dpvs_network_addresses", "purge_all": "dpvs_network_purge_all"}
    done = _module_run(
        "addresses",
        addr_params([], purge=True, purge_devices=["dpdk0"], option_names=names),
        fake,
        check_mode=check_mode,
    )
    assert done.failed and done.result["commands"] == []
    assert not [argv for argv, _env in fake.calls if "del" in argv]
    assert done.result["would_remove"] == ["10.0.96.204/32 dev dpdk0 scope global",
                                           "10.0.96.205/32 dev dpdk0 scope global"]  # fmt: skip
    assert "all 2 addresses" in done.result["msg"] and "dpvs_network_purge_all: true" in done.result["msg"]
    allowed = _module_run("addresses", addr_params([], purge=True, purge_devices=["dpdk0"], purge_all=True), fake)
    assert not allowed.failed and allowed.result["changed"] is True
    assert not [a for a in allowed.result["addresses"] if a["address"].startswith("10.")]


def test_routes_guard_and_a_declared_route_keeps_the_table_non_empty():
    fake = FakeDpip()
    for prefix in ("10.1.0.0/16", "10.2.0.0/16"):
        _module_run("routes", route_params([{"prefix": prefix, "dev": "dpdk0"}]), fake)
    refused = _module_run("routes", route_params([], purge=True, purge_devices=["dpdk0"]), fake)
    assert refused.failed and "all 2 routes" in refused.result["msg"]
    keep = _module_run("routes", route_params([{"prefix": "10.1.0.0/16", "dev": "dpdk0"}], purge=True), fake)
    assert not keep.failed and keep.result["changed"] is True
    assert [r["prefix"] for r in keep.result["routes"] if r["prefix"].startswith("10.")] == ["10.1.0.0/16"]


def test_check_lists_at_most_ten_and_counts_the_rest():
    with pytest.raises(_purge_guard.PurgeRefused) as err:
        _purge_guard.check([f"obj{i}" for i in range(13)], 13, 0, _purge_guard.limits({}), "things", "things")
    assert "obj9" in err.value.msg and "obj10" not in err.value.msg and "(and 3 more)" in err.value.msg
    _purge_guard.check(["a"], 5, 4, _purge_guard.limits({"purge_max": 1}), "things", "things")  # at the limit: allowed
