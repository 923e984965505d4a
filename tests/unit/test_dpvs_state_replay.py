"""``dpvs-cluster wait|replay`` (plugins/module_utils/dpvs_state/replay.py) against the DPVS
emulator: the persisted state (written by persist.py, the roles' filters' code) is converged with
the modules' own tables; a second replay is a no-op; unreadable state is 3; a DPVS that does not
answer, or whose process is gone, is 2 within the timeout. The replay of a directory from before
services.json (ipvsadm.rules only) is in tests/integration/test_emu_dpvs_state.py."""

import io
import json
import os
import subprocess
import sys
import time

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner, subprocess_run_command
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.parse import parse_addr_show, parse_route_show
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state import persist
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state import probe as P
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state import replay as R
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs.parse import parse_laddrs, parse_list

EMULATOR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "emulator")
BIN = os.path.join(EMULATOR, "bin")
DPIP = os.path.join(BIN, "dpip")
IPVSADM = os.path.join(BIN, "ipvsadm")

ADDRESSES = [
    {"address": "10.0.96.204/32", "dev": "dpdk2"},
    {"address": "2001:db8::204/64", "dev": "dpdk2"},
]
ROUTES = [
    {"prefix": "10.0.96.0/24", "dev": "dpdk2"},
    {"prefix": "192.168.229.0/24", "dev": "dpdk0"},
    {"prefix": "default", "via": "10.0.96.254", "dev": "dpdk2"},
]
SERVICES = [
    {
        "protocol": "tcp",
        "vip": "10.0.96.204",
        "port": 80,
        "scheduler": "rr",
        "real_servers": [
            {"ip": "192.168.229.1", "port": 80, "forward": "fullnat"},
            {"ip": "192.168.229.2", "port": 80, "forward": "fullnat", "weight": 2},
        ],
        "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}],
    },
    {"protocol": "udp", "vip": "10.0.96.204", "port": 53, "scheduler": "wlc", "persistent": 300},
    {"protocol": "tcp", "vip": "10.0.96.204", "port": 443, "state": "absent"},
]


@pytest.fixture
def emulator(tmp_path, monkeypatch):
    """A started emulator (seed 001's ports dpdk0..dpdk3); its environment is this process's."""
    monkeypatch.setenv("DPVS_EMULATOR_STATE", str(tmp_path / "emulator.json"))
    monkeypatch.setenv("DPVS_IPC_FILE", str(tmp_path / "dpvs.ipc"))
    monkeypatch.setenv("DPVS_EMULATOR_LOG", str(tmp_path / "emulator.log"))
    monkeypatch.setenv("DPVS_EMULATOR_PYTHON", sys.executable)

    def ctl(*args):
        subprocess.run([os.path.join(BIN, "dpvs-emulator"), *args], check=True, capture_output=True, timeout=60)

    ctl("start", os.path.join(EMULATOR, "ports-seed001.json"))
    yield ctl
    ctl("stop")


def tool(*argv):
    out = subprocess.run([*argv], capture_output=True, text=True, check=True, timeout=60).stdout
    return out


def live():
    return {
        "addrs": sorted(
            (a["address"], a["prefixlen"], a["dev"], a["sapool"])
            for a in parse_addr_show(tool(DPIP, "-s", "addr", "show"), sapool_visible=True)
        ),
        "routes": sorted((r["prefix"], r["via"], r["dev"]) for r in parse_route_show(tool(DPIP, "route", "show"))),
        "services": parse_list(tool(IPVSADM, "-ln"))["services"],
        "laddrs": parse_laddrs(tool(IPVSADM, "-G")),
    }


def write_state(directory, addresses=None, routes=None, services=None, with_services_json=True):
    """The state files of the declared lists (by default ADDRESSES, ROUTES, SERVICES) in ``directory``."""
    addresses = ADDRESSES if addresses is None else addresses
    routes = ROUTES if routes is None else routes
    services = SERVICES if services is None else services
    os.makedirs(directory, exist_ok=True)
    documents = {
        "addresses.json": persist.dpip_state(addresses, "addresses"),
        "routes.json": persist.dpip_state(routes, "routes"),
    }
    if with_services_json:
        documents["services.json"] = persist.state_document(services, "services")
    for name, document in documents.items():
        with open(os.path.join(directory, name), "w") as handle:
            json.dump(document, handle)
    with open(os.path.join(directory, "ipvsadm.rules"), "w") as handle:
        handle.write("".join(line + "\n" for line in persist.ipvsadm_rules(services)))
    return str(directory)


class Recording(Runner):
    """The host runner, with every argv it ran kept in ``ran``."""

    def __init__(self):
        super(Recording, self).__init__(subprocess_run_command)
        self.ran = []

    def run(self, argv, *args, **kwargs):
        self.ran.append([os.path.basename(str(argv[0])), *[str(a) for a in argv[1:]]])
        return super(Recording, self).run(argv, *args, **kwargs)


def replay(state, *extra, runner=None):
    out, err = io.StringIO(), io.StringIO()
    argv = ["--state-dir", state, "--timeout", "5", "--dpip", DPIP, "--ipvsadm", IPVSADM, *extra]
    rc = R.replay_main(argv, runner=runner, out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def writes(ran):
    reads = (("link", "show"), ("addr", "show"), ("route", "show"))
    return [
        argv
        for argv in ran
        if not (argv[0] == "dpip" and tuple(w for w in argv[1:] if not w.startswith("-"))[:2] in reads)
        and not (argv[0] == "ipvsadm" and argv[1] in ("-ln", "-G", "-L", "-l", "--get-blklst", "--get-whtlst"))
    ]


def test_a_fresh_dpvs_gets_the_state_and_a_second_replay_is_a_no_op(emulator, tmp_path):
    state = write_state(tmp_path / "state")
    first = Recording()
    rc, out, err = replay(state, runner=first)
    assert rc == 0, err
    assert err == ""
    assert "replayed 2 address(es), 3 route(s), 2 service(s) from " + state in out
    assert "dpip addr add 10.0.96.204/32 dev dpdk2\n" in out
    assert "ipvsadm -R (" in out  # the module's planner, every command in one -R
    after = live()
    assert ("10.0.96.204", 32, "dpdk2", False) in after["addrs"]
    assert ("2001:db8::204", 64, "dpdk2", False) in after["addrs"]
    assert ("192.168.229.204", 32, "dpdk0", True) in after["addrs"]  # --add-laddr put the LIP there
    assert ("0.0.0.0/0", "10.0.96.254", "dpdk2") in after["routes"]
    assert ("192.168.229.0/24", None, "dpdk0") in after["routes"]
    services = {(s["protocol"], s["port"]): s for s in after["services"]}
    assert sorted(services) == [("tcp", 80), ("udp", 53)]
    assert [(rs["ip"], rs["weight"]) for rs in services[("tcp", 80)]["real_servers"]] == [
        ("192.168.229.1", 1),
        ("192.168.229.2", 2),
    ]
    assert services[("udp", 53)]["flags"]["persistent"] == 300
    assert [laddr["ip"] for entry in after["laddrs"] for laddr in entry["laddrs"]] == ["192.168.229.204"]
    assert writes(first.ran)

    second = Recording()
    rc, out, err = replay(state, runner=second)
    assert rc == 0, err
    assert writes(second.ran) == []  # read, planned nothing, read nothing more
    assert "dpip addr add 10.0.96.204/32 dev dpdk2 (already there)" in out
    assert "ipvsadm: 2 service(s) already there" in out
    assert live() == after


def test_a_partly_there_state_gets_only_what_is_missing(emulator, tmp_path):
    state = write_state(tmp_path / "state")
    tool(DPIP, "addr", "add", "10.0.96.204/32", "dev", "dpdk2")
    tool(IPVSADM, "-A", "-u", "10.0.96.204:53", "-s", "wlc", "-p", "300")
    runner = Recording()
    rc, out, err = replay(state, runner=runner)
    assert rc == 0, err
    assert "dpip addr add 10.0.96.204/32 dev dpdk2 (already there)" in out
    assert ["dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk2"] not in runner.ran
    assert len(live()["services"]) == 2


def test_what_cannot_be_applied_is_named_and_the_rest_still_goes_in(emulator, tmp_path):
    addresses = [{"address": "10.0.96.204/32", "dev": "dpdk2"}, {"address": "10.0.96.205/32", "dev": "dpdk9"}]
    state = write_state(tmp_path / "state", addresses=addresses)
    rc, out, err = replay(state)
    assert rc == 1
    assert "dpip addr add 10.0.96.205/32 dev dpdk9: exit" in err
    assert "address 10.0.96.205/32 on dpdk9 is missing after the replay" in err
    assert "replayed" not in out
    after = live()
    assert ("10.0.96.204", 32, "dpdk2", False) in after["addrs"]
    assert len(after["services"]) == 2 and len(after["routes"]) >= 3  # the other tables still ran


def test_an_old_state_directory_replays_ipvsadm_rules(emulator, tmp_path):
    state = write_state(tmp_path / "state", with_services_json=False)
    rc, out, err = replay(state)
    assert rc == 0, err
    assert "ipvsadm -R (5 lines, exit 0)" in out
    assert "replayed 2 address(es), 3 route(s), 5 ipvsadm line(s)" in out
    assert len(live()["services"]) == 2


@pytest.mark.parametrize(
    "name, text, why",
    [
        ("addresses.json", "{not json", "Expecting property name"),
        ("routes.json", json.dumps({"format": 2, "kind": "routes", "entries": []}), "not a dpvs.cluster routes"),
        ("services.json", json.dumps({"format": 1, "kind": "routes", "entries": []}), "not a dpvs.cluster services"),
        (
            "addresses.json",
            json.dumps({"format": 1, "kind": "addresses", "entries": [{"address": "10.0.96.300", "prefixlen": 32}]}),
            "has no 'dev'",
        ),
        (
            "services.json",
            json.dumps({"format": 1, "kind": "services", "entries": [{"protocol": "tcp", "vip": "x", "port": 80}]}),
            "services[0].vip",
        ),
    ],
)
def test_unreadable_state_is_3_before_any_write(emulator, tmp_path, name, text, why):
    state = write_state(tmp_path / "state")
    with open(os.path.join(state, name), "w") as handle:
        handle.write(text)
    runner = Recording()
    rc, _out, err = replay(state, runner=runner)
    assert rc == 3
    assert why in err and name in err
    assert writes(runner.ran) == []


def test_a_missing_state_directory_is_3_and_missing_files_are_empty(emulator, tmp_path):
    rc, _out, err = replay(str(tmp_path / "nowhere"))
    assert rc == 3 and "no such state directory" in err
    os.makedirs(tmp_path / "empty")
    rc, out, err = replay(str(tmp_path / "empty"))
    assert rc == 0, err
    assert "replayed 0 address(es), 0 route(s), 0 ipvsadm line(s)" in out


def test_a_dpvs_that_never_answers_is_2_within_the_timeout(emulator, tmp_path):
    emulator("stop")
    started = time.monotonic()
    err = io.StringIO()
    assert P.wait_main(["--timeout", "1", "--dpip", DPIP], err=err) == 2
    assert time.monotonic() - started < 10
    assert "did not answer 'dpip link show' within 1.0s" in err.getvalue()
    rc, _out, err = replay(str(tmp_path), "--timeout", "1")
    assert rc == 2
    emulator("start", os.path.join(EMULATOR, "ports-seed001.json"))
    assert P.wait_main(["--timeout", "5", "--dpip", DPIP]) == 0


def test_a_dpip_that_hangs_is_cut_at_the_timeout(tmp_path):
    hang = tmp_path / "dpip"
    hang.write_text("#!/bin/sh\nexec sleep 60\n")
    hang.chmod(0o755)
    started = time.monotonic()
    err = io.StringIO()
    assert P.wait_main(["--timeout", "1", "--dpip", str(hang)], err=err) == 2
    assert time.monotonic() - started < 10
    assert "no answer within" in err.getvalue()


def test_a_pid_that_is_gone_fails_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no dpip: the probe would wait the whole timeout
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    started = time.monotonic()
    err = io.StringIO()
    assert P.wait_main(["--timeout", "30", "--pid", str(dead.pid)], err=err) == 2
    assert f"process {dead.pid} (--pid) is gone" in err.getvalue()
    pid_file = tmp_path / "dpvs.pid"
    pid_file.write_text(f"{dead.pid}\n")
    later = time.time() + 5
    os.utime(pid_file, (later, later))  # written after the probe started
    assert P.wait_main(["--timeout", "30", "--pid-file", str(pid_file)], err=io.StringIO()) == 2
    assert time.monotonic() - started < 10
    # a pid file older than the probe is a previous run's; a --pid that is not a number
    # ($MAINPID not expanded) is ignored: both wait for dpip as before
    old = time.time() - 60
    os.utime(pid_file, (old, old))
    assert P.process_gone(None, str(pid_file), since=time.time()) is None
    assert P.process_gone(P._pid_of("$MAINPID")) is None
    assert P.process_gone(os.getpid()) is None


def _first(ran, predicate):
    return next((i for i, argv in enumerate(ran) if predicate(argv)), None)


def test_a_fresh_dpvs_gets_routes_and_services_without_reading_them_first(emulator, tmp_path):
    """After a crash every command counts: a DPVS with none but its link-local addresses has
    empty tables, so routes and services are written first and read back once."""
    state = write_state(tmp_path / "state")
    runner = Recording()
    rc, _out, err = replay(state, runner=runner)
    assert rc == 0, err
    ran = runner.ran
    first_route_add = _first(ran, lambda a: a[:3] == ["dpip", "route", "add"])
    first_restore = _first(ran, lambda a: a[:2] == ["ipvsadm", "-R"])
    assert first_route_add is not None and first_restore is not None
    routes_read = [i for i, a in enumerate(ran) if a[0] == "dpip" and "route" in a and "show" in a]
    assert routes_read and min(routes_read) > first_route_add, ran
    ipvs_read = [i for i, a in enumerate(ran) if a[0] == "ipvsadm" and a[1] in ("-ln", "-G")]
    assert ipvs_read and min(ipvs_read) > first_restore, ran
    assert not [a for a in ran[first_route_add:] if a[:3] == ["dpip", "link", "show"]], ran
    # 15: ready 1, addresses 4, routes 5, services 5 (4 reads back, 1 worker check); 22 before
    assert len(ran) <= 15, ran


def test_a_fresh_plan_that_meets_a_differing_object_is_planned_again_from_a_read(emulator, tmp_path):
    """No address yet (so the replay plans blind), but the UDP service is there with another
    scheduler: the blind -R cannot add it, the read-back differs, and the replay then reads,
    edits it and converges."""
    state = write_state(tmp_path / "state")
    tool(IPVSADM, "-A", "-u", "10.0.96.204:53", "-s", "rr")
    runner = Recording()
    rc, out, err = replay(state, runner=runner)
    assert rc == 0, err
    restores = [i for i, a in enumerate(runner.ran) if a[:2] == ["ipvsadm", "-R"]]
    edits = [i for i, a in enumerate(runner.ran) if a[:4] == ["ipvsadm", "-E", "-u", "10.0.96.204:53"]]
    assert len(restores) == 1 and len(edits) == 1 and restores[0] < edits[0], runner.ran
    services = {(s["protocol"], s["port"]): s for s in live()["services"]}
    assert services[("udp", 53)]["scheduler"] == "wlc"
    assert "replayed 2 address(es)" in out


def test_a_worker_out_of_memory_during_a_fresh_replay_is_named(emulator, tmp_path):
    """Planned blind, the LIP's add reaches the master and exits 0 while the worker fails (out of
    hugepage memory): the read-back's worker check names it, as in a planned-from-a-read replay,
    and the replay is not retried from a read that cannot see it."""
    state = write_state(tmp_path / "state")
    emulator("fault", "worker-nomem")
    rc, out, err = replay(state)
    assert rc == 1, (out, err)
    assert "192.168.229.204" in err and "worker" in err, err
    assert "replayed" not in out
