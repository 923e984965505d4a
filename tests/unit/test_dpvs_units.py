"""dpvs.service and dpvs-state.service: golden files with the role's default paths, and
`systemd-analyze verify` on units rendered with binaries that exist on this machine."""

import copy
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


def render_unit(shape, name, conf=None, **overrides):
    """A unit as the role renders it after its preflight: the dpvs_conf filter's result is
    ``__dpvs_conf`` (the template reads dpvs.conf's log_file from its model); ``conf``: the
    role's ``dpvs_conf`` overrides."""
    built = dpvs_shapes.build(shape if conf is None else dict(shape, vars=dict(shape["vars"], dpvs_conf=conf)))
    return dpvs_shapes.render_unit(shape, name, **{"__dpvs_conf": built}, **overrides)


def with_eal_args(*args):
    shape = copy.deepcopy(SEED)
    shape["vars"]["dpvs_eal_extra_args"] = list(args)
    return shape


@pytest.mark.parametrize("name", ["dpvs.service", "dpvs-state.service"])
def test_golden_units(name):
    text = render_unit(SEED, name)
    assert text == golden("seed001-2nodes-4nics.", name, text)


def test_unit_contract():
    dpvs = render_unit(SEED, "dpvs.service").splitlines()
    state = render_unit(SEED, "dpvs-state.service").splitlines()
    eal = " ".join(dpvs_shapes.layout(SEED)["eal_args"])
    assert "Type=simple" in dpvs
    assert f"ExecStart=/usr/local/bin/dpvs -c /etc/dpvs.conf -p /var/run/dpvs.pid -x /var/run/dpvs.ipc -- {eal}" in dpvs
    assert any(line.startswith("ExecStartPost=/usr/bin/python3 ") and " wait " in line for line in dpvs)
    assert "ExecReload=/bin/kill -HUP $MAINPID" in dpvs
    assert "LimitNOFILE=1048576" in dpvs
    for line in ("Requires=dpvs.service", "After=dpvs.service", "PartOf=dpvs.service", "Type=oneshot"):
        assert line in state
    after = render_unit(
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
        path.write_text(render_unit(SEED, name, dpvs_bin_dir=EMULATOR_BIN, dpvs_python=sys.executable))
        paths.append(str(path))
    verify = subprocess.run(
        [tool, "verify", "--man=no", *paths], capture_output=True, text=True, timeout=120, check=False
    )
    assert verify.returncode == 0, verify.stderr
    assert not [line for line in verify.stderr.splitlines() if "dpvs" in line], verify.stderr


def _line(text, key):
    (line,) = [line for line in text.splitlines() if line.startswith(key + "=")]
    return line[len(key) + 1 :]


def test_the_probe_names_the_unit_and_the_log_file_of_dpvs_conf():
    probe = _line(render_unit(SEED, "dpvs.service"), "ExecStartPost").split()
    assert probe[probe.index("--unit") + 1] == "dpvs.service"
    assert probe[probe.index("--log-file") + 1] == "/var/log/dpvs.log"  # the model's default
    assert probe[probe.index("--pid") + 1] == "$MAINPID"
    moved = render_unit(SEED, "dpvs.service", conf={"global_defs": {"log_file": "/srv/log/dpvs-a.log"}})
    assert "--log-file /srv/log/dpvs-a.log" in _line(moved, "ExecStartPost")
    # no log_file in dpvs.conf: DPVS logs to stderr (the journal), the probe says so
    stderr_only = render_unit(SEED, "dpvs.service", conf={"global_defs": {"log_file": None}})
    assert "--log-file" not in _line(stderr_only, "ExecStartPost")
    assert "--unit dpvs.service" in _line(stderr_only, "ExecStartPost")


@pytest.mark.parametrize(
    "args, prefix",
    [
        ((), "rte"),
        (("--file-prefix", "dpvs"), "dpvs"),
        (("--file-prefix=lb1",), "lb1"),
        (("--huge-dir", "/mnt/huge1g", "--file-prefix", "dpvs2"), "dpvs2"),
    ],
)
def test_the_stop_frees_the_hugepage_files_of_the_eal_file_prefix(args, prefix):
    text = render_unit(with_eal_args(*args), "dpvs.service")
    # "-": a failed clean-up does not fail the unit (a crash restarts it whatever it says); only
    # after a clean stop (a failure restarts DPVS, whose DPDK removes the files as it starts)
    assert _line(text, "ExecStopPost") == (
        """-/bin/sh -c '[ "$${SERVICE_RESULT}" = success ] || exit 0; exec "$$0" "$$@"' """
        f"/usr/bin/python3 /usr/local/lib/dpvs-cluster/dpvs-cluster.pyz hugepage-files --prefix {prefix} --clean"
    )
