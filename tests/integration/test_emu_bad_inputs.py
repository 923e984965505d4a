"""Bad inputs of every module fail with the input's path in the message, before any command.

All cases run as steps of ONE playbook (ansible-playbook start-up costs seconds); each case
logs its dpip/ipvsadm calls to its own file, so "no command ran" is checked per case. Cases
that need live state (does a device exist?) may read, never write.
"""

import fcntl
import json
import os
import subprocess

import pytest
from emutier import Ansible, Emulator, PlaybookResult, as_text, is_write

pytestmark = pytest.mark.parallel_safe

V4 = {"vip": "10.0.96.204", "port": 80, "scheduler": "rr"}
RS = {"ip": "192.168.229.1", "port": 80}


def svc(**changes):
    return dict(V4, **changes)


# (id, module, args, path in the message, needs live state)
CASES = [
    ("addr_bad_address", "dpip_addr", {"addresses": [{"address": "10.0.96.300/32", "dev": "dpdk2"}]},
     "addresses[0].address", False),
    ("addr_bad_prefix", "dpip_addr", {"addresses": [{"address": "10.0.96.204/33", "dev": "dpdk2"}]},
     "addresses[0].address", False),
    ("addr_bad_ipv6", "dpip_addr", {"addresses": [{"address": "2001:db8::zz/64", "dev": "dpdk2"}]},
     "addresses[0].address", False),
    ("addr_duplicate", "dpip_addr",
     {"addresses": [{"address": "10.0.96.204/32", "dev": "dpdk2"}, {"address": "10.0.96.204", "dev": "dpdk2"}]},
     "addresses[1]", False),
    ("addr_broadcast_on_ipv6", "dpip_addr",
     {"addresses": [{"address": "2001:db8::204/64", "dev": "dpdk2", "broadcast": "2001:db8::ff"}]},
     "addresses[0].broadcast", False),
    ("addr_bad_device_name", "dpip_addr", {"addresses": [{"address": "10.0.96.204/32", "dev": "dpdk 2!"}]},
     "addresses[0].dev", False),
    ("addr_missing_device", "dpip_addr", {"addresses": [{"address": "10.0.96.204/32", "dev": "dpdk9"}]},
     "addresses[0].dev", True),
    ("route_host_bits", "dpip_route", {"routes": [{"prefix": "10.0.96.1/24", "dev": "dpdk2"}]},
     "routes[0].prefix", False),
    ("route_bad_prefix_len", "dpip_route", {"routes": [{"prefix": "10.0.96.0/40", "dev": "dpdk2"}]},
     "routes[0].prefix", False),
    ("route_without_prefix_length", "dpip_route", {"routes": [{"prefix": "192.168.229.0", "dev": "dpdk0"}]},
     "routes[0].prefix", False),
    ("purge_max_negative", "ipvsadm", {"services": [svc()], "purge": True, "purge_max": -1}, "purge_max", False),
    ("addr_purge_all_not_bool", "dpip_addr",
     {"addresses": [{"address": "10.0.96.204/32", "dev": "dpdk2"}], "purge_all": "maybe"}, "purge_all", False),
    ("route_bad_via", "dpip_route", {"routes": [{"prefix": "10.0.0.0/8", "via": "10.0.96.999", "dev": "dpdk2"}]},
     "routes[0].via", False),
    ("route_via_other_family", "dpip_route",
     {"routes": [{"prefix": "10.0.0.0/8", "via": "2001:db8::1", "dev": "dpdk2"}]},
     "routes[0].via", False),
    ("route_bad_src", "dpip_route", {"routes": [{"prefix": "10.0.0.0/8", "src": "nope", "dev": "dpdk2"}]},
     "routes[0].src", False),
    ("route_default_without_family", "dpip_route", {"routes": [{"prefix": "default", "dev": "dpdk2"}]},
     "routes[0]", False),
    ("route_missing_device", "dpip_route", {"routes": [{"prefix": "10.0.96.0/24", "dev": "dpdk9"}]},
     "routes[0].dev", True),
    ("svc_port_0", "ipvsadm", {"services": [svc(port=0)]}, "services[0].port", False),
    ("svc_port_65536", "ipvsadm", {"services": [svc(port=65536)]}, "services[0].port", False),
    ("svc_unknown_scheduler", "ipvsadm", {"services": [svc(scheduler="nosuch")]}, "services[0].scheduler", False),
    ("svc_bad_vip", "ipvsadm", {"services": [svc(vip="10.0.96.2044")]}, "services[0].vip", False),
    ("svc_no_vip", "ipvsadm", {"services": [{"port": 80, "scheduler": "rr"}]}, "services[0]", False),
    ("svc_duplicate", "ipvsadm", {"services": [svc(), svc(scheduler="wrr")]}, "services[1]", False),
    ("rs_without_port", "ipvsadm", {"services": [svc(real_servers=[{"ip": "192.168.229.1"}])]},
     "services[0].real_servers[0].port", False),
    ("rs_port_65536", "ipvsadm", {"services": [svc(real_servers=[dict(RS, port=65536)])]},
     "services[0].real_servers[0].port", False),
    ("rs_bad_ip", "ipvsadm", {"services": [svc(real_servers=[dict(RS, ip="192.168.229.256")])]},
     "services[0].real_servers[0].ip", False),
    ("rs_weight_65536", "ipvsadm", {"services": [svc(real_servers=[dict(RS, weight=65536)])]},
     "services[0].real_servers[0].weight", False),
    ("rs_duplicate", "ipvsadm", {"services": [svc(real_servers=[RS, dict(RS, weight=3)])]},
     "services[0].real_servers[1]", False),
    ("laddr_bad_ip", "ipvsadm", {"services": [svc(laddrs=[{"ip": "192.168.229.2o4", "dev": "dpdk0"}])]},
     "services[0].laddrs[0].ip", False),
    ("laddr_missing_device", "ipvsadm", {"services": [svc(laddrs=[{"ip": "192.168.229.204", "dev": "dpdk9"}])]},
     "services[0].laddrs[0].dev", True),
    ("kernel_with_synproxy", "ipvsadm", {"flavor": "kernel", "services": [svc(synproxy=True)]},
     "services[0].synproxy", False),
    ("kernel_with_laddrs", "ipvsadm",
     {"flavor": "kernel", "services": [svc(laddrs=[{"ip": "192.168.229.204", "dev": "dpdk0"}])]},
     "services[0].laddrs", False),
    ("dpvs_with_fwmark", "ipvsadm", {"flavor": "dpvs", "services": [{"fwmark": 1, "scheduler": "rr"}]},
     "services[0].fwmark", False),
    ("dpvs_with_kernel_scheduler", "ipvsadm", {"flavor": "dpvs", "services": [svc(scheduler="lblc")]},
     "services[0].scheduler", False),
    ("ops_on_tcp", "ipvsadm", {"services": [svc(ops=True)]}, "services[0].ops", False),
    ("hash_target_without_conhash", "ipvsadm", {"services": [svc(hash_target="sip")]},
     "services[0].hash_target", False),
    ("qid_on_tcp", "ipvsadm", {"services": [svc(scheduler="conhash", hash_target="qid")]},
     "services[0].hash_target", False),
]  # fmt: skip


def run_all_cases(workdir):
    emu = Emulator(workdir)
    emu.start()
    try:
        steps = [
            {"name": case_id, "module": module, "args": args, "expect_failure": True}
            for case_id, module, args, _path, _live in CASES
        ]
        run = Ansible(emu, workdir).play("steps.yml", {"steps": steps})
    finally:
        emu.ctl("stop", check=False)
    return emu, run


@pytest.fixture(scope="module")
def bad_input_run(tmp_path_factory):
    """One playbook run of every case against one emulator, once per pytest run.

    Under pytest-xdist the cases may land on several workers: the first one runs the playbook
    (under a lock), the others read its saved output and command logs.
    """
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if uid is None:
        return run_all_cases(tmp_path_factory.mktemp("bad-inputs"))
    shared = tmp_path_factory.getbasetemp().parent / f"bad-inputs-{uid}"
    shared.mkdir(exist_ok=True)
    saved = shared / "run.json"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not saved.exists():
            _emu, run = run_all_cases(shared)
            saved.write_text(json.dumps({"rc": run.rc, "stdout": run.stdout, "stderr": run.stderr, "argv": run.argv}))
    data = json.loads(saved.read_text())
    proc = subprocess.CompletedProcess(data["argv"], data["rc"], data["stdout"], data["stderr"])
    return Emulator(shared), PlaybookResult(proc, data["argv"])


def test_there_are_enough_cases():
    assert len(CASES) >= 20
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("case_id", "module", "args", "path", "live"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_fails_early_with_its_path(bad_input_run, case_id, module, args, path, live):
    emu, run = bad_input_run
    assert run.rc == 0, run.explain()  # every case was rescued: none was an unexpected failure
    result = run.step(case_id)
    assert result.get("failed") is True, f"{case_id} was accepted: {as_text(result)[:2000]}"
    msg = result.get("msg", "")
    assert path in msg, f"{case_id}: {path!r} not in {msg!r}"
    assert "Traceback" not in as_text(result), msg
    assert result.get("changed") is not True
    logged = emu.log(case_id)
    if live:
        assert not [entry for entry in logged if is_write(entry)], logged
    else:
        assert logged == [], f"{case_id}: commands ran before the input was rejected: {logged}"
