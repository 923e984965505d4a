"""The dpdk role's driver resolution (plugins/module_utils/controller/dpdk_drivers.py, filter
dpvs.cluster.dpdk_driver_list) and its defaults.

meson's configure of each driver alone on DPDK 24.11.3 with the role's resolved list is tested in
tests/integration/test_dpdk_driver_configure.py.
"""

import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.filter.dpdk_driver_list import FilterModule, dpdk_driver_list
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.dpdk_drivers import resolve

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(REPO, "roles", "dpdk")


def _yaml(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


DEFAULTS = _yaml("defaults", "main.yml")
BASE = DEFAULTS["dpdk_drivers_base"]
DEPS = DEFAULTS["dpdk_driver_deps"]


def _old(drivers, base, deps):
    """The role's resolution before the filter: direct needs only (build.yml's former expression)."""
    needs = [n for key, value in deps.items() if key in drivers + base for n in value]
    return sorted(set(base + drivers + needs))


def test_ixgbe_alone_brings_e1000():
    got = dpdk_driver_list(["net/ixgbe"], BASE, DEPS)
    assert got == sorted([*BASE, "net/e1000", "net/ixgbe"])


@pytest.mark.parametrize(
    ("driver", "needs"),
    [
        ("net/mlx5", ["bus/auxiliary", "common/mlx5"]),
        ("net/ice", ["common/iavf"]),
        ("net/iavf", ["common/iavf"]),
        ("net/ionic", ["common/ionic"]),
        ("net/netvsc", ["bus/vmbus"]),
        ("net/i40e", []),
        ("net/mlx4", []),  # DPDK has no common/mlx4: a need of it was never built
    ],
)
def test_default_needs(driver, needs):
    assert dpdk_driver_list([driver], BASE, DEPS) == sorted({*BASE, driver, *needs})


def test_needs_are_transitive_and_a_cycle_ends():
    deps = {"net/a": ["common/b"], "common/b": ["bus/c"], "bus/c": ["net/a"]}
    assert dpdk_driver_list(["net/a"], [], deps) == ["bus/c", "common/b", "net/a"]
    assert dpdk_driver_list(["net/x"], ["bus/pci"], deps) == ["bus/pci", "net/x"]


def test_sorted_once_each_and_base_needs_count():
    got = dpdk_driver_list(["net/ice", "net/iavf", "net/ice"], ["net/ixgbe", "bus/pci"], DEPS)
    assert got == ["bus/pci", "common/iavf", "net/e1000", "net/iavf", "net/ice", "net/ixgbe"]


def test_defaults_none_and_empty():
    assert dpdk_driver_list(["net/virtio"]) == ["net/virtio"]
    assert dpdk_driver_list([], None, None) == []


@pytest.mark.parametrize("drivers", [["net/virtio", "net/e1000"], ["net/mlx5"], ["net/ice", "net/i40e"], ["net/ixgbe"]])
def test_same_list_as_before_when_no_need_is_chained(drivers):
    # the list is part of the build's identity (prefix name, stamp): an unchanged list keeps a built prefix
    assert dpdk_driver_list(drivers, BASE, DEPS) == _old(drivers, BASE, DEPS)


def test_default_map_names_are_drivers():
    assert isinstance(DEPS, dict) and DEPS
    dpdk_driver_list(list(DEPS), BASE, DEPS)  # raises on a bad name


@pytest.mark.parametrize(
    ("drivers", "base", "deps", "message"),
    [
        (["net/ixgbe"], [], ["net/e1000"], "dpdk_driver_deps: expected a map of driver to list of drivers"),
        (["net/ixgbe"], [], {"net/ixgbe": "net/e1000"}, "dpdk_driver_deps: net/ixgbe: expected a list"),
        (["net/ixgbe"], [], {"net/ixgbe": ["e1000"]}, "dpdk_driver_deps: net/ixgbe: ['e1000'] is not a DPDK driver"),
        (["net/ixgbe"], [], {"ixgbe": ["net/e1000"]}, "dpdk_driver_deps: ['ixgbe'] is not a DPDK driver"),
        (["virtio"], [], {}, "dpdk_drivers: ['virtio'] is not a DPDK driver"),
        ("net/virtio", [], {}, "dpdk_drivers: expected a list"),
        (["net/virtio"], ["bus/PCI"], {}, "dpdk_drivers_base: ['bus/PCI'] is not a DPDK driver"),
    ],
)
def test_bad_input_names_the_variable(drivers, base, deps, message):
    with pytest.raises(AnsibleFilterError) as err:
        dpdk_driver_list(drivers, base, deps)
    assert str(err.value).startswith(message), str(err.value)


def test_filter_registered_and_plain_python_below_it():
    assert FilterModule().filters()["dpdk_driver_list"].__wrapped__ is dpdk_driver_list
    assert resolve(["net/ixgbe"], [], DEPS) == ["net/e1000", "net/ixgbe"]
    with pytest.raises(ValueError, match="dpdk_driver_deps: net/ixgbe: expected a list"):
        resolve(["net/ixgbe"], [], {"net/ixgbe": "net/e1000"})


def test_build_yml_resolves_with_the_filter():
    for task in _yaml("tasks", "build.yml"):
        expr = (task.get("vars") or {}).get("__dpdk_drv")
        if expr is not None:
            break
    else:
        raise AssertionError("build.yml: no __dpdk_drv")
    assert "dpdk_drivers | dpvs.cluster.dpdk_driver_list(dpdk_drivers_base, dpdk_driver_deps)" in expr
    assert "-Denable_drivers=' ~ (__dpdk_drv | join(','))" in task["vars"]["__dpdk_args"]
