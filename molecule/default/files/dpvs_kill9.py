"""kill -9 of dpvs.service's main process, then the time until DPVS is back as declared.

Prints one JSON object: the killed pid, the new one, and seconds from the kill to
  started   systemd started the new daemon (ExecMainStartTimestamp: RestartSec and the stop),
  answers   dpvs.service is active again (its probe saw `dpip link show` answer),
  replayed  dpvs-state.service is active again (the replay applied the state and read it back),
  serving   the declared state is back: the replay's end, once `ipvsadm -ln` lists every
            VIP:port given on the command line and `dpip addr show` every address.
The times are systemd's own timestamps (CLOCK_MONOTONIC, like the kill's): this script only
looks every 0.25 s with systemctl, so that it takes next to no CPU from what it measures (the
lab's emulated CPUs run every dpip/ipvsadm as a Python program of 0.3-0.7 s; a loop of them
here would slow the restart down and round every figure up to its own period).
Exits 1 when that takes longer than the timeout (first argument, seconds).
Usage: dpvs_kill9.py TIMEOUT "VIP:PORT,..." "ADDR,..."
"""

import json
import os
import signal
import subprocess
import sys
import time


def run(*argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
    return proc.returncode, proc.stdout


def unit(name, *props):
    """``{prop: value}`` of ``systemctl show`` for ``name``."""
    out = run("systemctl", "show", "--property=" + ",".join(props), name)[1]
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def since(usec, start_usec):
    """Seconds from the kill to a systemd monotonic timestamp (None before the kill)."""
    usec = int(usec or 0)
    return round((usec - start_usec) / 1e6, 2) if usec > start_usec else None


def wait_replayed(start_usec, deadline):
    """dpvs-state.service's activation after the kill, or None at the deadline."""
    while time.monotonic() < deadline:
        state = unit("dpvs-state.service", "ActiveState", "ActiveEnterTimestampMonotonic")
        if state.get("ActiveState") == "active" and since(state.get("ActiveEnterTimestampMonotonic"), start_usec):
            return state
        time.sleep(0.25)
    return None


def declared_back(services, addrs):
    listing = run("ipvsadm", "-ln")[1] + run("dpip", "addr", "show")[1]
    return all(s in listing for s in services) and all(a in listing for a in addrs)


def main():
    timeout, services, addrs = float(sys.argv[1]), sys.argv[2].split(","), sys.argv[3].split(",")
    pid = int(unit("dpvs.service", "MainPID").get("MainPID", 0))
    if pid <= 0:
        print(json.dumps({"error": "dpvs.service has no main process"}))
        return 1
    start = time.monotonic()
    start_usec = int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6)
    os.kill(pid, signal.SIGKILL)
    seen = {"killed_pid": pid}
    state = wait_replayed(start_usec, start + timeout)
    props = "MainPID", "NRestarts", "ExecMainStartTimestampMonotonic", "ActiveEnterTimestampMonotonic"
    dpvs = unit("dpvs.service", *props)
    seen["started"] = since(dpvs.get("ExecMainStartTimestampMonotonic"), start_usec)
    seen["answers"] = since(dpvs.get("ActiveEnterTimestampMonotonic"), start_usec)
    if state is not None:
        seen["replayed"] = since(state["ActiveEnterTimestampMonotonic"], start_usec)
        if declared_back(services, addrs):
            seen["serving"] = seen["replayed"]
    seen["new_pid"] = int(dpvs.get("MainPID", 0))
    seen["restarts"] = int(dpvs.get("NRestarts") or 0)
    print(json.dumps(seen))
    return 0 if "serving" in seen else 1


if __name__ == "__main__":
    sys.exit(main())
