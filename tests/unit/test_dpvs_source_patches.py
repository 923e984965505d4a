"""The DPVS source patches the dpvs role ships (roles/dpvs/files/patches/<dpvs_version>/).

0001-main-seed-rte_srand-after-rte_eal_init.patch (DPVS v1.10.2 on DPDK >= 24.11.2) applied with
``patch -p1`` as the role applies it: to a stand-in of DPVS's src/main.c (the patch's context
lines only, tests/unit/dpvs_source_stand_in.py), afterwards rte_srand() comes after
rte_eal_init(); a tree whose lines differ refuses it. The real v1.10.2 tree only with
DPVS_SOURCE_TARBALL (NOT RUN otherwise). The pairing table names only patches that exist, and
every shipped patch is named by it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dpvs_source_stand_in as stand_in
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import pairing

TARBALL = os.environ.get("DPVS_SOURCE_TARBALL", "")


def _patch(tree, patch, *extra):
    return subprocess.run(
        ["patch", "-p1", "--batch", "--forward", "-d", str(tree), "-i", str(patch), *extra],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_patch_is_a_git_format_patch_for_src_main_c():
    text = stand_in.RTE_SRAND_PATCH.read_text()
    assert text.startswith("From ")
    assert "\nSubject: [PATCH] main: seed rte_srand() after rte_eal_init()\n" in text
    assert "random: defer seeding to EAL init" in text
    assert "\ndiff --git a/src/main.c b/src/main.c\n--- a/src/main.c\n+++ b/src/main.c\n" in text
    body = text.split("\n+++ b/src/main.c\n", 1)[1]
    removed = [line for line in body.splitlines() if line.startswith("-") and not line.startswith("-- ")]
    added = [line for line in body.splitlines() if line.startswith("+")]
    assert removed == ["-" + stand_in.RTE_SRAND.rstrip("\n")]
    assert "+" + stand_in.RTE_SRAND.rstrip("\n") in added and len(added) == 3


def test_the_patch_moves_rte_srand_after_rte_eal_init(tmp_path):
    tree = stand_in.write_tree(tmp_path / "dpvs")
    assert not stand_in.srand_after_eal_init((tree / "src" / "main.c").read_text())
    proc = _patch(tree, stand_in.RTE_SRAND_PATCH)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    patched = (tree / "src" / "main.c").read_text()
    assert stand_in.srand_after_eal_init(patched)
    # right after the EAL parameter check, not anywhere later
    lines = patched.splitlines()
    exit_line = lines.index('        rte_exit(EXIT_FAILURE, "Invalid EAL parameters\\n");')
    srand_line = next(i for i, line in enumerate(lines) if "rte_srand(" in line)
    assert exit_line < srand_line <= exit_line + 3
    # the seed is DPVS's own
    assert lines[srand_line] + "\n" == stand_in.RTE_SRAND


def test_the_patch_refuses_a_tree_whose_lines_differ(tmp_path):
    tree = stand_in.write_tree(tmp_path / "dpvs", main_c=stand_in.MAIN_C_OTHER)
    proc = _patch(tree, stand_in.RTE_SRAND_PATCH, "--dry-run")
    assert proc.returncode != 0
    assert "FAILED" in proc.stdout + proc.stderr


def test_every_patch_the_pairing_table_names_is_shipped_and_every_shipped_one_named():
    named = {
        (version, name)
        for entry in pairing.TABLE
        for version in entry["dpvs"]
        for pair in entry["pairs"]
        for name in pair["dpvs_patches"]
    }
    shipped = {(p.parent.name, p.name) for p in stand_in.PATCH_DIR.glob("*/*.patch")}
    assert ("1.10.2", stand_in.RTE_SRAND_PATCH.name) in named
    assert named == shipped
    assert pairing.pair("1.10.2", "24.11.3")["dpvs_patches"] == [stand_in.RTE_SRAND_PATCH.name]


@pytest.mark.skipif(
    not TARBALL,
    reason="the shipped patch on DPVS's real v1.10.2 src/main.c NOT RUN: no DPVS_SOURCE_TARBALL "
    "(DPVS cannot be downloaded here); a skip is not a pass",
)
def test_the_patch_applies_to_the_real_dpvs_tree(tmp_path):
    subprocess.run(
        ["tar", "-xzf", TARBALL, "-C", str(tmp_path), "--strip-components=1", "--wildcards", "*/src/main.c"],
        check=True,
    )
    main_c = Path(tmp_path) / "src" / "main.c"
    assert not stand_in.srand_after_eal_init(main_c.read_text())
    proc = _patch(tmp_path, stand_in.RTE_SRAND_PATCH)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fuzz" not in proc.stdout.lower() and "offset" not in proc.stdout.lower(), proc.stdout
    assert stand_in.srand_after_eal_init(main_c.read_text())
