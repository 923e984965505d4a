# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options and attributes shared by the DPVS state modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The control socket and dpip, which every DPVS module uses.
    DOCUMENTATION = r"""
options:
  ipc_file:
    description:
      - The DPVS control socket (C(dpvs -x FILE)), exported to dpip and ipvsadm as E(DPVS_IPC_FILE).
      - When omitted the tools use their default, C(/var/run/dpvs.ipc).
    type: path
  dpip_path:
    description:
      - The dpip binary, a name looked up in E(PATH) or an absolute path.
    type: str
    default: dpip
"""

    # The modules that also run ipvsadm.
    IPVSADM = r"""
options:
  ipvsadm_path:
    description:
      - The ipvsadm binary, a name looked up in E(PATH) or an absolute path.
    type: str
    default: ipvsadm
"""

    # Modules that change state: the same code path in check mode, before/after in diff mode.
    ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    description:
      - The plan is computed as in a real run; no command that writes is run. RV(commands) lists what
        a real run would run.
  diff_mode:
    support: full
    description:
      - Returns the table before and after, in the tools' own syntax.
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the DPVS host, where dpip and ipvsadm are.
"""

    # Read-only modules.
    INFO_ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    description:
      - Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description:
      - Changes nothing, so there is no diff.
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the DPVS host, where dpip and ipvsadm are.
"""
