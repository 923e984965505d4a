# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation helpers shared by the modules.

Every check raises :class:`InputError` naming the input path
(``services[2].real_servers[0].ip``) and the offending value, so that a bad
inventory fails before any command runs, with a message that says where.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import functools
import ipaddress
import re

# DPVS device names: dpdk0, dpdk0.100, bond0, dpdk0.kni ... (IFNAMSIZ is 16)
# A PCI address, the domain optional: "0000:01:00.0", "01:00.0" (device 00-1f, function 0-7)
PCI_RE = re.compile(
    r"^(?:(?P<domain>[0-9a-fA-F]{4}):)?(?P<bus>[0-9a-fA-F]{2}):(?P<dev>[0-1][0-9a-fA-F])\.(?P<fn>[0-7])$"
)
DEVICE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$")


# how close a name must be to a declared one to be taken for a typo of it (difflib ratio): strict
# for host variables (any name may be the user's own), looser for a key among a dozen known ones
CUTOFF = 0.8
KEY_CUTOFF = 0.6


def closest(name, known, cutoff=CUTOFF):
    """The known name closest to ``name`` (difflib), or None."""
    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(name, known):
    """The hint for an unknown key: the closest known one, or the list of them."""
    best = closest(name, known, KEY_CUTOFF)
    return f"did you mean {best}?" if best else "known: " + ", ".join(sorted(known))


class InputError(Exception):
    """Bad module input. ``path`` names the option, e.g. ``services[0].port``."""

    def __init__(self, path, value, problem):
        self.path = path
        self.value = value
        self.problem = problem
        super(InputError, self).__init__(f"{path}: {problem} (got {value!r})")


def message(err, names=None):
    """``str(err)`` with the option at the head of its path renamed by ``names``
    (``{"services": "dpvs_services_services"}``): how a role's user reads the error."""
    path = err.path or ""
    head = re.match(r"[A-Za-z_][A-Za-z0-9_]*", path)
    if head and (names or {}).get(head.group(0)):
        path = names[head.group(0)] + path[head.end() :]
    return f"{path}: {err.problem} (got {err.value!r})"


def path_join(base, key):
    """``path_join("services[0]", "port")`` -> ``services[0].port``."""
    return f"{base}.{key}" if base else key


def item_path(base, index):
    return f"{base}[{index}]"


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()


@functools.lru_cache(maxsize=65536)
def _parse_ip(text):
    """``ipaddress.ip_address``, cached: the real servers and LIPs of a big table repeat."""
    return ipaddress.ip_address(text)


def ip_address(path, value, family=None):
    """Parse an IPv4/IPv6 address (no prefix). ``family`` 4 or 6 restricts it."""
    if value is None or _text(value) == "":
        raise InputError(path, value, "an IP address is required")
    text = _text(value)
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        addr = _parse_ip(text)
    except ValueError:
        raise InputError(path, value, "not a valid IPv4 or IPv6 address") from None
    if family is not None and addr.version != family:
        raise InputError(path, value, f"must be an IPv{family} address")
    return addr


def ip_interface(path, value, default_plen=True):
    """Parse ``ADDR[/PLEN]``; return an ``ipaddress`` interface.

    Without a prefix length the host length is used (/32, /128), as dpip does.
    """
    if value is None or _text(value) == "":
        raise InputError(path, value, "an address is required")
    text = _text(value)
    if "/" in text:
        addr_text, plen_text = text.split("/", 1)
        if not plen_text.isdigit():
            raise InputError(path, value, "prefix length must be a number")
    else:
        if not default_plen:
            raise InputError(path, value, "a prefix length (ADDR/PLEN) is required")
        addr_text, plen_text = text, None
    addr = ip_address(path, addr_text)
    maxlen = addr.max_prefixlen
    plen = maxlen if plen_text is None else int(plen_text)
    if plen > maxlen:
        raise InputError(path, value, f"prefix length must be 0..{maxlen} for IPv{addr.version}")
    return ipaddress.ip_interface(f"{addr}/{plen}")


def ip_network(path, value):
    """Parse a route destination: ``NET/PLEN`` or ``default``.

    Host bits must be zero (``10.0.96.1/24`` is rejected: say ``10.0.96.0/24``), and the
    length is required: ``192.168.229.0`` is refused rather than read as a /32 (a purge would
    otherwise remove the /24 the user meant). Returns ``ipaddress`` network, or the string
    ``"default"`` unchanged.
    """
    if value is None or _text(value) == "":
        raise InputError(path, value, "a prefix is required")
    text = _text(value)
    if text == "default":
        return "default"
    if "/" not in text:
        host = ip_address(path, text)
        raise InputError(
            path, value, f"a prefix length is required: NET/PLEN (a host route is {host}/{host.max_prefixlen})"
        )
    iface = ip_interface(path, value)
    if iface.network.network_address != iface.ip:
        raise InputError(path, value, f"host bits are set; did you mean {iface.network}?")
    return iface.network


def port(path, value, allow_zero=False):
    """A TCP/UDP port 1..65535 (0 only where ``allow_zero``)."""
    if isinstance(value, bool) or value is None:
        raise InputError(path, value, "a port number is required")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(path, value, "a port must be a number") from None
    if str(number) != _text(value):
        raise InputError(path, value, "a port must be a whole number")
    low = 0 if allow_zero else 1
    if not low <= number <= 65535:
        raise InputError(path, value, f"a port must be {low}..65535")
    return number


def int_range(path, value, low, high):
    if isinstance(value, bool) or value is None:
        raise InputError(path, value, f"a number {low}..{high} is required")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(path, value, f"must be a number {low}..{high}") from None
    if not low <= number <= high:
        raise InputError(path, value, f"must be {low}..{high}")
    return number


def device(path, value, known=None):
    """A DPVS device name; with ``known`` (an iterable) it must be one of them."""
    text = _text(value) if value is not None else ""
    if not DEVICE_RE.match(text):
        raise InputError(path, value, "not a valid device name")
    if known is not None:
        known = sorted(known)
        if text not in known:
            raise InputError(path, value, "no such DPVS device (devices: %s)" % (", ".join(known) or "none"))
    return text


def choice(path, value, choices):
    if value not in choices:
        raise InputError(path, value, "must be one of {}".format(", ".join(choices)))
    return value


def pci_address(text):
    """``01:00.0`` -> ``0000:01:00.0`` (lower case); None when ``text`` is not a PCI address."""
    match = PCI_RE.match(str(text).strip()) if text is not None else None
    if not match:
        return None
    domain = (match.group("domain") or "0000").lower()
    return f"{domain}:{match.group('bus').lower()}:{match.group('dev').lower()}.{match.group('fn')}"


BOOLEAN_WORDS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}


def boolean(path, value, default=None, words=False):
    """``value`` as a bool: a bool itself, ``default`` for None when one is given, and with
    ``words`` also yes/no, on/off, true/false, 1/0 as text (what a command line or an INI file
    gives); InputError otherwise."""
    if value is None and default is not None:
        return default
    if isinstance(value, bool):
        return value
    if words and value is not None and str(value).strip().lower() in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[str(value).strip().lower()]
    raise InputError(path, value, "must be true or false")
