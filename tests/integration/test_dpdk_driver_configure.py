"""A NIC driver of DPVS users configures on its own: DPDK 24.11.3's ``meson setup`` (configure
only, no ninja: a few seconds a driver) with the meson arguments the dpdk role computes for
``dpdk_drivers: [<driver>]``, rendered by ansible-playbook from the role's own expressions
(roles/dpdk/tasks/build.yml) and defaults (dpdk_drivers_base, dpdk_driver_deps).

The proof that the resolution matters: net/ixgbe with the base drivers alone fails
(``drivers/net/ixgbe/base/meson.build``: ``Unknown variable "c_args"``, a variable that 24.11.3's
ixgbe base uses but only other drivers set); the role adds net/e1000, which sets it before ixgbe.

The source: the tree of the last source build (DPDK_TEST_BUILD_DIR, default /var/tmp/dpvs-cluster-dpdk,
``src``) when it is 24.11.3, copied; else the 24.11.3 tarball there, or downloaded to there (sha256
verified; the URL and sha256 of tests/integration/test_dpdk_build.py, whose role run then finds it
in place). DPDK_TEST_CONFIGURE_DRIVERS picks the drivers (below).
"""

import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from test_dpdk_build import DEFAULT_SHA256, DEFAULT_URL

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(os.environ.get("VENV", REPO / ".venv")) / "bin"
ROLE = REPO / "roles" / "dpdk"
VERSION = "24.11.3"  # the release whose net/ixgbe needs another driver's c_args
CACHE = Path(os.environ.get("DPDK_TEST_BUILD_DIR", "/var/tmp/dpvs-cluster-dpdk"))
TARBALL = CACHE / DEFAULT_URL.rsplit("/", 1)[1]  # where the role's get_url puts it
# The NIC drivers of DPVS users (net/virtio is a base driver, in every list; net/mlx5 needs
# rdma-core's headers to configure). DPDK_TEST_CONFIGURE_DRIVERS=all runs them all (1 to 2
# minutes), a comma separated list those; by default a few with each kind of resolution: net/ixgbe
# (needs net/e1000), net/ice (needs common/iavf), net/i40e (nothing), net/e1000 (the lab's NIC).
DPVS_DRIVERS = [
    "net/ixgbe",
    "net/i40e",
    "net/ice",
    "net/iavf",
    "net/e1000",
    "net/igc",
    "net/bnxt",
    "net/vmxnet3",
    "net/ena",
    "net/af_packet",
    "net/txgbe",
    "net/hns3",
    "net/virtio",
]
_CHOICE = os.environ.get("DPDK_TEST_CONFIGURE_DRIVERS", "")
DRIVERS = (
    DPVS_DRIVERS
    if _CHOICE == "all"
    else [d for d in _CHOICE.split(",") if d] or ["net/ixgbe", "net/ice", "net/i40e", "net/e1000"]
)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tarball():
    """The 24.11.3 tarball, downloaded once into CACHE when it is not there."""
    if not TARBALL.is_file() or _sha256(TARBALL) != DEFAULT_SHA256:
        CACHE.mkdir(parents=True, exist_ok=True)
        part = TARBALL.with_name(f"{TARBALL.name}.{os.getpid()}.part")
        with urllib.request.urlopen(DEFAULT_URL, timeout=120) as answer, open(part, "wb") as out:
            shutil.copyfileobj(answer, out)
        assert _sha256(part) == DEFAULT_SHA256, f"{DEFAULT_URL}: not the sha256 {DEFAULT_SHA256}"
        part.replace(TARBALL)
    return TARBALL


@pytest.fixture(scope="module")
def dpdk_src(tmp_path_factory):
    """A private DPDK 24.11.3 tree (meson never writes into it, but the role may replace the cached one)."""
    src = tmp_path_factory.mktemp("dpdk") / "src"
    cached = CACHE / "src"
    start = time.monotonic()
    if (cached / "VERSION").is_file() and (cached / "VERSION").read_text().strip() == VERSION:
        subprocess.run(["cp", "-a", str(cached), str(src)], check=True)
        how = f"copied from {cached}"
    else:
        src.mkdir()
        tarball = _tarball()
        subprocess.run(["tar", "-xJf", str(tarball), "-C", str(src), "--strip-components=1"], check=True)
        how = f"unpacked from {tarball}"
    assert (src / "VERSION").read_text().strip() == VERSION
    print(f"DPDK {VERSION} source {how} in {time.monotonic() - start:.1f} s")
    return src


def _identity_vars():
    """The expressions of the role's driver list and meson arguments, as build.yml has them."""
    for task in yaml.safe_load((ROLE / "tasks" / "build.yml").read_text()):
        found = task.get("vars", {})
        if "__dpdk_drv" in found and "__dpdk_args" in found:
            return {name: found[name] for name in ("__dpdk_drv", "__dpdk_args")}
    raise AssertionError("roles/dpdk/tasks/build.yml: no task with the vars __dpdk_drv and __dpdk_args")


@pytest.fixture(scope="module")
def role_args(tmp_path_factory):
    """{driver: the meson arguments of the role for dpdk_drivers [driver]}, from one ansible-playbook run."""
    tmp = tmp_path_factory.mktemp("role")
    out = tmp / "args.json"
    task_vars = {"dpdk_version": VERSION, "dpdk_drivers": ["{{ item }}"], **_identity_vars()}
    play = [
        {
            "name": "The dpdk role's meson arguments for each driver alone",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": [str(ROLE / "defaults" / "main.yml")],
            "tasks": [
                {
                    "name": "Resolve",
                    "ansible.builtin.set_fact": {"found": "{{ found | default({}) | combine({item: __dpdk_args}) }}"},
                    "loop": sorted({*DRIVERS, "net/ixgbe"}),
                    "vars": task_vars,
                },
                {"name": "Save", "ansible.builtin.copy": {"content": "{{ found | to_json }}", "dest": str(out)}},
            ],
        }
    ]
    playbook = tmp / "resolve.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    env = dict(os.environ, LANG="C.UTF-8", ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"))
    interpreter = f"ansible_python_interpreter={VENV_BIN / 'python'}"
    argv = [str(VENV_BIN / "ansible-playbook"), str(playbook), "-e", interpreter]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return json.loads(out.read_text())


def _enabled(args):
    (value,) = [arg.split("=", 1)[1] for arg in args if arg.startswith("-Denable_drivers=")]
    return value.split(",")


def _meson_setup(src, build, args):
    meson = shutil.which("meson")
    assert meson, "meson is not installed (make setup installs it)"
    argv = [meson, "setup", f"--prefix={build}-prefix", *args, str(build), str(src)]
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start


@pytest.mark.parametrize("driver", DRIVERS)
def test_driver_configures_alone_with_the_role_resolution(dpdk_src, role_args, tmp_path, driver):
    args = role_args[driver]
    enabled = _enabled(args)
    assert driver in enabled
    rc, out, took = _meson_setup(dpdk_src, tmp_path / "build", args)
    print(f"meson setup {driver}: rc {rc} in {took:.1f} s, enable_drivers={','.join(enabled)}")
    assert rc == 0, out[-4000:]
    # every enabled driver is built (the library compile.yml checks for after ninja is a target)
    lib_names = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["__dpdk_driver_lib_names"]
    ninja = (tmp_path / "build" / "build.ninja").read_text()
    for name in enabled:
        lib = "librte_" + lib_names.get(name, name.replace("/", "_")) + ".a"
        assert lib in ninja, f"{name}: no {lib} target after meson setup"


def test_ixgbe_alone_fails_without_the_resolution(dpdk_src, role_args, tmp_path):
    args = role_args["net/ixgbe"]
    assert "net/e1000" in _enabled(args)  # what the resolution adds
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    bare = [a for a in args if not a.startswith("-Denable_drivers=")]
    bare.append("-Denable_drivers=" + ",".join([*defaults["dpdk_drivers_base"], "net/ixgbe"]))
    rc, out, took = _meson_setup(dpdk_src, tmp_path / "build", bare)
    print(f"meson setup net/ixgbe without net/e1000: rc {rc} in {took:.1f} s")
    assert rc != 0
    assert 'drivers/net/ixgbe/base/meson.build:21:0: ERROR: Unknown variable "c_args".' in out, out[-3000:]
