"""UOA through the dpvs role (issue 12, finding 8): a UDP FullNAT service whose real server is not
a realservers host loading uoa gets ``uoa_max_trail 0`` in the dpvs.conf the role writes, the fact
``dpvs_uoa_effective`` and a preflight line name the server and what to do; once the server is a
realservers host of the inventory (toa role default: toa and uoa) DPVS's UOA defaults come back, as
a reload (a <normal> keyword), not a restart. ``dpvs_uoa`` is checked by the role's argument spec;
YAML's unquoted ``on`` (a boolean) is accepted.

The role runs on localhost as in test_emu_dpvs_role.py (seed 001's NICs and paths under tmp); a
second inventory file (``-i``) holds the realservers group, which the play does not run on.
"""

import os

import pytest
import yaml
from test_emu_dpvs_role import role_vars

pytestmark = pytest.mark.parallel_safe

TAGS = ["--tags", "dpvs"]  # the dpvs role only
PLAN_TASK = "dpvs.cluster.dpvs : Preflight | what UOA is in dpvs.conf and why, for the roles and plays that read it"
LINE_TASK = "dpvs.cluster.dpvs : Preflight | UOA and the real servers"
CHANGE_TASK = "dpvs.cluster.dpvs : Config | classify the change (<init> needs a restart, <normal> a reload)"
DNS = {
    "protocol": "udp",
    "vip": "10.0.96.204",
    "port": 53,
    "scheduler": "rr",
    "real_servers": [{"ip": "192.168.229.53", "port": 53, "forward": "fullnat"}],
    "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}],
}


def uoa_vars(emulator, tmp_path, **extra):
    variables = role_vars(emulator, tmp_path, **extra)
    variables["dpvs_services_services"] = [*variables["dpvs_services_services"], DNS]
    return variables


def realservers(tmp_path, **rs_vars):
    """An inventory file with the realservers group: ns1 serves DNS behind DPVS."""
    path = tmp_path / "realservers.yml"
    host = {"ansible_host": "192.168.229.53", **rs_vars}
    path.write_text(yaml.safe_dump({"all": {"children": {"realservers": {"hosts": {"ns1": host}}}}}))
    return ["-i", str(path)]


def udp_keywords(root):
    with open(os.path.join(root, "etc", "dpvs.conf")) as handle:
        text = handle.read()
    block = text[text.index("    udp {") :]
    return [line.split() for line in block.splitlines()[1:3]]


def test_an_uncovered_dns_server_gets_uoa_off_and_a_covered_one_gets_it_back_by_reload(emulator, ansible, tmp_path):
    root = str(tmp_path / "root")
    first = ansible.play("dpvs_role.yml", extra_vars=uoa_vars(emulator, tmp_path), args=TAGS)
    assert first.rc == 0, first.explain()
    assert udp_keywords(root) == [["uoa_mode", "opp"], ["uoa_max_trail", "0"]]
    effective = first[PLAN_TASK]["ansible_facts"]["dpvs_uoa_effective"]
    assert effective["mode"] == "auto" and effective["uoa"] is False and effective["uncovered"] == ["192.168.229.53"]
    assert effective["real_servers"][0]["services"] == ["udp 10.0.96.204:53"]
    line = first[LINE_TASK]["msg"]
    assert "UOA off in dpvs.conf (uoa_max_trail 0" in line and "192.168.229.53 (udp 10.0.96.204:53" in line
    assert "toa_addresses" in line and "dpvs_uoa: on" in line

    # ns1 joins the realservers group; the toa role's default toa_modules loads uoa there
    second = ansible.play(
        "dpvs_role.yml", extra_vars=uoa_vars(emulator, tmp_path), args=[*TAGS, *realservers(tmp_path)]
    )
    assert second.rc == 0, second.explain()
    assert udp_keywords(root) == [["uoa_mode", "opp"], ["uoa_max_trail", "3"]]
    effective = second[PLAN_TASK]["ansible_facts"]["dpvs_uoa_effective"]
    assert effective["uoa"] is True and effective["uncovered"] == []
    assert effective["real_servers"][0]["host"] == "ns1"
    assert second[LINE_TASK].get("skipped") is True
    change = second[CHANGE_TASK]["ansible_facts"]["dpvs_conf_change"]
    assert change == {"init": [], "normal": ["ipvs_defs/udp/uoa_max_trail: 0 -> 3"], "new": False}
    facts = second["dpvs.cluster.dpvs : Service | what needs a restart"]["ansible_facts"]
    assert facts["dpvs_restart_required"] is False

    # ns1 builds only toa: UOA goes off again, the line names ns1 and why
    third = ansible.play(
        "dpvs_role.yml",
        extra_vars=uoa_vars(emulator, tmp_path),
        args=[*TAGS, *realservers(tmp_path, toa_modules=[{"name": "toa"}])],
    )
    assert third.rc == 0, third.explain()
    assert udp_keywords(root) == [["uoa_mode", "opp"], ["uoa_max_trail", "0"]]
    assert "ns1: toa_modules has no uoa (it has toa)" in third[LINE_TASK]["msg"]


def test_dpvs_uoa_on_as_a_yaml_boolean_keeps_uoa_and_a_bad_value_is_refused(emulator, ansible, tmp_path):
    root = str(tmp_path / "root")
    vouched = ansible.play("dpvs_role.yml", extra_vars=uoa_vars(emulator, tmp_path, dpvs_uoa=True), args=TAGS)
    assert vouched.rc == 0, vouched.explain()
    assert udp_keywords(root) == [["uoa_mode", "opp"], ["uoa_max_trail", "3"]]
    effective = vouched[PLAN_TASK]["ansible_facts"]["dpvs_uoa_effective"]
    assert effective["mode"] == "on" and effective["uoa"] is True and effective["uncovered"] == ["192.168.229.53"]

    bad = ansible.play("dpvs_role.yml", extra_vars=uoa_vars(emulator, tmp_path, dpvs_uoa="sometimes"), args=TAGS)
    assert bad.rc != 0
    assert "dpvs_uoa" in bad.stdout and "sometimes" in bad.stdout

    contradiction = uoa_vars(emulator, tmp_path, dpvs_uoa="off")
    contradiction["dpvs_conf"] = {**contradiction["dpvs_conf"], "ipvs_defs": {"udp": {"uoa_max_trail": 3}}}
    refused = ansible.play("dpvs_role.yml", extra_vars=contradiction, args=TAGS)
    assert refused.rc != 0
    assert "dpvs_uoa: contradicts dpvs_conf.ipvs_defs.udp.uoa_max_trail: 3 (UOA on)" in refused.stdout
