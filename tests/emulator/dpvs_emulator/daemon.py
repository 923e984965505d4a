"""Lifecycle of the emulated daemon: ``dpvs-emulator start|stop|kill|status|reload`` and ``dpvs``.

The daemon is the state file: "running" is a flag there plus the IPC socket file, which the
tools check exactly like the real ones connect to it (see ``state.connect_errno``). ``dpvs``
with ``DPVS_EMULATOR_FOREGROUND=1`` is also a process, as under systemd: it records its pid,
writes the ``-p`` pid file and waits for signals (SIGTERM/SIGINT: a clean stop; SIGHUP: nothing).
Once that process is gone without a stop (``kill -9``), the daemon counts as killed: the socket
file stays and nothing listens (``state.daemon_running``).
"""
# ruff: noqa: UP031 (printf-style formats mirror the C tools' printf calls)

import contextlib
import os
import signal
import socket
import sys
import time

from .state import (
    DEFAULT_IPC,
    FORMAT,
    ConfigError,
    Locked,
    daemon_running,
    fresh_runtime,
    load_ports_config,
    pid_alive,
    proc_stat,
    state_path,
)

STOP_TIMEOUT = 5  # seconds a stop waits for a daemon process to exit after SIGTERM
USAGE = """usage: dpvs-emulator COMMAND
  start [-x IPC_FILE] [PORTS_FILE]  start a fresh daemon (empty runtime state); IPC_FILE defaults
                                    to $DPVS_IPC_FILE, else /var/run/dpvs.ipc
  stop                              stop it: the IPC socket file is removed, the state is gone
                                    (a dpvs process: SIGTERM, up to 5 s)
  kill                              SIGKILL: nothing listens, the socket file stays (stale)
  reload                            SIGHUP: config reload, runtime state untouched
  status                            print the state; rc 0 running, 1 killed (stale socket), 3 stopped
  fault worker-nomem [--count N] [--cpu N] [--any]
                                    the next N (default 1) address adds with sapool (--any: all
                                    address adds) succeed on the master and fail on worker cpuN
                                    (default 1), as DPVS short of hugepage memory does
  fault clear                       disarm it (addresses a worker lacks stay missing there)
  fault                             the armed fault, then the DPVS log line of every address a
                                    worker lacks
state file: $DPVS_EMULATOR_STATE (now %s)
"""
DPVS_VERSION_LINE = "dpvs version: 1.10-2, build on 2026.11.21.05:19:10\n"
DPVS_HELP = """
Usage: dpvs DPVS application options:
   -v, --version           display DPVS version info
   -c, --conf FILE         specify config file for DPVS
   -p, --pid-file FILE     specify pid file of DPVS process
   -x, --ipc-file FILE     specify unix socket file for ipc communication between DPVS and Tools
   -h, --help              display DPVS help info
"""


def _err(msg):
    sys.stderr.write(msg)
    sys.stderr.flush()


def make_socket_file(path):
    """What dpvs does at start: unlink the old socket, bind a new one (left behind on kill)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    if len(path.encode("utf-8")) < 108:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
        finally:
            sock.close()
    else:  # too long for sun_path: a plain file marks the endpoint just as well here
        with open(path, "w"):
            pass
    st = os.stat(path)
    return [st.st_dev, st.st_ino]


def start(ipc, ports_file, pid=None):
    """A fresh daemon; ``pid``: the foreground ``dpvs`` process that is the daemon (None: the
    daemon is only the state document, as ``dpvs-emulator start`` makes it)."""
    try:
        config = load_ports_config(ports_file)
    except ConfigError as exc:
        _err("dpvs-emulator: bad PORTS_FILE: %s\n" % exc)
        return 2
    ipc = os.path.abspath(ipc)
    with Locked() as lock:
        doc = lock.doc
        if daemon_running(doc):
            _err("dpvs is already running\n")
            return 1
        try:
            ipc_id = make_socket_file(ipc)
        except OSError as exc:
            _err("dpvs-emulator: cannot create the IPC socket %s: %s\n" % (ipc, exc.strerror))
            return 1
        generation = (doc or {}).get("generation", 0) + 1
        stat = proc_stat(pid) if pid else None
        lock.save({
            "format": FORMAT, "running": True, "ipc": ipc, "ipc_id": ipc_id,
            "generation": generation, "ports_file": ports_file and os.path.abspath(ports_file),
            "pid": pid, "pid_start": stat and stat[1],
            "started": time.time(), "config": config, "rt": fresh_runtime(config),
        })
    return 0


def _settle(doc):
    """The document as the daemon's process left it: a recorded process that is gone is a
    crash (``kill``), whatever the document still says."""
    if doc and doc.get("running") and not daemon_running(doc):
        doc.update({"running": False, "stale_socket": True, "pid": None})
    return doc


def _wait_gone(pid, pid_start, limit):
    deadline = time.monotonic() + limit
    while pid_alive(pid, pid_start):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _stop_state(lock, generation=None):
    """What a stop leaves: no socket file, no runtime state; True when it was running.
    ``generation``: only if that daemon is still the last one started."""
    doc = _settle(lock.doc)
    if not doc or (generation is not None and doc.get("generation") != generation):
        return False
    was_running = bool(doc.get("running"))
    ipc = doc.get("ipc")
    if ipc and os.path.lexists(ipc):
        with contextlib.suppress(OSError):
            os.unlink(ipc)
    doc.update({"running": False, "stale_socket": False, "rt": None, "pid": None})
    lock.save(doc)
    return was_running


def stop():
    with Locked() as lock:
        doc = _settle(lock.doc)
        pid = doc and doc.get("running") and doc.get("pid")
        if not pid:
            if not _stop_state(lock):
                _err("dpvs-emulator: not running\n")
            return 0
        pid_start, generation = doc.get("pid_start"), doc.get("generation")
    # a daemon process stops itself on SIGTERM (it needs the lock for that)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not _wait_gone(pid, pid_start, STOP_TIMEOUT):
        _err("dpvs-emulator: dpvs (pid %d) did not stop within %ds: SIGKILL\n" % (pid, STOP_TIMEOUT))
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, pid_start, STOP_TIMEOUT)
    with Locked() as lock:
        _stop_state(lock, generation)
    return 0


def kill():
    with Locked() as lock:
        doc = _settle(lock.doc)
        if not doc or not doc.get("running"):
            _err("dpvs-emulator: not running\n")
            return 1
        pid = doc.get("pid")
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, doc.get("pid_start"), STOP_TIMEOUT)
        doc.update({"running": False, "stale_socket": True, "pid": None})
        lock.save(doc)
    return 0


def reload_():
    with Locked() as lock:
        doc = _settle(lock.doc)
        if not doc or not doc.get("running"):
            _err("dpvs-emulator: not running\n")
            return 1
        if doc.get("pid"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(doc["pid"], signal.SIGHUP)
    return 0


def status():
    with Locked() as lock:
        doc = _settle(lock.doc)
    path = state_path()
    if doc and doc.get("running"):
        rt = doc["rt"]
        sys.stdout.write("running ipc=%s state=%s ports=%s addrs=%d services=%d%s\n" % (
            doc["ipc"], path, ",".join(p["name"] for p in rt["ports"]), len(rt["addrs"]),
            len(rt["svcs"]), " pid=%d" % doc["pid"] if doc.get("pid") else ""))
        return 0
    if doc and doc.get("stale_socket") and os.path.lexists(doc.get("ipc", "")):
        sys.stdout.write("killed ipc=%s (stale socket) state=%s\n" % (doc["ipc"], path))
        return 1
    sys.stdout.write("stopped state=%s\n" % path)
    return 3


def _fault_args(rest):
    """``worker-nomem [--count N] [--cpu N] [--any]`` -> the fault, or None (usage)."""
    if not rest or rest[0] != "worker-nomem":
        return None
    fault = {"kind": "worker-nomem", "count": 1, "cpu": 1, "sapool_only": True}
    words = rest[1:]
    while words:
        word = words.pop(0)
        if word == "--any":
            fault["sapool_only"] = False
        elif word in ("--count", "--cpu") and words and words[0].isdigit() and int(words[0]) > 0:
            fault[word[2:]] = int(words.pop(0))
        else:
            return None
    return fault


def _fault_show(doc):
    fault = doc["rt"].get("fault")
    if fault:
        sys.stdout.write("armed: %s count=%d cpu=%d %s\n" % (
            fault["kind"], fault["count"], fault["cpu"],
            "sapool adds" if fault["sapool_only"] else "all adds"))
    else:
        sys.stdout.write("armed: none\n")
    for ifa in doc["rt"]["addrs"]:
        for cid in ifa.get("missing_on", ()):
            sys.stdout.write("IFA: [%02d] ifa_entry_add: add ifaddr %s failed -- no memory\n"
                             % (cid, ifa["addr"]))


def fault(rest):
    """``dpvs-emulator fault ...``: arm, clear or show the worker-nomem fault (in the runtime
    state: a restart forgets it, as it forgets the addresses)."""
    armed = None if rest in ([], ["clear"]) else _fault_args(rest)
    if rest not in ([], ["clear"]) and armed is None:
        _err(USAGE % state_path())
        return 2
    with Locked() as lock:
        doc = _settle(lock.doc)
        if not doc or not doc.get("running"):
            _err("dpvs-emulator: not running\n")
            return 1
        if not rest:
            _fault_show(doc)
            return 0
        if armed and armed["cpu"] > doc["config"]["workers"]:
            _err("dpvs-emulator: no worker cpu%d (workers: cpu1..cpu%d)\n"
                 % (armed["cpu"], doc["config"]["workers"]))
            return 2
        doc["rt"]["fault"] = armed
        lock.save(doc)
    return 0


def main(argv):
    args = argv[1:]
    if not args or args[0] in ("-h", "--help", "help"):
        (sys.stdout if args else sys.stderr).write(USAGE % state_path())
        return 0 if args else 2
    cmd, rest = args[0], args[1:]
    if cmd == "start":
        ipc = None
        ports = []
        while rest:
            word = rest.pop(0)
            if word in ("-x", "--ipc-file"):
                if not rest:
                    _err("dpvs-emulator: -x needs a file\n")
                    return 2
                ipc = rest.pop(0)
            else:
                ports.append(word)
        if len(ports) > 1:
            _err(USAGE % state_path())
            return 2
        if ipc is None:
            ipc = os.environ.get("DPVS_IPC_FILE") or DEFAULT_IPC
        return start(ipc, ports[0] if ports else None)
    if cmd == "fault":
        return fault(rest)
    handlers = {"stop": stop, "kill": kill, "reload": reload_, "status": status}
    if cmd in handlers and not rest:
        return handlers[cmd]()
    _err(USAGE % state_path())
    return 2


def _foreground_wanted():
    return os.environ.get("DPVS_EMULATOR_FOREGROUND", "") not in ("", "0")


def _undo_start(pid_file):
    """The start of this process's daemon taken back (not a later one's): the pid file failed."""
    me = os.getpid()
    stat = proc_stat(me)
    with Locked() as lock:
        doc = lock.doc
        if doc and doc.get("running") and doc.get("pid") == me and (
                stat is None or doc.get("pid_start") == stat[1]):
            _stop_state(lock, doc.get("generation"))
    if pid_file:
        with contextlib.suppress(OSError):
            os.unlink(pid_file)


def foreground(ipc, ports, pid_file):
    """``dpvs`` as a process: start, write the pid file, then sleep in sigwait(). As the real
    v1.10.2, only SIGHUP is handled (a reload that keeps the runtime state, 209): SIGTERM and
    SIGINT kill it like SIGKILL does, leaving the socket and the pid file behind."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # no KeyboardInterrupt: a C program just dies
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})  # pending until sigwait() takes it
    code = start(ipc, ports, os.getpid())
    if code:
        return code
    if pid_file:
        try:
            with open(pid_file, "w") as handle:
                handle.write("%d\n" % os.getpid())
        except OSError as exc:
            _err("dpvs-emulator: cannot write the pid file %s: %s\n" % (pid_file, exc.strerror))
            _undo_start(None)
            return 1
    while True:
        signal.sigwait({signal.SIGHUP})  # reload: nothing to do


def dpvs_main(argv):
    """The ``dpvs`` binary: -v, -h, or a start (returns at once unless DPVS_EMULATOR_FOREGROUND)."""
    args = argv[1:]
    ipc = DEFAULT_IPC
    pid_file = None
    if "--" in args:
        cut = args.index("--")
        args = args[:cut]  # the EAL arguments are ignored
    while args:
        word = args.pop(0)
        if word in ("-v", "--version"):
            _err(DPVS_VERSION_LINE)
            return 0
        if word in ("-h", "--help"):
            sys.stdout.write(DPVS_HELP)
            return 0
        if word in ("-c", "--conf", "-p", "--pid-file", "-x", "--ipc-file"):
            if not args:
                sys.stdout.write(DPVS_HELP)
                return 1
            value = args.pop(0)
            if word in ("-x", "--ipc-file"):
                ipc = value
            elif word in ("-p", "--pid-file"):
                pid_file = value
        else:
            sys.stdout.write(DPVS_HELP)
            return 1
    ports = os.environ.get("DPVS_EMULATOR_PORTS") or None
    if _foreground_wanted():
        return foreground(ipc, ports, pid_file)
    return start(ipc, ports)
