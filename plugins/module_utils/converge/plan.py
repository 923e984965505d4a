# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One planned command (:class:`Action`) and the ordered plan (:class:`Plan`)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Action:
    """One planned step.

    ``argv`` (a list, with or without the binary: the table decides), ``description`` (for
    humans, and for the "still to do" of a read-back that differs), ``tool`` (which binary runs
    it when a table drives several, or ``wait``), ``op`` (``add``/``del``) and ``item`` (the
    object in parser shape, to predict the state after the plan), ``phase`` (the planner's
    ordering bucket), ``data`` (what a non-command step needs) and ``purged`` (removed because
    it is not declared: what the purge guard counts).
    """

    __slots__ = ("argv", "data", "description", "item", "op", "phase", "purged", "tool")

    def __init__(self, argv, description, tool=None, op=None, item=None, phase=None, data=None, purged=False):
        self.argv = list(argv)
        self.description = description
        self.tool = tool
        self.op = op
        self.item = item
        self.phase = phase
        self.data = data
        self.purged = purged

    def __repr__(self):
        if self.tool is None:
            return f"Action({self.argv!r})"
        return f"Action({self.tool!r}, {self.argv!r})"

    def __eq__(self, other):
        return isinstance(other, Action) and (self.tool, self.argv, self.description) == (
            other.tool,
            other.argv,
            other.description,
        )

    def __ne__(self, other):
        return not self == other

    __hash__ = None


class Plan(list):
    """The ordered actions (the list itself: empty means nothing to do), plus ``expected``
    (the table the actions lead to, when the planner computes it), ``purged`` (labels of what
    the purge removes) and ``facts`` (anything else the planner hands to apply and report)."""

    def __init__(self, actions=(), expected=None, purged=(), **facts):
        super(Plan, self).__init__(actions)
        self.expected = expected
        self.purged = list(purged)
        self.facts = facts

    @property
    def actions(self):
        return self

    def tool_count(self, tool):
        """How many actions run ``tool``."""
        return sum(1 for action in self if action.tool == tool)


def planned_commands(plan):
    """``commands`` for a plan not (yet) run: the argv of each action, ``rc`` None."""
    return [{"cmd": list(action.argv), "rc": None} for action in plan]
