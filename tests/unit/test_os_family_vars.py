"""The roles' package names and paths per OS family, read from their defaults and vars files as
ansible-core templates them: Debian/Ubuntu names exist in this machine's apt index (real), the
RHEL family's (8 and 9) are names of those releases (tests/unit/fixtures/el_package_names.yml, on
paper: no EL mirror is reachable here) and never Debian names; and every package task of every
role installs a list this test knows, so a new one cannot skip the check."""

import glob
import os
import re
import shutil
import subprocess

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from conftest import REPO

RELEASES = {"debian12": ("Debian", "12"), "el8": ("RedHat", "8"), "el9": ("RedHat", "9")}
# (role, expression) for every package list a role installs; the toa role's kernel headers are
# named after the running kernel (linux-headers-<release> / kernel-devel-<release>) in its task.
PACKAGE_LISTS = [
    ("dpdk", "dpdk_packages"),
    ("dpdk", "dpdk_build_packages"),
    ("dpdk", "dpdk_runtime_packages"),
    ("dpdk_kmods", "[dpdk_kmods_igb_uio_package] | select | list"),
    ("dpvs", "dpvs_build_packages"),
    ("kernel_forwarder", "__kernel_forwarder_packages"),
    ("kernel_forwarder", "__kernel_forwarder_os_vars.ipvs_packages"),
    ("keepalived", "['keepalived']"),
]
# what the package tasks of the roles install, as written in the task (checked below)
PACKAGE_TASK_NAMES = {
    "{{ dpdk_packages }}",
    "{{ dpdk_build_packages }}",
    "{{ dpdk_runtime_packages }}",
    "{{ dpdk_kmods_igb_uio_package }}",
    "{{ dpvs_build_packages }}",
    "{{ __kernel_forwarder_packages }}",
    "keepalived",
    "{{ __toa_packages }}",
}
DEBIAN_ONLY = re.compile(r"-dev$|-persistent$|-dkms$|^python3-.*-dev$")


def _trusted(value):
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    return value


def _role_vars(role):
    variables = {}
    for part in ("defaults", "vars"):
        path = os.path.join(REPO, "roles", role, part, "main.yml")
        if os.path.exists(path):
            with open(path) as handle:
                variables.update(yaml.safe_load(handle) or {})
    return _trusted(variables)


def _render(role, expression, release):
    family, major = RELEASES[release]
    variables = _role_vars(role)
    variables["ansible_facts"] = {"os_family": family, "distribution_major_version": major}
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template("{{ " + expression + " }}"))


def _el_names():
    with open(os.path.join(REPO, "tests", "unit", "fixtures", "el_package_names.yml")) as handle:
        return {f"el{release}": set(names) for release, names in yaml.safe_load(handle).items()}


@pytest.mark.parametrize("role,expression", PACKAGE_LISTS)
@pytest.mark.parametrize("release", ["el8", "el9"])
def test_el_package_names_are_names_of_that_release(role, expression, release):
    names = _render(role, expression, release)
    assert isinstance(names, list)
    assert [name for name in names if DEBIAN_ONLY.search(name)] == []
    assert sorted(set(names) - _el_names()[release]) == []


def _apt_known(names):
    """The names of ``names`` that this machine's apt index has (one apt-cache run)."""
    result = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", *names], capture_output=True, text=True, check=False
    )
    return set(re.findall(r"^Package: (\S+)$", result.stdout, flags=re.MULTILINE))


@pytest.mark.parametrize("role,expression", PACKAGE_LISTS)
def test_debian_package_names_exist_in_the_apt_index(role, expression):
    if shutil.which("apt-cache") is None or not _apt_known(["iproute2"]):
        pytest.skip("NOT RUN: no apt index on this machine (apt-cache, or `apt-get update` never ran)")
    names = _render(role, expression, "debian12")
    assert names and sorted(set(names) - _apt_known(names)) == []


def test_el_8_and_9_get_their_own_iptables_service_package():
    # the package that brings iptables.service was renamed in EL 9
    assert "iptables-services" in _render("kernel_forwarder", "__kernel_forwarder_os_vars.packages", "el8")
    assert "iptables-nft-services" in _render("kernel_forwarder", "__kernel_forwarder_os_vars.packages", "el9")


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_kernel_forwarder_persistence_paths_fit_the_family(release):
    paths = [
        _render("kernel_forwarder", f"__kernel_forwarder_os_vars.{key}", release)
        for key in ("persist_file", "ipvs_persist_file")
    ]
    prefix = "/etc/sysconfig/" if RELEASES[release][0] == "RedHat" else "/etc/"
    assert all(path.startswith(prefix) for path in paths)
    assert RELEASES[release][0] == "RedHat" or not any("sysconfig" in path for path in paths)


def _package_task_names():
    names = set()
    for path in glob.glob(os.path.join(REPO, "roles", "*", "tasks", "*.yml")):
        with open(path) as handle:
            text = handle.read()
        names.update(re.findall(r"ansible\.builtin\.(?:package|apt|dnf|yum):\s*\n\s+name:\s*\"?([^\"\n]+)\"?", text))
    return names


def test_every_package_task_installs_a_list_this_test_checks():
    names = _package_task_names()
    assert len(names) >= 6
    assert sorted(names - PACKAGE_TASK_NAMES) == []
