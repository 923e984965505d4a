# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keepalived for DPVS (the fork DPVS builds, tools/keepalived) and for Linux IPVS (a service's
``health_check`` itself is part of the table: ``ipvs/health_check.py``).

- ``conf``: keepalived.conf from the inventory (the services keepalived owns, VRRP instances,
  global_defs), the keyword list with where each keyword comes from (stock keepalived or the
  DPVS fork), and the split of a change into what a reload applies and what needs a restart.
"""
