# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role inputs checked on the controller, before a role's first change, by the modules' own code.

* ``list_problems(value, kind, variable)``: a role's list (services, addresses, routes) checked
  as the module would check it - unknown keys (with their index and the closest known key),
  the argument spec's types and choices, then the module's normaliser - with every message
  naming the role variable the user wrote (``dpvs_services_services[1].real_servers[0].port``).
* ``unknown_variables(names, declared, prefixes)``: host variables that look like a role's
  (a role's prefix, or close to a declared name) but that no role declares: the typo that makes
  a role fall back to its default.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import (
    InputError,
    closest,
    did_you_mean,
    message,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import state as _dpip_state
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as _ipvs_model


def unknown_keys(value, options, path):
    """Problems (strings) for keys the argument spec ``options`` does not know, and required keys
    that are missing, in a list of dicts; recurses into suboptions."""
    problems = []
    if not isinstance(value, list):
        return [f"{path}: must be a list (got {value!r})"]
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a dict (got {item!r})")
            continue
        for key in sorted(item, key=str):
            if key not in options:
                problems.append(f"{where}.{key}: unknown key ({did_you_mean(str(key), options)})")
                continue
            sub = options[key].get("options")
            if sub and item[key] is not None:
                problems += _sub_unknown_keys(item[key], options[key], f"{where}.{key}")
        for key, spec in sorted(options.items()):
            if spec.get("required") and item.get(key) is None:
                problems.append(f"{where}.{key}: required key is missing")
    return problems


def _sub_unknown_keys(value, spec, path):
    """unknown_keys of a suboption: a list of dicts, or one dict (``type: dict``)."""
    if spec.get("type") != "dict":
        return unknown_keys(value, spec["options"], path)
    if not isinstance(value, dict):
        return [f"{path}: must be a dict (got {value!r})"]
    return [problem.replace(f"{path}[0]", path, 1) for problem in unknown_keys([value], spec["options"], path)]


def _coerce(value, kind, spec, variable):
    """The argument spec's types, choices and defaults, as AnsibleModule would apply them."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    result = ArgumentSpecValidator({kind: spec}).validate({kind: value})
    errors = [str(err).replace(f"'{kind}", f"'{variable}") for err in result.errors]
    return result.validated_parameters.get(kind), [f"{variable}: {err}" for err in errors]


def _normalize(kind, value, flavor):
    if kind == "services":
        _ipvs_model.normalize(value, flavor)
    elif kind == "addresses":
        _dpip_state.normalize_addr_params({"addresses": value})
    else:
        _dpip_state.normalize_route_params({"routes": value})


def list_problems(value, kind, variable, spec, flavor=None):
    """Every problem found in the role variable ``variable`` holding the module list ``kind``
    (``services``, ``addresses``, ``routes``; ``spec`` its argument spec entry); [] when the
    module will accept it. ``flavor`` (dpvs/kernel) applies the flavour rules of services."""
    problems = [variable + text[len(kind) :] for text in unknown_keys(value, spec["options"], kind)]
    if problems:
        return problems
    coerced, problems = _coerce(value, kind, spec, variable)
    if problems:
        return problems
    try:
        _normalize(kind, coerced, flavor if flavor in _ipvs_model.FLAVORS else None)
    except InputError as err:
        return [message(err, {kind: variable})]
    return vip_lip_problems(coerced, variable) if kind == "services" else []


def vip_lip_problems(services, variable):
    """An address that is a VIP of one service and a FullNAT local address (``laddrs[].ip``) of
    one: DPVS would answer the VIP's traffic as its own SNAT source."""
    vips = {svc.get("vip") for svc in services if svc.get("vip")}
    lips = {laddr.get("ip") for svc in services for laddr in svc.get("laddrs") or []}
    both = sorted(vips & lips)
    if not both:
        return []
    return [f"{variable}: {', '.join(both)} is used both as a VIP and as a FullNAT local address (laddrs[].ip)"]


def unknown_variables(names, declared, prefixes):
    """Problems for each of ``names`` that no role declares but that starts with a role prefix
    (``dpvs_services_``) or is close to a declared name (``hugepage_pages``)."""
    problems = []
    for name in sorted(names):
        if name in declared or name.startswith("_") or name.startswith("ansible_"):
            continue
        best = closest(name, declared)
        if best is None and not name.startswith(tuple(prefixes)):
            continue
        hint = f"did you mean {best}?" if best else "no role of dpvs.cluster has it"
        problems.append(f"{name}: unknown variable ({hint}); a misspelt name leaves the role on its default")
    return problems
