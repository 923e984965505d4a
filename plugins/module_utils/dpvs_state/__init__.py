# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPVS's runtime state kept as files, for the replay at DPVS start.

- ``persist``: the desired addresses, routes and IPVS rules as ``addresses.json``,
  ``routes.json`` and ``ipvsadm.rules``, rendered by the same functions the modules use.
"""
