# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_verify_traffic_plan
short_description: Which DPVS services a traffic check probes, and the verdict of the probes
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - The logic of C(playbooks/verify_dpvs_traffic.yml), as pure functions
    (C(plugins/module_utils/kernel/vip_traffic.py)).
  - C(dpvs_verify_traffic_plan) takes the C(dpvs_services_services) of every DPVS node (C([{host, services}])) and
    the C(dpvs_verify_traffic_*) settings (without the prefix) and returns every TCP and UDP VIP:port service once,
    the targets of M(dpvs.cluster.tcp_probe) and M(dpvs.cluster.udp_probe), and the services it does not probe with
    the reason (port 0, fwmark, sctp, no real server with a weight, not in C(dpvs_verify_traffic_services)).
    A bad setting is an error naming the variable.
  - The filter C(dpvs.cluster.dpvs_verify_traffic_report) of this file judges the probes of the clients and the
    TOA/UOA counters of the real servers (M(dpvs.cluster.toa_stats_info)) against DPVS's per-real-server
    connection counters (M(dpvs.cluster.dpvs_info) C(stats)); it returns C(lines), C(warnings), C(failures) and a
    one-line C(summary).
options:
  _input:
    description: C([{host, services}]), the C(dpvs_services_services) of each DPVS node.
    type: list
    elements: dict
    required: true
  settings:
    description:
      - C(count), C(rate), C(timeout), C(min_answered), C(tcp_request), C(udp_expect_answers) and C(services).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: What to probe
  ansible.builtin.set_fact:
    traffic_plan: >-
      {{ [{'host': 'lb1', 'services': dpvs_services_services}] | dpvs.cluster.dpvs_verify_traffic_plan(
           {'count': 20, 'rate': 100, 'timeout': 3, 'min_answered': 1.0, 'tcp_request': none,
            'udp_expect_answers': true, 'services': none}) }}
  # traffic_plan.tcp_targets: [{host: 10.0.96.204, port: 80}], traffic_plan.skipped: []
"""

RETURN = r"""
_value:
  description:
    - C(settings) (checked), C(services) (probed, each with C(label), C(protocol), C(vip), C(port),
      C(proxy_protocol), C(real_servers) and C(declared_by)), C(skipped) (C({label, reason})), C(tcp_targets)
      (C({host, port})) and C(udp_groups) (C({host, ports}), one udp_probe per VIP).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel import vip_traffic


def dpvs_verify_traffic_plan(declared, settings):
    try:
        return vip_traffic.plan(declared, settings or {})
    except InputError as err:
        raise AnsibleFilterError(f"traffic through the DPVS VIPs: {err}") from None


def dpvs_verify_traffic_report(traffic_plan, probes, dpvs=None, realservers=None, uoa=None, real_servers=True):
    return vip_traffic.report(traffic_plan, probes or [], dpvs or [], realservers or [], uoa or {}, real_servers)


class FilterModule:
    def filters(self):
        return {
            "dpvs_verify_traffic_plan": plain_args(dpvs_verify_traffic_plan),
            "dpvs_verify_traffic_report": plain_args(dpvs_verify_traffic_report),
        }
