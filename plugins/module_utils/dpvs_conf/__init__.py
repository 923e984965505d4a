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
- ``build``: all of it forward once (NICs and facts -> layout -> model -> text, hugepage need,
  change class), what the ``dpvs_conf`` filter and the ``dpvs`` role call.
"""
