"""converge.edge: the result's echo of the arguments leaves long lists out (Ansible walks the
whole result for no_log values: 10,000 services cost seconds there), on success and on failure."""

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import edge


class Exited(Exception):
    pass


class FakeModule:
    def __init__(self, params):
        self.params = params
        self.warnings, self.exited = [], None

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **kwargs):
        self.exited = ("exit", kwargs)
        raise Exited

    def fail_json(self, **kwargs):
        self.exited = ("fail", kwargs)
        raise Exited


def _services(count):
    return [{"vip": f"10.0.{i // 256}.{i % 256}", "port": 80} for i in range(count)]


def test_a_long_list_is_echoed_as_its_length_and_a_short_one_whole():
    module = FakeModule({"services": _services(edge.ECHO_MAX_ITEMS + 1), "purge": True, "names": ["a", "b"]})
    with pytest.raises(Exited):
        edge.run_module(module, lambda params: params, lambda validated: {"changed": False, "warnings": ["w"]})
    kind, result = module.exited
    assert kind == "exit" and module.warnings == ["w"]
    assert result["invocation"]["module_args"] == {
        "services": f"({edge.ECHO_MAX_ITEMS + 1} entries, not echoed)",
        "purge": True,
        "names": ["a", "b"],
    }
    assert module.params["services"][0] == {"vip": "10.0.0.0", "port": 80}  # the arguments are not changed


def test_a_failure_echoes_the_same_way():
    module = FakeModule({"services": _services(500), "option_names": {}})

    def run(validated):
        raise InputError("services[3].port", 0, "must be 1-65535")

    with pytest.raises(Exited):
        edge.run_module(module, lambda params: params, run)
    kind, result = module.exited
    assert kind == "fail" and "services[3].port" in result["msg"]
    assert result["invocation"]["module_args"]["services"] == "(500 entries, not echoed)"


def test_a_long_string_is_echoed_as_its_length_and_a_short_one_whole():
    text = "x" * (edge.ECHO_MAX_CHARS + 1)
    module = FakeModule({"services_json": text, "ipc_file": "/run/dpvs.ipc"})
    with pytest.raises(Exited):
        edge.run_module(module, lambda params: params, lambda validated: {"changed": False})
    assert module.exited[1]["invocation"]["module_args"] == {
        "services_json": f"({edge.ECHO_MAX_CHARS + 1} characters, not echoed)",
        "ipc_file": "/run/dpvs.ipc",
    }
