"""The readiness probe (``dpvs-cluster wait``, plugins/module_utils/dpvs_state/probe.py): how often
it asks, and what it says when DPVS's process is gone before it answered - the exit status as
systemd recorded it, the end of dpvs.conf's log file, the journal. The probe against the emulator
is in test_dpvs_state_replay.py; under a real systemd in tests/integration/test_dpvs_unit_systemd.py."""

import ast
import io
import os
import subprocess
import sys
import time

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state import probe as P
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state import replay as R

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_host_tool import build_tool, run_tool

PROBE = P.__file__


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def refusing_runner(answer_after=None, clock=None):
    """dpip that fails (no socket), or answers once ``clock()`` reaches ``answer_after``."""

    def run_command(argv, **_kwargs):
        if answer_after is not None and clock() >= answer_after:
            return 0, "1: dpdk0: ...\n", ""
        return 1, "", "dpip: connect: No such file or directory\n"

    return Runner(run_command)


def test_it_asks_every_tenth_of_a_second_for_two_seconds_then_every_half_second():
    clock = Clock()
    ready, why = P.wait_ready(refusing_runner(), "dpip", 4.0, clock=clock, sleep=clock.sleep)
    assert not ready and "No such file" in why
    assert clock.sleeps[:20] == [0.1] * 20
    assert clock.sleeps[20:] == [0.5, 0.5, 0.5, 0.5]
    # a DPVS that answers 1.23 s after the start is seen at most 0.1 s later
    clock = Clock()
    ready, _why = P.wait_ready(refusing_runner(1.23, clock), "dpip", 60, clock=clock, sleep=clock.sleep)
    assert ready and 1.23 <= clock.now <= 1.33 + 1e-9
    assert P.poll_interval(0) == P.poll_interval(1.99) == 0.1 and P.poll_interval(2.0) == 0.5
    # a fixed interval is still honoured
    clock = Clock()
    P.wait_ready(refusing_runner(), "dpip", 1.0, interval=0.25, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [0.25] * 4


@pytest.mark.parametrize(
    "props, pid, text",
    [
        ({"ExecMainPID": "812", "ExecMainCode": "1", "ExecMainStatus": "3"}, 812, "exit status 3"),
        ({"ExecMainPID": "812", "ExecMainCode": "1", "ExecMainStatus": "1"}, None, "exit status 1"),
        ({"ExecMainPID": "812", "ExecMainCode": "2", "ExecMainStatus": "9"}, 812, "killed by signal 9/KILL"),
        (
            {"ExecMainPID": "812", "ExecMainCode": "3", "ExecMainStatus": "11"},
            812,
            "killed by signal 11/SEGV (core dumped)",
        ),
        ({"ExecMainPID": "799", "ExecMainCode": "1", "ExecMainStatus": "3"}, 812, None),  # another run's
        ({"ExecMainPID": "812", "ExecMainCode": "0", "ExecMainStatus": "0"}, 812, None),  # not ended yet
        ({"ExecMainPID": "x"}, 812, None),
        ({}, 812, None),
        (None, 812, None),
    ],
)
def test_exit_text(props, pid, text):
    assert P.exit_text(props, pid) == text


def test_log_tail(tmp_path):
    log = tmp_path / "dpvs.log"
    log.write_text("".join(f"line {n}\n" for n in range(1, 16)))
    assert P.log_tail(str(log), since=time.time() - 60) == [f"the last 10 line(s) of {log}:"] + [
        f"  line {n}" for n in range(6, 16)
    ]
    old = time.time() - 3600
    os.utime(log, (old, old))
    (line,) = P.log_tail(str(log), since=time.time() - 60)
    assert line.startswith(f"{log} was not written since this start (last written ")
    assert P.log_tail(str(tmp_path / "none.log"), since=0) == [f"{tmp_path}/none.log: No such file or directory"]
    (tmp_path / "empty.log").write_text("")
    assert P.log_tail(str(tmp_path / "empty.log"), since=0) == [f"{tmp_path}/empty.log is empty"]


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_dead_daemon_is_reported_with_its_exit_status_its_log_and_the_journal(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no dpip: the probe would wait the whole timeout
    pid = dead_pid()
    log = tmp_path / "dpvs.log"
    log.write_text("EAL: probe driver: 8086:10fb net_ixgbe\nNETIF: port 0 configure failed\n")
    asked = []

    def show(unit, properties):
        asked.append((unit, tuple(properties)))
        return {"ExecMainPID": str(pid), "ExecMainCode": "1", "ExecMainStatus": "3", "Result": "exit-code"}

    err = io.StringIO()
    started = time.monotonic()
    argv = ["--timeout", "60", "--pid", str(pid), "--unit", "dpvs.service", "--log-file", str(log)]
    assert P.wait_main(argv, err=err, show=show) == 2
    assert time.monotonic() - started < 5
    assert asked == [("dpvs.service", ("ExecMainPID", "ExecMainCode", "ExecMainStatus"))]
    assert err.getvalue().splitlines() == [
        "dpvs-cluster wait: DPVS stopped before it answered 'dpip link show': "
        f"process {pid} (--pid) is gone: exit status 3",
        f"dpvs-cluster wait: the last 2 line(s) of {log}:",
        "dpvs-cluster wait:   EAL: probe driver: 8086:10fb net_ixgbe",
        "dpvs-cluster wait:   NETIF: port 0 configure failed",
        "dpvs-cluster wait: what DPVS printed before it read dpvs.conf (EAL, rte_exit): journalctl -u dpvs.service",
    ]


def test_without_systemd_log_file_or_unit_it_says_what_it_does_not_know(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no dpip, no systemctl
    pid = dead_pid()
    err = io.StringIO()
    assert P.wait_main(["--timeout", "60", "--pid", str(pid), "--unit", "dpvs.service"], err=err) == 2
    assert err.getvalue().splitlines() == [
        f"dpvs-cluster wait: DPVS stopped before it answered 'dpip link show': process {pid} (--pid) is gone: "
        "exit status unknown",
        "dpvs-cluster wait: dpvs.conf names no log_file: DPVS logs to stderr, see journalctl -u dpvs.service",
    ]
    assert P.systemd_show("dpvs.service", ["ExecMainPID"]) is None
    # the pid file's process, no unit
    pid_file = tmp_path / "dpvs.pid"
    pid_file.write_text(f"{pid}\n")
    later = time.time() + 5
    os.utime(pid_file, (later, later))  # written after the probe started
    err = io.StringIO()
    assert P.wait_main(["--timeout", "60", "--pid-file", str(pid_file)], err=err) == 2
    assert f"process {pid} ({pid_file}) is gone: exit status unknown" in err.getvalue()
    assert "see the journal of its unit" in err.getvalue()


def test_a_timeout_is_still_a_timeout(tmp_path):
    hang = tmp_path / "dpip"
    hang.write_text("#!/bin/sh\necho 'dpip: connect: Connection refused' >&2\nexit 1\n")
    hang.chmod(0o755)
    err = io.StringIO()
    assert P.wait_main(["--timeout", "0.3", "--dpip", str(hang), "--unit", "dpvs.service"], err=err) == 2
    assert err.getvalue() == (
        "dpvs-cluster wait: DPVS did not answer 'dpip link show' within 0.3s: dpip: connect: Connection refused\n"
    )


def test_the_probe_imports_only_the_runner_and_the_standard_library():
    """Its start-up is blackout after a crash: the tables, parsers and planners stay out."""
    with open(PROBE) as handle:
        tree = ast.parse(handle.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ansible_collections"):
            imported.add(node.module.rsplit(".", 1)[1])
        elif isinstance(node, ast.Import):
            assert all(alias.name in sys.stdlib_module_names for alias in node.names)
    assert imported == {"runner"}
    # the replay's module still offers the probe's functions (dpvs-cluster replay waits with them)
    assert R.wait_ready is P.wait_ready and R.host_runner is P.host_runner and R.not_ready is P.not_ready


def test_wait_from_the_zip_has_the_unit_and_log_file_options(tmp_path):
    pyz = build_tool(tmp_path)
    run = run_tool(pyz, "wait", "--help", cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert "--unit UNIT" in run.stdout and "--log-file LOG_FILE" in run.stdout
    pid = dead_pid()
    log = tmp_path / "dpvs.log"
    log.write_text("the last line\n")
    argv = ["wait", "--pid", str(pid), "--dpip", "/nonexistent/dpip", "--log-file", str(log)]
    run = run_tool(pyz, *argv, cwd=str(tmp_path))
    assert run.returncode == 2
    assert f"process {pid} (--pid) is gone: exit status unknown" in run.stderr
    assert "dpvs-cluster wait:   the last line" in run.stderr
