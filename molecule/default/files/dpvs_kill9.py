"""kill -9 of dpvs.service's main process, then the time until DPVS is back as declared.

Prints one JSON object: the killed pid, the new one, and seconds from the kill to
  answers   `dpip link show` answers again (a new daemon is up),
  replayed  dpvs-state.service is active again after the kill (the replay ran),
  serving   `ipvsadm -ln` lists every VIP:port given on the command line and `dpip addr show`
            every address: the declared state is back.
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


def unit(prop, name="dpvs.service"):
    return run("systemctl", "show", "--property=" + prop, "--value", name)[1].strip()


def main():
    timeout, services, addrs = float(sys.argv[1]), sys.argv[2].split(","), sys.argv[3].split(",")
    pid = int(unit("MainPID"))
    if pid <= 0:
        print(json.dumps({"error": "dpvs.service has no main process"}))
        return 1
    start = time.monotonic()
    start_usec = int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6)
    os.kill(pid, signal.SIGKILL)
    seen = {"killed_pid": pid}
    while time.monotonic() - start < timeout:
        now = round(time.monotonic() - start, 2)
        if "answers" not in seen and run("dpip", "link", "show")[0] == 0:
            seen["answers"] = now
        if (
            "replayed" not in seen
            and unit("ActiveState", "dpvs-state.service") == "active"
            and int(unit("ActiveEnterTimestampMonotonic", "dpvs-state.service") or 0) > start_usec
        ):
            seen["replayed"] = now
        if "answers" in seen and "serving" not in seen:
            listing = run("ipvsadm", "-ln")[1] + run("dpip", "addr", "show")[1]
            if all(s in listing for s in services) and all(a in listing for a in addrs):
                seen["serving"] = now
        if "serving" in seen and "replayed" in seen:
            break
        time.sleep(0.05)
    seen["new_pid"] = int(unit("MainPID"))
    seen["restarts"] = int(unit("NRestarts") or 0)
    print(json.dumps(seen))
    return 0 if "serving" in seen and "replayed" in seen else 1


if __name__ == "__main__":
    sys.exit(main())
