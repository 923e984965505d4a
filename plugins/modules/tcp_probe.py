#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_probe
short_description: Open a bounded burst of TCP connections to a list of targets and count the outcomes
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Opens O(count) TCP connections to every target of O(targets), round-robin, at most O(rate) new connections
    per second in all; each connection lives at most O(timeout) seconds. The probe ends within about
    C(count * targets / rate + timeout) seconds, also when a target drops every SYN.
  - Without O(request) a completed handshake is an answer. With O(request) the bytes are sent once connected,
    and an answer is at least one byte back (for example an HTTP C(HEAD) request and its status line).
  - Counts per target the connections C(attempted), C(connected) (handshake completed), C(answered), C(refused)
    (reset), C(timed_out) (no handshake, or no answer to the request, within O(timeout)) and C(errors)
    (unreachable, reset after the request, closed without an answer), with the first error seen, and reports the
    local addresses the connections used.
  - The probe changes no state on the host it runs on (it is a client); it runs in check mode too, and always
    reports C(changed=false).
  - Does not fail when connections fail; a play decides with the counts (see the
    C(playbooks/verify_dpvs_traffic.yml) of the collection).
attributes:
  check_mode:
    support: full
    description:
      - Opens the connections in check mode too (a probe is a client and changes no state).
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the client that opens the connections (any host with a network path to the targets).
extends_documentation_fragment:
  - dpvs.cluster.dpvs.READ_ONLY
options:
  targets:
    description:
      - The addresses and ports to connect to (the VIPs), as C({host, port}) or C(HOST:PORT) (C([V6]:PORT)); at most
        1024.
    type: list
    elements: raw
    required: true
  count:
    description:
      - Connections per target, 1..100000.
    type: int
    default: 20
  rate:
    description:
      - New connections per second over all targets, 1..100000. At most 1000 connections are open at once; a start
        waits for a free one.
    type: int
    default: 100
  timeout:
    description:
      - Seconds each connection may take (the handshake, and the answer to O(request)), more than 0 and at most
        600.
    type: float
    default: 3.0
  request:
    description:
      - Text sent once connected (a double-quoted YAML string writes CR LF as C(\\r\\n)); then a connection counts as
        answered only when at least one byte comes back.
    type: str
  bind_address:
    description:
      - Local address to connect from; by default the kernel picks it.
    type: str
seealso:
  - module: dpvs.cluster.udp_probe
  - module: dpvs.cluster.toa_stats_info
"""

EXAMPLES = r"""
- name: 20 connections to each VIP, a completed handshake is an answer
  dpvs.cluster.tcp_probe:
    targets: ["10.0.96.204:80", {host: 10.0.96.205, port: 443}]
    count: 20
  register: probe

- name: Every connection answered
  ansible.builtin.assert:
    that: probe.answered == probe.attempted

- name: An HTTP request on each connection; any byte back is an answer
  dpvs.cluster.tcp_probe:
    targets: ["10.0.96.204:80"]
    request: "HEAD / HTTP/1.0\r\n\r\n"
    rate: 50
    timeout: 2
"""

RETURN = r"""
attempted:
  description: Connections started, all targets.
  returned: always
  type: int
  sample: 40
connected:
  description: Handshakes completed, all targets.
  returned: always
  type: int
  sample: 40
answered:
  description: Connections answered, all targets (RV(connected) when no O(request) is sent).
  returned: always
  type: int
  sample: 40
refused:
  description: Connections reset before the handshake completed (nothing listens, or a firewall rejects).
  returned: always
  type: int
  sample: 0
timed_out:
  description: Connections with no handshake, or no answer to O(request), within O(timeout).
  returned: always
  type: int
  sample: 0
errors:
  description: Connections that failed otherwise (unreachable, reset after the request, closed without an answer).
  returned: always
  type: int
  sample: 0
first_error:
  description: The first error of the first target that had one, C(HOST:PORT - what), or null.
  returned: always
  type: str
  sample: "10.0.96.204:80: connection refused"
targets:
  description:
    - Per target (C(HOST:PORT), C([V6]:PORT)), C(attempted), C(connected), C(answered), C(refused), C(timed_out),
      C(errors), C(first_error) and C(local_addresses).
  returned: always
  type: dict
  sample:
    "10.0.96.204:80": {attempted: 20, connected: 20, answered: 20, refused: 0, timed_out: 0, errors: 0,
                       first_error: null, local_addresses: ["10.0.96.10"]}
local_addresses:
  description: The distinct local addresses of the connections that completed a handshake.
  returned: always
  type: list
  elements: str
  sample: ["10.0.96.10"]
seconds:
  description: How long the probe took.
  returned: always
  type: float
  sample: 0.412
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.tcp_probe import MAX_COUNT, parse_targets, probe


def check_params(params):
    """The targets as ``[(host, port)]``; InputError for any value out of range."""
    targets = parse_targets(params["targets"])
    if not 1 <= params["count"] <= MAX_COUNT:
        raise InputError("count", params["count"], f"must be 1..{MAX_COUNT}")
    if not 1 <= params["rate"] <= 100000:
        raise InputError("rate", params["rate"], "must be 1..100000")
    if not 0 < params["timeout"] <= 600:
        raise InputError("timeout", params["timeout"], "must be more than 0 and at most 600")
    return targets


def main():
    module = AnsibleModule(
        argument_spec={
            "targets": {"type": "list", "elements": "raw", "required": True},
            "count": {"type": "int", "default": 20},
            "rate": {"type": "int", "default": 100},
            "timeout": {"type": "float", "default": 3.0},
            "request": {"type": "str"},
            "bind_address": {"type": "str"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        targets = check_params(params)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    request = params["request"].encode("utf-8") if params["request"] else None
    try:
        result = probe(
            targets,
            count=params["count"],
            rate=params["rate"],
            timeout=params["timeout"],
            request=request,
            bind_address=params["bind_address"],
        )
    except OSError as exc:
        module.fail_json(msg=f"cannot probe: {exc}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
