"""Daemon side of ipvsadm: services, real servers, local addresses, black/white lists.

Functions take the runtime dict and return a DPVS error code. A service "key" is the dict the
tool builds from -t/-u/-q/-1/--sctp-service/-f/-H: af, proto, addr, port, fwmark, match.
"""

from . import netstack
from .common import (
    AF_INET,
    AF_INET6,
    EDPVS_EXIST,
    EDPVS_INVAL,
    EDPVS_MSG_FAIL,
    EDPVS_NOSERV,
    EDPVS_NOTEXIST,
    EDPVS_OK,
    bswap32,
    inet_addr_fold,
    pton,
)

SCHEDULERS = ("rr", "wrr", "wlc", "conhash", "fo", "mh")


def svc_hash(svc):
    """ip_vs_service.c dp_vs_service_hashkey(): (proto ^ be32(fold)) & 0xff; -1 if fold is 0."""
    fold = inet_addr_fold(pton(svc["af"], svc["addr"]))
    if not fold:
        return -1
    return (svc["proto"] ^ bswap32(fold)) & 0xFF


# DPVS looks a service up in a hash table; a scan of the list here made `ipvsadm -R` of N services
# O(N^2) (8,000 services: 23 s). The index of the <af,proto,addr,port> services belongs to one
# list object (the state loaded by this process) and follows svc_add/svc_del, the only two places
# that change the list.
_INDEX = {"svcs": None, "map": None}


def _tuple_key(obj):
    return (obj["af"], obj["addr"], obj["port"], obj["proto"])


def _is_tuple_service(svc):
    return not svc["fwmark"] and not svc["match"]


def _tuple_index(rt):
    if _INDEX["svcs"] is not rt["svcs"]:
        _INDEX["svcs"] = rt["svcs"]
        _INDEX["map"] = {_tuple_key(s): s for s in rt["svcs"] if _is_tuple_service(s)}
    return _INDEX["map"]


def lookup(rt, key):
    """dp_vs_service_lookup(): fwmark, then <af,proto,addr,port>, then the match list."""
    if key.get("fwmark"):
        for svc in rt["svcs"]:
            if svc["fwmark"] == key["fwmark"] and svc["af"] == key["af"]:
                return svc
    svc = _tuple_index(rt).get(_tuple_key(key))
    if svc is not None:
        return svc
    if key.get("match"):
        for svc in rt["svcs"]:
            if svc["match"] == key["match"] and svc["af"] == key["af"] and (
                    svc["proto"] == key["proto"]):
                return svc
    return None


def services(rt):
    """GET_SERVICES order: hash table buckets (newest first in a bucket), fwmark table, match list."""
    hashed = [s for s in rt["svcs"] if not s["fwmark"] and not s["match"]]
    fwm = [s for s in rt["svcs"] if s["fwmark"]]
    match = [s for s in rt["svcs"] if s["match"] and not s["fwmark"]]
    return (sorted(hashed, key=lambda s: (svc_hash(s), -s["seq"]))
            + sorted(fwm, key=lambda s: (s["fwmark"] & 0xFF, -s["seq"]))
            + sorted(match, key=lambda s: -s["seq"]))


def is_empty_key(key):
    return (not key.get("fwmark") and not key.get("match") and not key.get("port")
            and (not key.get("addr") or not any(pton(key["af"], key["addr"]))))


def svc_add(rt, conf):
    if is_empty_key(conf):
        return EDPVS_INVAL
    if lookup(rt, conf):
        return EDPVS_EXIST
    if conf["sched"] not in SCHEDULERS:
        return EDPVS_NOTEXIST
    svc = dict(conf)
    if not svc["fwmark"] and not svc["match"] and svc_hash(svc) < 0:
        return EDPVS_INVAL
    svc.update({"dests": [], "laddrs": [], "seq": netstack.next_seq(rt)})
    rt["svcs"].append(svc)
    if _is_tuple_service(svc):
        _tuple_index(rt)[_tuple_key(svc)] = svc
    return EDPVS_OK


def svc_edit(rt, conf):
    svc = lookup(rt, conf)
    if svc is None:
        return EDPVS_NOSERV
    if conf["sched"] not in SCHEDULERS:
        return EDPVS_NOTEXIST
    if conf["af"] == AF_INET6 and not 1 <= conf["netmask"] <= 128:
        return EDPVS_INVAL
    for field in ("sched", "flags", "timeout", "conn_timeout", "netmask", "proxy_protocol",
                  "check"):
        svc[field] = conf[field]
    return EDPVS_OK


def _drop_lists_of(rt, svc):
    for table in ("blklst", "whtlst"):
        rt[table] = [e for e in rt[table] if not (
            e["af"] == svc["af"] and e["proto"] == svc["proto"] and e["vaddr"] == svc["addr"]
            and e["vport"] == svc["port"])]


def svc_del(rt, key):
    svc = lookup(rt, key)
    if svc is None:
        return EDPVS_INVAL
    rt["svcs"].remove(svc)
    if _is_tuple_service(svc):
        _tuple_index(rt).pop(_tuple_key(svc), None)
    _drop_lists_of(rt, svc)
    return EDPVS_OK


def svc_flush(rt):
    for svc in list(rt["svcs"]):
        svc_del(rt, svc)
    return EDPVS_OK


def svc_zero(rt, key):
    if is_empty_key(key):
        return EDPVS_OK
    return EDPVS_OK if lookup(rt, key) else EDPVS_INVAL


def get_service(rt, key):
    svc = lookup(rt, key)
    return (EDPVS_OK, svc) if svc else (EDPVS_MSG_FAIL, None)


def _find_dest(svc, dest):
    for node in svc["dests"]:
        if node["af"] == dest["af"] and node["addr"] == dest["addr"] and (
                node["port"] == dest["port"]):
            return node
    return None


def dest_add(rt, key, dest):
    svc = lookup(rt, key)
    if svc is None:
        return EDPVS_INVAL
    if _find_dest(svc, dest):
        return EDPVS_EXIST
    svc["dests"].append(dict(dest))
    return EDPVS_OK


def dest_edit(rt, key, dest):
    svc = lookup(rt, key)
    if svc is None:
        return EDPVS_INVAL
    node = _find_dest(svc, dest)
    if node is None:
        return EDPVS_NOTEXIST
    node.update(dest)
    return EDPVS_OK


def dest_del(rt, key, dest):
    svc = lookup(rt, key)
    if svc is None:
        return EDPVS_INVAL
    node = _find_dest(svc, dest)
    if node is None:
        return EDPVS_NOTEXIST
    svc["dests"].remove(node)
    return EDPVS_OK


def laddr_add(rt, key, af, addr, ifname):
    svc = lookup(rt, key)
    if svc is None:
        return EDPVS_NOSERV
    if netstack.port(rt, ifname) is None:
        return EDPVS_NOTEXIST
    for node in svc["laddrs"]:
        if node["af"] == af and node["addr"] == addr:
            return EDPVS_EXIST
    svc["laddrs"].append({"af": af, "addr": addr, "ifname": ifname})
    return EDPVS_OK


def laddr_del(rt, key, af, addr):
    svc = lookup(rt, key)
    if svc is None:
        return EDPVS_NOSERV
    for node in svc["laddrs"]:
        if node["af"] == af and node["addr"] == addr:
            svc["laddrs"].remove(node)
            return EDPVS_OK
    return EDPVS_NOTEXIST


def list_add(rt, table, entry):
    """blklst/whtlst add: an existing entry is not an error (observed rc 0)."""
    for node in rt[table]:
        if node == entry:
            return EDPVS_OK
    rt[table].append(dict(entry))
    return EDPVS_OK


def list_del(rt, table, entry):
    for node in rt[table]:
        if node == entry:
            rt[table].remove(node)
            return EDPVS_OK
    return EDPVS_NOTEXIST


__all__ = ["AF_INET"]
