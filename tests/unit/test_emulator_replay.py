"""The DPVS emulator (tests/emulator) against the real DPVS v1.10.2 transcripts, byte for byte.

``SEQUENCE.tsv`` is replayed once, in order, against a fresh emulator (module fixture), with the
lifecycle events of the transcripts README applied between commands; then one test per
transcript compares stdout, stderr and exit code. Transcripts that need live traffic (or are not
DPVS commands at all) are excluded in ONE place, ``EXCLUDED``, each with its reason; they get no
test of their own (nothing is skipped): ``test_exclusions_are_the_documented_ones`` pins the list
to the table in tests/emulator/README.md.

Focused tests follow: start/stop/kill/status, PORTS_FILE, DPVS_IPC_FILE, the command log,
concurrent writers and the state wipe of a restart.
"""
# ruff: noqa: UP031 (printf-style formats mirror the C tools' printf calls)

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import transcripts

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMULATOR = os.path.join(TESTS, "emulator")
BIN = os.path.join(EMULATOR, "bin")
README = os.path.join(EMULATOR, "README.md")
SEED001 = os.path.join(EMULATOR, "ports-seed001.json")

TRAFFIC = "needs live client traffic through DPVS (the emulator forwards no packets)"
EXCLUDED = {
    "180-client-ping-vip.txt": "ping from the client namespace: " + TRAFFIC,
    "181-client-curl-vip.txt": "curl from the client namespace: " + TRAFFIC,
    "182-client-curl-vip-1.txt": "curl from the client namespace: " + TRAFFIC,
    "182-client-curl-vip-2.txt": "curl from the client namespace: " + TRAFFIC,
    "182-client-curl-vip-3.txt": "curl from the client namespace: " + TRAFFIC,
    "182-client-curl-vip-4.txt": "curl from the client namespace: " + TRAFFIC,
    "183-ipvsadm-lnc-after-traffic.txt": "connection list made by the traffic of 180-182",
    "184-ipvsadm-ln-stats-after-traffic.txt": "counters made by the traffic of 180-182",
    "185-ipvsadm-ln-after-traffic.txt": "InActConn made by the traffic of 180-182",
    "186-ipvsadm-G-svc-after-traffic.txt": "laddr CONNS made by the traffic of 180-182",
    "187-dpip-neigh-show-after-traffic.txt": "neighbours learned from the traffic of 180-182",
    "188-dpip-s-addr-show-after-traffic.txt": "sa_used/sa_free made by the traffic of 180-182",
    "195-client-curl-vip2-rs-port0.txt": "curl from the client namespace: " + TRAFFIC,
    "196-rs-pcap-toa-option.txt": "tcpdump of the real server's capture: " + TRAFFIC,
    "197-rs-server-log.txt": "cat of the real server's log: " + TRAFFIC,
    "217-client-curl-after-restore.txt": "curl from the client namespace: " + TRAFFIC,
    "219-client-curl-lip-missing.txt": "curl from the client namespace: " + TRAFFIC,
    "219c-client-curl-lip-readded.txt": "curl from the client namespace: " + TRAFFIC,
    "241-nat64-client-curl.txt": "curl from the client namespace: " + TRAFFIC,
}
# Lifecycle events of the transcripts README, applied before the named transcript.
# None of the excluded commands changes control-plane state a later transcript shows.
EVENTS = {
    "01-dpip-link-show.txt": ("start",),  # "the daemon started with one port dpdk0"
    "209-ipvsadm-ln-after-sighup.txt": ("reload",),  # SIGHUP: config reload
    "220-stale-socket-dpip-link-show.txt": ("kill",),  # SIGKILL: stale socket
    "230-after-restart-ipvsadm-ln.txt": ("start",),  # restarted: runtime state gone
}
# "25x-vdev-*: separate daemons on net_tap, net_ring and net_null vdevs"
VDEV = {
    "25x-vdev-net_tap0-dpip-link-show.txt": "ports-vdev-net_tap0.json",
    "25x-vdev-net_ring0-dpip-link-show.txt": "ports-vdev-net_ring0.json",
    "25x-vdev-net_null0-dpip-link-show.txt": "ports-vdev-net_null0.json",
}
SEQUENCE = transcripts.sequence()
ELIGIBLE = [entry.file for entry in SEQUENCE if entry.file not in EXCLUDED]
# printf -- "-A -t ...\n-a ...\n" | ipvsadm -R
PRINTF_PIPE_RE = re.compile(r'printf -- "(?P<data>[^"]*)" \| (?P<cmd>ipvsadm -R)')
# unset DPVS_IPC_FILE; ipvsadm -ln
UNSET_RE = re.compile(r"unset DPVS_IPC_FILE; (?P<cmd>.+)")


# --------------------------------------------------------------------------------------------
# Running the emulator
# --------------------------------------------------------------------------------------------
def python_dir(tmp):
    """A folder whose python3 is this interpreter: the tools' ``#!/usr/bin/env python3`` then
    skips slow wrappers (a pyenv shim costs ~0.1 s per call) and runs a known Python. The
    interpreter's own folder when it has a python3 (a venv keeps its site set-up that way)."""
    own = os.path.dirname(sys.executable)
    if os.access(os.path.join(own, "python3"), os.X_OK):
        return own
    folder = os.path.join(str(tmp), "pybin")
    os.makedirs(folder, exist_ok=True)
    link = os.path.join(folder, "python3")
    if not os.path.exists(link):
        os.symlink(os.path.realpath(sys.executable), link)
    return folder


class Emu(object):
    """One emulated daemon: its state file and IPC path in ``folder``."""

    def __init__(self, folder, pybin):
        self.dir = str(folder)
        os.makedirs(self.dir, exist_ok=True)
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("DPVS_"))
        env["PATH"] = os.pathsep.join([BIN, pybin, env.get("PATH", "")])
        env["DPVS_EMULATOR_STATE"] = os.path.join(self.dir, "state.json")
        env["DPVS_IPC_FILE"] = os.path.join(self.dir, "dpvs.ipc")
        # where the tools look when DPVS_IPC_FILE is unset (nothing listens there)
        env["DPVS_EMULATOR_DEFAULT_IPC"] = os.path.join(self.dir, "default-dpvs.ipc")
        env["LANG"] = env["LC_ALL"] = "C"
        self.env = env

    @property
    def ipc(self):
        return self.env["DPVS_IPC_FILE"]

    def run(self, argv, stdin=None, env=None):
        """argv[0] is looked up on PATH, as a shell would (dpip then says ``dpip:``)."""
        env = env or self.env
        exe = shutil.which(argv[0], path=env["PATH"])
        assert exe, argv[0]
        proc = subprocess.run(argv, executable=exe, input=stdin, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        return proc.stdout, proc.stderr, proc.returncode

    def ctl(self, *args):
        return self.run(["dpvs-emulator", *args])

    def sh(self, command):
        """One SEQUENCE.tsv command (a fixed set of shapes; no shell involved)."""
        if " && " in command:  # run each part while they succeed, like the shell
            out, err, rc = "", "", 0
            for part in command.split(" && "):
                o, e, rc = self.sh(part)
                out, err = out + o, err + e
                if rc:
                    break
            return out, err, rc
        unset = UNSET_RE.fullmatch(command)
        if unset:
            env = dict(self.env)
            del env["DPVS_IPC_FILE"]
            return self.run(shlex.split(unset.group("cmd")), env=env)
        piped = PRINTF_PIPE_RE.fullmatch(command)
        if piped:
            return self.run(shlex.split(piped.group("cmd")),
                            stdin=piped.group("data").replace("\\n", "\n"))
        if " | " in command:  # tool | tool
            first, second = [shlex.split(part) for part in command.split(" | ")]
            producer = subprocess.Popen(first, executable=shutil.which(first[0], path=self.env["PATH"]),
                                        env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
            consumer = subprocess.run(second, executable=shutil.which(second[0], path=self.env["PATH"]),
                                      env=self.env, stdin=producer.stdout, capture_output=True,
                                      text=True, timeout=60, check=False)
            producer.stdout.close()
            first_err = producer.stderr.read()
            producer.wait(timeout=60)
            return consumer.stdout, first_err + consumer.stderr, consumer.returncode
        return self.run(shlex.split(command))


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """Replay SEQUENCE.tsv once: {file: (stdout, stderr, rc)}, plus the wall time."""
    tmp = tmp_path_factory.mktemp("replay")
    pybin = python_dir(tmp)
    emu = Emu(tmp / "lab", pybin)
    results = {}
    began = time.monotonic()
    for entry in SEQUENCE:
        if entry.file in EXCLUDED:
            continue
        if entry.file in EVENTS:
            out, err, rc = emu.ctl(*EVENTS[entry.file])
            assert rc == 0, (entry.file, EVENTS[entry.file], out, err)
        if entry.file in VDEV:
            emu.ctl("stop")
            emu = Emu(tmp / entry.file, pybin)
            out, err, rc = emu.ctl("start", os.path.join(EMULATOR, VDEV[entry.file]))
            assert rc == 0, (entry.file, out, err)
        results[entry.file] = emu.sh(entry.command)
    emu.ctl("stop")
    return results, time.monotonic() - began


@pytest.mark.parametrize("name", ELIGIBLE)
def test_transcript_byte_for_byte(replay, name):
    results, _elapsed = replay
    expected = transcripts.load(name)
    stdout, stderr, rc = results[name]
    assert (stdout, stderr, rc) == (expected.stdout, expected.stderr, expected.exit_code), (
        "%s: %s" % (name, expected.command))


def test_replay_counts_and_speed(replay):
    results, seconds = replay
    assert len(results) == len(ELIGIBLE) == len(SEQUENCE) - len(EXCLUDED)
    assert len(ELIGIBLE) >= 190
    # ~200 tool processes: a few seconds; far more means something got slow (imports, locks)
    assert seconds < 60, seconds


def documented_exclusions():
    """The exclusion table of tests/emulator/README.md: {file: reason}."""
    with open(README) as handle:
        text = handle.read()
    section = text.split("## Excluded transcripts", 1)[1].split("\n## ", 1)[0]
    # "| `180-client-ping-vip.txt` | ping from the client namespace: ... |"
    rows = re.findall(r"^\| `([^`]+\.txt)` \| (.+?) \|$", section, re.M)
    return dict(rows)


def test_exclusions_are_the_documented_ones():
    """The excluded transcripts are exactly the README's table, with the same reasons; each one
    is a non-DPVS command or a listing of traffic-made counters (183-188)."""
    assert documented_exclusions() == EXCLUDED
    files = set(entry.file for entry in SEQUENCE)
    assert set(EXCLUDED) <= files
    tools = ("dpip", "ipvsadm", "dpvs", "printf", "unset")
    for entry in SEQUENCE:
        is_tool = entry.command.split()[0] in tools
        traffic_made = entry.file.split("-")[0] in ("183", "184", "185", "186", "187", "188")
        assert (entry.file in EXCLUDED) == (not is_tool or traffic_made), entry.file


def test_lifecycle_events_cover_the_readme_table():
    """Every event of the transcripts README that touches the control plane is applied."""
    with open(transcripts.path("../README.md")) as handle:
        table = handle.read().split("## Lifecycle events", 1)[1].split("\n## ", 1)[0]
    for marker, event in (("`01-dpip-link-show`", "start"), ("`209`", "reload"),
                          ("`220`..`223`", "kill"), ("`230`", "start")):
        assert marker in table
        assert event in [ev[0] for ev in EVENTS.values()]
    assert "`224`" in table and any(UNSET_RE.fullmatch(e.command) for e in SEQUENCE)
    assert "`25x-vdev-*`" in table and set(VDEV) == set(e.file for e in SEQUENCE if "25x-vdev" in e.file)


# --------------------------------------------------------------------------------------------
# Focused tests
# --------------------------------------------------------------------------------------------
@pytest.fixture
def emu(tmp_path):
    return Emu(tmp_path / "emu", python_dir(tmp_path))


def test_start_stop_kill_status(emu):
    assert emu.ctl("status")[2] == 3
    assert emu.run(["ipvsadm", "-ln"])[1].startswith(
        "[dpvs_getsockopt] scoket msg connection error: No such file or directory\n")
    assert emu.ctl("start")[2] == 0
    assert os.path.exists(emu.ipc)
    out, _err, rc = emu.ctl("status")
    assert rc == 0 and out.startswith("running ipc=%s " % emu.ipc)
    assert emu.run(["ipvsadm", "-ln"]) == (
        "IP Virtual Server version 1.10.2 (size=0)\nProt LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n", "", 0)
    # a second start fails like dpvs does while one runs
    assert emu.ctl("start") == ("", "dpvs is already running\n", 1)
    # SIGKILL: the socket file stays, nothing listens
    assert emu.ctl("kill")[2] == 0
    assert os.path.exists(emu.ipc)
    assert emu.ctl("status")[2] == 1
    assert emu.run(["dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk0"]) == (
        "", "[dpvs_setsockopt] scoket msg connection error: Connection refused\ndpip: <unknow>\n", 1)
    assert emu.ctl("kill")[2] == 1  # nothing left to kill
    # start after a kill replaces the stale socket; stop removes it
    assert emu.ctl("start")[2] == 0
    assert emu.ctl("stop")[2] == 0
    assert not os.path.exists(emu.ipc)
    assert emu.ctl("status")[2] == 3
    assert emu.run(["dpip", "-V"]) == ("dpip-1.10-2\n", "", 0)  # works without the daemon


def test_start_creates_a_unix_socket(emu):
    assert emu.ctl("start")[2] == 0
    import stat

    assert stat.S_ISSOCK(os.stat(emu.ipc).st_mode)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with pytest.raises(ConnectionRefusedError):  # a real client gets the same answer
        client.connect(emu.ipc)
    client.close()


def test_ports_file_seed001(emu):
    out, err, rc = emu.ctl("start", SEED001)
    assert (rc, err) == (0, "")
    out, _err, _rc = emu.run(["dpip", "link", "show"])
    names = re.findall(r"^\d+: (\S+): socket (\d+)", out, re.M)
    assert names == [("dpdk0", "0"), ("dpdk1", "0"), ("dpdk2", "1"), ("dpdk3", "1")]
    assert "addr 00:1B:21:AA:00:01 " in out and "addr 00:1B:21:AA:00:04 " in out
    # one EUI-64 link-local per port, with its host and link routes
    addrs = emu.run(["dpip", "addr", "show"])[0]
    for mac_tail, dev in (("aa:1", "dpdk0"), ("aa:2", "dpdk1"), ("aa:3", "dpdk2"), ("aa:4", "dpdk3")):
        lla = "fe80::21b:21ff:fe%s" % mac_tail
        assert "inet6 %s/64 scope link %s\n" % (lla, dev) in addrs
        assert "inet6 %s/128 dev %s mtu 1500 scope host\n" % (lla, dev) in emu.run(
            ["dpip", "-6", "route", "show"])[0]
    assert emu.run(["dpip", "route", "show"])[0] == ""
    cpu = emu.run(["dpip", "link", "show", "cpu"])[0]
    assert "<< Data Plane >>\n" in cpu and "dpdk3:rx0" in cpu


def test_ports_file_errors(emu, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"ports": [{"name": "dpdk0", "mac": "zz"}]}')
    _out, err, rc = emu.ctl("start", str(bad))
    assert rc == 2 and "bad MAC" in err
    bad.write_text('{"ports": [{"name": "dpdk0", "colour": 1}]}')
    assert "unknown keys colour" in emu.ctl("start", str(bad))[1]
    assert emu.ctl("status")[2] == 3  # nothing started


def test_dpvs_ipc_file_selects_the_daemon(emu):
    assert emu.ctl("start")[2] == 0
    env = dict(emu.env)
    env["DPVS_IPC_FILE"] = os.path.join(emu.dir, "other.ipc")
    _out, err, rc = emu.run(["ipvsadm", "-ln"], env=env)
    assert rc == 2 and "No such file or directory" in err
    del env["DPVS_IPC_FILE"]  # the default path (DPVS_EMULATOR_DEFAULT_IPC here): nothing there
    assert emu.run(["dpip", "addr", "show"], env=env) == (
        "", "[dpvs_getsockopt] scoket msg connection error: No such file or directory\ndpip: <unknow>\n", 1)
    env["DPVS_EMULATOR_DEFAULT_IPC"] = emu.ipc  # the daemon at the default path is found
    assert emu.run(["dpip", "addr", "show"], env=env)[2] == 0
    # a file that is not the daemon's socket refuses the connection
    with open(os.path.join(emu.dir, "plain.ipc"), "w"):
        pass
    env["DPVS_IPC_FILE"] = os.path.join(emu.dir, "plain.ipc")
    assert "Connection refused" in emu.run(["ipvsadm", "-ln"], env=env)[1]


def test_restart_wipes_the_runtime_state(emu):
    emu.ctl("start")
    for argv in (["dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk0"],
                 ["dpip", "route", "add", "10.0.96.0/24", "dev", "dpdk0"],
                 ["ipvsadm", "-A", "-t", "10.0.96.204:80", "-s", "rr"],
                 ["dpip", "neigh", "add", "10.0.96.1", "lladdr", "02:00:00:00:00:01", "dev", "dpdk0"]):
        assert emu.run(argv)[2] == 0, argv
    assert "10.0.96.204:80" in emu.run(["ipvsadm", "-ln"])[0]
    emu.ctl("stop")
    emu.ctl("start")
    assert emu.run(["dpip", "addr", "show"])[0] == (
        "inet6 fe80::d8e5:dfff:feae:7cc9/64 scope link dpdk0\n     valid_lft forever preferred_lft forever\n")
    assert emu.run(["dpip", "route", "show"])[0] == ""
    assert emu.run(["dpip", "neigh", "show"])[0] == ""
    assert "TCP" not in emu.run(["ipvsadm", "-ln"])[0]


def test_concurrent_writers_all_land(emu):
    emu.ctl("start")
    procs = []
    for writer in range(2):
        for i in range(8):
            argv = ["ipvsadm", "-A", "-t", "10.1.%d.%d:80" % (writer, i + 1), "-s", "rr"]
            procs.append(subprocess.Popen(argv, executable=os.path.join(BIN, "ipvsadm"), env=emu.env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    assert [p.wait(timeout=60) for p in procs] == [0] * 16
    listing = emu.run(["ipvsadm", "-ln"])[0]
    for writer in range(2):
        for i in range(8):
            assert "TCP  10.1.%d.%d:80 rr\n" % (writer, i + 1) in listing


def test_command_log(emu, tmp_path):
    log = tmp_path / "calls.jsonl"
    env = dict(emu.env)
    env["DPVS_EMULATOR_LOG"] = str(log)
    emu.ctl("start")
    emu.run(["dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk0"], env=env)
    emu.run(["ipvsadm", "-R"], stdin="-A -t 10.0.96.204:80 -s rr\n", env=env)
    emu.run(["ipvsadm", "-A", "-t", "10.0.96.204:80", "-s", "rr"], env=env)
    emu.run(["dpip", "addr", "add", "dev", "dpdk0"], env=env)  # missing IFADDR: parse error
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries == [
        {"tool": "dpip", "argv": ["addr", "add", "10.0.96.204/32", "dev", "dpdk0"], "rc": 0},
        {"tool": "ipvsadm", "argv": ["-R"], "rc": 0, "stdin": "-A -t 10.0.96.204:80 -s rr\n"},
        {"tool": "ipvsadm", "argv": ["-A", "-t", "10.0.96.204:80", "-s", "rr"], "rc": 253},
        {"tool": "dpip", "argv": ["addr", "add", "dev", "dpdk0"], "rc": 1},
    ]


def test_prog_name_is_argv0_after_the_first_slash(emu, tmp_path):
    """dpip prints argv[0] after its first '/': by name through PATH that is ``dpip``."""
    emu.ctl("start")
    argv = ["dpip", "addr", "del", "10.9.9.9/32", "dev", "dpdk0"]
    assert emu.run(argv)[1].endswith("\ndpip: not exist\n")
    env = dict(emu.env)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != BIN)
    proc = subprocess.run([os.path.join(BIN, "dpip"), *argv[1:]], env=env, capture_output=True, text=True, check=False)
    assert proc.stderr.endswith("\n%s: not exist\n" % os.path.join(BIN, "dpip").split("/", 1)[1])


def test_vdev_ports_files_are_valid_json():
    for name in VDEV.values():
        with open(os.path.join(EMULATOR, name)) as handle:
            assert json.load(handle)["ports"][0]["name"] == "dpdk0"


def test_fast_json_matches_the_json_module():
    """The tools read and write the state with CPython's _json when they can; same bytes."""
    sys.path.insert(0, EMULATOR)
    try:
        from dpvs_emulator import fastjson
    finally:
        sys.path.remove(EMULATOR)
    fast_loads, fast_dumps = fastjson._fast()
    slow_loads, slow_dumps = fastjson._fallback()
    doc = {"rt": {"addrs": [{"addr": "2001:db8::1", "plen": 64, "ts": 1.5, "bcast": None}],
                  "flags": [True, False], "name": "d\u00e9v\n\"x\""}, "n": -7}
    assert fast_dumps(doc) == slow_dumps(doc) == json.dumps(doc, separators=(",", ":"))
    assert fast_loads(slow_dumps(doc)) == slow_loads(fast_dumps(doc)) == doc
    assert fast_loads(" [1] \n") == [1]
    for bad in ("", "[1", "[1] x", "NaN"):
        with pytest.raises(ValueError):
            fast_loads(bad)


def test_dpvs_binary_starts_a_daemon_on_its_ipc_file(emu):
    ipc = os.path.join(emu.dir, "x.ipc")
    env = dict(emu.env)
    env["DPVS_EMULATOR_PORTS"] = SEED001
    assert emu.run(["dpvs", "-x", ipc, "--", "-l", "0-1"], env=env) == ("", "", 0)
    env["DPVS_IPC_FILE"] = ipc
    assert "4: dpdk3: socket 1 mtu 1500 rx-queue 2 tx-queue 2\n" in emu.run(["dpip", "link", "show"], env=env)[0]
    assert emu.run(["dpvs", "-x", ipc], env=env) == ("", "dpvs is already running\n", 1)
    assert emu.run(["dpvs", "-v"]) == ("", "dpvs version: 1.10-2, build on 2026.11.21.05:19:10\n", 0)


def test_save_restore_round_trip(emu):
    """ipvsadm -S | ipvsadm -R after -C gives back what -S can express (lossy: no laddrs)."""
    emu.ctl("start", SEED001)
    for argv in (["ipvsadm", "-A", "-t", "10.0.96.204:80", "-s", "rr"],
                 ["ipvsadm", "-a", "-t", "10.0.96.204:80", "-r", "192.168.229.1:80", "-b", "-w", "3"],
                 ["ipvsadm", "-A", "-u", "10.0.96.204:53", "-p", "300", "-M", "255.255.255.0"],
                 ["ipvsadm", "-A", "-t", "[2001:db8::1]:443", "-s", "wrr"],
                 ["ipvsadm", "-a", "-t", "[2001:db8::1]:443", "-r", "192.168.229.2:443", "-b"],
                 ["ipvsadm", "-A", "-s", "rr", "-H", "proto=tcp,src-range=192.168.100.0-192.168.100.254,oif=dpdk2"],
                 ["ipvsadm", "--add-laddr", "-z", "192.168.229.204", "-t", "10.0.96.204:80", "-F", "dpdk0"]):
        assert emu.run(argv)[2] == 0, argv
    saved = emu.run(["ipvsadm", "-S", "-n"])[0]
    assert "--add-laddr" not in saved and saved.count("\n") == 6
    assert emu.run(["ipvsadm", "-C"])[2] == 0
    assert emu.run(["ipvsadm", "-R"], stdin=saved) == ("", "", 0)
    assert emu.run(["ipvsadm", "-S", "-n"])[0] == saved
    assert "192.168.229.204" not in emu.run(["ipvsadm", "-G"])[0]  # laddrs are not saved
    assert "sapool" not in emu.run(["dpip", "addr", "show"])[0]
    assert "sa_free" in emu.run(["dpip", "-s", "addr", "show"])[0]  # -C kept the NIC address
