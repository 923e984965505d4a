# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpvs_conf_check
short_description: Check a dpvs.conf text; the list of problems (empty when it is fine)
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Parses the keepalived-style block syntax and checks balanced braces, known sections and keywords
    (DPVS's C(conf/dpvs.conf.items)), value types and ranges, exactly one master worker, queue ids that start
    at 0 and are contiguous per device, worker ports that name devices, C(flow_enable off) with several
    workers only together with C(redirect on).
  - The same checker runs on the host as the C(validate) command of the C(dpvs) role's template task.
options:
  _input:
    description: The dpvs.conf text.
    type: str
    required: true
  strict:
    description: Require the C(<init>) marker on init-only keywords (generated files carry them).
    type: bool
    default: false
  version:
    description: Refuse keywords newer than this DPVS version.
    type: str
"""

EXAMPLES = r"""
- name: The file on the host is acceptable
  ansible.builtin.assert:
    that: (lookup('ansible.builtin.file', 'dpvs.conf') | dpvs.cluster.dpvs_conf_check) == []
"""

RETURN = r"""
_value:
  description: One message per problem, each naming the keyword path and line.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.conf import ConfError, parse_version, validate


def dpvs_conf_check(text, strict=False, version=None):
    try:
        parsed = parse_version(version) if version else None
    except ValueError as err:
        raise AnsibleFilterError(f"dpvs_conf_check: {err}") from None
    try:
        validate(str(text), strict=bool(strict), version=parsed)
    except ConfError as err:
        return list(err.problems)
    return []


class FilterModule:
    def filters(self):
        return {"dpvs_conf_check": plain_args(dpvs_conf_check)}
