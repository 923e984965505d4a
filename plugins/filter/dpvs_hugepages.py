# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_hugepages
short_description: The hugepage memory DPVS needs per NUMA node, and how it compares with the host's
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - A model of DPVS v1.10.2 on DPDK 24.11, checked against a measured DPVS. From a dpvs.conf (or its model) it
    adds up, per NUMA node, every pool and table DPVS allocates at start (on every node the packet, connection,
    synproxy ACK, ipset and tc pools; on the master's node the message pools and global tables; per lcore the
    reassembly, timer, connection and list tables; per port the DMA rings), laid out as DPDK does (object
    padding, per-lcore mempool caches, rings, whole pages per large allocation), then what local addresses
    (sa_pool) and services add, plus a margin. C(docs/dpvs_conf.md) gives the table and where each term comes
    from.
  - P(dpvs.cluster.dpvs_conf#filter) returns the same estimate, counted from the model, for the file it
    generates; this filter is for a dpvs.conf text from elsewhere, or a model.
options:
  _input:
    description:
      - The dpvs.conf text (parsed), or the result of P(dpvs.cluster.dpvs_conf_model#filter) (counted
        from the model, as P(dpvs.cluster.dpvs_conf#filter) does).
    type: raw
    required: true
  layout:
    description: The result of P(dpvs.cluster.dpvs_layout#filter) for the host (lcore and port NUMA nodes).
    type: dict
    required: true
  lip_count:
    description: The number of FullNAT local addresses (each gets sa_pool arrays on every worker).
    type: int
    default: 0
  service_count:
    description: The number of virtual services (each takes heap memory on every lcore).
    type: int
    default: 0
  host:
    description:
      - The facts of M(dpvs.cluster.host_info) through the P(dpvs.cluster.dpvs_host_view#filter) filter;
        when given, C(nodes) compares need and hugepages.
    type: dict
  margin:
    description: Relative margin added to the sum.
    type: float
    default: 0.1
"""

EXAMPLES = r"""
- name: Need per node
  ansible.builtin.debug:
    msg: "{{ (conf_text | dpvs.cluster.dpvs_hugepages(layout, lip_count=2)).per_node_mib }}"
"""

RETURN = r"""
_value:
  description:
    - C(per_node) (bytes), C(per_node_mib), C(terms) (node, what, bytes), C(lip_count), C(service_count),
      C(margin), C(estimate) (true) and, with C(host), C(nodes) (per node C(need_mib), C(need_pages_2m),
      C(free_mib), C(reserved_mib), C(fits_free), C(fits_reserved)).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.conf import ConfError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.memory import compare, estimate, estimate_model


def dpvs_hugepages(conf, layout, lip_count=0, host=None, margin=0.1, service_count=0):
    counts = {"lip_count": int(lip_count), "margin": float(margin), "service_count": int(service_count)}
    try:
        if isinstance(conf, dict):
            need = estimate_model(conf, layout, **counts)
        else:
            need = estimate(str(conf), layout, **counts)
    except ConfError as err:
        raise AnsibleFilterError(f"dpvs_hugepages: the dpvs.conf does not parse: {err}") from None
    if host is not None:
        need["nodes"] = compare(need, host)
    return need


class FilterModule:
    def filters(self):
        return {"dpvs_hugepages": plain_args(dpvs_hugepages)}
