# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ipvsadm module's ``services_file`` and ``services_json``: the desired table read from a
JSON file on the host, or from JSON text handed to the module as one string.

At 10,000 services the ``services`` option itself is the cost: Ansible templates it on the
controller, sends it, and validates its nested suboptions (5-6 s of a 15 s no-op run). A file
skips all three; what Ansible's validator did for the option is done here the cheap way, from
the option's own argument spec (a string option costs Ansible next to nothing, however long;
``services_json`` is how the ``dpvs_services`` role hands over its table): an unknown key is an
error, each value is converted to its suboption's type by Ansible's own type checkers (``"no"``
is false, ``"80"`` is 80) and checked against its choices; the module's normaliser then checks
the rest and fills in the defaults, as it does for the replay.

The file holds either the list itself or a ``services.json`` state document
(``{"format": 1, "kind": "services", "entries": [...]}``) as the ``dpvs_services`` role persists it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.common.parameters import DEFAULT_TYPE_VALIDATORS
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import (
    InputError,
    did_you_mean,
    item_path,
    path_join,
)

OPTION = "services_file"
TEXT_OPTION = "services_json"
SHOWN = 60  # characters of a bad services_json an error message shows


def load(path):
    """The services list in the file at ``path``; InputError naming ``services_file`` otherwise."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise InputError(OPTION, path, f"cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise InputError(OPTION, path, f"is not JSON: {exc}") from None
    return _services_list(OPTION, path, data)


def load_text(text):
    """The services list in the JSON text ``text``; InputError naming ``services_json`` otherwise
    (the value shown is the text's start: it may be megabytes)."""
    shown = text if len(text) <= SHOWN else text[:SHOWN] + f"... ({len(text)} characters)"
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(TEXT_OPTION, shown, f"is not JSON: {exc}") from None
    return _services_list(TEXT_OPTION, shown, data)


def _services_list(option, shown, data):
    if isinstance(data, dict) and data.get("kind") == "services" and "entries" in data:
        if data.get("format") != 1:
            raise InputError(option, shown, f"is a services state file of format {data.get('format')!r}, not 1")
        data = data["entries"]
    if not isinstance(data, list):
        raise InputError(option, shown, "must hold a list of services or a services.json state document")
    return data


def check_keys(services, options):
    """``services`` as AnsibleModule would pass the option: every key of every service (and of
    its real servers and laddrs) a suboption of ``services`` (``options``: the argument spec's
    ``services.options``), every value of its suboption's type. Returns the converted list."""
    return [_entry(item_path("services", index), svc, options) for index, svc in enumerate(services)]


def _entry(path, entry, options):
    if not isinstance(entry, dict):
        raise InputError(path, entry, "must be a dictionary")
    unknown = sorted(set(entry) - set(options))
    if unknown:
        hint = did_you_mean(str(unknown[0]), options)
        raise InputError(path_join(path, unknown[0]), entry[unknown[0]], f"unknown key ({hint})")
    return {name: _value(path_join(path, name), value, options[name]) for name, value in entry.items()}


def _value(path, value, spec):
    if value is None:
        return None
    if spec.get("type") == "list":
        if not isinstance(value, list):
            raise InputError(path, value, "must be a list")
        if spec.get("options"):
            return [_entry(item_path(path, index), item, spec["options"]) for index, item in enumerate(value)]
        return [
            _converted(item_path(path, index), item, spec.get("elements", "raw")) for index, item in enumerate(value)
        ]
    value = _converted(path, value, spec.get("type", "str"))
    if spec.get("choices") and value not in spec["choices"]:
        raise InputError(path, value, f"must be one of {', '.join(map(str, spec['choices']))}")
    return value


def _converted(path, value, kind):
    try:
        return DEFAULT_TYPE_VALIDATORS[kind](value)
    except (TypeError, ValueError) as exc:
        raise InputError(path, value, f"must be of type {kind}: {exc}") from None


def with_file(params, options):
    """``params`` with ``services`` read from ``services_file`` or ``services_json`` when one is
    set (a copy; the module's own dict is left alone). More than one of the three is an input
    error."""
    path, text = params.get(OPTION) or None, params.get(TEXT_OPTION)
    if path is None and text is None:
        return params
    given = [name for name in ("services", OPTION, TEXT_OPTION) if params.get(name) not in (None, [])]
    if len(given) > 1:
        value = params[given[1]] if given[1] == OPTION else f"({len(params[given[1]])} characters)"
        raise InputError(given[1], value, f"and {given[0]} are mutually exclusive: give the table one way")
    loaded = load(path) if path is not None else load_text(text)
    return dict(params, services=check_keys(loaded, options))
