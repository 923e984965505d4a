#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nic_queues
short_description: Tune a kernel NIC's queues, queue IRQ affinity, RPS/XPS masks and txqueuelen
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Per NIC (found by name, MAC or PCI address among the netdevs of C(/sys/class/net)), sets the ethtool channel
    counts (C(ethtool -L)), the CPU affinity of the NIC's queue IRQs (C(/proc/irq/N/smp_affinity_list)), the RPS
    masks of its receive queues (C(/sys/class/net/X/queues/rx-N/rps_cpus)), the XPS masks of its transmit queues
    (C(tx-N/xps_cpus)) and its transmit queue length (C(/sys/class/net/X/tx_queue_len)).
  - A NIC's queue IRQs are the IRQs of its PCI function (C(msi_irqs)) whose names in C(/proc/interrupts) are
    queue names (virtio C(virtioN-input.M)/C(virtioN-output.M), C(ifname-rx-M)/C(ifname-tx-M) of e1000e,
    C(ifname-TxRx-M) of ixgbe/i40e/ice, C(mlx5_compM@pci:ADDR)). Most drivers request them when the interface is
    opened, so IRQ affinity needs the interface up.
  - V(auto) CPUs are those of the NIC's NUMA node (every online CPU when the node is -1). IRQ affinity spreads the
    queue IRQs round robin over the CPUs (queue M to CPU number M modulo their count; the rx and tx IRQs of a queue
    pair share a CPU); RPS gives every receive queue all the CPUs; XPS shares the CPUs out over the transmit queues.
  - Every entry is checked before anything changes (unknown NIC, CPU that is not online, mask wider than the CPUs,
    channels above the maximum C(ethtool -l) reports). Channel changes are applied first (they recreate the queues and
    their IRQs), then the masks are planned on the new queues.
  - These are runtime tables; irqbalance, if it runs, moves IRQs again (the module warns). The
    M(dpvs.cluster.nic_queues) logic also runs at boot and when a NIC appears, from the C(net_tuning) role's udev
    rule and oneshot unit.
attributes:
  check_mode:
    support: full
    description:
      - The plan is computed as in a real run and nothing is written. After a planned channel change the masks are
        planned on the current queues.
  diff_mode:
    support: full
    description:
      - Returns each NIC's managed values before and after.
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the host that owns the NICs, as root.
options:
  nics:
    description:
      - The NICs to tune. Each entry has exactly one of O(nics[].name), O(nics[].mac), O(nics[].pci).
      - A value left out is not managed.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The interface name.
        type: str
      mac:
        description:
          - The MAC address.
        type: str
      pci:
        description:
          - The PCI address (V(0000:00:05.0)).
        type: str
      channels:
        description:
          - Channel counts for C(ethtool -L), keys V(combined), V(rx), V(tx).
        type: dict
      irq_affinity:
        description:
          - V(auto) or a list of CPUs (or a CPU list string V(0-3,6)) to spread the queue IRQs over.
        type: raw
      rps_cpus:
        description:
          - V(auto), a list of CPUs, a CPU list string, or a hex mask with a V(0x) prefix (V(0x3)); V([]) or V("")
            turns RPS off.
        type: raw
      xps_cpus:
        description:
          - V(auto), a list of CPUs, a CPU list string or a hex mask with a V(0x) prefix, the same for every transmit
            queue; V([]) turns XPS off.
        type: raw
      txqueuelen:
        description:
          - The transmit queue length, packets.
        type: int
  sys_path:
    description:
      - Where sysfs is mounted.
    type: path
    default: /sys
  proc_path:
    description:
      - Where procfs is mounted.
    type: path
    default: /proc
  ethtool_path:
    description:
      - The ethtool binary (only run when O(nics[].channels) is set).
    type: str
    default: ethtool
  missing_irqs:
    description:
      - What to do about a NIC with O(nics[].irq_affinity) whose queue IRQs do not exist (most drivers request
        them when the interface is opened, so a down interface has none).
      - V(fail) stops before anything changes, naming the NIC.
      - V(plan), in check mode only, predicts one IRQ affinity change for the NIC and says so in RV(notes), for
        a check run in which an earlier task would bring the interface up. Outside check mode it acts as V(fail).
    type: str
    choices: [fail, plan]
    default: fail
  option_names:
    description:
      - How error messages name this module's options (option name to variable name). A role passes the
        variable its users write (C(nics) to C(net_tuning_nics)), so that a message names
        C(net_tuning_nics[0].name), not C(nics[0].name).
    type: dict
    default: {}
notes:
  - Channel changes reset the RPS/XPS masks of the recreated queues; the module sets them again in the same run.
seealso:
  - name: Scaling in the Linux networking stack
    description: RSS, RPS, XPS and IRQ affinity.
    link: https://docs.kernel.org/networking/scaling.html
"""

EXAMPLES = r"""
- name: The kernel NIC towards the real servers, on its NUMA node's CPUs
  dpvs.cluster.nic_queues:
    nics:
      - name: enp0s5
        irq_affinity: auto
        rps_cpus: auto
        xps_cpus: auto
        txqueuelen: 10000

- name: Four combined channels, IRQs on CPUs 2-5, RPS off
  dpvs.cluster.nic_queues:
    nics:
      - pci: "0000:3b:00.0"
        channels: {combined: 4}
        irq_affinity: [2, 3, 4, 5]
        rps_cpus: []
"""

RETURN = r"""
changes:
  description:
    - What was (or in check mode would be) changed, in order. C(path) is the file written, C(cmd) the ethtool command.
  returned: always
  type: list
  elements: dict
  sample:
    - {nic: enp0s5, what: irq_affinity, queue: rx-0, irq: 40, path: /proc/irq/40/smp_affinity_list, before: "0-1",
       after: "0"}
    - {nic: enp0s5, what: txqueuelen, path: /sys/class/net/enp0s5/tx_queue_len, before: 1000, after: 10000}
nics:
  description: The NICs the entries resolved to, with their NUMA node and the CPUs V(auto) means for them.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: enp0s5, mac: "52:54:00:00:01:05", pci: "0000:00:05.0", numa_node: -1, local_cpus: "0-1"}
skipped:
  description: Always empty for the module (the boot-time applier lists NICs it could not tune here).
  returned: always
  type: list
  elements: str
notes:
  description: Remarks on the plan (a channel change in check mode, IRQs planned with O(missing_irqs=plan)).
  returned: always
  type: list
  elements: str
irqbalance:
  description: Whether an irqbalance process runs (it would move the IRQs again).
  returned: always
  type: bool
diff:
  description: Each NIC's managed values before and after (IRQs keyed C(rx-0@40), queue, then IRQ number).
  returned: when diff mode is on
  type: dict
applied:
  description: On a failure part-way, the changes made before it.
  returned: on failure
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import errors
from ansible_collections.dpvs.cluster.plugins.module_utils.host.nic_queues import Tree, run


def main():
    module = AnsibleModule(
        argument_spec={
            "nics": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "name": {"type": "str"},
                    "mac": {"type": "str"},
                    "pci": {"type": "str"},
                    "channels": {"type": "dict"},
                    "irq_affinity": {"type": "raw"},
                    "rps_cpus": {"type": "raw"},
                    "xps_cpus": {"type": "raw"},
                    "txqueuelen": {"type": "int"},
                },
            },
            "sys_path": {"type": "path", "default": "/sys"},
            "proc_path": {"type": "path", "default": "/proc"},
            "ethtool_path": {"type": "str", "default": "ethtool"},
            "missing_irqs": {"type": "str", "default": "fail", "choices": ["fail", "plan"]},
            "option_names": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    tree = Tree(module.params["sys_path"], module.params["proc_path"])
    runner = Runner.for_module(module)
    specs = [{key: value for key, value in nic.items() if value is not None} for nic in module.params["nics"]]
    irqbalance = tree.irqbalance_running()
    try:
        result = run(
            specs,
            tree,
            runner,
            check_mode=module.check_mode,
            ethtool=module.params["ethtool_path"],
            missing_irqs=module.params["missing_irqs"],
        )
    except errors.FAMILY as err:  # InputError (nothing applied), ApplyError/ReadBackError (applied)
        fields = errors.report(err, module.params["option_names"])
        fields.pop("commands", None)  # this module reports its changes as changes/applied
        fields.setdefault("applied", [])
        module.fail_json(**fields)
    if irqbalance and any(nic.get("irq_affinity") is not None for nic in specs):
        module.warn("irqbalance runs on this host: it will move the queue IRQs again (net_tuning_irqbalance: stop)")
    before, after = result.pop("before"), result.pop("after")
    result["irqbalance"] = irqbalance
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
