"""The dpvs role's source build (roles/dpvs/tasks/build.yml) on this machine.

Always: a stand-in tree shaped like DPVS's (tests/unit/dpvs_source_stand_in.py) proves the
role's mechanics: checksum, the DPVS/DPDK pairing check, the collection's patch for the pair
(v1.10.2 on DPDK 24.11.3: rte_srand() after rte_eal_init()) and dpvs_build_patches applied in
order and in the stamp, dpvs_build_cflags reaching DPVS's src/ make (before DPVS's own flags, not
the tools'), config.mk options, prefix, links, stamp, no second build; a changed patch or flag
builds into a new prefix; a failed make reports its first error and the end of build.log; a
patch that does not apply, bad flags and an unknown pair stop with the variable named.

DPVS's source cannot be downloaded here, so the real build runs only with a local tarball:
DPVS_SOURCE_TARBALL=/path/dpvs-1.10.2.tar.gz (DPVS_SOURCE_VERSION, default 1.10.2) and a DPDK
prefix DPVS builds against (DPVS_DPDK_PKG_CONFIG_PATH, default the newest /opt/dpdk/*/lib/pkgconfig,
e.g. from ``make dpdk-build-test`` with a 24.11 tarball for DPVS v1.10; DPVS_DPDK_VERSION, default
24.11.3, its version). Without the tarball the test is SKIPPED and says so: that is not a pass.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "unit"))
import dpvs_source_stand_in as stand_in  # noqa: E402

VENV_BIN = Path(os.environ.get("VENV", REPO / ".venv")) / "bin"
TARBALL = os.environ.get("DPVS_SOURCE_TARBALL", "")
VERSION = os.environ.get("DPVS_SOURCE_VERSION", "1.10.2")
DPDK_VERSION = os.environ.get("DPVS_DPDK_VERSION", "24.11.3")
DEFAULT_CFLAGS = ["-Wno-error=array-bounds", "-Wno-error=deprecated-declarations"]
PATCH_NAME = stand_in.RTE_SRAND_PATCH.name
PATCH_SHA256 = hashlib.sha256(stand_in.RTE_SRAND_PATCH.read_bytes()).hexdigest()

REAL_DPVS = pytest.mark.skipif(
    not TARBALL,
    reason="DPVS source build NOT RUN: no DPVS_SOURCE_TARBALL (DPVS cannot be downloaded here); a skip is not a pass",
)

RECAP = re.compile(r"^localhost\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", re.M)


def _pkg_config_path():
    given = os.environ.get("DPVS_DPDK_PKG_CONFIG_PATH")
    if given:
        return given
    found = sorted(Path("/opt/dpdk").glob("*/lib/pkgconfig/libdpdk.pc"), key=lambda p: p.stat().st_mtime)
    assert found, "no DPDK prefix: run make dpdk-build-test or set DPVS_DPDK_PKG_CONFIG_PATH"
    return str(found[-1].parent)


def _playbook(tmp_path, role_vars, name="dpvs_build.yml"):
    playbook = tmp_path / name
    playbook.write_text(
        f"""---
- name: DPVS build
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The dpvs role's build
      ansible.builtin.include_role:
        name: dpvs.cluster.dpvs
        tasks_from: build
      vars: {json.dumps(role_vars)}
"""
    )
    return playbook


def _ansible(playbook, *args):
    env = dict(
        os.environ,
        LANG="C.UTF-8",
        ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"),
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
    )
    argv = [
        str(VENV_BIN / "ansible-playbook"),
        str(playbook),
        "-e",
        "ansible_python_interpreter=" + str(VENV_BIN / "python"),
        *args,
    ]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=7200, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def _run(playbook, *args):
    rc, out = _ansible(playbook, *args)
    assert rc == 0, out[-6000:]
    recap = RECAP.search(out)
    assert recap, out[-3000:]
    return out, int(recap.group(1))


def _run_fails(playbook):
    rc, out = _ansible(playbook)
    assert rc != 0, out[-3000:]
    return out


def _role_vars(tmp_path, tarball, version="1.10.2", extra=None):
    return {
        "dpvs_version": version,
        "dpvs_build_source_path": str(tarball),
        "dpvs_build_source_sha256": hashlib.sha256(Path(tarball).read_bytes()).hexdigest(),
        "dpvs_build_dpdk_version": DPDK_VERSION,
        "dpvs_build_pkg_config_path": "/opt/dpdk/x/lib/pkgconfig",
        "dpvs_build_dir": str(tmp_path / "work"),
        "dpvs_build_prefix_root": str(tmp_path / "opt"),
        "dpvs_bin_dir": str(tmp_path / "bin"),
        "dpvs_build_max_socket": 1,
        "dpvs_build_install_packages": False,
        "dpvs_build_poll_interval": 1,
        **(extra or {}),
    }


def _build(tmp_path, role_vars, version="1.10.2", again=True):
    """Build, then (again) build again: nothing may change; the stamp of the prefix these inputs name."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    playbook = _playbook(tmp_path, role_vars)
    first, _changed = _run(playbook)
    assert "DPVS 1.10.2 built into" in first or version != "1.10.2", first[-4000:]
    if again:
        second, changed = _run(playbook)
        assert changed == 0, second[-4000:]
        assert "changed: [localhost]" not in second
    prefix = Path(os.readlink(tmp_path / "bin" / "dpvs")).parent.parent
    assert prefix.parent == tmp_path / "opt" and prefix.name.startswith(version + "-")
    return prefix, json.loads((prefix / ".dpvs-cluster-dpvs.json").read_text()), first


def test_build_mechanics_with_a_stand_in_tree(tmp_path):
    tarball = stand_in.tarball(tmp_path)
    role_vars = _role_vars(tmp_path, tarball, extra={"dpvs_build_config": {"CONFIG_PDUMP": "n"}})
    prefix, stamp, first = _build(tmp_path, role_vars)
    assert "DPVS 1.10.2 built into" in first
    assert stamp["config"] == {"CONFIG_DPVS_MAX_SOCKET": "1", "CONFIG_PDUMP": "n"}
    config = (tmp_path / "work" / "src" / "config.mk").read_text()
    assert "export CONFIG_DPVS_MAX_SOCKET=1\n" in config and "export CONFIG_PDUMP=n\n" in config
    assert "export CONFIG_DPVS_MAX_LCORE=64\n" in config
    for name in ["dpvs", "dpip", "ipvsadm", "keepalived"]:
        link = tmp_path / "bin" / name
        assert link.is_symlink() and link.resolve().is_file(), name
    assert (prefix / "bin" / "built-with").read_text().split() == ["1", "/opt/dpdk/x/lib/pkgconfig"]
    # the pair's patch (DPVS 1.10.2 on DPDK 24.11.3), applied and in the identity
    assert stamp["patches"] == [[PATCH_NAME, PATCH_SHA256]]
    assert stand_in.srand_after_eal_init((tmp_path / "work" / "src" / "src" / "main.c").read_text())
    # the default flags reach DPVS's src/ before its own (appended, not replaced), not the tools
    assert stamp["cflags"] == DEFAULT_CFLAGS
    assert (prefix / "bin" / "cflags").read_text().split() == [
        *DEFAULT_CFLAGS,
        "-D",
        "DPVS_MAX_SOCKET=1",
        "-Wall",
        "-Werror",
    ]
    assert (prefix / "bin" / "tools-cflags-env").read_text() == "\n"
    log = (tmp_path / "work" / "build.log").read_text()
    assert "CFLAGS for src/: " + " ".join(DEFAULT_CFLAGS) in log


def test_check_mode_predicts_the_build_and_changes_nothing(tmp_path):
    tarball = stand_in.tarball(tmp_path)
    (tmp_path / "bin").mkdir()
    playbook = _playbook(tmp_path, _role_vars(tmp_path, tarball))
    out, changed = _run(playbook, "--check")
    assert "DPVS 1.10.2 would be built into " + str(tmp_path / "opt" / "1.10.2-") in out
    assert f"(patches: {PATCH_NAME})" in out
    assert changed > 0 and not (tmp_path / "work").exists() and not (tmp_path / "opt").exists()
    _run(playbook)
    out, changed = _run(playbook, "--check")
    assert changed == 0 and "would be built" not in out, out[-3000:]


def test_a_changed_patch_or_flag_builds_a_new_prefix(tmp_path):
    tarball = stand_in.tarball(tmp_path)
    extra_patch = tmp_path / "0100-stand-in-comment.patch"
    extra_patch.write_text(
        "--- a/src/main.c\n+++ b/src/main.c\n@@ -1,2 +1,3 @@\n"
        " /* stand-in for DPVS's src/main.c: the patch's context lines, nothing else of DPVS */\n"
        "+/* dpvs_build_patches was here */\n"
        " int main(int argc, char *argv[])\n"
    )
    flags = ["-O2", "-DSTAND_IN=1", "-march=x86-64"]
    extra = {"dpvs_build_patches": [str(extra_patch)], "dpvs_build_cflags": flags}
    role_vars = _role_vars(tmp_path, tarball, extra=extra)
    first_prefix, stamp, _out = _build(tmp_path, role_vars)
    assert stamp["patches"] == [
        [PATCH_NAME, PATCH_SHA256],
        [extra_patch.name, hashlib.sha256(extra_patch.read_bytes()).hexdigest()],
    ]
    assert stamp["cflags"] == flags
    assert (first_prefix / "bin" / "cflags").read_text().split()[:3] == flags
    main_c = (tmp_path / "work" / "src" / "src" / "main.c").read_text()
    assert "dpvs_build_patches was here" in main_c and stand_in.srand_after_eal_init(main_c)
    # the same patch file changed: another prefix, built again
    extra_patch.write_text(extra_patch.read_text().replace("was here", "was here again"))
    second_prefix, stamp2, _out = _build(tmp_path, role_vars, again=False)
    assert second_prefix != first_prefix and stamp2["patches"][1][1] != stamp["patches"][1][1]
    assert "was here again" in (tmp_path / "work" / "src" / "src" / "main.c").read_text()
    # another flag: another prefix
    role_vars["dpvs_build_cflags"] = ["-O2"]
    third_prefix, stamp3, _out = _build(tmp_path, role_vars, again=False)
    assert third_prefix not in (first_prefix, second_prefix) and stamp3["cflags"] == ["-O2"]


def test_a_failed_make_shows_the_first_error_and_the_end_of_the_log(tmp_path):
    tarball = stand_in.tarball(tmp_path, src_makefile=stand_in.FAILING_SRC_MAKEFILE)
    out = _run_fails(_playbook(tmp_path, _role_vars(tmp_path, tarball)))
    msg = out[out.index("DPVS 1.10.2 did not build") :]
    assert f"full log: {tmp_path / 'work' / 'build.log'}" in msg
    first_error, tail = msg.split("Last 40 lines of build.log:", 1)
    assert "src/ipvs/ip_vs_synproxy.c:216:5: error: 'MD5' is deprecated" in first_error
    # the lines before it that say where it comes from, with their line numbers in build.log, no noise
    found = re.search(r"(\d+): In file included from src/ipvs/ip_vs_synproxy\.c:20:", first_error)
    assert found, first_error
    first = int(found.group(1))
    assert f"{first + 2}:     inlined from 'syn_proxy_cookie' at src/ipvs/ip_vs_synproxy.c:216:5:" in first_error
    assert f"{first + 3}: src/ipvs/ip_vs_synproxy.c:216:5: error:" in first_error
    log = (tmp_path / "work" / "build.log").read_text().splitlines()
    assert log[first - 1] == "In file included from src/ipvs/ip_vs_synproxy.c:20:"  # the number is build.log's
    assert "noise" not in first_error
    assert "the second error" not in first_error
    assert "the last line of the stand-in's output" in tail and "the second error" in tail
    assert "noise 1.o" not in tail
    assert not list((tmp_path / "opt").glob("*/.dpvs-cluster-dpvs.json"))


def test_a_patch_that_does_not_apply_stops_the_build_naming_it(tmp_path):
    tarball = stand_in.tarball(tmp_path, main_c=stand_in.MAIN_C_OTHER)
    out = _run_fails(_playbook(tmp_path, _role_vars(tmp_path, tarball)))
    assert f"DPVS patch {PATCH_NAME} (" in out
    assert "from the pairing table) does not apply to the DPVS 1.10.2 source" in out
    assert "FAILED" in out  # patch's own words
    assert not (tmp_path / "work" / "build.log").exists()


def test_an_unknown_pair_is_refused_before_anything_is_done(tmp_path):
    tarball = stand_in.tarball(tmp_path)
    out = _run_fails(_playbook(tmp_path, _role_vars(tmp_path, tarball, extra={"dpvs_build_dpdk_version": "23.11.1"})))
    assert "DPVS 1.10.2 with DPDK 23.11.1 is not a known pair" in out
    assert "Set dpvs_build_unpaired_ok: true" in out
    assert "24.11.2" in out  # what is known
    assert not (tmp_path / "work").exists()


def test_without_dpvs_build_dpdk_version_the_pair_is_the_dpdk_pkg_config_finds(tmp_path):
    # the inventory need not repeat the DPDK version: the role asks pkg-config what
    # dpvs_build_pkg_config_path holds, and checks that pair
    pkgconfig = tmp_path / "pkgconfig"
    pkgconfig.mkdir()
    (pkgconfig / "libdpdk.pc").write_text("Name: DPDK\nDescription: stand-in\nVersion: 23.11.1\nCflags:\nLibs:\n")
    tarball = stand_in.tarball(tmp_path)
    extra = {"dpvs_build_dpdk_version": "", "dpvs_build_pkg_config_path": str(pkgconfig)}
    out = _run_fails(_playbook(tmp_path, _role_vars(tmp_path, tarball, extra=extra)))
    assert "DPVS 1.10.2 with DPDK 23.11.1 is not a known pair" in out
    assert not (tmp_path / "work").exists()


def test_an_unknown_pair_with_dpvs_build_unpaired_ok_builds_without_the_collections_patches(tmp_path):
    tarball = stand_in.tarball(tmp_path)
    extra = {"dpvs_build_dpdk_version": "23.11.1", "dpvs_build_unpaired_ok": True}
    _prefix, stamp, first = _build(tmp_path, _role_vars(tmp_path, tarball, extra=extra), again=False)
    assert "DPVS 1.10.2 with DPDK 23.11.1 is not a known pair" in first
    assert stamp["patches"] == []
    assert (tmp_path / "work" / "src" / "src" / "main.c").read_text() == stand_in.MAIN_C


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"dpvs_build_cflags": ["-O2 -g", "O3", "-D$(shell id)"]},
            'dpvs_build_cflags: "-O2 -g", "O3", "-D$(shell id)" is not a compiler flag',
        ),
        ({"dpvs_build_cflags": "-O2"}, 'dpvs_build_cflags: "-O2" is not a compiler flag'),
        ({"dpvs_build_patches": "/tmp/x.patch"}, 'dpvs_build_patches: "/tmp/x.patch" is not a path'),
        (
            {"dpvs_build_patches": ["/nonexistent/0100-x.patch"]},
            "dpvs_build_patches: /nonexistent/0100-x.patch not found on the controller",
        ),
        ({"dpvs_build_dpdk_version": ""}, 'dpvs_build_dpdk_version: "" is not a DPDK release'),
        ({"dpvs_build_poll_interval": 0}, "dpvs_build_poll_interval: 0 is not a positive number"),
    ],
)
def test_bad_build_inputs_are_refused_naming_the_variable(tmp_path, extra, expected):
    tarball = stand_in.tarball(tmp_path)
    out = _run_fails(_playbook(tmp_path, _role_vars(tmp_path, tarball, extra=extra)))
    assert expected in out
    assert not (tmp_path / "work").exists()


def test_a_wrong_checksum_stops_before_building(tmp_path):
    tarball = tmp_path / "dpvs.tar.gz"
    tarball.write_bytes(b"not a tarball")
    role_vars = _role_vars(tmp_path, tarball, extra={"dpvs_build_source_sha256": "0" * 64})
    out = _run_fails(_playbook(tmp_path, role_vars, "bad.yml"))
    assert "is not dpvs_build_source_sha256" in out
    assert not (tmp_path / "work" / "build.log").exists()


@REAL_DPVS
def test_real_dpvs_builds_links_and_rebuilds_nothing(tmp_path):
    extra = {"dpvs_build_pkg_config_path": _pkg_config_path(), "dpvs_build_poll_interval": 10}
    del_keys = ["dpvs_build_max_socket"]
    role_vars = {k: v for k, v in _role_vars(tmp_path, TARBALL, VERSION, extra).items() if k not in del_keys}
    prefix, stamp, _first = _build(tmp_path, role_vars, VERSION)
    ver = subprocess.run([str(prefix / "bin" / "dpvs"), "-v"], capture_output=True, text=True, check=False)
    assert "dpvs version: " in ver.stdout + ver.stderr
    assert stamp["config"]["CONFIG_DPVS_MAX_SOCKET"].isdigit()
    assert stamp["cflags"] == DEFAULT_CFLAGS
    if VERSION == "1.10.2":
        assert stamp["patches"] == [[PATCH_NAME, PATCH_SHA256]]
        assert stand_in.srand_after_eal_init((tmp_path / "work" / "src" / "src" / "main.c").read_text())
