# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dpvs.conf and what it asks of the host.

- ``layout``: NICs and CPUs -> the worker/queue layout (NUMA-aware);
- ``model``: the layout and the role's options -> the dpvs.conf model (``build`` writes the text);
- ``conf``: dpvs.conf text: parse, validate against DPVS's keywords, classify a change (restart,
  reload, nothing); also the host-side checker the role's ``validate:`` runs (stdlib only);
- ``memory``: the hugepage need of a layout and model, and its comparison with the reservation;
- ``host``: the DPVS view of ``host_info``'s facts that layout and memory take;
- ``pairing``: which DPDK releases a DPVS release runs on and the patch sets of each pair (DPVS's
  DPDK patch folder, the collection's DPVS patches); pure data and version comparisons;
- ``uoa``: UOA on or off in dpvs.conf, from the UDP FullNAT real servers and the inventory's hosts
  that load uoa (the ``dpvs_uoa_plan`` filter); pure;
- ``client_address``: TOA or PROXY protocol for the client addresses of TCP FullNAT real servers:
  the toa role's choice from the kernel (the ``dpvs_toa_client_address`` filter) and the
  ``proxy_protocol`` of the services (the ``dpvs_client_address_plan`` filter, role
  dpvs_services); matches real servers as ``uoa`` does; pure;
- ``build``: all of it forward once (NICs and facts -> layout -> model -> text, hugepage need,
  change class), what the ``dpvs_conf`` filter and the ``dpvs`` role call.
"""
