"""The hugepages module's logic on a fake sysfs tree: validation, plan, apply, read-back.

The tree is written to a tmp dir in the layout of lb1 (two NUMA nodes of about 1 GiB, 2M and 1G
sizes, a CPU with pdpe1gb), with the MemTotal figures of tests/unit/fixtures/host_info/lb1. The
kernel's partial allocation is simulated by a file system whose writes are capped per pool.
"""

import io
import json
import os

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.host import hugepages as H

HERE = os.path.dirname(os.path.abspath(__file__))
LB1 = os.path.join(HERE, "fixtures", "host_info", "lb1")
NODE_MEM_KB = {0: 985468, 1: 1029560}  # Node N MemTotal of lb1


def _write(root, path, text):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)


def _cpuinfo(flags):
    return "".join(f"processor\t: {cpu}\nmodel name\t: QEMU TCG\nflags\t\t: {flags}\n\n" for cpu in (0, 1))


def make_tree(root, nodes=None, sizes=(2048, 1048576), flags="fpu sse sse2 pni pdpe1gb", counts=None, total=None):
    """A sysfs/procfs tree below ``root``; ``counts``: {(node, size_kb): nr} (node None: system-wide)."""
    counts = counts or {}
    nodes = NODE_MEM_KB if nodes is None else nodes
    _write(root, "/proc/cpuinfo", _cpuinfo(flags))
    _write(root, "/sys/devices/system/cpu/online", "0-1\n")
    total = total or sum(nodes.values())
    meminfo = f"MemTotal:       {total} kB\nMemFree:        {total // 2} kB\nHugepagesize:       2048 kB\n"
    _write(root, "/proc/meminfo", meminfo)
    for size in sizes:
        nr = counts.get((None, size), sum(counts.get((node, size), 0) for node in nodes))
        base = f"/sys/kernel/mm/hugepages/hugepages-{size}kB"
        files = {"nr_hugepages": nr, "free_hugepages": nr, "surplus_hugepages": 0, "resv_hugepages": 0}
        for name, value in files.items():
            _write(root, f"{base}/{name}", f"{value}\n")
    for node, mem in nodes.items():
        base = f"/sys/devices/system/node/node{node}"
        node_meminfo = f"Node {node} MemTotal:       {mem} kB\nNode {node} MemFree:        {mem // 2} kB\n"
        _write(root, base + "/meminfo", node_meminfo)
        _write(root, base + "/cpulist", f"{node}\n")
        for size in sizes:
            nr = counts.get((node, size), 0)
            for name, value in (("nr_hugepages", nr), ("free_hugepages", nr), ("surplus_hugepages", 0)):
                _write(root, f"{base}/hugepages/hugepages-{size}kB/{name}", f"{value}\n")
    return H.HugepageFS(str(root))


class CappedFS(H.HugepageFS):
    """A kernel that cannot allocate more than ``caps[path]`` pages in a pool; counts every write."""

    def __init__(self, root, caps):
        super().__init__(root)
        self.caps = caps
        self.written = []

    def write(self, path, text):
        self.written.append((path, text))
        value = min(int(text), self.caps.get(path, int(text)))
        super().write(path, str(value))
        super().write(path.replace("nr_hugepages", "free_hugepages"), str(value))


def node_path(node, size_kb=2048):
    return f"/sys/devices/system/node/node{node}/hugepages/hugepages-{size_kb}kB/nr_hugepages"


def read(fs, path):
    return int(fs.read(path).strip())


# --------------------------------------------------------------------------------------------
# host readers (shared with host_info)


def test_read_host_on_the_captured_lb1_tree():
    # the real capture: both nodes, both sizes, a CPU with pdpe1gb
    from test_host_facts import FixtureFS

    host = H.read_host(FixtureFS(LB1))
    assert sorted(host["nodes"]) == [0, 1]
    with open(os.path.join(LB1, "sys", "devices", "system", "node", "node1", "meminfo")) as handle:
        node1_kb = int(handle.read().split("MemTotal:")[1].split()[0])
    assert host["nodes"][1]["memory_total_kb"] == node1_kb
    assert 2048 in host["sizes_kb"]
    assert "pdpe1gb" in host["flags"]


# --------------------------------------------------------------------------------------------
# plan / apply / read-back


def test_plan_apply_and_idempotence(tmp_path):
    make_tree(tmp_path)
    fs = CappedFS(str(tmp_path), {})
    pages = [{"size": "2M", "node": 0, "count": 64}, {"size": "2M", "node": 1, "count": 32}]
    first = H.run(fs, pages)
    assert first["changed"] is True
    assert [w["value"] for w in first["writes"]] == [64, 32]
    assert read(fs, node_path(0)) == 64 and read(fs, node_path(1)) == 32
    assert [(p["before"], p["after"], p["free"]) for p in first["pages"]] == [(0, 64, 64), (0, 32, 32)]
    assert first["diff"] == {"before": {"node0 2M": 0, "node1 2M": 0}, "after": {"node0 2M": 64, "node1 2M": 32}}
    again = H.run(fs, pages)
    assert again["changed"] is False and again["writes"] == []


def test_check_mode_predicts_and_writes_nothing(tmp_path):
    fs = CappedFS(str(tmp_path), {})
    make_tree(tmp_path, counts={(0, 2048): 64, (1, 2048): 64})
    pages = [{"size": "2M", "node": 0, "count": 64}, {"size": "2M", "node": 1, "count": 16}]
    check = H.run(fs, pages, check_mode=True)
    assert fs.written == []
    assert check["changed"] is True
    assert check["writes"] == [{"path": node_path(1), "value": 16}]
    assert check["diff"]["after"] == {"node0 2M": 64, "node1 2M": 16}
    real = H.run(fs, pages)
    assert real["writes"] == check["writes"] and real["diff"] == check["diff"]


def test_decreases_are_written_before_increases(tmp_path):
    fs = CappedFS(str(tmp_path), {})
    make_tree(tmp_path, counts={(0, 2048): 100})
    H.run(fs, [{"size": "2M", "node": 1, "count": 50}, {"size": "2M", "node": 0, "count": 10}])
    assert fs.written == [(node_path(0), "10"), (node_path(1), "50")]


def test_system_wide_pool(tmp_path):
    fs = make_tree(tmp_path)
    result = H.run(fs, [{"size": "2M", "count": 8}])
    assert result["writes"] == [{"path": "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "value": 8}]
    assert result["pages"][0]["node"] is None and result["pages"][0]["after"] == 8


def test_shortfall_fails_naming_node_size_asked_got_and_writes(tmp_path):
    fs = CappedFS(str(tmp_path), {node_path(1): 412})
    make_tree(tmp_path)
    pages = [{"size": "2M", "node": 0, "count": 64}, {"size": "2M", "node": 1, "count": 480}]
    with pytest.raises(H.ShortfallError) as info:
        H.run(fs, pages)
    msg = str(info.value)
    assert "node 1 size 2M: asked 480, got 412" in msg
    assert "node 0 2M 0 -> 64" in msg and "node 1 2M 0 -> 480" in msg
    assert "node 0 size" not in msg  # node 0 got what it asked for
    assert [w["count"] for w in info.value.applied] == [64, 480]
    assert info.value.pages[1]["after"] == 412


def test_shortfall_allowed_returns_what_the_kernel_gave(tmp_path):
    fs = CappedFS(str(tmp_path), {node_path(1): 412})
    make_tree(tmp_path)
    result = H.run(fs, [{"size": "2M", "node": 1, "count": 480}], allow_partial=True)
    assert result["changed"] is True
    assert result["pages"][0]["after"] == 412 and result["pages"][0]["requested"] == 480


def test_failed_write_reports_what_was_applied(tmp_path):
    class Failing(H.HugepageFS):
        def write(self, path, text):
            if "node1" in path:
                raise OSError(13, "Permission denied")
            super().write(path, text)

    make_tree(tmp_path)
    fs = Failing(str(tmp_path))
    with pytest.raises(OSError) as info:
        H.run(fs, [{"size": "2M", "node": 0, "count": 4}, {"size": "2M", "node": 1, "count": 4}])
    assert [w["node"] for w in info.value.applied] == [0]


# --------------------------------------------------------------------------------------------
# validation: every bad input fails before any write, naming the path and the value


BAD = [
    ([{"size": "3M", "node": 0, "count": 1}], "pages[0].size", "'3M'", "must be 2M or 1G"),
    ([{"size": "2048kB", "node": 0, "count": 1}], "pages[0].size", "'2048kB'", "must be 2M or 1G"),
    ([{"size": "2M", "node": 7, "count": 1}], "pages[0].node", "7", "no such NUMA node on this host (nodes: 0, 1)"),
    ([{"size": "2M", "node": -1, "count": 1}], "pages[0].node", "-1", "NUMA node number >= 0"),
    ([{"size": "2M", "node": 0, "count": -5}], "pages[0].count", "-5", "whole number >= 0"),
    ([{"size": "2M", "node": 0, "count": "ten"}], "pages[0].count", "'ten'", "whole number >= 0"),
    ([{"size": "2M", "node": 0, "count": True}], "pages[0].count", "True", "whole number >= 0"),
    (
        [{"size": "2M", "node": 0, "count": 1}, {"size": "2M", "node": 0, "count": 2}],
        "pages[1]",
        "'count': 2",
        "node 0 size 2M is already given in pages[0]",
    ),
    (
        [{"size": "2M", "node": 0, "count": 600}],
        "pages[0].count",
        "600",
        "600 pages of 2M are 1200 MiB, more than the 962 MiB of node 0 (at most 481)",
    ),
    (
        [{"size": "1G", "count": 1}, {"size": "2M", "count": 600}],
        "pages[1].count",
        "600",
        "the pages asked for the host (2224 MiB over all sizes) exceed its 1967 MiB",
    ),
    (
        [{"size": "2M", "count": 4}, {"size": "2M", "node": 1, "count": 4}],
        "pages[1]",
        "'node': 1",
        "both per node and system-wide (pages[0])",
    ),
    ([{"size": "2M", "node": 0, "count": 1, "nodes": 1}], "pages[0]", "'nodes'", "unknown key(s) nodes"),
    ("2M", "pages", "'2M'", "must be a list"),
]


@pytest.mark.parametrize("pages,path,value,problem", BAD, ids=[f"{case[1]}-{case[3][:24]}" for case in BAD])
def test_bad_input_fails_before_any_write(tmp_path, pages, path, value, problem):
    fs = CappedFS(str(tmp_path), {})
    make_tree(tmp_path)
    with pytest.raises(InputError) as info:
        H.run(fs, pages)
    assert info.value.path == path
    assert problem in str(info.value)
    assert value in str(info.value)
    assert fs.written == []


def test_1g_without_pdpe1gb(tmp_path):
    fs = make_tree(tmp_path, flags="fpu sse sse2 pni")
    with pytest.raises(InputError) as info:
        H.run(fs, [{"size": "1G", "node": 0, "count": 1}])
    assert str(info.value) == "pages[0].size: the CPU lacks the pdpe1gb flag (no 1G pages) (got '1G')"


def test_1g_not_offered_by_the_kernel(tmp_path):
    fs = make_tree(tmp_path, sizes=(2048,))
    with pytest.raises(InputError) as info:
        H.run(fs, [{"size": "1G", "node": 0, "count": 1}])
    assert "no /sys/kernel/mm/hugepages/hugepages-1048576kB" in str(info.value)


def test_no_numa_support_names_it(tmp_path):
    fs = make_tree(tmp_path, nodes={}, total=2015028)
    with pytest.raises(InputError) as info:
        H.run(fs, [{"size": "2M", "node": 0, "count": 1}])
    assert "nodes: none: no NUMA support" in str(info.value)
    # the system-wide pool still works there
    assert H.run(fs, [{"size": "2M", "count": 2}], check_mode=True)["changed"] is True


def test_1g_pages_per_node(tmp_path):
    fs = make_tree(tmp_path)
    result = H.run(fs, [{"size": "1G", "node": 0, "count": 0}], check_mode=True)
    assert result["changed"] is False
    with pytest.raises(InputError) as info:
        H.run(fs, [{"size": "1G", "node": 0, "count": 1}])
    # one 1 GiB page does not fit in a node of 962 MiB
    assert info.value.path == "pages[0].count" and "at most 0" in str(info.value)


# --------------------------------------------------------------------------------------------
# The boot-time job (dpvs-hugepages.service): dpvs-cluster hugepages CONFIG [SYSFS_ROOT], on the
# configuration the role writes (templates/hugepages.json.j2).


def _config(tmp_path, pages):
    path = tmp_path / "hugepages.json"
    path.write_text(json.dumps({"_comment": "Ansible managed", "pages": pages, "version": 1}, indent=2))
    return str(path)


def test_boot_writes_the_pools_decreases_first_and_prints_one_line_each(tmp_path):
    fs = CappedFS(str(tmp_path / "root"), {})
    make_tree(tmp_path / "root", counts={(0, 2048): 100})
    config = _config(tmp_path, [{"node": 1, "size_kb": 2048, "count": 50}, {"node": 0, "size_kb": 2048, "count": 10}])
    out = io.StringIO()
    assert H.boot_main([config], fs=fs, out=out) == 0
    assert fs.written == [(node_path(0), "10"), (node_path(1), "50")]
    assert out.getvalue() == "node 0 2048kB: asked 10, got 10\nnode 1 2048kB: asked 50, got 50\n"


def test_boot_exits_1_when_the_kernel_gives_fewer_pages(tmp_path):
    fs = CappedFS(str(tmp_path / "root"), {node_path(1): 412})
    make_tree(tmp_path / "root")
    config = _config(tmp_path, [{"node": 0, "size_kb": 2048, "count": 64}, {"node": 1, "size_kb": 2048, "count": 480}])
    out = io.StringIO()
    assert H.boot_main([config], fs=fs, out=out) == 1
    assert out.getvalue() == "node 0 2048kB: asked 64, got 64\nnode 1 2048kB: asked 480, got 412\n"


def test_boot_system_wide_pool_and_a_pool_the_kernel_lacks(tmp_path):
    make_tree(tmp_path / "root", sizes=(2048,))
    config = _config(tmp_path, [{"node": None, "size_kb": 2048, "count": 8}])
    out = io.StringIO()
    assert H.boot_main([config, str(tmp_path / "root" / "sys")], out=out) == 0
    assert out.getvalue() == "system-wide 2048kB: asked 8, got 8\n"
    missing = _config(tmp_path, [{"node": 0, "size_kb": 1048576, "count": 1}])
    out = io.StringIO()
    assert H.boot_main([missing, str(tmp_path / "root" / "sys")], out=out) == 1
    assert out.getvalue().startswith("node 0 1048576kB: asked 1, got None (the write failed: ")


def test_boot_bad_arguments_and_unreadable_config(tmp_path, capsys):
    assert H.boot_main([]) == 2
    assert H.boot_main(["a", "b", "c"]) == 2
    assert "usage: dpvs-cluster hugepages CONFIG [SYSFS_ROOT]" in capsys.readouterr().err
    assert H.boot_main([str(tmp_path / "missing.json")]) == 1
    (tmp_path / "bad.json").write_text("{}")
    assert H.boot_main([str(tmp_path / "bad.json")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_boot_command_runs_from_the_tool(tmp_path):
    """dpvs-hugepages.service's command, ``dpvs-cluster.pyz hugepages CONFIG``, from the tool the
    role installs, run by a Python that sees only the zip and the standard library, on a fake sysfs."""
    from test_host_tool import build_tool, run_tool

    fs = make_tree(tmp_path / "root", counts={(1, 2048): 16})
    sysfs = str(tmp_path / "root" / "sys")
    config = _config(tmp_path, [{"node": 0, "size_kb": 2048, "count": 32}, {"node": 1, "size_kb": 2048, "count": 0}])
    run = run_tool(build_tool(tmp_path), "hugepages", config, sysfs, cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.stdout == "node 1 2048kB: asked 0, got 0\nnode 0 2048kB: asked 32, got 32\n"
    assert read(fs, node_path(0)) == 32 and read(fs, node_path(1)) == 0
