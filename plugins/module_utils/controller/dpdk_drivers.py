# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DPDK drivers a targeted build enables: the dpdk role's ``-Denable_drivers``.

Pure Python, no Ansible: the ``dpvs.cluster.dpdk_driver_list`` filter calls it with the role's
``dpdk_drivers``, ``dpdk_drivers_base`` and ``dpdk_driver_deps``. A need is followed transitively
(a need of a need is enabled too); the result is sorted, each driver once, so that an unchanged
set of drivers keeps the build's identity (prefix name, stamp).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

DRIVER_RE = re.compile(r"^[a-z]+/[a-z0-9_]+$")


def _names(value, where):
    """``value`` as a list of driver names, or a ValueError naming ``where``."""
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{where}: expected a list of DPDK drivers (class/name), got {value!r}")
    bad = [name for name in value if not isinstance(name, str) or not DRIVER_RE.match(name)]
    if bad:
        raise ValueError(f"{where}: {bad!r} is not a DPDK driver name (class/name, e.g. net/e1000)")
    return list(value)


def resolve(drivers, base=None, deps=None):
    """``drivers`` + ``base`` + everything ``deps`` (driver -> drivers it needs) says they need."""
    deps = {} if deps is None else deps
    if not isinstance(deps, dict):
        raise ValueError(f"dpdk_driver_deps: expected a map of driver to list of drivers, got {deps!r}")
    needs = {key: _names(value, f"dpdk_driver_deps: {key}") for key, value in deps.items()}
    _names(list(needs), "dpdk_driver_deps")
    todo = _names(drivers, "dpdk_drivers") + _names(base or [], "dpdk_drivers_base")
    enabled = set()
    while todo:
        name = todo.pop()
        if name not in enabled:
            enabled.add(name)
            todo.extend(needs.get(name, []))
    return sorted(enabled)
