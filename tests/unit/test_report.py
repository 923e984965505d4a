"""The cluster report (plugins/module_utils/report): the model from hostvars (+ live facts), the page.

Golden pages (tests/unit/golden/report/<case>.html.golden: the expected bytes of the page, data
rather than source; inputs in <case>.yml): an HA pair read live
with drift, and a page whose every inventory value tries to inject markup. Regenerate after an
intended change with ``UPDATE_GOLDEN=1 pytest tests/unit/test_report.py`` and review the diff
(open a copy named .html in a browser).
"""

import html.parser
import os
import random
import re
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ansible_collections.dpvs.cluster.plugins.filter.dpvs_report import dpvs_report
from ansible_collections.dpvs.cluster.plugins.module_utils.report import model as M
from ansible_collections.dpvs.cluster.plugins.module_utils.report import render as R

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GOLDEN = os.path.join(HERE, "golden", "report")
CASES = sorted(name[: -len(".yml")] for name in os.listdir(GOLDEN) if name.endswith(".yml"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def case(name):
    with open(os.path.join(GOLDEN, f"{name}.yml")) as handle:
        return yaml.safe_load(handle)


def inventory(name):
    """An inventory's group_vars as the report playbook reads them (one host per group here)."""
    with open(os.path.join(REPO, "inventories", name, "group_vars", "dpvs.yml")) as handle:
        return yaml.safe_load(handle)


class Tags(html.parser.HTMLParser):
    """Every start tag of a page, to find elements the way a browser would parse them."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(text):
    parser = Tags()
    parser.feed(text)
    return parser.tags


@pytest.mark.parametrize("name", CASES)
def test_golden_page(name):
    spec = case(name)
    text = dpvs_report(spec["hosts"], live=spec["live"], title=f"case {name}")
    path = os.path.join(GOLDEN, f"{name}.html.golden")
    if UPDATE:
        with open(path, "w") as handle:
            handle.write(text)
    with open(path) as handle:
        assert text == handle.read()


def test_the_page_does_not_depend_on_the_order_of_hosts():
    spec = case("ha-pair-live")
    names = list(spec["hosts"])
    random.Random(7).shuffle(names)
    shuffled = {name: spec["hosts"][name] for name in reversed(names)}
    assert dpvs_report(shuffled, live=spec["live"]) == dpvs_report(spec["hosts"], live=spec["live"])


def test_every_inventory_value_is_escaped():
    spec = case("script-injection")
    text = dpvs_report(spec["hosts"], live=None)
    found = tags(text)
    assert [item[0] for item in found if item[0] in ("script", "img", "iframe", "object")] == []
    assert all(not key.startswith("on") for item in found for key in item[1])
    assert "&lt;script&gt;alert(&#x27;node&#x27;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    # the bad VIP and the bad VRRP name are reported, quoted and escaped
    assert "dpvs_services_services: services[0].vip" in text and "alert(&#x27;vip&#x27;)" in text
    assert "keepalived_vrrp_instances[0].name" in text
    # the node's group carries its escaped name as an attribute (what a test or a reader selects on)
    node = [attrs for tag, attrs in found if tag == "g" and attrs.get("class") == "node"]
    assert [attrs["data-node"] for attrs in node] == ["<script>alert('node')</script>"]


def test_the_page_fetches_nothing():
    text = dpvs_report(case("ha-pair-live")["hosts"])
    found = tags(text)
    assert [attrs.get("http-equiv") for tag, attrs in found if tag == "meta"] == [None, "Content-Security-Policy"]
    assert "default-src 'none'" in text
    fetching = [(tag, attrs) for tag, attrs in found if {"src", "href"} & set(attrs) or tag in ("link", "script")]
    assert fetching == []
    assert not re.search(r"url\(|@import|https?://(?!www\.w3\.org/2000/svg)", text)


def test_a_node_with_host_facts_shows_its_layout():
    variables = dict(inventory("emulator"), groups=["dpvs"])
    node = M.build({"lb": variables})["nodes"][0]
    assert [port["name"] for port in node["ports"]] == ["dpdk0", "dpdk1", "dpdk2", "dpdk3"]
    assert [port["numa_node"] for port in node["ports"]] == [0, 0, 1, 1]
    assert [n["node"] for n in node["numa"]] == [0, 1]
    assert node["numa"][0]["master"] == {"cpu_id": 0, "core": 0}
    assert node["numa"][1]["master"] is None
    workers = [w for n in node["numa"] for w in n["workers"]]
    assert [w["cpu_id"] for w in workers] == list(range(1, 9))
    # worker k polls rx queue k-1 of every port
    assert [w["rx_queues"] for w in workers] == [[k] for k in range(8)]
    assert node["layout_note"] is None


def test_without_host_facts_the_ports_keep_pci_order_and_the_workers_are_not_guessed():
    nics = [{"pci": "0000:82:00.0", "role": "wan"}, {"pci": "0000:04:00.0", "role": "lan", "numa_node": 0}]
    node = M.build({"lb": {"groups": ["dpvs"], "dpvs_nics": nics}})["nodes"][0]
    assert [(p["name"], p["pci"], p["role"], p["numa_node"]) for p in node["ports"]] == [
        ("dpdk0", "0000:04:00.0", "lan", 0),
        ("dpdk1", "0000:82:00.0", "wan", None),
    ]
    assert node["numa"] == []
    assert node["layout_note"] == M.NO_FACTS


def test_a_layout_dpvs_cannot_run_is_a_problem_of_the_node_not_an_error():
    variables = dict(inventory("emulator"), groups=["dpvs"], dpvs_workers=40)
    node = M.build({"lb": variables})["nodes"][0]
    assert node["numa"] == []
    assert node["problems"] and node["problems"][0].startswith("layout: dpvs_workers")


def test_live_state_health_and_drift():
    spec = case("ha-pair-live")
    report = M.build(spec["hosts"], spec["live"])
    assert report["drift"] == [
        "lb1: port dpdk1 runs 1 rx queue(s), the inventory's layout gives it 2",
        "lb1: real server 192.168.229.2:80 of tcp 10.0.96.204:80 is not in DPVS",
        "lb1: service udp 10.0.96.205:53 schedules wlc in DPVS, rr declared",
        "lb1: address 10.0.96.204/32 on dpdk1 is declared but not in DPVS",
        "lb2: DPVS does not answer",
    ]
    by = {(row["node"], row["label"]): row for row in report["services"]}
    tcp = by[("lb1", "tcp 10.0.96.204:80")]
    assert tcp["state"] == "ok" and tcp["stats"]["conns"] == 1200
    assert [(rs["ip"], rs["state"]) for rs in tcp["real_servers"]] == [
        ("192.168.229.1", "ok"),
        ("192.168.229.2", "missing"),
    ]
    udp = by[("lb1", "udp 10.0.96.205:53")]
    # keepalived owns it: a real server out of DPVS is its health check's doing, not drift
    assert [(rs["ip"], rs["state"]) for rs in udp["real_servers"]] == [
        ("192.168.229.1", "down (out of DPVS: keepalived's health check)"),
        ("192.168.229.2", "inhibited"),
    ]
    assert by[("lb2", "tcp 10.0.96.204:80")]["state"] == "declared"
    health = {node["name"]: node["health"] for node in report["nodes"]}
    assert health == {"fw1": "not read", "lb1": "up", "lb2": "down"}
    assert {rs["ip"]: (rs["host"], rs["health"]) for rs in report["real_servers"]} == {
        "10.11.7.239": (None, "declared"),
        "192.168.229.1": ("rs1", "down"),
        "192.168.229.2": (None, "missing"),
    }


def test_vips_join_services_vrrp_and_kernel_forwarders():
    spec = case("ha-pair-live")
    vips = {vip["address"]: vip for vip in M.build(spec["hosts"])["vips"]}
    assert list(vips) == ["10.0.96.204", "10.0.96.205", "10.11.7.199"]
    assert vips["10.0.96.205"]["nodes"] == ["lb1", "lb2"]
    assert vips["10.0.96.205"]["vrrp"] == ["VI_1 (vrid 51)"]
    assert vips["10.0.96.205"]["services"] == ["udp/53"]
    assert vips["10.11.7.199"] == {
        "address": "10.11.7.199",
        "nodes": ["fw1"],
        "services": ["udp/7890-7900"],
        "vrrp": [],
    }
    lb1 = next(node for node in M.build(spec["hosts"])["nodes"] if node["name"] == "lb1")
    assert lb1["vrrp"] == [
        {
            "name": "VI_1",
            "interface": "dpdk1.kni",
            "virtual_router_id": 51,
            "priority": 150,
            "vips": ["10.0.96.205/24"],
            "enabled": True,
        }
    ]


def test_the_svg_has_an_element_per_vip_node_port_worker_and_real_server():
    spec = case("ha-pair-live")
    found = tags(R.svg(M.build(spec["hosts"], spec["live"])))
    by_class = {}
    for item in found:
        by_class.setdefault(item[1].get("class"), []).append(item[1])
    assert [a["data-vip"] for a in by_class["vip"]] == ["10.0.96.204", "10.0.96.205", "10.11.7.199"]
    assert [a["data-node"] for a in by_class["node"]] == ["fw1", "lb1", "lb2"]
    assert [a["data-rs"] for a in by_class["rs"]] == ["10.11.7.239", "192.168.229.1", "192.168.229.2"]
    assert [a["data-port"] for a in by_class["port"]] == ["dpdk0", "dpdk1", "dpdk0", "dpdk1"]
    # lb1's two workers (dpvs_workers: 2), one per NIC's NUMA node; lb2 has no host facts: none drawn
    assert [(a["data-worker"], a["data-core"]) for a in found_groups(found, "worker")] == [("1", "2"), ("2", "1")]
    assert [a["data-numa"] for a in found_groups(found, "numa-node")] == ["0", "1"]
    edges = [(a["data-from"], a["data-to"]) for a in by_class["edge"]]
    assert ("10.0.96.205", "lb2") in edges and ("lb1", "192.168.229.2") in edges and ("fw1", "10.11.7.239") in edges


def found_groups(found, cls):
    return [attrs for tag, attrs in found if tag == "g" and attrs.get("class") == cls]


def test_long_text_is_cut_with_the_whole_in_a_tooltip():
    assert R.fit("x" * 10, 200) == "x" * 10
    assert R.fit("abcdefghij", 40) == "abcde\u2026"
    text = R._text(0, 0, "<" * 50, width=66)
    assert text == '<text x="0" y="0"><title>' + "&lt;" * 50 + "</title>" + "&lt;" * 9 + "\u2026</text>"


@pytest.mark.parametrize(
    ("info", "line"),
    [
        (None, "lb: DPVS was not read (no result from the host)"),
        (
            {"unreachable": True, "msg": "ssh: connect to host 192.0.2.10 port 22: No route to host\nmore"},
            "lb: DPVS was not read: ssh: connect to host 192.0.2.10 port 22: No route to host",
        ),
        ({"failed": False, "msg": "dpip: not found"}, "lb: DPVS was not read: dpip: not found"),
        ({"running": False}, "lb: DPVS does not answer"),
    ],
)
def test_a_node_not_read_is_drawn_and_says_why(info, line):
    live = {} if info is None else {"lb": {"info": info, "facts": None}}
    report = M.build({"lb": {"groups": ["dpvs"], "dpvs_nics": [{"pci": "0000:04:00.0"}]}}, live)
    assert report["drift"] == [line]
    node = report["nodes"][0]
    assert node["health"] == ("down" if info == {"running": False} else "not read")
    assert [port["state"] for port in node["ports"]] == ["not read"]


def test_live_host_facts_give_the_layout():
    """Without dpvs_host_facts the layout comes from host_info's result (the lab's lb1, captured)."""
    from test_host_facts import collect

    with open(os.path.join(REPO, "inventories", "lab", "group_vars", "dpvs", "dpvs.yml")) as handle:
        variables = dict(yaml.safe_load(handle), groups=["dpvs"])
    live = {"lb1": {"info": {"running": False}, "facts": collect("lb1")}}
    node = M.build({"lb1": variables}, live)["nodes"][0]
    # lb1: one vCPU per NUMA node; the master on node 0 (port 0's), the one worker on node 1
    assert [(port["name"], port["pci"], port["numa_node"]) for port in node["ports"]] == [
        ("dpdk0", "0000:11:00.0", 0),
        ("dpdk1", "0000:21:00.0", 1),
    ]
    assert [(numa["node"], numa["master"], numa["workers"]) for numa in node["numa"]] == [
        (0, {"cpu_id": 0, "core": 0}, []),
        (1, None, [{"cpu_id": 1, "core": 1, "rx_queues": [0]}]),
    ]
    assert node["layout_note"] is None
    # facts that are not host_info's: the ports alone, and the note
    node = M.build({"lb1": variables}, {"lb1": {"info": None, "facts": {}}})["nodes"][0]
    assert node["numa"] == [] and node["layout_note"] == M.NO_FACTS
