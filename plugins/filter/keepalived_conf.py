# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: keepalived_conf
short_description: keepalived.conf for DPVS's keepalived or stock keepalived, from the inventory
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Renders the body of keepalived.conf - C(global_defs), one C(vrrp_instance) per VRRP instance, and one
    C(virtual_server) per service of the table with C(owner=keepalived), its real servers with their health
    checks and, for DPVS FullNAT, its C(local_address_group) - for the DPVS fork (V(dpvs)) or stock keepalived
    over Linux IPVS (V(kernel)).
  - Never fails on bad input; it returns the problems, each naming the variable the user wrote.
options:
  _input:
    description:
      - The services, as M(dpvs.cluster.ipvsadm) takes them (or the same list as JSON text); only those with
        C(owner=keepalived) are rendered.
    type: raw
    required: true
  vrrp_instances:
    description:
      - VRRP instances - C(name), C(interface), C(virtual_router_id), C(vips) (required), C(priority),
        C(advert_int), C(preempt), C(unicast_peers), C(track_interfaces), C(dpdk_interface) (dpvs only).
    type: list
    elements: dict
    default: []
  flavor:
    description: V(dpvs) - the fork DPVS builds; V(kernel) - the distribution's keepalived.
    type: str
    choices: [dpvs, kernel]
    required: true
  priority:
    description: The host's VRRP priority (1-254), for instances that set none.
    type: int
    default: 100
  router_id:
    description: C(global_defs router_id).
    type: str
    default: lb
  names:
    description: The variable names messages use, keys C(services), C(vrrp), C(priority).
    type: dict
    default: {}
  drain:
    description:
      - Every VRRP instance at priority 1 (a rolling restart drains this node); C(restart_text) then says so,
        so that entering and leaving the drain is a restart.
    type: bool
    default: false
  network:
    description:
      - The host's C(dpvs_network) inputs - C(addresses), C(purge), C(purge_devices) - checked against the VRRP
        VIPs (a VIP also declared there, a purge of the device keepalived puts VIPs on).
      - C(kernel_ipvs_purge) - C(kernel_forwarder) purges this host's Linux IPVS table (mode ipvs with purge), which
        would remove keepalived's services.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Render keepalived.conf
  ansible.builtin.set_fact:
    conf: >-
      {{ dpvs_services_services | dpvs.cluster.keepalived_conf(vrrp_instances=keepalived_vrrp_instances,
         flavor='dpvs', priority=150, router_id=inventory_hostname) }}
"""

RETURN = r"""
_value:
  description: >-
    C(text) (the file's body), C(restart_text) (the part a reload does not apply: DPVS local address
    groups), C(services) (labels of the virtual servers) and C(problems) (empty when the input is good).
  type: dict
"""

from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import from_json_text, plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.keepalived.conf import Names, build


def keepalived_conf(
    services, vrrp_instances=None, flavor=None, priority=100, router_id="lb", names=None, network=None, drain=False
):
    return build(
        from_json_text(services),
        vrrp_instances if vrrp_instances is not None else [],
        flavor,
        priority=priority,
        router_id=router_id,
        names=Names(**(names or {})),
        network=network,
        drain=drain,
    )


class FilterModule:
    def filters(self):
        return {"keepalived_conf": plain_args(keepalived_conf)}
