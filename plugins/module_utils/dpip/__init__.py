# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPVS's addresses and routes (``dpip``).

- ``parse``: pure parsers of ``dpip`` output (link, addr, route, neigh, vlan), tested on the
  transcripts of a real DPVS;
- ``state``: ``dpip_addr`` / ``dpip_route``: input normalisation, the planner, and the two
  :class:`~converge.core.Table` s (``AddressTable``, ``RouteTable``) the converge core runs;
  ``module_main()`` is both modules' body;
- ``workers``: a DPVS worker that lacks an address its master has (an add that failed there
  unseen, out of hugepage memory): found by ``dpip -s addr show``, named by ``dpip -v addr show``.
"""
