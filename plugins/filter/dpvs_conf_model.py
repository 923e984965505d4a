# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_conf_model
short_description: The values of a generated dpvs.conf (defaults, overrides, derived)
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Merges the overrides (the C(dpvs) role's C(dpvs_conf), nested like dpvs.conf) over the defaults, checks
    every keyword, type and range against DPVS's C(conf/dpvs.conf.items), derives C(sa_pool flow_enable)
    (off when a port lacks rte_flow) and C(ipvs_defs conn redirect) (on when flow is off and there are
    several workers), and adds the devices and workers of the layout.
  - The result is what P(dpvs.cluster.dpvs_conf#filter) writes dpvs.conf from (its C(model));
    C(docs/dpvs_conf.md) lists every keyword.
options:
  _input:
    description: The result of P(dpvs.cluster.dpvs_layout#filter).
    type: dict
    required: true
  overrides:
    description: "dpvs.conf values to change, for example C({ipvs_defs: {conn: {conn_pool_size: 65536}}})."
    type: dict
  version:
    description: The DPVS version the file is for (1.9.4 to 1.10.x).
    type: str
    default: 1.10.2
"""

EXAMPLES = r"""
- name: Model of dpvs.conf
  ansible.builtin.set_fact:
    model: "{{ layout | dpvs.cluster.dpvs_conf_model({'global_defs': {'kni': false}}, '1.10.2') }}"
"""

RETURN = r"""
_value:
  description: C(version), C(sections) (every dpvs.conf section), C(devices), C(workers) and C(notes) (derived values).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.model import conf_model


def dpvs_conf_model(layout, overrides=None, version="1.10.2"):
    try:
        return conf_model(layout, overrides, str(version))
    except InputError as err:
        raise AnsibleFilterError(f"dpvs_conf_model: {err}") from None


class FilterModule:
    def filters(self):
        return {"dpvs_conf_model": plain_args(dpvs_conf_model)}
