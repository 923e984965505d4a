"""keepalived.conf from the inventory (plugins/module_utils/keepalived/conf.py).

Golden files (tests/unit/golden/keepalived/<case>.conf, inputs in <case>.yml) for both flavours;
every keyword they hold is in ``conf.KEYWORDS`` with where it comes from, and the kernel flavour's
hold none of the DPVS fork's. Stock keepalived's own ``--config-test`` reads the kernel files in
tests/integration/test_netns_keepalived.py. Regenerate after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/test_keepalived_conf.py`` and review the diff.
"""

import os
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ansible_collections.dpvs.cluster.plugins.module_utils.keepalived import conf as C

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "keepalived")
CASES = sorted(name[: -len(".yml")] for name in os.listdir(GOLDEN) if name.endswith(".yml"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def case(name):
    with open(os.path.join(GOLDEN, f"{name}.yml")) as handle:
        spec = yaml.safe_load(handle)
    return C.build(
        spec["services"], spec["vrrp_instances"], spec["flavor"], priority=spec["priority"], router_id=spec["router_id"]
    ), spec


def golden_text(name, produced):
    path = os.path.join(GOLDEN, f"{name}.conf")
    if UPDATE:
        with open(path, "w") as handle:
            handle.write(produced)
    with open(path) as handle:
        return handle.read()


def test_there_are_cases_of_both_flavours():
    assert {name.split("-")[0] for name in CASES} == {"dpvs", "kernel"} and len(CASES) >= 4


@pytest.mark.parametrize("name", CASES)
def test_golden(name):
    result = case(name)[0]
    assert result["problems"] == []
    assert result["text"] == golden_text(name, result["text"])


@pytest.mark.parametrize("name", CASES)
def test_every_keyword_has_a_known_source(name):
    result, spec = case(name)
    words = C.keywords(result["text"])
    assert words - set(C.KEYWORDS) == set()
    fork = {word for word in words if C.KEYWORDS[word] != C.STOCK}
    if spec["flavor"] == "kernel":
        assert fork == set(), "stock keepalived does not know the DPVS fork's keywords"


def test_the_fork_keywords_come_from_its_parsers():
    fork = {word: source for word, source in C.KEYWORDS.items() if source != C.STOCK}
    assert set(fork) == {
        "local_address_group",
        "laddr_group_name",
        "syn_proxy",
        "expire_quiescent_conn",
        "quic",
        "establish_timeout",
        "proxy_protocol",
        "hash_target",
        "dpdk_interface",
    }
    assert fork["dpdk_interface"] == C.FORK_VRRP


def test_only_keepalived_services_are_rendered():
    result = case("dpvs-fullnat-pair")[0]
    assert result["services"] == ["tcp 10.0.96.204:80", "udp 10.0.96.204:53"]
    assert "8080" not in result["text"]


def test_restart_text_is_the_local_address_groups():
    result, spec = case("dpvs-fullnat-pair")
    assert result["restart_text"].startswith("local_address_group laddr_tcp_10_0_96_204_80 {")
    assert result["restart_text"] in result["text"]
    weights = [dict(spec["services"][0], real_servers=[{"ip": "192.168.229.1", "port": 80, "weight": 9}])]
    reweighted = C.build(weights + spec["services"][1:], spec["vrrp_instances"], "dpvs")
    assert reweighted["text"] != result["text"] and reweighted["restart_text"] == result["restart_text"]
    lips = [dict(spec["services"][0], laddrs=[{"ip": "192.168.229.206", "dev": "dpdk0"}])]
    moved = C.build(lips + spec["services"][1:], spec["vrrp_instances"], "dpvs")
    assert moved["restart_text"] != result["restart_text"]
    assert case("kernel-nat-pair")[0]["restart_text"] == ""


def test_misc_checks_run_as_root_only_with_script_security():
    text = case("kernel-nat-pair")[0]["text"]
    assert "    script_user root\n    enable_script_security\n" in text
    assert "script_user" not in case("dpvs-fullnat-pair")[0]["text"]


SVC = {"vip": "10.0.96.204", "port": 80, "owner": "keepalived", "real_servers": [{"ip": "192.168.229.1", "port": 80}]}
VRRP = {"name": "VI_1", "interface": "eth1", "virtual_router_id": 51, "vips": ["10.0.96.204/24"]}


@pytest.mark.parametrize(
    "services, instances, flavor, expected",
    [
        (
            [
                dict(
                    SVC,
                    real_servers=[
                        {"ip": "192.168.229.1", "port": 80, "forward": "masq"},
                        {"ip": "192.168.229.2", "port": 80},
                    ],
                )
            ],
            [],
            "dpvs",
            "keepalived_services[0]: keepalived sets one forwarding method per virtual server, not fullnat, masq",
        ),
        ([dict(SVC, blocklist=["10.1.1.1"])], [], "dpvs", "keepalived_services[0].blocklist: not rendered"),
        (
            [dict(SVC, dest_check="ping")],
            [],
            "dpvs",
            "keepalived_services[0].dest_check: keepalived has no such keyword",
        ),
        (
            [dict(SVC, health_check={"type": "tcp", "retries": -1})],
            [],
            "dpvs",
            "keepalived_services[0].health_check.retries",
        ),
        (
            [],
            [dict(VRRP, dpdk_interface="dpdk1")],
            "kernel",
            "keepalived_vrrp_instances[0].dpdk_interface: is the DPVS fork's",
        ),
        ([], [dict(VRRP, vips=[])], "kernel", "keepalived_vrrp_instances[0].vips: must be a non-empty list"),
        ([], [dict(VRRP, vips=["10.0.96.300"])], "kernel", "keepalived_vrrp_instances[0].vips[0]"),
        (
            [],
            [dict(VRRP, virtual_router_id=256)],
            "kernel",
            "keepalived_vrrp_instances[0].virtual_router_id: must be 1..255",
        ),
        ([], [dict(VRRP, priorty=100)], "kernel", "keepalived_vrrp_instances[0].priorty: unknown key"),
        (
            [],
            [VRRP, dict(VRRP, name="VI_2")],
            "kernel",
            "keepalived_vrrp_instances[1].virtual_router_id: used twice on eth1",
        ),
        ([], [VRRP, dict(VRRP, virtual_router_id=52)], "kernel", "keepalived_vrrp_instances[1].name: used twice"),
        ([], [dict(VRRP, interface="eth 1")], "kernel", "keepalived_vrrp_instances[0].interface"),
        ([], [dict(VRRP, name="VI 1")], "kernel", "keepalived_vrrp_instances[0].name: must be a word"),
        ([], {"name": "VI_1"}, "kernel", "keepalived_vrrp_instances: must be a list"),
        ([], [], "lvs", "flavor: must be dpvs or kernel"),
    ],
)
def test_problems_name_the_variable(services, instances, flavor, expected):
    result = C.build(services, instances, flavor)
    assert result["text"] == "" and any(expected in problem for problem in result["problems"]), result["problems"]


def test_laddrs_have_no_place_in_the_kernel_flavour():
    svc = dict(
        SVC, real_servers=[{"ip": "192.168.229.1", "port": 80}], laddrs=[{"ip": "192.168.229.204", "dev": "dpdk0"}]
    )
    problems = C.build([svc], [], "kernel")["problems"]
    assert problems  # the ipvsadm model refuses FullNAT on the kernel flavour first, naming the variable
    assert all(problem.startswith("keepalived_services[0]") for problem in problems)


def test_priority_and_router_id_are_checked():
    assert C.build([], [VRRP], "kernel", priority=0)["problems"] == ["keepalived_priority: must be 1..254 (got 0)"]
    assert "keepalived_router_id" in C.build([], [], "kernel", router_id="a b")["problems"][0]


def test_messages_use_the_callers_names():
    names = C.Names(services="dpvs_services_services")
    result = C.build([dict(SVC, blocklist=["10.1.1.1"])], [], "dpvs", names=names)
    assert result["problems"][0].startswith("dpvs_services_services[0].blocklist")


def test_instance_priority_overrides_the_hosts():
    text = C.build([], [dict(VRRP, priority=20)], "kernel", priority=150)["text"]
    assert "    priority 20\n" in text
    assert "    priority 150\n" in C.build([], [VRRP], "kernel", priority=150)["text"]


def test_vips_left_to_keepalived_are_not_static_addresses_nor_purged():
    instance = dict(VRRP, interface="dpdk1.kni", dpdk_interface="dpdk1")
    network = {"addresses": [{"address": "10.0.96.204/32", "dev": "dpdk1"}], "purge": False}
    problems = C.build([], [instance], "dpvs", network=network)["problems"]
    assert problems == [
        "keepalived_vrrp_instances[0].vips[0]: 10.0.96.204 is also in dpvs_network_addresses (every node would hold it "
        "at once): leave the VIP to keepalived and remove it there"
    ]
    network = {"addresses": [{"address": "10.0.96.1/24", "dev": "dpdk1"}], "purge": True}
    problems = C.build([], [instance], "dpvs", network=network)["problems"]
    assert problems and "dpvs_network_purge would remove the VIPs keepalived puts on dpdk1" in problems[0]
    network = {"addresses": [{"address": "10.0.96.1/24", "dev": "dpdk0"}], "purge": True}
    assert C.build([], [instance], "dpvs", network=network)["problems"] == []  # dpdk1 is not purged
    assert C.build([], [instance], "dpvs", network=dict(network, purge_devices=["dpdk1"]))["problems"]


def test_drain_puts_every_instance_at_priority_1_and_is_a_restart():
    result, spec = case("dpvs-vrrp-only")
    drained = C.build(spec["services"], spec["vrrp_instances"], "dpvs", priority=100, drain=True)
    assert drained["text"].count("    priority 1\n") == 2 and "priority 100" not in drained["text"]
    assert drained["restart_text"].startswith(C.DRAINED) and result["restart_text"] == ""
    assert [line for line in drained["text"].splitlines() if line.startswith("    priority")] == ["    priority 1"] * 2


def test_kernel_forwarder_purging_ipvs_would_remove_keepalived_services():
    svc = dict(SVC, real_servers=[{"ip": "192.168.229.1", "port": 80, "forward": "masq"}])
    problems = C.build([svc], [], "kernel", network={"kernel_ipvs_purge": True})["problems"]
    assert len(problems) == 1 and "would purge keepalived's services (tcp 10.0.96.204:80)" in problems[0]
    assert C.build([svc], [], "kernel", network={"kernel_ipvs_purge": False})["problems"] == []
    assert C.build([], [VRRP], "kernel", network={"kernel_ipvs_purge": True})["problems"] == []  # VRRP only: fine
