# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which DPDK releases a DPVS release runs on, and the patch sets each pair needs.

Pure Python, no Ansible: the ``dpvs.cluster.dpvs_dpdk_pairing`` filter, the ``dpdk`` role's
preflight (it refuses a pair this table does not know unless ``dpdk_unpaired_ok``) and the
``dpvs`` role (which DPVS patches to apply) read it. Every entry says where it comes from;
nothing is listed that has no source.

Each pair names two patch sets:

* ``dpdk_patches_dir``: the folder of DPVS's source tree whose ``*.patch`` files DPVS applies to
  DPDK (in file-name order), e.g. ``patch/dpdk-24.11``;
* ``dpvs_patches``: the patches the collection applies to DPVS's source for this DPDK, file names
  in ``roles/dpvs/files/patches/<dpvs_version>/``, in the order they apply.

DPVS versions are the releases themselves (tags of iqiyi/dpvs); DPDK versions are ranges of
comparisons on dotted versions (``24.11`` is ``24.11.0``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

OVERRIDE_VAR = "dpdk_unpaired_ok"
TABLE_FILE = "plugins/module_utils/dpvs_conf/pairing.py"
RTE_SRAND_PATCH = "0001-main-seed-rte_srand-after-rte_eal_init.patch"

_VERSION = re.compile(r"^v?([0-9]+(?:\.[0-9]+){1,3})$")
_OPS = {
    "==": lambda c: c == 0,
    ">=": lambda c: c >= 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    "<": lambda c: c < 0,
}
_CONSTRAINT = re.compile(r"^(==|>=|<=|>|<)\s*(\S+)$")

_V1_10_NOTE = (
    "DPVS v1.10.x: README.md 'DPDK setup' recommends dpdk-24.11 and lists v1.10 -> 24.11; "
    "scripts/dpdk-build.sh builds dpdkver=24.11 (24.11.0) with the patches of patch/dpdk-24.11"
)
_V1_10_PATCHES = "patch/dpdk-24.11"
_DEFERRED_SEEDING = (
    "DPDK 24.11.2 'random: defer seeding to EAL init' (DPDK's doc/guides/rel_notes/release_24_11.rst, "
    "24.11.2 Fixes) allocates the per-lcore random state only inside rte_eal_init(), and DPVS's "
    "src/main.c calls rte_srand() before rte_eal_init(): unpatched, DPVS segfaults at start in rte_srand()"
)

# DPVS releases -> note and the DPDK pairs. "dpdk": comparisons, all of which must hold.
TABLE = [
    {
        "dpvs": ["1.10.2"],
        "note": _V1_10_NOTE + ".",
        "pairs": [
            {
                "dpdk": [">=24.11.0", "<24.11.2"],
                "dpdk_patches_dir": _V1_10_PATCHES,
                "dpvs_patches": [],
                "note": (
                    "DPVS's own pairing (scripts/dpdk-build.sh uses 24.11); the deferred seeding came with "
                    "24.11.2 (its release notes), so on 24.11.0 and 24.11.1 DPVS's rte_srand() before "
                    "rte_eal_init() works: no DPVS patch."
                ),
            },
            {
                "dpdk": [">=24.11.2", "<24.12"],
                "dpdk_patches_dir": _V1_10_PATCHES,
                "dpvs_patches": [RTE_SRAND_PATCH],
                "note": (
                    _DEFERRED_SEEDING
                    + ". Tested: v1.10.2 on 24.11.3 starts only with "
                    + RTE_SRAND_PATCH
                    + " (rte_srand() moved after rte_eal_init()), the dpdk role's default; "
                    "later 24.11.x stable releases keep the deferred seeding."
                ),
            },
        ],
    },
    {
        "dpvs": ["1.10.1"],
        "note": (
            _V1_10_NOTE + ". v1.10.1's src/main.c and patch/ are the same as v1.10.2's (git diff v1.10.1 v1.10.2), "
            "so it crashes in rte_srand() on DPDK 24.11.2 or later as v1.10.2 does; the collection ships that fix "
            "for 1.10.2 only: use DPVS 1.10.2 for DPDK 24.11.2 or later."
        ),
        "pairs": [
            {
                "dpdk": [">=24.11.0", "<24.11.2"],
                "dpdk_patches_dir": _V1_10_PATCHES,
                "dpvs_patches": [],
                "note": "DPVS's own pairing (v1.10.1 README.md and scripts/dpdk-build.sh: 24.11); no DPVS patch.",
            },
        ],
    },
    {
        "dpvs": ["1.9.8", "1.9.10"],
        "note": (
            "DPVS v1.9.8 and v1.9.10: README.md recommends dpdk-stable-20.11.10 (lists v1.9 -> 20.11), "
            "scripts/dpdk-build.sh builds dpdkver=20.11.10; src/main.c refuses DPDK before 20.11.1."
        ),
        "pairs": [
            {
                "dpdk": ["==20.11.10"],
                "dpdk_patches_dir": "patch/dpdk-stable-20.11.10",
                "dpvs_patches": [],
                "note": "DPVS's own pairing (commit 5b4e47cb 'patch: add patches of dpdk-stable-20.11.10 ...').",
            },
            {
                "dpdk": ["==20.11.1"],
                "dpdk_patches_dir": "patch/dpdk-stable-20.11.1",
                "dpvs_patches": [],
                "note": (
                    "The tree still ships patch/dpdk-stable-20.11.1, updated alongside 20.11.10's "
                    "(0007-bonding-device-sends-packets-with-user-specified-sal.patch in both)."
                ),
            },
        ],
    },
    {
        "dpvs": ["1.9.0", "1.9.2", "1.9.4", "1.9.6"],
        "note": (
            "DPVS v1.9.0 to v1.9.6: README.md recommends dpdk-stable-20.11.1, scripts/dpdk-build.sh builds "
            "dpdkver=20.11.1, patch/ holds dpdk-stable-20.11.1 only; src/main.c refuses DPDK before 20.11.1."
        ),
        "pairs": [
            {
                "dpdk": ["==20.11.1"],
                "dpdk_patches_dir": "patch/dpdk-stable-20.11.1",
                "dpvs_patches": [],
                "note": "DPVS's own pairing (README.md, scripts/dpdk-build.sh).",
            },
        ],
    },
]


def parse_version(text, what="version"):
    """``"24.11.3"`` -> ``(24, 11, 3, 0)`` (two to four dotted numbers, an optional leading ``v``;
    missing parts are 0). ``ValueError`` naming ``what`` and the value otherwise."""
    if not isinstance(text, str):
        # YAML reads an unquoted 1.10 as the number 1.1
        raise ValueError(f'{what} {text!r}: expected a string such as "24.11.3" (quote versions in YAML)')
    match = _VERSION.match(text.strip())
    if match is None:
        raise ValueError(
            f"{what} {text!r}: expected a release number of dotted numbers such as 24.11.3 or 1.10.2 "
            "(no suffix such as -rc1)"
        )
    parts = [int(part) for part in match.group(1).split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


def compare(left, right):
    """-1, 0 or 1 as dotted version ``left`` is lower than, equal to or higher than ``right``."""
    a, b = parse_version(left), parse_version(right)
    return (a > b) - (a < b)


def satisfies(version, constraints):
    """Whether ``version`` meets every comparison of ``constraints`` (e.g. ``[">=24.11.2", "<24.12"]``)."""
    for constraint in constraints:
        match = _CONSTRAINT.match(constraint)
        if match is None:
            raise ValueError(f"constraint {constraint!r}: expected an operator (==, >=, >, <=, <) and a version")
        if not _OPS[match.group(1)](compare(version, match.group(2))):
            return False
    return True


def describe(constraints):
    """``[">=24.11.2", "<24.12"]`` -> ``">=24.11.2 and <24.12"``; ``["==20.11.1"]`` -> ``"20.11.1"``."""
    if len(constraints) == 1 and constraints[0].startswith("=="):
        return constraints[0][2:]
    return " and ".join(constraints)


def _entry(dpvs_version):
    wanted = parse_version(dpvs_version, "DPVS version")
    for entry in TABLE:
        if any(parse_version(known) == wanted for known in entry["dpvs"]):
            return entry
    return None


def known_dpvs_versions():
    """Every DPVS release of the table, highest first."""
    versions = [known for entry in TABLE for known in entry["dpvs"]]
    return sorted(versions, key=parse_version, reverse=True)


def _pair_text(pair):
    patches = ", ".join(pair["dpvs_patches"]) if pair["dpvs_patches"] else "no DPVS patch"
    return f"DPDK {describe(pair['dpdk'])} (DPDK patches {pair['dpdk_patches_dir']}; {patches})"


def pair(dpvs_version, dpdk_version, override_var=OVERRIDE_VAR):
    """What the table knows of DPVS ``dpvs_version`` on DPDK ``dpdk_version``.

    Returns ``{known, dpvs_version, dpdk_version, dpdk_patches_dir, dpvs_patches, note, message}``:
    for a known pair the folder of DPVS's tree with DPVS's DPDK patches, the collection's DPVS
    patches (file names in order), the pair's source note and a one-line message; for an unknown
    pair ``dpdk_patches_dir`` is ``""``, ``dpvs_patches`` ``[]`` and ``message`` names both
    versions, what the table knows of that DPVS version (or the DPVS versions it knows) and
    ``override_var``. ``ValueError`` when a version is not a dotted release number.
    """
    parse_version(dpdk_version, "DPDK version")
    entry = _entry(dpvs_version)
    result = {
        "known": False,
        "dpvs_version": str(dpvs_version),
        "dpdk_version": str(dpdk_version),
        "dpdk_patches_dir": "",
        "dpvs_patches": [],
        "note": entry["note"] if entry else "",
    }
    head = f"DPVS {dpvs_version} with DPDK {dpdk_version}"
    override = f"Set {override_var}: true to use this pair anyway (untested: DPVS may not build or start)"
    if entry is None:
        result["message"] = (
            f"{head}: DPVS {dpvs_version} is not in the collection's DPVS/DPDK pairing table ({TABLE_FILE}); "
            f"known DPVS versions: {', '.join(known_dpvs_versions())}; {override}"
        )
        return result
    for known in entry["pairs"]:
        if satisfies(dpdk_version, known["dpdk"]):
            result.update(
                known=True,
                dpdk_patches_dir=known["dpdk_patches_dir"],
                dpvs_patches=list(known["dpvs_patches"]),
                note=known["note"],
                message=f"{head}: known pair, {_pair_text(known)}",
            )
            return result
    result["message"] = (
        f"{head} is not a known pair ({TABLE_FILE}): DPVS {dpvs_version} is known to run on "
        f"{'; '.join(_pair_text(known) for known in entry['pairs'])}. {entry['note']} {override}"
    )
    return result
