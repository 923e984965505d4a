# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_host_view
short_description: The facts of host_info in the shape the dpvs_layout and dpvs_hugepages filters take
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Turns the result of M(dpvs.cluster.host_info) into C(numa_nodes) (per node its cpus and hugepages
    by size C(SIZEkB) with C(nr) and C(free)), C(isolated_cpus), C(pci_devices) (per given PCI address C(present),
    C(numa_node), C(kernel_driver), C(vendor), C(device)), C(vhost_net), C(dpvs_running) and C(dpvs_pid).
  - C(kernel_driver) is the NIC's kernel driver even while it is bound to a DPDK driver (from the NIC map),
    else the driver bound now.
  - A kernel without NUMA is one node 0 with the online cpus and the host's hugepages.
options:
  _input:
    description:
      - The registered result of M(dpvs.cluster.host_info).
    type: dict
    required: true
  pci:
    description:
      - The PCI addresses to describe in C(pci_devices); addresses the host lacks get C(present=false).
    type: list
    elements: str
    default: []
  planned_pages:
    description:
      - The C(pages) result of M(dpvs.cluster.hugepages) in check mode; each per-node pool then has the count
        the real run will set (C(nr) = C(after), C(free) moved by C(after - before)), so that a check run on a host
        whose hugepages are not reserved yet predicts what the real run meets.
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Read the host
  dpvs.cluster.host_info:
  register: host

- name: The layout of this host
  ansible.builtin.set_fact:
    layout: "{{ dpvs_nics | dpvs.cluster.dpvs_layout(host | dpvs.cluster.dpvs_host_view(['0000:01:00.0'])) }}"
"""

RETURN = r"""
_value:
  description: C(numa_nodes), C(isolated_cpus), C(pci_devices), C(vhost_net), C(dpvs_running), C(dpvs_pid).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.host import dpvs_view, with_planned_pages


def dpvs_host_view(facts, pci=None, planned_pages=None):
    try:
        view = dpvs_view(facts, [str(address) for address in pci or []])
        return with_planned_pages(view, planned_pages) if planned_pages else view
    except (ValueError, KeyError) as err:
        raise AnsibleFilterError(f"dpvs_host_view: {err}") from None


class FilterModule:
    def filters(self):
        return {"dpvs_host_view": plain_args(dpvs_host_view)}
