"""dpvs.service and dpvs-state.service: golden files with the role's default paths, and
`systemd-analyze verify` on units rendered with binaries that exist on this machine."""

import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import dpvs_shapes
from test_dpvs_conf_golden import golden

SEED = dpvs_shapes.SHAPES["seed001-2nodes-4nics"]
EMULATOR_BIN = os.path.join(dpvs_shapes.REPO, "tests", "emulator", "bin")


@pytest.mark.parametrize("name", ["dpvs.service", "dpvs-state.service"])
def test_golden_units(name):
    text = dpvs_shapes.render_unit(SEED, name)
    assert text == golden("seed001-2nodes-4nics.", name, text)


def test_unit_contract():
    dpvs = dpvs_shapes.render_unit(SEED, "dpvs.service").splitlines()
    state = dpvs_shapes.render_unit(SEED, "dpvs-state.service").splitlines()
    eal = " ".join(dpvs_shapes.layout(SEED)["eal_args"])
    assert "Type=simple" in dpvs
    assert f"ExecStart=/usr/local/bin/dpvs -c /etc/dpvs.conf -p /var/run/dpvs.pid -x /var/run/dpvs.ipc -- {eal}" in dpvs
    assert any(line.startswith("ExecStartPost=/usr/bin/python3 ") and " wait " in line for line in dpvs)
    assert "ExecReload=/bin/kill -HUP $MAINPID" in dpvs
    assert "LimitNOFILE=1048576" in dpvs
    for line in ("Requires=dpvs.service", "After=dpvs.service", "PartOf=dpvs.service", "Type=oneshot"):
        assert line in state
    after = dpvs_shapes.render_unit(
        SEED,
        "dpvs.service",
        dpvs_service_after=["dpdk-hugepages.service"],
        dpvs_service_requires=["dpdk-devbind.service"],
    ).splitlines()
    assert "After=network-pre.target dpdk-hugepages.service" in after
    assert "Requires=dpdk-devbind.service" in after


def test_units_pass_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed: the units were not verified by systemd")
    paths = []
    for name in ("dpvs.service", "dpvs-state.service"):
        path = tmp_path / name
        path.write_text(dpvs_shapes.render_unit(SEED, name, dpvs_bin_dir=EMULATOR_BIN, dpvs_python=sys.executable))
        paths.append(str(path))
    verify = subprocess.run(
        [tool, "verify", "--man=no", *paths], capture_output=True, text=True, timeout=120, check=False
    )
    assert verify.returncode == 0, verify.stderr
    assert not [line for line in verify.stderr.splitlines() if "dpvs" in line], verify.stderr
