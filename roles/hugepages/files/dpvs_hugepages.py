# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the hugepage counts of a dpvs.cluster.hugepages config to sysfs and read them back.

Run at boot by dpvs-hugepages.service (the role validated the counts when it wrote the config).
Usage: dpvs_hugepages.py CONFIG [SYSFS_ROOT]. Exit 1 when the kernel gave fewer pages than asked.
"""

import json
import os
import sys


def pool(root, node, size_kb):
    base = "kernel/mm/hugepages" if node is None else f"devices/system/node/node{node}/hugepages"
    return os.path.join(root, base, f"hugepages-{size_kb}kB", "nr_hugepages")


def read(path):
    with open(path) as handle:
        return int(handle.read())


def main(argv):
    with open(argv[1]) as handle:
        pages = json.load(handle)["pages"]
    root = argv[2] if len(argv) > 2 else "/sys"
    # decreases first: what they free may serve the increases
    pages = sorted(pages, key=lambda p: read(pool(root, p["node"], p["size_kb"])) < p["count"])
    for page in pages:
        with open(pool(root, page["node"], page["size_kb"]), "w") as handle:
            handle.write(str(page["count"]))
    short = 0
    for page in pages:
        got = read(pool(root, page["node"], page["size_kb"]))
        where = "system-wide" if page["node"] is None else f"node {page['node']}"
        print(f"{where} {page['size_kb']}kB: asked {page['count']}, got {got}")
        short += got != page["count"]
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
