# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_state_file
short_description: The persisted form of DPVS addresses, routes or services, for the replay at DPVS start
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Validates a list the way M(dpvs.cluster.dpip_addr) (V(addresses)) or M(dpvs.cluster.dpip_route) (V(routes))
    does, and returns the document the C(dpvs_network) role writes as C(addresses.json) or C(routes.json),
    the normalised present entries and the C(dpip ... add) argument lists a fresh DPVS needs.
  - V(services) validates the list the way M(dpvs.cluster.ipvsadm) does (DPVS flavour) and returns the
    document the C(dpvs_services) role writes as C(services.json), the present services as declared; the
    replay at DPVS start converges the IPVS table to them with the module's own code.
options:
  _input:
    description:
      - The addresses, routes or services, as the modules take them.
      - Or the same list as JSON text (C(to_json)), which the dpvs_services role hands from task to task.
    type: raw
    required: true
  kind:
    description: Which list it is.
    type: str
    choices: [addresses, routes, services]
    required: true
"""

EXAMPLES = r"""
- name: Persist the routes
  ansible.builtin.copy:
    content: "{{ dpvs_network_routes | dpvs.cluster.dpvs_state_file('routes') | to_nice_json }}\n"
    dest: /etc/dpvs/state/routes.json
    mode: "0640"
"""

RETURN = r"""
_value:
  description: >-
    C(format) (1), C(kind), C(entries) and, for addresses and routes, C(commands) (dpip argument lists
    without the binary).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import from_json_text, plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_state.persist import KINDS, state_document


def dpvs_state_file(items, kind):
    if kind not in KINDS:
        raise AnsibleFilterError(f"dpvs_state_file: kind must be addresses, routes or services, not {kind!r}")
    try:
        return state_document(from_json_text(items), kind)
    except InputError as err:
        raise AnsibleFilterError(f"dpvs_state_file: {err}") from None


class FilterModule:
    def filters(self):
        return {"dpvs_state_file": plain_args(dpvs_state_file)}
