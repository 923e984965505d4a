"""dpvs.cluster.dpip_addr through ansible-playbook against the emulator."""

import pytest
from emutier import as_text, assert_ok, command_lines, parse_addrs

pytestmark = pytest.mark.parallel_safe

ADDRESSES = [
    {"address": "10.0.96.204/32", "dev": "dpdk2"},
    {"address": "10.0.96.205", "dev": "dpdk2"},  # no prefix: host length (/32)
    {"address": "192.168.229.10/24", "dev": "dpdk0"},
    {"address": "2001:db8::204/64", "dev": "dpdk2"},  # IPv6
]
MODIFIED = [
    {"address": "10.0.96.204/32", "dev": "dpdk2"},  # unchanged
    {"address": "10.0.96.205/24", "dev": "dpdk2"},  # prefix length change: del + add
    {"address": "192.168.229.10/24", "dev": "dpdk0", "state": "absent"},
    {"address": "2001:db8::204/64", "dev": "dpdk2"},
    {"address": "192.168.229.204/32", "dev": "dpdk0", "sapool": True},  # new, sapool
]


def managed(addrs):
    """The addresses a test declares (DPVS's own IPv6 link-local ones left out)."""
    return {key: value for key, value in addrs.items() if not key[0].startswith("fe80:")}


def test_lifecycle_check_apply_idempotent_diff_modify(emulator, ansible):
    before = emulator.snapshot()
    run = ansible.play(
        "dpip_addr_lifecycle.yml",
        {"addresses": ADDRESSES, "modified_addresses": MODIFIED},
        diff=True,
    )
    assert run.rc == 0, run.explain()

    # check mode: changed, the plan is shown, nothing written
    check = run["Check"]
    assert_ok(check, "check")
    assert check["changed"] is True
    lines = command_lines(check)
    for addr in ("10.0.96.204/32", "10.0.96.205/32", "192.168.229.10/24", "2001:db8::204/64"):
        assert any("addr add " + addr in line for line in lines), (addr, lines)
    assert run.snapshot("after check") == before
    assert emulator.log("check"), "the module read nothing: is DPVS_EMULATOR_LOG written?"
    assert emulator.writes("check") == []
    # diff in check mode: the new addresses only in `after`
    assert "10.0.96.204" not in as_text(check["diff"]["before"])
    assert "10.0.96.204" in as_text(check["diff"]["after"])
    assert "2001:db8::204" in as_text(check["diff"]["after"])

    # real run
    apply = run["Apply"]
    assert_ok(apply, "apply")
    assert apply["changed"] is True
    writes = emulator.writes("apply")
    assert len(writes) == 4, writes
    assert all(entry["rc"] == 0 for entry in writes), writes
    assert "10.0.96.204" in as_text(apply["diff"]["after"])

    # idempotent, also in check mode
    for phase, task in (("idempotent", "Apply again"), ("idempotent_check", "Apply again in check mode")):
        result = run[task]
        assert_ok(result, task)
        assert result["changed"] is False, (task, command_lines(result))
        assert emulator.writes(phase) == [], phase
        assert result["diff"]["before"] == result["diff"]["after"]

    # a change: the diff of the check run says what will change, the real run does it
    modify_check = run["Modify in check mode"]
    assert modify_check["changed"] is True
    assert emulator.writes("modify_check") == []
    assert "192.168.229.10" in as_text(modify_check["diff"]["before"])
    assert "192.168.229.10" not in as_text(modify_check["diff"]["after"])
    assert "192.168.229.204" in as_text(modify_check["diff"]["after"])

    modify = run["Modify"]
    assert_ok(modify, "modify")
    assert modify["changed"] is True
    lines = command_lines(modify)
    # the prefix change is a delete then an add of the same address
    deletes = [i for i, line in enumerate(lines) if "addr del 10.0.96.205/32" in line]
    adds = [i for i, line in enumerate(lines) if "addr add 10.0.96.205/24" in line]
    assert deletes and adds and deletes[0] < adds[0], lines
    assert not any("10.0.96.204" in line for line in lines), "an unchanged address was touched"

    final = managed(emulator.addrs())
    assert set(final) == {
        ("10.0.96.204/32", "dpdk2"),
        ("10.0.96.205/24", "dpdk2"),
        ("2001:db8::204/64", "dpdk2"),
        ("192.168.229.204/32", "dpdk0"),
    }, final
    assert final[("192.168.229.204/32", "dpdk0")]["sapool"] is True
    assert final[("10.0.96.204/32", "dpdk2")]["sapool"] is False
    assert final[("2001:db8::204/64", "dpdk2")]["family"] == "inet6"
    assert all(value["scope"] == "global" for value in final.values()), final


def test_purge_is_scoped_to_the_named_devices(emulator, ansible):
    # live state nobody declared: an address on dpdk0 and one on dpdk1, a sapool LIP on dpdk0
    emulator.dpip("addr", "add", "192.168.229.50/32", "dev", "dpdk0")
    emulator.dpip("addr", "add", "10.0.97.5/32", "dev", "dpdk1")
    emulator.dpip("addr", "add", "192.168.229.204/32", "dev", "dpdk0", "sapool")
    link_local = {key for key in emulator.addrs() if key[0].startswith("fe80:")}

    declared = [{"address": "192.168.229.10/24", "dev": "dpdk0"}]
    steps = [
        # purge on dpdk0 (the device named in `addresses`): dpdk1 and sapool addresses stay
        {"name": "purge_dpdk0", "module": "dpip_addr", "args": {"addresses": declared, "purge": True}},
        {"name": "purge_dpdk0_again", "module": "dpip_addr", "args": {"addresses": declared, "purge": True}},
        {"name": "after_dpdk0", "module": "snapshot"},
        # purge_devices names dpdk1 without declaring anything there
        {
            "name": "purge_dpdk1",
            "module": "dpip_addr",
            "args": {"addresses": declared, "purge": True, "purge_devices": ["dpdk1"]},
        },
        {"name": "after_dpdk1", "module": "snapshot"},
        # purge_sapool also removes the LIP
        {
            "name": "purge_sapool",
            "module": "dpip_addr",
            "args": {"addresses": declared, "purge": True, "purge_sapool": True},
            "diff": True,
        },
    ]
    run = ansible.play("steps.yml", {"steps": steps})
    assert run.rc == 0, run.explain()

    first = run.step("purge_dpdk0")
    assert first["changed"] is True
    lines = command_lines(first)
    assert any("addr del 192.168.229.50/32 dev dpdk0" in line for line in lines), lines
    assert not any("10.0.97.5" in line for line in lines), "purge reached dpdk1"
    assert not any("192.168.229.204" in line for line in lines), "purge removed a sapool address"
    assert not any("fe80:" in line for line in lines), "purge removed a link-local address"
    assert run.step("purge_dpdk0_again")["changed"] is False
    assert emulator.writes("purge_dpdk0_again") == []

    after0 = parse_addrs(run.snapshot("after_dpdk0")["addr"])
    assert ("192.168.229.50/32", "dpdk0") not in after0
    assert ("192.168.229.10/24", "dpdk0") in after0
    assert ("10.0.97.5/32", "dpdk1") in after0
    assert after0[("192.168.229.204/32", "dpdk0")]["sapool"] is True

    assert run.step("purge_dpdk1")["changed"] is True
    after1 = parse_addrs(run.snapshot("after_dpdk1")["addr"])
    assert ("10.0.97.5/32", "dpdk1") not in after1
    assert ("192.168.229.204/32", "dpdk0") in after1

    sapool = run.step("purge_sapool")
    assert sapool["changed"] is True
    assert "192.168.229.204" in as_text(sapool["diff"]["before"])
    assert "192.168.229.204" not in as_text(sapool["diff"]["after"])

    final = emulator.addrs()
    assert set(managed(final)) == {("192.168.229.10/24", "dpdk0")}, final
    assert {key for key in final if key[0].startswith("fe80:")} == link_local, "link-local addresses changed"


MISMATCH_STDERR = "corrupted response.\ndpip: invalid parameter\n"


def test_a_worker_that_cannot_add_the_address_fails_this_run_and_the_next(emulator, ansible):
    """DPVS short of hugepages (issue 12): the add exits 0, one worker lacks the address, and
    `dpip -s addr show` fails from then on; the module fails naming the address and the cause."""
    emulator.ctl("fault", "worker-nomem")
    lip = [{"address": "192.168.229.204/32", "dev": "dpdk0", "sapool": True}]
    steps = [
        {"name": "add_lip", "module": "dpip_addr", "args": {"addresses": lip}, "expect_failure": True},
        {"name": "again", "module": "dpip_addr", "args": {"addresses": lip}, "expect_failure": True},
        {
            "name": "again_check",
            "module": "dpip_addr",
            "args": {"addresses": lip},
            "check": True,
            "expect_failure": True,
        },
        {"name": "route", "module": "dpip_route", "args": {"routes": [{"prefix": "192.168.229.0/24", "dev": "dpdk0"}]}},
    ]
    run = ansible.play("steps.yml", {"steps": steps})
    assert run.rc == 0, run.explain()
    named = "a DPVS worker could not add 192.168.229.204/32 dev dpdk0 (missing on worker [01])"
    mismatch = [{"address": "192.168.229.204/32", "dev": "dpdk0", "family": "inet", "missing_on": [1]}]

    first = run.step("add_lip")
    assert first.get("failed") is True, as_text(first)[:2000]
    assert first["msg"].startswith("the plan was applied (1 command(s), each exited 0: see applied), but " + named)
    assert "hugepage" in first["msg"]
    assert "ifa_entry_add: add ifaddr 192.168.229.204 failed -- no memory" in first["msg"]
    assert [entry["cmd"][1:] for entry in first["applied"]] == [
        ["addr", "add", "192.168.229.204/32", "dev", "dpdk0", "sapool"]
    ]
    assert (first["rc"], first["stderr"]) == (1, MISMATCH_STDERR)
    assert first["worker_mismatch"] == mismatch
    assert len(emulator.writes("add_lip")) == 1

    for name in ("again", "again_check"):
        result = run.step(name)
        assert result.get("failed") is True, (name, as_text(result)[:2000])
        assert result["msg"].startswith(named + ": out of hugepage memory?"), (name, result["msg"])
        assert result["worker_mismatch"] == mismatch
        assert result["commands"] == []
        assert emulator.writes(name) == [], name

    # reads without -s are not broken: dpip_route plans and applies
    assert_ok(run.step("route"), "route")
    assert run.step("route")["changed"] is True

    proc = emulator.dpip("-s", "addr", "show", check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", MISMATCH_STDERR)
    assert "192.168.229.204/32" in emulator.dpip("addr", "show").stdout
