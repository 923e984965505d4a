# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Code that runs only on the controller, inside the collection's filters.

- ``role_inputs``: the roles' lists checked with the modules' own specs and normalisers before any
  host changes, and misspelt role variables (did you mean ...).
- ``plain_data``: a filter's arguments as plain Python data (ansible-core's lazy containers cost
  the square of a list's length to copy); every filter of the collection takes its arguments so.
- ``dpdk_drivers``: the dpdk role's driver list (``-Denable_drivers``) with the drivers each needs.
"""
