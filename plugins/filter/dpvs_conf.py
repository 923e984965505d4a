# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_conf
short_description: dpvs.conf of a host in one step (layout, model, text, hugepage need, change class)
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Goes forward once from the NICs and the host facts to the file. The worker layout (as
    P(dpvs.cluster.dpvs_layout#filter)), the dpvs.conf model (as P(dpvs.cluster.dpvs_conf_model#filter)),
    the dpvs.conf text written from the model, the hugepage need per NUMA node counted from the model
    (the estimate of P(dpvs.cluster.dpvs_hugepages#filter)) and compared with the host's hugepages, and the
    class of the change from the file in place (as P(dpvs.cluster.dpvs_conf_changes#filter)).
  - This is what the C(dpvs) role calls; nothing is parsed back from the text. C(docs/dpvs_conf.md) gives
    the rules, the keywords and the estimate.
  - Fails with the variable path and value for NICs, layouts or dpvs.conf values DPVS cannot run.
options:
  _input:
    description: The NICs (the C(dpvs) role's C(dpvs_nics)); see P(dpvs.cluster.dpvs_layout#filter).
    type: list
    elements: dict
    required: true
  host:
    description:
      - The host facts of M(dpvs.cluster.host_info) through the P(dpvs.cluster.dpvs_host_view#filter) filter
        (C(numa_nodes) with cpus and hugepages, C(isolated_cpus), C(pci_devices)).
    type: dict
    required: true
  workers:
    description: Number of slave workers, or V(auto).
    type: raw
    default: auto
  workers_per_node:
    description: Worker count per NUMA node, instead of the proportional split.
    type: dict
  master_cpu:
    description: Physical cpu of the master lcore.
    type: int
  reserved_cpus:
    description: Cpus DPVS must not use.
    type: list
    elements: int
  icmp_redirect_worker:
    description: The DPVS cpu_id (1..workers) of the worker that gets C(icmp_redirect_core).
    type: int
  eal_extra_args:
    description: More EAL arguments, appended after the generated ones.
    type: list
    elements: str
  overrides:
    description: "dpvs.conf values to change (the role's C(dpvs_conf)), for example C({global_defs: {kni: false}})."
    type: dict
  version:
    description: The DPVS version the file is for (1.9.4 to 1.10.x).
    type: str
    default: 1.10.2
  current:
    description: The dpvs.conf in place (empty or V(null) when there is none); only for C(change).
    type: str
  lip_count:
    description: The number of FullNAT local addresses (each gets sa_pool arrays on every worker).
    type: int
    default: 0
  service_count:
    description: The number of virtual services (each takes heap memory on every lcore).
    type: int
    default: 0
  margin:
    description: Relative margin added to the hugepage need.
    type: float
    default: 0.1
"""

EXAMPLES = r"""
- name: The dpvs.conf of this host
  ansible.builtin.set_fact:
    conf: >-
      {{ dpvs_nics | dpvs.cluster.dpvs_conf(host_facts, workers=4, overrides={'global_defs': {'kni': false}},
         version='1.10.2', current=old_text, lip_count=2) }}
  # conf.text: the file without its ansible_managed header; conf.change.init: changes that need a restart;
  # conf.hugepages.nodes: [{'node': 0, 'need_mib': 2650, 'free_mib': 4096, 'fits_free': true, ...}]
"""

RETURN = r"""
_value:
  description:
    - C(layout) (as P(dpvs.cluster.dpvs_layout#filter) returns it), C(model) (as
      P(dpvs.cluster.dpvs_conf_model#filter)), C(text) (the dpvs.conf body; the role's template puts the
      C(ansible_managed) comment lines before it), C(hugepages) (as P(dpvs.cluster.dpvs_hugepages#filter)
      with C(host), so C(per_node), C(per_node_mib), C(terms), C(nodes), ...), C(change) (C(init), C(normal),
      C(new), as P(dpvs.cluster.dpvs_conf_changes#filter)), C(warnings) (the layout's) and C(notes) (values
      the model derived).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.build import build

LAYOUT_OPTIONS = (
    "workers",
    "workers_per_node",
    "master_cpu",
    "reserved_cpus",
    "icmp_redirect_worker",
    "eal_extra_args",
)


def dpvs_conf(
    nics,
    host,
    overrides=None,
    version="1.10.2",
    current=None,
    lip_count=0,
    margin=0.1,
    service_count=0,
    **layout_options,
):
    unknown = sorted(set(layout_options) - set(LAYOUT_OPTIONS))
    if unknown:
        raise AnsibleFilterError("dpvs_conf: unknown option(s) {}".format(", ".join(unknown)))
    try:
        return build(
            nics,
            host,
            layout_options=layout_options,
            overrides=overrides,
            version=str(version),
            current_text=str(current or ""),
            lip_count=int(lip_count),
            margin=float(margin),
            service_count=int(service_count),
        )
    except InputError as err:
        raise AnsibleFilterError(f"dpvs_conf: {err}") from None


class FilterModule:
    def filters(self):
        return {"dpvs_conf": plain_args(dpvs_conf)}
