# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: preflight_report
short_description: Judge a host's facts against what the other roles will ask of it
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Takes the facts of M(dpvs.cluster.host_info), what the host preparation roles will request
    (NICs to bind, hugepages per NUMA node, kernel modules to load and to build) and a policy per check
    (V(fail), V(warn) or V(ignore)), and returns one report with a status per check.
  - Checks and their default policies are in C(docs/preflight.md); C(devices) and C(management_nic) always fail.
  - Pure; the P(dpvs.cluster.preflight#role) role prints the report and fails once with every failed check.
  - P(dpvs.cluster.preflight_nic_map#filter) makes the NIC map the role records.
options:
  _input:
    description:
      - The registered result of M(dpvs.cluster.host_info).
    type: dict
    required: true
  requests:
    description:
      - C(devices) (list of C({pci|mac|name, driver})), C(hugepages) (list of C({size 2M|1G, node, count})),
        C(kmods) (modules to load), C(kmods_build) (modules to build, e.g. igb_uio, toa), C(vfio_noiommu) (bool),
        C(numa_nodes_expected) (int or null), C(hugepages_max_share) (share of a node's memory hugepages may take),
        C(capacity) (for the C(capacity) check, C(target) (C({pps, new_conns_per_s, packet_bytes}) or null),
        C(path) (V(dpvs) or V(kernel)), C(workers) (a number or V(auto)),
        C(nic_speed_mbps) (null reads it from the facts), C(dpvs_pps_per_worker), C(dpvs_conns_per_worker),
        C(kernel_pps_per_cpu), C(kernel_conns_per_cpu)).
    type: dict
    required: true
  policy:
    description:
      - Check name to V(fail), V(warn) or V(ignore); checks not named keep their defaults.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Judge the host
  ansible.builtin.set_fact:
    preflight_report: >-
      {{ host | dpvs.cluster.preflight_report({'devices': [{'pci': '0000:11:00.0', 'driver': 'vfio-pci'}]},
                                              {'hyperthreading': 'ignore'}) }}
"""

RETURN = r"""
_value:
  description:
    - C(checks) (list of C({check, status, policy, detail}), status V(pass), V(warn), V(fail) or V(ignored)),
      C(failed) and C(warned) (the check names), C(table) (the checks as aligned text lines).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.host.preflight import evaluate


def preflight_report(host, requests, policy=None):
    try:
        return evaluate(host, requests, policy)
    except InputError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    def filters(self):
        return {"preflight_report": plain_args(preflight_report)}
