"""dpvs.cluster.dpip_route through ansible-playbook against the emulator."""

import pytest
from emutier import as_text, assert_ok, command_lines, parse_routes

pytestmark = pytest.mark.parallel_safe

ROUTES = [
    {"prefix": "10.0.96.0/24", "dev": "dpdk2"},
    {"prefix": "192.168.229.0/24", "dev": "dpdk0"},
    {"prefix": "default", "via": "10.0.96.254", "dev": "dpdk2"},
    {"prefix": "172.16.0.0/16", "via": "10.0.96.1", "dev": "dpdk2", "src": "10.0.96.204"},
    {"prefix": "2001:db8:1::/64", "dev": "dpdk2"},
    {"prefix": "2001:db8:2::/64", "via": "2001:db8:1::1", "dev": "dpdk2"},
]
MODIFIED = [
    {"prefix": "10.0.96.0/24", "dev": "dpdk2"},
    {"prefix": "192.168.229.0/24", "dev": "dpdk0", "mtu": 1400},  # same route, other mtu: del + add
    {"prefix": "default", "via": "10.0.96.254", "dev": "dpdk2"},
    {"prefix": "172.16.0.0/16", "via": "10.0.96.1", "dev": "dpdk2", "state": "absent"},
    {"prefix": "2001:db8:1::/64", "dev": "dpdk2"},
    {"prefix": "2001:db8:2::/64", "via": "2001:db8:1::1", "dev": "dpdk2", "state": "absent"},
]


def declared(routes):
    """Routes a test declares: DPVS's own (host routes of addresses, link-local fe80::/64) left out."""
    return {key: value for key, value in routes.items() if value["scope"] != "host" and not key[0].startswith("fe80:")}


def test_lifecycle_check_apply_idempotent_diff_modify(emulator, ansible):
    emulator.dpip("addr", "add", "10.0.96.204/32", "dev", "dpdk2")  # the `src` of a route
    before = emulator.snapshot()
    run = ansible.play("dpip_route_lifecycle.yml", {"routes": ROUTES, "modified_routes": MODIFIED}, diff=True)
    assert run.rc == 0, run.explain()

    check = run["Check"]
    assert_ok(check, "check")
    assert check["changed"] is True
    lines = command_lines(check)
    assert any("route add default via 10.0.96.254 dev dpdk2" in line for line in lines), lines
    assert any("-6 route add 2001:db8:2::/64 via 2001:db8:1::1 dev dpdk2" in line for line in lines), lines
    assert run.snapshot("after check") == before
    assert emulator.log("check"), "the module read nothing: is DPVS_EMULATOR_LOG written?"
    assert emulator.writes("check") == []
    assert "172.16.0.0" not in as_text(check["diff"]["before"])
    assert "172.16.0.0" in as_text(check["diff"]["after"])

    apply = run["Apply"]
    assert_ok(apply, "apply")
    assert apply["changed"] is True
    writes = emulator.writes("apply")
    assert len(writes) == len(ROUTES), writes
    assert all(entry["rc"] == 0 for entry in writes), writes

    for phase, task in (("idempotent", "Apply again"), ("idempotent_check", "Apply again in check mode")):
        result = run[task]
        assert_ok(result, task)
        assert result["changed"] is False, (task, command_lines(result))
        assert emulator.writes(phase) == [], phase

    modify_check = run["Modify in check mode"]
    assert modify_check["changed"] is True
    assert emulator.writes("modify_check") == []
    assert "1400" in as_text(modify_check["diff"]["after"])
    assert "2001:db8:2::" in as_text(modify_check["diff"]["before"])
    assert "2001:db8:2::" not in as_text(modify_check["diff"]["after"])

    modify = run["Modify"]
    assert_ok(modify, "modify")
    lines = command_lines(modify)
    deletes = [i for i, line in enumerate(lines) if "route del 192.168.229.0/24" in line]
    adds = [i for i, line in enumerate(lines) if "route add 192.168.229.0/24" in line and "mtu 1400" in line]
    assert deletes and adds and deletes[0] < adds[0], lines
    assert not any("10.0.96.0/24" in line for line in lines), "an unchanged route was touched"

    final = declared(emulator.routes())
    assert set(final) == {
        ("10.0.96.0/24", "dpdk2", None),
        ("192.168.229.0/24", "dpdk0", None),
        ("0.0.0.0/0", "dpdk2", "10.0.96.254"),
        ("2001:db8:1::/64", "dpdk2", None),
    }, final
    assert final[("192.168.229.0/24", "dpdk0", None)]["mtu"] == 1400
    assert final[("10.0.96.0/24", "dpdk2", None)]["scope"] == "link"
    assert final[("0.0.0.0/0", "dpdk2", "10.0.96.254")]["scope"] == "global"


def test_purge_is_scoped_and_keeps_dpvs_own_routes(emulator, ansible):
    # addresses on dpdk0: DPVS adds host routes (and an IPv6 connected route) for them
    emulator.dpip("addr", "add", "192.168.229.204/32", "dev", "dpdk0")
    emulator.dpip("-6", "addr", "add", "2001:db8::205/64", "dev", "dpdk0")
    # routes nobody declared
    emulator.dpip("route", "add", "192.168.230.0/24", "dev", "dpdk0")
    emulator.dpip("-6", "route", "add", "2001:db8:9::/64", "dev", "dpdk0")
    emulator.dpip("route", "add", "10.0.97.0/24", "dev", "dpdk1")
    own = {key for key, value in emulator.routes().items() if key[1] == "dpdk0" and key[0] != "192.168.230.0/24"}
    own.discard(("2001:db8:9::/64", "dpdk0", None))
    assert ("192.168.229.204/32", "dpdk0", None) in own, own

    declared_routes = [{"prefix": "192.168.229.0/24", "dev": "dpdk0"}]
    steps = [
        {"name": "purge_dpdk0", "module": "dpip_route", "args": {"routes": declared_routes, "purge": True}},
        {"name": "purge_dpdk0_again", "module": "dpip_route", "args": {"routes": declared_routes, "purge": True}},
        {"name": "after_dpdk0", "module": "snapshot"},
        {
            "name": "purge_dpdk1",
            "module": "dpip_route",
            "args": {"routes": declared_routes, "purge": True, "purge_devices": ["dpdk1"]},
        },
    ]
    run = ansible.play("steps.yml", {"steps": steps})
    assert run.rc == 0, run.explain()

    first = run.step("purge_dpdk0")
    assert first["changed"] is True
    lines = command_lines(first)
    assert any("route del 192.168.230.0/24 dev dpdk0" in line for line in lines), lines
    assert any("route del 2001:db8:9::/64 dev dpdk0" in line for line in lines), lines
    assert not any("dpdk1" in line for line in lines), "purge reached dpdk1"
    assert len(emulator.writes("purge_dpdk0")) == 3, emulator.writes("purge_dpdk0")  # 2 del + 1 add
    assert run.step("purge_dpdk0_again")["changed"] is False
    assert emulator.writes("purge_dpdk0_again") == []

    snap = run.snapshot("after_dpdk0")
    after0 = parse_routes(snap["route"], snap["route6"])
    assert ("10.0.97.0/24", "dpdk1", None) in after0
    assert ("192.168.230.0/24", "dpdk0", None) not in after0
    assert own <= set(after0), "purge removed a route DPVS made for an address"

    assert run.step("purge_dpdk1")["changed"] is True
    final = emulator.routes()
    assert ("10.0.97.0/24", "dpdk1", None) not in final
    assert {key for key in final if key[1] == "dpdk0"} == own | {("192.168.229.0/24", "dpdk0", None)}
