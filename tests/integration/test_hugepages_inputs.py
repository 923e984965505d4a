"""The hugepages role refuses bad inputs before anything could change (check mode, localhost).

One ansible-playbook run, one inventory host per case (all local connections, each with its own
variables), so the cases cost one start-up. For every case: the run failed on that host, the
message names the variable (hugepages_pages[i].field, hugepages_mounts[i].path) and the bad
value, and only the argument validation and the preflight tasks ran there: nothing that writes
(the pools, the mounts, the boot unit, the GRUB drop-in) was reached. Check mode guarantees on top
that nothing is written on this machine.
"""

import json
import os
import subprocess
import sys

import pytest
from emutier import ansible_playbook_bin, collections_path

ARGSPEC_TASK = "Validating arguments against arg spec"
PREFLIGHT = "Preflight | "


def _cpu_has_1g():
    try:
        with open("/proc/cpuinfo") as handle:
            flags = handle.read()
    except OSError:
        return False
    return " pdpe1gb" in flags and os.path.isdir("/sys/kernel/mm/hugepages/hugepages-1048576kB")


# name: (variables, strings the message must contain)
CASES = {
    "node_missing": (
        {"hugepages_pages": [{"size": "2M", "node": 77, "count": 1}]},
        ["hugepages_pages[0].node", "77", "no such NUMA node"],
    ),
    "count_beyond_memory": (
        {"hugepages_pages": [{"size": "2M", "count": 100000000}]},
        ["hugepages_pages[0].count", "100000000", "MiB"],
    ),
    "bad_size": (
        {"hugepages_pages": [{"size": "3M", "node": 0, "count": 1}]},
        ["hugepages_pages", "3M", "2M, 1G"],
    ),
    "negative_count": (
        {"hugepages_pages": [{"size": "2M", "count": -4}]},
        ["hugepages_pages[0].count", "-4", ">= 0"],
    ),
    "duplicate": (
        {"hugepages_pages": [{"size": "2M", "count": 1}, {"size": "2M", "count": 2}]},
        ["hugepages_pages[1]", "'count': 2", "already given in hugepages_pages[0]"],
    ),
    "mount_relative": (
        {"hugepages_pages": [], "hugepages_mounts": [{"path": "mnt/huge", "pagesize": "2M"}]},
        ["hugepages_mounts[0].path", '"mnt/huge"', "absolute"],
    ),
    "default_size": (
        {"hugepages_pages": [], "hugepages_default_size": "4M"},
        ["hugepages_default_size", '"4M"'],
    ),
}
if _cpu_has_1g():
    # the CPU offers 1G pages here: ask for more than the memory holds
    CASES["size_1g"] = (
        {"hugepages_pages": [{"size": "1G", "count": 100000}]},
        ["hugepages_pages[0].count", "100000", "1G"],
    )
else:
    CASES["size_1g"] = (
        {"hugepages_pages": [{"size": "1G", "count": 1}]},
        ["hugepages_pages[0].size", "1G"],
    )

if _cpu_has_1g() and not os.path.exists("/etc/default/grub"):
    # 1G pages go on the kernel command line: without GRUB the role says so before writing
    CASES["cmdline_without_grub"] = (
        {"hugepages_pages": [{"size": "1G", "count": 1}]},
        ["hugepages_pages asks for a kernel command line", "hugepagesz=1G hugepages=1", "/etc/default/grub"],
    )

PLAYBOOK = """\
- name: Hugepages role, bad inputs
  hosts: all
  gather_facts: false
  roles:
    - role: dpvs.cluster.hugepages
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hugepages-inputs")
    hosts = {}
    for name, (variables, _expected) in CASES.items():
        host = dict(variables)
        host.update({"ansible_connection": "local", "ansible_python_interpreter": sys.executable})
        hosts[name] = host
    inventory = workdir / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    playbook = workdir / "hugepages.yml"
    playbook.write_text(PLAYBOOK)
    config = workdir / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": collections_path(),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_PIPELINING": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
            "ANSIBLE_HOME": str(workdir / "ansible-home"),
            "ANSIBLE_CONFIG": str(config),
            "ANSIBLE_FORKS": "2",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
    )
    argv = [ansible_playbook_bin(), "-i", str(inventory), str(playbook), "--check", "--diff"]
    proc = subprocess.run(argv, env=env, cwd=str(workdir), capture_output=True, text=True, timeout=600, check=False)
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        pytest.fail(
            f"no JSON from ansible-playbook (rc={proc.returncode}): {proc.stdout[-3000:]} {proc.stderr[-3000:]}"
        )
    # per host: the tasks that ran there (not skipped), in order, with their results
    ran = {name: [] for name in CASES}
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if not result.get("skipped"):
                    # "dpvs.cluster.hugepages : Preflight | ..." -> "Preflight | ..."
                    ran[host].append((task["task"]["name"].split(" : ", 1)[-1], result))
    return proc, data, ran


def test_every_case_failed(run):
    proc, data, _ran = run
    assert proc.returncode != 0
    for name in CASES:
        assert data["stats"][name]["failures"] == 1, (name, data["stats"][name])
        assert data["stats"][name]["changed"] == 0, (name, data["stats"][name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_message_names_the_variable_and_value_and_nothing_ran_past_preflight(run, name):
    _proc, _data, ran = run
    tasks = ran[name]
    failed = [(task, result) for task, result in tasks if result.get("failed")]
    assert len(failed) == 1, (name, [task for task, _result in tasks])
    task, result = failed[0]
    message = result.get("msg", "")
    if isinstance(message, list):
        message = " ".join(message)
    for expected in CASES[name][1]:
        assert expected in message, (name, expected, message)
    # only validation ran: argument spec and preflight tasks, nothing that could write
    for task_name, _result in tasks:
        assert task_name.startswith(ARGSPEC_TASK) or task_name.startswith(PREFLIGHT), (name, task_name)
    assert task.startswith(ARGSPEC_TASK) or task.startswith(PREFLIGHT)
    assert not any(result.get("changed") for _task, result in tasks), name
