# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired DPVS runtime state as files, for the replay at DPVS start (dpvs-state.service).

DPVS keeps nothing across a restart (transcripts README section 0). The ``dpvs_network`` and
``dpvs_services`` roles write what they converge into a state directory; the replay
(``dpvs_state.replay``, ``dpvs-cluster replay``) converges the fresh daemon to it with the
modules' own tables:

* ``addresses.json`` / ``routes.json``: ``{"format": 1, "kind", "entries": [...],
  "commands": [[dpip argv without the binary], ...]}``. ``entries`` are the modules' own
  normalised shapes (``_dpip_state``), ``commands`` the ``dpip ... add`` lines a fresh daemon
  needs, rendered by the same functions the modules use.
* ``ipvsadm.rules``: ``ipvsadm -R`` input (no comments: ``-R`` parses every line as a command):
  ``-A`` with every DPVS option, ``-a`` with the port always explicit, ``--add-laddr ... -F
  DEV`` (``-R`` accepts it; ``ipvsadm -S`` would lose it), black/white list lines. The replay
  runs it only for a directory without ``services.json`` (written before that file existed).
* ``services.json``: ``{"format": 1, "kind": "services", "entries": [...]}``, the declared
  services as the ipvsadm module takes them (validated, ``state: present`` only): the replay
  converges the IPVS table to them with the module's ``IpvsTable``.

The format of the three JSON files stays 1: ``services.json`` is a new file, the other two did
not change (a replay from before it reads them and ignores ``services.json``).

Only ``state: present`` objects are written; services that leave ``real_servers``/``laddrs``
unmanaged contribute only their ``-A`` line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import state as _dpip_state
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as _ipvs_model

FORMAT = 1
KINDS = ("addresses", "routes", "services")
FILES = {"addresses": "addresses.json", "routes": "routes.json", "services": "services.json"}
RULES_FILE = "ipvsadm.rules"


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
    """``ipvsadm -R`` lines (a list of strings) that rebuild ``services`` on an empty DPVS
    (keepalived's services left out: keepalived adds them when it starts after DPVS)."""
    table = _ipvs_model.normalize(services, flavor="dpvs")
    lines = []
    for svc in table:
        if svc["state"] != "present" or svc["owner"] != "ipvsadm":
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


def services_state(services):
    """The ``services.json`` document of the ipvsadm module's ``services`` list: the present
    services as declared (validated by the module's own normaliser; raises InputError)."""
    table = _ipvs_model.normalize(services, flavor="dpvs")
    present = [dict(item) for item, svc in zip(services or [], table) if svc["state"] == "present"]
    return {"format": FORMAT, "kind": "services", "entries": present}


def state_document(items, kind):
    """The state document of ``kind`` (addresses, routes, services) for the declared ``items``."""
    if kind == "services":
        return services_state(items)
    return dpip_state(items, kind)


def read_document(path, kind, missing=True):
    """The state document of ``kind`` at ``path``; a missing file is an empty one (``missing``
    True) or None. Raises OSError (unreadable) or ValueError (not such a document)."""
    if not os.path.exists(path):
        return {"format": FORMAT, "kind": kind, "entries": [], "commands": []} if missing else None
    with open(path, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise ValueError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("kind") != kind:
        raise ValueError(f"{path}: not a dpvs.cluster {kind} state file (format {FORMAT})")
    if not isinstance(data.get("entries", []), list) or not all(isinstance(e, dict) for e in data.get("entries", [])):
        raise ValueError(f"{path}: entries must be a list of objects")
    if not all(isinstance(cmd, list) and cmd for cmd in data.get("commands", [])):
        raise ValueError(f"{path}: commands must be argument lists")
    return data


def read_rules(path):
    """The lines of an ``ipvsadm.rules`` file (blank lines dropped; [] when it is missing)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def declared(document):
    """A state document's entries as the module's list option: ``{"addresses": [...]}``,
    ``{"routes": [...]}`` or ``{"services": [...]}``. Raises ValueError for an entry without
    the keys its kind needs."""
    kind = document["kind"]
    entries = document.get("entries", [])
    if kind != "addresses":
        return {kind: [{k: v for k, v in entry.items() if k != "index"} for entry in entries]}
    try:
        items = [
            {
                "address": "{}/{}".format(entry["address"], entry["prefixlen"]),
                "dev": entry["dev"],
                **{key: entry[key] for key in ("scope", "sapool", "broadcast") if key in entry},
            }
            for entry in entries
        ]
    except KeyError as exc:
        raise ValueError(f"an addresses entry has no {exc}") from None
    return {"addresses": items}
