"""The preflight judgement (module_utils/host/preflight.py, filters preflight_report / preflight_nic_map)
on host_info's facts of the captured trees: lb1 (two NUMA nodes, IOMMU, a NIC on node -1 bound to
vfio-pci, the management NIC enp0s3 carrying the connection), the CI firecracker VM (one node, no
IOMMU) and hand-written hosts for what no capture shows (hyper-threading, Mellanox, missing flags).
"""

import copy
import os
import sys

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.filter.preflight_nic_map import preflight_nic_map
from ansible_collections.dpvs.cluster.plugins.filter.preflight_report import preflight_report
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.host import facts as F
from ansible_collections.dpvs.cluster.plugins.module_utils.host.preflight import DEFAULT_POLICY, evaluate, nic_map

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_host_facts import DictFS, _cpu_fs, fixture, ip_addr  # the fixture readers

_CACHE = {}


def facts(name, address):
    if name not in _CACHE:
        _CACHE[name] = F.collect(fixture(name), ip_addr(name), address)
    return copy.deepcopy(_CACHE[name])


def lb1():
    return facts("lb1", "10.0.2.15")


def status(report):
    return {item["check"]: item["status"] for item in report["checks"]}


def detail(report, check):
    return next(item["detail"] for item in report["checks"] if item["check"] == check)


# What the lab asks of lb1 (inventories/lab/group_vars/dpvs/*.yml): the two data NICs on their
# nodes to vfio-pci, 2 MB pages on both nodes, vfio-pci, uio_pci_generic and igb_uio (built by DKMS).
LAB_REQUESTS = {
    "devices": [{"pci": "0000:11:00.0", "driver": "vfio-pci"}, {"name": "enp33s0", "driver": "vfio-pci"}],
    "hugepages": [{"size": "2M", "node": 0, "count": 64}, {"size": "2M", "node": 1, "count": 64}],
    "kmods": ["vfio-pci", "uio_pci_generic", "igb_uio"],
    "kmods_build": ["igb_uio"],
    "numa_nodes_expected": 2,
}


def test_lab_lb1_passes_with_the_lab_requests():
    host = lb1()
    host["kernel"]["headers"] = True  # the capture did not list /lib/modules/RELEASE/build
    report = evaluate(host, LAB_REQUESTS, {"hyperthreading": "warn"})
    assert report["failed"] == [] and report["warned"] == []
    assert set(status(report).values()) == {"pass"}
    assert "NUMA node 0: 128 MiB of" in detail(report, "hugepages_memory")
    assert report["table"][0].split() == ["check", "status", "detail"]
    assert len(report["table"]) == len(report["checks"]) + 1


def test_lb1_nic_on_node_minus_one_fails_when_bound():
    requests = {"devices": [{"pci": "00:04.0", "driver": "vfio-pci"}]}  # short PCI form
    report = evaluate(lb1(), requests)
    assert report["failed"] == ["nic_numa"]
    assert "preflight_devices[0].pci: 00:04.0 (0000:00:04.0" in detail(report, "nic_numa")
    assert "NUMA node -1 on a 2-node host" in detail(report, "nic_numa")
    assert status(evaluate(lb1(), requests, {"nic_numa": "warn"}))["nic_numa"] == "warn"
    assert status(evaluate(lb1(), requests, {"nic_numa": "ignore"}))["nic_numa"] == "ignored"
    # not bound to a DPDK driver: no NUMA requirement
    assert evaluate(lb1(), {"devices": [{"pci": "0000:00:04.0", "driver": "e1000e"}]})["failed"] == []


def test_management_nic_always_fails_whatever_the_policy():
    mac = next(nic["mac"] for nic in lb1()["nics"] if nic["name"] == "enp0s3").upper()
    for device in ({"name": "enp0s3"}, {"pci": "0000:00:03.0"}, {"mac": mac}):
        device = dict(device, driver="uio_pci_generic")
        report = evaluate(lb1(), {"devices": [device]}, {key: "ignore" for key in DEFAULT_POLICY})
        assert report["failed"] == ["management_nic"], device
        assert "carries the Ansible connection" in detail(report, "management_nic")


def test_a_nic_that_does_not_exist_fails_devices():
    report = evaluate(lb1(), {"devices": [{"pci": "0000:99:00.0", "driver": "vfio-pci"}, {"name": "eth9"}]})
    assert report["failed"] == ["devices"]
    text = detail(report, "devices")
    assert "preflight_devices[0].pci: 0000:99:00.0 is not a PCI network function" in text
    assert "preflight_devices[1].name: eth9 is not" in text


def test_firecracker_default_route_nic_and_vfio_without_iommu():
    host = facts("host-firecracker", "192.0.2.2")
    report = evaluate(host, {"devices": [{"name": "eth0", "driver": "vfio-pci"}]})
    assert set(report["failed"]) == {"management_nic", "iommu"}
    assert "no IOMMU is active" in detail(report, "iommu")
    # no-IOMMU mode asked: vfio-pci is allowed without an IOMMU
    noiommu = evaluate(host, {"kmods": ["vfio-pci"], "vfio_noiommu": True})
    assert status(noiommu)["iommu"] == "pass" and "no-IOMMU mode" in detail(noiommu, "iommu")
    # one node: a NIC on node -1 is fine
    ifb = evaluate(host, {"devices": [{"name": "ifb0", "driver": "vfio-pci"}]})
    assert "(a virtual interface)" in detail(ifb, "devices")


def test_hugepages_larger_than_a_node_and_a_node_that_does_not_exist():
    requests = {
        "hugepages": [
            {"size": "2M", "node": 0, "count": 1024},  # 2 GiB on a 1 GiB node
            {"size": "1G", "node": 3, "count": 1},
        ]
    }
    report = evaluate(lb1(), requests)
    assert report["failed"] == ["hugepages_memory"]
    text = detail(report, "hugepages_memory")
    assert "preflight_hugepages[1].node: no NUMA node 3 on this host (nodes: 0, 1)" in text
    assert "preflight_hugepages[0]: 2.0 GiB of hugepages on NUMA node 0, which has 1006 MiB" in text
    # 90% by default; a share that fits
    small = {"hugepages": [{"size": "2M", "node": 1, "count": 256}]}
    assert evaluate(lb1(), small)["failed"] == []
    assert evaluate(lb1(), dict(small, hugepages_max_share=0.1))["failed"] == ["hugepages_memory"]


def test_one_gig_pages_need_pdpe1gb():
    host = lb1()
    request = {"hugepages": [{"size": "1G", "node": 0, "count": 0}, {"size": "1G", "node": 1, "count": 0}]}
    assert evaluate(host, request)["failed"] == []  # zero pages: nothing asked
    request["hugepages"][1]["count"] = 1
    assert status(evaluate(host, request))["cpu_flags"] == "pass"  # qemu -cpu max has pdpe1gb
    host["cpu"]["dpdk_optional_flags"]["pdpe1gb"] = False
    report = evaluate(host, request)
    assert "preflight_hugepages[1].size: 1G pages requested but the CPU lacks pdpe1gb" in detail(report, "cpu_flags")


def test_hyperthreading_and_missing_flags_from_the_cpu():
    host = F.collect(_cpu_fs({0: "0,2", 1: "1,3", 2: "0,2", 3: "1,3"}, "fpu sse sse2 pni ssse3 sse4_1"), "")
    report = evaluate(host, {})
    assert report["failed"] == ["cpu_flags"] and report["warned"] == ["hyperthreading"]
    assert detail(report, "cpu_flags") == "DPDK needs sse4_2"
    assert "2 threads per core" in detail(report, "hyperthreading")
    assert evaluate(host, {}, {"hyperthreading": "fail", "cpu_flags": "warn"})["failed"] == ["hyperthreading"]


def test_numa_expected_but_one_node():
    host = facts("host-firecracker", "192.0.2.2")
    report = evaluate(host, {"numa_nodes_expected": 2})
    assert report["warned"] == ["numa"] and "2 nodes expected, the kernel shows 1" in detail(report, "numa")
    assert evaluate(lb1(), {"numa_nodes_expected": 2})["warned"] == []


def test_kernel_headers_only_when_a_build_is_requested():
    host = lb1()
    host["kernel"]["headers"] = False
    assert status(evaluate(host, {}))["kernel_headers"] == "pass"
    report = evaluate(host, {"kmods_build": ["igb_uio", "toa"]})
    assert report["failed"] == ["kernel_headers"]
    assert "building igb_uio, toa needs the headers of the running kernel" in detail(report, "kernel_headers")


def test_mellanox_warns_and_binding_it_fails():
    host = lb1()
    spare = next(nic for nic in host["nics"] if nic["pci_address"] == "0000:21:00.0")
    spare["vendor_id"] = "0x15b3"
    report = evaluate(host, {})
    assert report["warned"] == ["mellanox"] and "0000:21:00.0" in detail(report, "mellanox")
    bind = evaluate(host, {"devices": [{"pci": "0000:21:00.0", "driver": "vfio-pci"}]}, {"mellanox": "ignore"})
    assert bind["failed"] == ["devices"] and "is a Mellanox NIC" in detail(bind, "devices")


@pytest.mark.parametrize(
    "requests, policy, message",
    [
        (
            {},
            {"hyperthreading": "maybe"},
            r"preflight_policy.hyperthreading: must be fail, warn or ignore \(got 'maybe'\)",
        ),
        ({}, {"speed": "warn"}, r"preflight_policy.speed: unknown check"),
        ({}, {"management_nic": "ignore"}, r"preflight_policy.management_nic: this check always fails"),
        ({"devices": [{"pci": "11:0.0"}]}, {}, r"preflight_devices\[0\].pci: not a PCI address .*\(got '11:0.0'\)"),
        ({"devices": [{"driver": "vfio-pci"}]}, {}, r"preflight_devices\[0\]: name the NIC by pci, mac or name"),
        ({"devices": [{"mac": "52:54"}]}, {}, r"preflight_devices\[0\].mac: not a MAC address"),
        (
            {"hugepages": [{"size": "4M", "node": 0, "count": 1}]},
            {},
            r"preflight_hugepages\[0\].size: must be 2M or 1G",
        ),
        ({"hugepages": [{"size": "2M", "node": -1, "count": 1}]}, {}, r"preflight_hugepages\[0\].node: must be a NUMA"),
        ({"hugepages": [{"size": "2M", "node": 0, "count": "many"}]}, {}, r"preflight_hugepages\[0\].count"),
        ({"numa_nodes_expected": "two"}, {}, r"preflight_numa_nodes_expected: must be a node count"),
    ],
)
def test_bad_inputs_name_the_variable_and_value(requests, policy, message):
    with pytest.raises(InputError, match=message):
        evaluate(lb1(), requests, policy)
    with pytest.raises(AnsibleFilterError, match=message):
        preflight_report(lb1(), requests, policy)


def test_report_refuses_other_facts():
    with pytest.raises(AnsibleFilterError, match="host_info"):
        preflight_report({"cpu": {}}, {})


def test_nic_map_records_live_nics_and_keeps_bound_ones():
    host = F.collect(
        fixture("lb1"),
        ip_addr("lb1"),
        "10.0.2.15",
        nic_map={
            "0000:00:04.0": {"name": "enp0s4", "mac": "52:54:00:00:01:04", "numa_node": -1, "kernel_driver": "e1000e"},
            "0000:42:00.0": {"name": "gone0", "mac": "52:54:00:00:04:20", "kernel_driver": "ixgbe"},
            "0000:11:00.0": {"name": "stale", "mac": "00:00:00:00:00:01", "kernel_driver": "virtio-pci"},
        },
    )
    result = preflight_nic_map(host)
    assert result["version"] == 1
    nics = result["nics"]
    assert list(nics) == sorted(nics)
    assert set(nics) == {"0000:00:03.0", "0000:00:04.0", "0000:11:00.0", "0000:21:00.0", "0000:42:00.0"}
    assert nics["0000:00:04.0"]["name"] == "enp0s4"  # bound to vfio-pci: kept as recorded
    assert nics["0000:42:00.0"]["name"] == "gone0"  # not on the host now: kept
    live = nics["0000:11:00.0"]  # has an interface: re-recorded from the live NIC
    assert live["name"] == "enp17s0" and live["kernel_driver"] == "virtio-pci" and live["numa_node"] == 0
    assert set(live) == {"name", "mac", "numa_node", "kernel_driver", "vendor_id", "device_id"}
    # idempotent: the map of a host that read this map again is the same map
    host["nic_map"]["nics"] = nics
    assert nic_map(host) == result


def test_nic_map_without_a_previous_map_skips_virtual_devices():
    nics = nic_map(facts("host-firecracker", "192.0.2.2"))["nics"]
    assert list(nics) == ["0000:00:03.0"] and nics["0000:00:03.0"]["name"] == "eth0"
    with pytest.raises(InputError):
        nic_map(DictFS())
