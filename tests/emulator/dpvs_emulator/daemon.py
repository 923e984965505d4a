"""Lifecycle of the emulated daemon: ``dpvs-emulator start|stop|kill|status|reload`` and ``dpvs``.

There is no daemon process: "running" is a flag in the state file plus the IPC socket file,
which the tools check exactly like the real ones connect to it (see ``state.connect_errno``).
"""
# ruff: noqa: UP031 (printf-style formats mirror the C tools' printf calls)

import contextlib
import os
import socket
import sys
import time

from .state import (
    DEFAULT_IPC,
    FORMAT,
    ConfigError,
    Locked,
    fresh_runtime,
    load_ports_config,
    state_path,
)

USAGE = """usage: dpvs-emulator COMMAND
  start [-x IPC_FILE] [PORTS_FILE]  start a fresh daemon (empty runtime state); IPC_FILE defaults
                                    to $DPVS_IPC_FILE, else /var/run/dpvs.ipc
  stop                              stop it: the IPC socket file is removed, the state is gone
  kill                              SIGKILL: nothing listens, the socket file stays (stale)
  reload                            SIGHUP: config reload, runtime state untouched
  status                            print the state; rc 0 running, 1 killed (stale socket), 3 stopped
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


def start(ipc, ports_file):
    try:
        config = load_ports_config(ports_file)
    except ConfigError as exc:
        _err("dpvs-emulator: bad PORTS_FILE: %s\n" % exc)
        return 2
    ipc = os.path.abspath(ipc)
    with Locked() as lock:
        doc = lock.doc
        if doc and doc.get("running"):
            _err("dpvs is already running\n")
            return 1
        try:
            ipc_id = make_socket_file(ipc)
        except OSError as exc:
            _err("dpvs-emulator: cannot create the IPC socket %s: %s\n" % (ipc, exc.strerror))
            return 1
        generation = (doc or {}).get("generation", 0) + 1
        lock.save({
            "format": FORMAT, "running": True, "ipc": ipc, "ipc_id": ipc_id,
            "generation": generation, "ports_file": ports_file and os.path.abspath(ports_file),
            "started": time.time(), "config": config, "rt": fresh_runtime(config),
        })
    return 0


def stop():
    with Locked() as lock:
        doc = lock.doc
        if not doc:
            _err("dpvs-emulator: not running\n")
            return 0
        ipc = doc.get("ipc")
        if ipc and os.path.lexists(ipc):
            with contextlib.suppress(OSError):
                os.unlink(ipc)
        if not doc.get("running"):
            _err("dpvs-emulator: not running\n")
        doc.update({"running": False, "stale_socket": False, "rt": None})
        lock.save(doc)
    return 0


def kill():
    with Locked() as lock:
        doc = lock.doc
        if not doc or not doc.get("running"):
            _err("dpvs-emulator: not running\n")
            return 1
        doc.update({"running": False, "stale_socket": True})
        lock.save(doc)
    return 0


def reload_():
    with Locked() as lock:
        doc = lock.doc
        if not doc or not doc.get("running"):
            _err("dpvs-emulator: not running\n")
            return 1
    return 0


def status():
    with Locked() as lock:
        doc = lock.doc
    path = state_path()
    if doc and doc.get("running"):
        rt = doc["rt"]
        sys.stdout.write("running ipc=%s state=%s ports=%s addrs=%d services=%d\n" % (
            doc["ipc"], path, ",".join(p["name"] for p in rt["ports"]), len(rt["addrs"]),
            len(rt["svcs"])))
        return 0
    if doc and doc.get("stale_socket") and os.path.lexists(doc.get("ipc", "")):
        sys.stdout.write("killed ipc=%s (stale socket) state=%s\n" % (doc["ipc"], path))
        return 1
    sys.stdout.write("stopped state=%s\n" % path)
    return 3


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
    handlers = {"stop": stop, "kill": kill, "reload": reload_, "status": status}
    if cmd in handlers and not rest:
        return handlers[cmd]()
    _err(USAGE % state_path())
    return 2


def dpvs_main(argv):
    """The ``dpvs`` binary: -v, -h, or a start (returns at once: there is no foreground loop)."""
    args = argv[1:]
    ipc = DEFAULT_IPC
    eal = []
    if "--" in args:
        cut = args.index("--")
        args, eal = args[:cut], args[cut + 1:]
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
        else:
            sys.stdout.write(DPVS_HELP)
            return 1
    del eal
    ports = os.environ.get("DPVS_EMULATOR_PORTS") or None
    return start(ipc, ports)
