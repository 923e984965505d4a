"""_ipvs_model: validation (every bad input names its exact path), canonical form, argv rendering."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import transcripts
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as M
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import parse as P
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import plan as PL

RS = {"ip": "192.168.229.1", "port": 80}


def svc(**changes):
    base = {"vip": "10.0.96.204", "port": 80, "scheduler": "rr"}
    base.update(changes)
    return base


def v6(**changes):
    return svc(**dict({"vip": "2001:db8::204"}, **changes))


LIP = {"ip": "192.168.229.204", "dev": "dpdk0"}

# (id, flavor, services, exact path, a word of the problem)
BAD = [
    ("bad_vip", None, [svc(vip="10.0.96.2044")], "services[0].vip", "not a valid"),
    ("no_vip", None, [{"port": 80}], "services[0].vip", "required"),
    ("bad_rs_ip", None, [svc(real_servers=[dict(RS, ip="192.168.229.256")])], "services[0].real_servers[0].ip",
     "valid"),
    ("bad_netmask", None, [svc(persistent=300, persistent_netmask="255.0.255.0")], "services[0].persistent_netmask",
     "contiguous"),
    ("bad_prefix_33", None, [svc(persistent=300, persistent_netmask="33")], "services[0].persistent_netmask", "0..32"),
    ("bad_v6_prefix", None, [v6(persistent=300, persistent_netmask="129")], "services[0].persistent_netmask", "1..128"),
    ("netmask_without_persistent", None, [svc(persistent_netmask="24")], "services[0].persistent_netmask",
     "needs persistent"),
    ("port0_without_persistent", None, [svc(port=0)], "services[0].port", "persistent"),
    ("port_65536", None, [svc(port=65536)], "services[0].port", "0..65535"),
    ("rs_port_65536", None, [svc(real_servers=[dict(RS, port=65536)])], "services[0].real_servers[0].port", "65535"),
    ("unknown_scheduler", None, [svc(scheduler="nosuch")], "services[0].scheduler", "unknown scheduler"),
    ("kernel_scheduler_on_dpvs", "dpvs", [svc(scheduler="lblc")], "services[0].scheduler", "not a dpvs scheduler"),
    ("dpvs_scheduler_on_kernel", "kernel", [svc(scheduler="conhash")], "services[0].scheduler",
     "not a kernel scheduler"),
    ("laddr_on_kernel", "kernel", [svc(laddrs=[LIP])], "services[0].laddrs", "DPVS-only"),
    ("laddr_family_vs_rs", "dpvs", [svc(real_servers=[RS], laddrs=[{"ip": "2001:db8::205", "dev": "dpdk0"}])],
     "services[0].laddrs[0].ip", "IPv4"),
    ("nat64_laddr_must_be_v4", "dpvs",
     [v6(real_servers=[RS], laddrs=[{"ip": "2001:db8::205", "dev": "dpdk0"}])], "services[0].laddrs[0].ip", "NAT64"),
    ("v4_vip_v6_laddr", "dpvs", [svc(laddrs=[{"ip": "2001:db8::205", "dev": "dpdk0"}])], "services[0].laddrs[0].ip",
     "IPv4 local"),
    ("duplicate_service", None, [svc(), svc(scheduler="wrr")], "services[1]", "duplicate service"),
    ("duplicate_service_v6_spelling", None, [v6(), v6(vip="2001:0db8:0::204")], "services[1]", "duplicate"),
    ("duplicate_rs", None, [svc(real_servers=[RS, dict(RS, weight=3)])], "services[0].real_servers[1]",
     "duplicate real server"),
    ("duplicate_laddr", "dpvs", [svc(laddrs=[LIP, LIP])], "services[0].laddrs[1].ip", "duplicate local"),
    ("lip_on_two_devices", "dpvs",
     [svc(laddrs=[LIP]), svc(port=443, laddrs=[dict(LIP, dev="dpdk1")])], "services[1].laddrs[0].dev",
     "one device"),
    ("fullnat_rs_without_port", "dpvs", [svc(real_servers=[{"ip": "192.168.229.1", "forward": "fullnat"}])],
     "services[0].real_servers[0].port", "port 0"),
    ("default_forward_rs_without_port", None, [svc(real_servers=[{"ip": "192.168.229.1"}])],
     "services[0].real_servers[0].port", "drops traffic"),
    ("masq_rs_without_port_kernel", "kernel", [svc(real_servers=[{"ip": "192.168.229.1", "forward": "masq"}])],
     "services[0].real_servers[0].port", "required"),
    ("dr_rs_other_port", None, [svc(real_servers=[{"ip": "192.168.229.1", "port": 8080, "forward": "dr"}])],
     "services[0].real_servers[0].port", "service port"),
    ("synproxy_on_udp", None, [svc(protocol="udp", synproxy=True)], "services[0].synproxy", "TCP"),
    ("ops_on_tcp", None, [svc(ops=True)], "services[0].ops", "UDP"),
    ("quic_on_tcp", None, [svc(quic=True)], "services[0].quic", "UDP"),
    ("hash_target_without_conhash", None, [svc(hash_target="sip")], "services[0].hash_target", "conhash"),
    ("qid_on_tcp", None, [svc(scheduler="conhash", hash_target="qid")], "services[0].hash_target", "UDP"),
    ("fwmark_on_dpvs", "dpvs", [{"fwmark": 1, "scheduler": "rr"}], "services[0].fwmark", "kernel"),
    ("fwmark_and_vip", "kernel", [{"fwmark": 1, "vip": "10.0.96.204"}], "services[0].vip", "mutually exclusive"),
    ("weight_minus_1", None, [svc(real_servers=[dict(RS, weight=-1)])], "services[0].real_servers[0].weight",
     "0..65535"),
    ("weight_70000", None, [svc(real_servers=[dict(RS, weight=70000)])], "services[0].real_servers[0].weight",
     "0..65535"),
    ("u_below_l", None, [svc(real_servers=[dict(RS, u_threshold=10, l_threshold=20)])],
     "services[0].real_servers[0].u_threshold", ">= l_threshold"),
    ("negative_threshold", None, [svc(real_servers=[dict(RS, l_threshold=-1)])],
     "services[0].real_servers[0].l_threshold", "0..2147483647"),
    ("v4_vip_v6_rs", None, [svc(real_servers=[{"ip": "2001:db8::10", "port": 80}])], "services[0].real_servers[0].ip",
     "IPv4 VIP"),
    ("v6_vip_v4_rs_masq_dpvs", "dpvs", [v6(real_servers=[dict(RS, forward="masq")])],
     "services[0].real_servers[0].ip", "NAT64"),
    ("v6_vip_v4_rs_masq_kernel", "kernel", [v6(real_servers=[dict(RS, forward="masq")])],
     "services[0].real_servers[0].ip", "tunnel"),
    ("mixed_rs_families_dpvs", "dpvs", [v6(real_servers=[{"ip": "2001:db8::10", "port": 80}, RS])],
     "services[0].real_servers[1].ip", "one family"),
    ("fullnat_on_kernel", "kernel", [svc(real_servers=[dict(RS, forward="fullnat")])],
     "services[0].real_servers[0].forward", "masq, dr and tunnel"),
    ("synproxy_on_kernel", "kernel", [svc(synproxy=True)], "services[0].synproxy", "DPVS-only"),
    ("conn_timeout_on_kernel", "kernel", [svc(conn_timeout=60)], "services[0].conn_timeout", "DPVS-only"),
    ("blocklist_on_kernel", "kernel", [svc(blocklist=["10.0.96.99"])], "services[0].blocklist", "DPVS-only"),
    ("laddrs_with_masq_rs", "dpvs", [svc(real_servers=[dict(RS, forward="masq")], laddrs=[LIP])],
     "services[0].laddrs", "FullNAT"),
    ("bad_dest_check", "dpvs", [svc(dest_check="sometimes")], "services[0].dest_check", "must be"),
    ("dest_check_min_above_max", "dpvs", [svc(dest_check="1,1,3s,90-10s")], "services[0].dest_check", "inhibit_min"),
    ("persistent_0", None, [svc(persistent=0)], "services[0].persistent", "1..2678400"),
    ("conn_timeout_negative", "dpvs", [svc(conn_timeout=-5)], "services[0].conn_timeout", "0..2147483647"),
    ("bad_blocklist_entry", "dpvs", [svc(blocklist=["10.0.96.99", "nope"])], "services[0].blocklist[1]", "valid"),
    ("laddr_bad_device_name", "dpvs", [svc(laddrs=[{"ip": "192.168.229.204", "dev": "dpdk 0!"}])],
     "services[0].laddrs[0].dev", "device name"),
    ("third_service_nested", None,
     [svc(), svc(port=81), svc(port=82, real_servers=[RS, {"ip": "192.168.229.x", "port": 80}])],
     "services[2].real_servers[1].ip", "valid"),
    ("bad_protocol", None, [svc(protocol="icmp")], "services[0].protocol", "tcp, udp, sctp"),
    ("bad_state", None, [svc(state="gone")], "services[0].state", "present or absent"),
]  # fmt: skip


def test_there_are_enough_distinct_bad_inputs():
    assert len(BAD) >= 20
    assert len({case[0] for case in BAD}) == len(BAD)
    assert len({case[3] for case in BAD}) >= 20  # at least 20 different paths


@pytest.mark.parametrize(("case_id", "flavor", "services", "path", "word"), BAD, ids=[c[0] for c in BAD])
def test_bad_input_names_its_exact_path(case_id, flavor, services, path, word):
    with pytest.raises(InputError) as info:
        M.normalize(services, flavor)
    err = info.value
    assert err.path == path, (case_id, str(err))
    assert str(err).startswith(path + ": "), str(err)
    assert word in err.problem, (case_id, err.problem)
    assert "(got " in str(err)


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"flavor": "xen"}, "flavor"),
        ({"batch_threshold": -1}, "batch_threshold"),
        ({"drain_timeout": -1}, "drain_timeout"),
        ({"drain_poll": 0}, "drain_poll"),
        ({"services": "not a list"}, "services"),
        ({"services": ["not a dict"]}, "services[0]"),
    ],
)
def test_bad_module_level_params(params, path):
    with pytest.raises(InputError) as info:
        PL.validate_params(dict({"services": []}, **params))
    assert info.value.path == path


def test_flavour_rules_wait_for_the_flavour():
    # with flavor auto the first pass accepts what only one flavour refuses
    services = [svc(synproxy=True, laddrs=[LIP], real_servers=[RS])]
    desired = M.normalize(services, None)
    assert desired[0]["real_servers"][0]["forward"] is None
    with pytest.raises(InputError) as info:
        M.normalize(services, "kernel")
    assert info.value.path == "services[0].synproxy"
    assert M.normalize(services, "dpvs")[0]["real_servers"][0]["forward"] == "fullnat"


# ----------------------------------------------------------------------------- canonical form


def test_canonical_service():
    (s,) = M.normalize(
        [
            {
                "protocol": "udp",
                "vip": "10.0.96.204",
                "port": "53",
                "scheduler": "conhash",
                "persistent": 300,
                "persistent_netmask": "24",
                "ops": True,
                "conn_timeout": 0,
                "proxy_protocol": "disable",
                "dest_check": "1,1,3s,5-3600s",
                "real_servers": [{"ip": "192.168.229.1", "port": 53, "u_threshold": 100, "l_threshold": 10}],
                "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}],
                "blocklist": ["10.0.96.99", "ipset:bad"],
            }
        ],
        "dpvs",
    )
    assert s["key"] == ("udp", "10.0.96.204", 53) and s["label"] == "udp 10.0.96.204:53"
    assert s["options"] == {
        "scheduler": "conhash",
        "persistent": 300,
        "netmask": "255.255.255.0",  # as ipvsadm -ln prints it
        "ops": True,
        "synproxy": False,
        "conn_timeout": None,  # 0 = none, -ln prints nothing
        "hash_target": "sip",  # conhash default, -ln always shows it
        "proxy_protocol": None,
        "expire_quiescent": False,
        "quic": False,
        "dest_check": "internal:default",
    }
    rs = s["real_servers"][0]
    assert (rs["forward"], rs["weight"], rs["u_threshold"], rs["l_threshold"]) == ("fullnat", 1, 100, 10)
    assert s["laddrs"] == [{"path": "services[0].laddrs[0]", "ip": "192.168.229.204", "dev": "dpdk0", "family": "inet"}]
    assert s["blocklist"] == ["10.0.96.99", "ipset:bad"]


@pytest.mark.parametrize(
    ("value", "family", "canonical"),
    [
        ("255.255.255.255", "inet", None),
        ("32", "inet", None),
        ("/16", "inet", "255.255.0.0"),
        ("255.255.255.0", "inet", "255.255.255.0"),
        ("64", "inet6", "64"),
        ("128", "inet6", None),
    ],
)
def test_netmasks(value, family, canonical):
    assert M.canonical_netmask("p", value, family) == canonical


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("disable", None),
        ("default", "internal:default"),
        ("tcp", "external:tcp"),
        ("2,3s", "internal:2,3s"),
        ("1,2,5s,10-600s", "internal:1,2,5s,10-600s"),
    ],
)
def test_dest_check_canonical_matches_the_listing(value, canonical):
    assert M.canonical_dest_check("p", value) == canonical
    if canonical:
        line = f"TCP  10.0.96.204:80 rr dest-check {canonical}\n"
        assert P.parse_list(line)["services"][0]["flags"]["dest_check"] == canonical


def test_dr_and_tunnel_take_the_service_port_and_ipv6_is_compressed():
    (s,) = M.normalize(
        [
            {
                "vip": "2001:0db8:0000::0204",
                "port": 9000,
                "scheduler": "mh",
                "real_servers": [{"ip": "2001:db8::10", "forward": "dr"}, {"ip": "2001:db8::11", "forward": "tunnel"}],
            }
        ],
        "dpvs",
    )
    assert s["vip"] == "2001:db8::204" and s["family"] == "inet6"
    assert [(r["ip"], r["port"]) for r in s["real_servers"]] == [("2001:db8::10", 9000), ("2001:db8::11", 9000)]


def test_kernel_fwmark_and_masq_default():
    fw, web = M.normalize(
        [
            {"fwmark": 5, "scheduler": "sh", "real_servers": [{"ip": "2001:db8:1::2", "forward": "dr"}]},
            {"vip": "10.0.0.1", "port": 80, "real_servers": [{"ip": "192.168.1.2", "port": 80}]},
        ],
        "kernel",
    )
    assert fw["key"] == ("fwmark", 5, "inet6") and fw["label"] == "fwmark 5 IPv6"
    assert fw["real_servers"][0]["port"] == 0
    assert web["real_servers"][0]["forward"] == "masq" and web["options"]["hash_target"] is None


def test_absent_services_need_only_their_key():
    (s,) = M.normalize([{"vip": "10.0.96.213", "port": 80, "state": "absent", "scheduler": "nosuch"}], "dpvs")
    assert s["state"] == "absent" and s["real_servers"] is None


# ----------------------------------------------------------------------------- rendering


def one(flavor="dpvs", **changes):
    return M.normalize([svc(**changes)], flavor)[0]


def test_render_service_commands():
    s = one()
    assert M.render_add_service(s, "dpvs") == ["-A", "-t", "10.0.96.204:80", "-s", "rr"]
    assert M.render_del_service(s) == ["-D", "-t", "10.0.96.204:80"]
    v6svc = M.normalize([v6()], "dpvs")[0]
    assert M.render_add_service(v6svc, "dpvs") == ["-A", "-t", "[2001:db8::204]:80", "-s", "rr"]
    udp = M.normalize([svc(protocol="udp", port=53, scheduler="wlc", persistent=300, persistent_netmask="24")], "dpvs")[
        0
    ]
    assert M.restore_line(M.render_add_service(udp, "dpvs")) == "-A -u 10.0.96.204:53 -s wlc -p 300 -M 255.255.255.0"
    sctp = M.normalize([svc(protocol="sctp")], "kernel")[0]
    assert M.render_add_service(sctp, "kernel")[:3] == ["-A", "--sctp-service", "10.0.96.204:80"]


def test_render_dpvs_flags_and_full_edit():
    s = one(scheduler="conhash", synproxy=True, conn_timeout=120, proxy_protocol="v2", expire_quiescent=True)
    assert M.restore_line(M.render_add_service(s, "dpvs")) == (
        "-A -t 10.0.96.204:80 -s conhash -j enable --hash-target sip --conn-timeout 120 --proxy-protocol v2 "
        "--expire-quiescent"
    )
    # -E carries everything: DPVS resets conn-timeout/proxy-protocol it is not given
    plain = one(persistent=60)
    assert M.restore_line(M.render_edit_service(plain, "dpvs")) == (
        "-E -t 10.0.96.204:80 -s rr -p 60 -M 255.255.255.255 -j disable"
    )
    quic = one(protocol="udp", port=443, scheduler="conhash", hash_target="qid", quic=True, dest_check="tcp", ops=True)
    assert M.render_add_service(quic, "dpvs")[5:] == [
        "--ops",
        "--hash-target",
        "qid",
        "--quic",
        "--dest-check",
        "tcp",
    ]
    # the kernel flavour never gets a DPVS switch
    k = one("kernel", persistent=60, protocol="udp", ops=True)
    assert M.render_edit_service(k, "kernel") == ["-E", "-u", "10.0.96.204:80", "-s", "rr", "-p", "60", "-M",
                                                  "255.255.255.255", "--ops"]  # fmt: skip
    fw = M.normalize([{"fwmark": 6, "real_servers": [{"ip": "2001:db8:1::2", "forward": "dr"}]}], "kernel")[0]
    assert M.render_add_service(fw, "kernel") == ["-A", "-f", "6", "-6", "-s", "wlc"]


def test_render_real_server_and_laddr_commands():
    s = one(real_servers=[dict(RS, weight=3, u_threshold=1000, l_threshold=100)], laddrs=[LIP])
    rs = s["real_servers"][0]
    assert M.render_add_rs(s, rs) == ["-a", "-t", "10.0.96.204:80", "-r", "192.168.229.1:80", "-b", "-w", "3",
                                      "-x", "1000", "-y", "100"]  # fmt: skip
    assert M.render_edit_rs(s, dict(rs, u_threshold=0, l_threshold=0)) == [
        "-e", "-t", "10.0.96.204:80", "-r", "192.168.229.1:80", "-b", "-w", "3", "-x", "0", "-y", "0"
    ]  # fmt: skip
    assert M.render_del_rs(s, rs) == ["-d", "-t", "10.0.96.204:80", "-r", "192.168.229.1:80"]
    assert M.render_del_rs(s, dict(rs, port=0)) == ["-d", "-t", "10.0.96.204:80", "-r", "192.168.229.1:0"]
    assert M.render_add_laddr(s, s["laddrs"][0]) == ["--add-laddr", "-z", "192.168.229.204", "-t", "10.0.96.204:80",
                                                     "-F", "dpdk0"]  # fmt: skip
    assert M.restore_line(M.render_del_laddr(s, s["laddrs"][0])) == (
        "--del-laddr -z 192.168.229.204 -t 10.0.96.204:80 -F dpdk0"
    )
    v6rs = M.normalize([v6(real_servers=[{"ip": "2001:db8::10", "port": 80}])], "dpvs")[0]
    assert M.render_add_rs(v6rs, v6rs["real_servers"][0])[3:6] == ["-r", "[2001:db8::10]:80", "-b"]
    assert M.render_lip_address(LIP) == ["addr", "add", "192.168.229.204/32", "dev", "dpdk0", "sapool"]
    assert M.render_lip_address({"ip": "2001:db8::205", "dev": "dpdk1"}) == [
        "-6", "addr", "add", "2001:db8::205/128", "dev", "dpdk1", "sapool"
    ]  # fmt: skip
    acl = one(blocklist=["10.0.96.99"])
    assert M.render_acl(acl, "blocklist", "10.0.96.99", True) == ["--add-blklst", "-t", "10.0.96.204:80", "-k",
                                                                  "10.0.96.99"]  # fmt: skip
    assert M.render_acl(acl, "allowlist", "10.0.96.10", False)[0::4] == ["--del-whtlst", "10.0.96.10"]


def test_rendered_lines_match_the_transcript_commands():
    # the argv the model renders is the argv the transcripts ran (same spelling, same order)
    s = one(real_servers=[RS], laddrs=[LIP])
    rendered = {
        "ipvsadm " + M.restore_line(M.render_add_service(s, "dpvs")),
        "ipvsadm " + M.restore_line(M.render_add_rs(s, s["real_servers"][0])),
        "ipvsadm " + M.restore_line(M.render_add_laddr(s, s["laddrs"][0])),
    }
    commands = {entry.command for entry in transcripts.sequence()}
    assert "ipvsadm -A -t 10.0.96.204:80 -s rr" in rendered & commands
    assert "ipvsadm --add-laddr -z 192.168.229.204 -t 10.0.96.204:80 -F dpdk0" in rendered & commands
    # the -R line of transcript 215 for the same RS
    assert (
        "-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1"
        in transcripts.load("215-ipvsadm-restore-script-style.txt").command
    )


# ----------------------------------------------------------------------------- live


def test_live_services_from_transcripts():
    parsed = P.parse_list(transcripts.load("101-ipvsadm-ln-after-restore.txt").stdout)
    thresholds = P.parse_list_thresholds(transcripts.load("76-ipvsadm-ln-thresholds.txt").stdout)
    laddr_list = P.parse_laddrs(transcripts.load("106-ipvsadm-G-after-restore.txt").stdout)
    laddrs = {("tcp", e["vip"], e["port"]): [x["ip"] for x in e["laddrs"]] for e in laddr_list}
    blk = P.parse_blocklist(transcripts.load("162-ipvsadm-get-blklst.txt").stdout)
    wht = P.parse_allowlist(transcripts.load("165-ipvsadm-get-whtlst.txt").stdout)
    live = M.live_services(parsed, thresholds, laddrs, blk, wht)
    web, tls = live
    assert web["key"] == ("tcp", "10.0.96.204", 80) and web["options"] == M.default_options() | {"scheduler": "rr"}
    assert [(r["ip"], r["port"], r["weight"], r["u_threshold"], r["l_threshold"]) for r in web["real_servers"]] == [
        ("192.168.229.1", 80, 1, 0, 0),
        ("192.168.229.2", 8080, 5, 1000, 100),
    ]
    assert [x["ip"] for x in web["laddrs"]] == ["192.168.229.204", "192.168.229.205"]
    assert web["blocklist"] == ["10.0.96.99"] and web["allowlist"] == []
    assert tls["laddrs"] == [{"ip": "192.168.229.207", "dev": None}] and tls["allowlist"] == ["10.0.96.10"]
    # a desired table equal to this live one compares equal option by option
    desired = M.normalize(
        [
            svc(
                real_servers=[
                    RS,
                    {"ip": "192.168.229.2", "port": 8080, "weight": 5, "u_threshold": 1000, "l_threshold": 100},
                ]
            )
        ],
        "dpvs",
    )[0]
    assert desired["options"] == web["options"]


def test_render_table_is_save_like_and_sorted():
    table = M.normalize(
        [
            v6(real_servers=[{"ip": "2001:db8::10", "port": 80}]),
            svc(protocol="udp", port=53, scheduler="wlc", persistent=300, real_servers=[dict(RS, port=53)]),
            svc(real_servers=[dict(RS, u_threshold=10)], laddrs=[LIP], blocklist=["10.0.96.99"], conn_timeout=30),
        ],
        "dpvs",
    )
    text = M.render_table(table, "dpvs")
    assert text.splitlines() == [
        "-A -t 10.0.96.204:80 -s rr --conn-timeout 30",
        "-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1 -x 10",
        "--add-laddr -z 192.168.229.204 -t 10.0.96.204:80",
        "--add-blklst -t 10.0.96.204:80 -k 10.0.96.99",
        "-A -u 10.0.96.204:53 -s wlc -p 300",
        "-a -u 10.0.96.204:53 -r 192.168.229.1:53 -b -w 1",
        "-A -t [2001:db8::204]:80 -s rr",
        "-a -t [2001:db8::204]:80 -r [2001:db8::10]:80 -b -w 1",
    ]
    assert M.render_table([], "dpvs") == ""
