"""The metrics role as Ansible runs it (check mode, --diff: nothing is installed here): the
service's command line is one the collector accepts and names the inventory's paths, the units
pass systemd-analyze verify, nothing happens unless metrics_enabled, and bad inputs stop the
role with the variable's name and value."""

import os
import shlex
import shutil
import subprocess

import pytest
from ansible_collections.dpvs.cluster.plugins.action import host_tool
from ansible_collections.dpvs.cluster.plugins.module_utils.metrics import collector

pytestmark = pytest.mark.parallel_safe

CASES = [
    {"name": "target", "vars": {"metrics_target": "dpdk"}, "expect": ["metrics_target", "dpdk"]},
    {"name": "interval", "vars": {"metrics_interval": 1}, "expect": ["metrics_interval", "1"]},
    {"name": "space", "vars": {"metrics_textfile_dir": "/var/lib/node exporter"},
     "expect": ["metrics_textfile_dir", "/var/lib/node exporter"]},
    {"name": "percent", "vars": {"metrics_tool": "/opt/%h/tool.pyz"}, "expect": ["metrics_tool", "%h"]},
    {"name": "relative", "vars": {"metrics_textfile_dir": "textfile"}, "expect": ["metrics_textfile_dir", "absolute"]},
    {"name": "name", "vars": {"metrics_textfile_name": "dpvs.txt"}, "expect": ["metrics_textfile_name", "dpvs.txt"]},
]  # fmt: skip


def play_tasks(run, index):
    """{task name without the role's prefix: result} of the ``index``-th play."""
    tasks = {}
    for task in run.data["plays"][index]["tasks"]:
        name = task["task"]["name"].removeprefix("dpvs.cluster.metrics : ")
        tasks.setdefault(name, task["hosts"].get("localhost", {}))
    return tasks


def units(tasks):
    """{unit file name: the text the template task would write} (from its diff)."""
    found = {}
    for result in tasks["Install | dpvs-metrics.service and dpvs-metrics.timer"]["results"]:
        diff = result["diff"][0] if isinstance(result["diff"], list) else result["diff"]
        found[result["item"]] = diff["after"]
    return found


def exec_start(text):
    (line,) = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line[len("ExecStart=") :])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from emutier import Ansible, Emulator

    workdir = tmp_path_factory.mktemp("metrics-role")
    emulator = Emulator(workdir)  # not started: the role only renders here
    ansible = Ansible(emulator, workdir)
    variables = {"work_dir": str(workdir), "cases": CASES, "emulator_bin": emulator.bin}
    result = ansible.play("metrics_role.yml", variables, check=True, diff=True)
    assert result.rc == 0, result.explain()
    result.workdir = workdir
    result.emulator = emulator
    return result


def test_dpvs_node_units(run):
    text = units(play_tasks(run, 0))
    argv = exec_start(text["dpvs-metrics.service"])
    workdir = str(run.workdir)
    assert argv[1:4] == [f"{workdir}/dpvs-cluster.pyz", "metrics", "dpvs"]
    args = collector.parser().parse_args(argv[3:])
    assert args.output == f"{workdir}/textfile/dpvs_cluster.prom"
    # the dpvs role's dpvs_bin_dir and dpvs_ipc_file, from the inventory
    assert (args.dpip, args.ipvsadm) == (f"{run.emulator.bin}/dpip", f"{run.emulator.bin}/ipvsadm")
    assert args.ipc_file == run.emulator.ipc
    assert "After=dpvs.service" in text["dpvs-metrics.service"].splitlines()
    assert "OnUnitActiveSec=30s" in text["dpvs-metrics.timer"].splitlines()
    assert text["dpvs-metrics.service"].startswith("#")  # the ansible_managed header


def test_kernel_forwarder_units(run):
    tasks = play_tasks(run, 1)
    text = units(tasks)
    args = collector.parser().parse_args(exec_start(text["dpvs-metrics.service"])[3:])
    assert (args.target, args.ipvs, args.ipvsadm) == ("kernel", True, "/usr/sbin/ipvsadm")
    assert "After=dpvs.service" not in text["dpvs-metrics.service"]
    assert "OnUnitActiveSec=15s" in text["dpvs-metrics.timer"].splitlines()


def test_the_units_pass_systemd_analyze_verify(run, tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("NOT RUN: systemd-analyze is not installed, the units were not verified by systemd")
    text = units(play_tasks(run, 0))
    paths = []
    for name, content in text.items():
        (tmp_path / name).write_text(content)
        paths.append(str(tmp_path / name))
    # ExecStart's program must exist: the test's Python (metrics_python) does
    verify = subprocess.run(
        [tool, "verify", "--man=no", *paths], capture_output=True, text=True, timeout=120, check=False
    )
    assert verify.returncode == 0, verify.stderr
    assert not [line for line in verify.stderr.splitlines() if "dpvs-metrics" in line], verify.stderr


def test_nothing_unless_enabled(run):
    tasks = play_tasks(run, 2)
    installed = [name for name, result in tasks.items() if name.startswith("Install") and not result.get("skipped")]
    assert installed == []


def test_bad_inputs_name_the_variable(run):
    failures = play_tasks(run, 3)["Bad input messages"]["metrics_failures | default({})"]
    for case in CASES:
        message = failures[case["name"]]
        for part in case["expect"]:
            assert part in message, (case["name"], message)


def test_the_service_command_collects_from_dpvs(run):
    """The unit's ExecStart, word for word, against the emulator (the tool built where the unit
    says it is): what systemd would run writes the file."""
    argv = exec_start(units(play_tasks(run, 0))["dpvs-metrics.service"])
    with open(argv[1], "wb") as handle:
        handle.write(host_tool.build_pyz())
    output = collector.parser().parse_args(argv[3:]).output
    os.makedirs(os.path.dirname(output), exist_ok=True)  # the role's directory task, not run in check mode
    run.emulator.start()
    try:
        run.emulator.ipvsadm("-A", "-t", "10.0.96.204:443", "-s", "wrr")
        proc = subprocess.run(
            argv, capture_output=True, text=True, env=run.emulator.env(with_ipc=False), timeout=60, check=False
        )
    finally:
        run.emulator.stop()
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    with open(output, encoding="utf-8") as handle:
        text = handle.read()
    assert "dpvs_up 1\n" in text
    assert 'dpvs_service_connections_total{protocol="tcp",vip="10.0.96.204",port="443"} 0\n' in text
