# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired DPVS runtime state as files, for the replay at DPVS start (dpvs-state.service).

DPVS keeps nothing across a restart (transcripts README section 0). The ``dpvs_network`` and
``dpvs_services`` roles write what they converge into a state directory; the replay script
(``roles/dpvs/files/dpvs_state.py``) applies it to the fresh daemon:

* ``addresses.json`` / ``routes.json``: ``{"format": 1, "kind", "entries": [...],
  "commands": [[dpip argv without the binary], ...]}``. ``entries`` are the modules' own
  normalised shapes (``_dpip_state``), ``commands`` the ``dpip ... add`` lines a fresh daemon
  needs, rendered by the same functions the modules use.
* ``ipvsadm.rules``: ``ipvsadm -R`` input (no comments: ``-R`` parses every line as a command):
  ``-A`` with every DPVS option, ``-a`` with the port always explicit, ``--add-laddr ... -F
  DEV`` (``-R`` accepts it; ``ipvsadm -S`` would lose it), black/white list lines.

Only ``state: present`` objects are written; services that leave ``real_servers``/``laddrs``
unmanaged contribute only their ``-A`` line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import state as _dpip_state
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as _ipvs_model

FORMAT = 1


def _without_binary(argv):
    return [str(arg) for arg in argv[1:]]


def dpip_state(items, kind):
    """``kind`` ``addresses`` or ``routes``: the state document for the dpip_addr/dpip_route list
    ``items``. Raises InputError (the modules' own validation)."""
    if kind == "addresses":
        entries = _dpip_state.normalize_addr_params({"addresses": items})["addresses"]
        present = [entry for entry in entries if entry["state"] == "present"]
        commands = [_without_binary(_dpip_state.addr_add_argv("dpip", entry)) for entry in present]
    elif kind == "routes":
        entries = _dpip_state.normalize_route_params({"routes": items})["routes"]
        present = [entry for entry in entries if entry["state"] == "present"]
        commands = [_without_binary(_dpip_state.route_add_argv("dpip", entry)) for entry in present]
    else:
        raise ValueError(f"kind must be addresses or routes, not {kind!r}")
    for entry in present:
        entry.pop("index", None)
    return {"format": FORMAT, "kind": kind, "entries": present, "commands": commands}


def ipvsadm_rules(services):
    """``ipvsadm -R`` lines (a list of strings) that rebuild ``services`` on an empty DPVS."""
    table = _ipvs_model.normalize(services, flavor="dpvs")
    lines = []
    for svc in table:
        if svc["state"] != "present":
            continue
        lines.append(_ipvs_model.restore_line(_ipvs_model.render_add_service(svc, "dpvs")))
        for rs in svc["real_servers"] or []:
            lines.append(_ipvs_model.restore_line(_ipvs_model.render_add_rs(svc, rs)))
        for laddr in svc["laddrs"] or []:
            lines.append(_ipvs_model.restore_line(_ipvs_model.render_add_laddr(svc, laddr)))
        for name in ("blocklist", "allowlist"):
            for entry in svc.get(name) or []:
                lines.append(_ipvs_model.restore_line(_ipvs_model.render_acl(svc, name, entry, True)))
    return lines
