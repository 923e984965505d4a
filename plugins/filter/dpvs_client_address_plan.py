# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_client_address_plan
short_description: PROXY protocol v2 for the TCP FullNAT services whose real servers cannot take TOA
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - DPVS gives the client address of a TCP FullNAT connection to the real servers either as TOA (a TCP option
    that toa.ko reads) or, when the service sets C(proxy_protocol), as a PROXY protocol header; one or the other
    per service. toa.ko does not build on kernels that no longer export C(tcp_v4_syn_recv_sock) and
    C(ipv4_specific) (6.12 and newer by default, C(toa_proxy_protocol_kernel)).
  - Each real server of a TCP FullNAT service is matched to a host of the C(realservers) group (inventory name,
    C(ansible_host) or C(toa_addresses)); its method is the toa role's fact C(toa_client_address_method) of this
    run, else its C(toa_client_address) when not auto, else the toa role's kernel rule on its kernel
    (C(toa_kernel_release) or its gathered facts), else unknown, taken as toa. A real server of no such host is
    taken as toa.
  - A service whose real servers all take PROXY protocol and that does not set C(proxy_protocol) gets V(v2).
    A service that sets V(disable), or that mixes PROXY protocol and TOA real servers, is a problem (the
    dpvs_services role stops before any change), unless it is listed in O(keep_toa). C(docs/toa.md) ("PROXY
    protocol") explains the choice.
options:
  _input:
    description:
      - The virtual services (C(dpvs_services_services)).
      - Or the same list as JSON text (C(to_json)), which the dpvs_services role hands from task to task.
    type: raw
    required: true
  hosts:
    description:
      - The hosts of the C(realservers) group, each C({name, ansible_host, toa_addresses, method, reason, setting,
        kernel, threshold}) (C(method), C(reason) the toa role's facts C(toa_client_address_method) and
        C(toa_client_address_reason) of this run or null; C(setting) C(toa_client_address); C(kernel)
        C(toa_kernel_release) or the gathered kernel release or null; C(threshold) C(toa_proxy_protocol_kernel)
        or null for 6.12).
    type: list
    elements: dict
    default: []
  keep_toa:
    description: C(dpvs_services_keep_toa), services written as C(tcp VIP:port) that the plan leaves on TOA.
    type: list
    elements: str
    default: []
  flavor:
    description: C(dpvs_services_flavor); V(kernel) decides nothing (Linux IPVS has no FullNAT).
    type: str
    default: dpvs
  as_json:
    description: Return C(services) as JSON text rather than a list (a big table costs Ansible seconds as a list).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: PROXY protocol where the real servers cannot take TOA
  ansible.builtin.set_fact:
    plan: >-
      {{ dpvs_services_services | dpvs.cluster.dpvs_client_address_plan(
           [{'name': 'rs2', 'ansible_host': '192.168.229.2', 'kernel': '6.12.48+deb13-amd64'}]) }}
  # plan.set: ['tcp 10.0.96.204:80'], plan.services[0].proxy_protocol: v2
"""

RETURN = r"""
_value:
  description:
    - C(services) (the input with the decision), C(set) (the services given V(v2)), C(problems) (one message per
      service to fix; empty when the run may go on), C(real_servers) (C({service, action, proxy_protocol,
      real_servers}) per TCP FullNAT service with real servers; C(action) none, set, kept, keep_toa or problem),
      C(need_kernel) (realservers hosts whose kernel would decide, not known yet) and C(message) (what the role
      shows; empty when nothing is worth saying).
    - With O(as_json), C(services) is JSON text.
  type: dict
"""

import json

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import from_json_text, plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import client_address as _client_address


def dpvs_client_address_plan(services, hosts=None, keep_toa=None, flavor="dpvs", as_json=False):
    try:
        result = _client_address.plan(from_json_text(services), hosts or [], keep_toa=keep_toa, flavor=flavor)
    except InputError as err:
        raise AnsibleFilterError(f"dpvs_client_address_plan: {err}") from None
    if as_json:
        result["services"] = json.dumps(result["services"])
    return result


class FilterModule:
    def filters(self):
        return {"dpvs_client_address_plan": plain_args(dpvs_client_address_plan)}
