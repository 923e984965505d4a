# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a DPVS host looks like, from sysfs and procfs: CPUs, NUMA, memory, hugepages, IOMMU, NICs.

Two layers, both free of Ansible so that they run (and are tested) anywhere:

* parsers: pure functions, text in, plain data out (``parse_cpulist``, ``parse_meminfo``, ...);
* :func:`collect`: walks a file system through a small reader interface (:class:`SysFS` on the
  live system; tests give it a captured tree) and assembles the facts from the parsers.

The only command the facts need, ``ip -o addr show`` (interface addresses are not in procfs),
is run by the module and handed to :func:`collect` as text. The data shapes are documented in
the module's RETURN (plugins/modules/host_info.py) and docs/internals.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import ipaddress
import json
import os
import re

# CPU flags (as /proc/cpuinfo names them) DPDK checks at start-up on x86: its build requires
# SSE4.2 and records SSE..SSE4_2 as compile-time flags (config/x86/meson.build, base_flags) that
# rte_eal_init refuses to run without. SSE3 is "pni" in /proc/cpuinfo.
DPDK_REQUIRED_FLAGS = ("sse", "sse2", "pni", "ssse3", "sse4_1", "sse4_2")
# Flags DPDK and DPVS use when present: vector PMD paths (avx, avx2, avx512f), CRC/hash and crypto
# (aes, pclmulqdq, popcnt), 1 GB hugepages (pdpe1gb), a TSC it can trust as its clock
# (constant_tsc, nonstop_tsc), random numbers (rdrand).
DPDK_OPTIONAL_FLAGS = (
    "avx",
    "avx2",
    "avx512f",
    "aes",
    "pclmulqdq",
    "popcnt",
    "pdpe1gb",
    "constant_tsc",
    "nonstop_tsc",
    "rdrand",
)
# Drivers that take a NIC away from the kernel for DPDK (sysfs driver names and module names).
DPDK_DRIVERS = ("vfio-pci", "vfio_pci", "igb_uio", "uio_pci_generic", "uio-pci-generic")
# The NIC map the preflight role records (docs/preflight.md): version of its format.
NIC_MAP_VERSION = 1
NIC_MAP_KEYS = ("name", "mac", "numa_node", "kernel_driver", "vendor_id", "device_id")
# Kernel command line parameters that decide the IOMMU state.
IOMMU_CMDLINE_PARAMS = ("intel_iommu", "amd_iommu", "iommu", "iommu.passthrough", "vfio.enable_unsafe_noiommu_mode")

PCI_CLASS_NETWORK = "0x02"
ARPHRD_LOOPBACK = 772
NET_ADDR_PERM = 0  # /sys/class/net/X/addr_assign_type of a MAC the NIC came with
RTF_UP = 0x0001
RTF_REJECT = 0x0200

# 0-3,8,10-11
CPU_RANGE_RE = re.compile(r"^(\d+)(?:-(\d+))?$")
# MemTotal:       16303440 kB
# HugePages_Total:       0
MEMINFO_RE = re.compile(r"^(?P<key>[A-Za-z0-9_()]+):\s+(?P<value>\d+)(?:\s+kB)?\s*$")
# Node 0 MemTotal:        1030036 kB
NODE_MEMINFO_RE = re.compile(r"^Node\s+\d+\s+(?P<key>[A-Za-z0-9_()]+):\s+(?P<value>\d+)(?:\s+kB)?\s*$")
# flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr ...
CPUINFO_RE = re.compile(r"^(?P<key>[^:]+?)\s*:\s?(?P<value>.*)$")
# hugepages-2048kB
HUGEPAGES_DIR_RE = re.compile(r"^hugepages-(?P<size>\d+)kB$")
# 2: enp0s3    inet 10.0.2.15/24 metric 1024 brd 10.0.2.255 scope global dynamic enp0s3\       valid_lft ...
# 5: vlan10@enp0s4    inet6 fe80::5054:ff:fe00:104/64 scope link \       valid_lft forever ...
IP_ADDR_RE = re.compile(
    r"^\d+:\s+(?P<ifname>[^\s@]+)(?:@\S+)?\s+(?P<family>inet6?)\s+(?P<address>[0-9A-Fa-f.:]+)(?:/(?P<prefixlen>\d+))?"
)
# 0000:00:04.0
PCI_ADDRESS_RE = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")
# rw,relatime,pagesize=2M   (the options of "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0")
MOUNT_PAGESIZE_RE = re.compile(r"(?:^|,)pagesize=(?P<value>\d+)(?P<unit>[KMGkmg]?)(?:,|$)")


# ---------------------------------------------------------------------------------------------
# Parsers: text in, plain data out


def parse_cpulist(text):
    """``"0-3,8"`` -> ``[0, 1, 2, 3, 8]`` (the kernel's cpulist format; empty -> ``[]``)."""
    cpus = []
    for part in (text or "").strip().split(","):
        part = part.strip()
        if not part:
            continue
        match = CPU_RANGE_RE.match(part)
        if not match:
            raise ValueError(f"not a CPU list item: {part!r}")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        cpus.extend(range(first, last + 1))
    return sorted(set(cpus))


def _key_values(text, pattern):
    """``{key: int(value)}`` of the lines ``pattern`` matches (its ``key`` and ``value`` groups)."""
    values = {}
    for line in (text or "").splitlines():
        match = pattern.match(line.strip())
        if match:
            values[match.group("key")] = int(match.group("value"))
    return values


def parse_meminfo(text):
    """``/proc/meminfo`` -> ``{"MemTotal": 16303440, "HugePages_Total": 0, ...}`` (kB or counts)."""
    return _key_values(text, MEMINFO_RE)


def parse_node_meminfo(text):
    """``/sys/devices/system/node/nodeN/meminfo`` -> ``{"MemTotal": 1030036, "MemFree": ...}``."""
    return _key_values(text, NODE_MEMINFO_RE)


def parse_cpuinfo(text):
    """``/proc/cpuinfo`` (x86 layout) -> one dict per processor.

    ``{"processor": 0, "model_name": "...", "physical_id": 0|None, "core_id": 0|None,
    "flags": ["fpu", ...]}``. Architectures without a ``flags`` line give ``flags: []``.
    """
    processors = []
    current = None
    for line in (text or "").splitlines():
        if not line.strip():
            current = None
            continue
        match = CPUINFO_RE.match(line)
        if not match:
            continue
        key, value = match.group("key").strip(), match.group("value").strip()
        if key == "processor":
            current = {"processor": int(value), "model_name": None, "physical_id": None, "core_id": None, "flags": []}
            processors.append(current)
        elif current is None:
            continue
        elif key == "model name":
            current["model_name"] = value
        elif key == "physical id":
            current["physical_id"] = int(value)
        elif key == "core id":
            current["core_id"] = int(value)
        elif key in ("flags", "Features"):
            current["flags"] = value.split()
    return processors


def parse_cmdline(text):
    """``/proc/cmdline`` -> list of arguments; double quotes group words (``opt="a b"``)."""
    args, word, quoted, started = [], [], False, False
    for char in (text or "").strip():
        if char == '"':
            quoted = not quoted
            started = True
        elif char.isspace() and not quoted:
            if started:
                args.append("".join(word))
            word, started = [], False
        else:
            word.append(char)
            started = True
    if started:
        args.append("".join(word))
    return args


def cmdline_values(args, names):
    """The last value of each named parameter (``None`` for a bare flag), only those present."""
    values = {}
    for arg in args:
        name, sep, value = arg.partition("=")
        if name in names:
            values[name] = value if sep else None
    return values


def parse_route(text):
    """``/proc/net/route`` -> the interfaces that carry an IPv4 default route (up), in table order."""
    ifaces = []
    for line in (text or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        iface, destination, flags, mask = fields[0], fields[1], int(fields[3], 16), fields[7]
        if destination == "00000000" and mask == "00000000" and flags & RTF_UP and iface not in ifaces:
            ifaces.append(iface)
    return ifaces


def parse_ipv6_route(text):
    """``/proc/net/ipv6_route`` -> the interfaces that carry an IPv6 default route (up, not reject)."""
    ifaces = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 10:
            continue
        destination, plen, flags, iface = fields[0], fields[1], int(fields[8], 16), fields[9]
        if destination.strip("0") or int(plen, 16) != 0:
            continue
        if flags & RTF_UP and not flags & RTF_REJECT and iface != "lo" and iface not in ifaces:
            ifaces.append(iface)
    return ifaces


def parse_ip_addr(text):
    """``ip -o addr show`` -> ``{ifname: [{"family": "inet"|"inet6", "address": str, "prefixlen": int|None}]}``."""
    addresses = {}
    for line in (text or "").splitlines():
        match = IP_ADDR_RE.match(line.strip())
        if not match:
            continue
        prefixlen = match.group("prefixlen")
        addresses.setdefault(match.group("ifname"), []).append(
            {
                "family": match.group("family"),
                "address": match.group("address").lower(),
                "prefixlen": int(prefixlen) if prefixlen is not None else None,
            }
        )
    return addresses


def parse_environ(data):
    """``/proc/PID/environ`` (NUL-separated) -> dict."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    env = {}
    for item in (data or "").split("\0"):
        name, sep, value = item.partition("=")
        if sep and name:
            env[name] = value
    return env


def parse_ssh_connection(value):
    """``SSH_CONNECTION`` (``client_ip client_port server_ip server_port``) -> the server address or None."""
    fields = (value or "").split()
    if len(fields) != 4:
        return None
    return normalize_address(fields[2])


def normalize_address(value):
    """An IP address in canonical text (zone dropped, IPv4-mapped IPv6 as IPv4), or None if not one."""
    text = (value or "").strip().strip("[]").split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def parse_modules_alias(text):
    """``modules.alias`` -> ``[(pattern, module)]`` for the PCI aliases only."""
    aliases = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "alias" and fields[1].startswith("pci:"):
            aliases.append((fields[1], fields[2]))
    return aliases


def _literal_prefix(pattern):
    """What every string a glob pattern matches starts with (up to its first ``*``, ``?``, ``[``)."""
    for index, char in enumerate(pattern):
        if char in "*?[":
            return pattern[:index]
    return pattern


def match_modules(modalias, aliases):
    """The kernel modules whose alias patterns match a device's modalias (as ``lspci -k`` shows).
    A pattern is compiled only when its literal prefix (``pci:v00008086d...``) fits: a kernel has
    some 10,000 PCI aliases, and compiling each one costs seconds on a slow CPU."""
    found = []
    if not modalias:
        return found
    for pattern, module in aliases:
        if module in found or not modalias.startswith(_literal_prefix(pattern)):
            continue
        if fnmatch.fnmatchcase(modalias, pattern):
            found.append(module)
    return found


def parse_hugetlbfs_mounts(text):
    """``/proc/mounts`` -> ``[{"path": "/dev/hugepages", "pagesize_kb": 2048|None}]`` for hugetlbfs."""
    units = {"": 1, "k": 1, "m": 1024, "g": 1024 * 1024}
    mounts = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[2] != "hugetlbfs":
            continue
        match = MOUNT_PAGESIZE_RE.search(fields[3])
        size = None
        if match:
            # the kernel prints pagesize in bytes with a K/M/G suffix; without a suffix it is bytes
            unit = match.group("unit").lower()
            size = int(match.group("value")) * units[unit] if unit else int(match.group("value")) // 1024
        mounts.append({"path": fields[1].replace("\\040", " "), "pagesize_kb": size})
    return mounts


def pci_address_of(device_path):
    """The PCI function a sysfs device path belongs to (the last PCI address in it), or None."""
    found = None
    for part in (device_path or "").split("/"):
        if PCI_ADDRESS_RE.match(part):
            found = part
    return found


def parse_nic_map(text):
    """The NIC map (``/etc/dpvs-cluster/nics.json``) -> ``{pci: {name, mac, numa_node, kernel_driver,
    vendor_id, device_id}}``; ``None`` or empty text -> ``{}``. ValueError when it is not the format
    ``{"version": 1, "nics": {"0000:11:00.0": {...}}}``."""
    if not (text or "").strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != NIC_MAP_VERSION or not isinstance(data.get("nics"), dict):
        raise ValueError(f'not a NIC map: expected {{"version": {NIC_MAP_VERSION}, "nics": {{PCI: {{...}}}}}}')
    nics = {}
    for pci, entry in data["nics"].items():
        if not PCI_ADDRESS_RE.match(str(pci)) or not isinstance(entry, dict):
            raise ValueError(f"entry {pci!r}: not a PCI address with a dictionary")
        nics[pci] = {key: entry.get(key) for key in NIC_MAP_KEYS}
    return nics


def is_dpdk_driver(driver):
    """Whether a driver (sysfs or module name) takes the NIC from the kernel for DPDK."""
    return driver in DPDK_DRIVERS


def kernel_driver_of(driver, kernel_modules, recorded=None):
    """The kernel driver a NIC goes back to: the current driver when it is a kernel one, else the one
    the NIC map recorded, else the first matching kernel module that is not a DPDK driver."""
    if driver and not is_dpdk_driver(driver):
        return driver
    if recorded:
        return recorded
    for module in kernel_modules or []:
        if not is_dpdk_driver(module):
            return module
    return None


# ---------------------------------------------------------------------------------------------
# File system access


class SysFS:
    """Read access to sysfs/procfs below ``root``; every method returns None or [] when a path is absent."""

    def __init__(self, root="/", sysfs=None, procfs=None):
        self.root = root
        # tests point sysfs/procfs at fake trees while the rest stays on the root
        self.mounts = [(prefix, target) for prefix, target in (("/sys", sysfs), ("/proc", procfs)) if target]

    def _path(self, path):
        for prefix, target in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                return os.path.join(target, path[len(prefix) :].lstrip("/"))
        return os.path.join(self.root, path.lstrip("/"))

    def read(self, path):
        try:
            with open(self._path(path), "rb") as handle:
                return handle.read().decode("utf-8", "replace")
        except OSError:
            # sysfs attributes of a link that is down (carrier, speed) fail with EINVAL
            return None

    def listdir(self, path):
        try:
            return sorted(os.listdir(self._path(path)))
        except OSError:
            return []

    def readlink(self, path):
        try:
            return os.readlink(self._path(path))
        except OSError:
            return None


def _strip(text):
    return text.strip() if text is not None else None


def _int(text, base=10):
    try:
        return int(text.strip(), base)
    except (AttributeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# Collector


def _cpu_facts(fs):
    processors = parse_cpuinfo(fs.read("/proc/cpuinfo"))
    online = parse_cpulist(fs.read("/sys/devices/system/cpu/online"))
    if not online:
        online = sorted(p["processor"] for p in processors)
    threads, cores, packages = [], set(), set()
    for cpu in online:
        base = f"/sys/devices/system/cpu/cpu{cpu}/topology"
        siblings = parse_cpulist(fs.read(base + "/thread_siblings_list") or str(cpu))
        threads.append(len(siblings) or 1)
        package = _int(fs.read(base + "/physical_package_id"))
        core = _int(fs.read(base + "/core_id"))
        packages.add(package)
        cores.add((package, core, tuple(siblings)))
    flag_sets = [set(p["flags"]) for p in processors if p["processor"] in online] or [set()]
    common = set.intersection(*flag_sets)
    required = {flag: flag in common for flag in DPDK_REQUIRED_FLAGS}
    models = [p["model_name"] for p in processors if p["model_name"]]
    threads_per_core = max(threads) if threads else 1
    return {
        "model": models[0] if models else None,
        "count": len(online),
        "online": online,
        "isolated": parse_cpulist(fs.read("/sys/devices/system/cpu/isolated")),
        "sockets": len(packages),
        "cores": len(cores),
        "threads_per_core": threads_per_core,
        "hyperthreading": threads_per_core > 1,
        "flags": sorted(common),
        "dpdk_required_flags": required,
        "dpdk_missing_flags": [flag for flag in DPDK_REQUIRED_FLAGS if not required[flag]],
        "dpdk_optional_flags": {flag: flag in common for flag in DPDK_OPTIONAL_FLAGS},
    }


def _hugepage_pools(fs, base, with_reserved):
    pools = {}
    for entry in fs.listdir(base):
        match = HUGEPAGES_DIR_RE.match(entry)
        if not match:
            continue
        path = f"{base}/{entry}"
        pool = {
            "total": _int(fs.read(path + "/nr_hugepages")),
            "free": _int(fs.read(path + "/free_hugepages")),
            "surplus": _int(fs.read(path + "/surplus_hugepages")),
        }
        if with_reserved:
            pool["reserved"] = _int(fs.read(path + "/resv_hugepages"))
        pools[match.group("size")] = pool
    return pools


def _numa_facts(fs):
    nodes = []
    for entry in fs.listdir("/sys/devices/system/node"):
        if not re.match(r"^node\d+$", entry):
            continue
        base = f"/sys/devices/system/node/{entry}"
        meminfo = parse_node_meminfo(fs.read(base + "/meminfo"))
        distance = (fs.read(base + "/distance") or "").split()
        nodes.append(
            {
                "id": int(entry[4:]),
                "cpus": parse_cpulist(fs.read(base + "/cpulist")),
                "memory_total_kb": meminfo.get("MemTotal"),
                "memory_free_kb": meminfo.get("MemFree"),
                "distances": [int(value) for value in distance],
                "hugepages": _hugepage_pools(fs, base + "/hugepages", with_reserved=False),
            }
        )
    nodes.sort(key=lambda node: node["id"])
    return {"node_count": len(nodes), "nodes": nodes}


def _memory_facts(fs):
    meminfo = parse_meminfo(fs.read("/proc/meminfo"))
    pools = _hugepage_pools(fs, "/sys/kernel/mm/hugepages", with_reserved=True)
    memory = {
        "total_kb": meminfo.get("MemTotal"),
        "free_kb": meminfo.get("MemFree"),
        "available_kb": meminfo.get("MemAvailable"),
    }
    hugepages = {
        "default_size_kb": meminfo.get("Hugepagesize"),
        "sizes_kb": sorted(int(size) for size in pools),
        "pools": pools,
        "mounts": parse_hugetlbfs_mounts(fs.read("/proc/mounts")),
    }
    return memory, hugepages


def _iommu_facts(fs, cmdline_args):
    units = fs.listdir("/sys/class/iommu")
    noiommu = _strip(fs.read("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"))
    return {
        "enabled": bool(units),
        "units": units,
        "groups": len(fs.listdir("/sys/kernel/iommu_groups")),
        "cmdline": cmdline_values(cmdline_args, IOMMU_CMDLINE_PARAMS),
        "vfio_noiommu": None if noiommu is None else noiommu in ("Y", "1"),
    }


def _pci_network_functions(fs, aliases):
    functions = {}
    for address in fs.listdir("/sys/bus/pci/devices"):
        base = f"/sys/bus/pci/devices/{address}"
        pci_class = _strip(fs.read(base + "/class")) or ""
        if not pci_class.startswith(PCI_CLASS_NETWORK):
            continue
        driver = fs.readlink(base + "/driver")
        group = fs.readlink(base + "/iommu_group")
        override = _strip(fs.read(base + "/driver_override"))
        functions[address] = {
            "vendor_id": _strip(fs.read(base + "/vendor")),
            "device_id": _strip(fs.read(base + "/device")),
            "numa_node": _int(fs.read(base + "/numa_node")),
            "driver": os.path.basename(driver) if driver else None,
            "driver_override": None if override in (None, "", "(null)") else override,  # the kernel prints (null)
            "kernel_modules": match_modules(_strip(fs.read(base + "/modalias")), aliases),
            "iommu_group": _int(os.path.basename(group)) if group else None,
        }
    return functions


def _netdevs(fs):
    """Every network interface but loopback: its sysfs attributes and the devices stacked under it."""
    netdevs = {}
    for name in fs.listdir("/sys/class/net"):
        base = f"/sys/class/net/{name}"
        link = fs.readlink(base)  # interfaces are links; bonding_masters is a plain file
        if not link or _int(fs.read(base + "/type")) == ARPHRD_LOOPBACK:
            continue
        queues = fs.listdir(base + "/queues")
        carrier = _strip(fs.read(base + "/carrier"))
        speed = _int(fs.read(base + "/speed"))
        mac = (_strip(fs.read(base + "/address")) or "").lower() or None
        # A bond gives its ports its own MAC; the port's own is kept in bonding_slave/perm_hwaddr.
        # Otherwise the current MAC is the burnt-in one only when the kernel says so (0: permanent).
        permanent = (_strip(fs.read(base + "/bonding_slave/perm_hwaddr")) or "").lower() or None
        if permanent is None and _int(fs.read(base + "/addr_assign_type")) == NET_ADDR_PERM:
            permanent = mac
        netdevs[name] = {
            "device_path": link,
            "virtual": "/devices/virtual/" in link,
            "mac": mac,
            "permanent_mac": permanent,
            "mtu": _int(fs.read(base + "/mtu")),
            "operstate": _strip(fs.read(base + "/operstate")),
            "carrier": None if carrier is None else carrier == "1",
            "speed_mbps": speed if speed is not None and speed >= 0 else None,
            "rx_queues": len([q for q in queues if q.startswith("rx-")]) if queues else None,
            "tx_queues": len([q for q in queues if q.startswith("tx-")]) if queues else None,
            "lowers": [entry[len("lower_") :] for entry in fs.listdir(base) if entry.startswith("lower_")],
        }
    return netdevs


def _carriers(netdevs, flagged):
    """The interfaces in ``flagged`` plus every device below them (bond ports, VLAN parents...)."""
    result, pending = set(), list(flagged)
    while pending:
        name = pending.pop()
        if name in result or name not in netdevs:
            continue
        result.add(name)
        pending.extend(netdevs[name]["lowers"])
    return result


def _find_connection_ifaces(addresses, connection_address):
    if connection_address is None:
        return set()
    return {
        ifname
        for ifname, entries in addresses.items()
        if any(normalize_address(entry["address"]) == connection_address for entry in entries)
    }


def _dpvs_facts(fs, pid_file):
    """``{"pid_file", "pid", "running"}``: running when the pid of the pid file is alive in /proc."""
    pid = _int(fs.read(pid_file)) if pid_file else None
    if pid is not None and pid < 1:
        pid = None
    return {
        "pid_file": pid_file,
        "pid": pid,
        "running": pid is not None and fs.read(f"/proc/{pid}/stat") is not None,
    }


def _module_aliases(fs, release):
    """The PCI aliases of the running kernel's modules (``modules.alias`` and ``modules.builtin.alias``)."""
    aliases = []
    if release:
        for name in ("modules.alias", "modules.builtin.alias"):
            aliases.extend(parse_modules_alias(fs.read(f"/lib/modules/{release}/{name}")))
    return aliases


def _nics(fs, functions, netdevs, addresses, connection_address, nic_map):
    """One NIC per interface and per PCI network function without one, sorted by PCI address then name."""
    default_v4 = _carriers(netdevs, parse_route(fs.read("/proc/net/route")))
    default_v6 = _carriers(netdevs, parse_ipv6_route(fs.read("/proc/net/ipv6_route")))
    connection = _carriers(netdevs, _find_connection_ifaces(addresses, connection_address))
    uppers = {}
    for name, dev in netdevs.items():
        for lower in dev["lowers"]:
            uppers.setdefault(lower, []).append(name)

    nics, seen_functions = [], set()
    for name, dev in sorted(netdevs.items()):
        pci = pci_address_of(dev["device_path"])
        function = functions.get(pci, {})
        if pci:
            seen_functions.add(pci)
        nics.append(_nic(name, pci, function, dev, addresses, uppers, default_v4, default_v6, connection, None))
    for pci in sorted(set(functions) - seen_functions):  # bound to a DPDK driver: no interface
        recorded = nic_map.get(pci)
        nics.append(
            _nic(None, pci, functions[pci], None, addresses, uppers, default_v4, default_v6, connection, recorded)
        )
    nics.sort(key=lambda nic: (nic["pci_address"] is None, nic["pci_address"] or "", nic["name"] or ""))
    return nics


def collect(
    fs,
    ip_addr_text,
    connection_address=None,
    nic_map=None,
    nic_map_path=None,
    vhost_net=None,
    dpvs_pid_file=None,
):
    """Assemble every fact from ``fs`` (a :class:`SysFS`) and ``ip -o addr show`` output.

    ``connection_address`` is the address on this host that Ansible connects to (normalised with
    :func:`normalize_address`); the NICs that carry it, directly or under a bond/VLAN/bridge that
    does, get ``connection: true``. ``nic_map`` (from :func:`parse_nic_map`, read from
    ``nic_map_path``) names the NICs that have no interface now. ``vhost_net`` (whether the device
    exists) and ``dpvs_pid_file`` are passed through to the ``vhost_net`` and ``dpvs`` facts.
    """
    nic_map = nic_map or {}
    release = _strip(fs.read("/proc/sys/kernel/osrelease"))
    cmdline_text = _strip(fs.read("/proc/cmdline")) or ""
    cmdline_args = parse_cmdline(cmdline_text)
    aliases = _module_aliases(fs, release)
    memory, hugepages = _memory_facts(fs)
    functions = _pci_network_functions(fs, aliases)
    netdevs = _netdevs(fs)
    nics = _nics(fs, functions, netdevs, parse_ip_addr(ip_addr_text), connection_address, nic_map)
    headers = f"/lib/modules/{release}/build" if release else None
    return {
        "kernel": {
            "release": release,
            "cmdline": cmdline_text,
            "cmdline_args": cmdline_args,
            "headers_path": headers,
            "headers": bool(headers and fs.listdir(headers)),
        },
        "cpu": _cpu_facts(fs),
        "numa": _numa_facts(fs),
        "memory": memory,
        "hugepages": hugepages,
        "iommu": _iommu_facts(fs, cmdline_args),
        "nics": nics,
        "connection_address": connection_address,
        "nic_map": {"path": nic_map_path, "nics": nic_map},
        "vhost_net": vhost_net,
        "dpvs": _dpvs_facts(fs, dpvs_pid_file),
    }


def _nic(name, pci, function, dev, addresses, uppers, default_v4, default_v6, connection, recorded):
    dev = dev or {}
    recorded = recorded or {}
    return {
        "name": name if name is not None else recorded.get("name"),
        "mac": dev.get("mac") if dev else recorded.get("mac"),
        "recorded": bool(recorded),
        "permanent_mac": dev.get("permanent_mac"),
        "pci_address": pci,
        "vendor_id": function.get("vendor_id"),
        "device_id": function.get("device_id"),
        "numa_node": function.get("numa_node"),
        "driver": function.get("driver"),
        "driver_override": function.get("driver_override"),
        "kernel_driver": kernel_driver_of(
            function.get("driver"), function.get("kernel_modules", []), recorded.get("kernel_driver")
        ),
        "kernel_modules": function.get("kernel_modules", []),
        "iommu_group": function.get("iommu_group"),
        "virtual": dev.get("virtual", False),
        "operstate": dev.get("operstate"),
        "carrier": dev.get("carrier"),
        "speed_mbps": dev.get("speed_mbps"),
        "mtu": dev.get("mtu"),
        "rx_queues": dev.get("rx_queues"),
        "tx_queues": dev.get("tx_queues"),
        "lowers": dev.get("lowers", []),
        "uppers": sorted(uppers.get(name, [])),
        "addresses": addresses.get(name, []) if name else [],
        "default_route_ipv4": name in default_v4,
        "default_route_ipv6": name in default_v6,
        "connection": name in connection,
    }


def connection_address_from_processes(fs, pid="self", max_depth=64):
    """The server address of ``SSH_CONNECTION`` from this process or its nearest ancestor that has it.

    ``become`` (sudo, su) clears the variable from the module's environment, but the SSH session's
    shell above it still has it in ``/proc/PID/environ`` (readable by root).
    """
    for _depth in range(max_depth):
        env = parse_environ(fs.read(f"/proc/{pid}/environ"))
        address = parse_ssh_connection(env.get("SSH_CONNECTION"))
        if address:
            return address
        stat = fs.read(f"/proc/{pid}/stat") or ""
        # "1234 (sshd: root@notty) S 1200 ..." -- the command may contain spaces and parentheses
        fields = stat[stat.rfind(")") + 1 :].split()
        ppid = _int(fields[1]) if len(fields) > 1 else None
        if not ppid:
            return None
        pid = ppid
    return None
