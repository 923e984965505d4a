# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPVS readiness probe (``dpvs-cluster wait``, dpvs.service's ExecStartPost).

    dpvs-cluster wait [--timeout 60] [--dpip dpip] [--pid PID] [--pid-file FILE]
                      [--unit dpvs.service] [--log-file /var/log/dpvs.log]

Exits 0 as soon as ``dpip link show`` answers, so that systemd counts DPVS as started only when
its control plane works (DPVS takes seconds to initialise, and dpip/ipvsadm fail until then).
It asks every 0.1 s for the first 2 s (a restarted DPVS answers within a second: each poll
interval is blackout after a crash), then every 0.5 s.

With ``--pid`` (the unit passes ``$MAINPID``) it fails at once when that process is gone instead
of waiting out the timeout; ``--pid-file`` does the same for the pid a file names, once the file
is newer than the probe (an older one is a previous run's). A ``--pid`` that is not a number
(``$MAINPID`` unset) is ignored. The probe is not DPVS's parent (systemd is), so the exit status
comes from systemd: ``--unit`` names the unit whose ``ExecMainPID``/``ExecMainCode``/
``ExecMainStatus`` it reads (systemd records them before it reaps the process, so they are there
once the pid is gone; without ``--unit`` or systemd the status is "unknown"). ``--log-file`` is
dpvs.conf's ``global_defs { log_file }``: its last lines are printed when it was written since the
probe started. DPVS prints what happens before it reads dpvs.conf (EAL, ``rte_exit``) on stderr,
i.e. in the unit's journal, and everything there when dpvs.conf names no log file: the message
says ``journalctl -u UNIT``.

Exit codes: 0 DPVS answers; 2 it did not answer within the timeout, or its process ended.
This file imports only the standard library and the runner: the probe starts in the time DPVS
takes to initialise, and its import cost is blackout after a crash.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import signal
import subprocess
import sys
import time

from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import (
    CommandError,
    Runner,
    subprocess_run_command,
)

PREFIX = "dpvs-cluster wait: "
# seconds one dpip/ipvsadm command may take (the probe's are bounded by its timeout)
COMMAND_TIMEOUT = 120.0
# poll every FAST_INTERVAL seconds for the first FAST_PERIOD seconds, then every INTERVAL
FAST_INTERVAL = 0.1
FAST_PERIOD = 2.0
INTERVAL = 0.5
LOG_LINES = 10
# systemd's ExecMainCode: the si_code of the main process's end (CLD_EXITED, CLD_KILLED, CLD_DUMPED)
EXITED, KILLED, DUMPED = 1, 2, 3


def host_runner(deadline=None, clock=time.monotonic):
    """The collection's runner over plain subprocesses (no AnsibleModule on the host). Each
    command may take :data:`COMMAND_TIMEOUT` seconds, or, with ``deadline`` (a ``clock`` value),
    what is left until then (at least one second). DPVS_IPC_FILE comes from the environment."""

    def run_command(argv, **kwargs):
        limit = COMMAND_TIMEOUT if deadline is None else max(1.0, deadline - clock())
        return subprocess_run_command(argv, timeout=limit, **kwargs)

    return Runner(run_command, ipc_file=os.environ.get("DPVS_IPC_FILE"))


def _pid_of(text):
    """``--pid``: a positive number, else None (systemd leaves ``$MAINPID`` as is when unset)."""
    text = (text or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _gone(pid):
    """Whether ``pid`` no longer exists (a zombie still does: systemd has not reaped it yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def gone_pid(pid=None, pid_file=None, since=None):
    """``(pid, how it was named)`` of the awaited process once it is gone, else None."""
    if pid is not None and _gone(pid):
        return pid, "--pid"
    if pid_file:
        try:
            if since is not None and os.stat(pid_file).st_mtime < since:
                return None  # a previous run's file
            with open(pid_file, encoding="utf-8") as handle:
                file_pid = _pid_of(handle.read())
        except (OSError, ValueError):
            return None  # not written yet
        if file_pid is not None and _gone(file_pid):
            return file_pid, pid_file
    return None


def process_gone(pid=None, pid_file=None, since=None):
    """Why the awaited process is known to be gone (a text), or None."""
    found = gone_pid(pid, pid_file, since)
    return None if found is None else "process {} ({}) is gone".format(*found)


def poll_interval(elapsed):
    """Seconds to the next ``dpip link show`` after ``elapsed`` seconds of waiting."""
    return FAST_INTERVAL if elapsed < FAST_PERIOD else INTERVAL


def wait_ready(runner, dpip, timeout, pid=None, pid_file=None, interval=None, clock=time.monotonic, sleep=time.sleep):
    """``(True, "")`` once ``dpip link show`` exits 0 (DPVS answers on its control socket);
    ``(False, why)`` after ``timeout`` seconds, or at once when the process is gone (``why``
    then starts with "process "). ``interval``: a fixed poll interval instead of
    :func:`poll_interval`'s."""
    started = clock()
    deadline = started + timeout
    since = time.time()
    while True:
        gone = process_gone(pid, pid_file, since)
        if gone:
            return False, gone
        try:
            rc, _out, err = runner.run([dpip, "link", "show"], check_rc=False, record=False)
        except CommandError as exc:  # DaemonDownError: no socket yet
            rc, err = exc.rc, exc.stderr
        if rc == 0:
            return True, ""
        last = (err or "").strip()
        if clock() >= deadline:
            return False, last
        step = interval if interval is not None else poll_interval(clock() - started)
        sleep(min(step, max(0.0, deadline - clock())))


# ----------------------------------------------------------------------------- why it stopped


def systemd_show(unit, properties, timeout=5.0):
    """``{property: value}`` of ``systemctl show UNIT``, or None (no systemctl, no systemd)."""
    try:
        proc = subprocess.run(
            ["systemctl", "show", "--property=" + ",".join(properties), unit],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def _signal_name(number):
    try:
        return signal.Signals(number).name[3:]
    except ValueError:
        return str(number)


def exit_text(props, pid=None):
    """How the main process ended, from ``systemctl show``'s ExecMain* properties: "exit status 3",
    "killed by signal 9/KILL", "killed by signal 11/SEGV (core dumped)" (systemd's status line says
    code=exited/killed/dumped, status=3 or 11/SEGV); None when they are not about ``pid`` or say
    nothing yet."""
    if not props:
        return None
    try:
        main_pid, code, status = (int(props.get(key) or 0) for key in ("ExecMainPID", "ExecMainCode", "ExecMainStatus"))
    except ValueError:
        return None
    if pid is not None and main_pid != pid:
        return None
    if code == EXITED:
        return f"exit status {status}"
    if code in (KILLED, DUMPED):
        dumped = " (core dumped)" if code == DUMPED else ""
        return f"killed by signal {status}/{_signal_name(status)}{dumped}"
    return None


def log_tail(path, since, lines=LOG_LINES):
    """What to print of the log file ``path``: its last ``lines`` lines when it was written at or
    after ``since`` (a ``time.time()``; an older file is a previous run's), else one line why not."""
    try:
        stat = os.stat(path)
        if stat.st_mtime < since:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stat.st_mtime))
            return [f"{path} was not written since this start (last written {when})"]
        with open(path, "rb") as handle:
            handle.seek(max(0, stat.st_size - 64 * 1024))
            tail = handle.read().decode("utf-8", "replace").splitlines()[-lines:]
    except OSError as exc:
        return [f"{path}: {exc.strerror or exc}"]
    if not tail:
        return [f"{path} is empty"]
    return [f"the last {len(tail)} line(s) of {path}:"] + [f"  {line}" for line in tail]


def stopped_report(why, pid, unit=None, log_file=None, since=0.0, show=systemd_show):
    """The lines that say that DPVS stopped before it answered: its exit status (from systemd,
    for ``unit``), the end of its log file and where the rest is."""
    status = exit_text(show(unit, ("ExecMainPID", "ExecMainCode", "ExecMainStatus")) if unit else None, pid)
    lines = ["DPVS stopped before it answered 'dpip link show': {}: {}".format(why, status or "exit status unknown")]
    journal = f"journalctl -u {unit}" if unit else "the journal of its unit"
    if log_file:
        lines += log_tail(log_file, since)
        lines.append(f"what DPVS printed before it read dpvs.conf (EAL, rte_exit): {journal}")
    else:
        lines.append(f"dpvs.conf names no log_file: DPVS logs to stderr, see {journal}")
    return lines


def not_ready(timeout, why, out, prefix=PREFIX, report=None):
    """Write why DPVS is not ready (``report``: the lines of :func:`stopped_report`); 2."""
    if why.startswith("process "):
        for line in report or [f"DPVS stopped before it answered 'dpip link show': {why}"]:
            out.write(f"{prefix}{line}\n")
    else:
        out.write(f"{prefix}DPVS did not answer 'dpip link show' within {timeout}s: {why}\n")
    return 2


def parser():
    parser = argparse.ArgumentParser(prog="dpvs-cluster wait", description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for DPVS to answer")
    parser.add_argument("--dpip", default="dpip")
    parser.add_argument("--pid", help="fail at once when this process is gone (dpvs.service: $MAINPID)")
    parser.add_argument("--pid-file", help="fail at once when the process this file names is gone")
    parser.add_argument("--unit", help="the systemd unit of DPVS, for its exit status and journal")
    parser.add_argument("--log-file", help="dpvs.conf's log_file: its last lines when DPVS stopped")
    return parser


def wait_main(argv=None, runner=None, err=None, show=systemd_show):
    """``dpvs-cluster wait``: 0 once DPVS answers, 2 when it does not (see the module docstring)."""
    args = parser().parse_args(argv)
    err = err or sys.stderr
    since = time.time()
    runner = runner or host_runner(time.monotonic() + args.timeout)
    pid = _pid_of(args.pid)
    ready, why = wait_ready(runner, args.dpip, args.timeout, pid, args.pid_file)
    if ready:
        return 0
    report = None
    if why.startswith("process "):
        found = gone_pid(pid, args.pid_file)
        report = stopped_report(why, found[0] if found else pid, args.unit, args.log_file, since - 1.0, show)
    return not_ready(args.timeout, why, err, report=report)
