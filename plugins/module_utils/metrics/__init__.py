# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics of a DPVS node and of a kernel_lb host (docs/metrics.md).

- ``exposition``: metric families and the Prometheus text format; the atomic write of a
  node_exporter textfile-collector file.
- ``dpvs``: the families of a DPVS node from the collection's parsers of ``ipvsadm -ln --stats``,
  ``dpip -s link show``, ``dpip -s addr show`` and ``dpip -s link show cpu``.
- ``kernel``: the families of a kernel_lb host from ``/proc/net/snmp``, ``/proc/net/softnet_stat``
  and (opt-in) the kernel's ``ipvsadm -ln --stats --exact``.
- ``collector``: ``dpvs-cluster metrics dpvs|kernel --output FILE``, the entry point the metrics
  role's timer runs.
"""
