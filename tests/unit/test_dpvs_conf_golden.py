"""dpvs.conf golden files for several host shapes, each checked by the validator and by the rules.

Shapes (tests/dpvs_shapes.py): the lab vdev machine of the transcripts, a virtio VM with one
queue, one node with two NICs and isolated cores, seed 001 (two nodes, four NICs), two nodes
with the only NIC on node 1, one node with four NICs and reserved cpus, two nodes with an
explicit worker split. The files are written by ``dpvs_conf.build.build`` (through
``dpvs_shapes.build``, what the role's ``dpvs_conf`` filter calls). Regenerate after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/test_dpvs_conf_golden.py`` and review the diff.
"""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import dpvs_shapes
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import conf as _dpvs_conf
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.layout import pci_sort_key

LAB_CONF = os.path.join(dpvs_shapes.REPO, "tests", "dpvs-transcripts", "dpvs.conf.lab-v1.10.2")
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def golden(name, suffix, produced):
    path = os.path.join(dpvs_shapes.GOLDEN, f"{name}{suffix}")
    if UPDATE:
        os.makedirs(dpvs_shapes.GOLDEN, exist_ok=True)
        with open(path, "w") as handle:
            handle.write(produced)
    with open(path) as handle:
        return handle.read()


def semantics(nodes):
    """The parsed tree without markers and line numbers: [keyword, args, children]."""
    return [[n.keyword, n.args, None if n.children is None else semantics(n.children)] for n in nodes]


@pytest.mark.parametrize("name", sorted(dpvs_shapes.SHAPES))
def test_golden_dpvs_conf(name):
    shape = dpvs_shapes.SHAPES[name]
    text = dpvs_shapes.render(shape)
    assert text == golden(name, ".dpvs.conf", text)
    summary = json.dumps(dpvs_shapes.summary(shape), indent=2, sort_keys=True) + "\n"
    assert summary == golden(name, ".layout.json", summary)


@pytest.mark.parametrize("name", sorted(dpvs_shapes.SHAPES))
def test_golden_passes_the_validator_and_the_rules(name):
    shape = dpvs_shapes.SHAPES[name]
    text = golden(name, ".dpvs.conf", dpvs_shapes.render(shape))
    tree = _dpvs_conf.validate(text, strict=True, version=(1, 10, 2))
    layout = dpvs_shapes.layout(shape)
    host_nodes = {int(node): set(info["cpus"]) for node, info in shape["host"]["numa_nodes"].items()}

    # ports: the N-th device is dpdkN, and the allow-list is the PCI order
    devices = [node.args[0] for node in _dpvs_conf.find(tree, "netif_defs", "device")]
    assert devices == [f"dpdk{i}" for i in range(len(devices))]
    nics = shape["vars"]["dpvs_nics"]
    assert len(devices) == len(nics)
    eal = layout["eal_args"]
    if "pci" in nics[0]:
        allow = [eal[i + 1] for i, arg in enumerate(eal) if arg == "-a"]
        assert allow == sorted(allow, key=pci_sort_key)
        assert len(allow) == len(devices)
        assert "--no-pci" not in eal
    else:
        assert "--no-pci" in eal
        assert [eal[i + 1] for i, arg in enumerate(eal) if arg == "--vdev"] == [nic["vdev"] for nic in nics]

    # workers: one master without ports, slaves own queue cpu_id-1 of every port (1:1)
    workers = _dpvs_conf.find(tree, "worker_defs", "worker")
    types = [_dpvs_conf.value_of(w.children, "type") for w in workers]
    assert types.count("master") == 1
    slaves = [w for w in workers if _dpvs_conf.value_of(w.children, "type") == "slave"]
    for worker in slaves:
        cpu = int(_dpvs_conf.value_of(worker.children, "cpu_id"))
        ports = [child for child in worker.children if child.keyword == "port"]
        assert [p.args[0] for p in ports] == devices
        for port in ports:
            assert _dpvs_conf.value_of(port.children, "rx_queue_ids") == str(cpu - 1)
            assert _dpvs_conf.value_of(port.children, "tx_queue_ids") == str(cpu - 1)
    for device in _dpvs_conf.find(tree, "netif_defs", "device"):
        for way in ("rx", "tx"):
            assert int(_dpvs_conf.value_of(device.children, way, "queue_number")) == len(slaves)

    # cores: --lcores maps every cpu_id to its own core, on the node the layout says
    mapping = dict(item.split("@") for item in eal[eal.index("--lcores") + 1].split(","))
    cpu_ids = sorted(int(_dpvs_conf.value_of(w.children, "cpu_id")) for w in workers)
    assert sorted(int(k) for k in mapping) == cpu_ids
    assert len(set(mapping.values())) == len(mapping), "two lcores on one core"
    for lcore in layout["lcores"]:
        assert int(mapping[str(lcore["cpu_id"])]) in host_nodes[lcore["numa_node"]]
    reserved = set(shape["vars"].get("dpvs_reserved_cpus", []))
    assert not reserved & {int(core) for core in mapping.values()}

    # NUMA placement: workers only on nodes that hold a NIC (unless split by hand)
    nic_nodes = {port["numa_node"] for port in layout["ports"]}
    if not shape["vars"].get("dpvs_workers_per_node"):
        assert {lcore["numa_node"] for lcore in layout["workers"]} <= nic_nodes
        assert layout["master"]["numa_node"] == layout["ports"][0]["numa_node"]
    isolated = set(shape["host"]["isolated_cpus"])
    if isolated and not shape["vars"].get("dpvs_workers_per_node"):
        assert {lcore["core"] for lcore in layout["workers"]} <= isolated
        assert layout["master"]["core"] not in isolated
    assert layout["max_socket"] == max(host_nodes) + 1


def test_lab_shape_reproduces_the_lab_dpvs_conf_of_the_transcripts():
    """The one dpvs.conf a real DPVS v1.10.2 ran with: same sections, keywords and values."""
    with open(LAB_CONF) as handle:
        lab = handle.read()
    ours = dpvs_shapes.render(dpvs_shapes.SHAPES["lab-vdev-1node"])
    assert semantics(_dpvs_conf.parse(ours)) == semantics(_dpvs_conf.parse(lab))
    # and the markers agree where the lab file has them
    lab_markers = {tuple(k): v for k, v in _markers(_dpvs_conf.parse(lab))}
    our_markers = dict((tuple(k), v) for k, v in _markers(_dpvs_conf.parse(ours)))
    assert {k: v for k, v in lab_markers.items() if v} == {
        k: v for k, v in our_markers.items() if v and k in lab_markers
    }


def _markers(nodes, path=()):
    for node in nodes:
        key = (*path, node.label())
        yield key, node.marker
        if node.children:
            yield from _markers(node.children, key)


def test_the_lab_file_itself_passes_the_strict_validator():
    with open(LAB_CONF) as handle:
        _dpvs_conf.validate(handle.read(), strict=True, version=(1, 10, 2))
