"""The readiness probe and state replay of the dpvs role (``dpvs-cluster wait|replay``,
plugins/module_utils/dpvs_state/replay.py, run from the zip the host_tool action builds) against
the emulator: a fresh daemon gets the persisted state back; failures are reported line by line
and in the exit code (ipvsadm -R alone would return only the last line's code). The state here is
a directory from before services.json (ipvsadm.rules only); tests/unit/test_dpvs_state_replay.py
has the services.json replay."""

import json
import os
import subprocess
import sys

import pytest
from ansible_collections.dpvs.cluster.plugins.action.host_tool import build_pyz

pytestmark = pytest.mark.parallel_safe


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("tool") / "dpvs-cluster.pyz")
    with open(path, "wb") as handle:
        handle.write(build_pyz())
    return path


ADDRESSES = {
    "format": 1,
    "kind": "addresses",
    "entries": [
        {"family": "inet", "address": "10.0.96.204", "prefixlen": 32, "dev": "dpdk2", "scope": "global",
         "sapool": False, "broadcast": None, "state": "present"},
        {"family": "inet6", "address": "2001:db8::204", "prefixlen": 64, "dev": "dpdk2", "scope": "global",
         "sapool": False, "broadcast": None, "state": "present"},
    ],
    "commands": [
        ["addr", "add", "10.0.96.204/32", "dev", "dpdk2"],
        ["-6", "addr", "add", "2001:db8::204/64", "dev", "dpdk2"],
    ],
}  # fmt: skip
ROUTES = {
    "format": 1,
    "kind": "routes",
    "entries": [
        {"family": "inet", "prefix": "192.168.229.0/24", "dev": "dpdk0", "via": None},
        {"family": "inet", "prefix": "0.0.0.0/0", "dev": "dpdk2", "via": "10.0.96.254"},
        {"family": "inet6", "prefix": "2001:db8:1::/64", "dev": "dpdk2", "via": "2001:db8::1"},
    ],
    "commands": [
        ["route", "add", "192.168.229.0/24", "dev", "dpdk0"],
        ["route", "add", "default", "via", "10.0.96.254", "dev", "dpdk2"],
        ["-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8::1", "dev", "dpdk2"],
    ],
}
RULES = [
    "-A -t 10.0.96.204:80 -s rr",
    "-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1",
    "-a -t 10.0.96.204:80 -r 192.168.229.2:80 -b -w 2",
    "--add-laddr -z 192.168.229.204 -t 10.0.96.204:80 -F dpdk0",
    "-A -u 10.0.96.204:53 -s wlc -p 300",
]


def write_state(directory, addresses=None, routes=None, rules=None):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "addresses.json"), "w") as handle:
        json.dump(ADDRESSES if addresses is None else addresses, handle)
    with open(os.path.join(directory, "routes.json"), "w") as handle:
        json.dump(ROUTES if routes is None else routes, handle)
    with open(os.path.join(directory, "ipvsadm.rules"), "w") as handle:
        handle.write("".join(line + "\n" for line in (RULES if rules is None else rules)))


def script(emulator, tool, *args):
    return subprocess.run(
        [sys.executable, "-I", "-S", tool, *args, "--dpip", os.path.join(emulator.bin, "dpip")]
        + (["--ipvsadm", os.path.join(emulator.bin, "ipvsadm")] if args[0] == "replay" else []),
        env=emulator.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_replay_restores_a_fresh_daemon_and_a_second_replay_is_harmless(emulator, tool, tmp_path):
    state = str(tmp_path / "state")
    write_state(state)
    first = script(emulator, tool, "replay", "--state-dir", state, "--timeout", "10")
    assert first.returncode == 0, first.stderr
    assert "replayed 2 address(es), 3 route(s), 5 ipvsadm line(s)" in first.stdout
    addrs = emulator.addrs()
    assert ("10.0.96.204/32", "dpdk2") in addrs and ("2001:db8::204/64", "dpdk2") in addrs
    assert addrs[("192.168.229.204/32", "dpdk0")]["sapool"] is True  # --add-laddr put the LIP on the NIC
    routes = emulator.routes()
    assert ("192.168.229.0/24", "dpdk0", None) in routes
    assert ("0.0.0.0/0", "dpdk2", "10.0.96.254") in routes
    assert ("2001:db8:1::/64", "dpdk2", "2001:db8::1") in routes
    services = emulator.services()
    assert set(services) == {"tcp 10.0.96.204:80", "udp 10.0.96.204:53"}
    assert set(services["tcp 10.0.96.204:80"]["rs"]) == {"192.168.229.1:80", "192.168.229.2:80"}
    assert emulator.laddrs() == {"10.0.96.204:80": ["192.168.229.204"], "10.0.96.204:53": []}
    before = emulator.snapshot()

    again = script(emulator, tool, "replay", "--state-dir", state, "--timeout", "10")
    assert again.returncode == 0, again.stderr
    assert "(already there)" in again.stdout
    assert "exit 253" in again.stdout  # -R met duplicates; the read-back still matches
    assert emulator.snapshot() == before


def test_replay_reports_every_failure_and_exits_1(emulator, tool, tmp_path):
    state = str(tmp_path / "state")
    addresses = json.loads(json.dumps(ADDRESSES))
    addresses["commands"][1] = ["-6", "addr", "add", "2001:db8::204/64", "dev", "dpdk9"]
    addresses["entries"][1]["dev"] = "dpdk9"
    # a failing line in the middle, a good last line: ipvsadm -R itself exits 0
    rules = [RULES[0], "-a -t 10.0.96.205:80 -r 192.168.229.1:80 -b -w 1", RULES[4]]
    write_state(state, addresses=addresses, rules=rules)
    result = script(emulator, tool, "replay", "--state-dir", state, "--timeout", "10")
    assert result.returncode == 1
    assert "ipvsadm -R (3 lines, exit 0)" in result.stdout
    assert "dpip -6 addr add 2001:db8::204/64 dev dpdk9: exit" in result.stderr
    assert "address 2001:db8::204/64 on dpdk9 is missing after the replay" in result.stderr
    assert "ipvsadm -R left {'services': 2, 'real_servers': 0, 'laddrs': 0}" in result.stderr
    assert "'real_servers': 1" in result.stderr  # what the rules expected


def test_wait_times_out_when_dpvs_does_not_answer(emulator, tool):
    emulator.stop()
    result = script(emulator, tool, "wait", "--timeout", "1")
    assert result.returncode == 2
    assert "did not answer 'dpip link show' within 1.0s" in result.stderr
    emulator.start()
    assert script(emulator, tool, "wait", "--timeout", "5").returncode == 0


def test_unreadable_state_is_exit_3(emulator, tool, tmp_path):
    state = str(tmp_path / "state")
    write_state(state, addresses={"format": 2, "kind": "addresses", "commands": []})
    result = script(emulator, tool, "replay", "--state-dir", state, "--timeout", "5")
    assert result.returncode == 3
    assert "not a dpvs.cluster addresses state file" in result.stderr
