# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel path (kernel-mode UDP forwarders): iptables, Linux IPVS, counters, probes.

- ``forwarder``: ``kernel_forwarder``'s inputs, the iptables rules and IPVS services they mean;
- ``iptables_save``: parser of ``iptables-save`` and the collection's tagged rules;
- ``net_stats``: /proc/net/snmp and softnet counters (``net_stats_info``);
- ``udp_probe``: a bounded UDP burst and its answers (``udp_probe``);
- ``tcp_probe``: a bounded burst of TCP connections and their outcomes (``tcp_probe``);
- ``toa_stats``: the counters of DPVS's toa.ko and uoa.ko on a real server (``toa_stats_info``);
- ``vip_traffic``: traffic through the DPVS VIPs, what to probe and the verdict
  (``playbooks/verify_dpvs_traffic.yml``).
"""
