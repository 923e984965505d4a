# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dpip_addr / dpip_route: input normalisation, planner, apply, verify, diff.

One path for every run, the converge core's (``converge.core``; docs/internals.md)::

    validate all input          -> InputError, before any command
    read live state once        -> dpip link show, dpip -s addr show, dpip [-6] route show
                                   (``-s`` fails while a DPVS worker lacks an address the
                                   master has: ``workers``, which names it)
                                   (check mode with plan_fresh_when_down and DPVS down: the
                                   tables of a freshly started DPVS, ``fresh()``)
    plan                        -> ordered list of Action (argv + description)
    apply unless check mode     -> ApplyError carries the commands applied before a failure
    read back and verify        -> NotConvergedError lists what did not converge
    return                      -> changed = bool(plan), commands, diff, live state after

Planning never relies on dpip exit codes (``dpip route add`` of an existing IPv4
route exits 0, the IPv6 one exits 1): it compares the live tables with the
declared ones.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.dpvs.cluster.plugins.module_utils.common import inputs as _inputs
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import (
    CommandError,
    DaemonDownError,
    Runner,
    find_tool,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import core, edge
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import purge_guard as _purge_guard
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.errors import ApplyError, NotConvergedError
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.plan import Action
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import workers as _workers
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip.parse import (
    ParseError,
    parse_addr_show,
    parse_link_show,
    parse_route6_show,
    parse_route_show,
)

FAMILY_OF_VERSION = {4: "inet", 6: "inet6"}
ADDR_SCOPES = ("host", "link", "global", "site")
ROUTE_SCOPES = ("host", "link", "global", "kni_host")
STATES = ("present", "absent")
LINK_LOCAL_V6 = ipaddress.ip_network("fe80::/10")
METRIC_MAX = 4294967295
MTU_RANGE = {"inet": (68, 65535), "inet6": (1280, 65535)}

ADDR_KEYS = ("address", "dev", "scope", "sapool", "broadcast", "state")
ROUTE_KEYS = ("prefix", "family", "dev", "via", "src", "scope", "mtu", "metric", "state")


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _family_of(addr):
    return FAMILY_OF_VERSION[addr.version]


def _list_of_dicts(path, value):
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise InputError(path, value, "must be a list")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise InputError(_inputs.item_path(path, index), item, "must be a dict")
    return list(value)


def _unknown_keys(path, item, allowed):
    for key in sorted(item):
        if key not in allowed:
            raise InputError(
                _inputs.path_join(path, key), item[key], "unknown option (known: {})".format(", ".join(allowed))
            )


def _purge_devices(params):
    devices = []
    for index, name in enumerate(params.get("purge_devices") or []):
        devices.append(_inputs.device(_inputs.item_path("purge_devices", index), name))
    return devices


def _ip_sort_key(text):
    """Sort key for an address or prefix text: family, then numeric value, then length."""
    if text in ("default",):
        return (0, 0, 0)
    try:
        net = ipaddress.ip_interface(text)
    except ValueError:
        return (9, 0, 0)
    return (net.version, int(net.ip), net.network.prefixlen)


def check_devices(entries, links, list_name, purge_devices=()):
    """Every device named by a present entry (and in ``purge_devices``) must exist.

    ``links`` is ``parse_link_show`` output. Raises InputError naming
    ``<list_name>[i].dev`` / ``purge_devices[j]``. Entries with ``state: absent``
    may name a device that is gone (then their object is gone too).
    """
    known = sorted(link["name"] for link in links)
    for entry in entries:
        if entry["state"] == "present":
            _inputs.device(f"{list_name}[{entry['index']}].dev", entry["dev"], known=known)
    for index, name in enumerate(purge_devices):
        _inputs.device(_inputs.item_path("purge_devices", index), name, known=known)


def _apply(runner, plan):
    """Run the plan in order; return the commands (``{cmd, rc}``). Raises ApplyError."""
    applied = []
    for action in plan:
        try:
            rc, _out, _err = runner.run(action.argv, record=False)
        except CommandError as err:
            failed = {"cmd": err.cmd, "rc": err.rc, "stdout": err.stdout, "stderr": err.stderr}
            msg = err.msg if isinstance(err, DaemonDownError) else f"{err.msg} (while trying to {action.description})"
            if applied:
                msg += f"; {len(applied)} command(s) had been applied before it"
            raise ApplyError(msg, applied, failed, dpvs_errors=err.dpvs_errors, cause=err) from err
        applied.append({"cmd": list(action.argv), "rc": rc})
    return applied


def _apply_all(runner, plan):
    """Run every command of the plan, past a failing one (the replay at DPVS start: the
    read-back judges); the commands with ``rc``, and ``stderr`` where one failed."""
    commands = []
    for action in plan:
        rc, _out, err = runner.run(action.argv, check_rc=False, record=False)
        commands.append(dict({"cmd": list(action.argv), "rc": rc}, **({"stderr": err} if rc else {})))
    return commands


def _read(runner, argv):
    return runner.run(argv, read_only=True, record=False)[1]


def read_links(runner, dpip):
    return parse_link_show(_read(runner, [dpip, "link", "show"]))


def read_addresses(runner, dpip):
    """Live addresses with the sapool flag (only ``-s`` shows it). A DPVS worker that lacks an
    address the master has makes this listing fail: ``_workers.WorkerMismatchError`` names it."""
    return parse_addr_show(_workers.read_stats(runner, dpip), sapool_visible=True)


def read_routes(runner, dpip):
    """Live IPv4 and IPv6 routes (two commands: ``-6`` lists only IPv6)."""
    return parse_route_show(_read(runner, [dpip, "route", "show"])) + parse_route6_show(
        _read(runner, [dpip, "-6", "route", "show"])
    )


# --------------------------------------------------------------------------------------------
# addresses
# --------------------------------------------------------------------------------------------


def _addr_entry(index, item):
    """One ``addresses`` item validated and normalised (see :func:`normalize_addr_params`)."""
    path = _inputs.item_path("addresses", index)
    _unknown_keys(path, item, ADDR_KEYS)
    iface = _inputs.ip_interface(_inputs.path_join(path, "address"), item.get("address"))
    if iface.ip.is_unspecified or iface.ip.is_multicast:
        raise InputError(_inputs.path_join(path, "address"), item.get("address"), "not a unicast address")
    family = _family_of(iface.ip)
    dev = _inputs.device(_inputs.path_join(path, "dev"), item.get("dev"))
    scope = item.get("scope")
    if scope is None:
        scope = "link" if family == "inet6" and iface.ip in LINK_LOCAL_V6 else "global"
    _inputs.choice(_inputs.path_join(path, "scope"), scope, ADDR_SCOPES)
    sapool = _inputs.boolean(_inputs.path_join(path, "sapool"), item.get("sapool"), default=False)
    broadcast = item.get("broadcast")
    if broadcast is not None:
        bpath = _inputs.path_join(path, "broadcast")
        if family != "inet":
            raise InputError(bpath, broadcast, "a broadcast address is only valid for IPv4 addresses")
        broadcast = str(_inputs.ip_address(bpath, broadcast, family=4))
    state = item.get("state") or "present"
    _inputs.choice(_inputs.path_join(path, "state"), state, STATES)
    return {
        "index": index,
        "family": family,
        "address": str(iface.ip),
        "prefixlen": iface.network.prefixlen,
        "dev": dev,
        "scope": scope,
        "sapool": sapool,
        "broadcast": broadcast,
        "state": state,
    }


def _purge_params(params):
    """The options dpip_addr and dpip_route share: ``purge``, ``purge_limits``, ``purge_devices``
    and ``plan_fresh_when_down``."""
    return {
        "purge": _inputs.boolean("purge", params.get("purge"), default=False),
        "purge_limits": _purge_guard.limits(params),
        "purge_devices": _purge_devices(params),
        core.FRESH_OPTION: core.fresh_option(params),
    }


def normalize_addr_params(params):
    """Validate and normalise dpip_addr options. Returns a dict; raises InputError.

    Each address becomes ``{index, family, address, prefixlen, dev, scope, sapool,
    broadcast, state}`` (``address`` compressed, lower case).
    """
    entries = []
    seen = {}
    present_on = {}
    for index, item in enumerate(_list_of_dicts("addresses", params.get("addresses"))):
        entry = _addr_entry(index, item)
        where = _inputs.path_join(_inputs.item_path("addresses", index), "address")
        family, dev = entry["family"], entry["dev"]
        key = (family, entry["address"], dev)
        if key in seen:
            raise InputError(where, item.get("address"), f"declared twice for dev {dev} (also addresses[{seen[key]}])")
        seen[key] = index
        if entry["state"] == "present":
            other = present_on.get((family, entry["address"]))
            if other is not None:
                raise InputError(
                    where,
                    item.get("address"),
                    f"also declared present on dev {entries[other]['dev']} (addresses[{other}]); "
                    "an address lives on one device",
                )
            present_on[(family, entry["address"])] = index
        entries.append(entry)
    return {
        "addresses": entries,
        **_purge_params(params),
        "purge_sapool": _inputs.boolean("purge_sapool", params.get("purge_sapool"), default=False),
    }


def _addr_prefix(addr):
    """``10.0.96.204/32``: the address with its prefix length, as dpip takes it."""
    return f"{addr['address']}/{addr['prefixlen']}"


def _addr_key(addr):
    return (addr["family"], addr["address"], addr["dev"])


def render_address(addr):
    """``10.0.96.204/32 dev dpdk2 scope global sapool``: one diff/description line."""
    text = f"{addr['address']}/{addr['prefixlen']} dev {addr['dev']} scope {addr['scope']}"
    if addr.get("broadcast"):
        text += " broadcast {}".format(addr["broadcast"])
    if addr.get("sapool"):
        text += " sapool"
    return text


def _addr_sort_key(addr):
    return (addr["dev"], *_ip_sort_key(_addr_prefix(addr)))


def _addr_live_shape(entry):
    """A declared address in parser shape (what ``dpip -s addr show`` will list)."""
    return {
        "family": entry["family"],
        "address": entry["address"],
        "prefixlen": entry["prefixlen"],
        "scope": entry["scope"],
        "dev": entry["dev"],
        "broadcast": entry["broadcast"],
        "valid_lft": "forever",
        "preferred_lft": "forever",
        "sapool": entry["sapool"],
        "sa_used": None,
        "sa_free": None,
        "sa_miss": None,
    }


def addr_add_argv(dpip, entry):
    argv = [dpip] + (["-6"] if entry["family"] == "inet6" else [])
    argv += ["addr", "add", _addr_prefix(entry), "dev", entry["dev"]]
    if entry["scope"] != "global":  # dpip's default scope
        argv += ["scope", entry["scope"]]
    if entry.get("broadcast"):
        argv += ["broadcast", entry["broadcast"]]
    if entry.get("sapool"):
        argv.append("sapool")
    return argv


def addr_del_argv(dpip, addr):
    argv = [dpip] + (["-6"] if addr["family"] == "inet6" else [])
    return [*argv, "addr", "del", _addr_prefix(addr), "dev", addr["dev"]]


def _addr_changes(live, entry):
    """What differs between a live address and its declaration (same family+address+dev)."""
    changes = []
    if live["prefixlen"] != entry["prefixlen"]:
        changes.append("prefixlen {} -> {}".format(live["prefixlen"], entry["prefixlen"]))
    if live["scope"] != entry["scope"]:
        changes.append("scope {} -> {}".format(live["scope"], entry["scope"]))
    if bool(live["sapool"]) != entry["sapool"]:
        changes.append("sapool {} -> {}".format("on" if live["sapool"] else "off", "on" if entry["sapool"] else "off"))
    if entry["broadcast"] is not None and live["broadcast"] != entry["broadcast"]:
        changes.append("broadcast {} -> {}".format(live["broadcast"] or "none", entry["broadcast"]))
    return changes


def is_fresh(addresses):
    """Whether a live address table is a freshly started DPVS's: nothing but the IPv6
    link-local address DPVS gives each port."""
    return all(_addr_protected(addr, purge_sapool=True) for addr in addresses)


def _addr_protected(addr, purge_sapool):
    """Addresses purge leaves alone: IPv6 link-local (DPVS adds one per port) and, unless
    purge_sapool, sapool addresses (FullNAT local addresses, owned by the ipvsadm module)."""
    if addr["family"] == "inet6" and ipaddress.ip_address(addr["address"]) in LINK_LOCAL_V6:
        return True
    return addr["sapool"] is not False and not purge_sapool


class _Table:
    """How one dpip table is reconciled: its noun, identity, argv, rendering and rules."""

    def __init__(self, noun, key, add_argv, del_argv, render, sort_key, live_shape, changes, protected):
        self.noun = noun
        self.key = key
        self.add_argv = add_argv
        self.del_argv = del_argv
        self.render = render
        self.sort_key = sort_key
        self.live_shape = live_shape
        self.changes = changes
        self.protected = protected


def _delete(table, dpip, obj, why, purged=False):
    description = f"delete {table.noun} {table.render(obj)} ({why})"
    return Action(table.del_argv(dpip, obj), description, op="del", item=obj, purged=purged)


def _reconcile(table, live, entries, purge_devices, dpip):
    """Live objects (parser shape) + normalised declared entries -> ordered actions.

    Order: removals (state absent, then purge on the named devices, sorted), then changed
    objects (``del`` + ``add``: a brief disruption), then new ones, in declared order.
    ``purge_devices`` is None when purge is off.
    """
    noun = table.noun
    live_by_key = {}
    for obj in live:
        live_by_key.setdefault(table.key(obj), obj)
    removals, replacements, additions = [], [], []
    declared = set()
    for entry in entries:
        key = table.key(entry)
        declared.add(key)
        current = live_by_key.get(key)
        if entry["state"] == "absent":
            if current is not None:
                removals.append(_delete(table, dpip, current, "state=absent"))
            continue
        wanted = table.live_shape(entry)
        if current is None:
            additions.append(
                Action(table.add_argv(dpip, entry), f"add {noun} {table.render(wanted)}", op="add", item=wanted)
            )
            continue
        changes = table.changes(current, entry)
        if changes:
            why = ", ".join(changes)
            replacements.append(
                Action(
                    table.del_argv(dpip, current),
                    f"delete {noun} {table.render(current)} to re-add it ({why})",
                    op="del",
                    item=current,
                )
            )
            replacements.append(
                Action(
                    table.add_argv(dpip, entry), f"re-add {noun} {table.render(wanted)} ({why})", op="add", item=wanted
                )
            )
    if purge_devices is not None:
        purged = [obj for obj in purge_scope(table, live, entries, purge_devices) if table.key(obj) not in declared]
        for obj in sorted(purged, key=table.sort_key):
            removals.append(_delete(table, dpip, obj, "not declared, purge", purged=True))
    return removals + replacements + additions


def purge_scope(table, live, entries, purge_devices):
    """The live objects a purge may touch: on a declared device or one of ``purge_devices``,
    and not protected."""
    devices = set(entry["dev"] for entry in entries) | set(purge_devices)
    return [obj for obj in live if obj["dev"] in devices and not table.protected(obj)]


def check_purge(table, live, desired, plan, list_option, params):
    """The purge guard (``_purge_guard.check``) for a dpip plan."""
    if not desired["purge"]:
        return
    entries = desired[list_option]
    scope = purge_scope(table, live, entries, desired["purge_devices"])
    after = purge_scope(table, simulate(live, plan, table.key), entries, desired["purge_devices"])
    purged = [table.render(action.item) for action in plan if action.purged]
    names = params.get("option_names")
    _purge_guard.check(purged, len(scope), len(after), desired["purge_limits"], list_option, list_option, names)


def plan_addresses(live, desired, dpip="dpip"):
    """Live addresses (parser shape) + normalised desired options -> ordered actions
    (see ``_reconcile`` for the order)."""
    purge_devices = desired["purge_devices"] if desired["purge"] else None
    return _reconcile(_addr_table(desired), live, desired["addresses"], purge_devices, dpip)


def _addr_table(desired):
    return _Table(
        "address",
        _addr_key,
        addr_add_argv,
        addr_del_argv,
        render_address,
        _addr_sort_key,
        _addr_live_shape,
        _addr_changes,
        lambda addr: _addr_protected(addr, desired["purge_sapool"]),
    )


def simulate(live, plan, key):
    """The state a plan leads to: ``del`` removes an object by ``key``, ``add`` appends it."""
    state = [dict(obj) for obj in live]
    for action in plan:
        if action.op == "del":
            state = [obj for obj in state if key(obj) != key(action.item)]
        else:
            state.append(dict(action.item))
    return state


def render_addresses(addrs):
    """Sorted, stable text of an address table (one ``render_address`` line each)."""
    return "".join(render_address(addr) + "\n" for addr in sorted(addrs, key=_addr_sort_key))


def run_addr(params, runner, dpip="dpip", check_mode=False, want_diff=False):
    """The whole dpip_addr run. Returns the module result; raises InputError,
    CommandError (reads), ApplyError, NotConvergedError, ParseError."""
    return _converge(AddressTable(params, runner, dpip), check_mode, want_diff)


# --------------------------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------------------------


def default_route_scope(via):
    """dpip's own default: ``link`` without a gateway, ``global`` with one."""
    return "global" if via else "link"


def _route_via(path, item):
    """The gateway as an ``ipaddress`` address (unicast), or None."""
    via = item.get("via")
    if via is None:
        return None
    vpath = _inputs.path_join(path, "via")
    via_addr = _inputs.ip_address(vpath, via)
    if via_addr.is_unspecified or via_addr.is_multicast:
        raise InputError(vpath, via, "a gateway must be a unicast address")
    return via_addr


def _route_network(path, item):
    """``(network, gateway or None)`` of one family; ``default`` becomes the /0 of the family or the gateway's."""
    network = _inputs.ip_network(_inputs.path_join(path, "prefix"), item.get("prefix"))
    family = item.get("family")
    fpath = _inputs.path_join(path, "family")
    if family is not None:
        _inputs.choice(fpath, family, ("inet", "inet6"))
    via_addr = _route_via(path, item)
    if network == "default":
        if family is None:
            if via_addr is None:
                raise InputError(fpath, family, "a default route without via needs family (inet or inet6)")
            family = _family_of(via_addr)
        network = ipaddress.ip_network("0.0.0.0/0" if family == "inet" else "::/0")
    elif family is not None and family != _family_of(network):
        raise InputError(fpath, family, f"the prefix {network} is {_family_of(network)}")
    if via_addr is not None and via_addr.version != network.version:
        raise InputError(
            _inputs.path_join(path, "via"),
            item.get("via"),
            f"must be an IPv{network.version} address like the prefix {network}",
        )
    return network, via_addr


def _route_src(path, item, network):
    """The preferred source address (unicast, the prefix's family) as text, or None."""
    src = item.get("src")
    if src is None:
        return None
    spath = _inputs.path_join(path, "src")
    src_addr = _inputs.ip_address(spath, src)
    if src_addr.version != network.version:
        raise InputError(spath, src, f"must be an IPv{network.version} address like the prefix {network}")
    if src_addr.is_unspecified or src_addr.is_multicast:
        raise InputError(spath, src, "a source address must be a unicast address")
    return str(src_addr)


def _route_metric(path, item, family):
    """The metric (IPv4 only), or None."""
    metric = item.get("metric")
    if metric is None:
        return None
    mpath = _inputs.path_join(path, "metric")
    if family == "inet6":
        raise InputError(mpath, metric, "not supported for IPv6 routes (dpip -6 route show does not report a metric)")
    return _inputs.int_range(mpath, metric, 0, METRIC_MAX)


def _route_entry(index, item):
    """One declared route, validated: ``{index, family, prefix, dev, via, src, scope, mtu, metric, state}``."""
    path = _inputs.item_path("routes", index)
    _unknown_keys(path, item, ROUTE_KEYS)
    network, via_addr = _route_network(path, item)
    family = _family_of(network)
    src = _route_src(path, item, network)
    dev = _inputs.device(_inputs.path_join(path, "dev"), item.get("dev"))
    scope = item.get("scope")
    if scope is None:
        scope = default_route_scope(via_addr)
    _inputs.choice(_inputs.path_join(path, "scope"), scope, ROUTE_SCOPES)
    mtu = item.get("mtu")
    if mtu is not None:
        low, high = MTU_RANGE[family]
        mtu = _inputs.int_range(_inputs.path_join(path, "mtu"), mtu, low, high)
    metric = _route_metric(path, item, family)
    state = item.get("state") or "present"
    _inputs.choice(_inputs.path_join(path, "state"), state, STATES)
    return {
        "index": index,
        "family": family,
        "prefix": str(network),
        "dev": dev,
        "via": str(via_addr) if via_addr is not None else None,
        "src": src,
        "scope": scope,
        "mtu": mtu,
        "metric": metric,
        "state": state,
    }


def normalize_route_params(params):
    """Validate and normalise dpip_route options. Returns a dict; raises InputError.

    Each route becomes ``{index, family, prefix ("10.0.96.0/24", "0.0.0.0/0",
    "::/0"), dev, via, src, scope, mtu, metric, state}``.
    """
    entries = []
    seen = {}
    for index, item in enumerate(_list_of_dicts("routes", params.get("routes"))):
        entry = _route_entry(index, item)
        key = _route_key(entry)
        if key in seen:
            raise InputError(
                _inputs.path_join(_inputs.item_path("routes", index), "prefix"),
                item.get("prefix"),
                f"route declared twice (also routes[{seen[key]}])",
            )
        seen[key] = index
        entries.append(entry)
    return {"routes": entries, **_purge_params(params)}


def dpip_argument_spec(list_name, item_options, **more):
    """The argument spec of dpip_addr/dpip_route: the list ``list_name``, purge and its guard, ``more``, dpip."""
    spec = dict(
        {list_name: dict(type="list", elements="dict", default=[], options=item_options)},
        purge=dict(type="bool", default=False),
        purge_max=dict(type="int", default=20),
        purge_all=dict(type="bool", default=False),
        option_names=dict(type="dict", default={}),
        purge_devices=dict(type="list", elements="str", default=[]),
        plan_fresh_when_down=dict(type="bool", default=False),
    )
    spec.update(more)
    spec.update(ipc_file=dict(type="path"), dpip_path=dict(type="str", default="dpip"))
    return spec


def _route_key(route):
    """Route identity: family + prefix + dev + via."""
    return (route["family"], route["prefix"], route["dev"], route["via"])


def _prefix_text(route):
    """``default`` for a /0 (as dpip takes it), else ``NET/PLEN``."""
    return "default" if route["prefix"] in ("0.0.0.0/0", "::/0") else route["prefix"]


def render_route(route):
    """``inet 172.16.0.0/16 via 10.0.96.1 dev dpdk0 src 10.0.96.204 scope global mtu 1500``."""
    text = "{} {}".format(route["family"], _prefix_text(route))
    if route.get("via"):
        text += " via {}".format(route["via"])
    text += " dev {}".format(route["dev"])
    if route.get("src"):
        text += " src {}".format(route["src"])
    text += " scope {}".format(route["scope"])
    if route.get("mtu") is not None:
        text += f" mtu {route['mtu']}"
    if route.get("metric") is not None:
        text += f" metric {route['metric']}"
    return text


def _route_sort_key(route):
    return (
        0 if route["family"] == "inet" else 1,
        route["dev"],
        _ip_sort_key(route["prefix"]),
        _ip_sort_key(route["via"]) if route.get("via") else (0, 0, 0),
    )


def _route_argv(dpip, op, route, with_options):
    argv = [dpip] + (["-6"] if route["family"] == "inet6" else [])
    argv += ["route", op, _prefix_text(route)]
    if route.get("via"):
        argv += ["via", route["via"]]
    argv += ["dev", route["dev"]]
    if route.get("src"):
        argv += ["src", route["src"]]
    if route["scope"] != default_route_scope(route.get("via")):
        argv += ["scope", route["scope"]]
    if with_options:
        if route.get("mtu") is not None:
            argv += ["mtu", str(route["mtu"])]
        if route.get("metric") is not None:
            argv += ["metric", str(route["metric"])]
    return argv


def route_add_argv(dpip, entry):
    return _route_argv(dpip, "add", entry, with_options=True)


def route_del_argv(dpip, route):
    return _route_argv(dpip, "del", route, with_options=False)


def _route_changes(live, entry):
    """What differs between a live route and its declaration (same identity).

    ``src`` and ``scope`` are compared always (an omitted src means none); ``mtu`` and
    ``metric`` only when declared (dpip shows the device MTU and metric 0 otherwise).
    """
    changes = []
    if live["src"] != entry["src"]:
        changes.append("src {} -> {}".format(live["src"] or "none", entry["src"] or "none"))
    if live["scope"] != entry["scope"]:
        changes.append("scope {} -> {}".format(live["scope"], entry["scope"]))
    if entry["mtu"] is not None and live["mtu"] != entry["mtu"]:
        changes.append("mtu {} -> {}".format(live["mtu"], entry["mtu"]))
    if entry["metric"] is not None and live["metric"] != entry["metric"]:
        changes.append("metric {} -> {}".format(live["metric"], entry["metric"]))
    return changes


def _route_is_auto(route, addresses):
    """Routes DPVS creates for its own addresses, never purged.

    * ``scope host`` routes (one per local address);
    * IPv6 link-local prefixes (``fe80::/64 src fe80::...``);
    * connected prefixes: a ``scope link`` route on the same device whose prefix is
      the network of a local address with a prefix length (``2001:db8::/64 src
      2001:db8::205`` for ``2001:db8::205/64``) or whose src is a local address.
    """
    if route["scope"] == "host":
        return True
    net = ipaddress.ip_network(route["prefix"])
    if net.version == 6 and net.prefixlen >= LINK_LOCAL_V6.prefixlen and net.network_address in LINK_LOCAL_V6:
        return True
    if route["scope"] != "link":
        return False
    for addr in addresses:
        if addr["dev"] != route["dev"] or addr["family"] != route["family"]:
            continue
        if route["src"] and addr["address"] == route["src"]:
            return True
        iface = ipaddress.ip_interface(_addr_prefix(addr))
        if iface.network.prefixlen < iface.max_prefixlen and iface.network == net:
            return True
    return False


def _route_live_shape(entry, links):
    """A declared route in parser shape (what ``dpip [-6] route show`` will list): without a
    declared MTU dpip shows the device MTU; IPv4 shows metric 0, tos 0, proto auto."""
    mtu = entry["mtu"]
    if mtu is None:
        mtu = next((link["mtu"] for link in links if link["name"] == entry["dev"]), None)
    inet = entry["family"] == "inet"
    metric = entry["metric"]
    if metric is None and inet:
        metric = 0
    return {
        "family": entry["family"],
        "prefix": entry["prefix"],
        "via": entry["via"],
        "src": entry["src"],
        "dev": entry["dev"],
        "mtu": mtu,
        "tos": 0 if inet else None,
        "scope": entry["scope"],
        "metric": metric,
        "proto": "auto" if inet else None,
    }


def plan_routes(live, desired, addresses=(), links=(), dpip="dpip"):
    """Live routes (parser shape, both families) + normalised desired options -> actions.

    ``addresses`` (live, parser shape) tell which routes DPVS made for its own
    addresses (never purged); ``links`` give the MTU a new route will show.
    The order is ``_reconcile``'s.
    """
    purge_devices = desired["purge_devices"] if desired["purge"] else None
    return _reconcile(_route_table(addresses, links), live, desired["routes"], purge_devices, dpip)


def _route_table(addresses, links):
    return _Table(
        "route",
        _route_key,
        route_add_argv,
        route_del_argv,
        render_route,
        _route_sort_key,
        lambda entry: _route_live_shape(entry, links),
        _route_changes,
        lambda route: _route_is_auto(route, addresses),
    )


def render_routes(routes):
    """Sorted, stable text of a routing table (one ``render_route`` line each)."""
    return "".join(render_route(route) + "\n" for route in sorted(routes, key=_route_sort_key))


def run_route(params, runner, dpip="dpip", check_mode=False, want_diff=False):
    """The whole dpip_route run. Returns the module result; raises InputError,
    CommandError (reads), ApplyError, NotConvergedError, ParseError."""
    return _converge(RouteTable(params, runner, dpip), check_mode, want_diff)


# --------------------------------------------------------------------------------------------
# the two tables for the converge core
# --------------------------------------------------------------------------------------------


def _converge(table, check_mode, want_diff):
    return core.converge(table, check_mode, want_diff, fresh_when_down=table.desired[core.FRESH_OPTION])


class _DpipTable(core.Table):
    """A dpip table: input is validated on construction; the first ``read`` reads the link list
    (``read_context``) before the table itself, so a device that does not exist is an InputError
    before the table is read, unless ``strict_devices`` is False (the replay at DPVS start tries
    every entry and lets dpip say). ``keep_going`` runs every planned command even after one
    fails, and leaves the verdict to the read-back (the replay); ``last_plan`` and ``remaining``
    keep the plan and what the read-back still needs, for a caller that reports per object;
    ``before`` the table the plan started from (the replay tells a fresh DPVS by it)."""

    kind = ""
    plan_needs_links = True

    def __init__(self, params, runner, dpip, strict_devices=True, keep_going=False):
        self.params = params
        self.runner = runner
        self.dpip = dpip
        self.strict_devices = strict_devices
        self.keep_going = keep_going
        self.last_plan = self.remaining = self.applied = []
        self.before = None
        self.desired = self.validate(params)
        self.links = None

    @staticmethod
    def validate(params):
        raise NotImplementedError

    def read(self):
        """The live table; the first time, after ``read_context``."""
        if self.links is None:
            self.read_context()
        return self.read_table()

    def read_context(self):
        """What the plan needs beside the table, read once: the links (devices checked), unless
        nothing needs them (``strict_devices`` False and a plan without links)."""
        if not (self.strict_devices or self.plan_needs_links):
            self.links = []
            return
        self.links = read_links(self.runner, self.dpip)
        if self.strict_devices:
            check_devices(self.desired[self.kind], self.links, self.kind, self.desired["purge_devices"])

    def read_table(self):
        raise NotImplementedError

    def fresh(self):
        """A freshly started DPVS: no address and no route but the IPv6 link-local address of
        each port and its two routes, which a purge never removes (``_addr_protected``,
        ``_route_is_auto``), so an empty table plans the same. Its ports are not known (nothing
        answers ``dpip link show``): devices are not checked, the real run checks them."""
        self.links = []
        return []

    def rules(self):
        raise NotImplementedError

    def guard(self, live, plan):
        self.before = live
        check_purge(self.rules(), live, self.desired, plan, self.kind, self.params)

    def planned(self, plan):
        self.last_plan = plan
        return super(_DpipTable, self).planned(plan)

    def apply(self, plan):
        self.applied = (_apply_all if self.keep_going else _apply)(self.runner, plan)
        return self.applied

    def predict(self, live, plan):
        return simulate(live, plan, self.rules().key)

    def verify(self, plan, after):
        self.remaining = self.plan(after)
        return [action.description for action in self.remaining]

    def not_converged(self, problems, commands, after):
        msg = f"{self.kind} did not converge after applying the plan; still to do: {'; '.join(problems)}"
        return NotConvergedError(msg, problems, commands, **{self.kind: after})

    def report(self, after, plan):
        return {self.kind: after}


class AddressTable(_DpipTable):
    kind = "addresses"
    plan_needs_links = False  # links only to check the devices
    validate = staticmethod(normalize_addr_params)

    def read_table(self):
        return read_addresses(self.runner, self.dpip)

    def read_back(self, plan):
        """The read again; a DPVS worker that could not add what the plan added (the add exits 0
        all the same) makes it fail: an ApplyError with what was applied."""
        try:
            return self.read()
        except _workers.WorkerMismatchError as err:
            added = [action.item["address"] for action in plan if action.op == "add"]
            raise _workers.apply_error(err, self.applied, added) from err

    def plan(self, live):
        return plan_addresses(live, self.desired, self.dpip)

    def rules(self):
        return _addr_table(self.desired)

    def render(self, state):
        return render_addresses(state)


class RouteTable(_DpipTable):
    kind = "routes"
    validate = staticmethod(normalize_route_params)

    def __init__(self, params, runner, dpip, **options):
        super(RouteTable, self).__init__(params, runner, dpip, **options)
        self.addresses = []

    def read_context(self):
        """The links, then the addresses (the routes DPVS made for them are never purged)."""
        super(RouteTable, self).read_context()
        self.addresses = parse_addr_show(_read(self.runner, [self.dpip, "addr", "show"]))

    def read_table(self):
        return read_routes(self.runner, self.dpip)

    def fresh(self):
        self.addresses = []
        return super(RouteTable, self).fresh()

    def plan(self, live):
        return plan_routes(live, self.desired, self.addresses, self.links, self.dpip)

    def rules(self):
        return _route_table(self.addresses, self.links)

    def render(self, state):
        return render_routes(state)


# --------------------------------------------------------------------------------------------
# module glue (shared by dpip_addr and dpip_route)
# --------------------------------------------------------------------------------------------

TABLES = {"addresses": AddressTable, "routes": RouteTable}


def module_main(module, kind, runner_class=None):
    """Run dpip_addr (``kind="addresses"``) or dpip_route (``"routes"``) for ``module``.

    Input is validated before anything else (even before the binary is looked up); every
    error ends in ``fail_json`` through the converge edge, with a message that says where.
    """
    table_class = TABLES[kind]

    def run(_desired):
        params = module.params
        runner = (runner_class or Runner).for_module(module, ipc_file=params.get("ipc_file"))
        absent_is_down = module.check_mode and core.fresh_option(params)
        dpip = find_tool(module, runner, params.get("dpip_path") or "dpip", absent_is_down)
        return _converge(table_class(params, runner, dpip), module.check_mode, module._diff)

    edge.run_module(module, table_class.validate, run, parsers=((ParseError, "dpip"),))
