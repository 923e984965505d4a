# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IPVS table (DPVS's ``ipvsadm`` and the Linux kernel's).

- ``parse``: pure parsers of ``ipvsadm`` output (``-ln`` and its variants, ``-G``, ``-S``, lists);
- ``model``: the canonical desired and live table, normalisation, ``ipvsadm`` argv rendering;
- ``plan``: the planner (live + desired -> ordered actions), execution units (``-R`` batches),
  apply with drains, and :class:`IpvsTable`, the table the converge core runs; ``run_module()``
  is the ``ipvsadm`` module's body;
- ``health_check``: a keepalived service's ``health_check`` (TCP, HTTP, HTTPS, MISC, UDP): its keys,
  values and defaults, checked with the rest of the table (``model``), so a bad check stops every
  role that reads the table before any change;
- ``services_file``: the desired table read from a JSON file on the host (``services_file``),
  its keys and types checked against the ``services`` option's own argument spec.
"""
