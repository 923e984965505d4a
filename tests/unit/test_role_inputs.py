"""Role inputs checked on the controller (_role_inputs and the filters dpvs_input_problems,
dpvs_unknown_vars): messages name the role variable with the path into it, unknown keys and
misspelt variables get the closest known name, and the collection's own inventories are clean."""

import glob
import os
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "plugins", "filter"))

from dpvs_input_problems import dpvs_input_problems  # noqa: E402
from dpvs_unknown_vars import dpvs_unknown_vars, role_names  # noqa: E402

SVC = {"vip": "10.0.96.204", "port": 80, "scheduler": "rr",
       "real_servers": [{"ip": "192.168.229.1", "port": 80, "forward": "fullnat"}]}  # fmt: skip


def services(**changes):
    return [dict(SVC, **changes)]


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("services", services(prot="tcp"), "dpvs_x[0].prot: unknown key (did you mean port?)"),
        ("services", services(real_servers=[{"ip": "192.168.229.1", "port": 80, "wieght": 2}]),
         "dpvs_x[0].real_servers[0].wieght: unknown key (did you mean weight?)"),
        ("services", services(real_servers=[{"port": 80}]), "dpvs_x[0].real_servers[0].ip: required key is missing"),
        ("services", services(real_servers=[{"ip": "192.168.229.1"}]), "dpvs_x[0].real_servers[0].port: "),
        ("services", services(port="http"), "dpvs_x"),
        ("services", services(scheduler="nosuch"), "dpvs_x[0].scheduler: "),
        ("services", "not a list", "dpvs_x: must be a list"),
        ("addresses", [{"address": "10.0.96.300/32", "dev": "dpdk0"}], "dpvs_x[0].address: not a valid"),
        ("addresses", [{"adress": "10.0.96.3/32", "dev": "dpdk0"}],
         "dpvs_x[0].adress: unknown key (did you mean address?)"),
        ("routes", [{"prefix": "192.168.229.0", "dev": "dpdk0"}],
         "dpvs_x[0].prefix: a prefix length is required: NET/PLEN (a host route is 192.168.229.0/32)"),
        ("routes", [{"prefix": "10.0.0.0/8", "via": "10.0.96.999", "dev": "dpdk0"}], "dpvs_x[0].via: "),
    ],
)  # fmt: skip
def test_problems_name_the_role_variable_and_the_path(kind, value, expected):
    problems = dpvs_input_problems(value, kind, "dpvs_x", "dpvs")
    assert problems and problems[0].startswith(expected), problems


def test_good_lists_have_no_problems_and_strings_are_coerced_as_the_module_would():
    assert dpvs_input_problems(services(), "services", "v") == []
    assert dpvs_input_problems(services(port="80"), "services", "v") == []  # the argument spec converts it
    assert dpvs_input_problems([{"prefix": "default", "via": "10.0.96.254", "dev": "dpdk2"}], "routes", "v") == []
    assert dpvs_input_problems([{"address": "10.0.96.204", "dev": "dpdk2"}], "addresses", "v") == []  # /32
    # flavour rules apply when the flavour is known
    assert dpvs_input_problems(services(synproxy=True), "services", "v", "kernel")[0].startswith("v[0].synproxy")


def test_misspelt_variables_get_the_closest_declared_name():
    found = dpvs_unknown_vars({
        "dpvs_service_services": [], "hugepage_pages": 1, "dpvs_services_purge_al": True,
        "dpvs_services_services": [], "ansible_host": "x", "inventory_hostname": "x", "my_app_port": 1,
        "_private": 1, "dpvs_services_result": {}, "dpvs_cluster_ignore_vars": [],
    })  # fmt: skip
    assert [msg.split(":")[0] for msg in found] == ["dpvs_service_services", "dpvs_services_purge_al", "hugepage_pages"]
    assert "did you mean dpvs_services_services?" in found[0]
    assert "did you mean hugepages_pages?" in found[2]
    assert dpvs_unknown_vars({"dpvs_mine": 1}, ["dpvs_mine"]) == []  # the escape hatch
    assert "no role of dpvs.cluster has it" in dpvs_unknown_vars({"toa_zzzzzzzzzzzzzzzz": 1})[0]


def test_declared_names_cover_specs_defaults_registers_set_facts_and_playbooks():
    declared, prefixes = role_names()
    assert {"dpvs_services_services", "dpvs_services_result", "dpdk_prefix", "toa_reload_required",
            "kernel_forwarder_verify_count", "hugepages_pages"} <= declared  # fmt: skip
    assert "dpvs_services_" in prefixes and "kernel_forwarder_" in prefixes


def _inventory_vars(path):
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    names = set(data) if "group_vars" in path or "host_vars" in path else set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "vars" and isinstance(value, dict):
                    names.update(value)
                elif key == "hosts" and isinstance(value, dict):
                    for host in value.values():
                        names.update(host or {})
                walk(value)

    walk(data)
    return names


@pytest.mark.parametrize(
    "path", sorted(glob.glob(os.path.join(REPO, "inventories", "**", "*.yml"), recursive=True)),
    ids=lambda p: os.path.relpath(p, REPO),
)  # fmt: skip
def test_the_collections_own_inventories_use_declared_names_only(path):
    assert dpvs_unknown_vars(dict.fromkeys(_inventory_vars(path), 1)) == []


def test_a_dict_suboption_is_checked_as_one_dict():
    from ansible_collections.dpvs.cluster.plugins.module_utils.controller.role_inputs import list_problems
    from ansible_collections.dpvs.cluster.plugins.modules.ipvsadm import ARGUMENT_SPEC

    spec = ARGUMENT_SPEC["services"]
    base = {
        "vip": "10.0.96.204",
        "port": 80,
        "owner": "keepalived",
        "real_servers": [{"ip": "192.168.229.1", "port": 80}],
    }
    assert list_problems([dict(base, health_check={"type": "tcp"})], "services", "svcs", spec, "dpvs") == []
    assert list_problems([dict(base, health_check={"type": "tcp", "intervall": 3})], "services", "svcs", spec) == [
        "svcs[0].health_check.intervall: unknown key (did you mean interval?)"
    ]
    assert list_problems([dict(base, health_check={"interval": 3})], "services", "svcs", spec) == [
        "svcs[0].health_check.type: required key is missing"
    ]
    assert list_problems([dict(base, health_check="tcp")], "services", "svcs", spec) == [
        "svcs[0].health_check: must be a dict (got 'tcp')"
    ]
