"""One owner per service, through the roles on the emulator (docs/ha.md): a service the inventory
gives to keepalived (owner: keepalived) is left as keepalived made it by the dpvs_services role -
no change, no purge, no replay line - and the validation play refuses one that no keepalived
would keep (keepalived_enabled false)."""

import json
import os

import pytest
from test_emu_safety import messages, refused

pytestmark = pytest.mark.parallel_safe

KEPT = {
    "protocol": "tcp",
    "vip": "10.0.96.204",
    "port": 443,
    "scheduler": "rr",
    "owner": "keepalived",
    "health_check": {"type": "tcp"},
    "real_servers": [
        {"ip": "192.168.229.1", "port": 443, "forward": "fullnat"},
        {"ip": "192.168.229.2", "port": 443, "forward": "fullnat"},
    ],
}


def keepalived_made(emulator):
    """What keepalived would have made of KEPT with .2 failing its check: only .1 left."""
    emulator.ipvsadm("-A", "-t", "10.0.96.204:443", "-s", "rr")
    emulator.ipvsadm("-a", "-t", "10.0.96.204:443", "-r", "192.168.229.1:443", "-b")


def listing_of(emulator, label):
    text = emulator.ipvsadm("-ln").stdout
    block = text.split(label, 1)[1].split("\nTCP", 1)[0].split("\nUDP", 1)[0]
    return block


def test_the_role_leaves_keepalived_services_alone(emulator, ansible, converged):
    keepalived_made(emulator)
    before = listing_of(emulator, "10.0.96.204:443")
    variables = dict(converged, dpvs_services_services=[*converged["dpvs_services_services"], KEPT])
    run = ansible.play("dpvs_role.yml", extra_vars=variables)
    assert run.rc == 0, (run.explain(), messages(run))
    assert listing_of(emulator, "10.0.96.204:443") == before  # .2 not put back, nothing purged
    task = "Services | converge virtual services, real servers and local addresses"
    result = next(run[name] for name in run.order if name.endswith(task))
    assert result["owned_elsewhere"] == ["tcp 10.0.96.204:443"] and result["changed"] is False
    state = os.path.join(converged["dpvs_root"], "etc", "dpvs", "state")
    with open(os.path.join(state, "ipvsadm.rules")) as handle:
        assert "443" not in handle.read()
    with open(os.path.join(state, "services.json")) as handle:
        entries = json.load(handle)["entries"]
    assert [entry.get("owner") for entry in entries if entry.get("port") == 443] == ["keepalived"]
    # the same service without its owner: the role converges it (.2 added back)
    mine = dict(KEPT)
    del mine["owner"], mine["health_check"]
    owned = dict(converged, dpvs_services_services=[*converged["dpvs_services_services"], mine])
    run = ansible.play("dpvs_role.yml", extra_vars=owned)
    assert run.rc == 0, run.explain()
    assert "192.168.229.2:443" in listing_of(emulator, "10.0.96.204:443")


def test_refusals_before_any_change(emulator, ansible, converged, tmp_path):
    """One converged node (its setup is most of the time), two refusals."""
    a_keepalived_service_without_keepalived_is_refused(emulator, ansible, converged, tmp_path)
    a_bad_health_check_stops_the_role(emulator, ansible, converged)


def a_keepalived_service_without_keepalived_is_refused(emulator, ansible, converged, tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"dpvs": {"hosts": {"localhost": {}}}}}}))
    variables = dict(converged, dpvs_services_services=[*converged["dpvs_services_services"], KEPT])
    found = refused(
        emulator,
        ansible,
        variables,
        "keepalived_enabled is false on localhost, but dpvs_services_services gives services to keepalived",
        playbook="dpvs_role_validated.yml",
        args=["-i", str(inventory)],
    )
    assert found


def a_bad_health_check_stops_the_role(emulator, ansible, converged):
    bad = dict(KEPT, health_check={"type": "http", "path": "healthz"})
    variables = dict(converged, dpvs_services_services=[*converged["dpvs_services_services"], bad])
    found = refused(emulator, ansible, variables, "dpvs_services_services[1].health_check.path")
    assert any("URL path" in msg for msg in found), found
