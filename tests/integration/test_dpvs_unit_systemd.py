"""dpvs.service, rendered by the role's template, under a real systemd with a fake DPVS: the
readiness probe's message when DPVS dies before it answers (the exit status systemd recorded,
the end of dpvs.conf's log file, the journal), and the stop that frees DPDK's hugepage files of
the unit's file prefix on a real hugetlbfs while it keeps the one a process still maps.

systemd: the host's when it is pid 1 (units in /run/systemd/system, removed afterwards); else a
systemd booted for the test as pid 1 of new pid, mount, network, UTS and IPC namespaces, with
private /run and /tmp, only this test's units (``SYSTEMD_UNIT_PATH``: no tmpfiles, no udev, no
journald) and no generators; it is SIGKILLed and the cgroups it made are removed at the end.
Every file lives in a directory of /var/tmp that is removed afterwards; the hugepage files use a
prefix of their own (other prefixes are never touched).
"""

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
from ansible_collections.dpvs.cluster.plugins.action.host_tool import build_pyz

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "unit"))
from test_dpvs_units import render_unit, with_eal_args

SYSTEMD = "/lib/systemd/systemd"
LOCK = "/var/tmp/dpvs-cluster-systemd-test.lock"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
BOOT = """#!/bin/sh
set -e
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/test-units /run/test-generators
for t in test sysinit basic shutdown network-pre multi-user sockets timers paths slices local-fs; do
  printf '[Unit]\\nDescription=stub %s\\nDefaultDependencies=no\\n' "$t" > /run/test-units/$t.target
done
exec env container=other SYSTEMD_UNIT_PATH=/run/test-units SYSTEMD_GENERATOR_PATH=/run/test-generators \\
  SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/run/test-generators {systemd} --system --unit=test.target --log-target=console
"""


def _cgroup_dirs():
    found = set()
    for top, dirs, _files in os.walk("/sys/fs/cgroup"):
        if top.count("/") > 7:
            dirs[:] = []
        found |= {os.path.join(top, d) for d in dirs}
    return found


class NamespacedSystemd:
    """A systemd as pid 1 of its own namespaces; ``run`` executes argv inside them."""

    unit_dir = "/run/test-units"

    def __init__(self, workdir):
        self.cgroups = _cgroup_dirs()
        boot = os.path.join(workdir, "boot.sh")
        with open(boot, "w") as handle:
            handle.write(BOOT.format(systemd=SYSTEMD))
        os.chmod(boot, 0o755)
        self.log = os.path.join(workdir, "systemd.log")
        argv = ["unshare", "--pid", "--fork", "--mount", "--net", "--uts", "--ipc", "--mount-proc", boot]
        with open(self.log, "w") as log:
            self.unshare = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self._wait_for_init()

    def _wait_for_init(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            children = self._children()
            if children:
                pid = children[0]
                state = subprocess.run(
                    ["nsenter", "-t", str(pid), "-m", "-p", "systemctl", "is-system-running"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if state.stdout.strip() in ("running", "degraded"):
                    return pid
            time.sleep(0.1)
        self.close()
        with open(self.log) as log:
            raise AssertionError("the namespaced systemd did not come up: " + log.read())

    def _children(self):
        try:
            with open(f"/proc/{self.unshare.pid}/task/{self.unshare.pid}/children") as handle:
                return [int(pid) for pid in handle.read().split()]
        except OSError:
            return []

    def run(self, argv, **kwargs):
        check = kwargs.pop("check", False)
        return subprocess.run(["nsenter", "-t", str(self.pid), "-m", "-p", *argv], check=check, **kwargs)

    def close(self):
        for pid in self._children():
            os.kill(pid, signal.SIGKILL)  # pid 1 of the namespace: every process in it goes too
        self.unshare.wait(timeout=10)
        deadline = time.monotonic() + 5
        for path in sorted(_cgroup_dirs() - self.cgroups, key=len, reverse=True):
            while True:
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)


class HostSystemd:
    """The host's systemd (pid 1): units in /run/systemd/system, removed at the end."""

    unit_dir = "/run/systemd/system"

    def __init__(self):
        self.units = []

    def run(self, argv, **kwargs):
        check = kwargs.pop("check", False)
        return subprocess.run(argv, check=check, **kwargs)

    def close(self):
        for name in self.units:
            subprocess.run(["systemctl", "stop", name], capture_output=True, check=False)
            os.remove(os.path.join(self.unit_dir, name))
        subprocess.run(["systemctl", "daemon-reload"], check=False)
        for name in self.units:
            subprocess.run(["systemctl", "reset-failed", name], capture_output=True, check=False)


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="dpvs-cluster-systemd-", dir="/var/tmp")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def systemd(workdir):
    """One manager at a time across pytest-xdist workers (booted ones share the cgroup tree)."""
    with open("/proc/1/comm") as handle:
        host = handle.read().strip() == "systemd"
    if not host and (
        os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("nsenter") and os.path.exists(SYSTEMD))
    ):
        pytest.skip("no systemd as pid 1, and no root, unshare, nsenter or systemd to boot one: NOT RUN")
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manager = HostSystemd() if host else NamespacedSystemd(workdir)
        try:
            yield manager
        finally:
            manager.close()


def install(systemd, workdir, name, text):
    """Put unit ``name`` in the manager's unit directory, its output appended to WORKDIR/NAME.log."""
    log = os.path.join(workdir, name + ".log")
    output = f"StandardOutput=append:{log}\nStandardError=append:{log}\nLimitCORE=0\n"
    text = text.replace("[Service]\n", "[Service]\n" + output)
    source = os.path.join(workdir, name)
    with open(source, "w") as handle:
        handle.write(text)
    systemd.run(["cp", source, os.path.join(systemd.unit_dir, name)], check=True)
    if isinstance(systemd, HostSystemd):
        systemd.units.append(name)
    systemd.run(["systemctl", "daemon-reload"], check=True)
    return log


def fake_bin(workdir, dpvs, answers_once=None):
    """WORKDIR/bin with ``dpvs`` (the script ``dpvs``) and a ``dpip`` that never gets an answer,
    or, with ``answers_once``, answers once that file exists (the probe then passes)."""
    bin_dir = os.path.join(workdir, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    dpip = "#!/bin/sh\necho 'dpip: connect: No such file or directory' >&2\nexit 1\n"
    if answers_once:
        dpip = f"#!/bin/sh\ntest -e {answers_once} && exit 0\n" + dpip.split("\n", 1)[1]
    for name, text in (("dpvs", dpvs), ("dpip", dpip)):
        path = os.path.join(bin_dir, name)
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o755)
    return bin_dir


def dpvs_unit(workdir, name, prefix="rte", log_file=None):
    """dpvs.service as the role renders it, for the fake in WORKDIR/bin, under the name ``name``:
    not restarted (Restart=no), the probe asking systemd about ``name``."""
    tool = os.path.join(workdir, "dpvs-cluster.pyz")
    with open(tool, "wb") as handle:
        handle.write(build_pyz())
    text = render_unit(
        with_eal_args("--file-prefix", prefix),
        "dpvs.service",
        conf={"global_defs": {"log_file": log_file}},
        dpvs_bin_dir=os.path.join(workdir, "bin"),
        dpvs_tool=tool,
        dpvs_python=PYTHON,
        dpvs_root=workdir,
        dpvs_ipc_file=os.path.join(workdir, "dpvs.ipc"),
        dpvs_pid_file=os.path.join(workdir, "dpvs.pid"),
    )
    assert "\nRestart=on-failure\n" in text and " --unit dpvs.service" in text
    return text.replace("\nRestart=on-failure\n", "\nRestart=no\n").replace(" --unit dpvs.service", f" --unit {name}")


FAILING_DPVS = """#!/bin/sh
echo "EAL: Detected CPU lcores: 2" >&2
for n in 1 2 3 4 5 6 7 8 9 10 11; do echo "DPVS: start-up line $n" >> {log}; done
echo "NETIF: netif_port_start: fail to config dpdk0 -- the last line" >> {log}
sleep 0.3
{end}
"""


@pytest.mark.parametrize(
    "end, status",
    [("exit 3", "exit status 3"), ("kill -SEGV $$", "killed by signal 11/SEGV")],
    ids=["exit-3", "segfault"],
)
def test_the_probe_names_the_exit_status_and_the_end_of_the_log(systemd, workdir, end, status):
    name = f"dpvs-cluster-test-{uuid.uuid4().hex[:8]}.service"
    dpvs_log = os.path.join(workdir, "dpvs.log")
    with open(dpvs_log, "w") as handle:
        handle.write("a previous run's line\n")
    fake_bin(workdir, FAILING_DPVS.format(log=dpvs_log, end=end))
    log = install(systemd, workdir, name, dpvs_unit(workdir, name, log_file=dpvs_log))
    started = time.monotonic()
    start = systemd.run(["systemctl", "start", name], capture_output=True, text=True, timeout=60, check=False)
    assert start.returncode != 0  # the probe failed the start
    assert time.monotonic() - started < 20  # not the probe's timeout (120 s)
    with open(log) as handle:
        said = [line.rstrip("\n") for line in handle]
    (stopped,) = [line for line in said if "DPVS stopped before it answered" in line]
    assert stopped.endswith(f" (--pid) is gone: {status}") or f"(--pid) is gone: {status} (core dumped)" in stopped
    tail = said.index(f"dpvs-cluster wait: the last 10 line(s) of {dpvs_log}:")
    assert said[tail + 1] == "dpvs-cluster wait:   DPVS: start-up line 3"
    assert said[tail + 10] == "dpvs-cluster wait:   NETIF: netif_port_start: fail to config dpdk0 -- the last line"
    journal = f"dpvs-cluster wait: what DPVS printed before it read dpvs.conf (EAL, rte_exit): journalctl -u {name}"
    assert journal in said
    assert "EAL: Detected CPU lcores: 2" in said  # DPVS's stderr: the unit's journal
    result = systemd.run(["systemctl", "show", "-p", "Result", "--value", name], capture_output=True, text=True)
    assert result.stdout.strip() in ("exit-code", "signal", "core-dump")


HUGEPAGE_DPVS = """#!{python}
# maps two hugepage files of its prefix as DPDK does (one 2 MB page each), then waits for SIGTERM
import mmap, os, time
maps = []
for n in (0, 1):
    fd = os.open("{mount}/{prefix}map_%d" % n, os.O_CREAT | os.O_RDWR, 0o600)
    os.ftruncate(fd, 2 << 20)
    area = mmap.mmap(fd, 2 << 20)
    area[0] = 1
    maps.append(area)
open("{ready}", "w").close()
time.sleep(600)
"""
SECONDARY = """import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
area = mmap.mmap(fd, 2 << 20)
print(os.getpid(), flush=True)
time.sleep(600)
"""


def wait_active(systemd, name, ready, deadline, log):
    """Until the fake DPVS has mapped its files and the unit is active (its probe passed)."""
    state = ""
    while not (os.path.exists(ready) and state == "active"):
        assert time.monotonic() < deadline, f"the fake DPVS did not map its files or {name} is {state}: see {log}"
        time.sleep(0.1)
        state = systemd.run(["systemctl", "is-active", name], capture_output=True, text=True).stdout.strip()


def free_2m_pages():
    with open("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") as handle:
        return int(handle.read())


def hugetlbfs_2m():
    with open("/proc/mounts") as handle:
        for line in handle:
            fields = line.split()
            if fields[1] == "/dev/hugepages" and fields[2] == "hugetlbfs" and "pagesize=1024M" not in fields[3]:
                return fields[1]
    return None


NR_2M = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"


@pytest.fixture
def three_free_2m_pages():
    """3 free 2 MB pages on a hugetlbfs at /dev/hugepages: as root, mounted and reserved for the
    test when missing (CI machines have none) and given back afterwards."""
    mounted, before = False, None
    if os.geteuid() == 0 and os.path.exists(NR_2M):
        if hugetlbfs_2m() is None:
            os.makedirs("/dev/hugepages", exist_ok=True)
            argv = ["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", "/dev/hugepages"]
            mounted = subprocess.run(argv, check=False).returncode == 0
        if free_2m_pages() < 3:
            with open(NR_2M) as handle:
                before = int(handle.read())
            with open(NR_2M, "w") as handle:
                handle.write(str(before + 3 - free_2m_pages()))
    try:
        yield
    finally:
        if before is not None:
            with open(NR_2M, "w") as handle:
                handle.write(str(before))
        if mounted:
            subprocess.run(["umount", "/dev/hugepages"], check=False)


def hugepage_dpvs(systemd, workdir, pages):
    """The fake DPVS that maps two hugepage files of a prefix of its own, installed as the role's
    dpvs.service (not started): ``(mount, prefix, files, name, ready, log)``; skips without
    ``pages`` free 2 MB pages on a hugetlbfs."""
    mount = hugetlbfs_2m()
    if mount is None or not os.path.exists("/sys/kernel/mm/hugepages/hugepages-2048kB") or free_2m_pages() < pages:
        pytest.skip(
            f"no hugetlbfs of 2 MB pages at /dev/hugepages with {pages} free pages (not root, or no memory): NOT RUN"
        )
    prefix = f"dpvsclustertest{uuid.uuid4().hex[:8]}"
    files = [os.path.join(mount, f"{prefix}map_{n}") for n in (0, 1)]
    name = f"dpvs-cluster-test-{uuid.uuid4().hex[:8]}.service"
    ready = os.path.join(workdir, "ready")
    fake_bin(workdir, HUGEPAGE_DPVS.format(python=sys.executable, mount=mount, prefix=prefix, ready=ready), ready)
    log = install(systemd, workdir, name, dpvs_unit(workdir, name, prefix=prefix))
    return mount, prefix, files, name, ready, log


def test_the_stop_frees_the_prefix_s_hugepage_files_and_keeps_a_mapped_one(three_free_2m_pages, systemd, workdir):
    mount, prefix, files, name, ready, log = hugepage_dpvs(systemd, workdir, 3)
    secondary = None
    try:
        systemd.run(["systemctl", "start", "--no-block", name], check=True)
        deadline = time.monotonic() + 20
        wait_active(systemd, name, ready, deadline, log)
        # a DPDK secondary process (dpdk-pdump, say) outside the unit maps the second file
        secondary = subprocess.Popen(
            (["nsenter", "-t", str(systemd.pid), "-m", "-p"] if hasattr(systemd, "pid") else [])
            + [sys.executable, "-c", SECONDARY, files[1]],
            stdout=subprocess.PIPE,
            text=True,
        )
        secondary_pid = secondary.stdout.readline().strip()
        assert secondary_pid.isdigit()
        stop = systemd.run(["systemctl", "stop", name], capture_output=True, text=True, timeout=60, check=False)
        assert stop.returncode == 0, stop.stderr
        with open(log) as handle:
            said = handle.read()
        assert f"dpvs-cluster hugepage-files: {mount}: removed 1 {prefix}map_* file(s) ({prefix}map_0), 2 MiB" in said
        assert f"dpvs-cluster hugepage-files: {files[1]}: kept, in use by {secondary_pid} (python" in said
        assert not os.path.exists(files[0]) and os.path.exists(files[1])
    finally:
        if secondary is not None:
            secondary.kill()
            secondary.wait()
        for path in files:
            if os.path.exists(path):
                os.remove(path)


def test_a_crash_leaves_the_files_to_the_restart(three_free_2m_pages, systemd, workdir):
    """After a failure (kill -9 here) the clean-up does not run: Restart= starts DPVS again at
    once, and DPDK removes its prefix's unused files itself as it starts; a Python start less
    between the crash and the restart."""
    _mount, _prefix, files, name, ready, log = hugepage_dpvs(systemd, workdir, 2)
    try:
        systemd.run(["systemctl", "start", "--no-block", name], check=True)
        deadline = time.monotonic() + 20
        wait_active(systemd, name, ready, deadline, log)
        systemd.run(["systemctl", "kill", "--kill-whom=main", "--signal=KILL", name], check=True)
        state = ""
        while state not in ("failed", "inactive"):
            assert time.monotonic() < deadline + 30, f"{name} did not end after kill -9: {state}"
            time.sleep(0.2)
            state = systemd.run(["systemctl", "is-active", name], capture_output=True, text=True).stdout.strip()
        with open(log) as handle:
            said = handle.read()
        assert "hugepage-files" not in said, said
        assert all(os.path.exists(path) for path in files)
    finally:
        for path in files:
            if os.path.exists(path):
                os.remove(path)
