"""The converge core's plan against a freshly started DPVS (``fresh_when_down``): only in check
mode, only when asked, only for a table that knows its fresh state; a down daemon stays an error
otherwise (a real run, the option off, a table without ``fresh()``)."""

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import CommandError, DaemonDownError
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import core, edge
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.plan import Action

DOWN = DaemonDownError(
    ["dpip", "-s", "addr", "show"],
    1,
    "",
    "[dpvs_getsockopt] scoket msg connection error: No such file or directory\n",
    msg="DPVS daemon is not reachable (No such file or directory): is dpvs running?",
)


class FakeTable(core.Table):
    """A set of names: ``declared`` is the wanted set, ``live`` what ``read`` returns (or
    ``DOWN`` raised when ``live`` is None); ``fresh_state`` what a fresh daemon has."""

    def __init__(self, declared, live=None, fresh_state=()):
        self.declared = list(declared)
        self.live = live
        self.fresh_state = fresh_state
        self.calls = []

    def read(self):
        self.calls.append("read")
        if self.live is None:
            raise DOWN
        return list(self.live)

    def fresh(self):
        self.calls.append("fresh")
        return list(self.fresh_state)

    def plan(self, live):
        return [Action(["add", name], f"add {name}") for name in self.declared if name not in live]

    def apply(self, plan):
        self.calls.append("apply")
        self.live = (self.live or []) + [action.argv[1] for action in plan]
        return [{"cmd": action.argv, "rc": 0} for action in plan]

    def verify(self, plan, after):
        return [name for name in self.declared if name not in after]

    def render(self, state):
        return "".join(f"{name}\n" for name in sorted(state))


class NoFreshTable(FakeTable):
    """A table that does not know a fresh state: ``Table.fresh``'s default."""

    fresh = core.Table.fresh


def test_check_mode_daemon_down_option_on_plans_from_the_fresh_table_with_a_warning():
    table = FakeTable(["a", "b"])
    result = core.converge(table, check_mode=True, want_diff=True, fresh_when_down=True)
    assert table.calls == ["read", "fresh"]  # read once, nothing applied, nothing read back
    assert result["changed"] is True
    assert [entry["cmd"] for entry in result["commands"]] == [["add", "a"], ["add", "b"]]
    assert all(entry["rc"] is None for entry in result["commands"])
    assert result["warnings"] == [core.FRESH_WARNING]
    assert result["warnings"][0].startswith("DPVS is not running yet: planned against a freshly started DPVS")
    assert result["diff"] == {"before": "", "after": ""}  # predict() keeps the (fresh) live state by default


def test_the_fresh_table_is_what_the_plan_starts_from():
    table = FakeTable(["a", "b"], fresh_state=["a"])
    result = core.converge(table, check_mode=True, fresh_when_down=True)
    assert [entry["cmd"] for entry in result["commands"]] == [["add", "b"]]


def test_check_mode_predicts_the_commands_a_real_run_on_a_fresh_daemon_runs():
    checked = core.converge(FakeTable(["a", "b"]), check_mode=True, fresh_when_down=True)
    started = FakeTable(["a", "b"], live=[])  # the daemon started: its tables are empty
    real = core.converge(started, fresh_when_down=True)
    assert [e["cmd"] for e in checked["commands"]] == [e["cmd"] for e in real["commands"]]
    assert "warnings" not in real


def test_real_run_daemon_down_is_an_error_even_with_the_option():
    table = FakeTable(["a"])
    with pytest.raises(DaemonDownError) as err:
        core.converge(table, check_mode=False, fresh_when_down=True)
    assert err.value is DOWN
    assert table.calls == ["read"]  # no fresh table, nothing applied


def test_check_mode_daemon_down_option_off_is_an_error():
    table = FakeTable(["a"])
    with pytest.raises(DaemonDownError) as err:
        core.converge(table, check_mode=True)
    assert err.value is DOWN
    assert "not reachable" in err.value.msg
    assert table.calls == ["read"]


def test_a_table_without_a_fresh_state_keeps_the_error():
    table = NoFreshTable(["a"])
    with pytest.raises(DaemonDownError):
        core.converge(table, check_mode=True, fresh_when_down=True)
    assert core.Table().fresh() is None


def test_other_read_errors_are_never_planned_around():
    class Failing(FakeTable):
        def read(self):
            self.calls.append("read")
            raise CommandError(["dpip", "addr", "show"], 255, "", "dpip: invalid parameter\n")

    table = Failing(["a"])
    with pytest.raises(CommandError):
        core.converge(table, check_mode=True, fresh_when_down=True)
    assert table.calls == ["read"]


def test_daemon_up_the_option_changes_nothing():
    table = FakeTable(["a", "b"], live=["a"])
    result = core.converge(table, check_mode=True, fresh_when_down=True)
    assert table.calls == ["read"]
    assert [entry["cmd"] for entry in result["commands"]] == [["add", "b"]]
    assert "warnings" not in result


def test_fresh_option_is_a_boolean():
    assert core.fresh_option({}) is False
    assert core.fresh_option({core.FRESH_OPTION: None}) is False
    assert core.fresh_option({core.FRESH_OPTION: True}) is True
    with pytest.raises(InputError) as err:
        core.fresh_option({core.FRESH_OPTION: "yes"})
    assert err.value.path == "plan_fresh_when_down"


class FakeModule:
    def __init__(self):
        self.params = {}
        self.warned = []
        self.exited = None

    def warn(self, text):
        self.warned.append(text)

    def exit_json(self, **result):
        self.exited = result

    def fail_json(self, **result):  # pragma: no cover - the test fails on it
        raise AssertionError(result)


def test_the_edge_hands_warnings_to_module_warn():
    module = FakeModule()
    table = FakeTable(["a"])
    edge.run_module(module, lambda params: params, lambda _v: core.converge(table, True, fresh_when_down=True))
    assert module.warned == [core.FRESH_WARNING]
    assert "warnings" not in module.exited  # exit_json(warnings=...) is deprecated
    assert module.exited["changed"] is True
