"""Traffic through the DPVS VIPs (kernel/vip_traffic.py): which services are probed, and the
verdict from the clients' probes, DPVS's per-real-server Conns and the real servers' TOA/UOA counters."""

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel import vip_traffic as vt

SETTINGS = {
    "count": 20,
    "rate": 100,
    "timeout": 3,
    "min_answered": 1.0,
    "tcp_request": None,
    "udp_expect_answers": True,
    "services": None,
}
WEB = {
    "protocol": "tcp",
    "vip": "10.0.96.204",
    "port": 80,
    "scheduler": "rr",
    "real_servers": [{"ip": "192.168.229.1", "port": 80, "forward": "fullnat"}],
    "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}],
}
DNS = {
    "protocol": "udp",
    "vip": "10.0.96.204",
    "port": 53,
    "real_servers": [{"ip": "192.168.229.1", "port": 53}],
}


def settings(**changes):
    return dict(SETTINGS, **changes)


def make_plan(declared, **changes):
    return vt.plan([{"host": "lb1", "services": declared}], settings(**changes))


# -- which services ---------------------------------------------------------------------------
def test_services_declared_for_every_node_are_probed_once_with_their_real_servers_merged():
    second = dict(WEB, real_servers=[*WEB["real_servers"], {"ip": "192.168.229.2", "port": 8080}])
    plan = vt.plan(
        [{"host": "lb1", "services": [WEB, DNS]}, {"host": "lb2", "services": [second, DNS]}],
        settings(),
    )
    assert [svc["label"] for svc in plan["services"]] == ["tcp/10.0.96.204:80", "udp/10.0.96.204:53"]
    web = plan["services"][0]
    assert web["declared_by"] == ["lb1", "lb2"]
    assert [(rs["ip"], rs["port"], rs["forward"], rs["weight"]) for rs in web["real_servers"]] == [
        ("192.168.229.1", 80, "fullnat", 1),
        ("192.168.229.2", 8080, "fullnat", 1),
    ]
    assert plan["tcp_targets"] == [{"host": "10.0.96.204", "port": 80}]
    assert plan["udp_groups"] == [{"host": "10.0.96.204", "ports": [53]}]
    assert plan["skipped"] == []


def test_services_that_cannot_be_probed_are_listed_with_the_reason():
    services = [
        WEB,
        {"protocol": "udp", "vip": "10.0.96.204", "port": 0, "persistent": 30},
        {"fwmark": 7, "real_servers": []},
        {"protocol": "sctp", "vip": "10.0.96.204", "port": 3868},
        {"protocol": "tcp", "vip": "10.0.96.205", "port": 80, "real_servers": [{"ip": "10.1.1.1", "weight": 0}]},
        {"protocol": "tcp", "vip": "10.0.96.206", "port": 80, "state": "absent"},
    ]
    plan = make_plan(services)
    assert [svc["label"] for svc in plan["services"]] == ["tcp/10.0.96.204:80"]
    assert plan["skipped"] == [
        {"label": "udp/10.0.96.204:0", "reason": "port 0 (all ports)"},
        {"label": "fwmark 7", "reason": "a fwmark service"},
        {"label": "sctp/10.0.96.204:3868", "reason": "sctp: only tcp and udp are probed"},
        {"label": "tcp/10.0.96.205:80", "reason": "no real server with a weight above 0"},
    ]


def test_a_service_without_declared_real_servers_is_probed():
    plan = make_plan([{"protocol": "tcp", "vip": "10.0.96.207", "port": 443}])
    assert plan["services"][0]["real_servers"] is None
    assert plan["tcp_targets"] == [{"host": "10.0.96.207", "port": 443}]


def test_restricted_to_listed_services_ipv6_labels_and_the_udp_groups_per_vip():
    v6 = {"protocol": "udp", "vip": "2001:db8::0:204", "port": 53, "real_servers": [{"ip": "2001:db8:1::1"}]}
    v6b = dict(v6, port=5353)
    plan = make_plan([WEB, DNS, v6, v6b], services=["udp/[2001:db8::204]:53", "udp/[2001:DB8::204]:5353"])
    assert [svc["label"] for svc in plan["services"]] == ["udp/[2001:db8::204]:53", "udp/[2001:db8::204]:5353"]
    assert plan["udp_groups"] == [{"host": "2001:db8::204", "ports": [53, 5353]}]
    assert plan["tcp_targets"] == []
    assert {skip["reason"] for skip in plan["skipped"]} == {"not in dpvs_verify_traffic_services"}


@pytest.mark.parametrize(
    "changes, path",
    [
        ({"count": 0}, "dpvs_verify_traffic_count"),
        ({"count": "many"}, "dpvs_verify_traffic_count"),
        ({"rate": 0}, "dpvs_verify_traffic_rate"),
        ({"timeout": 0}, "dpvs_verify_traffic_timeout"),
        ({"min_answered": 1.5}, "dpvs_verify_traffic_min_answered"),
        ({"udp_expect_answers": "maybe"}, "dpvs_verify_traffic_udp_expect_answers"),
        ({"tcp_request": ["GET"]}, "dpvs_verify_traffic_tcp_request"),
        ({"services": "tcp/10.0.96.204:80"}, "dpvs_verify_traffic_services"),
        ({"services": ["10.0.96.204:80"]}, r"dpvs_verify_traffic_services\[0\]"),
        ({"services": ["tcp/10.0.96.204:80", "tcp/10.0.96.204:81"]}, r"dpvs_verify_traffic_services\[1\]"),
    ],
)
def test_bad_settings_name_the_variable(changes, path):
    with pytest.raises(InputError, match=f"^{path}: "):
        make_plan([WEB], **changes)


def test_settings_typed_from_inventory_text():
    cfg = make_plan([WEB], count="5", timeout="1.5", udp_expect_answers="no", tcp_request="")["settings"]
    assert cfg["count"] == 5 and cfg["timeout"] == 1.5 and cfg["udp_expect_answers"] is False
    assert cfg["tcp_request"] is None


# -- shapes of the results the play hands over -------------------------------------------------
def tcp_result(targets):
    """tcp_probe's result: {"HOST:PORT": (answered, refused, timed_out, first_error)}."""
    out = {}
    for key, (answered, refused, timed_out, error) in targets.items():
        out[key] = {
            "attempted": 20,
            "connected": answered,
            "answered": answered,
            "refused": refused,
            "timed_out": timed_out,
            "errors": 20 - answered - refused - timed_out,
            "first_error": error,
            "local_addresses": ["10.0.96.10"],
        }
    return {"changed": False, "targets": out}


def udp_result(host, ports):
    """udp_probe's result (as registered in a loop): {port: (answered, reply_sources)}."""
    entries = {
        str(port): {"sent": 20, "answered": answered, "lost": 20 - answered, "reply_sources": sources}
        for port, (answered, sources) in ports.items()
    }
    return {"item": {"host": host, "ports": list(ports)}, "host": host, "ports": entries, "last_error": None}


def rs_stats(toa=None, uoa=None, toa_loaded=True, uoa_loaded=True):
    """toa_stats_info's result after the burst: growth of the proof counters (None: file missing)."""
    result = {"delta": {"toa": {}, "uoa": {}}}
    for name, growth, loaded in (("toa", toa, toa_loaded), ("uoa", uoa, uoa_loaded)):
        counter = "syn_recv_sock_toa" if name == "toa" else "uoa_got"
        if growth is None:
            result[name] = {"loaded": loaded, "stats_file": f"/proc/net/{name}_stats", "counters": None}
        else:
            result[name] = {"loaded": True, "stats_file": f"/proc/net/{name}_stats", "counters": {counter: 100}}
            result["delta"][name] = {counter: growth}
    return result


def dpvs_stats(conns):
    """dpvs_info's result with stats: {(proto, vip, port): {(rs ip, rs port): conns}}."""
    stats = []
    for (protocol, vip, port), servers in conns.items():
        stats.append(
            {
                "protocol": protocol,
                "vip": vip,
                "port": port,
                "conns": sum(servers.values()),
                "real_servers": [{"ip": ip, "port": rs_port, "conns": n} for (ip, rs_port), n in servers.items()],
            }
        )
    return {"running": True, "stats": stats}


def node(before, after, name="lb1"):
    return {"name": name, "before": dpvs_stats(before), "after": dpvs_stats(after)}


RS1 = {"name": "rs1", "ansible_host": "127.0.0.1", "toa_addresses": ["192.168.229.1"]}
WEB_KEY = ("tcp", "10.0.96.204", 80)
DNS_KEY = ("udp", "10.0.96.204", 53)


def web_ok():
    return {"name": "client1", "tcp": tcp_result({"10.0.96.204:80": (20, 0, 0, None)}), "udp": []}


# -- what the clients saw ------------------------------------------------------------------------
def test_every_service_answered_passes_with_one_line_each():
    plan = make_plan([WEB, DNS])
    probes = [
        {
            "name": "client1",
            "tcp": tcp_result({"10.0.96.204:80": (20, 0, 0, None)}),
            "udp": [udp_result("10.0.96.204", {53: (20, ["10.0.96.204:53"])})],
        }
    ]
    out = vt.report(plan, probes, real_servers=False)
    assert out["failures"] == []
    assert out["lines"] == ["tcp/10.0.96.204:80: 20 of 20 answered", "udp/10.0.96.204:53: 20 of 20 answered"]
    assert out["summary"] == "traffic through the DPVS VIPs: 2 service(s) answered from client1"


def test_a_refused_service_is_named_with_sent_answered_and_first_error_and_every_failure_is_kept():
    closed = dict(WEB, port=81)
    plan = make_plan([WEB, closed, DNS])
    probes = [
        {
            "name": "client1",
            "tcp": tcp_result(
                {"10.0.96.204:80": (20, 0, 0, None), "10.0.96.204:81": (0, 20, 0, "10.0.96.204:81: connection refused")}
            ),
            "udp": [udp_result("10.0.96.204", {53: (3, ["10.0.96.204:53"])})],
        }
    ]
    out = vt.report(plan, probes, real_servers=False)
    assert out["failures"] == [
        "tcp/10.0.96.204:81: sent 20, answered 0 (at least 20 of 20 needed), refused 20, timed out 0, errors 0; "
        "first error: 10.0.96.204:81: connection refused",
        "udp/10.0.96.204:53: sent 20, answered 3 (at least 20 of 20 needed); first error: none",
    ]
    assert "tcp/10.0.96.204:81: 0 of 20 answered (refused 20, timed out 0, errors 0)" in out["lines"]


def test_min_answered_and_two_clients():
    plan = make_plan([WEB], min_answered=0.9)
    one = {"name": "c1", "tcp": tcp_result({"10.0.96.204:80": (20, 0, 0, None)}), "udp": []}
    two = {"name": "c2", "tcp": tcp_result({"10.0.96.204:80": (16, 0, 4, "10.0.96.204:80: no handshake")}), "udp": []}
    out = vt.report(plan, [one, two], real_servers=False)
    assert out["failures"] == []  # 36 of 40, 36 needed
    assert out["lines"][0] == "tcp/10.0.96.204:80: 36 of 40 answered (refused 0, timed out 4, errors 0)"
    two["tcp"]["targets"]["10.0.96.204:80"]["answered"] = 15
    assert vt.report(plan, [one, two], real_servers=False)["failures"][0].startswith(
        "tcp/10.0.96.204:80: sent 40, answered 35 (at least 36 of 40 needed)"
    )


def test_a_client_whose_probe_failed_is_named():
    plan = make_plan([WEB])
    probes = [web_ok(), {"name": "client2", "tcp": {"changed": False, "msg": "cannot probe: no route"}, "udp": []}]
    (failure,) = vt.report(plan, probes, real_servers=False)["failures"]
    assert failure.startswith("tcp/10.0.96.204:80: sent 20, answered 20 (at least 40 of 40 needed)")
    assert failure.endswith("client2: the probe failed: cannot probe: no route")


def test_udp_answers_from_another_address_and_udp_without_answers():
    plan = make_plan([DNS])
    probes = [{"name": "c1", "tcp": None, "udp": [udp_result("10.0.96.204", {53: (20, ["192.168.229.1:53"])})]}]
    (failure,) = vt.report(plan, probes, real_servers=False)["failures"]
    assert failure.endswith("answers came from 192.168.229.1:53, not from the VIP")
    blind = make_plan([DNS], udp_expect_answers=False)
    probes = [{"name": "c1", "tcp": None, "udp": [udp_result("10.0.96.204", {53: (0, [])})]}]
    out = vt.report(blind, probes, real_servers=False)
    assert out["failures"] == []
    assert out["lines"] == ["udp/10.0.96.204:53: 20 of 20 datagrams sent (answers not expected)"]


# -- what the real servers saw -------------------------------------------------------------------
def test_toa_per_real_server_from_dpvs_conns():
    plan = make_plan([WEB])
    dpvs = [node({WEB_KEY: {("192.168.229.1", 80): 5}}, {WEB_KEY: {("192.168.229.1", 80): 25}})]
    out = vt.report(plan, [web_ok()], dpvs, [dict(RS1, stats=rs_stats(toa=20))])
    assert out["failures"] == [] and out["warnings"] == []
    assert "rs1: 20 connections carried the client address (TOA), 20 connections reached it: tcp/10.0.96.204:80" in (
        out["lines"]
    )
    assert out["summary"].endswith("; client address seen by rs1 (TOA 20)")
    failed = vt.report(plan, [web_ok()], dpvs, [dict(RS1, stats=rs_stats(toa=0))])
    assert failed["failures"] == [
        "tcp/10.0.96.204:80: 20 connections reached rs1, 0 carried the client address (TOA: syn_recv_sock_toa +0)"
    ]


def test_toa_two_real_servers_judged_each_from_dpvs_conns():
    web = dict(WEB, real_servers=[{"ip": "192.168.229.1", "port": 80}, {"ip": "192.168.229.2", "port": 80}])
    plan = make_plan([web])
    after = {WEB_KEY: {("192.168.229.1", 80): 12, ("192.168.229.2", 80): 8}}
    dpvs = [node({WEB_KEY: {("192.168.229.1", 80): 0, ("192.168.229.2", 80): 0}}, after)]
    rs2 = {"name": "rs2", "ansible_host": "192.168.229.2"}
    out = vt.report(plan, [web_ok()], dpvs, [dict(RS1, stats=rs_stats(toa=12)), dict(rs2, stats=rs_stats(toa=0))])
    assert out["failures"] == [
        "tcp/10.0.96.204:80: 8 connections reached rs2, 0 carried the client address (TOA: syn_recv_sock_toa +0)"
    ]


def test_dpvs_conns_summed_over_nodes_and_unknown_when_one_node_is_missing():
    nodes = [
        node({WEB_KEY: {("192.168.229.1", 80): 1}}, {WEB_KEY: {("192.168.229.1", 80): 11}}),
        node({WEB_KEY: {("192.168.229.1", 80): 0}}, {WEB_KEY: {("192.168.229.1", 80): 10}}, name="lb2"),
    ]
    assert vt.dpvs_conns(nodes) == {("tcp", "10.0.96.204", 80, "192.168.229.1", 80): 20}
    nodes[1]["after"] = {"changed": False, "running": False, "stats": None}
    assert vt.dpvs_conns(nodes) is None
    assert vt.dpvs_unread(nodes) == ["lb2 after the burst: DPVS does not answer"]


def test_without_dpvs_conns_the_clients_count_over_the_service_real_servers():
    web = dict(WEB, real_servers=[{"ip": "192.168.229.1", "port": 80}, {"ip": "192.168.229.2", "port": 80}])
    plan = make_plan([web])
    rs2 = {"name": "rs2", "ansible_host": "192.168.229.2"}
    dpvs = [{"name": "lb1", "before": {"changed": False, "msg": "ipvsadm: not found"}, "after": None}]
    out = vt.report(plan, [web_ok()], dpvs, [dict(RS1, stats=rs_stats(toa=12)), dict(rs2, stats=rs_stats(toa=8))])
    assert out["failures"] == []
    assert out["lines"][1].startswith("DPVS's connections per real server unknown (lb1 before the burst: ipvsadm")
    assert "rs2: 8 connections carried the client address (TOA): tcp/10.0.96.204:80" in out["lines"]
    short = vt.report(plan, [web_ok()], dpvs, [dict(RS1, stats=rs_stats(toa=12)), dict(rs2, stats=rs_stats(toa=0))])
    assert short["failures"] == [
        "tcp/10.0.96.204:80: 20 connections reached rs1, rs2, 12 carried the client address "
        "(TOA: syn_recv_sock_toa +12)"
    ]


def test_without_dpvs_conns_services_sharing_a_real_server_are_judged_together():
    api = dict(WEB, port=8080, real_servers=[{"ip": "192.168.229.1", "port": 8080}])
    plan = make_plan([WEB, api])
    probes = [
        {
            "name": "c1",
            "tcp": tcp_result({"10.0.96.204:80": (20, 0, 0, None), "10.0.96.204:8080": (20, 0, 0, None)}),
            "udp": [],
        }
    ]
    out = vt.report(plan, probes, [], [dict(RS1, stats=rs_stats(toa=30))])
    assert out["failures"] == [
        "tcp/10.0.96.204:80, tcp/10.0.96.204:8080: 40 connections reached rs1, 30 carried the client address "
        "(TOA: syn_recv_sock_toa +30)"
    ]
    assert vt.report(plan, probes, [], [dict(RS1, stats=rs_stats(toa=40))])["failures"] == []


def test_real_servers_that_cannot_tell_are_warnings_or_not_checked():
    web = dict(WEB, real_servers=[{"ip": "192.168.229.1", "port": 80}, {"ip": "192.168.229.9", "port": 80}])
    plan = make_plan([web, DNS])
    probes = [dict(web_ok(), udp=[udp_result("10.0.96.204", {53: (20, ["10.0.96.204:53"])})])]
    rs1 = dict(RS1, stats=rs_stats(toa=None, uoa=None, toa_loaded=False, uoa_loaded=True))
    out = vt.report(plan, probes, [], [rs1])
    assert out["failures"] == []
    assert out["warnings"] == [
        "rs1: client address not delivered (no toa.ko): tcp/10.0.96.204:80",
        "rs1: uoa.ko is loaded but /proc/net/uoa_stats is missing (its /proc/net is another network namespace's? "
        "set dpvs_verify_traffic_proc_net: /proc/1/net on it): udp/10.0.96.204:53",
    ]
    assert (
        "192.168.229.9: not checked (no host of group realservers has this address): tcp/10.0.96.204:80" in out["lines"]
    )
    unread = vt.report(plan, probes, [], [dict(RS1, stats={"changed": False, "msg": "boom"})])
    assert unread["warnings"][0] == "rs1: its toa counters were not read (boom): tcp/10.0.96.204:80"
    back = vt.report(make_plan([WEB]), [web_ok()], [], [dict(RS1, stats=rs_stats(toa=-5))])
    assert back["failures"] == []
    assert back["warnings"] == [
        "rs1: syn_recv_sock_toa went back by 5 during the burst (toa.ko reloaded?): tcp/10.0.96.204:80"
    ]


def test_uoa_flows_proxy_protocol_other_forwarding_and_uoa_off():
    plan = make_plan([DNS])
    probes = [{"name": "c1", "tcp": None, "udp": [udp_result("10.0.96.204", {53: (20, ["10.0.96.204:53"])})]}]
    dpvs = [node({DNS_KEY: {("192.168.229.1", 53): 0}}, {DNS_KEY: {("192.168.229.1", 53): 1}})]
    out = vt.report(plan, probes, dpvs, [dict(RS1, stats=rs_stats(uoa=3))])
    assert out["failures"] == []
    assert "rs1: 3 datagrams carried the client address (UOA), 1 flow reached it: udp/10.0.96.204:53" in out["lines"]
    none = vt.report(plan, probes, dpvs, [dict(RS1, stats=rs_stats(uoa=0))])
    assert none["failures"] == [
        "udp/10.0.96.204:53: 1 flow reached rs1, 0 carried the client address (UOA: uoa_got +0)"
    ]
    off = vt.report(plan, probes, dpvs, [dict(RS1, stats=rs_stats(uoa=0))], uoa={"on": False, "why": "lb1: auto"})
    assert off["failures"] == []
    assert off["warnings"] == [
        "udp/10.0.96.204:53: client address not delivered to the real servers (UOA off: lb1: auto)"
    ]
    pp = dict(WEB, proxy_protocol="v2")
    dr = dict(WEB, port=81, real_servers=[{"ip": "192.168.229.1", "forward": "dr"}])
    plan = make_plan([pp, dr])
    probes = [
        {"name": "c1", "tcp": tcp_result({"10.0.96.204:80": (20, 0, 0, None), "10.0.96.204:81": (20, 0, 0, None)})}
    ]
    out = vt.report(plan, probes, [], [dict(RS1, stats=rs_stats(toa=0))])
    assert out["failures"] == []
    assert "tcp/10.0.96.204:80: the client address goes by the PROXY protocol (v2): not checked" in out["lines"]
    assert "tcp/10.0.96.204:81: 192.168.229.1 sees the client address itself (dr)" in out["lines"]


def test_real_server_index_matches_name_ansible_host_and_toa_addresses():
    index = vt.realserver_index(
        [{"name": "rs1", "ansible_host": "2001:db8:0::1", "toa_addresses": ["192.168.229.1"]}, {"name": "10.1.1.1"}]
    )
    assert index["2001:db8::1"] == "rs1" and index["192.168.229.1"] == "rs1" and index["rs1"] == "rs1"
    assert index["10.1.1.1"] == "10.1.1.1"


def test_connections_dpvs_counted_but_the_real_server_refused_are_not_a_toa_failure_too():
    api = dict(WEB, port=8081)
    plan = make_plan([WEB, api])
    rs = ("192.168.229.1", 80)
    dpvs = [
        node(
            {WEB_KEY: {rs: 0}, ("tcp", "10.0.96.204", 8081): {("192.168.229.1", 8081): 0}},
            {WEB_KEY: {rs: 20}, ("tcp", "10.0.96.204", 8081): {("192.168.229.1", 8081): 20}},
        )
    ]
    refused = (0, 20, 0, "10.0.96.204:8081: connection refused")
    probes = [{"name": "c1", "tcp": tcp_result({"10.0.96.204:80": (20, 0, 0, None), "10.0.96.204:8081": refused})}]
    out = vt.report(plan, probes, dpvs, [dict(RS1, stats=rs_stats(toa=0))])
    assert len(out["failures"]) == 2
    assert out["failures"][0].startswith("tcp/10.0.96.204:8081: sent 20, answered 0")
    # the real server's verdict names the service that reached it, not the refused one
    assert out["failures"][1] == (
        "tcp/10.0.96.204:80: 20 connections reached rs1, 0 carried the client address (TOA: syn_recv_sock_toa +0)"
    )
