"""dpdk_devbind's logic (plugins/module_utils/host/devbind.py) against a fake kernel (fixtures/devbind/fake_kernel.py).

The fake host looks like the lab's lb1: the management NIC enp0s3 (virtio, 10.0.2.15, default
route), enp17s0 (virtio, NUMA 0), enp33s0 (e1000e, NUMA 1), enp0s4 (e1000e) and a Mellanox port.
"""

import importlib.util
import io
import json
import os
import re

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner
from ansible_collections.dpvs.cluster.plugins.module_utils.host import devbind as _devbind

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "fake_kernel", os.path.join(HERE, "fixtures", "devbind", "fake_kernel.py")
)
fake_kernel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_kernel)

MGMT, WAN, LAN, SPARE, MLX = "0000:00:03.0", "0000:11:00.0", "0000:21:00.0", "0000:00:04.0", "0000:41:00.0"
NICS = [
    {
        "pci": MGMT,
        "name": "enp0s3",
        "mac": "52:54:00:00:01:01",
        "kernel_driver": "virtio-pci",
        "vendor": "0x1af4",
        "device": "0x1041",
    },
    {
        "pci": WAN,
        "name": "enp17s0",
        "mac": "52:54:00:00:01:02",
        "kernel_driver": "virtio-pci",
        "numa": 0,
        "vendor": "0x1af4",
        "device": "0x1041",
    },
    {"pci": LAN, "name": "enp33s0", "mac": "52:54:00:00:01:03", "kernel_driver": "e1000e", "numa": 1},
    {"pci": SPARE, "name": "enp0s4", "mac": "52:54:00:00:01:04", "kernel_driver": "e1000e"},
    {
        "pci": MLX,
        "name": "ens1f0",
        "mac": "0c:42:a1:00:00:01",
        "kernel_driver": "mlx5_core",
        "vendor": "0x15b3",
        "device": "0x1017",
    },
]
DRIVERS = ["virtio-pci", "e1000e", "mlx5_core", "vfio-pci", "uio_pci_generic"]


@pytest.fixture
def host(tmp_path):
    return make_host(tmp_path)


def make_host(tmp_path, nics=None, drivers=None, **kwargs):
    kwargs.setdefault("addresses", {"enp0s3": "10.0.2.15"})
    kwargs.setdefault("default_route", "enp0s3")
    fake = fake_kernel.FakeKernel(tmp_path / "root", nics or NICS, drivers or DRIVERS, **kwargs)
    fake.state_file = str(tmp_path / "etc" / "devbind.json")
    fake.nic_map = str(tmp_path / "etc" / "nics.json")
    return fake


def converge(fake, devices, check=False, connection="10.0.2.15", **kwargs):
    """What the module does: ip -o addr show, the management view, then run()."""
    runner = Runner(fake.run_command)
    _rc, out, _err = runner.run(["ip", "-o", "addr", "show"], record=False)
    protected, modules = _devbind.host_view(fake, out, connection)
    kwargs.setdefault("nic_map_file", fake.nic_map)
    return _devbind.run(
        fake, runner, devices, fake.state_file, check_mode=check, protected=protected, modules=modules, **kwargs
    )


def writes(fake):
    return [entry for entry in fake.log if entry[0] == "write"]


def state(fake):
    with open(fake.state_file) as handle:
        return json.load(handle)


# ---------------------------------------------------------------------------------------------
# Binding, order, read-back, idempotence


def test_bind_vfio_order_and_read_back(host):
    result = converge(host, [{"pci": WAN, "driver": "vfio-pci"}])
    assert result["changed"] is True
    ops = [(a["op"], a.get("path"), a.get("value"), a.get("cmd")) for a in result["actions"]]
    assert ops == [
        ("command", None, None, ["ip", "link", "set", "dev", "enp17s0", "down"]),
        ("write", f"/sys/bus/pci/devices/{WAN}/driver_override", "vfio-pci", None),
        ("write", "/sys/bus/pci/drivers/virtio-pci/unbind", WAN, None),
        ("write", "/sys/bus/pci/drivers_probe", WAN, None),
    ]
    # the kernel saw them in that order: the link went down before the driver let go
    kernel_ops = [e for e in host.log if e[0] == "write" or e[1][1:3] == ["link", "set"]]
    assert kernel_ops[0] == ("command", ["ip", "link", "set", "dev", "enp17s0", "down"])
    assert kernel_ops[2] == ("write", "/sys/bus/pci/drivers/virtio-pci/unbind", WAN)
    assert host.driver(WAN) == "vfio-pci"
    assert host.override(WAN) == "vfio-pci"
    assert host.netdev(WAN) is None
    assert result["commands"] == [["ip", "link", "set", "dev", "enp17s0", "down"]]
    assert result["devices"] == [
        {
            "pci": WAN,
            "name": "enp17s0",
            "mac": "52:54:00:00:01:02",
            "numa_node": 0,
            "driver_before": "virtio-pci",
            "driver_after": "vfio-pci",
            "listed": True,
        }
    ]
    assert result["diff"] == {"before": {WAN: "virtio-pci"}, "after": {WAN: "vfio-pci"}}
    recorded = state(host)
    assert recorded["version"] == 1
    assert recorded["devices"][WAN] == {
        "kernel_driver": "virtio-pci",
        "name": "enp17s0",
        "mac": "52:54:00:00:01:02",
        "driver": "vfio-pci",
        "vendor_id": "0x1af4",
        "device_id": "0x1041",
    }
    # the other NICs were not touched
    assert host.driver(LAN) == "e1000e" and host.driver(MGMT) == "virtio-pci"


def test_second_run_is_empty(host):
    devices = [{"pci": WAN, "driver": "vfio-pci"}, {"name": "enp33s0", "driver": "uio_pci_generic"}]
    first = converge(host, devices)
    assert first["changed"] and host.driver(LAN) == "uio_pci_generic"
    mark = len(host.log)
    second = converge(host, devices)
    assert second["changed"] is False
    assert second["actions"] == [] and second["commands"] == []
    assert writes_after(host, mark) == []
    # selected by name after the netdev is gone: the state file remembers it
    assert [d["driver_after"] for d in second["devices"]] == ["vfio-pci", "uio_pci_generic"]


def writes_after(fake, mark):
    return [entry for entry in fake.log[mark:] if entry[0] == "write"]


def test_link_down_false_and_down_links_skip_the_command(tmp_path):
    nics = [dict(NICS[0]), dict(NICS[1], up=False), dict(NICS[2])]
    fake = make_host(tmp_path, nics)
    result = converge(fake, [{"pci": WAN, "driver": "vfio-pci"}, {"pci": LAN, "driver": "vfio-pci"}], link_down=False)
    assert result["commands"] == []
    assert fake.driver(WAN) == fake.driver(LAN) == "vfio-pci"


def test_check_mode_plans_the_same_and_writes_nothing(host):
    devices = [{"pci": "11:00.0", "driver": "vfio-pci"}]
    checked = converge(host, devices, check=True)
    assert checked["changed"] is True
    assert writes(host) == []
    assert not os.path.exists(host.state_file)
    assert host.driver(WAN) == "virtio-pci" and host.is_up("enp17s0")
    real = converge(host, devices)
    assert real["actions"] == checked["actions"]
    assert real["diff"] == checked["diff"]


def test_restore_to_kernel(host):
    converge(host, [{"pci": WAN, "driver": "vfio-pci"}])
    result = converge(host, [{"mac": "52:54:00:00:01:02", "driver": "kernel"}])
    assert result["changed"] is True
    assert [(a["path"], a["value"]) for a in result["actions"]] == [
        (f"/sys/bus/pci/devices/{WAN}/driver_override", "\n"),
        ("/sys/bus/pci/drivers/vfio-pci/unbind", WAN),
        ("/sys/bus/pci/drivers_probe", WAN),
    ]
    assert host.driver(WAN) == "virtio-pci"
    assert host.override(WAN) is None
    assert host.netdev(WAN) == "enp17s0"
    assert state(host)["devices"] == {}
    again = converge(host, [{"mac": "52:54:00:00:01:02", "driver": "kernel"}])
    assert again["changed"] is False


def test_restore_unlisted(host):
    converge(host, [{"pci": WAN, "driver": "vfio-pci"}, {"pci": LAN, "driver": "uio_pci_generic"}])
    kept = converge(host, [{"pci": WAN, "driver": "vfio-pci"}])
    assert kept["changed"] is False and host.driver(LAN) == "uio_pci_generic"
    result = converge(host, [{"pci": WAN, "driver": "vfio-pci"}], restore_unlisted=True)
    assert result["changed"] is True
    assert host.driver(LAN) == "e1000e" and host.netdev(LAN) == "enp33s0"
    assert host.driver(WAN) == "vfio-pci"
    assert sorted(state(host)["devices"]) == [WAN]
    restored = [d for d in result["devices"] if not d["listed"]]
    assert restored == [
        {
            "pci": LAN,
            "name": "enp33s0",
            "mac": "52:54:00:00:01:03",
            "numa_node": 1,
            "driver_before": "uio_pci_generic",
            "driver_after": "e1000e",
            "listed": False,
        }
    ]
    # an empty list restores everything this module bound; NICs bound by others stay
    result = converge(host, [], restore_unlisted=True)
    assert host.driver(WAN) == "virtio-pci"
    assert state(host)["devices"] == {}
    assert converge(host, [], restore_unlisted=True)["changed"] is False


def test_stale_override_on_kernel_driver_is_cleared(host):
    host.write(f"/sys/bus/pci/devices/{LAN}/driver_override", "vfio-pci")
    result = converge(host, [{"pci": LAN, "driver": "kernel"}])
    assert [(a["path"], a["value"]) for a in result["actions"]] == [
        (f"/sys/bus/pci/devices/{LAN}/driver_override", "\n")
    ]
    assert host.override(LAN) is None and host.driver(LAN) == "e1000e"


# ---------------------------------------------------------------------------------------------
# Failures part-way: rollback and what was applied


def test_refused_bind_rolls_back_to_kernel_driver(tmp_path):
    fake = make_host(tmp_path, refuse=[("uio_pci_generic", LAN)])
    with pytest.raises(_devbind.BindError) as info:
        converge(fake, [{"pci": WAN, "driver": "vfio-pci"}, {"pci": LAN, "driver": "uio_pci_generic"}])
    err = info.value
    assert "0000:21:00.0: binding to uio_pci_generic failed" in err.msg
    assert "read back no driver" in err.msg and "it is on e1000e now" in err.msg
    whys = [a["why"] for a in err.applied]
    assert whys[:4] == [
        "take enp17s0 down before its driver lets go",
        "only vfio-pci may bind it",
        "unbind from virtio-pci",
        "probe: vfio-pci binds it",
    ]
    assert whys[4:8] == [
        "take enp33s0 down before its driver lets go",
        "only uio_pci_generic may bind it",
        "unbind from e1000e",
        "probe: uio_pci_generic binds it",
    ]
    assert whys[8:] == ["rollback: clear driver_override", "rollback: probe the kernel driver", "rollback: link up"]
    assert fake.driver(LAN) == "e1000e" and fake.override(LAN) is None and fake.is_up("enp33s0")
    # the first NIC stays bound and recorded; the failed one is not recorded
    assert fake.driver(WAN) == "vfio-pci"
    assert sorted(state(fake)["devices"]) == [WAN]
    assert {d["pci"]: d["driver_after"] for d in err.devices} == {WAN: "vfio-pci", LAN: "e1000e"}


def test_failed_sysfs_write_rolls_back(tmp_path):
    import errno

    fake = make_host(tmp_path)
    fake.fail_writes["/sys/bus/pci/drivers_probe"] = errno.EIO
    with pytest.raises(_devbind.BindError) as info:
        converge(fake, [{"pci": WAN, "driver": "vfio-pci"}])
    assert "write '0000:11:00.0' to /sys/bus/pci/drivers_probe failed" in info.value.msg
    # probe itself fails here, so the rollback cannot re-bind: the message says where the NIC is
    assert "it is on no driver now" in info.value.msg
    assert fake.override(WAN) is None
    del fake.fail_writes["/sys/bus/pci/drivers_probe"]
    result = converge(fake, [{"pci": WAN, "driver": "kernel"}])
    assert fake.driver(WAN) == "virtio-pci" and result["changed"] is True


# ---------------------------------------------------------------------------------------------
# Refusals and bad input: nothing is written


def test_management_nic_refused_unless_force(host):
    for selector in ({"pci": MGMT}, {"name": "enp0s3"}, {"mac": "52:54:00:00:01:01"}):
        with pytest.raises(InputError) as info:
            converge(host, [{"pci": WAN, "driver": "vfio-pci"}, dict(selector, driver="vfio-pci")])
        assert str(info.value).startswith("devices[1].")
        assert "management NIC" in str(info.value) and "10.0.2.15" in str(info.value)
        assert "default route" in str(info.value)
    assert writes(host) == []
    result = converge(host, [{"pci": MGMT, "driver": "vfio-pci"}], check=True, force=True)
    assert result["changed"] is True and writes(host) == []
    # listing it on its kernel driver is fine
    assert converge(host, [{"pci": MGMT, "driver": "kernel"}])["changed"] is False


def test_management_nic_by_default_route_alone(host):
    with pytest.raises(InputError, match="IPv4 default route"):
        converge(host, [{"pci": MGMT, "driver": "vfio-pci"}], connection=None)


def test_nic_under_a_bond_that_carries_the_connection_is_refused(tmp_path):
    fake = make_host(tmp_path, addresses={"bond0": "10.0.2.15"}, default_route="bond0")
    bond = fake._path("/sys/devices/virtual/net/bond0")
    os.makedirs(bond)
    for name, text in (("type", "1\n"), ("address", "52:54:00:00:01:04\n"), ("flags", "0x1403\n")):
        with open(os.path.join(bond, name), "w") as handle:
            handle.write(text)
    os.symlink("../../../pci0000:00/0000:00:04.0/net/enp0s4", os.path.join(bond, "lower_enp0s4"))
    os.symlink("../../devices/virtual/net/bond0", fake._path("/sys/class/net/bond0"))
    with pytest.raises(InputError) as info:
        converge(fake, [{"name": "enp0s4", "driver": "vfio-pci"}])
    assert "management NIC" in str(info.value) and "interface enp0s4" in str(info.value)
    # the old management NIC no longer carries anything: it may be bound
    assert converge(fake, [{"pci": MGMT, "driver": "vfio-pci"}], check=True)["changed"] is True


def test_mellanox_refused(host):
    with pytest.raises(InputError) as info:
        converge(host, [{"pci": MLX, "driver": "vfio-pci"}])
    assert str(info.value).startswith("devices[0].driver: 0000:41:00.0 is a Mellanox/NVIDIA NIC (vendor 0x15b3)")
    assert "bifurcated" in str(info.value)
    assert converge(host, [{"pci": MLX, "driver": "kernel"}])["changed"] is False
    assert writes(host) == []


def test_driver_not_loaded_fails_before_any_change(host):
    with pytest.raises(InputError) as info:
        converge(host, [{"pci": WAN, "driver": "vfio-pci"}, {"pci": LAN, "driver": "igb_uio"}])
    assert str(info.value) == (
        "devices[1].driver: driver igb_uio is not loaded (no /sys/bus/pci/drivers/igb_uio): load it first "
        "(role dpvs.cluster.dpdk_kmods, or modprobe) (got 'igb_uio')"
    )
    assert writes(host) == [] and host.driver(WAN) == "virtio-pci"
    host.load("igb_uio")
    converge(host, [{"pci": LAN, "driver": "igb_uio"}])
    assert host.driver(LAN) == "igb_uio"


BAD_INPUTS = [
    (
        [{"pci": "0000:99:00.0", "driver": "vfio-pci"}],
        "devices[0].pci: no PCI network function 0000:99:00.0 on this host",
    ),
    ([{"pci": "99:00.0", "driver": "vfio-pci"}], "devices[0].pci: no PCI network function 0000:99:00.0 on this host"),
    ([{"pci": "0000:11:00", "driver": "vfio-pci"}], "devices[0].pci: not a PCI address"),
    ([{"mac": "52:54:00:00:09:09", "driver": "vfio-pci"}], "devices[0].mac: no PCI network function with MAC"),
    ([{"mac": "52:54:00:00:01", "driver": "vfio-pci"}], "devices[0].mac: not a MAC address"),
    ([{"name": "eth9", "driver": "vfio-pci"}], "devices[0].name: no PCI network function with interface name eth9"),
    ([{"name": "bad name", "driver": "vfio-pci"}], "devices[0].name: not an interface name"),
    ([{"pci": WAN, "name": "enp17s0", "driver": "vfio-pci"}], "devices[0]: give exactly one of pci, mac, name"),
    ([{"driver": "vfio-pci"}], "devices[0]: give exactly one of pci, mac, name"),
    (
        [{"pci": WAN, "driver": "vfio-pci"}, {"name": "enp17s0", "driver": "vfio-pci"}],
        "devices[1]: 0000:11:00.0 is already selected by devices[0]",
    ),
    ([{"pci": WAN, "driver": "vfio pci"}], "devices[0].driver: not a driver name"),
    ([{"pci": WAN, "driver": "../vfio"}], "devices[0].driver: not a driver name"),
    ([{"pci": WAN}], "devices[0].driver: not a driver name"),
    ([{"pci": WAN, "driver": "ixgbe"}], "devices[0].driver: driver ixgbe is not loaded"),
    ([{"pci": WAN, "driver": "vfio-pci", "port": 1}], "devices[0].port: unknown key"),
    (["0000:11:00.0"], "devices[0]: must be a dict"),
    ([{"pci": 1100, "driver": "vfio-pci"}], "devices[0].pci: must be a string"),
]


def _shift(message):
    """The message with every ``devices[N]`` one further on (a valid NIC is listed first)."""
    return re.sub(r"devices\[(\d+)\]", lambda m: f"devices[{int(m.group(1)) + 1}]", message)


@pytest.mark.parametrize(("devices", "message"), BAD_INPUTS, ids=[str(i) for i in range(len(BAD_INPUTS))])
def test_bad_input_changes_nothing(host, devices, message):
    with pytest.raises(InputError) as info:
        converge(host, [{"pci": LAN, "driver": "vfio-pci"}, *devices])
    text = str(info.value)
    assert text.startswith(_shift(message)), text
    assert "(got " in text
    assert writes(host) == []
    assert not os.path.exists(host.state_file)


def test_kernel_driver_unknown(tmp_path):
    fake = make_host(tmp_path, [dict(NICS[1], driver="vfio-pci")], aliases=False)
    with pytest.raises(InputError, match=r"devices\[0\].driver: 0000:11:00.0: its kernel driver is unknown"):
        converge(fake, [{"pci": WAN, "driver": "kernel"}])


def test_unreadable_state_file(host):
    os.makedirs(os.path.dirname(host.state_file))
    with open(host.state_file, "w") as handle:
        handle.write("{not json")
    with pytest.raises(InputError, match=r"^state_file: cannot read it"):
        converge(host, [{"pci": WAN, "driver": "vfio-pci"}])
    assert writes(host) == []


# ---------------------------------------------------------------------------------------------
# The NIC map (preflight role) resolves NICs that have no netdev


def test_nic_map_names_a_nic_bound_by_someone_else(tmp_path):
    fake = make_host(tmp_path, [NICS[0], dict(NICS[1], driver="vfio-pci"), NICS[2]])
    os.makedirs(os.path.dirname(fake.nic_map))
    with open(fake.nic_map, "w") as handle:
        json.dump(
            {
                "version": 1,
                "nics": {
                    WAN: {
                        "name": "enp17s0",
                        "mac": "52:54:00:00:01:02",
                        "numa_node": 0,
                        "kernel_driver": "virtio_pci",
                        "vendor_id": "0x1af4",
                        "device_id": "0x1041",
                    }
                },
            },
            handle,
        )
    # already on vfio-pci: nothing to bind, but the state file now records it for the boot applier
    result = converge(fake, [{"name": "enp17s0", "driver": "vfio-pci"}])
    assert result["actions"] == [] and result["changed"] is True
    assert state(fake)["devices"][WAN]["kernel_driver"] == "virtio_pci"
    assert result["devices"][0]["name"] == "enp17s0"
    assert converge(fake, [{"mac": "52:54:00:00:01:02", "driver": "vfio-pci"}])["changed"] is False
    # back to the kernel: the module name from the map (virtio_pci) finds the driver virtio-pci
    converge(fake, [{"name": "enp17s0", "driver": "kernel"}])
    assert fake.driver(WAN) == "virtio-pci" and fake.netdev(WAN) == "enp17s0"
    # without a map or record the name is unknown
    os.unlink(fake.nic_map)
    converge(fake, [{"pci": WAN, "driver": "vfio-pci"}])
    os.unlink(fake.state_file)
    with pytest.raises(InputError, match="no PCI network function with interface name enp17s0"):
        converge(fake, [{"name": "enp17s0", "driver": "kernel"}])


# ---------------------------------------------------------------------------------------------
# The boot-time applier: same code path, from the state file


def rebooted_host(tmp_path):
    """A host converged to WAN on vfio-pci and LAN on uio_pci_generic, then "rebooted": a fresh
    kernel with every NIC on its kernel driver, the same state file."""
    fake = make_host(tmp_path)
    converge(fake, [{"pci": WAN, "driver": "vfio-pci"}, {"pci": LAN, "driver": "uio_pci_generic"}])
    recorded = state(fake)
    booted = make_host(tmp_path / "after", addresses={}, default_route=None)
    os.makedirs(os.path.dirname(booted.state_file))
    with open(booted.state_file, "w") as handle:
        json.dump(recorded, handle)
    return booted


def test_boot_reapplies_recorded_bindings(tmp_path):
    booted = rebooted_host(tmp_path)
    recorded = state(booted)  # the record the converged host wrote
    out = io.StringIO()
    runner = Runner(booted.run_command)
    assert _devbind.boot_main(["--state-file", booted.state_file], io=booted, runner=runner, out=out) == 0
    assert booted.driver(WAN) == "vfio-pci" and booted.driver(LAN) == "uio_pci_generic"
    assert booted.driver(MGMT) == "virtio-pci"
    text = out.getvalue()
    assert "dpvs-devbind: 0000:11:00.0: ip link set dev enp17s0 down" in text
    assert "2 NIC(s) recorded, changed" in text
    assert state(booted) == recorded
    out = io.StringIO()
    assert _devbind.boot_main(["--state-file", booted.state_file], io=booted, runner=runner, out=out) == 0
    assert "all already bound" in out.getvalue()


def test_boot_leaves_a_replaced_nic_alone(tmp_path):
    fake = make_host(tmp_path)
    converge(fake, [{"pci": WAN, "driver": "vfio-pci"}])
    recorded = state(fake)
    nics = [NICS[0], dict(NICS[1], mac="52:54:00:00:0f:0f"), NICS[2]]
    booted = make_host(tmp_path / "after", nics)
    os.makedirs(os.path.dirname(booted.state_file))
    with open(booted.state_file, "w") as handle:
        json.dump(recorded, handle)
    out = io.StringIO()
    assert (
        _devbind.boot_main(["--state-file", booted.state_file], io=booted, runner=Runner(booted.run_command), out=out)
        == 0
    )
    assert booted.driver(WAN) == "virtio-pci"
    assert "MAC 52:54:00:00:0f:0f is not the recorded 52:54:00:00:01:02; left alone" in out.getvalue()
    assert writes(booted) == []


def test_boot_refused_bind_exits_1(tmp_path):
    fake = make_host(tmp_path)
    converge(fake, [{"pci": WAN, "driver": "vfio-pci"}])
    recorded = state(fake)
    booted = make_host(tmp_path / "after", refuse=["vfio-pci"])
    os.makedirs(os.path.dirname(booted.state_file))
    with open(booted.state_file, "w") as handle:
        json.dump(recorded, handle)
    out = io.StringIO()
    assert (
        _devbind.boot_main(["--state-file", booted.state_file], io=booted, runner=Runner(booted.run_command), out=out)
        == 1
    )
    assert "binding to vfio-pci failed" in out.getvalue()
    assert booted.driver(WAN) == "virtio-pci"
    # the record stays, so the next boot tries again
    assert sorted(state(booted)["devices"]) == [WAN]


def test_boot_command_runs_from_the_tool(tmp_path):
    """dpvs-devbind.service's command, ``dpvs-cluster.pyz devbind --state-file FILE``, from the tool
    the devbind role installs (built by the host_tool action's builder), run by a Python that sees
    only the zip and the standard library: --check on the fake kernel after a reboot plans the
    recorded bindings and changes nothing."""
    from test_host_tool import build_tool, run_tool

    booted = rebooted_host(tmp_path)
    pyz = build_tool(tmp_path)
    run = run_tool(pyz, "devbind", "--state-file", booted.state_file, "--check", "--root", booted.root,
                   cwd=str(tmp_path))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"dpvs-devbind: {WAN}: " in run.stdout and f"dpvs-devbind: {LAN}: " in run.stdout
    assert run.stdout.endswith("dpvs-devbind: 2 NIC(s) recorded, changed\n")
    assert booted.driver(WAN) == "virtio-pci" and booted.driver(LAN) == "e1000e"
    empty = run_tool(pyz, "devbind", "--state-file", str(tmp_path / "none.json"), "--check", "--root",
                     str(tmp_path / "root"), cwd=str(tmp_path))  # fmt: skip
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout == "dpvs-devbind: 0 NIC(s) recorded, all already bound\n"


def test_module_documentation_matches_argument_spec():
    import yaml
    from ansible_collections.dpvs.cluster.plugins.modules import dpdk_devbind

    doc = yaml.safe_load(dpdk_devbind.DOCUMENTATION)

    def compare(options, spec):
        assert sorted(options) == sorted(spec)
        for name, entry in spec.items():
            assert options[name]["type"] == entry["type"], name
            assert options[name].get("default") == entry.get("default"), name
            assert options[name].get("required", False) == entry.get("required", False), name
            assert options[name].get("elements") == entry.get("elements"), name
            if "options" in entry:
                compare(options[name]["suboptions"], entry["options"])

    compare(doc["options"], dpdk_devbind.ARGUMENT_SPEC)
    yaml.safe_load(dpdk_devbind.EXAMPLES)
    yaml.safe_load(dpdk_devbind.RETURN)
