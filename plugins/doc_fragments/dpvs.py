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
"""

    # Modules that only read (a module with a check-mode text of its own overrides check_mode).
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description:
      - Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description:
      - Changes nothing, so there is no diff.
"""

    # Where the DPVS modules run.
    DPVS_HOST = r"""
attributes:
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the DPVS host, where dpip and ipvsadm are.
"""

    # The modules whose purge removes undeclared objects: the guard and the names in messages.
    PURGE = r"""
options:
  purge_max:
    description:
      - The most live objects one run's O(purge) may remove. A purge that would remove more stops before any
        change, lists what it would remove and says which option allows it (check mode stops the same way).
      - Raise it for a run that really retires many objects, or use O(purge_all).
    type: int
    default: 20
  purge_all:
    description:
      - Allow O(purge) to remove every live object it may touch (leaving that table empty) and more than
        O(purge_max). Without it such a purge is refused - a typo in a variable name or an emptied list
        would otherwise remove a whole live table.
    type: bool
    default: false
  option_names:
    description:
      - How error messages name this module's options (option name to variable name). A role passes the
        variables its users write (for example C(services) to C(dpvs_services_services)), so that a message
        names C(dpvs_services_services[1].port), not C(services[1].port).
    type: dict
    default: {}
"""
