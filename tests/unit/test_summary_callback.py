"""plugins/callback/summary.py: the per-host table at the end of a run."""

from types import SimpleNamespace

from ansible_collections.dpvs.cluster.plugins.callback.summary import CallbackModule


class Role:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


def result(host, action, res, role=None, name="a task"):
    task = SimpleNamespace(_role=Role(role) if role else None, action=action, name=name)
    return SimpleNamespace(_host=SimpleNamespace(get_name=lambda: host), _task=task, _result=res)


def table(callback, hosts):
    shown = []
    callback._display = SimpleNamespace(display=shown.append)
    callback.v2_playbook_on_stats(SimpleNamespace(processed=dict.fromkeys(hosts, 1)))
    return shown[0].splitlines()


def test_changes_per_role_needs_services_and_verify_messages():
    cb = CallbackModule()
    cb.v2_runner_on_ok(result("lb1", "ansible.builtin.copy", {"changed": True}, role="dpvs.cluster.dpvs"))
    cb.v2_runner_on_ok(result("lb1", "ansible.builtin.copy", {"changed": True}, role="dpvs.cluster.dpvs"))
    cb.v2_runner_on_ok(result("lb1", "ansible.builtin.stat", {"changed": False}, role="dpvs.cluster.dpvs_network"))
    cb.v2_runner_on_ok(
        result("lb1", "ansible.builtin.set_fact", {"ansible_facts": {"dpvs_restart_required": True}}, role="dpvs")
    )
    cb.v2_runner_on_ok(
        result("lb1", "ansible.builtin.set_fact", {"ansible_facts": {"hugepages_reboot_required": False}})
    )
    services = [{"protocol": "tcp", "vip": "10.0.96.204", "port": 80, "real_servers": [{}, {}]}]
    cb.v2_runner_on_ok(result("lb1", "dpvs.cluster.ipvsadm", {"changed": False, "services": services}))
    cb.v2_runner_on_ok(
        result("lb1", "ansible.builtin.assert", {"msg": "lb1: 1 service(s) as declared"}, name="Verify | x")
    )
    cb.v2_runner_on_ok(result("lb1", "ansible.builtin.assert", {"msg": "All assertions passed"}, name="Preflight | y"))
    cb.v2_runner_on_failed(result("rs1", "ansible.builtin.command", {}, role="toa"))
    cb.v2_runner_on_failed(result("rs1", "ansible.builtin.command", {}, role="toa"), ignore_errors=True)

    lines = table(cb, ["rs1", "lb1"])

    assert lines[2:] == [
        "lb1",
        "  changed   dpvs 2",
        "  needs     dpvs_restart_required",
        "  serves    1 service(s): tcp 10.0.96.204:80 (2 rs)",
        "  verified  lb1: 1 service(s) as declared",
        "rs1",
        "  changed   toa 0 (failed 1)",
        "  needs     no restart, no reboot",
    ]


def test_a_host_without_changes_says_so():
    assert table(CallbackModule(), ["localhost"])[2:] == [
        "localhost",
        "  changed   nothing",
        "  needs     no restart, no reboot",
    ]


def test_a_list_of_modules_to_reload_is_a_need_and_an_empty_one_is_not():
    cb = CallbackModule()
    facts = {"ansible_facts": {"toa_reload_required": ["toa", "uoa"]}}
    cb.v2_runner_on_ok(result("rs1", "ansible.builtin.set_fact", facts))
    cb.v2_runner_on_ok(result("rs2", "ansible.builtin.set_fact", {"ansible_facts": {"toa_reload_required": []}}))
    lines = table(cb, ["rs1", "rs2"])
    assert lines[2:] == [
        "rs1",
        "  changed   nothing",
        "  needs     toa_reload_required (toa, uoa)",
        "rs2",
        "  changed   nothing",
        "  needs     no restart, no reboot",
    ]
