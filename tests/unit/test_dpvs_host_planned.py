"""with_planned_pages: a check run sees the hugepages the hugepages role would reserve."""

from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.host import with_planned_pages

VIEW = {
    "numa_nodes": {
        "0": {"cpus": [0], "hugepages": {"2048kB": {"nr": 0, "free": 0}}},
        "1": {"cpus": [1], "hugepages": {"2048kB": {"nr": 10, "free": 4}}},
    },
    "isolated_cpus": [], "pci_devices": {}, "vhost_net": False, "dpvs_running": False, "dpvs_pid": None,
}


def test_planned_counts_replace_the_live_ones():
    pages = [
        {"node": 0, "size": "2M", "requested": 100, "before": 0, "after": 100, "free": 0},
        {"node": 1, "size": "2M", "requested": 100, "before": 10, "after": 100, "free": 4},
    ]
    view = with_planned_pages(VIEW, pages)
    assert view["numa_nodes"]["0"]["hugepages"]["2048kB"] == {"nr": 100, "free": 100}
    assert view["numa_nodes"]["1"]["hugepages"]["2048kB"] == {"nr": 100, "free": 94}
    assert VIEW["numa_nodes"]["0"]["hugepages"]["2048kB"] == {"nr": 0, "free": 0}  # input untouched


def test_shrinking_never_goes_below_zero_and_new_sizes_appear():
    pages = [
        {"node": 1, "size": "2M", "before": 10, "after": 2},
        {"node": 0, "size": "1G", "before": 0, "after": 2},
    ]
    view = with_planned_pages(VIEW, pages)
    assert view["numa_nodes"]["1"]["hugepages"]["2048kB"] == {"nr": 2, "free": 0}
    assert view["numa_nodes"]["0"]["hugepages"]["1048576kB"] == {"nr": 2, "free": 2}


def test_system_wide_and_unknown_nodes_are_left_out():
    pages = [{"node": None, "size": "2M", "before": 0, "after": 50}, {"node": 7, "size": "2M", "before": 0, "after": 5}]
    assert with_planned_pages(VIEW, pages)["numa_nodes"] == VIEW["numa_nodes"]
