"""controller.plain_data: filters take ansible-core's lazy containers as plain data.

ansible-core 2.19 hands a filter its variables as lazy containers; copying one deep copies what it
needs to template the rest, once per item (the dpvs_services role's preflight took 378 s at 100
services, growing with the square of the list). The filters take their arguments through
``plain_args``, so the collection's code sees only built-in types.
"""

import copy
import glob
import importlib
import os

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain, plain_args

FILTERS = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "filter")
# takes hostvars (a lazy mapping of every variable of a host): only its names are read, and making
# it plain would template every variable of the host
NOT_WRAPPED = {"dpvs_unknown_vars"}


def _lazy(data):
    """``data`` as a filter receives it: a variable templated by ansible-core's Templar."""
    templar = Templar(loader=DataLoader(), variables={"v": data})
    seen = []
    templar.environment.filters["grab"] = lambda value: seen.append(value) or ""
    templar.template(trust_as_template("{{ v | grab }}"))
    return seen[0]


def _types(value):
    if isinstance(value, dict):
        return {type(value)} | set().union(*(_types(k) | _types(v) for k, v in value.items()))
    if isinstance(value, list):
        return {type(value)} | set().union(*(_types(item) for item in value))
    return {type(value)}


SERVICES = [
    {"vip": f"10.0.0.{i}", "port": 80, "sticky": True, "weight": 1.5, "none": None,
     "real_servers": [{"ip": f"192.168.0.{i}", "port": 80}], "tags": ("a", "b")}
    for i in range(3)
]  # fmt: skip


def test_the_templar_gives_lazy_containers_and_plain_gives_built_in_types():
    lazy = _lazy(SERVICES)
    assert lazy.__class__ is not list  # what the filters used to get (if this fails, ansible-core changed)
    got = plain(lazy)
    assert got == [dict(s, tags=["a", "b"]) for s in SERVICES]
    assert _types(got) <= {list, dict, str, int, float, bool, type(None)}


def test_plain_keeps_bools_and_scalars_as_they_are():
    given = {"a": True, "b": 0, "c": "x", "d": None, "e": 2.5}
    assert plain(given) == given
    assert plain(_lazy({"flag": True}))["flag"].__class__ is bool


def test_a_deep_copy_of_the_plain_list_is_only_the_data():
    got = plain(_lazy(SERVICES))
    assert copy.deepcopy(got) == got


def test_plain_args_makes_every_argument_plain():
    calls = []
    wrapped = plain_args(lambda *args, **kwargs: calls.append((args, kwargs)))
    wrapped(_lazy(SERVICES), _lazy({"k": [1]}), hosts=_lazy([{"name": "rs1"}]))
    (args, kwargs), = calls
    assert args[0].__class__ is list and args[0][0].__class__ is dict and args[1]["k"].__class__ is list
    assert kwargs["hosts"][0].__class__ is dict


@pytest.mark.parametrize(
    "path", sorted(glob.glob(os.path.join(FILTERS, "*.py"))), ids=lambda p: os.path.basename(p)[:-3]
)
def test_every_filter_of_the_collection_takes_plain_arguments(path):
    name = os.path.basename(path)[:-3]
    module = importlib.import_module(f"ansible_collections.dpvs.cluster.plugins.filter.{name}")
    for filter_name, function in module.FilterModule().filters().items():
        wrapped = getattr(function, "__wrapped__", None) is not None
        assert wrapped is (name not in NOT_WRAPPED), filter_name
