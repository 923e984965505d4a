"""tools/lab/lab.py: the topology checks and the qemu command line it derives from inventories/lab."""

import copy
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools", "lab"))

import lab  # noqa: E402

VMS = lab.load_topology(os.path.join(REPO, "inventories", "lab"))


def argv_of(name, vms=None):
    vms = vms or VMS
    return lab.qemu_argv(name, vms[name], "/img", "tcg", lab.link_peers(vms))


def devices(argv):
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "-device"]


def vm_args(argv):
    """The per-VM kernel arguments: qemu's SMBIOS OEM string, which GRUB reads into $lab_vm_cmdline."""
    smbios = argv[argv.index("-smbios") + 1]
    assert smbios.startswith("type=11,value=")
    return smbios[len("type=11,value=") :].split()


def test_lab_inventory_describes_three_vms():
    assert sorted(VMS) == ["client1", "lb1", "rs1"]
    assert [VMS[name]["ssh_port"] for name in ("lb1", "rs1", "client1")] == [2221, 2222, 2223]


def test_dpvs_vm_has_numa_iommu_and_nics_on_their_nodes():
    argv = argv_of("lb1")
    assert argv[argv.index("-machine") + 1] == "q35"
    assert argv[argv.index("-smp") + 1] == "2,sockets=2,cores=1,threads=1"
    assert "node,nodeid=0,cpus=0-0,memdev=mem0" in argv and "node,nodeid=1,cpus=1-1,memdev=mem1" in argv
    assert "memory-backend-ram,id=mem1,size=2048M" in argv  # room for 1 GB hugepages
    assert vm_args(argv) == ["systemd.hostname=lb1", "intel_iommu=on"]
    dev = devices(argv)
    assert dev.index("intel-iommu") < min(i for i, d in enumerate(dev) if "netdev=" in d)  # before the NICs
    # enp33s0: e1000e at 0000:21:00.0 on node 1 = expander bus 0x20, root port, NIC behind it
    assert "pxb-pcie,id=pxb1,bus_nr=32,numa_node=1,bus=pcie.0,addr=0x11" in dev
    assert "e1000e,netdev=nic1,mac=52:54:00:00:01:03,bus=rp1,addr=0x0" in dev
    # virtio data NICs of an IOMMU VM translate their DMA through it
    assert any(d.startswith("virtio-net-pci,netdev=nic0,") and "iommu_platform=on" in d for d in dev)
    # the spare on the root bus, explicitly (qemu would otherwise put it on an expander bus)
    assert "e1000e,netdev=nic2,mac=52:54:00:00:01:04,bus=pcie.0,addr=0x4" in dev
    assert "user,id=mgmt,hostfwd=tcp:127.0.0.1:2221-:22" in argv


def test_links_join_the_two_ends():
    lb1, rs1 = " ".join(argv_of("lb1")), " ".join(argv_of("rs1"))
    sock_lb1 = lab.link_socket("lb1-rs1", "lb1")
    sock_rs1 = lab.link_socket("lb1-rs1", "rs1")
    assert f"local.path={sock_lb1},remote.type=unix,remote.path={sock_rs1}" in lb1
    assert f"local.path={sock_rs1},remote.type=unix,remote.path={sock_lb1}" in rs1


def test_pc_vm_has_no_numa_or_iommu():
    argv = argv_of("rs1")
    assert argv[argv.index("-machine") + 1] == "pc" and "-numa" not in argv
    assert "intel-iommu" not in devices(argv) and vm_args(argv) == ["systemd.hostname=rs1"]
    assert "e1000e,netdev=nic0,mac=52:54:00:00:02:02,bus=pci.0,addr=0x4" in devices(argv)


def test_vms_boot_grub_from_the_image_not_a_kernel():
    argv = argv_of("lb1")
    assert argv[argv.index("-kernel") + 1] == "/img/grub.img"
    # the kernel, initrd and shared arguments come from the VM's own /boot/grub/grub.cfg, and a
    # guest reboot must come back through GRUB
    assert "-initrd" not in argv and "-append" not in argv and "-no-reboot" not in argv


def test_kvm_uses_the_host_cpu():
    assert lab.cpu_accel_args("kvm") == ["-accel", "kvm", "-cpu", "host"]
    assert lab.cpu_accel_args("tcg") == ["-accel", "tcg,thread=multi", "-cpu", "max"]


def _broken(change):
    vms = copy.deepcopy(VMS)
    change(vms)
    with pytest.raises(lab.LabError) as info:
        lab.validate_topology(vms)
    return str(info.value)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda v: v["rs1"].update(ssh_port=2221), "ansible_port: also used by"),
        (lambda v: v["rs1"]["nics"][0].update(mac="52:54:00:00:01:02"), "also used by lb1"),
        (lambda v: v["rs1"]["nics"][0].update(pci="0000:00:03.0"), "slot taken"),
        (lambda v: v["rs1"]["nics"][0].update(numa_node=0), "need machine q35"),
        (lambda v: v["lb1"]["nics"][1].update(numa_node=2), "must be 0..1"),
        (lambda v: v["lb1"]["nics"][0].update(pci="0000:11:01.0"), "0000:BB:00.0"),
        (lambda v: v["rs1"]["nics"][0].update(link="nowhere"), "joins exactly two NICs"),
        (lambda v: v["rs1"].update(iommu=True), "needs machine q35"),
        (lambda v: v["lb1"].update(cpus=3), "do not split evenly"),
        (lambda v: v["lb1"]["nics"][0].update(model="igb"), "must be one of virtio, e1000e, vmxnet3"),
    ],
)
def test_topology_errors_name_the_place(change, message):
    assert message in _broken(change)


def test_recipe_hash_follows_the_recipe(monkeypatch, tmp_path):
    monkeypatch.setenv("DPVS_LAB_DIR", str(tmp_path))
    first = lab.image_dir("ssh-ed25519 AAAA lab")
    assert first == lab.image_dir("ssh-ed25519 AAAA lab")
    assert first != lab.image_dir("ssh-ed25519 BBBB lab")
    monkeypatch.setenv("DPVS_LAB_MIRROR", "http://mirror.example/debian")
    assert first != lab.image_dir("ssh-ed25519 AAAA lab")


class _Boots:
    """VMs whose sshd answers only from a given boot on (0: never); restart() counts the boots."""

    def __init__(self, monkeypatch, tmp_path, answers_from, restartable=True):
        monkeypatch.setenv("DPVS_LAB_DIR", str(tmp_path))
        monkeypatch.setattr(lab, "POLL_SECONDS", 0.001)
        monkeypatch.setattr(lab, "read_pid", lambda name: 4242)
        monkeypatch.setattr(lab, "ssh_banner", self.answers)
        self.answers_from, self.restartable = answers_from, restartable
        self.boots = {name: 1 for name in answers_from}
        self.ports = {name: 2221 + i for i, name in enumerate(answers_from)}
        for name in answers_from:
            os.makedirs(lab.vm_paths(name)["dir"])
            with open(lab.vm_paths(name)["console"], "w", encoding="utf-8") as handle:
                handle.write(f"{name}: Loading initial ramdisk ...\n")

    def answers(self, port):
        name = next(n for n, p in self.ports.items() if p == port)
        return 0 < self.answers_from[name] <= self.boots[name]

    def restart(self, name):
        if not self.restartable:
            return False
        self.boots[name] += 1
        return True

    def wait(self, attempts=2):
        return lab.wait_for_ssh(list(self.answers_from), self.ports, self.restart, (0.05, attempts))


def test_a_vm_that_hangs_in_boot_is_started_again_once(monkeypatch, tmp_path, capsys):
    boots = _Boots(monkeypatch, tmp_path, {"lb1": 1, "rs1": 2})
    ready = boots.wait()
    assert sorted(ready) == ["lb1", "rs1"]
    assert boots.boots == {"lb1": 1, "rs1": 2}
    err = capsys.readouterr().err
    assert "rs1: no sshd after 0.05 s, started it again" in err
    assert "rs1 sshd answers on 127.0.0.1:2222 after 0 s, boot 2" in err
    with open(os.path.join(tmp_path, "run", "rs1-boot-1.log"), encoding="utf-8") as handle:
        assert "Loading initial ramdisk" in handle.read()


def test_a_vm_that_never_boots_fails_after_its_boots_with_its_console(monkeypatch, tmp_path):
    boots = _Boots(monkeypatch, tmp_path, {"lb1": 1, "rs1": 0})
    with pytest.raises(lab.LabError, match=r"no sshd on rs1 after 2 boot\(s\)[\s\S]*rs1: Loading initial ramdisk"):
        boots.wait()
    assert boots.boots["rs1"] == 2


def test_a_vm_up_did_not_start_is_never_restarted(monkeypatch, tmp_path):
    boots = _Boots(monkeypatch, tmp_path, {"rs1": 2}, restartable=False)
    with pytest.raises(lab.LabError, match=r"no sshd on rs1 after 1 boot\(s\)"):
        boots.wait()
    assert boots.boots["rs1"] == 1
