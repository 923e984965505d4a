# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_uoa_plan
short_description: UOA on or off in dpvs.conf, from the UDP FullNAT real servers and the hosts that load uoa
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - DPVS puts the client address of a UDP FullNAT connection into its first C(uoa_max_trail) packets; with
    C(uoa_mode opp) (the default) a real server without uoa.ko answers them with ICMP protocol unreachable,
    so one-packet flows (DNS) fail. C(uoa_max_trail 0) turns UOA off.
  - With O(mode=auto) UOA stays on only when every real server of every UDP FullNAT service is a host of the
    C(toa) role's group whose C(toa_modules) has uoa (matched by inventory name, C(ansible_host) or
    C(toa_addresses)); otherwise the plan writes C(uoa_max_trail 0). V(on) keeps UOA (the user vouches for the
    real servers), V(off) writes C(uoa_max_trail 0). UOA keywords the user sets in C(dpvs_conf) win over V(auto);
    contradicting V(on) or V(off) is an error.
  - The result's C(dpvs_conf) is the role's C(dpvs_conf) with the decision merged, for the
    P(dpvs.cluster.dpvs_conf#filter) filter. C(docs/dpvs_conf.md) ("UOA") explains the choice.
  - The filter C(dpvs.cluster.dpvs_uoa_address_problems) of this file checks a list of IP addresses (the toa
    role's C(toa_addresses)) and returns one message per entry that is not one.
options:
  _input:
    description: The virtual services (C(dpvs_services_services)).
    type: list
    elements: dict
    required: true
  hosts:
    description:
      - The hosts of the C(realservers) group, each C({name, ansible_host, toa_addresses, toa_modules, toa_load,
        prepare}) (C(toa_modules) null for the toa role's default, toa and uoa; C(prepare) the host's
        C(dpvs_cluster_prepare_host)).
    type: list
    elements: dict
    default: []
  mode:
    description: The C(dpvs_uoa) variable.
    type: raw
    default: auto
    choices: [auto, "on", "off"]
  overrides:
    description: The role's C(dpvs_conf).
    type: dict
"""

EXAMPLES = r"""
- name: UOA in dpvs.conf
  ansible.builtin.set_fact:
    uoa: >-
      {{ dpvs_services_services | dpvs.cluster.dpvs_uoa_plan(
           [{'name': 'rs1', 'ansible_host': '192.168.110.2', 'toa_addresses': [], 'toa_modules': [{'name': 'toa'}]}],
           mode='auto', overrides={}) }}
  # uoa.uoa: false, uoa.uoa_max_trail: 0, uoa.uncovered: ['192.168.110.2'],
  # uoa.dpvs_conf: {'ipvs_defs': {'udp': {'uoa_max_trail': 0}}}
"""

RETURN = r"""
_value:
  description:
    - C(mode), C(uoa) (UOA on in dpvs.conf), C(uoa_mode), C(uoa_max_trail) (as DPVS will run them),
      C(decided_by) (C(dpvs_uoa) or C(dpvs_conf)), C(reason), C(real_servers) (C({ip, services, covered, host,
      why}) per UDP FullNAT real server), C(uncovered) (their addresses), C(set) (keywords written over
      C(dpvs_conf)), C(message) (what the role shows; empty when nothing is worth saying) and C(dpvs_conf).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import uoa as _uoa


def dpvs_uoa_plan(services, hosts=None, mode="auto", overrides=None):
    try:
        result = _uoa.plan(services, hosts or [], mode=mode, overrides=overrides)
    except InputError as err:
        raise AnsibleFilterError(f"dpvs_uoa_plan: {err}") from None
    result["dpvs_conf"] = _uoa.conf_overrides(overrides, result)
    return result


def dpvs_uoa_address_problems(value, name="toa_addresses"):
    return _uoa.address_problems(value, name)


class FilterModule:
    def filters(self):
        return {
            "dpvs_uoa_plan": plain_args(dpvs_uoa_plan),
            "dpvs_uoa_address_problems": plain_args(dpvs_uoa_address_problems),
        }
