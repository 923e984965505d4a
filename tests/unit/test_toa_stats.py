"""toa_stats / uoa_stats parsers, on text shaped exactly as DPVS v1.10.2's kmod/toa/toa.c
(toa_stats_show) and kmod/uoa/uoa.c (uoa_stats_show) print it, and the module's file reading."""

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel import toa_stats as ts
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.net_stats import StatsFormatError
from ansible_collections.dpvs.cluster.plugins.modules import toa_stats_info

TOA_NAMES = (
    "syn_recv_sock_toa",
    "syn_recv_sock_no_toa",
    "getname_toa_ok",
    "getname_toa_mismatch",
    "getname_toa_bypass",
    "getname_toa_empty",
)


def toa_text(values, cpus=(0, 1), names=TOA_NAMES):
    """toa_stats_show(): seq_printf(seq, "                                  "), "CPU%d       " per online
    CPU, '\\n'; per counter "%-25s:" and "%10lu " per online CPU, '\\n' (%lu is Python's %d)."""
    text = "                                  " + "".join("CPU%d       " % cpu for cpu in cpus) + "\n"  # noqa: UP031
    for name in names:
        line = "%-25s:" % name  # noqa: UP031
        line += "".join("%10d " % value for value in values.get(name, [0] * len(cpus)))  # noqa: UP031
        text += line + "\n"
    return text


def uoa_text(success=0, miss=0, invalid=0, got=0, none=0, saved=0, ack_fail=0):
    """uoa_stats_show(): the header line, then "%8llu %8llu %8llu %8llu %8llu %8llu %8llu\\n"."""
    header = " Success     Miss  Invalid|UOA  Got     None    Saved Ack-Fail\n"
    values = (success, miss, invalid, got, none, saved, ack_fail)
    return header + "%8d %8d %8d %8d %8d %8d %8d\n" % values  # noqa: UP031


# The same shapes written out by hand (two online CPUs; one CPU): the generator above is not
# the only witness of the format.
TOA_LITERAL = (
    "                                  CPU0       CPU1       \n"
    "syn_recv_sock_toa        :        17          3 \n"
    "syn_recv_sock_no_toa     :         2          0 \n"
    "getname_toa_ok           :        17          3 \n"
    "getname_toa_mismatch     :         0          0 \n"
    "getname_toa_bypass       :         0          1 \n"
    "getname_toa_empty        :         0          0 \n"
)
UOA_LITERAL = (
    " Success     Miss  Invalid|UOA  Got     None    Saved Ack-Fail\n"
    "       0        0        0        3      210        3        0\n"
)


def test_toa_literal_sums_the_cpus():
    parsed = ts.parse_toa_stats(TOA_LITERAL)
    assert parsed["cpus"] == [0, 1]
    assert parsed["counters"] == {
        "syn_recv_sock_toa": 20,
        "syn_recv_sock_no_toa": 2,
        "getname_toa_ok": 20,
        "getname_toa_mismatch": 0,
        "getname_toa_bypass": 1,
        "getname_toa_empty": 0,
    }


def test_toa_generated_with_offline_cpus_ipv6_lines_and_wide_values():
    names = (*TOA_NAMES, "ip6_address_alloc", "ip6_address_free")
    values = {"syn_recv_sock_toa": [12345678901, 5, 0], "ip6_address_alloc": [1, 2, 3]}
    parsed = ts.parse_toa_stats(toa_text(values, cpus=(0, 2, 5), names=names))
    assert parsed["cpus"] == [0, 2, 5]
    assert parsed["counters"]["syn_recv_sock_toa"] == 12345678906
    assert parsed["counters"]["ip6_address_alloc"] == 6
    assert parsed["counters"]["ip6_address_free"] == 0


def test_uoa_literal_and_generated():
    assert ts.parse_uoa_stats(UOA_LITERAL)["counters"] == {
        "success": 0,
        "miss": 0,
        "invalid": 0,
        "uoa_got": 3,
        "uoa_none": 210,
        "uoa_saved": 3,
        "uoa_ack_fail": 0,
    }
    big = ts.parse_uoa_stats(uoa_text(success=1, got=123456789012, none=7))["counters"]
    assert big["uoa_got"] == 123456789012 and big["success"] == 1 and big["uoa_none"] == 7


@pytest.mark.parametrize(
    "text, needle",
    [
        ("", "empty"),
        ("                                  \nsyn_recv_sock_toa        :\n", "no CPU"),
        ("   CPU0   \nsyn_recv_sock_toa        :         1          2 \n", "2 values for 1 CPUs"),
        ("   CPU0   \nsyn_recv_sock_no_toa     :         1 \n", "no syn_recv_sock_toa"),
        ("   CPU0   \nthis is not a counter line\n", "line 2"),
        ("   uoa    \nsyn_recv_sock_toa        :         1 \n", "line 1"),
    ],
)
def test_toa_bad_text(text, needle):
    with pytest.raises(StatsFormatError, match=needle):
        ts.parse_toa_stats(text)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("", "0 lines"),
        (TOA_LITERAL, "lines"),
        (" Success Miss\n 1 2\n", "header"),
        (" Success     Miss  Invalid|UOA  Got     None    Saved Ack-Fail\n 1 2 3\n", "7 counters"),
    ],
)
def test_uoa_bad_text(text, needle):
    with pytest.raises(StatsFormatError, match=needle):
        ts.parse_uoa_stats(text)


def test_delta_only_counters_read_both_times_and_negative_when_back():
    before = {"syn_recv_sock_toa": 10, "getname_toa_ok": 4}
    after = {"syn_recv_sock_toa": 30, "getname_toa_ok": 1, "ip6_address_alloc": 5}
    assert ts.delta(before, after) == {"syn_recv_sock_toa": 20, "getname_toa_ok": -3}
    assert ts.delta(None, after) == {}


def test_module_reads_loaded_missing_and_namespace(tmp_path):
    proc, sysmod = tmp_path / "net", tmp_path / "module"
    proc.mkdir()
    sysmod.mkdir()
    # neither loaded
    entry = toa_stats_info.read_module("toa", str(proc), str(sysmod))
    assert entry == {"loaded": False, "stats_file": str(proc / "toa_stats"), "counters": None}
    # loaded (sysfs) but the file is not in this /proc/net: another network namespace
    (sysmod / "toa").mkdir()
    assert toa_stats_info.read_module("toa", str(proc), str(sysmod))["loaded"] is True
    assert toa_stats_info.read_module("toa", str(proc), str(sysmod))["counters"] is None
    # the files present
    (proc / "toa_stats").write_text(TOA_LITERAL)
    (proc / "uoa_stats").write_text(UOA_LITERAL)
    toa = toa_stats_info.read_module("toa", str(proc), str(sysmod))
    uoa = toa_stats_info.read_module("uoa", str(proc), str(sysmod))
    assert toa["counters"]["syn_recv_sock_toa"] == 20 and toa["cpus"] == [0, 1]
    assert uoa["loaded"] is True and uoa["counters"]["uoa_got"] == 3


def test_module_baseline_delta():
    before = {"toa": {"counters": {"syn_recv_sock_toa": 5}}, "uoa": {"counters": None}}
    now = {"toa": {"counters": {"syn_recv_sock_toa": 25}}, "uoa": {"counters": {"uoa_got": 3}}}
    assert toa_stats_info.baseline_delta(before, now) == {"toa": {"syn_recv_sock_toa": 20}, "uoa": {}}
