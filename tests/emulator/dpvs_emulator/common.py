"""Shared pieces: DPVS error codes, sockopt ids, address helpers, output and the command log."""

import _socket
import os
import sys

from .fastjson import dumps

AF_INET = _socket.AF_INET
AF_INET6 = _socket.AF_INET6
AF_UNSPEC = 0

# src/common.c dpvs_strerror()
EDPVS_OK = 0
EDPVS_INVAL = -1
EDPVS_NOMEM = -2
EDPVS_EXIST = -3
EDPVS_NOTEXIST = -4
EDPVS_NOTSUPP = -14
EDPVS_NOSERV = -17
EDPVS_MSG_FAIL = -23
EDPVS_NODEV = -27
# libipvs/sockopt internal codes (dpvs_strerror() does not know them: "<unknow>")
ESOCKOPT_INVAL = -16385
ESOCKOPT_IO = -16386

ERRSTR = {
    0: "OK", -1: "invalid parameter", -2: "no memory", -3: "already exist", -4: "not exist",
    -5: "invalid packet", -6: "packet dropped", -7: "no protocol", -8: "no route",
    -9: "defragment error", -10: "fragment error", -11: "failed dpdk api", -12: "nothing to do",
    -13: "resource busy", -14: "not support", -15: "no resource", -16: "overloaded",
    -17: "no service", -18: "disabled", -19: "no room", -20: "non-EAL thread lcore",
    -21: "callback failed", -22: "I/O error", -23: "msg callback failed", -24: "msg dropped",
    -25: "stolen packet", -26: "system call failed", -27: "no such device",
}


def strerror(code):
    return ERRSTR.get(code, "<unknow>")


# include/conf/sockopts.h (enum order = the msg# printed by sockopt_msg_recv)
SO_LADDR_ADD, SO_LADDR_DEL = 0, 1
SO_SVC_FLUSH, SO_SVC_ZERO, SO_SVC_ADD, SO_SVC_EDIT, SO_SVC_DEL = 8, 9, 10, 11, 12
SO_ADDDEST, SO_EDITDEST, SO_DELDEST = 13, 14, 15
SO_GET_INFO, SO_GET_SERVICES, SO_GET_SERVICE, SO_GET_DESTS = 18, 19, 20, 21
SO_ROUTE_ADD, SO_ROUTE_DEL, SO_ROUTE_SET, SO_ROUTE_FLUSH, SO_ROUTE_SHOW = 28, 29, 30, 31, 32
SO_ROUTE6_ADD_DEL, SO_ROUTE6_FLUSH, SO_ROUTE6_SHOW = 33, 34, 35
SO_IFADDR_ADD, SO_IFADDR_DEL, SO_IFADDR_SET, SO_IFADDR_FLUSH, SO_IFADDR_SHOW = 47, 48, 49, 50, 51
SO_NETIF_SET_PORT = 54
SO_NETIF_LCORE_MASK, SO_NETIF_LCORE_BASIC, SO_NETIF_LCORE_STATS = 57, 58, 59
SO_NETIF_PORT_LIST, SO_NETIF_PORT_BASIC, SO_NETIF_PORT_STATS = 60, 61, 62
SO_NETIF_PORT_XSTATS, SO_NETIF_PORT_EXT_INFO, SO_NETIF_BOND_STATUS = 63, 64, 65
SO_NEIGH_ADD, SO_NEIGH_DEL, SO_NEIGH_SHOW = 70, 71, 72
SO_BLKLST_ADD, SO_BLKLST_DEL, SO_BLKLST_GETALL = 73, 74, 76
SO_WHTLST_ADD, SO_WHTLST_DEL, SO_WHTLST_GETALL = 77, 78, 80
SO_VLAN_ADD, SO_VLAN_DEL, SO_VLAN_SHOW = 81, 82, 83

M32 = 0xFFFFFFFF


# -- output -------------------------------------------------------------------------------------
class Out(object):
    """Collects what a tool prints; written at exit (stdout and stderr kept apart), stderr earlier on request."""

    def __init__(self):
        self.out = []
        self.err = []

    def o(self, text):
        self.out.append(text)

    def e(self, text):
        self.err.append(text)

    def flush_err(self):
        """Write what stderr holds now (C's stderr is unbuffered: a tool's complaints leave at once)."""
        if self.err:
            sys.stderr.write("".join(self.err))
            sys.stderr.flush()
            del self.err[:]

    def flush(self):
        data = "".join(self.out)
        if data:
            sys.stdout.write(data)
        sys.stdout.flush()
        data = "".join(self.err)
        if data:
            sys.stderr.write(data)
        sys.stderr.flush()


def prog_name(argv0, tool):
    """What the C tool sees as argv[0].

    A script run through PATH receives the resolved path from the kernel, so "found on PATH
    as exactly this file" is taken to mean "called by its bare name" (then argv[0] is the name).
    """
    if os.sep in argv0 and os.path.isabs(argv0):
        base = os.path.basename(argv0)
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            cand = os.path.join(folder or ".", base)
            if os.path.isfile(cand) and os.access(cand, os.X_OK):
                try:
                    if os.path.samefile(cand, argv0):
                        return base
                except OSError:
                    pass
                break
    return argv0 or tool


def log_invocation(tool, args, rc, stdin=None):
    """Append {"tool", "argv", "rc"[, "stdin"]} to $DPVS_EMULATOR_LOG (one JSON line)."""
    path = os.environ.get("DPVS_EMULATOR_LOG")
    if not path:
        return
    entry = {"tool": tool, "argv": list(args), "rc": rc}
    if stdin is not None:
        entry["stdin"] = stdin
    line = dumps(entry) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


# -- addresses ------------------------------------------------------------------------------------
def pton(af, text):
    """inet_pton(3): packed bytes, or None."""
    try:
        return _socket.inet_pton(af, text)
    except (OSError, ValueError, TypeError):
        return None


def ntop(af, packed):
    return _socket.inet_ntop(af, packed)


def pton_try(af, text):
    """dpip's inet_pton_try(): (af, packed) or (af, None); AF_UNSPEC tries IPv4 then IPv6."""
    if af in (AF_INET, AF_INET6):
        return af, pton(af, text)
    packed = pton(AF_INET, text)
    if packed is not None:
        return AF_INET, packed
    packed = pton(AF_INET6, text)
    if packed is not None:
        return AF_INET6, packed
    return af, None


def canon(af, text):
    """Canonical text form of an address (as inet_ntop prints it)."""
    return ntop(af, pton(af, text))


def af_of(text):
    return AF_INET6 if ":" in text else AF_INET


def packed_of(text):
    return pton(af_of(text), text)


def words_le(packed):
    """The address as native (little-endian, x86) uint32 words, as C code reads it."""
    return [int.from_bytes(packed[i:i + 4], "little") for i in range(0, len(packed), 4)]


def inet_addr_fold(packed):
    fold = 0
    for word in words_le(packed):
        fold ^= word
    return fold


def bswap32(value):
    return int.from_bytes(value.to_bytes(4, "little"), "big")


def masked(packed, plen):
    """ipv6_addr_prefix()/inet_addr_net(): keep the first plen bits."""
    nbits = len(packed) * 8
    value = int.from_bytes(packed, "big")
    if plen < nbits:
        value &= ((1 << nbits) - 1) ^ ((1 << (nbits - plen)) - 1)
    return value.to_bytes(len(packed), "big")


def rot(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


def jhash_32b(words, initval=0):
    """DPDK rte_jhash_32b() (Bob Jenkins' lookup3 over 32-bit words)."""
    length = len(words) * 4
    a = b = c = (0xDEADBEEF + length + initval) & M32
    k = list(words)
    while length > 12:
        a = (a + k[0]) & M32
        b = (b + k[1]) & M32
        c = (c + k[2]) & M32
        # __jhash_mix(a, b, c)
        a = (a - c) & M32
        a ^= rot(c, 4)
        c = (c + b) & M32
        b = (b - a) & M32
        b ^= rot(a, 6)
        a = (a + c) & M32
        c = (c - b) & M32
        c ^= rot(b, 8)
        b = (b + a) & M32
        a = (a - c) & M32
        a ^= rot(c, 16)
        c = (c + b) & M32
        b = (b - a) & M32
        b ^= rot(a, 19)
        a = (a + c) & M32
        c = (c - b) & M32
        c ^= rot(b, 4)
        b = (b + a) & M32
        k = k[3:]
        length -= 12
    if length == 0:
        return c
    if length >= 12:
        c = (c + k[2]) & M32
    if length >= 8:
        b = (b + k[1]) & M32
    a = (a + k[0]) & M32
    # __jhash_final(a, b, c)
    c ^= b
    c = (c - rot(b, 14)) & M32
    a ^= c
    a = (a - rot(c, 11)) & M32
    b ^= a
    b = (b - rot(a, 25)) & M32
    c ^= b
    c = (c - rot(b, 16)) & M32
    a ^= c
    a = (a - rot(c, 4)) & M32
    b ^= a
    b = (b - rot(a, 14)) & M32
    c ^= b
    c = (c - rot(b, 24)) & M32
    return c


def atoi(text):
    """C atoi(): leading whitespace, optional sign, digits; 0 when nothing parses."""
    text = text.lstrip()
    sign = 1
    i = 0
    if text[:1] in ("+", "-"):
        sign = -1 if text[0] == "-" else 1
        i = 1
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    if j == i:
        return 0
    return sign * int(text[i:j])
