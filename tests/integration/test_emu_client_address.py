"""PROXY protocol end to end on the DPVS side (issue 12: real servers whose kernel cannot take TOA):
the dpvs_services role gives a TCP FullNAT service whose real server is a realservers host taking
client addresses by PROXY protocol ``--proxy-protocol v2``, which the emulator's table shows
(``ppv2``, as DPVS's ipvsadm prints it) and the replay file keeps; a second run changes nothing. A
service that mixes PROXY protocol and TOA real servers, or that sets ``proxy_protocol: disable``
for PROXY protocol servers, stops the role before any change, naming the service, the servers and
their methods; ``dpvs_services_keep_toa`` lets such a service stay on TOA.

The method comes from the host's variables as the toa role leaves them in the same run
(``toa_client_address_method``), from ``toa_client_address``, or from its kernel
(``toa_kernel_release``, or the facts the role gathers from the host when the toa role did not run;
a host whose facts cannot be gathered is unknown, taken as toa). The role runs on localhost against the emulator
(playbooks/dpvs_services_role.yml); a second inventory file holds the realservers group.
"""

import os
import sys

import pytest
import yaml
from emutier import assert_ok, command_lines

pytestmark = pytest.mark.parallel_safe

SERVICES_TASK = "dpvs.cluster.dpvs_services : Services | converge virtual services, real servers and local addresses"
PLAN_TASK = "dpvs.cluster.dpvs_services : Client address | the decision, for the roles and plays that read it"
CHECK_TASK = (
    "dpvs.cluster.dpvs_services : Client address | no service disables PROXY protocol for, or mixes it with TOA on, "
    "its real servers"
)
LINE_TASK = "dpvs.cluster.dpvs_services : Client address | what was decided for you"
GATHER_TASK = (
    "dpvs.cluster.dpvs_services : Client address | the kernel of each real server that decides and is not known yet"
)
DEBIAN13 = "6.12.48+deb13-amd64"
DEBIAN12 = "6.1.0-28-amd64"


def web(*rs_ips, **extra):
    return {
        "protocol": "tcp",
        "vip": "10.0.96.204",
        "port": 80,
        "scheduler": "rr",
        "real_servers": [{"ip": ip, "port": 80, "forward": "fullnat"} for ip in rs_ips],
        **extra,
    }


DNS = {
    "protocol": "udp",
    "vip": "10.0.96.204",
    "port": 53,
    "scheduler": "rr",
    "real_servers": [{"ip": "192.168.229.2", "port": 53, "forward": "fullnat"}],
}


def role_vars(emulator, tmp_path, services, **extra):
    return {
        "dpvs_services_services": services,
        "dpvs_services_ipc_file": emulator.ipc,
        "dpvs_services_state_dir": str(tmp_path / "state"),
        **extra,
    }


def realservers(tmp_path, **hosts):
    """An inventory file with the realservers group (host name -> its variables)."""
    path = tmp_path / "realservers.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {"realservers": {"hosts": hosts}}}}))
    return ["-i", str(path)]


def play(ansible, emulator, tmp_path, services, hosts, **extra):
    return ansible.play(
        "dpvs_services_role.yml",
        extra_vars=role_vars(emulator, tmp_path, services, **extra),
        args=realservers(tmp_path, **hosts),
    )


def rules(tmp_path):
    with open(os.path.join(tmp_path, "state", "ipvsadm.rules")) as handle:
        return handle.read()


@pytest.mark.parametrize(
    "rs2",
    [
        {"ansible_host": "192.168.229.2", "toa_kernel_release": DEBIAN13},
        {"ansible_host": "192.168.229.2", "toa_client_address_method": "proxy_protocol"},
        {"ansible_host": "10.9.9.9", "toa_addresses": ["192.168.229.2"], "toa_client_address": "proxy_protocol"},
    ],
    ids=["kernel", "toa-role-fact", "explicit-by-toa_addresses"],
)
def test_a_proxy_protocol_real_server_gets_its_service_proxy_protocol_v2(emulator, ansible, tmp_path, rs2):
    services = [web("192.168.229.2"), DNS]
    first = play(ansible, emulator, tmp_path, services, {"rs2": rs2})
    assert first.rc == 0, first.explain()
    assert_ok(first[SERVICES_TASK], "services")
    assert any("--proxy-protocol v2" in line for line in command_lines(first[SERVICES_TASK]))
    table = emulator.services()
    assert table["tcp 10.0.96.204:80"]["flags"] == "ppv2"
    assert table["udp 10.0.96.204:53"]["flags"] == ""  # UDP is UOA's (docs/toa.md)
    assert "-A -t 10.0.96.204:80 -s rr --proxy-protocol v2" in rules(tmp_path)
    decision = first[PLAN_TASK]["ansible_facts"]["dpvs_services_client_address"]
    assert decision["set"] == ["tcp 10.0.96.204:80"] and decision["problems"] == []
    line = first[LINE_TASK]["msg"]
    assert line.startswith("tcp 10.0.96.204:80: proxy_protocol v2 (dpvs_services sets it)") and "rs2 (" in line

    second = play(ansible, emulator, tmp_path, services, {"rs2": rs2})
    assert second.rc == 0, second.explain()
    assert second[SERVICES_TASK]["changed"] is False
    assert emulator.services()["tcp 10.0.96.204:80"]["flags"] == "ppv2"


def test_a_mixed_service_stops_the_role_before_any_change(emulator, ansible, tmp_path):
    hosts = {
        "rs1": {"ansible_host": "192.168.229.1", "toa_kernel_release": DEBIAN12},
        "rs2": {"ansible_host": "192.168.229.2", "toa_kernel_release": DEBIAN13},
    }
    before = emulator.snapshot()
    mixed = play(ansible, emulator, tmp_path, [web("192.168.229.1", "192.168.229.2")], hosts)
    assert mixed.rc != 0
    message = mixed[CHECK_TASK]["msg"]
    assert message.startswith(
        "dpvs_services_services: tcp 10.0.96.204:80 mixes real servers that take client addresses by PROXY "
        f"protocol (rs2 (kernel {DEBIAN13}, 6.12 or newer)) with ones that take TOA (rs1 (kernel {DEBIAN12}, "
        "older than 6.12)); DPVS sends one or the other per service. Nothing was changed."
    )
    assert "toa_client_address: proxy_protocol" in message and "dpvs_services_keep_toa" in message
    assert SERVICES_TASK not in mixed
    assert emulator.writes("_ansible") == [] and emulator.snapshot() == before
    assert not os.path.exists(tmp_path / "state" / "ipvsadm.rules")

    # a real server outside the inventory is taken as toa: mixed as well
    outside = play(ansible, emulator, tmp_path, [web("192.168.229.2", "192.168.229.9")], hosts)
    assert outside.rc != 0
    assert "192.168.229.9 (not a host of the realservers group: taken as toa)" in outside[CHECK_TASK]["msg"]
    assert emulator.writes("_ansible") == [] and emulator.snapshot() == before


def test_disable_stops_the_role_unless_the_service_is_kept_on_toa(emulator, ansible, tmp_path):
    hosts = {"rs2": {"ansible_host": "192.168.229.2", "toa_kernel_release": DEBIAN13}}
    services = [web("192.168.229.2", proxy_protocol="disable")]
    refused = play(ansible, emulator, tmp_path, services, hosts)
    assert refused.rc != 0
    assert refused[CHECK_TASK]["msg"].startswith(
        "dpvs_services_services: tcp 10.0.96.204:80 sets proxy_protocol: disable, but its real servers rs2 "
        f"(kernel {DEBIAN13}, 6.12 or newer) take client addresses by PROXY protocol only"
    )
    assert emulator.writes("_ansible") == []

    kept = play(ansible, emulator, tmp_path, services, hosts, dpvs_services_keep_toa=["tcp 10.0.96.204:80"])
    assert kept.rc == 0, kept.explain()
    assert emulator.services()["tcp 10.0.96.204:80"]["flags"] == ""
    assert kept[LINE_TASK]["msg"].startswith("tcp 10.0.96.204:80: kept on TOA (dpvs_services_keep_toa): rs2 (")

    typo = play(ansible, emulator, tmp_path, services, hosts, dpvs_services_keep_toa=["tcp 10.0.96.204:8080"])
    assert typo.rc != 0
    assert (
        "dpvs_services_keep_toa[0]: not a TCP service of dpvs_services_services, written as 'tcp VIP:port' "
        "(got 'tcp 10.0.96.204:8080')"
    ) in typo[CHECK_TASK]["msg"]


def test_the_kernel_of_a_host_the_toa_role_did_not_see_is_gathered_and_an_unknown_one_is_toa(
    emulator, ansible, tmp_path
):
    # rs4 is this machine (connection local); its threshold is low enough for any kernel
    rs4 = {
        "ansible_host": "192.168.229.4",
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "toa_proxy_protocol_kernel": "3.0",
    }
    gathered = play(ansible, emulator, tmp_path, [web("192.168.229.4")], {"rs4": rs4})
    assert gathered.rc == 0, gathered.explain()
    assert [r["item"] for r in gathered[GATHER_TASK]["results"]] == ["rs4"]
    assert emulator.services()["tcp 10.0.96.204:80"]["flags"] == "ppv2"
    (row,) = gathered[PLAN_TASK]["ansible_facts"]["dpvs_services_client_address"]["real_servers"]
    assert row["real_servers"][0]["why"] == f"kernel {os.uname().release}, 3.0 or newer"

    # rs5's facts cannot be gathered (its become program is /bin/false; the harness's extra vars make
    # every connection local, so an unreachable host cannot be staged here): unknown, taken as toa
    rs5 = {"ansible_host": "127.0.0.1", "ansible_become": True, "ansible_become_user": "nobody"}
    rs5["ansible_become_exe"] = "/bin/false"
    unknown = play(ansible, emulator, tmp_path, [web("127.0.0.1")], {"rs5": rs5})
    assert unknown.rc == 0, unknown.explain()
    assert unknown[GATHER_TASK]["results"][0]["failed"] is True
    assert emulator.services()["tcp 10.0.96.204:80"]["flags"] == ""
    assert unknown[LINE_TASK]["msg"].startswith("rs5: toa_client_address auto and kernel unknown")
