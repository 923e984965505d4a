"""playbooks/verify.yml on the seed's cluster: it passes on a converged node, names every
difference (a missing address, a missing real server, a replay file edited by hand) in one run
without writing anything, and says so when DPVS does not answer."""

import json
import os

import pytest
from test_emu_safety import messages, state_files

pytestmark = pytest.mark.parallel_safe

VERIFY = "dpvs_verify.yml"


NETWORK = "dpvs.cluster.dpvs_network : Verify | the live addresses, routes and replay files are the inventory's"
SERVICES = (
    "dpvs.cluster.dpvs_services : Verify | the live services, real servers, local addresses and replay file are "
    "the inventory's"
)


def test_verify(emulator, ansible, converged):
    """One converge (the slow part), then: verify passes; drift is named; DPVS down is named."""
    passes(emulator, ansible, converged)
    names_every_difference_and_writes_nothing(emulator, ansible, converged)
    says_dpvs_does_not_answer(emulator, ansible, converged)


def passes(emulator, ansible, variables):
    emulator.clear_logs()
    run = ansible.play(VERIFY, extra_vars=variables)
    assert run.rc == 0, run.explain()
    assert run["Verify | nothing differs on this DPVS node"]["msg"] == "localhost: nothing differs from the inventory"
    assert run[NETWORK]["msg"] == "localhost: 1 address(es) and 3 route(s) as declared, replay files agree"
    assert run[SERVICES]["msg"] == "localhost: 1 service(s) as declared, replay file agrees"
    assert [name for name, result in run.tasks.items() if result.get("changed")] == ["Into group dpvs"]
    assert emulator.writes("_ansible") == []


def names_every_difference_and_writes_nothing(emulator, ansible, variables):
    emulator.dpip("addr", "del", "10.0.96.204/32", "dev", "dpdk2")
    emulator.ipvsadm("-d", "-t", "10.0.96.204:80", "-r", "192.168.229.1:80")
    routes = os.path.join(variables["dpvs_root"], "etc", "dpvs", "state", "routes.json")
    with open(routes) as handle:
        document = json.load(handle)
    document["entries"] = document["entries"][:-1]
    with open(routes, "w") as handle:
        json.dump(document, handle)
    before, files = emulator.snapshot(), state_files(variables["dpvs_root"])
    emulator.clear_logs()

    run = ansible.play(VERIFY, extra_vars=variables)

    assert run.rc != 0, run.explain()
    final = run["Verify | nothing differs on this DPVS node"]["msg"]
    assert "dpvs_network_addresses needs: dpip addr add 10.0.96.204/32 dev dpdk2" in final
    assert f"{os.path.dirname(routes)}/routes.json disagrees with the inventory" in final
    assert "addresses.json" not in final
    assert "dpvs_services_services needs: ipvsadm -a -t 10.0.96.204:80 -r 192.168.229.1:80" in final
    assert emulator.snapshot() == before
    assert state_files(variables["dpvs_root"]) == files
    assert emulator.writes("_ansible") == []


def says_dpvs_does_not_answer(emulator, ansible, variables):
    emulator.stop()
    run = ansible.play(VERIFY, extra_vars=variables)
    assert run.rc != 0
    assert "localhost: DPVS does not answer" in " ".join(messages(run))
