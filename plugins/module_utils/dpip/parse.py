# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers for ``dpip`` output (DPVS v1.10.2 formats).

Text in, plain data out; no AnsibleModule, no commands. The data shapes are the
contract of ``docs/internals.md`` (section ``_dpip_parse``): every key is always
present, ``None`` where the output has no value.

A line a parser does not recognise raises :class:`ParseError` (a ``ValueError``)
naming the line: dropping data silently would make a planner think an object is
absent and re-add or purge it.

Formats (``tools/dpip/*.c``, observed in the transcripts):

* ``dpip link show``: 3 lines per device, then with ``-s`` three stat blocks and
  with ``-v`` device-info blocks, ``Queue Configuration:`` and ``HW mcast list:``.
* ``dpip addr show``: 2 lines per address; ``-s``/``-v`` add
  ``sa_used N sa_free N sa_miss N`` on sapool addresses, ``-v`` prefixes ``[NN] ``.
* ``dpip route show``: one line per route, ending in ``proto auto `` (trailing space).
* ``dpip -6 route show``: one line per route, optional fields, ``inet6 default``.
* ``dpip neigh show``: one line per entry and lcore; ``mac:incomplate`` (sic).
* ``dpip vlan show``: printed on STDERR.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


class ParseError(ValueError):
    """Output that the parser does not understand. ``line`` is the offending line."""

    def __init__(self, what, line, lineno=None):
        self.what = what
        self.line = line
        self.lineno = lineno
        where = f" (line {lineno})" if lineno is not None else ""
        super(ParseError, self).__init__(f"cannot parse {what} output{where}: {line!r}")


def _lines(text):
    """Split output into lines with trailing whitespace stripped (dpip pads with spaces)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [line.rstrip() for line in (text or "").splitlines()]


def _matches(text, pattern, what):
    """Yield the match of ``pattern`` on every non-empty line; a line it does not match raises ParseError."""
    for lineno, line in enumerate(_lines(text), 1):
        if not line:
            continue
        match = pattern.match(line)
        if not match:
            raise ParseError(what, line, lineno)
        yield match


# --------------------------------------------------------------------------------------------
# dpip link show
# --------------------------------------------------------------------------------------------

# "1: dpdk0: socket 0 mtu 1500 rx-queue 1 tx-queue 1"
LINK_HEADER_RE = re.compile(
    r"^(?P<index>\d+): (?P<name>\S+): socket (?P<socket>-?\d+) mtu (?P<mtu>\d+) "
    r"rx-queue (?P<rxq>\d+) tx-queue (?P<txq>\d+)$"
)
# "    UP 10000 Mbps full-duplex fixed-nego lldp " (status and duplex/nego are optional)
LINK_STATUS_RE = re.compile(
    r"^    (?:(?P<state>UP|DOWN) )?(?P<speed>\d+) Mbps"
    r"(?: (?P<duplex>full|half)-duplex)?(?: (?P<autoneg>fixed|auto)-nego)?(?P<flags>(?: \S+)*)$"
)
# "    addr DA:E5:DF:AE:7C:C9 OF_RX_IP_CSUM OF_TX_IP_CSUM "
LINK_ADDR_RE = re.compile(r"^    addr (?P<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})(?P<offloads>(?: OF_\w+)*)$")
# "    ipackets            opackets            ibytes              obytes              "
# "    5                   1                   350                 78                  "
# (any 4-space indented row of columns: stat blocks of -s, device-info blocks of -v)
LINK_COLUMNS_RE = re.compile(r"^    (?P<cols>\S.*)$")
# "    Queue Configuration:" / "    HW mcast list:" / "    xstats list:" (-v, -s -v)
LINK_SECTION_RE = re.compile(r"^    (?P<section>Queue Configuration|HW mcast list|xstats list):$")
# "    rx0-tx0     cpu1-cpu1                " (under Queue Configuration)
LINK_QUEUE_RE = re.compile(r"^    rx\d+-tx\d+\s+\S.*$")
# "        link 33:33:ff:ae:7c:c9 refcnt 1, synced 0" (under HW mcast list)
LINK_MCAST_RE = re.compile(r"^        link \S+ refcnt \d+, synced \d+$")
# "        0     rx_good_packets: 5" / "        not supported" (under xstats list)
LINK_XSTAT_RE = re.compile(r"^        (?:\d+\s*\S+: \d+|not supported)$")
# "     ... (truncated)"
LINK_TRUNCATED_RE = re.compile(r"^     \.\.\. \(truncated\)$")
# "    --- bonding status ---" then "    mode ...", "    ative/slaves ...", "    slaves: ..."
LINK_BOND_RE = re.compile(r"^    --- bonding status ---$")
LINK_BOND_LINE_RE = re.compile(r"^    (?:mode \d+ |ative/slaves |slaves:)")
# "<< Controll Plane >>" / "1: cpu0: socket 0" / "    queues none" (dpip link show cpu)
LINK_CPU_RE = re.compile(r"^<< .* >>$|^\d+: cpu\d+: socket -?\d+$")

# The stat counters of `dpip -s link show` (dump_nic_stats): column rows with these names
# become the "stats" dict.
LINK_STAT_NAMES = frozenset(
    (
        "ipackets",
        "opackets",
        "ibytes",
        "obytes",
        "ierrors",
        "oerrors",
        "imissed",
        "rx_nombuf",
        "mbuf-avail",
        "mbuf-inuse",
    )
)
# The device-info column names of `dpip -v link show` (dump_nic_verbose): recognised, skipped.
LINK_INFO_NAMES = frozenset(
    (
        "pci_addr",
        "driver_name",
        "if_index",
        "min_rx_bufsize",
        "max_rx_pktlen",
        "max_mac_addrs",
        "max_rx_queues",
        "max_tx_queues",
        "max_hash_addrs",
        "max_vfs",
        "max_vmdq_pools",
        "rx_ol_capa",
        "tx_ol_capa",
        "reta_size",
        "hash_key_size",
        "flowtype_rss_ol",
        "vmdq_que_base",
        "vmdq_que_num",
        "rx_desc_max",
        "rx_desc_min",
        "rx_desc_align",
        "vmdq_pool_base",
        "tx_desc_max",
        "tx_desc_min",
        "tx_desc_align",
        "speed_capa",
    )
)


# The lines a -v sub-listing holds, by section (LINK_SECTION_RE's names, and the bonding status)
LINK_SECTION_LINES = {
    "Queue Configuration": LINK_QUEUE_RE,
    "HW mcast list": LINK_MCAST_RE,
    "xstats list": LINK_XSTAT_RE,
    "bonding": LINK_BOND_LINE_RE,
}


def _new_link(match):
    """A device dict from its header line, the later lines' keys empty."""
    return {
        "index": int(match.group("index")),
        "name": match.group("name"),
        "socket": int(match.group("socket")),
        "mtu": int(match.group("mtu")),
        "rx_queues": int(match.group("rxq")),
        "tx_queues": int(match.group("txq")),
        "state": None,
        "speed_mbps": None,
        "duplex": None,
        "autoneg": None,
        "flags": [],
        "mac": None,
        "offloads": [],
        "stats": None,
    }


class _LinkShowParser:
    """``dpip link show`` line by line: a header, its status and addr lines, then -s/-v blocks."""

    def __init__(self):
        self.links = []
        self.current = None
        self.expect = None  # "status" / "addr" right after a header
        self.section = None  # inside a -v sub-listing
        self.pending_cols = None  # a column header row waiting for its value row

    def feed(self, line, lineno):
        """Take one non-empty line; ParseError when it fits nowhere."""
        match = LINK_HEADER_RE.match(line)
        if match and self.pending_cols is None:
            self.current = _new_link(match)
            self.links.append(self.current)
            self.expect, self.section = "status", None
        elif self.current is None:
            raise ParseError("dpip link show", line, lineno)
        elif self.expect == "status":
            self._status(line, lineno)
        elif self.expect == "addr":
            self._addr(line, lineno)
        elif self.pending_cols is not None:
            self._values(line, lineno)
        elif not self._skipped(line):
            self._columns(line, lineno)

    def finish(self, lineno):
        """The devices; ParseError when the output stops right after a header or a column row."""
        if self.expect is not None or self.pending_cols is not None:
            raise ParseError("dpip link show", "<truncated output>", lineno)
        return self.links

    def _status(self, line, lineno):
        """The line after a header: state, speed, duplex, negotiation, flags."""
        match = LINK_STATUS_RE.match(line)
        if not match:
            raise ParseError("dpip link show", line, lineno)
        self.current["state"] = match.group("state")
        self.current["speed_mbps"] = int(match.group("speed"))
        self.current["duplex"] = match.group("duplex")
        self.current["autoneg"] = match.group("autoneg")
        self.current["flags"] = match.group("flags").split()
        self.expect = "addr"

    def _addr(self, line, lineno):
        """The line after the status: MAC address and offloads."""
        match = LINK_ADDR_RE.match(line)
        if not match:
            raise ParseError("dpip link show", line, lineno)
        self.current["mac"] = match.group("mac").upper()
        self.current["offloads"] = match.group("offloads").split()
        self.expect = None

    def _values(self, line, lineno):
        """The value row of the pending column block (counters into ``stats``)."""
        # as many values as names for counters; device-info rows may have empty cells
        # (pci_addr of a vdev), so only check those
        values = line.split()
        if set(self.pending_cols) <= LINK_STAT_NAMES:
            if len(values) != len(self.pending_cols) or not all(v.isdigit() for v in values):
                raise ParseError("dpip link show", line, lineno)
            if self.current["stats"] is None:
                self.current["stats"] = {}
            for name, value in zip(self.pending_cols, values):
                self.current["stats"][name] = int(value)
        elif not line.startswith("    "):
            raise ParseError("dpip link show", line, lineno)
        self.pending_cols = None

    def _skipped(self, line):
        """Whether ``line`` opens a -v sub-listing or belongs to the one open (recognised, not returned)."""
        match = LINK_SECTION_RE.match(line)
        if match:
            self.section = match.group("section")
            return True
        if LINK_TRUNCATED_RE.match(line):
            return True
        pattern = LINK_SECTION_LINES.get(self.section)
        if pattern is not None and pattern.match(line):
            return True
        if LINK_BOND_RE.match(line):
            self.section = "bonding"
            return True
        return False

    def _columns(self, line, lineno):
        """A column header row of a -s stat block or a -v device-info block."""
        match = LINK_COLUMNS_RE.match(line)
        if not match or not set(match.group("cols").split()) <= (LINK_STAT_NAMES | LINK_INFO_NAMES):
            raise ParseError("dpip link show", line, lineno)
        self.section = None
        self.pending_cols = match.group("cols").split()


def parse_link_show(text):
    """Parse ``dpip [-s|-v] link show [DEV]``; one dict per device (see docs/internals.md).

    ``stats`` is a dict of counters with ``-s`` and ``None`` otherwise. The ``-v``
    blocks (device info, queues, multicast list, xstats, bonding status) are
    recognised and not returned. ``dpip link show cpu`` is a different listing:
    it raises :class:`ParseError`.
    """
    parser = _LinkShowParser()
    lines = _lines(text)
    for lineno, line in enumerate(lines, 1):
        if line:
            parser.feed(line, lineno)
    return parser.finish(len(lines))


def is_link_cpu_listing(text):
    """True when ``text`` is ``dpip link show cpu`` output (not parsed, see parse_link_show)."""
    lines = [line for line in _lines(text) if line]
    return bool(lines) and LINK_CPU_RE.match(lines[0]) is not None


# dpip [-s] link show cpu[N] (link.c link_show/link_cpu_show of v1.10.2): a plane title, then per
# lcore "%d: cpu%d: socket %d" and "    queues %s" ("queues none"); -s adds three blocks of
# "    %-20s..." names and "    %-20lu..." values (dump_cpu_stats).
LINK_CPU_PLANE_RE = re.compile(r"^<< (?P<plane>Controll Plane|Data Plane|Isolate RX Lcores) >>$")
LINK_CPU_HEAD_RE = re.compile(r"^(?P<index>\d+): cpu(?P<cpu>\d+): socket (?P<socket>-?\d+)$")
LINK_CPU_QUEUES_RE = re.compile(r"^    queues (?P<queues>\S.*)$")
# dump_cpu_stats's column names
LINK_CPU_STAT_NAMES = frozenset((
    "lcore_loop", "pktburst", "zpktburst", "fpktburst", "z2hpktburst", "h2fpktburst",
    "dropped", "ipackets", "ibytes", "opackets", "obytes",
))  # fmt: skip
# plane title -> (role of its first lcore, role of the next ones): the control plane lists the
# master, then the KNI lcore when there is one
LINK_CPU_ROLES = {
    "Controll Plane": ("master", "kni"),
    "Data Plane": ("worker", "worker"),
    "Isolate RX Lcores": ("isolated_rx", "isolated_rx"),
    None: ("unknown", "unknown"),  # dpip [-s] link show cpuN: one lcore, no title
}


def _cpu_stats(entry, names, line, lineno):
    """The value row of a ``-s`` block of ``link show cpu`` into ``entry["stats"]``."""
    values = line.split()
    if len(values) != len(names) or not all(value.isdigit() for value in values):
        raise ParseError("dpip link show cpu", line, lineno)
    if entry["stats"] is None:
        entry["stats"] = {}
    entry["stats"].update(zip(names, (int(value) for value in values)))


def parse_link_cpu_show(text):
    """Parse ``dpip [-s] link show cpu[N]``; one dict per lcore (see docs/internals.md):
    ``{"cpu": 1, "name": "cpu1", "socket": 0, "role": "master"|"kni"|"worker"|"isolated_rx"|
    "unknown", "queues": ["dpdk0:rx0", ...], "stats": {name: int} | None}`` (stats with -s)."""
    cpus, plane, names, in_plane = [], None, None, 0
    for lineno, line in enumerate(_lines(text), 1):
        if not line:
            continue
        match = LINK_CPU_PLANE_RE.match(line)
        head = LINK_CPU_HEAD_RE.match(line)
        if names is not None and cpus:
            _cpu_stats(cpus[-1], names, line, lineno)
            names = None
        elif match:
            plane, in_plane = match.group("plane"), 0
        elif head:
            roles = LINK_CPU_ROLES[plane]
            cpus.append(
                {
                    "cpu": int(head.group("cpu")),
                    "name": f"cpu{head.group('cpu')}",
                    "socket": int(head.group("socket")),
                    "role": roles[0] if in_plane == 0 else roles[1],
                    "queues": [],
                    "stats": None,
                }
            )
            in_plane += 1
        elif cpus and LINK_CPU_QUEUES_RE.match(line):
            queues = LINK_CPU_QUEUES_RE.match(line).group("queues").split()
            cpus[-1]["queues"] = [] if queues == ["none"] else queues
        elif cpus and line.startswith("    ") and set(line.split()) <= LINK_CPU_STAT_NAMES:
            names = line.split()
        else:
            raise ParseError("dpip link show cpu", line, lineno)
    if names is not None:
        raise ParseError("dpip link show cpu", "<truncated output>", lineno)
    return cpus


# --------------------------------------------------------------------------------------------
# dpip addr show
# --------------------------------------------------------------------------------------------

# "inet 10.0.96.204/32 scope global dpdk0"
# "[01] inet6 2001:db8::204/128 scope global dpdk0" (-v: the lcore id first)
ADDR_LINE1_RE = re.compile(
    r"^(?:\[(?P<cid>\d+)\] )?(?P<family>inet6?) (?P<address>[0-9A-Fa-f:.]+)/(?P<plen>\d+) "
    r"scope (?P<scope>\S+) (?P<dev>\S+)$"
)
# "     valid_lft forever preferred_lft forever sa_used 0 sa_free 1032176 sa_miss 0"
# "    broadcast 10.0.96.255 valid_lft 3600 preferred_lft 3600"
ADDR_LINE2_RE = re.compile(
    r"^    (?:broadcast (?P<broadcast>\S+))? valid_lft (?P<valid>forever|\d+) "
    r"preferred_lft (?P<preferred>forever|\d+)"
    r"(?: sa_used (?P<sa_used>\d+) sa_free (?P<sa_free>\d+) sa_miss (?P<sa_miss>\d+))?$"
)


def _lft(value):
    return value if value == "forever" else int(value)


def parse_addr_show(text, sapool_visible=None):
    """Parse ``dpip [-s|-v] addr show``; one dict per address (see docs/internals.md).

    The sapool flag is only visible with ``-s``/``-v`` (the ``sa_used ...``
    suffix). ``sapool_visible`` says whether the command had ``-s``/``-v``:
    ``True`` gives ``sapool`` True/False, ``False`` gives ``None``. Left at
    ``None`` it is guessed from the text: ``True`` when any line has the suffix,
    otherwise ``None`` (plain ``addr show`` cannot tell).
    With ``-v`` DPVS lists every address once per lcore, each prefixed with the lcore id
    (``[NN] ``): the prefix is accepted and not returned (the data shape has no key for it),
    so ``-v`` gives one entry per address and lcore. Modules read ``-s``.
    """
    lines = [line for line in _lines(text) if line]
    if len(lines) % 2:
        raise ParseError("dpip addr show", lines[-1], len(lines))
    addrs = []
    any_sa = False
    for index in range(0, len(lines), 2):
        first, second = lines[index], lines[index + 1]
        head = ADDR_LINE1_RE.match(first)
        if not head:
            raise ParseError("dpip addr show", first, index + 1)
        tail = ADDR_LINE2_RE.match(second)
        if not tail:
            raise ParseError("dpip addr show", second, index + 2)
        has_sa = tail.group("sa_used") is not None
        any_sa = any_sa or has_sa
        addrs.append(
            {
                "family": head.group("family"),
                "address": head.group("address").lower(),
                "prefixlen": int(head.group("plen")),
                "scope": head.group("scope"),
                "dev": head.group("dev"),
                "broadcast": tail.group("broadcast"),
                "valid_lft": _lft(tail.group("valid")),
                "preferred_lft": _lft(tail.group("preferred")),
                "sapool": has_sa,
                "sa_used": int(tail.group("sa_used")) if has_sa else None,
                "sa_free": int(tail.group("sa_free")) if has_sa else None,
                "sa_miss": int(tail.group("sa_miss")) if has_sa else None,
            }
        )
    visible = any_sa if sapool_visible is None else sapool_visible
    if not visible:
        for addr in addrs:
            addr["sapool"] = None
    return addrs


# --------------------------------------------------------------------------------------------
# dpip route show / dpip -6 route show
# --------------------------------------------------------------------------------------------

# "inet 172.16.0.0/16 via 10.0.96.1 src 10.0.96.204 dev dpdk0 mtu 1500 tos 0 scope global metric 0 proto auto "
ROUTE4_RE = re.compile(
    r"^inet (?P<dst>[0-9.]+)/(?P<plen>\d+) via (?P<via>[0-9.]+) src (?P<src>[0-9.]+) "
    r"dev (?P<dev>\S+) mtu (?P<mtu>\d+) tos (?P<tos>\d+) scope (?P<scope>\S+) "
    r"metric (?P<metric>\d+) proto (?P<proto>\S+)(?: onlink)?$"
)
# "inet6 2001:db8:2::/64 via 2001:db8::1 dev dpdk0 mtu 1500 scope global"
# "inet6 2001:db8::/64 src 2001:db8::205 dev dpdk0 mtu 1500 scope link"
# "inet6 default via 2001:db8::1 dev dpdk0 scope global" (mtu only when > 0)
ROUTE6_RE = re.compile(
    r"^inet6 (?:(?P<default>default)|(?P<dst>[0-9A-Fa-f:.]+)/(?P<plen>\d+))"
    r"(?: via (?P<via>[0-9A-Fa-f:.]+))?(?: src (?P<src>[0-9A-Fa-f:.]+))? dev (?P<dev>\S+)"
    r"(?: mtu (?P<mtu>\d+))? scope (?P<scope>\S+)$"
)

IPV4_ANY = "0.0.0.0"
IPV6_ANY = "::"


def parse_route_show(text):
    """Parse ``dpip route show`` (IPv4); one dict per route (see docs/internals.md).

    ``via``/``src`` of ``0.0.0.0`` become ``None``; the default route is
    ``0.0.0.0/0``.
    """
    routes = []
    for match in _matches(text, ROUTE4_RE, "dpip route show"):
        via, src = match.group("via"), match.group("src")
        routes.append(
            {
                "family": "inet",
                "prefix": "{}/{}".format(match.group("dst"), match.group("plen")),
                "via": None if via == IPV4_ANY else via,
                "src": None if src == IPV4_ANY else src,
                "dev": match.group("dev"),
                "mtu": int(match.group("mtu")),
                "tos": int(match.group("tos")),
                "scope": match.group("scope"),
                "metric": int(match.group("metric")),
                "proto": match.group("proto"),
            }
        )
    return routes


def parse_route6_show(text):
    """Parse ``dpip -6 route show``; one dict per route (see docs/internals.md).

    ``inet6 default`` becomes ``::/0``; absent fields (via, src, mtu) are
    ``None``; IPv6 lines show no tos, metric or proto (``None``).
    """
    routes = []
    for match in _matches(text, ROUTE6_RE, "dpip -6 route show"):
        prefix = "::/0" if match.group("default") else "{}/{}".format(match.group("dst").lower(), match.group("plen"))
        via, src = match.group("via"), match.group("src")
        routes.append(
            {
                "family": "inet6",
                "prefix": prefix,
                "via": via.lower() if via and via != IPV6_ANY else None,
                "src": src.lower() if src and src != IPV6_ANY else None,
                "dev": match.group("dev"),
                "mtu": int(match.group("mtu")) if match.group("mtu") else None,
                "tos": None,
                "scope": match.group("scope"),
                "metric": None,
                "proto": None,
            }
        )
    return routes


# --------------------------------------------------------------------------------------------
# dpip neigh show
# --------------------------------------------------------------------------------------------

# "ip: 10.0.96.77          mac: 02:00:00:00:00:77   state: REACHABLE     dev: dpdk0  core: 1  static"
# "ip: 10.0.96.78          mac:incomplate                       state: INCOMPLETE    dev: dpdk0  core: 1"
NEIGH_RE = re.compile(
    r"^ip: (?P<ip>[0-9A-Fa-f:.]+)\s+mac:(?: (?P<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})|incomplate)"
    r"\s+state: (?P<state>\S+)\s+dev: (?P<dev>\S+)\s+core: (?P<core>\d+)(?:\s+(?P<static>static))?$"
)


def parse_neigh_show(text):
    """Parse ``dpip [-6] neigh show``; one dict per entry and lcore (see docs/internals.md)."""
    neighbours = []
    for match in _matches(text, NEIGH_RE, "dpip neigh show"):
        mac = match.group("mac")
        neighbours.append(
            {
                "ip": match.group("ip").lower(),
                "mac": mac.lower() if mac else None,
                "state": match.group("state"),
                "dev": match.group("dev"),
                "core": int(match.group("core")),
                "static": match.group("static") is not None,
            }
        )
    return neighbours


# --------------------------------------------------------------------------------------------
# dpip vlan show (STDERR)
# --------------------------------------------------------------------------------------------

# "dpdk0.100 link dpdk0 proto 802.1q id 100" (printed on stderr)
VLAN_RE = re.compile(r"^(?P<name>\S+) link (?P<link>\S+) proto (?P<proto>\S+) id (?P<id>\d+)$")


def parse_vlan_show(stderr_text):
    """Parse the STDERR of ``dpip vlan show NAME|link DEV``; one dict per VLAN device."""
    vlans = []
    for match in _matches(stderr_text, VLAN_RE, "dpip vlan show"):
        vlans.append(
            {
                "name": match.group("name"),
                "link": match.group("link"),
                "proto": match.group("proto"),
                "id": int(match.group("id")),
            }
        )
    return vlans
