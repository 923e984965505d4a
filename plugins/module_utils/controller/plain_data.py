# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A filter's arguments as plain Python data, before the collection's code touches them.

ansible-core 2.19 hands a filter its variables as lazy containers (lists and dicts that template
each item on first access, tagged with where they came from). Copying one deep copies, item by
item, what it needs to template the rest: ``copy.deepcopy`` of a 20-service list took 11 s, and
the dpvs_services role's preflight (which gives the list to Ansible's ArgumentSpecValidator, which
deep copies its input) 378 s at 100 services, growing with the square of the list. Read once into
plain ``dict``/``list``/``str``/``int``/``float``/``bool``, the same list is copied in
milliseconds. Every filter of the collection takes its arguments through :func:`plain_args`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import json
from collections.abc import Mapping


def plain(value):
    """``value`` with every mapping a ``dict``, every list or tuple a ``list`` and every scalar
    of its exact built-in type (tagged strings and numbers lose their tags)."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, Mapping):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    for kind in (bool, str, int, float):  # bool before int: True is an int
        if isinstance(value, kind):
            return kind(value) if kind is not str else str.__str__(value)
    return value


def plain_args(function):
    """A filter function whose positional and keyword arguments are made :func:`plain` first."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*(plain(arg) for arg in args), **{name: plain(arg) for name, arg in kwargs.items()})

    return wrapper


def from_json_text(value):
    """``value``, or the data it holds when it is JSON text: the dpvs_services role carries a table
    as the text ``to_json`` made of it (at 10,000 services a task costs about 2 s holding the text,
    3-10 s reading the list) and the filters read either.
    Any other string (a user's mistake, for example) is returned as it is, for the caller's
    checks to name."""
    if isinstance(value, str) and value.lstrip().startswith(("[", "{")):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
