#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: udp_probe
short_description: Send a bounded burst of UDP datagrams to a list of ports and count the answers
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Sends O(count) datagrams to every port of O(ports) on O(host), at most O(rate) datagrams per second, then waits
    up to O(timeout) seconds for the answers.
  - Every datagram starts with C(dpvs-probe PORT SEQ); an echo server that sends the payload back (and may append
    to it) is matched datagram by datagram, so RV(answered) counts distinct datagrams answered.
  - Reports where the answers came from (RV(reply_sources)); behind a NAT forwarder they must come from the
    address the probe sent to.
  - The probe changes no state on the host it runs on (it is a client); it runs in check mode too, and always
    reports C(changed=false).
  - Does not fail when datagrams are lost; a play decides with RV(lost) and RV(answered) (see the
    C(playbooks/verify_kernel_forwarder.yml) of the collection).
attributes:
  check_mode:
    support: full
    description:
      - Sends the burst in check mode too (a probe is a client and changes no state).
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the client that sends the burst (any host with a network path to O(host)).
extends_documentation_fragment:
  - dpvs.cluster.dpvs.READ_ONLY
options:
  host:
    description:
      - The address the datagrams are sent to (the forwarder, the VIP).
    type: str
    required: true
  ports:
    description:
      - Ports (C(7890)) and ranges (C("7890-7900")); at most 1024 ports in all.
    type: list
    elements: raw
    required: true
  count:
    description:
      - Datagrams per port.
    type: int
    default: 100
  payload_size:
    description:
      - Bytes of payload per datagram (at least 32).
    type: int
    default: 64
  rate:
    description:
      - Datagrams per second over all ports; V(0) sends as fast as the sockets take them.
    type: int
    default: 10000
  timeout:
    description:
      - Seconds to wait for answers after the last datagram was sent.
    type: float
    default: 2.0
  bind_address:
    description:
      - Local address to send from; by default the kernel picks it.
    type: str
seealso:
  - module: dpvs.cluster.net_stats_info
"""

EXAMPLES = r"""
- name: 200 datagrams on each of 11 forwarded ports (7890-7900) through the forwarder
  dpvs.cluster.udp_probe:
    host: 10.11.7.199
    ports: ["7890-7900"]
    count: 200
  register: probe

- name: Every datagram answered, from the forwarder's address
  ansible.builtin.assert:
    that:
      - probe.lost == 0
      - probe.reply_sources | map('regex_replace', ':[0-9]+$', '') | unique == ['10.11.7.199']
"""

RETURN = r"""
host:
  description: The address probed.
  returned: always
  type: str
  sample: 10.11.7.199
sent:
  description: Datagrams sent, all ports.
  returned: always
  type: int
  sample: 2200
answered:
  description: Distinct datagrams answered, all ports.
  returned: always
  type: int
  sample: 2200
lost:
  description: RV(sent) minus RV(answered).
  returned: always
  type: int
  sample: 0
send_errors:
  description: Datagrams the local socket refused (buffer full, no route, ...).
  returned: always
  type: int
  sample: 0
receive_errors:
  description: Errors the sockets reported while receiving (for example ICMP port unreachable).
  returned: always
  type: int
  sample: 0
foreign:
  description: Datagrams received that do not answer this probe.
  returned: always
  type: int
  sample: 0
last_error:
  description: The last socket error seen, if any.
  returned: always
  type: str
  sample: null
reply_sources:
  description: The distinct C(ADDRESS:PORT) the answers came from.
  returned: always
  type: list
  elements: str
  sample: ["10.11.7.199:7890", "10.11.7.199:7891"]
ports:
  description:
    - Per port (as a string key), C(sent), C(send_errors), C(answered), C(lost), C(duplicates) and
      C(reply_sources).
  returned: always
  type: dict
  sample:
    "7890": {sent: 200, send_errors: 0, answered: 200, lost: 0, duplicates: 0, reply_sources: ["10.11.7.199:7890"]}
sending_seconds:
  description: How long sending took.
  returned: always
  type: float
  sample: 0.221
seconds:
  description: How long the probe took, waiting included.
  returned: always
  type: float
  sample: 0.243
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.udp_probe import MIN_PAYLOAD, expand_ports, probe


def main():
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "required": True},
            "ports": {"type": "list", "elements": "raw", "required": True},
            "count": {"type": "int", "default": 100},
            "payload_size": {"type": "int", "default": 64},
            "rate": {"type": "int", "default": 10000},
            "timeout": {"type": "float", "default": 2.0},
            "bind_address": {"type": "str"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        ports = expand_ports(params["ports"])
        if params["count"] < 1 or params["count"] > 1000000:
            raise InputError("count", params["count"], "must be 1..1000000")
        if params["payload_size"] < MIN_PAYLOAD or params["payload_size"] > 65000:
            raise InputError("payload_size", params["payload_size"], f"must be {MIN_PAYLOAD}..65000")
        if params["rate"] < 0:
            raise InputError("rate", params["rate"], "must be >= 0")
        if params["timeout"] < 0:
            raise InputError("timeout", params["timeout"], "must be >= 0")
    except InputError as exc:
        module.fail_json(msg=str(exc))
    try:
        result = probe(
            params["host"],
            ports,
            count=params["count"],
            size=params["payload_size"],
            rate=params["rate"],
            timeout=params["timeout"],
            bind_address=params["bind_address"],
        )
    except OSError as exc:
        module.fail_json(msg=f"cannot probe {params['host']}: {exc}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
