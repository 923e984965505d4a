# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: preflight_nic_map
short_description: The NIC map (/etc/dpvs-cluster/nics.json) with the NICs that have an interface now
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Takes the result of M(dpvs.cluster.host_info) and returns the NIC map, C(version) 1 and C(nics) (PCI
    address to C(name), C(mac), C(numa_node), C(kernel_driver), C(vendor_id), C(device_id)) - the map
    host_info read, with an entry (re)written
    for every PCI NIC that has a kernel interface now. Entries of NICs without one (bound to a DPDK driver,
    or gone) are kept, so their names, MACs and kernel drivers survive the binding.
  - The MAC recorded is the permanent one when the kernel knows it.
options:
  _input:
    description:
      - The registered result of M(dpvs.cluster.host_info).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Record the NICs
  ansible.builtin.copy:
    content: "{{ host | dpvs.cluster.preflight_nic_map | ansible.builtin.to_nice_json }}\n"
    dest: /etc/dpvs-cluster/nics.json
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The NIC map, C(version) 1 and C(nics) by PCI address, sorted.
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.host.preflight import nic_map


def preflight_nic_map(host):
    try:
        return nic_map(host)
    except InputError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    def filters(self):
        return {"preflight_nic_map": plain_args(preflight_nic_map)}
