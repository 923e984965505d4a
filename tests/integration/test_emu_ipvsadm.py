"""dpvs.cluster.ipvsadm through ansible-playbook against the emulator."""

import pytest
from emutier import as_text, assert_ok, command_lines, is_restore, parse_addrs, parse_laddrs

pytestmark = pytest.mark.parallel_safe

SERVICES = [
    {
        "vip": "10.0.96.204",
        "port": 80,
        "scheduler": "rr",
        "real_servers": [{"ip": "192.168.229.1", "port": 80}, {"ip": "192.168.229.2", "port": 8080, "weight": 2}],
        "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}],
    },
    {
        "protocol": "udp",
        "vip": "10.0.96.204",
        "port": 53,
        "scheduler": "wlc",
        "persistent": 300,
        "real_servers": [{"ip": "192.168.229.1", "port": 53}],
    },
    {
        "vip": "10.0.96.204",
        "port": 443,
        "scheduler": "conhash",
        "synproxy": True,
        "conn_timeout": 120,
        "real_servers": [{"ip": "192.168.229.3", "port": 443, "forward": "fullnat"}],
    },
    # IPv6 FullNAT: IPv6 VIP, RS and LIP
    {
        "vip": "2001:db8::204",
        "port": 80,
        "scheduler": "rr",
        "real_servers": [{"ip": "2001:db8::10", "port": 80}],
        "laddrs": [{"ip": "2001:db8::205", "dev": "dpdk0"}],
    },
    # NAT64: IPv6 VIP, IPv4 RS and IPv4 LIP
    {
        "vip": "2001:db8::204",
        "port": 8080,
        "scheduler": "rr",
        "real_servers": [{"ip": "192.168.229.1", "port": 80}],
        "laddrs": [{"ip": "192.168.229.209", "dev": "dpdk0"}],
    },
]
MODIFIED = [
    {
        "vip": "10.0.96.204",
        "port": 80,
        "scheduler": "wrr",  # service option: -E
        "real_servers": [{"ip": "192.168.229.2", "port": 8080, "weight": 5}],  # weight: -e; .1 removed: -d
        "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}, {"ip": "192.168.229.205", "dev": "dpdk0"}],
    },
    # real_servers omitted: the service's real servers are left alone
    {"protocol": "udp", "vip": "10.0.96.204", "port": 53, "scheduler": "wlc", "persistent": 600},
    {
        "vip": "10.0.96.204",
        "port": 443,
        "scheduler": "conhash",
        "synproxy": True,
        "conn_timeout": 120,
        "real_servers": [{"ip": "192.168.229.3", "port": 443, "forward": "masq"}],  # forward: -d + -a
    },
    {"vip": "2001:db8::204", "port": 80, "state": "absent"},
    {
        "vip": "2001:db8::204",
        "port": 8080,
        "scheduler": "rr",
        "real_servers": [{"ip": "192.168.229.1", "port": 80}],
        "laddrs": [{"ip": "192.168.229.209", "dev": "dpdk0"}],
    },
]


def test_lifecycle_check_apply_idempotent_diff_modify(emulator, ansible):
    before = emulator.snapshot()
    run = ansible.play("ipvsadm_lifecycle.yml", {"services": SERVICES, "modified_services": MODIFIED}, diff=True)
    assert run.rc == 0, run.explain()

    check = run["Check"]
    assert_ok(check, "check")
    assert check["changed"] is True
    lines = command_lines(check)
    assert any("-A -t [2001:db8::204]:8080 -s rr" in line for line in lines), lines
    assert any("-r 192.168.229.1:80" in line and "-b" in line for line in lines), lines
    assert run.snapshot("after check") == before
    assert emulator.log("check"), "the module read nothing: is DPVS_EMULATOR_LOG written?"
    assert emulator.writes("check") == []
    assert "2001:db8::204" not in as_text(check["diff"]["before"])
    assert "2001:db8::204" in as_text(check["diff"]["after"])
    assert check["flavor"] == "dpvs"

    apply = run["Apply"]
    assert_ok(apply, "apply")
    assert apply["changed"] is True
    writes = emulator.writes("apply")
    # 5 services + 6 real servers + 3 laddrs, below batch_threshold: one process each
    assert len(writes) == 14, writes
    assert not any(is_restore(entry) for entry in writes)

    for phase, task in (("idempotent", "Apply again"), ("idempotent_check", "Apply again in check mode")):
        result = run[task]
        assert_ok(result, task)
        assert result["changed"] is False, (task, command_lines(result))
        assert emulator.writes(phase) == [], phase

    modify_check = run["Modify in check mode"]
    assert modify_check["changed"] is True
    assert emulator.writes("modify_check") == []
    assert "192.168.229.205" in as_text(modify_check["diff"]["after"])
    assert "192.168.229.205" not in as_text(modify_check["diff"]["before"])

    modify = run["Modify"]
    assert_ok(modify, "modify")
    lines = command_lines(modify)
    assert any("-E -t 10.0.96.204:80" in line and "-s wrr" in line for line in lines), lines
    assert any("-e -t 10.0.96.204:80 -r 192.168.229.2:8080" in line and "-w 5" in line for line in lines), lines
    assert any("-d -t 10.0.96.204:80 -r 192.168.229.1:80" in line for line in lines), lines
    assert any("-D -t [2001:db8::204]:80" in line for line in lines), lines
    assert not any("-u 10.0.96.204:53 -r" in line for line in lines), "real_servers omitted, yet RS touched"
    fwd_del = [i for i, line in enumerate(lines) if "-d -t 10.0.96.204:443 -r 192.168.229.3:443" in line]
    fwd_add = [i for i, line in enumerate(lines) if "-a -t 10.0.96.204:443 -r 192.168.229.3:443" in line]
    assert fwd_del and fwd_add and fwd_del[0] < fwd_add[0], lines

    services = emulator.services()
    assert set(services) == {
        "tcp 10.0.96.204:80",
        "tcp 10.0.96.204:443",
        "udp 10.0.96.204:53",
        "tcp [2001:db8::204]:8080",
    }, services
    web = services["tcp 10.0.96.204:80"]
    assert web["scheduler"] == "wrr"
    assert web["rs"] == {"192.168.229.2:8080": {"forward": "FullNat", "weight": 5, "active": 0}}
    assert "persistent 600" in services["udp 10.0.96.204:53"]["flags"]
    assert set(services["udp 10.0.96.204:53"]["rs"]) == {"192.168.229.1:53"}
    assert services["tcp 10.0.96.204:443"]["rs"]["192.168.229.3:443"]["forward"] == "Masq"
    assert "synproxy" in services["tcp 10.0.96.204:443"]["flags"]
    assert services["tcp [2001:db8::204]:8080"]["rs"]["192.168.229.1:80"]["forward"] == "FullNat"

    laddrs = emulator.laddrs()
    assert laddrs["10.0.96.204:80"] == ["192.168.229.204", "192.168.229.205"]
    assert laddrs["[2001:db8::204]:8080"] == ["192.168.229.209"]
    addrs = emulator.addrs()
    assert addrs[("192.168.229.205/32", "dpdk0")]["sapool"] is True
    assert not any(key[0].startswith("2001:db8::205") for key in addrs), "the deleted service's LIP stayed"


def test_purge_and_real_servers_left_alone(emulator, ansible):
    for line in (
        "-A -t 10.0.96.204:80 -s rr",
        "-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b",
        "-a -t 10.0.96.204:80 -r 192.168.229.9:80 -b",
        "-A -t 10.0.96.204:81 -s rr",
        "-a -t 10.0.96.204:81 -r 192.168.229.1:81 -b",
        "-A -u 10.0.96.204:53 -s wlc",
    ):
        emulator.ipvsadm(*line.split())
    emulator.ipvsadm("--add-laddr", "-z", "192.168.229.204", "-t", "10.0.96.204:81", "-F", "dpdk0")
    declared = [
        # real_servers omitted: .1 and .9 stay
        {"vip": "10.0.96.204", "port": 80, "scheduler": "rr"},
        {"vip": "10.0.96.204", "port": 443, "scheduler": "rr", "real_servers": [{"ip": "192.168.229.1", "port": 443}]},
    ]
    steps = [
        {"name": "purge", "module": "ipvsadm", "args": {"services": declared, "purge": True}, "diff": True},
        {"name": "purge_again", "module": "ipvsadm", "args": {"services": declared, "purge": True}},
    ]
    run = ansible.play("steps.yml", {"steps": steps})
    assert run.rc == 0, run.explain()
    purge = run.step("purge")
    assert purge["changed"] is True
    lines = command_lines(purge)
    assert any("-D -t 10.0.96.204:81" in line for line in lines), lines
    assert any("-D -u 10.0.96.204:53" in line for line in lines), lines
    assert "10.0.96.204:81" in as_text(purge["diff"]["before"])
    assert "10.0.96.204:81" not in as_text(purge["diff"]["after"])
    assert run.step("purge_again")["changed"] is False
    assert emulator.writes("purge_again") == []

    services = emulator.services()
    assert set(services) == {"tcp 10.0.96.204:80", "tcp 10.0.96.204:443"}
    assert set(services["tcp 10.0.96.204:80"]["rs"]) == {"192.168.229.1:80", "192.168.229.9:80"}
    assert emulator.laddrs().get("10.0.96.204:81") is None


def test_shared_laddr_removed_from_one_service_stays_on_the_nic(emulator, ansible):
    lip = {"ip": "192.168.229.205", "dev": "dpdk0"}
    both = [
        {"vip": "10.0.96.204", "port": 80, "scheduler": "rr", "laddrs": [lip]},
        {"vip": "10.0.96.204", "port": 443, "scheduler": "rr", "laddrs": [lip]},
    ]
    one = [
        {"vip": "10.0.96.204", "port": 80, "scheduler": "rr", "laddrs": [lip]},
        {"vip": "10.0.96.204", "port": 443, "scheduler": "rr", "laddrs": []},
    ]
    steps = [
        {"name": "both", "module": "ipvsadm", "args": {"services": both}},
        {"name": "after_both", "module": "snapshot"},
        {"name": "drop_from_443", "module": "ipvsadm", "args": {"services": one}},
        {"name": "drop_again", "module": "ipvsadm", "args": {"services": one}},
    ]
    run = ansible.play("steps.yml", {"steps": steps})
    assert run.rc == 0, run.explain()
    snap = run.snapshot("after_both")
    shared = ["192.168.229.205"]
    assert parse_laddrs(snap["laddr"]) == {"10.0.96.204:80": shared, "10.0.96.204:443": shared}
    assert parse_addrs(snap["addr"])[("192.168.229.205/32", "dpdk0")]["sapool"] is True

    drop = run.step("drop_from_443")
    assert drop["changed"] is True
    lines = command_lines(drop)
    assert any("--del-laddr" in line and "10.0.96.204:443" in line for line in lines), lines
    # DPVS took the NIC address away with --del-laddr; the module puts it back for :80
    assert any("addr add 192.168.229.205/32 dev dpdk0" in line and "sapool" in line for line in lines), lines
    assert run.step("drop_again")["changed"] is False, command_lines(run.step("drop_again"))

    assert emulator.laddrs() == {"10.0.96.204:80": ["192.168.229.205"], "10.0.96.204:443": []}
    addrs = emulator.addrs()
    assert ("192.168.229.205/32", "dpdk0") in addrs, "the LIP :80 still uses is gone from the NIC"
    assert addrs[("192.168.229.205/32", "dpdk0")]["sapool"] is True


def big_table(services, real_servers):
    return [
        {
            "vip": f"10.0.{96 + i // 200}.{i % 200 + 1}",
            "port": 80,
            "scheduler": "rr",
            "real_servers": [{"ip": f"192.168.229.{j + 1}", "port": 8000 + i} for j in range(real_servers)],
            "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}],
        }
        for i in range(services)
    ]


def test_large_change_goes_through_one_restore_process(emulator, ansible):
    table = big_table(10, 3)  # 10 -A + 30 -a + 10 --add-laddr = 50 lines > batch_threshold 20
    small = [dict(svc) for svc in table]
    small[0] = dict(small[0], real_servers=[dict(small[0]["real_servers"][0], weight=7), *small[0]["real_servers"][1:]])
    steps = [
        {"name": "cold", "module": "ipvsadm", "args": {"services": table}},
        {"name": "noop", "module": "ipvsadm", "args": {"services": table}},
        {"name": "small_change", "module": "ipvsadm", "args": {"services": small}},
    ]
    run = ansible.play("steps.yml", {"steps": steps})
    assert run.rc == 0, run.explain()
    cold = run.step("cold")
    assert cold["changed"] is True
    writes = emulator.writes("cold")
    assert len(writes) == 1, [entry["argv"] for entry in writes]
    assert is_restore(writes[0])
    restore_cmds = [entry for entry in cold["commands"] if entry.get("stdin")]
    assert len(restore_cmds) == 1 and len(restore_cmds[0]["stdin"].splitlines()) == 50, cold["commands"]

    assert run.step("noop")["changed"] is False
    assert emulator.writes("noop") == []
    # a one-line plan is a plain command, not a batch
    small_writes = emulator.writes("small_change")
    assert len(small_writes) == 1 and not is_restore(small_writes[0]), small_writes

    services = emulator.services()
    assert len(services) == 10
    assert all(len(svc["rs"]) == 3 for svc in services.values())
    assert services["tcp 10.0.96.1:80"]["rs"]["192.168.229.1:8000"]["weight"] == 7
    assert all(ips == ["192.168.229.204"] for ips in emulator.laddrs().values())


def test_drain_on_an_idle_real_server_completes_at_once(emulator, ansible):
    svc = {
        "vip": "10.0.96.204",
        "port": 80,
        "scheduler": "rr",
        "real_servers": [{"ip": "192.168.229.1", "port": 80}, {"ip": "192.168.229.2", "port": 80}],
    }
    fewer = dict(svc, real_servers=svc["real_servers"][:1])
    steps = [
        {"name": "two", "module": "ipvsadm", "args": {"services": [svc]}},
        {"name": "drain", "module": "ipvsadm", "args": {"services": [fewer], "drain": True, "drain_timeout": 30}},
    ]
    run = ansible.play("steps.yml", {"steps": steps})
    assert run.rc == 0, run.explain()
    drain = run.step("drain")
    assert drain["changed"] is True
    assert "192.168.229.2" in as_text(drain["drained"]), drain.get("drained")
    writes = [" ".join(entry["argv"]) for entry in emulator.writes("drain")]
    weight0 = [i for i, line in enumerate(writes) if "-e" in line.split() and "192.168.229.2:80" in line]
    delete = [i for i, line in enumerate(writes) if "-d" in line.split() and "192.168.229.2:80" in line]
    assert weight0 and delete and weight0[0] < delete[0], writes
    assert "-w 0" in writes[weight0[0]]
    # ActiveConn is 0 on the emulator: no waiting for drain_timeout
    started, ended = run.duration("Run ipvsadm drain")
    assert ended - started < 10, (started, ended)
    assert set(emulator.services()["tcp 10.0.96.204:80"]["rs"]) == {"192.168.229.1:80"}


def test_ten_thousand_services_with_a_shared_laddr_do_not_deadlock(emulator, ansible):
    """Issue 14: ipvsadm -R writes `already exist(-3)` on stderr for every --add-laddr of a LIP that
    is on the NIC already, line by line as it reads (the emulator does too). 9,999 such lines are
    about 740 KB: a runner that writes all of stdin before it reads (AnsibleModule.run_command)
    fills the 64 KiB stderr pipe and both sides wait for ever (the play's 300 s timeout)."""
    table = big_table(10000, 4)
    run = ansible.play("steps.yml", {"steps": [{"name": "cold", "module": "ipvsadm", "args": {"services": table}}]})
    assert run.rc == 0, run.explain()
    assert run.step("cold")["changed"] is True
    writes = emulator.writes("cold")
    assert len(writes) == 1 and is_restore(writes[0]), [entry["argv"] for entry in writes]
    assert len(writes[0]["stdin"].splitlines()) == 10000 * 6
    services = emulator.services()
    assert len(services) == 10000
    assert all(len(svc["rs"]) == 4 for svc in services.values())
    assert all(ips == ["192.168.229.204"] for ips in emulator.laddrs().values())


def test_a_laddr_a_worker_cannot_add_fails_the_run(emulator, ansible):
    """DPVS short of hugepages (issue 12): `--add-laddr` exits 0 and `-G` lists the LIP while a
    worker lacks it; the module checks `dpip -s addr show` after adding LIPs and fails naming it.
    The next run of dpip_addr (dpvs_network, before dpvs_services) fails with the same message."""
    emulator.ctl("fault", "worker-nomem")
    service = {
        "vip": "10.0.96.204",
        "port": 80,
        "scheduler": "rr",
        "real_servers": [{"ip": "192.168.229.1", "port": 80}],
        "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}],
    }
    steps = [
        {"name": "add", "module": "ipvsadm", "args": {"services": [service]}, "expect_failure": True},
        {
            "name": "addresses",
            "module": "dpip_addr",
            "args": {"addresses": [{"address": "10.0.96.204", "dev": "dpdk2"}]},
            "expect_failure": True,
        },
    ]
    run = ansible.play("steps.yml", {"steps": steps})
    assert run.rc == 0, run.explain()
    named = "a DPVS worker could not add 192.168.229.204/32 dev dpdk0 (missing on worker [01])"
    add = run.step("add")
    assert add.get("failed") is True, as_text(add)[:2000]
    assert add["msg"].startswith("the plan was applied (3 command(s), each exited 0: see applied), but " + named)
    assert "hugepage" in add["msg"]
    assert add["worker_mismatch"] == [
        {"address": "192.168.229.204/32", "dev": "dpdk0", "family": "inet", "missing_on": [1]}
    ]
    assert any("--add-laddr" in entry["cmd"] for entry in add["applied"])
    reads = [entry["argv"] for entry in emulator.log("add") if entry["tool"].endswith("dpip")]
    assert reads[-2:] == [["-s", "addr", "show"], ["-v", "addr", "show"]], reads
    assert parse_laddrs(emulator.ipvsadm("-G").stdout) == {"10.0.96.204:80": ["192.168.229.204"]}

    addresses = run.step("addresses")
    assert addresses.get("failed") is True
    assert addresses["msg"].startswith(named)
    assert emulator.writes("addresses") == []
