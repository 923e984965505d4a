"""The dpvs-cluster tool (plugins/action/host_tool.py builds it, plugins/module_utils/cli runs it).

The archive is built with the action's own builder, written to a temporary directory and run by a
Python that sees neither this checkout nor any installed package (``-I -S``: no script directory,
no site-packages): what runs is what the zip holds, and the standard library. The commands'
own runs from the zip are in the tests of their owners (test_devbind, test_nic_queues,
test_hugepages), which use :func:`build_tool` and :func:`run_tool`.
"""

import ast
import io
import os
import subprocess
import sys
import zipfile

import pytest
import yaml
from ansible_collections.dpvs.cluster.plugins.action import host_tool as T
from ansible_collections.dpvs.cluster.plugins.module_utils.cli.main import COMMANDS, PACKAGE
from ansible_collections.dpvs.cluster.plugins.modules import host_tool as doc_module

HERE = os.path.dirname(os.path.abspath(__file__))
UTILS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "plugins", "module_utils")
ROOT = "ansible_collections/dpvs/cluster/plugins/module_utils/"


def build_tool(directory):
    """``dpvs-cluster.pyz`` built by the action's builder into ``directory``; its path."""
    path = os.path.join(str(directory), "dpvs-cluster.pyz")
    with open(path, "wb") as handle:
        handle.write(T.build_pyz())
    return path


def run_tool(pyz, *args, cwd=None):
    """``python -I -S dpvs-cluster.pyz ARGS`` (only the zip and the standard library)."""
    return subprocess.run(
        [sys.executable, "-I", "-S", pyz, *args], capture_output=True, text=True, check=False, cwd=cwd
    )


@pytest.fixture(scope="module")
def pyz(tmp_path_factory):
    return build_tool(tmp_path_factory.mktemp("tool"))


def test_two_builds_are_the_same_bytes(tmp_path):
    first, second = T.build_pyz(), T.build_pyz()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == sorted(info.filename for info in infos)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_DEFLATED}


def test_the_zip_holds_every_package_but_controller_and_the_package_files_above(pyz):
    with zipfile.ZipFile(pyz) as archive:
        names = set(archive.namelist())
        assert archive.read("__main__.py").decode().endswith("sys.exit(main())\n")
        for parent in T.PARENT_PACKAGES:
            assert archive.read(parent) == b""
    assert not [name for name in names if "/controller/" in name or "__pycache__" in name or name.endswith(".pyc")]
    expected = set()
    for here, dirs, files in os.walk(UTILS):
        dirs[:] = [d for d in dirs if d not in ("controller", "__pycache__")]
        relative = os.path.relpath(here, UTILS)
        if relative != ".":
            expected |= {ROOT + relative.replace(os.sep, "/") + "/" + f for f in files if f.endswith(".py")}
    assert names == expected | set(T.PARENT_PACKAGES) | {"__main__.py"}


def test_help_lists_every_command(pyz, tmp_path):
    run = run_tool(pyz, "--help", cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: dpvs-cluster COMMAND [ARGS]")
    assert [line.split()[0] for line in run.stdout.splitlines()[3:]] == list(COMMANDS)
    unknown = run_tool(pyz, "no-such-command", cwd=str(tmp_path))
    assert unknown.returncode == 2 and "unknown command 'no-such-command'" in unknown.stderr


def _imports(source):
    """The modules ``source`` imports at its top level or in functions (``from x import y``: x.y and x)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def test_each_command_needs_only_the_zip_and_the_stdlib(pyz):
    """From each command's module, every import is the standard library or a file of the zip
    (a command whose module is not in this tree yet is left out)."""
    with zipfile.ZipFile(pyz) as archive:
        members = {name[:-3].replace("/", "."): archive.read(name).decode() for name in archive.namelist()}
    members = {name.removesuffix(".__init__"): text for name, text in members.items()}
    problems, seen = [], set()
    todo = [f"{PACKAGE}.{module}" for module, _function, _help in COMMANDS.values()]
    todo = [name for name in todo if name in members]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name not in members:
            problems.append(f"{name} is not in the zip")
            continue
        for imported in _imports(members[name]):
            if imported.startswith("ansible_collections."):
                if imported in members:
                    todo.append(imported)
                elif imported.rsplit(".", 1)[0] not in members:
                    problems.append(f"{name} imports {imported}, not in the zip")
            elif imported.split(".")[0] not in sys.stdlib_module_names:
                problems.append(f"{name} imports {imported}, not the standard library")
    assert problems == []
    for module in ("host.devbind", "host.nic_queues", "host.hugepages", "converge.core"):
        assert f"{PACKAGE}.{module}" in seen


def test_documentation_matches_the_action_options():
    doc = yaml.safe_load(doc_module.DOCUMENTATION)
    assert doc_module.ARGUMENT_SPEC == T.ARGUMENT_SPEC
    for name, spec in T.ARGUMENT_SPEC.items():
        assert doc["options"][name]["type"] == spec["type"], name
        assert doc["options"][name]["default"] == spec["default"], name
    assert sorted(doc["options"]) == sorted(T.ARGUMENT_SPEC)
    assert doc["options"]["dest"]["default"] == T.DEFAULT_DEST
    assert yaml.safe_load(doc_module.RETURN)["commands"]["sample"] == list(COMMANDS)
    yaml.safe_load(doc_module.EXAMPLES)
