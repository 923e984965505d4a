#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_info
short_description: Read what a DPVS host offers - CPUs, NUMA, memory, hugepages, IOMMU and NICs
version_added: 0.1.0
author: dpvs.cluster contributors (@dpvs-cluster)
description:
  - Returns in one call the hardware and kernel facts a DPDK/DPVS host is prepared from, read from sysfs
    and procfs (and C(ip -o addr show) for the interface addresses).
  - CPUs per NUMA node, threads per core (hyper-threading), the CPU flags DPDK requires and the ones it
    uses when present, the IOMMU state and kernel command line, memory and hugepages per NUMA node and
    page size, hugetlbfs mounts.
  - Every NIC with its name, MAC, PCI address, NUMA node, current driver and the kernel modules that
    would drive it, link state, queue counts, and whether it carries the default route or the address
    Ansible connects through. NICs bound to a DPDK driver (vfio-pci, igb_uio, uio_pci_generic) have no
    interface; they are listed by PCI address with RV(nics[].name=null).
  - Whether C(/dev/vhost-net) exists and whether the dpvs process of a pid file runs, for the
    P(dpvs.cluster.dpvs#role) role.
  - Never changes anything.
options:
  connection_address:
    description:
      - The address of this host that Ansible connects to; NICs that carry it (directly, or under a
        bond, VLAN or bridge that does) are returned with RV(nics[].connection=true).
      - When omitted, the server address of E(SSH_CONNECTION) is used, taken from the module's
        environment or, when privilege escalation cleared it, from the nearest parent process that has
        it. With neither (a local connection, for example) no NIC is marked.
    type: str
  nic_map:
    description:
      - The NIC map the P(dpvs.cluster.preflight#role) role records, a JSON object with C(version) 1 and C(nics),
        which maps PCI addresses to C(name), C(mac), C(numa_node), C(kernel_driver), C(vendor_id) and C(device_id).
      - NICs without an interface now (bound to a DPDK driver) get their RV(nics[].name) and RV(nics[].mac)
        from it, with RV(nics[].recorded=true), and their RV(nics[].kernel_driver) when they have no
        interface. A missing file is an empty map; a file that is not a NIC map fails the module.
    type: path
    default: /etc/dpvs-cluster/nics.json
  sysfs_root:
    description:
      - Where sysfs is mounted (tests point it at a fake tree).
    type: path
    default: /sys
  proc_root:
    description:
      - Where procfs is mounted (tests point it at a fake tree).
    type: path
    default: /proc
  dpvs_pid_file:
    description:
      - The pid file of dpvs (C(dpvs -p)), for RV(dpvs).
    type: path
    default: /var/run/dpvs.pid
  vhost_net_path:
    description:
      - The vhost-net device that the virtio-user KNI of DPVS 1.10 opens, for RV(vhost_net).
    type: path
    default: /dev/vhost-net
notes:
  - Supports check mode (it only reads).
  - Linux only. The CPU flag checks follow x86 names (C(/proc/cpuinfo)); on other architectures
    RV(cpu.dpdk_missing_flags) lists the x86 flags as missing.
seealso:
  - name: DPDK system requirements
    description: Hugepages, IOMMU and CPU requirements of DPDK on Linux.
    link: https://doc.dpdk.org/guides/linux_gsg/sys_reqs.html
"""

EXAMPLES = r"""
- name: Read the host
  dpvs.cluster.host_info:
  register: host

- name: Stop when DPDK cannot run on this CPU
  ansible.builtin.assert:
    that: host.cpu.dpdk_missing_flags | length == 0
    fail_msg: "CPU lacks {{ host.cpu.dpdk_missing_flags | join(', ') }}"

- name: The NICs that carry neither the Ansible connection nor a default route
  ansible.builtin.debug:
    msg: >-
      {{ host.nics | rejectattr('connection') | rejectattr('default_route_ipv4')
         | rejectattr('default_route_ipv6') | map(attribute='pci_address') | list }}

- name: The kernel driver each NIC goes back to, also for NICs bound to vfio-pci
  ansible.builtin.debug:
    msg: "{{ host.nics | selectattr('pci_address') | items2dict(key_name='pci_address', value_name='kernel_driver') }}"

- name: Behind a NAT, name the address Ansible reaches the host on
  dpvs.cluster.host_info:
    connection_address: 10.0.2.15
"""

RETURN = r"""
kernel:
  description: The running kernel.
  returned: always
  type: dict
  contains:
    release:
      description: C(uname -r).
      type: str
      sample: 6.1.0-50-amd64
    cmdline:
      description: The kernel command line (C(/proc/cmdline)).
      type: str
      sample: root=/dev/vda rw console=ttyS0 intel_iommu=on
    cmdline_args:
      description: The command line split into arguments (double quotes group words).
      type: list
      elements: str
      sample: [root=/dev/vda, rw, console=ttyS0, intel_iommu=on]
    headers_path:
      description: Where the running kernel's build tree (headers) is expected, C(/lib/modules/RELEASE/build).
      type: str
      sample: /lib/modules/6.1.0-50-amd64/build
    headers:
      description: Whether that build tree exists and is not empty (out-of-tree modules can be built).
      type: bool
      sample: true
cpu:
  description: The online logical CPUs.
  returned: always
  type: dict
  contains:
    model:
      description: The model name of the first CPU.
      type: str
      sample: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz
    count:
      description: Number of online logical CPUs.
      type: int
      sample: 2
    online:
      description: The online logical CPU ids.
      type: list
      elements: int
      sample: [0, 1]
    isolated:
      description: The CPUs isolated from the scheduler (C(isolcpus)).
      type: list
      elements: int
      sample: []
    sockets:
      description: Number of physical packages.
      type: int
      sample: 2
    cores:
      description: Number of physical cores.
      type: int
      sample: 2
    threads_per_core:
      description: Hardware threads per core (the most any core has).
      type: int
      sample: 1
    hyperthreading:
      description: Whether a core runs more than one hardware thread.
      type: bool
      sample: false
    flags:
      description: The CPU flags every online CPU has (C(/proc/cpuinfo) names).
      type: list
      elements: str
    dpdk_required_flags:
      description:
        - The flags DPDK refuses to start without on x86 (sse, sse2, pni = SSE3, ssse3, sse4_1, sse4_2)
          and whether the CPU has each.
      type: dict
      sample: {sse: true, sse2: true, pni: true, ssse3: true, sse4_1: true, sse4_2: true}
    dpdk_missing_flags:
      description: The required flags the CPU lacks; empty when DPDK can run.
      type: list
      elements: str
      sample: []
    dpdk_optional_flags:
      description:
        - Flags DPDK and DPVS use when present and whether the CPU has each (avx, avx2, avx512f, aes,
          pclmulqdq, popcnt, pdpe1gb for 1 GB hugepages, constant_tsc, nonstop_tsc, rdrand).
      type: dict
      sample: {avx2: true, pdpe1gb: true, avx512f: false}
numa:
  description: The NUMA nodes (C(/sys/devices/system/node)).
  returned: always
  type: dict
  contains:
    node_count:
      description: Number of NUMA nodes; 0 when the kernel has no NUMA support.
      type: int
      sample: 2
    nodes:
      description: One entry per node.
      type: list
      elements: dict
      contains:
        id:
          description: The node id.
          type: int
        cpus:
          description: The CPU ids of the node.
          type: list
          elements: int
        memory_total_kb:
          description: The node's memory in kB.
          type: int
        memory_free_kb:
          description: The node's free memory in kB.
          type: int
        distances:
          description: The node's distance to each node, in node order.
          type: list
          elements: int
        hugepages:
          description: Hugepage pools of the node by page size in kB (as text), each with total, free and surplus.
          type: dict
          sample: {"2048": {total: 512, free: 512, surplus: 0}, "1048576": {total: 0, free: 0, surplus: 0}}
memory:
  description: System memory from C(/proc/meminfo), in kB.
  returned: always
  type: dict
  sample: {total_kb: 2011824, free_kb: 1790000, available_kb: 1800000}
hugepages:
  description: Hugepages of the whole system.
  returned: always
  type: dict
  contains:
    default_size_kb:
      description: The default hugepage size in kB.
      type: int
      sample: 2048
    sizes_kb:
      description: The page sizes the kernel offers, in kB.
      type: list
      elements: int
      sample: [2048, 1048576]
    pools:
      description: Pools by page size in kB (as text), each with total, free, reserved and surplus.
      type: dict
      sample: {"2048": {total: 512, free: 500, reserved: 0, surplus: 0}}
    mounts:
      description: The hugetlbfs mounts with their page size in kB (null when the mount names none).
      type: list
      elements: dict
      sample: [{path: /dev/hugepages, pagesize_kb: 2048}]
iommu:
  description: The IOMMU as the kernel sees it.
  returned: always
  type: dict
  contains:
    enabled:
      description: Whether an IOMMU is active (C(/sys/class/iommu) has a unit); vfio-pci needs it.
      type: bool
      sample: true
    units:
      description: The IOMMU units.
      type: list
      elements: str
      sample: [dmar0]
    groups:
      description: Number of IOMMU groups.
      type: int
      sample: 12
    cmdline:
      description:
        - The IOMMU parameters on the kernel command line (intel_iommu, amd_iommu, iommu,
          iommu.passthrough, vfio.enable_unsafe_noiommu_mode) with their values, null for a bare flag.
      type: dict
      sample: {intel_iommu: "on", iommu: pt}
    vfio_noiommu:
      description: The vfio module's unsafe no-IOMMU mode; null when vfio is not loaded.
      type: bool
      sample: false
nics:
  description:
    - Every network interface except loopback, and every PCI network function without one (bound to a
      DPDK driver), sorted by PCI address; interfaces without a PCI device (virtual ones) come last.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description:
        - The interface name; for a NIC that has none (bound to a DPDK driver) the name the NIC map recorded,
          null when it has none.
      type: str
      sample: enp0s4
    mac:
      description:
        - The MAC address (lower case); for a NIC without an interface the one the NIC map recorded, null
          when it has none.
      type: str
      sample: "52:54:00:00:01:04"
    recorded:
      description:
        - Whether RV(nics[].name) and RV(nics[].mac) come from the NIC map (the NIC has no interface now).
      type: bool
      sample: false
    permanent_mac:
      description:
        - The MAC the NIC came with. It differs from RV(nics[].mac) on a bond port (the bond lends it its
          own). Null when the kernel cannot tell (a MAC set by hand, random MACs of virtual devices).
      type: str
      sample: "52:54:00:00:01:04"
    pci_address:
      description: The PCI function (domain:bus:slot.function); null for interfaces that have none.
      type: str
      sample: "0000:00:04.0"
    vendor_id:
      description: The PCI vendor id.
      type: str
      sample: "0x8086"
    device_id:
      description: The PCI device id.
      type: str
      sample: "0x10d3"
    numa_node:
      description: The NUMA node of the PCI device; -1 when the firmware gives none; null without PCI.
      type: int
      sample: 1
    driver:
      description: The driver bound to the PCI function now (virtio-pci, e1000e, vfio-pci, igb_uio...).
      type: str
      sample: e1000e
    driver_override:
      description: The PCI function's driver_override, null when unset.
      type: str
    kernel_driver:
      description:
        - The kernel driver the NIC belongs to - the current driver when it is not a DPDK one (vfio-pci,
          igb_uio, uio_pci_generic), else the one the NIC map recorded, else the first of
          RV(nics[].kernel_modules) that is not a DPDK driver; null when none is known.
      type: str
      sample: e1000e
    kernel_modules:
      description: The kernel modules whose PCI aliases match the device (what C(lspci -k) lists).
      type: list
      elements: str
      sample: [e1000e]
    iommu_group:
      description: The IOMMU group of the PCI function; null without an IOMMU.
      type: int
    virtual:
      description: Whether the interface is a virtual device (bond, VLAN, bridge, tunnel...).
      type: bool
    operstate:
      description: The interface's operational state (up, down, unknown...).
      type: str
      sample: up
    carrier:
      description: Whether the link has carrier; null when the interface is down.
      type: bool
    speed_mbps:
      description: The link speed; null when unknown or down.
      type: int
    mtu:
      description: The interface MTU.
      type: int
      sample: 1500
    rx_queues:
      description: Number of receive queues the interface has (C(/sys/class/net/NAME/queues)).
      type: int
      sample: 1
    tx_queues:
      description: Number of transmit queues.
      type: int
      sample: 1
    lowers:
      description: The interfaces this one is stacked on (a bond's ports, a VLAN's parent).
      type: list
      elements: str
    uppers:
      description: The interfaces stacked on this one.
      type: list
      elements: str
    addresses:
      description: The interface's addresses (family inet or inet6, address, prefixlen).
      type: list
      elements: dict
      sample: [{family: inet, address: 10.0.2.15, prefixlen: 24}]
    default_route_ipv4:
      description: Whether the main table's IPv4 default route leaves through it (or a device stacked on it).
      type: bool
    default_route_ipv6:
      description: Whether an IPv6 default route leaves through it (or a device stacked on it).
      type: bool
    connection:
      description: Whether it carries the address Ansible connects through (or a device stacked on it does).
      type: bool
connection_address:
  description: The address used for RV(nics[].connection); null when none was given or found.
  returned: always
  type: str
  sample: 10.0.2.15
nic_map:
  description: The NIC map as read (C(nics) empty when the file does not exist).
  returned: always
  type: dict
  contains:
    path:
      description: The file read.
      type: str
      sample: /etc/dpvs-cluster/nics.json
    nics:
      description: The recorded NICs by PCI address (name, mac, numa_node, kernel_driver, vendor_id, device_id).
      type: dict
      sample: {"0000:00:04.0": {name: enp0s4, mac: "52:54:00:00:01:04", numa_node: -1, kernel_driver: e1000e,
               vendor_id: "0x8086", device_id: "0x10d3"}}
vhost_net:
  description: Whether the vhost-net device exists (DPVS 1.10 needs it for C(kni on)).
  returned: always
  type: bool
  sample: true
dpvs:
  description: The dpvs process named by the pid file.
  returned: always
  type: dict
  contains:
    pid_file:
      description: The pid file read.
      type: str
      sample: /var/run/dpvs.pid
    pid:
      description: The pid in it; null when there is none.
      type: int
    running:
      description: Whether that pid is alive.
      type: bool
      sample: false
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import CommandError, Runner
from ansible_collections.dpvs.cluster.plugins.module_utils.host.facts import (
    SysFS,
    collect,
    connection_address_from_processes,
    normalize_address,
    parse_nic_map,
    parse_ssh_connection,
)

ARGUMENT_SPEC = dict(
    connection_address=dict(type="str"),
    nic_map=dict(type="path", default="/etc/dpvs-cluster/nics.json"),
    sysfs_root=dict(type="path", default="/sys"),
    proc_root=dict(type="path", default="/proc"),
    dpvs_pid_file=dict(type="path", default="/var/run/dpvs.pid"),
    vhost_net_path=dict(type="path", default="/dev/vhost-net"),
)


def read_nic_map(path):
    """The NIC map at ``path`` ({} when the file does not exist); InputError when it is not one."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InputError("nic_map", path, f"cannot read it: {exc}") from None
    try:
        return parse_nic_map(text)
    except ValueError as exc:
        raise InputError("nic_map", path, str(exc)) from None


def resolve_connection_address(given, environ, fs):
    """The address NICs are checked against: the option, else SSH_CONNECTION (here or in a parent)."""
    if given is not None:
        address = normalize_address(given)
        if address is None:
            raise InputError("connection_address", given, "not an IPv4 or IPv6 address")
        return address
    return parse_ssh_connection(environ.get("SSH_CONNECTION")) or connection_address_from_processes(fs)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    fs = SysFS("/", sysfs=params["sysfs_root"], procfs=params["proc_root"])
    try:
        address = resolve_connection_address(params["connection_address"], os.environ, fs)
        nic_map = read_nic_map(params["nic_map"])
    except InputError as exc:
        module.fail_json(msg=str(exc))
    runner = Runner.for_module(module)
    ip = module.get_bin_path("ip", required=True)
    try:
        _rc, ip_addr, _err = runner.run([ip, "-o", "addr", "show"], record=False)
    except CommandError as exc:
        module.fail_json(msg=exc.msg, **exc.to_result())
    result = collect(
        fs,
        ip_addr,
        address,
        nic_map=nic_map,
        nic_map_path=params["nic_map"],
        vhost_net=os.path.exists(params["vhost_net_path"]),
        dpvs_pid_file=params["dpvs_pid_file"],
    )
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
