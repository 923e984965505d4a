# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way collection code runs on a host outside a module: the ``dpvs-cluster`` tool.

- ``main``: ``dpvs-cluster COMMAND [ARGS]``, one subcommand per boot-time or unit job, each the
  entry point of the module_utils file that owns the job (the same code the modules run).

The tool is a zip application built on the controller from this tree by the ``host_tool``
action (plugins/action/host_tool.py) and copied to the host by it; the roles' units run
``python3 /usr/local/lib/dpvs-cluster/dpvs-cluster.pyz COMMAND ...``.
"""
