# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every other package uses, and nothing of theirs: the one command runner and the
input checks.

- ``runner``: :class:`Runner` (argv lists only, ``LANG=C``, DPVS's IPC file, retries of transient
  DPVS answers, stdin that cannot deadlock), :class:`CommandError`, :class:`DaemonDownError`,
  ``sockopt_errors()``;
- ``inputs``: :class:`InputError` (path, value, problem), ``message()`` (renames an option to the
  role variable the user wrote) and the checks (``ip_address``, ``port``, ``int_range``,
  ``device``, ``choice``, ...).

Stdlib only: both files are also copied to hosts with the boot-time appliers.
"""
