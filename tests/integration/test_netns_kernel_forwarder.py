"""Seed 000 for real: the kernel_forwarder role in network namespace B forwards UDP from A to C.

Needs root (namespaces, iptables, sysctl); it fails, never skips, when it cannot build them.
Everything happens inside three namespaces with test-range addresses (netns_lab.py): nothing
on the host's own network stack is touched, and the role's files (sysctl.d file, saved rules,
rollback snapshots) are redirected into the test's tmp dir.

Judged with the tier's own tools (udp_tools.py: echo server in C, burst client in A) and the
kernel's view (iptables-save, sysctl in B); the collection's net_stats_info and udp_probe run
too, and their numbers are cross-checked against the tools'.
"""

import os

import pytest
from netns_lab import A_ADDR, B_CLIENT_SIDE, B_SERVER_SIDE, C_ADDR, REPO, SEED_PORTS, Ansible, Lab

TAG = "dpvs.cluster kernel_forwarder"
COUNT = 200
REMOVED = 7895
VERIFY_PLAYBOOK = os.path.join(REPO, "playbooks", "verify_kernel_forwarder.yml")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("netns")
    lab = Lab(workdir)
    try:
        lab.up()
        lab.start_echo("7890-7900")
        yield lab
    finally:
        lab.down()
        assert not any(lab.exists().values()), f"namespaces left behind: {lab.exists()}"


@pytest.fixture(scope="module")
def ansible(lab, tmp_path_factory):
    return Ansible(lab, tmp_path_factory.mktemp("ansible"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("forwarder-files")
    return {
        "sysctl": str(root / "sysctl.d" / "60-dpvs-kernel-forwarder.conf"),
        "persist": str(root / "iptables" / "rules.v4"),
        "state": str(root / "state"),
    }


def forwarder_vars(files, ports=tuple(SEED_PORTS), **extra):
    variables = {
        "kernel_forwarder_address": B_CLIENT_SIDE,
        "kernel_forwarder_snat_address": B_SERVER_SIDE,
        "kernel_forwarder_forwards": [{"ports": list(ports), "backend": C_ADDR, "sources": [A_ADDR]}],
        # this machine: no package installs, no module loading (nf_conntrack is there already)
        "kernel_forwarder_install_packages": False,
        "kernel_forwarder_load_modules": False,
        "kernel_forwarder_sysctl_file": files["sysctl"],
        "kernel_forwarder_persist_file": files["persist"],
        "kernel_forwarder_state_dir": files["state"],
        # long enough that the burst's flows are still tracked when port 7895 is dropped
        # (a short burst is not a stream: its entries live nf_conntrack_udp_timeout seconds)
        "kernel_forwarder_conntrack_udp_timeout": 300,
    }
    variables.update(extra)
    return variables


def read(path):
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def changed_items(result):
    return [item["item"]["comment"] for item in result.get("results", []) if item.get("changed")]


def stats(ansible, lab, baselines=None):
    inventory = {
        "all": {
            "hosts": {
                name: {"ansible_connection": "local", "ansible_python_interpreter": lab.interpreter(name)}
                for name in ("B", "C")
            }
        }
    }
    run = ansible.across(
        os.path.join(os.path.dirname(__file__), "playbooks", "net_stats.yml"),
        inventory,
        {"baselines": baselines} if baselines else None,
    )
    assert run.rc == 0, run.explain()
    return {name: run.task("Counters", name) for name in ("B", "C")}


def test_kernel_forwarder_seed000_in_namespaces(lab, ansible, files, record_property):
    nat_before = lab.iptables_save()
    assert lab.sysctl("B", "net.ipv4.ip_forward") == "0"

    # --- check mode on a clean forwarder: predicts every rule, writes nothing -------------
    check = ansible.in_forwarder("kernel_forwarder.yml", forwarder_vars(files), check=True, diff=True)
    assert check.rc == 0, check.explain()
    predicted = changed_items(check.task("Rules | add the declared rules that are missing"))
    assert len(predicted) == 3 * len(SEED_PORTS), predicted
    assert f"{TAG} udp/7890 dnat" in predicted and f"{TAG} udp/7900 reply-snat" in predicted
    plan_msg = check.task("Rules | changes to the nat table")["msg"]
    assert len(plan_msg) == 33 and all(line.startswith("+ -A ") for line in plan_msg), plan_msg
    assert check.task("Sysctl | forwarding and conntrack timeouts")["changed"] is True
    assert lab.iptables_save() == nat_before
    assert lab.sysctl("B", "net.ipv4.ip_forward") == "0"
    assert read(files["sysctl"]) is None and read(files["persist"]) is None
    assert not os.path.exists(files["state"])

    # --- apply -----------------------------------------------------------------------------
    apply = ansible.in_forwarder("kernel_forwarder.yml", forwarder_vars(files))
    assert apply.rc == 0, apply.explain()
    assert len(changed_items(apply.task("Rules | add the declared rules that are missing"))) == 33
    rules = lab.tagged_rules()
    assert len(rules) == 33, rules
    dnat = [line for line in rules if line.startswith("-A PREROUTING")]
    assert len(dnat) == 11
    assert all(f"-s {A_ADDR}/32 -d {B_CLIENT_SIDE}/32 -p udp" in line for line in dnat), dnat
    assert all(line.endswith(f"-j DNAT --to-destination {C_ADDR}") for line in dnat), dnat
    snat = [line for line in rules if "--ctstate DNAT" in line]
    assert len(snat) == 11 and all(line.endswith(f"-j SNAT --to-source {B_SERVER_SIDE}") for line in snat)
    reply = [line for line in rules if f"-s {C_ADDR}/32" in line and "--sport" in line]
    assert len(reply) == 11
    assert lab.sysctl("B", "net.ipv4.ip_forward") == "1"
    assert lab.sysctl("B", "net.netfilter.nf_conntrack_udp_timeout") == "300"
    assert lab.sysctl("B", "net.netfilter.nf_conntrack_udp_timeout_stream") == "120"
    sysctl_file = read(files["sysctl"])
    assert "net.ipv4.ip_forward=1" in sysctl_file.splitlines()
    assert "net.netfilter.nf_conntrack_udp_timeout_stream=120" in sysctl_file.splitlines()
    persisted = read(files["persist"])
    assert persisted is not None and "*nat" in persisted
    assert sum(1 for line in persisted.splitlines() if TAG in line) == 33

    # --- the burst: every datagram on every port answered, via B both ways ----------------
    before = stats(ansible, lab)
    burst = lab.burst(SEED_PORTS, count=COUNT)
    after = stats(ansible, lab, baselines={"B": before["B"], "C": before["C"]})
    sent = sum(port["sent"] for port in burst["ports"].values())
    answered = sum(port["answered"] for port in burst["ports"].values())
    record_property("burst", {"sent": sent, "answered": answered, "seconds": burst["seconds"]})
    for port in SEED_PORTS:
        entry = burst["ports"][str(port)]
        assert entry["sent"] == COUNT, (port, entry)
        assert entry["answered"] == COUNT, (port, entry)
        assert entry["reply_sources"] == [f"{B_CLIENT_SIDE}:{port}"], (port, entry)
        assert entry["server_saw"] == [B_SERVER_SIDE], (port, entry)  # SNAT: C saw B, not A
    b_delta, c_delta = after["B"]["delta"], after["C"]["delta"]
    record_property("forwarder_errors", b_delta["errors"])
    assert b_delta["snmp"]["Ip"]["ForwDatagrams"] >= 2 * sent, b_delta["snmp"]["Ip"]
    assert b_delta["snmp"]["Udp"]["InDatagrams"] == 0  # forwarded, never delivered to B's sockets
    assert c_delta["snmp"]["Udp"]["InDatagrams"] >= sent and c_delta["snmp"]["Udp"]["OutDatagrams"] >= sent
    for key in ("Udp.NoPorts", "Udp.InErrors", "Udp.RcvbufErrors", "Ip.InDiscards", "Ip.OutDiscards"):
        assert b_delta["errors"][key] == 0, (key, b_delta["errors"])
        assert c_delta["errors"][key] == 0, (key, c_delta["errors"])

    # --- the same inventory again: nothing to do ------------------------------------------
    again = ansible.in_forwarder("kernel_forwarder.yml", forwarder_vars(files))
    assert again.rc == 0, again.explain()
    assert again.stats["forwarder"]["changed"] == 0, again.stats
    assert lab.tagged_rules() == rules

    # --- port 7895 dropped from the inventory, with the confirm-or-rollback path ----------
    kept = [port for port in SEED_PORTS if port != REMOVED]
    assert lab.conntrack_flows(REMOVED) >= 1  # the burst's flow on 7895, NATed to C
    removal_vars = forwarder_vars(files, ports=kept, kernel_forwarder_rollback="always")
    removal = ansible.in_forwarder("kernel_forwarder.yml", removal_vars)
    assert removal.rc == 0, removal.explain()
    assert sorted(changed_items(removal.task("Rules | remove the rules the inventory no longer declares"))) == sorted(
        f"{TAG} udp/{REMOVED} {role}" for role in ("dnat", "snat", "reply-snat")
    )
    for step in (
        "Rules | put the old nat table back",
        "Rules | restore the new nat table, rolled back unless the controller reconnects",
    ):
        assert removal.task(step)["changed"] is True, step
    flushed = removal.task("Conntrack | forget the flows of removed or changed forwards")["results"]
    assert [item["item"] for item in flushed] == [
        ["-D", "-p", "udp", "--orig-dst", B_CLIENT_SIDE, "--orig-port-dst", str(REMOVED)]
    ]
    assert flushed[0]["changed"] is True, flushed[0]
    assert lab.conntrack_flows(REMOVED) == 0
    left = lab.tagged_rules()
    assert len(left) == 30 and not [line for line in left if str(REMOVED) in line], left
    assert sum(1 for line in read(files["persist"]).splitlines() if TAG in line) == 30

    no_ports = lab.udp_counter("B", "NoPorts")
    after_removal = lab.burst([7890, REMOVED], count=50, timeout=2.0)
    assert after_removal["ports"]["7890"]["answered"] == 50, after_removal
    assert after_removal["ports"][str(REMOVED)]["answered"] == 0, after_removal
    # not forwarded any more: the datagrams for 7895 end in B, where nothing listens
    assert lab.udp_counter("B", "NoPorts") - no_ports == 50

    # --- check mode with the port back: predicts its three rules, writes nothing ----------
    nat_now, persisted_now, sysctl_now = lab.iptables_save(), read(files["persist"]), read(files["sysctl"])
    check = ansible.in_forwarder("kernel_forwarder.yml", forwarder_vars(files), check=True, diff=True)
    assert check.rc == 0, check.explain()
    assert sorted(changed_items(check.task("Rules | add the declared rules that are missing"))) == sorted(
        f"{TAG} udp/{REMOVED} {role}" for role in ("dnat", "snat", "reply-snat")
    )
    assert check.stats["forwarder"]["changed"] == 1, check.stats  # the add task only
    assert lab.iptables_save() == nat_now
    assert read(files["persist"]) == persisted_now and read(files["sysctl"]) == sysctl_now


def test_verify_play_passes_through_the_forwarder_and_fails_on_a_dropped_port(lab, ansible, files):
    # the forwarder as the first test left it or fresh: converge the 10 kept ports
    kept = [port for port in SEED_PORTS if port != REMOVED]
    converge = ansible.in_forwarder("kernel_forwarder.yml", forwarder_vars(files, ports=kept))
    assert converge.rc == 0, converge.explain()

    def inventory(probe_ports):
        return {
            "kernel_lb": {
                "hosts": {
                    "B": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": lab.interpreter("B"),
                        "kernel_forwarder_address": B_CLIENT_SIDE,
                        "kernel_forwarder_forwards": [{"ports": ["7890-7894", "7896-7900"], "backend": C_ADDR}],
                        "kernel_forwarder_verify_ports": probe_ports,
                    }
                }
            },
            "clients": {
                "hosts": {"A": {"ansible_connection": "local", "ansible_python_interpreter": lab.interpreter("A")}}
            },
        }

    ok = ansible.across(VERIFY_PLAYBOOK, inventory(None), {"kernel_forwarder_verify_count": 100})
    assert ok.rc == 0, ok.explain()
    probe = ok.task("Burst to each forwarder", "A")["results"][0]
    assert probe["sent"] == 1000 and probe["answered"] == 1000 and probe["lost"] == 0, probe
    assert sorted(probe["ports"]) == [str(port) for port in kept]
    assert {source.split(":")[0] for source in probe["reply_sources"]} == {B_CLIENT_SIDE}
    after = ok.task("Counters after, and their growth", "B")
    assert after["delta"]["snmp"]["Ip"]["ForwDatagrams"] >= 2000, after["delta"]["snmp"]["Ip"]
    assert ok.task("No error counter grew beyond the threshold", "B").get("failed") is not True

    # probing the dropped port too: unanswered, and B's NoPorts grows: the play fails
    bad = ansible.across(VERIFY_PLAYBOOK, inventory([7890, REMOVED]), {"kernel_forwarder_verify_count": 20})
    assert bad.rc != 0
    unanswered = bad.task("Every datagram answered, from the forwarder's address", "A")
    assert unanswered.get("failed") is True, unanswered
    failed_msg = unanswered["results"][0]["msg"]
    assert "20 of 40 datagrams unanswered" in failed_msg and str(REMOVED) in failed_msg, failed_msg


def test_bad_inventory_is_refused_before_any_change(lab, ansible, files):
    nat_before = lab.iptables_save()
    bad = forwarder_vars(
        files,
        kernel_forwarder_forwards=[
            {"ports": [7890, 7891], "backend": C_ADDR},
            {"ports": ["7885-7892"], "backend": C_ADDR},
            {"ports": [7950], "backend": "10.200.2.300", "sources": ["10.200.1.2/24"]},
            {"ports": ["7995-7990"], "backend": C_ADDR},
            {"ports": ["7960-7961"], "backend": C_ADDR, "backend_port": 9000},
        ],
    )
    run = ansible.in_forwarder("kernel_forwarder.yml", bad)
    assert run.rc != 0
    result = run.task("Preflight | forwards, addresses and ports are valid")
    assert result.get("failed") is True
    msg = result["msg"] if isinstance(result["msg"], list) else [result["msg"]]
    assert msg == [
        "kernel_forwarder_forwards[2].backend: not a valid IPv4 address (got '10.200.2.300')",
        "kernel_forwarder_forwards[2].sources[0]: host bits are set; did you mean 10.200.1.0/24? (got '10.200.1.2/24')",
        "kernel_forwarder_forwards[3].ports[0]: the range is backwards; did you mean 7990-7995? (got '7995-7990')",
        "kernel_forwarder_forwards[4].ports[0]: a range cannot be sent to one backend_port (DNAT would pick any"
        " port of the range): drop backend_port to keep the ports, or list single ports (got '7960-7961')",
        "kernel_forwarder_forwards[0].ports[0]: udp port 7890 is already forwarded by"
        " kernel_forwarder_forwards[1].ports[0]; a port can be forwarded once",
        "kernel_forwarder_forwards[0].ports[1]: udp port 7891 is already forwarded by"
        " kernel_forwarder_forwards[1].ports[0]; a port can be forwarded once",
    ], msg
    assert "Rules | read the nat table" not in run.tasks.get("forwarder", {}), "ran past the preflight"
    assert lab.iptables_save() == nat_before
