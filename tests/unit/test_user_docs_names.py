"""What a user reads speaks of what the user has: no "seed 001" (the source documents the collection
was built from, which a user never sees) and no "issue 12" (the project's tracker). That is the
README and docs/ (but the decision log, the performance history and the contributor pages), and
the content a user copies, runs or reads with ansible-doc: every file under inventories/, roles/
(defaults, vars, tasks, templates, meta, README.md, files) and playbooks/, and galaxy.yml and
meta/runtime.yml. Molecule scenarios and tests/ are contributor material and stay out."""

import glob
import os
import re

from conftest import REPO

CONTRIBUTOR_PAGES = {"decisions.md", "performance.md", "internals.md", "lab.md"}
CONTENT_DIRS = [
    "inventories",
    "roles",
    "playbooks",
    *(f"plugins/{kind}" for kind in ("modules", "filter", "callback", "action", "doc_fragments")),
]
CONTENT_FILES = ["galaxy.yml", os.path.join("meta", "runtime.yml")]
SKIP_DIRS = {"__pycache__"}
INTERNAL = re.compile(r"\b[Ss]eeds? ?0\d\d\b|\b[Ss]eeds \d+/\d+\b|\bthe seed'?s?\b|\b[Ii]ssue \d+\b")


def _pages():
    yield os.path.join(REPO, "README.md")
    for path in sorted(glob.glob(os.path.join(REPO, "docs", "*.md"))):
        if os.path.basename(path) not in CONTRIBUTOR_PAGES:
            yield path


def _content():
    for name in CONTENT_FILES:
        yield os.path.join(REPO, name)
    for top in CONTENT_DIRS:
        for base, dirs, names in os.walk(os.path.join(REPO, top)):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for name in sorted(names):
                yield os.path.join(base, name)


def _scanned():
    return [os.path.relpath(path, REPO) for path in [*_pages(), *_content()]]


def _hits(path):
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
    except UnicodeDecodeError:
        return []  # a binary file
    rel = os.path.relpath(path, REPO)
    return [f"{rel}:{number}: {m.group(0)}" for number, line in enumerate(lines, 1) for m in INTERNAL.finditer(line)]


def test_user_pages_name_no_source_document_or_tracker_issue():
    hits = []
    for path in _pages():
        hits += _hits(path)
    assert hits == []


def test_user_content_names_no_source_document_or_tracker_issue():
    hits = []
    for path in _content():
        hits += _hits(path)
    assert hits == []


def test_the_scan_covers_what_a_user_reads_and_leaves_contributor_material_out():
    scanned = set(_scanned())
    for rel in [
        "README.md",
        "docs/kernel_forwarding.md",
        "inventories/example/hosts.yml",
        "inventories/example/group_vars/dpvs/dpvs.yml",
        "inventories/kernel_lb/hosts.yml",
        "roles/dpvs/defaults/main.yml",
        "roles/kernel_forwarder/README.md",
        "roles/kernel_forwarder/meta/argument_specs.yml",
        "roles/kernel_forwarder/tasks/main.yml",
        "playbooks/site.yml",
        "galaxy.yml",
        "meta/runtime.yml",
    ]:
        assert os.path.join(*rel.split("/")) in scanned, rel
    assert any(rel.endswith(".j2") for rel in scanned)  # role templates
    assert not [rel for rel in scanned if rel.split(os.sep)[0] in {"molecule", "tests"}]
    assert not [rel for rel in scanned if os.path.basename(rel) in CONTRIBUTOR_PAGES]


def test_a_reintroduced_internal_name_fails_the_scan(tmp_path):
    page = tmp_path / "hosts.yml"
    page.write_text("---\n# dpvs1: seed 001's PowerEdge R630\nall: {}\n")
    assert _hits(str(page)) == [f"{os.path.relpath(str(page), REPO)}:2: seed 001"]


def test_the_pattern_finds_the_internal_names_and_not_the_verb():
    assert INTERNAL.search("with seed 001's topology") and INTERNAL.search("(issue 12)")
    assert INTERNAL.search("Seed 000 does it") and INTERNAL.search("the seed's loop")
    assert INTERNAL.search("seeds 000, 002, 003") and INTERNAL.search("In the seed two CPUs")
    assert not INTERNAL.search("which seeds after `rte_eal_init()`")
    assert not INTERNAL.search("0001-main-seed-rte_srand-after-rte_eal_init.patch")
    assert not INTERNAL.search("DPVS issue #575")
