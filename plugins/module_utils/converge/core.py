# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converge loop, written once: read, plan, guard, apply unless check mode, read back,
verify, report, diff.

A state module subclasses :class:`Table` and states how to read, plan and apply its table;
:func:`converge` runs it. Check mode and a real run share everything up to the apply: the
commands a check run predicts are the commands a real run executes, and a run with nothing to
do reads once and writes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.converge.errors import NotConvergedError
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.plan import planned_commands


class Table:
    """What a state module states about its table. ``read``, ``plan``, ``apply``, ``verify``
    and ``render`` are required; the rest have defaults that fit a table of commands."""

    def read(self):
        """The live state (whatever shape ``plan``, ``verify``, ``render`` take)."""
        raise NotImplementedError

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


def converge(table, check_mode=False, want_diff=False):
    """Run ``table`` to its declared state. Returns the module result: ``changed`` (the plan
    was not empty), ``commands`` (planned in check mode, run otherwise), the table's report
    fields, and ``diff`` (before/after text) when asked."""
    live = table.read()
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
    return result
