"""Bad inputs of the dpvs_services and dpvs_network roles against the emulator (docs/safety.md).

One playbook (ansible-playbook start-up costs seconds): each case is a block that includes the
role with the case's variables (a real run, not check mode), logs its dpip/ipvsadm calls to its
own file and rescues the failure, recording its message. The test asserts that every case failed
with a message naming the role variable (and the path into it), that no case wrote anything to
DPVS, that no replay file was written, and that the live state is still the empty one.
"""

import json
import os

import pytest
import yaml
from emutier import Ansible, Emulator, is_write

pytestmark = pytest.mark.parallel_safe

SVC = {"protocol": "tcp", "vip": "10.0.96.204", "port": 80, "scheduler": "rr",
       "real_servers": [{"ip": "192.168.229.1", "port": 80, "forward": "fullnat"}],
       "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}]}  # fmt: skip
RS = SVC["real_servers"][0]
LADDR = SVC["laddrs"][0]
ADDR = {"address": "10.0.96.204/32", "dev": "dpdk2"}
ROUTE = {"prefix": "10.0.96.0/24", "dev": "dpdk2"}


def svc(**changes):
    return dict(SVC, **changes)


def services(*items):
    return {"dpvs_services_services": list(items)}


def network(addresses=(ADDR,), routes=(ROUTE,), **extra):
    return dict({"dpvs_network_addresses": list(addresses), "dpvs_network_routes": list(routes)}, **extra)


# (id, role, variables, strings the failure message must contain)
CASES = [
    ("svc_unknown_key", "dpvs_services", services(svc(prot="tcp")),
     ["dpvs_services_services[0].prot: unknown key", "did you mean port?"]),
    ("rs_unknown_key", "dpvs_services", services(svc(real_servers=[dict(RS, wieght=2)])),
     ["dpvs_services_services[0].real_servers[0].wieght", "did you mean weight?"]),
    ("laddr_unknown_key", "dpvs_services", services(svc(laddrs=[dict(LADDR, device="dpdk0")])),
     ["dpvs_services_services[0].laddrs[0].device: unknown key"]),
    ("rs_without_ip", "dpvs_services", services(svc(real_servers=[{"port": 80}])),
     ["dpvs_services_services[0].real_servers[0].ip: required key is missing"]),
    ("rs_without_port", "dpvs_services", services(svc(real_servers=[{"ip": "192.168.229.1", "forward": "fullnat"}])),
     ["dpvs_services_services[0].real_servers[0].port"]),
    ("svc_bad_vip", "dpvs_services", services(svc(vip="10.0.96.2044")), ["dpvs_services_services[0].vip", "2044"]),
    ("svc_without_vip", "dpvs_services", services({"port": 80, "scheduler": "rr"}), ["dpvs_services_services[0]"]),
    ("svc_port_0", "dpvs_services", services(svc(port=0)), ["dpvs_services_services[0].port"]),
    ("svc_port_word", "dpvs_services", services(svc(port="http")), ["dpvs_services_services", "port"]),
    ("svc_bad_scheduler", "dpvs_services", services(svc(scheduler="nosuch")),
     ["dpvs_services_services[0].scheduler", "nosuch"]),
    ("svc_bad_protocol", "dpvs_services", services(svc(protocol="icmp")), ["dpvs_services_services", "icmp"]),
    ("rs_weight_65536", "dpvs_services", services(svc(real_servers=[dict(RS, weight=65536)])),
     ["dpvs_services_services[0].real_servers[0].weight"]),
    ("rs_bad_forward", "dpvs_services", services(svc(real_servers=[dict(RS, forward="nat")])),
     ["dpvs_services_services", "nat"]),
    ("svc_duplicate", "dpvs_services", services(svc(), svc(scheduler="wrr")), ["dpvs_services_services[1]"]),
    ("rs_duplicate", "dpvs_services", services(svc(real_servers=[RS, dict(RS, weight=3)])),
     ["dpvs_services_services[0].real_servers[1]"]),
    ("laddr_bad_ip", "dpvs_services", services(svc(laddrs=[dict(LADDR, ip="192.168.229.2o4")])),
     ["dpvs_services_services[0].laddrs[0].ip"]),
    ("laddr_without_dev", "dpvs_services", services(svc(laddrs=[{"ip": "192.168.229.204"}])),
     ["dpvs_services_services[0].laddrs[0].dev: required key is missing"]),
    ("vip_is_also_a_laddr", "dpvs_services", services(svc(laddrs=[dict(LADDR, ip="10.0.96.204")])),
     ["dpvs_services_services", "10.0.96.204"]),
    ("services_not_a_list", "dpvs_services", {"dpvs_services_services": "web"}, ["dpvs_services_services"]),
    ("kernel_with_laddrs", "dpvs_services",
     dict(services(svc(real_servers=[dict(RS, forward="masq")])), dpvs_services_flavor="kernel"),
     ["dpvs_services_services[0].laddrs"]),
    ("kernel_with_synproxy", "dpvs_services",
     dict(services(svc(laddrs=None, real_servers=[dict(RS, forward="masq")], synproxy=True)),
          dpvs_services_flavor="kernel"),
     ["dpvs_services_services[0].synproxy"]),
    ("hash_target_without_conhash", "dpvs_services", services(svc(hash_target="sip")),
     ["dpvs_services_services[0].hash_target"]),
    ("bad_flavor", "dpvs_services", dict(services(svc()), dpvs_services_flavor="linux"),
     ["dpvs_services_flavor", "linux"]),
    ("drain_timeout_word", "dpvs_services", dict(services(svc()), dpvs_services_drain_timeout="soon"),
     ["dpvs_services_drain_timeout"]),
    ("purge_max_negative", "dpvs_services", dict(services(svc()), dpvs_services_purge=True, dpvs_services_purge_max=-1),
     ["dpvs_services_purge_max: must be 0.."]),
    ("addr_unknown_key", "dpvs_network", network([{"adress": "10.0.96.204/32", "dev": "dpdk2"}]),
     ["dpvs_network_addresses[0].adress: unknown key", "did you mean address?"]),
    ("addr_bad_address", "dpvs_network", network([dict(ADDR, address="10.0.96.300/32")]),
     ["dpvs_network_addresses[0].address", "10.0.96.300"]),
    ("addr_prefix_33", "dpvs_network", network([dict(ADDR, address="10.0.96.204/33")]),
     ["dpvs_network_addresses[0].address"]),
    ("addr_without_dev", "dpvs_network", network([{"address": "10.0.96.204/32"}]),
     ["dpvs_network_addresses[0].dev: required key is missing"]),
    ("addr_bad_device_name", "dpvs_network", network([dict(ADDR, dev="dpdk 2!")]), ["dpvs_network_addresses[0].dev"]),
    ("addr_twice", "dpvs_network", network([ADDR, dict(ADDR, address="10.0.96.204")]), ["dpvs_network_addresses"]),
    ("addr_bad_scope", "dpvs_network", network([dict(ADDR, scope="world")]), ["dpvs_network_addresses", "world"]),
    ("route_without_prefix_length", "dpvs_network", network(routes=[dict(ROUTE, prefix="192.168.229.0")]),
     ["dpvs_network_routes[0].prefix: a prefix length is required", "192.168.229.0/32"]),
    ("route_host_bits", "dpvs_network", network(routes=[dict(ROUTE, prefix="10.0.96.1/24")]),
     ["dpvs_network_routes[0].prefix", "did you mean 10.0.96.0/24?"]),
    ("route_bad_via", "dpvs_network", network(routes=[dict(ROUTE, prefix="10.0.0.0/8", via="10.0.96.999")]),
     ["dpvs_network_routes[0].via", "10.0.96.999"]),
    ("route_unknown_key", "dpvs_network", network(routes=[dict(ROUTE, gateway="10.0.96.254")]),
     ["dpvs_network_routes[0].gateway: unknown key"]),
    ("route_src_not_local", "dpvs_network", network(routes=[dict(ROUTE, src="10.0.96.99")]),
     ["dpvs_network_routes[0].src is 10.0.96.99"]),
    ("route_mtu_10", "dpvs_network", network(routes=[dict(ROUTE, mtu=10)]), ["dpvs_network_routes[0].mtu"]),
    ("route_bad_scope", "dpvs_network", network(routes=[dict(ROUTE, scope="world")]),
     ["dpvs_network_routes", "world"]),
    ("route_default_without_family", "dpvs_network", network(routes=[{"prefix": "default", "dev": "dpdk2"}]),
     ["dpvs_network_routes[0]"]),
    ("bad_route_beside_a_new_address", "dpvs_network",
     network([dict(ADDR, address="10.0.96.205/32")], [ROUTE, dict(ROUTE, prefix="10.1.0.0/16", metric=-1)]),
     ["dpvs_network_routes[1].metric"]),
    ("purge_device_bad_name", "dpvs_network", network(dpvs_network_purge=True, dpvs_network_purge_devices=["dpdk 9!"]),
     ["dpvs_network_purge_devices[0]"]),
]  # fmt: skip

FAILED_MSG = "ansible_failed_result.msg | default('')"


def case_tasks(case_id, role, variables, log_dir):
    return {
        "name": f"Case {case_id}",
        "environment": {"DPVS_EMULATOR_LOG": os.path.join(log_dir, f"{case_id}.jsonl")},
        "block": [
            {"name": f"Role {role}", "ansible.builtin.include_role": {"name": f"dpvs.cluster.{role}"},
             "vars": variables},
            {"name": "It passed",
             "ansible.builtin.set_fact": {"messages": f"{{{{ messages | combine({{'{case_id}': 'PASSED'}}) }}}}"}},
        ],
        "rescue": [
            {"name": "Record the message",
             "ansible.builtin.set_fact": {"messages": f"{{{{ messages | combine({{'{case_id}': {FAILED_MSG} }}) }}}}"}},
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("role_bad_inputs")
    emulator = Emulator(tmp)
    emulator.start()
    try:
        out = tmp / "messages.json"
        state = tmp / "state"
        tasks = [{"name": "No message yet", "ansible.builtin.set_fact": {"messages": {}}}]
        tasks += [case_tasks(case[0], case[1], case[2], emulator.log_dir) for case in CASES]
        write = {"content": "{{ messages | to_json }}", "dest": str(out), "mode": "0644"}
        tasks.append({"name": "Write the messages", "ansible.builtin.copy": write})
        playbook = tmp / "cases.yml"
        play = {"name": "Bad role inputs", "hosts": "localhost", "gather_facts": False, "tasks": tasks}
        playbook.write_text(yaml.safe_dump([play], sort_keys=False))
        common = {
            "dpvs_network_ipc_file": emulator.ipc,
            "dpvs_services_ipc_file": emulator.ipc,
            "dpvs_network_state_dir": str(state),
            "dpvs_services_state_dir": str(state),
        }
        run = Ansible(emulator, tmp).play(str(playbook), extra_vars=common)
        assert out.exists(), run.explain()
        return json.loads(out.read_text()), emulator, state, emulator.snapshot()
    finally:
        emulator.ctl("stop", check=False)


def test_there_are_enough_cases():
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("case_id", "role", "variables", "expected"), CASES, ids=[case[0] for case in CASES])
def test_bad_role_input_fails_before_any_change_naming_the_variable(results, case_id, role, variables, expected):
    messages, emulator, state, _snapshot = results
    message = messages[case_id]
    assert message != "PASSED", f"{case_id}: the role accepted {variables}"
    for text in expected:
        assert text in message, f"{case_id}: {text!r} not in {message!r}"
    assert "Traceback" not in message
    writes = [entry for entry in emulator.log(case_id) if is_write(entry)]
    assert writes == [], f"{case_id} wrote to DPVS: {writes}"
    assert not state.exists() or os.listdir(state) == [], "a replay file was written"


def test_the_live_state_is_still_empty(results):
    _messages, _emulator, _state, snapshot = results
    assert "10.0.96.20" not in json.dumps(snapshot) and "192.168.229" not in json.dumps(snapshot)
