"""kernel_forwarder planning: validation, desired rules, iptables-save parsing, purge plan.

Fixtures (tests/unit/fixtures/kernel-forwarder, see its README): the rules desired_rules()
built for three forwards, created with iptables v1.8.9 (nf_tables) in a network namespace in
the argument order of ansible.builtin.iptables, then read back with iptables-save; next to
them, an extra copy of one rule, seed 000's own untagged rules for one port, a tagged rule
edited by hand (-i eth0) and a filter-table rule.
"""

import glob
import json
import os

import pytest
from ansible_collections.dpvs.cluster.plugins.filter import kernel_forwarder as filters
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel import forwarder as kf
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel import iptables_save as save

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "kernel-forwarder")
TAG = kf.DEFAULT_COMMENT
SEED_PORTS = list(range(7890, 7901))


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


@pytest.fixture(scope="module")
def captured():
    data = json.loads(fixture("desired-rules.json"))
    data["save"] = fixture("iptables-save-v1.8.9-nft.txt")
    return data


def test_parse_save_tables_chains_and_rules(captured):
    tables = save.parse_save(captured["save"])
    assert sorted(tables) == ["filter", "nat"]
    assert tables["nat"]["chains"] == {
        "PREROUTING": "ACCEPT",
        "INPUT": "ACCEPT",
        "OUTPUT": "ACCEPT",
        "POSTROUTING": "ACCEPT",
    }
    assert len(tables["nat"]["rules"]) == 15 + 1 + 3 + 1  # ours, the extra copy, the seed's, the edited one
    assert tables["filter"]["rules"] == [("INPUT", ["-p", "tcp", "-m", "tcp", "--dport", "22", "-j", "ACCEPT"])]


def test_parse_save_with_counters_gives_the_same_rules(captured):
    plain = save.parse_save(captured["save"])["nat"]["rules"]
    counted = save.parse_save(fixture("iptables-save-c-nat-v1.8.9-nft.txt"))["nat"]["rules"]
    assert counted == plain


def test_rule_fields_of_a_captured_snat_rule():
    line = (
        "-A POSTROUTING -d 10.11.7.239/32 -p udp -m udp --dport 7892:7894 -m conntrack --ctstate DNAT -m comment"
        ' --comment "dpvs.cluster kernel_forwarder udp/7892-7894 snat" -j SNAT --to-source 10.11.7.199'
    )
    chain, argv = save.parse_save("*nat\n" + line + "\nCOMMIT\n")["nat"]["rules"][0]
    assert save.rule_fields(chain, argv) == {
        "chain": "POSTROUTING",
        "protocol": "udp",
        "source": None,
        "destination": "10.11.7.239/32",
        "source_port": None,
        "destination_port": "7892:7894",
        "ctstate": ["DNAT"],
        "jump": "SNAT",
        "to_destination": None,
        "to_source": "10.11.7.199",
        "comment": "dpvs.cluster kernel_forwarder udp/7892-7894 snat",
        "unknown": [],
    }


def test_desired_rules_match_what_iptables_saved(captured):
    desired = kf.desired_rules(captured["forwards"], captured["address"])
    assert desired == captured["rules"]
    live = save.tagged_rules(captured["save"], "nat", TAG)
    plan = kf.plan(desired, live)
    assert plan["add"] == []
    assert plan["kept"] == len(desired) == 9 + 2 + 4
    # the extra copy of 7890's DNAT goes; seed 000's untagged rules are not ours
    assert [kf.rule_text(rule) for rule in plan["remove"]] == [
        "-A PREROUTING -s 10.11.7.84/32 -d 10.11.7.199/32 -p udp --dport 7890 -m comment"
        ' --comment "dpvs.cluster kernel_forwarder udp/7890 dnat" -j DNAT --to-destination 10.11.7.239'
    ]
    assert [rule["unknown"] for rule in plan["foreign"]] == [["-i", "eth0"]]


def test_rule_text_reads_back_to_the_same_fields(captured):
    for rule in captured["rules"]:
        chain, argv = save.parse_save("*nat\n" + kf.rule_text(rule) + "\nCOMMIT\n")["nat"]["rules"][0]
        fields = save.rule_fields(chain, argv)
        assert fields.pop("unknown") == []
        assert kf.rule_key(fields) == kf.rule_key(rule), rule


def test_seed000_rules_per_port():
    forwards = [{"ports": SEED_PORTS, "backend": "10.11.7.239", "sources": ["10.11.7.84"]}]
    rules = kf.desired_rules(forwards, "10.11.7.199")
    assert len(rules) == 33
    assert [kf.rule_text(rule) for rule in rules[:3]] == [
        "-A PREROUTING -s 10.11.7.84/32 -d 10.11.7.199/32 -p udp --dport 7890 -m comment"
        ' --comment "dpvs.cluster kernel_forwarder udp/7890 dnat" -j DNAT --to-destination 10.11.7.239',
        "-A POSTROUTING -d 10.11.7.239/32 -p udp --dport 7890 -m conntrack --ctstate DNAT -m comment"
        ' --comment "dpvs.cluster kernel_forwarder udp/7890 snat" -j SNAT --to-source 10.11.7.199',
        "-A POSTROUTING -s 10.11.7.239/32 -p udp --sport 7890 -m comment"
        ' --comment "dpvs.cluster kernel_forwarder udp/7890 reply-snat" -j SNAT --to-source 10.11.7.199',
    ]
    # the seed's script: no -d (any destination), SNAT of everything sent to C:P, no reply SNAT
    loose = kf.desired_rules(forwards, "10.11.7.199", match_destination=False, reply_snat=False)
    assert len(loose) == 22
    assert loose[0]["destination"] is None


def test_dropping_a_port_removes_its_three_rules_and_flushes_its_flows():
    before = kf.desired_rules([{"ports": SEED_PORTS, "backend": "10.11.7.239"}], "10.11.7.199")
    kept = [port for port in SEED_PORTS if port != 7895]
    after = kf.desired_rules([{"ports": kept, "backend": "10.11.7.239"}], "10.11.7.199")
    live = [dict(rule, unknown=[]) for rule in before]
    plan = kf.plan(after, live)
    assert plan["add"] == []
    assert [rule["comment"] for rule in plan["remove"]] == [
        f"{TAG} udp/7895 {role}" for role in ("dnat", "snat", "reply-snat")
    ]
    assert kf.plan(after, live, purge=False)["remove"] == []
    assert filters.kernel_forwarder_conntrack(plan["remove"]) == [
        ["-D", "-p", "udp", "--orig-dst", "10.11.7.199", "--orig-port-dst", "7895"]
    ]


def test_a_changed_backend_replaces_the_rules():
    before = kf.desired_rules([{"ports": [7890], "backend": "10.11.7.239"}], "10.11.7.199")
    after = kf.desired_rules([{"ports": [7890], "backend": "10.11.7.240"}], "10.11.7.199")
    plan = kf.plan(after, [dict(rule, unknown=[]) for rule in before])
    assert [rule["to_destination"] for rule in plan["add"] if rule["jump"] == "DNAT"] == ["10.11.7.240"]
    assert [rule["to_destination"] for rule in plan["remove"] if rule["jump"] == "DNAT"] == ["10.11.7.239"]


def test_conntrack_flushes_of_ranges():
    removed = kf.desired_rules(
        [
            {"ports": ["7890-7892"], "backend": "10.0.0.2"},
            {"ports": ["1-65535"], "backend": "10.0.0.3", "protocol": "tcp"},
        ],
        "10.0.0.1",
        match_destination=False,
    )
    assert kf.conntrack_flushes(removed) == [
        {"protocol": "udp", "port": 7890, "destination": None},
        {"protocol": "udp", "port": 7891, "destination": None},
        {"protocol": "udp", "port": 7892, "destination": None},
        {"protocol": "tcp", "port": None, "destination": None},
    ]
    assert kf.conntrack_argv({"protocol": "tcp", "port": None, "destination": None}) == ["-D", "-p", "tcp"]


def test_ipvs_mode_rules_and_services():
    forwards = [{"ports": ["7890-7891"], "backend": "10.11.7.239"}]
    rules = kf.desired_rules(forwards, "10.11.7.199", mode="ipvs")
    assert [rule["chain"] for rule in rules] == ["POSTROUTING", "POSTROUTING"]
    assert all(rule["ctstate"] is None for rule in rules)
    assert filters.kernel_forwarder_ipvs_services(forwards, "10.11.7.199") == [
        {
            "protocol": "udp",
            "vip": "10.11.7.199",
            "port": port,
            "scheduler": "sh",
            "real_servers": [{"ip": "10.11.7.239", "port": port, "forward": "masq"}],
        }
        for port in (7890, 7891)
    ]


@pytest.mark.parametrize(
    ("forwards", "address", "expected"),
    [
        (
            [{"ports": [7890], "backend": "10.0.0.2"}, {"ports": ["7885-7895"], "backend": "10.0.0.3"}],
            "10.0.0.1",
            [
                "kernel_forwarder_forwards[0].ports[0]: udp port 7890 is already forwarded by"
                " kernel_forwarder_forwards[1].ports[0]; a port can be forwarded once"
            ],
        ),
        (
            [{"ports": [7890], "backend": "10.0.0.2"}, {"ports": [7890], "backend": "10.0.0.2", "protocol": "tcp"}],
            "10.0.0.1",
            [],
        ),
        (
            [{"ports": ["7890-7900", "7895-7905"], "backend": "10.0.0.2"}],
            "10.0.0.1",
            [
                "kernel_forwarder_forwards[0].ports[1]: udp port 7895-7900 is already forwarded by"
                " kernel_forwarder_forwards[0].ports[0]; a port can be forwarded once"
            ],
        ),
        (
            [{"ports": [0, 70000, "abc", True], "backend": "10.0.0.2"}],
            "10.0.0.1",
            [
                "kernel_forwarder_forwards[0].ports[0]: a port must be 1..65535 (got '0')",
                "kernel_forwarder_forwards[0].ports[1]: a port must be 1..65535 (got '70000')",
                "kernel_forwarder_forwards[0].ports[2]: not a port (7890) nor a range (7890-7900) (got 'abc')",
                "kernel_forwarder_forwards[0].ports[3]: a port or a range LOW-HIGH is required (got True)",
            ],
        ),
        (
            [{"ports": [7890], "backend": "2001:db8::1", "portz": 1}],
            "10.0.0.1",
            [
                "kernel_forwarder_forwards[0].portz: unknown key (got 1)",
                "kernel_forwarder_forwards[0].backend: must be an IPv4 address (iptables mode is IPv4 only)"
                " (got '2001:db8::1')",
            ],
        ),
        (
            [{"ports": [7890], "backend": "10.0.0.1"}],
            "10.0.0.1",
            [
                "kernel_forwarder_forwards[0].ports[0]: the backend 10.0.0.1 is the forwarder's own address"
                " (kernel_forwarder_address); traffic would loop"
            ],
        ),
        ([], "", ["kernel_forwarder_address: an IPv4 address is required (got '')"]),
        (
            [{"ports": [], "backend": "10.0.0.2", "sources": ["10.0.0.9", "10.0.0.9/32"], "protocol": "sctp"}],
            "10.0.0.1",
            [
                "kernel_forwarder_forwards[0].protocol: must be udp or tcp (got 'sctp')",
                "kernel_forwarder_forwards[0].sources: listed twice: ['10.0.0.9/32'] (got ['10.0.0.9', '10.0.0.9/32'])",
                "kernel_forwarder_forwards[0].ports: a non-empty list of ports or ranges (got [])",
            ],
        ),
    ],
)
def test_problems(forwards, address, expected):
    assert kf.problems(forwards, address) == expected


def test_the_management_port_is_guarded_only_for_tcp():
    forwards = [{"ports": ["20-30"], "backend": "10.0.0.2", "protocol": "tcp"}, {"ports": [22], "backend": "10.0.0.2"}]
    found = filters.kernel_forwarder_problems(forwards, "10.0.0.1", guard_tcp_port=22)
    assert len(found) == 1 and found[0].startswith("kernel_forwarder_forwards[0].ports[0]: tcp port 22 is the port")
    assert filters.kernel_forwarder_problems(forwards, "10.0.0.1", guard_tcp_port=0) == []


def test_filters_raise_ansible_errors_on_bad_input():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match=r"kernel_forwarder_forwards\[0\]\.backend"):
        filters.kernel_forwarder_rules([{"ports": [1], "backend": "nope"}], "10.0.0.1")
    with pytest.raises(AnsibleFilterError, match="cannot read iptables-save output: line 1"):
        filters.kernel_forwarder_plan([], "-A PREROUTING -j ACCEPT\n")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("-A PREROUTING -j ACCEPT\n", "line 1: outside of a table"),
        ("*nat\n:PREROUTING ACCEPT [0:0]\nbogus\nCOMMIT\n", "line 3: not a table, chain or -A line"),
        ('*nat\n-A PREROUTING -m comment --comment "open\nCOMMIT\n', "line 2: No closing quotation"),
    ],
)
def test_parse_save_errors(text, problem):
    with pytest.raises(save.SaveFormatError, match=problem):
        save.parse_save(text)


def test_fixtures_exist():
    assert len(glob.glob(os.path.join(FIXTURES, "iptables-save-*.txt"))) == 2


def test_the_seed000_example_inventory_is_valid():
    import yaml

    root = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "inventories")
    with open(os.path.join(root, "kernel_lb", "group_vars", "kernel_lb.yml")) as handle:
        group = yaml.safe_load(handle)
    with open(os.path.join(root, "kernel_lb", "host_vars", "forwarder1.yml")) as handle:
        host = yaml.safe_load(handle)
    forwards, address = group["kernel_forwarder_forwards"], host["kernel_forwarder_address"]
    assert kf.problems(forwards, address) == []
    rules = kf.desired_rules(forwards, address)
    assert len(rules) == 33
    ports = {rule["destination_port"] or rule["source_port"] for rule in rules}
    assert ports == {str(port) for port in SEED_PORTS}


def test_ipvs_services_are_accepted_by_the_ipvsadm_model():
    from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as _ipvs_model

    services = kf.ipvs_services([{"ports": ["7890-7891"], "backend": "10.11.7.239", "scheduler": "rr"}], "10.11.7.199")
    desired = _ipvs_model.normalize(services, flavor="kernel")
    assert [svc["key"] for svc in desired] == [("udp", "10.11.7.199", 7890), ("udp", "10.11.7.199", 7891)]
    assert {svc["options"]["scheduler"] for svc in desired} == {"rr"}
    assert desired[0]["real_servers"][0]["forward"] == "masq"


SAVED = "\n".join(
    [
        "-A -t 10.11.7.200:80 -s wlc -p 300",
        "-a -t 10.11.7.200:80 -r 10.11.8.1:80 -m -w 1",
        "-A -t 10.11.7.199:7890 -s sh",
        "-a -t 10.11.7.199:7890 -r 10.11.7.239:7890 -m -w 1",
        "-A -u 10.11.7.200:7890 -s sh",
        "-a -u 10.11.7.200:7890 -r 10.11.8.1:7890 -m -w 1",
        "-A -t [2001:db8::1]:443 -s rr",
        "-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 1",
        "-A -f 5 -s rr",
        "-a -f 5 -r 10.11.8.1:0 -g -w 1",
    ]
)
KEEPALIVED = [
    {"protocol": "tcp", "vip": "10.11.7.200", "port": 80, "owner": "keepalived"},
    {"protocol": "udp", "vip": "10.11.7.200", "port": 7890, "owner": "keepalived"},
    {"protocol": "tcp", "vip": "2001:DB8:0::1", "port": 443, "owner": "keepalived"},
    {"fwmark": 5, "owner": "keepalived"},
    {"protocol": "tcp", "vip": "10.11.7.199", "port": 7890},  # the ipvsadm module's: stays
]


def test_the_saved_ipvs_table_leaves_keepalived_services_to_keepalived():
    kept = kf.ipvs_saved_without_keepalived(SAVED, KEEPALIVED)
    assert kept == ["-A -t 10.11.7.199:7890 -s sh", "-a -t 10.11.7.199:7890 -r 10.11.7.239:7890 -m -w 1"]


def test_without_keepalived_services_the_saved_table_is_unchanged_byte_for_byte():
    for services in (None, [], [KEEPALIVED[4]]):
        assert "\n".join(kf.ipvs_saved_without_keepalived(SAVED, services)) == SAVED
    assert kf.ipvs_saved_without_keepalived("", KEEPALIVED) == []


def test_the_filter_names_a_bad_service():
    with pytest.raises(Exception, match="kernel_forwarder_ipvs_saved"):
        filters.kernel_forwarder_ipvs_saved(
            SAVED, [{"protocol": "tcp", "vip": "not-an-ip", "port": 80, "owner": "keepalived"}]
        )
