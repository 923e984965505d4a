#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The documentation of an action plugin (plugins/action/host_tool.py), which runs on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_tool
short_description: Install the dpvs-cluster tool, the collection's own code as one zip application, on a host
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Builds, on the controller, the zip application C(dpvs-cluster.pyz) from this collection's
    C(plugins/module_utils) (every package but C(controller)), and copies it to O(dest) with
    M(ansible.builtin.copy).
  - On the host, C(python3 dpvs-cluster.pyz COMMAND [ARGS]) runs the entry point of the code that owns
    the job, the same code the modules run - C(devbind) (C(dpvs-devbind.service)), C(nic-queues) (the udev
    rule and C(dpvs-nic-queues.service)), C(hugepages) (C(dpvs-hugepages.service)), C(conf-check),
    C(wait) (the readiness probe of C(dpvs.service)), C(replay) (C(dpvs-state.service)), C(hugepage-files)
    (C(dpvs.service)'s C(ExecStopPost)), C(metrics) (C(dpvs-metrics.service), the metrics role's timer);
    C(--help) lists them. It needs only the Python standard library.
  - The archive is byte-for-byte the same for the same collection (sorted entries, fixed dates and
    modes), so a second run changes nothing.
options:
  dest:
    description:
      - The path of the tool on the host. Its directory is created when missing.
    type: str
    default: /usr/local/lib/dpvs-cluster/dpvs-cluster.pyz
  mode:
    description:
      - The permissions of the file, as M(ansible.builtin.copy) takes them. The tool is run by a Python,
        so it needs no execute bit.
    type: raw
    default: "0644"
  owner:
    description:
      - The owner of the file (and of the directories created for it).
    type: str
    default: root
  group:
    description:
      - The group of the file (and of the directories created for it).
    type: str
    default: root
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - action_common_attributes.files
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    description:
      - M(ansible.builtin.copy)'s check mode - the archive is built and compared, nothing is written.
  diff_mode:
    support: partial
    description:
      - M(ansible.builtin.copy)'s diff of a binary file - whether it changes, not what.
  platform:
    platforms: posix
  safe_file_operations:
    support: full
  vault:
    support: none
notes:
  - The roles P(dpvs.cluster.devbind#role), P(dpvs.cluster.net_tuning#role) and P(dpvs.cluster.hugepages#role)
    install the tool with this action and run it from their units and udev rules.
seealso:
  - module: ansible.builtin.copy
  - name: zipapp, Python zip applications
    description: How Python runs a zip file with a C(__main__.py).
    link: https://docs.python.org/3/library/zipapp.html
"""

EXAMPLES = r"""
- name: The dpvs-cluster tool, where the roles' units look for it
  dpvs.cluster.host_tool:

- name: The tool elsewhere, then run by a unit as /usr/bin/python3 /opt/dpvs/dpvs-cluster.pyz devbind
  dpvs.cluster.host_tool:
    dest: /opt/dpvs/dpvs-cluster.pyz
"""

RETURN = r"""
dest:
  description: The path of the tool on the host.
  returned: always
  type: str
  sample: /usr/local/lib/dpvs-cluster/dpvs-cluster.pyz
checksum:
  description: The SHA-1 checksum of the archive built on the controller.
  returned: always
  type: str
  sample: 6d2ac3a0c5fa5c2b3f8b1e5bfae2e4f0c1b2a3d4
commands:
  description: The tool's commands (C(dpvs-cluster COMMAND)).
  returned: always
  type: list
  elements: str
  sample: [devbind, nic-queues, hugepages, conf-check, wait, replay, hugepage-files, metrics]
"""

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = dict(
    dest=dict(type="str", default="/usr/local/lib/dpvs-cluster/dpvs-cluster.pyz"),
    mode=dict(type="raw", default="0644"),
    owner=dict(type="str", default="root"),
    group=dict(type="str", default="root"),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(
        msg="dpvs.cluster.host_tool is an action plugin that runs on the controller (it builds the archive "
        "from the collection there); this module file holds its documentation only and cannot run on a host"
    )


if __name__ == "__main__":
    main()
