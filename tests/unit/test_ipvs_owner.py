"""One owner per service: ``owner: keepalived`` services are validated but left alone by the
ipvsadm module (no change, no purge, no verify) and by the replay files (docs/ha.md)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state import persist
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import health_check as H
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as M
from test_ipvs_plan import FakeIPVS, lines, run, web

KEPT = {
    "vip": "10.0.96.205",
    "port": 443,
    "scheduler": "rr",
    "owner": "keepalived",
    "health_check": {"type": "tcp"},
    "real_servers": [{"ip": "192.168.229.1", "port": 443}],
}


def keepalived_made(fake):
    """What keepalived put in the table: the service, with one of its real servers already taken out."""
    fake.setup("-A -t 10.0.96.205:443 -s rr", "-a -t 10.0.96.205:443 -r 192.168.229.3:443 -b")


def test_purge_leaves_keepalived_services_alone():
    fake = FakeIPVS()
    keepalived_made(fake)
    result = run(fake, services=[web(), KEPT], purge=True)
    assert not any("10.0.96.205" in line for line in lines(result)), lines(result)
    assert ("tcp", "10.0.96.205", 443) in fake.services
    # keepalived's own real server (not the declared one) is still there: the module did not converge it
    assert list(fake.services[("tcp", "10.0.96.205", 443)]["rs"]) == [("192.168.229.3", 443)]
    assert result["owned_elsewhere"] == ["tcp 10.0.96.205:443"]
    again = run(fake, services=[web(), KEPT], purge=True)
    assert again["changed"] is False


def test_without_the_owner_key_the_same_service_is_purged():
    fake = FakeIPVS()
    keepalived_made(fake)
    result = run(fake, services=[web()], purge=True, purge_all=True)
    assert "-D -t 10.0.96.205:443" in lines(result)


def test_a_table_of_keepalived_services_only_is_never_emptied_by_the_guard():
    fake = FakeIPVS()
    keepalived_made(fake)
    result = run(fake, services=[KEPT], purge=True)  # no purge_all: nothing of the module's to purge
    assert result["changed"] is False and result["owned_elsewhere"] == ["tcp 10.0.96.205:443"]


def test_a_keepalived_service_missing_from_the_table_is_not_added_by_the_module():
    fake = FakeIPVS()
    result = run(fake, services=[KEPT])
    assert result["changed"] is False and fake.services == {}


def test_check_mode_and_diff_leave_keepalived_services_out():
    fake = FakeIPVS()
    keepalived_made(fake)
    result = run(fake, services=[web()], purge=True, check_mode=True, diff=True, purge_all=True)
    assert "10.0.96.205" in result["diff"]["before"]
    result = run(fake, services=[web(), KEPT], purge=True, check_mode=True, diff=True)
    assert "10.0.96.205" not in result["diff"]["before"] and "10.0.96.205" not in result["diff"]["after"]


@pytest.mark.parametrize(
    "service, path, problem",
    [
        (dict(web(), health_check={"type": "tcp"}), "services[0].health_check", "set owner: keepalived"),
        (dict(KEPT, owner="keepalive"), "services[0].owner", "must be ipvsadm or keepalived"),
        (dict(KEPT, state="absent"), "services[0].state", "deleting it from the inventory"),
        (dict(KEPT, health_check={"type": "udp"}), "services[0].health_check.type", "does not fit a tcp service"),
        (
            dict(KEPT, health_check={"type": "tcp", "path": "/x"}),
            "services[0].health_check.path",
            "unknown key for a tcp check",
        ),
        (dict(KEPT, health_check={"type": "http", "path": "health"}), "services[0].health_check.path", "URL path"),
        (dict(KEPT, health_check={"type": "tcp", "interval": 0}), "services[0].health_check.interval", "1..86400"),
        (
            dict(KEPT, health_check={"type": "misc", "script": "/bin/check x"}),
            "services[0].health_check.script",
            "no spaces",
        ),
        (dict(KEPT, health_check="tcp"), "services[0].health_check", "must be a dictionary"),
    ],
)
def test_bad_ownership_and_checks_name_the_key(service, path, problem):
    with pytest.raises(InputError) as err:
        M.normalize([service], "dpvs")
    assert err.value.path == path and problem in err.value.problem, str(err.value)


def test_health_check_defaults_and_none_as_unset():
    check = H.normalize("hc", {"type": "http", "port": None, "script": None, "require_reply": None}, "tcp")
    assert check == {
        "type": "http",
        "interval": 6,
        "timeout": 3,
        "retries": 3,
        "retry_delay": 1,
        "port": None,
        "path": "/",
        "status_code": 200,
    }
    assert H.normalize("hc", {"type": "udp", "require_reply": True}, "udp")["require_reply"] is True
    assert (
        H.normalize("hc", {"type": "misc", "script": "/usr/local/bin/check"}, "sctp")["script"]
        == "/usr/local/bin/check"
    )


def test_replay_rules_leave_keepalived_services_to_keepalived():
    rules = persist.ipvsadm_rules([web(), KEPT])
    assert rules and not any("10.0.96.205" in line for line in rules)
    # services.json keeps the entry with its owner: the replay's module run leaves it alone too
    entries = persist.services_state([web(), KEPT])["entries"]
    assert [e.get("owner") for e in entries] == [None, "keepalived"]
