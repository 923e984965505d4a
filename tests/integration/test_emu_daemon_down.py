"""A DPVS daemon that is not running: the state modules fail clearly, dpvs_info reports it."""

import os

import pytest
from emutier import as_text

pytestmark = pytest.mark.parallel_safe

STEPS = [
    {
        "name": "addr",
        "module": "dpip_addr",
        "args": {"addresses": [{"address": "10.0.96.204/32", "dev": "dpdk2"}]},
        "expect_failure": True,
    },
    {
        "name": "route",
        "module": "dpip_route",
        "args": {"routes": [{"prefix": "10.0.96.0/24", "dev": "dpdk2"}]},
        "expect_failure": True,
    },
    {
        "name": "ipvsadm",
        "module": "ipvsadm",
        "args": {"services": [{"vip": "10.0.96.204", "port": 80, "scheduler": "rr"}]},
        "expect_failure": True,
    },
    {"name": "info", "module": "dpvs_info", "args": {}},
    {"name": "info_check", "module": "dpvs_info", "args": {}, "check": True},
]


@pytest.mark.parametrize(
    ("how", "reason"),
    [("stop", "No such file or directory"), ("kill", "Connection refused")],
    ids=["stopped-no-socket", "killed-stale-socket"],
)
def test_daemon_down(emulator, ansible, how, reason):
    emulator.ctl(how)
    if how == "kill":
        assert os.path.exists(emulator.ipc), "kill should leave the socket behind"
    run = ansible.play("steps.yml", {"steps": STEPS})
    assert run.rc == 0, run.explain()
    for name in ("addr", "route", "ipvsadm"):
        result = run.step(name)
        assert result.get("failed") is True, (name, as_text(result)[:2000])
        msg = result["msg"]
        assert msg.startswith("DPVS daemon is not reachable"), (name, msg)
        assert reason in msg, (name, msg)
        assert "Traceback" not in as_text(result), (name, msg)
        assert not emulator.writes(name), emulator.log(name)
        assert emulator.log(name), f"{name}: no command was tried"
    for name in ("info", "info_check"):
        info = run.step(name)
        assert not info.get("failed"), info.get("msg")
        assert info["running"] is False
        assert info["changed"] is False
