# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converge core every state module uses (docs/internals.md, "The converge core").

What it owns, and its public surface:

- ``plan``: :class:`~plan.Action` (one planned command) and :class:`~plan.Plan` (the ordered
  actions, a list, plus what the planner knows of the state they lead to);
- ``errors``: the error family a run can end in (:class:`~errors.ApplyError` part-way with what
  was applied, :class:`~errors.NotConvergedError` with what differs) and :func:`~errors.report`,
  the one place that turns any of the family (bad input, refused purge, failed read, daemon down,
  unexpected output included) into the fields of ``fail_json``;
- ``core``: :class:`~core.Table` (what a module states: read, plan, apply, verify, and the
  table of a freshly started DPVS) and :func:`~core.converge` (read, plan, guard, apply unless
  check mode, read back, verify, diff; in check mode with ``fresh_when_down``, a DPVS that is down
  is planned as a freshly started one, with a warning);
- ``edge``: :func:`~edge.run_module`, validate before anything else, converge, and exit or fail;
- ``purge_guard``: refuse a purge that would empty a live table or remove more than ``purge_max``
  objects, before any write and in check mode too (docs/safety.md).

A state module states only how to read, plan and apply its table; nothing here knows dpip,
ipvsadm or sysfs.
"""
