# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""UOA in dpvs.conf: on only for real servers that can take it.

DPVS (v1.10.2, ``src/ipvs/ip_vs_proto_udp.c``) puts the client address into the first
``uoa_max_trail`` packets (default 3) of every UDP FullNAT connection. With ``uoa_mode opp``
(the default) those packets are IP protocol 248 ("option protocol"): a real server without
``uoa.ko`` has no handler for protocol 248 and answers ICMP protocol unreachable, so a one-packet
flow (a DNS query) never gets an answer and longer flows lose their first packets.
``uoa_max_trail 0`` turns UOA off ("zero to disable UOA", checked when the connection is created
and before each packet); the real servers then get plain UDP with the LIP as the source.
``uoa_mode ipo`` (an IPv4 option, number 31) is accepted by a Linux server without uoa.ko (its
``ip_options_compile`` skips options it does not know on received packets), but only for IPv4
clients, not through network devices that drop IP options, and as an extra empty UDP datagram
when the option does not fit: not a safe automatic choice (docs/dpvs_conf.md, "UOA").

:func:`plan` decides from the inventory: the UDP FullNAT real servers of
``dpvs_services_services`` and the hosts of the group the ``toa`` role runs on (``realservers``),
each with its inventory name, ``ansible_host``, ``toa_addresses``, ``toa_modules`` and
``toa_load``. :func:`conf_overrides` writes the decision into the role's ``dpvs_conf``. Pure
functions, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.model import DEFAULTS

MODES = ("auto", "on", "off")
# what the toa role loads when the inventory does not set toa_modules (roles/toa/defaults/main.yml)
TOA_DEFAULT_MODULES = ("toa", "uoa")
# DPVS sends no UOA on a connection of a proxy protocol v2 service (udp_fnat_in_pre_handler)
NO_UOA_PROXY_PROTOCOLS = ("v2", "v2-insecure")
# DPVS's own value when dpvs.conf does not set uoa_max_trail / uoa_mode (UOA_DEF_MAX_TRAIL, UOA_M_OPP)
DPVS_BUILTIN = {"uoa_max_trail": 3, "uoa_mode": "opp"}
UDP_PATH = "dpvs_conf.ipvs_defs.udp"
WHAT_TO_DO = (
    "put each of them in the realservers group (its inventory name, "
    "ansible_host or an entry of toa_addresses is that address) with uoa in toa_modules, or set "
    "dpvs_uoa: on if uoa.ko is loaded there by other means"
)


def normalize_mode(value):
    """``dpvs_uoa`` as auto, on or off (YAML's unquoted on/off arrive as booleans)."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    if isinstance(value, str) and value.strip().lower() in MODES:
        return value.strip().lower()
    raise InputError("dpvs_uoa", value, "must be auto, on or off")


def address_problems(value, name="toa_addresses"):
    """Messages for a list of IP addresses (``toa_addresses``): empty when every entry is one."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return [f"{name}: must be a list of IP addresses (got {value!r})"]
    problems = []
    for index, item in enumerate(value):
        if _ip(item) is None:
            problems.append(f"{name}[{index}]: not an IP address (got {item!r})")
    return problems


def canonical_ip(value):
    """The compressed form of an IP address, or None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return ipaddress.ip_address(str(value).strip()).compressed
    except ValueError:
        return None


_ip = canonical_ip


def _label(svc):
    vip = str(svc.get("vip"))
    host = f"[{vip}]" if ":" in vip else vip
    return f"udp {host}:{svc.get('port')}"


def udp_fullnat_real_servers(services):
    """``{ip: [service labels]}`` of the real servers DPVS sends UOA to: FullNAT (the DPVS default
    forwarding) under a present UDP VIP:port service without proxy protocol v2. Lenient: the
    dpvs_services role validates the list; entries it would refuse are skipped here."""
    found = {}
    for svc in services if isinstance(services, (list, tuple)) else []:
        if not isinstance(svc, dict) or svc.get("fwmark") is not None:
            continue
        if (svc.get("protocol") or "tcp") != "udp" or (svc.get("state") or "present") != "present":
            continue
        if svc.get("proxy_protocol") in NO_UOA_PROXY_PROTOCOLS:
            continue
        real_servers = svc.get("real_servers")
        for rs in real_servers if isinstance(real_servers, (list, tuple)) else []:
            if not isinstance(rs, dict) or rs.get("forward") not in (None, "fullnat"):
                continue
            ip = _ip(rs.get("ip")) or str(rs.get("ip"))
            labels = found.setdefault(ip, [])
            if _label(svc) not in labels:
                labels.append(_label(svc))
    return found


def _module_names(modules):
    if modules is None:
        return list(TOA_DEFAULT_MODULES)
    if not isinstance(modules, (list, tuple)):
        return []
    return [str(m.get("name")) for m in modules if isinstance(m, dict)]


def realserver_hosts(hosts):
    """The hosts of the toa role's group as ``[{name, addresses, loads_uoa, why}]``.

    Each input is ``{name, ansible_host, toa_addresses, toa_modules, toa_load, prepare}``
    (``toa_modules`` None: the role's default, toa and uoa; ``prepare``: the host's
    dpvs_cluster_prepare_host, false when prepare.yml leaves it alone). Raises InputError
    for a ``toa_addresses`` entry that is not an IP address.
    """
    out = []
    for host in hosts if isinstance(hosts, (list, tuple)) else []:
        name = str(host.get("name"))
        addresses = host_addresses(host)
        modules = _module_names(host.get("toa_modules"))
        why = ""
        if "uoa" not in modules:
            why = "toa_modules has no uoa (it has {})".format(", ".join(modules) or "none")
        elif host.get("toa_load") is False:
            why = "toa_load is false (uoa is built, not loaded)"
        elif host.get("prepare") is False:
            why = "dpvs_cluster_prepare_host is false (the toa role does not run there)"
        out.append({"name": name, "addresses": addresses, "loads_uoa": not why, "why": why})
    return out


def host_addresses(host):
    """The addresses a host of the realservers group is matched by: its inventory name, its
    ``ansible_host`` and its ``toa_addresses`` (as written and compressed). Raises InputError for a
    ``toa_addresses`` entry that is not an IP address. Also the client_address module's matching."""
    name = str(host.get("name"))
    _check_addresses(name, host.get("toa_addresses"))
    addresses = {name, _ip(name)}
    if host.get("ansible_host") not in (None, ""):
        addresses |= {str(host["ansible_host"]), _ip(host["ansible_host"])}
    addresses |= {_ip(item) for item in host.get("toa_addresses") or []}
    addresses.discard(None)
    return addresses


def _check_addresses(name, value):
    if value is not None and not isinstance(value, (list, tuple)):
        raise InputError(f"toa_addresses of {name}", value, "must be a list of IP addresses")
    for index, item in enumerate(value or []):
        if _ip(item) is None:
            raise InputError(f"toa_addresses[{index}] of {name}", item, "not an IP address")


def _coverage(real_servers, hosts):
    """One entry per UDP FullNAT real server: which host covers it, or why none does."""
    rows = []
    for ip, labels in sorted(real_servers.items()):
        matches = [h for h in hosts if ip in h["addresses"]]
        loading = [h for h in matches if h["loads_uoa"]]
        if loading:
            rows.append({"ip": ip, "services": labels, "covered": True, "host": loading[0]["name"], "why": ""})
        elif matches:
            why = "; ".join(f"{h['name']}: {h['why']}" for h in matches)
            rows.append({"ip": ip, "services": labels, "covered": False, "host": matches[0]["name"], "why": why})
        else:
            why = "no host of the realservers group has this address (inventory name, ansible_host, toa_addresses)"
            rows.append({"ip": ip, "services": labels, "covered": False, "host": None, "why": why})
    return rows


def _explicit(overrides):
    """The user's own ``ipvs_defs.udp`` UOA keywords in ``dpvs_conf`` (``{}``: none)."""
    ipvs = overrides.get("ipvs_defs") if isinstance(overrides, dict) else None
    udp = ipvs.get("udp") if isinstance(ipvs, dict) else None
    if not isinstance(udp, dict):
        return {}
    return {key: udp[key] for key in ("uoa_max_trail", "uoa_mode") if key in udp}


def _trail(value):
    """An explicit uoa_max_trail as a number (None in dpvs_conf: DPVS's own 3); None when it is
    not a number (the dpvs.conf model refuses it with its path)."""
    if value is None:
        return DPVS_BUILTIN["uoa_max_trail"]
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _check_contradiction(mode, explicit):
    trail = _trail(explicit["uoa_max_trail"]) if "uoa_max_trail" in explicit else None
    if trail is None:
        return
    if mode == "off" and trail > 0:
        raise InputError(
            "dpvs_uoa",
            "off",
            f"contradicts {UDP_PATH}.uoa_max_trail: {trail} (UOA on); set only one of them",
        )
    if mode == "on" and trail == 0:
        raise InputError("dpvs_uoa", "on", f"contradicts {UDP_PATH}.uoa_max_trail: 0 (UOA off); set only one of them")


def _decide(mode, explicit, rows):
    """``(values written over dpvs_conf, who decided, why)``."""
    uncovered = [row for row in rows if not row["covered"]]
    if mode == "off":  # an explicit uoa_max_trail is 0 here (_check_contradiction)
        return ({} if "uoa_max_trail" in explicit else {"uoa_max_trail": 0}), "dpvs_uoa", "dpvs_uoa: off"
    if mode == "on":
        return {}, "dpvs_uoa", "dpvs_uoa: on (the real servers are vouched for)"
    if explicit:
        keys = ", ".join(f"{key}: {explicit[key]}" for key in sorted(explicit))
        return {}, "dpvs_conf", f"{UDP_PATH} sets {keys} (the inventory's own value wins over dpvs_uoa: auto)"
    if not rows:
        return {}, "dpvs_uoa", "dpvs_uoa: auto and no UDP FullNAT real server in dpvs_services_services"
    if not uncovered:
        return {}, "dpvs_uoa", "dpvs_uoa: auto and every UDP FullNAT real server is a realservers host that loads uoa"
    return {"uoa_max_trail": 0}, "dpvs_uoa", "dpvs_uoa: auto and some UDP FullNAT real servers do not load uoa"


def _effective(explicit, written):
    """uoa_max_trail and uoa_mode as DPVS will run them."""
    udp = dict(DEFAULTS["ipvs_defs"]["udp"])
    udp.update(explicit)
    udp.update(written)
    trail = _trail(udp["uoa_max_trail"])
    return trail, udp["uoa_mode"] if udp["uoa_mode"] is not None else DPVS_BUILTIN["uoa_mode"]


def _describe(rows):
    return "; ".join(
        "{} ({}: {})".format(row["ip"], ", ".join(row["services"]), row["why"]) for row in rows if not row["covered"]
    )


def _message(result, rows):
    """The line the role shows: empty when nothing is worth saying."""
    uncovered = [row for row in rows if not row["covered"]]
    if not rows or (result["uoa"] and not uncovered):
        return ""
    if not result["uoa"]:
        head = f"UOA off in dpvs.conf (uoa_max_trail 0; {result['reason']}): UDP FullNAT flows work"
        if not uncovered:
            return head + ", and every real server sees the LIP as the UDP source."
        return (
            f"{head}, and the real servers see the LIP as the UDP source. Not set up with UOA by the toa "
            f"role of this inventory: {_describe(rows)}. For client addresses: {WHAT_TO_DO}."
        )
    proto = "IP protocol 248, which a server without uoa.ko answers with ICMP protocol unreachable"
    if result["uoa_mode"] == "ipo":
        proto = "an IPv4 option, which a server without uoa.ko ignores unless the network drops it"
    return (
        f"UOA on in dpvs.conf (uoa_mode {result['uoa_mode']}, uoa_max_trail {result['uoa_max_trail']}; "
        f"{result['reason']}) for real servers the toa role of this inventory does not set up with UOA: "
        f"{_describe(rows)}. The first {result['uoa_max_trail']} packets of each of their UDP flows carry "
        f"{proto}: make sure uoa.ko is loaded there, or set dpvs_uoa: auto (or off) and drop the UOA values "
        f"from {UDP_PATH}."
    )


def plan(services, hosts, mode="auto", overrides=None):
    """UOA on or off in dpvs.conf. Raises InputError (bad ``dpvs_uoa``, a ``toa_addresses`` entry that
    is not an address, ``dpvs_uoa`` contradicting ``dpvs_conf``).

    ``services``: ``dpvs_services_services``; ``hosts``: see :func:`realserver_hosts`; ``mode``:
    ``dpvs_uoa``; ``overrides``: ``dpvs_conf``. Returns ``{mode, uoa, uoa_mode, uoa_max_trail,
    decided_by, reason, real_servers: [{ip, services, covered, host, why}], uncovered: [ip, ...],
    set: {keyword: value written over dpvs_conf}, message}``.
    """
    mode = normalize_mode(mode)
    explicit = _explicit(overrides)
    _check_contradiction(mode, explicit)
    rows = _coverage(udp_fullnat_real_servers(services), realserver_hosts(hosts))
    written, decided_by, reason = _decide(mode, explicit, rows)
    trail, uoa_mode = _effective(explicit, written)
    result = {
        "mode": mode,
        "uoa": bool(trail),
        "uoa_mode": uoa_mode,
        "uoa_max_trail": trail,
        "decided_by": decided_by,
        "reason": reason,
        "real_servers": rows,
        "uncovered": [row["ip"] for row in rows if not row["covered"]],
        "set": written,
    }
    result["message"] = _message(result, rows)
    return result


def conf_overrides(overrides, uoa_plan):
    """``dpvs_conf`` with the plan's keywords under ``ipvs_defs.udp`` (unchanged when the plan
    writes nothing, or when ``dpvs_conf`` is malformed there: the model names the path then)."""
    written = (uoa_plan or {}).get("set") or {}
    if not written or not isinstance(overrides or {}, dict):
        return overrides
    merged = copy.deepcopy(overrides or {})
    if merged.get("ipvs_defs") is None:  # absent, or null: the defaults
        merged["ipvs_defs"] = {}
    ipvs = merged["ipvs_defs"]
    if not isinstance(ipvs, dict):
        return overrides
    if ipvs.get("udp") is None:
        ipvs["udp"] = {}
    if not isinstance(ipvs["udp"], dict):
        return overrides
    ipvs["udp"].update(written)
    return merged
