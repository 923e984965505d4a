#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: toa_stats_info
short_description: Read the counters of DPVS's toa.ko and uoa.ko on a real server
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Reads C(toa_stats) and C(uoa_stats) under O(proc_net), the counters DPVS's TOA and UOA kernel modules keep
    (DPVS C(kmod/toa/toa.c) and C(kmod/uoa/uoa.c)), and whether each module is loaded (C(/sys/module/NAME)).
  - C(syn_recv_sock_toa) counts the TCP connections that arrived with the client address (TOA option);
    C(uoa_got) the UDP datagrams that arrived with it (UOA). Given an earlier result as O(baseline), RV(delta)
    reports how much every counter grew, so that a play can compare it with the connections it sent through
    DPVS (C(playbooks/verify_dpvs_traffic.yml) of the collection).
  - A module that is not loaded is not an error (C(loaded) false in RV(toa) or RV(uoa)); a stats file that does not
    parse is.
  - Never changes anything.
attributes:
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the real server. The modules create their files in the initial network namespace only; from
        another namespace set O(proc_net=/proc/1/net).
extends_documentation_fragment:
  - dpvs.cluster.dpvs.READ_ONLY
options:
  proc_net:
    description:
      - The directory that holds C(toa_stats) and C(uoa_stats).
    type: path
    default: /proc/net
  sys_module:
    description:
      - Where loaded kernel modules are listed (a module is loaded when C(SYS_MODULE/NAME) exists).
    type: path
    default: /sys/module
  modules:
    description:
      - Which modules to read.
    type: list
    elements: str
    choices: [toa, uoa]
    default: [toa, uoa]
  baseline:
    description:
      - The registered result of an earlier run of this module; RV(delta) then reports the growth of every counter
        read both times.
    type: dict
seealso:
  - module: dpvs.cluster.tcp_probe
  - module: dpvs.cluster.udp_probe
"""

EXAMPLES = r"""
- name: TOA and UOA counters before the burst
  dpvs.cluster.toa_stats_info:
  register: before

- name: Counters after it
  dpvs.cluster.toa_stats_info:
    baseline: "{{ before }}"
  register: after

- name: Every connection of the burst carried the client address
  ansible.builtin.assert:
    that: after.delta.toa.syn_recv_sock_toa >= 20

- name: From inside a network namespace (the files exist in the initial one only)
  dpvs.cluster.toa_stats_info:
    proc_net: /proc/1/net
"""

RETURN = r"""
toa:
  description:
    - C(loaded) (C(/sys/module/toa) or the stats file exists), C(stats_file) (its path), C(counters) (each counter
      summed over the online CPUs; null when the file is missing) and C(cpus) (the CPUs the file lists).
  returned: when V(toa) is read
  type: dict
  sample:
    loaded: true
    stats_file: /proc/net/toa_stats
    cpus: [0, 1]
    counters: {syn_recv_sock_toa: 20, syn_recv_sock_no_toa: 3, getname_toa_ok: 20, getname_toa_mismatch: 0,
               getname_toa_bypass: 0, getname_toa_empty: 0}
uoa:
  description:
    - C(loaded), C(stats_file) and C(counters) (C(success), C(miss), C(invalid), C(uoa_got), C(uoa_none),
      C(uoa_saved), C(uoa_ack_fail); null when the file is missing).
  returned: when V(uoa) is read
  type: dict
  sample:
    loaded: true
    stats_file: /proc/net/uoa_stats
    counters: {success: 0, miss: 0, invalid: 0, uoa_got: 3, uoa_none: 210, uoa_saved: 3, uoa_ack_fail: 0}
delta:
  description:
    - Per module, the growth of every counter read both now and in O(baseline) (negative when the counters went
      back, for example after a reload of the module).
  returned: when O(baseline) is given
  type: dict
  sample: {toa: {syn_recv_sock_toa: 20, syn_recv_sock_no_toa: 0}, uoa: {}}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.net_stats import StatsFormatError
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.toa_stats import delta, parse


def read_module(name, proc_net, sys_module):
    """One module's entry: loaded, stats_file, counters (None when the file is missing)."""
    path = os.path.join(proc_net, f"{name}_stats")
    entry = {"loaded": os.path.isdir(os.path.join(sys_module, name)), "stats_file": path, "counters": None}
    try:
        with open(path) as handle:
            text = handle.read()
    except FileNotFoundError:
        return entry
    entry["loaded"] = True
    entry.update(parse(name, text))
    return entry


def baseline_delta(baseline, result):
    out = {}
    for name in ("toa", "uoa"):
        if name not in result:
            continue
        before = (baseline.get(name) or {}).get("counters")
        after = result[name]["counters"]
        out[name] = delta(before, after) if before is not None and after is not None else {}
    return out


def main():
    module = AnsibleModule(
        argument_spec={
            "proc_net": {"type": "path", "default": "/proc/net"},
            "sys_module": {"type": "path", "default": "/sys/module"},
            "modules": {"type": "list", "elements": "str", "choices": ["toa", "uoa"], "default": ["toa", "uoa"]},
            "baseline": {"type": "dict"},
        },
        supports_check_mode=True,
    )
    params = module.params
    result = {}
    for name in sorted(set(params["modules"])):
        try:
            result[name] = read_module(name, params["proc_net"], params["sys_module"])
        except OSError as exc:
            module.fail_json(msg=f"cannot read {name}_stats in {params['proc_net']}: {to_native(exc)}")
        except StatsFormatError as exc:
            module.fail_json(msg=f"unexpected format of {params['proc_net']}/{name}_stats: {to_native(exc)}")
    if params["baseline"] is not None:
        result["delta"] = baseline_delta(params["baseline"], result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
