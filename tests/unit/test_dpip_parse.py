"""dpip parsers against every DPVS v1.10.2 transcript whose output they read.

The transcripts are discovered from SEQUENCE.tsv by command (never hand-picked):
each listing command that exited 0 is parsed, its entries are counted against the
lines of that kind, and every entry is rendered back with dpip's own printf format
and found in the output (a round trip). Concrete values are pinned for the
transcripts the README quotes.
"""

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import transcripts
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import parse as P

LINK = transcripts.find(r"dpip(?: -[sv])* link show(?: (?!cpu)\S+)?")
LINK_CPU = transcripts.find(r"dpip(?: -[sv])* link show cpu(?: \S+)?")
ADDR = transcripts.find(r"dpip(?: -[sv46])* addr show(?: dev \S+)?")
ROUTE4 = transcripts.find(r"dpip(?: -4)? route show")
ROUTE6 = transcripts.find(r"dpip -6 route show|dpip route -6 show")
NEIGH = transcripts.find(r"dpip(?: -[46])? neigh show(?: dev \S+)?")
VLAN = transcripts.find(r"dpip vlan show(?: link)? \S+(?: id \d+)?")


def test_discovery_found_the_listings():
    # a broken discovery (renamed files, a changed regex) must not pass as "0 cases"
    assert len(LINK) >= 6 and "01-dpip-link-show.txt" in LINK and "25x-vdev-net_tap0-dpip-link-show.txt" in LINK
    assert LINK_CPU == ["04-dpip-link-show-cpu.txt"]
    assert len(ADDR) >= 13 and "88-dpip-s-addr-show.txt" in ADDR
    assert {"05b-dpip-route-show-empty.txt", "16-dpip-route-show.txt", "89-dpip-route-show-with-laddr.txt"} <= set(
        ROUTE4
    )
    assert {"05c-dpip-6-route-show-initial.txt", "35-dpip-6-route-show.txt"} <= set(ROUTE6)
    assert {"40-dpip-neigh-show-empty.txt", "43-dpip-neigh-show.txt", "187-dpip-neigh-show-after-traffic.txt"} <= set(
        NEIGH
    )
    assert {"52-dpip-vlan-show-name.txt", "53-dpip-vlan-show-link.txt", "59b-dpip-vlan-show-link-after.txt"} <= set(
        VLAN
    )


def test_transcript_loader_is_byte_exact():
    t = transcripts.load("01-dpip-link-show.txt")
    assert t.command == "dpip link show" and t.exit_code == 0 and t.stderr == ""
    assert len(t.stdout.encode()) == 125
    assert t.stdout.endswith("addr DA:E5:DF:AE:7C:C9 \n")
    seq = transcripts.sequence()
    assert seq[0] == ("00-daemon-down-dpip-link-show.txt", 1, "dpip link show")
    for entry in seq:
        loaded = transcripts.load(entry.file)
        assert loaded.command == entry.command and loaded.exit_code == entry.exit_code


def printf(fmt, *args):
    """C printf through Python's %: the renderers copy dpip's own format strings."""
    return fmt % args


# ----------------------------------------------------------------------------- link


def _render_link(link):
    """dump_nic_basic's three lines (trailing spaces stripped)."""
    status = []
    if link["state"]:
        status.append(link["state"])
    status.append(f"{link['speed_mbps']} Mbps")
    if link["duplex"]:
        status.append(link["duplex"] + "-duplex")
    if link["autoneg"]:
        status.append(link["autoneg"] + "-nego")
    status.extend(link["flags"])
    return [
        printf(
            "%d: %s: socket %d mtu %d rx-queue %d tx-queue %d",
            link["index"], link["name"], link["socket"], link["mtu"], link["rx_queues"], link["tx_queues"],
        ),
        "    " + " ".join(status),
        "    " + " ".join(["addr", link["mac"]] + link["offloads"]),
    ]


@pytest.mark.parametrize("name", LINK)
def test_link_show_round_trip(name):
    t = transcripts.load(name)
    links = P.parse_link_show(t.stdout)
    lines = [line.rstrip() for line in t.stdout.splitlines()]
    assert len(links) == len([line for line in lines if re.match(r"^\d+: ", line)])
    assert links, "every link listing shows at least one port"
    for link in links:
        first = _render_link(link)
        start = lines.index(first[0])
        assert lines[start:start + 3] == first
        assert (link["stats"] is not None) == (" -s " in f" {t.command} ")


LINK_EXPECT = {
    "01-dpip-link-show.txt": [
        {"index": 1, "name": "dpdk0", "socket": 0, "mtu": 1500, "rx_queues": 1, "tx_queues": 1, "state": "UP",
         "speed_mbps": 10000, "duplex": "full", "autoneg": "fixed", "flags": ["lldp"], "mac": "DA:E5:DF:AE:7C:C9",
         "offloads": [], "stats": None}
    ],
}


def test_link_show_values():
    assert P.parse_link_show(transcripts.load("01-dpip-link-show.txt").stdout) == LINK_EXPECT["01-dpip-link-show.txt"]
    two = P.parse_link_show(transcripts.load("55-dpip-link-show-with-vlan.txt").stdout)
    assert [(link["index"], link["name"], link["flags"]) for link in two] == [
        (1, "dpdk0", ["lldp"]), (2, "dpdk0.100", []),
    ]
    stats = P.parse_link_show(transcripts.load("02-dpip-s-link-show-dpdk0.txt").stdout)[0]["stats"]
    assert stats == {"ipackets": 5, "opackets": 1, "ibytes": 350, "obytes": 78, "ierrors": 0, "oerrors": 0,
                     "imissed": 0, "rx_nombuf": 0, "mbuf-avail": 16383, "mbuf-inuse": 0}
    tap = P.parse_link_show(transcripts.load("25x-vdev-net_tap0-dpip-link-show.txt").stdout)[0]
    assert tap["offloads"] == ["OF_RX_IP_CSUM", "OF_TX_IP_CSUM", "OF_TX_TCP_CSUM", "OF_TX_UDP_CSUM"]
    assert tap["mac"] == "FA:97:A1:B0:E6:EE" and tap["stats"] is None
    ring = P.parse_link_show(transcripts.load("25x-vdev-net_ring0-dpip-link-show.txt").stdout)[0]
    assert ring["state"] == "DOWN" and ring["flags"] == ["promisc", "allmulticast", "lldp"]


@pytest.mark.parametrize("name", LINK_CPU)
def test_link_show_cpu_is_not_a_port_listing(name):
    text = transcripts.load(name).stdout
    assert P.is_link_cpu_listing(text)
    assert not P.is_link_cpu_listing(transcripts.load("01-dpip-link-show.txt").stdout)
    with pytest.raises(P.ParseError):
        P.parse_link_show(text)


def test_link_show_unknown_line_raises():
    text = transcripts.load("01-dpip-link-show.txt").stdout
    with pytest.raises(P.ParseError) as err:
        P.parse_link_show(text + "garbage\n")
    assert "garbage" in str(err.value)
    with pytest.raises(P.ParseError):
        P.parse_link_show("1: dpdk0: socket 0 mtu 1500 rx-queue 1 tx-queue 1\n    weird status\n")
    with pytest.raises(P.ParseError) as err:  # an indented row that is no known block
        P.parse_link_show(transcripts.load("01-dpip-link-show.txt").stdout + "    new_counter\n    1\n")
    assert "new_counter" in str(err.value)
    with pytest.raises(P.ParseError):  # header without its status/addr lines
        P.parse_link_show("1: dpdk0: socket 0 mtu 1500 rx-queue 1 tx-queue 1\n")


def test_link_show_status_without_duplex_and_xstats():
    text = (
        "3: bond0: socket 1 mtu 9000 rx-queue 8 tx-queue 8\n"
        "    DOWN 0 Mbps promisc foward2kni tc-egress \n"
        "    addr 02:00:00:00:00:01 OF_TX_FAST_FREE \n"
        "    xstats list:\n"
        "        0     rx_good_packets: 5\n"
        "    --- bonding status ---\n"
        "    mode 4 mac_addr 02:00:00:00:00:01 xmit_policy l34 link_monitor 100ms\n"
        "    ative/slaves 2/2 link_down_prop_delay 0ms link_up_prop_delay 0ms\n"
        "    slaves: dpdk0(02:00:00:00:00:01, active, primary) dpdk1(02:00:00:00:00:02, active) \n"
    )
    (link,) = P.parse_link_show(text)
    assert link["state"] == "DOWN" and link["speed_mbps"] == 0 and link["duplex"] is None
    assert link["autoneg"] is None and link["flags"] == ["promisc", "foward2kni", "tc-egress"]
    assert link["offloads"] == ["OF_TX_FAST_FREE"] and link["socket"] == 1 and link["mtu"] == 9000


# ----------------------------------------------------------------------------- addr


def _render_addr(addr, cid=None):
    first = printf(
        "%s %s/%d scope %s %s", addr["family"], addr["address"], addr["prefixlen"], addr["scope"], addr["dev"]
    )
    if cid is not None:
        first = printf("[%02d] %s", cid, first)
    bcast = "broadcast {}".format(addr["broadcast"]) if addr["broadcast"] else ""
    second = "    {} valid_lft {} preferred_lft {}".format(bcast, addr["valid_lft"], addr["preferred_lft"])
    if addr["sapool"]:
        second += printf(" sa_used %d sa_free %d sa_miss %d", addr["sa_used"], addr["sa_free"], addr["sa_miss"])
    return [first, second]


@pytest.mark.parametrize("name", ADDR)
def test_addr_show_round_trip(name):
    t = transcripts.load(name)
    with_stats = bool(re.search(r" -[sv]\b", t.command))
    addrs = P.parse_addr_show(t.stdout, sapool_visible=with_stats)
    lines = [line.rstrip() for line in t.stdout.splitlines()]
    assert len(addrs) == len([line for line in lines if re.match(r"^(?:\[\d+\] )?inet6? ", line)])
    assert sum(1 for a in addrs if a["sapool"]) == t.stdout.count(" sa_used ")
    rendered = []
    for addr in addrs:
        rendered.extend(_render_addr(addr))
        assert addr["sapool"] in ((True, False) if with_stats else (None,))
        assert addr["family"] == ("inet6" if ":" in addr["address"] else "inet")
    assert rendered == lines  # order kept, nothing dropped, nothing invented
    # every port has its automatic IPv6 link-local address
    assert any(a["address"].startswith("fe80::") and a["scope"] == "link" for a in addrs)
    # the guess (no sapool_visible) agrees whenever a sapool address is listed
    if " sa_used " in t.stdout:
        assert P.parse_addr_show(t.stdout) == addrs


def _by_address(addrs):
    return {a["address"]: a for a in addrs}


def test_addr_show_values():
    addrs = _by_address(P.parse_addr_show(transcripts.load("88-dpip-s-addr-show.txt").stdout, sapool_visible=True))
    assert addrs["192.168.229.204"] == {
        "family": "inet", "address": "192.168.229.204", "prefixlen": 32, "scope": "global", "dev": "dpdk0",
        "broadcast": None, "valid_lft": "forever", "preferred_lft": "forever", "sapool": True,
        "sa_used": 0, "sa_free": 1032176, "sa_miss": 0,
    }
    assert addrs["10.0.96.204"]["sapool"] is False and addrs["10.0.96.204"]["sa_free"] is None
    assert addrs["2001:db8::205"]["prefixlen"] == 64 and addrs["2001:db8::205"]["family"] == "inet6"
    assert addrs["fe80::d8e5:dfff:feae:7cc9"]["scope"] == "link"
    after = _by_address(P.parse_addr_show(transcripts.load("188-dpip-s-addr-show-after-traffic.txt").stdout))
    assert (after["192.168.229.204"]["sa_used"], after["192.168.229.204"]["sa_free"]) == (3, 1032173)
    assert after["2001:db8::206"]["sapool"] is True  # DPVS accepts sapool on IPv6 addresses
    plain = P.parse_addr_show(transcripts.load("87-dpip-addr-show-with-sapool.txt").stdout)
    assert {a["sapool"] for a in plain} == {None}  # plain `addr show` cannot show the flag
    assert P.parse_addr_show("") == []


def test_addr_show_broadcast_verbose_and_numeric_lft():
    text = (
        "[00] inet 10.0.96.204/24 scope global dpdk0\n"
        "    broadcast 10.0.96.255 valid_lft 3600 preferred_lft 1800 sa_used 1 sa_free 2 sa_miss 3\n"
        "[01] inet6 2001:DB8::1/64 scope 200 dpdk1.100\n"
        "     valid_lft forever preferred_lft forever\n"
    )
    first, second = P.parse_addr_show(text)
    assert first["broadcast"] == "10.0.96.255" and first["valid_lft"] == 3600 and first["preferred_lft"] == 1800
    assert (first["sapool"], first["sa_used"], first["sa_free"], first["sa_miss"]) == (True, 1, 2, 3)
    assert second["address"] == "2001:db8::1" and second["scope"] == "200" and second["dev"] == "dpdk1.100"
    assert second["sapool"] is False


@pytest.mark.parametrize(
    "text",
    [
        "inet 10.0.96.204/32 scope global dpdk0\n",  # half an entry
        "inet 10.0.96.204/32 scope global dpdk0\n     valid_lft forever\n",
        "inet 10.0.96.204 scope global dpdk0\n     valid_lft forever preferred_lft forever\n",
        "inet 10.0.96.204/32 scope global dpdk0\n     valid_lft forever preferred_lft forever sa_used 1\n",
        "something else\n     valid_lft forever preferred_lft forever\n",
    ],
)
def test_addr_show_unknown_lines_raise(text):
    with pytest.raises(P.ParseError):
        P.parse_addr_show(text)
    assert issubclass(P.ParseError, ValueError)


# ----------------------------------------------------------------------------- routes


def _render_route4(route):
    net, plen = route["prefix"].split("/")
    return printf(
        "inet %s/%s via %s src %s dev %s mtu %d tos %d scope %s metric %d proto %s",
        net, plen, route["via"] or "0.0.0.0", route["src"] or "0.0.0.0", route["dev"], route["mtu"],
        route["tos"], route["scope"], route["metric"], route["proto"],
    )


def _render_route6(route):
    text = "inet6 default" if route["prefix"] == "::/0" else "inet6 " + route["prefix"]
    if route["via"]:
        text += " via " + route["via"]
    if route["src"]:
        text += " src " + route["src"]
    text += " dev " + route["dev"]
    if route["mtu"]:
        text += printf(" mtu %d", route["mtu"])
    return text + " scope " + route["scope"]


@pytest.mark.parametrize("name", ROUTE4)
def test_route_show_round_trip(name):
    t = transcripts.load(name)
    routes = P.parse_route_show(t.stdout)
    lines = [line for line in t.stdout.splitlines() if line.strip()]
    assert len(routes) == len(lines)
    assert all(line.endswith("proto auto ") for line in lines)  # the trailing space dpip prints
    assert [_render_route4(r) for r in routes] == [line.rstrip() for line in lines]
    for route in routes:
        assert route["family"] == "inet" and route["via"] != "0.0.0.0" and route["src"] != "0.0.0.0"


@pytest.mark.parametrize("name", ROUTE6)
def test_route6_show_round_trip(name):
    t = transcripts.load(name)
    routes = P.parse_route6_show(t.stdout)
    lines = [line for line in t.stdout.splitlines() if line.strip()]
    assert len(routes) == len(lines)
    assert [_render_route6(r) for r in routes] == lines
    assert all(r["family"] == "inet6" and r["metric"] is None and r["tos"] is None for r in routes)


def test_route_values():
    routes = P.parse_route_show(transcripts.load("16-dpip-route-show.txt").stdout)
    assert routes[0] == {
        "family": "inet", "prefix": "10.0.96.204/32", "via": None, "src": None, "dev": "dpdk0", "mtu": 1500,
        "tos": 0, "scope": "host", "metric": 0, "proto": "auto",
    }
    assert [(r["prefix"], r["scope"]) for r in routes] == [
        ("10.0.96.204/32", "host"), ("10.0.96.0/24", "link"), ("192.168.229.0/24", "link"),
    ]
    assert P.parse_route_show(transcripts.load("05b-dpip-route-show-empty.txt").stdout) == []
    six = P.parse_route6_show(transcripts.load("35-dpip-6-route-show.txt").stdout)
    by_prefix = {r["prefix"]: r for r in six}
    assert by_prefix["2001:db8:2::/64"]["via"] == "2001:db8::1" and by_prefix["2001:db8:2::/64"]["scope"] == "global"
    assert by_prefix["2001:db8::/64"]["src"] == "2001:db8::205" and by_prefix["2001:db8::/64"]["via"] is None
    assert by_prefix["2001:db8::204/128"]["scope"] == "host" and by_prefix["2001:db8::204/128"]["mtu"] == 1500


def test_route_defaults_and_readme_lines():
    # README §2.3 (observed 25): the IPv4 default route and via/src
    text = (
        "inet 172.16.0.0/16 via 10.0.96.1 src 10.0.96.204 dev dpdk0 mtu 1500 tos 0 scope global metric 0 proto auto \n"
        "inet 0.0.0.0/0 via 10.0.96.1 src 0.0.0.0 dev dpdk0 mtu 1500 tos 0 scope global metric 0 proto auto \n"
    )
    net, default = P.parse_route_show(text)
    assert (net["via"], net["src"], net["scope"]) == ("10.0.96.1", "10.0.96.204", "global")
    assert (default["prefix"], default["via"], default["src"]) == ("0.0.0.0/0", "10.0.96.1", None)
    (six,) = P.parse_route6_show("inet6 default via 2001:db8::1 dev dpdk0 scope global\n")
    assert (six["prefix"], six["via"], six["mtu"]) == ("::/0", "2001:db8::1", None)


@pytest.mark.parametrize(
    "parser,text",
    [
        (P.parse_route_show, "inet 10.0.96.0/24 dev dpdk0 scope link\n"),
        (P.parse_route_show, "inet6 2001:db8::/64 dev dpdk0 mtu 1500 scope link\n"),
        (P.parse_route_show, "inet 10.0.96.0/24 via 0.0.0.0 src 0.0.0.0 dev dpdk0 mtu 1500 tos 0 scope link\n"),
        (P.parse_route6_show, "inet 10.0.96.0/24 via 0.0.0.0 src 0.0.0.0 dev dpdk0 mtu 1500 tos 0 scope link "
                              "metric 0 proto auto \n"),
        (P.parse_route6_show, "inet6 2001:db8::/64 dev dpdk0 mtu 1500\n"),
    ],
)
def test_route_unknown_lines_raise(parser, text):
    with pytest.raises(P.ParseError) as err:
        parser(text)
    assert err.value.lineno == 1


# ----------------------------------------------------------------------------- neigh


def _render_neigh(entry):
    if entry["mac"]:
        return printf(
            "ip: %-48s mac: %s   state: %-12s  dev: %s  core: %d  %s",
            entry["ip"], entry["mac"], entry["state"], entry["dev"], entry["core"],
            "static" if entry["static"] else "",
        )
    return printf(
        "ip: %-48s mac:incomplate                       state: %-12s   dev: %s  core: %d  %s",
        entry["ip"], entry["state"], entry["dev"], entry["core"], "static" if entry["static"] else "",
    )


@pytest.mark.parametrize("name", NEIGH)
def test_neigh_show_round_trip(name):
    t = transcripts.load(name)
    entries = P.parse_neigh_show(t.stdout)
    lines = t.stdout.splitlines()
    assert len(entries) == len([line for line in lines if line.startswith("ip: ")])
    assert [_render_neigh(e) for e in entries] == lines  # byte-exact, trailing spaces included


def test_neigh_values_and_incomplete():
    entries = P.parse_neigh_show(transcripts.load("187-dpip-neigh-show-after-traffic.txt").stdout)
    assert entries[0] == {"ip": "192.168.229.1", "mac": "e2:1b:08:55:5c:d8", "state": "REACHABLE", "dev": "dpdk0",
                          "core": 1, "static": False}
    assert entries[2]["ip"] == "2001:db8::77" and entries[2]["static"] is True
    line = _render_neigh({"ip": "10.0.96.78", "mac": None, "state": "INCOMPLETE", "dev": "dpdk0", "core": 2,
                          "static": False})
    assert "mac:incomplate" in line
    (entry,) = P.parse_neigh_show(line + "\n")
    assert entry == {"ip": "10.0.96.78", "mac": None, "state": "INCOMPLETE", "dev": "dpdk0", "core": 2,
                     "static": False}
    with pytest.raises(P.ParseError):
        P.parse_neigh_show("ip: 10.0.96.78 mac: zz state: REACHABLE dev: dpdk0 core: 1\n")


# ----------------------------------------------------------------------------- vlan


@pytest.mark.parametrize("name", VLAN)
def test_vlan_show_round_trip(name):
    t = transcripts.load(name)
    assert t.stdout == ""  # dpip vlan show prints on stderr
    vlans = P.parse_vlan_show(t.stderr)
    lines = [line for line in t.stderr.splitlines() if line.strip()]
    assert len(vlans) == len(lines)
    assert [printf("%s link %s proto %s id %d", v["name"], v["link"], v["proto"], v["id"]) for v in vlans] == lines


def test_vlan_values():
    assert P.parse_vlan_show(transcripts.load("52-dpip-vlan-show-name.txt").stderr) == [
        {"name": "dpdk0.100", "link": "dpdk0", "proto": "802.1q", "id": 100}
    ]
    assert P.parse_vlan_show(transcripts.load("59d-dpip-vlan-show-link-after.txt").stderr)[0]["id"] == 200
    assert P.parse_vlan_show(transcripts.load("59b-dpip-vlan-show-link-after.txt").stderr) == []
    # the error text of `dpip vlan show` without arguments is not a listing
    with pytest.raises(P.ParseError):
        P.parse_vlan_show(transcripts.load("54-dpip-vlan-show-noargs.txt").stderr)
