# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one edge between a state module and Ansible: validate before anything else, run, and
turn every error of the family (``errors``) into ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.converge.errors import FAMILY, report

# A state module's result echoes its arguments (``invocation.module_args``); Ansible then walks
# the whole result for no_log values. At 10,000 services that echo was a third of a no-op run's
# time (exit_json 6.2 of 18.4 s). Lists longer than this are echoed as their length, and so are
# strings longer than ECHO_MAX_CHARS (the ipvsadm module's services_json: megabytes of JSON).
ECHO_MAX_ITEMS = 100
ECHO_MAX_CHARS = 4096


def invocation(params):
    """``invocation`` for exit_json/fail_json: the arguments, with long lists and strings told by
    their length."""
    echoed = {}
    for name, value in params.items():
        if isinstance(value, list) and len(value) > ECHO_MAX_ITEMS:
            value = f"({len(value)} entries, not echoed)"
        elif isinstance(value, str) and len(value) > ECHO_MAX_CHARS:
            value = f"({len(value)} characters, not echoed)"
        echoed[name] = value
    return {"module_args": echoed}


def run_module(module, validate, run, parsers=()):
    """``validate(params)`` runs first (even before a binary is looked up); then
    ``run(validated)`` returns the result; its ``warnings`` go through ``module.warn`` (passing
    them to ``exit_json`` is deprecated). Any error of the family ends in ``fail_json`` with the
    fields ``errors.report`` gives; anything else is a bug and propagates."""
    names = module.params.get("option_names")
    caught = FAMILY + tuple(pair[0] for pair in parsers)
    try:
        validated = validate(module.params)
        result = run(validated)
    except caught as err:
        module.fail_json(invocation=invocation(module.params), **report(err, names, parsers))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(invocation=invocation(module.params), **result)
