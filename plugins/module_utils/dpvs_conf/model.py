# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The values of a generated dpvs.conf: defaults, the inventory's overrides, derived values.

``conf_model(layout, overrides, version)`` returns the dict that ``build.render`` writes
dpvs.conf from: every section of dpvs.conf with DPVS keywords as keys (``None``: not
written; ``True``/``False`` for on/off and for flags), plus ``devices`` and ``workers`` from the
layout. Overrides (the role's ``dpvs_conf``) use the same nesting; unknown keywords, values of
the wrong type or out of DPVS's range fail with the variable path.

Defaults are the values of the dpvs.conf a real DPVS v1.10.2 ran with
(``tests/dpvs-transcripts/dpvs.conf.lab-v1.10.2`` in the repository), except four that describe that machine
rather than DPVS: ``log_file`` (``/var/log/dpvs.log``, DPVS's own default), ``kni`` (on, DPVS's
default; v1.10 needs /dev/vhost-net for it), ``pktpool_size`` (65535, DPVS's default) and
``conn_pool_size`` (2097152, DPVS's default). docs/dpvs_conf.md lists every keyword.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.conf import SCHEMA, parse_version

SUPPORTED = ((1, 9, 4), (1, 11, 0))  # from the first release with `kni off` up to 1.10.x

DEFAULTS = {
    "global_defs": {
        "log_level": "INFO",
        "log_file": "/var/log/dpvs.log",
        "log_with_timestamp": None,
        "log_async_mode": None,
        "log_async_pool_size": None,
        "pdump": None,
        "kni": True,
        "lldp": False,
    },
    "netif_defs": {"pktpool_size": 65535, "pktpool_cache": 256, "fdir_mode": None},
    "timer_defs": {"schedule_interval": 500},
    "neigh_defs": {"unres_queue_length": 128, "timeout": 90},
    "ipset_defs": {"ipset_hash_pool_size": 65536},
    "ipv4_defs": {
        "forwarding": False,
        "default_ttl": 64,
        "fragment": {"bucket_number": 256, "bucket_entries": 16, "max_entries": 4096, "ttl": 1},
    },
    "ipv6_defs": {
        "disable": False,
        "forwarding": False,
        "addr_gen_mode": None,
        "stable_secret": None,
        "route6": {
            "method": "hlist",
            "recycle_time": 10,
            "lpm": {"lpm6_max_rules": None, "lpm6_num_tbl8s": None, "rt6_hash_bucket": None},
        },
    },
    "ctrl_defs": {"lcore_msg": {"ring_size": 4096, "sync_msg_timeout_us": 20000, "priority_level": "low"}},
    "ipvs_defs": {
        "conn": {
            "conn_pool_size": 2097152,
            "conn_pool_cache": 256,
            "conn_init_timeout": 3,
            "expire_quiescent_template": False,
            "fast_xmit_close": False,
            "redirect": "auto",
        },
        "udp": {
            "defence_udp_drop": False,
            "uoa_mode": "opp",
            "uoa_max_trail": 3,
            "timeout": {"oneway": 60, "normal": 300, "last": 3},
        },
        "tcp": {
            "defence_tcp_drop": False,
            "timeout": {
                "none": 2,
                "established": 90,
                "syn_sent": 3,
                "syn_recv": 30,
                "fin_wait": 7,
                "time_wait": 7,
                "close": 3,
                "close_wait": 7,
                "last_ack": 7,
                "listen": 120,
                "synack": 30,
                "last": 2,
            },
            "synproxy": {
                "synack_options": {"mss": 1452, "ttl": 63, "sack": True, "wscale": None, "timestamp": False},
                "close_client_window": False,
                "defer_rs_syn": False,
                "rs_syn_max_retry": 3,
                "ack_storm_thresh": 10,
                "max_ack_saved": 3,
                "conn_reuse_state": {
                    "close": True,
                    "time_wait": True,
                    "fin_wait": False,
                    "close_wait": False,
                    "last_ack": False,
                },
            },
        },
    },
    "sa_pool": {"pool_hash_size": 16, "flow_enable": "auto"},
}

# set from dpvs_nics and the layout, not from dpvs_conf
GENERATED = {("netif_defs", "device"), ("netif_defs", "bonding"), ("worker_defs",)}
AUTO_KEYS = {("ipvs_defs", "conn", "redirect"), ("sa_pool", "flow_enable")}


def _check(path_parts, value, entry):
    """Validate one override value against its schema entry; return it normalised."""
    path = "dpvs_conf." + ".".join(path_parts)
    if value is None:
        return None
    if tuple(path_parts) in AUTO_KEYS and value == "auto":
        return value
    return OVERRIDE_CHECKS.get(entry["type"], _check_word)(path, value, entry)


def _check_onoff(path, value, entry):
    """on/off keywords and flags: a boolean (on/off keywords also take ``"on"``/``"off"``)."""
    if isinstance(value, bool):
        return value
    if entry["type"] == "onoff" and value in ("on", "off"):
        return value == "on"
    raise InputError(path, value, "must be true or false")


def _check_int(path, value, entry):
    """A whole number in DPVS's range of the keyword."""
    if isinstance(value, bool):
        raise InputError(path, value, f"must be a number {entry['min']}..{entry['max']}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(path, value, f"must be a number {entry['min']}..{entry['max']}") from None
    if str(number) != str(value).strip() or not entry["min"] <= number <= entry["max"]:
        raise InputError(path, value, f"must be a number {entry['min']}..{entry['max']} (DPVS's range)")
    return number


def _check_enum(path, value, entry):
    if value not in entry["choices"]:
        raise InputError(path, value, "must be one of {}".format(", ".join(entry["choices"])))
    return value


def _check_word(path, value, entry):
    """One word that dpvs.conf's parser reads back unchanged."""
    if not isinstance(value, str) or not value.strip() or any(ch.isspace() or ch in '{}!#<>"' for ch in value):
        raise InputError(path, value, "must be one word (no blanks, braces, quotes or comment characters)")
    return value


# the check of an override by schema type (other types: one word)
OVERRIDE_CHECKS = {"onoff": _check_onoff, "flag": _check_onoff, "int": _check_int, "enum": _check_enum}


def _merge(defaults, overrides, schema_children, path_parts):
    merged = copy.deepcopy(defaults)
    if overrides is None:
        return merged
    if not isinstance(overrides, dict):
        raise InputError(
            "dpvs_conf." + ".".join(path_parts) if path_parts else "dpvs_conf", overrides, "must be a mapping"
        )
    for key, value in overrides.items():
        parts = [*path_parts, str(key)]
        path = "dpvs_conf." + ".".join(parts)
        if tuple(parts) in GENERATED:
            raise InputError(path, value, "is generated from dpvs_nics and the worker layout (dpvs_workers, ...)")
        entry = (schema_children or {}).get(key)
        if entry is None or key not in merged:
            known = sorted(k for k in (schema_children or {}) if (*path_parts, k) not in GENERATED)
            raise InputError(path, value, "not a DPVS v1.10 keyword here (known: {})".format(", ".join(known)))
        if entry["type"] in ("block", "named"):
            merged[key] = _merge(merged[key], value, entry["children"], parts)
        else:
            merged[key] = _check(parts, value, entry)
    return merged


def conf_model(layout, overrides=None, version="1.10.2"):
    """Everything dpvs.conf says (``build.render`` writes it). Raises InputError.

    Returns ``{"version", "sections": {...}, "devices": [...], "workers": [...],
    "notes": [...]}``; ``sections`` has every section of DEFAULTS with overrides and the derived
    ``kni``/``flow_enable``/``redirect``/``mbuf_fast_free`` applied.
    """
    ver = _supported_version(version)
    sections = _merge(DEFAULTS, overrides, SCHEMA, [])
    notes = []
    flow = _flow_enable(sections["sa_pool"]["flow_enable"], layout, notes)
    sections["sa_pool"]["flow_enable"] = flow
    conn = sections["ipvs_defs"]["conn"]
    conn["redirect"] = _redirect(conn["redirect"], flow, len(layout["workers"]), notes)
    devices = [_device(port, ver, sections["global_defs"]["kni"]) for port in layout["ports"]]
    _check_sizes(sections)
    return {
        "version": ".".join(map(str, ver)),
        "sections": sections,
        "devices": devices,
        "workers": layout["lcores"],
        "notes": notes,
    }


def _supported_version(version):
    """``version`` as a tuple, within the DPVS versions whose dpvs.conf this generates."""
    try:
        ver = parse_version(version)
    except ValueError as exc:
        raise InputError("dpvs_version", version, str(exc)) from None
    if not SUPPORTED[0] <= ver < SUPPORTED[1]:
        raise InputError(
            "dpvs_version", version, "dpvs.conf generation supports DPVS 1.9.4 to 1.10.x (1.8 has another schema)"
        )
    return ver


def _flow_enable(flow, layout, notes):
    """sa_pool flow_enable: ``auto`` is on when every port supports rte_flow; on needs that."""
    if flow == "auto":
        flow = layout["rte_flow"]
        if not flow:
            notes.append(f"sa_pool flow_enable off: {_without_rte_flow(layout)} without rte_flow support")
    elif flow and not layout["rte_flow"]:
        raise InputError(
            "dpvs_conf.sa_pool.flow_enable",
            True,
            f"{_without_rte_flow(layout)} has no rte_flow support (set rte_flow: true on the NIC if it does)",
        )
    return flow


def _without_rte_flow(layout):
    return ", ".join(p["name"] for p in layout["ports"] if not p["rte_flow"])


def _redirect(redirect, flow, workers, notes):
    """ipvs_defs conn redirect: ``auto`` is on without flow rules and with several workers,
    which then need it."""
    if redirect == "auto":
        redirect = not flow and workers > 1
        if redirect:
            notes.append(f"ipvs_defs conn redirect on: flow rules are off and there are {workers} workers")
    elif not redirect and not flow and workers > 1:
        raise InputError(
            "dpvs_conf.ipvs_defs.conn.redirect",
            False,
            f"with sa_pool flow_enable off and {workers} workers, FullNAT replies land on workers that do not "
            "own the connection: set redirect on, or use one worker",
        )
    return redirect


def _device(port, ver, kni):
    """The ``device`` block of one port of the layout."""
    if port["mbuf_fast_free"] and ver < (1, 10, 0):
        raise InputError(f"dpvs_nics[{port['index']}].mbuf_fast_free", True, "needs DPVS 1.10 or later")
    return {
        "name": port["name"],
        "rx": {
            "queue_number": port["rx_queues"],
            "descriptor_number": port["rx_descriptors"],
            "rss": port["rss"],
        },
        "tx": {
            "queue_number": port["tx_queues"],
            "descriptor_number": port["tx_descriptors"],
            "mbuf_fast_free": port["mbuf_fast_free"] if ver >= (1, 10, 0) else None,
        },
        "mtu": port["mtu"],
        "promisc_mode": port["promisc"],
        "allmulticast": port["allmulticast"],
        "kni_name": port["kni_name"] if kni else None,
    }


def _check_sizes(sections):
    """Refuse fragment and packet pool sizes DPVS would round (it should run what it is given)."""
    fragment = sections["ipv4_defs"]["fragment"]
    if fragment["bucket_entries"] and fragment["bucket_entries"] & (fragment["bucket_entries"] - 1):
        raise InputError(
            "dpvs_conf.ipv4_defs.fragment.bucket_entries", fragment["bucket_entries"], "must be a power of 2"
        )
    if None not in (fragment["bucket_number"], fragment["bucket_entries"], fragment["max_entries"]) and (
        fragment["max_entries"] > fragment["bucket_number"] * fragment["bucket_entries"]
    ):
        raise InputError(
            "dpvs_conf.ipv4_defs.fragment.max_entries",
            fragment["max_entries"],
            "must not exceed bucket_number * bucket_entries ({})".format(
                fragment["bucket_number"] * fragment["bucket_entries"]
            ),
        )
    pktpool = sections["netif_defs"]["pktpool_size"]
    if pktpool is not None and (pktpool + 1) & pktpool:
        raise InputError("dpvs_conf.netif_defs.pktpool_size", pktpool, "must be 2^n-1 (DPVS rounds it), e.g. 65535")
