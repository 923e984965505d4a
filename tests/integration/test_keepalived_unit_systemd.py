"""dpvs-keepalived.service (the keepalived role's unit for the DPVS fork) under a real systemd,
next to dpvs.service as the dpvs role renders it, with a fake DPVS and a fake keepalived.

The fake DPVS becomes ready (its probe, dpip, answers) 0.5 s after it starts; the fake keepalived
writes "early" and fails when it starts before that, "start PID" otherwise, "reload PID" on
SIGHUP. The contract (DPVS issues #212 and #368): keepalived starts only after DPVS is ready,
starts again after every restart and every crash of DPVS (its services, local addresses and
VIPs are gone with DPVS's state), stops when DPVS stops, and reloads in place.

The managers are the ones of test_dpvs_unit_systemd.py (the host's systemd when it is pid 1,
else one booted in namespaces for the test).
"""

import os
import time
import uuid

import jinja2
import test_dpvs_unit_systemd as units
from ansible.plugins.filter.core import comment
from test_dpvs_unit_systemd import dpvs_unit, fake_bin, install

# the managers and work directories of test_dpvs_unit_systemd.py, as this module's fixtures
systemd = units.systemd
workdir = units.workdir

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(REPO, "roles", "keepalived", "templates")

FAKE_DPVS = """#!/bin/sh
rm -f {ready}
test -e {fail} && exit 1
sleep 0.5
touch {ready}
exec sleep 600
"""
FAKE_KEEPALIVED = """#!/bin/sh
test -e {ready} || {{ echo "early $$" >> {log}; exit 1; }}
echo "start $$" >> {log}
trap 'echo "reload $$" >> {log}' HUP
trap 'echo "stop $$" >> {log}; exit 0' TERM
while :; do sleep 0.1 & wait $!; done
"""


def render(dpvs_name, binary, conf, ipc):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["comment"] = comment
    return env.get_template("dpvs-keepalived.service.j2").render(
        ansible_managed="Ansible managed",
        keepalived_dpvs_unit=dpvs_name,
        keepalived_after_units=[],
        keepalived_ipc_file=ipc,
        __keepalived_binary=binary,
        __keepalived_conf=conf,
    )


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [line.split() for line in handle.read().splitlines()]


def wait(predicate, what, timeout=20):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


def test_keepalived_follows_dpvs(systemd, workdir):
    tag = uuid.uuid4().hex[:8]
    dpvs_name, ka_name = f"dpvs-cluster-test-{tag}.service", f"dpvs-cluster-test-{tag}-keepalived.service"
    ready, log = os.path.join(workdir, "ready"), os.path.join(workdir, "keepalived-events.log")
    fail = os.path.join(workdir, "fail")
    bin_dir = fake_bin(workdir, FAKE_DPVS.format(ready=ready, fail=fail), answers_once=ready)
    fake = os.path.join(bin_dir, "keepalived")
    with open(fake, "w") as handle:
        handle.write(FAKE_KEEPALIVED.format(ready=ready, log=log))
    os.chmod(fake, 0o755)
    dpvs_text = dpvs_unit(workdir, dpvs_name, prefix=f"katest{tag}").replace("\nRestart=no\n", "\nRestart=on-failure\n")
    install(systemd, workdir, dpvs_name, dpvs_text)
    unit = render(dpvs_name, fake, os.path.join(workdir, "keepalived.conf"), os.path.join(workdir, "dpvs.ipc"))
    for line in (f"BindsTo={dpvs_name}", f"After={dpvs_name}", f"WantedBy={dpvs_name}"):
        assert line in unit.splitlines()
    install(systemd, workdir, ka_name, unit)
    # what `systemctl enable` makes of WantedBy=, in the manager's unit directory
    wants = os.path.join(systemd.unit_dir, f"{dpvs_name}.wants")
    systemd.run(["mkdir", "-p", wants], check=True)
    systemd.run(["ln", "-sf", os.path.join(systemd.unit_dir, ka_name), os.path.join(wants, ka_name)], check=True)
    systemd.run(["systemctl", "daemon-reload"], check=True)
    try:
        _lifecycle(systemd, dpvs_name, ka_name, log)
        _dpvs_gone_for_good(systemd, dpvs_name, ka_name, log, fail)
    finally:
        systemd.run(["systemctl", "stop", ka_name, dpvs_name], check=False)
        systemd.run(["rm", "-rf", wants], check=False)


def _starts(log):
    return [int(words[1]) for words in lines(log) if words[0] == "start"]


def _active(systemd, name):
    return systemd.run(["systemctl", "is-active", name], capture_output=True, text=True).stdout.strip() == "active"


def _main_pid(systemd, name):
    out = systemd.run(["systemctl", "show", "-p", "MainPID", "--value", name], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def _lifecycle(systemd, dpvs_name, ka_name, log):
    # started with DPVS (WantedBy), only once DPVS is ready (After: DPVS's probe passed)
    systemd.run(["systemctl", "start", dpvs_name], check=True, timeout=60)
    wait(lambda: len(_starts(log)) == 1 and _active(systemd, ka_name), "keepalived started with dpvs")
    # a restart of DPVS restarts keepalived (BindsTo stops it, WantedBy starts it)
    systemd.run(["systemctl", "restart", dpvs_name], check=True, timeout=60)
    wait(lambda: len(_starts(log)) == 2 and _active(systemd, ka_name), "keepalived restarted with dpvs")
    # DPVS crashes: keepalived stops with it (BindsTo) and starts again after Restart= brought DPVS back
    # (wait for the main pid: `systemctl show` outside the namespaces cannot signal it)
    pid = _main_pid(systemd, dpvs_name)
    systemd.run(["kill", "-KILL", str(pid)], check=True)
    wait(lambda: len(_starts(log)) == 3 and _active(systemd, ka_name), "keepalived back after a dpvs crash")
    assert _main_pid(systemd, dpvs_name) not in (0, pid)
    # a reload is SIGHUP to the running keepalived
    systemd.run(["systemctl", "reload", ka_name], check=True, timeout=30)
    current = _starts(log)[-1]
    wait(lambda: ["reload", str(current)] in lines(log), "keepalived reloaded in place")
    # DPVS stopped: keepalived stopped too
    systemd.run(["systemctl", "stop", dpvs_name], check=True, timeout=60)
    wait(lambda: not _active(systemd, ka_name), "keepalived stopped with dpvs")
    events = lines(log)
    assert not [words for words in events if words[0] == "early"], f"keepalived started before DPVS was ready: {events}"
    assert len(set(_starts(log))) == 3


def _dpvs_gone_for_good(systemd, dpvs_name, ka_name, log, fail):
    """DPVS crashes and cannot start again: keepalived stops and stays down (BindsTo), it does
    not run, or crash-loop, against a DPVS that is not there."""
    systemd.run(["systemctl", "start", dpvs_name], check=True, timeout=60)
    wait(lambda: len(_starts(log)) == 4 and _active(systemd, ka_name), "keepalived started with dpvs again")
    with open(fail, "w"):
        pass
    systemd.run(["kill", "-KILL", str(_main_pid(systemd, dpvs_name))], check=True)
    wait(lambda: not _active(systemd, ka_name), "keepalived stopped with the crashed dpvs")
    time.sleep(3)  # DPVS's Restart= tries again and fails meanwhile
    events = lines(log)
    assert not _active(systemd, ka_name) and len(_starts(log)) == 4, events
    assert not [words for words in events if words[0] == "early"], f"keepalived started without DPVS: {events}"
