"""Daemon side of dpip: ports, addresses, IPv4/IPv6 routes, neighbours, VLANs.

Functions take the runtime dict (``doc["rt"]``) and return a DPVS error code (0 = OK).
Listing order follows the daemon's data structures (see README "Listing order").
"""
# ruff: noqa: UP031 (printf-style formats mirror the C tools' printf calls)

import time

from .common import (
    AF_INET,
    AF_INET6,
    EDPVS_EXIST,
    EDPVS_INVAL,
    EDPVS_NOTEXIST,
    EDPVS_OK,
    M32,
    inet_addr_fold,
    jhash_32b,
    masked,
    ntop,
    pton,
    words_le,
)

# inetaddr.h scopes (as in Linux RT_SCOPE_*)
SCOPE_GLOBAL, SCOPE_SITE, SCOPE_LINK, SCOPE_HOST = 0, 200, 253, 254
ANY4 = "0.0.0.0"
ANY6 = "::"


def next_seq(rt):
    rt["seq"] += 1
    return rt["seq"]


def port(rt, name):
    for dev in rt["ports"]:
        if dev["name"] == name:
            return dev
    return None


def phys_ports(rt):
    return [dev for dev in rt["ports"] if dev["kind"] == "phys"]


def ports_by_id(rt):
    return sorted(rt["ports"], key=lambda dev: dev["id"])


# -- link-layer multicast list (dpip -v link show "HW mcast list") -----------------------------------
def mc_add(dev, mac):
    for entry in dev["mc"]:
        if entry[0] == mac:
            entry[1] += 1
            return
    dev["mc"].append([mac, 1])


def mc_del(dev, mac):
    for entry in dev["mc"]:
        if entry[0] == mac:
            entry[1] -= 1
            if entry[1] <= 0:
                dev["mc"].remove(entry)
            return


def solicited_mac(packed):
    return "33:33:ff:%02x:%02x:%02x" % (packed[13], packed[14], packed[15])


# -- addresses ----------------------------------------------------------------------------------
def ifa_hash(packed):
    """inetaddr.c ifa_hash_key(): golden-ratio hash of the folded address, 256 buckets."""
    return ((inet_addr_fold(packed) * 0x61C88647) & M32) >> 24


def _prefix_ok(af, packed, plen):
    if af not in (AF_INET, AF_INET6) or packed is None:
        return False
    if not any(packed):
        return False
    return plen <= (32 if af == AF_INET else 128)


def addr_find(rt, af, text, plen, dev):
    for ifa in rt["addrs"]:
        if ifa["dev"] == dev and ifa["af"] == af and ifa["addr"] == text and (
                not plen or ifa["plen"] == plen):
            return ifa
    return None


def addr_add(rt, af, packed, plen, devname, scope=SCOPE_GLOBAL, bcast=None, valid_lft=0,
             prefered_lft=0, sapool=False):
    if not _prefix_ok(af, packed, plen):
        return EDPVS_INVAL
    dev = port(rt, devname)
    if dev is None:
        return EDPVS_NOTEXIST
    text = ntop(af, packed)
    if addr_find(rt, af, text, plen, devname):
        return EDPVS_EXIST
    # ifa_set_lifetime(): prefered_lft follows valid_lft ("TODO" in the daemon)
    ifa = {
        "af": af, "addr": text, "plen": plen, "dev": devname, "scope": scope, "bcast": bcast,
        "valid_lft": valid_lft, "prefered_lft": valid_lft, "sapool": bool(sapool),
        "seq": next_seq(rt), "ts": time.time(),
    }
    rt["addrs"].append(ifa)
    worker_fault(rt, ifa)
    if af == AF_INET:
        route4_add(rt, packed, 32, "local", None, devname, None, 0, 0)
        if plen < 32:
            route4_add(rt, masked(packed, plen), plen, "forward", None, devname, packed, 0, 0)
    else:
        mc_add(dev, solicited_mac(packed))
        route6_add(rt, packed, 128, devname, None, None, dev["mtu"], "host")
        if plen < 128:
            route6_add(rt, packed, plen, devname, None, packed, dev["mtu"], "forward")
    return EDPVS_OK


# -- dpvs-emulator fault worker-nomem ---------------------------------------------------------------
def worker_fault(rt, ifa):
    """An armed ``worker-nomem`` fault: __inet_addr_add() added the address on the master and
    sent it to the workers asynchronously (the caller got OK), and ifa_entry_add() failed on
    worker ``cpu`` (``IFA: [01] ifa_entry_add: add ifaddr X failed -- no memory``): that
    worker's table lacks the address (``missing_on``) until it is deleted. The routes are the
    master's (ifa_add_route() runs there only) and stay."""
    fault = rt.get("fault")
    if not fault or (fault["sapool_only"] and not ifa["sapool"]):
        return
    ifa["missing_on"] = [fault["cpu"]]
    fault["count"] -= 1
    if fault["count"] <= 0:
        rt["fault"] = None


def missing_on(ifa, cid):
    """The address is not in lcore ``cid``'s table (a worker that failed to add it)."""
    return cid in ifa.get("missing_on", ())


def lcore_addrs(addrs, cid):
    """``addrs`` (the master's listing) as lcore ``cid``'s own table lists them."""
    return [ifa for ifa in addrs if not missing_on(ifa, cid)]


def _addr_remove(rt, ifa):
    rt["addrs"].remove(ifa)
    af = ifa["af"]
    packed = pton(af, ifa["addr"])
    dev = port(rt, ifa["dev"])
    if af == AF_INET:
        route4_del(rt, packed, 32, "local", ifa["dev"])
        if ifa["plen"] < 32:
            route4_del(rt, masked(packed, ifa["plen"]), ifa["plen"], "forward", ifa["dev"])
    else:
        if dev is not None:
            mc_del(dev, solicited_mac(packed))
        route6_del(rt, packed, 128, ifa["dev"])
        if ifa["plen"] < 128:
            route6_del(rt, packed, ifa["plen"], ifa["dev"])


def addr_del(rt, af, packed, plen, devname):
    if not _prefix_ok(af, packed, plen):
        return EDPVS_INVAL
    if port(rt, devname) is None:
        return EDPVS_NOTEXIST
    ifa = addr_find(rt, af, ntop(af, packed), plen, devname)
    if ifa is None:
        return EDPVS_NOTEXIST
    _addr_remove(rt, ifa)
    return EDPVS_OK


def addr_set(rt, af, packed, plen, devname, scope, bcast, valid_lft):
    if not _prefix_ok(af, packed, plen):
        return EDPVS_INVAL
    if port(rt, devname) is None:
        return EDPVS_NOTEXIST
    ifa = addr_find(rt, af, ntop(af, packed), plen, devname)
    if ifa is None:
        return EDPVS_NOTEXIST
    ifa.update({"scope": scope, "bcast": bcast, "valid_lft": valid_lft,
                "prefered_lft": valid_lft, "ts": time.time()})
    return EDPVS_OK


def addr_flush(rt, devname):
    if port(rt, devname) is None:
        return EDPVS_NOTEXIST
    for ifa in [i for i in rt["addrs"] if i["dev"] == devname]:
        _addr_remove(rt, ifa)
    return EDPVS_OK


def addr_list(rt, devname=None):
    """Global hash table order (bucket, newest first), or one device's list (newest first)."""
    if devname:
        return sorted((i for i in rt["addrs"] if i["dev"] == devname), key=lambda i: -i["seq"])
    return sorted(rt["addrs"], key=lambda i: (ifa_hash(pton(i["af"], i["addr"])), -i["seq"]))


# -- IPv4 routes --------------------------------------------------------------------------------
def _be32(packed):
    return int.from_bytes(packed, "big")


def _depth_mask(plen):
    return (M32 ^ ((1 << (32 - plen)) - 1)) if plen > 0 else 0


def _netcmp(dest, plen, node):
    """route.h ip_addr_netcmp(): dest/plen against the node's own network."""
    node_dest = _be32(pton(AF_INET, node["dst"]))
    return (_be32(dest) & _depth_mask(plen)) == (node_dest & _depth_mask(node["plen"]))


def route4_add(rt, dest, plen, kind, gw, devname, src, mtu, metric):
    """route_add(): kind is local, kni, forward or default; EXIST is reported as OK."""
    dev = port(rt, devname)
    if dev is None:
        return EDPVS_INVAL
    entry = {
        "dst": ntop(AF_INET, dest), "plen": plen, "dev": devname,
        "gw": ntop(AF_INET, gw) if gw else ANY4, "src": ntop(AF_INET, src) if src else ANY4,
        "mtu": mtu or dev["mtu"], "metric": metric, "kind": kind, "seq": next_seq(rt),
    }
    if kind in ("local", "kni"):
        for node in rt["rt4_local"]:
            if node["dev"] == devname and node["dst"] == entry["dst"]:
                return EDPVS_OK
        rt["rt4_local"].append(entry)
        return EDPVS_OK
    table = rt["rt4_net"]
    for index, node in enumerate(table):
        if node["dev"] == devname and _netcmp(dest, plen, node) and plen == node["plen"]:
            return EDPVS_OK
        if node["plen"] < plen:
            table.insert(index, entry)
            return EDPVS_OK
    table.append(entry)
    return EDPVS_OK


def route4_del(rt, dest, plen, kind, devname):
    """route_del(): a missing route is reported as OK, like the daemon does."""
    if port(rt, devname) is None:
        return EDPVS_INVAL
    text = ntop(AF_INET, dest)
    if kind in ("local", "kni"):
        for node in rt["rt4_local"]:
            if node["dst"] == text and node["dev"] == devname:
                rt["rt4_local"].remove(node)
                break
        return EDPVS_OK
    for node in rt["rt4_net"]:
        if node["dev"] == devname and _netcmp(dest, plen, node):
            rt["rt4_net"].remove(node)
            break
    return EDPVS_OK


def route4_list(rt, devname=None):
    local = sorted(rt["rt4_local"], key=lambda r: (pton(AF_INET, r["dst"])[3], -r["seq"]))
    routes = local + list(rt["rt4_net"])
    if devname:
        routes = [r for r in routes if r["dev"] == devname]
    return routes


def drop_dev_routes(rt, devname):
    rt["rt4_local"] = [r for r in rt["rt4_local"] if r["dev"] != devname]
    rt["rt4_net"] = [r for r in rt["rt4_net"] if r["dev"] != devname]
    rt["rt6"] = [r for r in rt["rt6"] if r["dev"] != devname]


# -- IPv6 routes (route6 "hlist" method) -------------------------------------------------------------
def rt6_bucket(packed, plen):
    nbuckets = (1 << plen) if plen < 8 else 256
    return jhash_32b(words_le(masked(packed, plen))) % nbuckets


def _rt6_find(rt, dst_text, plen, devname):
    for node in rt["rt6"]:
        if node["dst"] == dst_text and node["plen"] == plen and (
                not devname or node["dev"] == devname):
            return node
    return None


def route6_add(rt, dest, plen, devname, gw, src, mtu, kind):
    dev = port(rt, devname) if devname else None
    if dev is None or plen > 128:
        return EDPVS_INVAL
    dst = ntop(AF_INET6, masked(dest, plen))
    if _rt6_find(rt, dst, plen, devname):
        return EDPVS_EXIST
    rt["rt6"].append({
        "dst": dst, "plen": plen, "dev": devname, "gw": ntop(AF_INET6, gw) if gw else ANY6,
        "src": ntop(AF_INET6, src) if src else ANY6, "mtu": mtu or dev["mtu"], "kind": kind,
        "seq": next_seq(rt),
    })
    return EDPVS_OK


def route6_del(rt, dest, plen, devname):
    if not devname or port(rt, devname) is None or plen > 128:
        return EDPVS_INVAL
    node = _rt6_find(rt, ntop(AF_INET6, masked(dest, plen)), plen, devname)
    if node is None:
        return EDPVS_NOTEXIST
    rt["rt6"].remove(node)
    return EDPVS_OK


def route6_list(rt, devname=None):
    routes = sorted(rt["rt6"], key=lambda r: (
        -r["plen"], rt6_bucket(pton(AF_INET6, r["dst"]), r["plen"]), r["seq"]))
    if devname:
        routes = [r for r in routes if r["dev"] == devname]
    return routes


# -- neighbours ---------------------------------------------------------------------------------------
def neigh_add(rt, af, ip, mac, devname):
    if port(rt, devname) is None:
        return EDPVS_NOTEXIST
    for node in rt["neigh"]:
        if node["af"] == af and node["ip"] == ip:
            node.update({"mac": mac, "dev": devname, "static": True})
            return EDPVS_OK
    rt["neigh"].append({"af": af, "ip": ip, "mac": mac, "dev": devname, "static": True})
    return EDPVS_OK


def neigh_del(rt, af, ip, devname):
    if devname and port(rt, devname) is None:
        return EDPVS_NOTEXIST
    rt["neigh"] = [n for n in rt["neigh"] if not (n["af"] == af and n["ip"] == ip)]
    return EDPVS_OK


# -- VLAN devices -----------------------------------------------------------------------------------
ETH_P_8021Q, ETH_P_8021AD = 0x8100, 0x88A8


def vlan_add(rt, name, real, proto, vid):
    real_dev = port(rt, real)
    if real_dev is None:
        return EDPVS_NOTEXIST
    if proto != ETH_P_8021Q or vid <= 0 or vid > 4095:
        return EDPVS_INVAL
    name = name or "%s.%d" % (real, vid)
    if port(rt, name) is not None:
        return EDPVS_EXIST
    for dev in rt["ports"]:
        if dev["kind"] == "vlan" and dev["real_dev"] == real and dev["vlan_id"] == vid:
            return EDPVS_EXIST
    used = set(dev["id"] for dev in rt["ports"])
    new_id = 0
    while new_id in used:
        new_id += 1
    dev = dict(real_dev)
    dev.update({
        "name": name, "id": new_id, "kind": "vlan", "real_dev": real, "vlan_id": vid,
        "vlan_proto": proto, "mc": [], "ipv6_link_local": False, "lldp": False,
        "promisc": False, "allmulticast": False, "forward2kni": False, "tc_egress": False,
        "tc_ingress": False, "offloads": [],
    })
    rt["ports"].append(dev)
    return EDPVS_OK


def vlan_find(rt, name, real, vid):
    for dev in rt["ports"]:
        if dev["kind"] != "vlan":
            continue
        if name:
            if dev["name"] == name:
                return dev
        elif dev["real_dev"] == real and dev["vlan_id"] == vid:
            return dev
    return None


def vlan_del(rt, name, real, vid):
    dev = vlan_find(rt, name, real, vid)
    if dev is None:
        return EDPVS_NOTEXIST
    rt["ports"].remove(dev)
    rt["addrs"] = [i for i in rt["addrs"] if i["dev"] != dev["name"]]
    rt["neigh"] = [n for n in rt["neigh"] if n["dev"] != dev["name"]]
    drop_dev_routes(rt, dev["name"])
    return EDPVS_OK


def vlan_list(rt, name, real, vid):
    """(code, [vlan devices]) for dpip vlan show NAME | link DEV [id N]."""
    if name:
        dev = vlan_find(rt, name, None, 0)
        return (EDPVS_OK, [dev]) if dev else (EDPVS_NOTEXIST, [])
    if port(rt, real) is None:
        return EDPVS_NOTEXIST, []
    found = [dev for dev in ports_by_id(rt) if dev["kind"] == "vlan" and dev["real_dev"] == real
             and (not vid or dev["vlan_id"] == vid)]
    return EDPVS_OK, found
