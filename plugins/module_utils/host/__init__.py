# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host under DPVS: facts, NIC binding, NIC queues, hugepages, preflight.

- ``facts``: pure sysfs/procfs parsers and a collector over a file-system reader (``host_info``);
- ``devbind``: NIC binding to DPDK drivers (``dpdk_devbind`` and the boot-time applier);
- ``nic_queues``: NIC channels, RPS/XPS and IRQ affinity (``nic_queues`` and the boot-time applier);
- ``hugepages``: per-NUMA-node hugepage pools (``hugepages``);
- ``hugepage_files``: DPDK's hugepage files of a file prefix that no process uses, removed when
  DPVS stops (``dpvs-cluster hugepage-files``, dpvs.service's ExecStopPost);
- ``preflight``: the verdict of the BIOS/CPU/NUMA/IOMMU checks and the NIC map;
- ``capacity``: the preflight ``capacity`` check, the declared load against the host's forwarding
  units (DPVS workers, kernel CPUs) and its NICs' line rate.

``facts``, ``devbind``, ``nic_queues`` and ``hugepage_files`` are stdlib only: the boot-time appliers run them on hosts.
"""
