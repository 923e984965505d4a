"""The DPVS <-> DPDK pairing table (plugins/module_utils/dpvs_conf/pairing.py) and its filter.

The facts are those of issue 12: DPVS v1.10.2 runs unpatched on DPDK 24.11.0 and 24.11.1 (DPVS's
own build script uses 24.11), and on 24.11.2 or later only with the collection's rte_srand patch
(24.11.3 was tested and is the dpdk role's default). The dpdk role's use of the table
(refusal, patches from a DPVS tarball) is tested in tests/integration/test_dpdk_pairing.py.
"""

import os

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_dpdk_pairing import FilterModule, dpvs_dpdk_pairing
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import pairing as P

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RTE_SRAND = "0001-main-seed-rte_srand-after-rte_eal_init.patch"
KEYS = {"known", "dpvs_version", "dpdk_version", "dpdk_patches_dir", "dpvs_patches", "note", "message"}


@pytest.mark.parametrize("dpdk", ["24.11.2", "24.11.3", "24.11.4", "24.11.10"])
def test_1_10_2_on_24_11_2_or_later_needs_the_rte_srand_patch(dpdk):
    got = P.pair("1.10.2", dpdk)
    assert set(got) == KEYS
    assert got["known"] is True
    assert got["dpdk_patches_dir"] == "patch/dpdk-24.11"
    assert got["dpvs_patches"] == [RTE_SRAND]
    assert "random: defer seeding to EAL init" in got["note"]
    assert "24.11.3" in got["note"]  # where it was tested


@pytest.mark.parametrize("dpdk", ["24.11", "24.11.0", "24.11.1"])
def test_1_10_2_on_24_11_0_and_24_11_1_needs_no_dpvs_patch(dpdk):
    got = P.pair("1.10.2", dpdk)
    assert got["known"] is True
    assert got["dpdk_patches_dir"] == "patch/dpdk-24.11"
    assert got["dpvs_patches"] == []
    assert "scripts/dpdk-build.sh" in got["note"]
    assert got["message"].startswith(f"DPVS 1.10.2 with DPDK {dpdk}: known pair")


def test_1_10_2_on_23_11_is_unknown_and_says_what_is_known():
    got = P.pair("1.10.2", "23.11")
    assert got["known"] is False
    assert got["dpdk_patches_dir"] == "" and got["dpvs_patches"] == []
    msg = got["message"]
    assert msg.startswith("DPVS 1.10.2 with DPDK 23.11 is not a known pair")
    # what is known of 1.10.2: both 24.11 ranges with their patch sets
    assert "DPDK >=24.11.0 and <24.11.2 (DPDK patches patch/dpdk-24.11; no DPVS patch)" in msg
    assert f"DPDK >=24.11.2 and <24.12 (DPDK patches patch/dpdk-24.11; {RTE_SRAND})" in msg
    assert "Set dpdk_unpaired_ok: true" in msg


@pytest.mark.parametrize("dpdk", ["24.12.0", "25.03", "23.11.3", "20.11.10"])
def test_1_10_2_outside_24_11_is_unknown(dpdk):
    assert P.pair("1.10.2", dpdk)["known"] is False


def test_unknown_dpvs_version_lists_the_known_ones():
    got = P.pair("1.8.12", "18.11.2")
    assert got["known"] is False
    msg = got["message"]
    assert "DPVS 1.8.12 with DPDK 18.11.2" in msg
    assert "known DPVS versions: 1.10.2, 1.10.1, 1.9.10, 1.9.8, 1.9.6, 1.9.4, 1.9.2, 1.9.0" in msg
    assert "dpdk_unpaired_ok" in msg


def test_override_variable_named_by_the_caller():
    msg = P.pair("1.10.2", "23.11", override_var="dpvs_unpaired_ok")["message"]
    assert "Set dpvs_unpaired_ok: true" in msg and "dpdk_unpaired_ok" not in msg


def test_1_10_1_is_not_paired_with_deferred_seeding():
    """v1.10.1's main.c is v1.10.2's, but the collection ships the rte_srand patch for 1.10.2 only."""
    assert P.pair("1.10.1", "24.11.1")["known"] is True
    got = P.pair("1.10.1", "24.11.4")
    assert got["known"] is False
    assert "use DPVS 1.10.2 for DPDK 24.11.2 or later" in got["message"]


@pytest.mark.parametrize(
    ("dpvs", "dpdk", "folder"),
    [
        ("1.9.10", "20.11.10", "patch/dpdk-stable-20.11.10"),
        ("1.9.8", "20.11.1", "patch/dpdk-stable-20.11.1"),
        ("1.9.6", "20.11.1", "patch/dpdk-stable-20.11.1"),
        ("1.9.0", "20.11.1", "patch/dpdk-stable-20.11.1"),
    ],
)
def test_1_9(dpvs, dpdk, folder):
    got = P.pair(dpvs, dpdk)
    assert got["known"] is True and got["dpdk_patches_dir"] == folder and got["dpvs_patches"] == []


def test_1_9_6_has_no_20_11_10_patches():
    assert P.pair("1.9.6", "20.11.10")["known"] is False


def test_leading_v_and_short_versions():
    assert P.pair("v1.10.2", "v24.11.3")["dpvs_patches"] == [RTE_SRAND]
    assert P.compare("24.11", "24.11.0") == 0
    assert P.compare("24.11.10", "24.11.9") == 1
    assert P.compare("20.11.10", "24.11") == -1


@pytest.mark.parametrize(
    ("dpvs", "dpdk", "error"),
    [
        ("1.10.2", "24.11-rc1", "DPDK version '24.11-rc1': expected a release number of dotted numbers"),
        ("1.10.2", "latest", "DPDK version 'latest'"),
        ("1.10.2", "", "DPDK version ''"),
        ("1.10.2", "24", "DPDK version '24'"),
        ("1.10.2", "24.11.3.1.5", "DPDK version '24.11.3.1.5'"),
        ("1.10.x", "24.11.3", "DPVS version '1.10.x'"),
        (1.1, "24.11.3", 'DPVS version 1.1: expected a string such as "24.11.3" (quote versions in YAML)'),
        ("1.10.2", None, "DPDK version None"),
    ],
)
def test_bad_version_strings_raise_a_clear_value_error(dpvs, dpdk, error):
    with pytest.raises(ValueError) as err:
        P.pair(dpvs, dpdk)
    assert error in str(err.value)


def test_bad_constraint_is_refused():
    with pytest.raises(ValueError, match=r"constraint '~24\.11'"):
        P.satisfies("24.11.3", ["~24.11"])


def test_table_is_consistent():
    """Every DPVS patch named ships in roles/dpvs/files/patches/<dpvs_version>/, every DPDK patch
    folder is one of DPVS's patch/ folders, every entry has a note, and no DPVS version is listed twice."""
    seen = []
    for entry in P.TABLE:
        assert entry["note"]
        seen += entry["dpvs"]
        for known in entry["pairs"]:
            assert known["note"]
            assert known["dpdk_patches_dir"].startswith("patch/dpdk-")
            for constraint in known["dpdk"]:
                P.satisfies("24.11.0", [constraint])  # parses
            for name in known["dpvs_patches"]:
                for version in entry["dpvs"]:
                    assert os.path.isfile(os.path.join(REPO, "roles", "dpvs", "files", "patches", version, name)), (
                        version,
                        name,
                    )
    assert len(seen) == len(set(seen))


def test_filter_returns_the_pairing():
    assert FilterModule().filters()["dpvs_dpdk_pairing"].__wrapped__ is dpvs_dpdk_pairing
    assert dpvs_dpdk_pairing("1.10.2", "24.11.4") == P.pair("1.10.2", "24.11.4")
    assert "Set dpvs_unpaired_ok" in dpvs_dpdk_pairing("1.10.2", "23.11", override_var="dpvs_unpaired_ok")["message"]


def test_filter_turns_a_bad_version_into_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"^dpvs_dpdk_pairing: DPDK version '24.11-rc1'"):
        dpvs_dpdk_pairing("1.10.2", "24.11-rc1")
