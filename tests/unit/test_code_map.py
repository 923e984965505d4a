# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape of plugins/module_utils that docs/internals.md promises: one package per concern,
import-free package files, imports that follow the layering, and every file on the map."""

import ast
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
UTILS = REPO / "plugins" / "module_utils"
PREFIX = "ansible_collections.dpvs.cluster.plugins.module_utils."

# what each package may import from the collection (docs/internals.md, "Import rules")
ALLOWED = {
    "common": set(),
    "converge": {"common"},
    "dpip": {"common", "converge"},
    "ipvs": {"common", "converge", "dpip"},
    "host": {"common", "converge"},
    "kernel": {"common", "converge", "ipvs"},
    "dpvs_conf": {"common", "converge", "dpip", "ipvs"},
    "dpvs_state": {"common", "converge", "dpip", "ipvs"},
    "keepalived": {"common", "ipvs"},
    "metrics": {"common", "dpip", "ipvs", "kernel"},
    "report": {"common", "ipvs", "dpvs_conf", "keepalived"},
    "controller": {
        "common",
        "converge",
        "dpip",
        "ipvs",
        "host",
        "kernel",
        "dpvs_conf",
        "dpvs_state",
        "keepalived",
        "report",
    },
    "cli": set(),  # imports its commands' modules by name when one runs (cli/main.py COMMANDS)
}


def files():
    return sorted(p for p in UTILS.rglob("*.py") if "__pycache__" not in p.parts)


def collection_imports(path):
    """The module_utils packages ``path`` imports from (``common``, ``ipvs``, ...)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith(PREFIX):
                found.add(name[len(PREFIX) :].split(".")[0])
    return found


def test_every_file_lives_in_a_known_package():
    loose = [p.name for p in UTILS.glob("*.py")]
    assert loose == [], "module_utils files belong in a package by concern"
    packages = sorted(p.name for p in UTILS.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert packages == sorted(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_file_says_what_it_owns_and_imports_nothing(package):
    tree = ast.parse((UTILS / package / "__init__.py").read_text())
    assert ast.get_docstring(tree), f"{package}/__init__.py needs a docstring of what it owns"
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) and n.module != "__future__"]
    assert imports == [], f"{package}/__init__.py imports nothing (host-side appliers import single files)"
    for module in sorted((UTILS / package).glob("*.py")):
        if module.name != "__init__.py":
            assert f"``{module.stem}``" in ast.get_docstring(tree), f"{package}/__init__.py names {module.stem}"


@pytest.mark.parametrize("path", files(), ids=lambda p: str(p.relative_to(UTILS)))
def test_imports_follow_the_layering(path):
    package = path.relative_to(UTILS).parts[0]
    outside = collection_imports(path) - ALLOWED[package] - {package}
    assert not outside, f"{path.relative_to(UTILS)} imports {sorted(outside)}"


def test_internals_lists_every_file():
    text = (REPO / "docs" / "internals.md").read_text()
    for path in files():
        if path.name != "__init__.py":
            assert path.name in text and f"{path.parent.name}/" in text, path.relative_to(UTILS)
