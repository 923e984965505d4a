"""ipvsadm (DPVS v1.10.2 flavour, "ipvsadm v1.27 ... IPVS v1.9.2"): tool side.

Mirrors tools/ipvsadm/ipvsadm.c: popt option parsing (commands first), the legality table
``commands_v_options``, ``fail()`` exits with 2, daemon errors exit with ``code & 0xff`` after the
sockopt library line and the misleading ``Success`` line. The daemon side is ``ipvs.py``.
"""
# ruff: noqa: UP031 (printf-style formats mirror the C tools' printf calls)

import _socket
import errno
import os
import sys

from . import ipvs, netstack
from .common import (
    AF_INET,
    AF_INET6,
    EDPVS_OK,
    ESOCKOPT_INVAL,
    M32,
    SO_ADDDEST,
    SO_BLKLST_ADD,
    SO_BLKLST_DEL,
    SO_DELDEST,
    SO_EDITDEST,
    SO_GET_SERVICE,
    SO_IFADDR_ADD,
    SO_IFADDR_DEL,
    SO_LADDR_ADD,
    SO_LADDR_DEL,
    SO_SVC_ADD,
    SO_SVC_DEL,
    SO_SVC_EDIT,
    SO_SVC_FLUSH,
    SO_SVC_ZERO,
    SO_WHTLST_ADD,
    SO_WHTLST_DEL,
    Out,
    log_invocation,
    ntop,
    prog_name,
    pton,
    strerror,
)
from .state import DPVS_VERSION, Locked, connect_errno, ipc_path

IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6, IPPROTO_SCTP = 1, 6, 17, 58, 132
PROTO_NAMES = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_SCTP: "sctp",
               IPPROTO_ICMP: "icmp", IPPROTO_ICMPV6: "icmpv6"}
VERSION_LINE = "ipvsadm v1.27 2008/5/15 (compiled with popt and IPVS v1.9.2)\n"
IPVS_SVC_PERSISTENT_TIMEOUT = 360
MAX_TIMEOUT = 86400 * 31
INT_MAX = 2 ** 31 - 1
NETMASK_ALL = 0xFFFFFFFF

(CMD_NONE, CMD_ADD, CMD_EDIT, CMD_DEL, CMD_FLUSH, CMD_LIST, CMD_ADDDEST, CMD_DELDEST,
 CMD_EDITDEST, CMD_TIMEOUT, CMD_STARTDAEMON, CMD_STOPDAEMON, CMD_RESTORE, CMD_SAVE, CMD_ZERO,
 CMD_ADDLADDR, CMD_DELLADDR, CMD_GETLADDR, CMD_ADDBLKLST, CMD_DELBLKLST, CMD_GETBLKLST,
 CMD_ADDWHTLST, CMD_DELWHTLST, CMD_GETWHTLST) = range(24)
CMDNAMES = ("add-service", "edit-service", "delete-service", "flush", "list", "add-server",
            "delete-server", "edit-server", "set", "start-daemon", "stop-daemon", "restore",
            "save", "zero", "add-laddr", "del-laddr", "get-laddr", "add-blklst", "del-blklst",
            "get-blklst", "add-whtlst", "del-whtlst", "get-whtlst")
OPTNAMES = ("numeric", "connection", "service-address", "scheduler", "persistent", "netmask",
            "real-server", "forwarding-method", "weight", "u-threshold", "l-threshold",
            "mcast-interface", "timeout", "daemon", "stats", "rate", "thresholds",
            "persistent-conn", "nosort", "syncid", "exact", "ops", "pe", "local-address",
            "blklst-address", "synproxy", "ifname", "sockpair", "hash-target", "cpu",
            "expire-quiescent", "whtlst-address")
(OPT_NUMERIC, OPT_CONNECTION, OPT_SERVICE, OPT_SCHEDULER, OPT_PERSISTENT, OPT_NETMASK,
 OPT_SERVER, OPT_FORWARD, OPT_WEIGHT, OPT_UTHRESHOLD, OPT_LTHRESHOLD, OPT_MCAST, OPT_TIMEOUT,
 OPT_DAEMON, OPT_STATS, OPT_RATE, OPT_THRESHOLDS, OPT_PERSISTENTCONN, OPT_NOSORT, OPT_SYNCID,
 OPT_EXACT, OPT_ONEPACKET, OPT_PERSISTENCE_ENGINE, OPT_LOCAL_ADDRESS, OPT_BLKLST_ADDRESS,
 OPT_SYNPROXY, OPT_IFNAME, OPT_SOCKPAIR, OPT_HASHTAG, OPT_CPU, OPT_EXPIRE_QUIESCENT_CONN,
 OPT_WHTLST_ADDRESS) = [1 << i for i in range(32)]

# commands_v_options[][], one string per command, one column per option (OPTNAMES order):
# '+' compulsory, 'x' illegal, '1' exclusive, ' ' optional
LEGAL = (
    "xx+   xxxxxxxxxxxxxxx xxx xx x x",  # ADD
    "xx+   xxxxxxxxxxxxxxx xxx xx x x",  # EDIT
    "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # DEL
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # FLUSH
    " 11xxxxxxxxx11       xxxxxx x xx",  # LIST
    "xx+xxx+    xxxxxxxxxxxxxxxxxxxxx",  # ADDSRV
    "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxx",  # DELSRV
    "xx+xxx+    xxxxxxxxxxxxxxxxxxxxx",  # EDITSRV
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # TIMEOUT
    "xxxxxxxxxxx xxxxxxx xxxxxxxxxxxx",  # STARTD
    "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxx",  # STOPD
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # RESTORE
    " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # SAVE
    "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # ZERO
    "xx+xxxxxxxxxxxxxxxxxxxx+xx+xxxxx",  # ADDLADDR
    "xx+xxxxxxxxxxxxxxxxxxxx+xx+xxxxx",  # DELLADDR
    "xx xxxxxxxxxxxxxxxxxxxxxxxxxx xx",  # GETLADDR
    "xx+xxxxxxxxxxxxxxxxxxxxx+xxxxxxx",  # ADDBLKLST
    "xx+xxxxxxxxxxxxxxxxxxxxx+xxxxxxx",  # DELBLKLST
    "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # GETBLKLST
    "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxx+",  # ADDWHTLST
    "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxx+",  # DELWHTLST
    "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # GETWHTLST
)

FMT_NUMERIC, FMT_RULE, FMT_STATS, FMT_RATE = 0x1, 0x2, 0x4, 0x8
FMT_THRESHOLDS, FMT_PERSISTENTCONN, FMT_NOSORT, FMT_EXACT = 0x10, 0x20, 0x40, 0x80
SERVICE_ADDR, SERVICE_PORT = 1, 2

FWD_NAME = {"masq": "Masq", "local": "Local", "tunnel": "Tunnel", "droute": "Route",
            "fullnat": "FullNat", "snat": "SNAT"}
FWD_SWITCH = {"masq": "-m", "tunnel": "-i", "local": "-g", "droute": "-g", "fullnat": "-b",
              "snat": "-J"}
PP_TYPES = ("disable", "v1", "v2", "v1-insecure", "v2-insecure")

# popt option table: long name, short, argument (None, "str", "opt" optional, "int"), tag
ARG_NONE, ARG_STR, ARG_OPT, ARG_INT = None, "str", "opt", "int"
POPT = (
    ("add-service", "A", ARG_NONE, "A"), ("edit-service", "E", ARG_NONE, "E"),
    ("delete-service", "D", ARG_NONE, "D"), ("clear", "C", ARG_NONE, "C"),
    ("list", "L", ARG_NONE, "L"), ("list", "l", ARG_NONE, "l"), ("zero", "Z", ARG_NONE, "Z"),
    ("add-server", "a", ARG_NONE, "a"), ("edit-server", "e", ARG_NONE, "e"),
    ("delete-server", "d", ARG_NONE, "d"), ("set", None, ARG_NONE, "set"),
    ("help", "h", ARG_NONE, "h"), ("version", "v", ARG_NONE, "v"),
    ("restore", "R", ARG_NONE, "R"), ("save", "S", ARG_NONE, "S"),
    ("start-daemon", None, ARG_STR, "start-daemon"), ("stop-daemon", None, ARG_STR, "stop-daemon"),
    ("add-laddr", "P", ARG_NONE, "P"), ("del-laddr", "Q", ARG_NONE, "Q"),
    ("get-laddr", "G", ARG_NONE, "G"), ("add-blklst", "U", ARG_NONE, "U"),
    ("del-blklst", "V", ARG_NONE, "V"), ("get-blklst", "B", ARG_NONE, "B"),
    ("add-whtlst", "O", ARG_NONE, "O"), ("del-whtlst", "Y", ARG_NONE, "Y"),
    ("get-whtlst", "W", ARG_NONE, "W"), ("tcp-service", "t", ARG_STR, "t"),
    ("udp-service", "u", ARG_STR, "u"), ("sctp-service", None, ARG_STR, "sctp"),
    ("icmp-service", "q", ARG_STR, "q"), ("icmpv6-service", "1", ARG_STR, "1"),
    ("fwmark-service", "f", ARG_STR, "f"), ("scheduler", "s", ARG_STR, "s"),
    ("persistent", "p", ARG_OPT, "p"), ("netmask", "M", ARG_STR, "M"),
    ("real-server", "r", ARG_STR, "r"), ("masquerading", "m", ARG_NONE, "m"),
    ("ipip", "i", ARG_NONE, "i"), ("gatewaying", "g", ARG_NONE, "g"),
    ("fullnat", "b", ARG_NONE, "b"), ("snat", "J", ARG_NONE, "J"),
    ("weight", "w", ARG_STR, "w"), ("u-threshold", "x", ARG_STR, "x"),
    ("l-threshold", "y", ARG_STR, "y"), ("numeric", "n", ARG_NONE, "n"),
    ("connection", "c", ARG_NONE, "c"), ("mcast-interface", None, ARG_STR, "mcast"),
    ("syncid", None, ARG_STR, "I"), ("timeout", None, ARG_NONE, "timeout"),
    ("daemon", None, ARG_NONE, "daemon"), ("stats", None, ARG_NONE, "stats"),
    ("rate", None, ARG_NONE, "rate"), ("thresholds", None, ARG_NONE, "thresholds"),
    ("persistent-conn", None, ARG_NONE, "pconn"), ("sockpair", None, ARG_STR, "sockpair"),
    ("nosort", None, ARG_NONE, "nosort"), ("sort", None, ARG_NONE, "sort"),
    ("exact", "X", ARG_NONE, "X"), ("ipv6", "6", ARG_NONE, "6"), ("ops", "o", ARG_NONE, "o"),
    ("pe", None, ARG_STR, "pe"), ("laddr", "z", ARG_STR, "z"), ("blklst", "k", ARG_STR, "k"),
    ("whtlst", "2", ARG_STR, "2"), ("synproxy", "j", ARG_STR, "j"),
    ("ifname", "F", ARG_STR, "F"), ("match", "H", ARG_STR, "H"),
    ("hash-target", None, ARG_STR, "hash-target"), ("cpu", None, ARG_STR, "cpu"),
    ("expire-quiescent", None, ARG_NONE, "expire-quiescent"),
    ("dest-check", None, ARG_STR, "dest-check"), ("conn-timeout", None, ARG_INT, "conn-timeout"),
    ("proxy-protocol", None, ARG_STR, "proxy-protocol"), ("quic", None, ARG_NONE, "quic"),
)
LONG = dict((entry[0], entry) for entry in POPT)
SHORT = dict((entry[1], entry) for entry in POPT if entry[1])
FIRST_CMDS = {
    "A": CMD_ADD, "E": CMD_EDIT, "D": CMD_DEL, "a": CMD_ADDDEST, "e": CMD_EDITDEST,
    "d": CMD_DELDEST, "C": CMD_FLUSH, "L": CMD_LIST, "l": CMD_LIST, "Z": CMD_ZERO,
    "set": CMD_TIMEOUT, "R": CMD_RESTORE, "S": CMD_SAVE, "P": CMD_ADDLADDR, "Q": CMD_DELLADDR,
    "G": CMD_GETLADDR, "U": CMD_ADDBLKLST, "V": CMD_DELBLKLST, "B": CMD_GETBLKLST,
    "O": CMD_ADDWHTLST, "Y": CMD_DELWHTLST, "W": CMD_GETWHTLST,
}
POPT_ERRORS = {"badopt": "unknown option", "noarg": "missing argument",
               "badnumber": "invalid numeric value", "overflow": "number too large or too small",
               "unwantedarg": "option does not take an argument"}

USAGE_HEAD = (
    "Usage:\n"
    "  %(p)s -A|E -t|u|q|f service-address [-s scheduler] [-j eanble/disable] [-p [timeout]]"
    " [-M netmask] [--pe persistence_engine]\n"
    "  %(p)s -D -t|u|q|f service-address\n"
    "  %(p)s -C\n"
    "  %(p)s -R\n"
    "  %(p)s -S [-n]\n"
    "  %(p)s -P|Q -t|u|q|f service-address -z local-address\n"
    "  %(p)s -G -t|u|q|f service-address \n"
    "  %(p)s -U|V -t|u|q|f service-address -k blacklist-address\n"
    "  %(p)s -O|Y -t|u|q|f service-address -2 whitelist-address\n"
    "  %(p)s -a|e -t|u|q|f service-address -r server-address [options]\n"
    "  %(p)s -d -t|u|q|f service-address -r server-address\n"
    "  %(p)s -L|l [options]\n"
    "  %(p)s -Z [-t|u|q|f service-address]\n"
    "  %(p)s --set tcp tcpfin udp\n"
    "  %(p)s --start-daemon state [--mcast-interface interface] [--syncid sid]\n"
    "  %(p)s --stop-daemon state\n"
    "  %(p)s -h\n\n"
)
USAGE_BODY = """Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --add-laddr       -P        add local address
  --del-laddr       -Q        del local address
  --get-laddr       -G        get local address
  --add-blklst      -U        add blacklist address or ipset
  --del-blklst      -V        del blacklist address or ipset
  --get-blklst      -B        get blacklist address or ipset
  --add-whtlst      -O        add whitelist address or ipset
  --del-whtlst      -Y        del whitelist address or ipset
  --get-whtlst      -W        get whitelist address or ipset
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

Options:
  --tcp-service  -t service-address   service-address is host[:port]
  --udp-service  -u service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --icmp-service -q service-address   service-address is host[:port]
  --icmpv6-service -1 service-address   service-address is host[:port]
  --fwmark-service  -f fwmark         fwmark is an integer greater than zero
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of rr|wrr|wlc|conhash|mh|fo,
                                      the default scheduler is wlc.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --fullnat      -b                   fullnat mode
  --snat         -J                   SNAT mode
  --masquerading -m                   masquerading (NAT)
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --mcast-interface interface         multicast interface for connection sync
  --syncid sid                        syncid for connection sync (default=255)
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --conn-timeout                      set connection established timeout
  --proxy-protocol                    proxy protocol config (disable|v1|v2|v1-insecure|v2-insecure)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --sockpair                          output connection info of specified socket pair \
(proto:sip:sport:tip:tport)
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --ifname       -F                   nic interface for laddrs
  --synproxy     -j                   TCP syn proxy
  --match        -H MATCH             select service by MATCH 'af,proto,srange,drange,iif,oif', \
af should be defined if no range defined
  --hash-target  hashtag              choose target for conhash (support sip or qid for quic)
  --cpu          cpu_index            specifi cpu (lcore) index to show, 0 for master worker
  --expire-quiescent                  expire the quiescent connections timely whose realserver went down
  --dest-check   CHECK_CONF           config health check, inhibit scheduling to failed backends
                                      CHECK_CONF:=disable|default(passive)|DETAIL(passive)|tcp|udp|sctp|ping, \
DETAIL:=UPDOWN|DOWNONLY
                                      UPDOWN:=down_retry,up_confirm,down_wait,inhibit_min-inhibit_max, \
for example, the default is 1,1,3s,5-3600s
                                      DOWNONLY:=down_retry,down_wait, for example, --dest-check=1,3s
  --laddr        -z local-ip          local IP
  --blklst       -k blacklist-ip      specify blacklist ip address or ipset(format: "ipset:NAME")
  --whtlst       -2 whitelist-ip      specify whitelist ip address or ipset(format: "ipset:NAME")
  --quic                              itef quic protocol service
"""

# dest-check (conf/dest.h): types and defaults
HC_PASSIVE, HC_TCP, HC_UDP, HC_SCTP, HC_PING = 0x1, 0x2, 0x4, 0x8, 0x10
HC_DEFAULT = (1, 1, 3, 5, 3600)  # down_notice, up_notice, down_wait, inhibit_min, inhibit_max


class Exit(Exception):
    def __init__(self, code):
        Exception.__init__(self, code)
        self.code = code


class Ctx(object):
    def __init__(self, prog, doc, out):
        self.prog = prog
        self.doc = doc
        self.rt = doc["rt"]
        self.out = out
        self.dirty = False
        self.stdin = None

    def so(self, msgid, code):
        """A sockopt round trip that ended with ``code``: print the library line on error."""
        if code != EDPVS_OK:
            self.out.e("[sockopt_msg_recv] errcode set in socket msg#%d header: %s(%d)\n"
                       % (msgid, strerror(code), code))
        return code


def fail(ctx, code, msg):
    ctx.out.e(msg + "\n")
    raise Exit(code)


def tryhelp_exit(ctx, program):
    ctx.out.e("Try `%s -h' or '%s --help' for more information.\n" % (program, program))
    raise Exit(255)


# -- small C helpers --------------------------------------------------------------------------------
def string_to_number(text, low, high):
    """strtol(text, &end, 10) accepted only when it consumed everything and is in range."""
    body = text.lstrip(" \t\n\r\f\v")
    digits = body[1:] if body[:1] in ("+", "-") else body
    if not digits or not digits.isdigit() or not digits.isascii():
        return -1
    number = int(body)
    if low <= number <= high:
        return number
    return -1


def str_is_digit(text):
    return all("0" <= ch <= "9" for ch in text)


def inet_aton(text):
    try:
        return _socket.inet_aton(text)
    except (OSError, ValueError):
        return None


def service_to_port(name, proto):
    from .portnames import BY_NAME
    port = BY_NAME.get((name, PROTO_NAMES.get(proto, "")))
    return -1 if port is None else port


def port_to_anyname(port, proto):
    from .portnames import BY_PORT
    return BY_PORT.get((port, PROTO_NAMES.get(proto, ""))) or "%u" % port


def addrport_to_anyname(af, addr, port, proto, fmt):
    # no reverse DNS: addresses stay numeric
    portname = "%u" % port if fmt & FMT_NUMERIC else port_to_anyname(port, proto)
    if af == AF_INET:
        return "%s:%s" % (addr, portname)
    return "[%s]:%s" % (addr, portname)


def parse_service(buf, svc, proto):
    """ipvsadm.c parse_service(): SERVICE_ADDR|SERVICE_PORT bits, 0 when unusable."""
    if buf is None or str_is_digit(buf):
        return 0
    port_text = None
    if buf.startswith("["):
        rest = buf[1:]
        close = rest.find("]")
        if close < 0:
            return 0
        after = rest[close + 1:]
        if not after.startswith(":"):
            return 0
        port_text, buf = after[1:], rest[:close]
    packed = pton(AF_INET6, buf)
    if packed is not None:
        svc["af"], svc["addr"], svc["netmask"] = AF_INET6, ntop(AF_INET6, packed), 128
    else:
        colon = buf.rfind(":")
        if colon >= 0:
            port_text, buf = buf[colon + 1:], buf[:colon]
        else:
            port_text = None
        svc["af"] = AF_INET
        packed = inet_aton(buf)
        if packed is None:
            return 0  # host_to_addr(): names are not resolved by the emulator
        svc["addr"] = ntop(AF_INET, packed)
    result = SERVICE_ADDR
    if port_text is not None:
        result |= SERVICE_PORT
        number = string_to_number(port_text, 0, 65535)
        if number == -1:
            number = service_to_port(port_text, proto)
        if number == -1:
            return 0
        svc["port"] = number
    return result


def parse_range(text):
    """inet_addr_range_parse(): IP1[-IP2][:PORT1[-PORT2]] (IPv6 in brackets) -> dict or None."""
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            return None
        ips, rest, af = text[1:close], text[close + 1:], AF_INET6
        if rest and not rest.startswith(":"):
            return None
        ports = rest[1:] if rest else ""
    else:
        ips, _sep, ports = text.partition(":")
        af = AF_INET
    lo, _sep, hi = ips.partition("-")
    lo_p = pton(af, lo)
    hi_p = pton(af, hi) if hi else lo_p
    if lo_p is None or hi_p is None:
        return None
    plo, _sep, phi = ports.partition("-")
    try:
        port_lo = int(plo) if plo else 0
        port_hi = int(phi) if phi else port_lo
    except ValueError:
        return None
    if not any(lo_p) and not any(hi_p) and not port_lo and not port_hi:
        return {"af": af}  # an all-zero range is "no range" (memcmp against zero_range)
    return {"af": af, "min": ntop(af, lo_p), "max": ntop(af, hi_p), "pmin": port_lo,
            "pmax": port_hi}


def range_dump(rng, af):
    if rng is None:
        rng = {"min": "0.0.0.0" if af != AF_INET6 else "::", "pmin": 0, "pmax": 0}
        rng["max"] = rng["min"]
    if af == AF_INET6:
        return "[%s-%s]:%d-%d" % (rng["min"], rng["max"], rng["pmin"], rng["pmax"])
    return "%s-%s:%d-%d" % (rng["min"], rng["max"], rng["pmin"], rng["pmax"])


def parse_match_snat(buf, svc):
    match = {"srange": None, "drange": None, "iif": "", "oif": ""}
    svc["proto"] = 0
    has_range = has_af = False
    for arg in buf[:255].split(","):
        if not arg:
            continue
        key, eq, val = arg.partition("=")
        if not eq or not key:
            return -1
        if key == "proto":
            protos = dict((v, k) for k, v in PROTO_NAMES.items())
            if val not in protos:
                return -1
            svc["proto"] = protos[val]
        elif key == "af":
            has_af = True
            if val not in ("ipv4", "ipv6"):
                return -1
            svc["af"] = AF_INET if val == "ipv4" else AF_INET6
        elif key in ("src-range", "dst-range"):
            has_range = True
            rng = parse_range(val)
            if rng is None:
                return -1
            match["srange" if key == "src-range" else "drange"] = rng if "min" in rng else None
            match["af"] = rng["af"]
            if not svc["af"]:
                svc["af"] = rng["af"]
        elif key == "iif":
            match["iif"] = val[:15]
        elif key == "oif":
            match["oif"] = val[:15]
        else:
            return -1
    if not has_range and not has_af:
        return -1
    match.setdefault("af", svc["af"])
    svc["match"] = match
    svc["addr"] = "::" if svc["af"] == AF_INET6 else "0.0.0.0"
    return 0


def parse_dest_check(text, conf):
    """--dest-check: returns 0 or -1; conf is [types, down, up, wait, imin, imax]."""
    names = {"tcp": HC_TCP, "udp": HC_UDP, "sctp": HC_SCTP, "ping": HC_PING}
    if text == "disable":
        conf[0] = 0
    elif text in names:
        conf[0] |= names[text]
    elif text == "default":
        conf[0] |= HC_PASSIVE
        conf[1:] = list(HC_DEFAULT)
    else:
        parts = text.split(",")
        try:
            if len(parts) == 4 and parts[2].endswith("s") and parts[3].endswith("s"):
                imin, imax = parts[3][:-1].split("-")
                values = [int(parts[0]), int(parts[1]), int(parts[2][:-1]), int(imin), int(imax)]
            elif len(parts) == 2 and parts[1].endswith("s"):
                values = [int(parts[0]), 0, int(parts[1][:-1]), 0, 0]
            else:
                return -1
        except ValueError:
            return -1
        if values[0] < 1 or values[2] < 1 or values[3] > values[4]:
            return -1
        conf[1:] = values
        conf[0] |= HC_PASSIVE
    return 0


# -- popt ---------------------------------------------------------------------------------------------
class Popt(object):
    """Just enough of popt: short clusters, --long[=value], optional args, leftover args."""

    def __init__(self, argv):
        self.argv = argv
        self.next = 1
        self.cluster = ""
        self.leftovers = []
        self.done = False

    def bad(self):
        return self.argv[self.next - 1]

    def _take_next(self):
        if self.next < len(self.argv):
            value = self.argv[self.next]
            self.next += 1
            return value
        return None

    def get(self):
        """(tag, optarg) | ("error", kind) | (None, None) at the end."""
        while True:
            if self.cluster:
                char, self.cluster = self.cluster[0], self.cluster[1:]
                entry = SHORT.get(char)
                if entry is None:
                    self.cluster = ""
                    return "error", "badopt"
                return self._arg(entry, self.cluster if self.cluster else None, bool(self.cluster),
                                 short=True)
            if self.done or self.next >= len(self.argv):
                return None, None
            arg = self.argv[self.next]
            self.next += 1
            if arg == "--":
                self.leftovers.extend(self.argv[self.next:])
                self.next = len(self.argv)
                self.done = True
                continue
            if arg.startswith("--"):
                name, eq, value = arg[2:].partition("=")
                entry = LONG.get(name)
                if entry is None:
                    return "error", "badopt"
                return self._arg(entry, value if eq else None, bool(eq), short=False)
            if arg.startswith("-") and len(arg) > 1:
                self.cluster = arg[1:]
                continue
            self.leftovers.append(arg)

    def _arg(self, entry, inline, has_inline, short):
        kind, tag = entry[2], entry[3]
        if kind is ARG_NONE:
            if has_inline and not short:
                return "error", "unwantedarg"
            return tag, None
        if short:
            self.cluster = ""
        if kind == ARG_OPT:
            if has_inline:
                return tag, inline
            if self.next < len(self.argv) and not self.argv[self.next].startswith("-"):
                return tag, self._take_next()
            return tag, None
        value = inline if has_inline else self._take_next()
        if value is None:
            return "error", "noarg"
        if kind == ARG_INT:
            number = string_to_number(value, -(2 ** 63), 2 ** 63)
            if number == -1 and value.strip() != "-1":
                return "error", "badnumber"
            if not -INT_MAX - 1 <= int(value) <= INT_MAX:
                return "error", "overflow"
            return tag, int(value)
        return tag, value

    def get_arg(self):
        if self.leftovers:
            return self.leftovers.pop(0)
        return None


# -- command entry --------------------------------------------------------------------------------------
def new_entry():
    return {
        "cmd": CMD_NONE,
        "svc": {"af": 0, "proto": 0, "addr": None, "port": 0, "fwmark": 0, "match": None,
                "sched": "", "flags": [], "timeout": 0, "netmask": NETMASK_ALL,
                "conn_timeout": 0, "proxy_protocol": "", "check": [0, 0, 0, 0, 0, 0]},
        "dest": {"af": AF_INET, "addr": "0.0.0.0", "port": 0, "fwd": "droute", "weight": 1,
                 "max_conn": 0, "min_conn": 0},
        "laddr": {"af": AF_INET, "addr": "0.0.0.0", "ifname": ""},
        "blklst": None, "whtlst": None, "index": 0, "sockpair": None, "timeout": None,
    }


def set_flag(svc, flag, on=True):
    if on and flag not in svc["flags"]:
        svc["flags"].append(flag)
    if not on and flag in svc["flags"]:
        svc["flags"].remove(flag)


def set_command(ctx, ce, cmd):
    if ce["cmd"] != CMD_NONE:
        fail(ctx, 2, "multiple commands specified")
    ce["cmd"] = cmd


def set_option(ctx, state, option):
    if state["options"] & option:
        name = OPTNAMES[option.bit_length() - 1]
        fail(ctx, 2, "multiple '%s' options specified" % name)
    state["options"] |= option


def parse_subject(ctx, text, what):
    if text.startswith("ipset:"):
        return {"ipset": text[len("ipset:"):][:31], "subject": None}
    tmp = {"af": 0, "addr": None, "port": 0, "netmask": 0}
    if not parse_service(text, tmp, 0) & SERVICE_ADDR:
        fail(ctx, 2, "illegal %s entry format, require [ IP | ipset:NAME ]" % what)
    return {"ipset": "", "subject": tmp["addr"]}


def parse_options(ctx, argv, ce, state):
    """Returns 0, or -1 after popt printed an error; fail() raises Exit."""
    svc = ce["svc"]
    popt = Popt(argv)
    tag, arg = popt.get()
    if tag is None or tag == "error":
        tryhelp_exit(ctx, argv[0])
    if tag in FIRST_CMDS:
        set_command(ctx, ce, FIRST_CMDS[tag])
    elif tag in ("start-daemon", "stop-daemon"):
        set_command(ctx, ce, CMD_STARTDAEMON if tag == "start-daemon" else CMD_STOPDAEMON)
        if arg not in ("master", "backup"):
            fail(ctx, 2, "illegal start-daemon parameter specified" if tag == "start-daemon"
                 else "illegal start_daemon specified")
    elif tag == "h":
        ctx.out.o(VERSION_LINE + USAGE_HEAD % {"p": argv[0]} + USAGE_BODY)
        raise Exit(0)
    elif tag == "v":
        ctx.out.o(VERSION_LINE)
        raise Exit(0)
    else:
        tryhelp_exit(ctx, argv[0])

    while True:
        tag, arg = popt.get()
        if tag is None:
            break
        if tag == "error":
            ctx.out.e("%s: %s\n" % (popt.bad(), POPT_ERRORS[arg]))
            return -1
        if tag in ("t", "u", "q", "1", "sctp"):
            set_option(ctx, state, OPT_SERVICE)
            svc["proto"] = {"t": IPPROTO_TCP, "u": IPPROTO_UDP, "q": IPPROTO_ICMP,
                            "1": IPPROTO_ICMPV6, "sctp": IPPROTO_SCTP}[tag]
            if not parse_service(arg, svc, svc["proto"]) & SERVICE_ADDR:
                fail(ctx, 2, "illegal virtual server address[:port] specified")
        elif tag == "H":
            set_option(ctx, state, OPT_SERVICE)
            if parse_match_snat(arg, svc) != 0:
                fail(ctx, 2, "illegal match specified")
        elif tag == "f":
            set_option(ctx, state, OPT_SERVICE)
            svc["af"], svc["proto"] = AF_INET, IPPROTO_TCP
            mark = string_to_number(arg, 1, 2 ** 32 - 1)
            if mark == -1:
                fail(ctx, 2, "invalid fwmark value `%s' specified" % arg)
            svc["fwmark"] = mark
            svc["addr"] = "0.0.0.0"
        elif tag == "s":
            set_option(ctx, state, OPT_SCHEDULER)
            svc["sched"] = arg[:15]
            if svc["sched"].startswith("conhash"):
                set_flag(svc, "sip")
        elif tag == "p":
            set_option(ctx, state, OPT_PERSISTENT)
            set_flag(svc, "persistent")
            if arg is None:
                svc["timeout"] = IPVS_SVC_PERSISTENT_TIMEOUT
            else:
                value = string_to_number(arg, 1, MAX_TIMEOUT)
                if value == -1:
                    fail(ctx, 2, "invalid timeout value `%s' specified" % arg)
                svc["timeout"] = value
        elif tag == "M":
            set_option(ctx, state, OPT_NETMASK)
            if svc["af"] != AF_INET6:
                packed = inet_aton(arg)
                if packed is None:
                    fail(ctx, 2, "illegal virtual server persistent mask specified")
                svc["netmask"] = int.from_bytes(packed, "big")
            else:
                svc["netmask"] = _atoi(arg)
                if not 1 <= svc["netmask"] <= 128:
                    fail(ctx, 2, "illegal ipv6 netmask specified")
        elif tag == "r":
            set_option(ctx, state, OPT_SERVER)
            tmp = {"af": 0, "addr": None, "port": 0, "netmask": 0}
            if not parse_service(arg, tmp, svc["proto"]) & SERVICE_ADDR:
                fail(ctx, 2, "illegal real server address[:port] specified")
            ce["dest"].update({"af": tmp["af"], "addr": tmp["addr"], "port": tmp["port"]})
        elif tag in ("i", "g", "b", "J", "m"):
            set_option(ctx, state, OPT_FORWARD)
            ce["dest"]["fwd"] = {"i": "tunnel", "g": "droute", "b": "fullnat", "J": "snat",
                                 "m": "masq"}[tag]
        elif tag in ("w", "x", "y"):
            option, field, high, what = {
                "w": (OPT_WEIGHT, "weight", 65535, "weight"),
                "x": (OPT_UTHRESHOLD, "max_conn", INT_MAX, "u_threshold"),
                "y": (OPT_LTHRESHOLD, "min_conn", INT_MAX, "l_threshold")}[tag]
            set_option(ctx, state, option)
            value = string_to_number(arg, 0, high)
            if value == -1:
                fail(ctx, 2, "illegal %s specified" % what)
            ce["dest"][field] = value
        elif tag == "c":
            set_option(ctx, state, OPT_CONNECTION)
        elif tag == "n":
            set_option(ctx, state, OPT_NUMERIC)
            state["format"] |= FMT_NUMERIC
        elif tag == "mcast":
            set_option(ctx, state, OPT_MCAST)
        elif tag == "I":
            set_option(ctx, state, OPT_SYNCID)
            if string_to_number(arg, 0, 255) == -1:
                fail(ctx, 2, "illegal syncid specified")
        elif tag in ("timeout", "daemon", "stats", "rate", "thresholds", "pconn", "nosort", "X"):
            option, fmt = {
                "timeout": (OPT_TIMEOUT, 0), "daemon": (OPT_DAEMON, 0),
                "stats": (OPT_STATS, FMT_STATS), "rate": (OPT_RATE, FMT_RATE),
                "thresholds": (OPT_THRESHOLDS, FMT_THRESHOLDS),
                "pconn": (OPT_PERSISTENTCONN, FMT_PERSISTENTCONN),
                "nosort": (OPT_NOSORT, FMT_NOSORT), "X": (OPT_EXACT, FMT_EXACT)}[tag]
            set_option(ctx, state, option)
            state["format"] |= fmt
        elif tag == "sockpair":
            set_option(ctx, state, OPT_SOCKPAIR)
            if not _sockpair_ok(arg):
                fail(ctx, 2, "illegal sockpair<af:sip:sport:tip:tport> specified")
            ce["sockpair"] = arg
        elif tag == "sort":
            pass
        elif tag == "6":
            svc["af"] = AF_INET6
            if svc["fwmark"]:
                svc["netmask"] = 128
            else:
                fail(ctx, 2, "-6 used before -f\n")
        elif tag == "o":
            set_option(ctx, state, OPT_ONEPACKET)
            set_flag(svc, "ops")
        elif tag == "pe":
            set_option(ctx, state, OPT_PERSISTENCE_ENGINE)
        elif tag == "z":
            set_option(ctx, state, OPT_LOCAL_ADDRESS)
            tmp = {"af": 0, "addr": None, "port": 0, "netmask": 0}
            if not parse_service(arg, tmp, 0) & SERVICE_ADDR:
                fail(ctx, 2, "illegal local address")
            ce["laddr"].update({"af": tmp["af"], "addr": tmp["addr"]})
        elif tag == "k":
            set_option(ctx, state, OPT_BLKLST_ADDRESS)
            ce["blklst"] = parse_subject(ctx, arg, "blacklist")
        elif tag == "2":
            set_option(ctx, state, OPT_WHTLST_ADDRESS)
            ce["whtlst"] = parse_subject(ctx, arg, "whitelist")
        elif tag == "F":
            set_option(ctx, state, OPT_IFNAME)
            ce["laddr"]["ifname"] = arg[:15]
        elif tag == "j":
            set_option(ctx, state, OPT_SYNPROXY)
            if arg.startswith("enable"):
                set_flag(svc, "synproxy")
            elif arg.startswith("disable"):
                set_flag(svc, "synproxy", False)
            else:
                fail(ctx, 2, "synproxy switch must be enable or disable\n")
        elif tag == "hash-target":
            set_option(ctx, state, OPT_HASHTAG)
            if svc["sched"] != "conhash":
                fail(ctx, 2, "hash target can only be set when schedule is conhash\n")
            if arg.startswith("sip"):
                set_flag(svc, "sip")
                set_flag(svc, "qid", False)
            elif arg.startswith("qid"):
                if svc["proto"] != IPPROTO_UDP:
                    fail(ctx, 2, "qid hash can only be set in udp service\n")
                set_flag(svc, "qid")
                set_flag(svc, "sip", False)
            else:
                fail(ctx, 2, "hash target not support\n")
        elif tag == "cpu":
            set_option(ctx, state, OPT_CPU)
            ce["index"] = _atoi(arg)
        elif tag == "expire-quiescent":
            set_option(ctx, state, OPT_EXPIRE_QUIESCENT_CONN)
            set_flag(svc, "expire-quiescent")
        elif tag == "quic":
            set_flag(svc, "quic")
        elif tag == "dest-check":
            if parse_dest_check(arg, svc["check"]) != 0:
                fail(ctx, 2, "invalid dest_check config")
        elif tag == "conn-timeout":
            svc["conn_timeout"] = arg & M32
        elif tag == "proxy-protocol":
            svc["proxy_protocol"] = arg if arg in PP_TYPES[1:] else ""
        else:
            fail(ctx, 2, "invalid option `%s'" % popt.bad())

    if ce["cmd"] == CMD_TIMEOUT:
        values = [popt.get_arg() for _i in range(3)]
        if None in values:
            fail(ctx, 2, "--set option requires 3 timeout values")
        for value in values:
            if string_to_number(value, 0, MAX_TIMEOUT) == -1:
                fail(ctx, 2, "invalid timeout value `%s' specified" % value)
    extra = popt.get_arg()
    if extra is not None:
        fail(ctx, 2, "unexpected argument %s" % extra)
    return 0


def _atoi(text):
    from .common import atoi
    return atoi(text)


def _sockpair_ok(text):
    proto, _sep, rest = text.partition(":")
    if not proto.startswith(("tcp", "udp", "sctp")):
        return False
    af = AF_INET6 if "[" in rest else AF_INET
    parts = []
    if af == AF_INET:
        parts = rest.split(":")
        if len(parts) != 4:
            return False
        sip, sport, tip, tport = parts
    else:
        try:
            sip, rest = rest[1:].split("]:", 1)
            sport, rest = rest.split(":", 1)
            tip, tport = rest[1:].split("]:", 1)
        except ValueError:
            return False
    return (pton(af, sip) is not None and pton(af, tip) is not None
            and string_to_number(sport, 0, 65535) != -1
            and string_to_number(tport, 0, 65535) != -1)


def generic_opt_check(ctx, cmd, options):
    row = LEGAL[cmd - 1]
    last, count = 0, 0
    for j in range(32):
        legal = row[j]
        if not options & (1 << j):
            if legal == "+":
                fail(ctx, 2, "You need to supply the '%s' option for the '%s' command"
                     % (OPTNAMES[j], CMDNAMES[cmd - 1]))
        else:
            if legal == "x":
                fail(ctx, 2, "Illegal '%s' option with the '%s' command"
                     % (OPTNAMES[j], CMDNAMES[cmd - 1]))
            if legal == "1":
                count += 1
                if count == 1:
                    last = j
                    continue
                fail(ctx, 2, "The option '%s' conflicts with the '%s' option in the '%s' command"
                     % (OPTNAMES[j], OPTNAMES[last], CMDNAMES[cmd - 1]))


def svc_key(svc):
    af = svc["af"] or AF_INET
    return {"af": af, "proto": svc["proto"], "addr": svc["addr"] or ("::" if af == AF_INET6 else "0.0.0.0"),
            "port": svc["port"], "fwmark": svc["fwmark"], "match": svc["match"]}


def svc_conf(svc):
    conf = svc_key(svc)
    conf.update({"sched": svc["sched"], "flags": list(svc["flags"]), "timeout": svc["timeout"],
                 "netmask": svc["netmask"], "conn_timeout": svc["conn_timeout"],
                 "proxy_protocol": svc["proxy_protocol"], "check": list(svc["check"])})
    return conf


# -- the commands ---------------------------------------------------------------------------------------
def process_options(ctx, argv, reading_stdin):
    ce = new_entry()
    state = {"options": 0, "format": 0}
    if parse_options(ctx, argv, ce, state):
        return -1
    options, fmt, svc = state["options"], state["format"], ce["svc"]
    generic_opt_check(ctx, ce["cmd"], options)
    cmd = ce["cmd"]

    if cmd in (CMD_ADD, CMD_EDIT):
        if (not svc["fwmark"] and not svc["port"] and "persistent" not in svc["flags"]
                and not svc["match"]):
            fail(ctx, 2, "Zero port specified for no-match and non-persistent service")
        if "ops" in svc["flags"] and not svc["fwmark"] and svc["proto"] != IPPROTO_UDP:
            fail(ctx, 2, "One-Packet Scheduling is only for UDP virtual services")
        if not svc["sched"]:
            svc["sched"] = "wlc"
    # the destination port must be the service port for tunnel and DR (not with fwmark)
    if cmd in (CMD_ADDDEST, CMD_EDITDEST) and not svc["fwmark"] and ce["dest"]["fwd"] in ("tunnel", "droute"):
        ce["dest"]["port"] = svc["port"]

    rt = ctx.rt
    result = 0
    err_text = "Success"
    if cmd == CMD_LIST:
        if ((options & (OPT_CONNECTION | OPT_TIMEOUT | OPT_DAEMON)
             and options & (OPT_STATS | OPT_RATE | OPT_THRESHOLDS))
                or (options & (OPT_TIMEOUT | OPT_DAEMON) and options & OPT_PERSISTENTCONN)):
            fail(ctx, 2, "options conflicts in the list command")
        if options & OPT_CONNECTION:
            if options & OPT_SOCKPAIR:
                ctx.out.e("connection specified not found\n")
            # no traffic, no connections: nothing to list
        elif options & OPT_SERVICE:
            list_service(ctx, svc, fmt)
        elif options & (OPT_TIMEOUT | OPT_DAEMON):
            raise Exit(1)  # dpvs_get_timeout()/dpvs_get_daemon() return NULL in DPVS
        else:
            list_all(ctx, fmt)
        return 0
    if cmd == CMD_RESTORE:
        return restore_table(ctx, argv, reading_stdin)
    if cmd == CMD_SAVE:
        list_all(ctx, fmt | FMT_RULE)
        return 0
    if cmd == CMD_FLUSH:
        result = ctx.so(SO_SVC_FLUSH, ipvs.svc_flush(rt))
    elif cmd == CMD_ADD:
        result = ctx.so(SO_SVC_ADD, ipvs.svc_add(rt, svc_conf(svc)))
    elif cmd == CMD_EDIT:
        result = update_service_by_options(ctx, svc, options)
    elif cmd == CMD_DEL:
        result = ctx.so(SO_SVC_DEL, ipvs.svc_del(rt, svc_key(svc)))
    elif cmd == CMD_ZERO:
        key = svc_key(svc) if svc["addr"] or svc["fwmark"] or svc["match"] else {}
        result = ctx.so(SO_SVC_ZERO, ipvs.svc_zero(rt, key))
    elif cmd in (CMD_ADDDEST, CMD_EDITDEST, CMD_DELDEST):
        handler, msgid = {CMD_ADDDEST: (ipvs.dest_add, SO_ADDDEST),
                          CMD_EDITDEST: (ipvs.dest_edit, SO_EDITDEST),
                          CMD_DELDEST: (ipvs.dest_del, SO_DELDEST)}[cmd]
        result = ctx.so(msgid, handler(rt, svc_key(svc), dict(ce["dest"])))
    elif cmd in (CMD_TIMEOUT, CMD_STARTDAEMON, CMD_STOPDAEMON):
        result = -1  # plain setsockopt() on a closed fd in DPVS's libipvs
        err_text = os.strerror(errno.EBADF)
    elif cmd in (CMD_ADDLADDR, CMD_DELLADDR):
        result = laddr_cmd(ctx, cmd, svc, ce["laddr"])
    elif cmd == CMD_GETLADDR:
        if options & OPT_SERVICE:
            list_laddrs(ctx, svc)
        else:
            list_all_laddrs(ctx)
    elif cmd in (CMD_ADDBLKLST, CMD_DELBLKLST, CMD_ADDWHTLST, CMD_DELWHTLST):
        table = "blklst" if cmd in (CMD_ADDBLKLST, CMD_DELBLKLST) else "whtlst"
        key = svc_key(svc)
        entry = dict(ce[table])
        entry.update({"af": key["af"], "proto": key["proto"], "vaddr": key["addr"],
                      "vport": key["port"]})
        if cmd in (CMD_ADDBLKLST, CMD_ADDWHTLST):
            msgid = SO_BLKLST_ADD if table == "blklst" else SO_WHTLST_ADD
            result = ctx.so(msgid, ipvs.list_add(rt, table, entry))
        else:
            msgid = SO_BLKLST_DEL if table == "blklst" else SO_WHTLST_DEL
            result = ctx.so(msgid, ipvs.list_del(rt, table, entry))
    elif cmd in (CMD_GETBLKLST, CMD_GETWHTLST):
        table = "blklst" if cmd == CMD_GETBLKLST else "whtlst"
        list_lists(ctx, table, svc if options & OPT_SERVICE else None)
    if cmd not in (CMD_GETLADDR, CMD_GETBLKLST, CMD_GETWHTLST) and result == 0:
        ctx.dirty = True
    if result:
        ctx.out.e(err_text + "\n")
    return result


def update_service_by_options(ctx, svc, options):
    """libipvs dpvs_update_service_by_options(): fetch, overlay the given options, EDIT."""
    code, entry = ipvs.get_service(ctx.rt, svc_key(svc))
    if ctx.so(SO_GET_SERVICE, code):
        ctx.out.e("Success\n")
        return ESOCKOPT_INVAL
    entry = dict(entry)
    flags = list(entry["flags"])
    if options & OPT_SCHEDULER:
        entry["sched"] = svc["sched"]
        if svc["sched"] != "conhash":
            flags = [f for f in flags if f not in ("sip", "qid")]
        elif "sip" not in flags:
            flags.append("sip")
    if options & OPT_PERSISTENT:
        if "persistent" not in flags:
            flags.append("persistent")
        entry["timeout"] = svc["timeout"]
    entry["conn_timeout"] = svc["conn_timeout"]
    entry["proxy_protocol"] = svc["proxy_protocol"]
    if options & OPT_NETMASK:
        entry["netmask"] = svc["netmask"]
    for option, flag in ((OPT_SYNPROXY, "synproxy"), (OPT_EXPIRE_QUIESCENT_CONN, "expire-quiescent")):
        if options & option:
            flags = [f for f in flags if f != flag] + ([flag] if flag in svc["flags"] else [])
    if options & OPT_ONEPACKET and "ops" not in flags:
        flags.append("ops")
    if options & OPT_HASHTAG:
        flags = [f for f in flags if f not in ("sip", "qid")]
        flags.append("qid" if "qid" in svc["flags"] and "sip" not in svc["flags"] else "sip")
    if svc["check"][0]:
        entry["check"] = list(svc["check"])
    entry["flags"] = flags
    return ctx.so(SO_SVC_EDIT, ipvs.svc_edit(ctx.rt, entry))


def laddr_cmd(ctx, cmd, svc, laddr):
    """libipvs dpvs_add_laddr()/dpvs_del_laddr(): the NIC address first (result ignored)."""
    rt = ctx.rt
    af = laddr["af"]
    packed = pton(af, laddr["addr"])
    plen = 32 if af == AF_INET else 128
    if cmd == CMD_ADDLADDR:
        ctx.so(SO_IFADDR_ADD, netstack.addr_add(rt, af, packed, plen, laddr["ifname"], sapool=True))
        ctx.dirty = True
        return ctx.so(SO_LADDR_ADD, ipvs.laddr_add(rt, svc_key(svc), af, laddr["addr"],
                                                   laddr["ifname"]))
    ctx.so(SO_IFADDR_DEL, netstack.addr_del(rt, af, packed, plen, laddr["ifname"]))
    ctx.dirty = True
    return ctx.so(SO_LADDR_DEL, ipvs.laddr_del(rt, svc_key(svc), af, laddr["addr"]))


def restore_table(ctx, argv, reading_stdin):
    if reading_stdin:
        tryhelp_exit(ctx, argv[0])
    result = 0
    for line in ctx.stdin or ():
        words = split_line(line.rstrip("\n"))
        if len(words) >= 1:
            result = process_options(ctx, [argv[0], *words], True)
        ctx.out.flush_err()  # stderr is unbuffered in C: a line's complaints leave before the next line is read
    return result


class StdinLines(object):
    """config_stream_read() over stdin: one line at a time, as ipvsadm -R reads it (a line that makes
    it exit leaves the rest unread, and what it writes on stderr leaves as it goes). ``text()``: the
    lines read, for the command log."""

    def __init__(self, stream):
        self.stream = iter(stream)
        self.lines = []
        self.first = None

    def wait_first(self):
        """Block until the first line (or EOF) is there, before the caller takes the state lock: in
        `ipvsadm -S | ipvsadm -R`, -S writes once it has let go of the lock."""
        self.first = next(self.stream, "")

    def __iter__(self):
        if self.first is None:
            self.wait_first()
        if self.first:
            self.lines.append(self.first)
            yield self.first
        for line in self.stream:
            self.lines.append(line)
            yield line

    def text(self):
        return "".join(self.lines)


def split_line(line):
    """config_stream_read(): whitespace separated words, quotes group."""
    words, cur, quote, have = [], [], None, False
    for ch in line:
        if quote:
            if ch == quote:
                quote = None
            else:
                cur.append(ch)
        elif ch in "\"'":
            quote, have = ch, True
        elif ch.isspace():
            if cur or have:
                words.append("".join(cur))
            cur, have = [], False
        else:
            cur.append(ch)
    if cur or have:
        words.append("".join(cur))
    return words


# -- listings ---------------------------------------------------------------------------------------------
def _s32(value):
    value &= M32
    return value - (1 << 32) if value & 0x80000000 else value


def _addr_words(af, text):
    packed = pton(af, text)
    return [int.from_bytes(packed[i:i + 4], "big") for i in range(0, len(packed), 4)]


def _cmp_addr(af, a, b):
    r = 0
    wa, wb = _addr_words(af, a), _addr_words(af, b)
    if af == AF_INET6:
        for i in range(4):
            r = _s32(wa[i] - wb[i])
            if r:
                break
    else:
        r = _s32(wa[0] - wb[0])
    return r


def cmp_to_key(cmp):
    """functools.cmp_to_key() without importing functools (start-up time)."""

    class Key(object):
        __slots__ = ("obj",)

        def __init__(self, obj):
            self.obj = obj

        def __lt__(self, other):
            return cmp(self.obj, other.obj) < 0

    return Key


def cmp_services(s1, s2):
    """libipvs dpvs_cmp_services(), int overflow included."""
    r = _s32(s1["fwmark"] - s2["fwmark"])
    if r:
        return r
    r = s1["af"] - s2["af"]
    if r:
        return r
    r = s1["proto"] - s2["proto"]
    if r:
        return r
    r = _cmp_addr(s1["af"], s1["addr"], s2["addr"])
    if r:
        return r
    return s1["port"] - s2["port"]


def cmp_dests(d1, d2):
    if d1["af"] != d2["af"]:
        # the C code compares the raw words of mixed families; keep IPv4 first
        return d1["af"] - d2["af"]
    r = _cmp_addr(d1["af"], d1["addr"], d2["addr"])
    if r:
        return r
    return d1["port"] - d2["port"]


def print_largenum(out, value, fmt):
    if fmt & FMT_EXACT:
        text = "%d" % value
        out.append(text.rjust(9 if len(text) <= 8 else len(text) + 1))
        return
    if value < 100000000:
        out.append("%9d" % value)
    elif value < 1000000000:
        out.append("%8dK" % (value // 1000))
    elif value < 100000000000:
        out.append("%8dM" % (value // 1000000))
    elif value < 100000000000000:
        out.append("%8dG" % (value // 1000000000))
    else:
        out.append("%8dT" % (value // 1000000000000))


def print_title(ctx, fmt):
    if fmt & FMT_STATS:
        ctx.out.o("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n" % (
            "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"))
    elif fmt & FMT_RATE:
        ctx.out.o("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n" % (
            "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"))
    elif fmt & FMT_THRESHOLDS:
        ctx.out.o("%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n" % (
            "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"))
    elif fmt & FMT_PERSISTENTCONN:
        ctx.out.o("%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n" % (
            "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"))
    elif not fmt & FMT_RULE:
        ctx.out.o("Prot LocalAddress:Port Scheduler Flags\n"
                  "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")


def _netmask_text(svc):
    return ntop(AF_INET, svc["netmask"].to_bytes(4, "big"))


def service_name(svc, fmt):
    af, proto = svc["af"], svc["proto"]
    if svc["fwmark"]:
        if fmt & FMT_RULE:
            return "-f %d" % svc["fwmark"] + (" -6" if af == AF_INET6 else "")
        return "FWM  %d" % svc["fwmark"] + (" IPv6" if af == AF_INET6 else "")
    packed = pton(af, svc["addr"])
    if any(packed[:4]) or svc["port"]:
        vname = addrport_to_anyname(af, svc["addr"], svc["port"], proto, fmt)
        if fmt & FMT_RULE:
            flag = {IPPROTO_TCP: "-t", IPPROTO_UDP: "-u", IPPROTO_SCTP: "--sctp-service"}.get(
                proto, "-q")
            return "%s %s" % (flag, vname)
        name = {IPPROTO_TCP: "TCP", IPPROTO_UDP: "UDP", IPPROTO_SCTP: "SCTP",
                IPPROTO_ICMP: "ICMP"}.get(proto, "ICMPv6")
        text = "%s  %s" % (name, vname)
        return text[:33] if af != AF_INET6 else text
    match = svc["match"] or {}
    maf = match.get("af", af)
    srange = range_dump(match.get("srange"), maf)
    drange = range_dump(match.get("drange"), maf)
    pname = PROTO_NAMES.get(proto, "icmpv6")
    if fmt & FMT_RULE:
        return "-H proto=%s,src-range=%s,dst-range=%s,iif=%s,oif=%s" % (
            pname, srange, drange, match.get("iif", ""), match.get("oif", ""))
    text = "MATCH %s" % pname
    if srange not in ("[::-::]:0-0", "0.0.0.0-0.0.0.0:0-0"):
        text += ",from=%s" % srange
    if drange not in ("[::-::]:0-0", "0.0.0.0-0.0.0.0:0-0"):
        text += ",to=%s" % drange
    if match.get("iif"):
        text += ",iif=%s" % match["iif"]
    if match.get("oif"):
        text += ",oif=%s" % match["oif"]
    return text


def _check_text(check):
    types = check[0]
    text = " dest-check"
    if types & HC_PASSIVE:
        text += " internal:"
        if tuple(check[1:]) == HC_DEFAULT:
            text += "default"
        elif check[2] == 0 and check[4] == 0:
            text += "%d,%ds" % (check[1], check[3])
        else:
            text += "%d,%d,%ds,%d-%ds" % tuple(check[1:])
    names = [n for bit, n in ((HC_TCP, "tcp"), (HC_UDP, "udp"), (HC_SCTP, "sctp"),
                              (HC_PING, "ping")) if types & bit]
    if names:
        text += " external:" + ",".join(names)
    return text


def print_service_entry(ctx, svc, fmt):
    out = []
    name = service_name(svc, fmt)
    flags = svc["flags"]
    if fmt & FMT_RULE:
        out.append("-A %s -s %s" % (name, svc["sched"]))
        if "persistent" in flags:
            out.append(" -p %u" % svc["timeout"])
            if svc["af"] == AF_INET and svc["netmask"] != NETMASK_ALL:
                out.append(" -M %s" % _netmask_text(svc))
            if svc["af"] == AF_INET6 and svc["netmask"] != 128:
                out.append(" -M %i" % svc["netmask"])
        if "ops" in flags:
            out.append(" --ops")
    elif fmt & (FMT_STATS | FMT_RATE):
        out.append("%-33s" % name)
        for _i in range(5):
            print_largenum(out, 0, fmt)
    else:
        out.append("%s %s" % (name, svc["sched"]))
        if "sip" in flags:
            out.append(" sip")
        if "qid" in flags:
            out.append(" qid")
        if "persistent" in flags:
            out.append(" persistent %u" % svc["timeout"])
            if svc["af"] == AF_INET and svc["netmask"] != NETMASK_ALL:
                out.append(" mask %s" % _netmask_text(svc))
            if svc["af"] == AF_INET6 and svc["netmask"] != 128:
                out.append(" mask %i" % svc["netmask"])
        if "ops" in flags:
            out.append(" ops")
        if "synproxy" in flags:
            out.append(" synproxy")
        if svc["conn_timeout"]:
            out.append(" conn-timeout %u" % svc["conn_timeout"])
        if svc["proxy_protocol"]:
            out.append(" pp%s" % svc["proxy_protocol"])
        if "expire-quiescent" in flags:
            out.append(" expire-quiescent")
        if "quic" in flags and svc["proto"] == IPPROTO_UDP:
            out.append(" quic")
        if svc["check"][0]:
            out.append(_check_text(svc["check"]))
    out.append("\n")

    dests = list(svc["dests"])
    if not fmt & FMT_NOSORT:
        dests.sort(key=cmp_to_key(cmp_dests))
    for dest in dests:
        dname = addrport_to_anyname(dest["af"], dest["addr"], dest["port"], svc["proto"], fmt)
        if not fmt & FMT_RULE and svc["af"] != AF_INET6:
            dname = dname[:28]
        if fmt & FMT_RULE:
            out.append("-a %s -r %s %s -w %d\n" % (name, dname, FWD_SWITCH[dest["fwd"]],
                                                   dest["weight"]))
        elif fmt & FMT_STATS:
            out.append("  -> %-28s" % dname)
            for _i in range(5):
                print_largenum(out, 0, fmt)
            out.append("\n")
        elif fmt & FMT_RATE:
            out.append("  -> %-28s %8u %8u %8u" % (dname, 0, 0, 0))
            print_largenum(out, 0, fmt)
            print_largenum(out, 0, fmt)
            out.append("\n")
        elif fmt & FMT_THRESHOLDS:
            out.append("  -> %-28s %-10u %-10u %-10u %-10u\n" % (
                dname, dest["max_conn"], dest["min_conn"], 0, 0))
        elif fmt & FMT_PERSISTENTCONN:
            out.append("  -> %-28s %-9u %-11u %-10u %-10u\n" % (dname, dest["weight"], 0, 0, 0))
        else:
            out.append("  -> %-28s %-7s %-6d %-10u %-10u\n" % (
                dname, FWD_NAME[dest["fwd"]], dest["weight"], 0, 0))
    ctx.out.o("".join(out))


def list_all(ctx, fmt):
    if not fmt & FMT_RULE:
        ctx.out.o("IP Virtual Server version %s (size=0)\n" % DPVS_VERSION)
    svcs = ipvs.services(ctx.rt)
    if not fmt & FMT_NOSORT:
        svcs = sorted(svcs, key=cmp_to_key(cmp_services))
    print_title(ctx, fmt)
    for svc in svcs:
        print_service_entry(ctx, svc, fmt)


def _get_service_or_exit(ctx, svc):
    code, found = ipvs.get_service(ctx.rt, svc_key(svc))
    if ctx.so(SO_GET_SERVICE, code):
        ctx.out.e("Success\n")
        raise Exit(1)
    return found


def list_service(ctx, svc, fmt):
    found = _get_service_or_exit(ctx, svc)
    print_title(ctx, fmt)
    print_service_entry(ctx, found, fmt)


def _laddrs_block(ctx, svc, with_title):
    if with_title:
        ctx.out.o("%-20s %-8s %-20s %-10s %-10s\n" % ("VIP:VPORT", "TOTAL", "SNAT_IP",
                                                      "CONFLICTS", "CONNS"))
    vname = addrport_to_anyname(svc["af"], svc["addr"], svc["port"], svc["proto"], FMT_NUMERIC)
    ctx.out.o("%-20s %-8u \n" % (vname, len(svc["laddrs"])))
    for laddr in svc["laddrs"]:
        ctx.out.o("%-20s %-8s %-20s %-10u %-10u\n" % ("", "", laddr["addr"], 0, 0))


def list_laddrs(ctx, svc):
    _laddrs_block(ctx, _get_service_or_exit(ctx, svc), True)


def list_all_laddrs(ctx):
    for index, svc in enumerate(ipvs.services(ctx.rt)):
        _laddrs_block(ctx, svc, index == 0)


def list_lists(ctx, table, svc):
    title = "BLACKLIST" if table == "blklst" else "WHITELIST"
    ctx.out.o("%-8s %-30s %-30s\n" % ("PROTO", "VIP:VPORT", title))
    keys = [svc_key(svc)] if svc else ipvs.services(ctx.rt)
    for key in keys:
        for entry in ctx.rt[table]:
            if (entry["af"] == key["af"] and entry["vaddr"] == key["addr"]
                    and entry["vport"] == key["port"] and entry["proto"] == key["proto"]):
                proto = {IPPROTO_TCP: "TCP", IPPROTO_UDP: "UDP", IPPROTO_SCTP: "SCTP",
                         IPPROTO_ICMP: "ICMP", IPPROTO_ICMPV6: "IMCPv6"}.get(entry["proto"], "")
                if entry["af"] == AF_INET6:
                    vip = "[%s]:%u" % (entry["vaddr"], entry["vport"])
                else:
                    vip = "%s:%u" % (entry["vaddr"], entry["vport"])
                subject = "ipset:%s" % entry["ipset"] if entry["ipset"] else entry["subject"]
                ctx.out.o("%-8s %-30s %-30s\n" % (proto, vip, subject))


# -- entry point ------------------------------------------------------------------------------------------
def main(argv):
    out = Out()
    prog = prog_name(argv[0], "ipvsadm")
    args = argv[1:]
    stdin_lines = None
    if any(a in ("-R", "--restore") for a in args):
        stdin_lines = StdinLines(() if sys.stdin.isatty() else sys.stdin)
        stdin_lines.wait_first()
    code = 0
    try:
        with Locked() as lock:
            doc = lock.doc
            errno_ = connect_errno(doc, ipc_path())
            if errno_:
                out.e("[dpvs_getsockopt] scoket msg connection error: %s\n" % os.strerror(errno_))
                out.e("Can't initialize ipvs: %s\nAre you sure that dpvs is running?\n"
                      % os.strerror(errno_))
                code = 2
            else:
                ctx = Ctx(prog, doc, out)
                ctx.stdin = stdin_lines
                try:
                    if not args:
                        list_all(ctx, 0)
                        code = 0
                    else:
                        code = process_options(ctx, [prog, *args], False)
                except Exit as exc:
                    code = exc.code
                if ctx.dirty:
                    lock.save(doc)
    finally:
        out.flush()
    code &= 0xFF
    log_invocation("ipvsadm", args, code, None if stdin_lines is None else stdin_lines.text())
    return code
