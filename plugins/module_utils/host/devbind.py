# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bind PCI network functions to DPDK drivers (vfio-pci, igb_uio, uio_pci_generic) and back, through sysfs.

One code path for the ``dpdk_devbind`` module and the boot-time applier (``dpvs-devbind.service``):

* :func:`read_functions` reads the PCI network functions from sysfs (:class:`SysfsIO`, a root that
  tests point at a fake kernel);
* :func:`resolve` validates the requested devices (selectors, drivers, Mellanox, management NIC)
  and raises :class:`InputError` before anything changes;
* :func:`plan_steps` turns live state + requests (+ the state file) into per-NIC steps of actions;
* :func:`apply_steps` runs them in order (link down, ``driver_override``, unbind, ``drivers_probe``),
  reads the driver back, and on a failed bind clears the override and re-probes so that the NIC
  returns to its kernel driver; :class:`BindError` carries what was applied;
* :class:`BindingTable` states them for the converge core (``converge.core.converge``: read,
  plan, apply unless check mode, read back, report), which :func:`run` runs.

Kernel semantics used (Documentation/ABI/testing/sysfs-bus-pci): a driver named in
``driver_override`` is the only one that may bind the device; writing ``"\\n"`` clears it (an
empty write is no write at all); ``/sys/bus/pci/drivers_probe`` re-runs the match for one device;
``drivers/<drv>/unbind`` detaches it. ``drivers_probe`` does not report a driver that refused the
device, hence the read-back.

Stdlib only (with ``host.facts`` and the ``common`` and ``converge`` packages): :func:`boot_main` is
the ``devbind`` command of the dpvs-cluster tool (``cli``), which the devbind role installs and
``dpvs-devbind.service`` runs at boot.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import sys

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import (
    InputError,
    item_path,
    path_join,
    pci_address,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner, subprocess_run_command
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import core, errors
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.plan import Action, Plan
from ansible_collections.dpvs.cluster.plugins.module_utils.host.facts import (
    SysFS,
    collect,
    connection_address_from_processes,
    parse_ssh_connection,
    pci_address_of,
)

DPDK_DRIVERS = ("vfio-pci", "igb_uio", "uio_pci_generic")
KERNEL = "kernel"
MELLANOX_VENDOR = "0x15b3"
PCI_CLASS_NETWORK = "0x02"
IFF_UP = 0x1
STATE_VERSION = 1
DEFAULT_STATE_FILE = "/etc/dpvs-cluster/devbind.json"
DEFAULT_NIC_MAP = "/etc/dpvs-cluster/nics.json"

# 0000:11:00.0 or 11:00.0 (domain optional)
# 52:54:00:00:01:02 (also with dashes: 52-54-00-00-01-02)
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5}$")
# enp17s0, eth0, ens1f0np0 (IFNAMSIZ 16: 15 characters, no / or whitespace)
IFNAME_RE = re.compile(r"^[^/\s:]{1,15}$")
# vfio-pci, igb_uio, virtio-pci, e1000e, mlx5_core
DRIVER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class BindError(errors.ApplyError):
    """A change failed part-way. ``applied``: the actions that succeeded (rollback included);
    ``devices``: every NIC of the plan as it is now."""

    def __init__(self, msg, applied, devices=None):
        super(BindError, self).__init__(msg, applied, {}, dpvs_errors=[])
        self.devices = devices or []

    def fields(self):
        return dict(msg=self.msg, applied=self.applied, devices=self.devices)


# ---------------------------------------------------------------------------------------------
# sysfs access


class SysfsIO(SysFS):
    """:class:`SysFS` (reads, from ``_host_facts``) plus the writes binding needs."""

    def exists(self, path):
        return os.path.exists(self._path(path))

    def write(self, path, value):
        # unbuffered, so that the kernel's answer (ENODEV from bind, EBUSY...) raises here
        with open(self._path(path), "wb", buffering=0) as handle:
            handle.write(value.encode("utf-8"))


def norm_driver(name):
    """Driver and module names compare with ``-`` and ``_`` alike (virtio-pci is module virtio_pci)."""
    return name.replace("-", "_") if name else name


def norm_pci(text):
    """``11:00.0`` -> ``0000:11:00.0``; None when not a PCI address."""
    return pci_address(text)


def norm_mac(text):
    text = (text or "").strip()
    return text.lower().replace("-", ":") if MAC_RE.match(text) else None


def _strip(text):
    return text.strip() if text is not None else None


def driver_dir(io, name):
    """The directory name of a loaded PCI driver matching ``name`` (``-``/``_`` alike), or None."""
    if not name:
        return None
    for candidate in (name, name.replace("_", "-"), name.replace("-", "_")):
        if io.exists(f"/sys/bus/pci/drivers/{candidate}"):
            return candidate
    return None


def pci_netdevs(io):
    """``{pci: interface name}`` from ``/sys/class/net``: the netdev sits below the PCI function
    (``.../0000:21:00.0/net/enp33s0``) or below a child device (virtio: ``.../0000:11:00.0/virtio1/net/enp17s0``)."""
    found = {}
    for name in io.listdir("/sys/class/net"):
        link = io.readlink(f"/sys/class/net/{name}")
        if not link or "/devices/virtual/" in link:
            continue
        pci = pci_address_of(link)
        if pci and pci not in found:
            found[pci] = name
    return found


def read_functions(io):
    """The PCI network functions: ``{pci: {pci, vendor_id, device_id, numa_node, driver,
    driver_override, netdev, mac, up}}`` (``netdev``/``mac``/``up`` None without a kernel netdev)."""
    functions = {}
    netdevs = pci_netdevs(io)
    for pci in io.listdir("/sys/bus/pci/devices"):
        base = f"/sys/bus/pci/devices/{pci}"
        if not (_strip(io.read(base + "/class")) or "").startswith(PCI_CLASS_NETWORK):
            continue
        driver = io.readlink(base + "/driver")
        override = _strip(io.read(base + "/driver_override"))
        netdev = netdevs.get(pci)
        mac = up = None
        if netdev:
            mac = (_strip(io.read(f"/sys/class/net/{netdev}/address")) or "").lower() or None
            try:
                up = bool(int(_strip(io.read(f"/sys/class/net/{netdev}/flags")) or "0", 16) & IFF_UP)
            except ValueError:
                up = None
        try:
            numa = int(_strip(io.read(base + "/numa_node")))
        except (TypeError, ValueError):
            numa = None
        functions[pci] = {
            "pci": pci,
            "vendor_id": _strip(io.read(base + "/vendor")),
            "device_id": _strip(io.read(base + "/device")),
            "numa_node": numa,
            "driver": os.path.basename(driver) if driver else None,
            "driver_override": None if override in (None, "", "(null)") else override,
            "netdev": netdev,
            "mac": mac,
            "up": up,
        }
    return functions


def read_json(path, what):
    """A JSON record file as a dict; ``{}`` when absent. A file that is not JSON is an error."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InputError(what, path, f"cannot read it: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(what, path, "not a JSON object")
    return data


def write_state(path, devices):
    """Write the state file atomically (``{"version": 1, "devices": {pci: record}}``)."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o755, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump({"version": STATE_VERSION, "devices": devices}, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def state_devices(state):
    devices = state.get("devices") if isinstance(state, dict) else None
    return devices if isinstance(devices, dict) else {}


def host_view(io, ip_addr_text, connection_address):
    """``({pci: reason}, {pci: [kernel module]})``: the NICs that carry the Ansible connection or a
    default route, directly or under a bond/VLAN/bridge that does (``_host_facts.collect`` decides),
    and the kernel modules whose PCI aliases match each NIC (the kernel driver of last resort)."""
    facts = collect(io, ip_addr_text, connection_address)
    protected = {}
    for nic in facts["nics"]:
        if not nic["pci_address"]:
            continue
        reasons = []
        if nic["connection"]:
            reasons.append(f"it carries the address Ansible connects through ({connection_address})")
        if nic["default_route_ipv4"]:
            reasons.append("it carries the IPv4 default route")
        if nic["default_route_ipv6"]:
            reasons.append("it carries an IPv6 default route")
        if reasons:
            via = f" (interface {nic['name']})" if nic["name"] else ""
            protected[nic["pci_address"]] = " and ".join(reasons) + via
    modules = {nic["pci_address"]: nic["kernel_modules"] for nic in facts["nics"] if nic["pci_address"]}
    return protected, modules


def connection_address(environ, io):
    """The address Ansible connects through: SSH_CONNECTION here or in a parent process (as host_info)."""
    return parse_ssh_connection(environ.get("SSH_CONNECTION")) or connection_address_from_processes(io)


# ---------------------------------------------------------------------------------------------
# Validation and resolution


def kernel_driver_of(pci, function, recorded, nic_map, modules):
    """The NIC's own kernel driver: this module's record, the current driver when it is not a DPDK
    one, the preflight role's NIC map, else the kernel modules whose PCI alias matches."""
    if recorded.get(pci, {}).get("kernel_driver"):
        return recorded[pci]["kernel_driver"]
    if function["driver"] and function["driver"] not in DPDK_DRIVERS:
        return function["driver"]
    mapped = nic_map.get(pci, {})
    if isinstance(mapped, dict) and mapped.get("kernel_driver"):
        return mapped["kernel_driver"]
    found = modules.get(pci) or []
    return found[0] if found else None


def _known_name_mac(pci, function, recorded, nic_map):
    """The NIC's interface name and MAC: live, else this module's record, else the NIC map."""
    name, mac = function["netdev"], function["mac"]
    for source in (recorded.get(pci) or {}, nic_map.get(pci) or {}):
        if not isinstance(source, dict):
            continue
        name = name or source.get("name")
        mac = mac or (source.get("mac") or "").lower() or None
    return name, mac


def _find_by(functions, recorded, nic_map, key, value):
    """PCI addresses whose live netdev, record or NIC map entry has ``key`` (name/mac) == value."""
    live, remembered = [], []
    for pci, function in sorted(functions.items()):
        live_value = function["netdev"] if key == "name" else function["mac"]
        if live_value == value:
            live.append(pci)
            continue
        for source in (recorded.get(pci) or {}, nic_map.get(pci) or {}):
            if (
                isinstance(source, dict)
                and (source.get(key) or "").lower() == value.lower()
                and function["netdev"] is None
            ):
                remembered.append(pci)
                break
    return live or remembered


def _selector(device, base):
    """The one selector of a device entry: ``(key, value)`` with key pci, mac or name."""
    if not isinstance(device, dict):
        raise InputError(base, device, "must be a dict with one of pci, mac, name and a driver")
    unknown = sorted(set(device) - {"pci", "mac", "name", "driver"})
    if unknown:
        raise InputError(path_join(base, unknown[0]), device[unknown[0]], "unknown key (use pci, mac, name, driver)")
    selectors = [key for key in ("pci", "mac", "name") if device.get(key) not in (None, "")]
    if len(selectors) != 1:
        raise InputError(base, {k: v for k, v in device.items() if k != "driver"}, "give exactly one of pci, mac, name")
    key = selectors[0]
    value = device[key]
    if not isinstance(value, str):
        raise InputError(path_join(base, key), value, "must be a string")
    return key, value


def _pci_by_address(where, value, functions, known):
    """The PCI address a ``pci`` selector names (it must be a network function of this host)."""
    pci = norm_pci(value)
    if pci is None:
        raise InputError(where, value, "not a PCI address (0000:11:00.0 or 11:00.0)")
    if pci not in functions:
        raise InputError(where, value, f"no PCI network function {pci} on this host (there are: {known})")
    return pci


def _pci_by_name_mac(where, key, value, functions, recorded, nic_map, known):
    """The PCI address a ``mac`` or ``name`` selector names: live, else recorded; exactly one."""
    if key == "mac":
        wanted = norm_mac(value)
        if wanted is None:
            raise InputError(where, value, "not a MAC address (52:54:00:00:01:02)")
    else:
        wanted = value.strip()
        if not IFNAME_RE.match(wanted):
            raise InputError(where, value, "not an interface name")
    found = _find_by(functions, recorded, nic_map, key, wanted)
    if not found:
        raise InputError(
            where,
            value,
            f"no PCI network function with {'MAC' if key == 'mac' else 'interface name'} {wanted} on this "
            f"host, live or recorded in the NIC map (PCI network functions: {known})",
        )
    if len(found) > 1:
        raise InputError(where, value, "matches several NICs: {}; select by pci".format(", ".join(found)))
    return found[0]


def _target(driver_path, driver, pci, function, kernel_driver, io):
    """``(loaded driver directory, restore)`` for the requested ``driver`` of one NIC."""
    if not isinstance(driver, str) or not DRIVER_RE.match(driver.strip()):
        raise InputError(
            driver_path, driver, "not a driver name (vfio-pci, igb_uio, uio_pci_generic, kernel or a kernel driver)"
        )
    driver = driver.strip()
    if driver == KERNEL:
        if kernel_driver is None:
            raise InputError(
                driver_path, driver, f"{pci}: its kernel driver is unknown (no record, no NIC map entry); name it"
            )
        target = kernel_driver
    else:
        target = driver
    restore = kernel_driver is not None and norm_driver(target) == norm_driver(kernel_driver)
    if function["vendor_id"] == MELLANOX_VENDOR and not restore:
        raise InputError(
            driver_path,
            driver,
            f"{pci} is a Mellanox/NVIDIA NIC (vendor 0x15b3): mlx4/mlx5 are bifurcated, DPDK drives them "
            "on their kernel driver; leave them on it (driver: kernel) or do not list them",
        )
    loaded = driver_dir(io, target)
    if loaded is None:
        raise InputError(
            driver_path,
            driver,
            f"driver {target} is not loaded (no /sys/bus/pci/drivers/{target}): load it first "
            "(role dpvs.cluster.dpdk_kmods, or modprobe)",
        )
    return loaded, restore


def resolve(
    devices, functions, io, recorded=None, nic_map=None, protected=None, modules=None, force=False, path="devices"
):
    """Validate the requested devices; return one request per NIC, in input order.

    Request: ``{pci, target, kernel_driver, restore (target is the kernel driver), path}``.
    Raises :class:`InputError` on the first problem; nothing has changed then.
    """
    recorded = recorded or {}
    nic_map = nic_map or {}
    protected = protected or {}
    modules = modules or {}
    known = ", ".join(sorted(functions)) or "none"
    requests, seen = [], {}
    if not isinstance(devices, list):
        raise InputError(path, devices, "must be a list of {pci|mac|name, driver}")
    for index, device in enumerate(devices):
        base = item_path(path, index)
        key, value = _selector(device, base)
        where = path_join(base, key)
        if key == "pci":
            pci = _pci_by_address(where, value, functions, known)
        else:
            pci = _pci_by_name_mac(where, key, value, functions, recorded, nic_map, known)
        if pci in seen:
            raise InputError(base, value, f"{pci} is already selected by {seen[pci]}")
        seen[pci] = base
        function = functions[pci]
        kernel_driver = kernel_driver_of(pci, function, recorded, nic_map, modules)
        loaded, restore = _target(path_join(base, "driver"), device.get("driver"), pci, function, kernel_driver, io)
        if norm_driver(function["driver"]) != norm_driver(loaded) and pci in protected and not force:
            raise InputError(
                where,
                value,
                f"{pci} is the management NIC: {protected[pci]}; binding it would cut the host off "
                "(force: true overrides)",
            )
        requests.append(
            {"pci": pci, "target": loaded, "kernel_driver": kernel_driver, "restore": restore, "path": base}
        )
    return requests


# ---------------------------------------------------------------------------------------------
# Plan


def _write(pci, path, value, why):
    return {"pci": pci, "op": "write", "path": path, "value": value, "why": why}


def _bind_actions(function, target, restore, link_down, ip):
    """The ordered actions that move one NIC from its current driver to ``target``."""
    pci = function["pci"]
    actions = []
    if link_down and function["netdev"] and function["up"]:
        actions.append(
            {
                "pci": pci,
                "op": "command",
                "cmd": [ip, "link", "set", "dev", function["netdev"], "down"],
                "why": f"take {function['netdev']} down before its driver lets go",
            }
        )
    if restore:
        actions.append(
            _write(pci, f"/sys/bus/pci/devices/{pci}/driver_override", "\n", "clear driver_override (kernel driver)")
        )
    else:
        actions.append(_write(pci, f"/sys/bus/pci/devices/{pci}/driver_override", target, f"only {target} may bind it"))
    if function["driver"]:
        actions.append(
            _write(pci, f"/sys/bus/pci/drivers/{function['driver']}/unbind", pci, f"unbind from {function['driver']}")
        )
    actions.append(_write(pci, "/sys/bus/pci/drivers_probe", pci, f"probe: {target or 'the kernel driver'} binds it"))
    return actions


def _unlisted_requests(functions, requests, recorded, modules, io):
    """Requests that return the recorded NICs no request names to their kernel driver."""
    requested = {req["pci"] for req in requests}
    unlisted = []
    for pci in sorted(recorded):
        if pci in requested or pci not in functions:
            continue
        entry = recorded[pci] if isinstance(recorded[pci], dict) else {}
        kernel_driver = entry.get("kernel_driver") or kernel_driver_of(pci, functions[pci], {}, {}, modules)
        target = (driver_dir(io, kernel_driver) if io is not None else None) or kernel_driver
        unlisted.append({"pci": pci, "target": target, "kernel_driver": kernel_driver, "restore": True, "path": None})
    return unlisted


def _step_actions(function, req, link_down, ip):
    """The actions of one NIC's step: bind it to the target, or clear a stale override, or none."""
    pci = req["pci"]
    if norm_driver(function["driver"]) != norm_driver(req["target"]):
        return _bind_actions(function, req["target"], req["restore"], link_down, ip)
    if req["restore"] and function["driver_override"]:
        # on its kernel driver already, but a stale override would send it elsewhere at the next probe
        return [_write(pci, f"/sys/bus/pci/devices/{pci}/driver_override", "\n", "clear a stale driver_override")]
    return []


def _record(new_recorded, req, function, name, mac):
    """Update the state file's content for one NIC: drop it when restored, else record the binding."""
    pci = req["pci"]
    if req["restore"]:
        new_recorded.pop(pci, None)
        return
    entry = dict(new_recorded.get(pci) or {})
    entry.update(
        {
            "kernel_driver": req["kernel_driver"],
            "name": entry.get("name") or name,
            "mac": entry.get("mac") or mac,
            "driver": req["target"],
            "vendor_id": function["vendor_id"],
            "device_id": function["device_id"],
        }
    )
    if function["netdev"]:
        entry["name"], entry["mac"] = function["netdev"], function["mac"]
    new_recorded[pci] = entry


def plan_steps(
    functions, requests, recorded, link_down=True, restore_unlisted=False, ip="ip", modules=None, io=None, nic_map=None
):
    """Steps that make the NICs what ``requests`` says; the state file's new content.

    Returns ``(steps, new_recorded)``; a step is ``{pci, name, mac, numa_node, driver_before,
    driver_after, kernel_driver, restore, listed, actions}``. No step and an unchanged record:
    nothing to do.
    """
    steps = []
    new_recorded = {pci: dict(entry) for pci, entry in recorded.items() if isinstance(entry, dict)}
    work = [(req, True) for req in requests]
    if restore_unlisted:
        work += [(req, False) for req in _unlisted_requests(functions, requests, recorded, modules or {}, io)]
    for req, is_listed in work:
        pci = req["pci"]
        function = functions[pci]
        name, mac = _known_name_mac(pci, function, recorded, nic_map or {})
        actions = _step_actions(function, req, link_down, ip)
        _record(new_recorded, req, function, name, mac)
        steps.append(
            {
                "pci": pci,
                "name": name,
                "mac": mac,
                "numa_node": function["numa_node"],
                "driver_before": function["driver"],
                "driver_after": req["target"],
                "kernel_driver": req["kernel_driver"],
                "restore": req["restore"],
                "listed": is_listed,
                "actions": actions,
            }
        )
    return steps, new_recorded


def changed(steps, recorded, new_recorded):
    return any(step["actions"] for step in steps) or recorded != new_recorded


def diff(steps):
    return {
        "before": {step["pci"]: step["driver_before"] for step in steps},
        "after": {step["pci"]: step["driver_after"] for step in steps},
    }


# ---------------------------------------------------------------------------------------------
# Apply


def _run_action(io, runner, action):
    if action["op"] == "command":
        runner.run(action["cmd"])
    else:
        io.write(action["path"], action["value"])


def _read_driver(io, pci):
    link = io.readlink(f"/sys/bus/pci/devices/{pci}/driver")
    return os.path.basename(link) if link else None


def _bound(step, driver):
    if driver is None:
        return False
    if norm_driver(driver) == norm_driver(step["driver_after"]):
        return True
    return step["restore"] and step["kernel_driver"] is None and driver not in DPDK_DRIVERS


def _rollback(io, runner, step, function, ip):
    """Clear the override and re-probe so that the NIC goes back to its kernel driver; bring its link
    up again when it was up. Best effort: returns the actions that succeeded."""
    pci = step["pci"]
    done = []
    actions = [_write(pci, f"/sys/bus/pci/devices/{pci}/driver_override", "\n", "rollback: clear driver_override")]
    driver = _read_driver(io, pci)
    if driver:
        actions.append(_write(pci, f"/sys/bus/pci/drivers/{driver}/unbind", pci, f"rollback: unbind from {driver}"))
    actions.append(_write(pci, "/sys/bus/pci/drivers_probe", pci, "rollback: probe the kernel driver"))
    for action in actions:
        try:
            _run_action(io, runner, action)
            done.append(action)
        except Exception:  # rollback goes on; the caller reports the first failure
            continue
    name = pci_netdevs(io).get(pci)
    if function["up"] and name:
        action = {
            "pci": pci,
            "op": "command",
            "cmd": [ip, "link", "set", "dev", name, "up"],
            "why": "rollback: link up",
        }
        try:
            _run_action(io, runner, action)
            done.append(action)
        except Exception:  # best effort, as above
            pass
    return done


def apply_steps(io, runner, functions, steps, ip="ip"):
    """Run every step's actions in order; read each NIC's driver back.

    Returns the actions applied. On a failure: rolls the failing NIC back (kernel driver) and
    raises :class:`BindError` with every action applied (earlier NICs stay bound).
    """
    applied = []
    for step in steps:
        if not step["actions"]:
            continue
        error = None
        for action in step["actions"]:
            try:
                _run_action(io, runner, action)
            except Exception as exc:  # CommandError, OSError from sysfs: both roll back
                error = "{} failed: {}".format(
                    " ".join(action["cmd"])
                    if action["op"] == "command"
                    else f"write {action['value']!r} to {action['path']}",
                    getattr(exc, "msg", None) or exc,
                )
                break
            applied.append(action)
        if error is None:
            driver = _read_driver(io, step["pci"])
            if _bound(step, driver):
                step["driver_after"] = driver
                continue
            error = (
                f"read back {driver or 'no driver'} where {step['driver_after']} was asked for (the driver refused it)"
            )
        rolled = _rollback(io, runner, step, functions[step["pci"]], ip)
        applied.extend(rolled)
        now = _read_driver(io, step["pci"])
        raise BindError(
            f"{step['pci']}: binding to {step['driver_after']} failed: {error}; rolled back, "
            f"it is on {now or 'no driver'} now",
            applied,
        )
    return applied


# ---------------------------------------------------------------------------------------------
# The whole run, shared by the module and the boot-time applier


def result_devices(steps, io=None):
    devices = []
    for step in steps:
        after = _read_driver(io, step["pci"]) if io is not None and step["actions"] else step["driver_after"]
        devices.append(
            {
                "pci": step["pci"],
                "name": step["name"],
                "mac": step["mac"],
                "numa_node": step["numa_node"],
                "driver_before": step["driver_before"],
                "driver_after": after,
                "listed": step["listed"],
            }
        )
    return devices


def public_actions(steps):
    return [action for step in steps for action in step["actions"]]


class BindingTable(core.Table):
    """The PCI network functions' drivers and the state file, for the converge core.

    ``read``: the state file, the NIC map and the functions in sysfs. ``plan``: validates the
    requested devices against them (:func:`resolve`, :class:`InputError` before any change) and
    plans per-NIC steps (:func:`plan_steps`); the plan's actions are the steps' actions, then
    the state file's write when anything changes (the record alone may). ``apply``: the steps
    (:func:`apply_steps`: each NIC's driver is read back there, and a NIC that did not bind is
    rolled back before :class:`BindError`), then the record of what is bound. The state after
    is ``devices`` (read again from sysfs after a real run); ``commands`` are the commands
    (``argv`` lists) among the actions.
    """

    def __init__(
        self,
        io,
        runner,
        devices,
        state_file,
        nic_map_file=None,
        force=False,
        restore_unlisted=False,
        link_down=True,
        protected=None,
        modules=None,
        ip="ip",
    ):
        self.io = io
        self.runner = runner
        self.devices = devices
        self.state_file = state_file
        self.nic_map_file = nic_map_file
        self.force = force
        self.restore_unlisted = restore_unlisted
        self.link_down = link_down
        self.protected = protected
        self.modules = modules
        self.ip = ip

    def read(self):
        recorded = state_devices(read_json(self.state_file, "state_file"))
        nic_map_data = read_json(self.nic_map_file, "nic_map") if self.nic_map_file else {}
        nic_map = nic_map_data.get("nics") if isinstance(nic_map_data.get("nics"), dict) else {}
        return {"recorded": recorded, "nic_map": nic_map, "functions": read_functions(self.io)}

    def plan(self, live):
        functions, recorded, nic_map = live["functions"], live["recorded"], live["nic_map"]
        requests = resolve(
            self.devices, functions, self.io, recorded, nic_map, self.protected, self.modules, self.force
        )
        steps, new_recorded = plan_steps(
            functions,
            requests,
            recorded,
            self.link_down,
            self.restore_unlisted,
            self.ip,
            self.modules,
            self.io,
            nic_map,
        )
        public = public_actions(steps)
        actions = [
            Action(
                a["cmd"] if a["op"] == "command" else [],
                a["why"],
                tool="ip" if a["op"] == "command" else "sysfs",
                op=a["op"],
                data=a,
            )
            for a in public
        ]
        if changed(steps, recorded, new_recorded):
            actions.append(Action([], f"record the bindings in {self.state_file}", tool="state_file", op="write"))
        return Plan(
            actions,
            expected=new_recorded,
            steps=steps,
            recorded=recorded,
            functions=functions,
            public=public,
            # before the run: apply sets each step's driver_after to the driver read back
            diff=diff([step for step in steps if step["actions"]]),
        )

    def planned(self, plan):
        return [action.argv for action in plan if action.op == "command"]

    def apply(self, plan):
        steps, recorded, new_recorded = plan.facts["steps"], plan.facts["recorded"], plan.expected
        try:
            apply_steps(self.io, self.runner, plan.facts["functions"], steps, self.ip)
        except BindError as exc:
            # the record: what is bound now (the NICs before the failure), the old entry of the failed one
            failed = set()
            for step in steps:
                if not step["actions"]:
                    continue
                now = _read_driver(self.io, step["pci"])
                if not _bound(step, now):
                    failed.add(step["pci"])
            partial = {pci: entry for pci, entry in recorded.items() if pci in failed}
            partial.update({pci: entry for pci, entry in new_recorded.items() if pci not in failed})
            write_state(self.state_file, partial)
            exc.devices = result_devices(steps, self.io)
            raise
        write_state(self.state_file, new_recorded)
        return self.planned(plan)

    def predict(self, live, plan):
        return result_devices(plan.facts["steps"])

    def read_back(self, plan):
        return result_devices(plan.facts["steps"], self.io)

    def verify(self, plan, after):
        # each NIC's driver was read back by apply_steps, which rolls back and raises on a mismatch
        return []

    def report(self, after, plan):
        return {"actions": plan.facts["public"], "diff": plan.facts["diff"], "state": plan.expected, "devices": after}


def run(io, runner, devices, state_file, nic_map_file=None, check_mode=False, **options):
    """Validate, plan, apply unless ``check_mode``, record. Returns a result dict: ``changed``,
    ``actions``, ``commands``, ``diff`` (always: the caller drops it unless asked), ``state``,
    ``devices``. ``options``: the rest of :class:`BindingTable`'s (``force``, ``restore_unlisted``,
    ``link_down``, ``protected``, ``modules``, ``ip``).

    Raises :class:`InputError` (nothing changed) or :class:`BindError` (``applied`` set; the state
    file records what was bound before the failure).
    """
    table = BindingTable(io, runner, devices, state_file, nic_map_file, **options)
    return core.converge(table, check_mode)


# ---------------------------------------------------------------------------------------------
# Boot-time applier (dpvs-devbind.service): the same resolve/plan/apply on the recorded bindings


def boot_devices(io, recorded, runner=None):
    """The device list the boot applier asks for: every recorded binding whose NIC is still the one
    recorded (same vendor/device, and same MAC when it has a netdev). Loads missing drivers with
    modprobe when a runner is given. Returns ``(devices, skipped_messages)``."""
    functions = read_functions(io)
    devices, skipped = [], []
    for pci, entry in sorted(recorded.items()):
        if not isinstance(entry, dict) or not entry.get("driver"):
            continue
        function = functions.get(pci)
        if function is None:
            skipped.append(f"{pci}: no such PCI network function any more; left alone")
            continue
        if entry.get("vendor_id") and (function["vendor_id"], function["device_id"]) != (
            entry.get("vendor_id"),
            entry.get("device_id"),
        ):
            skipped.append(
                f"{pci}: a different device now ({function['vendor_id']}:{function['device_id']}); left alone"
            )
            continue
        if function["mac"] and entry.get("mac") and function["mac"] != entry["mac"].lower():
            skipped.append(f"{pci}: MAC {function['mac']} is not the recorded {entry['mac']}; left alone")
            continue
        if runner is not None and driver_dir(io, entry["driver"]) is None:
            runner.run(["modprobe", entry["driver"]], check_rc=False)
        devices.append({"pci": pci, "driver": entry["driver"]})
    return devices, skipped


def boot_main(argv=None, io=None, runner=None, out=None):
    """Entry point of ``dpvs-devbind``: re-apply the state file's bindings. Exit status 0/1."""
    parser = argparse.ArgumentParser(prog="dpvs-devbind", description="Re-apply the recorded DPDK NIC bindings.")
    parser.add_argument("--state-file", default=DEFAULT_STATE_FILE)
    parser.add_argument("--root", default="/", help="sysfs root (tests)")
    parser.add_argument("--check", action="store_true", help="print the plan, change nothing")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    io = io or SysfsIO(args.root)
    runner = runner or Runner(subprocess_run_command)
    try:
        recorded = state_devices(read_json(args.state_file, "state_file"))
        devices, skipped = boot_devices(io, recorded, None if args.check else runner)
        for line in skipped:
            out.write(f"dpvs-devbind: {line}\n")
        # force: the management NIC was refused when the binding was recorded; at boot there is
        # no Ansible connection to protect and the default route may not be up yet.
        result = run(io, runner, devices, args.state_file, None, force=True, link_down=True, check_mode=args.check)
    except errors.FAMILY as exc:  # bad record (InputError), a bind that failed (BindError)
        out.write(f"dpvs-devbind: {errors.report(exc)['msg']}\n")
        return 1
    for action in result["actions"]:
        what = " ".join(action["cmd"]) if action["op"] == "command" else f"{action['path']} <- {action['value']!r}"
        out.write(f"dpvs-devbind: {action['pci']}: {what}\n")
    summary = "changed" if result["changed"] else "all already bound"
    out.write(f"dpvs-devbind: {len(devices)} NIC(s) recorded, {summary}\n")
    return 0
