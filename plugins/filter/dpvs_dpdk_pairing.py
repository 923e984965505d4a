# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_dpdk_pairing
short_description: Whether a DPVS release runs on a DPDK release, and the patch sets the pair needs
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Looks the pair up in the collection's DPVS/DPDK pairing table (C(plugins/module_utils/dpvs_conf/pairing.py);
    C(docs/dpdk.md), "Which DPDK for which DPVS", gives it as prose with the source of every entry).
  - For a known pair it returns the folder of DPVS's source tree holding DPVS's patches for DPDK (e.g.
    C(patch/dpdk-24.11)) and the collection's own patches for DPVS (file names in
    C(roles/dpvs/files/patches/<dpvs_version>/), in the order they apply).
  - For an unknown pair C(known) is false and C(message) names both versions, the DPDK versions known for that
    DPVS version (or the DPVS versions known) and the variable that allows the pair anyway.
  - DPDK versions are compared as dotted numbers (C(24.11) is C(24.11.0)); a version that is not two to four
    dotted numbers (with an optional leading C(v)) is an error.
options:
  _input:
    description: The DPVS version, e.g. C(1.10.2).
    type: str
    required: true
  dpdk_version:
    description: The DPDK version, e.g. C(24.11.4).
    type: str
    required: true
  override_var:
    description: The variable the message of an unknown pair names as the override.
    type: str
    default: dpdk_unpaired_ok
"""

EXAMPLES = r"""
- name: Refuse a pair the table does not know
  ansible.builtin.assert:
    that: (dpvs_version | dpvs.cluster.dpvs_dpdk_pairing(dpdk_version)).known or dpdk_unpaired_ok
    fail_msg: "{{ (dpvs_version | dpvs.cluster.dpvs_dpdk_pairing(dpdk_version)).message }}"

- name: The DPVS patches of the pair
  ansible.builtin.debug:
    msg: "{{ ('1.10.2' | dpvs.cluster.dpvs_dpdk_pairing('24.11.4')).dpvs_patches }}"
"""

RETURN = r"""
_value:
  description:
    - C(known) (bool), C(dpvs_version), C(dpdk_version), C(dpdk_patches_dir) (folder of DPVS's source tree, C("")
      when unknown), C(dpvs_patches) (list of file names, in order), C(note) (where the entry comes from) and
      C(message) (one line; for an unknown pair what is known and the override).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.pairing import OVERRIDE_VAR, pair


def dpvs_dpdk_pairing(dpvs_version, dpdk_version, override_var=OVERRIDE_VAR):
    try:
        return pair(dpvs_version, dpdk_version, override_var=str(override_var))
    except ValueError as err:
        raise AnsibleFilterError(f"dpvs_dpdk_pairing: {err}") from None


class FilterModule:
    def filters(self):
        return {"dpvs_dpdk_pairing": plain_args(dpvs_dpdk_pairing)}
