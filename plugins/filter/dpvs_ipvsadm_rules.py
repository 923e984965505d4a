# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_ipvsadm_rules
short_description: DPVS services as C(ipvsadm -R) input, local addresses included
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Validates the services the way M(dpvs.cluster.ipvsadm) does (DPVS flavour) and renders the lines that rebuild
    them on an empty DPVS through one C(ipvsadm -R) process, with the functions the module itself uses.
  - C(-A) lines carry every DPVS option, C(-a) lines always an explicit port, and local addresses are
    C(--add-laddr -z LIP -t VIP:PORT -F DEV) lines (C(ipvsadm -S) would lose them; C(-R) accepts them).
  - No comment lines (C(-R) parses every line as a command).
options:
  _input:
    description:
      - The services, as the ipvsadm module's C(services) option.
      - Or the same list as JSON text (C(to_json)), which the dpvs_services role hands from task to task.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Persist the services
  ansible.builtin.copy:
    content: "{{ dpvs_services_services | dpvs.cluster.dpvs_ipvsadm_rules }}"
    dest: /etc/dpvs/state/ipvsadm.rules
    mode: "0640"
"""

RETURN = r"""
_value:
  description: The C(ipvsadm -R) text, one command per line (empty when there is no service).
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import from_json_text, plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state.persist import ipvsadm_rules


def dpvs_ipvsadm_rules(services):
    try:
        lines = ipvsadm_rules(from_json_text(services))
    except InputError as err:
        raise AnsibleFilterError(f"dpvs_ipvsadm_rules: {err}") from None
    return "".join(line + "\n" for line in lines)


class FilterModule:
    def filters(self):
        return {"dpvs_ipvsadm_rules": plain_args(dpvs_ipvsadm_rules)}
