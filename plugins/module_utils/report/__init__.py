# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster report (playbooks/report.yml, the ``dpvs_report`` filter): pure, controller-only.

- ``model``: the inventory's hosts (and, with live facts, what dpvs_info and host_info read on
  the DPVS nodes) -> one report model: VIPs, nodes with their ports, NUMA nodes, workers and
  queues, VRRP instances, services, real servers, counters, health and drift; stable order;
- ``render``: the model -> one self-contained HTML page (inline CSS and SVG, no script, no
  fetch), every inventory or live value escaped with ``html.escape``.
"""
