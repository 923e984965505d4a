# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``dpvs-cluster metrics dpvs|kernel --output FILE``: one collection, one textfile written.

Run by the metrics role's timer (a oneshot service). It reads the sources (``dpvs.read_dpvs`` or
``kernel.read_kernel``), renders every family and replaces FILE atomically. A source that fails
is named on stderr (the journal) and exported as ``<prefix>_metrics_source_up{source} 0``; the
file is still written, so the metrics of the sources that answered stay current. Exit status:
0 once the file is written, 1 when it cannot be, 2 for bad arguments.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import sys
import time

from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner, subprocess_run_command
from ansible_collections.dpvs.cluster.plugins.module_utils.metrics import dpvs as _dpvs
from ansible_collections.dpvs.cluster.plugins.module_utils.metrics import kernel as _kernel
from ansible_collections.dpvs.cluster.plugins.module_utils.metrics.exposition import Family, render, write_atomic

PREFIX = "dpvs-cluster metrics: "
# seconds one dpip/ipvsadm call may take before it is killed (a timer run must end)
COMMAND_TIMEOUT = 20.0


def parser():
    parse = argparse.ArgumentParser(prog="dpvs-cluster metrics", description=__doc__.splitlines()[0])
    parse.add_argument("target", choices=("dpvs", "kernel"), help="a DPVS node or a kernel_lb host")
    parse.add_argument("--output", required=True, help="the .prom file node_exporter's textfile collector reads")
    parse.add_argument("--dpip", default="dpip", help="dpvs: DPVS's dpip")
    parse.add_argument("--ipvsadm", default="ipvsadm", help="DPVS's ipvsadm (dpvs), the kernel's (kernel --ipvs)")
    parse.add_argument("--ipc-file", default=None, help="dpvs: DPVS's control socket (else $DPVS_IPC_FILE)")
    parse.add_argument("--ipvs", action="store_true", help="kernel: also read the Linux IPVS table")
    parse.add_argument("--proc", default="/proc", help="kernel: where procfs is mounted")
    parse.add_argument("--timeout", type=float, default=COMMAND_TIMEOUT, help="seconds per command")
    return parse


def host_runner(ipc_file, timeout):
    """The collection's runner over plain subprocesses, each command killed after ``timeout``."""

    def run_command(argv, **kwargs):
        return subprocess_run_command(argv, timeout=timeout, **kwargs)

    return Runner(run_command, ipc_file=ipc_file or os.environ.get("DPVS_IPC_FILE"))


def proc_reader(root):
    """``read_text(path)`` of a /proc path below ``root`` (tests give a fixture folder)."""

    def read_text(path):
        with open(os.path.join(root, os.path.relpath(path, "/proc")), encoding="utf-8") as handle:
            return handle.read()

    return read_text


def collect(args, runner=None, read_text=None):
    """``(families, problems by source)`` of one run for the parsed ``args``."""
    runner = runner or host_runner(args.ipc_file, args.timeout)
    if args.target == "dpvs":
        data, problems, up = _dpvs.read_dpvs(runner, args.dpip, args.ipvsadm)
        return _dpvs.dpvs_families(data, problems, up), problems, "dpvs"
    data, problems = _kernel.read_kernel(
        read_text or proc_reader(args.proc), runner, args.ipvsadm if args.ipvs else None
    )
    return _kernel.kernel_families(data, problems, args.ipvs), problems, _kernel.PREFIX


def main(argv=None, runner=None, read_text=None, clock=time.time, err=None):
    """The ``metrics`` command; see the module docstring for the exit status."""
    err = err or sys.stderr
    args = parser().parse_args(argv)
    started = clock()
    families, problems, prefix = collect(args, runner, read_text)
    for source, problem in sorted(problems.items()):
        err.write(f"{PREFIX}{source}: {problem}\n")
    families.append(
        Family(f"{prefix}_metrics_timestamp_seconds", "gauge", "When this collection ran (Unix time).").add(started)
    )
    families.append(
        Family(f"{prefix}_metrics_duration_seconds", "gauge", "How long this collection took.").add(
            max(0.0, clock() - started)
        )
    )
    try:
        write_atomic(args.output, render(families))
    except OSError as exc:
        err.write(f"{PREFIX}cannot write {args.output}: {exc}\n")
        return 1
    return 0
