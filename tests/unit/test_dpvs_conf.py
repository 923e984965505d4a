"""dpvs.conf parser, validator, change classifier and the conf model (defaults, overrides, derived)."""

import os
import re
import subprocess
import sys

import pytest
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_conf_changes import FilterModule as ChangesFilter
from ansible_collections.dpvs.cluster.plugins.filter.dpvs_conf_check import FilterModule as CheckFilter
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf import conf as _dpvs_conf
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.conf import (
    ConfError,
    classify_changes,
    parse,
    validate,
)
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.layout import layout
from ansible_collections.dpvs.cluster.plugins.module_utils.dpvs_conf.model import DEFAULTS, conf_model

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import dpvs_shapes

REPO = dpvs_shapes.REPO
LAB = dpvs_shapes.SHAPES["lab-vdev-1node"]
SEED = dpvs_shapes.SHAPES["seed001-2nodes-4nics"]
CHECKER = os.path.join(REPO, "plugins", "module_utils", "dpvs_conf", "conf.py")


def lab_text():
    return dpvs_shapes.render(LAB)


def problems(text, **kwargs):
    with pytest.raises(ConfError) as info:
        validate(text, **kwargs)
    return "\n".join(info.value.problems)


# ------------------------------------------------------------------------------------ parser


def test_parser_reads_blocks_markers_quotes_and_comments():
    tree = parse('! comment\nglobal_defs {\n  <init> kni off  # trailing\n  log_file "/a b"\n}\n')
    assert [n.to_data() for n in tree] == [
        ["global_defs", [], None, [["kni", ["off"], "init", None], ["log_file", ["/a b"], None, None]]]
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("global_defs {\n log_level INFO\n", "never closed"),
        ("global_defs {\n}\n}\n", "without an open block"),
        ("{\n}\n", "without a keyword"),
        ('global_defs {\n log_file "x\n}\n', "unterminated quote"),
    ],
)
def test_syntax_errors(text, message):
    assert message in problems(text)


# ------------------------------------------------------------------------------------ validator


def test_generated_lab_file_is_valid_strictly():
    validate(lab_text(), strict=True, version=(1, 10, 2))


def edit(text, old, new, count=1):
    assert old in text, old
    return text.replace(old, new, count)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    lldp ", "    lldpx "), "unknown keyword 'lldpx' here"),
        (("timer_defs {", "timer_defz {"), "unknown section"),
        (
            ("type                         slave", "type                         master"),
            "exactly one worker must be 'type master' (found 2",
        ),
        (
            ("rx_queue_ids             0", "rx_queue_ids             1"),
            "rx queue ids of the workers are [1] but queue_number is 1",
        ),
        (("port dpdk0 {", "port dpdk7 {"), "port dpdk7: no such device"),
        (("<init> pktpool_size              16383", "<init> pktpool_size              16384"), "not 2^n-1"),
        (("<init> conn_pool_size        65536", "<init> conn_pool_size        1000"), "is not a number 65536.."),
        (("<init> kni                       off", "kni off"), "init-only keyword without its <init> marker"),
        (
            ("    lldp                             off", "    <init> lldp off"),
            "marked <init> but DPVS treats it as <normal>",
        ),
        (("rss                      all", "rss                      fast"), "must be one of all, ip"),
        (
            ("<init> max_entries           4096", "<init> max_entries           8192"),
            "exceeds bucket_number * bucket_entries",
        ),
        (("<init> bucket_entries        16", "<init> bucket_entries        12"), "not a power of 2"),
        (("cpu_id                       1", "cpu_id                       0"), "cpu_id 0 is also used by"),
        (("        sack\n", "        sack yes\n"), "takes no value"),
        (("    log_level                        INFO\n", "    log_level INFO\n    log_level DEBUG\n"), "given twice"),
    ],
    ids=lambda value: value if isinstance(value, str) else value[1].strip()[:30],
)
def test_validator_rejects(change, message):
    text = edit(lab_text(), *change)
    found = problems(text, strict=True, version=(1, 10, 2))
    assert message in found, found


def test_flow_off_with_two_workers_needs_redirect():
    text = dpvs_shapes.render(dpvs_shapes.SHAPES["2nodes-1nic-on-node1"])
    validate(text, strict=True)
    broken = edit(text, "<init> redirect              on", "<init> redirect              off")
    assert "needs ipvs_defs/conn/redirect on" in problems(broken)


def test_version_gate_for_mbuf_fast_free():
    assert "needs DPVS 1.10.0 or later" in problems(lab_text(), version=(1, 9, 10))


def test_checker_command_line_is_the_validate_command(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text(lab_text())
    bad = tmp_path / "bad.conf"
    bad.write_text(edit(lab_text(), "port dpdk0 {", "port dpdk9 {"))
    run = [sys.executable, CHECKER, "--strict", "--version", "1.10.2"]
    ok = subprocess.run([*run, str(good)], capture_output=True, text=True, check=False)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    ko = subprocess.run([*run, str(bad)], capture_output=True, text=True, check=False)
    assert ko.returncode == 1
    assert re.search(r"bad\.conf: worker_defs/worker cpu1/port dpdk9: no such device", ko.stderr), ko.stderr
    missing = subprocess.run([*run, str(tmp_path / "none.conf")], capture_output=True, text=True, check=False)
    assert missing.returncode == 2


def test_check_filter_returns_the_problems():
    check = CheckFilter().filters()["dpvs_conf_check"]
    assert check(lab_text(), strict=True, version="1.10.2") == []
    assert any("unknown keyword" in p for p in check(edit(lab_text(), "    lldp ", "    lldq ")))


# ------------------------------------------------------------------------------------ changes


def test_classify_init_normal_and_nothing():
    old = lab_text()
    assert classify_changes(old, old) == {"init": [], "normal": [], "new": False}
    assert classify_changes("", old)["new"] is True
    comments = "! another header\n" + old.replace("    lldp  ", "    lldp\t")
    assert classify_changes(old, comments) == {"init": [], "normal": [], "new": False}

    normal = edit(old, "timeout                          90", "timeout                          60")
    assert classify_changes(old, normal) == {"init": [], "normal": ["neigh_defs/timeout: 90 -> 60"], "new": False}

    init = edit(old, "<init> pktpool_size              16383", "<init> pktpool_size              32767")
    assert classify_changes(old, init)["init"] == ["netif_defs/pktpool_size: 16383 -> 32767"]

    # keywords inside an init block are init even without their own marker
    queues = edit(old, "descriptor_number        256", "descriptor_number        512")
    assert classify_changes(old, queues)["init"] == ["netif_defs/device dpdk0/rx/descriptor_number: 256 -> 512"]

    # a whole new worker is init; a normal keyword removed is normal
    more = dpvs_shapes.render(dpvs_shapes.SHAPES["virtio-vm-1queue"])
    assert any(item.startswith("ipvs_defs/conn/conn_pool_size") for item in classify_changes(old, more)["init"])
    dropped = edit(old, "        uoa_max_trail                3\n", "")
    assert classify_changes(old, dropped)["normal"] == ["ipvs_defs/udp/uoa_max_trail: 3 -> (absent)"]


def test_changes_between_worker_layouts_are_init():
    two = dpvs_shapes.render(dpvs_shapes.SHAPES["1node-2nics-isolated"])
    four = dpvs_shapes.render(dpvs_shapes.SHAPES["1node-4nics-reserved"])
    result = ChangesFilter().filters()["dpvs_conf_changes"](four, two)
    assert "worker_defs/worker cpu5: added" in result["init"]
    assert "netif_defs/device dpdk3: added" in result["init"]
    assert result["normal"] == []


# ------------------------------------------------------------------------------------ model


def lab_layout():
    return dpvs_shapes.layout(LAB)


def test_defaults_cover_every_schema_keyword_except_generated_ones():
    def walk(defaults, schema, path):
        for key, entry in schema.items():
            if (*path, key) in (("netif_defs", "device"), ("netif_defs", "bonding"), ("worker_defs",)):
                continue
            assert key in defaults, (*path, key)
            if entry["type"] == "block":
                walk(defaults[key], entry["children"], (*path, key))
        assert set(defaults) <= set(schema), (path, set(defaults) - set(schema))

    walk(DEFAULTS, _dpvs_conf.SCHEMA, ())


def test_derived_flow_and_redirect():
    two_workers = layout([{"vdev": "net_tap0"}], {"numa_nodes": {"0": {"cpus": [0, 1, 2]}}}, workers=2)
    model = conf_model(two_workers, {"global_defs": {"kni": False}})
    assert model["sections"]["sa_pool"]["flow_enable"] is False
    assert model["sections"]["ipvs_defs"]["conn"]["redirect"] is True
    assert any("redirect on" in note for note in model["notes"])
    flow = conf_model(dpvs_shapes.layout(SEED))
    assert flow["sections"]["sa_pool"]["flow_enable"] is True
    assert flow["sections"]["ipvs_defs"]["conn"]["redirect"] is False


@pytest.mark.parametrize(
    ("overrides", "version", "path", "text"),
    [
        (
            {"ipvs_defs": {"conn": {"conn_pool_sise": 1}}},
            "1.10.2",
            "dpvs_conf.ipvs_defs.conn.conn_pool_sise",
            "not a DPVS v1.10 keyword",
        ),
        ({"netif_defs": {"pktpool_size": 100}}, "1.10.2", "dpvs_conf.netif_defs.pktpool_size", "1023..134217728"),
        ({"netif_defs": {"pktpool_size": 70000}}, "1.10.2", "dpvs_conf.netif_defs.pktpool_size", "2^n-1"),
        ({"global_defs": {"kni": "maybe"}}, "1.10.2", "dpvs_conf.global_defs.kni", "true or false"),
        ({"global_defs": {"log_level": "LOUD"}}, "1.10.2", "dpvs_conf.global_defs.log_level", "must be one of"),
        ({"global_defs": {"log_file": "/var/log/a b"}}, "1.10.2", "dpvs_conf.global_defs.log_file", "one word"),
        ({"netif_defs": {"device": {}}}, "1.10.2", "dpvs_conf.netif_defs.device", "generated from dpvs_nics"),
        ({"worker_defs": {}}, "1.10.2", "dpvs_conf.worker_defs", "generated from dpvs_nics"),
        ({"sa_pool": {"flow_enable": True}}, "1.10.2", "dpvs_conf.sa_pool.flow_enable", "no rte_flow support"),
        ({}, "1.8.10", "dpvs_version", "1.9.4 to 1.10.x"),
        ({}, "two", "dpvs_version", "not a DPVS version"),
        (
            {"ipv4_defs": {"fragment": {"max_entries": 100000}}},
            "1.10.2",
            "dpvs_conf.ipv4_defs.fragment.max_entries",
            "must not exceed",
        ),
    ],
)
def test_bad_overrides(overrides, version, path, text):
    with pytest.raises(InputError) as info:
        conf_model(lab_layout(), overrides, version)
    assert info.value.path == path
    assert text in str(info.value)


def test_redirect_off_forced_with_flow_off_and_two_workers_is_refused():
    two_workers = layout([{"vdev": "net_tap0"}], {"numa_nodes": {"0": {"cpus": [0, 1, 2]}}}, workers=2)
    with pytest.raises(InputError, match="set redirect on, or use one worker"):
        conf_model(two_workers, {"ipvs_defs": {"conn": {"redirect": False}}})


def test_null_override_drops_a_default_keyword_and_onoff_strings_are_accepted():
    model = conf_model(lab_layout(), {"neigh_defs": {"timeout": None}, "global_defs": {"lldp": "on"}})
    assert model["sections"]["neigh_defs"]["timeout"] is None
    assert model["sections"]["global_defs"]["lldp"] is True
    assert model["sections"]["neigh_defs"]["unres_queue_length"] == 128


def test_version_1_9_has_no_mbuf_fast_free():
    model = conf_model(lab_layout(), {}, "1.9.10")
    assert model["devices"][0]["tx"]["mbuf_fast_free"] is None


# ------------------------------------------------------------------------------------ docs


def doc_rows():
    """(block path, keyword) -> kind, from the keyword table of docs/dpvs_conf.md."""
    rows = {}
    with open(os.path.join(REPO, "docs", "dpvs_conf.md")) as handle:
        for line in handle:
            match = re.match(r"^\| `([^`]+)` \| `([^`]+)` \| (init|normal) \|", line)
            if match:
                block = tuple(part for part in match.group(1).split("/"))
                keyword = match.group(2).split(" ", 1)[0]
                rows[(*block, keyword)] = match.group(3)
    return rows


def test_docs_table_kinds_match_the_schema_and_cover_every_emitted_keyword():
    rows = doc_rows()
    assert len(rows) > 80
    for path, kind in rows.items():
        assert _dpvs_conf.kind_of(list(path)) == kind, path
    emitted = set()
    for name in dpvs_shapes.SHAPES:
        for key, value in _dpvs_conf.flatten(parse(dpvs_shapes.render(dpvs_shapes.SHAPES[name]))).items():
            named = " " in key[-1]  # device dpdk0, worker cpu1, port dpdk0
            if value != ("{block}",) or named:  # leaves and named blocks have rows; plain blocks do not
                emitted.add(tuple(part.split(" ", 1)[0] for part in key))
    missing = sorted(emitted - set(rows))
    assert missing == [], missing
