# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_report
short_description: The cluster as one self-contained HTML page with a topology picture
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Draws the cluster's VIPs, the DPVS nodes and kernel forwarders that serve them, and the real servers behind
    them as an inline SVG; per DPVS node its ports (PCI order, NUMA node, driver, queues), its NUMA nodes with the
    master and the workers and the rx queue each worker polls (the layout of the P(dpvs.cluster.dpvs_layout#filter)
    filter), and its VRRP instances. Tables list the nodes, the services with their real servers and, with live
    facts, their counters and the drift from the inventory.
  - The page fetches nothing (inline CSS and SVG, no script, a Content-Security-Policy that forbids every fetch)
    and escapes every value with C(html.escape). The same input gives the same page (stable order).
  - Without O(live) the page shows the inventory alone. Without host facts (C(dpvs_host_facts) or O(live)'s
    C(facts)) a node shows its ports but not its workers.
  - C(playbooks/report.yml) builds the input and writes the page; C(docs/report.md) of the collection describes it.
options:
  _input:
    description:
      - The inventory's hosts, a dictionary of host name to the host's C(groups) (its group names) and the
        variables the report reads
        (C(ansible_host), C(dpvs_nics), C(dpvs_host_facts), C(dpvs_workers), C(dpvs_workers_per_node),
        C(dpvs_master_cpu), C(dpvs_reserved_cpus), C(dpvs_icmp_redirect_worker), C(dpvs_network_addresses),
        C(dpvs_services_services), C(keepalived_enabled), C(keepalived_vrrp_instances), C(keepalived_priority),
        C(keepalived_services), C(kernel_forwarder_address), C(kernel_forwarder_mode),
        C(kernel_forwarder_forwards), C(toa_addresses)); a variable a host lacks is null.
      - Hosts of the groups C(dpvs) and C(kernel_lb) are drawn as nodes; C(realservers) hosts name the real
        servers whose address they have (C(ansible_host) or C(toa_addresses)).
    type: dict
    required: true
  live:
    description:
      - What was read on the DPVS nodes, a dictionary of host name to C(info) and C(facts); C(info) the result
        of M(dpvs.cluster.dpvs_info) (links, addresses, services, laddrs, stats) and C(facts) that of
        M(dpvs.cluster.host_info) or null. A DPVS node missing here is shown as not read.
      - Null (the default) for a report from the inventory alone.
    type: dict
  title:
    description: The page's title.
    type: str
    default: DPVS cluster
  generated:
    description: A line saying when the page was made (left out when empty).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The report page
  ansible.builtin.copy:
    content: "{{ report_hosts | dpvs.cluster.dpvs_report(title='site A') }}"
    dest: /tmp/dpvs-report.html
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The HTML page (UTF-8 text, one C(<svg id="topology">)).
  type: str
"""

from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.report.model import build
from ansible_collections.dpvs.cluster.plugins.module_utils.report.render import page


def dpvs_report(hosts, live=None, title="DPVS cluster", generated=""):
    return page(build(hosts or {}, live), title=title or "DPVS cluster", generated=generated or "")


class FilterModule:
    def filters(self):
        return {"dpvs_report": plain_args(dpvs_report)}
