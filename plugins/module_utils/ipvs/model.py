# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IPVS table model of the ipvsadm module: normalisation, validation, rendering.

* :func:`normalize` turns the module's ``services`` option into canonical *desired* services
  (keyed by ``(protocol, vip, port)`` or ``("fwmark", mark, family)``; real servers keyed by
  ``(ip, port)``; laddrs by ``ip``, each with its ``dev``), raising :class:`InputError` with the
  input path (``services[2].real_servers[0].ip``) for every bad value. With ``flavor=None`` only
  the flavour-independent rules run (``flavor: auto`` must probe first); the flavour rules
  (DPVS-only options, schedulers, forwarding methods, fwmark) run with ``"dpvs"``/``"kernel"``.
* :func:`live_services` turns parsed ``ipvsadm -ln`` output (+ ``--thresholds``, ``-G``,
  ``--get-blklst``/``--get-whtlst``) into the same canonical shape, so both compare directly.
* ``render_*`` build ipvsadm argv lists (without the binary); :func:`restore_line` makes the
  same command an ``ipvsadm -R`` stdin line (DPVS ``-R`` accepts ``--add-laddr`` lines too).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import (
    InputError,
    boolean,
    device,
    int_range,
    ip_address,
    item_path,
    path_join,
    port,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import health_check as _checks

FLAVORS = ("dpvs", "kernel")
# who keeps a service in the live table: this module (static) or keepalived (health-checked;
# the module then neither changes nor purges it, docs/ha.md)
OWNERS = ("ipvsadm", "keepalived")
SCHEDULERS = {
    "dpvs": ("rr", "wrr", "wlc", "conhash", "mh", "fo"),
    "kernel": ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"),
}
ALL_SCHEDULERS = tuple(sorted(set(SCHEDULERS["dpvs"]) | set(SCHEDULERS["kernel"])))
PROTOCOLS = ("tcp", "udp", "sctp")
FORWARDS = ("fullnat", "masq", "dr", "tunnel")
DEFAULT_FORWARD = {"dpvs": "fullnat", "kernel": "masq"}
KERNEL_FORWARDS = ("masq", "dr", "tunnel")
PROXY_PROTOCOLS = ("disable", "v1", "v2", "v1-insecure", "v2-insecure")
HASH_TARGETS = ("sip", "qid")
MAX_PERSISTENT = 86400 * 31  # ipvsadm MAX_TIMEOUT
INT_MAX = 2147483647
UINT32_MAX = 4294967295

# options only DPVS's ipvsadm has (rejected on the kernel flavour when set)
DPVS_ONLY_OPTIONS = (
    "synproxy",
    "conn_timeout",
    "hash_target",
    "expire_quiescent",
    "proxy_protocol",
    "quic",
    "dest_check",
)

PROTO_SWITCH = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}
FORWARD_SWITCH = {"fullnat": "-b", "masq": "-m", "dr": "-g", "tunnel": "-i", "snat": "-J", "local": "-g"}

# --dest-check values: "default", "tcp", "1,1,3s,5-3600s" (UPDOWN), "2,3s" (DOWNONLY)
DEST_CHECK_UPDOWN_RE = re.compile(r"^(\d+),(\d+),(\d+)s,(\d+)-(\d+)s$")
DEST_CHECK_DOWNONLY_RE = re.compile(r"^(\d+),(\d+)s$")
DEST_CHECK_DEFAULT = (1, 1, 3, 5, 3600)  # "the default is 1,1,3s,5-3600s" (ipvsadm -h)
DEST_CHECK_TYPES = ("tcp", "udp", "sctp", "ping")

# an ipset reference in a black/white list: "ipset:NAME"
IPSET_RE = re.compile(r"^ipset:[A-Za-z0-9_.-]{1,31}$")


def default_options():
    """The options of a service created with ``-A -t VIP:PORT`` and nothing else."""
    return {
        "scheduler": "wlc",
        "persistent": None,
        "netmask": None,
        "ops": False,
        "synproxy": False,
        "conn_timeout": None,
        "hash_target": None,
        "proxy_protocol": None,
        "expire_quiescent": False,
        "quic": False,
        "dest_check": None,
    }


# ----------------------------------------------------------------------------- labels


def host_port(ip, port_number, keep_zero=False):
    """``10.0.96.204:80``, ``[2001:db8::204]:80``; ``ip`` alone when the port is 0/None
    (unless ``keep_zero``: labels always show the port)."""
    if not port_number and not keep_zero:
        return ip
    return f"[{ip}]:{port_number or 0}" if ":" in ip else f"{ip}:{port_number or 0}"


def service_label(key):
    """``tcp 10.0.96.204:80`` / ``fwmark 5`` / ``fwmark 6 IPv6`` for messages and results."""
    if key[0] == "fwmark":
        return "fwmark {}{}".format(key[1], " IPv6" if key[2] == "inet6" else "")
    if key[0] == "match":
        return f"match {key[1]}"
    return f"{key[0]} {host_port(key[1], key[2], keep_zero=True)}"


def rs_label(rs):
    return host_port(rs["ip"], rs["port"], keep_zero=True)


def _family(ip):
    return "inet6" if ":" in ip else "inet"


# ----------------------------------------------------------------------------- input


def _opt_int(path, value, low, high):
    if value is None:
        return None
    return int_range(path, value, low, high)


def canonical_netmask(path, value, family):
    """``-M``: IPv4 dotted mask or prefix length -> dotted (None for /32, as ``-ln`` hides it);
    IPv6 prefix length -> ``"64"`` (None for 128)."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().lstrip("/")
    if family == "inet6":
        if not text.isdigit() or not 1 <= int(text) <= 128:
            raise InputError(path, value, "an IPv6 persistence netmask is a prefix length 1..128")
        return None if int(text) == 128 else str(int(text))
    try:
        if text.isdigit():
            if int(text) > 32:
                raise ValueError
            net = ipaddress.IPv4Network(f"0.0.0.0/{int(text)}")
        else:
            net = ipaddress.IPv4Network(f"0.0.0.0/{text}")
    except ValueError:
        raise InputError(path, value, "not a contiguous IPv4 netmask or prefix length 0..32") from None
    mask = str(net.netmask)
    return None if mask == "255.255.255.255" else mask


def canonical_dest_check(path, value):
    """The ``--dest-check`` value as ``ipvsadm -ln`` shows it (``internal:default``,
    ``internal:2,3s``, ``external:tcp``); None for ``disable``."""
    if value is None:
        return None
    text = str(value).strip()
    if text in ("", "disable"):
        return None
    if text == "default":
        return "internal:default"
    if text in DEST_CHECK_TYPES:
        return "external:" + text
    match = DEST_CHECK_UPDOWN_RE.match(text)
    if match:
        nums = tuple(int(n) for n in match.groups())
        if any(n > 255 for n in nums[:3]) or any(n > 65535 for n in nums[3:]) or not 1 <= nums[3] <= nums[4]:
            raise InputError(path, value, "down_retry,up_confirm,down_wait must be 0..255, inhibit_min <= inhibit_max")
        if nums == DEST_CHECK_DEFAULT:
            return "internal:default"
        return "internal:{},{},{}s,{}-{}s".format(*nums)
    match = DEST_CHECK_DOWNONLY_RE.match(text)
    if match:
        nums = tuple(int(n) for n in match.groups())
        if any(n > 255 for n in nums):
            raise InputError(path, value, "down_retry,down_wait must be 0..255")
        return "internal:{},{}s".format(*nums)
    raise InputError(
        path,
        value,
        "must be disable, default, tcp, udp, sctp, ping, D,U,Ws,MIN-MAXs or D,Ws (e.g. 1,1,3s,5-3600s)",
    )


def dest_check_arg(canonical):
    """``internal:default`` -> ``default`` (the ``--dest-check`` argument)."""
    return canonical.split(":", 1)[1]


def _acl(path, values):
    if values is None:
        return None
    if not isinstance(values, (list, tuple)):
        raise InputError(path, values, "must be a list of IP addresses or ipset:NAME")
    out = []
    for idx, value in enumerate(values):
        p = item_path(path, idx)
        text = str(value).strip() if value is not None else ""
        entry = text if IPSET_RE.match(text) else ip_address(p, value).compressed
        if entry in out:
            raise InputError(p, value, "listed twice")
        out.append(entry)
    return sorted(out)


def normalize(services, flavor=None):
    """Validate and canonicalise the ``services`` option. Returns a list of desired services.

    ``flavor`` None runs the flavour-independent rules only; call again with the detected
    flavour (``dpvs``/``kernel``) before planning.
    """
    if services is None:
        services = []
    out = []
    seen = {}
    lip_devs = {}
    for path, raw in _dict_items("services", services):
        svc = _normalize_service(path, raw, flavor)
        if svc["key"] in seen:
            raise InputError(path, service_label(svc["key"]), "duplicate service (also {})".format(seen[svc["key"]]))
        seen[svc["key"]] = path
        _check_laddr_devs(path, svc, lip_devs)
        out.append(svc)
    return out


def _dict_items(base, value):
    """``(path, item)`` of a list option whose items must be dictionaries; the list itself is
    checked at once, each item when the caller reaches it."""
    if not isinstance(value, (list, tuple)):
        raise InputError(base, value, "must be a list")

    def items():
        for idx, raw in enumerate(value):
            path = item_path(base, idx)
            if not isinstance(raw, dict):
                raise InputError(path, raw, "must be a dictionary")
            yield path, raw

    return items()


def _check_laddr_devs(path, svc, lip_devs):
    """One local address lives on one device: ``lip_devs`` maps each LIP seen so far to its
    ``(dev, service path)``."""
    for j, laddr in enumerate(svc["laddrs"] or []):
        prev = lip_devs.get(laddr["ip"])
        if prev is not None and prev[0] != laddr["dev"]:
            raise InputError(
                path_join(item_path(path_join(path, "laddrs"), j), "dev"),
                laddr["dev"],
                "local address {} is on {} in {}: one address lives on one device".format(
                    laddr["ip"], prev[0], prev[1]
                ),
            )
        lip_devs.setdefault(laddr["ip"], (laddr["dev"], path))


def _normalize_service(path, raw, flavor):
    state = raw.get("state") or "present"
    if state not in ("present", "absent"):
        raise InputError(path_join(path, "state"), state, "must be present or absent")
    if raw.get("fwmark") is not None:
        protocol, vip, vport, fwmark, family = _fwmark_address(path, raw, flavor)
        key = ("fwmark", fwmark, family)
    else:
        protocol, vip, vport, fwmark, family = _vip_address(path, raw)
        key = (protocol, vip, vport)
    svc = {
        "path": path,
        "key": key,
        "label": service_label(key),
        "owner": _owner(path, raw, state),
        "health_check": None,
        "protocol": protocol,
        "vip": vip,
        "port": vport,
        "fwmark": fwmark,
        "family": family,
        "state": state,
        "options": default_options(),
        "real_servers": None,
        "laddrs": None,
        "blocklist": None,
        "allowlist": None,
    }
    if state == "absent":
        return svc
    if svc["owner"] == "keepalived":
        svc["health_check"] = _checks.normalize(path_join(path, "health_check"), raw.get("health_check"), protocol)
    _normalize_options(path, raw, svc, flavor)
    if flavor == "kernel":
        _reject_dpvs_only(path, raw)
    svc["real_servers"] = _normalize_real_servers(path, raw.get("real_servers"), svc, flavor)
    svc["laddrs"] = _normalize_laddrs(path, raw.get("laddrs"), svc, flavor)
    for name in ("blocklist", "allowlist"):
        svc[name] = _service_acl(path, raw, name, protocol, flavor)
    return svc


def _owner(path, raw, state):
    """``owner`` checked (a health check is keepalived's: only its services have one)."""
    owner = raw.get("owner") or "ipvsadm"
    if owner not in OWNERS:
        raise InputError(path_join(path, "owner"), owner, "must be ipvsadm or keepalived")
    check = raw.get("health_check")
    if owner == "ipvsadm" and check is not None:
        raise InputError(
            path_join(path, "health_check"),
            check,
            "health checks run in keepalived: set owner: keepalived on this service (docs/ha.md)",
        )
    if owner == "keepalived" and state != "present":
        raise InputError(
            path_join(path, "state"),
            state,
            "a keepalived service is removed by deleting it from the inventory (keepalived drops it on reload)",
        )
    return owner


def owned(services, owner="ipvsadm"):
    """The canonical services of ``owner`` (normalize's output)."""
    return [svc for svc in services if svc["owner"] == owner]


def _fwmark_address(path, raw, flavor):
    """``(protocol, vip, port, fwmark, family)`` of a fwmark service (IPv6 when a real server is)."""
    fwmark = int_range(path_join(path, "fwmark"), raw.get("fwmark"), 1, UINT32_MAX)
    if raw.get("vip") not in (None, ""):
        raise InputError(path_join(path, "vip"), raw.get("vip"), "vip and fwmark are mutually exclusive")
    if raw.get("port") is not None:
        raise InputError(path_join(path, "port"), raw.get("port"), "a fwmark service has no port")
    if flavor == "dpvs":
        raise InputError(path_join(path, "fwmark"), fwmark, "fwmark services exist on the kernel flavour only")
    family = "inet"
    if any(":" in str((rs or {}).get("ip") or "") for rs in raw.get("real_servers") or []):
        family = "inet6"
    return "fwmark", None, None, fwmark, family


def _vip_address(path, raw):
    """``(protocol, vip, port, fwmark, family)`` of a VIP:port service."""
    protocol = raw.get("protocol") or "tcp"
    if protocol not in PROTOCOLS:
        raise InputError(path_join(path, "protocol"), protocol, "must be one of " + ", ".join(PROTOCOLS))
    vip_addr = ip_address(path_join(path, "vip"), raw.get("vip"))
    if raw.get("port") is None:
        raise InputError(path_join(path, "port"), None, "a port is required (0 only with persistent)")
    vport = port(path_join(path, "port"), raw.get("port"), allow_zero=True)
    return protocol, vip_addr.compressed, vport, None, "inet6" if vip_addr.version == 6 else "inet"


# the boolean service options: (the protocols they are for or None, the message for the others)
BOOL_OPTION_PROTOCOLS = {
    "ops": (("udp", "fwmark"), "one-packet scheduling is for UDP services only"),
    "synproxy": (("tcp",), "synproxy is for TCP services only"),
    "expire_quiescent": (None, None),
    "quic": (("udp",), "quic is for UDP services only"),
}


def _normalize_options(path, raw, svc, flavor):
    """Fill ``svc["options"]`` from ``raw``, one option after the other."""
    opts = svc["options"]
    protocol = svc["protocol"]
    opts["scheduler"] = _scheduler(path, raw, flavor)
    opts["persistent"], opts["netmask"] = _persistence(path, raw, svc)
    opts["ops"] = _bool_option(path, raw, "ops", protocol)
    opts["synproxy"] = _bool_option(path, raw, "synproxy", protocol)
    opts["conn_timeout"] = _opt_int(path_join(path, "conn_timeout"), raw.get("conn_timeout"), 0, INT_MAX) or None
    opts["hash_target"] = _hash_target(path, raw.get("hash_target"), opts["scheduler"], protocol)
    opts["expire_quiescent"] = _bool_option(path, raw, "expire_quiescent", protocol)
    opts["proxy_protocol"] = _proxy_protocol(path, raw.get("proxy_protocol"))
    opts["quic"] = _bool_option(path, raw, "quic", protocol)
    opts["dest_check"] = canonical_dest_check(path_join(path, "dest_check"), raw.get("dest_check"))


def _scheduler(path, raw, flavor):
    sched = raw.get("scheduler") or "wlc"
    if sched not in ALL_SCHEDULERS:
        raise InputError(path_join(path, "scheduler"), sched, "unknown scheduler (" + ", ".join(ALL_SCHEDULERS) + ")")
    if flavor in FLAVORS and sched not in SCHEDULERS[flavor]:
        raise InputError(
            path_join(path, "scheduler"),
            sched,
            "not a {} scheduler (one of {})".format(flavor, ", ".join(SCHEDULERS[flavor])),
        )
    return sched


def _persistence(path, raw, svc):
    """``(persistent, netmask)``; port 0 (all ports) needs persistence."""
    persistent = _opt_int(path_join(path, "persistent"), raw.get("persistent"), 1, MAX_PERSISTENT)
    netmask = None
    if raw.get("persistent_netmask") not in (None, ""):
        if persistent is None:
            raise InputError(path_join(path, "persistent_netmask"), raw.get("persistent_netmask"), "needs persistent")
        netmask = canonical_netmask(path_join(path, "persistent_netmask"), raw.get("persistent_netmask"), svc["family"])
    if svc["port"] == 0 and persistent is None:
        raise InputError(path_join(path, "port"), 0, "port 0 (all ports) is only allowed with persistent")
    return persistent, netmask


def _bool_option(path, raw, name, protocol):
    value = boolean(path_join(path, name), raw.get(name), default=False, words=True)
    protocols, message = BOOL_OPTION_PROTOCOLS[name]
    if value and protocols is not None and protocol not in protocols:
        raise InputError(path_join(path, name), True, message)
    return value


def _hash_target(path, hash_target, sched, protocol):
    """The conhash target (``sip`` unless given); None for the other schedulers."""
    if hash_target is not None:
        if hash_target not in HASH_TARGETS:
            raise InputError(path_join(path, "hash_target"), hash_target, "must be sip or qid")
        if sched != "conhash":
            raise InputError(path_join(path, "hash_target"), hash_target, "hash_target needs scheduler conhash")
        if hash_target == "qid" and protocol != "udp":
            raise InputError(path_join(path, "hash_target"), hash_target, "qid hashing is for UDP (QUIC) services only")
    return (hash_target or "sip") if sched == "conhash" else None


def _proxy_protocol(path, pp):
    if pp is not None and pp not in PROXY_PROTOCOLS:
        raise InputError(path_join(path, "proxy_protocol"), pp, "must be one of " + ", ".join(PROXY_PROTOCOLS))
    return None if pp in (None, "disable") else pp


def _reject_dpvs_only(path, raw):
    """The kernel flavour: every DPVS-only option must be unset (or off)."""
    for name in DPVS_ONLY_OPTIONS:
        value = raw.get(name)
        if value in (None, False, "disable") or (name == "conn_timeout" and not value):
            continue
        raise InputError(path_join(path, name), value, "DPVS-only option; not available on the kernel flavour")


def _service_acl(path, raw, name, protocol, flavor):
    """The black or white list of a service (DPVS VIP:port services only)."""
    value = raw.get(name)
    if value is not None and flavor == "kernel":
        raise InputError(path_join(path, name), value, "DPVS-only option; not available on the kernel flavour")
    if value is not None and protocol == "fwmark":
        raise InputError(path_join(path, name), value, "needs a VIP:port service")
    return _acl(path_join(path, name), value)


def _normalize_real_servers(path, value, svc, flavor):
    if value is None:
        return None
    out = []
    seen = {}
    rs_families = set()
    for p, raw in _dict_items(path_join(path, "real_servers"), value):
        rs = _normalize_rs(p, raw, svc, flavor, rs_families)
        key = (rs["ip"], rs["port"])
        if key in seen:
            raise InputError(p, rs_label(rs), f"duplicate real server (also {seen[key]})")
        seen[key] = p
        out.append(rs)
    return out


def _normalize_rs(p, raw, svc, flavor, rs_families):
    """One real server; ``rs_families`` collects the families of the service's real servers."""
    addr = ip_address(path_join(p, "ip"), raw.get("ip"))
    family = "inet6" if addr.version == 6 else "inet"
    forward = _rs_forward(p, raw.get("forward"), flavor)
    _check_rs_family(p, raw.get("ip"), family, forward, svc, flavor, rs_families)
    rs_families.add(family)
    rport = _rs_port(p, raw.get("port"), forward, svc)
    weight = raw.get("weight")
    weight = 1 if weight is None else int_range(path_join(p, "weight"), weight, 0, 65535)
    u_thr = _opt_int(path_join(p, "u_threshold"), raw.get("u_threshold"), 0, INT_MAX) or 0
    l_thr = _opt_int(path_join(p, "l_threshold"), raw.get("l_threshold"), 0, INT_MAX) or 0
    if l_thr and u_thr < l_thr:
        raise InputError(
            path_join(p, "u_threshold"), u_thr, f"must be >= l_threshold ({l_thr}) when l_threshold is set"
        )
    return {
        "path": p,
        "ip": addr.compressed,
        "port": rport,
        "family": family,
        "forward": forward,
        "weight": weight,
        "u_threshold": u_thr,
        "l_threshold": l_thr,
    }


def _rs_forward(p, forward, flavor):
    """The forwarding method (the flavour's default when unset and the flavour is known)."""
    if forward is not None and forward not in FORWARDS:
        raise InputError(path_join(p, "forward"), forward, "must be one of " + ", ".join(FORWARDS))
    if forward is None and flavor in FLAVORS:
        forward = DEFAULT_FORWARD[flavor]
    if flavor == "kernel" and forward not in KERNEL_FORWARDS:
        raise InputError(path_join(p, "forward"), forward, "the kernel flavour has masq, dr and tunnel only")
    return forward


def _check_rs_family(p, raw_ip, family, forward, svc, flavor, rs_families):
    """Mixed families: IPv4 real servers under an IPv6 VIP only through NAT64 (DPVS fullnat) or
    kernel tunnels; one family per DPVS service."""
    if svc["family"] == "inet" and family == "inet6" and svc["protocol"] != "fwmark":
        raise InputError(path_join(p, "ip"), raw_ip, "an IPv4 VIP cannot have an IPv6 real server")
    if svc["family"] == "inet6" and family == "inet" and svc["protocol"] != "fwmark":
        if flavor == "dpvs" and forward != "fullnat":
            raise InputError(
                path_join(p, "ip"), raw_ip, "an IPv4 real server under an IPv6 VIP is NAT64: forward fullnat"
            )
        if flavor == "kernel" and forward != "tunnel":
            raise InputError(path_join(p, "ip"), raw_ip, "kernel IPVS mixes address families for tunnel servers only")
    if flavor == "dpvs" and rs_families and family not in rs_families:
        raise InputError(path_join(p, "ip"), raw_ip, "real servers of one DPVS service share one family")


def _rs_port(p, rport, forward, svc):
    """The real server port: required for fullnat/masq, the service port for dr/tunnel."""
    if rport is None:
        if forward in (None, "fullnat", "masq") and svc["protocol"] != "fwmark":
            raise InputError(
                path_join(p, "port"),
                None,
                "a port is required for {} real servers (without one DPVS uses port 0 and drops traffic)".format(
                    forward or "fullnat/masq"
                ),
            )
        return svc["port"] or 0
    rport = port(path_join(p, "port"), rport, allow_zero=svc["protocol"] == "fwmark")
    if forward in ("dr", "tunnel") and svc["protocol"] != "fwmark" and rport != svc["port"]:
        raise InputError(
            path_join(p, "port"),
            rport,
            "dr/tunnel real servers use the service port {} (ipvsadm overrides it)".format(svc["port"]),
        )
    return rport


def _normalize_laddrs(path, value, svc, flavor):
    if value is None:
        return None
    base = path_join(path, "laddrs")
    if flavor == "kernel":
        raise InputError(base, value, "local addresses (laddrs) are DPVS-only; not available on the kernel flavour")
    if svc["protocol"] == "fwmark":
        raise InputError(base, value, "laddrs need a VIP:port service")
    items = _dict_items(base, value)
    rs_list = svc["real_servers"] or []
    not_fullnat = [rs for rs in rs_list if rs["forward"] not in (None, "fullnat")]
    if value and not_fullnat:
        raise InputError(
            base,
            value,
            "laddrs are the FullNAT source pool: {} is {}".format(rs_label(not_fullnat[0]), not_fullnat[0]["forward"]),
        )
    rs_families = {rs["family"] for rs in rs_list}
    out = []
    seen = {}
    for p, raw in items:
        addr = ip_address(path_join(p, "ip"), raw.get("ip"))
        family = "inet6" if addr.version == 6 else "inet"
        dev = device(path_join(p, "dev"), raw.get("dev"))
        _check_laddr_family(p, raw.get("ip"), family, svc, rs_families)
        ip = addr.compressed
        if ip in seen:
            raise InputError(path_join(p, "ip"), raw.get("ip"), f"duplicate local address (also {seen[ip]})")
        seen[ip] = p
        out.append({"path": p, "ip": ip, "dev": dev, "family": family})
    return out


def _check_laddr_family(p, raw_ip, family, svc, rs_families):
    """A local address has the family of the real servers it faces (and of an IPv4 VIP)."""
    if rs_families and family not in rs_families:
        raise InputError(
            path_join(p, "ip"),
            raw_ip,
            "a local address faces the real servers: it must be IPv{} like them{}".format(
                6 if "inet6" in rs_families else 4,
                " (NAT64)" if svc["family"] == "inet6" and "inet" in rs_families else "",
            ),
        )
    if svc["family"] == "inet" and family == "inet6":
        raise InputError(path_join(p, "ip"), raw_ip, "an IPv4 VIP needs IPv4 local addresses")


# ----------------------------------------------------------------------------- live


def live_services(parsed_list, thresholds=None, laddrs=None, blocklist=None, allowlist=None):
    """Canonical live services (same shape as :func:`normalize`'s) from parser output.

    ``thresholds``: :func:`parse_list_thresholds` output (or None: not read);
    ``laddrs``: ``{(protocol, vip, port): [ip, ...]}`` (or None: not read/kernel);
    ``blocklist``/``allowlist``: parser output (or None: not read).
    """
    thr = _threshold_map(thresholds)
    acls = _acl_map(blocklist, allowlist)
    out = []
    for parsed in parsed_list["services"]:
        key = _parsed_key(parsed)
        svc_laddrs = None
        if laddrs is not None and key[0] in PROTOCOLS:
            svc_laddrs = [{"ip": ip, "dev": None} for ip in laddrs.get(key, [])]
        out.append(
            {
                "key": key,
                "label": service_label(key),
                "protocol": parsed["protocol"],
                "vip": parsed["vip"],
                "port": parsed["port"],
                "fwmark": parsed["fwmark"],
                "family": parsed["family"],
                "state": "present",
                "options": _live_options(parsed),
                "real_servers": [_live_rs(rs, thr.get((key, rs["ip"], rs["port"]))) for rs in parsed["real_servers"]],
                "laddrs": svc_laddrs,
                "blocklist": sorted(acls.get(("blocklist", key), [])) if blocklist is not None else None,
                "allowlist": sorted(acls.get(("allowlist", key), [])) if allowlist is not None else None,
            }
        )
    return out


def _threshold_map(thresholds):
    """``{(service key, ip, port): (u_threshold, l_threshold)}`` ({} when not read)."""
    thr = {}
    if thresholds is not None:
        for svc in thresholds["services"]:
            key = _parsed_key(svc)
            for rs in svc["real_servers"]:
                thr[(key, rs["ip"], rs["port"])] = (rs["u_threshold"], rs["l_threshold"])
    return thr


def _acl_map(blocklist, allowlist):
    """``{(list name, service key): [address, ...]}`` of the lists that were read."""
    acls = {}
    for name, entries in (("blocklist", blocklist), ("allowlist", allowlist)):
        for entry in entries or ():
            acls.setdefault((name, (entry["protocol"], entry["vip"], entry["port"])), []).append(entry["address"])
    return acls


def _live_options(parsed):
    """The canonical options of a parsed service (its scheduler and flags)."""
    flags = parsed["flags"]
    opts = default_options()
    opts.update(
        {
            "scheduler": parsed["scheduler"],
            "persistent": flags["persistent"],
            "netmask": flags["netmask"],
            "ops": flags["ops"],
            "synproxy": flags["synproxy"],
            "conn_timeout": flags["conn_timeout"] or None,
            "hash_target": flags["hash_target"],
            "proxy_protocol": None if flags["proxy_protocol"] in (None, "disable") else flags["proxy_protocol"],
            "expire_quiescent": flags["expire_quiescent"],
            "quic": flags["quic"],
            "dest_check": flags["dest_check"] or None,
        }
    )
    return opts


def _live_rs(rs, thresholds):
    """A canonical live real server; ``thresholds`` ``(u, l)`` or None (not read)."""
    u_thr, l_thr = thresholds or (None, None)
    return {
        "ip": rs["ip"],
        "port": rs["port"],
        "family": _family(rs["ip"]),
        "forward": rs["forward"],
        "weight": rs["weight"],
        "u_threshold": u_thr,
        "l_threshold": l_thr,
        "active_conns": rs["active_conns"],
        "inactive_conns": rs["inactive_conns"],
    }


def _parsed_key(parsed):
    if parsed["protocol"] == "fwmark":
        return ("fwmark", parsed["fwmark"], parsed["family"])
    if parsed["protocol"] == "match":
        return ("match", parsed["match"], None)
    return (parsed["protocol"], parsed["vip"], parsed["port"])


def manageable(svc):
    """Services the module can address with ipvsadm (tcp/udp/sctp VIP:port and fwmark)."""
    return svc["key"][0] in PROTOCOLS or svc["key"][0] == "fwmark"


# ----------------------------------------------------------------------------- rendering


def service_target(svc):
    """``["-t", "10.0.96.204:80"]``, ``["-t", "[2001:db8::204]:80"]``, ``["-f", "5", "-6"]``."""
    key = svc["key"]
    if key[0] == "fwmark":
        return ["-f", str(key[1])] + (["-6"] if key[2] == "inet6" else [])
    vip = f"[{key[1]}]" if ":" in key[1] else key[1]
    return [PROTO_SWITCH[key[0]], f"{vip}:{key[2]}"]


def _default_netmask(svc):
    return "128" if svc["family"] == "inet6" else "255.255.255.255"


def service_options_argv(svc, flavor, edit=False):
    """The option switches of ``-A``/``-E`` (``-E`` always carries the full set: DPVS resets
    conn-timeout/proxy-protocol it is not given; the kernel resets everything)."""
    o = svc["options"]
    argv = ["-s", o["scheduler"]]
    if o["persistent"] is not None:
        argv += ["-p", str(o["persistent"])]
        if o["netmask"] is not None or edit:
            argv += ["-M", o["netmask"] or _default_netmask(svc)]
    if o["ops"]:
        argv += ["--ops"]
    if flavor == "dpvs":
        if svc["protocol"] == "tcp" and (o["synproxy"] or edit):
            argv += ["-j", "enable" if o["synproxy"] else "disable"]
        if o["scheduler"] == "conhash":
            argv += ["--hash-target", o["hash_target"] or "sip"]
        if o["conn_timeout"]:
            argv += ["--conn-timeout", str(o["conn_timeout"])]
        if o["proxy_protocol"]:
            argv += ["--proxy-protocol", o["proxy_protocol"]]
        if o["expire_quiescent"]:
            argv += ["--expire-quiescent"]
        if o["quic"]:
            argv += ["--quic"]
        if o["dest_check"]:
            argv += ["--dest-check", dest_check_arg(o["dest_check"])]
    return argv


def render_add_service(svc, flavor):
    return ["-A", *service_target(svc), *service_options_argv(svc, flavor)]


def render_edit_service(svc, flavor):
    return ["-E", *service_target(svc), *service_options_argv(svc, flavor, edit=True)]


def render_del_service(svc):
    return ["-D", *service_target(svc)]


def _rs_target(rs):
    # the port is always explicit, 0 included: "-r RIP" without a port leaves it to ipvsadm
    return ["-r", host_port(rs["ip"], rs["port"], keep_zero=True)]


def render_add_rs(svc, rs):
    argv = ["-a", *service_target(svc), *_rs_target(rs), FORWARD_SWITCH[rs["forward"]], "-w", str(rs["weight"])]
    if rs.get("u_threshold"):
        argv += ["-x", str(rs["u_threshold"])]
    if rs.get("l_threshold"):
        argv += ["-y", str(rs["l_threshold"])]
    return argv


def render_edit_rs(svc, rs):
    """``-e`` with the full set: omitted ``-x``/``-y`` would be reset to 0, a missing forwarding
    switch to ``-g``."""
    return [
        "-e",
        *service_target(svc),
        *_rs_target(rs),
        FORWARD_SWITCH[rs["forward"]],
        "-w",
        str(rs["weight"]),
        "-x",
        str(rs.get("u_threshold") or 0),
        "-y",
        str(rs.get("l_threshold") or 0),
    ]


def render_del_rs(svc, rs):
    return ["-d", *service_target(svc), *_rs_target(rs)]


def render_add_laddr(svc, laddr):
    return ["--add-laddr", "-z", laddr["ip"], *service_target(svc), "-F", laddr["dev"]]


def render_del_laddr(svc, laddr):
    return ["--del-laddr", "-z", laddr["ip"], *service_target(svc), "-F", laddr["dev"]]


def render_acl(svc, name, entry, add):
    if name == "blocklist":
        return ["--add-blklst" if add else "--del-blklst", *service_target(svc), "-k", entry]
    return ["--add-whtlst" if add else "--del-whtlst", *service_target(svc), "-2", entry]


def render_lip_address(laddr):
    """``dpip addr add LIP/32 dev IF sapool`` (``-6 ... /128`` for IPv6): the NIC address that
    ``--del-laddr`` removed although another service still uses it."""
    if ":" in laddr["ip"]:
        return ["-6", "addr", "add", "{}/128".format(laddr["ip"]), "dev", laddr["dev"], "sapool"]
    return ["addr", "add", "{}/32".format(laddr["ip"]), "dev", laddr["dev"], "sapool"]


def restore_line(argv):
    """One ``ipvsadm -R`` stdin line (the tokens never contain blanks: they are validated)."""
    return " ".join(argv)


def render_table(services, flavor):
    """A readable ipvsadm-save-like text of a canonical table (for ``diff``): ``-A`` lines with
    every option (DPVS flags included), ``-a`` lines with thresholds, ``--add-laddr`` and
    ``--add-blklst``/``--add-whtlst`` lines. Sorted like ``ipvsadm -ln``."""
    lines = []
    for svc in sorted(services, key=_sort_key):
        if not manageable(svc):
            lines.append("# {} (not managed by this module)".format(svc["label"]))
            continue
        lines.append(restore_line(render_add_service(svc, flavor)))
        for rs in sorted(svc["real_servers"] or [], key=lambda r: (_ip_sort(r["ip"]), r["port"])):
            lines.append(restore_line(render_add_rs(svc, rs)))
        for laddr in sorted(svc["laddrs"] or [], key=lambda item: _ip_sort(item["ip"])):
            lines.append(restore_line(["--add-laddr", "-z", laddr["ip"], *service_target(svc)]))
        for name in ("blocklist", "allowlist"):
            for entry in svc.get(name) or []:
                lines.append(restore_line(render_acl(svc, name, entry, True)))
    return "\n".join(lines) + ("\n" if lines else "")


def _ip_sort(ip):
    try:
        addr = ipaddress.ip_address(ip)
        return (addr.version, int(addr))
    except ValueError:
        return (9, 0)


def _sort_key(svc):
    key = svc["key"]
    if key[0] == "fwmark":
        return (1, key[1], 0, 0, 0, 0)
    if key[0] == "match":
        return (2, 0, 0, 0, 0, 0)
    fam, addr = _ip_sort(key[1])
    return (0, 0, fam, PROTOCOLS.index(key[0]) if key[0] in PROTOCOLS else 9, addr, key[2] or 0)
