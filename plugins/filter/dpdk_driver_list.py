# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpdk_driver_list
short_description: The DPDK drivers a targeted build enables (meson's enable_drivers)
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - The requested drivers, the base drivers and, transitively, every driver the C(deps) map says one of them
    needs (a need of a need is enabled too), without duplicates and sorted.
  - The C(dpdk) role builds its C(-Denable_drivers) from it. DPDK's meson refuses to configure a requested
    driver whose internal dependency is not enabled (C(Cannot build explicitly requested driver)), and
    C(net/ixgbe) of DPDK 24.11.3 does not configure without a driver before it in meson's order that sets the
    variable C(c_args) (C(net/e1000)); C(docs/dpdk.md) explains both.
  - A C(deps) that is not a map of driver to list of drivers, or a name that is not C(class/name), is an error
    naming C(dpdk_driver_deps) and the value.
options:
  _input:
    description: The drivers of the NICs (the role's C(dpdk_drivers)), meson names such as C(net/ixgbe).
    type: list
    elements: str
    required: true
  base:
    description: Drivers enabled whatever the NICs (the role's C(dpdk_drivers_base)).
    type: list
    elements: str
    default: []
  deps:
    description: Drivers another driver needs, e.g. C({net/ixgbe [net/e1000]}) (the role's C(dpdk_driver_deps)).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: The enable_drivers of the build
  ansible.builtin.set_fact:
    drivers: "{{ dpdk_drivers | dpvs.cluster.dpdk_driver_list(dpdk_drivers_base, dpdk_driver_deps) }}"

- name: net/ixgbe alone
  ansible.builtin.debug:
    # [bus/pci, net/e1000, net/ixgbe]
    msg: "{{ ['net/ixgbe'] | dpvs.cluster.dpdk_driver_list(['bus/pci'], {'net/ixgbe': ['net/e1000']}) }}"
"""

RETURN = r"""
_value:
  description: The drivers to enable, sorted, each once.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.dpdk_drivers import resolve
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args


def dpdk_driver_list(drivers, base=None, deps=None):
    try:
        return resolve(drivers, base, deps)
    except ValueError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    def filters(self):
        return {"dpdk_driver_list": plain_args(dpdk_driver_list)}
