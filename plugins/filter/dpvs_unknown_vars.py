# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_unknown_vars
short_description: Host variables that look like a dpvs.cluster role variable but that no role declares
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Takes a host's variables (C(hostvars[inventory_hostname])) and returns one message for each name that
    starts with a role's prefix (C(dpvs_services_), C(hugepages_), ...) or is close to a declared name
    (C(hugepage_pages)), but that no role of the collection declares, with the closest declared name.
  - Declared names are the options of every role's C(meta/argument_specs.yml), its C(defaults/) and C(vars/)
    files, what its tasks C(register) or C(set_fact), and the role-prefixed names the collection's playbooks
    use (C(kernel_forwarder_verify_count)). Names starting with C(_) or C(ansible_) are skipped.
  - A misspelt variable makes a role fall back to its default; with a purge that default can empty a table.
options:
  _input:
    description: The host's variables.
    type: dict
    required: true
  ignore:
    description: Names to accept anyway (the inventory's own variables that happen to look like a role's).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Validate | no misspelt role variable
  ansible.builtin.assert:
    that: __unknown | length == 0
    fail_msg: "{{ __unknown | join('; ') }}"
    quiet: true
  vars:
    __unknown: "{{ hostvars[inventory_hostname] | dpvs.cluster.dpvs_unknown_vars }}"
"""

RETURN = r"""
_value:
  description: One message per unknown variable, with the closest declared name.
  type: list
  elements: str
"""

import glob
import os
import re

from ansible_collections.dpvs.cluster.plugins.module_utils.controller.role_inputs import unknown_variables

COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = os.path.join(COLLECTION, "roles")
PLAYBOOKS = os.path.join(COLLECTION, "playbooks")
# `register: name`, and the keys of a set_fact (indented one level below it)
REGISTER_RE = re.compile(r"^\s*register:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$", re.M)
SET_FACT_RE = re.compile(r"^(\s*)ansible\.builtin\.set_fact:\s*\n((?:\1\s+\S.*\n?)+)", re.M)
# the escape hatch itself (docs/safety.md)
OWN = {"dpvs_cluster_ignore_vars"}
TOP_KEY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):", re.M)


def _yaml(path):
    import yaml

    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def _task_names(text):
    names = set(REGISTER_RE.findall(text))
    for _indent, body in SET_FACT_RE.findall(text):
        depth = None
        for line in body.splitlines():
            stripped = line.lstrip()
            width = len(line) - len(stripped)
            depth = width if depth is None else depth
            key = re.match(r"([A-Za-z_][A-Za-z0-9_]*):", stripped)
            if width == depth and key:
                names.add(key.group(1))
    return names


def role_names(roles_dir=ROLES, playbooks_dir=PLAYBOOKS):
    """(declared variable names, role prefixes) of the collection's roles and playbooks."""
    declared, prefixes = set(OWN), set()
    for role in sorted(os.listdir(roles_dir)):
        base = os.path.join(roles_dir, role)
        prefixes.add(role + "_")
        specs = os.path.join(base, "meta", "argument_specs.yml")
        if os.path.exists(specs):
            for entry in (_yaml(specs).get("argument_specs") or {}).values():
                declared.update((entry or {}).get("options") or {})
        declared.update(_names_in(_yml_files(base, "defaults", "vars"), TOP_KEY_RE.findall))
        declared.update(_names_in(_yml_files(base, "tasks", "handlers"), _task_names))
    words = re.compile(r"\b((?:{})[a-z0-9_]+)\b".format("|".join(sorted(prefixes, key=len, reverse=True))))
    # the playbooks and the task files they share (playbooks/tasks)
    declared.update(_names_in(_yml_files(playbooks_dir) + _yml_files(playbooks_dir, "tasks"), words.findall))
    return declared, prefixes


def _yml_files(base, *subdirs):
    """The ``*.yml`` files of ``base`` (or of its ``subdirs``, in that order)."""
    dirs = [os.path.join(base, sub) for sub in subdirs] or [base]
    return [path for folder in dirs for path in glob.glob(os.path.join(folder, "*.yml"))]


def _names_in(paths, extract):
    """The names ``extract(text)`` finds in the files ``paths``."""
    names = set()
    for path in paths:
        with open(path) as handle:
            names.update(extract(handle.read()))
    return names


def dpvs_unknown_vars(host_vars, ignore=()):
    declared, prefixes = role_names()
    return unknown_variables(set(host_vars) - set(ignore or ()), declared, prefixes)


class FilterModule:
    def filters(self):
        return {"dpvs_unknown_vars": dpvs_unknown_vars}
