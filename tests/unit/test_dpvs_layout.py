"""dpvs_layout: placement rules on good inputs, and a clear error (variable path + value) on bad ones."""

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_layout import FilterModule
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.layout import layout


def host(nodes, isolated=(), pci=None):
    return {
        "numa_nodes": {str(n): {"cpus": list(cpus)} for n, cpus in nodes.items()},
        "isolated_cpus": list(isolated),
        "pci_devices": pci or {},
    }


TWO_NODES = host({0: range(0, 8), 1: range(8, 16)}, pci={"0000:82:00.0": {"numa_node": -1}})
ONE_NODE = host({0: range(4)})


def nic(pci, **extra):
    return dict(pci=pci, driver="ixgbe", **extra)


def test_ports_follow_pci_order_and_the_allow_list_matches():
    result = layout(
        [nic("0000:82:00.0", numa_node=1), nic("04:00.1", numa_node=0), nic("0000:04:00.0", numa_node=0)],
        TWO_NODES,
        workers=2,
    )
    assert [(p["name"], p["pci"]) for p in result["ports"]] == [
        ("dpdk0", "0000:04:00.0"),
        ("dpdk1", "0000:04:00.1"),
        ("dpdk2", "0000:82:00.0"),
    ]
    assert result["allow_list"] == ["0000:04:00.0", "0000:04:00.1", "0000:82:00.0"]
    assert result["eal_args"][2:] == ["-a", "0000:04:00.0", "-a", "0000:04:00.1", "-a", "0000:82:00.0"]


def test_master_apart_workers_on_the_nic_node_isolated_first_queues_one_to_one():
    facts = host({0: range(0, 8), 1: range(8, 16)}, isolated=[5, 6, 7, 13])
    result = layout([nic("0000:04:00.0", numa_node=0), nic("0000:04:00.1", numa_node=0)], facts, workers=4)
    assert result["master"]["core"] == 0 and result["master"]["cpu_id"] == 0
    assert [w["core"] for w in result["workers"]] == [5, 6, 7, 1]  # isolated first, then housekeeping
    assert {w["numa_node"] for w in result["workers"]} == {0}
    for worker in result["workers"]:
        assert worker["ports"] == [
            {"name": "dpdk0", "rx_queue_ids": [worker["cpu_id"] - 1], "tx_queue_ids": [worker["cpu_id"] - 1]},
            {"name": "dpdk1", "rx_queue_ids": [worker["cpu_id"] - 1], "tx_queue_ids": [worker["cpu_id"] - 1]},
        ]
    assert result["master"]["ports"] == []
    assert [p["rx_queues"] for p in result["ports"]] == [4, 4]
    assert result["lcores_arg"] == "0@0,1@5,2@6,3@7,4@1"
    assert result["max_socket"] == 2
    assert any("cpu4 runs on core 1, which is not isolated" in w for w in result["warnings"])


def test_workers_split_over_the_nodes_by_nic_count():
    facts = host({0: range(0, 8), 1: range(8, 16)})
    nics = [nic("0000:04:00.0", numa_node=0), nic("0000:82:00.0", numa_node=1), nic("0000:82:00.1", numa_node=1)]
    result = layout(nics, facts, workers=6)
    assert result["workers_per_node"] == {0: 2, 1: 4}
    assert [w["numa_node"] for w in result["workers"]] == [0, 0, 1, 1, 1, 1]
    assert any("crosses NUMA" in w for w in result["warnings"])


def test_auto_workers_respect_queue_limits_and_the_cap():
    assert layout([nic("0000:00:04.0", max_rx_queues=1, max_tx_queues=1)], ONE_NODE)["worker_count"] == 1
    big = host({0: range(32)})
    assert layout([nic("0000:01:00.0")], big)["worker_count"] == 8
    assert layout([nic("0000:01:00.0", max_tx_queues=3)], big)["worker_count"] == 3


def test_numa_minus_one_on_a_one_node_host_is_node_zero_with_a_warning():
    facts = host({0: range(4)}, pci={"0000:00:04.0": {"numa_node": -1, "kernel_driver": "virtio-pci"}})
    result = layout([{"pci": "0000:00:04.0"}], facts, workers=1)
    assert result["ports"][0]["numa_node"] == 0
    assert result["ports"][0]["rte_flow"] is False  # virtio: no rte_flow
    assert any("NUMA node -1" in w for w in result["warnings"])


def test_vdevs_keep_inventory_order_with_no_pci():
    result = layout([{"vdev": "net_tap0,iface=t0"}, {"vdev": "net_af_packet0,iface=eth1"}], ONE_NODE, workers=1)
    assert [p["vdev"] for p in result["ports"]] == ["net_tap0,iface=t0", "net_af_packet0,iface=eth1"]
    assert result["eal_args"][2:] == ["--no-pci", "--vdev", "net_tap0,iface=t0", "--vdev", "net_af_packet0,iface=eth1"]
    assert result["rte_flow"] is False


def test_icmp_redirect_worker_and_extra_eal_args():
    result = layout([nic("0000:01:00.0")], ONE_NODE, workers=3, icmp_redirect_worker=2, eal_extra_args=["-n", 4])
    assert [w["icmp_redirect_core"] for w in result["lcores"]] == [False, False, True, False]
    assert result["eal_args"][-2:] == ["-n", "4"]


def test_explicit_master_and_reserved_cpus():
    facts = host({0: range(8)})
    result = layout([nic("0000:01:00.0")], facts, workers=2, master_cpu=3, reserved_cpus=[0, 1])
    assert result["master"]["core"] == 3
    assert [w["core"] for w in result["workers"]] == [2, 4]


BAD = [
    # (id, nics, host, options, path, text in the message)
    ("no-nics", [], ONE_NODE, {}, "dpvs_nics", "at least one NIC"),
    ("pci-and-vdev", [{"pci": "0000:01:00.0", "vdev": "net_tap0"}], ONE_NODE, {}, "dpvs_nics[0]", "exactly one of"),
    ("bad-pci", [{"pci": "01:00"}], ONE_NODE, {}, "dpvs_nics[0].pci", "not a PCI address"),
    ("duplicate-pci", [nic("0000:01:00.0"), nic("01:00.0")], ONE_NODE, {}, "dpvs_nics[1].pci", "also dpvs_nics[0]"),
    (
        "name-out-of-pci-order",
        [nic("0000:01:00.1", name="dpdk0"), nic("0000:01:00.0")],
        ONE_NODE,
        {},
        "dpvs_nics[0].name",
        "port 1, so it is dpdk1",
    ),
    ("numa-minus-one-on-two-nodes", [nic("0000:82:00.0")], TWO_NODES, {}, "dpvs_nics[0].numa_node", "NUMA node -1"),
    ("numa-unknown-on-two-nodes", [nic("0000:83:00.0")], TWO_NODES, {}, "dpvs_nics[0].numa_node", "unknown"),
    (
        "numa-node-not-on-host",
        [nic("0000:01:00.0", numa_node=3)],
        ONE_NODE,
        {},
        "dpvs_nics[0].numa_node",
        "no such NUMA node",
    ),
    (
        "more-workers-than-cores",
        [nic("0000:01:00.0")],
        ONE_NODE,
        {"workers": 4},
        "dpvs_workers",
        "puts 4 workers on NUMA node 0, which has 3 usable cores",
    ),
    (
        "queues-above-nic-max",
        [nic("0000:01:00.0", max_rx_queues=2)],
        host({0: range(8)}),
        {"workers": 4},
        "dpvs_nics[0].max_rx_queues",
        "needs 4 queues",
    ),
    (
        "more-than-16-workers",
        [nic("0000:01:00.0")],
        host({0: range(40)}),
        {"workers": 17},
        "dpvs_workers",
        "at most 16",
    ),
    ("mixed-pci-and-vdev", [nic("0000:01:00.0"), {"vdev": "net_tap0"}], ONE_NODE, {}, "dpvs_nics", "mixes PCI"),
    ("unknown-nic-key", [nic("0000:01:00.0", queues=4)], ONE_NODE, {}, "dpvs_nics[0].queues", "unknown key"),
    ("master-not-on-host", [nic("0000:01:00.0")], ONE_NODE, {"master_cpu": 9}, "dpvs_master_cpu", "no such cpu"),
    (
        "master-reserved",
        [nic("0000:01:00.0")],
        ONE_NODE,
        {"master_cpu": 1, "reserved_cpus": [1]},
        "dpvs_master_cpu",
        "dpvs_reserved_cpus",
    ),
    (
        "icmp-redirect-out-of-range",
        [nic("0000:01:00.0")],
        ONE_NODE,
        {"workers": 2, "icmp_redirect_worker": 3},
        "dpvs_icmp_redirect_worker",
        "must be 1..2",
    ),
    (
        "split-sum-differs",
        [nic("0000:01:00.0")],
        host({0: range(8)}),
        {"workers": 3, "workers_per_node": {0: 2}},
        "dpvs_workers",
        "sum of dpvs_workers_per_node",
    ),
    (
        "descriptors-out-of-range",
        [nic("0000:01:00.0", rx_descriptors=10)],
        ONE_NODE,
        {},
        "dpvs_nics[0].rx_descriptors",
        "16..8192",
    ),
    (
        "unit-unsafe-eal-arg",
        [nic("0000:01:00.0")],
        ONE_NODE,
        {"eal_extra_args": ["--log-level=%h"]},
        "dpvs_eal_extra_args[0]",
        "without blanks",
    ),
    ("no-numa-facts", [nic("0000:01:00.0")], {"numa_nodes": {}}, {}, "dpvs_host_facts.numa_nodes", "no NUMA"),
    ("bad-vdev", [{"vdev": "tap0"}], ONE_NODE, {}, "dpvs_nics[0].vdev", "not a DPDK vdev"),
    ("workers-zero", [nic("0000:01:00.0")], ONE_NODE, {"workers": 0}, "dpvs_workers", "must be 1.."),
]


@pytest.mark.parametrize(("nics", "facts", "options", "path", "text"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_layouts_name_the_variable_and_the_value(nics, facts, options, path, text):
    with pytest.raises(InputError) as info:
        layout(copy.deepcopy(nics), copy.deepcopy(facts), **options)
    assert info.value.path == path, str(info.value)
    assert text in str(info.value)
    assert str(info.value).startswith(f"{path}: ")
    assert "(got " in str(info.value)


def test_the_filter_reports_input_errors_as_filter_errors():
    dpvs_layout = FilterModule().filters()["dpvs_layout"]
    with pytest.raises(AnsibleFilterError, match=r"dpvs_layout: dpvs_nics\[0\].pci: not a PCI address"):
        dpvs_layout([{"pci": "nope"}], ONE_NODE)
    assert dpvs_layout([nic("0000:01:00.0")], ONE_NODE, workers="2")["worker_count"] == 2
