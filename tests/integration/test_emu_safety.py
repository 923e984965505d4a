"""Nothing lost to a mistake (docs/safety.md): the seed's cluster is converged by the roles, then
edited the ways that took it down before - a misspelt variable, an emptied list, a route
without a prefix length, a bad service beside a new address - and each run must stop before
its first change: no dpip/ipvsadm write, the same live state, the same replay files, and a
message naming the variable the user wrote. The confirmation variables then let it through.
"""

import hashlib
import json
import os

import pytest
from test_emu_dpvs_role import role_vars

pytestmark = pytest.mark.parallel_safe

HERE = os.path.dirname(os.path.abspath(__file__))
# validate.yml (the first play of site.yml), then the dpvs role tier's playbook
VALIDATED = "dpvs_role_validated.yml"
NEW_VIP = {"address": "10.0.96.205/32", "dev": "dpdk2"}


def messages(run):
    """Every failure message of the run (loop items included)."""
    found = []
    for result in run.tasks.values():
        if result.get("failed"):
            found.append(result.get("msg", ""))
        found += [item.get("msg", "") for item in result.get("results", []) if item.get("failed")]
    return found


def state_files(root):
    out = {}
    state = os.path.join(root, "etc", "dpvs", "state")
    for name in sorted(os.listdir(state)) if os.path.isdir(state) else []:
        with open(os.path.join(state, name), "rb") as handle:
            out[name] = hashlib.sha256(handle.read()).hexdigest()
    return out


def converge(emulator, ansible, tmp_path):
    """The seed's cluster converged by the roles, with its replay files (conftest's `converged`)."""
    variables = role_vars(emulator, tmp_path)
    first = ansible.play("dpvs_role.yml", extra_vars=variables)
    assert first.rc == 0, first.explain()
    root = variables["dpvs_root"]
    assert set(state_files(root)) >= {"addresses.json", "routes.json", "ipvsadm.rules"}
    return variables


def refused(emulator, ansible, variables, expected, playbook="dpvs_role.yml", args=()):
    """Run ``playbook``; it must fail with ``expected`` in a message and change nothing."""
    before = emulator.snapshot()
    files = state_files(variables["dpvs_root"])
    emulator.clear_logs()
    run = ansible.play(playbook, extra_vars=variables, args=args)
    assert run.rc != 0, f"accepted: {run.explain()}"
    found = messages(run)
    assert any(expected in msg for msg in found), found
    assert emulator.writes("_ansible") == []
    assert emulator.snapshot() == before
    assert state_files(variables["dpvs_root"]) == files
    assert run.stats.get("changed", 0) == 0, run.stats
    return found


def test_a_misspelt_services_variable_is_refused_with_the_right_name(emulator, ansible, converged):
    variables = dict(converged)
    variables["dpvs_service_services"] = variables.pop("dpvs_services_services")
    found = refused(emulator, ansible, variables, "dpvs_service_services: unknown variable")
    assert any("did you mean dpvs_services_services?" in msg for msg in found), found


def test_an_emptied_services_list_needs_the_confirmation(emulator, ansible, converged):
    variables = dict(converged, dpvs_services_services=[])
    # the replay file first: DPVS would come back from its next restart with no service
    found = refused(emulator, ansible, variables, "ipvsadm.rules holds")
    assert any("dpvs_services_purge_all: true" in msg for msg in found), found
    # without the replay file, the live table: the module's purge guard lists what it would remove
    no_replay = dict(variables, dpvs_services_state_dir="")
    found = refused(emulator, ansible, no_replay, "purge would remove all 1 services")
    assert any("tcp 10.0.96.204:80 (1 real server)" in msg and "dpvs_services_purge_all" in msg for msg in found)
    # check mode says the same
    check = ansible.play("dpvs_role.yml", extra_vars=no_replay, check=True)
    assert check.rc != 0 and any("purge would remove all 1 services" in msg for msg in messages(check))
    # confirmed: emptied, and the replay file follows
    confirmed = ansible.play("dpvs_role.yml", extra_vars=dict(variables, dpvs_services_purge_all=True))
    assert confirmed.rc == 0, confirmed.explain()
    assert emulator.services() == {}
    with open(os.path.join(converged["dpvs_root"], "etc", "dpvs", "state", "ipvsadm.rules")) as handle:
        assert [line for line in handle if line.strip() and not line.startswith("#")] == []


def test_more_than_purge_max_services_is_refused(emulator, ansible, converged):
    extra = [
        {"protocol": "tcp", "vip": "10.0.96.204", "port": 8000 + i, "scheduler": "rr",
         "real_servers": [{"ip": "192.168.229.1", "port": 80, "forward": "fullnat"}]}
        for i in range(3)
    ]  # fmt: skip
    grown = dict(converged, dpvs_services_services=converged["dpvs_services_services"] + extra)
    assert ansible.play("dpvs_role.yml", extra_vars=grown).rc == 0
    shrunk = dict(converged, dpvs_services_purge_max=2)  # drops the 3 extra services
    found = refused(emulator, ansible, shrunk, "purge would remove 3 services (of 4 in the live table)")
    assert any("more than dpvs_services_purge_max (2)" in msg for msg in found), found
    assert ansible.play("dpvs_role.yml", extra_vars=dict(shrunk, dpvs_services_purge_max=3)).rc == 0
    assert len(emulator.services()) == 1


def test_a_route_without_prefix_length_stops_before_the_new_address(emulator, ansible, converged):
    variables = dict(converged)
    variables["dpvs_network_addresses"] = [*converged["dpvs_network_addresses"], NEW_VIP]
    routes = [dict(route) for route in converged["dpvs_network_routes"]]
    routes[1]["prefix"] = "192.168.229.0"
    variables["dpvs_network_routes"] = routes
    found = refused(emulator, ansible, variables, "dpvs_network_routes[1].prefix: a prefix length is required")
    assert any("192.168.229.0/32" in msg for msg in found), found  # the hint for a host route


def test_site_validation_stops_a_bad_service_before_dpvs_network_changes(emulator, ansible, converged, tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"dpvs": {"hosts": {"localhost": {}}}}}}))
    variables = dict(converged)
    variables["dpvs_network_addresses"] = [*converged["dpvs_network_addresses"], NEW_VIP]
    services = json.loads(json.dumps(converged["dpvs_services_services"]))
    del services[0]["real_servers"][0]["port"]  # the seed's own command: FullNAT without a port
    variables["dpvs_services_services"] = services
    found = refused(emulator, ansible, variables, "dpvs_services_services[0].real_servers[0].port",
                    playbook=VALIDATED, args=["-i", str(inventory)])  # fmt: skip
    assert any("port" in msg for msg in found)


def test_an_unknown_key_in_a_list_item_is_named_with_its_index(emulator, ansible, converged):
    variables = dict(converged)
    services = json.loads(json.dumps(converged["dpvs_services_services"]))
    services[0]["real_servers"][0]["wieght"] = 3
    variables["dpvs_services_services"] = services
    found = refused(emulator, ansible, variables, "dpvs_services_services[0].real_servers[0].wieght: unknown key")
    assert any("did you mean weight?" in msg for msg in found), found
