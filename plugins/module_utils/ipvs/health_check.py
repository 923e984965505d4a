# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A service's ``health_check``: keepalived's checker of each of its real servers.

``normalize(path, value, protocol)`` validates the dict a service declares (every key known,
every value in range, the check type fitting the protocol) and returns it complete, defaults
filled in, raising InputError with the input path (``services[0].health_check.type``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import (
    InputError,
    boolean,
    did_you_mean,
    int_range,
    path_join,
    port,
)

TYPES = ("tcp", "http", "https", "misc", "udp")
# the check types a protocol's real servers can answer: a TCP connect or HTTP request to a UDP
# server tests nothing it serves, and a UDP probe of a TCP server always fails
# (a firewall-mark service may carry any protocol: every check fits)
FITS = {"tcp": ("tcp", "http", "https", "misc"), "udp": ("udp", "misc"), "sctp": ("misc",), "fwmark": TYPES}
COMMON = {"type": None, "interval": 6, "timeout": 3, "retries": 3, "retry_delay": 1, "port": None}
EXTRA = {
    "tcp": {},
    "http": {"path": "/", "status_code": 200},
    "https": {"path": "/", "status_code": 200},
    "misc": {"script": None},
    "udp": {"require_reply": False},
}
RANGES = (("interval", 1, 86400), ("timeout", 1, 3600), ("retries", 0, 100), ("retry_delay", 0, 3600))
KEYS = sorted(set(COMMON) | {key for extra in EXTRA.values() for key in extra})


def normalize(path, value, protocol):
    """The complete health check of a ``protocol`` service, or None when ``value`` is None."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError(path, value, "must be a dictionary (type, interval, timeout, ...)")
    kind = value.get("type")
    if kind not in TYPES:
        raise InputError(path_join(path, "type"), kind, "must be one of " + ", ".join(TYPES))
    if kind not in FITS.get(protocol, ()):
        fits = ", ".join(FITS.get(protocol, ()))
        raise InputError(path_join(path, "type"), kind, f"does not fit a {protocol} service (use {fits})")
    allowed = dict(COMMON, **EXTRA[kind])
    # None is unset (AnsibleModule gives every suboption, unset ones as None)
    unknown = sorted(key for key in set(value) - set(allowed) if value[key] is not None)
    if unknown:
        hint = did_you_mean(unknown[0], allowed)
        raise InputError(path_join(path, unknown[0]), value[unknown[0]], f"unknown key for a {kind} check ({hint})")
    out = {key: (value.get(key) if value.get(key) is not None else default) for key, default in allowed.items()}
    return _checked(path, out)


def _checked(path, check):
    for key, low, high in RANGES:
        check[key] = int_range(path_join(path, key), check[key], low, high)
    if check["port"] is not None:
        check["port"] = port(path_join(path, "port"), check["port"])
    if "status_code" in check:
        check["status_code"] = int_range(path_join(path, "status_code"), check["status_code"], 100, 599)
    if "path" in check and not _absolute(check["path"]):
        raise InputError(
            path_join(path, "path"), check["path"], "must be a URL path starting with / (no spaces or quotes)"
        )
    if "script" in check and not _absolute(check["script"]):
        raise InputError(
            path_join(path, "script"),
            check["script"],
            "must be the absolute path of the check program (no spaces or quotes: keepalived runs it without a shell)",
        )
    if "require_reply" in check:
        check["require_reply"] = boolean(path_join(path, "require_reply"), check["require_reply"])
    return check


def _absolute(text):
    """A path keepalived.conf can hold as one word: starts with /, no blanks, quotes, braces or
    comment marks."""
    return isinstance(text, str) and text.startswith("/") and not any(ch.isspace() or ch in "\"'{}#!" for ch in text)
