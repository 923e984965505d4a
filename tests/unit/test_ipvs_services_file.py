"""ipvs.services_file: the ipvsadm module's table from a JSON file, checked as the option is."""

import json

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import services_file as SF
from ansible_collections.dpvs.cluster.plugins.modules.ipvsadm import ARGUMENT_SPEC

OPTIONS = ARGUMENT_SPEC["services"]["options"]
WEB = {"vip": "10.0.0.1", "port": 80, "real_servers": [{"ip": "192.168.0.1", "port": 80}], "laddrs": []}


def _file(tmp_path, data, raw=False):
    path = tmp_path / "services.json"
    path.write_text(data if raw else json.dumps(data))
    return str(path)


def test_both_shapes_give_the_list(tmp_path):
    assert SF.load(_file(tmp_path, [WEB])) == [WEB]
    assert SF.load(_file(tmp_path, {"format": 1, "kind": "services", "entries": [WEB]})) == [WEB]


@pytest.mark.parametrize(
    "data, raw, problem",
    [
        ("{not json", True, "is not JSON"),
        ({"format": 2, "kind": "services", "entries": []}, False, "of format 2, not 1"),
        ({"services": [WEB]}, False, "must hold a list of services"),
        ("\"10.0.0.1\"", True, "must hold a list of services"),
    ],
)
def test_a_file_that_is_not_a_table_names_the_option(tmp_path, data, raw, problem):
    with pytest.raises(InputError, match=problem) as err:
        SF.load(_file(tmp_path, data, raw))
    assert err.value.path == "services_file"


def test_a_missing_file_names_the_option(tmp_path):
    with pytest.raises(InputError, match="cannot be read: No such file") as err:
        SF.load(str(tmp_path / "nope.json"))
    assert err.value.path == "services_file"


@pytest.mark.parametrize(
    "change, path",
    [
        (lambda s: s.update(sheduler="rr"), "services[1].sheduler"),
        (lambda s: s["real_servers"][0].update(wieght=2), "services[1].real_servers[0].wieght"),
        (lambda s: s["laddrs"].append({"ip": "10.1.1.1", "dev": "dpdk0", "device": "x"}), "services[1].laddrs[0].device"),  # noqa: E501
    ],
)
def test_an_unknown_key_anywhere_is_an_error_naming_it(change, path):
    bad = json.loads(json.dumps(WEB))
    change(bad)
    with pytest.raises(InputError, match="unknown key") as err:
        SF.check_keys([WEB, bad], OPTIONS)
    assert err.value.path == path


def test_an_entry_that_is_not_a_dictionary_is_an_error():
    with pytest.raises(InputError, match="must be a dictionary") as err:
        SF.check_keys([WEB, "10.0.0.2:80"], OPTIONS)
    assert err.value.path == "services[1]"


def test_with_file_reads_only_when_asked_and_never_with_services(tmp_path):
    params = {"services": [], "services_file": None}
    assert SF.with_file(params, OPTIONS) is params
    path = _file(tmp_path, [WEB])
    loaded = SF.with_file({"services": [], "services_file": path}, OPTIONS)
    assert loaded["services"] == [WEB]
    with pytest.raises(InputError, match="mutually exclusive"):
        SF.with_file({"services": [WEB], "services_file": path}, OPTIONS)


def test_values_take_their_suboption_type_as_the_option_would():
    raw = {
        "vip": "10.0.0.1",
        "port": "80",
        "synproxy": "no",
        "ops": "yes",
        "real_servers": [{"ip": "192.168.0.1", "port": "8080", "weight": "3"}],
        "blocklist": ["10.9.9.9"],
    }
    (svc,) = SF.check_keys([raw], OPTIONS)
    assert svc["port"] == 80 and svc["synproxy"] is False and svc["ops"] is True
    assert svc["real_servers"] == [{"ip": "192.168.0.1", "port": 8080, "weight": 3}]
    assert svc["blocklist"] == ["10.9.9.9"]


@pytest.mark.parametrize(
    "change, path, problem",
    [
        ({"port": "http"}, "services[0].port", "must be of type int"),
        ({"synproxy": "maybe"}, "services[0].synproxy", "must be of type bool"),
        ({"protocol": "TCP"}, "services[0].protocol", "must be one of tcp, udp, sctp"),
        ({"real_servers": {"ip": "192.168.0.1"}}, "services[0].real_servers", "must be a list"),
    ],
)
def test_a_value_of_the_wrong_type_names_its_place(change, path, problem):
    with pytest.raises(InputError, match=problem) as err:
        SF.check_keys([dict(WEB, **change)], OPTIONS)
    assert err.value.path == path


def test_services_json_is_read_as_the_file_would_be():
    loaded = SF.with_file({"services": [], "services_json": json.dumps([WEB])}, OPTIONS)
    assert loaded["services"] == [WEB]
    doc = json.dumps({"format": 1, "kind": "services", "entries": [WEB]})
    assert SF.with_file({"services": None, "services_json": doc}, OPTIONS)["services"] == [WEB]
    assert SF.with_file({"services": [], "services_json": "[]"}, OPTIONS)["services"] == []


@pytest.mark.parametrize(
    "text, problem",
    [
        ("{not json" + " " * 100, "is not JSON"),
        (json.dumps({"services": [WEB]}), "must hold a list of services"),
        ("", "is not JSON"),
    ],
)
def test_bad_services_json_names_the_option_and_shows_only_its_start(text, problem):
    with pytest.raises(InputError, match=problem) as err:
        SF.with_file({"services": [], "services_json": text}, OPTIONS)
    assert err.value.path == "services_json"
    assert len(str(err.value.value)) <= SF.SHOWN + 30


@pytest.mark.parametrize(
    "params, second",
    [
        ({"services": [WEB], "services_json": "[]"}, "services_json"),
        ({"services": [], "services_file": "/x.json", "services_json": "[]"}, "services_json"),
    ],
)
def test_services_json_with_another_way_is_an_error(params, second):
    with pytest.raises(InputError, match="mutually exclusive") as err:
        SF.with_file(params, OPTIONS)
    assert err.value.path == second


def test_an_unknown_key_in_services_json_is_named_as_in_the_option():
    bad = dict(WEB, real_servers=[{"ip": "192.168.0.1", "port": 80, "wieght": 2}])
    with pytest.raises(InputError, match="unknown key") as err:
        SF.with_file({"services": [], "services_json": json.dumps([WEB, bad])}, OPTIONS)
    assert err.value.path == "services[1].real_servers[0].wieght"
