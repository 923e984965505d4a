# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel-mode forwarding (seed 000): from the inventory's forwards to iptables NAT rules.

Pure functions used by the ``kernel_forwarder`` role through the collection's filters:

* :func:`problems` validates ``kernel_forwarder_forwards`` and the addresses as a whole and
  returns every problem with its input path (``kernel_forwarder_forwards[1].ports[0]: ...``);
* :func:`desired_rules` turns valid forwards into nat-table rules, in the option names of
  ``ansible.builtin.iptables``, each tagged with a comment that starts with the managed tag;
* :func:`plan` compares them with the tagged rules read from ``iptables-save`` (see
  ``_iptables_save``) and returns what to add and what to remove (purge);
* :func:`conntrack_flushes` lists the conntrack entries to delete after a forward changed,
  so that flows already NATed by a removed rule stop using it (the seed's timeout note);
* :func:`ipvs_services` renders the forwards as ``dpvs.cluster.ipvsadm`` services (IPVS mode).

Per port (or range) P of a forward to backend C, with forwarder address B (as seed 000):

1. ``PREROUTING [-s SRC] [-d B] -p PROTO --dport P -j DNAT --to-destination C[:PORT]``
2. ``POSTROUTING -d C -p PROTO --dport P' -m conntrack --ctstate DNAT -j SNAT --to-source B``
   (P' the backend port; ``--ctstate DNAT`` limits the SNAT to flows rule 1 redirected, where
   the seed's script SNATs everything sent to C:P, the forwarder's own traffic included);
3. ``POSTROUTING -s C -p PROTO --sport P' -j SNAT --to-source B`` (``reply_snat``: flows that C
   starts from the service port through B leave with B's address, the seed's third rule).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
from collections import Counter

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import (
    InputError,
    boolean,
    item_path,
    path_join,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as ipvs_model
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.iptables_save import FIELDS as RULE_FIELDS

PROTOCOLS = ("udp", "tcp")
FORWARD_KEYS = ("ports", "protocol", "backend", "backend_port", "sources", "reply_snat", "scheduler")
# "7890-7900" / "7890:7900" (a range, both ends included)
PORT_RANGE_RE = re.compile(r"^\s*(?P<low>\d+)\s*[-:]\s*(?P<high>\d+)\s*$")
# "7890"
PORT_RE = re.compile(r"^\s*(?P<port>\d+)\s*$")
DEFAULT_COMMENT = "dpvs.cluster kernel_forwarder"
MAX_COMMENT = 256  # xt_comment
COMMENT_SUFFIX = len(" tcp/65535-65535 reply-snat")  # what rule_comment appends at most
MAX_IPVS_PORTS = 1024  # one IPVS service per port: keep ranges sane in IPVS mode
# RULE_FIELDS: the rule shape iptables-save's parser returns; plans and live rules compare field by field


def _ipv4(path, value):
    if value is None or str(value).strip() == "":
        raise InputError(path, value, "an IPv4 address is required")
    try:
        addr = ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise InputError(path, value, "not a valid IPv4 address") from None
    if addr.version != 4:
        raise InputError(path, value, "must be an IPv4 address (iptables mode is IPv4 only)")
    return str(addr)


def _ipv4_network(path, value):
    text = str(value).strip() if value is not None else ""
    if not text:
        raise InputError(path, value, "an IPv4 address or network is required")
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            loose = ipaddress.ip_network(text, strict=False)
            raise InputError(path, value, f"host bits are set; did you mean {loose}?") from None
        raise InputError(path, value, "not a valid IPv4 address or network") from None
    if net.version != 4:
        raise InputError(path, value, "must be IPv4 (iptables mode is IPv4 only)")
    return str(net) if "/" in str(net) else f"{net}/32"


def _port_number(path, text):
    number = int(text)
    if not 1 <= number <= 65535:
        raise InputError(path, text, "a port must be 1..65535")
    return number


def port_item(path, value):
    """A port (7890) or range ("7890-7900", "7890:7900") -> ``(low, high)``."""
    if isinstance(value, bool) or value is None:
        raise InputError(path, value, "a port or a range LOW-HIGH is required")
    text = str(value)
    match = PORT_RE.match(text)
    if match:
        number = _port_number(path, match.group("port"))
        return number, number
    match = PORT_RANGE_RE.match(text)
    if not match:
        raise InputError(path, value, "not a port (7890) nor a range (7890-7900)")
    low = _port_number(path, match.group("low"))
    high = _port_number(path, match.group("high"))
    if low > high:
        raise InputError(path, value, f"the range is backwards; did you mean {high}-{low}?")
    return low, high


def port_spec(low, high):
    """iptables' spelling: ``7890`` or ``7890:7900``."""
    return str(low) if low == high else f"{low}:{high}"


def _words_bool(path, value):
    return boolean(path, value, words=True)


def _collect(found, check, *args):
    """``check(*args)``; an InputError goes to ``found`` as text and gives None."""
    try:
        return check(*args)
    except InputError as exc:
        found.append(str(exc))
        return None


def _sources(base, forward, found):
    """The normalised source networks of a forward (problems to ``found``)."""
    path = path_join(base, "sources")
    raw_sources = forward.get("sources") or []
    if not isinstance(raw_sources, list):
        found.append(str(InputError(path, raw_sources, "must be a list")))
        raw_sources = []
    sources = []
    for index, source in enumerate(raw_sources):
        network = _collect(found, _ipv4_network, item_path(path, index), source)
        if network is not None:
            sources.append(network)
    duplicates = sorted(net for net, count in Counter(sources).items() if count > 1)
    if duplicates:
        found.append(str(InputError(path, raw_sources, f"listed twice: {duplicates}")))
    return sources


def _backend_port(base, forward, found):
    """A forward's ``backend_port`` as a number, or None (absent or invalid)."""
    value = forward.get("backend_port")
    if value is None:
        return None
    path = path_join(base, "backend_port")
    try:
        return _port_number(path, str(value).strip())
    except (InputError, ValueError):
        found.append(str(InputError(path, value, "a port must be 1..65535")))
        return None


def _port_items(base, forward, backend_port, found):
    """``(path, low, high)`` per valid port item of a forward (problems to ``found``)."""
    ports = forward.get("ports")
    if not isinstance(ports, list) or not ports:
        found.append(str(InputError(path_join(base, "ports"), ports, "a non-empty list of ports or ranges")))
        ports = []
    items = []
    for index, value in enumerate(ports):
        path = item_path(path_join(base, "ports"), index)
        span = _collect(found, port_item, path, value)
        if span is None:
            continue
        low, high = span
        if backend_port is not None and low != high:
            found.append(
                str(
                    InputError(
                        path,
                        value,
                        "a range cannot be sent to one backend_port (DNAT would pick any port of the range):"
                        " drop backend_port to keep the ports, or list single ports",
                    )
                )
            )
            continue
        items.append((path, low, high))
    return items


def _forward_entries(base, forward, reply_snat, found):
    """The entries of one forward dict, or [] when it has a problem (appended to ``found``)."""
    errors_before = len(found)
    for key in sorted(set(forward) - set(FORWARD_KEYS)):
        found.append(str(InputError(path_join(base, key), forward[key], "unknown key")))
    protocol = forward.get("protocol", "udp") or "udp"
    if protocol not in PROTOCOLS:
        found.append(str(InputError(path_join(base, "protocol"), protocol, "must be udp or tcp")))
    backend = _collect(found, _ipv4, path_join(base, "backend"), forward.get("backend"))
    sources = _sources(base, forward, found)
    entry_reply_snat = reply_snat
    if forward.get("reply_snat") is not None:
        value = _collect(found, _words_bool, path_join(base, "reply_snat"), forward["reply_snat"])
        entry_reply_snat = reply_snat if value is None else value
    backend_port = _backend_port(base, forward, found)
    items = _port_items(base, forward, backend_port, found)
    if len(found) > errors_before:
        return []
    return [
        {
            "path": path,
            "protocol": protocol,
            "low": low,
            "high": high,
            "backend": backend,
            "backend_port": backend_port,
            "sources": sources,
            "reply_snat": entry_reply_snat,
            "scheduler": forward.get("scheduler"),
        }
        for path, low, high in items
    ]


def normalize(forwards, reply_snat=True, var="kernel_forwarder_forwards", collect=None):
    """Validate ``forwards``; return one entry per port item, problems appended to ``collect``.

    Each entry: ``path``, ``protocol``, ``low``, ``high``, ``backend``, ``backend_port`` (None:
    the same port), ``sources`` (normalised networks; empty: any), ``reply_snat``,
    ``scheduler`` (IPVS mode; None: the role's default).
    """
    found = [] if collect is None else collect
    entries = []
    if not isinstance(forwards, list):
        found.append(str(InputError(var, forwards, "must be a list of forwards")))
        return entries
    for index, forward in enumerate(forwards):
        base = item_path(var, index)
        if not isinstance(forward, dict):
            found.append(str(InputError(base, forward, "must be a dict with ports and backend")))
            continue
        entries.extend(_forward_entries(base, forward, reply_snat, found))
    return entries


def overlaps(entries):
    """Problems for a protocol port forwarded twice (single ports or overlapping ranges)."""
    found = []
    by_protocol = {}
    for entry in entries:
        by_protocol.setdefault(entry["protocol"], []).append(entry)
    for protocol in sorted(by_protocol):
        ordered = sorted(by_protocol[protocol], key=lambda entry: (entry["low"], entry["high"]))
        widest = None
        for entry in ordered:
            if widest is not None and entry["low"] <= widest["high"]:
                first = max(entry["low"], widest["low"])
                last = min(entry["high"], widest["high"])
                found.append(
                    f"{entry['path']}: {protocol} port {port_spec(first, last).replace(':', '-')} is already"
                    f" forwarded by {widest['path']}; a port can be forwarded once"
                )
            if widest is None or entry["high"] > widest["high"]:
                widest = entry
    return found


def problems(
    forwards,
    address,
    snat_address=None,
    reply_snat=True,
    guard_tcp_port=None,
    comment=DEFAULT_COMMENT,
    var="kernel_forwarder_forwards",
):
    """Every problem of the inputs, as ``path: problem (got value)`` strings; [] when valid."""
    found = []
    forwarder = _collect(found, _ipv4, "kernel_forwarder_address", address)
    if snat_address not in (None, ""):
        _collect(found, _ipv4, "kernel_forwarder_snat_address", snat_address)
    if not comment or not str(comment).strip() or '"' in str(comment):
        found.append(str(InputError("kernel_forwarder_comment", comment, "a non-empty tag without double quotes")))
    entries = normalize(forwards, reply_snat=reply_snat, var=var, collect=found)
    found.extend(overlaps(entries))
    for entry in entries:
        if forwarder is not None and entry["backend"] == forwarder:
            found.append(
                f"{entry['path']}: the backend {entry['backend']} is the forwarder's own address"
                " (kernel_forwarder_address); traffic would loop"
            )
        if guard_tcp_port and entry["protocol"] == "tcp" and entry["low"] <= int(guard_tcp_port) <= entry["high"]:
            found.append(
                f"{entry['path']}: tcp port {guard_tcp_port} is the port Ansible connects on (ansible_port);"
                " forwarding it would cut this connection. Set kernel_forwarder_allow_management_port: true"
                " if that is really meant"
            )
    if comment and len(str(comment)) > MAX_COMMENT - COMMENT_SUFFIX:
        found.append(
            str(InputError("kernel_forwarder_comment", comment, f"too long (at most {MAX_COMMENT - COMMENT_SUFFIX})"))
        )
    return found


def rule_comment(tag, entry, role):
    return f"{tag} {entry['protocol']}/{port_spec(entry['low'], entry['high']).replace(':', '-')} {role}"


def _rule(**fields):
    rule = dict.fromkeys(RULE_FIELDS)
    rule.update(fields)
    return rule


def _snat_rule(entry, tag, snat_to, role, **match):
    """A POSTROUTING SNAT rule to ``snat_to`` for an entry, matching ``match``."""
    return _rule(
        chain="POSTROUTING",
        protocol=entry["protocol"],
        jump="SNAT",
        to_source=snat_to,
        comment=rule_comment(tag, entry, role),
        **match,
    )


def _entry_rules(entry, forwarder, snat_to, tag, match_destination, mode):
    """The rules of one entry: DNAT per source (iptables mode), the SNAT and the reply SNAT."""
    front = port_spec(entry["low"], entry["high"])
    back = str(entry["backend_port"]) if entry["backend_port"] else front
    to_destination = entry["backend"] + (f":{entry['backend_port']}" if entry["backend_port"] else "")
    backend_net = f"{entry['backend']}/32"
    rules = [
        _rule(
            chain="PREROUTING",
            protocol=entry["protocol"],
            source=source,
            destination=f"{forwarder}/32" if match_destination else None,
            destination_port=front,
            jump="DNAT",
            to_destination=to_destination,
            comment=rule_comment(tag, entry, "dnat"),
        )
        for source in ((entry["sources"] or [None]) if mode == "iptables" else [])
    ]
    rules.append(
        _snat_rule(
            entry,
            tag,
            snat_to,
            "snat",
            destination=backend_net,
            destination_port=back,
            ctstate=["DNAT"] if mode == "iptables" else None,
        )
    )
    if entry["reply_snat"]:
        rules.append(_snat_rule(entry, tag, snat_to, "reply-snat", source=backend_net, source_port=back))
    return rules


def desired_rules(
    forwards,
    address,
    snat_address=None,
    comment=DEFAULT_COMMENT,
    reply_snat=True,
    match_destination=True,
    mode="iptables",
    var="kernel_forwarder_forwards",
):
    """The nat-table rules for valid ``forwards`` (raises ValueError listing the problems).

    ``mode="ipvs"``: IPVS does the DNAT (see :func:`ipvs_services`), so only the SNAT rules,
    without ``--ctstate DNAT`` (IPVS connections are not netfilter DNAT).
    """
    found = problems(forwards, address, snat_address, reply_snat=reply_snat, comment=comment, var=var)
    if found:
        raise ValueError("; ".join(found))
    forwarder = _ipv4("kernel_forwarder_address", address)
    snat_to = _ipv4("kernel_forwarder_snat_address", snat_address) if snat_address else forwarder
    rules = []
    for entry in normalize(forwards, reply_snat=reply_snat, var=var):
        rules.extend(_entry_rules(entry, forwarder, snat_to, comment, match_destination, mode))
    return rules


def rule_key(rule):
    """What makes two rules the same rule for iptables -C/-D (fields, ctstate order-free)."""
    key = []
    for field in RULE_FIELDS:
        value = rule.get(field)
        if field == "ctstate":
            value = tuple(sorted(value)) if value else None
        key.append(value)
    return tuple(key)


def rule_text(rule):
    """A rule in ``iptables -t nat -S`` syntax (for plans shown in diff mode)."""
    parts = ["-A", rule["chain"]]
    for option, field in (("-s", "source"), ("-d", "destination"), ("-p", "protocol")):
        if rule.get(field):
            parts += [option, rule[field]]
    for option, field in (("--sport", "source_port"), ("--dport", "destination_port")):
        if rule.get(field):
            parts += [option, rule[field]]
    if rule.get("ctstate"):
        parts += ["-m", "conntrack", "--ctstate", ",".join(rule["ctstate"])]
    if rule.get("comment"):
        parts += ["-m", "comment", "--comment", '"{}"'.format(rule["comment"])]
    parts += ["-j", rule["jump"]]
    for option, field in (("--to-destination", "to_destination"), ("--to-source", "to_source")):
        if rule.get(field):
            parts += [option, rule[field]]
    return " ".join(parts)


def plan(desired, live, purge=True):
    """``desired`` rules vs ``live`` tagged rules (``_iptables_save.tagged_rules``).

    Returns ``{"add": [...], "remove": [...], "foreign": [...], "kept": n}``: ``remove`` holds
    live tagged rules nobody declares (and extra copies of declared ones) when ``purge``;
    ``foreign`` the tagged rules that carry options the role never writes (they cannot be
    rebuilt for deletion and are reported instead).
    """
    foreign = [rule for rule in live if rule.get("unknown")]
    available = Counter(rule_key(rule) for rule in live if not rule.get("unknown"))
    add = []
    for rule in desired:
        key = rule_key(rule)
        if available[key] > 0:
            available[key] -= 1
        else:
            add.append(rule)
    remove = []
    if purge:
        for rule in live:
            key = rule_key(rule)
            if not rule.get("unknown") and available[key] > 0:
                available[key] -= 1
                remove.append({field: rule.get(field) for field in RULE_FIELDS})
    return {"add": add, "remove": remove, "foreign": foreign, "kept": len(desired) - len(add)}


def conntrack_flushes(removed, max_ports=1024):
    """conntrack deletions for removed DNAT rules: ``[{"protocol", "port", "destination"}]``.

    A flow NATed by a rule keeps its translation in conntrack after the rule is gone, for as
    long as packets keep coming (nf_conntrack_udp_timeout_stream): deleting the entries of the
    removed (or changed) forwards makes their next packet meet the current rules. Ranges wider
    than ``max_ports`` are flushed per destination address instead of per port.
    """
    flushes = []
    seen = set()
    for rule in removed:
        if rule.get("jump") != "DNAT" or rule.get("chain") != "PREROUTING":
            continue
        destination = (rule.get("destination") or "").split("/")[0] or None
        low, high = port_item("destination_port", (rule.get("destination_port") or "").replace(":", "-"))
        ports = [None] if high - low + 1 > max_ports else range(low, high + 1)
        for number in ports:
            item = {"protocol": rule.get("protocol"), "port": number, "destination": destination}
            key = tuple(sorted(item.items(), key=lambda pair: pair[0]))
            if key not in seen:
                seen.add(key)
                flushes.append(item)
    return flushes


def conntrack_argv(flush):
    """``conntrack -D`` arguments (without the binary) for one item of :func:`conntrack_flushes`."""
    argv = ["-D", "-p", flush["protocol"]]
    if flush.get("destination"):
        argv += ["--orig-dst", flush["destination"]]
    if flush.get("port"):
        argv += ["--orig-port-dst", str(flush["port"])]
    return argv


def ipvs_services(forwards, address, scheduler="sh", var="kernel_forwarder_forwards"):
    """IPVS mode: one ``dpvs.cluster.ipvsadm`` service per port, masq to the backend."""
    found = problems(forwards, address, var=var)
    entries = normalize(forwards, var=var)
    for entry in entries:
        if entry["high"] - entry["low"] + 1 > MAX_IPVS_PORTS:
            found.append(
                f"{entry['path']}: {entry['high'] - entry['low'] + 1} ports; IPVS needs one service per port"
                f" (at most {MAX_IPVS_PORTS} per range here)"
            )
    if found:
        raise ValueError("; ".join(found))
    vip = _ipv4("kernel_forwarder_address", address)
    services = []
    for entry in entries:
        for number in range(entry["low"], entry["high"] + 1):
            services.append(
                {
                    "protocol": entry["protocol"],
                    "vip": vip,
                    "port": number,
                    "scheduler": entry["scheduler"] or scheduler,
                    "real_servers": [
                        {"ip": entry["backend"], "port": entry["backend_port"] or number, "forward": "masq"}
                    ],
                }
            )
    return services


def ipvs_saved_without_keepalived(saved, services):
    """``ipvsadm -S -n`` output less the lines of the services keepalived keeps.

    keepalived adds its services and real servers itself, by health: a boot-time restore of them
    would put back a real server whose check fails, and keepalived, which never added it, would
    never take it out. ``services`` are the inventory's (``owner: keepalived`` ones are left out).
    """
    owned = ipvs_model.owned(ipvs_model.normalize(services or [], "kernel"), "keepalived")
    keys = {tuple(ipvs_model.service_target(svc)[:2]) for svc in owned}
    kept = []
    for line in saved.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] in ("-A", "-a") and (fields[1], fields[2]) in keys:
            continue
        kept.append(line)
    return kept
