# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the kernel_forwarder role: validation, desired NAT rules, plan against iptables-save.

Thin wrappers; the logic is in ``module_utils/kernel/forwarder.py`` and ``module_utils/kernel/iptables_save.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.module_utils.controller.plain_data import plain_args
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel import forwarder as _kforward
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.iptables_save import SaveFormatError, tagged_rules


def kernel_forwarder_problems(
    forwards, address, snat_address=None, reply_snat=True, guard_tcp_port=None, comment=_kforward.DEFAULT_COMMENT
):
    """Every problem of the forwarder inputs (a list of strings; empty when valid)."""
    return _kforward.problems(
        forwards,
        address,
        snat_address=snat_address,
        reply_snat=reply_snat,
        guard_tcp_port=guard_tcp_port or None,
        comment=comment,
    )


def kernel_forwarder_rules(
    forwards,
    address,
    snat_address=None,
    comment=_kforward.DEFAULT_COMMENT,
    reply_snat=True,
    match_destination=True,
    mode="iptables",
):
    """The nat-table rules the forwards need, as ansible.builtin.iptables options."""
    try:
        return _kforward.desired_rules(
            forwards,
            address,
            snat_address=snat_address or None,
            comment=comment,
            reply_snat=reply_snat,
            match_destination=match_destination,
            mode=mode,
        )
    except ValueError as exc:
        raise AnsibleFilterError(f"kernel_forwarder: {exc}") from exc


def kernel_forwarder_plan(desired, saved, comment=_kforward.DEFAULT_COMMENT, purge=True):
    """``desired`` rules vs the tagged rules in ``saved`` (iptables-save text or lines, nat table)."""
    try:
        live = tagged_rules(saved, "nat", comment)
    except SaveFormatError as exc:
        raise AnsibleFilterError(f"kernel_forwarder: cannot read iptables-save output: {exc}") from exc
    return _kforward.plan(desired, live, purge=purge)


def kernel_forwarder_rule_text(rule):
    """One rule in ``iptables -t nat -S`` syntax."""
    return _kforward.rule_text(rule)


def kernel_forwarder_conntrack(removed):
    """``conntrack -D`` argument lists for the removed DNAT rules of a plan."""
    return [_kforward.conntrack_argv(item) for item in _kforward.conntrack_flushes(removed)]


def kernel_forwarder_ipvs_services(forwards, address, scheduler="sh"):
    """IPVS mode: the forwards as dpvs.cluster.ipvsadm services (one per port)."""
    try:
        return _kforward.ipvs_services(forwards, address, scheduler=scheduler)
    except ValueError as exc:
        raise AnsibleFilterError(f"kernel_forwarder: {exc}") from exc


def kernel_forwarder_ipvs_saved(saved, services=None):
    """The saved IPVS table without the services keepalived keeps (lines)."""
    try:
        return _kforward.ipvs_saved_without_keepalived(saved, services)
    except (_kforward.InputError, ValueError) as exc:
        raise AnsibleFilterError(f"kernel_forwarder_ipvs_saved: {exc}") from exc


class FilterModule:
    def filters(self):
        return {
            "kernel_forwarder_problems": plain_args(kernel_forwarder_problems),
            "kernel_forwarder_rules": plain_args(kernel_forwarder_rules),
            "kernel_forwarder_plan": plain_args(kernel_forwarder_plan),
            "kernel_forwarder_rule_text": plain_args(kernel_forwarder_rule_text),
            "kernel_forwarder_conntrack": plain_args(kernel_forwarder_conntrack),
            "kernel_forwarder_ipvs_services": plain_args(kernel_forwarder_ipvs_services),
            "kernel_forwarder_ipvs_saved": plain_args(kernel_forwarder_ipvs_saved),
        }
