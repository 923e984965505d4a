"""Check mode before DPVS has started (``plan_fresh_when_down``): a check run of a play whose dpvs
role would start DPVS finds no daemon, because check mode starts nothing. With the option, each
state module plans against the tables of a freshly started DPVS and says so in a warning; the
commands it predicts must be exactly the commands a real run against a freshly started emulator
then runs. Without the option, and in every real run, a DPVS that does not answer stays an error.
"""

import os

import pytest
from emutier import as_text, assert_ok

pytestmark = pytest.mark.parallel_safe

WARNING = "DPVS is not running yet: planned against a freshly started DPVS (empty tables); the real run starts it first"
DOWN = "DPVS daemon is not reachable (No such file or directory)"

ADDRESSES = [
    {"address": "10.0.96.204/32", "dev": "dpdk2"},
    {"address": "10.0.96.205", "dev": "dpdk2"},
    # DPVS adds its prefix route 192.168.230.0/24 src 192.168.230.10, which the roles' route purge
    # keeps (a declared route of that prefix is the case dpip_route's documentation warns about)
    {"address": "192.168.230.10/24", "dev": "dpdk0"},
    {"address": "2001:db8::204/64", "dev": "dpdk2"},
    {"address": "192.168.229.210/32", "dev": "dpdk0", "sapool": True},
    {"address": "10.0.96.213/32", "dev": "dpdk2", "state": "absent"},
]
ROUTES = [
    {"prefix": "10.0.96.0/24", "dev": "dpdk2"},
    {"prefix": "192.168.229.0/24", "dev": "dpdk0", "mtu": 1400},
    {"prefix": "default", "via": "10.0.96.254", "dev": "dpdk2"},
    {"prefix": "2001:db8:1::/64", "dev": "dpdk2"},
    {"prefix": "2001:db8:2::/64", "via": "2001:db8:1::1", "dev": "dpdk2"},
    {"prefix": "172.16.0.0/16", "via": "10.0.96.1", "dev": "dpdk2", "state": "absent"},
]
SERVICES = [
    {
        "vip": "10.0.96.204",
        "port": 80,
        "scheduler": "rr",
        "real_servers": [{"ip": "192.168.229.1", "port": 80}, {"ip": "192.168.229.2", "port": 8080, "weight": 2}],
        "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}],
        "blocklist": ["10.0.0.1"],
    },
    {
        "protocol": "udp",
        "vip": "10.0.96.204",
        "port": 53,
        "scheduler": "wlc",
        "persistent": 300,
        "real_servers": [{"ip": "192.168.229.1", "port": 53}],
    },
    {
        "vip": "2001:db8::204",
        "port": 80,
        "scheduler": "rr",
        "real_servers": [{"ip": "2001:db8::10", "port": 80}],
        "laddrs": [{"ip": "2001:db8::205", "dev": "dpdk0"}],
    },
    {"vip": "10.0.96.205", "port": 80, "state": "absent"},
]

CASES = {
    "dpip_addr": {"addresses": ADDRESSES, "purge": True},
    "dpip_route": {"routes": ROUTES, "purge": True},
    # flavor auto (the default): a daemon-down answer comes from DPVS's ipvsadm only
    "ipvsadm": {"services": SERVICES, "purge": True},
    # flavor dpvs, and one `ipvsadm -R` batch (its stdin lines are compared too)
    "ipvsadm_batch": {"services": SERVICES, "purge": True, "flavor": "dpvs", "batch_threshold": 2},
}


def module_of(case):
    return case.split("_batch")[0]


def steps(case, names_and_options):
    """Steps of steps.yml for ``case``: ``(name, check, option, expect_failure)`` each."""
    return [
        {
            "name": name,
            "module": module_of(case),
            "args": dict(CASES[case], plan_fresh_when_down=option),
            "check": check,
            "expect_failure": expect_failure,
        }
        for name, check, option, expect_failure in names_and_options
    ]


def planned(result):
    """What a result ran or would run: argv and the stdin of a batch."""
    return [(list(map(str, entry["cmd"])), entry.get("stdin")) for entry in result["commands"]]


def logged(emulator, phase):
    """The emulator's log of the writes of ``phase``: argv without the program, stdin of -R."""
    return [(entry["argv"], entry.get("stdin")) for entry in emulator.writes(phase)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_mode_with_dpvs_down_predicts_the_run_on_a_fresh_dpvs(emulator, ansible, case):
    emulator.stop()
    down = ansible.play(
        "steps.yml",
        {
            "steps": steps(
                case,
                [
                    ("check", True, True, False),  # the option: plan against a fresh DPVS
                    ("check_off", True, False, True),  # no option: the daemon is down, an error
                    ("real_down", False, True, True),  # a real run never plans around a down daemon
                ],
            )
        },
    )
    assert down.rc == 0, down.explain()
    check = down.step("check")
    assert_ok(check, "check")
    assert check["changed"] is True
    assert WARNING in check.get("warnings", []), as_text(check)[:2000]
    assert all(entry["rc"] is None for entry in check["commands"])
    assert check["commands"], "nothing planned"
    for name in ("check_off", "real_down"):
        failed = down.step(name)
        assert failed.get("failed") is True, (name, as_text(failed)[:2000])
        assert failed["msg"].startswith(DOWN), (name, failed["msg"])
        assert WARNING not in failed.get("warnings", [])
    for name in ("check", "check_off", "real_down"):
        assert emulator.log(name), f"{name}: DPVS was not even asked"
        assert emulator.writes(name) == [], emulator.log(name)
    if module_of(case) == "ipvsadm":
        assert check["flavor"] == "dpvs"

    emulator.start()  # what the dpvs role does in the real run: a fresh DPVS
    up = ansible.play(
        "steps.yml",
        {"steps": steps(case, [("real", False, True, False), ("again", True, True, False)])},
    )
    assert up.rc == 0, up.explain()
    real = up.step("real")
    assert_ok(real, "real")
    assert real["changed"] is True and WARNING not in real.get("warnings", []), real.get("warnings")
    assert all(entry["rc"] == 0 for entry in real["commands"]), real["commands"]
    # the prediction is exactly what ran
    assert planned(check) == planned(real)
    assert [(argv[1:], stdin) for argv, stdin in planned(real)] == logged(emulator, "real")
    if case == "ipvsadm_batch":
        assert [argv[1:] for argv, _stdin in planned(real)] == [["-R"]]
    # and it converged: a check run against the running DPVS has nothing left to do
    again = up.step("again")
    assert_ok(again, "again")
    assert again["changed"] is False and again["commands"] == [] and WARNING not in again.get("warnings", [])


# --------------------------------------------------------------------------------------------
# The roles: dpvs_network and dpvs_services pass the option in check mode when the dpvs role
# would start DPVS (dpvs_start_pending), never in a real run or with *_verify_only.
# --------------------------------------------------------------------------------------------

ROLE_TASKS = {
    "addresses": "dpvs.cluster.dpvs_network : Addresses | converge DPVS device addresses",
    "routes": "dpvs.cluster.dpvs_network : Routes | converge DPVS routes",
    "services": "dpvs.cluster.dpvs_services : Services | converge virtual services, real servers and local addresses",
}


def role_vars(emulator, tmp_path, **extra):
    state = str(tmp_path / "etc" / "dpvs" / "state")  # not there yet: the dpvs role would make it
    variables = {
        "dpvs_network_addresses": [a for a in ADDRESSES if a.get("state") != "absent"],
        "dpvs_network_routes": [r for r in ROUTES if r.get("state") != "absent"],
        "dpvs_network_purge": True,
        "dpvs_network_ipc_file": emulator.ipc,
        "dpvs_network_state_dir": state,
        "dpvs_services_services": [s for s in SERVICES if s.get("state") != "absent"],
        "dpvs_services_ipc_file": emulator.ipc,
        "dpvs_services_state_dir": state,
    }
    variables.update(extra)
    return variables


def test_roles_check_mode_before_dpvs_starts(emulator, ansible, tmp_path):
    emulator.stop()
    state = str(tmp_path / "etc" / "dpvs" / "state")

    # the dpvs role would start DPVS: the check run plans against a fresh one
    check = ansible.play("dpvs_runtime_roles.yml", role_vars(emulator, tmp_path, dpvs_start_pending=True), check=True)
    assert check.rc == 0, check.explain()
    for kind, task in ROLE_TASKS.items():
        result = check[task]
        assert_ok(result, kind)
        assert result["changed"] is True and WARNING in result.get("warnings", []), (kind, as_text(result)[:2000])
    assert emulator.writes("_ansible") == []
    assert not os.path.exists(state), "check mode wrote the replay files"

    # nothing says DPVS will be started: a down daemon is an error, as before
    plain = ansible.play("dpvs_runtime_roles.yml", role_vars(emulator, tmp_path), check=True)
    assert plain.rc != 0
    assert plain[ROLE_TASKS["addresses"]]["msg"].startswith(DOWN), plain.explain()

    # verify_only must fail when DPVS is down, dpvs_start_pending or not
    verify = ansible.play(
        "dpvs_runtime_roles.yml",
        role_vars(emulator, tmp_path, dpvs_start_pending=True, dpvs_network_verify_only=True),
        check=True,
    )
    assert verify.rc != 0
    assert verify[ROLE_TASKS["addresses"]]["msg"].startswith(DOWN), verify.explain()

    # the real run (the dpvs role started DPVS): dpvs_start_pending is false then, the commands
    # are the ones the check run predicted
    emulator.start()
    real = ansible.play("dpvs_runtime_roles.yml", role_vars(emulator, tmp_path))
    assert real.rc == 0, real.explain()
    for kind, task in ROLE_TASKS.items():
        assert_ok(real[task], kind)
        assert WARNING not in real[task].get("warnings", [])
        assert planned(check[task]) == planned(real[task]), kind
    assert sorted(os.listdir(state)) == ["addresses.json", "ipvsadm.rules", "routes.json", "services.json"]

    # a real run never plans around a down daemon, whatever dpvs_start_pending says
    emulator.stop()
    down = ansible.play("dpvs_runtime_roles.yml", role_vars(emulator, tmp_path, dpvs_start_pending=True))
    assert down.rc != 0
    assert down[ROLE_TASKS["addresses"]]["msg"].startswith(DOWN), down.explain()


# --------------------------------------------------------------------------------------------
# DPVS not even installed yet (check mode on a bare host: the dpvs role installs the tools later
# in the same run): with the option, a missing dpip/ipvsadm is a DPVS that is down.
# --------------------------------------------------------------------------------------------

MISSING = {
    "dpip_addr": {"dpip_path": "dpip"},
    "dpip_route": {"dpip_path": "dpip"},
    "ipvsadm": {"ipvsadm_path": "ipvsadm"},
}


@pytest.mark.parametrize("case", sorted(MISSING))
def test_check_mode_with_dpvs_not_installed_plans_as_with_dpvs_down(emulator, ansible, tmp_path, case):
    emulator.stop()
    absent = {key: str(tmp_path / "not-installed" / name) for key, name in MISSING[case].items()}

    def step(name, option, expect_failure, extra):
        args = dict(CASES[case], plan_fresh_when_down=option, **extra)
        return {"name": name, "module": case, "args": args, "check": True, "expect_failure": expect_failure}

    run = ansible.play(
        "steps.yml",
        {
            "steps": [
                step("down", True, False, {}),
                step("absent", True, False, absent),
                step("absent_off", False, True, absent),
            ]
        },
    )
    assert run.rc == 0, run.explain()
    down, missing = run.step("down"), run.step("absent")
    assert_ok(missing, "absent")
    assert missing["changed"] is True and WARNING in missing.get("warnings", []), as_text(missing)[:2000]
    # the same commands, with the tool's path as given (it is not there to resolve)
    assert [(argv[1:], stdin) for argv, stdin in planned(missing)] == [
        (argv[1:], stdin) for argv, stdin in planned(down)
    ]
    assert planned(missing)[0][0][0] in absent.values()
    assert emulator.log("absent") == [], "a missing tool was run"
    failed = run.step("absent_off")
    assert failed.get("failed") is True and "Failed to find required executable" in failed["msg"], failed.get("msg")
