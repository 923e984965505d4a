#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: net_stats_info
short_description: Read the kernel's IP and UDP counters and the per-CPU softnet drops
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Reads C(/proc/net/snmp) (the C(Ip), C(Icmp), C(Tcp), C(Udp), C(UdpLite) counters that C(netstat -s) and
    C(nstat) show) and C(/proc/net/softnet_stat) (per-CPU packets processed and dropped by the receive backlog).
  - Returns them as data, plus a flat RV(errors) view of the counters that mean a datagram was lost or refused
    (C(Udp.InErrors), C(Udp.NoPorts), C(Udp.RcvbufErrors), C(Udp.SndbufErrors), C(Udp.InCsumErrors),
    C(Ip.InDiscards), C(Ip.OutDiscards), C(Ip.OutNoRoutes), C(softnet.dropped), C(softnet.time_squeeze), ...).
  - Given the result of an earlier run as O(baseline), also returns how much every counter grew (RV(delta)), so
    that a play can fail when errors grow beyond a threshold during a test burst.
  - C(/proc/net/snmp) is per network namespace (the module reports the namespace it runs in);
    C(/proc/net/softnet_stat) is global to the host.
  - Never changes anything.
attributes:
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the host whose counters it reads, in the network namespace it runs in (C(/proc/net/snmp) is per
        namespace).
extends_documentation_fragment:
  - dpvs.cluster.dpvs.READ_ONLY
options:
  gather_subset:
    description:
      - What to read. V(snmp) is C(/proc/net/snmp), V(softnet) is C(/proc/net/softnet_stat), V(all) both.
    type: list
    elements: str
    choices: [all, snmp, softnet]
    default: [all]
  baseline:
    description:
      - The registered result of an earlier run of this module (or a dict with its RV(snmp), RV(softnet_totals)
        and RV(errors) keys). When given, RV(delta) reports the growth of every counter present in both.
    type: dict
  proc_path:
    description:
      - Where procfs is mounted, for a host's C(/proc) bind-mounted into a container (for example C(/host/proc)).
    type: path
    default: /proc
notes:
  - softnet columns are 32-bit counters; a single wrap between two readings is accounted for in RV(delta).
seealso:
  - name: Monitoring and tuning the Linux networking stack (receiving data)
    description: What each softnet_stat column and UDP counter means.
    link: https://blog.packagecloud.io/monitoring-tuning-linux-networking-stack-receiving-data/
"""

EXAMPLES = r"""
- name: Counters before the test burst
  dpvs.cluster.net_stats_info:
  register: before

- name: Counters after it, with the growth since before
  dpvs.cluster.net_stats_info:
    baseline: "{{ before }}"
  register: after

- name: Fail when the forwarder dropped more than 10 datagrams
  ansible.builtin.assert:
    that: after.delta.errors | dict2items | selectattr('value', 'gt', 10) | list | length == 0
    fail_msg: "{{ after.delta.errors | dict2items | selectattr('value', 'gt', 10) | items2dict }}"

- name: Only the UDP/IP counters of this network namespace
  dpvs.cluster.net_stats_info:
    gather_subset: [snmp]
  register: snmp
"""

RETURN = r"""
snmp:
  description:
    - Every section of C(/proc/net/snmp), each a dict of counter name to integer.
  returned: when V(snmp) is gathered
  type: dict
  sample:
    Udp: {InDatagrams: 156, NoPorts: 0, InErrors: 0, OutDatagrams: 157, RcvbufErrors: 0, SndbufErrors: 0,
          InCsumErrors: 0, IgnoredMulti: 0, MemErrors: 0}
    Ip: {Forwarding: 2, InReceives: 4202, InDiscards: 0, OutDiscards: 0, OutNoRoutes: 0}
softnet:
  description:
    - One entry per online CPU from C(/proc/net/softnet_stat).
    - C(backlog_len) and C(cpu) are printed by kernels 5.10 and later, C(input_qlen) and C(process_qlen) by 6.x;
      on older kernels C(cpu) is the line number.
  returned: when V(softnet) is gathered
  type: list
  elements: dict
  sample:
    - {processed: 4207, dropped: 0, time_squeeze: 0, received_rps: 0, flow_limit_count: 0, backlog_len: 0, cpu: 1,
       input_qlen: 0, process_qlen: 0}
softnet_totals:
  description: C(processed), C(dropped), C(time_squeeze), C(received_rps) and C(flow_limit_count) summed over CPUs.
  returned: when V(softnet) is gathered
  type: dict
  sample: {processed: 4214, dropped: 0, time_squeeze: 0, received_rps: 0, flow_limit_count: 0}
errors:
  description:
    - The counters that mean a packet was lost or refused, flat, as C(Section.Counter) (C(softnet.*) are the
      totals). Only counters this kernel prints are present.
  returned: always
  type: dict
  sample: {Udp.InErrors: 0, Udp.NoPorts: 3, Udp.RcvbufErrors: 0, Ip.InDiscards: 0, softnet.dropped: 0}
delta:
  description:
    - Growth of each counter since O(baseline), in the shapes of RV(snmp), RV(softnet_totals) and RV(errors).
  returned: when O(baseline) is given
  type: dict
  sample:
    errors: {Udp.NoPorts: 0, Udp.RcvbufErrors: 0, softnet.dropped: 0}
    snmp: {Udp: {InDatagrams: 2200, OutDatagrams: 2200}}
    softnet_totals: {processed: 4400, dropped: 0}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.net_stats import StatsFormatError, collect, deltas

FILES = {"snmp": ("net", "snmp"), "softnet": ("net", "softnet_stat")}


def read_proc(proc_path, subset):
    path = os.path.join(proc_path, *FILES[subset])
    with open(path) as handle:
        return handle.read()


def main():
    module = AnsibleModule(
        argument_spec={
            "gather_subset": {
                "type": "list",
                "elements": "str",
                "choices": ["all", "snmp", "softnet"],
                "default": ["all"],
            },
            "baseline": {"type": "dict"},
            "proc_path": {"type": "path", "default": "/proc"},
        },
        supports_check_mode=True,
    )
    subsets = set(module.params["gather_subset"])
    if "all" in subsets:
        subsets = set(FILES)
    texts = {}
    for subset in sorted(subsets):
        try:
            texts[subset] = read_proc(module.params["proc_path"], subset)
        except OSError as exc:
            module.fail_json(msg=f"cannot read the {subset} counters: {to_native(exc)}")
    try:
        result = collect(snmp_text=texts.get("snmp"), softnet_text=texts.get("softnet"))
    except StatsFormatError as exc:
        module.fail_json(msg=f"unexpected format in {module.params['proc_path']}/net: {to_native(exc)}")
    if module.params["baseline"] is not None:
        result["delta"] = deltas(module.params["baseline"], result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
