# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_conf_changes
short_description: Classify a dpvs.conf change into restart (init) and reload (normal) changes
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Compares two dpvs.conf texts keyword by keyword (comments and layout ignored).
  - A changed keyword that is init-only in DPVS (C(KW_TYPE_INIT), marked C(<init>) in C(conf/dpvs.conf.items)),
    or sits in an init-only block (devices, workers, C(fragment)), takes effect only after a restart; the others
    are re-read on SIGHUP.
options:
  _input:
    description: The new dpvs.conf text.
    type: str
    required: true
  old:
    description: The current dpvs.conf text (empty when there is none).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: What the new file needs
  ansible.builtin.set_fact:
    change: "{{ new_text | dpvs.cluster.dpvs_conf_changes(old_text) }}"
  # change.init: ['netif_defs/pktpool_size: 65535 -> 131071'], change.normal: [], change.new: false
"""

RETURN = r"""
_value:
  description:
    - C(init) (changes that need a restart), C(normal) (changes a SIGHUP applies), each a list of
      strings like C(path - old -> new), and C(new) (true when there was no old file).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.conf import ConfError, classify_changes


def dpvs_conf_changes(new, old):
    try:
        return classify_changes(str(old or ""), str(new))
    except ConfError as err:
        raise AnsibleFilterError(f"dpvs_conf_changes: the new dpvs.conf does not parse: {err}") from None


class FilterModule:
    def filters(self):
        return {"dpvs_conf_changes": plain_args(dpvs_conf_changes)}
