"""The preflight ``capacity`` check (module_utils/host/capacity.py through preflight.evaluate): the
declared load against forwarding units x the figure per unit and the NICs' line rate, on the lab's
lb1 facts with the CPU count and link speeds set per case (the captures' virtio NICs report none).
"""

import copy
import os
import sys

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.dpvs.cluster.plugins.filter.preflight_report import preflight_report
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.host.capacity import line_rate_pps
from ansible_collections.dpvs.cluster.plugins.module_utils.host.preflight import evaluate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_preflight import detail, lb1, status

DATA_NICS = [{"pci": "0000:11:00.0", "driver": "vfio-pci"}, {"name": "enp33s0", "driver": "vfio-pci"}]


def host(cpus=16, speeds=None):
    """lb1's facts with ``cpus`` online CPUs and link speeds by NIC name (None: unknown)."""
    facts = lb1()
    facts["cpu"]["count"] = cpus
    for nic in facts["nics"]:
        nic["speed_mbps"] = (speeds or {}).get(nic["name"])
    return facts


def capacity_report(facts, capacity, devices=None, policy=None):
    requests = {"devices": DATA_NICS[:1] if devices is None else devices, "capacity": capacity}
    report = evaluate(facts, requests, policy)
    return status(report)["capacity"], detail(report, "capacity")


def test_line_rate_is_14_88_mpps_per_10g_at_64_bytes_and_scales():
    assert round(line_rate_pps(10000, 64) / 1e6, 2) == 14.88
    assert round(line_rate_pps(25000, 64) / 1e6, 2) == 37.2
    assert round(line_rate_pps(10000, 800) / 1e6, 3) == 1.524  # 820 bytes on the wire
    assert round(line_rate_pps(100000, 1518) / 1e6, 2) == 8.13


def test_no_target_passes_and_says_so():
    for capacity in (None, {}, {"target": None}, {"target": {}}):
        state, text = capacity_report(host(), capacity)
        assert (state, text) == ("pass", "no target declared (preflight_capacity_target)")


def test_worker_bound_fails_with_the_arithmetic():
    facts = host(speeds={"enp17s0": 10000})
    state, text = capacity_report(facts, {"target": {"pps": 8e6}, "workers": 2})
    assert state == "fail"
    assert text == (
        "pps: target 8.00 Mpps > capacity 5.80 Mpps = 2 workers x 2.90 Mpps"
        " (limit: workers; NIC 10 Gbit/s at 64 B = 14.88 Mpps)"
    )
    # the same target on 4 workers passes, the note keeps the arithmetic
    state, text = capacity_report(facts, {"target": {"pps": 8e6}, "workers": 4})
    assert state == "pass"
    assert text.startswith("pps: target 8.00 Mpps <= capacity 11.60 Mpps = 4 workers x 2.90 Mpps (limit: workers;")


def test_nic_bound_fails_when_the_link_is_the_limit():
    facts = host(speeds={"enp17s0": 10000, "enp33s0": 10000})
    state, text = capacity_report(facts, {"target": {"pps": 16e6}, "workers": 8})
    assert state == "fail"
    assert text == (
        "pps: target 16.00 Mpps > capacity 14.88 Mpps = NIC 10 Gbit/s at 64 B = 14.88 Mpps"
        " (limit: NIC; 8 workers x 2.90 Mpps = 23.20 Mpps)"
    )
    # two ports receive: their line rates add up
    state, text = capacity_report(facts, {"target": {"pps": 16e6}, "workers": 8}, devices=DATA_NICS)
    assert state == "pass" and "capacity 23.20 Mpps" in text and "NIC 20 Gbit/s at 64 B = 29.76 Mpps" in text
    # bigger frames: fewer per second on the same link
    state, text = capacity_report(facts, {"target": {"pps": 2e6, "packet_bytes": 1518}, "workers": 8})
    assert state == "fail" and "capacity 0.81 Mpps = NIC 10 Gbit/s at 1518 B" in text


def test_new_connections_are_workers_times_the_figure():
    state, text = capacity_report(host(), {"target": {"new_conns_per_s": 500000}, "workers": 2})
    assert state == "fail"
    assert text == "new connections: target 500,000/s > capacity 400,000/s = 2 workers x 200,000/s"
    state, text = capacity_report(
        host(), {"target": {"new_conns_per_s": 500000}, "workers": 2, "dpvs_conns_per_worker": 300000}
    )
    assert state == "pass" and "capacity 600,000/s = 2 workers x 300,000/s" in text


def test_both_targets_are_judged_and_both_problems_shown():
    facts = host(speeds={"enp17s0": 10000})
    capacity = {"target": {"pps": 8e6, "new_conns_per_s": 500000}, "workers": 2}
    state, text = capacity_report(facts, capacity)
    assert state == "fail" and "pps: target 8.00 Mpps >" in text and "new connections: target 500,000/s >" in text


def test_unknown_link_speed_counts_the_workers_only_and_says_why():
    state, text = capacity_report(host(), {"target": {"pps": 1e6}, "workers": 1})
    assert state == "pass"
    assert "NIC bound not counted: link speed of enp17s0 unknown" in text
    assert "preflight_capacity_nic_speed_mbps" in text
    # the given speed replaces the facts
    state, text = capacity_report(host(), {"target": {"pps": 2e6}, "workers": 1, "nic_speed_mbps": 1000})
    assert state == "fail" and "NIC 1 Gbit/s at 64 B = 1.49 Mpps" in text


def test_auto_workers_is_an_upper_bound_and_is_said_to_be():
    state, text = capacity_report(host(cpus=4), {"target": {"pps": 9e6}})
    assert state == "fail"
    assert "3 workers x 2.90 Mpps" in text and "workers auto: at most 3" in text
    state, text = capacity_report(host(cpus=64), {"target": {"pps": 9e6}, "workers": "auto"})
    assert state == "pass" and "8 workers x 2.90 Mpps" in text and "the dpvs layout may place fewer" in text


def test_a_small_target_reads_in_packets_not_0_00_mpps():
    state, text = capacity_report(host(), {"target": {"pps": 500}, "workers": 1})
    assert state == "pass" and text.startswith("pps: target 500 pps <= capacity 2.90 Mpps = 1 worker x 2.90 Mpps")


def test_the_policy_applies_to_capacity():
    capacity = {"target": {"pps": 8e6}, "workers": 2}
    assert capacity_report(host(), capacity, policy={"capacity": "warn"})[0] == "warn"
    assert capacity_report(host(), capacity, policy={"capacity": "ignore"})[0] == "ignored"


# The kernel forwarding host of the UDP media proxy example: 50,000 streams of 1 Mbit/s in
# 800-byte datagrams = 50000 * 1e6 / 8 / 800 = 7.8 Mpps received (the inventory declares 8 Mpps), on
# a 16-vCPU cloud VM whose virtio NIC reports no speed.
SEED_TARGET = {"pps": 50000 * 1000000 / 8 / 800, "packet_bytes": 800}


def test_the_media_proxy_target_fires_on_a_16_cpu_kernel_forwarder():
    facts = host(cpus=16)
    capacity = {"path": "kernel", "target": SEED_TARGET}
    report = evaluate(facts, {"capacity": capacity})
    assert report["failed"] == ["capacity"]
    assert detail(report, "capacity").startswith(
        "pps: target 7.81 Mpps > capacity 6.40 Mpps = 16 CPUs x 0.40 Mpps (limit: CPUs; NIC bound not counted:"
    )
    # the management NIC (default route) is the kernel's receiving NIC: at 10 Gbit/s it is the limit
    facts = host(cpus=16, speeds={"enp0s3": 10000})
    text = detail(evaluate(facts, {"capacity": capacity}), "capacity")
    assert text == (
        "pps: target 7.81 Mpps > capacity 1.52 Mpps = NIC 10 Gbit/s at 800 B = 1.52 Mpps"
        " (limit: NIC; 16 CPUs x 0.40 Mpps = 6.40 Mpps); 16 CPUs: every online CPU forwards"
    )


def test_kernel_path_does_not_judge_dpdk_checks():
    facts = host(cpus=16)
    facts["cpu"]["dpdk_missing_flags"] = ["sse4_2"]
    facts["cpu"]["hyperthreading"] = True
    dpvs = status(evaluate(facts, {}))
    kernel = evaluate(facts, {"capacity": {"path": "kernel"}})
    assert dpvs["cpu_flags"] == "fail" and dpvs["hyperthreading"] == "warn"
    assert status(kernel)["cpu_flags"] == "pass" and status(kernel)["hyperthreading"] == "pass"
    assert detail(kernel, "cpu_flags").startswith("not judged: a kernel forwarding host")


def test_kernel_connections_without_a_figure_are_not_judged():
    capacity = {"path": "kernel", "target": {"new_conns_per_s": 1e6}}
    state, text = capacity_report(host(), capacity)
    assert state == "pass" and "no figure per unit (preflight_capacity_kernel_conns_per_cpu): not judged" in text
    state, text = capacity_report(host(cpus=4), dict(capacity, kernel_conns_per_cpu=50000))
    assert state == "fail" and text.startswith("new connections: target 1,000,000/s > capacity 200,000/s = 4 CPUs x")


@pytest.mark.parametrize(
    "capacity, message",
    [
        ({"target": {"pps": -1}}, r"preflight_capacity_target\.pps: must be a number > 0 \(got -1\)"),
        ({"target": {"pps": "lots"}}, r"preflight_capacity_target\.pps: must be a number > 0 \(got 'lots'\)"),
        ({"target": {"pps": "nan"}}, r"preflight_capacity_target\.pps: must be a number > 0 \(got 'nan'\)"),
        ({"target": {"pps": "inf"}}, r"preflight_capacity_target\.pps: must be a number > 0 \(got 'inf'\)"),
        ({"target": {"pps": True}}, r"preflight_capacity_target\.pps: must be a number > 0 \(got True\)"),
        ({"target": {"new_conns_per_s": 0}}, r"preflight_capacity_target\.new_conns_per_s: must be a number > 0"),
        ({"target": {"pps": 1, "packet_bytes": 40}}, r"preflight_capacity_target\.packet_bytes: an Ethernet frame"),
        ({"target": {"pps": 1, "packet_bytes": 64.5}}, r"preflight_capacity_target\.packet_bytes: must be a whole"),
        ({"target": {"ppps": 1}}, r"preflight_capacity_target\.ppps: unknown key \(known: pps, new_conns_per_s"),
        ({"target": {"packet_bytes": 64}}, r"preflight_capacity_target: declare pps and/or new_conns_per_s"),
        ({"target": [8e6]}, r"preflight_capacity_target: must be a mapping"),
        ({"path": "xdp"}, r"preflight_capacity_path: must be dpvs or kernel \(got 'xdp'\)"),
        ({"workers": 0}, r"preflight_capacity_workers: must be a number > 0 \(got 0\)"),
        ({"workers": "many"}, r"preflight_capacity_workers: must be a number > 0 \(got 'many'\)"),
        ({"nic_speed_mbps": -10000}, r"preflight_capacity_nic_speed_mbps: must be a number > 0"),
        ({"dpvs_pps_per_worker": None}, r"preflight_capacity_dpvs_pps_per_worker: a number > 0 is required"),
        ({"kernel_pps_per_cpu": "0"}, r"preflight_capacity_kernel_pps_per_cpu: must be a number > 0 \(got '0'\)"),
    ],
)
def test_bad_inputs_name_the_variable_and_value(capacity, message):
    with pytest.raises(InputError, match=message):
        evaluate(host(), {"capacity": capacity})
    with pytest.raises(AnsibleFilterError, match=message):
        preflight_report(host(), {"capacity": capacity})


def test_numbers_from_templates_are_accepted():
    """Role defaults are templated: a worker count or a figure may arrive as text."""
    state, text = capacity_report(
        host(speeds={"enp17s0": 10000}), {"target": {"pps": "8000000"}, "workers": "2", "dpvs_pps_per_worker": "2.9e6"}
    )
    assert state == "fail" and "2 workers x 2.90 Mpps" in text


def test_capacity_request_is_not_changed():
    capacity = {"target": {"pps": 8e6}, "workers": 2}
    before = copy.deepcopy(capacity)
    evaluate(host(), {"capacity": capacity})
    assert capacity == before
