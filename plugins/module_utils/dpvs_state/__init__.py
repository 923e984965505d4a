# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPVS's runtime state kept as files, for the replay at DPVS start.

- ``persist``: the desired addresses, routes and services as ``addresses.json``,
  ``routes.json``, ``services.json`` and ``ipvsadm.rules``, rendered by the same functions the
  modules use, and read back for the replay.
- ``probe``: ``dpvs-cluster wait``, the readiness probe of dpvs.service (standard library and
  the runner only: its start-up is blackout after a crash); when DPVS's process is gone it names
  the exit status systemd recorded, the end of the log file and the journal.
- ``replay``: ``dpvs-cluster replay`` (dpvs-state.service): the persisted state converged with
  the modules' own tables.
"""
