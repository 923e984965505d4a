# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The purge guard of the state modules (ipvsadm, dpip_addr, dpip_route).

A purge removes what the input does not declare, so a typo in a variable name (the role falls
back to its empty default) or an emptied list would remove a live table. Before any command,
``check()`` refuses a plan whose purge

* leaves a non-empty live table empty (the part of it the purge may touch), or
* removes more than ``purge_max`` objects,

unless ``purge_all`` is true. The refusal lists what would have been removed and names the
option (or, through ``names``, the role variable) that allows it; check mode refuses the same
way, so ``--check --diff`` shows the same list.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError, int_range

PURGE_MAX_DEFAULT = 20
SHOWN = 10


class PurgeRefused(Exception):
    """A purge the options do not allow; ``would_remove`` lists it (labels)."""

    def __init__(self, msg, would_remove):
        self.msg = msg
        self.would_remove = would_remove
        super(PurgeRefused, self).__init__(msg)


def limits(params):
    """``(purge_max, purge_all)`` from the module options; raises InputError."""
    purge_max = int_range("purge_max", params.get("purge_max", PURGE_MAX_DEFAULT), 0, 10000000)
    purge_all = params.get("purge_all", False)
    if not isinstance(purge_all, bool):
        raise InputError("purge_all", purge_all, "must be a boolean (true/false)")
    return purge_max, purge_all


def display_name(option, names):
    """How a message names ``option``: the role variable it comes from, when given."""
    return (names or {}).get(option) or option


def _listing(labels):
    shown = ", ".join(labels[:SHOWN])
    if len(labels) > SHOWN:
        shown += f" (and {len(labels) - SHOWN} more)"
    return shown


def check(purged, managed, remaining, purge_limits, noun, list_option, names=None):
    """Raise PurgeRefused when the purge of ``purged`` (labels of the live objects it would
    remove) is not allowed. ``managed`` counts the live objects the purge may touch and
    ``remaining`` those left after the plan; ``purge_limits`` is ``limits(params)``;
    ``list_option`` is the option that declares them (named in the hint about typos)."""
    if not purged:
        return
    purge_max, purge_all = purge_limits
    if purge_all:
        return
    allow = display_name("purge_all", names)
    declared = display_name(list_option, names)
    if remaining == 0:
        raise PurgeRefused(
            f"purge would remove all {len(purged)} {noun} of the live table and leave it empty: "
            f"{_listing(purged)}. Nothing was changed. Check that {declared} is spelt right and set for "
            f"this host; if emptying the table is what you mean, set {allow}: true for this run.",
            purged,
        )
    if len(purged) > purge_max:
        limit = display_name("purge_max", names)
        raise PurgeRefused(
            f"purge would remove {len(purged)} {noun} (of {managed} in the live table), more than "
            f"{limit} ({purge_max}): {_listing(purged)}. Nothing was changed. If that is what you "
            f"mean, raise {limit} or set {allow}: true for this run.",
            purged,
        )
