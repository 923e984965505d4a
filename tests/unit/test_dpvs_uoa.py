"""UOA in dpvs.conf (module_utils/dpvs_conf/uoa.py, the dpvs_uoa_plan filter): on only for UDP
FullNAT real servers that a realservers host of the inventory loads uoa on (issue 12, finding 8:
with DPVS's default ``uoa_mode opp`` / ``uoa_max_trail 3`` a server without uoa.ko answers the
first 3 packets of every UDP flow with ICMP protocol unreachable; 1-packet DNS flows got 0 of 10
answers).

The plan's decision goes into ``dpvs_conf`` and through the dpvs.conf model: the rendered file is
checked, and the change from the default (3 -> 0) is a reload, not a restart. The collection's
inventories come out as stated in docs/dpvs_conf.md: the lab's UDP service to rs1 (which loads the
test module, not uoa) gets ``uoa_max_trail 0``; the example's and the emulator's TCP-only services
change nothing.
"""

import copy
import os
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import dpvs_shapes
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_uoa_plan import FilterModule as UoaFilter
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import conf as _conf
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import uoa as _uoa

FILTERS = UoaFilter().filters()
INVENTORIES = os.path.join(dpvs_shapes.REPO, "inventories")
LAB_SHAPE = dpvs_shapes.SHAPES["lab-vdev-1node"]


def dns(rs_ip="10.1.0.53", **extra):
    """A DNS-like UDP FullNAT service (each query is a 1-packet flow)."""
    svc = {
        "protocol": "udp",
        "vip": "10.0.96.204",
        "port": 53,
        "scheduler": "rr",
        "real_servers": [{"ip": rs_ip, "port": 53, "forward": "fullnat"}],
        "laddrs": [{"ip": "10.1.0.204", "dev": "dpdk0"}],
    }
    svc.update(extra)
    return svc


def web(rs_ip="10.1.0.80"):
    return {
        "protocol": "tcp",
        "vip": "10.0.96.204",
        "port": 80,
        "real_servers": [{"ip": rs_ip, "port": 80, "forward": "fullnat"}],
    }


def host(name, **values):
    entry = {"name": name, "ansible_host": None, "toa_addresses": [], "toa_modules": None}
    entry.update(values)
    return entry


def udp_conf(overrides):
    """The ipvs_defs udp keywords of the dpvs.conf the role renders with ``overrides``."""
    shape = copy.deepcopy(LAB_SHAPE)
    shape["vars"]["dpvs_conf"] = overrides
    text = dpvs_shapes.build(shape)["text"]
    tree = _conf.validate(text, strict=True, version=(1, 10, 2))
    (udp,) = _conf.find(tree, "ipvs_defs", "udp")
    return text, {node.keyword: node.args for node in udp.children if node.children is None}


# ----------------------------------------------------------------------------- auto


def test_a_dns_service_whose_real_server_is_not_in_the_inventory_turns_uoa_off_and_names_it():
    plan = FILTERS["dpvs_uoa_plan"]([dns(), web()], [], mode="auto", overrides={"global_defs": {"kni": False}})
    assert plan["uoa"] is False and plan["uoa_max_trail"] == 0 and plan["set"] == {"uoa_max_trail": 0}
    assert plan["uncovered"] == ["10.1.0.53"]
    (row,) = plan["real_servers"]
    assert row["services"] == ["udp 10.0.96.204:53"] and row["host"] is None
    assert "no host of the realservers group has this address" in row["why"]
    assert "10.1.0.53 (udp 10.0.96.204:53" in plan["message"]
    assert "toa_addresses" in plan["message"] and "dpvs_uoa: on" in plan["message"]
    # the user's other dpvs_conf values stay; the filter's result is what the dpvs_conf filter gets
    assert plan["dpvs_conf"] == {"global_defs": {"kni": False}, "ipvs_defs": {"udp": {"uoa_max_trail": 0}}}
    text, udp = udp_conf(plan["dpvs_conf"])
    assert udp["uoa_max_trail"] == ["0"] and udp["uoa_mode"] == ["opp"]
    assert "        uoa_max_trail                0\n" in text


def test_uoa_off_is_a_reload_not_a_restart():
    before, _udp = udp_conf({})
    plan = _uoa.plan([dns()], [], "auto", {})
    after, _udp = udp_conf(_uoa.conf_overrides({}, plan))
    change = _conf.classify_changes(before, after)
    assert change == {"init": [], "normal": ["ipvs_defs/udp/uoa_max_trail: 3 -> 0"], "new": False}


@pytest.mark.parametrize(
    "entry",
    [
        host("10.1.0.53"),  # the inventory name is the address
        host("rs1", ansible_host="10.1.0.53"),
        host("rs1", ansible_host="rs1.example.net", toa_addresses=["192.0.2.1", "10.1.0.53"]),
        host("rs1", ansible_host="10.1.0.53", toa_modules=[{"name": "uoa", "params": {"uoa_map_timeout": 360}}]),
    ],
    ids=["inventory-name", "ansible_host", "toa_addresses", "uoa-only"],
)
def test_every_real_server_on_a_host_that_loads_uoa_keeps_dpvs_defaults(entry):
    plan = _uoa.plan([dns(), web()], [host("other", ansible_host="10.9.9.9"), entry], "auto", {})
    assert plan["uoa"] is True and plan["uoa_mode"] == "opp" and plan["uoa_max_trail"] == 3
    assert plan["set"] == {} and plan["uncovered"] == [] and plan["message"] == ""
    assert plan["real_servers"][0]["covered"] is True and plan["real_servers"][0]["host"] == entry["name"]
    assert _uoa.conf_overrides({}, plan) == {}


def test_one_uncovered_real_server_turns_uoa_off_for_all():
    services = [dns(), dns("10.1.0.54", port=5353)]
    plan = _uoa.plan(services, [host("rs1", ansible_host="10.1.0.53")], "auto", {})
    assert plan["uoa_max_trail"] == 0
    assert plan["uncovered"] == ["10.1.0.54"]
    assert [row["covered"] for row in plan["real_servers"]] == [True, False]


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (host("rs1", ansible_host="10.1.0.53", toa_modules=[{"name": "toa"}]), "toa_modules has no uoa (it has toa)"),
        (host("rs1", ansible_host="10.1.0.53", toa_load=False), "toa_load is false"),
        (host("rs1", ansible_host="10.1.0.53", prepare=False), "dpvs_cluster_prepare_host is false"),
    ],
    ids=["no-uoa-module", "not-loaded", "not-prepared"],
)
def test_a_host_that_does_not_load_uoa_does_not_cover_its_address(entry, why):
    plan = _uoa.plan([dns()], [entry], "auto", None)
    assert plan["uoa_max_trail"] == 0
    (row,) = plan["real_servers"]
    assert row["covered"] is False and row["host"] == "rs1" and why in row["why"]
    assert f"rs1: {why}" in plan["message"]
    assert plan["set"] == {"uoa_max_trail": 0}


def test_tcp_only_services_change_nothing():
    plan = _uoa.plan([web(), web("10.1.0.81")], [], "auto", {"global_defs": {"kni": False}})
    assert plan["uoa"] is True and plan["uoa_max_trail"] == 3 and plan["set"] == {}
    assert plan["real_servers"] == [] and plan["message"] == ""
    assert _uoa.conf_overrides({"global_defs": {"kni": False}}, plan) == {"global_defs": {"kni": False}}


@pytest.mark.parametrize(
    "svc",
    [
        dns(real_servers=[{"ip": "10.1.0.53", "port": 53, "forward": "dr"}]),
        dns(state="absent"),
        dns(proxy_protocol="v2"),  # DPVS sends no UOA on proxy protocol v2 connections
        dns(proxy_protocol="v2-insecure"),
        {"protocol": "udp", "vip": "10.0.96.204", "port": 53},  # no real servers yet
    ],
    ids=["dr", "absent", "proxy-v2", "proxy-v2-insecure", "no-real-servers"],
)
def test_udp_services_dpvs_sends_no_uoa_for_change_nothing(svc):
    plan = _uoa.plan([svc], [], "auto", {})
    assert plan["real_servers"] == [] and plan["set"] == {} and plan["uoa_max_trail"] == 3


def test_default_forwarding_is_fullnat_and_proxy_protocol_v1_still_gets_uoa():
    svc = dns(real_servers=[{"ip": "10.1.0.53", "port": 53}], proxy_protocol="v1")
    assert _uoa.udp_fullnat_real_servers([svc]) == {"10.1.0.53": ["udp 10.0.96.204:53"]}


def test_ipv6_real_servers_match_in_any_spelling():
    svc = dns("2001:db8::0053", vip="2001:db8::204")
    plan = _uoa.plan([svc], [host("rs6", toa_addresses=["2001:DB8:0:0::53"])], "auto", {})
    assert plan["real_servers"][0]["ip"] == "2001:db8::53"
    assert plan["real_servers"][0]["services"] == ["udp [2001:db8::204]:53"]
    assert plan["uoa"] is True


# ----------------------------------------------------------------------------- on / off / dpvs_conf


def test_on_keeps_uoa_and_says_which_servers_it_vouches_for():
    plan = _uoa.plan([dns()], [], "on", {})
    assert plan["uoa"] is True and plan["set"] == {} and plan["decided_by"] == "dpvs_uoa"
    assert "UOA on in dpvs.conf (uoa_mode opp, uoa_max_trail 3" in plan["message"]
    assert "10.1.0.53" in plan["message"] and "ICMP protocol unreachable" in plan["message"]


def test_off_turns_uoa_off_even_for_covered_servers():
    plan = _uoa.plan([dns()], [host("rs1", ansible_host="10.1.0.53")], "off", {})
    assert plan["uoa"] is False and plan["set"] == {"uoa_max_trail": 0}
    assert plan["message"].startswith("UOA off in dpvs.conf (uoa_max_trail 0; dpvs_uoa: off)")
    _text, udp = udp_conf(_uoa.conf_overrides({}, plan))
    assert udp["uoa_max_trail"] == ["0"]


@pytest.mark.parametrize(
    ("value", "mode"), [(True, "on"), (False, "off"), ("on", "on"), ("OFF", "off"), ("auto", "auto")]
)
def test_yaml_on_and_off_arrive_as_booleans_and_are_understood(value, mode):
    assert _uoa.normalize_mode(value) == mode


@pytest.mark.parametrize("value", ["yes", "sometimes", None, 1])
def test_a_bad_dpvs_uoa_names_the_variable_and_the_value(value):
    with pytest.raises(AnsibleFilterError) as err:
        FILTERS["dpvs_uoa_plan"]([dns()], [], mode=value)
    assert f"dpvs_uoa: must be auto, on or off (got {value!r})" in str(err.value)


def test_the_users_explicit_uoa_keywords_win_over_auto():
    overrides = {"ipvs_defs": {"udp": {"uoa_max_trail": 5}}}
    plan = FILTERS["dpvs_uoa_plan"]([dns()], [], mode="auto", overrides=overrides)
    assert plan["set"] == {} and plan["decided_by"] == "dpvs_conf" and plan["uoa_max_trail"] == 5
    assert plan["dpvs_conf"] == overrides
    assert "uoa_max_trail 5" in plan["message"] and "10.1.0.53" in plan["message"]

    ipo = {"ipvs_defs": {"udp": {"uoa_mode": "ipo"}}}
    plan = _uoa.plan([dns()], [], "auto", ipo)
    assert plan["set"] == {} and plan["uoa_mode"] == "ipo" and plan["uoa_max_trail"] == 3
    assert "an IPv4 option" in plan["message"]
    _text, udp = udp_conf(_uoa.conf_overrides(ipo, plan))
    assert udp == {"uoa_mode": ["ipo"], "uoa_max_trail": ["3"]}

    zero = {"ipvs_defs": {"udp": {"uoa_max_trail": 0}}}
    plan = _uoa.plan([dns()], [host("rs1", ansible_host="10.1.0.53")], "auto", zero)
    assert plan["uoa"] is False and plan["decided_by"] == "dpvs_conf" and plan["set"] == {}

    # null removes the keyword: DPVS runs its own default, 3
    plan = _uoa.plan([dns()], [], "auto", {"ipvs_defs": {"udp": {"uoa_max_trail": None}}})
    assert plan["uoa"] is True and plan["uoa_max_trail"] == 3 and plan["set"] == {}


@pytest.mark.parametrize(
    ("mode", "trail", "expected"),
    [
        ("off", 3, "dpvs_uoa: contradicts dpvs_conf.ipvs_defs.udp.uoa_max_trail: 3 (UOA on)"),
        ("off", None, "dpvs_uoa: contradicts dpvs_conf.ipvs_defs.udp.uoa_max_trail: 3 (UOA on)"),
        ("on", 0, "dpvs_uoa: contradicts dpvs_conf.ipvs_defs.udp.uoa_max_trail: 0 (UOA off)"),
    ],
)
def test_dpvs_uoa_contradicting_dpvs_conf_fails_naming_both(mode, trail, expected):
    with pytest.raises(InputError) as err:
        _uoa.plan([dns()], [], mode, {"ipvs_defs": {"udp": {"uoa_max_trail": trail}}})
    assert expected in str(err.value) and f"(got '{mode}')" in str(err.value)


def test_off_with_an_explicit_mode_or_a_zero_trail_agrees():
    plan = _uoa.plan([dns()], [], "off", {"ipvs_defs": {"udp": {"uoa_mode": "ipo"}}})
    assert plan["set"] == {"uoa_max_trail": 0} and plan["uoa"] is False
    plan = _uoa.plan([dns()], [], "off", {"ipvs_defs": {"udp": {"uoa_max_trail": "0"}}})
    assert plan["set"] == {} and plan["uoa"] is False
    plan = _uoa.plan([dns()], [], "on", {"ipvs_defs": {"udp": {"uoa_max_trail": 2}}})
    assert plan["uoa_max_trail"] == 2


def test_conf_overrides_keeps_other_values_and_leaves_malformed_ones_to_the_model():
    plan = {"set": {"uoa_max_trail": 0}}
    user = {"ipvs_defs": {"conn": {"conn_pool_size": 65536}, "udp": {"timeout": {"oneway": 30}}}}
    merged = _uoa.conf_overrides(user, plan)
    assert merged["ipvs_defs"] == {
        "conn": {"conn_pool_size": 65536},
        "udp": {"timeout": {"oneway": 30}, "uoa_max_trail": 0},
    }
    assert "uoa_max_trail" not in user["ipvs_defs"]["udp"]  # not modified in place
    assert _uoa.conf_overrides({"ipvs_defs": None}, plan) == {"ipvs_defs": {"udp": {"uoa_max_trail": 0}}}
    assert _uoa.conf_overrides(None, plan) == {"ipvs_defs": {"udp": {"uoa_max_trail": 0}}}
    assert _uoa.conf_overrides({"ipvs_defs": "x"}, plan) == {"ipvs_defs": "x"}
    assert _uoa.conf_overrides({"ipvs_defs": {"udp": [1]}}, plan) == {"ipvs_defs": {"udp": [1]}}


# ----------------------------------------------------------------------------- toa_addresses


def test_address_problems_name_the_variable_and_the_value():
    problem = FILTERS["dpvs_uoa_address_problems"]
    assert problem(["192.168.110.2", "2001:db8::2"]) == []
    assert problem([]) == [] and problem(None) == []
    assert problem(["192.168.110.2", "192.168.110.300", "rs1"]) == [
        "toa_addresses[1]: not an IP address (got '192.168.110.300')",
        "toa_addresses[2]: not an IP address (got 'rs1')",
    ]
    assert problem("192.168.110.2") == ["toa_addresses: must be a list of IP addresses (got '192.168.110.2')"]


def test_a_bad_toa_addresses_entry_of_a_realservers_host_fails_the_plan():
    with pytest.raises(AnsibleFilterError) as err:
        FILTERS["dpvs_uoa_plan"]([dns()], [host("rs1", toa_addresses=["10.1.0.x"])])
    assert "toa_addresses[0] of rs1: not an IP address (got '10.1.0.x')" in str(err.value)
    with pytest.raises(InputError, match=r"toa_addresses of rs1: must be a list of IP addresses \(got '10.1.0.1'\)"):
        _uoa.plan([dns()], [host("rs1", toa_addresses="10.1.0.1")])


# ----------------------------------------------------------------------------- the inventories


def load(*parts):
    with open(os.path.join(INVENTORIES, *parts)) as handle:
        return yaml.safe_load(handle) or {}


def test_the_lab_inventory_turns_uoa_off_for_rs1_which_loads_the_test_module_not_uoa():
    services = load("lab", "group_vars", "dpvs", "dpvs_services.yml")["dpvs_services_services"]
    rs_vars = {**load("lab", "group_vars", "all.yml"), **load("lab", "group_vars", "realservers", "toa.yml")}
    rs_vars.update(load("lab", "host_vars", "rs1.yml"))
    assert load("lab", "hosts.yml")["all"]["children"]["realservers"]["hosts"] == {"rs1": None}
    rs1 = host(
        "rs1",
        ansible_host=rs_vars["ansible_host"],
        toa_addresses=rs_vars["toa_addresses"],
        toa_modules=rs_vars["toa_modules"],
    )
    dpvs_conf = load("lab", "group_vars", "dpvs", "dpvs.yml")["dpvs_conf"]
    plan = _uoa.plan(services, [rs1], "auto", dpvs_conf)
    assert plan["uoa_max_trail"] == 0 and plan["uncovered"] == ["192.168.110.2"]
    (row,) = plan["real_servers"]
    assert row["host"] == "rs1" and row["why"] == "rs1: toa_modules has no uoa (it has dpvs_testmod)"
    _text, udp = udp_conf(_uoa.conf_overrides(dpvs_conf, plan))
    assert udp["uoa_max_trail"] == ["0"]


@pytest.mark.parametrize(
    "path",
    [("example", "group_vars", "dpvs", "dpvs_services.yml"), ("emulator", "group_vars", "dpvs.yml")],
    ids=["example", "emulator"],
)
def test_the_example_and_emulator_inventories_keep_dpvs_defaults(path):
    services = load(*path)["dpvs_services_services"]
    plan = _uoa.plan(services, [host("rs1", ansible_host="192.168.229.1")], "auto", {})
    assert plan["real_servers"] == [] and plan["set"] == {} and plan["uoa_max_trail"] == 3
