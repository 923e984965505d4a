"""The dpvs role on this machine: dpvs.conf, units and persisted state for seed 001, then a DPVS
restart (state gone) replayed by the units' own command lines, then the roles again (changed=0).

The role runs on localhost with every path under the test's tmp dir (``dpvs_root``), host facts
from a fake sysfs (``dpvs_sysfs_root``, seed 001's two NUMA nodes and four NICs), the emulator's
binaries and ``dpvs_manage_service: false`` (no systemd here). The restart is done the way
systemd would do it: the ``ExecStart=`` of dpvs.service (the emulator's ``dpvs`` starts a fresh
daemon), its ``ExecStartPost=`` readiness probe, then the ``ExecStart=`` of dpvs-state.service,
each run verbatim from the rendered unit files.
"""

import copy
import json
import os
import shlex
import subprocess
import sys

import pytest
import yaml
from emutier import EMULATOR_BIN, PORTS_SEED001, REPO, is_write
from test_emu_seed001 import assert_seed_state

sys.path.insert(0, os.path.join(REPO, "tests"))
import dpvs_shapes
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import conf as _dpvs_conf
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import memory as _memory

pytestmark = pytest.mark.parallel_safe

SEED = dpvs_shapes.SHAPES["seed001-2nodes-4nics"]
GOLDEN_CONF = os.path.join(dpvs_shapes.GOLDEN, "seed001-2nodes-4nics.dpvs.conf")
GOLDEN_LAYOUT = os.path.join(dpvs_shapes.GOLDEN, "seed001-2nodes-4nics.layout.json")
EXAMPLE = os.path.join(REPO, "inventories", "example")
# the seed's addresses, routes and service (group_vars), and the node's own LIP (host_vars)
EXAMPLE_VARS = [
    os.path.join(EXAMPLE, "group_vars", "dpvs", "dpvs_network.yml"),
    os.path.join(EXAMPLE, "group_vars", "dpvs", "dpvs_services.yml"),
]
EXAMPLE_HOST = os.path.join(EXAMPLE, "host_vars", "dpvs1.yml")


def role_vars(emulator, tmp_path, **extra):
    sysfs = str(tmp_path / "sys")
    if not os.path.isdir(sysfs):
        dpvs_shapes.write_sysfs(sysfs, SEED["host"])
    variables = {}
    for path in EXAMPLE_VARS:
        with open(path) as handle:
            variables.update(yaml.safe_load(handle))
    with open(EXAMPLE_HOST) as handle:
        variables["site_lip"] = yaml.safe_load(handle)["site_lip"]
    variables.update(SEED["vars"])
    variables.update(
        {
            "dpvs_root": str(tmp_path / "root"),
            "dpvs_sysfs_root": sysfs,
            "dpvs_manage_service": False,
            "dpvs_ipc_file": emulator.ipc,
            "dpvs_bin_dir": EMULATOR_BIN,
            "dpvs_python": sys.executable,
            "dpvs_network_ipc_file": emulator.ipc,
            "dpvs_services_ipc_file": emulator.ipc,
        }
    )
    variables.update(extra)
    return variables


def files_under(path):
    found = []
    for base, _dirs, names in os.walk(path):
        found.extend(os.path.relpath(os.path.join(base, name), path) for name in names)
    return sorted(found)


def unit(path):
    """``{key: [values]}`` of a unit file (comments skipped)."""
    values = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")):
                key, _sep, value = line.partition("=")
                values.setdefault(key, []).append(value)
    return values


def run_unit_command(emulator, service, key, extra_env=None):
    """Run ``key`` (ExecStart/ExecStartPost) of a unit file as systemd would: argv split, with the
    unit's Environment= lines."""
    env = emulator.env(with_ipc=False)
    for item in service.get("Environment", []):
        name, _sep, value = item.partition("=")
        env[name] = value
    env.update(extra_env or {})
    (command,) = service[key]
    return subprocess.run(shlex.split(command), env=env, capture_output=True, text=True, timeout=120, check=False)


def writes(emulator):
    return [entry for entry in emulator.log("_ansible") if is_write(entry)]


def test_seed001_conf_units_and_state_survive_a_restart(emulator, ansible, tmp_path):
    root = str(tmp_path / "root")
    variables = role_vars(emulator, tmp_path)

    # check mode on a clean host: nothing written, nothing sent to DPVS
    check = ansible.play("dpvs_role.yml", extra_vars=variables, check=True)
    assert check.rc == 0, check.explain()
    assert files_under(root) == []
    assert writes(emulator) == []
    assert emulator.services() == {}

    first = ansible.play("dpvs_role.yml", extra_vars=variables)
    assert first.rc == 0, first.explain()
    assert first.stats["changed"] >= 8, first.stats
    conf_path = os.path.join(root, "etc", "dpvs.conf")
    with open(conf_path) as handle, open(GOLDEN_CONF) as golden:
        conf = handle.read()
        # the role renders exactly what the unit-tier golden pins (same template, real Ansible)
        assert conf == golden.read()
    _dpvs_conf.validate(conf, strict=True, version=(1, 10, 2))
    restart = first["dpvs.cluster.dpvs : Service | what needs a restart"]["ansible_facts"]
    assert restart["dpvs_restart_required"] is False  # a new file: nothing was running with an old one
    assert_seed_state(emulator)
    converged = emulator.snapshot()

    systemd = os.path.join(root, "etc", "systemd", "system")
    dpvs_unit = unit(os.path.join(systemd, "dpvs.service"))
    state_unit = unit(os.path.join(systemd, "dpvs-state.service"))
    with open(GOLDEN_LAYOUT) as handle:
        eal = json.load(handle)["eal_args"]
    assert dpvs_unit["Type"] == ["simple"]
    assert dpvs_unit["ExecStart"] == [
        "{}/dpvs -c {} -p {}/var/run/dpvs.pid -x {} -- {}".format(
            EMULATOR_BIN, conf_path, root, emulator.ipc, " ".join(eal)
        )
    ]
    assert "dpvs-cluster.pyz wait" in dpvs_unit["ExecStartPost"][0]
    assert dpvs_unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert state_unit["After"] == ["dpvs.service"] and state_unit["Requires"] == ["dpvs.service"]
    assert state_unit["PartOf"] == ["dpvs.service"] and state_unit["Type"] == ["oneshot"]
    state_dir = os.path.join(root, "etc", "dpvs", "state")
    assert sorted(os.listdir(state_dir)) == ["addresses.json", "ipvsadm.rules", "routes.json", "services.json"]
    with open(os.path.join(state_dir, "ipvsadm.rules")) as handle:
        assert handle.read().splitlines() == [
            "-A -t 10.0.96.204:80 -s rr",
            "-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1",
            "--add-laddr -z 192.168.229.204 -t 10.0.96.204:80 -F dpdk0",
        ]

    emulator.clear_logs()
    second = ansible.play("dpvs_role.yml", extra_vars=variables)
    assert second.rc == 0, second.explain()
    assert second.stats["changed"] == 0, [n for n in second.order if second[n].get("changed")]
    assert writes(emulator) == []

    # DPVS restarts: everything is gone ...
    emulator.stop()
    started = run_unit_command(emulator, dpvs_unit, "ExecStart", {"DPVS_EMULATOR_PORTS": PORTS_SEED001})
    assert started.returncode == 0, started.stderr
    ready = run_unit_command(emulator, dpvs_unit, "ExecStartPost")
    assert ready.returncode == 0, ready.stderr
    assert emulator.services() == {}
    assert not [key for key, value in emulator.addrs().items() if value["family"] == "inet"]
    # ... until dpvs-state.service replays it
    replay = run_unit_command(emulator, state_unit, "ExecStart")
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert emulator.snapshot() == converged
    assert_seed_state(emulator)

    emulator.clear_logs()
    third = ansible.play("dpvs_role.yml", extra_vars=variables)
    assert third.rc == 0, third.explain()
    assert third.stats["changed"] == 0, [n for n in third.order if third[n].get("changed")]
    assert writes(emulator) == []


def test_init_change_requires_a_restart_and_a_normal_change_a_reload(emulator, ansible, tmp_path):
    variables = role_vars(emulator, tmp_path)
    tags = ["--tags", "dpvs"]  # only the dpvs role
    first = ansible.play("dpvs_role.yml", extra_vars=variables, args=tags)
    assert first.rc == 0, first.explain()

    normal = role_vars(emulator, tmp_path)
    normal["dpvs_conf"] = {**normal["dpvs_conf"], "neigh_defs": {"timeout": 60}}
    second = ansible.play("dpvs_role.yml", extra_vars=normal, args=tags)
    assert second.rc == 0, second.explain()
    change = second["dpvs.cluster.dpvs : Config | classify the change (<init> needs a restart, <normal> a reload)"]
    assert change["ansible_facts"]["dpvs_conf_change"] == {
        "init": [],
        "normal": ["neigh_defs/timeout: 90 -> 60"],
        "new": False,
    }
    assert second["dpvs.cluster.dpvs : Config | dpvs.conf"]["changed"] is True
    facts = second["dpvs.cluster.dpvs : Service | what needs a restart"]["ansible_facts"]
    assert facts["dpvs_restart_required"] is False

    init = role_vars(emulator, tmp_path)
    init["dpvs_conf"] = {**normal["dpvs_conf"], "netif_defs": {"pktpool_size": 524287}}
    third = ansible.play("dpvs_role.yml", extra_vars=init, args=tags)
    assert third.rc == 0, third.explain()
    change = third["dpvs.cluster.dpvs : Config | classify the change (<init> needs a restart, <normal> a reload)"]
    assert change["ansible_facts"]["dpvs_conf_change"]["init"] == ["netif_defs/pktpool_size: 1048575 -> 524287"]
    facts = third["dpvs.cluster.dpvs : Service | what needs a restart"]["ansible_facts"]
    assert facts["dpvs_restart_required"] is True
    told = third["dpvs.cluster.dpvs : Service | a restart is needed and not allowed"]
    assert "netif_defs/pktpool_size" in told["msg"]


HUGEPAGES_TASK = "dpvs.cluster.dpvs : Preflight | hugepages per NUMA node cover the hugepage model"


def test_short_hugepages_stop_the_role_before_it_writes_anything(emulator, ansible, tmp_path):
    """Node 1 of seed 001 with 2000 free pages of 2 MB (4000 MiB of 57344 reserved): the preflight's
    hugepage model (per node, with the example's 1 LIP and 1 service and the 10% margin) needs more
    there, so the role fails naming the node, the need, the pages and the variables, and neither
    dpvs.conf, a unit nor DPVS is touched. Node 0 has enough and is not named."""
    host = copy.deepcopy(SEED["host"])
    host["numa_nodes"]["1"]["hugepages"]["2048kB"]["free"] = 2000
    dpvs_shapes.write_sysfs(str(tmp_path / "sys"), host)
    variables = role_vars(emulator, tmp_path)
    result = ansible.play("dpvs_role.yml", extra_vars=variables, args=["--tags", "dpvs"])
    assert result.rc != 0, result.explain()
    assert result[HUGEPAGES_TASK].get("failed") is True, result.explain()
    msg = result[HUGEPAGES_TASK]["msg"]

    built = dpvs_shapes.build(SEED)
    need = _memory.estimate_model(built["model"], built["layout"], lip_count=1, service_count=1, margin=0.1)
    (node1,) = [row for row in _memory.compare(need, host) if row["node"] == 1]
    assert node1["fits_free"] is False and node1["fits_reserved"] is True
    assert f"NUMA node 1: DPVS needs {node1['need_mib']} MiB of hugepages" in msg, msg
    assert f"({node1['need_pages_2m']} pages of 2 MB" in msg, msg
    assert "1 LIP(s) and 1 service(s)" in msg and "connection pool: 2097151 x dp_vs_conn" in msg, msg
    assert "plus dpvs_hugepages_margin 10%" in msg, msg
    assert "4000 MiB free of 57344 MiB reserved (DPVS is not running: the free pages count)" in msg, msg
    pages = node1["need_pages_2m"] + (57344 - 4000) // 2  # what the node must reserve: the used ones too
    assert f"reserve at least {pages} pages of 2 MB there" in msg, msg
    assert f"hugepages_pages of the dpvs.cluster.hugepages role: {{size: 2M, node: 1, count: {pages}}}" in msg, msg
    assert "dpvs_hugepages_check=false skips this check" in msg, msg
    assert "NUMA node 0" not in msg, msg
    assert files_under(str(tmp_path / "root")) == []
    assert writes(emulator) == []
