"""Host shapes for the dpvs.conf golden tests and the role's emulator test.

Each shape is a DPVS host: its facts in the shape the ``dpvs.cluster.dpvs_host_view`` filter returns
(NUMA nodes with cpus and hugepages, isolated cpus, NIC NUMA nodes and drivers) and the role
variables an inventory would give (``dpvs_nics``, ``dpvs_workers``, ``dpvs_conf``, ...).

``build(shape)`` calls what the ``dpvs`` role's ``dpvs_conf`` filter calls
(``module_utils/dpvs_conf/build.py``: layout -> model -> text, hugepage need, change class) with the
shape's role variables; ``render(shape)`` is its text under the ``ansible_managed`` lines that the
role's template (a thin wrapper) puts first, made with Ansible's ``comment`` filter. The emulator
test writes the seed 001 shape through the real role and compares it with the same golden file,
so the two cannot drift apart. ``write_sysfs(root, host)`` builds a fake sysfs tree from a
shape's facts for ``host_info`` (sysfs_root).
"""

import copy
import os

import jinja2
import yaml
from ansible.plugins.filter.core import comment
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import build as _dpvs_build

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = os.path.join(REPO, "roles", "dpvs", "templates")
GOLDEN = os.path.join(REPO, "tests", "unit", "golden")
ANSIBLE_MANAGED = "Ansible managed"


def _node(cpus, pages_2m=0, free_2m=None, pages_1g=0):
    return {
        "cpus": list(cpus),
        "hugepages": {
            "2048kB": {"nr": pages_2m, "free": pages_2m if free_2m is None else free_2m},
            "1048576kB": {"nr": pages_1g, "free": pages_1g},
        },
    }


def _pci(node, driver):
    return {"present": True, "numa_node": node, "kernel_driver": driver, "vendor": "0x8086", "device": "0x10fb"}


# seed 001 (shared/seeds/001): PowerEdge R630, two E5-2630 v4 without hyper-threading, `numactl -H`
# node 0 cpus 0 2 4 ... 18, node 1 cpus 1 3 ... 19, 28672 2 MB pages per node; four 82599/X520
# ports bound to igb_uio (dpdk-devbind: 0000:04:00.0/.1 and 0000:82:00.0/.1); dpdk0 is the LAN,
# dpdk2 the WAN. The NUMA nodes of the ports are not in the seed: 04:xx on socket 0 and 82:xx on
# socket 1 is the usual wiring of an R630 (PCI buses above 0x80 belong to the second socket).
SEED001_HOST = {
    "numa_nodes": {
        "0": _node(range(0, 20, 2), pages_2m=28672),
        "1": _node(range(1, 20, 2), pages_2m=28672),
    },
    "isolated_cpus": [],
    "pci_devices": {
        "0000:04:00.0": _pci(0, "igb_uio"),
        "0000:04:00.1": _pci(0, "igb_uio"),
        "0000:82:00.0": _pci(1, "igb_uio"),
        "0000:82:00.1": _pci(1, "igb_uio"),
    },
    "vhost_net": False,
    "dpvs_running": False,
    "dpvs_pid": None,
}

SHAPES = {
    # The machine of the transcripts (tests/dpvs-transcripts/dpvs.conf.lab-v1.10.2): one
    # net_af_packet vdev, master + 1 worker, kni off, small pools.
    "lab-vdev-1node": {
        "host": {
            "numa_nodes": {"0": _node([0, 1], pages_2m=512)},
            "isolated_cpus": [],
            "pci_devices": {},
            "vhost_net": False,
            "dpvs_running": False,
            "dpvs_pid": None,
        },
        "vars": {
            "dpvs_nics": [{"vdev": "net_af_packet0,iface=lbeth0", "max_rx_queues": 1, "max_tx_queues": 1}],
            "dpvs_workers": 1,
            "dpvs_conf": {
                "global_defs": {"log_file": "/run/dpvs-lab/dpvs.log", "kni": False},
                "netif_defs": {"pktpool_size": 16383},
                "ipvs_defs": {"conn": {"conn_pool_size": 65536}},
            },
        },
        "lip_count": 1,
    },
    # A KVM guest: one virtio-net NIC with one queue pair, no NUMA information (-1 in sysfs).
    "virtio-vm-1queue": {
        "host": {
            "numa_nodes": {"0": _node([0, 1, 2, 3], pages_2m=1024)},
            "isolated_cpus": [],
            "pci_devices": {"0000:00:04.0": _pci(-1, "virtio-pci")},
            "vhost_net": True,
            "dpvs_running": False,
            "dpvs_pid": None,
        },
        "vars": {
            "dpvs_nics": [{"pci": "00:04.0", "max_rx_queues": 1, "max_tx_queues": 1}],
            "dpvs_conf": {"netif_defs": {"pktpool_size": 32767}, "ipvs_defs": {"conn": {"conn_pool_size": 262144}}},
        },
        "lip_count": 1,
    },
    # One socket, two ixgbe ports, isolcpus=4-7: four workers on the isolated cores.
    "1node-2nics-isolated": {
        "host": {
            "numa_nodes": {"0": _node(range(8), pages_2m=2048)},
            "isolated_cpus": [4, 5, 6, 7],
            "pci_devices": {"0000:01:00.0": _pci(0, "ixgbe"), "0000:01:00.1": _pci(0, "ixgbe")},
            "vhost_net": True,
            "dpvs_running": False,
            "dpvs_pid": None,
        },
        "vars": {
            # given in reverse order: the ports still follow the PCI order
            "dpvs_nics": [
                {"pci": "0000:01:00.1", "name": "dpdk1", "max_rx_queues": 64, "max_tx_queues": 64},
                {"pci": "0000:01:00.0", "max_rx_queues": 64, "max_tx_queues": 64, "kni_name": "dpdk0.kni"},
            ],
            "dpvs_workers": 4,
            "dpvs_conf": {"ipvs_defs": {"conn": {"conn_pool_size": 1048576}}},
        },
        "lip_count": 2,
    },
    # Seed 001: two sockets, four ports (two per socket), eight workers split 4/4.
    "seed001-2nodes-4nics": {
        "host": SEED001_HOST,
        "vars": {
            "dpvs_nics": [
                {"pci": "0000:04:00.0", "driver": "ixgbe", "max_rx_queues": 128, "max_tx_queues": 64, "role": "LAN"},
                {"pci": "0000:04:00.1", "driver": "ixgbe", "max_rx_queues": 128, "max_tx_queues": 64},
                {"pci": "0000:82:00.0", "driver": "ixgbe", "max_rx_queues": 128, "max_tx_queues": 64, "role": "WAN"},
                {"pci": "0000:82:00.1", "driver": "ixgbe", "max_rx_queues": 128, "max_tx_queues": 64},
            ],
            "dpvs_workers": "auto",
            "dpvs_icmp_redirect_worker": 8,
            "dpvs_conf": {
                "global_defs": {"kni": False},
                "netif_defs": {"pktpool_size": 1048575},
                "ipv4_defs": {"fragment": {"bucket_number": 4096, "max_entries": 65536}},
            },
        },
        "lip_count": 1,
    },
    # Two sockets, the only NIC (an X710: no usable rte_flow) on socket 1: master and workers
    # there, flow off, so redirect on for three workers.
    "2nodes-1nic-on-node1": {
        "host": {
            "numa_nodes": {"0": _node(range(0, 8), pages_2m=1024), "1": _node(range(8, 16), pages_2m=2048)},
            "isolated_cpus": [],
            "pci_devices": {"0000:af:00.0": _pci(1, "i40e")},
            "vhost_net": True,
            "dpvs_running": False,
            "dpvs_pid": None,
        },
        "vars": {
            "dpvs_nics": [{"pci": "0000:af:00.0", "max_rx_queues": 64, "max_tx_queues": 64}],
            "dpvs_workers": 3,
            "dpvs_conf": {"netif_defs": {"pktpool_size": 131071}, "ipvs_defs": {"conn": {"conn_pool_size": 524288}}},
        },
        "lip_count": 2,
    },
    # One socket, four E810 ports, cpus 0-1 kept for the OS, master pinned, jumbo frames.
    "1node-4nics-reserved": {
        "host": {
            "numa_nodes": {"0": _node(range(16), pages_2m=4096)},
            "isolated_cpus": [],
            "pci_devices": {
                "0000:3b:00.0": _pci(0, "ice"),
                "0000:3b:00.1": _pci(0, "ice"),
                "0000:3b:00.2": _pci(0, "ice"),
                "0000:3b:00.3": _pci(0, "ice"),
            },
            "vhost_net": True,
            "dpvs_running": False,
            "dpvs_pid": None,
        },
        "vars": {
            "dpvs_nics": [
                {"pci": f"0000:3b:00.{fn}", "mtu": 9000, "rx_descriptors": 1024, "tx_descriptors": 1024}
                for fn in range(4)
            ],
            "dpvs_workers": 6,
            "dpvs_reserved_cpus": [0, 1],
            "dpvs_master_cpu": 2,
            "dpvs_icmp_redirect_worker": 3,
            "dpvs_eal_extra_args": ["--file-prefix", "dpvs"],
            "dpvs_conf": {"netif_defs": {"pktpool_size": 262143}, "ipvs_defs": {"conn": {"conn_pool_size": 1048576}}},
        },
        "lip_count": 4,
    },
    # Two sockets, a ConnectX port on each, an explicit 1 + 3 split, promiscuous mode.
    "2nodes-2nics-per-node-split": {
        "host": {
            "numa_nodes": {"0": _node(range(0, 12), pages_2m=2048), "1": _node(range(12, 24), pages_2m=2048)},
            "isolated_cpus": [2, 3, 14, 15, 16],
            "pci_devices": {"0000:17:00.0": _pci(0, "mlx5_core"), "0000:d8:00.0": _pci(1, "mlx5_core")},
            "vhost_net": True,
            "dpvs_running": False,
            "dpvs_pid": None,
        },
        "vars": {
            "dpvs_nics": [
                {"pci": "0000:d8:00.0", "promisc": True},
                {"pci": "0000:17:00.0", "promisc": True, "allmulticast": True},
            ],
            "dpvs_workers_per_node": {0: 1, 1: 3},
            "dpvs_conf": {
                "global_defs": {"log_level": "WARNING", "lldp": True},
                "ipvs_defs": {"conn": {"conn_pool_size": 524288}},
            },
        },
        "lip_count": 2,
    },
}


def build(shape, current=None, margin=0.1):
    """What the role's ``dpvs_conf`` filter returns for a shape (``current``: the file in place)."""
    variables = shape["vars"]
    options = {
        "workers": variables.get("dpvs_workers", "auto"),
        "workers_per_node": variables.get("dpvs_workers_per_node") or None,
        "master_cpu": variables.get("dpvs_master_cpu"),
        "reserved_cpus": variables.get("dpvs_reserved_cpus") or [],
        "icmp_redirect_worker": variables.get("dpvs_icmp_redirect_worker"),
        "eal_extra_args": variables.get("dpvs_eal_extra_args") or [],
    }
    return _dpvs_build.build(
        copy.deepcopy(variables["dpvs_nics"]),
        copy.deepcopy(shape["host"]),
        layout_options=options,
        overrides=copy.deepcopy(variables.get("dpvs_conf")),
        version=variables.get("dpvs_version", "1.10.2"),
        current_text=current,
        lip_count=shape.get("lip_count", 0),
        margin=margin,
    )


def layout(shape):
    return build(shape)["layout"]


def model(shape):
    return build(shape)["model"]


def header():
    """The lines the role's template puts before the text: ``ansible_managed`` as a ``!`` comment."""
    return comment(ANSIBLE_MANAGED, decoration="! ") + "\n"


def environment():
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        trim_blocks=True,  # as ansible.builtin.template
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["comment"] = comment
    return env


def render(shape, built=None):
    """dpvs.conf of a shape, as the role writes it."""
    return header() + (built or build(shape))["text"]


def summary(shape):
    """The layout facts worth pinning next to the golden dpvs.conf."""
    built = build(shape)
    lay = built["layout"]
    return {
        "eal_args": lay["eal_args"],
        "ports": [
            {"name": p["name"], "pci": p["pci"], "vdev": p["vdev"], "numa_node": p["numa_node"]} for p in lay["ports"]
        ],
        "lcores": [{"cpu_id": lc["cpu_id"], "core": lc["core"], "numa_node": lc["numa_node"]} for lc in lay["lcores"]],
        "workers_per_node": {str(k): v for k, v in lay["workers_per_node"].items()},
        "max_socket": lay["max_socket"],
        "warnings": lay["warnings"],
        "hugepages_mib_per_node": {str(k): v for k, v in built["hugepages"]["per_node_mib"].items()},
    }


def write_sysfs(root, host):
    """A fake sysfs tree under ``root`` with the host's nodes, hugepages and PCI devices."""

    def put(path, text):
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as handle:
            handle.write(f"{text}\n")

    for node, info in host["numa_nodes"].items():
        base = f"devices/system/node/node{node}"
        put(f"{base}/cpulist", ",".join(str(cpu) for cpu in info["cpus"]))
        for size, pages in info["hugepages"].items():
            put(f"{base}/hugepages/hugepages-{size}/nr_hugepages", pages["nr"])
            put(f"{base}/hugepages/hugepages-{size}/free_hugepages", pages["free"])
    put("devices/system/cpu/isolated", ",".join(str(cpu) for cpu in host.get("isolated_cpus", [])))
    drivers = os.path.join(root, "bus", "pci", "drivers")
    for address, dev in host.get("pci_devices", {}).items():
        base = f"bus/pci/devices/{address}"
        put(f"{base}/class", "0x020000")  # an Ethernet controller: host_info lists network functions
        put(f"{base}/numa_node", dev["numa_node"])
        put(f"{base}/vendor", dev.get("vendor") or "0x8086")
        put(f"{base}/device", dev.get("device") or "0x10fb")
        if dev.get("kernel_driver"):
            os.makedirs(os.path.join(drivers, dev["kernel_driver"]), exist_ok=True)
            os.symlink(os.path.join(drivers, dev["kernel_driver"]), os.path.join(root, base, "driver"))


def role_defaults(**overrides):
    """roles/dpvs/defaults/main.yml with its ``{{ }}`` references resolved (and ``overrides``)."""
    with open(os.path.join(REPO, "roles", "dpvs", "defaults", "main.yml")) as handle:
        values = yaml.safe_load(handle)
    values.pop("dpvs_lip_count")  # refers to another role's variable
    values["ansible_facts"] = {"os_family": "Debian"}  # the build packages are chosen by OS family
    values.update(overrides)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    for _round in range(5):  # defaults refer to defaults (dpvs_conf_path -> dpvs_root)
        values = {
            key: env.from_string(value).render(**values) if isinstance(value, str) and "{{" in value else value
            for key, value in values.items()
        }
    return values


def render_unit(shape, name, **overrides):
    """dpvs.service / dpvs-state.service of a shape with the role's defaults (and ``overrides``)."""
    variables = role_defaults(**overrides)
    variables.update(ansible_managed=ANSIBLE_MANAGED, dpvs_layout=layout(shape))
    return environment().get_template(f"{name}.j2").render(**variables)
