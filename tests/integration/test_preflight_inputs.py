"""Bad inputs of the preflight and dpdk_kmods roles, in check mode on this machine.

One playbook (ansible-playbook start-up costs seconds): each case is a block that includes the role
with the case's variables and rescues the failure, recording its message; the test asserts that
every case failed with a message naming the variable and the value, and that nothing was written
(the NIC map path is under the test's tmp dir, and check mode is on anyway).
"""

import json
import os
import subprocess
import sys

import pytest
import yaml
from emutier import ansible_playbook_bin, collections_path

# the Python running the tests (the venv of `make setup`) runs the roles on localhost too
VENV_PYTHON = sys.executable


def default_route_nic():
    """The interface of this machine's IPv4 default route (what must never be bound)."""
    with open("/proc/net/route", encoding="utf-8") as handle:
        for line in handle.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000" and fields[7] == "00000000" and int(fields[3], 16) & 1:
                return fields[0]
    return None


def numa_node_count():
    base = "/sys/devices/system/node"
    return max(1, len([name for name in os.listdir(base) if name[4:].isdigit()])) if os.path.isdir(base) else 1


def mem_total_gib():
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // (1024 * 1024)
    return 0


ROUTE_NIC = default_route_nic()
MISSING_NODE = numa_node_count() + 3
TOO_MANY_2M = (mem_total_gib() + 1) * 512  # 2 MB pages: more than the whole memory

# (id, role, variables, strings the failure message must contain)
CASES = [
    (
        "pci_absent",
        "preflight",
        {"preflight_devices": [{"pci": "0000:7f:1f.7", "driver": "vfio-pci"}]},
        ["preflight_devices[0].pci", "0000:7f:1f.7", "not a PCI network function"],
    ),
    (
        "pci_malformed",
        "preflight",
        {"preflight_devices": [{"pci": "0000:11:00", "driver": "vfio-pci"}]},
        ["preflight_devices[0].pci", "0000:11:00", "not a PCI address"],
    ),
    (
        "bind_default_route_nic",
        "preflight",
        {"preflight_devices": [{"name": ROUTE_NIC, "driver": "uio_pci_generic"}]},
        ["management_nic", "preflight_devices[0].name", str(ROUTE_NIC), "default route"],
    ),
    (
        "hugepages_beyond_memory",
        "preflight",
        {"preflight_hugepages": [{"size": "2M", "node": 0, "count": TOO_MANY_2M}]},
        ["hugepages_memory", "preflight_hugepages[0]", "NUMA node 0"],
    ),
    (
        "one_gig_on_missing_node",
        "preflight",
        {"preflight_hugepages": [{"size": "1G", "node": MISSING_NODE, "count": 1}]},
        ["preflight_hugepages[0].node", f"no NUMA node {MISSING_NODE}"],
    ),
    (
        "bad_policy_word",
        "preflight",
        {"preflight_policy": {"hyperthreading": "sometimes"}},
        ["preflight_policy", "hyperthreading", "sometimes"],
    ),
    (
        "every_failure_at_once",
        "preflight",
        {
            "preflight_devices": [{"pci": "0000:7f:1f.7", "driver": "uio_pci_generic"}],
            "preflight_hugepages": [{"size": "2M", "node": MISSING_NODE, "count": 1}],
        },
        ["failed 2 check(s)", "[devices]", "[hugepages_memory]"],
    ),
    (
        "capacity_beyond_the_host",
        "preflight",
        {"preflight_capacity_target": {"pps": 30000000}, "preflight_capacity_workers": 1},
        ["failed 1 check(s)", "[capacity]", "target 30.00 Mpps > capacity 2.90 Mpps = 1 worker x 2.90 Mpps"],
    ),
    (
        "capacity_media_proxy_on_a_kernel_forwarder",
        "preflight",
        {
            "preflight_capacity_path": "kernel",
            "preflight_capacity_workers": 16,
            "preflight_capacity_target": {"pps": 8000000, "packet_bytes": 800},
        },
        ["[capacity]", "pps: target 8.00 Mpps > capacity", "16 CPUs x 0.40 Mpps"],
    ),
    (
        "capacity_target_not_positive",
        "preflight",
        {"preflight_capacity_target": {"pps": -5}},
        ["preflight_capacity_target.pps", "-5", "must be a number > 0"],
    ),
    (
        "unknown_module",
        "dpdk_kmods",
        {"dpdk_kmods_modules": ["vfio-pci", "pf_ring"]},
        ["dpdk_kmods_modules", "pf_ring"],
    ),
    (
        "rte_kni_on_24_11",
        "dpdk_kmods",
        {"dpdk_kmods_modules": ["rte_kni"], "dpdk_kmods_dpdk_version": "24.11"},
        ["dpdk_kmods_modules", "rte_kni", "dpdk_kmods_dpdk_version 24.11", "23.11"],
    ),
    (
        "noiommu_without_vfio",
        "dpdk_kmods",
        {"dpdk_kmods_modules": ["uio_pci_generic"], "dpdk_kmods_vfio_noiommu": True},
        ["dpdk_kmods_vfio_noiommu", "uio_pci_generic"],
    ),
    (
        "bad_dpdk_version",
        "dpdk_kmods",
        {"dpdk_kmods_modules": ["uio_pci_generic"], "dpdk_kmods_dpdk_version": "latest"},
        ["dpdk_kmods_dpdk_version", "latest"],
    ),
]


FAILED_MSG = "ansible_failed_result.msg | default('')"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("preflight_inputs")
    out = tmp / "messages.json"
    nic_map = tmp / "etc" / "nics.json"
    tasks = [{"name": "No message yet", "ansible.builtin.set_fact": {"messages": {}}}]
    for case_id, role, variables, _expected in CASES:
        if role == "preflight":
            variables = dict(variables, preflight_nic_map_path=str(nic_map))
        tasks.append(
            {
                "name": f"Case {case_id}",
                "block": [
                    {
                        "name": f"Role {role}",
                        "ansible.builtin.include_role": {"name": f"dpvs.cluster.{role}"},
                        "vars": variables,
                    },
                    {
                        "name": "It passed",
                        "ansible.builtin.set_fact": {
                            "messages": f"{{{{ messages | combine({{'{case_id}': 'PASSED'}}) }}}}"
                        },
                    },
                ],
                "rescue": [
                    {
                        "name": "Record the message",
                        "ansible.builtin.set_fact": {
                            "messages": f"{{{{ messages | combine({{'{case_id}': {FAILED_MSG} }}) }}}}"
                        },
                    }
                ],
            }
        )
    tasks.append(
        {
            "name": "Write the messages",
            "ansible.builtin.copy": {"content": "{{ messages | to_json }}", "dest": str(out)},
            "check_mode": False,
        }
    )
    playbook = tmp / "cases.yml"
    playbook.write_text(
        yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False)
    )
    env = dict(
        os.environ,
        LANG="C.UTF-8",
        ANSIBLE_COLLECTIONS_PATH=collections_path(),
        ANSIBLE_NOCOLOR="1",
    )
    proc = subprocess.run(
        [
            ansible_playbook_bin(),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={VENV_PYTHON}",
            "--check",
            str(playbook),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not nic_map.exists(), "check mode wrote the NIC map"
    return json.loads(out.read_text())


@pytest.mark.parametrize("case_id, role, variables, expected", CASES, ids=[case[0] for case in CASES])
def test_bad_input_fails_naming_variable_and_value(results, case_id, role, variables, expected):
    if case_id == "bind_default_route_nic":
        assert ROUTE_NIC, "this machine has no IPv4 default route to test with"
    message = results[case_id]
    assert message != "PASSED", f"{case_id}: the role accepted {variables}"
    for text in expected:
        assert text in message, f"{case_id}: {text!r} not in {message!r}"
