# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_layout
short_description: Lay out DPVS ports, master, workers, queues and EAL options from NUMA facts and NICs
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Orders the NICs by PCI address and names them C(dpdk0), C(dpdk1), ... in that order (DPDK numbers PCI
    ports in address order, and the N-th C(device) of dpvs.conf names port N); the EAL allow-list
    (C(-a)) lists them in the same order. vdevs keep the inventory order (C(--no-pci --vdev ...)).
  - Keeps one master lcore apart (DPVS cpu_id 0, a housekeeping core on port 0's NUMA node), places the
    slave workers on the NUMA nodes of the NICs (in proportion to the NICs per node, isolated cores
    first), and maps queues 1:1 (worker N owns rx/tx queue N-1 of every port; ids start at 0 and are
    contiguous).
  - Fails with the variable path and value for layouts DPVS cannot run (more workers than cores on a
    node, more queues than a NIC has, a NIC on NUMA node -1 of a multi-node host, a duplicate PCI
    address, a NIC name out of PCI order, ...).
  - The rules and their sources are in C(docs/dpvs_conf.md) of the collection.
options:
  _input:
    description:
      - The NICs (the C(dpvs) role's C(dpvs_nics)), each with C(pci) or C(vdev), optional C(name),
        C(numa_node), C(driver), C(rte_flow), C(max_rx_queues), C(max_tx_queues), C(rx_descriptors),
        C(tx_descriptors), C(rss), C(mtu), C(promisc), C(allmulticast), C(kni_name), C(mbuf_fast_free), C(role).
    type: list
    elements: dict
    required: true
  host:
    description:
      - The host facts of M(dpvs.cluster.host_info) through the P(dpvs.cluster.dpvs_host_view#filter) filter
        (C(numa_nodes), C(isolated_cpus), C(pci_devices)).
    type: dict
    required: true
  workers:
    description:
      - Number of slave workers, or V(auto) (at most 8, the smallest NIC queue limit and the free cores of
        the NICs' nodes).
    type: raw
    default: auto
  workers_per_node:
    description:
      - Worker count per NUMA node, instead of the proportional split.
    type: dict
  master_cpu:
    description:
      - Physical cpu of the master lcore.
    type: int
  reserved_cpus:
    description:
      - Cpus DPVS must not use.
    type: list
    elements: int
  icmp_redirect_worker:
    description:
      - The DPVS cpu_id (1..workers) of the worker that gets C(icmp_redirect_core).
    type: int
  eal_extra_args:
    description:
      - More EAL arguments, appended after the generated ones (one argument per item).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: The layout of this host
  ansible.builtin.set_fact:
    layout: "{{ dpvs_nics | dpvs.cluster.dpvs_layout(host_facts, workers=4) }}"
  # layout.eal_args: ['--lcores', '0@0,1@2,2@4,3@6,4@8', '-a', '0000:01:00.0', '-a', '0000:01:00.1']
"""

RETURN = r"""
_value:
  description:
    - C(ports) (normalised NICs with C(name), C(port_id), C(numa_node), C(rx_queues), C(tx_queues), ...),
      C(lcores) (master first; each with C(cpu_id), C(name), C(type), C(core), C(numa_node),
      C(icmp_redirect_core) and C(ports) with C(rx_queue_ids)/C(tx_queue_ids)), C(master), C(workers),
      C(worker_count), C(workers_per_node), C(numa_nodes), C(max_socket) (CONFIG_DPVS_MAX_SOCKET),
      C(lcores_arg), C(allow_list), C(eal_args), C(rte_flow) (every port supports DPVS's flow rules) and
      C(warnings).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.layout import layout


def dpvs_layout(nics, host, *args, **kwargs):
    """The layout of module_utils.dpvs_conf.layout (same arguments), with filter errors."""
    try:
        return layout(nics, host, *args, **kwargs)
    except InputError as err:
        raise AnsibleFilterError(f"dpvs_layout: {err}") from None


class FilterModule:
    def filters(self):
        return {"dpvs_layout": plain_args(dpvs_layout)}
