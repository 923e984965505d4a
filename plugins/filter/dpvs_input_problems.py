# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_input_problems
short_description: What the state modules would refuse in a role's list, named as the role variable
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Checks a list of services (M(dpvs.cluster.ipvsadm)), addresses (M(dpvs.cluster.dpip_addr)) or routes
    (M(dpvs.cluster.dpip_route)) on the controller with the module's own argument spec and validation, so a
    role can refuse bad input before its first change (a route is checked before any address is added).
  - Unknown keys are reported with their index and the closest known key; every message starts with the
    variable name and the path into it, for example C(dpvs_services_services[1].real_servers[0].port).
options:
  _input:
    description:
      - The list, as the role variable holds it.
      - Or the same list as JSON text (C(to_json)), which the dpvs_services role hands from task to task.
    type: raw
    required: true
  kind:
    description: Which module list it is.
    type: str
    choices: [services, addresses, routes]
    required: true
  variable:
    description: The role variable the list comes from (named in the messages).
    type: str
    required: true
  flavor:
    description: For services, the ipvsadm flavour whose rules apply (V(auto) applies the common rules only).
    type: str
    default: auto
"""

EXAMPLES = r"""
- name: Preflight | the services, as dpvs.cluster.ipvsadm will check them
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('; ') }}"
    quiet: true
  vars:
    __problems: "{{ dpvs_services_services | dpvs.cluster.dpvs_input_problems('services', 'dpvs_services_services') }}"
"""

RETURN = r"""
_value:
  description: One message per problem; empty when the module will accept the list.
  type: list
  elements: str
"""

from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import from_json_text, plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.role_inputs import list_problems
from ansible_collections.dpvs.cluster.plugins.modules.dpip_addr import ARGUMENT_SPEC as ADDR_SPEC
from ansible_collections.dpvs.cluster.plugins.modules.dpip_route import ARGUMENT_SPEC as ROUTE_SPEC
from ansible_collections.dpvs.cluster.plugins.modules.ipvsadm import ARGUMENT_SPEC as IPVSADM_SPEC

SPECS = {
    "services": IPVSADM_SPEC["services"],
    "addresses": ADDR_SPEC["addresses"],
    "routes": ROUTE_SPEC["routes"],
}


def dpvs_input_problems(value, kind, variable, flavor="auto"):
    from ansible.errors import AnsibleFilterError

    if kind not in SPECS:
        raise AnsibleFilterError(f"dpvs_input_problems: kind must be one of {', '.join(SPECS)}, not {kind!r}")
    return list_problems(from_json_text(value), kind, variable, SPECS[kind], flavor)


class FilterModule:
    def filters(self):
        return {"dpvs_input_problems": plain_args(dpvs_input_problems)}
