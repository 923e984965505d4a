"""The dpvs_services role hands its table from task to task as JSON text (issue 14: a 10,000-service
list cost Ansible seconds at every task that read it). Each filter it gives that text to answers
exactly as it answers for the list, and a string that is no JSON list or dict is left for the
filter's own checks to name."""

import json

import pytest
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_client_address_plan import FilterModule as PlanFilter
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_input_problems import FilterModule as ProblemsFilter
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_ipvsadm_rules import FilterModule as RulesFilter
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_state_file import FilterModule as StateFilter
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import from_json_text

PLAN = PlanFilter().filters()["dpvs_client_address_plan"]
PROBLEMS = ProblemsFilter().filters()["dpvs_input_problems"]
RULES = RulesFilter().filters()["dpvs_ipvsadm_rules"]
STATE = StateFilter().filters()["dpvs_state_file"]

LAN = {"ip": "192.168.229.204", "dev": "dpdk0"}
SERVICES = [
    {"vip": "10.0.96.204", "port": 80, "scheduler": "rr", "laddrs": [LAN],
     "real_servers": [{"ip": "192.168.229.2", "port": 8080, "weight": 2}]},
    {"vip": "10.0.96.205", "port": 53, "protocol": "udp", "laddrs": [LAN],
     "real_servers": [{"ip": "192.168.229.1", "port": 53}]},
]  # fmt: skip
PP_HOST = {"name": "rs2", "ansible_host": "192.168.229.2", "setting": "proxy_protocol"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('[{"vip": "10.0.0.1"}]', [{"vip": "10.0.0.1"}]),
        ('  {"a": 1}', {"a": 1}),
        ("not a list", "not a list"),
        ("[not json", "[not json"),
        ([1, 2], [1, 2]),
        (None, None),
    ],
)
def test_json_text_is_read_and_anything_else_left_as_it_is(value, expected):
    assert from_json_text(value) == expected


def test_each_filter_answers_the_text_as_it_answers_the_list():
    text = json.dumps(SERVICES)
    assert RULES(text) == RULES(SERVICES) and "--add-laddr" in RULES(text)
    assert STATE(text, "services") == STATE(SERVICES, "services")
    assert PROBLEMS(text, "services", "dpvs_services_services", "dpvs") == []
    assert PLAN(text, [PP_HOST]) == PLAN(SERVICES, [PP_HOST])


def test_the_plan_returns_its_services_as_text_when_asked():
    as_list = PLAN(SERVICES, [PP_HOST])
    as_text = PLAN(json.dumps(SERVICES), [PP_HOST], as_json=True)
    assert json.loads(as_text["services"]) == as_list["services"]
    assert as_list["services"][0]["proxy_protocol"] == "v2"  # the decision is in the text too
    as_text.pop("services"), as_list.pop("services")
    assert as_text == as_list


def test_a_problem_in_the_text_names_the_role_variable():
    bad = [dict(SERVICES[0], real_servers=[{"ip": "192.168.229.1", "wieght": 2, "port": 80}])]
    assert PROBLEMS(json.dumps(bad), "services", "dpvs_services_services", "dpvs") == [
        "dpvs_services_services[0].real_servers[0].wieght: unknown key (did you mean weight?)"
    ]
    assert PROBLEMS("not a list", "services", "dpvs_x", "dpvs")[0].startswith("dpvs_x: must be a list")


def test_a_vip_that_is_also_a_local_address_is_a_problem():
    clash = [SERVICES[0], dict(SERVICES[1], vip="192.168.229.204")]
    assert PROBLEMS(json.dumps(clash), "services", "dpvs_services_services", "dpvs") == [
        "dpvs_services_services: 192.168.229.204 is used both as a VIP and as a FullNAT local address (laddrs[].ip)"
    ]
