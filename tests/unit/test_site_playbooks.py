"""playbooks/site.yml runs every role once per group, in the documented order, and the validate
play checks exactly the roles each group will run (validation and execution cannot drift)."""

import os

import yaml

REPO = os.path.join(os.path.dirname(__file__), "..", "..")
PLAYBOOKS = os.path.join(REPO, "playbooks")
ROLES = sorted(os.listdir(os.path.join(REPO, "roles")))


def _load(name):
    with open(os.path.join(PLAYBOOKS, name)) as handle:
        return yaml.safe_load(handle)


def _imports(name):
    key = "ansible.builtin.import_playbook"
    return [os.path.basename(p[key]) for p in _load(name) if key in p]


def _role_names(play):
    """Roles of a play: its roles list, and include_role tasks (a literal name or a loop var)."""
    names = [r["role"].split(".")[-1] for r in play.get("roles", [])]
    for task in play.get("tasks", []):
        inc = task.get("ansible.builtin.include_role")
        if inc and "{{" not in inc["name"]:
            names.append(inc["name"].split(".")[-1])
    return names


def _prepare_map():
    play = next(p for p in _load("prepare.yml") if "hosts" in p)
    return play["tasks"][0]["vars"]["__prepare_by_group"], play["hosts"]


def _site_roles_by_group():
    """{group: [roles]} that site.yml runs, in order, with host preparation on."""
    by_group, _hosts = _prepare_map()
    runs = {group: list(roles) for group, roles in by_group.items()}
    for name in ("dpvs.yml", "kernel_lb.yml", "ha.yml", "metrics.yml"):
        for play in _load(name):
            if "hosts" in play:
                for group in play["hosts"].split(":"):
                    runs.setdefault(group, []).extend(_role_names(play))
    return runs


def test_site_imports_the_parts_in_order():
    assert _imports("site.yml") == ["validate.yml", "prepare.yml", "dpvs.yml", "kernel_lb.yml", "ha.yml", "metrics.yml"]


def test_each_part_validates_first_when_run_alone():
    for name in ("prepare.yml", "dpvs.yml", "kernel_lb.yml", "ha.yml", "metrics.yml"):
        assert _imports(name)[:1] == ["validate.yml"], name


def test_every_role_runs_in_site():
    runs = _site_roles_by_group()
    assert sorted({r for roles in runs.values() for r in roles}) == ROLES


def test_dpvs_node_order():
    assert _site_roles_by_group()["dpvs"] == [
        "preflight", "dpdk_kmods", "hugepages", "devbind", "limits", "dpdk", "dpvs", "dpvs_network", "dpvs_services",
        "keepalived", "metrics"]


def test_prepare_play_covers_its_groups():
    by_group, hosts = _prepare_map()
    assert set(hosts.split(":")) == set(by_group)


def test_validate_checks_what_site_runs():
    play = _load("validate.yml")[0]
    assert play["any_errors_fatal"] is True
    checked = {}
    for key in ("__validate_prepare_by_group", "__validate_roles_by_group"):
        for group, roles in play["vars"][key].items():
            checked.setdefault(group, set()).update(roles)
    # keepalived runs where keepalived_enabled (ha.yml): validate checks it on those hosts
    runs = {group: set(roles) - {"keepalived", "metrics"} for group, roles in _site_roles_by_group().items()}
    assert checked == runs
    assert "(['keepalived'] if keepalived_enabled | default(false) is true else [])" in play["vars"]["__validate_roles"]
    (ha,) = [p for p in _load("ha.yml") if "hosts" in p]
    assert ha["tasks"][0]["when"] == "keepalived_enabled | default(false) | bool"
    # metrics likewise where metrics_enabled (metrics.yml), on the load balancers only
    assert "(['metrics'] if metrics_enabled | default(false) is true" in play["vars"]["__validate_roles"]
    (metrics,) = [p for p in _load("metrics.yml") if "hosts" in p]
    assert metrics["hosts"] == "dpvs:kernel_lb"
    assert metrics["tasks"][0]["when"] == "metrics_enabled | default(false) | bool"
    # and its preflight (ranges, paths) runs in validate, before any change, not last in site.yml
    (block,) = [t for t in play["tasks"] if "block" in t]
    (preflight,) = [t for t in block["block"] if "metrics" in t["name"]]
    assert preflight["ansible.builtin.include_role"] == {"name": "dpvs.cluster.metrics", "tasks_from": "preflight.yml"}
    assert preflight["when"] == "'metrics' in __validate_roles"


def test_validate_marks_prepare_roles_as_such():
    """The roles skipped with dpvs_cluster_prepare_host: false are the same in both places."""
    play = _load("validate.yml")[0]
    by_group, _hosts = _prepare_map()
    expected = {g: list(r) for g, r in by_group.items()}
    expected["dpvs"] = expected["dpvs"] + ["dpdk"]  # dpvs.yml's dpdk play honours it too
    assert play["vars"]["__validate_prepare_by_group"] == expected


def test_rolling_restart_is_one_node_at_a_time_and_stops_at_the_first_failure():
    (play,) = [p for p in _load("rolling_restart.yml") if "hosts" in p]
    assert play["hosts"] == "dpvs" and play["serial"] == 1 and play["max_fail_percentage"] == 0
    assert _imports("rolling_restart.yml")[:1] == ["validate.yml"]
    # play vars outrank the inventory: a setting there would silently override the user's
    assert not [name for name in play.get("vars", {}) if name.startswith("dpvs_rolling_")]
