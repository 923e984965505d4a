# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers for ipvsadm output: DPVS (v1.10.2) and Linux kernel (ipvsadm 1.31) flavours.

Text in, plain data out; the shapes are documented in docs/internals.md (``_ipvsadm_parse``).
The formats come from the DPVS transcripts (tools/ipvsadm/ipvsadm.c of DPVS v1.10.2) and from
the format strings of the kernel ipvsadm 1.31 (``print_title``/``print_service_entry``):

* service lines: DPVS ``"%s  %s"`` (``TCP  10.0.96.204:80``), kernel ``"%-4s %s"`` (so
  ``SCTP 10.0.0.1:80`` has one space), then `` <scheduler>`` and the flags;
* real server lines: ``"  -> %-28s %-7s %-6d %-10u %-10u"`` (+ DPVS `` inhibited``/``,overload``);
* IPv6 addresses are bracketed (``[2001:db8::204]:80``), fwmark services are ``FWM  5`` or
  ``FWM  5 IPv6``, DPVS SNAT match services are ``MATCH tcp,from=...``.

A line that matches nothing raises :class:`ParseError`: a table that is only half understood
must not be planned against.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import ipaddress
import re
import shlex
import socket


class ParseError(ValueError):
    """ipvsadm printed a line this parser does not understand."""

    def __init__(self, line, what="ipvsadm output"):
        self.line = line
        super(ParseError, self).__init__(f"cannot parse {what} line: {line!r}")


# "IP Virtual Server version 1.10.2 (size=0)"      (DPVS: the daemon version)
# "IP Virtual Server version 1.2.1 (size=4096)"    (Linux kernel IPVS)
VERSION_RE = re.compile(r"^IP Virtual Server version (?P<version>\d+\.\d+\.\d+) \(size=(?P<size>\d+)\)\s*$")

# "Prot LocalAddress:Port Scheduler Flags"
# "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes"
TITLE_RE = re.compile(r"^Prot LocalAddress:Port\b")

# "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"
# "  -> RemoteAddress:Port"
RS_TITLE_RE = re.compile(r"^  -> RemoteAddress:Port\b")

# "TCP  10.0.96.204:80 rr persistent 300"      "TCP  [2001:db8::204]:80 rr"
# "SCTP 10.0.0.1:3868 sh (sh-fallback,sh-port)" (kernel)   "TCP  10.0.96.204:http rr" (no -n)
# "TCP  10.0.96.204:80                      5       25       25     1475     1490" (--stats)
SERVICE_RE = re.compile(
    r"^(?P<proto>TCP|UDP|SCTP|ICMP|ICMPv6)\s+"
    r"(?P<addr>\[[0-9A-Fa-f:.]+\]|[^\s\[\]]+):(?P<port>[^\s:\[\]]+)"
    r"(?:\s+(?P<rest>.*?))?\s*$"
)

# "FWM  5 rr"      "FWM  6 IPv6 wlc persistent 300"
FWM_RE = re.compile(r"^FWM\s+(?P<mark>\d+)(?P<v6> IPv6)?(?:\s+(?P<rest>.*?))?\s*$")

# "MATCH tcp,from=192.168.100.0-192.168.100.254:0-0,oif=dpdk1 rr"   (DPVS SNAT services)
MATCH_RE = re.compile(r"^MATCH (?P<match>\S+)(?:\s+(?P<rest>.*?))?\s*$")

# "  -> 192.168.229.1:80             FullNat 1      0          0         "
# "  -> [2001:db8::10]:80            FullNat 1      0          0          inhibited,overload"
# "  -> 192.168.229.1:80                    5       25       25     1475     1490" (--stats)
RS_RE = re.compile(
    r"^  -> (?P<addr>\[[0-9A-Fa-f:.]+\]|[^\s\[\]]+):(?P<port>[^\s:\[\]]+)"
    r"(?:\s+(?P<rest>.*?))?\s*$"
)

# the same line, IPv4 with numbers only (most lines of a big table), for -ln and --thresholds
_RS_FAST_HEAD = r"^  -> (\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):(\d+) +"
RS_FAST_RE = {
    "list": re.compile(_RS_FAST_HEAD + r"(FullNat|Masq|Route|Tunnel|SNAT|Local) +(\d+) +(\d+) +(\d+)$"),
    "thresholds": re.compile(_RS_FAST_HEAD + r"(\d+) +(\d+) +(\d+) +(\d+)$"),
}

# "12345", "   12345K" (print_largenum: %9llu below 100 million, then %8lluK/M/G/T)
LARGENUM_RE = re.compile(r"^(?P<num>\d+)(?P<unit>[KMGT]?)$")

# " bps 100M" appended to the service name by the DPVS --rate listing
BPS_RE = re.compile(r"^bps (?P<mbps>\d+)M\s+(?P<rest>.*)$")

# "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS     "   (ipvsadm -G)
LADDR_TITLE_RE = re.compile(r"^VIP:VPORT\s+TOTAL\s+SNAT_IP\s+CONFLICTS\s+CONNS\s*$")
# "10.0.96.204:80       2        "      "[2001:db8::204]:8080 1        "
LADDR_SERVICE_RE = re.compile(r"^(?P<addr>\[[0-9A-Fa-f:.]+\]|[^\s\[\]]+):(?P<port>\d+)\s+(?P<total>\d+)\s*$")
# "                              192.168.229.204      0          3         "
LADDR_RE = re.compile(r"^\s+(?P<ip>[0-9A-Fa-f:.]+)\s+(?P<conflicts>\d+)\s+(?P<conns>\d+)\s*$")

# "PROTO    VIP:VPORT                      BLACKLIST                     "
# "PROTO    VIP:VPORT                      WHITELIST                     "
ACL_TITLE_RE = re.compile(r"^PROTO\s+VIP:VPORT\s+(?P<kind>BLACKLIST|WHITELIST)\s*$")
# "TCP      10.0.96.204:80                 10.0.96.99                    "
ACL_RE = re.compile(
    r"^(?P<proto>TCP|UDP|SCTP|ICMP|ICMPv6)\s+"
    r"(?P<addr>\[[0-9A-Fa-f:.]+\]|[^\s\[\]]+):(?P<port>\d+)\s+(?P<entry>\S+)\s*$"
)

# DPVS -lnc: "[1]tcp 7s     TIME_WAIT   10.0.96.10:45930   10.0.96.204:80     192.168.229.204:1027 192.168.229.1:80"
DPVS_CONN_RE = re.compile(
    r"^\[(?P<lcore>\d+)\](?P<proto>\S+)\s+(?P<expire>\d+)s\s+(?P<state>\S+)\s+"
    r"(?P<client>\S+)\s+(?P<virtual>\S+)\s+(?P<local>\S+)\s+(?P<dest>\S+)\s*$"
)
# kernel -lnc: "TCP 01:52  ESTABLISHED 10.0.0.5:41234     10.0.0.1:80        192.168.1.2:80"
KERNEL_CONN_RE = re.compile(
    r"^(?P<proto>\S+)\s+(?P<min>\d+):(?P<sec>\d+)\s+(?P<state>\S+)\s+"
    r"(?P<client>\S+)\s+(?P<virtual>\S+)\s+(?P<dest>\S+)(?:\s+(?P<pe_name>\S+)\s+(?P<pe_data>\S+))?\s*$"
)
# "IPVS connection entries" / "pro expire state       source             virtual            destination"
KERNEL_CONN_TITLE_RE = re.compile(r"^(IPVS connection entries|pro expire )")

PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp", "ICMP": "icmp", "ICMPv6": "icmpv6"}

# fwd_name() of both ipvsadm flavours
FORWARDS = {
    "FullNat": "fullnat",
    "Masq": "masq",
    "Route": "dr",
    "Tunnel": "tunnel",
    "SNAT": "snat",
    "Local": "local",
}

# proxy_protocol_str(): " pp%s"
PROXY_PROTOCOLS = ("v1", "v2", "v1-insecure", "v2-insecure", "disable", "unknown")

# ipvsadm without -n resolves ports with getservbyname; these are the names of the
# transcripts, looked up first so that parsing does not depend on /etc/services.
PORT_NAMES = {"http": 80, "https": 443, "http-alt": 8080, "domain": 53, "ssh": 22, "smtp": 25}

STATS_FIELDS = ("conns", "inpkts", "outpkts", "inbytes", "outbytes")
RATE_FIELDS = ("cps", "inpps", "outpps", "inbps", "outbps")
UNITS = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}


def _lines(text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [line.rstrip() for line in (text or "").splitlines() if line.strip()]


# a table of 10,000 services names the same few real servers and LIPs tens of thousands of times
@functools.lru_cache(maxsize=65536)
def _addr(text):
    """``[2001:db8::1]`` / ``10.0.0.1`` -> (address, family); names stay as they are."""
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return text, None
    return addr.compressed, "inet6" if addr.version == 6 else "inet"


def _port(text, protocol="tcp"):
    if text.isdigit():
        return int(text)
    if text in PORT_NAMES:
        return PORT_NAMES[text]
    try:
        return socket.getservbyname(text, protocol if protocol in ("tcp", "udp") else "tcp")
    except OSError:
        return None


def split_hostport(text):
    """``10.0.96.204:80`` / ``[2001:db8::204]:80`` -> (ip, port); port None when absent."""
    if text.startswith("["):
        host, _sep, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, None
    ip, _family = _addr(host)
    return ip, (_port(port) if port else None)


def _largenum(text):
    """``"1475"`` -> (1475, True); ``"12345K"`` -> (12345000, False) (``exact`` is False)."""
    match = LARGENUM_RE.match(text)
    if not match:
        return None
    return int(match.group("num")) * UNITS[match.group("unit")], match.group("unit") == ""


def _empty_flags():
    return {
        "hash_target": None,
        "persistent": None,
        "netmask": None,
        "pe": None,
        "sched_flags": [],
        "ops": False,
        "synproxy": False,
        "conn_timeout": None,
        "proxy_protocol": None,
        "expire_quiescent": False,
        "quic": False,
        "dest_check": None,
    }


# flags that are a word alone -> the flag they set to True
BOOL_FLAGS = {"ops": "ops", "synproxy": "synproxy", "expire-quiescent": "expire_quiescent", "quic": "quic"}
# flags followed by a value -> (the flag, whether the value is a number);
# "conn-timeout 120" (v1.9+), "conn_timeout 120" (v1.8)
VALUE_FLAGS = {
    "persistent": ("persistent", True),
    "mask": ("netmask", False),
    "pe": ("pe", False),
    "conn-timeout": ("conn_timeout", True),
    "conn_timeout": ("conn_timeout", True),
}


def _parse_flags(tokens, line):
    """The flags after the scheduler, in the order both ipvsadm flavours print them."""
    flags = _empty_flags()
    i = 0
    while i < len(tokens):
        i = _parse_flag(flags, tokens, i, line)
    return flags


def _parse_flag(flags, tokens, i, line):
    """Read the flag at ``tokens[i]`` (and its value) into ``flags``; returns the next index."""
    tok = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if tok in ("sip", "qid"):
        flags["hash_target"] = tok
    elif tok in BOOL_FLAGS:
        flags[BOOL_FLAGS[tok]] = True
    elif tok in VALUE_FLAGS and nxt is not None and (nxt.isdigit() or not VALUE_FLAGS[tok][1]):
        name, numeric = VALUE_FLAGS[tok]
        flags[name] = int(nxt) if numeric else nxt
        return i + 2
    elif tok.startswith("pp") and tok[2:] in PROXY_PROTOCOLS:
        flags["proxy_protocol"] = tok[2:]
    elif tok == "dest-check":
        # " dest-check internal:default external:tcp,ping"
        parts = []
        while i + 1 < len(tokens) and tokens[i + 1].startswith(("internal:", "external:")):
            parts.append(tokens[i + 1])
            i += 1
        flags["dest_check"] = " ".join(parts)
    elif tok.startswith("(") and tok.endswith(")"):
        # kernel scheduler flags: " (sh-fallback,sh-port)"
        flags["sched_flags"] = [f for f in tok[1:-1].split(",") if f]
    else:
        raise ParseError(line)
    return i + 1


def _service_head(line):
    """Identify a service line; returns (service-key dict, rest) or None."""
    match = SERVICE_RE.match(line)
    if match:
        protocol = PROTOCOLS[match.group("proto")]
        vip, family = _addr(match.group("addr"))
        head = {
            "protocol": protocol,
            "vip": vip,
            "port": _port(match.group("port"), protocol),
            "fwmark": None,
            "match": None,
            "family": family,
        }
        return head, match.group("rest") or ""
    match = FWM_RE.match(line)
    if match:
        head = {
            "protocol": "fwmark",
            "vip": None,
            "port": None,
            "fwmark": int(match.group("mark")),
            "match": None,
            "family": "inet6" if match.group("v6") else "inet",
        }
        return head, match.group("rest") or ""
    match = MATCH_RE.match(line)
    if match:
        head = {
            "protocol": "match",
            "vip": None,
            "port": None,
            "fwmark": None,
            "match": match.group("match"),
            "family": None,
        }
        return head, match.group("rest") or ""
    return None


def _rs_head(line):
    match = RS_RE.match(line)
    if not match:
        return None
    ip, _family = _addr(match.group("addr"))
    return {"ip": ip, "port": _port(match.group("port"))}, match.group("rest") or ""


def _counters(tokens, fields, line):
    if len(tokens) != len(fields):
        raise ParseError(line)
    entry = {}
    exact = True
    for name, tok in zip(fields, tokens):
        value = _largenum(tok)
        if value is None:
            raise ParseError(line)
        entry[name] = value[0]
        exact = exact and value[1]
    entry["exact"] = exact
    return entry


def _parse_table(text, mode):
    """Shared walker of the ``-L`` listings; ``mode`` selects the columns."""
    result = {"version": None, "size": None, "services": []}
    current = None
    for line in _lines(text):
        # real server lines first: four in five lines of a big table
        rs = _rs_fast(line, mode)
        if rs is None and line.startswith("  -> ") and not RS_TITLE_RE.match(line):
            head = _rs_head(line)
            if head is None:
                raise ParseError(line)
            rs, rest = head
            rs.update(_rs_columns(rest.split(), mode, line))
        if rs is not None:
            if current is None:
                raise ParseError(line)
            current["real_servers"].append(rs)
            continue
        match = VERSION_RE.match(line)
        if match:
            result["version"] = match.group("version")
            result["size"] = int(match.group("size"))
            continue
        if TITLE_RE.match(line) or RS_TITLE_RE.match(line):
            continue
        head = _service_head(line)
        if head is None:
            raise ParseError(line)
        current, rest = head
        current.update(_service_columns(rest, mode, line))
        current["real_servers"] = []
        result["services"].append(current)
    return result


def _rs_fast(line, mode):
    """The real server of the commonest ``-ln`` and ``--thresholds`` line (an IPv4 address and a
    port, numbers only, no flags) in one match; None for any other line, which the general path
    reads (the same dict either way: tests/unit/test_ipvsadm_parse.py compares them)."""
    pattern = RS_FAST_RE.get(mode)
    match = pattern.match(line) if pattern is not None else None
    if match is None:
        return None
    ip, port, first, *numbers = match.groups()
    rs = {"ip": _addr(ip)[0], "port": int(port)}
    if mode == "thresholds":
        rs.update(zip(("u_threshold", "l_threshold", "active_conns", "inactive_conns"), map(int, (first, *numbers))))
        return rs
    weight, active, inactive = map(int, numbers)
    rs.update(forward=FORWARDS[first], weight=weight, active_conns=active, inactive_conns=inactive)
    rs.update(inhibited=False, overload=False)
    return rs


def _service_columns(rest, mode, line):
    tokens = rest.split()
    if mode == "stats":
        return _counters(tokens, STATS_FIELDS, line)
    if mode == "rate":
        bps = None
        match = BPS_RE.match(rest)
        if match:
            bps = int(match.group("mbps"))
            tokens = match.group("rest").split()
        entry = _counters(tokens, RATE_FIELDS, line)
        entry["bps_limit_mbps"] = bps
        return entry
    # list, thresholds and persistent-conn print "<scheduler> <flags>"
    if not tokens:
        raise ParseError(line)
    return {"scheduler": tokens[0], "flags": _parse_flags(tokens[1:], line)}


def _rs_columns(tokens, mode, line):
    if mode == "stats":
        return _counters(tokens, STATS_FIELDS, line)
    if mode == "rate":
        return _counters(tokens, RATE_FIELDS, line)
    if len(tokens) < 4:
        raise ParseError(line)
    try:
        if mode == "thresholds":
            if len(tokens) != 4:
                raise ParseError(line)
            names = ("u_threshold", "l_threshold", "active_conns", "inactive_conns")
            return dict(zip(names, (int(t) for t in tokens)))
        if mode == "persistent":
            if len(tokens) != 4:
                raise ParseError(line)
            names = ("weight", "persist_conns", "active_conns", "inactive_conns")
            return dict(zip(names, (int(t) for t in tokens)))
        # "FullNat 1      0          0          inhibited,overload"
        forward = FORWARDS.get(tokens[0])
        if forward is None:
            raise ParseError(line)
        extra = [f for f in ",".join(tokens[4:]).split(",") if f]
        if any(f not in ("inhibited", "overload") for f in extra):
            raise ParseError(line)
        return {
            "forward": forward,
            "weight": int(tokens[1]),
            "active_conns": int(tokens[2]),
            "inactive_conns": int(tokens[3]),
            "inhibited": "inhibited" in extra,
            "overload": "overload" in extra,
        }
    except ValueError:
        raise ParseError(line) from None


def parse_list(text):
    """``ipvsadm -ln`` (also ``-ln -t SVC``, which has no version line), DPVS or kernel.

    Returns ``{"version", "size", "services": [...]}`` (see docs/internals.md).
    """
    return _parse_table(text, "list")


def parse_list_stats(text):
    """``ipvsadm -ln --stats [--exact]``: per service and real server
    ``conns/inpkts/outpkts/inbytes/outbytes`` (ints; values printed with a K/M/G/T suffix are
    multiplied out and that entry has ``exact: False``)."""
    return _parse_table(text, "stats")


def parse_list_rate(text):
    """``ipvsadm -ln --rate``: ``cps/inpps/outpps/inbps/outbps`` per service and real server
    (+ ``bps_limit_mbps`` on services: DPVS appends `` bps NM`` to a rate-limited service)."""
    return _parse_table(text, "rate")


def parse_list_thresholds(text):
    """``ipvsadm -ln --thresholds``: services (scheduler and flags as in :func:`parse_list`),
    real servers ``{ip, port, u_threshold, l_threshold, active_conns, inactive_conns}``."""
    return _parse_table(text, "thresholds")


def parse_list_persistent(text):
    """``ipvsadm -ln --persistent-conn``: real servers
    ``{ip, port, weight, persist_conns, active_conns, inactive_conns}``."""
    return _parse_table(text, "persistent")


def _endpoint(text):
    ip, port = split_hostport(text)
    return {"ip": ip, "port": port}


def parse_connections(text):
    """``ipvsadm -lnc`` (DPVS: ``[lcore]proto``, with the local address; kernel: with a title).

    Returns ``[{"lcore", "protocol", "expire" (seconds), "state", "client", "virtual",
    "local", "dest"}]``, each address ``{"ip", "port"}`` (``local`` None on kernel).
    """
    conns = []
    for line in _lines(text):
        match = DPVS_CONN_RE.match(line)
        if match:
            conns.append(
                {
                    "lcore": int(match.group("lcore")),
                    "protocol": match.group("proto").lower(),
                    "expire": int(match.group("expire")),
                    "state": match.group("state"),
                    "client": _endpoint(match.group("client")),
                    "virtual": _endpoint(match.group("virtual")),
                    "local": _endpoint(match.group("local")),
                    "dest": _endpoint(match.group("dest")),
                }
            )
            continue
        if KERNEL_CONN_TITLE_RE.match(line):
            continue
        match = KERNEL_CONN_RE.match(line)
        if match:
            conns.append(
                {
                    "lcore": None,
                    "protocol": match.group("proto").lower(),
                    "expire": int(match.group("min")) * 60 + int(match.group("sec")),
                    "state": match.group("state"),
                    "client": _endpoint(match.group("client")),
                    "virtual": _endpoint(match.group("virtual")),
                    "local": None,
                    "dest": _endpoint(match.group("dest")),
                }
            )
            continue
        raise ParseError(line)
    return conns


def parse_laddrs(text):
    """``ipvsadm -G [-t SVC]`` (DPVS only): ``[{"vip", "port", "total", "laddrs": [{"ip",
    "conflicts", "conns"}]}]`` in the printed (hash) order. ``-G`` does not print the protocol.
    Empty output (no services) gives ``[]``."""
    services = []
    current = None
    for line in _lines(text):
        if LADDR_TITLE_RE.match(line):
            continue
        match = LADDR_SERVICE_RE.match(line)
        if match:
            vip, _family = _addr(match.group("addr"))
            current = {
                "vip": vip,
                "port": int(match.group("port")),
                "total": int(match.group("total")),
                "laddrs": [],
            }
            services.append(current)
            continue
        match = LADDR_RE.match(line)
        if match and current is not None:
            ip, _family = _addr(match.group("ip"))
            current["laddrs"].append(
                {"ip": ip, "conflicts": int(match.group("conflicts")), "conns": int(match.group("conns"))}
            )
            continue
        raise ParseError(line, "ipvsadm -G")
    return services


def _parse_acl(text, kind):
    entries = []
    for line in _lines(text):
        title = ACL_TITLE_RE.match(line)
        if title:
            if title.group("kind") != kind:
                raise ParseError(line, "ipvsadm --get-blklst/--get-whtlst")
            continue
        match = ACL_RE.match(line)
        if not match:
            raise ParseError(line, "ipvsadm --get-blklst/--get-whtlst")
        protocol = PROTOCOLS[match.group("proto")]
        vip, _family = _addr(match.group("addr"))
        entry = match.group("entry")
        if not entry.startswith("ipset:"):
            entry = _addr(entry)[0]
        entries.append({"protocol": protocol, "vip": vip, "port": int(match.group("port")), "address": entry})
    return entries


def parse_blocklist(text):
    """``ipvsadm --get-blklst [SVC]``: ``[{"protocol", "vip", "port", "address"}]``
    (``address`` is an IP or ``ipset:NAME``)."""
    return _parse_acl(text, "BLACKLIST")


def parse_allowlist(text):
    """``ipvsadm --get-whtlst [SVC]``: same shape as :func:`parse_blocklist`."""
    return _parse_acl(text, "WHITELIST")


# -S service switches -> protocol
SAVE_SERVICE_OPTS = {"-t": "tcp", "-u": "udp", "--sctp-service": "sctp", "-q": "icmp", "-1": "icmpv6"}
SAVE_FORWARDS = {"-m": "masq", "-g": "dr", "-i": "tunnel", "-J": "snat"}


def _empty_save(op):
    return {
        "op": op,
        "protocol": None,
        "vip": None,
        "port": None,
        "fwmark": None,
        "match": None,
        "family": None,
        "scheduler": None,
        "persistent": None,
        "netmask": None,
        "ops": False,
        "pe": None,
        "sched_flags": [],
        "rs_ip": None,
        "rs_port": None,
        "forward": None,
        "weight": None,
        "tun_type": None,
    }


def _save_service(protocol):
    """The handler of a service switch (``-t VIP:PORT`` ...)."""

    def handler(rule, val):
        rule["protocol"] = protocol
        rule["vip"], rule["port"] = split_hostport(val)
        rule["family"] = _addr(rule["vip"])[1]

    return handler


def _save_fwmark(rule, val):
    rule["protocol"] = "fwmark"
    rule["fwmark"] = int(val)
    rule["family"] = "inet"


def _save_match(rule, val):
    rule["protocol"] = "match"
    rule["match"] = val


def _save_rs(rule, val):
    rule["rs_ip"], rule["rs_port"] = split_hostport(val)


def _save_set(field, convert=None):
    """The handler of an option whose value (``convert``-ed) goes to ``rule[field]``."""

    def handler(rule, val):
        rule[field] = convert(val) if convert else val

    return handler


def _save_const(field, value):
    """The handler of a switch without value: ``rule[field] = value``."""

    def handler(rule, _val):
        rule[field] = value

    return handler


def _save_ignore(rule, val):
    """Options the rule has no field for (``--tun-port``, the tunnel checksum switches)."""


# -S options -> (what follows them: None, "value" or "number"; handler(rule, value)); "-b" is
# special (scheduler flags on -A, fullnat on -a: see _save_option)
SAVE_OPTIONS = {
    **{opt: ("value", _save_service(protocol)) for opt, protocol in SAVE_SERVICE_OPTS.items()},
    "-f": ("number", _save_fwmark),
    "-6": (None, _save_const("family", "inet6")),
    "-H": ("value", _save_match),
    "-s": ("value", _save_set("scheduler")),
    "-p": ("number", _save_set("persistent", int)),
    "-M": ("value", _save_set("netmask")),
    "--pe": ("value", _save_set("pe")),
    "pe": ("value", _save_set("pe")),
    **{opt: (None, _save_const("ops", True)) for opt in ("--ops", "-o", "ops")},
    **{opt: (None, _save_const("forward", forward)) for opt, forward in SAVE_FORWARDS.items()},
    "-r": ("value", _save_rs),
    "-w": ("number", _save_set("weight", int)),
    "--tun-type": ("value", _save_set("tun_type")),
    "--tun-port": ("value", _save_ignore),
    **{opt: (None, _save_ignore) for opt in ("--tun-nocsum", "--tun-csum", "--tun-remcsum")},
}


def parse_save(text):
    """``ipvsadm -S -n`` of either flavour, one dict per line (lossy by nature: see the README).

    DPVS: ``-A -t 10.0.96.204:53 -s wlc -p 300 -M 255.255.255.0 [--ops]``,
    ``-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1``. Kernel 1.31: ``-A ... [--pe sip] [-o]
    [-b sh-fallback,sh-port]`` (``-b`` is the scheduler flags there, fullnat in ``-a`` on DPVS),
    ``-a ... -i -w 1 --tun-type gue --tun-port 6080``.
    """
    return [_parse_save_line(line) for line in _lines(text)]


def _parse_save_line(line):
    try:
        tokens = shlex.split(line)
    except ValueError:
        raise ParseError(line, "ipvsadm -S") from None
    if not tokens or tokens[0] not in ("-A", "-a"):
        raise ParseError(line, "ipvsadm -S")
    rule = _empty_save(tokens[0])
    i = 1
    while i < len(tokens):
        used = _save_option(rule, tokens[i], tokens[i + 1] if i + 1 < len(tokens) else None)
        if not used:
            raise ParseError(line, "ipvsadm -S")
        i += used
    return rule


def _save_option(rule, tok, val):
    """Apply the option ``tok`` (``val``: the next token or None) to ``rule``; returns how many
    tokens it took (1 or 2), 0 when it is not a known option (with the value it needs)."""
    if tok == "-b":
        if rule["op"] == "-A" and val is not None:
            rule["sched_flags"] = [f for f in val.split(",") if f]
            return 2
        rule["forward"] = "fullnat"
        return 1
    kind, handler = SAVE_OPTIONS.get(tok, ("unknown", None))
    if kind is None:
        handler(rule, None)
        return 1
    if handler is None or val is None or (kind == "number" and not val.isdigit()):
        return 0
    handler(rule, val)
    return 2
