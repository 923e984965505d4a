"""The dpdk role with the DPVS <-> DPDK pairing table: the refusal of an unknown pair, and DPVS's
DPDK patches taken from a DPVS source tarball (dpdk_dpvs_source_path).

Nothing here compiles DPDK. The refusal stops in the preflight. The tarball path runs the whole
role on the controller with two stand-ins built by the test: a DPVS source tarball holding only
``patch/dpdk-24.11/`` (the two fixture patches of tests/fixtures/dpdk-patches, which create and
extend a text file), and a "DPDK" tarball that is a meson project accepting the role's meson
options and installing that text file: the build passes only when both patches were applied, in
order, to the source tree the role builds, so the installed file proves where they landed.
"""

import hashlib
import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(os.environ.get("VENV", REPO / ".venv")) / "bin"
FIXTURE_PATCHES = REPO / "tests" / "fixtures" / "dpdk-patches"
PATCH_NAMES = sorted(p.name for p in FIXTURE_PATCHES.glob("*.patch"))
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
NOTE = "dpvs-cluster-build-note.txt"

# a meson project that takes the options the role passes for DPDK >= 22.11 with dpdk_drivers_all
# and dpdk_apps [], and installs the file the fixture patches write
FAKE_MESON_BUILD = f"project('fake-dpdk', version: '24.11.3')\ninstall_data('{NOTE}', install_dir: 'share/fake-dpdk')\n"
FAKE_MESON_OPTIONS = """\
option('tests', type: 'boolean', value: true)
option('enable_docs', type: 'boolean', value: false)
option('examples', type: 'string', value: '')
option('enable_kmods', type: 'boolean', value: false)
option('enable_apps', type: 'string', value: '')
option('disable_apps', type: 'string', value: '')
option('cpu_instruction_set', type: 'string', value: 'auto')
"""


def _tarball(path, top, files):
    """A .tar.gz at ``path`` with ``files`` ({relative path: text}) below the directory ``top``."""
    src = path.parent / (path.name + ".d") / top
    for rel, text in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src, arcname=top)
    return path


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _fixture_patches(folder):
    return {f"{folder}/{name}": (FIXTURE_PATCHES / name).read_text() for name in PATCH_NAMES}


def _role_vars(tmp_path, **extra):
    fake_dpdk = _tarball(
        tmp_path / "fake-dpdk-24.11.3.tar.gz",
        "dpdk-stable-24.11.3",
        {"meson.build": FAKE_MESON_BUILD, "meson_options.txt": FAKE_MESON_OPTIONS},
    )
    role_vars = {
        "dpdk_version": "24.11.3",
        "dpdk_source_url": "",
        "dpdk_source_path": str(fake_dpdk),
        "dpdk_source_sha256": _sha256(fake_dpdk),
        "dpdk_drivers_all": True,
        "dpdk_apps": [],
        "dpdk_build_host": "localhost",
        "dpdk_build_dir": str(tmp_path / "work"),
        "dpdk_prefix_root": str(tmp_path / "opt"),
        "dpdk_prefix_link": "",
        "dpdk_ldconfig": False,
        "dpdk_profile_script": "",
        "dpdk_install_packages": False,
        "dpdk_build_poll_interval": 1,
        "dpdk_controller_cache": str(tmp_path / "cache"),
    }
    role_vars.update(extra)
    return role_vars


def _run(tmp_path, role_vars, hosts="localhost", inventory=None, tags=None, name="pairing"):
    playbook = tmp_path / f"{name}.yml"
    playbook.write_text(f"""---
- name: The dpdk role and the pairing table
  hosts: {hosts}
  gather_facts: false
  tasks:
    - name: The dpdk role
      ansible.builtin.import_role:
        name: dpvs.cluster.dpdk
      vars: {json.dumps(role_vars)}
""")
    env = dict(
        os.environ,
        LANG="C.UTF-8",
        ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"),
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        ANSIBLE_FORCE_COLOR="0",
    )
    argv = [str(VENV_BIN / "ansible-playbook"), str(playbook)]
    if inventory:
        argv += ["-i", str(inventory)]
    argv += ["-e", "ansible_python_interpreter=" + str(VENV_BIN / "python")]
    if tags:
        argv += ["--tags", tags]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    out = proc.stdout + proc.stderr
    recap = {m.group(1): {"changed": int(m.group(3)), "failed": int(m.group(5))} for m in RECAP.finditer(out)}
    return proc.returncode, " ".join(out.split()), recap, out


# --- the refusal -----------------------------------------------------------------------------


def test_unknown_pair_is_refused_with_both_versions_and_what_is_known(tmp_path):
    rc, flat, _recap, out = _run(tmp_path, _role_vars(tmp_path, dpvs_version="1.10.2", dpdk_version="23.11.0"))
    assert rc == 2, out[-3000:]
    assert "DPVS 1.10.2 with DPDK 23.11.0 is not a known pair" in flat, out[-3000:]
    assert "DPDK >=24.11.2 and <24.12 (DPDK patches patch/dpdk-24.11; 0001-main-seed-rte_srand" in flat
    assert "Set dpdk_unpaired_ok: true" in flat
    assert "changed: [localhost]" not in out
    assert not (tmp_path / "work").exists() and not (tmp_path / "opt").exists()


def test_unknown_pair_passes_the_preflight_with_dpdk_unpaired_ok(tmp_path):
    role_vars = _role_vars(tmp_path, dpvs_version="1.10.2", dpdk_version="23.11.0", dpdk_unpaired_ok=True)
    rc, _flat, recap, out = _run(tmp_path, role_vars, tags="preflight")
    assert rc == 0, out[-3000:]
    assert recap["localhost"]["failed"] == 0
    assert "the DPVS/DPDK pair is one the collection knows" in out


def test_known_pair_passes_the_preflight(tmp_path):
    rc, _flat, recap, out = _run(tmp_path, _role_vars(tmp_path, dpvs_version="1.10.2"), tags="preflight")
    assert rc == 0, out[-3000:]
    assert recap["localhost"]["failed"] == 0


def test_the_dpvs_version_of_another_host_of_the_play_counts(tmp_path):
    """The role runs on hosts of the DPVS group: a host without dpvs_version is refused for the
    other host's DPVS (one DPDK build serves the whole play)."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[dpvs]\nlb1 ansible_connection=local dpvs_version=1.9.10\nlb2 ansible_connection=local\n")
    rc, flat, recap, out = _run(tmp_path, _role_vars(tmp_path), hosts="dpvs", inventory=inventory)
    assert rc == 2, out[-3000:]
    assert recap["lb1"]["failed"] == 1 and recap["lb2"]["failed"] == 1, out[-3000:]
    assert "DPVS 1.9.10 with DPDK 24.11.3 is not a known pair" in flat
    assert "DPVS 1.9.10 is known to run on DPDK 20.11.10 (DPDK patches patch/dpdk-stable-20.11.10" in flat


def test_a_dpvs_node_without_dpvs_version_counts_as_the_dpvs_roles_default(tmp_path):
    """Most inventories leave dpvs_version to the dpvs role's default: the pair is still checked."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[dpvs]\nlb1 ansible_connection=local\n")
    role_vars = _role_vars(tmp_path, dpdk_version="23.11.0")
    rc, flat, _recap, out = _run(tmp_path, role_vars, hosts="dpvs", inventory=inventory)
    assert rc == 2, out[-3000:]
    assert "DPVS 1.10.2 with DPDK 23.11.0 is not a known pair" in flat, out[-3000:]


def test_bad_dpvs_version_is_a_clear_error(tmp_path):
    rc, flat, _recap, out = _run(tmp_path, _role_vars(tmp_path, dpvs_version="1.10-2"))
    assert rc == 2, out[-3000:]
    assert "dpvs_dpdk_pairing: DPVS version '1.10-2': expected a release number of dotted numbers" in flat, out[-3000:]


# --- DPVS's DPDK patches from the DPVS source tarball ----------------------------------------


def _stamps(tmp_path):
    return sorted((tmp_path / "opt").glob("24.11.3-*/.dpvs-cluster-dpdk.json"))


def test_patches_from_the_dpvs_tarball_are_applied_in_order_and_in_the_identity(tmp_path):
    dpvs = _tarball(tmp_path / "dpvs-1.10.2.tar.gz", "dpvs-1.10.2", _fixture_patches("patch/dpdk-24.11"))
    role_vars = _role_vars(tmp_path, dpvs_version="1.10.2", dpdk_dpvs_source_path=str(dpvs))
    rc, _flat, recap, out = _run(tmp_path, role_vars)
    assert rc == 0, out[-5000:]
    assert recap["localhost"]["failed"] == 0

    # extracted once per tarball, into the build dir, and applied from there
    extracted = tmp_path / "work" / "dpvs-patches" / _sha256(dpvs)[:12] / "patch" / "dpdk-24.11"
    assert sorted(p.name for p in extracted.iterdir()) == PATCH_NAMES
    for name in PATCH_NAMES:
        assert (extracted / name).read_bytes() == (FIXTURE_PATCHES / name).read_bytes()
    assert not list((tmp_path / "work" / "dpvs-patches").glob("*/patch/dpdk-24.11.part"))

    # the stand-in DPDK built and installed the file both patches wrote, 0001 then 0002
    stamps = _stamps(tmp_path)
    assert len(stamps) == 1
    prefix = stamps[0].parent
    assert (prefix / "share" / "fake-dpdk" / NOTE).read_text().splitlines() == [
        "patched by dpvs.cluster: 0001",
        "patched by dpvs.cluster: 0002",
    ]
    stamp = json.loads(stamps[0].read_text())
    assert stamp["patches"] == [[name, _sha256(FIXTURE_PATCHES / name)] for name in PATCH_NAMES]

    # a second run extracts and builds nothing
    rc, _flat, recap, out = _run(tmp_path, role_vars, name="again")
    assert rc == 0, out[-5000:]
    assert recap["localhost"] == {"changed": 0, "failed": 0}, out[-5000:]

    # the same patches from a folder (dpdk_patches_dir wins over the tarball) are the same build
    rc, _flat, recap, out = _run(tmp_path, dict(role_vars, dpdk_patches_dir=str(FIXTURE_PATCHES)), name="dir")
    assert rc == 0, out[-5000:]
    assert recap["localhost"] == {"changed": 0, "failed": 0}, out[-5000:]
    assert _stamps(tmp_path) == stamps


def test_dpvs_tarball_without_the_pairing_folder_is_a_clear_error(tmp_path):
    # a v1.9-shaped tree: patch/dpdk-stable-20.11.10, no patch/dpdk-24.11
    dpvs = _tarball(tmp_path / "dpvs-1.9.10.tar.gz", "dpvs-1.9.10", _fixture_patches("patch/dpdk-stable-20.11.10"))
    role_vars = _role_vars(tmp_path, dpvs_version="1.10.2", dpdk_dpvs_source_path=str(dpvs))
    rc, flat, _recap, out = _run(tmp_path, role_vars)
    assert rc == 2, out[-3000:]
    assert (
        f"dpdk_dpvs_source_path: {dpvs} has no patch/dpdk-24.11/*.patch below its top directory, the folder of "
        "DPVS's patches for DPDK 24.11.3 (DPVS 1.10.2): is it a DPVS source tarball of that version?"
    ) in flat, out[-3000:]
    assert "Not found in archive" in flat
    assert not (tmp_path / "opt").exists()
    assert not list((tmp_path / "work" / "dpvs-patches").glob("*/patch/dpdk-24.11"))


def test_dpvs_tarball_missing_on_the_build_host(tmp_path):
    role_vars = _role_vars(tmp_path, dpvs_version="1.10.2", dpdk_dpvs_source_path=str(tmp_path / "nope.tar.gz"))
    rc, flat, _recap, out = _run(tmp_path, role_vars)
    assert rc == 2, out[-3000:]
    assert f"dpdk_dpvs_source_path: {tmp_path / 'nope.tar.gz'} (default: dpvs_build_source_path) is not a file" in flat


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "no host of the play defines dpvs_version: the role cannot tell which patch folder"),
        (
            {"dpvs_version": "1.10.2", "dpdk_version": "23.11.0", "dpdk_unpaired_ok": True},
            "the pairing table knows no DPDK patch folder for DPVS 1.10.2 with DPDK 23.11.0; set dpdk_patches_dir",
        ),
    ],
)
def test_dpvs_tarball_without_a_pairing_folder_is_refused_in_the_preflight(tmp_path, extra, message):
    dpvs = _tarball(tmp_path / "dpvs-1.10.2.tar.gz", "dpvs-1.10.2", _fixture_patches("patch/dpdk-24.11"))
    role_vars = _role_vars(tmp_path, dpdk_dpvs_source_path=str(dpvs), **extra)
    rc, flat, _recap, out = _run(tmp_path, role_vars)
    assert rc == 2, out[-3000:]
    assert message in flat, out[-3000:]
    assert not (tmp_path / "work").exists()


def test_dpvs_build_source_path_is_the_default(tmp_path):
    """dpdk_dpvs_source_path defaults to the dpvs role's dpvs_build_source_path."""
    dpvs = tmp_path / "absent-dpvs.tar.gz"
    role_vars = _role_vars(tmp_path, dpvs_version="1.10.2", dpvs_build_source_path=str(dpvs))
    rc, flat, _recap, out = _run(tmp_path, role_vars)
    assert rc == 2, out[-3000:]
    assert f"dpdk_dpvs_source_path: {dpvs} (default: dpvs_build_source_path) is not a file" in flat, out[-3000:]
