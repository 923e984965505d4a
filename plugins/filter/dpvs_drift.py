# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_drift
short_description: What a check-mode run of a dpvs.cluster state module says differs, one line per change
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Takes the registered result of M(dpvs.cluster.dpip_addr), M(dpvs.cluster.dpip_route) or
    M(dpvs.cluster.ipvsadm) run in check mode and returns one line per command the module would send,
    prefixed with the variable that declares the table. The lines of an C(ipvsadm -R) batch are listed one
    by one, as the C(ipvsadm) commands they stand for.
  - An empty list means the live table is what the inventory declares.
options:
  _input:
    description: The registered module result.
    type: dict
    required: true
  variable:
    description: The inventory variable that declares the table, for the messages.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The live services are the inventory's
  ansible.builtin.assert:
    that: dpvs_services_result | dpvs.cluster.dpvs_drift('dpvs_services_services') | length == 0
    fail_msg: "{{ dpvs_services_result | dpvs.cluster.dpvs_drift('dpvs_services_services') | join('; ') }}"
"""

RETURN = r"""
_value:
  description: "Lines C(VARIABLE needs: COMMAND), in the order the module would run them."
  type: list
  elements: str
"""


from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args


def _commands(command):
    argv = [str(arg) for arg in command.get("cmd") or []]
    stdin = command.get("stdin")
    if stdin and argv[-1:] == ["-R"]:
        binary = argv[0].rsplit("/", 1)[-1]
        return [f"{binary} {line.strip()}" for line in stdin.splitlines() if line.strip()]
    if argv:
        argv[0] = argv[0].rsplit("/", 1)[-1]
    return [" ".join(argv)]


def dpvs_drift(result, variable):
    lines = []
    for command in (result or {}).get("commands") or []:
        lines.extend(f"{variable} needs: {line}" for line in _commands(command))
    return lines


class FilterModule:
    def filters(self):
        return {"dpvs_drift": plain_args(dpvs_drift)}
