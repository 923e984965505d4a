# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client addresses on the real servers of TCP FullNAT services: TOA or PROXY protocol.

DPVS (v1.10.2, ``src/ipvs/ip_vs_proto_tcp.c``) writes the client address of a TCP FullNAT
connection into a TCP option (TOA) unless the service has ``proxy_protocol`` v1 or v2: then it
puts a PROXY protocol header in front of the client's first data instead, and no TOA. It is one
or the other **per service** (``tcp_fnat_in_handler``). A real server reads TOA through toa.ko;
toa.ko hooks ``ipv4_specific.syn_recv_sock`` and calls ``tcp_v4_syn_recv_sock``, and Linux no
longer exports either of them when IPv6 is built in (``EXPORT_IPV6_MOD``, "tcp: use
EXPORT_IPV6_MOD[_GPL]()", mainline from 6.15; in 6.12 stable from a point release: Debian's
6.12.94 no longer exports them, 6.12.90 still did, DPVS pull request #1067). Debian 13 ships 6.12,
so toa.ko does not build there, or stops building at a kernel update. Such a server can still
get the client address by PROXY protocol, if its listener expects it (nginx ``listen ...
proxy_protocol``, haproxy ``accept-proxy``): docs/toa.md, "PROXY protocol".

- :func:`choose`: the toa role's choice for one real server (``toa_client_address`` auto, toa or
  proxy_protocol; auto: toa below ``toa_proxy_protocol_kernel``, default 6.12, else
  proxy_protocol) and :func:`toa_report`, its line with the listeners to configure (the
  services of the inventory that send to the host, their ports and LIPs);
- :func:`plan`: the dpvs_services role's decision per TCP FullNAT service: ``proxy_protocol: v2``
  when every real server of the service takes PROXY protocol and the service does not set it;
  a problem (the role stops before any change) when the service says ``disable`` or mixes PROXY
  and TOA servers, unless it is listed in ``dpvs_services_keep_toa``.

Real servers are matched to the hosts of the ``realservers`` group as the UOA plan matches them
(:func:`uoa.host_addresses`: inventory name, ``ansible_host``, ``toa_addresses``). UDP services are
left alone: uoa.ko uses no symbol 6.12 stopped exporting, and DPVS's PROXY protocol for UDP is
sent once, in a connection's first datagram (docs/toa.md). Pure functions, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import uoa as _uoa

SETTINGS = ("auto", "toa", "proxy_protocol")
METHODS = ("toa", "proxy_protocol")
# roles/toa/defaults/main.yml: toa_proxy_protocol_kernel (tests/unit/test_client_address.py checks they agree)
DEFAULT_THRESHOLD = "6.12"
# what the dpvs_services role sets: binary, TCP and UDP, IPv4 and IPv6 (NAT64 too); nginx (1.13.11+)
# and haproxy read v1 and v2 with the same setting. Never *-insecure: that keeps a PROXY header the
# client sent itself, so a client on the Internet could choose its own address.
AUTO_PROXY_PROTOCOL = "v2"
UNEXPORTED = "tcp_v4_syn_recv_sock and ipv4_specific"
KEEP_TOA = "dpvs_services_keep_toa"
KERNEL_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:[^0-9.].*)?$")
THRESHOLD_RE = re.compile(r"^\d+\.\d+(?:\.\d+)?$")
NUMBER_HINT = 'must be a quoted version like "6.12" (a YAML number loses trailing zeros: 6.10 is 6.1)'


def normalize_setting(value, name="toa_client_address"):
    """``toa_client_address`` as auto, toa or proxy_protocol (None: auto)."""
    if value is None:
        return "auto"
    if isinstance(value, str) and value.strip().lower() in SETTINGS:
        return value.strip().lower()
    raise InputError(name, value, "must be auto, toa or proxy_protocol")


def kernel_version(release, name="toa_kernel_release"):
    """``(major, minor, patch)`` of a kernel release: ``6.12.48+deb13-amd64`` -> (6, 12, 48),
    ``6.1.0-28-amd64`` -> (6, 1, 0), ``6.11`` -> (6, 11, 0)."""
    if isinstance(release, (int, float)) and not isinstance(release, bool):
        raise InputError(name, release, NUMBER_HINT)
    match = KERNEL_RE.match(release.strip()) if isinstance(release, str) else None
    if not match:
        raise InputError(name, release, "not a kernel release like 6.12.48+deb13-amd64 or 6.1.0-28-amd64")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def threshold_version(value, name="toa_proxy_protocol_kernel"):
    """``(text, (major, minor, patch))`` of ``toa_proxy_protocol_kernel`` (None: the default)."""
    if value is None:
        value = DEFAULT_THRESHOLD
    if not isinstance(value, str):
        raise InputError(name, value, NUMBER_HINT)
    text = value.strip()
    if not THRESHOLD_RE.match(text):
        raise InputError(name, value, 'must be a kernel version like "6.12" or "6.12.94"')
    parts = [int(part) for part in text.split(".")]
    return text, tuple(parts + [0] * (3 - len(parts)))


def choose(setting=None, kernel=None, threshold=None, where=""):
    """How one real server gets client addresses: ``{method, setting, kernel, threshold, reason, why}``
    (``reason``: the toa role's sentence; ``why``: the short form other roles quote).

    ``setting``: ``toa_client_address``; ``kernel``: its kernel release (``toa_kernel_release`` or
    the running one; None: unknown, then an auto ``method`` is None); ``threshold``:
    ``toa_proxy_protocol_kernel``; ``where``: `` of rs2`` in error paths. Raises InputError."""
    setting = normalize_setting(setting, "toa_client_address" + where)
    limit_text, limit = threshold_version(threshold, "toa_proxy_protocol_kernel" + where)
    version = None if kernel in (None, "") else kernel_version(kernel, "toa_kernel_release" + where)
    out = {"method": None, "setting": setting, "kernel": kernel, "threshold": limit_text, "reason": "", "why": ""}
    if setting != "auto":
        out.update(method=setting, reason=f"toa_client_address: {setting}", why=f"toa_client_address: {setting}")
        if setting == "toa" and version is not None and version >= limit:
            out["reason"] += (
                f" (kernel {kernel} is {limit_text} or newer, where toa.ko may not build: "
                f"{UNEXPORTED} are no longer exported)"
            )
    elif version is None:
        out["reason"] = out["why"] = "toa_client_address: auto and the kernel is unknown"
    elif version >= limit:
        out.update(
            method="proxy_protocol",
            reason=(
                f"kernel {kernel} is {limit_text} or newer (toa_proxy_protocol_kernel), where Linux no longer "
                f"exports {UNEXPORTED}, which toa.ko links against: it does not build, or stops building "
                f"at a kernel update"
            ),
            why=f"kernel {kernel}, {limit_text} or newer",
        )
    else:
        out.update(
            method="toa",
            reason=f"kernel {kernel} is older than {limit_text} (toa_proxy_protocol_kernel)",
            why=f"kernel {kernel}, older than {limit_text}",
        )
    return out


# --------------------------------------------------------------------------------------------- services


def service_key(svc):
    """``("tcp", "10.0.96.204", 80)`` of a VIP:port service (None for fwmark or malformed ones)."""
    if not isinstance(svc, dict) or svc.get("fwmark") is not None:
        return None
    vip = _uoa.canonical_ip(svc.get("vip"))
    try:
        port = int(svc.get("port"))
    except (TypeError, ValueError):
        return None
    return (str(svc.get("protocol") or "tcp").lower(), vip or str(svc.get("vip")), port)


def label(key):
    """``tcp 10.0.96.204:80`` / ``tcp [2001:db8::204]:80``."""
    proto, vip, port = key
    return f"{proto} [{vip}]:{port}" if ":" in vip else f"{proto} {vip}:{port}"


def _fullnat_real_servers(svc):
    """The FullNAT real servers (the DPVS default forwarding) of a present TCP VIP:port service."""
    key = service_key(svc)
    if key is None or key[0] != "tcp" or (svc.get("state") or "present") != "present":
        return []
    real_servers = svc.get("real_servers")
    return [
        rs
        for rs in (real_servers if isinstance(real_servers, (list, tuple)) else [])
        if isinstance(rs, dict) and rs.get("forward") in (None, "fullnat")
    ]


def _laddrs(svc):
    laddrs = svc.get("laddrs")
    return [str(la.get("ip")) for la in (laddrs if isinstance(laddrs, (list, tuple)) else []) if isinstance(la, dict)]


def services_of_host(host, lb_services):
    """The TCP FullNAT services of the inventory that send to ``host`` (``{name, ansible_host,
    toa_addresses}``): ``[{lb, service, port, laddrs, proxy_protocol}]``. ``lb_services``:
    ``[{name, services}]``, one per DPVS host (its ``dpvs_services_services``)."""
    addresses = _uoa.host_addresses(host)
    found = []
    for lb in lb_services if isinstance(lb_services, (list, tuple)) else []:
        services = lb.get("services") if isinstance(lb, dict) else None
        for svc in services if isinstance(services, (list, tuple)) else []:
            for rs in _fullnat_real_servers(svc):
                if (_uoa.canonical_ip(rs.get("ip")) or str(rs.get("ip"))) not in addresses:
                    continue
                port = rs.get("port") if rs.get("port") not in (None, 0) else svc.get("port")
                found.append(
                    {
                        "lb": str(lb.get("name")),
                        "service": label(service_key(svc)),
                        "port": int(port),
                        "laddrs": _laddrs(svc),
                        "proxy_protocol": svc.get("proxy_protocol"),
                    }
                )
    return found


# --------------------------------------------------------------------------------------------- the toa role


def listener_entries(value, name="toa_proxy_protocol_listeners"):
    """``toa_proxy_protocol_listeners`` checked: ``[{name, port}]``."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise InputError(name, value, "must be a list of {name, port}")
    out = []
    for index, item in enumerate(value):
        path = f"{name}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise InputError(path, item, "needs a name (the software, e.g. nginx) and a port")
        port = item.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise InputError(f"{path}.port", port, "must be a port number, 1-65535")
        out.append({"name": item["name"].strip(), "port": port})
    return out


def _listener_rows(targets, listeners):
    """One row per port the inventory sends to (with the declared listener's name, if any), then
    the declared listeners no service sends to."""
    rows = []
    for target in targets:
        names = [item["name"] for item in listeners if item["port"] == target["port"]]
        rows.append({**target, "name": ", ".join(names) or None})
    ports = {target["port"] for target in targets}
    for item in listeners:
        if item["port"] not in ports:
            rows.append({"lb": None, "service": None, "port": item["port"], "laddrs": [], "name": item["name"]})
    return rows


def _row_text(row):
    if row["service"] is None:
        return f"{row['name']} on port {row['port']} (no TCP FullNAT service of the inventory sends to this port)"
    who = row["name"] or "name it in toa_proxy_protocol_listeners"
    lips = ", ".join(row["laddrs"]) or "none declared"
    return f"port {row['port']} ({who}) for {row['service']} on {row['lb']}, trusted LIPs {lips}"


def toa_report(host, setting=None, kernel=None, threshold=None, listeners=None, lb_services=None, modules=None):
    """The toa role's choice for ``host`` (``{name, ansible_host, toa_addresses}``) and the line it
    prints: :func:`choose` plus ``listeners`` (rows of the ports to configure) and ``message``.
    ``modules``: the names in ``toa_modules``. Raises InputError."""
    choice = choose(setting, kernel, threshold)
    if choice["method"] is None:
        raise InputError("toa_kernel_release", kernel, "no kernel release to choose by")
    rows = _listener_rows(services_of_host(host, lb_services), listener_entries(listeners))
    name = host.get("name")
    if choice["method"] == "toa":
        message = f"{name}: client addresses by TOA: {choice['reason']}."
        if modules is not None and "toa" not in modules:
            message += " toa is not in toa_modules: its TCP FullNAT connections show the LIP as the client."
        pp = [r for r in rows if r["service"] and r.get("proxy_protocol") not in (None, "disable")]
        if pp:
            message += " PROXY protocol all the same, set in the inventory: " + "; ".join(
                f"{r['service']} on {r['lb']} (proxy_protocol {r['proxy_protocol']}, port {r['port']})" for r in pp
            )
            message += ": those listeners must expect it."
    else:
        message = (
            f"{name}: client addresses by PROXY protocol {AUTO_PROXY_PROTOCOL}, not TOA: {choice['reason']}. "
            f"toa.ko is neither built nor loaded here; the dpvs_services role sets proxy_protocol "
            f"{AUTO_PROXY_PROTOCOL} on each TCP FullNAT service whose real servers all take PROXY protocol. "
        )
        if rows:
            message += "Configure these listeners to expect PROXY protocol, from the LIPs only: " + "; ".join(
                _row_text(row) for row in rows
            )
        else:
            message += (
                "Configure the listeners to expect PROXY protocol (no TCP FullNAT service of the inventory "
                "sends to this host and toa_proxy_protocol_listeners is empty)"
            )
        message += ' (docs/toa.md, "PROXY protocol").'
    return {**choice, "listeners": rows, "message": message}


# --------------------------------------------------------------------------------------------- dpvs_services


def _resolve(host):
    """``{name, addresses, method, why, need_kernel}`` of one host of the realservers group.

    ``host``: ``{name, ansible_host, toa_addresses, method, reason, setting, kernel, threshold}``
    (``method``/``reason``: the toa role's facts of this run; ``setting``: toa_client_address;
    ``kernel``: toa_kernel_release or the gathered one)."""
    name = str(host.get("name"))
    out = {"name": name, "addresses": _uoa.host_addresses(host), "need_kernel": False}
    if host.get("method") is not None:
        if host["method"] not in METHODS:
            raise InputError(f"toa_client_address_method of {name}", host["method"], "must be toa or proxy_protocol")
        return {**out, "method": host["method"], "why": host.get("reason") or "the toa role's choice in this run"}
    choice = choose(host.get("setting"), host.get("kernel"), host.get("threshold"), where=f" of {name}")
    if choice["method"] is None:
        why = "toa_client_address auto, kernel unknown (no toa role earlier in this run, no facts): taken as toa"
        return {**out, "method": None, "why": why, "need_kernel": True}
    return {**out, "method": choice["method"], "why": choice["why"]}


def _servers(svc, hosts):
    rows = []
    for rs in _fullnat_real_servers(svc):
        ip = _uoa.canonical_ip(rs.get("ip")) or str(rs.get("ip"))
        match = next((h for h in hosts if ip in h["addresses"]), None)
        if match is None:
            rows.append(
                {"ip": ip, "host": None, "method": None, "why": "not a host of the realservers group: taken as toa"}
            )
        else:
            rows.append({"ip": ip, "host": match["name"], "method": match["method"], "why": match["why"]})
    return rows


def _who(rows):
    return "; ".join(f"{r['host'] or r['ip']} ({r['why']})" for r in rows)


def _keep_toa(value, services):
    """``(keys, problems)`` of ``dpvs_services_keep_toa``: each entry a declared TCP service."""
    if value is None:
        return set(), []
    if not isinstance(value, (list, tuple)):
        return set(), [f"{KEEP_TOA}: must be a list of services written as 'tcp VIP:port' (got {value!r})"]
    declared = {service_key(s) for s in services if service_key(s) and service_key(s)[0] == "tcp"}
    keys, problems = set(), []
    for index, item in enumerate(value):
        match = re.match(r"^\s*(\w+)\s+\[?([^\]\s]+?)\]?:(\d+)\s*$", item) if isinstance(item, str) else None
        key = None
        if match:
            vip = _uoa.canonical_ip(match.group(2)) or match.group(2)
            key = (match.group(1).lower(), vip, int(match.group(3)))
        if key not in declared:
            problems.append(
                f"{KEEP_TOA}[{index}]: not a TCP service of dpvs_services_services, written as "
                f"'tcp VIP:port' (got {item!r})"
            )
        else:
            keys.add(key)
    return keys, problems


def _decide(key, explicit, rows, keep):
    """``(action, proxy_protocol, text)`` for one service whose real servers are ``rows``."""
    name = label(key)
    pp = [r for r in rows if r["method"] == "proxy_protocol"]
    toa = [r for r in rows if r["method"] != "proxy_protocol"]
    if not pp:
        return "none", explicit, ""
    if explicit not in (None, "disable"):
        return "kept", explicit, ""
    if key in keep:
        text = (
            f"{name}: kept on TOA ({KEEP_TOA}): {_who(pp)} take client addresses by PROXY protocol only and see "
            "the LIP as the client address."
        )
        return "keep_toa", explicit, text
    if explicit == "disable":
        todo = (
            f"Drop proxy_protocol from the service (the role sets {AUTO_PROXY_PROTOCOL} when all its real servers "
            "take PROXY protocol)"
        )
    else:
        todo = (
            "Give them one method: set toa_client_address: proxy_protocol for the TOA ones whose listeners can "
            f"expect PROXY protocol (the role then sets proxy_protocol {AUTO_PROXY_PROTOCOL}), or set proxy_protocol "
            "on the service yourself"
        )
    todo = (
        f"Nothing was changed. {todo}, or list '{name}' in {KEEP_TOA} if the LIP as their client address is "
        "fine (docs/toa.md)."
    )
    if explicit == "disable":
        text = (
            f"dpvs_services_services: {name} sets proxy_protocol: disable, but its real servers {_who(pp)} take "
            f"client addresses by PROXY protocol only: with TOA they see the LIP as the client address. {todo}"
        )
        return "problem", explicit, text
    if toa:
        text = (
            f"dpvs_services_services: {name} mixes real servers that take client addresses by PROXY protocol "
            f"({_who(pp)}) with ones that take TOA ({_who(toa)}); DPVS sends one or the other per service. {todo}"
        )
        return "problem", explicit, text
    text = (
        f"{name}: proxy_protocol {AUTO_PROXY_PROTOCOL} (dpvs_services sets it): its real servers take client "
        f"addresses by PROXY protocol, not TOA: {_who(pp)}. Their listeners must expect it (docs/toa.md)."
    )
    return "set", AUTO_PROXY_PROTOCOL, text


def _unknown_text(rows):
    unknown = sorted({r["host"] for row in rows for r in row["real_servers"] if r["host"] and r["method"] is None})
    if not unknown:
        return ""
    return (
        f"{', '.join(unknown)}: toa_client_address auto and kernel unknown (the toa role did not run earlier in "
        "this run and their facts could not be gathered): taken as toa. Set toa_client_address for them, or "
        "run the toa role (playbooks/prepare.yml) in the same run."
    )


def plan(services, hosts, keep_toa=None, flavor="dpvs"):
    """The PROXY protocol decision for the TCP FullNAT services of one DPVS host.

    ``services``: ``dpvs_services_services``; ``hosts``: the realservers group (see :func:`_resolve`);
    ``keep_toa``: ``dpvs_services_keep_toa``; ``flavor``: ``dpvs_services_flavor`` (kernel: nothing
    to decide, Linux IPVS has neither FullNAT nor PROXY protocol). Returns ``{services (with the
    decision), set: [labels], problems: [messages], real_servers: [{service, action, proxy_protocol,
    real_servers: [{ip, host, method, why}]}], need_kernel: [host names], message}``. Raises
    InputError for a malformed host variable (``toa_addresses``, ``toa_client_address``, ...).
    """
    out = {"services": services, "set": [], "problems": [], "real_servers": [], "need_kernel": [], "message": ""}
    if flavor == "kernel" or not isinstance(services, (list, tuple)):
        return out
    resolved = [_resolve(h) for h in (hosts if isinstance(hosts, (list, tuple)) else [])]
    keep, out["problems"] = _keep_toa(keep_toa, services)
    effective, notes = copy.deepcopy(list(services)), []
    for index, svc in enumerate(services):
        rows = _servers(svc, resolved)
        if not rows:
            continue
        key = service_key(svc)
        action, proxy_protocol, text = _decide(key, svc.get("proxy_protocol"), rows, keep)
        entry = {"service": label(key), "action": action, "proxy_protocol": proxy_protocol, "real_servers": rows}
        out["real_servers"].append(entry)
        if action == "set":
            effective[index]["proxy_protocol"] = proxy_protocol
            out["set"].append(label(key))
        if action == "problem":
            out["problems"].append(text)
        elif text:
            notes.append(text)
    covered = {r["host"] for e in out["real_servers"] for r in e["real_servers"] if r["host"]}
    out["need_kernel"] = sorted(h["name"] for h in resolved if h["need_kernel"] and h["name"] in covered)
    out["services"] = effective
    out["message"] = " ".join(part for part in [*notes, _unknown_text(out["real_servers"])] if part)
    return out
