"""Client addresses on TCP FullNAT real servers: TOA or PROXY protocol (module_utils/dpvs_conf/
client_address.py; the filters dpvs_toa_client_address and dpvs_client_address_plan).

Issue 12: DPVS v1.10's toa.c links against ``tcp_v4_syn_recv_sock`` and ``ipv4_specific``, which
Linux no longer exports when IPv6 is built in (mainline 6.15, 6.12 stable from a point release;
Debian 13 ships 6.12). The toa role chooses per real server (``toa_client_address: auto``: toa
below ``toa_proxy_protocol_kernel``, 6.12, else proxy_protocol); the dpvs_services role gives a
TCP FullNAT service ``proxy_protocol: v2`` when all its real servers take PROXY protocol, and
stops on a service that says ``disable`` or mixes PROXY protocol and TOA servers (DPVS sends one
or the other per service), unless ``dpvs_services_keep_toa`` lists it.
"""

import copy
import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_client_address_plan import FilterModule as PlanFilter
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_toa_client_address import FilterModule as ToaFilter
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import client_address as ca

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAN = PlanFilter().filters()["dpvs_client_address_plan"]
TOA = ToaFilter().filters()["dpvs_toa_client_address"]
DEBIAN13 = "6.12.48+deb13-amd64"
DEBIAN12 = "6.1.0-28-amd64"


def web(*rs_ips, port=80, **extra):
    return {
        "protocol": "tcp",
        "vip": "10.0.96.204",
        "port": port,
        "scheduler": "rr",
        "real_servers": [{"ip": ip, "port": 8080, "forward": "fullnat"} for ip in rs_ips],
        "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}],
        **extra,
    }


def host(name, address, **values):
    return {"name": name, "ansible_host": address, "toa_addresses": [], **values}


PP = host("rs2", "192.168.229.2", kernel=DEBIAN13)
PP3 = host("rs3", "192.168.229.3", setting="proxy_protocol")
TOA_HOST = host("rs1", "192.168.229.1", kernel=DEBIAN12)


# ----------------------------------------------------------------------------- kernel versions


@pytest.mark.parametrize(
    ("release", "version"),
    [
        (DEBIAN13, (6, 12, 48)),
        (DEBIAN12, (6, 1, 0)),
        ("6.11.0", (6, 11, 0)),
        ("6.12", (6, 12, 0)),
        ("6.12.0-rc3", (6, 12, 0)),
        ("4.18.0-513.el8.x86_64", (4, 18, 0)),
        ("6.18.44-fc-v1252", (6, 18, 44)),
    ],
)
def test_kernel_releases_read_as_versions(release, version):
    assert ca.kernel_version(release) == version


@pytest.mark.parametrize("release", ["latest", "", "v6.12", "6", 6.12, None, True])
def test_a_value_that_is_no_kernel_release_is_refused(release):
    with pytest.raises(InputError) as err:
        ca.kernel_version(release)
    assert err.value.path == "toa_kernel_release"


@pytest.mark.parametrize(
    ("release", "threshold", "method"),
    [
        (DEBIAN13, None, "proxy_protocol"),
        (DEBIAN12, None, "toa"),
        ("6.11.0", None, "toa"),
        ("6.12.0", "6.12", "proxy_protocol"),
        ("6.11.11-amd64", "6.12", "toa"),
        ("6.15.2", "6.12", "proxy_protocol"),
        (DEBIAN13, "6.12.94", "toa"),
        ("6.12.94+deb13-amd64", "6.12.94", "proxy_protocol"),
        ("5.10.0-30-amd64", "5.10", "proxy_protocol"),
    ],
)
def test_auto_is_toa_below_the_threshold_and_proxy_protocol_from_it_on(release, threshold, method):
    choice = ca.choose("auto", release, threshold)
    assert choice["method"] == method
    limit = threshold or "6.12"
    if method == "toa":
        assert choice["why"] == f"kernel {release}, older than {limit}"
    else:
        assert choice["why"] == f"kernel {release}, {limit} or newer"
        assert "tcp_v4_syn_recv_sock and ipv4_specific" in choice["reason"]


def test_explicit_settings_win_and_toa_on_a_new_kernel_says_it_may_not_build():
    assert ca.choose("proxy_protocol", DEBIAN12)["method"] == "proxy_protocol"
    kept = ca.choose("toa", DEBIAN13)
    assert kept["method"] == "toa" and "toa.ko may not build" in kept["reason"]
    assert ca.choose("toa", DEBIAN12)["reason"] == "toa_client_address: toa"
    assert ca.choose(" Proxy_Protocol ", None)["method"] == "proxy_protocol"
    assert ca.choose(None, DEBIAN13)["setting"] == "auto"


def test_auto_without_a_kernel_has_no_method():
    choice = ca.choose("auto", None)
    assert choice["method"] is None and choice["why"] == "toa_client_address: auto and the kernel is unknown"


@pytest.mark.parametrize(
    ("kwargs", "path", "problem"),
    [
        ({"setting": "tao"}, "toa_client_address", "must be auto, toa or proxy_protocol"),
        ({"setting": True}, "toa_client_address", "must be auto, toa or proxy_protocol"),
        ({"threshold": 6.1}, "toa_proxy_protocol_kernel", "must be a quoted version like"),
        ({"threshold": "6.x"}, "toa_proxy_protocol_kernel", 'must be a kernel version like "6.12"'),
        ({"threshold": "6"}, "toa_proxy_protocol_kernel", 'must be a kernel version like "6.12"'),
        ({"kernel": "latest"}, "toa_kernel_release", "not a kernel release"),
    ],
)
def test_bad_inputs_name_the_variable(kwargs, path, problem):
    values = {"setting": "auto", "kernel": DEBIAN12, "threshold": None, **kwargs}
    with pytest.raises(InputError) as err:
        ca.choose(values["setting"], values["kernel"], values["threshold"])
    assert err.value.path == path and problem in err.value.problem


def test_the_python_defaults_are_the_toa_roles():
    with open(os.path.join(REPO, "roles", "toa", "defaults", "main.yml")) as handle:
        defaults = yaml.safe_load(handle)
    assert defaults["toa_proxy_protocol_kernel"] == ca.DEFAULT_THRESHOLD
    assert defaults["toa_client_address"] == "auto" == ca.normalize_setting(None)
    with open(os.path.join(REPO, "roles", "toa", "meta", "argument_specs.yml")) as handle:
        spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    assert tuple(spec["toa_client_address"]["choices"]) == ca.SETTINGS


# ----------------------------------------------------------------------------- the toa role's line


LB = [{"name": "lb1", "services": [web("192.168.229.2"), web("192.168.229.2", port=443, state="absent")]}]


def test_the_toa_line_for_an_old_kernel():
    report = TOA("auto", {"name": "rs1"}, DEBIAN12, modules=["toa", "uoa"])
    assert report["method"] == "toa" and report["listeners"] == []
    assert (
        report["message"]
        == f"rs1: client addresses by TOA: kernel {DEBIAN12} is older than 6.12 (toa_proxy_protocol_kernel)."
    )
    without = TOA("auto", {"name": "rs1"}, DEBIAN12, modules=["uoa"])
    assert without["message"].endswith(
        "toa is not in toa_modules: its TCP FullNAT connections show the LIP as the client."
    )


def test_the_toa_line_names_services_the_inventory_set_to_proxy_protocol_anyway():
    lbs = [{"name": "lb1", "services": [web("192.168.229.1", port=443, proxy_protocol="v1"), web("192.168.229.1")]}]
    report = TOA("auto", {"name": "rs1", "ansible_host": "192.168.229.1"}, DEBIAN12, lb_services=lbs)
    assert report["method"] == "toa"
    assert report["message"].endswith(
        " PROXY protocol all the same, set in the inventory: tcp 10.0.96.204:443 on lb1 (proxy_protocol v1, "
        "port 8080): those listeners must expect it."
    )


def test_the_proxy_protocol_line_names_the_ports_the_services_send_to_and_their_lips():
    report = TOA(
        "auto",
        {"name": "rs2", "ansible_host": "rs2.example.net", "toa_addresses": ["192.168.229.2"]},
        DEBIAN13,
        listeners=[{"name": "nginx", "port": 8080}],
        lb_services=LB,
    )
    assert report["method"] == "proxy_protocol"
    assert report["listeners"] == [
        {
            "lb": "lb1",
            "service": "tcp 10.0.96.204:80",
            "port": 8080,
            "laddrs": ["192.168.229.204"],
            "proxy_protocol": None,
            "name": "nginx",
        }
    ]
    assert report["message"].startswith(
        f"rs2: client addresses by PROXY protocol v2, not TOA: kernel {DEBIAN13} is 6.12 or newer "
        "(toa_proxy_protocol_kernel), where Linux no longer exports tcp_v4_syn_recv_sock and ipv4_specific"
    )
    assert report["message"].endswith(
        'port 8080 (nginx) for tcp 10.0.96.204:80 on lb1, trusted LIPs 192.168.229.204 (docs/toa.md, "PROXY protocol").'
    )
    unnamed = TOA("auto", {"name": "rs2", "ansible_host": "192.168.229.2"}, DEBIAN13, lb_services=LB)
    assert "port 8080 (name it in toa_proxy_protocol_listeners) for tcp 10.0.96.204:80" in unnamed["message"]
    alone = TOA("proxy_protocol", {"name": "rs9"}, DEBIAN12)
    assert "no TCP FullNAT service of the inventory sends to this host" in alone["message"]


def test_the_toa_filter_refuses_bad_values_with_the_variable():
    with pytest.raises(
        AnsibleFilterError, match=r"toa_client_address: must be auto, toa or proxy_protocol \(got 'x'\)"
    ):
        TOA("x", {"name": "rs1"}, DEBIAN12)
    with pytest.raises(AnsibleFilterError, match=r"toa_proxy_protocol_listeners\[0\]: needs a name"):
        TOA("auto", {"name": "rs1"}, DEBIAN12, listeners=[{"port": 80}])
    with pytest.raises(AnsibleFilterError, match=r"toa_addresses\[0\] of rs1: not an IP address"):
        TOA("auto", {"name": "rs1", "toa_addresses": ["rs1.lan"]}, DEBIAN13, lb_services=LB)


# ----------------------------------------------------------------------------- the dpvs_services plan


def test_a_service_whose_real_servers_all_take_proxy_protocol_gets_v2():
    services = [web("192.168.229.2", "192.168.229.3")]
    before = copy.deepcopy(services)
    plan = PLAN(services, [PP, PP3, TOA_HOST])
    assert plan["problems"] == [] and plan["set"] == ["tcp 10.0.96.204:80"]
    assert plan["services"][0]["proxy_protocol"] == "v2" and services == before
    (entry,) = plan["real_servers"]
    assert entry["action"] == "set" and [r["method"] for r in entry["real_servers"]] == ["proxy_protocol"] * 2
    assert plan["message"] == (
        "tcp 10.0.96.204:80: proxy_protocol v2 (dpvs_services sets it): its real servers take client addresses by "
        f"PROXY protocol, not TOA: rs2 (kernel {DEBIAN13}, 6.12 or newer); rs3 (toa_client_address: "
        "proxy_protocol). Their listeners must expect it (docs/toa.md)."
    )


def test_toa_only_services_and_services_of_outside_servers_are_left_alone():
    services = [web("192.168.229.1", port=81), web("10.9.9.9", port=82)]
    plan = PLAN(services, [PP, TOA_HOST])
    assert plan["services"] == services and plan["set"] == [] and plan["problems"] == [] and plan["message"] == ""
    assert [e["action"] for e in plan["real_servers"]] == ["none", "none"]
    assert plan["real_servers"][1]["real_servers"][0]["why"] == "not a host of the realservers group: taken as toa"


def test_a_service_mixing_proxy_protocol_and_toa_real_servers_is_a_problem():
    plan = PLAN([web("192.168.229.1", "192.168.229.2")], [PP, TOA_HOST])
    assert plan["set"] == [] and "proxy_protocol" not in plan["services"][0]
    (problem,) = plan["problems"]
    assert problem.startswith(
        "dpvs_services_services: tcp 10.0.96.204:80 mixes real servers that take client addresses by PROXY protocol "
        f"(rs2 (kernel {DEBIAN13}, 6.12 or newer)) with ones that take TOA (rs1 (kernel {DEBIAN12}, older than "
        "6.12)); DPVS sends one or the other per service. Nothing was changed. Give them one method:"
    )
    assert problem.endswith(
        "or list 'tcp 10.0.96.204:80' in dpvs_services_keep_toa if the LIP as their client address is fine "
        "(docs/toa.md)."
    )


def test_a_real_server_outside_the_inventory_next_to_a_proxy_protocol_one_is_a_problem():
    (problem,) = PLAN([web("192.168.229.2", "10.9.9.9")], [PP])["problems"]
    assert "(10.9.9.9 (not a host of the realservers group: taken as toa))" in problem


def test_explicit_disable_for_proxy_protocol_servers_is_a_problem_and_other_versions_are_kept():
    (problem,) = PLAN([web("192.168.229.2", proxy_protocol="disable")], [PP])["problems"]
    assert problem.startswith(
        f"dpvs_services_services: tcp 10.0.96.204:80 sets proxy_protocol: disable, but its real servers rs2 (kernel "
        f"{DEBIAN13}, 6.12 or newer) take client addresses by PROXY protocol only: with TOA they see the LIP as the "
        "client address. Nothing was changed. Drop proxy_protocol from the service"
    )
    for version in ("v1", "v2", "v2-insecure"):
        plan = PLAN([web("192.168.229.1", "192.168.229.2", proxy_protocol=version)], [PP, TOA_HOST])
        assert plan["problems"] == [] and plan["set"] == [] and plan["real_servers"][0]["action"] == "kept"
        assert plan["services"][0]["proxy_protocol"] == version
    disabled_toa = PLAN([web("192.168.229.1", proxy_protocol="disable")], [PP, TOA_HOST])
    assert disabled_toa["problems"] == [] and disabled_toa["real_servers"][0]["action"] == "none"


def test_keep_toa_lets_a_service_stay_on_toa_and_a_wrong_entry_is_named():
    services = [web("192.168.229.1", "192.168.229.2"), web("192.168.229.2", port=25, proxy_protocol="disable")]
    plan = PLAN(services, [PP, TOA_HOST], keep_toa=["tcp 10.0.96.204:80", "TCP 10.0.96.204:25"])
    assert plan["problems"] == [] and plan["services"] == services
    assert [e["action"] for e in plan["real_servers"]] == ["keep_toa", "keep_toa"]
    assert plan["message"].startswith(
        f"tcp 10.0.96.204:80: kept on TOA (dpvs_services_keep_toa): rs2 (kernel {DEBIAN13}, 6.12 or newer) take "
        "client addresses by PROXY protocol only and see the LIP as the client address."
    )
    wrong = PLAN(services, [PP, TOA_HOST], keep_toa=["udp 10.0.96.204:53", "tcp 10.0.96.204:80", 80])
    assert wrong["problems"][:2] == [
        "dpvs_services_keep_toa[0]: not a TCP service of dpvs_services_services, written as 'tcp VIP:port' "
        "(got 'udp 10.0.96.204:53')",
        "dpvs_services_keep_toa[2]: not a TCP service of dpvs_services_services, written as 'tcp VIP:port' (got 80)",
    ]
    assert PLAN(services, [PP], keep_toa="tcp 10.0.96.204:80")["problems"][0].startswith(
        "dpvs_services_keep_toa: must be a list"
    )


def test_ipv6_services_are_labelled_with_brackets_and_matched_by_toa_addresses():
    svc = {
        "protocol": "tcp",
        "vip": "2001:db8::204",
        "port": 443,
        "real_servers": [{"ip": "2001:DB8:0:1::2", "port": 443}],
    }
    rs = host("rs6", "rs6.example.net", toa_addresses=["2001:db8:0:1::2"], method="proxy_protocol")
    plan = PLAN([svc], [rs], keep_toa=[])
    assert plan["set"] == ["tcp [2001:db8::204]:443"] and plan["services"][0]["proxy_protocol"] == "v2"
    kept = PLAN([svc], [rs], keep_toa=["tcp [2001:db8:0::204]:443"])
    assert kept["problems"] == [] and kept["real_servers"][0]["action"] == "keep_toa"


def test_udp_dr_absent_and_fwmark_services_are_not_touched():
    udp = {**web("192.168.229.2", port=53), "protocol": "udp"}
    dr = web(port=81)
    dr["real_servers"] = [{"ip": "192.168.229.2", "port": 81, "forward": "dr"}]
    absent = web("192.168.229.2", port=82, state="absent")
    fwmark = {"fwmark": 5, "real_servers": [{"ip": "192.168.229.2", "port": 80, "forward": "masq"}]}
    plan = PLAN([udp, dr, absent, fwmark], [PP])
    assert plan["real_servers"] == [] and plan["set"] == [] and plan["services"] == [udp, dr, absent, fwmark]


def test_the_kernel_flavour_decides_nothing():
    plan = PLAN([web("192.168.229.1", "192.168.229.2")], [PP, TOA_HOST], flavor="kernel")
    assert plan["problems"] == [] and plan["real_servers"] == [] and plan["need_kernel"] == []


def test_the_toa_roles_fact_wins_then_the_setting_then_the_kernel():
    fact = host("rs2", "192.168.229.2", method="toa", reason="kernel 6.11.0, older than 6.12", kernel=DEBIAN13)
    plan = PLAN([web("192.168.229.2")], [fact])
    assert plan["set"] == [] and plan["real_servers"][0]["real_servers"][0]["why"] == "kernel 6.11.0, older than 6.12"
    setting = host("rs2", "192.168.229.2", setting="toa", kernel=DEBIAN13)
    assert PLAN([web("192.168.229.2")], [setting])["set"] == []
    threshold = host("rs2", "192.168.229.2", kernel=DEBIAN13, threshold="6.13")
    assert PLAN([web("192.168.229.2")], [threshold])["set"] == []
    with pytest.raises(AnsibleFilterError, match=r"toa_client_address_method of rs2: must be toa or proxy_protocol"):
        PLAN([web("192.168.229.2")], [host("rs2", "192.168.229.2", method="tao")])
    with pytest.raises(AnsibleFilterError, match=r"toa_proxy_protocol_kernel of rs2: must be a quoted version"):
        PLAN([web("192.168.229.2")], [host("rs2", "192.168.229.2", threshold=6.1)])


def test_hosts_whose_kernel_would_decide_are_named_and_unknown_ones_taken_as_toa():
    unknown = host("rs4", "192.168.229.4")
    idle = host("rs7", "192.168.229.7")  # no service sends to it: nothing to gather
    plan = PLAN([web("192.168.229.4")], [unknown, idle, PP])
    assert plan["need_kernel"] == ["rs4"] and plan["set"] == [] and plan["problems"] == []
    assert plan["message"].startswith("rs4: toa_client_address auto and kernel unknown")
    mixed = PLAN([web("192.168.229.4", "192.168.229.2")], [unknown, PP])
    assert mixed["need_kernel"] == ["rs4"] and len(mixed["problems"]) == 1
    gathered = PLAN([web("192.168.229.4", "192.168.229.2")], [{**unknown, "kernel": "6.12.57+deb13-cloud-amd64"}, PP])
    assert gathered["need_kernel"] == [] and gathered["set"] == ["tcp 10.0.96.204:80"]


def test_the_lab_inventory_keeps_toa():
    """The lab's rs1 runs Debian 12's 6.1: its TCP service stays on TOA, nothing changes."""
    with open(os.path.join(REPO, "inventories", "lab", "group_vars", "dpvs", "dpvs_services.yml")) as handle:
        services = yaml.safe_load(handle)["dpvs_services_services"]
    plan = PLAN(services, [host("rs1", "192.168.110.2", kernel=DEBIAN12)])
    assert plan["services"] == services and plan["problems"] == [] and plan["set"] == []
    assert [e["service"] for e in plan["real_servers"]] == ["tcp 192.168.100.100:80"]
