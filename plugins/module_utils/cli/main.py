# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``dpvs-cluster COMMAND [ARGS]``: dispatch to the entry point of the file that owns the job.

Each entry point takes ``argv`` (the arguments after the command) and returns the exit status.
Entry points are imported when their command runs, so a command needs only its own files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import sys

PACKAGE = "ansible_collections.dpvs.cluster.plugins.module_utils"

# command -> (module below module_utils, function, one line of help)
COMMANDS = {
    "devbind": ("host.devbind", "boot_main", "re-apply the recorded DPDK NIC bindings (dpvs-devbind.service)"),
    "nic-queues": ("host.nic_queues", "main", "apply NIC queue tuning (udev rule, dpvs-nic-queues.service)"),
    "hugepages": ("host.hugepages", "boot_main", "write the recorded hugepage pools (dpvs-hugepages.service)"),
    "conf-check": ("dpvs_conf.conf", "main", "check a dpvs.conf (the dpvs role's validate command)"),
    "wait": ("dpvs_state.probe", "wait_main", "wait until DPVS answers (dpvs.service ExecStartPost)"),
    "replay": ("dpvs_state.replay", "replay_main", "replay the persisted DPVS state (dpvs-state.service)"),
    "hugepage-files": ("host.hugepage_files", "main", "free DPDK's hugepage files (dpvs.service ExecStopPost)"),
    "metrics": ("metrics.collector", "main", "write the Prometheus textfile (dpvs-metrics.service)"),
}


def usage():
    lines = ["usage: dpvs-cluster COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<14} {help_text}" for name, (_module, _function, help_text) in COMMANDS.items()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run ``argv[0]`` with the rest of ``argv``; 2 and the usage for an unknown command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        sys.stdout.write(usage())
        return 0
    if not argv or argv[0] not in COMMANDS:
        sys.stderr.write((f"unknown command {argv[0]!r}\n" if argv else "") + usage())
        return 2
    module, function, _help = COMMANDS[argv[0]]
    entry = getattr(importlib.import_module(f"{PACKAGE}.{module}"), function)
    return entry(argv[1:])
