"""dpip (DPVS v1.10.2, "dpip-1.10-2"): tool side, after tools/dpip/*.c.

Errors are ``<prog>: <dpvs_strerror(code)>`` with exit 1, where ``<prog>`` is argv[0] after its
first '/'. Every request that reaches the daemon goes through ``Ctx.get/set``: the connection
check (daemon down -> "scoket msg connection error") and the sockopt library error line.
"""
# ruff: noqa: UP031 (printf-style formats mirror the C tools' printf calls)

import os
import time

from . import netstack
from .common import (
    AF_INET,
    AF_INET6,
    AF_UNSPEC,
    EDPVS_INVAL,
    EDPVS_NOTEXIST,
    EDPVS_NOTSUPP,
    EDPVS_OK,
    ESOCKOPT_IO,
    SO_IFADDR_ADD,
    SO_IFADDR_DEL,
    SO_IFADDR_FLUSH,
    SO_IFADDR_SET,
    SO_IFADDR_SHOW,
    SO_NEIGH_ADD,
    SO_NEIGH_DEL,
    SO_NEIGH_SHOW,
    SO_NETIF_BOND_STATUS,
    SO_NETIF_LCORE_BASIC,
    SO_NETIF_LCORE_MASK,
    SO_NETIF_PORT_BASIC,
    SO_NETIF_PORT_EXT_INFO,
    SO_NETIF_PORT_LIST,
    SO_NETIF_PORT_STATS,
    SO_NETIF_SET_PORT,
    SO_ROUTE6_ADD_DEL,
    SO_ROUTE6_FLUSH,
    SO_ROUTE6_SHOW,
    SO_ROUTE_ADD,
    SO_ROUTE_DEL,
    SO_ROUTE_FLUSH,
    SO_ROUTE_SET,
    SO_ROUTE_SHOW,
    SO_VLAN_ADD,
    SO_VLAN_DEL,
    SO_VLAN_SHOW,
    Out,
    atoi,
    log_invocation,
    ntop,
    prog_name,
    pton,
    pton_try,
    strerror,
)
from .netstack import SCOPE_GLOBAL, SCOPE_HOST, SCOPE_LINK, SCOPE_SITE
from .state import Locked, connect_errno, ipc_path

VERSION = "dpip-1.10-2\n"
USAGE = """Usage:
    dpip [OPTIONS] OBJECT { COMMAND | help }
Parameters:
    OBJECT  := { link | addr | route | neigh | vlan | tunnel | qsch | cls |
                 ipv6 | iftraf | eal-mem | ipset | flow | maddr | lldp }
    COMMAND := { create | destroy | add | del | show (list) | set (change) |
                 replace | flush | test | enable | disable }
Options:
    -v, --verbose
    -h, --help
    -V, --version
    -4, --family=inet
    -6, --family=inet6
    -s, --stats, statistics
    -C, --color
    -F, --force
"""
ADDR_HELP = """Usage:
    dpip addr show [ dev STRING ]
    dpip -6 addr show [ dev STRING ]
    dpip addr { add | set } IFADDR dev STRING [LIFETIME] [ SCOPE ] [FLAGS]
    dpip -6 addr { add | set } IFADDR dev STRING [LIFETIME] [ SCOPE ] [FLAGS]
    dpip addr del IFADDR dev STRING
    dpip -6 addr del IFADDR dev STRING
    dpip addr flush dev STRING
    dpip addr help
Parameters:
    IFADDR    := { PREFIX | ADDR } [ broadcast ADDR ]
    PREFIX    := { ADDR/PLEN }
    SCOPE     := [ scope { host | link | global | NUM } ]
    LIFETIME  := [ valid_lft LFT ] [ preferred_lft LFT ]
    LFT       := forever | SECONDS
    FLAGS     := sapool
"""
ROUTE_HELP = """Usage:
    dpip route { show | help }
    dpip route flush dev IFNAME
    dpip route { add | del | set } ROUTE
Parameters:
    ROUTE      := PREFIX [ via ADDR ] [ dev IFNAME ] [ OPTIONS ]
    PREFIX     := { ADDR/PLEN | ADDR | default }
    OPTIONS    := [ SCOPE | mtu MTU | src ADDR | metric NUM ]
    SCOPE      := [ scope { host | link | global | NUM } ]
Examples:
    dpip route show
    dpip route add default via 10.0.0.1
    dpip route add 172.0.0.0/16 via 172.0.0.3 dev dpdk0
    dpip route add 192.168.0.0/24 dev dpdk0
    dpip -6 route add ffe1::/128 dev dpdk0
    dpip -6 route add 2001:db8:1::/64 via 2001:db8:1::1 dev dpdk0
    dpip route del 172.0.0.0/16
    dpip route set 172.0.0.0/16 via 172.0.0.1
    dpip route flush dev dpdk0
"""
NEIGH_HELP = """Usage:
    dpip neigh show [ dev DEVICE ]
    dpip neigh { add | del } ADDR lladdr LLADDR dev DEVICE
    dpip neigh help
"""
VLAN_HELP = """Usage:
    dpip vlan add [NAME] VLAN-PARAM
    dpip vlan del { NAME | VLAN-PARAM }
    dpip vlan show { NAME | link DEV [ proto VLAN-PROTO ] [ id VLAN-ID ] }
Parameters:
    NAME       := DEV
    DEV        := STRING
    VLAN-PARAM := link DEV [proto VLAN-PROTO] id VLAN-ID
    VLAN-PROTO := { 802.1q | 802.1ad | vlan | QinQ }
    VLAN-ID    := NUMBER

    The default VLAN-PROTO is 802.1q (vlan).
    802.1q equals to vlan, so does 802.1ad and QinQ.
Examples:
    dpip vlan add dpdk0.100 link dpdk0 id 100
    dpip vlan add link dpdk1 proto 802.1q id 100
    dpip vlan del dpdk0.100
    dpip vlan del link dpdk1 id 100
    dpip vlan show dpdk0.100
    dpip vlan show link dpdk1
    dpip vlan show link dpdk1 id 100
"""
LINK_HELP = """Usage:
    dpip link show [ NIC-NAME ]
    dpip link show BOND-NAME status
    dpip -v link show [ NIC-NAME ]
    dpip -s link show [ -i INTERVAL ] [ -c COUNT ] [ NIC-NAME ]
    dpip link show CPU-NAME
    dpip -v link show CPU-NAME
    dpip -s link show [ -i INTERVAL ] [ -c COUNT ]  CPU-NAME
    dpip link set DEV-NAME ITEM VALUE
    ---supported items---
    promisc [on|off], forward2kni [on|off], link [up|down], lldp [up|down]
    allmulticast [on|off], tc-egress [on|off], tc-ingress [on|off], addr,\x20
    bond-[mode|slave|primary|xmit-policy|monitor-interval|link-up-prop|link-down-prop]
Examples:
    dpip link show
    dpip -s -v link show dpdk0
    dpip link show cpu
    dpip -s link show cpu2 -i 3 -c 5
    dpip -s -v link show cpu3 -i 2
    dpip link show bond0 status
    dpip link set dpdk0 promisc on/off
    dpip link set dpdk0 forward2kni on/off
    dpip link set bond0 link up/down
"""
OBJECTS = ("link", "addr", "route", "neigh", "vlan", "tunnel", "qsch", "cls", "ipv6",
           "iftraf", "eal-mem", "ipset", "flow", "maddr", "lldp")
HELPS = {"addr": ADDR_HELP, "route": ROUTE_HELP, "neigh": NEIGH_HELP, "vlan": VLAN_HELP,
         "link": LINK_HELP}
COMMANDS = {"create": "create", "destroy": "destroy", "enable": "enable", "disable": "disable",
            "add": "add", "del": "del", "set": "set", "change": "set", "show": "show",
            "list": "show", "replace": "replace", "flush": "flush", "test": "test",
            "help": "help"}
LONGOPTS = (("verbose", False, "v"), ("help", False, "h"), ("version", False, "V"),
            ("family", True, "f"), ("stats", False, "s"), ("statistics", False, "s"),
            ("color", False, "C"), ("interval", True, "i"), ("count", True, "c"),
            ("force", False, "F"))
SHORTOPTS = {"v": False, "h": False, "V": False, "4": False, "6": False, "f": True, "s": False,
             "i": True, "c": True, "C": False, "D": False, "F": False}


class Exit(Exception):
    def __init__(self, code):
        Exception.__init__(self, code)
        self.code = code


class Conf(object):
    def __init__(self):
        self.af = AF_UNSPEC
        self.verbose = self.stats = False
        self.interval = self.count = 0
        self.obj = self.cmd = None
        self.args = []


class Ctx(object):
    """One dpip run: output, the state document, and the sockopt round trips."""

    def __init__(self, prog, lock, out):
        self.prog = prog
        self.lock = lock
        self.out = out
        self.dirty = False

    @property
    def rt(self):
        return self.lock.doc["rt"]

    def _connect(self, kind):
        err = connect_errno(self.lock.doc, ipc_path())
        if err:
            self.out.e("[dpvs_%ssockopt] scoket msg connection error: %s\n"
                       % (kind, os.strerror(err)))
            return False
        return True

    def call(self, kind, msgid, func, *args):
        """Run the daemon handler ``func(rt, *args)`` -> code or (code, data)."""
        if not self._connect(kind):
            return ESOCKOPT_IO, None
        result = func(self.rt, *args)
        code, data = result if isinstance(result, tuple) else (result, None)
        if code != EDPVS_OK:
            self.out.e("[sockopt_msg_recv] errcode set in socket msg#%d header: %s(%d)\n"
                       % (msgid, strerror(code), code))
        elif kind == "set":
            self.dirty = True
        return code, data

    def get(self, msgid, func, *args):
        return self.call("get", msgid, func, *args)

    def set(self, msgid, func, *args):
        return self.call("set", msgid, func, *args)[0]


# -- argument parsing (GNU getopt_long, permuting) -------------------------------------------------------
def getopt(args, name, out):
    """(options, operands) or raises Exit after dpip's own error handling."""
    opts, operands = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            operands.extend(args[i:])
            break
        if arg.startswith("--"):
            key, eq, value = arg[2:].partition("=")
            exact = [o for o in LONGOPTS if o[0] == key]
            cands = exact or [o for o in LONGOPTS if o[0].startswith(key)]
            if cands and any((c[1], c[2]) != (cands[0][1], cands[0][2]) for c in cands):
                out.e("%s: option '--%s' is ambiguous; possibilities:%s\n" % (
                    name, key, "".join(" '--%s'" % c[0] for c in cands)))
                return _bad(args, i, out)
            if not cands:
                out.e("%s: unrecognized option '--%s'\n" % (name, key))
                return _bad(args, i, out)
            opt = cands[0]
            if opt[1]:
                if not eq:
                    if i >= len(args):
                        out.e("%s: option '--%s' requires an argument\n" % (name, opt[0]))
                        return _bad(args, i, out)
                    value = args[i]
                    i += 1
                opts.append((opt[2], value))
            else:
                if eq:
                    out.e("%s: option '--%s' doesn't allow an argument\n" % (name, opt[0]))
                    return _bad(args, i, out)
                opts.append((opt[2], None))
            continue
        if arg.startswith("-") and len(arg) > 1:
            cluster = arg[1:]
            while cluster:
                char, cluster = cluster[0], cluster[1:]
                if char not in SHORTOPTS:
                    out.e("%s: invalid option -- '%s'\n" % (name, char))
                    return _bad(args, i, out)
                if SHORTOPTS[char]:
                    if cluster:
                        value, cluster = cluster, ""
                    elif i < len(args):
                        value = args[i]
                        i += 1
                    else:
                        out.e("%s: option requires an argument -- '%s'\n" % (name, char))
                        return _bad(args, i, out)
                    opts.append((char, value))
                else:
                    opts.append((char, None))
            continue
        operands.append(arg)
    return opts, operands


def _bad(args, i, out):
    out.e("Invalid option: %s\n" % (args[i] if i < len(args) else "(null)"))
    raise Exit(1)


def parse_args(args, name, out):
    if not args:
        out.e(USAGE)
        raise Exit(0)
    conf = Conf()
    opts, operands = getopt(args, name, out)
    show_usage = False
    for opt, value in opts:
        if opt == "v":
            conf.verbose = True
        elif opt == "h":
            show_usage = True
        elif opt == "V":
            out.o(VERSION)
            raise Exit(0)
        elif opt in ("4", "6"):
            conf.af = AF_INET if opt == "4" else AF_INET6
        elif opt == "f":
            if value == "inet":
                conf.af = AF_INET
            elif value == "inet6":
                conf.af = AF_INET6
            else:
                out.e("invalid family\n")
                raise Exit(1)
        elif opt == "s":
            conf.stats = True
        elif opt == "i":
            conf.interval = atoi(value)
        elif opt == "c":
            conf.count = atoi(value)
        elif opt in ("C", "F"):
            pass
        else:  # 'D' is in the optstring but not handled
            index = args.index("-D") + 1 if "-D" in args else len(args)
            out.e("Invalid option: %s\n" % (args[index] if index < len(args) else "(null)"))
            raise Exit(1)
    if not operands:
        out.e(USAGE)
        raise Exit(1)
    if conf.count and not conf.interval:
        out.e("missing option '-i'\n")
    conf.obj = operands[0]
    if len(operands) < 2 or show_usage:
        out.e(HELPS.get(conf.obj, USAGE))
        raise Exit(1)
    conf.cmd = COMMANDS.get(operands[1])
    if conf.cmd is None:
        out.e("invalid command %s\n" % operands[1])
        raise Exit(1)
    conf.args = operands[2:]
    return conf


class Args(object):
    """conf->argc/argv with NEXTARG/NEXTARG_CHECK."""

    def __init__(self, args, out):
        self.args = list(args)
        self.out = out

    def __bool__(self):
        return bool(self.args)

    __nonzero__ = __bool__

    def cur(self):
        return self.args[0]

    def next(self):
        self.args.pop(0)

    def next_check(self, what):
        """Advance to the value of ``what``; False (after the message) when there is none."""
        self.args.pop(0)
        if not self.args:
            self.out.e("missing argument for `%s'\n" % what)
            return False
        return True


# -- addr ---------------------------------------------------------------------------------------------------
def scope_itoa(scope):
    return {SCOPE_HOST: "host", SCOPE_LINK: "link", SCOPE_SITE: "site",
            SCOPE_GLOBAL: "global"}.get(scope, "%u" % scope)


def af_itoa(af):
    return {AF_INET: "inet", AF_INET6: "inet6"}.get(af, "<unknow>")


def _lft(value, ts, now):
    if not value:
        return "forever"
    return "%u" % max(0, int(value - (now - ts)))


def addr_parse(ctx, conf):
    """addr_parse_args() -> param dict, or None (the caller returns EDPVS_INVAL)."""
    args = Args(conf.args, ctx.out)
    param = {"af": conf.af, "ifname": "", "scope": SCOPE_GLOBAL, "bcast": None, "valid": 0,
             "sapool": False, "addr": None, "plen": 0}
    prefix = None
    while args:
        word = args.cur()
        if word == "dev":
            if not args.next_check("dev"):
                return None
            param["ifname"] = args.cur()[:15]
        elif word == "scope":
            if not args.next_check("scope"):
                return None
            value = args.cur()
            param["scope"] = {"host": SCOPE_HOST, "link": SCOPE_LINK,
                              "global": SCOPE_GLOBAL}.get(value, atoi(value) & 0xFF)
        elif word == "broadcast":
            if not args.next_check("broadcast"):
                return None
            param["af"], packed = pton_try(param["af"], args.cur())
            if packed is None:
                return None
            param["bcast"] = ntop(param["af"], packed)
        elif word in ("valid_lft", "prefered_lft"):
            if not args.next_check(word):
                return None
            value = 0 if args.cur() == "forever" else atoi(args.cur())
            if word == "valid_lft":
                param["valid"] = value & 0xFFFFFFFF
        elif word == "sapool":
            param["sapool"] = True
        else:
            prefix = word
        args.next()
    if conf.cmd in ("add", "del", "set") and prefix is None:
        ctx.out.e("missing IFADDR\n")
        return None
    if prefix is not None:
        addr, slash, plen = prefix.partition("/")
        param["af"], packed = pton_try(param["af"], addr)
        if packed is None:
            return None
        param["addr"] = packed
        param["plen"] = atoi(plen) if slash else 0
    if param["af"] == AF_INET and not param["plen"]:
        param["plen"] = 32
    elif param["af"] == AF_INET6 and not param["plen"]:
        param["plen"] = 128
    if conf.cmd != "show" and not param["ifname"]:
        ctx.out.e("no device specified.\n")
        return None
    return param


def addr_show(rt, ifname):
    if ifname and netstack.port(rt, ifname) is None:
        return EDPVS_NOTEXIST, None
    return EDPVS_OK, netstack.addr_list(rt, ifname or None)


def addr_cmd(ctx, conf):
    param = addr_parse(ctx, conf)
    if param is None:
        return EDPVS_INVAL
    af, packed, plen, dev = param["af"], param["addr"], param["plen"], param["ifname"]
    if conf.cmd == "add":
        return ctx.set(SO_IFADDR_ADD, netstack.addr_add, af, packed, plen, dev, param["scope"],
                       param["bcast"], param["valid"], 0, param["sapool"])
    if conf.cmd == "del":
        return ctx.set(SO_IFADDR_DEL, netstack.addr_del, af, packed, plen, dev)
    if conf.cmd == "set":
        return ctx.set(SO_IFADDR_SET, netstack.addr_set, af, packed, plen, dev, param["scope"],
                       param["bcast"], param["valid"])
    if conf.cmd == "flush":
        return ctx.set(SO_IFADDR_FLUSH, netstack.addr_flush, dev)
    if conf.cmd != "show":
        return EDPVS_NOTSUPP
    code, addrs = ctx.get(SO_IFADDR_SHOW, addr_show, dev)
    if code:
        return code
    if conf.stats and not conf.verbose and any(ifa.get("missing_on") for ifa in addrs):
        # ifaddr_get_stats(): a worker's count differs from the master's ("ifa naddr does not
        # match -- master=3, slave[1]=2" in the daemon's log): it answers OK with no data, and
        # dpip finds the reply shorter than its header
        ctx.out.e("corrupted response.\n")
        return EDPVS_INVAL
    ctx.out.o("".join(addr_lines(ctx.lock.doc["config"], addrs, conf)))
    return EDPVS_OK


def addr_lines(config, addrs, conf):
    """The lines of ``addr show``: the master's table; with ``-v`` each worker's after it
    (ifaddr_get_verbose()). A master entry's sa counters are the sums of the workers' entries at
    the same position (matched by position, not by address, as the daemon does): a worker that
    lacks an address shifts them. A worker's entry without sapool adds 0 here (the daemon adds
    whatever its reply buffer held)."""
    workers = config["workers"]
    per_worker = config["sa_pool_free"] // workers
    tables = [(cid, netstack.lcore_addrs(addrs, cid)) for cid in range(1, workers + 1)]
    now = time.time()
    lines = []
    for cid, entries in [(0, addrs), *tables] if conf.verbose else [(0, addrs)]:
        for index, ifa in enumerate(entries):
            prefix = "[%02d] " % cid if conf.verbose else ""
            bcast = "broadcast %s" % ifa["bcast"] if ifa["bcast"] else ""
            lft = _lft(ifa["valid_lft"], ifa["ts"], now)
            lines.append("%s%s %s/%d scope %s %s\n    %s valid_lft %s preferred_lft %s" % (
                prefix, af_itoa(ifa["af"]), ifa["addr"], ifa["plen"], scope_itoa(ifa["scope"]),
                ifa["dev"], bcast, lft, lft))
            if (conf.verbose or conf.stats) and ifa["sapool"]:
                free = per_worker if cid else sum(
                    per_worker for _cid, table in tables
                    if index < len(table) and table[index]["sapool"])
                lines.append(" sa_used 0 sa_free %u sa_miss 0" % free)
            lines.append("\n")
    return lines


# -- route --------------------------------------------------------------------------------------------------
def route4_parse(ctx, conf):
    args = Args(conf.args, ctx.out)
    route = {"af": conf.af, "dst": None, "plen": 0, "gw": None, "src": None, "ifname": "",
             "mtu": 0, "metric": 0, "kind": "forward", "prefix": None}
    prefix = None
    while args:
        word = args.cur()
        if word in ("via", "src"):
            if not args.next_check(word):
                return None
            route["af"], packed = pton_try(route["af"], args.cur())
            if packed is None:
                return None
            route["gw" if word == "via" else "src"] = packed
        elif word == "dev":
            if not args.next_check("dev"):
                return None
            route["ifname"] = args.cur()[:15]
        elif word in ("mtu", "metric"):
            if not args.next_check(word):
                return None
            route[word] = atoi(args.cur())
        elif word == "scope":
            if not args.next_check("scope"):
                return None
            if args.cur() == "host":
                route["kind"] = "local"
            elif args.cur() == "kni_host":
                route["kind"] = "kni"
        elif word == "local":
            pass
        else:
            prefix = word
        args.next()
    if conf.cmd == "show":
        return route
    if prefix is None:
        ctx.out.e("missing prefix\n")
        return None
    if prefix == "default":
        route["dst"] = b"\0" * 4
        if route["af"] == AF_UNSPEC:
            route["af"] = AF_INET
    else:
        addr, slash, plen = prefix.partition("/")
        route["af"], packed = pton_try(route["af"], addr)
        if packed is None:
            return None
        route["dst"] = packed
        route["plen"] = atoi(plen) if slash else 0
    if route["af"] not in (AF_INET, AF_INET6):
        ctx.out.e("invalid family.\n")
        return None
    if not route["plen"] and prefix != "default":
        route["plen"] = 32 if route["af"] == AF_INET else 128
    if conf.verbose:
        ctx.out.o(route4_line(route_entry(route, route["mtu"])))
    route["prefix"] = prefix
    return route


def route_entry(route, mtu):
    """A parsed route as a daemon entry (for dpip -v echoing it)."""
    af = AF_INET if route["af"] == AF_INET else route["af"]
    size = 4 if af == AF_INET else 16

    def text(packed):
        return ntop(af, packed) if packed is not None else ntop(af, b"\0" * size)
    return {"dst": text(route["dst"]), "plen": route["plen"], "gw": text(route["gw"]),
            "src": text(route["src"]), "dev": route["ifname"], "mtu": mtu,
            "metric": route["metric"], "kind": route["kind"]}


def route4_line(r):
    if r["kind"] == "local":
        scope = "host"
    elif r["kind"] == "kni":
        scope = "kni_host"
    elif r["gw"] in ("0.0.0.0", "::"):
        scope = "link"
    else:
        scope = "global"
    return ("inet %s/%d via %s src %s dev %s mtu %d tos 0 scope %s metric %d proto auto \n" % (
        r["dst"], r["plen"], r["gw"], r["src"], r["dev"], r["mtu"], scope, r["metric"]))


def route4_set(rt, route, op):
    """route_sockopt_set()."""
    if route["af"] not in (AF_INET, AF_UNSPEC):
        return -14  # EDPVS_NOTSUPP
    dst = route["dst"]
    if route["kind"] in ("local", "kni") and (not any(dst) or route["plen"] != 32):
        return EDPVS_INVAL
    if netstack.port(rt, route["ifname"]) is None:
        return EDPVS_INVAL
    if op == "add":
        return netstack.route4_add(rt, dst, route["plen"], route["kind"], route["gw"],
                                   route["ifname"], route["src"], route["mtu"], route["metric"])
    if op == "del":
        return netstack.route4_del(rt, dst, route["plen"], route["kind"], route["ifname"])
    return EDPVS_NOTSUPP


def route4_show(rt, ifname):
    if ifname and netstack.port(rt, ifname) is None:
        return EDPVS_NOTEXIST, None
    return EDPVS_OK, netstack.route4_list(rt, ifname or None)


def route4_cmd(ctx, conf):
    route = route4_parse(ctx, conf)
    if route is None:
        return EDPVS_INVAL
    if conf.cmd == "add":
        return ctx.set(SO_ROUTE_ADD, route4_set, route, "add")
    if conf.cmd == "del":
        return ctx.set(SO_ROUTE_DEL, route4_set, route, "del")
    if conf.cmd == "set":
        return ctx.set(SO_ROUTE_SET, route4_set, route, "set")
    if conf.cmd == "flush":
        return ctx.set(SO_ROUTE_FLUSH, lambda rt: EDPVS_INVAL)
    if conf.cmd != "show":
        return EDPVS_NOTSUPP
    code, routes = ctx.get(SO_ROUTE_SHOW, route4_show, route["ifname"])
    if code:
        return code
    ctx.out.o("".join(route4_line(r) for r in routes))
    return EDPVS_OK


def route6_parse(ctx, conf):
    args = Args(conf.args, ctx.out)
    route = {"dst": b"\0" * 16, "plen": 0, "gw": None, "src": None, "ifname": "", "mtu": 0,
             "kind": None}
    prefix = None
    while args:
        word = args.cur()
        if word in ("via", "src"):
            if not args.next_check(word):
                return None
            packed = pton(AF_INET6, args.cur())
            if packed is None:
                return None
            route["gw" if word == "via" else "src"] = packed
        elif word == "dev":
            if not args.next_check("dev"):
                return None
            route["ifname"] = args.cur()[:15]
        elif word in ("tos", "metric", "proto"):
            if not args.next_check(word):
                return None
        elif word == "mtu":
            if not args.next_check("mtu"):
                return None
            route["mtu"] = atoi(args.cur())
        elif word == "scope":
            if not args.next_check("scope"):
                return None
            route["kind"] = {"host": "host", "kni_host": "kni", "link": "forward",
                             "global": "forward"}.get(args.cur(), route["kind"])
        elif word == "onlink":
            pass
        elif word == "local":
            route["kind"] = "host"
        else:
            prefix = word
        args.next()
    route["kind"] = route["kind"] or "forward"
    if conf.cmd == "show":
        return route
    if prefix is None:
        ctx.out.e("missing prefix\n")
        return None
    if prefix != "default":
        addr, slash, plen = prefix.partition("/")
        packed = pton(AF_INET6, addr)
        if packed is None:
            return None
        route["dst"] = packed
        route["plen"] = atoi(plen) if slash else 0
        if not route["plen"]:
            route["plen"] = 128
    if conf.verbose:
        ctx.out.o(route6_line({
            "dst": ntop(AF_INET6, route["dst"]), "plen": route["plen"],
            "gw": ntop(AF_INET6, route["gw"] or b"\0" * 16),
            "src": ntop(AF_INET6, route["src"] or b"\0" * 16), "dev": route["ifname"],
            "mtu": route["mtu"], "kind": route["kind"]}))
    return route


def route6_line(r):
    if r["kind"] == "kni":
        scope = "kni_host"
    elif r["kind"] == "host":
        scope = "host"
    else:
        scope = "link" if r["gw"] == "::" else "global"
    line = "inet6 default" if r["dst"] == "::" and r["plen"] == 0 else "inet6 %s/%d" % (r["dst"], r["plen"])
    if r["gw"] != "::":
        line += " via %s" % r["gw"]
    if r["src"] != "::":
        line += " src %s" % r["src"]
    line += " dev %s" % r["dev"]
    if r["mtu"] > 0:
        line += " mtu %d" % r["mtu"]
    return line + " scope %s\n" % scope


def route6_set(rt, route, op):
    dev = netstack.port(rt, route["ifname"]) if route["ifname"] else None
    if dev is None or route["plen"] > 128:
        return EDPVS_INVAL
    if op == "add":
        return netstack.route6_add(rt, route["dst"], route["plen"], route["ifname"],
                                   route["gw"], route["src"], route["mtu"], route["kind"])
    if op == "del":
        return netstack.route6_del(rt, route["dst"], route["plen"], route["ifname"])
    return EDPVS_NOTSUPP


def route6_show(rt, ifname):
    if ifname and netstack.port(rt, ifname) is None:
        return EDPVS_OK, None  # rt6_hlist_dump() returns NULL: an empty reply
    return EDPVS_OK, netstack.route6_list(rt, ifname or None)


def route6_cmd(ctx, conf):
    route = route6_parse(ctx, conf)
    if route is None:
        return EDPVS_INVAL
    if conf.cmd in ("add", "del"):
        return ctx.set(SO_ROUTE6_ADD_DEL, route6_set, route, conf.cmd)
    if conf.cmd == "set":
        return EDPVS_NOTSUPP
    if conf.cmd == "flush":
        return ctx.set(SO_ROUTE6_FLUSH, route6_set, route, "flush")
    if conf.cmd != "show":
        return EDPVS_NOTSUPP
    code, routes = ctx.get(SO_ROUTE6_SHOW, route6_show, route["ifname"])
    if code:
        return code
    if routes is None:
        ctx.out.e("corrupted response.\n")
        return EDPVS_INVAL
    ctx.out.o("".join(route6_line(r) for r in routes))
    return EDPVS_OK


def route_cmd(ctx, conf):
    if conf.af == AF_INET6:
        return route6_cmd(ctx, conf)
    return route4_cmd(ctx, conf)


# -- neigh --------------------------------------------------------------------------------------------------
def neigh_parse(ctx, conf):
    args = Args(conf.args, ctx.out)
    neigh = {"af": conf.af, "ip": None, "mac": "00:00:00:00:00:00", "ifname": ""}
    addr = None
    while args:
        word = args.cur()
        if word == "dev":
            if not args.next_check("dev"):
                return None
            neigh["ifname"] = args.cur()[:15]
        elif word == "lladdr":
            if not args.next_check("lladdr"):
                return None
            parts = args.cur().split(":")
            try:
                octets = [int(p, 16) for p in parts[:6]]
                if len(parts) < 6 or any(not 0 < len(p) <= 2 for p in parts[:6]):
                    raise ValueError
            except ValueError:
                ctx.out.e("invalid link layer addr\n")
                return None
            neigh["mac"] = ":".join("%02x" % o for o in octets)
        else:
            addr = word
        args.next()
    if conf.cmd in ("add", "del") and addr is None:
        ctx.out.e("missing ip address\n")
        return None
    if addr is not None:
        neigh["af"], packed = pton_try(neigh["af"], addr)
        if packed is None:
            ctx.out.e("invalid IP address\n")
            return None
        neigh["ip"] = ntop(neigh["af"], packed)
    return neigh


def neigh_show(rt, neigh):
    if neigh["ifname"] and netstack.port(rt, neigh["ifname"]) is None:
        return EDPVS_NOTEXIST, None
    found = [n for n in rt["neigh"] if (not neigh["ifname"] or n["dev"] == neigh["ifname"])
             and (neigh["af"] == AF_UNSPEC or n["af"] == neigh["af"])]
    return EDPVS_OK, found


def neigh_cmd(ctx, conf):
    neigh = neigh_parse(ctx, conf)
    if neigh is None:
        return EDPVS_INVAL
    if conf.cmd == "show":
        code, found = ctx.get(SO_NEIGH_SHOW, neigh_show, neigh)
        if code:
            return code
        workers = ctx.lock.doc["config"]["workers"]
        lines = []
        for cid in range(1, workers + 1):
            for n in found:
                lines.append("ip: %-48s mac: %s   state: %-12s  dev: %s  core: %d  %s\n" % (
                    n["ip"], n["mac"], "REACHABLE", n["dev"], cid,
                    "static" if n["static"] else ""))
        ctx.out.o("".join(lines))
        return EDPVS_OK
    if conf.cmd == "add":
        if neigh["mac"] == "00:00:00:00:00:00":
            ctx.out.e("invalid MAC address\n")
            return EDPVS_INVAL
        return ctx.set(SO_NEIGH_ADD, netstack.neigh_add, neigh["af"], neigh["ip"], neigh["mac"],
                       neigh["ifname"])
    if conf.cmd == "del":
        return ctx.set(SO_NEIGH_DEL, netstack.neigh_del, neigh["af"], neigh["ip"],
                       neigh["ifname"])
    return EDPVS_NOTSUPP


# -- vlan ---------------------------------------------------------------------------------------------------
def vlan_cmd(ctx, conf):
    args = Args(conf.args, ctx.out)
    param = {"ifname": "", "real": "", "proto": netstack.ETH_P_8021Q, "id": 0}
    parse_err = EDPVS_OK
    while args:
        word = args.cur()
        if word in ("link", "proto", "id"):
            if not args.next_check(word):
                parse_err = -1
                break
            value = args.cur()
            if word == "link":
                param["real"] = value[:15]
            elif word == "proto":
                if value in ("802.1q", "vlan"):
                    param["proto"] = netstack.ETH_P_8021Q
                elif value == "802.1ad" or value.lower() == "qinq":
                    param["proto"] = netstack.ETH_P_8021AD
                else:
                    parse_err = EDPVS_INVAL
                    break
            else:
                param["id"] = atoi(value)
        elif not param["ifname"]:
            param["ifname"] = word[:15]
        else:
            ctx.out.e("too many arguments\n")
            parse_err = EDPVS_INVAL
            break
        args.next()
    if parse_err != EDPVS_OK:
        ctx.out.e("%s: parse: %s\n" % (ctx.prog, strerror(parse_err)))
        raise Exit(1)
    check = EDPVS_OK
    if conf.cmd == "add":
        if not param["real"]:
            ctx.out.e("missing real device\n")
            check = EDPVS_INVAL
        elif param["id"] == 0:
            ctx.out.e("missing or invalid VLAN ID\n")
            check = EDPVS_INVAL
    elif conf.cmd == "show":
        if not param["ifname"] and not param["real"]:
            ctx.out.e("missing both vlan and real device\n")
            check = EDPVS_INVAL
    elif conf.cmd != "del":
        check = EDPVS_NOTSUPP
    if check != EDPVS_OK:
        ctx.out.e("%s: check: %s\n" % (ctx.prog, strerror(check)))
        raise Exit(1)
    if conf.cmd == "add":
        return ctx.set(SO_VLAN_ADD, netstack.vlan_add, param["ifname"], param["real"],
                       param["proto"], param["id"])
    if conf.cmd == "del":
        return ctx.set(SO_VLAN_DEL, netstack.vlan_del, param["ifname"], param["real"],
                       param["id"])
    code, devs = ctx.get(SO_VLAN_SHOW, netstack.vlan_list, param["ifname"], param["real"],
                         param["id"])
    if code:
        return code
    for dev in devs:
        ctx.out.e("%s link %s proto %s id %d\n" % (
            dev["name"], dev["real_dev"],
            "802.1q" if dev["vlan_proto"] == netstack.ETH_P_8021Q else "802.1ad",
            dev["vlan_id"]))
    return EDPVS_OK


# -- link ---------------------------------------------------------------------------------------------------
def _port_or_notexist(rt, name):
    dev = netstack.port(rt, name)
    return (EDPVS_OK, dev) if dev else (EDPVS_NOTEXIST, None)


def nic_basic(dev):
    lines = ["%d: %s: socket %d mtu %d rx-queue %d tx-queue %d\n" % (
        dev["id"] + 1, dev["name"], dev["socket"], dev["mtu"], dev["rx_queues"],
        dev["tx_queues"])]
    words = [dev["link"], "%d Mbps" % dev["speed"]]
    words += [w for w in (dev["duplex"], dev["autoneg"]) if w]
    for key, word in (("promisc", "promisc"), ("allmulticast", "allmulticast"),
                      ("forward2kni", "foward2kni"), ("tc_egress", "tc-egress"),
                      ("tc_ingress", "tc-ingress"), ("lldp", "lldp")):
        if dev[key]:
            words.append(word)
    lines.append("    " + "".join(w + " " for w in words) + "\n")
    lines.append("    addr %s " % dev["mac"] + "".join(o + " " for o in dev["offloads"]) + "\n")
    return "".join(lines)


def nic_stats(dev):
    s = dev["stats"]
    return ("    %-20s%-20s%-20s%-20s\n" % ("ipackets", "opackets", "ibytes", "obytes")
            + "    %-20d%-20d%-20d%-20d\n" % (s["ipackets"], s["opackets"], s["ibytes"], s["obytes"])
            + "    %-20s%-20s%-20s%-20s\n" % ("ierrors", "oerrors", "imissed", "rx_nombuf")
            + "    %-20d%-20d%-20d%-20d\n" % (s["ierrors"], s["oerrors"], s["imissed"], s["rx_nombuf"])
            + "    %-20s%-20s\n" % ("mbuf-avail", "mbuf-inuse")
            + "    %-20d%-20d\n" % (dev["mbuf_avail"], dev["mbuf_inuse"]))


def queue_cpus(doc, dev):
    """[(rx cpu, tx cpu)] per queue: explicit in the port description, else round robin."""
    if dev.get("queue_cpus"):
        return [tuple(pair) for pair in dev["queue_cpus"]]
    workers = doc["config"]["workers"]
    count = max(dev["rx_queues"], dev["tx_queues"])
    return [((q % workers) + 1, (q % workers) + 1) for q in range(count)]


def nic_verbose(doc, dev):
    i = dev["dev_info"]
    lines = [
        "    %-32s%-32s\n" % ("pci_addr", "driver_name"),
        "    %-32s%-32s\n" % (i["pci_addr"], i["driver_name"]),
        "    %-16s%-16s%-16s%-16s\n" % ("if_index", "min_rx_bufsize", "max_rx_pktlen", "max_mac_addrs"),
        "    %-16u%-16u%-16u%-16u\n" % (i["if_index"], i["min_rx_bufsize"], i["max_rx_pktlen"], i["max_mac_addrs"]),
        "    %-16s%-16s%-16s%-16s\n" % ("max_rx_queues", "max_tx_queues", "max_hash_addrs", "max_vfs"),
        "    %-16u%-16u%-16u%-16u\n" % (i["max_rx_queues"], i["max_tx_queues"], i["max_hash_addrs"], i["max_vfs"]),
        "    %-16s%-16s%-16s%-16s\n" % ("max_vmdq_pools", "rx_ol_capa", "tx_ol_capa", "reta_size"),
        "    %-16u0x%-14X0x%-14X%-16u\n" % (i["max_vmdq_pools"], i["rx_ol_capa"], i["tx_ol_capa"], i["reta_size"]),
        "    %-16s%-16s%-16s%-16s\n" % ("hash_key_size", "flowtype_rss_ol", "vmdq_que_base", "vmdq_que_num"),
        "    %-16u0x%-14X%-16u%-16u\n" % (i["hash_key_size"], i["flowtype_rss_ol"],
                                          i["vmdq_que_base"], i["vmdq_que_num"]),
        "    %-16s%-16s%-16s%-16s\n" % ("rx_desc_max", "rx_desc_min", "rx_desc_align", "vmdq_pool_base"),
        "    %-16u%-16u%-16u%-16u\n" % (i["rx_desc_max"], i["rx_desc_min"], i["rx_desc_align"], i["vmdq_pool_base"]),
        "    %-16s%-16s%-16s%-16s\n" % ("tx_desc_max", "tx_desc_min", "tx_desc_align", "speed_capa"),
        "    %-16u%-16u%-16u%-16u\n" % (i["tx_desc_max"], i["tx_desc_min"], i["tx_desc_align"], i["speed_capa"]),
    ]
    pairs = queue_cpus(doc, dev)
    if pairs:
        lines.append("    Queue Configuration:\n")
        for q, (rx, tx) in enumerate(pairs):
            lines.append("    %-12s%-25s\n" % ("rx%d-tx%d" % (q, q), "cpu%d-cpu%d" % (rx, tx)))
    if dev["mc"]:
        lines.append("    HW mcast list:\n")
        for mac, ref in dev["mc"]:
            lines.append("        link %s refcnt %d, synced 0\n" % (mac, ref))
    return "".join(lines)


def link_nic_show(ctx, conf, name):
    code, dev = ctx.get(SO_NETIF_PORT_BASIC, _port_or_notexist, name)
    if code:
        return code
    ctx.out.o(nic_basic(dev))
    if conf.stats:
        code, dev = ctx.get(SO_NETIF_PORT_STATS, _port_or_notexist, name)
        if code:
            return code
        if conf.interval:
            block = ("    %-16s%-16s%-16s%-16s\n" % ("ipackets/pps", "opackets/pps", "ibytes/Bps", "obytes/Bps")
                     + "    %-16d%-16d%-16d%-16d\n" % (0, 0, 0, 0)
                     + "    %-16s%-16s%-16s%-16s\n" % ("ierrors/pps", "oerrors/pps", "imissed/pps", "rx_nombuf/pps")
                     + "    %-16d%-16d%-16d%-16d\n" % (0, 0, 0, 0))
            ctx.out.o(block * max(conf.count, 1))
        else:
            ctx.out.o(nic_stats(dev))
        if conf.verbose:
            ctx.out.o("    xstats list:\n        not supported\n")
    if conf.verbose:
        code, dev = ctx.get(SO_NETIF_PORT_EXT_INFO, _port_or_notexist, name)
        if code:
            return code
        ctx.out.o(nic_verbose(ctx.lock.doc, dev))
    return EDPVS_OK


def cpu_queues(ctx, cid):
    items = []
    for dev in netstack.ports_by_id(ctx.rt):
        if dev["kind"] != "phys":
            continue
        pairs = queue_cpus(ctx.lock.doc, dev)
        items += ["%s:rx%d" % (dev["name"], q) for q, (rx, _tx) in enumerate(pairs)
                  if rx == cid and q < dev["rx_queues"]]
        items += ["%s:tx%d" % (dev["name"], q) for q, (_rx, tx) in enumerate(pairs)
                  if tx == cid and q < dev["tx_queues"]]
    return "".join("%-16s" % item for item in items)


def link_cpu_show(ctx, conf, cid):
    workers = ctx.lock.doc["config"]["workers"]
    code, _unused = ctx.get(SO_NETIF_LCORE_BASIC,
                            lambda rt: (EDPVS_OK, None) if 0 <= cid <= workers else (EDPVS_INVAL, None))
    if code:
        return code
    socket = ctx.lock.doc["config"]["ports"][0]["socket"] if ctx.lock.doc["config"]["ports"] else 0
    queues = cpu_queues(ctx, cid)
    ctx.out.o("%d: cpu%d: socket %d\n    queues %s\n" % (cid + 1, cid, socket, queues or "none"))
    if conf.stats:
        ctx.out.o("    %-20s%-20s%-20s%-20s\n" % ("lcore_loop", "pktburst", "zpktburst", "fpktburst")
                  + "    %-20d%-20d%-20d%-20d\n" % (0, 0, 0, 0)
                  + "    %-20s%-20s%-20s\n" % ("z2hpktburst", "h2fpktburst", "dropped")
                  + "    %-20d%-20d%-20d\n" % (0, 0, 0)
                  + "    %-20s%-20s%-20s%-20s\n" % ("ipackets", "ibytes", "opackets", "obytes")
                  + "    %-20d%-20d%-20d%-20d\n" % (0, 0, 0, 0))
    return EDPVS_OK


def link_cmd(ctx, conf):
    args = list(conf.args)
    name = args.pop(0)[:31] if args else ""
    is_cpu = name.startswith("cpu")
    if conf.cmd == "show":
        status = any(a.startswith("status") for a in args)
        if conf.count and not conf.interval:
            ctx.out.e("miss statistics display interval")
            return EDPVS_INVAL
        if is_cpu:
            if name == "cpu":
                code, _unused = ctx.get(SO_NETIF_LCORE_MASK, lambda rt: EDPVS_OK)
                if code:
                    ctx.out.e("Fail to get configured CPU information: %s.\n" % strerror(code))
                    return code
                ctx.out.o("<< Controll Plane >>\n")
                link_cpu_show(ctx, conf, 0)
                ctx.out.o("<< Data Plane >>\n")
                for cid in range(1, ctx.lock.doc["config"]["workers"] + 1):
                    link_cpu_show(ctx, conf, cid)
                return EDPVS_OK
            digits = name[3:]
            if not digits.isdigit():
                ctx.out.e(LINK_HELP)
                return EDPVS_INVAL
            return link_cpu_show(ctx, conf, int(digits))
        if name:
            code = link_nic_show(ctx, conf, name)
            if code == EDPVS_OK and status:
                code = ctx.get(SO_NETIF_BOND_STATUS, lambda rt: EDPVS_NOTSUPP)[0]
            return code
        code, devs = ctx.get(SO_NETIF_PORT_LIST,
                             lambda rt: (EDPVS_OK, [d["name"] for d in netstack.ports_by_id(rt)]))
        if code:
            ctx.out.e("Fail to get configured NIC list: %s.\n" % strerror(code))
            return EDPVS_INVAL
        ret = EDPVS_OK
        for dev in devs:
            err = link_nic_show(ctx, conf, dev)
            if err:
                ctx.out.e("Fail to get information for %s\n" % dev)
                ret = err
        return ret
    if conf.cmd in ("set", "add", "del"):
        if len(args) < 2:
            if args:
                ctx.out.e("missing argument for `%s'\n" % args[0])
            return EDPVS_INVAL
        return link_set(ctx, name, args[0], args[1])
    return EDPVS_NOTSUPP


LINK_ITEMS = {"promisc": ("promisc", "on", "off"), "allmulticast": ("allmulticast", "on", "off"),
              "forward2kni": ("forward2kni", "on", "off"), "link": ("link", "up", "down"),
              "tc-egress": ("tc_egress", "on", "off"), "tc-ingress": ("tc_ingress", "on", "off"),
              "lldp": ("lldp", "on", "off")}


def link_set(ctx, name, item, value):
    if item not in LINK_ITEMS:
        ctx.out.e(LINK_HELP)
        return EDPVS_INVAL
    field, on, off = LINK_ITEMS[item]
    if value not in (on, off):
        ctx.out.e("invalid %s value for '%s'\n" % (
            "argument" if item == "link" else "arguement", item))
        return EDPVS_INVAL

    def apply(rt):
        dev = netstack.port(rt, name)
        if dev is None:
            return EDPVS_NOTEXIST
        if field == "link":
            dev["link"] = "UP" if value == "up" else "DOWN"
        else:
            dev[field] = value == on
        return EDPVS_OK
    return ctx.set(SO_NETIF_SET_PORT, apply)


# -- main -----------------------------------------------------------------------------------------------------
HANDLERS = {"addr": addr_cmd, "route": route_cmd, "neigh": neigh_cmd, "vlan": vlan_cmd,
            "link": link_cmd}


def run(argv0, args, out):
    """The C main(): returns the exit code."""
    head, slash, tail = argv0.partition("/")
    prog = tail if slash else argv0
    name = head  # main() cut argv[0] at its first '/': getopt's messages use what is left
    conf = parse_args(args, name, out)
    if conf.obj not in OBJECTS:
        out.e("%s: invalid object, use `-h' for help.\n" % prog)
        return 1
    if conf.cmd == "help" and conf.obj in HELPS:
        out.e(HELPS[conf.obj])
        return 0
    handler = HANDLERS.get(conf.obj)
    with Locked() as lock:
        ctx = Ctx(prog, lock, out)
        err = EDPVS_NOTSUPP if handler is None else handler(ctx, conf)  # NOTSUPP: not emulated
        if ctx.dirty and lock.doc is not None:
            lock.save(lock.doc)
    if err != EDPVS_OK:
        out.e("%s: %s\n" % (prog, strerror(err)))
        return 1
    return 0


def main(argv):
    out = Out()
    args = argv[1:]
    try:
        code = run(prog_name(argv[0], "dpip"), args, out)
    except Exit as exc:
        code = exc.code
    out.flush()
    log_invocation("dpip", args, code)
    return code
