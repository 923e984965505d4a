"""Print, as JSON, what the lab's verify.yml checks: NUMA nodes, IOMMU units, the kernel command
line, the converge marker and every PCI network function (MAC, interface, NUMA node, driver)."""

import json
import os


def read(path, default=""):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return default


def listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def main():
    nics = {}
    for address in listdir("/sys/bus/pci/devices"):
        device = os.path.join("/sys/bus/pci/devices", address)
        if not read(os.path.join(device, "class")).startswith("0x02"):
            continue
        names = listdir(os.path.join(device, "net"))
        for child in listdir(device):  # virtio: the netdev hangs off the virtioN child device
            if child.startswith("virtio"):
                names += listdir(os.path.join(device, child, "net"))
        name = names[0] if names else ""
        driver = (
            os.path.basename(os.readlink(os.path.join(device, "driver")))
            if os.path.exists(os.path.join(device, "driver"))
            else ""
        )
        nics[address] = {
            "name": name,
            "mac": read(f"/sys/class/net/{name}/address") if name else "",
            "numa_node": int(read(os.path.join(device, "numa_node"), "-1")),
            "driver": driver,
        }
    view = {
        "numa_nodes": [entry for entry in listdir("/sys/devices/system/node") if entry.startswith("node")],
        "iommu_units": listdir("/sys/class/iommu"),
        "cmdline": read("/proc/cmdline"),
        "converged": read("/etc/dpvs-lab-groups").split(),
        "nics": nics,
    }
    print(json.dumps(view, sort_keys=True))


if __name__ == "__main__":
    main()
