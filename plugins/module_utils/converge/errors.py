# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The errors a converge run ends in, and :func:`report`, which turns each into ``fail_json``.

The family:

- ``InputError`` (``_inputs``): bad input, before any command, naming the option;
- ``PurgeRefused`` (``_purge_guard``): a purge the options do not allow, before any write;
- ``CommandError`` / ``DaemonDownError`` (``_runner``): a read failed, the DPVS daemon is down;
- a parser's ``ParseError``: output the parsers do not know;
- :class:`ApplyError`: a write failed part-way (``applied``: what ran before it);
- :class:`NotConvergedError`: the read-back differs from the plan (``remaining``: what).

The first four live beside the code that raises them (they are copied to hosts with it);
every failure of every state module is reported by :func:`report`, so the fields a user sees
(``msg``, ``commands``, ``applied``, ``cmd``/``rc``/``stdout``/``stderr``, ``dpvs_errors``,
``not_converged``, ``would_remove``) mean the same in every module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.common import inputs as _inputs
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import CommandError, sockopt_errors
from ansible_collections.dpvs.cluster.plugins.module_utils.converge.purge_guard import PurgeRefused


class ApplyError(Exception):
    """A command of the plan failed. ``applied``: the commands that succeeded before it;
    ``failed``: the failed one (``cmd``, ``rc``, ``stdout``, ``stderr``, ``stdin`` of a batch);
    ``dpvs_errors``: the daemon's errors (by default those in the failed command's stderr);
    ``drained``: the drain waits done before it, for a table that drains; ``details``: more
    result fields (``worker_mismatch``: what a DPVS worker lacks after the apply, whose failed
    command is then the read that found it)."""

    def __init__(self, msg, applied, failed, dpvs_errors=None, drained=None, cause=None, details=None):
        self.msg = msg
        self.applied = applied
        self.failed = failed
        self.dpvs_errors = sockopt_errors(failed.get("stderr")) if dpvs_errors is None else dpvs_errors
        self.drained = drained
        self.cause = cause
        self.details = details or {}
        super(ApplyError, self).__init__(msg)

    def fields(self):
        failed = self.failed
        entry = {k: failed[k] for k in ("cmd", "rc", "stdin") if k in failed}
        out = dict(
            msg=self.msg,
            applied=self.applied,
            commands=[*self.applied, entry],
            cmd=failed["cmd"],
            rc=failed["rc"],
            stdout=failed.get("stdout", ""),
            stderr=failed.get("stderr", ""),
            dpvs_errors=self.dpvs_errors,
        )
        if self.drained is not None:
            out["drained"] = self.drained
        out.update(self.details)
        return out


class NotConvergedError(Exception):
    """The read-back after a real run still differs. ``remaining``: what differs (one text
    each); ``commands``: what was applied; ``batch_errors``: the daemon errors a batch printed
    (reported as ``dpvs_errors``); ``state``: the state read back, reported under its own name
    (``addresses=[...]``)."""

    def __init__(self, msg, remaining, commands, batch_errors=None, **state):
        self.msg = msg
        self.remaining = remaining
        self.commands = commands
        self.batch_errors = batch_errors
        self.state = state
        super(NotConvergedError, self).__init__(msg)

    def fields(self):
        out = dict(msg=self.msg, not_converged=self.remaining, commands=self.commands, applied=self.commands)
        if self.batch_errors is not None:
            out["dpvs_errors"] = self.batch_errors
        out.update(self.state)
        return out


FAMILY = (_inputs.InputError, PurgeRefused, ApplyError, NotConvergedError, CommandError)


def _command_fields(err):
    return dict(msg=err.msg, commands=[], dpvs_errors=err.dpvs_errors, **err.to_result())


def report(err, names=None, parsers=()):
    """The ``fail_json`` fields of ``err``, or None when it is not of the family.

    ``names`` renames options in input errors (a role's variable names); ``parsers`` maps
    ``(ParseError class, tool)`` for the module's parsers (an empty ``tool``: "unexpected output")."""
    if isinstance(err, _inputs.InputError):
        return dict(msg=_inputs.message(err, names), commands=[])
    if isinstance(err, PurgeRefused):
        return dict(msg=err.msg, commands=[], would_remove=err.would_remove)
    if isinstance(err, (ApplyError, NotConvergedError)):
        return err.fields()
    if isinstance(err, CommandError):
        return _command_fields(err)
    for parse_error, tool in parsers:
        if isinstance(err, parse_error):
            what = f"unexpected {tool} output" if tool else "unexpected output"
            return dict(msg=f"{what}: {err}", commands=[])
    return None
