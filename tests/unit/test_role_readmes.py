"""Every role has a README with an example and the table of its variables, and neither can drift
from the role's meta/argument_specs.yml: the table is the one tools/role_readme.py generates from
the spec, and the example's variables are options of the spec."""

import importlib.util
import os
import re

import pytest
import yaml
from conftest import REPO

ROLES = sorted(os.listdir(os.path.join(REPO, "roles")))
EXAMPLE = re.compile(r"^## Example\n+```yaml\n(?P<yaml>.*?)^```", re.M | re.S)


def _tool():
    spec = importlib.util.spec_from_file_location("role_readme", os.path.join(REPO, "tools", "role_readme.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme(role):
    with open(os.path.join(REPO, "roles", role, "README.md")) as handle:
        return handle.read()


def _options(role):
    with open(os.path.join(REPO, "roles", role, "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


@pytest.mark.parametrize("role", ROLES)
def test_the_variables_table_is_the_argument_spec(role):
    tool = _tool()
    text = _readme(role)
    assert tool.updated(text, role) == text, f"run: python tools/role_readme.py ({role}'s table is out of date)"
    for name in _options(role):
        assert f"`{name}`" in text


@pytest.mark.parametrize("role", ROLES)
def test_the_example_runs_the_role_with_its_own_variables(role):
    match = EXAMPLE.search(_readme(role))
    assert match, f"roles/{role}/README.md has no '## Example' with a yaml block"
    plays = yaml.safe_load(match.group("yaml"))
    entries = [entry for play in plays for entry in play.get("roles", [])]
    mine = [entry for entry in entries if entry.get("role") == f"dpvs.cluster.{role}"]
    assert mine, f"the example does not run dpvs.cluster.{role}"
    unknown = sorted(set(mine[0].get("vars", {})) - set(_options(role)))
    assert unknown == [], f"the example sets variables the role does not have: {unknown}"


def test_the_tool_finds_a_stale_table():
    tool = _tool()
    text = _readme("limits").replace("| `limits_nofile` |", "| `limits_nofiles` |")
    assert tool.updated(text, "limits") != text
