"""No hidden dependency on the machine the collection was written on: the tests, docs, Makefile,
CI script, tools, benchmarks and collection content name no absolute path of a developer's or a
CI machine's tree (a home, a work folder, a venv outside the checkout, a scratch folder the run
does not create). Paths the run creates (/var/tmp/dpvs-cluster-*, $TMPDIR, build/) and paths on
the managed hosts (/etc/dpvs, /opt/dpdk, ...) are fine."""

import os
import re

import pytest
from conftest import REPO

WHERE = ["tests", "docs", "benchmarks", "tools", "molecule", "playbooks", "roles", "inventories", "plugins",
         "meta", "changelogs", ".ci", "Makefile", "README.md", "galaxy.yml", "requirements.txt"]  # fmt: skip
SKIP_DIRS = {"dpvs-transcripts", "__pycache__", "output"}  # the transcripts are the real daemon's output
MACHINE_PATH = re.compile(
    r"(?<![\w.$}])("
    r"/work/|/home/[a-z]|/Users/|/root/|/opt/dpvs-venv|/opt/pypi|/opt/wheels"
    r"|/var/tmp/(?!dpvs-cluster-)[\w.-]+"
    r")"
)


def _files():
    for entry in WHERE:
        top = os.path.join(REPO, entry)
        if os.path.isfile(top):
            yield top
        for base, dirs, names in os.walk(top):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            for name in names:
                yield os.path.join(base, name)


def _hits():
    hits = []
    for path in _files():
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.readlines()
        except (UnicodeDecodeError, OSError):
            continue  # binary files
        rel = os.path.relpath(path, REPO)
        if rel == os.path.join("tests", "unit", "test_no_machine_paths.py"):
            continue
        hits += [f"{rel}:{number}: {line.strip()}" for number, line in enumerate(lines, 1) if MACHINE_PATH.search(line)]
    return hits


def test_nothing_names_a_path_of_the_machine_it_was_written_on():
    assert _hits() == []


@pytest.mark.parametrize(
    ("line", "machine"),
    [
        ('LOCK = "/work/notes/lab.lock"', True),
        ("python=/opt/dpvs-venv/bin/python", True),
        ("see /root/notes.md", True),
        ("tail -f /var/tmp/scratch.log", True),
        ("tail -f /var/tmp/dpvs-cluster-dpdk/build.log", False),
        ('install -d "$root/root/.ssh"', False),
        ("dpvs_bin_dir: /opt/dpvs/bin", False),
        ("DPVS_EMULATOR_STATE=$TMPDIR/state.json", False),
    ],
)
def test_the_pattern_tells_a_machine_path_from_a_host_or_run_path(line, machine):
    assert bool(MACHINE_PATH.search(line)) is machine
