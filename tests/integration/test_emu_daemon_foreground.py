"""The emulator's ``dpvs`` as a process (``DPVS_EMULATOR_FOREGROUND=1``), as dpvs.service runs it.

``dpvs -c F -p PIDFILE -x IPC -- EAL...`` stays in the foreground: it writes its pid file and sleeps
until a signal. ``kill -9`` is a crash (the tools read transcripts 220-223 byte for byte, also while
the dead process is an unreaped zombie), a new ``dpvs`` then starts a fresh daemon (230-232),
SIGTERM/SIGINT kill it as they kill the real v1.10.2 (no handler: the ``22x`` texts, files left
behind), SIGHUP changes nothing.
``dpvs-emulator stop|kill|reload`` signal the process. Every process a test starts is SIGKILLed
and reaped by the fixture's finalizer, whatever the test's outcome.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from emutier import EMULATOR_BIN, EMULATOR_DIR, PORTS_SEED001, REPO, Emulator

sys.path.insert(0, os.path.join(REPO, "tests"))
import transcripts

pytestmark = pytest.mark.parallel_safe

READY_TIMEOUT = 15  # seconds for a started dpvs to answer `dpip link show`
EAL = ["-l", "0-1", "--no-pci", "--file-prefix", "dpvs"]
KILLED = [  # the daemon was killed with SIGKILL: stale socket
    "220-stale-socket-dpip-link-show.txt",
    "221-stale-socket-dpip-addr-add.txt",
    "222-stale-socket-ipvsadm-ln.txt",
    "223-stale-socket-ipvsadm-A.txt",
]
RESTARTED = [  # the daemon restarted: all runtime state is gone
    "230-after-restart-ipvsadm-ln.txt",
    "231-after-restart-dpip-addr-show.txt",
    "232-after-restart-dpip-route-show.txt",
]
NOT_RUNNING = [  # no daemon, no socket file
    "00-daemon-down-dpip-link-show.txt",
    "00-daemon-down-dpip-addr-show.txt",
    "00-daemon-down-dpip-addr-add.txt",
    "00-daemon-down-ipvsadm-ln.txt",
    "00-daemon-down-ipvsadm-A.txt",
]


def proc_stat(pid):
    """``(state, utime + stime)`` of a process from /proc (None once it is reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rpartition(")")[2].split()
    except FileNotFoundError:
        return None
    return fields[0], int(fields[11]) + int(fields[12])


def wait_for(predicate, what, timeout=READY_TIMEOUT):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.02)


class Daemons:
    """``dpvs`` processes of one emulator, with the unit's command line (pid file, ipc, EAL)."""

    def __init__(self, tmp_path):
        self.emu = Emulator(tmp_path)
        # the lab's state lives in /run/dpvs-emulator/: a folder that does not exist yet
        self.state = str(tmp_path / "run" / "dpvs-emulator" / "state.json")
        self.pid_file = str(tmp_path / "dpvs.pid")
        self.ipc = self.emu.ipc
        self.procs = []

    def env(self, ports=None, foreground="1"):
        env = self.emu.env()
        env["DPVS_EMULATOR_STATE"] = self.state
        if foreground is not None:
            env["DPVS_EMULATOR_FOREGROUND"] = foreground
        if ports:
            env["DPVS_EMULATOR_PORTS"] = ports
        return env

    def argv(self):
        conf = os.path.join(self.emu.dir, "dpvs.conf")
        return [os.path.join(EMULATOR_BIN, "dpvs"), "-c", conf, "-p", self.pid_file, "-x", self.ipc, "--", *EAL]

    def popen(self, ports=None):
        log = open(os.path.join(self.emu.dir, f"dpvs-{len(self.procs)}.log"), "w")  # noqa: SIM115
        proc = subprocess.Popen(
            self.argv(), env=self.env(ports), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.procs.append(proc)
        return proc

    def start(self, ports=None):
        """A foreground dpvs, once ``dpip link show`` answers (the unit's ExecStartPost probe)."""
        proc = self.popen(ports)

        def answers():
            assert proc.poll() is None, f"dpvs exited with {proc.returncode} before it answered"
            return self.run("dpip", "link", "show")[2] == 0

        wait_for(answers, "dpip link show to answer")
        return proc

    def run(self, *argv, env=None):
        proc = subprocess.run(
            [os.path.join(EMULATOR_BIN, argv[0]), *argv[1:]],
            env=env or self.env(foreground=None),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return proc.stdout, proc.stderr, proc.returncode

    def ctl(self, *args):
        return self.run("dpvs-emulator", *args)

    def expect(self, name):
        """The command of transcript ``name`` gives its stdout, stderr and exit code exactly."""
        expected = transcripts.load(name)
        got = self.run(*expected.command.split())
        assert got == (expected.stdout, expected.stderr, expected.exit_code), name

    def cleanup(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        self.ctl("stop")


@pytest.fixture
def daemons(tmp_path):
    dpvs = Daemons(tmp_path)
    yield dpvs
    dpvs.cleanup()


def read(path):
    with open(path) as handle:
        return handle.read()


def test_dpvs_stays_in_the_foreground_with_its_pid_file(daemons):
    assert not os.path.exists(os.path.dirname(daemons.state))
    proc = daemons.start(PORTS_SEED001)
    assert read(daemons.pid_file) == f"{proc.pid}\n"  # what the real dpvs writes there
    out, err, rc = daemons.ctl("status")
    assert (rc, err) == (0, "")
    assert out == (
        f"running ipc={daemons.ipc} state={daemons.state} ports=dpdk0,dpdk1,dpdk2,dpdk3 addrs=4 services=0 "
        f"pid={proc.pid}\n"
    )
    # idle: asleep in sigwait(), no CPU used
    before = proc_stat(proc.pid)
    time.sleep(0.5)
    after = proc_stat(proc.pid)
    assert after[0] == "S", after
    assert after[1] - before[1] <= 2, (before, after)  # clock ticks; a busy loop burns ~50
    assert proc.poll() is None
    # a second start while it runs: transcript 202, and the first one keeps running
    second = transcripts.load("202-dpvs-start-while-running.txt")
    again = subprocess.run(daemons.argv(), env=daemons.env(), capture_output=True, text=True, timeout=60, check=False)
    assert (again.stdout, again.stderr, again.returncode) == (second.stdout, second.stderr, second.exit_code)
    assert daemons.ctl("start") == ("", second.stderr, 1)
    assert proc.poll() is None
    assert read(daemons.pid_file) == f"{proc.pid}\n"


def test_kill_9_is_a_crash_and_a_new_dpvs_starts_fresh(daemons):
    proc = daemons.start()  # no PORTS_FILE: the lab's daemon of the transcripts
    assert daemons.run("dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk0")[2] == 0
    assert daemons.run("ipvsadm", "-A", "-t", "10.0.96.204:80", "-s", "rr")[2] == 0
    os.kill(proc.pid, signal.SIGKILL)
    wait_for(lambda: proc_stat(proc.pid)[0] == "Z", "the killed dpvs to be a zombie")
    for name in KILLED:  # the zombie (not reaped yet) is dead too
        daemons.expect(name)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    for name in KILLED:
        daemons.expect(name)
    assert os.path.exists(daemons.ipc)  # the socket file stays
    assert read(daemons.pid_file) == f"{proc.pid}\n"  # so does the pid file
    assert daemons.ctl("status") == (f"killed ipc={daemons.ipc} (stale socket) state={daemons.state}\n", "", 1)
    assert daemons.ctl("kill") == ("", "dpvs-emulator: not running\n", 1)

    again = daemons.start()  # Restart=on-failure: a fresh daemon on the stale socket's path
    assert read(daemons.pid_file) == f"{again.pid}\n"
    for name in RESTARTED:
        daemons.expect(name)
    assert daemons.ctl("status")[2] == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_kills_it_as_the_real_one(daemons, signum):
    """v1.10.2 installs no handler for SIGTERM/SIGINT (transcripts README, "Signals"): it dies and
    leaves the socket and the pid file behind, as after a kill -9."""
    proc = daemons.start(PORTS_SEED001)
    assert daemons.run("dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk2")[2] == 0
    os.kill(proc.pid, signum)
    assert proc.wait(timeout=10) == -signum
    assert os.path.exists(daemons.ipc)
    assert read(daemons.pid_file) == f"{proc.pid}\n"
    for name in KILLED:
        daemons.expect(name)
    assert daemons.ctl("status") == (f"killed ipc={daemons.ipc} (stale socket) state={daemons.state}\n", "", 1)
    # and it starts again, empty
    daemons.start()
    for name in RESTARTED:
        daemons.expect(name)


def test_sighup_keeps_the_state(daemons):
    proc = daemons.start(PORTS_SEED001)
    assert daemons.run("dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk2")[2] == 0
    assert daemons.run("ipvsadm", "-A", "-t", "10.0.96.204:80", "-s", "rr")[2] == 0
    before = [daemons.run("dpip", "addr", "show"), daemons.run("ipvsadm", "-ln")]
    assert "10.0.96.204/32" in before[0][0] and "10.0.96.204:80 rr" in before[1][0]
    os.kill(proc.pid, signal.SIGHUP)
    assert daemons.ctl("reload") == ("", "", 0)  # the same signal, sent by the emulator
    time.sleep(0.3)
    assert proc.poll() is None
    assert [daemons.run("dpip", "addr", "show"), daemons.run("ipvsadm", "-ln")] == before
    assert read(daemons.pid_file) == f"{proc.pid}\n"


def test_emulator_stop_and_kill_signal_the_process(daemons):
    proc = daemons.start()
    assert daemons.ctl("stop") == ("", "", 0)  # SIGTERM, it waits for the exit, then a stopped state
    assert proc.wait(timeout=1) == -signal.SIGTERM
    assert not os.path.lexists(daemons.ipc)
    daemons.expect("00-daemon-down-ipvsadm-ln.txt")

    proc = daemons.start()
    assert daemons.ctl("kill") == ("", "", 0)  # a real SIGKILL
    assert proc.wait(timeout=10) == -signal.SIGKILL
    for name in KILLED:
        daemons.expect(name)
    assert daemons.ctl("status")[2] == 1
    assert daemons.ctl("start") == ("", "", 0)  # a plain start after the crash replaces the stale socket
    daemons.expect("230-after-restart-ipvsadm-ln.txt")


def test_emulator_stop_of_a_process_that_does_not_exit_is_bounded(daemons):
    proc = daemons.start()
    os.kill(proc.pid, signal.SIGSTOP)  # SIGTERM stays pending: it cannot stop itself
    began = time.monotonic()
    out, err, rc = daemons.ctl("stop")
    assert time.monotonic() - began < 9
    assert (out, err, rc) == ("", f"dpvs-emulator: dpvs (pid {proc.pid}) did not stop within 5s: SIGKILL\n", 0)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    assert not os.path.lexists(daemons.ipc)
    for name in NOT_RUNNING:
        daemons.expect(name)
    assert daemons.ctl("status")[2] == 3


def test_without_foreground_dpvs_returns_at_once(daemons):
    """Unset (or 0): today's behaviour, a start that returns (the integration tests rely on it)."""
    for foreground in (None, "0"):
        started = subprocess.run(
            daemons.argv(),
            env=daemons.env(foreground=foreground),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (started.stdout, started.stderr, started.returncode) == ("", "", 0)
        assert not os.path.exists(daemons.pid_file)
        out, _err, rc = daemons.ctl("status")
        assert rc == 0 and " pid=" not in out
        daemons.expect("230-after-restart-ipvsadm-ln.txt")
        assert daemons.ctl("stop") == ("", "", 0)


def test_pid_liveness_sees_zombies_and_reused_pids():
    sys.path.insert(0, EMULATOR_DIR)
    try:
        from dpvs_emulator import state
    finally:
        sys.path.remove(EMULATOR_DIR)
    me = os.getpid()
    started = state.proc_stat(me)[1]
    assert state.pid_alive(me, started) is True
    assert state.pid_alive(me, started + 1) is False  # the pid now belongs to another process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_for(lambda: proc_stat(child.pid)[0] == "Z", "a zombie child")
        assert state.pid_alive(child.pid) is False
    finally:
        child.wait(timeout=10)
    assert state.pid_alive(child.pid) is False
