# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: summary
type: aggregate
short_description: One short table per host at the end of a run - what changed, per role, and what it serves
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - At the end of the run prints, per host, the roles (or plays, for tasks outside a role) that changed
    something with the number of changed and failed tasks, what the host needs before the changes take
    effect (the roles' C(*_restart_required), C(*_reboot_required) and C(*_reload_required) facts that
    are true or non-empty lists, such as C(dpvs_restart_required), C(hugepages_reboot_required) and
    C(toa_reload_required)), and the virtual services the host serves as
    the last M(dpvs.cluster.ipvsadm) task of the run read them.
  - The message of every passed C(assert) task whose name starts with C(Verify |) (what C(playbooks/verify.yml)
    checked) is listed too, so that a verify run with ok results hidden still says what it proved.
  - Enable it with C(ANSIBLE_CALLBACKS_ENABLED=dpvs.cluster.summary) or C(callbacks_enabled) in
    C(ansible.cfg); C(make demo) does.
requirements:
  - enable in configuration
"""

from ansible.plugins.callback import CallbackBase


def _group(task):
    role = getattr(task, "_role", None)
    if role is not None:
        return role.get_name().split(".")[-1]
    return "(playbook tasks)"


def _is_verify(task):
    return (task.name or "").startswith("Verify |")


def _services(result):
    served = []
    for svc in result.get("services") or []:
        servers = len(svc.get("real_servers") or [])
        served.append(f"{svc.get('protocol')} {svc.get('vip')}:{svc.get('port')} ({servers} rs)")
    return served


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "dpvs.cluster.summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._changed = {}
        self._needs = {}
        self._served = {}
        self._verified = {}

    def _count(self, result, key):
        host = result._host.get_name()
        per_host = self._changed.setdefault(host, {})
        counts = per_host.setdefault(_group(result._task), {"changed": 0, "failed": 0})
        counts[key] += 1

    def v2_runner_on_ok(self, result):
        res = result._result
        host = result._host.get_name()
        if res.get("changed"):
            self._count(result, "changed")
        for name, value in (res.get("ansible_facts") or {}).items():
            if name.endswith(("_reboot_required", "_restart_required", "_reload_required")):
                if value is True:
                    self._needs.setdefault(host, set()).add(name)
                elif isinstance(value, list) and value:  # toa_reload_required: the modules to reload
                    self._needs.setdefault(host, set()).add(f"{name} ({', '.join(str(v) for v in value)})")
        if result._task.action in ("ansible.builtin.assert", "assert") and _is_verify(result._task):
            self._verified.setdefault(host, []).append(res.get("msg") or result._task.name)
        if result._task.action in ("dpvs.cluster.ipvsadm", "ipvsadm") and "services" in res:
            self._served[host] = _services(res)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._count(result, "failed")

    def v2_playbook_on_stats(self, stats):
        lines = ["", "SUMMARY " + "*" * 71]
        for host in sorted(stats.processed):
            lines.extend(self._host_lines(host))
        self._display.display("\n".join(lines))

    def _host_lines(self, host):
        groups = self._changed.get(host, {})
        changed = ", ".join(
            f"{name} {c['changed']}" + (f" (failed {c['failed']})" if c["failed"] else "") for name, c in groups.items()
        )
        lines = [f"{host}", f"  changed   {changed or 'nothing'}"]
        needs = sorted(self._needs.get(host, ()))
        lines.append(f"  needs     {', '.join(needs) if needs else 'no restart, no reboot'}")
        if host in self._served:
            served = self._served[host]
            more = " ..." if len(served) > 6 else ""
            lines.append(f"  serves    {len(served)} service(s): {', '.join(served[:6])}{more}")
        lines.extend(f"  verified  {msg}" for msg in self._verified.get(host, []))
        return lines
