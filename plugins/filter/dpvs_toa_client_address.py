# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_toa_client_address
short_description: TOA or PROXY protocol for one real server, from its kernel, and the listeners to configure
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - The toa role's choice (C(toa_client_address)). V(auto) is V(toa) on kernels older than O(threshold) and
    V(proxy_protocol) from it on, where Linux no longer exports C(tcp_v4_syn_recv_sock) and C(ipv4_specific),
    which DPVS's toa.c links against. V(toa) and V(proxy_protocol) are taken as they are.
  - With V(proxy_protocol) the result names the listeners to configure, the ports the TCP FullNAT services of
    the inventory send to on this host, with their LIPs (the addresses to trust the PROXY header from) and the
    names of O(listeners) on those ports. C(docs/toa.md) ("PROXY protocol").
options:
  _input:
    description: C(toa_client_address) (auto, toa or proxy_protocol; null is auto).
    type: raw
    required: true
  host:
    description: The host, C({name, ansible_host, toa_addresses}).
    type: dict
    required: true
  kernel:
    description: The kernel release to choose by (C(toa_kernel_release), else the running one).
    type: str
    required: true
  threshold:
    description: C(toa_proxy_protocol_kernel), a quoted version.
    type: str
    default: "6.12"
  listeners:
    description: C(toa_proxy_protocol_listeners), C([{name, port}]).
    type: list
    elements: dict
    default: []
  lb_services:
    description: C([{name, services}]), each DPVS host with its C(dpvs_services_services).
    type: list
    elements: dict
    default: []
  modules:
    description: The module names of C(toa_modules).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: TOA or PROXY protocol
  ansible.builtin.set_fact:
    choice: >-
      {{ 'auto' | dpvs.cluster.dpvs_toa_client_address({'name': 'rs2'}, kernel='6.12.48+deb13-amd64',
           listeners=[{'name': 'nginx', 'port': 80}]) }}
  # choice.method: proxy_protocol, choice.message: "rs2: client addresses by PROXY protocol v2, not TOA: ..."
"""

RETURN = r"""
_value:
  description:
    - C(method) (toa or proxy_protocol), C(setting), C(kernel), C(threshold), C(reason) (the sentence of the
      message), C(why) (its short form), C(listeners) (C({lb, service, port, laddrs, name}) per port to
      configure) and C(message) (the line the role prints).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import client_address as _client_address


def dpvs_toa_client_address(setting, host, kernel, threshold=None, listeners=None, lb_services=None, modules=None):
    try:
        return _client_address.toa_report(
            host or {},
            setting=setting,
            kernel=kernel,
            threshold=threshold,
            listeners=listeners,
            lb_services=lb_services,
            modules=modules,
        )
    except InputError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    def filters(self):
        return {"dpvs_toa_client_address": plain_args(dpvs_toa_client_address)}
