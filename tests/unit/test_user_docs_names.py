"""The pages a user reads (the README and docs/, but the decision log, the performance history and
the contributor pages) speak of what the user has: no "seed 001" (the source documents the
collection was built from, which a user never sees) and no "issue 12" (the project's tracker)."""

import glob
import os
import re

from conftest import REPO

CONTRIBUTOR_PAGES = {"decisions.md", "performance.md", "internals.md", "lab.md"}
INTERNAL = re.compile(r"\b[Ss]eeds? ?0\d\d\b|\b[Ss]eeds \d+/\d+\b|\bthe seed'?s?\b|\b[Ii]ssue \d+\b")


def _pages():
    yield os.path.join(REPO, "README.md")
    for path in sorted(glob.glob(os.path.join(REPO, "docs", "*.md"))):
        if os.path.basename(path) not in CONTRIBUTOR_PAGES:
            yield path


def test_user_pages_name_no_source_document_or_tracker_issue():
    hits = []
    for path in _pages():
        with open(path) as handle:
            for number, line in enumerate(handle, 1):
                hits += [f"{os.path.relpath(path, REPO)}:{number}: {m.group(0)}" for m in INTERNAL.finditer(line)]
    assert hits == []


def test_the_pattern_finds_the_internal_names_and_not_the_verb():
    assert INTERNAL.search("with seed 001's topology") and INTERNAL.search("(issue 12)")
    assert INTERNAL.search("Seed 000 does it") and INTERNAL.search("the seed's loop")
    assert not INTERNAL.search("which seeds after `rte_eal_init()`")
    assert not INTERNAL.search("0001-main-seed-rte_srand-after-rte_eal_init.patch")
