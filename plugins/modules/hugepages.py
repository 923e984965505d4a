#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hugepages
short_description: Set the hugepage pools per NUMA node and page size, and check what the kernel allocated
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Sets C(nr_hugepages) of the pools given in O(pages), per NUMA node
    (C(/sys/devices/system/node/nodeN/hugepages/hugepages-2048kB)) or for the whole host
    (C(/sys/kernel/mm/hugepages/hugepages-2048kB)) when O(pages[].node) is omitted.
  - Validates every entry before it writes anything, reads the pools once, writes only the counts that
    differ (decreases first), then reads them back. The kernel allocates what it can; when it gives fewer
    pages than asked (fragmented or used memory) the module fails, naming the node, size, count asked and
    count got and what it wrote, unless O(allow_partial=true).
  - Pools not listed are left alone. The pools are runtime state; the P(dpvs.cluster.hugepages#role) role
    makes them survive a reboot.
options:
  pages:
    description:
      - The pools to set. Each node and size at most once; one size either per node or system-wide.
    type: list
    elements: dict
    required: true
    suboptions:
      size:
        description:
          - The page size. V(1G) needs a CPU with the C(pdpe1gb) flag and a kernel that offers the size.
        type: str
        required: true
        choices: [2M, 1G]
      node:
        description:
          - The NUMA node. Omitted, the system-wide pool, which the kernel spreads over the nodes.
        type: int
      count:
        description:
          - The number of pages, V(0) or more; at most what fits in the memory of the node.
        type: int
        required: true
  allow_partial:
    description:
      - Succeed when the kernel allocated fewer pages than asked; RV(pages[].after) shows what it gave.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description:
      - The same validation and plan as a real run; nothing is written. RV(writes) lists what would be.
  diff_mode:
    support: full
    description:
      - Returns the page counts per pool before and after.
  platform:
    support: full
    platforms: posix
    description:
      - Linux hosts (sysfs).
notes:
  - Read-back failures leave the pages the kernel did allocate; a later run may get more once memory frees up.
seealso:
  - name: HugeTLB pages in the kernel documentation
    description: The sysfs interface, per node pools and the boot parameters.
    link: https://docs.kernel.org/admin-guide/mm/hugetlbpage.html
"""

EXAMPLES = r"""
- name: 2 MB pages on both NUMA nodes of a DPVS host
  dpvs.cluster.hugepages:
    pages:
      - {size: 2M, node: 0, count: 1024}
      - {size: 2M, node: 1, count: 1024}

- name: Give back the pages of node 1, whatever the kernel can free
  dpvs.cluster.hugepages:
    pages:
      - {size: 2M, node: 1, count: 0}
    allow_partial: true
"""

RETURN = r"""
pages:
  description: One entry per O(pages) item, in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    node:
      description: The NUMA node, null for the system-wide pool.
      type: int
      sample: 0
    size:
      description: The page size.
      type: str
      sample: 2M
    requested:
      description: The count asked for.
      type: int
      sample: 64
    before:
      description: C(nr_hugepages) before the run.
      type: int
      sample: 0
    after:
      description:
        - C(nr_hugepages) read back after the run; in check mode the predicted value (the count asked for).
      type: int
      sample: 64
    free:
      description: C(free_hugepages) read back after the run (in check mode, the current value).
      type: int
      sample: 64
writes:
  description: The sysfs writes done (or, in check mode, that would be done), in order.
  returned: always
  type: list
  elements: dict
  sample: [{path: /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages, value: 64}]
applied:
  description: On a failure after writing, the writes that were done (path, node, size, before, count).
  returned: failure
  type: list
  elements: dict
diff:
  description: The counts per pool (V(node0 2M), V(system 1G)) before and after.
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import errors
from ansible_collections.dpvs.cluster.plugins.module_utils.host.hugepages import root_fs, run

ARGUMENT_SPEC = dict(
    pages=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            size=dict(type="str", required=True, choices=["2M", "1G"]),
            node=dict(type="int"),
            count=dict(type="int", required=True),
        ),
    ),
    allow_partial=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run(
            root_fs(),
            module.params["pages"],
            check_mode=module.check_mode,
            allow_partial=module.params["allow_partial"],
        )
    except errors.FAMILY as err:
        fields = errors.report(err)
        fields.pop("commands", None)  # this module reports its writes as writes/applied
        module.fail_json(**fields)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
