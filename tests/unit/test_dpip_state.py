"""dpip_addr / dpip_route: validation, planners, apply/verify and the single check-mode path.

``FakeDpip`` is a small stateful dpip (run_command signature) that prints the v1.10.2
formats and follows the exit-code quirks of the transcripts README (IPv4 route add of an
existing route exits 0, IPv6 exits 1, ...). It records every command so tests can assert
that check mode wrote nothing.
"""

import ipaddress
import os
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import moduledocs
import transcripts
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import DaemonDownError, Runner
from ansible_collections.dpvs.cluster.plugins.module_utils.converge import core
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import parse as P
from ansible_collections.dpvs.cluster.plugins.module_utils.dpip import state as S
from ansible_collections.dpvs.cluster.plugins.modules import dpip_addr, dpip_route


def _prefix(address, plen):
    return f"{address}/{plen}"


def printf(fmt, *args):
    """C printf through Python's %: the fake prints dpip's own format strings."""
    return fmt % args


DOWN_STDERR = (
    "[dpvs_getsockopt] scoket msg connection error: No such file or directory\n"
    "Fail to get configured NIC list: <unknow>.\ndpip: invalid parameter\n"
)


def _err(msg_id, text, code):
    return printf(
        "[sockopt_msg_recv] errcode set in socket msg#%d header: %s(%d)\ndpip: %s\n", msg_id, text, code, text
    )


class FakeDpip:
    """A stateful dpip good enough for planner/apply tests."""

    WRITES = ("add", "del", "set", "flush")

    def __init__(self, links=("dpdk0", "dpdk1"), down=False):
        self.links = list(links)
        self.down = down
        self.calls = []
        self.addrs = []  # dicts: family address prefixlen scope dev broadcast sapool
        self.routes = []  # dicts in parser shape
        self.fail_on = None  # (argv substring tuple) -> (rc, stderr)
        self.ignore_route_add = False  # accept IPv4 route add with rc 0 and do nothing
        for index, name in enumerate(self.links):
            ll = f"fe80::{index + 1:x}:ff:fe00:{index + 1:x}"
            self.addrs.append(self._addr("inet6", ll, 64, "link", name, None, False))
            self._connected(self.addrs[-1])

    # -- state helpers
    @staticmethod
    def _addr(family, address, plen, scope, dev, bcast, sapool):
        return {"family": family, "address": address, "prefixlen": plen, "scope": scope, "dev": dev,
                "broadcast": bcast, "sapool": sapool}

    def _route(self, family, prefix, dev, via=None, src=None, scope="link", mtu=1500, metric=0):
        inet = family == "inet"
        return {"family": family, "prefix": prefix, "via": via, "src": src, "dev": dev, "mtu": mtu,
                "tos": 0 if inet else None, "scope": scope, "metric": metric if inet else None,
                "proto": "auto" if inet else None}

    def _connected(self, addr):
        host = 32 if addr["family"] == "inet" else 128
        self.routes.append(self._route(addr["family"], _prefix(addr["address"], host), addr["dev"], scope="host"))
        if addr["prefixlen"] < host:
            net = ipaddress.ip_interface(_prefix(addr["address"], addr["prefixlen"])).network
            self.routes.append(self._route(addr["family"], str(net), addr["dev"], src=addr["address"]))

    def _disconnect(self, addr):
        host = 32 if addr["family"] == "inet" else 128
        net = str(ipaddress.ip_interface(_prefix(addr["address"], addr["prefixlen"])).network)
        self.routes = [
            r for r in self.routes
            if not (r["dev"] == addr["dev"] and (r["prefix"] == _prefix(addr["address"], host)
                                                 or (r["prefix"] == net and r["src"] == addr["address"])))
        ]

    # -- output
    def link_show(self):
        out = ""
        for index, name in enumerate(self.links):
            out += printf("%d: %s: socket 0 mtu 1500 rx-queue 1 tx-queue 1\n", index + 1, name)
            out += "    UP 10000 Mbps full-duplex fixed-nego \n    addr 02:00:00:00:00:%02X \n" % (index + 1)
        return out

    def addr_show(self, stats):
        out = ""
        for a in self.addrs:
            bcast = "broadcast {}".format(a["broadcast"]) if a["broadcast"] else ""
            out += printf("%s %s/%d scope %s %s\n    %s valid_lft forever preferred_lft forever",
                          a["family"], a["address"], a["prefixlen"], a["scope"], a["dev"], bcast)
            if stats and a["sapool"]:
                out += " sa_used 0 sa_free 1032176 sa_miss 0"
            out += "\n"
        return out

    def route_show(self, family):
        out = ""
        for r in self.routes:
            if r["family"] != family:
                continue
            if family == "inet":
                out += printf("inet %s via %s src %s dev %s mtu %d tos 0 scope %s metric %d proto auto \n",
                              r["prefix"], r["via"] or "0.0.0.0", r["src"] or "0.0.0.0", r["dev"], r["mtu"],
                              r["scope"], r["metric"])
            else:
                text = "inet6 default" if r["prefix"] == "::/0" else "inet6 " + r["prefix"]
                text += (" via " + r["via"]) if r["via"] else ""
                text += (" src " + r["src"]) if r["src"] else ""
                out += text + printf(" dev %s mtu %d scope %s\n", r["dev"], r["mtu"], r["scope"])
        return out

    # -- run_command
    @property
    def writes(self):
        return [argv for argv, _env in self.calls if any(op in argv[1:5] for op in self.WRITES)]

    def __call__(self, argv, data=None, binary_data=False, environ_update=None, check_rc=False):
        self.calls.append((list(argv), dict(environ_update or {})))
        args = list(argv[1:])
        if self.down:
            return 1, "", DOWN_STDERR
        if self.fail_on and all(part in args for part in self.fail_on[0]):
            return self.fail_on[1]
        six = "-6" in args
        args = [a for a in args if a not in ("-6", "-s")]
        if args == ["link", "show"]:
            return 0, self.link_show(), ""
        if args == ["addr", "show"]:
            return 0, self.addr_show("-s" in argv), ""
        if args == ["route", "show"]:
            return 0, self.route_show("inet6" if six else "inet"), ""
        if args[:2] in (["addr", "add"], ["addr", "del"]):
            return self._addr_cmd(args[1], args[2:])
        if args[:2] in (["route", "add"], ["route", "del"]):
            return self._route_cmd(args[1], args[2:], six)
        raise AssertionError(f"FakeDpip: unexpected command {argv!r}")

    @staticmethod
    def _options(words):
        opts, positional, i = {}, [], 0
        while i < len(words):
            if words[i] in ("dev", "scope", "broadcast", "via", "src", "mtu", "metric"):
                opts[words[i]] = words[i + 1]
                i += 2
            elif words[i] == "sapool":
                opts["sapool"] = True
                i += 1
            else:
                positional.append(words[i])
                i += 1
        return positional, opts

    def _addr_cmd(self, op, words):
        (prefix,), opts = self._options(words)
        iface = ipaddress.ip_interface(prefix)
        family = "inet" if iface.version == 4 else "inet6"
        msg = 47 if op == "add" else 48
        if opts["dev"] not in self.links:
            return 1, "", _err(msg, "not exist", -4)
        found = [a for a in self.addrs if a["address"] == str(iface.ip) and a["dev"] == opts["dev"]]
        if op == "add":
            if found:
                return 1, "", _err(47, "already exist", -3)
            addr = self._addr(family, str(iface.ip), iface.network.prefixlen, opts.get("scope", "global"),
                              opts["dev"], opts.get("broadcast"), bool(opts.get("sapool")))
            self.addrs.append(addr)
            self._connected(addr)
            return 0, "", ""
        if not found:
            return 1, "", _err(48, "not exist", -4)
        self.addrs.remove(found[0])
        self._disconnect(found[0])
        return 0, "", ""

    def _route_cmd(self, op, words, six):
        (prefix,), opts = self._options(words)
        family = "inet6" if six or ":" in prefix or ":" in opts.get("via", "") else "inet"
        if prefix == "default":
            prefix = "::/0" if family == "inet6" else "0.0.0.0/0"
        via = opts.get("via")
        scope = opts.get("scope", "global" if via else "link")
        key = (prefix, opts["dev"], via)
        found = [r for r in self.routes if r["family"] == family and (r["prefix"], r["dev"], r["via"]) == key]
        if op == "add":
            if found or (self.ignore_route_add and family == "inet"):
                return (1, "", _err(33, "already exist", -3)) if family == "inet6" else (0, "", "")
            self.routes.append(self._route(family, prefix, opts["dev"], via=via, src=opts.get("src"), scope=scope,
                                           mtu=int(opts.get("mtu", 1500)), metric=int(opts.get("metric", 0))))
            return 0, "", ""
        if not found:
            return (1, "", _err(33, "not exist", -4)) if family == "inet6" else (0, "", "")
        self.routes.remove(found[0])
        return 0, "", ""


def runner_for(fake):
    return Runner(fake, retries=1, retry_delay=0)


def addr_params(addresses=(), **kw):
    params = {"addresses": list(addresses), "purge": False, "purge_devices": [], "purge_sapool": False}
    params.update(kw)
    return params


def route_params(routes=(), **kw):
    params = {"routes": list(routes), "purge": False, "purge_devices": []}
    params.update(kw)
    return params


# ============================================================================ validation

BAD_ADDR = [
    ([{"address": "10.0.96.300", "dev": "dpdk0"}], "addresses[0].address"),
    ([{"address": "10.0.96.1/32", "dev": "dpdk0"}, {"address": "10.0.96.204/33", "dev": "dpdk0"}],
     "addresses[1].address"),
    ([{"address": "2001:db8::1/129", "dev": "dpdk0"}], "addresses[0].address"),
    ([{"address": "10.0.96.204", "dev": "dpdk0", "scope": "universe"}], "addresses[0].scope"),
    ([{"address": "10.0.96.204", "dev": "dpdk 0"}], "addresses[0].dev"),
    ([{"address": "10.0.96.204", "dev": None}], "addresses[0].dev"),
    ([{"address": "10.0.96.204", "dev": "dpdk0"}, {"address": "10.0.96.204/32", "dev": "dpdk0"}],
     "addresses[1].address"),
    ([{"address": "10.0.96.204", "dev": "dpdk0"}, {"address": "10.0.96.204", "dev": "dpdk1"}],
     "addresses[1].address"),
    ([{"address": "2001:db8::204", "dev": "dpdk0", "broadcast": "10.0.96.255"}], "addresses[0].broadcast"),
    ([{"address": "10.0.96.204/24", "dev": "dpdk0", "broadcast": "10.0.96.256"}], "addresses[0].broadcast"),
    ([{"address": "10.0.96.204", "dev": "dpdk0", "state": "gone"}], "addresses[0].state"),
    ([{"address": "10.0.96.204", "dev": "dpdk0", "sapool": "maybe"}], "addresses[0].sapool"),
    ([{"address": "224.0.0.1", "dev": "dpdk0"}], "addresses[0].address"),
    ([{"address": "", "dev": "dpdk0"}], "addresses[0].address"),
    ([{"address": "10.0.96.204", "dev": "dpdk0", "sa_pool": True}], "addresses[0].sa_pool"),
    (["10.0.96.204"], "addresses[0]"),
]

BAD_ROUTE = [
    ([{"prefix": "10.0.96.1/24", "dev": "dpdk0"}], "routes[0].prefix", "host bits"),
    ([{"prefix": "10.0.96.0/33", "dev": "dpdk0"}], "routes[0].prefix", "prefix length"),
    ([{"prefix": "default", "dev": "dpdk0"}], "routes[0].family", "family"),
    ([{"prefix": "default", "dev": "dpdk0", "family": "inet6", "via": "10.0.96.1"}], "routes[0].via", "IPv6"),
    ([{"prefix": "10.0.96.0/24", "dev": "dpdk0", "via": "2001:db8::1"}], "routes[0].via", "IPv4"),
    ([{"prefix": "2001:db8:2::/64", "dev": "dpdk0", "src": "10.0.96.204"}], "routes[0].src", "IPv6"),
    ([{"prefix": "10.0.96.0/24", "dev": "dpdk0", "scope": "universe"}], "routes[0].scope", "one of"),
    ([{"prefix": "10.0.96.0/24", "dev": "dpdk0", "mtu": 10}], "routes[0].mtu", "68..65535"),
    ([{"prefix": "10.0.96.0/24", "dev": "dpdk0", "mtu": 70000}], "routes[0].mtu", "68..65535"),
    ([{"prefix": "2001:db8::/64", "dev": "dpdk0", "mtu": 1000}], "routes[0].mtu", "1280..65535"),
    ([{"prefix": "2001:db8::/64", "dev": "dpdk0", "metric": 5}], "routes[0].metric", "IPv6"),
    ([{"prefix": "10.0.96.0/24", "dev": "dpdk0", "metric": -1}], "routes[0].metric", "0..4294967295"),
    ([{"prefix": "10.0.96.0/24", "dev": "dpdk0", "family": "inet6"}], "routes[0].family", "inet"),
    ([{"prefix": "10.0.96.0/24", "dev": "dpdk0"}, {"prefix": "10.0.96.0/24", "dev": "dpdk0"}], "routes[1].prefix",
     "twice"),
    ([{"prefix": "10.0.96.0/24", "dev": ""}], "routes[0].dev", "device"),
    ([{"prefix": "10.0.96.0/24", "dev": "dpdk0", "via": "0.0.0.0"}], "routes[0].via", "unicast"),
    ([{"prefix": "10.0.96.0/24", "dev": "dpdk0", "gateway": "10.0.96.1"}], "routes[0].gateway", "unknown"),
    ([{"prefix": "nonsense", "dev": "dpdk0"}], "routes[0].prefix", "not a valid"),
]


@pytest.mark.parametrize("addresses,path", BAD_ADDR)
def test_bad_address_input_fails_before_any_command(addresses, path):
    fake = FakeDpip()
    with pytest.raises(InputError) as err:
        S.run_addr(addr_params(addresses), runner_for(fake))
    assert err.value.path == path
    assert str(err.value).startswith(path + ": ")
    assert fake.calls == []  # not even a read


@pytest.mark.parametrize("routes,path,problem", BAD_ROUTE)
def test_bad_route_input_fails_before_any_command(routes, path, problem):
    fake = FakeDpip()
    with pytest.raises(InputError) as err:
        S.run_route(route_params(routes), runner_for(fake))
    assert err.value.path == path
    assert problem in str(err.value)
    assert fake.calls == []


def test_bad_purge_devices_and_flags():
    with pytest.raises(InputError) as err:
        S.normalize_addr_params(addr_params(purge_devices=["dpdk0", "bad dev!"]))
    assert err.value.path == "purge_devices[1]"
    with pytest.raises(InputError) as err:
        S.normalize_route_params(route_params(purge="yes"))
    assert err.value.path == "purge"


def test_unknown_device_is_found_with_link_show_only():
    fake = FakeDpip()
    params = addr_params([{"address": "10.0.96.204", "dev": "dpdk0"}, {"address": "10.0.96.205", "dev": "dpdk9"}])
    with pytest.raises(InputError) as err:
        S.run_addr(params, runner_for(fake))
    assert err.value.path == "addresses[1].dev" and "dpdk0, dpdk1" in str(err.value)
    assert [argv[1:] for argv, _env in fake.calls] == [["link", "show"]]
    with pytest.raises(InputError) as err:
        S.run_route(route_params([{"prefix": "10.0.96.0/24", "dev": "dpdk0"}], purge_devices=["dpdk7"]),
                    runner_for(fake))
    assert err.value.path == "purge_devices[0]"
    # an absent entry may name a device that is gone: nothing to do
    assert S.run_addr(addr_params([{"address": "10.0.96.9", "dev": "dpdk9", "state": "absent"}]),
                      runner_for(FakeDpip()))["changed"] is False


def test_valid_inputs_normalise():
    desired = S.normalize_addr_params(addr_params([
        {"address": "10.0.96.204", "dev": "dpdk0"},
        {"address": "2001:DB8::206", "dev": "dpdk0", "sapool": True},  # DPVS accepts sapool on IPv6 (188)
        {"address": "fe80::1/64", "dev": "dpdk1"},
        {"address": "10.0.96.204", "dev": "dpdk1", "state": "absent"},  # moved: absent here, present there
    ]))
    a, b, c, d = desired["addresses"]
    assert (a["family"], a["address"], a["prefixlen"], a["scope"], a["sapool"]) == ("inet", "10.0.96.204", 32,
                                                                                    "global", False)
    assert (b["address"], b["prefixlen"], b["sapool"]) == ("2001:db8::206", 128, True)
    assert c["scope"] == "link"
    assert d["state"] == "absent"
    routes = S.normalize_route_params(route_params([
        {"prefix": "default", "via": "10.0.96.1", "dev": "dpdk0"},
        {"prefix": "default", "family": "inet6", "dev": "dpdk0"},
        {"prefix": "2001:DB8:2::/64", "via": "2001:db8::1", "dev": "dpdk0"},
    ]))["routes"]
    assert [(r["family"], r["prefix"], r["scope"]) for r in routes] == [
        ("inet", "0.0.0.0/0", "global"), ("inet6", "::/0", "link"), ("inet6", "2001:db8:2::/64", "global")]


# ============================================================================ address planner


def _live_addrs(name):
    return P.parse_addr_show(transcripts.load(name).stdout, sapool_visible=True)


def _declare(addrs):
    return [{"address": _prefix(a["address"], a["prefixlen"]), "dev": a["dev"], "scope": a["scope"],
             "sapool": bool(a["sapool"])} for a in addrs]


def _argvs(plan):
    return [action.argv for action in plan]


@pytest.mark.parametrize("name", ["88-dpip-s-addr-show.txt", "188-dpip-s-addr-show-after-traffic.txt",
                                  "213-dpip-s-addr-show-after-C.txt"])
def test_address_plan_is_empty_when_live_matches(name):
    live = _live_addrs(name)
    desired = S.normalize_addr_params(addr_params(_declare(live), purge=True, purge_sapool=True))
    assert S.plan_addresses(live, desired) == []
    # without explicit scope the defaults (global, link for fe80::/10) match DPVS too
    implicit = [{k: v for k, v in item.items() if k != "scope"} for item in _declare(live)]
    assert S.plan_addresses(live, S.normalize_addr_params(addr_params(implicit, purge=True))) == []


def test_address_commands_match_the_transcripts():
    desired = S.normalize_addr_params(addr_params([
        {"address": "10.0.96.204/32", "dev": "dpdk0"},
        {"address": "2001:db8::204/128", "dev": "dpdk0"},
        {"address": "192.168.229.204/32", "dev": "dpdk0", "sapool": True},
        {"address": "2001:db8::205/64", "dev": "dpdk0", "scope": "host", "sapool": False},
    ]))
    plan = S.plan_addresses([], desired)
    assert [" ".join(argv) for argv in _argvs(plan)[:3]] == [
        transcripts.load("10-dpip-addr-add-vip.txt").command,
        transcripts.load("30-dpip-6-addr-add.txt").command,
        transcripts.load("125-dpip-addr-add-sapool.txt").command,
    ]
    assert plan[3].argv == ["dpip", "-6", "addr", "add", "2001:db8::205/64", "dev", "dpdk0", "scope", "host"]
    assert plan[0].description == "add address 10.0.96.204/32 dev dpdk0 scope global"
    assert plan[2].description == "add address 192.168.229.204/32 dev dpdk0 scope global sapool"
    live = _live_addrs("123-dpip-s-addr-show-after-laddr-errors.txt")
    gone = S.normalize_addr_params(addr_params([{"address": "192.168.229.208", "dev": "dpdk0", "state": "absent"}]))
    (action,) = S.plan_addresses(live, gone)
    assert " ".join(action.argv) == transcripts.load("126-dpip-addr-del-orphan-lip.txt").command


def test_sapool_flag_change_is_del_then_add():
    live = _live_addrs("88-dpip-s-addr-show.txt")
    desired = S.normalize_addr_params(addr_params([
        {"address": "192.168.229.204", "dev": "dpdk0", "sapool": False},
        {"address": "10.0.96.204", "dev": "dpdk0", "sapool": True},
    ]))
    plan = S.plan_addresses(live, desired, dpip="/usr/bin/dpip")
    assert _argvs(plan) == [
        ["/usr/bin/dpip", "addr", "del", "192.168.229.204/32", "dev", "dpdk0"],
        ["/usr/bin/dpip", "addr", "add", "192.168.229.204/32", "dev", "dpdk0"],
        ["/usr/bin/dpip", "addr", "del", "10.0.96.204/32", "dev", "dpdk0"],
        ["/usr/bin/dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk0", "sapool"],
    ]
    assert "sapool on -> off" in plan[0].description and "sapool off -> on" in plan[3].description


def test_prefixlen_scope_and_broadcast_changes():
    live = _live_addrs("88-dpip-s-addr-show.txt")
    desired = S.normalize_addr_params(addr_params([
        {"address": "2001:db8::205/128", "dev": "dpdk0"},
        {"address": "2001:db8::204/128", "dev": "dpdk0", "scope": "site"},
        {"address": "10.0.96.204/32", "dev": "dpdk0", "broadcast": "10.0.96.255"},
    ]))
    plan = S.plan_addresses(live, desired)
    assert [(a.op, next(w for w in a.argv if "/" in w)) for a in plan] == [
        ("del", "2001:db8::205/64"), ("add", "2001:db8::205/128"),
        ("del", "2001:db8::204/128"), ("add", "2001:db8::204/128"),
        ("del", "10.0.96.204/32"), ("add", "10.0.96.204/32"),
    ]
    assert plan[3].argv[-2:] == ["scope", "site"] and plan[5].argv[-2:] == ["broadcast", "10.0.96.255"]
    assert "prefixlen 64 -> 128" in plan[0].description


def test_address_purge_is_scoped_per_device_and_spares_link_local_and_sapool():
    live = _live_addrs("188-dpip-s-addr-show-after-traffic.txt")
    # the same table again on dpdk1, to see that purge stays on the devices it is given
    live += [dict(a, dev="dpdk1") for a in live]
    desired = S.normalize_addr_params(addr_params([{"address": "10.0.96.204", "dev": "dpdk0"}], purge=True))
    plan = S.plan_addresses(live, desired)
    assert all(action.op == "del" and action.argv[-1] == "dpdk0" for action in plan)
    removed = sorted(action.argv[-3] for action in plan)
    assert removed == ["2001:db8::204/128", "2001:db8::205/64"]  # not fe80::, not sapool, not the declared one
    assert all("(not declared, purge)" in action.description for action in plan)
    with_sapool = S.plan_addresses(live, S.normalize_addr_params(addr_params(
        [{"address": "10.0.96.204", "dev": "dpdk0"}], purge=True, purge_sapool=True)))
    assert sorted(a.argv[-3] for a in with_sapool) == sorted(
        [*removed, "192.168.229.204/32", "192.168.229.205/32", "192.168.229.207/32", "192.168.229.209/32",
         "2001:db8::206/128"])
    more = S.plan_addresses(live, S.normalize_addr_params(addr_params(
        [{"address": "10.0.96.204", "dev": "dpdk0"}], purge=True, purge_devices=["dpdk1"])))
    assert sorted(set(a.argv[-1] for a in more)) == ["dpdk0", "dpdk1"]
    assert len(more) == 2 + 3  # dpdk1 keeps nothing undeclared: its 10.0.96.204 goes too
    assert not any(a.argv[-3].startswith("fe80") for a in more)
    assert S.plan_addresses(live, S.normalize_addr_params(addr_params(
        [{"address": "10.0.96.204", "dev": "dpdk0"}]))) == []  # no purge: nothing removed


# ============================================================================ route planner


def _live_routes(v4=None, v6=None):
    routes = []
    if v4:
        routes += P.parse_route_show(transcripts.load(v4).stdout)
    if v6:
        routes += P.parse_route6_show(transcripts.load(v6).stdout)
    return routes


def test_route_plan_is_empty_when_live_matches():
    live = _live_routes("89-dpip-route-show-with-laddr.txt", "35-dpip-6-route-show.txt")
    addrs = _live_addrs("88-dpip-s-addr-show.txt")
    declared = [
        {"prefix": "10.0.96.0/24", "dev": "dpdk0"},
        {"prefix": "192.168.229.0/24", "dev": "dpdk0", "mtu": 1500, "metric": 0},
        {"prefix": "2001:db8:2::/64", "via": "2001:db8::1", "dev": "dpdk0"},
        {"prefix": "2001:db8:1::/64", "dev": "dpdk0", "mtu": 1500},
    ]
    desired = S.normalize_route_params(route_params(declared, purge=True))
    assert S.plan_routes(live, desired, addrs) == []


def test_route_commands_match_the_transcripts():
    desired = S.normalize_route_params(route_params([
        {"prefix": "10.0.96.0/24", "dev": "dpdk0"},
        {"prefix": "172.16.0.0/16", "via": "10.0.96.1", "dev": "dpdk0", "src": "10.0.96.204"},
        {"prefix": "default", "via": "10.0.96.1", "dev": "dpdk0"},
        {"prefix": "2001:db8:1::/64", "dev": "dpdk0"},
        {"prefix": "2001:db8:2::/64", "via": "2001:db8::1", "dev": "dpdk0"},
        {"prefix": "10.1.0.0/16", "dev": "dpdk1", "scope": "global", "mtu": 1400, "metric": 10},
        {"prefix": "default", "family": "inet6", "dev": "dpdk1"},
    ]))
    plan = S.plan_routes([], desired)
    assert [" ".join(argv) for argv in _argvs(plan)[:5]] == [
        transcripts.load(name).command
        for name in ("12-dpip-route-add.txt", "23-dpip-route-add-with-via-src.txt", "24-dpip-route-add-default.txt",
                     "32-dpip-6-route-add.txt", "34-dpip-6-route-add-via.txt")
    ]
    assert plan[5].argv == ["dpip", "route", "add", "10.1.0.0/16", "dev", "dpdk1", "scope", "global", "mtu", "1400",
                            "metric", "10"]
    assert plan[6].argv == ["dpip", "-6", "route", "add", "default", "dev", "dpdk1"]
    # deletes mirror the add argv, from the live route
    live = P.parse_route_show(
        "inet 172.16.0.0/16 via 10.0.96.1 src 10.0.96.204 dev dpdk0 mtu 1500 tos 0 scope global metric 0 proto auto \n"
        "inet 0.0.0.0/0 via 10.0.96.1 src 0.0.0.0 dev dpdk0 mtu 1500 tos 0 scope global metric 0 proto auto \n"
    )
    gone = S.normalize_route_params(route_params([
        {"prefix": "172.16.0.0/16", "via": "10.0.96.1", "dev": "dpdk0", "state": "absent"},
        {"prefix": "default", "via": "10.0.96.1", "dev": "dpdk0", "state": "absent"},
    ]))
    assert [" ".join(argv) for argv in _argvs(S.plan_routes(live, gone))] == [
        transcripts.load("26-dpip-route-del-existing.txt").command,
        transcripts.load("27-dpip-route-del-default.txt").command,
    ]


def test_route_purge_never_touches_dpvs_auto_routes_and_is_scoped():
    live = _live_routes("89-dpip-route-show-with-laddr.txt", "35-dpip-6-route-show.txt")
    live.append({"family": "inet", "prefix": "10.9.0.0/16", "via": "10.0.96.1", "src": None, "dev": "dpdk1",
                 "mtu": 1500, "tos": 0, "scope": "global", "metric": 0, "proto": "auto"})
    addrs = _live_addrs("88-dpip-s-addr-show.txt")
    desired = S.normalize_route_params(route_params([], purge=True, purge_devices=["dpdk0"]))
    plan = S.plan_routes(live, desired, addrs)
    assert [" ".join(a.argv) for a in plan] == [
        "dpip route del 10.0.96.0/24 dev dpdk0",
        "dpip route del 192.168.229.0/24 dev dpdk0",
        "dpip -6 route del 2001:db8:1::/64 dev dpdk0",
        "dpip -6 route del 2001:db8:2::/64 via 2001:db8::1 dev dpdk0",
    ]  # kept: scope host routes, fe80::/64, 2001:db8::/64 src 2001:db8::205 (connected), dpdk1's route
    only_v6_declared = S.normalize_route_params(route_params(
        [{"prefix": "2001:db8:1::/64", "dev": "dpdk0"}], purge=True))
    assert len(S.plan_routes(live, only_v6_declared, addrs)) == 3  # the declared one stays
    assert S.plan_routes(live, S.normalize_route_params(route_params([], purge=True)), addrs) == []  # no device


def test_route_changes_are_del_then_add_and_mtu_is_compared_only_when_declared():
    live = _live_routes(v6="35-dpip-6-route-show.txt") + P.parse_route_show(
        "inet 172.16.0.0/16 via 10.0.96.1 src 10.0.96.204 dev dpdk0 mtu 1500 tos 0 scope global metric 0 proto auto \n"
    )
    desired = S.normalize_route_params(route_params([
        {"prefix": "172.16.0.0/16", "via": "10.0.96.1", "dev": "dpdk0"},  # src dropped
        {"prefix": "2001:db8:1::/64", "dev": "dpdk0", "mtu": 9000},
        {"prefix": "2001:db8:2::/64", "via": "2001:db8::1", "dev": "dpdk0"},  # unchanged
    ]))
    plan = S.plan_routes(live, desired)
    assert [" ".join(a.argv) for a in plan] == [
        "dpip route del 172.16.0.0/16 via 10.0.96.1 dev dpdk0 src 10.0.96.204",
        "dpip route add 172.16.0.0/16 via 10.0.96.1 dev dpdk0",
        "dpip -6 route del 2001:db8:1::/64 dev dpdk0",
        "dpip -6 route add 2001:db8:1::/64 dev dpdk0 mtu 9000",
    ]
    assert "src 10.0.96.204 -> none" in plan[0].description and "mtu 1500 -> 9000" in plan[3].description
    other_gateway = S.normalize_route_params(route_params([
        {"prefix": "172.16.0.0/16", "via": "10.0.96.2", "dev": "dpdk0", "src": "10.0.96.204"}], purge=True))
    v4_live = [r for r in live if r["family"] == "inet"]
    assert [" ".join(a.argv) for a in S.plan_routes(v4_live, other_gateway)] == [
        "dpip route del 172.16.0.0/16 via 10.0.96.1 dev dpdk0 src 10.0.96.204",  # the old gateway goes first
        "dpip route add 172.16.0.0/16 via 10.0.96.2 dev dpdk0 src 10.0.96.204",
    ]


# ============================================================================ run: check mode, apply, verify


def test_addr_check_mode_is_the_same_path_as_a_real_run():
    fake = FakeDpip()
    params = addr_params([
        {"address": "10.0.96.204/32", "dev": "dpdk0"},
        {"address": "192.168.229.204", "dev": "dpdk0", "sapool": True},
        {"address": "2001:db8::205/64", "dev": "dpdk1"},
    ], purge=True)
    fake.addrs.append(FakeDpip._addr("inet", "10.0.96.99", 32, "global", "dpdk0", None, False))
    checked = S.run_addr(params, runner_for(fake), check_mode=True, want_diff=True)
    assert fake.writes == []
    assert checked["changed"] is True and all(c["rc"] is None for c in checked["commands"])
    real = S.run_addr(params, runner_for(fake), dpip="dpip", want_diff=True)
    assert [c["cmd"] for c in checked["commands"]] == [c["cmd"] for c in real["commands"]] == fake.writes
    assert all(c["rc"] == 0 for c in real["commands"])
    assert fake.writes[0] == ["dpip", "addr", "del", "10.0.96.99/32", "dev", "dpdk0"]
    # the prediction of check mode is what the real run read back
    assert checked["diff"] == real["diff"]
    assert "10.0.96.99/32 dev dpdk0 scope global\n" in real["diff"]["before"]
    assert "192.168.229.204/32 dev dpdk0 scope global sapool\n" in real["diff"]["after"]
    assert real["diff"]["after"].splitlines() == sorted(real["diff"]["after"].splitlines(),
                                                        key=lambda line: (line.split()[2], line))
    # idempotent, and idempotent in check mode
    writes = len(fake.writes)
    again = S.run_addr(params, runner_for(fake), check_mode=True)
    assert again["changed"] is False and again["commands"] == []
    assert S.run_addr(params, runner_for(fake))["changed"] is False and len(fake.writes) == writes


def test_route_check_mode_is_the_same_path_as_a_real_run():
    fake = FakeDpip()
    S.run_addr(addr_params([{"address": "10.0.96.204/24", "dev": "dpdk0"},
                            {"address": "2001:db8::204/64", "dev": "dpdk0"}]), runner_for(fake))
    fake.routes.append(fake._route("inet", "172.31.0.0/16", "dpdk0", via="10.0.96.254", scope="global"))
    before_writes = len(fake.writes)
    params = route_params([
        {"prefix": "default", "via": "10.0.96.1", "dev": "dpdk0"},
        {"prefix": "2001:db8:2::/64", "via": "2001:db8::1", "dev": "dpdk0"},
        {"prefix": "192.168.229.0/24", "dev": "dpdk0", "mtu": 1400},
    ], purge=True)
    checked = S.run_route(params, runner_for(fake), check_mode=True, want_diff=True)
    assert len(fake.writes) == before_writes
    real = S.run_route(params, runner_for(fake), want_diff=True)
    assert [c["cmd"] for c in checked["commands"]] == [c["cmd"] for c in real["commands"]]
    assert [c["cmd"] for c in real["commands"]] == fake.writes[before_writes:]
    assert real["commands"][0]["cmd"] == ["dpip", "route", "del", "172.31.0.0/16", "via", "10.0.96.254", "dev",
                                          "dpdk0"]
    assert checked["diff"] == real["diff"]
    assert "inet default via 10.0.96.1 dev dpdk0 scope global mtu 1500 metric 0\n" in real["diff"]["after"]
    # the connected routes of 10.0.96.204/24 and 2001:db8::204/64 survived the purge
    prefixes = {r["prefix"] for r in real["routes"]}
    assert {"10.0.96.0/24", "2001:db8::/64", "10.0.96.204/32", "2001:db8::204/128"} <= prefixes
    again = S.run_route(params, runner_for(fake))
    assert again["changed"] is False and again["commands"] == []


def test_failure_part_way_reports_what_was_applied():
    fake = FakeDpip()
    fake.fail_on = (("192.168.229.205/32",), (1, "", _err(47, "no memory", -2)))
    params = addr_params([{"address": a, "dev": "dpdk0"} for a in ("10.0.96.204", "192.168.229.205", "10.0.96.206")])
    with pytest.raises(S.ApplyError) as err:
        S.run_addr(params, runner_for(fake))
    assert [c["cmd"][3] for c in err.value.applied] == ["10.0.96.204/32"]
    assert err.value.failed["cmd"][3] == "192.168.229.205/32" and err.value.failed["rc"] == 1
    assert "no memory" in err.value.msg and "add address 192.168.229.205/32" in err.value.msg
    assert not any("10.0.96.206/32" in argv for argv in fake.writes)  # stopped at the failure


def test_read_back_that_differs_fails_listing_what_did_not_converge():
    fake = FakeDpip()
    fake.ignore_route_add = True  # IPv4 route add exits 0 without doing anything
    with pytest.raises(S.NotConvergedError) as err:
        S.run_route(route_params([{"prefix": "10.0.96.0/24", "dev": "dpdk0"}]), runner_for(fake))
    assert err.value.remaining == ["add route inet 10.0.96.0/24 dev dpdk0 scope link mtu 1500 metric 0"]
    assert err.value.commands == [{"cmd": ["dpip", "route", "add", "10.0.96.0/24", "dev", "dpdk0"], "rc": 0}]


def test_daemon_down_is_reported_before_any_write():
    fake = FakeDpip(down=True)
    with pytest.raises(DaemonDownError) as err:
        S.run_addr(addr_params([{"address": "10.0.96.204", "dev": "dpdk0"}]), runner_for(fake))
    assert err.value.msg.startswith("DPVS daemon is not reachable")
    assert fake.writes == [] and len(fake.calls) == 1


# ============================================================================ check mode, DPVS not started yet

FRESH_ADDRS = [
    {"address": "10.0.96.204/32", "dev": "dpdk0"},
    {"address": "192.168.229.204/24", "dev": "dpdk1", "sapool": True},
    {"address": "2001:db8::204/64", "dev": "dpdk0"},
    {"address": "10.0.96.213/32", "dev": "dpdk0", "state": "absent"},
]
FRESH_ROUTES = [
    {"prefix": "10.0.96.0/24", "dev": "dpdk0"},
    {"prefix": "default", "via": "10.0.96.254", "dev": "dpdk0"},
    {"prefix": "2001:db8:2::/64", "via": "2001:db8::1", "dev": "dpdk0"},
    {"prefix": "172.16.0.0/16", "dev": "dpdk1", "state": "absent"},
]


def _cmds(result):
    return [entry["cmd"] for entry in result["commands"]]


@pytest.mark.parametrize(
    ("run", "params"),
    [
        (S.run_addr, addr_params(FRESH_ADDRS, purge=True)),
        (S.run_route, route_params(FRESH_ROUTES, purge=True)),
    ],
    ids=["addresses", "routes"],
)
def test_check_mode_with_dpvs_down_plans_what_a_fresh_dpvs_then_runs(run, params):
    params = dict(params, plan_fresh_when_down=True)
    down = FakeDpip(down=True)
    checked = run(params, runner_for(down), check_mode=True, want_diff=True)
    assert checked["warnings"] == [
        "DPVS is not running yet: planned against a freshly started DPVS (empty tables); the real run starts it first"
    ]
    assert down.writes == [] and len(down.calls) == 1  # the first read found DPVS down, nothing else ran
    assert checked["changed"] is True and all(entry["rc"] is None for entry in checked["commands"])
    fresh = FakeDpip()  # DPVS started: each port has its link-local address and its routes
    real = run(params, runner_for(fresh))
    assert _cmds(real) == _cmds(checked)
    assert all(entry["rc"] == 0 for entry in real["commands"])
    assert not any("fe80::" in " ".join(cmd) for cmd in _cmds(real))  # purge leaves link-locals alone
    assert "warnings" not in real


def test_check_mode_with_dpvs_down_plans_exact_commands():
    params = addr_params(FRESH_ADDRS, plan_fresh_when_down=True)
    result = S.run_addr(params, runner_for(FakeDpip(down=True)), dpip="/opt/bin/dpip", check_mode=True)
    assert _cmds(result) == [
        ["/opt/bin/dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk0"],
        ["/opt/bin/dpip", "addr", "add", "192.168.229.204/24", "dev", "dpdk1", "sapool"],
        ["/opt/bin/dpip", "-6", "addr", "add", "2001:db8::204/64", "dev", "dpdk0"],
    ]
    assert [a["address"] for a in result["addresses"]] == ["10.0.96.204", "192.168.229.204", "2001:db8::204"]


@pytest.mark.parametrize("option", [True, False])
def test_a_real_run_with_dpvs_down_fails_whatever_the_option(option):
    for run, params in ((S.run_addr, addr_params(FRESH_ADDRS)), (S.run_route, route_params(FRESH_ROUTES))):
        fake = FakeDpip(down=True)
        with pytest.raises(DaemonDownError) as err:
            run(dict(params, plan_fresh_when_down=option), runner_for(fake))
        assert err.value.msg.startswith("DPVS daemon is not reachable")
        assert fake.writes == []


def test_check_mode_with_dpvs_down_and_the_option_off_fails():
    for run, params in ((S.run_addr, addr_params(FRESH_ADDRS)), (S.run_route, route_params(FRESH_ROUTES))):
        for extra in ({}, {"plan_fresh_when_down": False}):
            with pytest.raises(DaemonDownError) as err:
                run(dict(params, **extra), runner_for(FakeDpip(down=True)), check_mode=True)
            assert err.value.msg.startswith("DPVS daemon is not reachable")


def test_the_option_with_dpvs_up_reads_and_plans_as_usual():
    fake = FakeDpip()
    params = addr_params([{"address": "10.0.96.204/32", "dev": "dpdk0"}], plan_fresh_when_down=True)
    S.run_addr(params, runner_for(fake))
    result = S.run_addr(params, runner_for(fake), check_mode=True)
    assert result["changed"] is False and "warnings" not in result
    with pytest.raises(InputError) as err:  # devices are checked when DPVS answers
        S.run_addr(addr_params([{"address": "10.0.96.205", "dev": "dpdk9"}], plan_fresh_when_down=True),
                   runner_for(fake), check_mode=True)
    assert err.value.path == "addresses[0].dev"


def test_plan_fresh_when_down_must_be_a_boolean():
    fake = FakeDpip(down=True)
    with pytest.raises(InputError) as err:
        S.run_route(route_params(FRESH_ROUTES, plan_fresh_when_down="sometimes"), runner_for(fake), check_mode=True)
    assert err.value.path == "plan_fresh_when_down" and fake.calls == []


# ============================================================================ module glue


class ModuleExit(Exception):
    def __init__(self, failed, result):
        self.failed = failed
        self.result = result


class FakeModule:
    def __init__(self, params, run_command, check_mode=False, diff=False):
        self.params = params
        self.run_command = run_command
        self.check_mode = check_mode
        self._diff = diff
        self.warned = []

    def get_bin_path(self, name, required=False):
        return "/opt/bin/" + name

    def fail_json(self, **result):
        raise ModuleExit(True, result)

    def warn(self, text):
        self.warned.append(text)

    def exit_json(self, **result):
        raise ModuleExit(False, dict(result, warned=self.warned))


def _module_run(kind, params, fake, **kw):
    base = {"ipc_file": "/run/dpvs-b.ipc", "dpip_path": "dpip"}
    base.update(params)
    with pytest.raises(ModuleExit) as done:
        S.module_main(FakeModule(base, fake, **kw), kind)
    return done.value


def test_module_main_results_and_failures():
    fake = FakeDpip()
    ok = _module_run("addresses", addr_params([{"address": "10.0.96.204", "dev": "dpdk0"}]), fake, diff=True)
    assert not ok.failed and ok.result["changed"] is True
    assert ok.result["commands"] == [{"cmd": ["/opt/bin/dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk0"],
                                      "rc": 0}]
    assert all(env.get("DPVS_IPC_FILE") == "/run/dpvs-b.ipc" and env.get("LANG") == "C" for _argv, env in fake.calls)
    assert "diff" in ok.result and any(a["address"] == "10.0.96.204" for a in ok.result["addresses"])

    bad = _module_run("routes", route_params([{"prefix": "10.0.96.1/24", "dev": "dpdk0"}]), fake)
    assert bad.failed and bad.result["msg"].startswith("routes[0].prefix: host bits are set")
    assert "(got '10.0.96.1/24')" in bad.result["msg"]

    down = _module_run("routes", route_params([]), FakeDpip(down=True))
    assert down.failed and down.result["msg"].startswith("DPVS daemon is not reachable")

    routes = [{"prefix": "10.0.96.0/24", "dev": "dpdk0"}]
    fresh = _module_run("routes", route_params(routes, plan_fresh_when_down=True), FakeDpip(down=True),
                        check_mode=True)
    assert not fresh.failed and fresh.result["changed"] is True
    assert fresh.result["warned"] == [core.FRESH_WARNING] and "warnings" not in fresh.result
    assert fresh.result["commands"] == [{"cmd": ["/opt/bin/dpip", "route", "add", "10.0.96.0/24", "dev", "dpdk0"],
                                         "rc": None}]
    down = _module_run("routes", route_params(routes, plan_fresh_when_down=True), FakeDpip(down=True))
    assert down.failed and down.result["msg"].startswith("DPVS daemon is not reachable")

    broken = FakeDpip()
    broken.fail_on = (("addr", "add"), (1, "", _err(47, "no memory", -2)))
    part = _module_run("addresses", addr_params([{"address": "10.0.96.204", "dev": "dpdk0"}]), broken)
    assert part.failed and part.result["applied"] == [] and part.result["rc"] == 1

    stuck = FakeDpip()
    stuck.ignore_route_add = True
    nc = _module_run("routes", route_params([{"prefix": "10.0.96.0/24", "dev": "dpdk0"}]), stuck)
    assert nc.failed and nc.result["not_converged"] and "did not converge" in nc.result["msg"]


# ============================================================================ documentation == argument spec


def _doc_options(options):
    out = {}
    for name, doc in options.items():
        spec = {"type": doc.get("type", "str")}
        for key in ("elements", "choices", "default", "required"):
            if key in doc and not (key == "required" and doc[key] is False):
                spec[key] = doc[key]
        if "suboptions" in doc:
            spec["options"] = _doc_options(doc["suboptions"])
        assert doc.get("description"), f"option {name} has no description"
        out[name] = spec
    return out


def _spec(spec):
    out = {}
    for name, opt in spec.items():
        item = {k: v for k, v in opt.items() if k != "options"}
        item.setdefault("type", "str")
        if "options" in opt:
            item["options"] = _spec(opt["options"])
        out[name] = item
    return out


@pytest.mark.parametrize("module", [dpip_addr, dpip_route])
def test_documentation_matches_argument_spec(module):
    doc = moduledocs.documentation(module)
    assert doc["version_added"] == "0.1.0" and doc["author"] == "dpvs.cluster contributors (@dpvs-cluster)"
    assert _doc_options(doc["options"]) == _spec(module.ARGUMENT_SPEC)
    yaml.safe_load(module.EXAMPLES)
    assert "commands" in yaml.safe_load(module.RETURN)
