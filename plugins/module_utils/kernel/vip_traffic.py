# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Traffic through the DPVS VIPs (``playbooks/verify_dpvs_traffic.yml``): what to probe, and the verdict.

:func:`plan` turns the ``dpvs_services_services`` of the DPVS nodes into the probes: every TCP
and UDP VIP:port service once (the same services are normally declared for all nodes), with
the services it cannot probe listed with the reason (port 0, fwmark, sctp, no real server with a
weight, left out by ``dpvs_verify_traffic_services``).

:func:`report` judges what the clients saw (``tcp_probe`` and ``udp_probe`` results) and what
the real servers saw: the growth of toa.ko's ``syn_recv_sock_toa`` (TCP) and uoa.ko's
``uoa_got`` (UDP) on the hosts of group ``realservers``, against the connections (UDP: flows)
that reached each of them. That number comes from DPVS's own per-real-server ``Conns``
(``ipvsadm -ln --stats`` before and after, summed over the DPVS nodes); when DPVS's counters are
not available, from the clients' answered connections, judged over the real servers of the
service together. Pure functions, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import math

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError, item_path
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.tcp_probe import target_key

PREFIX = "dpvs_verify_traffic_"
PROTOCOLS = ("tcp", "udp")
NO_PROXY_PROTOCOL = (None, "", "disable")
# per protocol: the kernel module, the counter that proves the client address arrived, its unit,
# and what reaches a real server (DPVS's Conns of a UDP service count flows)
PROOF = {
    "tcp": {"module": "toa", "counter": "syn_recv_sock_toa", "unit": "connection", "reached": "connection"},
    "udp": {"module": "uoa", "counter": "uoa_got", "unit": "datagram", "reached": "flow"},
}


# -- inputs ---------------------------------------------------------------------------------
def _ip(value):
    """The compressed form of an IP address (brackets allowed), or None."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


def label(protocol, vip, port):
    """``tcp/10.0.96.204:80``, ``udp/[2001:db8::1]:53``."""
    return f"{protocol}/{target_key(vip, port)}"


def parse_label(path, value):
    """``proto/vip:port`` -> the canonical label; InputError naming ``path`` otherwise."""
    text = str(value).strip() if isinstance(value, str) else ""
    protocol, _slash, rest = text.partition("/")
    host, _colon, port = rest.rpartition(":")
    vip = _ip(host)
    if protocol not in PROTOCOLS or vip is None or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(path, value, "must be PROTO/VIP:PORT, such as tcp/10.0.96.204:80 or udp/[2001:db8::1]:53")
    return label(protocol, vip, int(port))


def _number(raw, name, kind, low, high, low_open=False):
    value = raw.get(name)
    try:
        if isinstance(value, bool):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError):
        raise InputError(PREFIX + name, value, f"must be a number from {low} to {high}") from None
    if number > high or number < low or (low_open and number == low):
        bound = f"more than {low}" if low_open else f"from {low}"
        raise InputError(PREFIX + name, value, f"must be {bound} to {high}")
    return number


def _bool(raw, name):
    value = raw.get(name)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise InputError(PREFIX + name, value, "must be true or false")


def settings(raw):
    """The ``dpvs_verify_traffic_*`` variables (``raw`` without the prefix), checked and typed."""
    out = {
        "count": _number(raw, "count", int, 1, 10000),
        "rate": _number(raw, "rate", int, 1, 100000),
        "timeout": _number(raw, "timeout", float, 0, 600, low_open=True),
        "min_answered": _number(raw, "min_answered", float, 0, 1),
        "udp_expect_answers": _bool(raw, "udp_expect_answers"),
        "tcp_request": None,
        "services": None,
    }
    request = raw.get("tcp_request")
    if request not in (None, ""):
        if not isinstance(request, str):
            raise InputError(PREFIX + "tcp_request", request, "must be text (or null: a handshake is an answer)")
        out["tcp_request"] = request
    services = raw.get("services")
    if services not in (None, ""):
        if not isinstance(services, list):
            raise InputError(PREFIX + "services", services, "must be a list of PROTO/VIP:PORT")
        out["services"] = [parse_label(item_path(PREFIX + "services", i), v) for i, v in enumerate(services)]
    return out


# -- which services ------------------------------------------------------------------------
def _real_servers(value):
    if not isinstance(value, (list, tuple)):
        return None  # omitted: the live real servers are left alone, unknown here
    out = []
    for rs in value:
        if isinstance(rs, dict) and _ip(rs.get("ip")):
            out.append(
                {
                    "ip": _ip(rs["ip"]),
                    "port": rs.get("port"),
                    "forward": rs.get("forward") or "fullnat",
                    "weight": _weight(rs.get("weight")),
                }
            )
    return out


def _weight(value):
    """A real server's weight (1 when omitted; the dpvs_services role refuses what is not a number)."""
    try:
        return 1 if value is None else int(value)
    except (TypeError, ValueError):
        return 1


def _skip_reason(svc):
    """Why a declared service cannot be probed, or None."""
    if svc.get("fwmark") is not None:
        return "a fwmark service"
    protocol = svc.get("protocol") or "tcp"
    if protocol not in PROTOCOLS:
        return f"{protocol}: only tcp and udp are probed"
    if _ip(svc.get("vip")) is None or not isinstance(svc.get("port"), int) or isinstance(svc.get("port"), bool):
        return "no VIP:port"
    if svc["port"] == 0:
        return "port 0 (all ports)"
    return None


def _merge(found, record):
    known = found.get(record["label"])
    if known is None:
        found[record["label"]] = record
        return
    known["declared_by"] += [host for host in record["declared_by"] if host not in known["declared_by"]]
    if known["real_servers"] is None:
        known["real_servers"] = record["real_servers"]
    elif record["real_servers"] is not None:
        seen = {(rs["ip"], rs["port"]) for rs in known["real_servers"]}
        known["real_servers"] += [rs for rs in record["real_servers"] if (rs["ip"], rs["port"]) not in seen]


def _declared_record(host, svc):
    reason = _skip_reason(svc)
    if reason is not None:
        name = f"fwmark {svc['fwmark']}" if svc.get("fwmark") is not None else f"{svc.get('protocol') or 'tcp'}/"
        if svc.get("fwmark") is None:
            name += f"{svc.get('vip')}:{svc.get('port')}"
        return None, {"label": name, "reason": reason}
    protocol, vip = svc.get("protocol") or "tcp", _ip(svc["vip"])
    return {
        "label": label(protocol, vip, svc["port"]),
        "protocol": protocol,
        "vip": vip,
        "port": svc["port"],
        "proxy_protocol": svc.get("proxy_protocol"),
        "real_servers": _real_servers(svc.get("real_servers")),
        "declared_by": [host],
    }, None


def declared_services(declared):
    """``[{host, services}]`` (each DPVS node's ``dpvs_services_services``) -> (services, skipped), each
    VIP:port service once (its real servers merged), in declaration order."""
    found, skipped = {}, []
    for node in declared if isinstance(declared, (list, tuple)) else []:
        for svc in node.get("services") or []:
            if not isinstance(svc, dict) or (svc.get("state") or "present") != "present":
                continue
            record, skip = _declared_record(str(node.get("host")), svc)
            if record is not None:
                _merge(found, record)
            elif skip not in skipped:
                skipped.append(skip)
    return list(found.values()), skipped


def plan(declared, raw_settings):
    """What to probe. Raises InputError for a bad ``dpvs_verify_traffic_*`` variable.

    Returns ``{settings, services (probed), skipped [{label, reason}], tcp_targets [{host, port}],
    udp_groups [{host, ports}]}``.
    """
    cfg = settings(raw_settings)
    services, skipped = declared_services(declared)
    labels = [svc["label"] for svc in services]
    for index, wanted in enumerate(cfg["services"] or []):
        if wanted not in labels:
            path = item_path(PREFIX + "services", index)
            raise InputError(path, wanted, "not a service of dpvs_services_services on the hosts of group dpvs")
    probed = []
    for svc in services:
        if cfg["services"] is not None and svc["label"] not in cfg["services"]:
            skipped.append({"label": svc["label"], "reason": f"not in {PREFIX}services"})
        elif svc["real_servers"] is not None and not any(rs["weight"] > 0 for rs in svc["real_servers"]):
            skipped.append({"label": svc["label"], "reason": "no real server with a weight above 0"})
        else:
            probed.append(svc)
    udp = {}
    for svc in probed:
        if svc["protocol"] == "udp":
            udp.setdefault(svc["vip"], []).append(svc["port"])
    return {
        "settings": cfg,
        "services": probed,
        "skipped": skipped,
        "tcp_targets": [{"host": s["vip"], "port": s["port"]} for s in probed if s["protocol"] == "tcp"],
        "udp_groups": [{"host": vip, "ports": sorted(set(ports))} for vip, ports in udp.items()],
    }


# -- what the clients saw -------------------------------------------------------------------
def _plural(count, unit):
    return f"{count} {unit}" + ("" if count == 1 else "s")


def _why_not(result):
    if not isinstance(result, dict):
        return "the probe did not run"
    if result.get("skipped"):
        return "the probe was skipped"
    return f"the probe failed: {result.get('msg') or 'no result'}"


def _tcp_seen(svc, probes):
    """The service's counts summed over the clients' tcp_probe results."""
    key = target_key(svc["vip"], svc["port"])
    seen = {"clients": [], "sent": 0, "answered": 0, "refused": 0, "timed_out": 0, "errors": 0}
    seen.update({"first_error": None, "problems": [], "flows": 0})
    for client in probes:
        result = client.get("tcp")
        entry = ((result or {}).get("targets") or {}).get(key) if isinstance(result, dict) else None
        if entry is None:
            seen["problems"].append(f"{client['name']}: {_why_not(result)}")
            continue
        seen["clients"].append(client["name"])
        seen["sent"] += entry["attempted"]
        for name in ("answered", "refused", "timed_out", "errors"):
            seen[name] += entry[name]
        seen["first_error"] = seen["first_error"] or entry.get("first_error")
    seen["flows"] = seen["answered"]
    seen["unanswered"] = seen["sent"] - seen["answered"]
    return seen


def _udp_result(client, vip):
    for result in client.get("udp") or []:
        if isinstance(result, dict) and _ip((result.get("item") or {}).get("host") or result.get("host")) == vip:
            return result
    return None


def _udp_seen(svc, probes, expect_answers):
    """The service's counts summed over the clients' udp_probe results (``flows``: one per client socket)."""
    seen = {"clients": [], "sent": 0, "answered": 0, "first_error": None, "problems": [], "flows": 0}
    seen.update({"foreign_sources": [], "unanswered": 0})
    for client in probes:
        result = _udp_result(client, svc["vip"])
        entry = ((result or {}).get("ports") or {}).get(str(svc["port"])) if isinstance(result, dict) else None
        if entry is None:
            seen["problems"].append(f"{client['name']}: {_why_not(result)}")
            continue
        seen["clients"].append(client["name"])
        seen["sent"] += entry["sent"]
        seen["answered"] += entry["answered"]
        seen["flows"] += 1 if (entry["answered"] if expect_answers else entry["sent"]) else 0
        seen["unanswered"] += 1 if entry["sent"] and expect_answers and not entry["answered"] else 0
        seen["first_error"] = seen["first_error"] or result.get("last_error")
        for source in entry.get("reply_sources") or []:
            if _ip(source.rpartition(":")[0]) != svc["vip"] and source not in seen["foreign_sources"]:
                seen["foreign_sources"].append(source)
    return seen


def _client_verdict(svc, seen, cfg, clients):
    """(line, failure or None) for one service."""
    expected = cfg["count"] * clients
    need = math.ceil(cfg["min_answered"] * expected - 1e-9)
    udp_blind = svc["protocol"] == "udp" and not cfg["udp_expect_answers"]
    if udp_blind:
        line = f"{svc['label']}: {seen['sent']} of {expected} datagrams sent (answers not expected)"
        ok = seen["sent"] >= expected
    else:
        line = f"{svc['label']}: {seen['answered']} of {seen['sent']} answered"
        if svc["protocol"] == "tcp" and seen["answered"] < seen["sent"]:
            line += f" (refused {seen['refused']}, timed out {seen['timed_out']}, errors {seen['errors']})"
        ok = seen["answered"] >= need
    problems = list(seen["problems"])
    if seen.get("foreign_sources"):
        problems.append("answers came from " + ", ".join(seen["foreign_sources"]) + ", not from the VIP")
    if ok and not problems:
        return line, None
    failure = f"{svc['label']}: sent {seen['sent']}, answered {seen['answered']}"
    if not udp_blind:
        failure += f" (at least {need} of {expected} needed)"
    if svc["protocol"] == "tcp":
        failure += f", refused {seen['refused']}, timed out {seen['timed_out']}, errors {seen['errors']}"
    failure += f"; first error: {seen['first_error'] or 'none'}"
    if problems:
        failure += "; " + "; ".join(problems)
    return line, failure


# -- what the real servers saw --------------------------------------------------------------
def realserver_index(realservers):
    """``[{name, ansible_host, toa_addresses, stats}]`` -> ``{address or name: host name}`` (the toa
    role's matching: inventory name, ansible_host, toa_addresses)."""
    index = {}
    for host in realservers if isinstance(realservers, (list, tuple)) else []:
        name = str(host.get("name"))
        keys = [name, host.get("ansible_host"), *(host.get("toa_addresses") or [])]
        for key in keys:
            for form in (key, _ip(key)):
                if form not in (None, ""):
                    index.setdefault(str(form), name)
    return index


def module_state(host, module):
    """``("ok", growth of the proof counter)``, ``("absent", why)`` or ``("unread", why)`` of one real server."""
    stats = host.get("stats") if isinstance(host, dict) else None
    if not isinstance(stats, dict) or not isinstance(stats.get(module), dict):
        why = (stats or {}).get("msg") if isinstance(stats, dict) else None
        return "unread", f"its {module} counters were not read" + (f" ({why})" if why else "")
    info = stats[module]
    counter = PROOF["tcp" if module == "toa" else "udp"]["counter"]
    if info.get("counters") is None:
        if info.get("loaded"):
            return "unread", (
                f"{module}.ko is loaded but {info.get('stats_file')} is missing (its /proc/net is another network "
                f"namespace's? set {PREFIX}proc_net: /proc/1/net on it)"
            )
        return "absent", f"client address not delivered (no {module}.ko)"
    growth = ((stats.get("delta") or {}).get(module) or {}).get(counter)
    if growth is None:
        return "unread", f"{counter} was not read before the burst"
    if growth < 0:
        return "unread", f"{counter} went back by {-growth} during the burst ({module}.ko reloaded?)"
    return "ok", growth


def _stats_list(result):
    if isinstance(result, dict) and result.get("running") and isinstance(result.get("stats"), list):
        return result["stats"]
    return None


def _conns_index(stats):
    out = {}
    for svc in stats:
        vip = _ip(svc.get("vip"))
        for rs in svc.get("real_servers") or []:
            key = (svc.get("protocol"), vip, svc.get("port"), _ip(rs.get("ip")), rs.get("port"))
            out[key] = out.get(key, 0) + int(rs.get("conns") or 0)
    return out


def dpvs_unread(dpvs):
    """Why DPVS's counters are missing, per node (``lb1: DPVS does not answer``)."""
    if not dpvs:
        return ["no host of group dpvs"]
    reasons = []
    for node in dpvs:
        for phase in ("before", "after"):
            result = node.get(phase)
            if _stats_list(result) is not None:
                continue
            if not isinstance(result, dict) or result.get("skipped"):
                why = "not read"
            elif result.get("msg"):
                why = str(result["msg"])
            else:
                why = "DPVS does not answer" if result.get("running") is False else "no stats"
            reasons.append(f"{node.get('name')} {phase} the burst: {why}")
    return reasons


def dpvs_conns(dpvs):
    """Growth of DPVS's ``Conns`` per ``(protocol, vip, port, rs ip, rs port)``, summed over the DPVS nodes
    (``[{name, before, after}]``, dpvs_info results with ``stats``); None when a node's counters are missing."""
    if not dpvs:
        return None
    total = {}
    for node in dpvs:
        before, after = _stats_list(node.get("before")), _stats_list(node.get("after"))
        if before is None or after is None:
            return None
        base = _conns_index(before)
        for key, value in _conns_index(after).items():
            if key in base:
                total[key] = total.get(key, 0) + value - base[key]
    return total


def _rs_key(svc, rs):
    return (svc["protocol"], svc["vip"], svc["port"], rs["ip"], rs["port"] if rs["port"] is not None else svc["port"])


def _members(svc, index, uoa):
    """(the weighted FullNAT real servers the address is checked on, [(line, is_warning)])."""
    if svc["real_servers"] is None:
        return [], [(f"{svc['label']}: real servers not declared: the client address is not checked", False)]
    if svc["proxy_protocol"] not in NO_PROXY_PROTOCOL:
        note = f"{svc['label']}: the client address goes by the PROXY protocol ({svc['proxy_protocol']}): not checked"
        return [], [(note, False)]
    if svc["protocol"] == "udp" and not uoa.get("on", True):
        why = uoa.get("why") or "uoa_max_trail 0"
        return [], [(f"{svc['label']}: client address not delivered to the real servers (UOA off: {why})", True)]
    members, notes = [], []
    for rs in svc["real_servers"]:
        if rs["weight"] <= 0:
            continue
        if rs["forward"] != "fullnat":
            notes.append((f"{svc['label']}: {rs['ip']} sees the client address itself ({rs['forward']})", False))
            continue
        members.append({"rs": rs, "host": index.get(rs["ip"])})
    return members, notes


def _element(member):
    return member["host"] if member["host"] is not None else "address " + member["rs"]["ip"]


def _claims(svc, members, conns, seen):
    """What the real servers of one service must have seen: per host from DPVS's Conns when DPVS
    counted every one of them (exact), else the clients' count over all of them together.

    DPVS counts a connection the real server refused too: the burst's unanswered connections
    (UDP: flows) are taken off each real server's count, so a failing service (named by the
    clients' verdict) does not also fail here."""
    if conns is not None and all(_rs_key(svc, m["rs"]) in conns for m in members):
        per_element = {}
        for member in members:
            element = _element(member)
            per_element[element] = per_element.get(element, 0) + conns[_rs_key(svc, member["rs"])]
        expected = {e: max(0, n - seen["unanswered"]) for e, n in per_element.items()}
        return [
            {"elements": {e}, "expected": n, "labels": {svc["label"]: n}, "exact": True} for e, n in expected.items()
        ]
    elements = {_element(m) for m in members}
    return [{"elements": elements, "expected": seen["flows"], "labels": {svc["label"]: seen["flows"]}, "exact": False}]


def _buckets(claims):
    """Claims that share a real server, merged (their counters cannot be told apart)."""
    buckets = []
    for claim in claims:
        overlapping = [b for b in buckets if b["elements"] & claim["elements"]]
        buckets = [b for b in buckets if not b["elements"] & claim["elements"]]
        merged = {"elements": set(), "expected": 0, "labels": {}, "exact": True}
        for part in [*overlapping, claim]:
            merged["elements"] |= part["elements"]
            merged["expected"] += part["expected"]
            for name, expected in part["labels"].items():  # label -> what its claims expect
                merged["labels"][name] = merged["labels"].get(name, 0) + expected
            merged["exact"] = merged["exact"] and part["exact"]
        buckets.append(merged)
    return buckets


def _judge_bucket(bucket, states, proof):
    """A failure message, or None (also when a real server of it cannot be read: that is a warning)."""
    if any(states.get(e, ("unread",))[0] != "ok" for e in bucket["elements"]):
        return None
    growth = sum(states[e][1] for e in bucket["elements"])
    if growth >= bucket["expected"]:
        return None
    hosts = ", ".join(sorted(bucket["elements"]))
    labels = [name for name, expected in bucket["labels"].items() if expected > 0]
    return (
        f"{', '.join(labels)}: {_plural(bucket['expected'], proof['reached'])} reached {hosts}, "
        f"{growth} carried the client address ({proof['module'].upper()}: {proof['counter']} +{growth})"
    )


def _host_lines(labels_of, states, proof, exact):
    """One line per real server (a warning when its counters say nothing)."""
    lines, warnings = [], []
    for element in sorted(labels_of):
        labels = ", ".join(labels_of[element])
        if element.startswith("address "):
            lines.append(f"{element[8:]}: not checked (no host of group realservers has this address): {labels}")
            continue
        state, value = states[element]
        if state != "ok":
            warnings.append(f"{element}: {value}: {labels}")
            continue
        line = f"{element}: {_plural(value, proof['unit'])} carried the client address ({proof['module'].upper()})"
        if element in exact:
            line += f", {_plural(exact[element], proof['reached'])} reached it"
        lines.append(f"{line}: {labels}")
    return lines, warnings


def judge_real_servers(protocol, services, seen, conns, realservers, uoa):
    """The client address on the real servers, for one protocol: ``{lines, warnings, failures, seen_by}``
    (``seen_by``: the real servers whose counter grew, with the growth)."""
    proof = PROOF[protocol]
    index = realserver_index(realservers)
    by_name = {str(h.get("name")): h for h in realservers or []}
    out = {"lines": [], "warnings": [], "failures": [], "seen_by": {}}
    claims, labels_of = [], {}
    for svc in services:
        if svc["protocol"] != protocol:
            continue
        members, notes = _members(svc, index, uoa)
        out["lines"] += [text for text, warn in notes if not warn]
        out["warnings"] += [text for text, warn in notes if warn]
        for member in members:
            labels_of.setdefault(_element(member), []).append(svc["label"])
        if members:
            claims += _claims(svc, members, conns, seen[svc["label"]])
    states = {e: module_state(by_name[e], proof["module"]) for e in labels_of if e in by_name}
    buckets = _buckets(claims)
    exact = {next(iter(b["elements"])): b["expected"] for b in buckets if b["exact"] and len(b["elements"]) == 1}
    lines, warnings = _host_lines(labels_of, states, proof, exact)
    out["lines"] += lines
    out["warnings"] += warnings
    out["failures"] = [f for f in (_judge_bucket(b, states, proof) for b in buckets) if f]
    out["seen_by"] = {e: state[1] for e, state in states.items() if state[0] == "ok" and state[1] > 0}
    return out


# -- the verdict ----------------------------------------------------------------------------
def _summary(traffic_plan, probes, seen_by, warnings):
    services = traffic_plan["services"]
    text = f"traffic through the DPVS VIPs: {len(services)} service(s) answered"
    if services:
        text += f" from {', '.join(p['name'] for p in probes)}"
    if traffic_plan["skipped"]:
        text += f", {len(traffic_plan['skipped'])} not probed"
    if seen_by:
        parts = [f"{host} ({', '.join(kinds)})" for host, kinds in sorted(seen_by.items())]
        text += "; client address seen by " + ", ".join(parts)
    if warnings:
        text += f"; {len(warnings)} warning(s)"
    return text


def report(traffic_plan, probes, dpvs=None, realservers=None, uoa=None, real_servers=True):
    """The verdict of one client: ``{lines, warnings, failures, summary}``.

    ``probes``: ``[{name, tcp (tcp_probe result), udp ([udp_probe results])}]`` of every client that
    probed; ``dpvs``: ``[{name, before, after}]`` (dpvs_info results with ``stats``); ``realservers``:
    ``[{name, ansible_host, toa_addresses, stats (toa_stats_info result with delta)}]``; ``uoa``:
    ``{on, why}`` (UOA in dpvs.conf); ``real_servers``: judge the client address too (one client does).
    """
    cfg = traffic_plan["settings"]
    out = {"lines": [], "warnings": [], "failures": []}
    seen = {}
    for svc in traffic_plan["services"]:
        if svc["protocol"] == "tcp":
            seen[svc["label"]] = _tcp_seen(svc, probes)
        else:
            seen[svc["label"]] = _udp_seen(svc, probes, cfg["udp_expect_answers"])
        line, failure = _client_verdict(svc, seen[svc["label"]], cfg, len(probes))
        out["lines"].append(line)
        out["failures"] += [failure] if failure else []
    out["lines"] += [f"{skip['label']}: not probed ({skip['reason']})" for skip in traffic_plan["skipped"]]
    seen_by = {}
    if real_servers:
        conns = dpvs_conns(dpvs)
        if conns is None and traffic_plan["services"]:
            out["lines"].append(
                f"DPVS's connections per real server unknown ({'; '.join(dpvs_unread(dpvs))}): "
                "the real servers of a service are judged together"
            )
        for protocol in PROTOCOLS:
            judged = judge_real_servers(protocol, traffic_plan["services"], seen, conns, realservers, uoa or {})
            for key in ("lines", "warnings", "failures"):
                out[key] += judged[key]
            for host, growth in judged["seen_by"].items():
                seen_by.setdefault(host, []).append(f"{PROOF[protocol]['module'].upper()} {growth}")
    out["summary"] = _summary(traffic_plan, probes, seen_by, out["warnings"])
    return out
