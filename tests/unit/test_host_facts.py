"""host_info's facts: the parsers on real sysfs/procfs text, the collector on captured trees.

The trees in fixtures/host_info/ were captured with fixtures/host_info/capture.py from the lab VMs
(lb1: q35, two NUMA nodes, IOMMU, 2 MB pages on both nodes, a NIC bound to vfio-pci, a VLAN;
client1: a bond with an IPv6 default route; rs1: a plain pc VM) and from the CI machine (a
firecracker VM: no IOMMU, one node, a PCI virtio NIC and virtual ifb devices). The collector's
view of each lab VM is checked against what inventories/lab declares for it, a source written
independently of the capture.
"""

import json
import os
import sys

import pytest
import yaml
from ansible_collections.dpvs.cluster.plugins.module_utils.host import facts as F

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "host_info")
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, FIXTURES)

from capture import encode  # noqa: E402  (the fixture layout's one definition)


class FixtureFS:
    """The reader interface of _host_facts.SysFS over a captured tree (see capture.py)."""

    def __init__(self, root):
        self.root = root
        with open(os.path.join(root, "_fs.json"), encoding="utf-8") as handle:
            meta = json.load(handle)
        self.links, self.dirs = meta["links"], meta["dirs"]

    def read(self, path):
        try:
            with open(os.path.join(self.root, encode(path)), encoding="utf-8") as handle:
                return handle.read()
        except OSError:
            return None

    def listdir(self, path):
        return list(self.dirs.get(path, []))

    def readlink(self, path):
        return self.links.get(path)


class DictFS:
    """A hand-written file system for cases no capture shows (hyper-threading, a parent's environ)."""

    def __init__(self, files=None, links=None, dirs=None):
        self.files, self.links, self.dirs = files or {}, links or {}, dirs or {}

    def read(self, path):
        return self.files.get(path)

    def listdir(self, path):
        return sorted(self.dirs.get(path, []))

    def readlink(self, path):
        return self.links.get(path)


def fixture(name):
    return FixtureFS(os.path.join(FIXTURES, name))


def ip_addr(name):
    with open(os.path.join(FIXTURES, name, "ip-o-addr-show.txt"), encoding="utf-8") as handle:
        return handle.read()


def collect(name, connection_address=None):
    return F.collect(fixture(name), ip_addr(name), connection_address)


def lab_vm(name):
    with open(os.path.join(REPO, "inventories", "lab", "host_vars", f"{name}.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["lab_vm"]


# links added to inventories/lab after the trees were captured (the kernel-path link of issue 5)
LINKS_AFTER_CAPTURE = ("lb1-rs1-k",)


def by_pci(facts):
    return {nic["pci_address"]: nic for nic in facts["nics"] if nic["pci_address"]}


def by_name(facts):
    return {nic["name"]: nic for nic in facts["nics"] if nic["name"]}


# ---------------------------------------------------------------------------------------------
# Parsers


@pytest.mark.parametrize(
    "text, cpus",
    [("0-3,8,10-11\n", [0, 1, 2, 3, 8, 10, 11]), ("0\n", [0]), ("", []), ("1,0", [0, 1]), ("2-2", [2])],
)
def test_parse_cpulist(text, cpus):
    assert F.parse_cpulist(text) == cpus


def test_parse_cpulist_rejects_garbage():
    with pytest.raises(ValueError, match="not a CPU list item"):
        F.parse_cpulist("0-3,x")


def test_parse_meminfo_on_lb1():
    meminfo = F.parse_meminfo(fixture("lb1").read("/proc/meminfo"))
    assert meminfo["HugePages_Total"] == 96 and meminfo["HugePages_Free"] == 96
    assert meminfo["Hugepagesize"] == 2048
    assert 1_800_000 < meminfo["MemTotal"] < 2_097_152  # 2 GiB VM minus the kernel


def test_parse_node_meminfo_on_lb1():
    node1 = F.parse_node_meminfo(fixture("lb1").read("/sys/devices/system/node/node1/meminfo"))
    assert node1["HugePages_Total"] == 32
    assert 900_000 < node1["MemTotal"] <= 1_048_576


def test_parse_cpuinfo_on_lb1():
    processors = F.parse_cpuinfo(fixture("lb1").read("/proc/cpuinfo"))
    assert [p["processor"] for p in processors] == [0, 1]
    assert [p["physical_id"] for p in processors] == [0, 1]  # -smp 2,sockets=2
    assert "sse4_2" in processors[0]["flags"] and "pni" in processors[1]["flags"]
    assert processors[0]["model_name"].startswith("QEMU TCG CPU")


def test_parse_cpuinfo_without_flags_line():
    assert F.parse_cpuinfo("processor\t: 0\nBogoMIPS\t: 50.00\n")[0]["flags"] == []


def test_parse_cmdline_quotes_and_values():
    args = F.parse_cmdline('root=/dev/vda dyndbg="file foo.c +p" quiet hugepagesz=1G hugepages=4 hugepages=8\n')
    assert args == ["root=/dev/vda", "dyndbg=file foo.c +p", "quiet", "hugepagesz=1G", "hugepages=4", "hugepages=8"]
    values = F.cmdline_values(args, ("hugepages", "quiet", "iommu"))
    assert values == {"hugepages": "8", "quiet": None}  # the last one wins, like the kernel


def test_parse_route_on_lb1():
    # the default route leaves through the management NIC; the VLAN's connected route is no default
    assert F.parse_route(fixture("lb1").read("/proc/net/route")) == ["enp0s3"]


def test_parse_route_skips_routes_that_are_down():
    text = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
    text += "eth1\t00000000\t0101A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"  # RTF_UP missing
    text += "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    assert F.parse_route(text) == ["eth0"]


def test_parse_ipv6_route_on_client1():
    # default via fd00:50::1 dev bond0; the kernel's "unreachable default dev lo" (RTF_REJECT) is no route
    assert F.parse_ipv6_route(fixture("client1").read("/proc/net/ipv6_route")) == ["bond0"]
    assert F.parse_ipv6_route(fixture("lb1").read("/proc/net/ipv6_route")) == []


def test_parse_ip_addr_on_lb1():
    addresses = F.parse_ip_addr(ip_addr("lb1"))
    assert addresses["enp0s3"] == [{"family": "inet", "address": "10.0.2.15", "prefixlen": 24}]
    assert {"family": "inet", "address": "192.168.100.1", "prefixlen": 24} in addresses["enp17s0.100"]
    assert addresses["lo"][1] == {"family": "inet6", "address": "::1", "prefixlen": 128}


def test_parse_ip_addr_vlan_suffix_and_peer():
    text = "7: vlan10@eth0    inet 10.1.0.1 peer 10.1.0.2/32 scope global vlan10\\       valid_lft forever\n"
    assert F.parse_ip_addr(text) == {"vlan10": [{"family": "inet", "address": "10.1.0.1", "prefixlen": None}]}


@pytest.mark.parametrize(
    "value, address",
    [
        ("10.0.2.2 40000 10.0.2.15 22", "10.0.2.15"),
        ("2001:db8::9 40000 2001:db8::1 22", "2001:db8::1"),
        ("10.0.2.2 40000 ::ffff:10.0.2.15 22", "10.0.2.15"),
        ("fe80::2 40000 fe80::1%eth0 22", "fe80::1"),
        ("", None),
        ("10.0.2.2 40000 not-an-address 22", None),
        ("10.0.2.2 10.0.2.15", None),
    ],
)
def test_parse_ssh_connection(value, address):
    assert F.parse_ssh_connection(value) == address


def test_parse_environ():
    assert F.parse_environ(b"A=1\0SSH_CONNECTION=a b c d\0EMPTY=\0junk\0") == {
        "A": "1",
        "SSH_CONNECTION": "a b c d",
        "EMPTY": "",
    }


def test_modules_alias_matching_on_lb1():
    fs = fixture("lb1")
    release = fs.read("/proc/sys/kernel/osrelease").strip()
    aliases = F.parse_modules_alias(fs.read(f"/lib/modules/{release}/modules.alias"))
    e1000e = fs.read("/sys/bus/pci/devices/0000:00:04.0/modalias").strip()
    virtio = fs.read("/sys/bus/pci/devices/0000:11:00.0/modalias").strip()
    assert F.match_modules(e1000e, aliases) == ["e1000e"]
    assert F.match_modules(virtio, aliases) == ["virtio_pci"]
    assert F.match_modules("pci:v000015B3d00001017sv*", aliases) == []  # a Mellanox NIC the VM lacks
    assert F.parse_modules_alias("alias usb:v1234* foo\nalias pci:v1* bar\n") == [("pci:v1*", "bar")]


@pytest.mark.parametrize(
    "options, size",
    [("rw,relatime,pagesize=2M", 2048), ("rw,pagesize=1024M", 1048576), ("pagesize=1G,rw", 1048576), ("rw", None)],
)
def test_parse_hugetlbfs_mounts(options, size):
    text = f"proc /proc proc rw 0 0\nnodev /mnt/huge hugetlbfs {options} 0 0\n"
    assert F.parse_hugetlbfs_mounts(text) == [{"path": "/mnt/huge", "pagesize_kb": size}]


@pytest.mark.parametrize(
    "path, pci",
    [
        ("../../devices/pci0000:10/0000:10:00.0/0000:11:00.0/virtio2/net/enp17s0", "0000:11:00.0"),
        ("../../devices/pci0000:00/0000:00:04.0/net/ens4", "0000:00:04.0"),
        ("../../devices/virtual/net/bond0", None),
        ("../../devices/platform/virtio-mmio.0/virtio0/net/eth0", None),
    ],
)
def test_pci_address_of(path, pci):
    assert F.pci_address_of(path) == pci


# ---------------------------------------------------------------------------------------------
# The collector on the lab VMs, against inventories/lab


CAPTURED_MEMORY_MB = {"lb1": 2048}


@pytest.mark.parametrize("vm", ["lb1", "rs1", "client1"])
def test_lab_vm_matches_its_inventory(vm):
    declared = lab_vm(vm)
    facts = collect(vm)
    nodes = declared.get("numa_nodes", 1)
    assert facts["cpu"]["count"] == declared["cpus"]
    assert facts["cpu"]["sockets"] == nodes  # the launcher gives each node a socket
    assert facts["numa"]["node_count"] == nodes
    # lb1's tree was captured when it had 2048 MB (with enp0s4 bound to vfio-pci, which the NIC map
    # tests rely on); lb1 has 4096 MB since the lab boots through GRUB (1 GB pages per node).
    memory_mb = CAPTURED_MEMORY_MB.get(vm, declared["memory_mb"])
    for node in facts["numa"]["nodes"]:
        assert len(node["cpus"]) == declared["cpus"] // nodes
        assert 0.8 < node["memory_total_kb"] / (memory_mb * 1024 / nodes) <= 1.0
    assert facts["iommu"]["enabled"] == declared.get("iommu", False)
    assert facts["cpu"]["dpdk_missing_flags"] == []  # qemu -cpu max has SSE4.2
    nics = by_pci(facts)
    mgmt = nics["0000:00:03.0"]
    assert mgmt["mac"] == declared["mgmt_mac"] and mgmt["driver"] == "virtio-pci"
    for nic in declared["nics"]:
        if nic["link"] in LINKS_AFTER_CAPTURE:
            assert nic["pci"] not in nics  # a capture shows every NIC the VM had
            continue
        seen = nics[nic["pci"]]
        assert seen["numa_node"] == nic.get("numa_node", -1)
        assert seen["kernel_modules"] == [{"virtio": "virtio_pci", "e1000e": "e1000e"}[nic["model"]]]
        if seen["driver"] == "vfio-pci":  # lb1's spare, bound to vfio-pci before the capture
            assert seen["name"] is None and seen["mac"] is None and seen["rx_queues"] is None
        else:
            assert (seen["name"], seen["permanent_mac"]) == (nic["name"], nic["mac"])
            if not seen["uppers"]:  # a bond port wears the bond's MAC (client1 ens4, ens5)
                assert seen["mac"] == nic["mac"]


def test_lb1_numa_hugepages_and_iommu():
    facts = collect("lb1")
    node0, node1 = facts["numa"]["nodes"]
    assert (node0["id"], node0["cpus"], node1["id"], node1["cpus"]) == (0, [0], 1, [1])
    assert node0["distances"] == [10, 20] and node1["distances"] == [20, 10]
    assert node0["hugepages"]["2048"] == {"total": 64, "free": 64, "surplus": 0}
    assert node1["hugepages"]["2048"]["total"] == 32
    assert node1["hugepages"]["1048576"]["total"] == 0
    pages = facts["hugepages"]
    assert pages["default_size_kb"] == 2048 and pages["sizes_kb"] == [2048, 1048576]
    assert pages["pools"]["2048"] == {"total": 96, "free": 96, "surplus": 0, "reserved": 0}
    assert pages["mounts"] == [
        {"path": "/dev/hugepages", "pagesize_kb": 2048},
        {"path": "/mnt/huge", "pagesize_kb": 2048},
    ]
    iommu = facts["iommu"]
    assert iommu["units"] == ["dmar0"] and iommu["groups"] > 5
    assert iommu["cmdline"] == {"intel_iommu": "on"}
    assert iommu["vfio_noiommu"] is False or iommu["vfio_noiommu"] is None
    assert facts["cpu"]["hyperthreading"] is False and facts["cpu"]["threads_per_core"] == 1
    assert facts["kernel"]["release"].endswith("-amd64")
    assert "intel_iommu=on" in facts["kernel"]["cmdline_args"]


def test_lb1_nic_bound_to_vfio_keeps_its_identity():
    spare = by_pci(collect("lb1"))["0000:00:04.0"]
    assert spare["driver"] == "vfio-pci" and spare["driver_override"] == "vfio-pci"
    assert spare["iommu_group"] is not None and spare["vendor_id"] == "0x8086" and spare["device_id"] == "0x10d3"
    assert not spare["connection"] and not spare["default_route_ipv4"]


def test_lb1_connection_and_default_route():
    facts = collect("lb1", "10.0.2.15")
    marked = {nic["name"] for nic in facts["nics"] if nic["connection"]}
    assert marked == {"enp0s3"}
    assert {nic["name"] for nic in facts["nics"] if nic["default_route_ipv4"]} == {"enp0s3"}
    assert not any(nic["default_route_ipv6"] for nic in facts["nics"])
    mgmt = by_name(facts)["enp0s3"]
    assert (mgmt["operstate"], mgmt["carrier"], mgmt["rx_queues"], mgmt["tx_queues"]) == ("up", True, 1, 1)
    assert by_name(facts)["enp33s0"]["carrier"] is None  # down: the kernel refuses to read carrier


def test_lb1_connection_through_a_vlan_marks_its_parent():
    facts = collect("lb1", "192.168.100.1")
    names = by_name(facts)
    assert {name for name, nic in names.items() if nic["connection"]} == {"enp17s0.100", "enp17s0"}
    assert names["enp17s0.100"]["lowers"] == ["enp17s0"] and names["enp17s0"]["uppers"] == ["enp17s0.100"]
    assert names["enp17s0.100"]["virtual"] and names["enp17s0.100"]["pci_address"] is None
    assert facts["nics"][-1]["name"] == "enp17s0.100"  # interfaces without PCI come last


def test_client1_bond_ports_carry_what_the_bond_carries():
    facts = collect("client1", "192.168.50.2")
    names = by_name(facts)
    assert "bonding_masters" not in names and "lo" not in names  # a sysfs file and loopback: no NICs
    assert sorted(names["bond0"]["lowers"]) == ["ens4", "ens5"]
    assert names["ens4"]["uppers"] == ["bond0"]
    assert names["ens4"]["mac"] == names["bond0"]["mac"] != names["ens4"]["permanent_mac"]
    assert names["bond0"]["permanent_mac"] is None  # random MAC of a virtual device
    for name in ("bond0", "ens4", "ens5"):
        assert names[name]["connection"] and names[name]["default_route_ipv6"]
    assert not names["ens3"]["connection"] and names["ens3"]["default_route_ipv4"]
    assert not names["ens3"]["default_route_ipv6"]


def test_rs1_without_numa_options_or_iommu():
    facts = collect("rs1")
    assert facts["numa"]["node_count"] == 1 and facts["numa"]["nodes"][0]["cpus"] == [0]
    assert facts["iommu"] == {"enabled": False, "units": [], "groups": 0, "cmdline": {}, "vfio_noiommu": None}
    assert all(nic["iommu_group"] is None for nic in facts["nics"])


def test_no_connection_address_marks_nothing():
    facts = collect("lb1", None)
    assert facts["connection_address"] is None
    assert not any(nic["connection"] for nic in facts["nics"])


# ---------------------------------------------------------------------------------------------
# The collector on the CI machine (firecracker VM)


def test_host_firecracker():
    facts = collect("host-firecracker", "192.0.2.2")
    names = by_name(facts)
    eth0 = names["eth0"]
    assert eth0["pci_address"] == "0000:00:03.0" and eth0["numa_node"] == -1 and eth0["driver"] == "virtio-pci"
    assert eth0["driver_override"] is None  # the kernel prints "(null)"
    assert eth0["connection"] and eth0["default_route_ipv4"] and eth0["default_route_ipv6"]
    assert names["ifb0"]["virtual"] and names["ifb0"]["pci_address"] is None and not names["ifb0"]["connection"]
    assert facts["iommu"]["enabled"] is False and facts["numa"]["node_count"] == 1
    assert facts["cpu"]["dpdk_missing_flags"] == [] and facts["cpu"]["count"] == 2
    assert facts["hugepages"]["mounts"] == []
    assert "--" not in facts["kernel"]["cmdline_args"]  # capture.py keeps kernel parameters only


# ---------------------------------------------------------------------------------------------
# Cases no capture shows


def _cpu_fs(siblings, flags):
    files = {
        "/proc/cpuinfo": "".join(f"processor\t: {cpu}\nflags\t\t: {flags}\n\n" for cpu in siblings),
        "/sys/devices/system/cpu/online": f"0-{len(siblings) - 1}\n",
    }
    for cpu, sibling in siblings.items():
        base = f"/sys/devices/system/cpu/cpu{cpu}/topology"
        files[base + "/thread_siblings_list"] = sibling
        files[base + "/core_id"] = sibling.split(",")[0]
        files[base + "/physical_package_id"] = "0"
    return DictFS(files)


def test_hyperthreading_and_missing_flags():
    fs = _cpu_fs({0: "0,2", 1: "1,3", 2: "0,2", 3: "1,3"}, "fpu sse sse2 pni ssse3 sse4_1")
    cpu = F.collect(fs, "")["cpu"]
    assert (cpu["count"], cpu["cores"], cpu["sockets"]) == (4, 2, 1)
    assert cpu["threads_per_core"] == 2 and cpu["hyperthreading"] is True
    assert cpu["dpdk_missing_flags"] == ["sse4_2"] and cpu["dpdk_required_flags"]["ssse3"] is True
    assert cpu["dpdk_optional_flags"]["pdpe1gb"] is False


def test_empty_system_gives_empty_facts():
    facts = F.collect(DictFS(), "")
    assert facts["nics"] == [] and facts["numa"] == {"node_count": 0, "nodes": []}
    assert facts["cpu"]["count"] == 0 and facts["kernel"]["release"] is None


def test_connection_address_from_a_parent_process():
    fs = DictFS(
        {
            "/proc/self/environ": "PATH=/usr/bin\0",
            "/proc/self/stat": "4242 (python3 (x) y) S 4200 4242 0 0",
            "/proc/4200/environ": "SUDO_USER=admin\0",
            "/proc/4200/stat": "4200 (sudo) S 4100 4200",
            "/proc/4100/environ": "SSH_CONNECTION=192.0.2.9 51000 192.0.2.10 22\0",
        }
    )
    assert F.connection_address_from_processes(fs) == "192.0.2.10"


def test_connection_address_from_processes_gives_up_at_init():
    fs = DictFS({"/proc/self/environ": "", "/proc/self/stat": "7 (sh) S 1 7", "/proc/1/stat": "1 (init) S 0 1"})
    assert F.connection_address_from_processes(fs) is None


# ---------------------------------------------------------------------------------------------
# The module: its documented return values and its connection address


def test_return_documentation_matches_the_facts():
    from ansible_collections.dpvs.cluster.plugins.modules import host_info

    documented = yaml.safe_load(host_info.RETURN)
    facts = collect("lb1", "10.0.2.15")
    assert set(documented) == set(facts)
    for key in ("kernel", "cpu", "hugepages", "iommu"):
        assert set(documented[key]["contains"]) == set(facts[key]), key
    assert set(documented["numa"]["contains"]["nodes"]["contains"]) == set(facts["numa"]["nodes"][0])
    for nic in facts["nics"]:
        assert set(documented["nics"]["contains"]) == set(nic)


def test_resolve_connection_address():
    from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
    from ansible_collections.dpvs.cluster.plugins.modules.host_info import resolve_connection_address

    parent = DictFS(
        {
            "/proc/self/environ": "",
            "/proc/self/stat": "9 (python3) S 8 9",
            "/proc/8/environ": "SSH_CONNECTION=10.0.2.2 40000 10.0.2.15 22\0",
        }
    )
    assert resolve_connection_address("::ffff:192.0.2.7", {}, DictFS()) == "192.0.2.7"
    assert resolve_connection_address(None, {"SSH_CONNECTION": "10.0.2.2 1 10.0.2.16 22"}, parent) == "10.0.2.16"
    assert resolve_connection_address(None, {}, parent) == "10.0.2.15"
    assert resolve_connection_address(None, {}, DictFS()) is None
    with pytest.raises(InputError, match=r"connection_address: not an IPv4 or IPv6 address \(got 'lb1'\)"):
        resolve_connection_address("lb1", {}, parent)


# ---------------------------------------------------------------------------------------------
# The NIC map (/etc/dpvs-cluster/nics.json): names and kernel drivers of NICs bound to DPDK

LB1_MAP = {
    "0000:00:04.0": {
        "name": "enp0s4",
        "mac": "52:54:00:00:01:04",
        "numa_node": -1,
        "kernel_driver": "e1000e",
        "vendor_id": "0x8086",
        "device_id": "0x10d3",
    },
    # a NIC with an interface now: the live name wins over a stale record
    "0000:11:00.0": {"name": "old0", "mac": "52:54:00:00:00:99", "kernel_driver": "virtio-pci"},
}


def test_parse_nic_map():
    text = json.dumps({"version": 1, "nics": LB1_MAP})
    parsed = F.parse_nic_map(text)
    assert parsed["0000:00:04.0"] == LB1_MAP["0000:00:04.0"]
    assert parsed["0000:11:00.0"]["numa_node"] is None  # every key present
    assert F.parse_nic_map("") == {} and F.parse_nic_map(None) == {}


@pytest.mark.parametrize(
    "text, problem",
    [
        ("{not json", "not JSON"),
        ('{"version": 2, "nics": {}}', "not a NIC map"),
        ('{"nics": []}', "not a NIC map"),
        ('{"version": 1, "nics": {"enp0s4": {}}}', "'enp0s4': not a PCI address"),
    ],
)
def test_parse_nic_map_refuses(text, problem):
    with pytest.raises(ValueError, match=problem):
        F.parse_nic_map(text)


def test_lb1_nic_bound_to_vfio_named_from_the_map():
    facts = F.collect(fixture("lb1"), ip_addr("lb1"), nic_map=LB1_MAP, nic_map_path="/etc/dpvs-cluster/nics.json")
    spare = by_pci(facts)["0000:00:04.0"]
    assert (spare["name"], spare["mac"], spare["recorded"]) == ("enp0s4", "52:54:00:00:01:04", True)
    assert spare["driver"] == "vfio-pci" and spare["kernel_driver"] == "e1000e"
    live = by_pci(facts)["0000:11:00.0"]
    declared = {nic["pci"]: nic for nic in lab_vm("lb1")["nics"]}["0000:11:00.0"]
    assert (live["name"], live["mac"], live["recorded"]) == (declared["name"], declared["mac"], False)
    assert live["kernel_driver"] == "virtio-pci"  # the driver bound now, not the record
    assert facts["nic_map"] == {"path": "/etc/dpvs-cluster/nics.json", "nics": LB1_MAP}


def test_lb1_without_a_map_every_nic_still_has_a_kernel_driver():
    nics = by_pci(collect("lb1"))
    spare = nics["0000:00:04.0"]
    assert (spare["name"], spare["mac"], spare["recorded"]) == (None, None, False)
    assert spare["kernel_driver"] == "e1000e"  # from modules.alias, vfio_pci skipped
    assert {pci: nic["kernel_driver"] for pci, nic in nics.items()} == {
        "0000:00:03.0": "virtio-pci",
        "0000:00:04.0": "e1000e",
        "0000:11:00.0": "virtio-pci",
        "0000:21:00.0": "e1000e",
    }


@pytest.mark.parametrize(
    "driver, modules, recorded, expected",
    [
        ("ixgbe", ["ixgbe"], "i40e", "ixgbe"),
        ("vfio-pci", ["vfio_pci", "ixgbe"], None, "ixgbe"),
        ("igb_uio", ["ixgbe"], "ixgbe_rec", "ixgbe_rec"),
        (None, [], "mlx5_core", "mlx5_core"),
        ("uio_pci_generic", ["vfio_pci"], None, None),
    ],
)
def test_kernel_driver_of(driver, modules, recorded, expected):
    assert F.kernel_driver_of(driver, modules, recorded) == expected


def test_read_nic_map(tmp_path):
    from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
    from ansible_collections.dpvs.cluster.plugins.modules.host_info import read_nic_map

    assert read_nic_map(str(tmp_path / "absent.json")) == {}
    good = tmp_path / "nics.json"
    good.write_text(json.dumps({"version": 1, "nics": LB1_MAP}))
    assert read_nic_map(str(good))["0000:00:04.0"]["name"] == "enp0s4"
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    with pytest.raises(InputError, match=r"^nic_map: not a NIC map.*\(got '.*bad.json'\)"):
        read_nic_map(str(bad))


def test_sysfs_and_procfs_roots_are_remapped(tmp_path):
    (tmp_path / "sys" / "devices").mkdir(parents=True)
    (tmp_path / "sys" / "devices" / "x").write_text("s")
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cmdline").write_text("p")
    fs = F.SysFS("/", sysfs=str(tmp_path / "sys"), procfs=str(tmp_path / "proc"))
    assert (fs.read("/sys/devices/x"), fs.read("/proc/cmdline")) == ("s", "p")
    assert fs.listdir("/sys") == ["devices"]
    assert fs.read("/system/x") is None  # only the /sys prefix, not /sysXYZ


def test_the_literal_prefix_filter_matches_as_fnmatch_does():
    """match_modules compiles only the patterns whose literal prefix fits; the result is plain
    fnmatch's, for patterns with *, ?, [...] and none."""
    import fnmatch

    aliases = [
        ("pci:v00008086d0000100Esv*sd*bc*sc*i*", "e1000e"),
        ("pci:v00008086d000010??sv*sd*bc*sc*i*", "e1000"),
        ("pci:v0000808[0-9]d*sv*sd*bc02sc00i*", "intel_any"),
        ("pci:v*d*sv*sd*bc02sc00i*", "any_ethernet"),
        ("pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00", "exact"),
        ("pci:v000015B3d00001017sv*sd*bc*sc*i*", "mlx5_core"),
        ("pci:v00008086d0000100Esv*sd*bc*sc*i*", "e1000e"),  # a module listed twice
    ]
    for modalias in (
        "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00",
        "pci:v00008086d000010FFsv00001AF4sd00001100bc03sc00i00",
        "pci:v000015B3d00001017sv000015B3sd00000001bc02sc00i00",
    ):
        expected = []
        for pattern, module in aliases:
            if module not in expected and fnmatch.fnmatchcase(modalias, pattern):
                expected.append(module)
        assert F.match_modules(modalias, aliases) == expected
    assert F.match_modules("pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00", aliases) == [
        "e1000e",
        "e1000",
        "intel_any",
        "any_ethernet",
        "exact",
    ]
