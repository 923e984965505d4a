# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converge loop, written once: read, plan, guard, apply unless check mode, read back,
verify, report, diff.

A state module subclasses :class:`Table` and states how to read, plan and apply its table;
:func:`converge` runs it. Check mode and a real run share everything up to the apply: the
commands a check run predicts are the commands a real run executes, and a run with nothing to
do reads once and writes nothing.

A check run may plan against the table of a freshly started DPVS when DPVS is down
(``fresh_when_down``, the modules' ``plan_fresh_when_down``): a play that would start DPVS
before this task (the dpvs role) does not start it in check mode, and a fresh daemon's tables
are known. Only in check mode, only when asked and only for a table that knows its fresh state
(:meth:`Table.fresh`); otherwise a down daemon stays an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.common import inputs as _inputs
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import DaemonDownError
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.errors import NotConvergedError
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.plan import planned_commands

# the module option of fresh_when_down (dpip_addr, dpip_route, ipvsadm)
FRESH_OPTION = "plan_fresh_when_down"
FRESH_WARNING = (
    "DPVS is not running yet: planned against a freshly started DPVS (empty tables); the real run starts it first"
)


def fresh_option(params):
    """The modules' ``plan_fresh_when_down`` (a boolean, default false); raises InputError."""
    return _inputs.boolean(FRESH_OPTION, params.get(FRESH_OPTION), default=False)


class Table:
    """What a state module states about its table. ``read``, ``plan``, ``apply``, ``verify``
    and ``render`` are required; the rest have defaults that fit a table of commands."""

    def read(self):
        """The live state (whatever shape ``plan``, ``verify``, ``render`` take)."""
        raise NotImplementedError

    def fresh(self):
        """The live state of a freshly started DPVS, in ``read``'s shape, for a check run planned
        while DPVS is down; it also stands in for whatever else ``read`` would have read. None
        (the default): not known, the daemon-down error stands."""
        return None

    def plan(self, live):
        """The :class:`~plan.Plan` (or list of actions) from ``live`` to the declared state."""
        raise NotImplementedError

    def guard(self, live, plan):
        """Refuse a plan before anything runs (the purge guard); raises."""

    def planned(self, plan):
        """``commands`` of the plan before it ran (``rc`` None)."""
        return planned_commands(plan)

    def apply(self, plan):
        """Run the plan; return the commands run (``{cmd, rc}``). Raises ApplyError."""
        raise NotImplementedError

    def predict(self, live, plan):
        """The state the plan leads to, without running it (check mode, nothing to do)."""
        return live

    def read_back(self, plan):
        """The state after a real run (by default: read again)."""
        return self.read()

    def verify(self, plan, after):
        """What still differs after a real run: a list of texts, empty when converged."""
        raise NotImplementedError

    def not_converged(self, problems, commands, after):
        """The error for a read-back that differs."""
        return NotConvergedError("the table did not converge: " + "; ".join(problems), problems, commands)

    def report(self, after, plan):
        """The result fields beside ``changed``, ``commands`` and ``diff``."""
        return {}

    def render(self, state):
        """Stable text of a state, for ``diff``."""
        raise NotImplementedError

    def render_after(self, plan, after):
        return self.render(after)


def read_live(table, check_mode=False, fresh_when_down=False):
    """``(live, warnings)``: ``table.read()``, or, when it finds DPVS down in check mode with
    ``fresh_when_down``, ``table.fresh()`` and :data:`FRESH_WARNING`. A down daemon is re-raised
    in a real run, without ``fresh_when_down``, and for a table without a fresh state."""
    try:
        return table.read(), []
    except DaemonDownError:
        live = table.fresh() if check_mode and fresh_when_down else None
        if live is None:
            raise
        return live, [FRESH_WARNING]


def converge(table, check_mode=False, want_diff=False, fresh_when_down=False, assume_fresh=False):
    """Run ``table`` to its declared state. Returns the module result: ``changed`` (the plan
    was not empty), ``commands`` (planned in check mode, run otherwise), the table's report
    fields, ``diff`` (before/after text) when asked, and ``warnings`` when check mode planned
    against a freshly started DPVS (``fresh_when_down``: see :func:`read_live`).

    ``assume_fresh`` (the replay at DPVS start, which knows the daemon has just started):
    plan against ``table.fresh()`` without reading, and let the read-back judge; a table
    without a fresh state is read as usual."""
    fresh = table.fresh() if assume_fresh else None
    live, warnings = (fresh, []) if fresh is not None else read_live(table, check_mode, fresh_when_down)
    plan = table.plan(live)
    table.guard(live, plan)
    result = {"changed": bool(plan), "commands": table.planned(plan)}
    if check_mode or not plan:
        after = table.predict(live, plan)
    else:
        result["commands"] = table.apply(plan)
        after = table.read_back(plan)
        problems = table.verify(plan, after)
        if problems:
            raise table.not_converged(problems, result["commands"], after)
    result.update(table.report(after, plan))
    if want_diff:
        result["diff"] = {"before": table.render(live), "after": table.render_after(plan, after)}
    if warnings:
        result["warnings"] = warnings
    return result
