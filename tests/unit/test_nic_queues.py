"""nic_queues: parsers, validation and plan/apply/read-back on fake sysfs/procfs trees.

The fake trees copy what the lab VMs show (docs/lab.md): lb1 has two NUMA nodes (CPU 0 on node
0, CPU 1 on node 1), an e1000e on the root bus (NUMA node -1, IRQs ``enp0s5-rx-0``,
``enp0s5-tx-0``, ``enp0s5``) and a virtio NIC behind an expander bridge on node 1 (IRQs
``virtio2-config``, ``virtio2-input.N``, ``virtio2-output.N``). ethtool is a fake runner.
"""

import json
import os

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner
from ansible_collections.dpvs.cluster.plugins.module_utils.host import nic_queues as Q

# /proc/interrupts of lb1 with enp0s5 up (e1000e, MSI-X 39-41) and a 4-queue virtio NIC (virtio2, 33-41 style)
INTERRUPTS = """\
           CPU0       CPU1       CPU2       CPU3
  0:        136          0          0          0  IR-IO-APIC   2-edge      timer
 25:          0          1          0          0  IR-PCI-MSI 16777216-edge      PCIe PME, aerdrv, pciehp
 33:          0          0          0          0  IR-PCI-MSI 8912896-edge      virtio2-config
 34:          5          0          0          0  IR-PCI-MSI 8912897-edge      virtio2-input.0
 35:          5          0          0          0  IR-PCI-MSI 8912898-edge      virtio2-output.0
 36:          5          0          0          0  IR-PCI-MSI 8912899-edge      virtio2-input.1
 37:          5          0          0          0  IR-PCI-MSI 8912900-edge      virtio2-output.1
 39:          7          0          0          0  IR-PCI-MSI 2621440-edge      enp0s5-rx-0
 40:          9          0          0          0  IR-PCI-MSI 2621441-edge      enp0s5-tx-0
 41:          1          0          0          0  IR-PCI-MSI 2621442-edge      enp0s5
NMI:          0          0          0          0   Non-maskable interrupts
"""

ETHTOOL_L = """\
Channel parameters for enp17s0:
Pre-set maximums:
RX:		n/a
TX:		n/a
Other:		n/a
Combined:	4
Current hardware settings:
RX:		n/a
TX:		n/a
Other:		n/a
Combined:	2
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def read(path):
    with open(path) as handle:
        return handle.read().strip()


class FakeHost:
    """A sysfs/procfs tree: 4 CPUs, node0 = 0-1, node1 = 2-3; enp0s5 (e1000e, node -1), enp17s0 (virtio, node 1)."""

    def __init__(self, root, enp0s5_up=True, rx_queues=2):
        self.root = str(root)
        self.sys = os.path.join(self.root, "sys")
        self.proc = os.path.join(self.root, "proc")
        write(os.path.join(self.sys, "devices/system/cpu/online"), "0-3\n")
        write(os.path.join(self.sys, "devices/system/node/node0/cpulist"), "0-1\n")
        write(os.path.join(self.sys, "devices/system/node/node1/cpulist"), "2-3\n")
        self.add_nic("enp0s5", "pci0000:00/0000:00:05.0", None, "52:54:00:00:01:05", -1, [39, 40, 41], 1, 1)
        self.add_nic("enp17s0", "pci0000:10/0000:10:00.0/0000:11:00.0", "virtio2", "52:54:00:00:01:02", 1,
                     [33, 34, 35, 36, 37], rx_queues, rx_queues)  # fmt: skip
        interrupts = INTERRUPTS if enp0s5_up else "\n".join(
            line for line in INTERRUPTS.splitlines() if "enp0s5" not in line) + "\n"  # fmt: skip
        write(os.path.join(self.proc, "interrupts"), interrupts)
        for irq in (0, 25, 33, 34, 35, 36, 37, 39, 40, 41):
            write(os.path.join(self.proc, "irq", str(irq), "smp_affinity_list"), "0-3\n")

    def add_nic(self, name, pci_path, virtio, mac, node, irqs, nrx, ntx):
        pci_dir = os.path.join(self.sys, "devices", pci_path)
        write(os.path.join(pci_dir, "numa_node"), f"{node}\n")
        for irq in irqs:
            write(os.path.join(pci_dir, "msi_irqs", str(irq)), "msix\n")
        device = os.path.join(pci_dir, virtio) if virtio else pci_dir
        os.makedirs(device, exist_ok=True)
        net = os.path.join(self.sys, "class", "net", name)
        os.makedirs(net, exist_ok=True)
        os.symlink(device, os.path.join(net, "device"))
        write(os.path.join(net, "address"), mac + "\n")
        write(os.path.join(net, "tx_queue_len"), "1000\n")
        for index in range(nrx):
            write(os.path.join(net, "queues", f"rx-{index}", "rps_cpus"), "0\n")
        for index in range(ntx):
            write(os.path.join(net, "queues", f"tx-{index}", "xps_cpus"), "0\n")

    def tree(self):
        return Q.Tree(self.sys, self.proc)


class FakeEthtool:
    """``ethtool -l``/``-L`` for enp17s0 (max 4 combined); enp0s5 says Operation not supported."""

    def __init__(self, host, current=2):
        self.host = host
        self.current = current
        self.calls = []

    def __call__(self, argv, data=None, binary_data=False, environ_update=None, check_rc=False):
        self.calls.append(list(argv))
        if argv[2] != "enp17s0":
            return 1, "", "netlink error: Operation not supported\n"
        if argv[1] == "-l":
            return 0, ETHTOOL_L.replace("Combined:\t2", f"Combined:\t{self.current}"), ""
        if argv[1] == "-L":
            self.current = int(argv[4])
            net = os.path.join(self.host.sys, "class", "net", "enp17s0", "queues")
            for index in range(self.current):
                for kind, name in (("rx", "rps_cpus"), ("tx", "xps_cpus")):
                    path = os.path.join(net, f"{kind}-{index}", name)
                    if not os.path.exists(path):
                        write(path, "0\n")
            return 0, "", ""
        return 1, "", "unexpected"


@pytest.fixture
def host(tmp_path):
    return FakeHost(tmp_path)


def runner_for(host, current=2):
    fake = FakeEthtool(host, current)
    return Runner(fake), fake


# -- pure helpers -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,cpus",
    [("0-2,5", [0, 1, 2, 5]), ("", []), ("7", [7]), ("0-1,3-4", [0, 1, 3, 4])],
)
def test_cpu_list_round_trip(text, cpus):
    assert Q.parse_cpu_list(text) == cpus
    assert Q.format_cpu_list(cpus) == text


def test_cpu_list_refuses_garbage_and_backwards_ranges():
    for text in ("a", "3-1", "0,,1"):
        with pytest.raises(ValueError):
            Q.parse_cpu_list(text)


def test_masks_as_the_kernel_prints_and_reads_them():
    assert Q.parse_mask("00000000,00000003") == [0, 1]
    assert Q.parse_mask("0") == []
    assert Q.parse_mask("1,00000000") == [32]
    assert Q.format_mask([0, 1]) == "3"
    assert Q.format_mask([32, 0]) == "1,00000001"
    assert Q.format_mask([]) == "0"


def test_parse_interrupts_takes_the_action_name():
    names = Q.parse_interrupts(INTERRUPTS)
    assert names[34] == "virtio2-input.0"
    assert names[39] == "enp0s5-rx-0"
    assert names[25] == "PCIe PME, aerdrv, pciehp"
    assert 0 in names and "NMI" not in names


def test_parse_interrupts_old_two_field_format():
    text = "           CPU0\n 45:   1   PCI-MSI-edge      eth0-rx-0\n"
    assert Q.parse_interrupts(text) == {45: "eth0-rx-0"}


@pytest.mark.parametrize(
    "name,expected",
    [
        ("virtio2-input.3", ("rx", 3)),
        ("virtio2-output.0", ("tx", 0)),
        ("virtio1-input.0", None),  # another virtio device
        ("virtio2-config", None),
        ("enp0s5-rx-0", ("rx", 0)),
        ("enp0s5-tx-1", ("tx", 1)),
        ("enp0s5", None),  # e1000e's link/other vector
        ("i40e-enp0s5-TxRx-7", ("combined", 7)),
        ("enp0s50-rx-0", None),
        ("mlx5_comp2@pci:0000:00:05.0", ("combined", 2)),
        ("mlx5_comp2@pci:0000:00:06.0", None),
    ],
)
def test_classify_queue_irq(name, expected):
    assert Q.classify_queue_irq(name, "enp0s5", "virtio2", "0000:00:05.0") == expected


def test_parse_ethtool_channels():
    parsed = Q.parse_ethtool_channels(ETHTOOL_L)
    assert parsed["max"] == {"rx": None, "tx": None, "other": None, "combined": 4}
    assert parsed["current"]["combined"] == 2


def test_xps_auto_shares_cpus_over_queues():
    assert Q.xps_auto([0, 1], [2, 3]) == {0: [2], 1: [3]}
    assert Q.xps_auto([0], [2, 3]) == {0: [2, 3]}
    assert Q.xps_auto([0, 1, 2], [2, 3]) == {0: [2], 1: [3], 2: [2]}


# -- the tree -----------------------------------------------------------------------------
def test_netdevs_find_pci_through_virtio(host):
    nics = {nic["name"]: nic for nic in host.tree().netdevs()}
    assert nics["enp17s0"]["pci"] == "0000:11:00.0" and nics["enp17s0"]["virtio"] == "virtio2"
    assert nics["enp0s5"]["pci"] == "0000:00:05.0" and nics["enp0s5"]["virtio"] is None
    assert host.tree().numa_node(nics["enp17s0"]) == 1


def test_queue_irqs_only_the_nics_own_queue_vectors(host):
    tree = host.tree()
    nics = {nic["name"]: nic for nic in tree.netdevs()}
    assert tree.queue_irqs(nics["enp0s5"]) == {("rx", 0): 39, ("tx", 0): 40}
    assert tree.queue_irqs(nics["enp17s0"]) == {("rx", 0): 34, ("tx", 0): 35, ("rx", 1): 36, ("tx", 1): 37}


# -- validation: nothing changes on bad input ------------------------------------------------
def snapshot(host):
    result = {}
    for base, _dirs, files in os.walk(host.root):
        for name in files:
            result[os.path.join(base, name)] = read(os.path.join(base, name))
    return result


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"name": "eth9", "txqueuelen": 5000}, "nics[1].name: no such NIC"),
        ({"mac": "52:54:00:00:01:02", "irq_affinity": [0, 4]}, "CPU 4 does not exist"),
        ({"name": "enp17s0", "rps_cpus": "0x1f"}, "mask is wider than the CPUs"),
        ({"name": "enp17s0", "xps_cpus": "2-9"}, "CPU 4-9 does not exist"),
        ({"name": "enp17s0", "channels": {"combined": 8}}, "above the maximum of enp17s0 (4"),
        ({"name": "enp17s0", "channels": {"rx": 2}}, "has no rx channels"),
        ({"name": "enp0s5", "channels": {"combined": 2}}, "cannot change channels: ethtool -l says netlink error"),
        ({"pci": "0000:00:05.0", "name": "enp0s5"}, "give exactly one of name, mac, pci"),
        ({"name": "enp17s0", "txqueuelen": 0}, "txqueuelen: must be an integer"),
        ({"name": "enp17s0", "rps_cpus": "fast"}, "expected auto, a CPU list"),
        ({"name": "enp17s0", "bogus": 1}, "unknown keys"),
        ({"pci": "0000:00:05.0", "irq_affinity": []}, "needs at least one CPU"),
    ],
)
def test_bad_input_is_refused_before_any_change(host, spec, message):
    runner, fake = runner_for(host)
    before = snapshot(host)
    other = "enp17s0" if spec.get("name") == "enp0s5" or spec.get("pci") == "0000:00:05.0" else "enp0s5"
    specs = [{"name": other, "txqueuelen": 5000}, spec]  # a valid entry first: it must not be applied either
    with pytest.raises(Q.NicQueuesError) as info:
        Q.run(specs, host.tree(), runner)
    assert message in str(info.value)
    assert snapshot(host) == before
    assert not [call for call in fake.calls if call[1] == "-L"]


def test_the_same_nic_twice_is_refused(host):
    runner, _fake = runner_for(host)
    with pytest.raises(Q.NicQueuesError, match="already tuned by nics\\[0\\]"):
        Q.run([{"name": "enp0s5"}, {"mac": "52:54:00:00:01:05"}], host.tree(), runner)


def test_irq_affinity_on_a_nic_that_is_down_says_so(tmp_path):
    host = FakeHost(tmp_path, enp0s5_up=False)
    runner, _fake = runner_for(host)
    with pytest.raises(Q.NicQueuesError, match="is the interface up"):
        Q.run([{"name": "enp0s5", "irq_affinity": "auto"}], host.tree(), runner)


def test_missing_irqs_plan_predicts_in_check_mode_only(tmp_path):
    # a --check run on a fresh host: an earlier task would bring the interface up
    host = FakeHost(tmp_path, enp0s5_up=False)
    runner, _fake = runner_for(host)
    before = snapshot(host)
    spec = [{"name": "enp0s5", "irq_affinity": "auto", "txqueuelen": 10000}]
    result = Q.run(spec, host.tree(), runner, check_mode=True, missing_irqs="plan")
    assert snapshot(host) == before
    kinds = [(change["nic"], change["what"], change.get("queue")) for change in result["changes"]]
    assert kinds[0] == ("enp0s5", "irq_affinity", "all")
    assert ("enp0s5", "txqueuelen", None) in kinds
    assert any("no queue IRQs yet" in note for note in result["notes"])
    # a real run cannot apply a plan for IRQs that do not exist: it still fails before any change
    with pytest.raises(Q.NicQueuesError, match="is the interface up"):
        Q.run(spec, host.tree(), runner, missing_irqs="plan")
    assert snapshot(host) == before


# -- plan, apply, read back, idempotence --------------------------------------------------------
FULL = [
    {"name": "enp0s5", "irq_affinity": "auto", "rps_cpus": "auto", "xps_cpus": "auto", "txqueuelen": 10000},
    {"mac": "52:54:00:00:01:02", "irq_affinity": "auto", "rps_cpus": "0x3", "xps_cpus": "auto"},
]


def test_check_mode_plans_and_writes_nothing(host):
    runner, _fake = runner_for(host)
    before = snapshot(host)
    result = Q.run(FULL, host.tree(), runner, check_mode=True)
    assert result["changed"] is True
    assert snapshot(host) == before
    kinds = [(change["nic"], change["what"], change.get("queue")) for change in result["changes"]]
    assert ("enp0s5", "txqueuelen", None) in kinds
    assert ("enp17s0", "irq_affinity", "rx-1") in kinds
    # enp0s5 is on node -1: auto is every online CPU; one queue pair -> CPU 0
    assert result["after"]["enp0s5"]["irqs"] == {"rx-0@39": "0", "tx-0@40": "0"}
    assert result["after"]["enp0s5"]["rps_cpus"] == {"rx-0": "0-3"}
    assert result["after"]["enp0s5"]["xps_cpus"] == {"tx-0": "0-3"}
    # enp17s0 is on node 1 (CPUs 2-3): queue 0 -> CPU 2, queue 1 -> CPU 3, for rx and tx alike
    assert result["after"]["enp17s0"]["irqs"] == {"rx-0@34": "2", "tx-0@35": "2", "rx-1@36": "3", "tx-1@37": "3"}
    assert result["after"]["enp17s0"]["rps_cpus"] == {"rx-0": "0-1", "rx-1": "0-1"}
    assert result["after"]["enp17s0"]["xps_cpus"] == {"tx-0": "2", "tx-1": "3"}
    assert result["before"]["enp0s5"]["txqueuelen"] == 1000


def test_apply_writes_exactly_the_plan_then_nothing(host):
    runner, _fake = runner_for(host)
    planned = Q.run(FULL, host.tree(), runner, check_mode=True)
    applied = Q.run(FULL, host.tree(), runner)
    assert applied["changes"] == planned["changes"]
    assert applied["after"] == planned["after"]
    sys_net = os.path.join(host.sys, "class", "net")
    assert read(os.path.join(sys_net, "enp0s5", "tx_queue_len")) == "10000"
    assert read(os.path.join(host.proc, "irq", "36", "smp_affinity_list")) == "3"
    assert read(os.path.join(host.proc, "irq", "41", "smp_affinity_list")) == "0-3"  # not a queue IRQ
    assert read(os.path.join(host.proc, "irq", "33", "smp_affinity_list")) == "0-3"  # virtio config
    assert read(os.path.join(sys_net, "enp17s0", "queues", "rx-1", "rps_cpus")) == "3"
    assert read(os.path.join(sys_net, "enp17s0", "queues", "tx-1", "xps_cpus")) == "8"
    again = Q.run(FULL, host.tree(), runner)
    assert again["changed"] is False and again["changes"] == []
    assert again["before"] == again["after"] == applied["after"]


def test_one_changed_value_is_one_change(host):
    runner, _fake = runner_for(host)
    Q.run(FULL, host.tree(), runner)
    write(os.path.join(host.proc, "irq", "37", "smp_affinity_list"), "0-3\n")
    result = Q.run(FULL, host.tree(), runner)
    assert [(c["what"], c["irq"], c["before"], c["after"]) for c in result["changes"]] == [
        ("irq_affinity", 37, "0-3", "3")
    ]


def test_empty_list_turns_rps_off(host):
    runner, _fake = runner_for(host)
    Q.run([{"name": "enp17s0", "rps_cpus": [2, 3]}], host.tree(), runner)
    result = Q.run([{"name": "enp17s0", "rps_cpus": []}], host.tree(), runner)
    assert result["after"]["enp17s0"]["rps_cpus"] == {"rx-0": "", "rx-1": ""}
    assert read(os.path.join(host.sys, "class", "net", "enp17s0", "queues", "rx-0", "rps_cpus")) == "0"


def test_channels_first_then_masks_on_the_new_queues(host):
    runner, fake = runner_for(host)
    spec = [{"name": "enp17s0", "channels": {"combined": 4}, "rps_cpus": "auto"}]
    check = Q.run(spec, host.tree(), runner, check_mode=True)
    assert check["changes"][0]["cmd"] == ["ethtool", "-L", "enp17s0", "combined", "4"]
    assert check["notes"] and "recreates its queues" in check["notes"][0]
    assert not [call for call in fake.calls if call[1] == "-L"]
    result = Q.run(spec, host.tree(), runner)
    assert [call for call in fake.calls if call[1] == "-L"] == [["ethtool", "-L", "enp17s0", "combined", "4"]]
    assert result["after"]["enp17s0"]["channels"] == {"combined": 4}
    assert sorted(result["after"]["enp17s0"]["rps_cpus"]) == ["rx-0", "rx-1", "rx-2", "rx-3"]
    assert Q.run(spec, host.tree(), runner)["changed"] is False


def test_a_failed_write_reports_what_was_applied(host, monkeypatch):
    runner, _fake = runner_for(host)
    original = Q.Tree.write

    def failing(path, text):
        if path.endswith("/irq/40/smp_affinity_list"):
            raise OSError(5, "Input/output error")
        original(path, text)

    monkeypatch.setattr(Q.Tree, "write", staticmethod(failing))
    with pytest.raises(Q.ApplyError) as info:
        Q.run(FULL[:1], host.tree(), runner)
    assert "irq/40/smp_affinity_list failed" in str(info.value)
    assert [change["what"] for change in info.value.applied] == ["txqueuelen", "irq_affinity"]


def test_readback_mismatch_fails(host, monkeypatch):
    runner, _fake = runner_for(host)
    monkeypatch.setattr(Q.Tree, "write", staticmethod(lambda path, text: None))
    with pytest.raises(Q.ApplyError, match="read back after the change differs"):
        Q.run([{"name": "enp0s5", "txqueuelen": 5000}], host.tree(), runner)


# -- the applier (udev RUN / boot unit) ---------------------------------------------------------
def test_applier_is_lenient_and_filters_by_nic(tmp_path, capsys, monkeypatch):
    host = FakeHost(tmp_path / "t", enp0s5_up=False)
    config = tmp_path / "nic_queues.json"
    config.write_text(json.dumps({"nics": [
        {"name": "enp0s5", "irq_affinity": "auto", "txqueuelen": 4000},
        {"name": "gone0", "txqueuelen": 4000},
        {"name": "enp17s0", "txqueuelen": 3000},
    ]}))  # fmt: skip
    monkeypatch.setattr(Q, "_subprocess_run_command", FakeEthtool(host))
    argv = ["--config", str(config), "--lenient", "--sys-path", host.sys, "--proc-path", host.proc]
    assert Q.main([*argv, "--nic", "enp17s0"]) == 0
    assert read(os.path.join(host.sys, "class/net/enp17s0/tx_queue_len")) == "3000"
    assert read(os.path.join(host.sys, "class/net/enp0s5/tx_queue_len")) == "1000"
    assert Q.main(argv) == 0
    out = capsys.readouterr().out
    assert "skipped: nics[0].name: no such NIC" in out  # gone0 (validated alone, so its index is 0)
    assert "enp0s5: no queue IRQs yet" in out
    # enp0s5's IRQs are not there yet: only they are left for later, its txqueuelen is set
    assert read(os.path.join(host.sys, "class/net/enp0s5/tx_queue_len")) == "4000"


def test_applier_strict_fails_on_an_unknown_nic(tmp_path, capsys):
    host = FakeHost(tmp_path / "t")
    config = tmp_path / "nic_queues.json"
    config.write_text(json.dumps({"nics": [{"name": "gone0", "txqueuelen": 4000}]}))
    assert Q.main(["--config", str(config), "--sys-path", host.sys, "--proc-path", host.proc]) == 1
    assert "no such NIC" in capsys.readouterr().err


def test_xps_of_a_single_queue_device_is_left_alone(host):
    # kernel 6.1 answers ENOENT when xps_cpus of a single-queue device is read (seen on the lab's e1000e)
    path = os.path.join(host.sys, "class", "net", "enp0s5", "queues", "tx-0", "xps_cpus")
    os.remove(path)
    os.mkdir(path)  # reading it fails with an OSError, as the kernel's ENOENT does
    runner, _fake = runner_for(host)
    spec = [{"name": "enp0s5", "rps_cpus": "auto", "xps_cpus": "auto"}]
    result = Q.run(spec, host.tree(), runner)
    assert [change["what"] for change in result["changes"]] == ["rps_cpus"]
    assert "tx-0 cannot be read" in result["notes"][0]
    assert Q.run(spec, host.tree(), runner)["changed"] is False


# -- the applier as the net_tuning role installs it on a host ----------------------------------
def test_applier_runs_from_the_tool(tmp_path):
    """The udev rule's and the unit's command, ``dpvs-cluster.pyz nic-queues ARGS``, from the tool the
    role installs (built by the host_tool action's builder), run by a Python that sees only the zip
    and the standard library, with the applier's arguments: --check plans, a real run applies."""
    from test_host_tool import build_tool, run_tool

    pyz = build_tool(tmp_path)
    host = FakeHost(tmp_path / "t")
    config = tmp_path / "nic_queues.json"
    config.write_text(json.dumps({"nics": [{"name": "enp0s5", "txqueuelen": 4000}]}))
    argv = ["nic-queues", "--config", str(config), "--sys-path", host.sys, "--proc-path", host.proc]
    check = run_tool(pyz, *argv, "--check", cwd=str(tmp_path))
    assert check.returncode == 0, check.stderr
    assert check.stdout == "enp0s5 txqueuelen : 1000 -> 4000\n"
    assert read(os.path.join(host.sys, "class/net/enp0s5/tx_queue_len")) == "1000"
    applied = run_tool(pyz, *argv, "--lenient", "--nic", "enp0s5", cwd=str(tmp_path))
    assert applied.returncode == 0, applied.stderr
    assert read(os.path.join(host.sys, "class/net/enp0s5/tx_queue_len")) == "4000"
    assert run_tool(pyz, *argv, cwd=str(tmp_path)).stdout == ""  # nothing left to do
