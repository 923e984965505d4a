#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dpdk_devbind
short_description: Bind NICs to DPDK drivers (vfio-pci, igb_uio, uio_pci_generic) or back to their kernel driver
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Binds each listed PCI network function to the driver it names, through sysfs as C(dpdk-devbind.py) does
    (C(driver_override), unbind, C(drivers_probe)), and reads the driver back.
  - A NIC whose interface is up is taken down first (C(ip link set dev NAME down)). A bind the driver refuses
    is rolled back (C(driver_override) cleared, the kernel driver probed again) and the module fails with the
    actions applied so far.
  - Every input is checked before anything changes. The target driver must be loaded. Mellanox/NVIDIA NICs
    (vendor 0x15b3) are refused (DPDK drives mlx4/mlx5 on their kernel driver). The NIC that carries the address
    Ansible connects through or a default route, directly or under a bond or VLAN, is refused unless O(force).
  - Records, per PCI address, the NIC's kernel driver, name, MAC and the driver bound, in O(state_file). The
    C(dpvs.cluster.devbind) role re-applies that record at boot with the same code.
options:
  devices:
    description:
      - The NICs to bind, each selected by exactly one of O(devices[].pci), O(devices[].mac), O(devices[].name).
      - NICs not listed are left alone, unless O(restore_unlisted).
    type: list
    elements: dict
    required: true
    suboptions:
      pci:
        description:
          - The PCI address, C(0000:11:00.0) or C(11:00.0).
        type: str
      mac:
        description:
          - The MAC address. A NIC without an interface (bound to a DPDK driver) is found through O(state_file)
            or O(nic_map).
        type: str
      name:
        description:
          - The kernel interface name (C(enp17s0)). A NIC without an interface is found through O(state_file)
            or O(nic_map).
        type: str
      driver:
        description:
          - The driver to bind, C(vfio-pci), C(igb_uio), C(uio_pci_generic), a kernel driver name, or C(kernel)
            for the NIC's own kernel driver (as recorded, or as its PCI ids say).
        type: str
        required: true
  force:
    description:
      - Allow binding the NIC that carries the Ansible connection or a default route.
    type: bool
    default: false
  restore_unlisted:
    description:
      - Return every NIC this module bound earlier (recorded in O(state_file)) and no longer listed to its
        recorded kernel driver.
    type: bool
    default: false
  state_file:
    description:
      - The record of the bindings this module made (JSON), read by the boot-time applier.
    type: path
    default: /etc/dpvs-cluster/devbind.json
  nic_map:
    description:
      - The NIC map the C(dpvs.cluster.preflight) role records (JSON, one entry per PCI network function with
        name, MAC and kernel driver). Lets O(devices[].name) and O(devices[].mac) find NICs that have no
        interface any more. A missing file is no error.
    type: path
    default: /etc/dpvs-cluster/nics.json
  link_down:
    description:
      - Take a NIC's interface down before its kernel driver lets it go.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description:
      - The plan is computed as in a real run; nothing is written. RV(actions) lists what a real run would do.
  diff_mode:
    support: full
    description:
      - Returns the driver of each NIC that changes, before and after, by PCI address.
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the DPDK host, as root (sysfs writes).
notes:
  - Linux only. Needs C(ip) (iproute2).
  - C(driver_override) does not survive a reboot; the C(dpvs.cluster.devbind) role installs
    C(dpvs-devbind.service), which re-applies O(state_file) at boot.
seealso:
  - name: DPDK Linux drivers
    description: vfio-pci, igb_uio, uio_pci_generic and binding NICs to them.
    link: https://doc.dpdk.org/guides/linux_gsg/linux_drivers.html
"""

EXAMPLES = r"""
- name: Bind the data NICs for DPDK
  dpvs.cluster.dpdk_devbind:
    devices:
      - {pci: "0000:11:00.0", driver: vfio-pci}
      - {name: enp33s0, driver: igb_uio}
    restore_unlisted: true

- name: Give a NIC back to its kernel driver
  dpvs.cluster.dpdk_devbind:
    devices:
      - {mac: "52:54:00:00:01:02", driver: kernel}
"""

RETURN = r"""
devices:
  description: The listed NICs, then those O(restore_unlisted) returned to the kernel.
  returned: success
  type: list
  elements: dict
  contains:
    pci:
      description: The PCI address.
      type: str
      sample: "0000:11:00.0"
    name:
      description: The interface name (live, else recorded); null when unknown.
      type: str
      sample: enp17s0
    mac:
      description: The MAC (live, else recorded); null when unknown.
      type: str
      sample: "52:54:00:00:01:02"
    numa_node:
      description: The NUMA node of the PCI device (-1 when the firmware gives none).
      type: int
      sample: 0
    driver_before:
      description: The driver before this run (null when none).
      type: str
      sample: virtio-pci
    driver_after:
      description: The driver after this run (read back after a change; in check mode the planned one).
      type: str
      sample: vfio-pci
    listed:
      description: Whether the NIC is in O(devices) (false for one O(restore_unlisted) returned).
      type: bool
actions:
  description:
    - What was done (or would be, in check mode), in order. Each has C(pci), C(op) (C(write) or C(command)),
      C(path) and C(value) for a sysfs write or C(cmd) for a command, and C(why).
  returned: always
  type: list
  elements: dict
  sample:
    - {pci: "0000:11:00.0", op: command, cmd: [ip, link, set, dev, enp17s0, down], why: take enp17s0 down}
    - {pci: "0000:11:00.0", op: write, path: /sys/bus/pci/devices/0000:11:00.0/driver_override, value: vfio-pci}
commands:
  description: The commands among RV(actions) (argv lists).
  returned: always
  type: list
  elements: list
  sample: [[ip, link, set, dev, enp17s0, down]]
state:
  description: The record written to O(state_file) (or that would be, in check mode), by PCI address.
  returned: success
  type: dict
  sample:
    "0000:11:00.0": {kernel_driver: virtio-pci, name: enp17s0, mac: "52:54:00:00:01:02", driver: vfio-pci,
                     vendor_id: "0x1af4", device_id: "0x1041"}
applied:
  description: On a failure part-way, the actions that succeeded, the rollback included.
  returned: failure
  type: list
  elements: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import errors
from ansible_collections.dpvs.cluster.plugins.module_utils.host.devbind import (
    SysfsIO,
    connection_address,
    host_view,
    run,
)

ARGUMENT_SPEC = dict(
    devices=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            pci=dict(type="str"),
            mac=dict(type="str"),
            name=dict(type="str"),
            driver=dict(type="str", required=True),
        ),
    ),
    force=dict(type="bool", default=False),
    restore_unlisted=dict(type="bool", default=False),
    state_file=dict(type="path", default="/etc/dpvs-cluster/devbind.json"),
    nic_map=dict(type="path", default="/etc/dpvs-cluster/nics.json"),
    link_down=dict(type="bool", default=True),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    sysfs = SysfsIO("/")
    runner = Runner.for_module(module)
    ip = module.get_bin_path("ip", required=True)
    # the suboptions spec fills absent selectors with None; the planner wants only those given
    devices = [{k: v for k, v in device.items() if v is not None} for device in params["devices"]]
    try:
        _rc, ip_addr, _err = runner.run([ip, "-o", "addr", "show"], record=False)
        protected, modules = host_view(sysfs, ip_addr, connection_address(os.environ, sysfs))
        result = run(
            sysfs,
            runner,
            devices,
            params["state_file"],
            nic_map_file=params["nic_map"],
            force=params["force"],
            restore_unlisted=params["restore_unlisted"],
            link_down=params["link_down"],
            check_mode=module.check_mode,
            protected=protected,
            modules=modules,
            ip=ip,
        )
    except errors.FAMILY as err:  # InputError, BindError (applied, devices), CommandError (ip addr show)
        fields = errors.report(err)
        for key in ("commands", "dpvs_errors"):  # no DPVS command here: not part of this module's result
            fields.pop(key, None)
        module.fail_json(**fields)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
