"""The dpdk role's source build for real: a targeted build on the controller, its idempotent
re-run, and the copy of the artifact to two lab VMs.

The build tests are slow (minutes of compiling), so they run only when asked: ``make dpdk-build-test`` sets
DPVS_DPDK_BUILD_TEST=1 (and DPVS_DPDK_LAB_TEST=1 for the copy to the lab VMs, which must be up).
Without those variables they are SKIPPED, which is not a pass; the bad-input tests always run.

The tarball: DPDK 24.11.3, the version DPVS v1.10 builds on, from the Debian source package
dpdk 24.11.3-1 (the orig tarball, i.e. upstream's release). Debian's own pool no longer serves
it (trixie moved to 24.11.4, whose orig tarball answers HTTP 404 on this project's network), so
it is fetched from Ubuntu's archive, which carries the same Debian source package (questing:
24.11.3-1); the sha256 is the one in that archive's signed Sources index. DPDK_TEST_TARBALL (a
local path), DPDK_TEST_SHA256 and DPDK_TEST_VERSION select another one; DPDK_TEST_PATCHES_DIR a
patch directory other than the two fixture patches (DPVS's patch/dpdk-24.11 when at hand).
"""

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(os.environ.get("VENV", REPO / ".venv")) / "bin"
FIXTURE_PATCHES = REPO / "tests" / "fixtures" / "dpdk-patches"
# DPVS's own patch directory (e.g. <dpvs source>/patch/dpdk-24.11) when one is at hand; CI has no
# DPVS source and applies the two fixture patches through the same mechanism.
PATCHES = Path(os.environ.get("DPDK_TEST_PATCHES_DIR") or FIXTURE_PATCHES)
PATCH_NAMES = sorted(p.name for p in PATCHES.glob("*.patch"))  # the role applies them in this order
# one lab user at a time on a machine (flock on this file; the run creates it)
LAB_LOCK = os.environ.get("DPVS_LAB_LOCK", os.path.join(tempfile.gettempdir(), "dpvs-cluster-lab.lock"))

SOURCE_POOL = "http://archive.ubuntu.com/ubuntu/pool/main/d/dpdk/"
DEFAULT_VERSION = "24.11.3"
DEFAULT_URL = SOURCE_POOL + "dpdk_24.11.3.orig.tar.xz"
DEFAULT_SHA256 = "d5ae4cfaef05d6aa491af643d61b83d840e53ced96f9c9f60fda986313ed84b2"

VERSION = os.environ.get("DPDK_TEST_VERSION", DEFAULT_VERSION)
TARBALL = os.environ.get("DPDK_TEST_TARBALL", "")
SHA256 = os.environ.get("DPDK_TEST_SHA256", DEFAULT_SHA256 if not TARBALL else "")
BUILD_DIR = os.environ.get("DPDK_TEST_BUILD_DIR", "/var/tmp/dpvs-cluster-dpdk")
PREFIX_ROOT = "/opt/dpdk"
# the lab's NICs; DPDK_TEST_DRIVERS (comma separated) adds others, e.g. net/ixgbe, which one of
# DPVS's 24.11 patches changes
DRIVERS = ["net/virtio", "net/e1000"] + [d for d in os.environ.get("DPDK_TEST_DRIVERS", "").split(",") if d]

BUILD_TEST = pytest.mark.skipif(
    os.environ.get("DPVS_DPDK_BUILD_TEST") != "1",
    reason="DPDK source build NOT RUN: set DPVS_DPDK_BUILD_TEST=1 (make dpdk-build-test); a skip is not a pass",
)

ROLE_VARS = {
    "dpdk_version": VERSION,
    "dpdk_source_url": "" if TARBALL else DEFAULT_URL,
    "dpdk_source_path": TARBALL,
    "dpdk_source_sha256": SHA256,
    "dpdk_patches_dir": str(PATCHES),
    "dpdk_drivers": DRIVERS,
    "dpdk_build_host": "localhost",
    "dpdk_build_dir": BUILD_DIR,
    "dpdk_prefix_root": PREFIX_ROOT,
    "dpdk_build_poll_interval": 15,
}

RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def _playbook(tmp_path, name, hosts, role_vars, extra_tasks=""):
    # the controller keeps its linker path and profile: the build host only builds here
    text = f"""---
- name: {name}
  hosts: {hosts}
  gather_facts: false
  tasks:
    - name: The dpdk role
      ansible.builtin.include_role:
        name: dpvs.cluster.dpdk
      vars: {json.dumps(role_vars)}
{extra_tasks}"""
    path = tmp_path / f"{name.replace(' ', '_')}.yml"
    path.write_text(text)
    return path


def _run(playbook, inventory=None, lock=False, timeout=7200):
    env = dict(os.environ)
    env.update(
        LANG="C.UTF-8",
        ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"),
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
        ANSIBLE_FORCE_COLOR="0",
    )
    argv = [str(VENV_BIN / "ansible-playbook"), str(playbook)]
    if inventory:
        argv += ["-i", str(inventory)]
    else:
        argv += ["-e", "ansible_python_interpreter=" + str(VENV_BIN / "python")]
    if lock:
        argv = ["flock", LAB_LOCK, *argv]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    recap = {m.group(1): {"changed": int(m.group(3)), "failed": int(m.group(5))} for m in RECAP.finditer(out)}
    assert recap, out[-3000:]
    return out, recap


def _stamp_prefix():
    """The prefix of THIS test's build: other builds of the same version (another patch set or
    driver list) may sit beside it under PREFIX_ROOT."""
    ours = []
    for path in Path(PREFIX_ROOT).glob(f"{VERSION}-*/.dpvs-cluster-dpdk.json"):
        stamp = json.loads(path.read_text())
        names = [patch[0] for patch in stamp.get("patches", [])]
        if names == PATCH_NAMES and set(DRIVERS) <= set(stamp.get("drivers", [])):
            ours.append((path.stat().st_mtime, path, stamp))
    assert ours, f"no stamped prefix {PREFIX_ROOT}/{VERSION}-* with this test's patches and drivers"
    _mtime, path, stamp = max(ours)
    return path.parent, stamp


@pytest.fixture(scope="module")
def controller_build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dpdk")
    role_vars = dict(ROLE_VARS, dpdk_ldconfig=False, dpdk_profile_script="", dpdk_prefix_link="")
    playbook = _playbook(tmp, "Targeted DPDK build on the controller", "localhost", role_vars)
    first, recap1 = _run(playbook)
    second, recap2 = _run(playbook)
    return {"first": first, "second": second, "recap1": recap1, "recap2": recap2}


@BUILD_TEST
def test_targeted_build_installs_a_usable_prefix(controller_build):
    prefix, stamp = _stamp_prefix()
    assert stamp["version"] == VERSION
    assert stamp["source_sha256"] == SHA256.lower()
    for drv in [*DRIVERS, "bus/pci", "net/bonding", "mempool/ring"]:
        assert drv in stamp["drivers"]
    pc = subprocess.run(
        ["pkg-config", "--modversion", "libdpdk"],
        env=dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig")),
        capture_output=True,
        text=True,
        check=False,
    )
    assert pc.returncode == 0, pc.stderr
    assert pc.stdout.strip() == VERSION
    lib = prefix / "lib"
    # the NICs' drivers and DPVS's are built ...
    for name in ["net_virtio", "net_e1000", "net_bond", "net_ring", "bus_pci", "bus_vdev", "mempool_ring"]:
        assert (lib / f"librte_{name}.a").is_file(), name
    # ... and nothing else: a full build has these
    for name in ["net_ixgbe", "net_i40e", "net_mlx5", "net_ice", "crypto_openssl", "baseband_null"]:
        if name.replace("net_", "net/") in DRIVERS:
            continue
        assert not (lib / f"librte_{name}.a").exists(), name
    assert (prefix / "bin" / "dpdk-testpmd").is_file()
    assert not (prefix / "bin" / "dpdk-test").exists()  # tests=false


@BUILD_TEST
def test_patches_applied_in_order(controller_build):
    _prefix, stamp = _stamp_prefix()
    names = [p[0] for p in stamp["patches"]]
    assert names == PATCH_NAMES
    print(f"DPDK patches applied, in order, from {PATCHES}: {', '.join(names)}")
    note = Path(BUILD_DIR) / "src" / "dpvs-cluster-build-note.txt"
    if PATCHES == FIXTURE_PATCHES and "Compile | apply the patches" in controller_build["first"]:
        # the first run compiled here: its source tree carries both patches
        assert note.read_text().splitlines() == ["patched by dpvs.cluster: 0001", "patched by dpvs.cluster: 0002"]


@BUILD_TEST
def test_second_run_builds_nothing(controller_build):
    second = controller_build["second"]
    assert controller_build["recap2"]["localhost"] == {"changed": 0, "failed": 0}
    assert "Compile | start the build" not in second
    assert "Compile | apply the patches" not in second


@BUILD_TEST
def test_build_time_reported(controller_build):
    times = Path(BUILD_DIR) / "times"
    assert times.is_file()
    text = times.read_text()
    assert re.search(r"compile \d+ s \(ninja \[\d+/\d+\]\)", text), text
    print("DPDK targeted build:", text.strip())


@BUILD_TEST
@pytest.mark.skipif(
    os.environ.get("DPVS_DPDK_LAB_TEST") != "1",
    reason="copy to the lab VMs NOT RUN: set DPVS_DPDK_LAB_TEST=1 with the lab up (make lab-up)",
)
def test_copy_to_lab_vms_and_usable_there(controller_build, tmp_path):
    verify = REPO / "molecule" / "default" / "tasks" / "verify_dpdk.yml"
    extra = f"""
    - name: Verify DPDK on the VM
      ansible.builtin.include_tasks: {verify}
"""
    playbook = _playbook(tmp_path, "DPDK copied to lb1 and rs1", "lb1:rs1", ROLE_VARS, extra)
    inventory = REPO / "inventories" / "lab"
    out, recap = _run(playbook, inventory=inventory, lock=True, timeout=1800)
    assert recap["lb1"]["failed"] == 0 and recap["rs1"]["failed"] == 0
    # profile_tasks' summary: how long the copy took
    print("\n".join(line for line in out.splitlines() if "Distribute |" in line and " -- " in line))
    out2, recap2 = _run(playbook, inventory=inventory, lock=True, timeout=1800)
    assert recap2["lb1"]["changed"] == 0 and recap2["rs1"]["changed"] == 0, out2[-4000:]
    unpack = re.search(r"Distribute \| copy and unpack[^\n]*\n(.*?)\nTASK", out2, re.S)
    assert unpack is None or "changed:" not in unpack.group(1), out2[-4000:]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"dpdk_source_sha256": ""}, "dpdk_source_sha256: expected the 64 hex digits"),
        ({"dpdk_drivers": []}, "dpdk_drivers: empty and dpdk_drivers_all is false"),
        ({"dpdk_drivers": ["virtio"]}, "dpdk_drivers: virtio is not a DPDK driver name"),
        ({"dpdk_version": "18.11.2"}, "dpdk_version: 18.11.2 builds with make"),
        ({"dpdk_version": "24.11-rc1"}, "dpdk_version: expected a DPDK release"),
    ],
)
def test_bad_inputs_fail_before_anything_changes(tmp_path, override, message):
    role_vars = dict(ROLE_VARS, dpdk_build_dir=str(tmp_path / "work"), dpdk_prefix_root=str(tmp_path / "opt"))
    role_vars.update(override)
    playbook = _playbook(tmp_path, "Bad input", "localhost", role_vars)
    env = dict(os.environ, LANG="C.UTF-8", ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"))
    argv = [
        str(VENV_BIN / "ansible-playbook"),
        str(playbook),
        "-e",
        "ansible_python_interpreter=" + str(VENV_BIN / "python"),
    ]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert message in " ".join(proc.stdout.split()), proc.stdout[-3000:]
    assert "changed: [localhost]" not in proc.stdout
    assert not (tmp_path / "work").exists() and not (tmp_path / "opt").exists()
