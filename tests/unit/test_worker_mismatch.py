"""A DPVS worker that could not add an address (issue 12, items 4-5), against the emulator.

Real DPVS v1.10.2 short of hugepages: ``IFA: [01] ifa_entry_add: add ifaddr 192.168.229.204
failed -- no memory`` on the worker only; the add exited 0, ``ipvsadm -G`` still listed the
LIP, and from then on ``dpip -s addr show`` exited 1 with ``corrupted response.`` / ``dpip:
invalid parameter`` (``ifaddr_get_stats: ifa naddr does not match -- master=3, slave[1]=2``)
while plain ``dpip addr show`` worked. ``dpvs-emulator fault worker-nomem`` reproduces that;
dpip_addr and ipvsadm must fail naming the address and the likely cause (hugepages).
"""

import io
import json
import os
import subprocess
import sys

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner, subprocess_run_command
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.errors import ApplyError, report
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import state as S
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import workers as W
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state import persist
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state import replay as R
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import plan as P

EMULATOR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "emulator")
BIN = os.path.join(EMULATOR, "bin")
SEED001 = os.path.join(EMULATOR, "ports-seed001.json")  # dpdk0..dpdk3, two workers (cpu1, cpu2)
LAB_LINK_LOCAL = "fe80::d8e5:dfff:feae:7cc9/64"  # the lab daemon's dpdk0 (one worker)
LIP = "192.168.229.204"
VIP = "10.0.96.204"
MISMATCH_STDERR = "corrupted response.\ndpip: invalid parameter\n"
SERVICE = {
    "vip": VIP,
    "port": 80,
    "scheduler": "rr",
    "real_servers": [{"ip": "192.168.229.1", "port": 80}],
    "laddrs": [{"ip": LIP, "dev": "dpdk0"}],
}


class Daemon:
    """One emulated DPVS, its tools called by name (``dpip:`` in messages, as on PATH)."""

    def __init__(self, folder, ports=None):
        os.makedirs(folder, exist_ok=True)
        self.env = dict(os.environ)
        self.env.update(
            DPVS_EMULATOR_STATE=os.path.join(folder, "state.json"),
            DPVS_IPC_FILE=os.path.join(folder, "dpvs.ipc"),
            DPVS_EMULATOR_PYTHON=sys.executable,
            PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
        )
        self.env.pop("DPVS_EMULATOR_LOG", None)
        self.ctl("start", *([ports] if ports else []))

    def run(self, *argv, stdin=None):
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, input=stdin, timeout=60, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def ctl(self, *args):
        return self.run("dpvs-emulator", *args)

    def ok(self, *argv):
        rc, out, err = self.run(*argv)
        assert rc == 0, (argv, rc, out, err)
        return out


@pytest.fixture
def lab(tmp_path):
    """The lab's one-port, one-worker daemon (the shape of the real finding)."""
    daemon = Daemon(str(tmp_path / "lab"))
    yield daemon
    daemon.ctl("stop")


@pytest.fixture
def seed(tmp_path, monkeypatch):
    """Seed 001's daemon (two workers), with this process's environment pointing at it, for the
    modules' tables run with the collection's own runner."""
    daemon = Daemon(str(tmp_path / "seed"), SEED001)
    for key in ("DPVS_EMULATOR_STATE", "DPVS_IPC_FILE", "DPVS_EMULATOR_PYTHON", "PATH"):
        monkeypatch.setenv(key, daemon.env[key])
    monkeypatch.delenv("DPVS_EMULATOR_LOG", raising=False)
    yield daemon
    daemon.ctl("stop")


class Recording(Runner):
    """The collection's runner over subprocesses, every argv it ran kept in ``ran``."""

    def __init__(self):
        super(Recording, self).__init__(subprocess_run_command)
        self.ran = []

    def run(self, argv, *args, **kwargs):
        self.ran.append(" ".join(str(a) for a in argv))
        return super(Recording, self).run(argv, *args, **kwargs)


def get_bin(option, default):
    return default  # dpip, ipvsadm: the emulator's, on PATH


def laddr_setup(daemon):
    daemon.ok("ipvsadm", "-A", "-t", f"{VIP}:80", "-s", "rr")
    return daemon.run("ipvsadm", "--add-laddr", "-z", LIP, "-t", f"{VIP}:80", "-F", "dpdk0")


# ----------------------------------------------------------------------------- the emulator


def test_the_fault_reproduces_what_real_dpvs_printed(lab, tmp_path):
    assert lab.ctl("fault", "worker-nomem") == (0, "", "")
    # the add reaches the master and exits 0, silent: the workers get it after the answer
    assert lab.run("dpip", "addr", "add", f"{LIP}/32", "dev", "dpdk0", "sapool") == (0, "", "")
    # ifaddr_get_stats() answers OK with no data; dpip: "corrupted response.", EDPVS_INVAL, exit 1
    assert lab.run("dpip", "-s", "addr", "show") == (1, "", MISMATCH_STDERR)
    assert lab.run("dpip", "-s", "addr", "show", "dev", "dpdk0") == (1, "", MISMATCH_STDERR)
    assert lab.run("dpip", "--stats", "addr", "show") == (1, "", MISMATCH_STDERR)
    # the daemon's log line, as real DPVS wrote it
    assert lab.ok("dpvs-emulator", "fault") == (
        "armed: none\nIFA: [01] ifa_entry_add: add ifaddr 192.168.229.204 failed -- no memory\n"
    )
    # a healthy daemon given the same commands: the plain listings are the same text
    healthy = Daemon(str(tmp_path / "healthy"))
    try:
        healthy.ok("dpip", "addr", "add", f"{LIP}/32", "dev", "dpdk0", "sapool")
        for argv in (("dpip", "addr", "show"), ("dpip", "route", "show"), ("dpip", "addr", "show", "dev", "dpdk0")):
            assert lab.run(*argv) == healthy.run(*argv), argv
        assert healthy.run("dpip", "-s", "addr", "show")[0] == 0
    finally:
        healthy.ctl("stop")
    assert f"inet {LIP}/32 scope global dpdk0\n" in lab.ok("dpip", "addr", "show")


def test_ipvsadm_add_laddr_under_the_fault_is_silent_and_get_laddr_lists_it(lab, tmp_path):
    lab.ok("dpvs-emulator", "fault", "worker-nomem")
    added = laddr_setup(lab)
    healthy = Daemon(str(tmp_path / "healthy"))
    try:
        assert added == laddr_setup(healthy)  # exit code, stdout, stderr: as on a healthy daemon
        for argv in (("ipvsadm", "-G"), ("ipvsadm", "--get-laddr"), ("ipvsadm", "-ln"), ("dpip", "addr", "show")):
            assert lab.run(*argv) == healthy.run(*argv), argv
    finally:
        healthy.ctl("stop")
    assert LIP in lab.ok("ipvsadm", "-G")
    assert lab.run("dpip", "-s", "addr", "show") == (1, "", MISMATCH_STDERR)


def test_the_verbose_listing_shows_each_lcore_and_what_the_worker_lacks(lab):
    lab.ok("dpvs-emulator", "fault", "worker-nomem")
    lab.ok("dpip", "addr", "add", f"{LIP}/32", "dev", "dpdk0", "sapool")
    lft = "     valid_lft forever preferred_lft forever"
    # the master's sapool entry sums the workers' entries at its position: the worker's
    # link-local (no sapool), so 0 here
    assert lab.ok("dpip", "-v", "addr", "show") == (
        f"[00] inet {LIP}/32 scope global dpdk0\n{lft} sa_used 0 sa_free 0 sa_miss 0\n"
        f"[00] inet6 {LAB_LINK_LOCAL} scope link dpdk0\n{lft}\n"
        f"[01] inet6 {LAB_LINK_LOCAL} scope link dpdk0\n{lft}\n"
    )
    assert W.missing_addresses(lab.ok("dpip", "-v", "addr", "show")) == [
        {"address": f"{LIP}/32", "dev": "dpdk0", "family": "inet", "missing_on": [1]}
    ]


def test_a_delete_heals_it_a_restart_forgets_it_and_clear_disarms(lab):
    lab.ok("dpvs-emulator", "fault", "worker-nomem", "--count", "2")
    lab.ok("dpip", "addr", "add", f"{VIP}/32", "dev", "dpdk0")  # no sapool: not affected by default
    assert lab.run("dpip", "-s", "addr", "show")[0] == 0
    lab.ok("dpip", "addr", "add", f"{LIP}/32", "dev", "dpdk0", "sapool")
    assert "armed: worker-nomem count=1 cpu=1 sapool adds\n" in lab.ok("dpvs-emulator", "fault")
    lab.ok("dpip", "addr", "del", f"{LIP}/32", "dev", "dpdk0")  # the master deletes; the worker has none
    assert lab.run("dpip", "-s", "addr", "show")[0] == 0
    lab.ok("dpvs-emulator", "fault", "clear")
    assert lab.ok("dpvs-emulator", "fault") == "armed: none\n"
    lab.ok("dpip", "addr", "add", f"{LIP}/32", "dev", "dpdk0", "sapool")
    assert "sa_free 1032176" in lab.ok("dpip", "-s", "addr", "show")
    lab.ok("dpvs-emulator", "fault", "worker-nomem", "--any")
    lab.ok("dpip", "addr", "add", "10.0.96.205/32", "dev", "dpdk0")  # --any: a VIP fails too
    assert lab.run("dpip", "-s", "addr", "show")[0] == 1
    lab.ok("dpvs-emulator", "stop")
    lab.ok("dpvs-emulator", "start")
    assert lab.run("dpip", "-s", "addr", "show")[0] == 0
    assert lab.ok("dpvs-emulator", "fault") == "armed: none\n"


def test_the_fault_command_checks_its_words(lab):
    usage = lab.run("dpvs-emulator", "fault", "worker-nomem", "--count", "0")
    assert usage[0] == 2 and "fault worker-nomem [--count N]" in usage[2]
    assert lab.run("dpvs-emulator", "fault", "other")[0] == 2
    assert lab.run("dpvs-emulator", "fault", "worker-nomem", "--cpu", "2") == (
        2,
        "",
        "dpvs-emulator: no worker cpu2 (workers: cpu1..cpu1)\n",
    )
    lab.ok("dpvs-emulator", "stop")
    assert lab.run("dpvs-emulator", "fault", "worker-nomem") == (1, "", "dpvs-emulator: not running\n")


def test_a_second_worker_can_be_the_one_that_fails(seed):
    seed.ok("dpvs-emulator", "fault", "worker-nomem", "--cpu", "2")
    seed.ok("dpip", "addr", "add", f"{LIP}/32", "dev", "dpdk0", "sapool")
    assert seed.run("dpip", "-s", "addr", "show") == (1, "", MISMATCH_STDERR)
    rc, out, _err = seed.run("dpip", "-s", "addr", "show", "dev", "dpdk1")  # per device, as idev counts
    assert rc == 0 and out.startswith("inet6 fe80::") and LIP not in out
    missing = W.missing_addresses(seed.ok("dpip", "-v", "addr", "show"))
    assert missing == [{"address": f"{LIP}/32", "dev": "dpdk0", "family": "inet", "missing_on": [2]}]


# ----------------------------------------------------------------------------- dpip_addr


def test_dpip_addr_adding_a_lip_under_the_fault_fails_naming_it_and_hugepages(seed):
    seed.ok("dpvs-emulator", "fault", "worker-nomem")
    params = {"addresses": [{"address": f"{LIP}/32", "dev": "dpdk0", "sapool": True}, {"address": VIP, "dev": "dpdk2"}]}
    with pytest.raises(ApplyError) as caught:
        S.run_addr(params, Recording())
    fields = report(caught.value)
    msg = fields["msg"]
    assert msg.startswith("the plan was applied (2 command(s), each exited 0: see applied), but ")
    assert f"a DPVS worker could not add {LIP}/32 dev dpdk0 (missing on worker [01])" in msg
    assert "hugepage" in msg and f"'IFA: [01] ifa_entry_add: add ifaddr {LIP} failed -- no memory'" in msg
    assert VIP not in msg  # its add reached every worker
    assert [" ".join(c["cmd"]) for c in fields["applied"]] == [
        f"dpip addr add {LIP}/32 dev dpdk0 sapool",
        f"dpip addr add {VIP}/32 dev dpdk2",
    ]
    assert (fields["cmd"], fields["rc"], fields["stderr"]) == (["dpip", "-s", "addr", "show"], 1, MISMATCH_STDERR)
    assert fields["worker_mismatch"] == [{"address": f"{LIP}/32", "dev": "dpdk0", "family": "inet", "missing_on": [1]}]
    assert fields["commands"][-1] == {"cmd": ["dpip", "-s", "addr", "show"], "rc": 1}


def test_dpip_addr_adding_a_vip_when_even_plain_adds_fail(seed):
    seed.ok("dpvs-emulator", "fault", "worker-nomem", "--any")
    with pytest.raises(ApplyError) as caught:
        S.run_addr({"addresses": [{"address": "2001:db8::204/64", "dev": "dpdk2"}]}, Recording())
    assert "a DPVS worker could not add 2001:db8::204/64 dev dpdk2 (missing on worker [01])" in caught.value.msg
    assert caught.value.details["worker_mismatch"][0]["family"] == "inet6"


def test_a_run_that_finds_the_state_left_over_fails_with_the_same_message(seed):
    seed.ok("dpvs-emulator", "fault", "worker-nomem")
    seed.ok("dpip", "addr", "add", f"{LIP}/32", "dev", "dpdk0", "sapool")  # an earlier run's add
    runner = Recording()
    params = {"addresses": [{"address": f"{LIP}/32", "dev": "dpdk0", "sapool": True}]}
    for check_mode in (False, True):
        with pytest.raises(W.WorkerMismatchError) as caught:
            S.run_addr(params, runner, check_mode=check_mode)
        fields = report(caught.value)
        assert fields["msg"].startswith(f"a DPVS worker could not add {LIP}/32 dev dpdk0 (missing on worker [01]): ")
        assert "hugepage" in fields["msg"] and "corrupted response." in fields["msg"]
        assert fields["commands"] == [] and fields["rc"] == 1 and fields["stderr"] == MISMATCH_STDERR
        assert fields["worker_mismatch"][0]["missing_on"] == [1]
    assert not [argv for argv in runner.ran if " add " in argv or " del " in argv]
    # the plain listings still work: dpip_route plans and applies as usual
    routes = S.run_route({"routes": [{"prefix": "192.168.229.0/24", "dev": "dpdk0"}]}, Recording())
    assert routes["changed"] is True


def test_dpvs_info_names_the_address_a_worker_lacks_instead_of_corrupted_response(seed):
    from ansible_collections.dpvs.cluster.plugins.modules import dpvs_info

    seed.ok("dpvs-emulator", "fault", "worker-nomem")
    seed.ok("dpip", "addr", "add", f"{LIP}/32", "dev", "dpdk0", "sapool")
    with pytest.raises(W.WorkerMismatchError) as caught:
        dpvs_info.gather(Recording(), "dpip", "ipvsadm", dpvs_info._subsets(["addresses"]))
    assert report(caught.value)["msg"].startswith(f"a DPVS worker could not add {LIP}/32 dev dpdk0")
    # the other tables are still read as usual
    result = dpvs_info.gather(Recording(), "dpip", "ipvsadm", dpvs_info._subsets(["links", "routes"]))
    assert result["running"] and result["links"]


def test_without_the_fault_dpip_addr_reads_back_once_and_names_nothing(seed):
    runner = Recording()
    params = {"addresses": [{"address": f"{LIP}/32", "dev": "dpdk0", "sapool": True}]}
    result = S.run_addr(params, runner)
    assert result["changed"] is True
    assert runner.ran == [
        "dpip link show",
        "dpip -s addr show",
        f"dpip addr add {LIP}/32 dev dpdk0 sapool",
        "dpip -s addr show",  # the read-back that is also the check: no extra command
    ]
    again = Recording()
    assert S.run_addr(params, again)["changed"] is False
    assert again.ran == ["dpip link show", "dpip -s addr show"]


# ----------------------------------------------------------------------------- ipvsadm


def test_ipvsadm_adding_a_laddr_under_the_fault_fails_naming_it(seed):
    seed.ok("dpvs-emulator", "fault", "worker-nomem")
    runner = Recording()
    with pytest.raises(ApplyError) as caught:
        P.run({"services": [SERVICE]}, runner, get_bin)
    fields = report(caught.value)
    assert f"a DPVS worker could not add {LIP}/32 dev dpdk0 (missing on worker [01])" in fields["msg"]
    assert "hugepage" in fields["msg"] and "ipvsadm --del-laddr" in fields["msg"]
    assert fields["msg"].startswith("the plan was applied (3 command(s), each exited 0: see applied), but ")
    assert any("--add-laddr" in entry["cmd"] for entry in fields["applied"])
    assert fields["worker_mismatch"] == [{"address": f"{LIP}/32", "dev": "dpdk0", "family": "inet", "missing_on": [1]}]
    assert runner.ran[-2:] == ["dpip -s addr show", "dpip -v addr show"]
    # the next dpip_addr run (dpvs_network comes first in site.yml) fails with the same message
    with pytest.raises(W.WorkerMismatchError) as again:
        S.run_addr({"addresses": [{"address": VIP, "dev": "dpdk2"}]}, Recording())
    assert f"a DPVS worker could not add {LIP}/32 dev dpdk0" in again.value.msg


def test_ipvsadm_in_one_restore_batch_is_checked_too(seed):
    seed.ok("dpvs-emulator", "fault", "worker-nomem")
    with pytest.raises(ApplyError) as caught:
        P.run({"services": [SERVICE], "batch_threshold": 0}, Recording(), get_bin)
    assert caught.value.applied[0]["cmd"] == ["ipvsadm", "-R"]
    assert f"{LIP}/32 dev dpdk0 (missing on worker [01])" in caught.value.msg


def test_without_the_fault_ipvsadm_pays_one_read_after_adding_laddrs_and_none_otherwise(seed):
    runner = Recording()
    result = P.run({"services": [SERVICE]}, runner, get_bin)
    assert result["changed"] is True
    assert [argv for argv in runner.ran if "addr show" in argv] == ["dpip -s addr show"]
    assert runner.ran[-1] == "dpip -s addr show"
    again = Recording()
    assert P.run({"services": [SERVICE]}, again, get_bin)["changed"] is False
    assert not [argv for argv in again.ran if "addr" in argv]
    # a service without laddrs: no dpip at all
    other = Recording()
    P.run({"services": [dict(SERVICE, port=81, laddrs=[])]}, other, get_bin)
    assert not [argv for argv in other.ran if argv.startswith("dpip")]


# ----------------------------------------------------------------------------- the replay


def test_the_replay_at_dpvs_start_names_it(seed, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    documents = {
        "addresses.json": persist.dpip_state([], "addresses"),
        "routes.json": persist.dpip_state([], "routes"),
        "services.json": persist.state_document([SERVICE], "services"),
    }
    for name, document in documents.items():
        (state / name).write_text(json.dumps(document))
    seed.ok("dpvs-emulator", "fault", "worker-nomem")
    out, err = io.StringIO(), io.StringIO()
    rc = R.replay_main(["--state-dir", str(state), "--timeout", "5"], out=out, err=err)
    assert rc == 1
    assert f"a DPVS worker could not add {LIP}/32 dev dpdk0 (missing on worker [01])" in err.getvalue()


# ----------------------------------------------------------------------------- the parts


def test_the_verbose_parser_takes_the_first_lcore_listed_as_the_master():
    lft = "     valid_lft forever preferred_lft forever"
    text = (
        f"[00] inet 10.0.0.1/32 scope global dpdk0\n{lft}\n"
        f"[00] inet 10.0.0.2/32 scope global dpdk0\n{lft} sa_used 0 sa_free 9 sa_miss 0\n"
        f"[01] inet 10.0.0.1/32 scope global dpdk0\n{lft}\n"
        f"[02] inet 10.0.0.1/32 scope global dpdk0\n{lft}\n"
        f"[02] inet 10.0.0.2/32 scope global dpdk0\n{lft} sa_used 0 sa_free 9 sa_miss 0\n"
    )
    missing = [{"address": "10.0.0.2/32", "dev": "dpdk0", "family": "inet", "missing_on": [1]}]
    assert W.missing_addresses(text) == missing
    assert W.missing_addresses("") == []
    with pytest.raises(W.ParseError):
        W.lcore_tables("inet 10.0.0.1/32 scope global dpdk0\n" + lft + "\n")  # not -v


def test_the_message_without_names_still_says_what_to_do():
    text = W.message([])
    assert text.startswith("a DPVS worker could not add an address (dpip -v addr show did not name it")
    assert "hugepage" in text and "restart DPVS" in text
    earlier = W.message([{"address": "10.0.0.2/32", "dev": "dpdk0", "family": "inet", "missing_on": [1]}], ["10.0.0.3"])
    assert "(10.0.0.2/32 left by an earlier change)" in earlier
