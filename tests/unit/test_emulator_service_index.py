"""The emulator's service lookup by <af,proto,addr,port> goes through an index (an `ipvsadm -R` of
N services was O(N^2)); it must answer exactly as the list scan it replaced, through adds, deletes
and a state loaded again."""

import copy
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "emulator"))

from dpvs_emulator import ipvs  # noqa: E402
from dpvs_emulator.common import AF_INET, EDPVS_EXIST, EDPVS_INVAL, EDPVS_OK  # noqa: E402

TCP, UDP = 6, 17


def _rt():
    return {"seq": 0, "svcs": [], "blklst": [], "whtlst": [], "addrs": [], "ports": []}


def _conf(addr, port=80, proto=TCP, fwmark=0, match=None):
    return {
        "af": AF_INET, "proto": proto, "addr": addr, "port": port, "fwmark": fwmark, "match": match,
        "sched": "wrr", "flags": [], "timeout": 0, "conn_timeout": 0, "netmask": 0xFFFFFFFF,
        "proxy_protocol": 0, "check": 0,
    }  # fmt: skip


def _scan(rt, key):
    for svc in rt["svcs"]:
        if (
            not svc["fwmark"]
            and not svc["match"]
            and (
                (svc["af"], svc["addr"], svc["port"], svc["proto"])
                == (key["af"], key["addr"], key["port"], key["proto"])
            )
        ):
            return svc
    return None


def test_lookup_follows_adds_and_deletes():
    rt = _rt()
    assert ipvs.svc_add(rt, _conf("10.0.0.1")) == EDPVS_OK
    assert ipvs.svc_add(rt, _conf("10.0.0.1")) == EDPVS_EXIST
    assert ipvs.svc_add(rt, _conf("10.0.0.1", proto=UDP)) == EDPVS_OK
    assert ipvs.svc_add(rt, _conf("0.0.0.0", port=0, fwmark=7)) == EDPVS_OK
    first = ipvs.lookup(rt, _conf("10.0.0.1"))
    assert first is _scan(rt, _conf("10.0.0.1")) and first["proto"] == TCP
    assert ipvs.svc_del(rt, _conf("10.0.0.1")) == EDPVS_OK
    assert ipvs.lookup(rt, _conf("10.0.0.1")) is None
    assert ipvs.svc_del(rt, _conf("10.0.0.1")) == EDPVS_INVAL
    assert ipvs.svc_add(rt, _conf("10.0.0.1")) == EDPVS_OK
    again = ipvs.lookup(rt, _conf("10.0.0.1"))
    assert again is not first and again is _scan(rt, _conf("10.0.0.1"))
    assert ipvs.lookup(rt, _conf("0.0.0.0", port=0, fwmark=7))["fwmark"] == 7
    assert ipvs.lookup(rt, _conf("10.0.0.1", port=81)) is None


def test_a_state_loaded_again_is_indexed_again():
    rt = _rt()
    ipvs.svc_add(rt, _conf("10.0.0.2"))
    loaded = copy.deepcopy(rt)  # what the next ipvsadm process reads from the state file
    ipvs.svc_flush(rt)
    assert ipvs.lookup(rt, _conf("10.0.0.2")) is None
    hit = ipvs.lookup(loaded, _conf("10.0.0.2"))
    assert hit is loaded["svcs"][0]


def test_flush_empties_the_index():
    rt = _rt()
    for last in range(1, 50):
        ipvs.svc_add(rt, _conf(f"10.0.1.{last}"))
    ipvs.svc_flush(rt)
    assert rt["svcs"] == []
    assert all(ipvs.lookup(rt, _conf(f"10.0.1.{last}")) is None for last in range(1, 50))
