#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dpvs_host_info
short_description: Read the host facts a DPVS layout depends on (NUMA, cpus, hugepages, NICs)
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Reads from sysfs the NUMA nodes with their cpus and their hugepages (total and free, per page size),
    the isolated cpus, and for each given PCI address its NUMA node and its current kernel driver.
  - Reports whether C(/dev/vhost-net) exists (DPVS 1.10 needs it for C(kni on)) and whether the dpvs
    process named in the pid file is alive.
  - A kernel without NUMA support is reported as one node 0 with the online cpus and the host's hugepages.
  - Never changes anything. The facts are the input of the P(dpvs.cluster.dpvs_layout#filter) filter.
options:
  pci:
    description:
      - PCI addresses (C(0000:01:00.0)) to describe.
    type: list
    elements: str
    default: []
  sysfs_root:
    description:
      - Where sysfs is mounted (tests point it at a fake tree).
    type: path
    default: /sys
  proc_root:
    description:
      - Where procfs is mounted.
    type: path
    default: /proc
  pid_file:
    description:
      - The pid file of dpvs (C(dpvs -p)).
    type: path
    default: /var/run/dpvs.pid
  vhost_net_path:
    description:
      - The vhost-net device that DPVS 1.10's virtio-user KNI opens.
    type: path
    default: /dev/vhost-net
attributes:
  check_mode:
    support: full
    description:
      - Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description:
      - Changes nothing, so there is no diff.
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the DPVS host, whose sysfs it reads.
notes:
  - Supports check mode (it only reads).
seealso:
  - module: dpvs.cluster.dpvs_info
"""

EXAMPLES = r"""
- name: Read NUMA, hugepages and the NICs' NUMA nodes
  dpvs.cluster.dpvs_host_info:
    pci: [0000:01:00.0, 0000:81:00.0]
  register: host

- name: Free 2 MB pages on node 1
  ansible.builtin.debug:
    msg: "{{ host.numa_nodes['1'].hugepages['2048kB'].free }}"
"""

RETURN = r"""
numa_nodes:
  description: The NUMA nodes, keyed by node number (a string), with their cpus and hugepages per page size.
  returned: always
  type: dict
  sample:
    "0":
      cpus: [0, 2, 4, 6]
      hugepages:
        2048kB: {nr: 1024, free: 1024}
        1048576kB: {nr: 0, free: 0}
isolated_cpus:
  description: The cpus isolated from the scheduler (C(isolcpus)), sorted.
  returned: always
  type: list
  elements: int
  sample: [4, 6]
pci_devices:
  description:
    - Per requested PCI address, C(present), C(numa_node) (-1 when the firmware does not say), C(kernel_driver)
      (the driver bound now, e.g. C(ixgbe) or C(vfio-pci), null when none), C(vendor) and C(device) ids.
  returned: always
  type: dict
  sample:
    "0000:01:00.0": {present: true, numa_node: 0, kernel_driver: ixgbe, vendor: "0x8086", device: "0x10fb"}
vhost_net:
  description: Whether the vhost-net device exists.
  returned: always
  type: bool
dpvs_running:
  description: Whether the pid in the dpvs pid file is alive.
  returned: always
  type: bool
dpvs_pid:
  description: The pid read from the pid file, null when there is none.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils._dpvs_host import gather

ARGUMENT_SPEC = {
    "pci": {"type": "list", "elements": "str", "default": []},
    "sysfs_root": {"type": "path", "default": "/sys"},
    "proc_root": {"type": "path", "default": "/proc"},
    "pid_file": {"type": "path", "default": "/var/run/dpvs.pid"},
    "vhost_net_path": {"type": "path", "default": "/dev/vhost-net"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    try:
        facts = gather(
            sysfs=params["sysfs_root"],
            pci=params["pci"],
            pid_file=params["pid_file"],
            proc_root=params["proc_root"],
            vhost_net=params["vhost_net_path"],
        )
    except ValueError as err:
        module.fail_json(msg=f"cannot read the host facts: {err}")
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
