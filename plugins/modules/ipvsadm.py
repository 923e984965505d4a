#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ipvsadm
short_description: Manage the IPVS table of DPVS or of the Linux kernel with ipvsadm
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Makes the virtual services, real servers, FullNAT local addresses (laddrs) and black/white lists of an
    IPVS table match a declared list, in one task. Speaks both flavours of ipvsadm, DPVS's (FullNAT C(-b),
    C(--add-laddr), C(-G)) and the Linux kernel's.
  - Reads the live table with C(ipvsadm -ln) (services, real servers, flags), C(ipvsadm -ln --thresholds)
    when real servers are declared, on DPVS C(ipvsadm -G) for laddrs (per service with C(-G -t/-u SVC) when a
    VIP:port exists for several protocols, as C(-G) prints no protocol) and C(--get-blklst)/C(--get-whtlst)
    when lists are declared. C(ipvsadm -S) is never used for state (it drops laddrs and most DPVS flags).
  - Plans the minimal ordered commands, in this order - services (C(-A), C(-E)), real servers (C(-a), C(-e)),
    laddrs, lists, then the deletions - laddrs, real servers, services.
  - A service option change is one C(-E) with the full option set. On DPVS, C(-E) cannot remove persistence,
    O(services[].ops) or O(services[].expire_quiescent), nor change O(services[].quic) or
    O(services[].dest_check); such a change deletes and re-creates the service with its real servers, laddrs
    and lists (a brief disruption).
  - A real server weight or threshold change is C(-e); a forwarding-method change is C(-d) then C(-a).
  - A FullNAT or masq real server without a port is an input error (DPVS stores it as port 0 and drops the
    traffic). A live real server with port 0 whose IP is declared counts as drift and is replaced.
  - C(--del-laddr) also removes the address from the NIC, even while another service uses it. With
    O(manage_laddr_addresses) the module puts such an address back with C(dpip addr add LIP/32 dev IF sapool).
  - A plan of more than O(batch_threshold) ipvsadm commands runs as one C(ipvsadm -R) process (two with
    O(drain), around the wait). C(-R) keeps going after a failing line and returns the last line's exit code
    only, so the module reads the table back after every real run and fails, listing what did not converge,
    when it differs from the plan.
  - Bad input fails before any command runs, with a message naming the option, for example
    C(services[2].real_servers[0].ip). With O(flavor=auto) the flavour-specific rules are checked right after
    the flavour probe, before any other command.
  - DPVS keeps no state across restarts; run this module again after every DPVS (re)start.
options:
  flavor:
    description:
      - Which ipvsadm this is.
      - V(auto) runs C(ipvsadm -h) and picks V(dpvs) when the help mentions C(--add-laddr) (DPVS's ipvsadm needs
        the daemon even for C(-h)); otherwise it reads C(ipvsadm -ln) and picks V(kernel) when the header says IPVS
        version 1.2.x, V(dpvs) otherwise. A kernel ipvsadm without the C(ip_vs) module also counts as V(kernel).
    type: str
    choices: [auto, dpvs, kernel]
    default: auto
  services_file:
    description:
      - A JSON file on the managed host with the virtual services to manage, instead of O(services) (giving
        both is an error). It holds the list O(services) takes, or a C(services.json) state document as the
        C(dpvs_services) role persists it (an object with C(format) 1, C(kind) V(services) and the list as
        C(entries)).
      - For big tables - at 10,000 services the O(services) option itself costs seconds (templating it on the
        controller, sending it, and the validation of its suboptions). The entries are checked as O(services)
        is - an unknown key is an error naming it (C(services[3].real_servers[0].wieght)), every value goes
        through the same checks.
    type: path
  services_json:
    description:
      - The virtual services to manage as JSON text (what O(services_file) holds), instead of O(services) or
        O(services_file); giving more than one is an error.
      - A string costs Ansible next to nothing however long it is, where a 10,000-service list costs seconds
        on the controller (templating it into the task) and on the host (the validation of its suboptions).
        The C(dpvs_services) role hands its table over this way, as C({{ services | to_json }}) would. The
        entries are checked as O(services) is; the result's C(invocation) shows the text's length, not the text.
    type: str
  services:
    description:
      - The virtual services to manage.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description:
          - The service protocol (C(-t), C(-u), C(--sctp-service)). Ignored with O(services[].fwmark).
        type: str
        choices: [tcp, udp, sctp]
        default: tcp
      vip:
        description:
          - The virtual IP address, IPv4 or IPv6 (written C([2001:db8::204]:80) on the command line).
          - Required unless O(services[].fwmark) is given.
        type: str
      port:
        description:
          - The service port, 0..65535. V(0) (all ports) only with O(services[].persistent).
          - Required unless O(services[].fwmark) is given.
        type: int
      fwmark:
        description:
          - A firewall-mark service (C(-f MARK)) instead of VIP:port. Kernel flavour only.
          - The service is IPv6 (C(-6)) when its real servers are IPv6.
        type: int
      scheduler:
        description:
          - The scheduler. DPVS has V(rr), V(wrr), V(wlc), V(conhash), V(mh) and V(fo); the kernel has V(rr),
            V(wrr), V(lc), V(wlc), V(lblc), V(lblcr), V(dh), V(sh), V(sed), V(nq), V(fo), V(ovf), V(mh) and V(twos).
        type: str
        default: wlc
      persistent:
        description:
          - Persistence timeout in seconds (C(-p)), 1..2678400. C(ipvsadm -p) without a value means V(360).
        type: int
      persistent_netmask:
        description:
          - Persistence granularity (C(-M)), with O(services[].persistent) only. IPv4 - a netmask
            (V(255.255.255.0)) or a prefix length (V(24)); IPv6 - a prefix length 1..128.
        type: str
      ops:
        description:
          - One-packet scheduling (C(--ops)). UDP services (and kernel fwmark services) only.
        type: bool
        default: false
      synproxy:
        description:
          - DPVS only. TCP SYN proxy (C(-j enable)). TCP services only.
        type: bool
        default: false
      conn_timeout:
        description:
          - DPVS only. Established connection timeout in seconds (C(--conn-timeout)); V(0) means none.
        type: int
      hash_target:
        description:
          - DPVS only. What C(conhash) hashes (C(--hash-target)); needs O(services[].scheduler=conhash).
          - V(qid) (QUIC connection id) is for UDP services only. DPVS defaults to V(sip).
        type: str
        choices: [sip, qid]
      expire_quiescent:
        description:
          - DPVS only. Expire the connections of a real server that went down (C(--expire-quiescent)).
        type: bool
        default: false
      proxy_protocol:
        description:
          - DPVS only. PROXY protocol towards the real servers (C(--proxy-protocol)).
        type: str
        choices: [disable, v1, v2, v1-insecure, v2-insecure]
      quic:
        description:
          - DPVS only. A QUIC service (C(--quic)). UDP services only.
        type: bool
        default: false
      dest_check:
        description:
          - DPVS only. Real server health checking (C(--dest-check)) - V(disable), V(default) (passive),
            V(tcp), V(udp), V(sctp), V(ping), or passive details C(D,U,Ws,MIN-MAXs) (for example
            V(1,1,3s,5-3600s), the default) or C(D,Ws).
        type: str
      real_servers:
        description:
          - The real servers of the service. Omitted - the live real servers are left alone. A list (even empty)
            - exactly these real servers.
        type: list
        elements: dict
        suboptions:
          ip:
            description:
              - The real server address. Under an IPv6 VIP an IPv4 real server means NAT64 (DPVS, fullnat) or a
                mixed-family tunnel server (kernel).
            type: str
            required: true
          port:
            description:
              - The real server port. Required for V(fullnat) and V(masq) real servers. For V(dr) and V(tunnel)
                it is the service port (the default; ipvsadm ignores any other).
            type: int
          forward:
            description:
              - The forwarding method - C(-b) V(fullnat) (DPVS only), C(-m) V(masq), C(-g) V(dr), C(-i) V(tunnel).
              - Defaults to V(fullnat) on DPVS and V(masq) on the kernel.
            type: str
            choices: [fullnat, masq, dr, tunnel]
          weight:
            description:
              - The weight, 0..65535 (C(-w)).
            type: int
            default: 1
          u_threshold:
            description:
              - Upper connection threshold (C(-x)); 0 or omitted means none.
            type: int
          l_threshold:
            description:
              - Lower connection threshold (C(-y)); must not exceed O(services[].real_servers[].u_threshold).
            type: int
      laddrs:
        description:
          - DPVS only. The FullNAT/NAT64 local addresses (source pool) of the service (C(--add-laddr -z LIP -F DEV)).
            Omitted - the live laddrs are left alone. A list - exactly these.
          - Only for services whose real servers are all V(fullnat) (or that declare none).
          - A laddr faces the real servers - IPv4 for IPv4 real servers (NAT64 included), IPv6 for IPv6 ones.
          - The device must exist (C(dpip link show)). C(-G) does not show the device, so a laddr that moved to
            another device is not detected.
        type: list
        elements: dict
        suboptions:
          ip:
            description:
              - The local address.
            type: str
            required: true
          dev:
            description:
              - The DPVS device that holds it, for example V(dpdk0).
            type: str
            required: true
      blocklist:
        description:
          - DPVS only. Client addresses (or V(ipset:NAME)) refused by the service (C(--add-blklst)). Omitted - the
            live list is left alone.
        type: list
        elements: str
      allowlist:
        description:
          - DPVS only. The only client addresses (or V(ipset:NAME)) accepted by the service (C(--add-whtlst)).
            Omitted - the live list is left alone.
        type: list
        elements: str
      state:
        description:
          - Whether the service should exist.
        type: str
        choices: [present, absent]
        default: present
      owner:
        description:
          - Who keeps the service in the live table. V(ipvsadm) - this module. V(keepalived) - keepalived
            (the P(dpvs.cluster.keepalived#role) role renders it, with O(services[].health_check)); this module
            validates the entry but neither changes, purges nor verifies the live service, and RV(owned_elsewhere)
            names it.
        type: str
        choices: [ipvsadm, keepalived]
        default: ipvsadm
      health_check:
        description:
          - Only with O(services[].owner=keepalived) - keepalived's check of each real server (its C(TCP_CHECK),
            C(HTTP_GET), C(SSL_GET), C(MISC_CHECK) or C(UDP_CHECK)); omitted - real servers are never taken out.
        type: dict
        suboptions:
          type:
            description:
              - The check. V(tcp) connects, V(http)/V(https) expect O(services[].health_check.status_code) for
                O(services[].health_check.path), V(misc) runs O(services[].health_check.script), V(udp) sends a
                datagram (TCP services take tcp, http, https or misc; UDP services udp or misc; SCTP misc).
            type: str
            choices: [tcp, http, https, misc, udp]
            required: true
          interval:
            description: Seconds between two checks of a real server (keepalived's C(delay_loop)); default 6.
            type: int
          timeout:
            description: Seconds a check may take (C(connect_timeout), C(misc_timeout) for misc); default 3.
            type: int
          retries:
            description: Checks retried before the real server is taken out (C(retry)); default 3.
            type: int
          retry_delay:
            description: Seconds between the retries (C(delay_before_retry)); default 1.
            type: int
          port:
            description: The port checked (C(connect_port)); omitted - the real server's port.
            type: int
          path:
            description: V(http)/V(https) - the URL path requested; default V(/).
            type: str
          status_code:
            description: V(http)/V(https) - the expected HTTP status; default 200.
            type: int
          script:
            description: V(misc) - the absolute path of the program run (exit 0 - up); run without a shell.
            type: str
          require_reply:
            description:
              - V(udp) - a real server must answer the datagram (else only an ICMP error takes it out); default false.
            type: bool
  purge:
    description:
      - Remove the live services that O(services) does not declare (TCP/UDP/SCTP VIP:port and fwmark services;
        DPVS SNAT match services are left alone).
    type: bool
    default: false
  drain:
    description:
      - Drain real servers before removing them - set the weight to 0, wait until their ActiveConn is 0 or
        O(drain_timeout) passes (polling C(ipvsadm -ln -t SVC) every O(drain_poll) seconds), then delete them.
      - Also applies to the real servers of a service being removed.
      - RV(drained) says which real servers were drained and how long it took.
    type: bool
    default: false
  drain_timeout:
    description:
      - Seconds to wait for drained real servers; after it they are deleted anyway.
    type: int
    default: 30
  drain_poll:
    description:
      - Seconds between two ActiveConn polls while draining.
    type: float
    default: 1.0
  batch_threshold:
    description:
      - A plan with more than this many ipvsadm commands runs as one C(ipvsadm -R) process.
    type: int
    default: 20
  manage_laddr_addresses:
    description:
      - After C(--del-laddr) of a local address that another service still uses, put the NIC address back with
        C(dpip addr add LIP/32 dev IF sapool) (DPVS removes it even while other services use it). Needs dpip.
    type: bool
    default: true
  dpip_path:
    description:
      - The dpip binary, a name looked up in E(PATH) or an absolute path. Used to check laddr devices, to find
        the device of a live laddr being removed and to put back shared local addresses.
    type: str
    default: dpip
  return_services:
    description:
      - Return the live table as RV(services). At 10,000 services that list is most of the result Ansible
        copies, checks for secrets and sends to the controller; turn it off when nothing reads it (the
        C(dpvs_services) and C(kernel_forwarder) roles do; M(dpvs.cluster.dpvs_info) reads the table on its own).
    type: bool
    default: true
  plan_fresh_when_down:
    description:
      - Only in check mode - when DPVS does not answer (no control socket, or a stale one), plan against the
        IPVS table of a freshly started DPVS instead of failing, and say so in a warning that starts with
        C(DPVS is not running yet). RV(commands) are then the commands a real run runs once
        DPVS has started.
      - For a check run of a play that starts DPVS before this task; in check mode nothing starts. The
        C(dpvs_network) and C(dpvs_services) roles set it when the C(dpvs) role would start C(dpvs.service).
      - A freshly started DPVS has no service. Without the daemon the laddr devices are not checked (the real
        run checks them). With O(flavor=auto) the flavour is V(dpvs) (only DPVS's ipvsadm says that the daemon
        is down).
      - For DPVS only - V(true) with O(flavor=kernel) is an input error (the Linux kernel's IPVS has no daemon
        that a run starts).
      - Has no effect when DPVS answers, nor in a real run, where a DPVS that does not answer is always an
        error.
    type: bool
    default: false
extends_documentation_fragment:
  - dpvs.cluster.dpvs
  - dpvs.cluster.dpvs.IPVSADM
  - dpvs.cluster.dpvs.ATTRIBUTES
  - dpvs.cluster.dpvs.DPVS_HOST
  - dpvs.cluster.dpvs.PURGE
notes:
  - Supports check mode and diff mode. Check mode plans exactly what a real run executes and returns it in
    RV(commands); no write command runs.
  - When the DPVS daemon is not reachable the module fails with a message that starts with
    C(DPVS daemon is not reachable), unless O(plan_fresh_when_down) is set in check mode.
  - On a failure part-way the result has RV(applied) (the commands that succeeded), the failing command's
    C(cmd), C(rc), C(stdout), C(stderr) and C(dpvs_errors), parsed from the
    C([sockopt_msg_recv] ... header - text(code)) lines (the C(Success) line ipvsadm prints is errno noise).
  - After a real run that added local addresses (C(--add-laddr)) the module runs C(dpip -s addr show). A DPVS
    worker that could not add a LIP (out of hugepage memory; C(--add-laddr) exits 0 and C(-G) lists it all
    the same) makes that listing fail, and the module fails naming the LIP and the worker, with RV(applied)
    and RV(worker_mismatch). A run that adds no LIP does not run it.
seealso:
  - module: dpvs.cluster.dpip_addr
  - module: dpvs.cluster.dpvs_info
"""

EXAMPLES = r"""
- name: A FullNAT service with two real servers and a local address
  dpvs.cluster.ipvsadm:
    services:
      - vip: 10.0.96.204
        port: 80
        scheduler: rr
        real_servers:
          - ip: 192.168.229.1
            port: 80
          - ip: 192.168.229.2
            port: 8080
            weight: 2
        laddrs:
          - ip: 192.168.229.204
            dev: dpdk0

- name: NAT64 (IPv6 VIP, IPv4 real servers and local address), exactly these services
  dpvs.cluster.ipvsadm:
    purge: true
    services:
      - vip: 2001:db8::204
        port: 80
        real_servers:
          - ip: 192.168.229.1
            port: 80
        laddrs:
          - ip: 192.168.229.209
            dev: dpdk0

- name: DNS over UDP with persistence and DPVS options
  dpvs.cluster.ipvsadm:
    services:
      - protocol: udp
        vip: 10.0.96.204
        port: 53
        scheduler: conhash
        hash_target: sip
        persistent: 300
        persistent_netmask: 255.255.255.0
        ops: true
        real_servers:
          - ip: 192.168.229.1
            port: 53

- name: Remove a real server gracefully
  dpvs.cluster.ipvsadm:
    drain: true
    drain_timeout: 120
    services:
      - vip: 10.0.96.204
        port: 80
        scheduler: rr
        real_servers:
          - ip: 192.168.229.2
            port: 8080

- name: Linux kernel IPVS on a director (masq by default)
  dpvs.cluster.ipvsadm:
    flavor: kernel
    services:
      - vip: 10.0.0.1
        port: 443
        scheduler: wlc
        persistent: 360
        real_servers:
          - ip: 192.168.1.2
            port: 443
          - ip: 192.168.1.3
            forward: dr
      - fwmark: 5
        scheduler: rr
        real_servers:
          - ip: 192.168.1.4
            forward: dr

- name: Remove a service
  dpvs.cluster.ipvsadm:
    services:
      - vip: 10.0.96.213
        port: 80
        state: absent
"""

RETURN = r"""
flavor:
  description:
    - The ipvsadm flavour that was used (detected with O(flavor=auto)).
  returned: success
  type: str
  sample: dpvs
services:
  description:
    - The live services after the run (in check mode, the services the plan leads to), in the shape of
      C(ipvsadm -ln) (C(protocol), C(vip), C(port), C(fwmark), C(match), C(family), C(scheduler), C(flags),
      C(real_servers)) plus C(laddrs) from C(ipvsadm -G) (V(null) on the kernel flavour).
  returned: success and O(return_services) is true
  type: list
  elements: dict
  sample:
    - protocol: tcp
      vip: 10.0.96.204
      port: 80
      fwmark: null
      match: null
      family: inet
      scheduler: rr
      flags:
        hash_target: null
        persistent: null
        netmask: null
        pe: null
        sched_flags: []
        ops: false
        synproxy: false
        conn_timeout: null
        proxy_protocol: null
        expire_quiescent: false
        quic: false
        dest_check: null
      real_servers:
        - ip: 192.168.229.1
          port: 80
          forward: fullnat
          weight: 1
          active_conns: 0
          inactive_conns: 0
          inhibited: false
          overload: false
      laddrs:
        - ip: 192.168.229.204
          conflicts: 0
          conns: 0
commands:
  description:
    - The write commands that ran (with their exit code V(rc)) or, in check mode, would run (V(rc) null). Reads
      are not listed. An C(ipvsadm -R) batch carries its input lines in C(stdin).
  returned: always
  type: list
  elements: dict
  sample:
    - cmd: [/usr/bin/ipvsadm, -A, -t, 10.0.96.204:80, -s, rr]
      rc: 0
    - cmd: [/usr/bin/ipvsadm, -R]
      stdin: "-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1\n"
      rc: 0
owned_elsewhere:
  description:
    - The declared services keepalived keeps (O(services[].owner=keepalived)), left alone by this run.
  returned: success
  type: list
  elements: str
  sample: [tcp 10.0.96.205:443]
drained:
  description:
    - The real servers drained before their removal, with C(service), C(ip), C(port), C(seconds) waited,
      C(active_conns) at the end and C(timed_out). In check mode the ones that would be drained (C(seconds) null).
  returned: success
  type: list
  elements: dict
  sample:
    - service: tcp 10.0.96.204:80
      ip: 192.168.229.2
      port: 8080
      seconds: 3.0
      active_conns: 0
      timed_out: false
applied:
  description:
    - On a failure part-way, the commands that succeeded before it.
  returned: failure
  type: list
  elements: dict
dpvs_errors:
  description:
    - On a failure, the DPVS errors of the failing command (or of the C(-R) batch), each C(msg), C(text) and
      C(code), for example V(already exist) / V(-3).
  returned: failure
  type: list
  elements: dict
not_converged:
  description:
    - When the read-back after a real run differs from the plan, what differs.
  returned: failure
  type: list
  elements: str
worker_mismatch:
  description:
    - When a DPVS worker lacks an address its master has (an add that the worker failed unseen, out of hugepage
      memory), what each worker lacks, from C(dpip -v addr show); the message names it and says what to do.
  returned: failure
  type: list
  elements: dict
  sample:
    - address: 192.168.229.204/32
      dev: dpdk0
      family: inet
      missing_on: [1]
diff:
  description:
    - The table before and after in an ipvsadm-save-like syntax - C(-A) lines with every option (DPVS flags
      included), C(-a) lines, C(--add-laddr) and list lines (laddr devices are not shown, C(-G) does not
      report them).
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import services_file
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs.plan import run_module

ARGUMENT_SPEC = dict(
    flavor=dict(type="str", choices=["auto", "dpvs", "kernel"], default="auto"),
    services=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            protocol=dict(type="str", choices=["tcp", "udp", "sctp"], default="tcp"),
            vip=dict(type="str"),
            port=dict(type="int"),
            fwmark=dict(type="int"),
            scheduler=dict(type="str", default="wlc"),
            persistent=dict(type="int"),
            persistent_netmask=dict(type="str"),
            ops=dict(type="bool", default=False),
            synproxy=dict(type="bool", default=False),
            conn_timeout=dict(type="int"),
            hash_target=dict(type="str", choices=["sip", "qid"]),
            expire_quiescent=dict(type="bool", default=False),
            proxy_protocol=dict(type="str", choices=["disable", "v1", "v2", "v1-insecure", "v2-insecure"]),
            quic=dict(type="bool", default=False),
            dest_check=dict(type="str"),
            real_servers=dict(
                type="list",
                elements="dict",
                options=dict(
                    ip=dict(type="str", required=True),
                    port=dict(type="int"),
                    forward=dict(type="str", choices=["fullnat", "masq", "dr", "tunnel"]),
                    weight=dict(type="int", default=1),
                    u_threshold=dict(type="int"),
                    l_threshold=dict(type="int"),
                ),
            ),
            laddrs=dict(
                type="list",
                elements="dict",
                options=dict(
                    ip=dict(type="str", required=True),
                    dev=dict(type="str", required=True),
                ),
            ),
            blocklist=dict(type="list", elements="str"),
            allowlist=dict(type="list", elements="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            owner=dict(type="str", choices=["ipvsadm", "keepalived"], default="ipvsadm"),
            health_check=dict(
                type="dict",
                options=dict(
                    type=dict(type="str", choices=["tcp", "http", "https", "misc", "udp"], required=True),
                    interval=dict(type="int"),
                    timeout=dict(type="int"),
                    retries=dict(type="int"),
                    retry_delay=dict(type="int"),
                    port=dict(type="int"),
                    path=dict(type="str"),
                    status_code=dict(type="int"),
                    script=dict(type="str"),
                    require_reply=dict(type="bool"),
                ),
            ),
        ),
    ),
    purge=dict(type="bool", default=False),
    purge_max=dict(type="int", default=20),
    purge_all=dict(type="bool", default=False),
    option_names=dict(type="dict", default={}),
    drain=dict(type="bool", default=False),
    drain_timeout=dict(type="int", default=30),
    drain_poll=dict(type="float", default=1.0),
    batch_threshold=dict(type="int", default=20),
    manage_laddr_addresses=dict(type="bool", default=True),
    plan_fresh_when_down=dict(type="bool", default=False),
    return_services=dict(type="bool", default=True),
    services_file=dict(type="path"),
    services_json=dict(type="str"),
    ipc_file=dict(type="path"),
    dpip_path=dict(type="str", default="dpip"),
    ipvsadm_path=dict(type="str", default="ipvsadm"),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, prepare=services_file.with_file)


if __name__ == "__main__":
    main()
