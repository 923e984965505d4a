"""ipvsadm parsers against every DPVS v1.10.2 ipvsadm listing transcript and the kernel fixtures.

The DPVS transcripts are discovered from SEQUENCE.tsv by command (never hand-picked): every
single ipvsadm command that exited 0 and prints a table is classified by its options and fed
to the matching parser; entries are counted against the lines of that kind and rendered back
with ipvsadm's own printf formats (a round trip). Concrete values are pinned where the
transcripts show something notable (RS port 0, weight 0, conhash sip, counters after traffic).

The Linux kernel fixtures (tests/unit/fixtures/kernel-ipvsadm/) are RECONSTRUCTED from the
ipvsadm 1.31 format strings, not captured (no ip_vs here); each file says so at the top.
"""

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import transcripts
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import parse as P

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "kernel-ipvsadm")

# ipvsadm commands whose stdout is a table, by parser. The write/usage commands (-A -a -e -E -d -D
# -C -Z -R --add-laddr --set -v -h ...) print nothing on stdout and are not listings.
KINDS = [
    ("laddrs", re.compile(r"(^| )(-G|--get-laddr)( |$)")),
    ("blocklist", re.compile(r"(^| )--get-blklst( |$)")),
    ("allowlist", re.compile(r"(^| )--get-whtlst( |$)")),
    ("save", re.compile(r"(^| )(-S|--save)( |$)")),
    ("connections", re.compile(r"(^| )-l?L?nc( |$)|(^| )-[lL]n? -c( |$)")),
    ("stats", re.compile(r"(^| )--stats( |$)")),
    ("rate", re.compile(r"(^| )--rate( |$)")),
    ("thresholds", re.compile(r"(^| )--thresholds( |$)")),
    ("persistent", re.compile(r"(^| )--persistent-conn( |$)")),
    ("list", re.compile(r"^ipvsadm$|(^| )-[lL]n?( |$)")),
]
PARSERS = {
    "laddrs": P.parse_laddrs,
    "blocklist": P.parse_blocklist,
    "allowlist": P.parse_allowlist,
    "save": P.parse_save,
    "connections": P.parse_connections,
    "stats": P.parse_list_stats,
    "rate": P.parse_list_rate,
    "thresholds": P.parse_list_thresholds,
    "persistent": P.parse_list_persistent,
    "list": P.parse_list,
}
# one ipvsadm invocation, nothing else on the command line (no pipes, no && chains)
SINGLE_IPVSADM = re.compile(r"^ipvsadm(?: [^|;&]*)?$")


def classify(command):
    if not SINGLE_IPVSADM.match(command):
        return None
    for kind, regex in KINDS:
        if regex.search(command):
            # -L --timeout / --daemon are unsupported on DPVS (rc 1, no output)
            if kind == "list" and re.search(r"--(timeout|daemon)\b", command):
                return None
            return kind
    return None


def discover():
    found = []
    for entry in transcripts.sequence():
        kind = classify(entry.command)
        if kind and entry.exit_code == 0:
            found.append((entry.file, kind))
    return found


LISTINGS = discover()


def load_fixture(name):
    """A kernel fixture: same layout as a transcript (header, STDOUT/STDERR/END markers)."""
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        data = handle.read()
    header, _sep, rest = data.partition("===== STDOUT =====\n")
    stdout, _sep, _rest = rest.partition("===== STDERR =====\n")
    command = re.search(r"^# command: (.*)$", header, re.M).group(1)
    return header, command, stdout


KERNEL_FIXTURES = sorted(f for f in os.listdir(FIXTURES) if f.endswith(".txt"))


# ----------------------------------------------------------------------------- discovery


def test_discovery_found_every_kind_of_listing():
    files = dict(LISTINGS)
    kinds = set(files.values())
    assert kinds == set(PARSERS), kinds
    assert len(LISTINGS) >= 35
    for name, kind in [
        ("60-ipvsadm-ln-empty.txt", "list"),
        ("78-ipvsadm-ln-service.txt", "list"),
        ("97-ipvsadm-noargs.txt", "list"),
        ("74-ipvsadm-ln-stats.txt", "stats"),
        ("79-ipvsadm-ln-exact-stats.txt", "stats"),
        ("75-ipvsadm-ln-rate.txt", "rate"),
        ("76-ipvsadm-ln-thresholds.txt", "thresholds"),
        ("77-ipvsadm-ln-persistent-conn.txt", "persistent"),
        ("83-ipvsadm-get-laddr-long.txt", "laddrs"),
        ("212-ipvsadm-G-after-C.txt", "laddrs"),
        ("92-ipvsadm-save-long.txt", "save"),
        ("214-ipvsadm-S-n-empty.txt", "save"),
        ("183-ipvsadm-lnc-after-traffic.txt", "connections"),
        ("166-ipvsadm-get-blklst-svc.txt", "blocklist"),
        ("165-ipvsadm-get-whtlst.txt", "allowlist"),
    ]:
        assert files.get(name) == kind, name
    # writes, usage and failures are not listings
    for name in ("61-ipvsadm-A.txt", "204-ipvsadm-h.txt", "94-ipvsadm-L-timeout.txt", "100-ipvsadm-R-new-rules.txt"):
        assert name not in files


def test_every_ipvsadm_transcript_is_classified_or_known_not_a_listing():
    # an ipvsadm command with rc 0 and a non-empty stdout must have a parser
    for entry in transcripts.sequence():
        if not SINGLE_IPVSADM.match(entry.command) or entry.exit_code != 0:
            continue
        t = transcripts.load(entry.file)
        if classify(entry.command) is None:
            assert t.stdout == "" or re.search(r" -[vh]$", entry.command), entry.file


# ----------------------------------------------------------------------------- round trips

DPVS_FWD = {v: k for k, v in P.FORWARDS.items()}


def printf(fmt, *args):
    """C printf, to render with ipvsadm's own format strings."""
    return fmt % args


def render_addr(ip, port):
    return printf("[%s]:%d" if ":" in ip else "%s:%d", ip, port)


def render_flags(flags):
    """DPVS print_service_entry order (the kernel's is a subset)."""
    out = ""
    if flags["sched_flags"]:
        out += " ({})".format(",".join(flags["sched_flags"]))
    if flags["hash_target"]:
        out += " " + flags["hash_target"]
    if flags["persistent"] is not None:
        out += printf(" persistent %d", flags["persistent"])
        if flags["netmask"]:
            out += " mask " + flags["netmask"]
        if flags["pe"]:
            out += " pe " + flags["pe"]
    for name, text in (("ops", " ops"), ("synproxy", " synproxy")):
        if flags[name]:
            out += text
    if flags["conn_timeout"] is not None:
        out += printf(" conn-timeout %d", flags["conn_timeout"])
    if flags["proxy_protocol"]:
        out += " pp" + flags["proxy_protocol"]
    if flags["expire_quiescent"]:
        out += " expire-quiescent"
    if flags["quic"]:
        out += " quic"
    if flags["dest_check"] is not None:
        out += " dest-check" + ("" if not flags["dest_check"] else " " + flags["dest_check"])
    return out


def render_service_name(svc):
    if svc["protocol"] == "fwmark":
        return printf("FWM  %d%s", svc["fwmark"], " IPv6" if svc["family"] == "inet6" else "")
    if svc["protocol"] == "match":
        return "MATCH " + svc["match"]
    proto = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP", "icmp": "ICMP", "icmpv6": "ICMPv6"}[svc["protocol"]]
    return "{}  {}".format(proto, render_addr(svc["vip"], svc["port"]))


def render_list(parsed, numeric_names=None):
    lines = []
    for svc in parsed["services"]:
        lines.append("{} {}{}".format(render_service_name(svc), svc["scheduler"], render_flags(svc["flags"])))
        for rs in svc["real_servers"]:
            line = printf(
                "  -> %-28s %-7s %-6d %-10u %-10u",
                render_addr(rs["ip"], rs["port"]),
                DPVS_FWD[rs["forward"]],
                rs["weight"],
                rs["active_conns"],
                rs["inactive_conns"],
            )
            sep = " "
            if rs["inhibited"]:
                line += sep + "inhibited"
                sep = ","
            if rs["overload"]:
                line += sep + "overload"
            lines.append(line)
    return lines


def data_lines(text):
    """Lines that carry a service or a real server (not the version and title lines)."""
    return [
        line
        for line in text.splitlines()
        if line.strip()
        and not line.startswith(("IP Virtual Server version", "Prot LocalAddress:Port", "  -> RemoteAddress:Port"))
    ]


@pytest.mark.parametrize("name,kind", LISTINGS, ids=[n for n, _k in LISTINGS])
def test_transcript_parses_and_counts_match(name, kind):
    t = transcripts.load(name)
    parsed = PARSERS[kind](t.stdout)
    lines = data_lines(t.stdout)
    if kind in ("list", "stats", "rate", "thresholds", "persistent"):
        n_rs = sum(len(s["real_servers"]) for s in parsed["services"])
        assert len(parsed["services"]) + n_rs == len(lines)
        assert n_rs == sum(1 for line in lines if line.startswith("  -> "))
        # the version line is printed for full listings only, never with -t SVC
        if re.search(r" -[tu] ", t.command):
            assert parsed["version"] is None and parsed["size"] is None
        else:
            assert parsed["version"] == "1.10.2" and parsed["size"] == 0
    elif kind == "laddrs":
        n_laddrs = sum(len(s["laddrs"]) for s in parsed)
        assert len(parsed) + n_laddrs == len([line for line in lines if not line.startswith("VIP:VPORT")])
        for svc in parsed:
            assert svc["total"] == len(svc["laddrs"])
    elif kind in ("save", "connections"):
        assert len(parsed) == len(lines)
    else:
        assert len(parsed) == len(lines) - 1  # the PROTO title
    if kind == "list" and re.search(r" -[lL]n\b", t.command):
        # round trip: ipvsadm's own formats render the parsed data back to the same lines
        assert render_list(parsed) == [line.rstrip() if not line.startswith("  -> ") else line for line in lines]


@pytest.mark.parametrize("name,kind", [(n, k) for n, k in LISTINGS if k in P.RS_FAST_RE], ids=str)
def test_fast_real_server_lines_read_as_the_general_path_reads_them(name, kind, monkeypatch):
    """The one-match reading of the commonest real server line (a big table's read) gives the
    same data, in the same key order, as the general path, on every -ln/--thresholds transcript."""
    text = transcripts.load(name).stdout
    fast = PARSERS[kind](text)
    monkeypatch.setattr(P, "RS_FAST_RE", {})
    general = PARSERS[kind](text)
    assert fast == general
    for svc_fast, svc_general in zip(fast["services"], general["services"]):
        assert [list(rs) for rs in svc_fast["real_servers"]] == [list(rs) for rs in svc_general["real_servers"]]


def test_fast_real_server_lines_are_taken_and_others_left_to_the_general_path():
    fast = P._rs_fast("  -> 192.168.229.1:8000             FullNat 1      0          0", "list")
    assert fast == dict(ip="192.168.229.1", port=8000, forward="fullnat", weight=1, active_conns=0, inactive_conns=0,
                        inhibited=False, overload=False)  # fmt: skip
    assert P._rs_fast("  -> 192.168.229.1:8000             7          3          0          0", "thresholds") == {
        "ip": "192.168.229.1",
        "port": 8000,
        "u_threshold": 7,
        "l_threshold": 3,
        "active_conns": 0,
        "inactive_conns": 0,
    }
    for line in (
        "  -> 192.168.229.1:8000             FullNat 1      0          0          inhibited",
        "  -> [2001:db8::10]:80            FullNat 1      0          0",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        "TCP  10.0.96.1:80 rr",
    ):
        assert P._rs_fast(line, "list") is None
    assert P._rs_fast("  -> 192.168.229.1:8000   5 25 25 1475 1490", "stats") is None


@pytest.mark.parametrize("name", [n for n, k in LISTINGS if k in ("stats", "rate")])
def test_counter_round_trip(name):
    t = transcripts.load(name)
    parsed = (P.parse_list_stats if "--stats" in t.command else P.parse_list_rate)(t.stdout)
    fields = P.STATS_FIELDS if "--stats" in t.command else P.RATE_FIELDS
    lines = data_lines(t.stdout)
    rendered = []
    for svc in parsed["services"]:
        rendered.append(printf("%-33s", render_service_name(svc)) + "".join(printf("%9d", svc[f]) for f in fields))
        for rs in svc["real_servers"]:
            rs_name = printf("  -> %-28s", render_addr(rs["ip"], rs["port"]))
            rendered.append(rs_name + "".join(printf("%9d", rs[f]) for f in fields))
    assert rendered == lines


# ----------------------------------------------------------------------------- DPVS values


def test_empty_listing():
    parsed = P.parse_list(transcripts.load("60-ipvsadm-ln-empty.txt").stdout)
    assert parsed == {"version": "1.10.2", "size": 0, "services": []}


def test_rs_port_zero_is_visible():
    # -a ... -r 192.168.229.1 -b without a port creates RIP:0 (traffic then fails, 195)
    for name, vip in (("67-ipvsadm-ln.txt", "10.0.96.204"), ("194-ipvsadm-ln-vip2.txt", "10.0.96.213")):
        svc = P.parse_list(transcripts.load(name).stdout)["services"][0]
        assert (svc["protocol"], svc["vip"], svc["port"], svc["scheduler"]) == ("tcp", vip, 80, "rr")
        assert svc["real_servers"] == [
            {
                "ip": "192.168.229.1",
                "port": 0,
                "forward": "fullnat",
                "weight": 1,
                "active_conns": 0,
                "inactive_conns": 0,
                "inhibited": False,
                "overload": False,
            }
        ]


def test_service_listing_and_weights():
    parsed = P.parse_list(transcripts.load("101-ipvsadm-ln-after-restore.txt").stdout)
    keys = [(s["protocol"], s["vip"], s["port"], s["scheduler"]) for s in parsed["services"]]
    assert keys == [("tcp", "10.0.96.204", 80, "rr"), ("tcp", "10.0.96.210", 443, "wrr")]
    rs = {(r["ip"], r["port"]): r["weight"] for s in parsed["services"] for r in s["real_servers"]}
    assert rs == {("192.168.229.1", 80): 1, ("192.168.229.2", 8080): 5, ("192.168.229.1", 443): 3}
    assert parsed["services"][0]["flags"] == P._empty_flags()


def test_inactive_connections_after_traffic():
    svc = P.parse_list(transcripts.load("185-ipvsadm-ln-after-traffic.txt").stdout)["services"][0]
    assert [(r["ip"], r["weight"], r["active_conns"], r["inactive_conns"]) for r in svc["real_servers"]] == [
        ("192.168.229.1", 1, 0, 5),
        ("192.168.229.2", 0, 0, 0),
    ]


def test_conhash_always_shows_sip():
    svc = P.parse_list(transcripts.load("173-ipvsadm-ln-svc-443.txt").stdout)["services"][0]
    assert svc["scheduler"] == "conhash"
    assert svc["flags"]["hash_target"] == "sip"
    assert svc["flags"]["synproxy"] is False and svc["flags"]["conn_timeout"] is None
    assert svc["real_servers"] == []


def test_names_are_resolved_without_n():
    parsed = P.parse_list(transcripts.load("97-ipvsadm-noargs.txt").stdout)
    svc = parsed["services"][0]
    assert (svc["vip"], svc["port"]) == ("10.0.96.204", 80)
    assert [(r["ip"], r["port"], r["weight"]) for r in svc["real_servers"]] == [
        ("192.168.229.1", 80, 1),
        ("192.168.229.2", 8080, 5),
    ]


def test_nat64_listing_inside_a_chained_command():
    # 240 chains dpip/ipvsadm commands; its ipvsadm -ln part shows an IPv4 RS under an IPv6 VIP
    t = transcripts.load("240-nat64-setup.txt")
    ln_part = t.stdout.split("VIP:VPORT")[0]
    parsed = P.parse_list(ln_part)
    svc = parsed["services"][0]
    assert (svc["family"], svc["vip"], svc["port"]) == ("inet6", "2001:db8::204", 80)
    assert [(r["ip"], r["port"], r["forward"]) for r in svc["real_servers"]] == [("192.168.229.1", 80, "fullnat")]
    g_part = "VIP:VPORT" + t.stdout.split("VIP:VPORT")[1].split("inet6 ")[0]
    assert P.parse_laddrs(g_part) == [
        {
            "vip": "2001:db8::204",
            "port": 80,
            "total": 1,
            "laddrs": [{"ip": "192.168.229.209", "conflicts": 0, "conns": 0}],
        }
    ]


# The observed listing quoted in the README (transcripts 142 + 156, not in the folder).
README_142_156 = (
    "IP Virtual Server version 1.10.2 (size=0)\n"
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    "TCP  10.0.96.204:80 rr\n"
    "  -> 192.168.229.1:80             FullNat 1      0          0         \n"
    "  -> 192.168.229.2:8080           FullNat 0      0          0         \n"
    "TCP  10.0.96.204:443 conhash sip synproxy conn-timeout 120\n"
    "TCP  10.0.96.204:9001 fo persistent 360\n"
    "  -> 192.168.229.1:9001           Tunnel  1      0          0         \n"
    "UDP  10.0.96.204:53 wlc persistent 300 mask 255.255.255.0\n"
    "  -> 192.168.229.1:53             FullNat 1      0          0         \n"
    "TCP  [2001:db8::204]:80 rr\n"
    "  -> [2001:db8::10]:80            FullNat 1      0          0         \n"
    "TCP  [2001:db8::204]:8080 rr\n"
    "  -> 192.168.229.1:80             FullNat 1      0          0         \n"
)


def test_readme_listing_with_dpvs_flags():
    parsed = P.parse_list(README_142_156)
    by_key = {(s["protocol"], s["vip"], s["port"]): s for s in parsed["services"]}
    assert len(by_key) == 6
    f443 = by_key[("tcp", "10.0.96.204", 443)]["flags"]
    assert (f443["hash_target"], f443["synproxy"], f443["conn_timeout"]) == ("sip", True, 120)
    assert by_key[("tcp", "10.0.96.204", 9001)]["flags"]["persistent"] == 360
    assert by_key[("tcp", "10.0.96.204", 9001)]["real_servers"][0]["forward"] == "tunnel"
    f53 = by_key[("udp", "10.0.96.204", 53)]["flags"]
    assert (f53["persistent"], f53["netmask"]) == (300, "255.255.255.0")
    v6 = by_key[("tcp", "2001:db8::204", 80)]
    assert v6["family"] == "inet6" and v6["real_servers"][0]["ip"] == "2001:db8::10"
    assert by_key[("tcp", "2001:db8::204", 8080)]["real_servers"][0]["ip"] == "192.168.229.1"
    assert render_list(parsed) == data_lines(README_142_156)


# Reconstructed from the DPVS v1.10.2 print_service_entry format (flags not in any transcript):
# " sip"/" qid", " persistent %u" [" mask %s|%i"], " ops", " synproxy", " conn-timeout %u",
# " pp%s", " expire-quiescent", " quic" (UDP only), " dest-check" [" internal:..."][" external:..."],
# dest flags " inhibited" / ",overload", fwd names SNAT/Local, MATCH services.
DPVS_RECONSTRUCTED = (
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    "UDP  10.0.96.204:443 conhash qid ops conn-timeout 30 ppv2 expire-quiescent quic "
    "dest-check internal:default external:udp,ping\n"
    "  -> 192.168.229.1:443            FullNat 1      0          0          inhibited,overload\n"
    "  -> 192.168.229.2:443            FullNat 1      2          0          overload\n"
    "  -> 192.168.229.3:443            FullNat 1      0          0          inhibited\n"
    "TCP  10.0.96.205:80 mh ppv1-insecure dest-check internal:2,3s\n"
    "  -> 192.168.229.4:80             Local   1      0          0         \n"
    "TCP  [2001:db8::204]:443 wrr persistent 60 mask 64 dest-check internal:1,2,5s,10-600s\n"
    "MATCH tcp,from=192.168.100.0-192.168.100.254:0-0,oif=dpdk1 rr\n"
    "  -> 10.0.96.1:0                  SNAT    100    0          0         \n"
)


def test_dpvs_flags_and_dest_flags():
    parsed = P.parse_list(DPVS_RECONSTRUCTED)
    assert parsed["version"] is None
    udp, tcp, v6, snat = parsed["services"]
    assert udp["flags"] == {
        "hash_target": "qid",
        "persistent": None,
        "netmask": None,
        "pe": None,
        "sched_flags": [],
        "ops": True,
        "synproxy": False,
        "conn_timeout": 30,
        "proxy_protocol": "v2",
        "expire_quiescent": True,
        "quic": True,
        "dest_check": "internal:default external:udp,ping",
    }
    assert [(r["inhibited"], r["overload"]) for r in udp["real_servers"]] == [
        (True, True),
        (False, True),
        (True, False),
    ]
    assert udp["real_servers"][1]["active_conns"] == 2
    assert tcp["flags"]["proxy_protocol"] == "v1-insecure" and tcp["flags"]["dest_check"] == "internal:2,3s"
    assert tcp["real_servers"][0]["forward"] == "local"
    assert (v6["flags"]["persistent"], v6["flags"]["netmask"]) == (60, "64")
    assert v6["flags"]["dest_check"] == "internal:1,2,5s,10-600s" and v6["real_servers"] == []
    assert snat["protocol"] == "match" and snat["match"].startswith("tcp,from=192.168.100.0")
    assert (snat["vip"], snat["port"], snat["family"]) == (None, None, None)
    assert snat["real_servers"][0]["forward"] == "snat" and snat["real_servers"][0]["weight"] == 100
    assert render_list(parsed) == data_lines(DPVS_RECONSTRUCTED)


def test_v18_conn_timeout_spelling():
    svc = P.parse_list("TCP  10.0.96.204:443 rr synproxy conn_timeout 90\n")["services"][0]
    assert svc["flags"]["conn_timeout"] == 90 and svc["flags"]["synproxy"] is True


def test_stats_after_traffic_and_ipv6():
    parsed = P.parse_list_stats(transcripts.load("184-ipvsadm-ln-stats-after-traffic.txt").stdout)
    svc = parsed["services"][0]
    assert [svc[f] for f in P.STATS_FIELDS] == [5, 25, 25, 1475, 1490] and svc["exact"] is True
    assert [(r["ip"], r["port"], r["conns"], r["inbytes"]) for r in svc["real_servers"]] == [
        ("192.168.229.1", 80, 5, 1475),
        ("192.168.229.2", 8080, 0, 0),
    ]
    v6 = P.parse_list_stats(transcripts.load("159-ipvsadm-ln-stats-ipv6.txt").stdout)["services"][0]
    assert (v6["vip"], v6["family"], v6["real_servers"][0]["ip"]) == ("2001:db8::204", "inet6", "2001:db8::10")


def test_rate_and_thresholds_and_persistent():
    rate = P.parse_list_rate(transcripts.load("75-ipvsadm-ln-rate.txt").stdout)["services"][0]
    assert rate["cps"] == 0 and rate["bps_limit_mbps"] is None and len(rate["real_servers"]) == 2
    th = P.parse_list_thresholds(transcripts.load("76-ipvsadm-ln-thresholds.txt").stdout)["services"][0]
    assert th["scheduler"] == "rr"
    assert [(r["ip"], r["port"], r["u_threshold"], r["l_threshold"]) for r in th["real_servers"]] == [
        ("192.168.229.1", 80, 0, 0),
        ("192.168.229.2", 8080, 1000, 100),
    ]
    pc = P.parse_list_persistent(transcripts.load("77-ipvsadm-ln-persistent-conn.txt").stdout)["services"][0]
    assert [(r["weight"], r["persist_conns"], r["active_conns"]) for r in pc["real_servers"]] == [(1, 0, 0), (5, 0, 0)]


def test_dpvs_rate_limit_suffix():
    text = (
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
        "  -> RemoteAddress:Port\n"
        "TCP  10.0.96.204:80 bps 100M              3        4        5        6        7\n"
    )
    svc = P.parse_list_rate(text)["services"][0]
    assert svc["bps_limit_mbps"] == 100 and [svc[f] for f in P.RATE_FIELDS] == [3, 4, 5, 6, 7]


def test_laddrs_hash_order_and_conns():
    parsed = P.parse_laddrs(transcripts.load("106-ipvsadm-G-after-restore.txt").stdout)
    assert [(s["vip"], s["port"], s["total"]) for s in parsed] == [
        ("10.0.96.204", 80, 2),
        ("10.0.96.212", 443, 0),
        ("10.0.96.210", 443, 1),
        ("10.0.96.211", 443, 0),
    ]
    assert [lip["ip"] for lip in parsed[0]["laddrs"]] == ["192.168.229.204", "192.168.229.205"]
    after = P.parse_laddrs(transcripts.load("186-ipvsadm-G-svc-after-traffic.txt").stdout)
    assert [(lip["ip"], lip["conns"]) for lip in after[0]["laddrs"]] == [("192.168.229.204", 3), ("192.168.229.205", 2)]
    assert P.parse_laddrs(transcripts.load("212-ipvsadm-G-after-C.txt").stdout) == []
    # long IPv6 VIPs overflow the 20-character column
    long_v6 = (
        "[2001:db8:1234:5678::204]:8080 1        \n                              2001:db8::9          0          0\n"
    )
    assert P.parse_laddrs(long_v6)[0]["vip"] == "2001:db8:1234:5678::204"


def test_save_is_lossy_but_parsed():
    rules = P.parse_save(transcripts.load("90-ipvsadm-S-n.txt").stdout)
    assert [
        (r["op"], r["vip"], r["port"], r["scheduler"], r["rs_ip"], r["rs_port"], r["forward"], r["weight"])
        for r in rules
    ] == [
        ("-A", "10.0.96.204", 80, "rr", None, None, None, None),
        ("-a", "10.0.96.204", 80, None, "192.168.229.1", 80, "fullnat", 1),
        ("-a", "10.0.96.204", 80, None, "192.168.229.2", 8080, "fullnat", 5),
    ]
    named = P.parse_save(transcripts.load("91-ipvsadm-S.txt").stdout)
    assert [(r["port"], r["rs_port"]) for r in named] == [(80, None), (80, 80), (80, 8080)]
    assert P.parse_save(transcripts.load("214-ipvsadm-S-n-empty.txt").stdout) == []
    # the README's -S excerpt: -p/-M and a NAT64 RS
    readme = P.parse_save(
        "-A -u 10.0.96.204:53 -s wlc -p 300 -M 255.255.255.0\n"
        "-A -t [2001:db8::204]:8080 -s rr\n"
        "-a -t [2001:db8::204]:8080 -r 192.168.229.1:80 -b -w 1\n"
    )
    assert (readme[0]["protocol"], readme[0]["persistent"], readme[0]["netmask"]) == ("udp", 300, "255.255.255.0")
    assert (readme[1]["vip"], readme[1]["family"]) == ("2001:db8::204", "inet6")
    assert (readme[2]["rs_ip"], readme[2]["forward"]) == ("192.168.229.1", "fullnat")


def test_blocklist_allowlist_and_connections():
    assert P.parse_blocklist(transcripts.load("162-ipvsadm-get-blklst.txt").stdout) == [
        {"protocol": "tcp", "vip": "10.0.96.204", "port": 80, "address": "10.0.96.99"}
    ]
    assert P.parse_allowlist(transcripts.load("165-ipvsadm-get-whtlst.txt").stdout) == [
        {"protocol": "tcp", "vip": "10.0.96.210", "port": 443, "address": "10.0.96.10"}
    ]
    with pytest.raises(P.ParseError):  # a whitelist is not a blacklist
        P.parse_blocklist(transcripts.load("165-ipvsadm-get-whtlst.txt").stdout)
    conns = P.parse_connections(transcripts.load("183-ipvsadm-lnc-after-traffic.txt").stdout)
    assert len(conns) == 5
    assert conns[0] == {
        "lcore": 1,
        "protocol": "tcp",
        "expire": 7,
        "state": "TIME_WAIT",
        "client": {"ip": "10.0.96.10", "port": 45930},
        "virtual": {"ip": "10.0.96.204", "port": 80},
        "local": {"ip": "192.168.229.204", "port": 1027},
        "dest": {"ip": "192.168.229.1", "port": 80},
    }
    assert {c["local"]["ip"] for c in conns} == {"192.168.229.204", "192.168.229.205"}


@pytest.mark.parametrize(
    "text",
    [
        "TCP  10.0.96.204:80 rr bogusflag\n",
        "TCP  10.0.96.204:80 rr persistent\n",
        "  -> 192.168.229.1:80             FullNat 1      0          0\n",  # RS before any service
        "TCP  10.0.96.204:80 rr\n  -> 192.168.229.1:80             Teleport 1      0          0\n",
        "TCP  10.0.96.204:80 rr\n  -> 192.168.229.1:80             FullNat 1      0\n",
        "TCP  10.0.96.204:80 rr\n  -> 192.168.229.1:80             FullNat 1      0          0          sleepy\n",
        "something else entirely\n",
        "TCP  10.0.96.204:80\n",  # no scheduler
    ],
)
def test_unknown_lines_raise(text):
    with pytest.raises(P.ParseError):
        P.parse_list(text)


def test_other_parsers_raise_on_garbage():
    for func in (P.parse_laddrs, P.parse_save, P.parse_connections, P.parse_blocklist, P.parse_list_stats):
        with pytest.raises(P.ParseError):
            func("what is this\n")
    with pytest.raises(P.ParseError):
        P.parse_list_stats("TCP  10.0.96.204:80    1 2 3 4\n")  # 4 counters, not 5


# ----------------------------------------------------------------------------- kernel fixtures


@pytest.mark.parametrize("name", KERNEL_FIXTURES)
def test_kernel_fixture_says_it_is_reconstructed_and_parses(name):
    header, command, stdout = load_fixture(name)
    assert "RECONSTRUCTED, NOT CAPTURED" in header
    kind = classify(command)
    assert kind is not None, command
    parsed = PARSERS[kind](stdout)
    lines = data_lines(stdout)
    if kind == "save":
        assert len(parsed) == len(lines)
    else:
        assert len(parsed["services"]) + sum(len(s["real_servers"]) for s in parsed["services"]) == len(lines)
        if " -t " not in command:
            assert (parsed["version"], parsed["size"]) == ("1.2.1", 4096)
        else:
            assert parsed["version"] is None


def test_kernel_listing_values():
    parsed = P.parse_list(load_fixture("ipvsadm-ln.txt")[2])
    assert (parsed["version"], parsed["size"]) == ("1.2.1", 4096)
    svcs = parsed["services"]
    keys = [(s["protocol"], s["vip"], s["port"], s["fwmark"], s["family"]) for s in svcs]
    assert keys == [
        ("tcp", "10.0.0.1", 80, None, "inet"),
        ("tcp", "10.0.0.1", 443, None, "inet"),
        ("tcp", "10.0.0.2", 0, None, "inet"),
        ("udp", "10.0.0.1", 53, None, "inet"),
        ("udp", "10.0.0.1", 5060, None, "inet"),
        ("sctp", "10.0.0.1", 3868, None, "inet"),  # "SCTP 10.0.0.1:3868": %-4s, one space
        ("tcp", "2001:db8::1", 80, None, "inet6"),
        ("fwmark", None, None, 5, "inet"),
        ("fwmark", None, None, 6, "inet6"),
    ]
    assert svcs[0]["flags"]["persistent"] == 300
    assert [
        (r["ip"], r["forward"], r["weight"], r["active_conns"], r["inactive_conns"]) for r in svcs[0]["real_servers"]
    ] == [
        ("192.168.1.2", "masq", 1, 0, 0),
        ("192.168.1.3", "masq", 3, 12, 140),
    ]
    assert (svcs[1]["flags"]["persistent"], svcs[1]["flags"]["netmask"]) == (360, "255.255.255.0")
    assert svcs[1]["real_servers"][1]["weight"] == 0 and svcs[1]["real_servers"][0]["forward"] == "dr"
    assert svcs[3]["flags"]["sched_flags"] == ["sh-fallback", "sh-port"] and svcs[3]["flags"]["ops"] is True
    assert (svcs[4]["flags"]["pe"], svcs[4]["flags"]["persistent"], svcs[4]["flags"]["ops"]) == ("sip", 60, True)
    assert svcs[5]["real_servers"][0]["forward"] == "tunnel"
    assert svcs[6]["flags"]["netmask"] == "64"
    assert [(r["ip"], r["forward"]) for r in svcs[6]["real_servers"]] == [
        ("2001:db8:1::2", "masq"),
        ("2001:db8:1::3", "dr"),
        ("192.168.1.7", "tunnel"),  # mixed family: tunnel only
    ]
    assert svcs[8]["flags"]["sched_flags"] == ["mh-fallback", "mh-port"]
    assert svcs[8]["real_servers"][0]["forward"] == "local"
    # no DPVS-only flag is ever set by a kernel listing
    for svc in svcs:
        f = svc["flags"]
        assert not (f["synproxy"] or f["quic"] or f["expire_quiescent"] or f["conn_timeout"] or f["dest_check"])


def test_kernel_large_numbers():
    approx = P.parse_list_stats(load_fixture("ipvsadm-ln-stats.txt")[2])["services"]
    exact = P.parse_list_stats(load_fixture("ipvsadm-ln-stats-exact.txt")[2])["services"]
    a, e = approx[0], exact[0]
    assert [e[f] for f in P.STATS_FIELDS] == [1234567, 99999999, 100000000, 123456789012, 98765432109876543]
    assert e["exact"] is True
    # %8lluK of 100000000 is "100000K"; 123456789012 is "123G"; 98765432109876543 is "98765T"
    assert [a[f] for f in P.STATS_FIELDS] == [1234567, 99999999, 100000000, 123000000000, 98765000000000000]
    assert a["exact"] is False
    assert a["real_servers"][1]["inbytes"] == 456789000 and a["real_servers"][1]["exact"] is False
    assert approx[1]["exact"] is True and approx[1]["conns"] == 5
    assert (approx[3]["protocol"], approx[3]["fwmark"], approx[3]["outbytes"]) == ("fwmark", 5, 11)
    rate = P.parse_list_rate(load_fixture("ipvsadm-ln-rate.txt")[2])["services"]
    assert rate[0]["outbps"] == 98765000000000000 and rate[0]["real_servers"][0]["cps"] == 1234000


def test_kernel_thresholds_and_save():
    th = P.parse_list_thresholds(load_fixture("ipvsadm-ln-thresholds.txt")[2])["services"][0]
    assert th["flags"]["persistent"] == 300
    assert [
        (r["u_threshold"], r["l_threshold"], r["active_conns"], r["inactive_conns"]) for r in th["real_servers"]
    ] == [
        (0, 0, 0, 0),
        (1000, 100, 12, 140),
    ]
    rules = P.parse_save(load_fixture("ipvsadm-S-n.txt")[2])
    services = [r for r in rules if r["op"] == "-A"]
    assert len(services) == 8 and len(rules) == 19
    udp53 = next(r for r in services if r["port"] == 53)
    assert (udp53["scheduler"], udp53["ops"], udp53["sched_flags"]) == ("sh", True, ["sh-fallback", "sh-port"])
    sip = next(r for r in services if r["port"] == 5060)
    assert (sip["pe"], sip["persistent"], sip["ops"]) == ("sip", 60, True)
    sctp = [r for r in rules if r["protocol"] == "sctp"]
    assert sctp[1]["forward"] == "tunnel" and sctp[1]["tun_type"] == "gue"
    fw6 = [r for r in rules if r["fwmark"] == 6]
    assert [(r["family"], r["op"]) for r in fw6] == [("inet6", "-A"), ("inet6", "-a")]
    assert fw6[1]["rs_ip"] == "2001:db8:1::2" and fw6[1]["forward"] == "dr"
    v6 = next(r for r in services if r["family"] == "inet6" and r["protocol"] == "tcp")
    assert (v6["netmask"], v6["persistent"]) == ("64", 120)
    # -b is the scheduler flags on -A lines and never a forwarding method there
    assert all(r["forward"] is None for r in services)
