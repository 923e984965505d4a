"""The dpvs role's source build (roles/dpvs/tasks/build.yml) on this machine.

DPVS's source cannot be downloaded here, so this runs only with a local tarball:
DPVS_SOURCE_TARBALL=/path/dpvs-1.10.2.tar.gz (DPVS_SOURCE_VERSION, default 1.10.2) and a DPDK
prefix DPVS builds against (DPVS_DPDK_PKG_CONFIG_PATH, default the newest /opt/dpdk/*/lib/pkgconfig,
e.g. from ``make dpdk-build-test`` with a 24.11 tarball for DPVS v1.10). Without the tarball the
test is SKIPPED and says so: that is not a pass.
"""

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(os.environ.get("VENV", REPO / ".venv")) / "bin"
TARBALL = os.environ.get("DPVS_SOURCE_TARBALL", "")
VERSION = os.environ.get("DPVS_SOURCE_VERSION", "1.10.2")

REAL_DPVS = pytest.mark.skipif(
    not TARBALL,
    reason="DPVS source build NOT RUN: no DPVS_SOURCE_TARBALL (DPVS cannot be downloaded here); a skip is not a pass",
)

# A stand-in for DPVS's tree: the config.mk and Makefile interface the role relies on (make,
# make install INSDIR=..., bin/dpvs -v on stderr as v1.10.2 prints it). It proves the role's
# mechanics (checksum, config.mk options, prefix, links, stamp, no second build), not DPVS.
STAND_IN_MAKEFILE = """\
include config.mk
all:
\tmkdir -p out
\tprintf '#!/bin/sh\\necho "dpvs version: 1.10-2, build on stand-in" >&2\\n' > out/dpvs
\tfor t in dpip ipvsadm keepalived; do printf '#!/bin/sh\\n' > out/$$t; done
\techo "$(CONFIG_DPVS_MAX_SOCKET) $$PKG_CONFIG_PATH" > out/built-with
install: all
\tmkdir -p $(INSDIR)
\tinstall -m 0755 out/dpvs out/dpip out/ipvsadm out/keepalived $(INSDIR)/
\tcp out/built-with $(INSDIR)/
"""
STAND_IN_CONFIG = "# configs\nexport CONFIG_DPVS_MAX_SOCKET=2\nexport CONFIG_DPVS_MAX_LCORE=64\nexport CONFIG_PDUMP=y\n"

RECAP = re.compile(r"^localhost\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", re.M)


def _pkg_config_path():
    given = os.environ.get("DPVS_DPDK_PKG_CONFIG_PATH")
    if given:
        return given
    found = sorted(Path("/opt/dpdk").glob("*/lib/pkgconfig/libdpdk.pc"), key=lambda p: p.stat().st_mtime)
    assert found, "no DPDK prefix: run make dpdk-build-test or set DPVS_DPDK_PKG_CONFIG_PATH"
    return str(found[-1].parent)


def _run(playbook):
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
    ]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=7200, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    recap = RECAP.search(out)
    assert recap, out[-3000:]
    return out, int(recap.group(1))


def _build(tmp_path, tarball, version, pkg_config_path, extra=None):
    sha256 = hashlib.sha256(Path(tarball).read_bytes()).hexdigest()
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    role_vars = {
        "dpvs_version": version,
        "dpvs_build_source_path": str(tarball),
        "dpvs_build_source_sha256": sha256,
        "dpvs_build_pkg_config_path": pkg_config_path,
        "dpvs_build_dir": str(tmp_path / "work"),
        "dpvs_build_prefix_root": str(tmp_path / "opt"),
        "dpvs_bin_dir": str(bindir),
        **(extra or {}),
    }
    playbook = tmp_path / "dpvs_build.yml"
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
    first, _changed = _run(playbook)
    second, changed = _run(playbook)
    assert changed == 0, second[-4000:]
    assert "changed: [localhost]" not in second
    stamps = list((tmp_path / "opt").glob(f"{version}-*/.dpvs-cluster-dpvs.json"))
    assert len(stamps) == 1
    return bindir, json.loads(stamps[0].read_text()), first


def test_build_mechanics_with_a_stand_in_tree(tmp_path):
    tree = tmp_path / "dpvs-1.10.2"
    tree.mkdir()
    (tree / "Makefile").write_text(STAND_IN_MAKEFILE)
    (tree / "config.mk").write_text(STAND_IN_CONFIG)
    tarball = tmp_path / "dpvs-1.10.2.tar.gz"
    subprocess.run(["tar", "-C", str(tmp_path), "-czf", str(tarball), tree.name], check=True)
    bindir, stamp, first = _build(
        tmp_path,
        tarball,
        "1.10.2",
        "/opt/dpdk/x/lib/pkgconfig",
        {"dpvs_build_max_socket": 1, "dpvs_build_config": {"CONFIG_PDUMP": "n"}, "dpvs_build_install_packages": False},
    )
    assert "DPVS 1.10.2 built into" in first
    assert stamp["config"] == {"CONFIG_DPVS_MAX_SOCKET": "1", "CONFIG_PDUMP": "n"}
    config = (tmp_path / "work" / "src" / "config.mk").read_text()
    assert "export CONFIG_DPVS_MAX_SOCKET=1\n" in config and "export CONFIG_PDUMP=n\n" in config
    assert "export CONFIG_DPVS_MAX_LCORE=64\n" in config
    for name in ["dpvs", "dpip", "ipvsadm", "keepalived"]:
        assert (bindir / name).is_symlink() and (bindir / name).resolve().is_file(), name
    built_with = (bindir / "dpvs").resolve().parent / "built-with"
    assert built_with.read_text().split() == ["1", "/opt/dpdk/x/lib/pkgconfig"]


def test_a_wrong_checksum_stops_before_building(tmp_path):
    tarball = tmp_path / "dpvs.tar.gz"
    tarball.write_bytes(b"not a tarball")
    playbook = tmp_path / "bad.yml"
    role_vars = {
        "dpvs_build_source_path": str(tarball),
        "dpvs_build_source_sha256": "0" * 64,
        "dpvs_build_dir": str(tmp_path / "work"),
        "dpvs_build_prefix_root": str(tmp_path / "opt"),
        "dpvs_build_install_packages": False,
        "dpvs_build_max_socket": 1,
    }
    playbook.write_text(
        "---\n- name: Bad\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: Build\n      ansible.builtin.include_role:\n        name: dpvs.cluster.dpvs\n"
        f"        tasks_from: build\n      vars: {json.dumps(role_vars)}\n"
    )
    env = dict(os.environ, LANG="C.UTF-8", ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"))
    argv = [
        str(VENV_BIN / "ansible-playbook"),
        str(playbook),
        "-e",
        "ansible_python_interpreter=" + str(VENV_BIN / "python"),
    ]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode != 0
    assert "is not dpvs_build_source_sha256" in proc.stdout
    assert not (tmp_path / "work" / "build.log").exists()


@REAL_DPVS
def test_real_dpvs_builds_links_and_rebuilds_nothing(tmp_path):
    bindir, stamp, _first = _build(tmp_path, TARBALL, VERSION, _pkg_config_path())
    ver = subprocess.run([str(bindir / "dpvs"), "-v"], capture_output=True, text=True, check=False)
    assert "dpvs version: " in ver.stdout + ver.stderr
    assert stamp["config"]["CONFIG_DPVS_MAX_SOCKET"].isdigit()
