"""_ipvs_plan: planner, execution units, apply, drain, read-back, flavour detection, check mode.

``FakeIPVS`` is a small stateful stand-in for DPVS's ipvsadm and dpip (and the kernel's ipvsadm)
behind ``Runner``: it keeps a table, prints ``-ln``/``--thresholds``/``-G``/``dpip`` listings in
the transcript formats (so the real parsers read them), and reproduces the behaviours the
planner relies on: DPVS ``-E`` merges by option (libipvs ``dpvs_update_service_by_options``),
``--del-laddr`` removes the NIC address even when another service uses it, ``-R`` returns the
last line's code, duplicates fail with ``already exist(-3)`` followed by ``Success``.
"""

import ipaddress
import json
import os
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import transcripts
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import CommandError, DaemonDownError, Runner
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import model as M
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import parse as P
from ansible_collections.dpvs.cluster.plugins.module_utils.ipvs import plan as PL

DPVS_HELP = transcripts.load("204-ipvsadm-h.txt").stdout
KERNEL_HELP = (
    "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"
    "Usage:\n"
    "  ipvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] "
    "[-b sched-flags]\n"
)
DOWN = (
    "[dpvs_getsockopt] scoket msg connection error: No such file or directory\n"
    "Can't initialize ipvs: No such file or directory\nAre you sure that dpvs is running?\n"
)
PROTO_NAMES = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}
FWD_NAMES = {"fullnat": "FullNat", "masq": "Masq", "dr": "Route", "tunnel": "Tunnel"}
SWITCH_FWD = {"-b": "fullnat", "-m": "masq", "-g": "dr", "-i": "tunnel"}
VALUE_OPTS = {
    "-t", "-u", "--sctp-service", "-f", "-s", "-p", "-M", "-r", "-w", "-x", "-y", "-z", "-F", "-j",
    "--hash-target", "--conn-timeout", "--proxy-protocol", "--dest-check", "-k", "-2",
}  # fmt: skip
READS = ("-ln", "-G", "-h", "--get-blklst", "--get-whtlst")


def printf(fmt, *args):
    """C printf, to print with ipvsadm's own format strings."""
    return fmt % args


def err(msg_id, text, code):
    return f"[sockopt_msg_recv] errcode set in socket msg#{msg_id} header: {text}({code})\n"


def ip_key(ip):
    addr = ipaddress.ip_address(ip)
    return (addr.version, int(addr))


class FakeIPVS:
    def __init__(self, flavor="dpvs", links=("dpdk0", "dpdk1")):
        self.flavor = flavor
        self.services = {}
        self.nic = {}
        self.links = list(links)
        self.calls = []
        self.active = {}  # (label, ip, port) -> ActiveConn values, one per `-ln -t SVC` poll
        self.fail_lines = {}  # "-a -t ..." -> (rc, stderr): injected daemon errors
        self.down = False
        self.ipvs_missing = False

    # --- plumbing

    def run_command(self, argv, data=None, binary_data=False, environ_update=None, check_rc=False):
        self.calls.append((list(argv), data))
        if self.down:
            return 2, "", DOWN
        tool = os.path.basename(argv[0])
        if tool == "dpip":
            return self.dpip(list(argv[1:]))
        if self.ipvs_missing:
            return (
                2,
                "",
                "Can't initialize ipvs: Protocol not available\n"
                "Are you sure that IP Virtual Server is built in the kernel or as module?\n",
            )
        if argv[1:] == ["-R"]:
            rc, stderr = 0, ""
            for line in (data or "").splitlines():
                if line.strip():
                    rc, _out, e = self.ipvsadm(line.split())
                    stderr += e
            return rc, "", stderr
        return self.ipvsadm(list(argv[1:]))

    def setup(self, *lines):
        """Build a live state without logging it."""
        for line in lines:
            argv = line.split()
            rc, _out, e = self.dpip(argv[1:]) if argv[0] == "dpip" else self.ipvsadm(argv)
            assert rc == 0, (line, e)

    def writes(self):
        out = []
        for argv, data in self.calls:
            tool = os.path.basename(argv[0])
            if tool == "dpip" and argv[1:3] in (["addr", "add"], ["addr", "del"], ["-6", "addr"]):
                out.append(argv)
            elif tool == "ipvsadm" and argv[1] not in READS:
                out.append(argv if data is None else [*argv, data])
        return out

    # --- ipvsadm

    def parse(self, args):
        opts = {}
        i = 1
        while i < len(args):
            tok = args[i]
            if tok in VALUE_OPTS:
                opts[tok] = args[i + 1]
                i += 2
                continue
            opts[tok] = True
            i += 1
        key = None
        for switch, proto in (("-t", "tcp"), ("-u", "udp"), ("--sctp-service", "sctp")):
            if switch in opts:
                vip, port = P.split_hostport(opts[switch])
                key = (proto, vip, port or 0)
        if "-f" in opts:
            key = ("fwmark", int(opts["-f"]), "inet6" if "-6" in opts else "inet")
        return key, opts

    def ipvsadm(self, args):
        cmd = args[0]
        if cmd == "-h":
            return 0, DPVS_HELP if self.flavor == "dpvs" else KERNEL_HELP, ""
        key, opts = self.parse(args)
        if cmd == "-ln":
            return self.listing(key, "--thresholds" in opts)
        if cmd == "-G":
            return self.laddr_listing(key)
        if cmd in ("--get-blklst", "--get-whtlst"):
            return self.acl_listing("blk" if cmd == "--get-blklst" else "wht")
        line = " ".join(args)
        if line in self.fail_lines:
            rc, stderr = self.fail_lines[line]
            return rc, "", stderr
        handler = {
            "-A": self.add_service,
            "-E": self.edit_service,
            "-D": self.del_service,
            "-a": self.add_rs,
            "-e": self.edit_rs,
            "-d": self.del_rs,
            "--add-laddr": self.add_laddr,
            "--del-laddr": self.del_laddr,
            "--add-blklst": self.acl,
            "--del-blklst": self.acl,
            "--add-whtlst": self.acl,
            "--del-whtlst": self.acl,
        }[cmd]
        return handler(cmd, key, opts)

    def netmask(self, svc, value):
        if svc["family"] == "inet6":
            return None if value == "128" else value
        mask = str(ipaddress.IPv4Network(f"0.0.0.0/{value}").netmask)
        return None if mask == "255.255.255.255" else mask

    def add_service(self, cmd, key, opts):
        if key in self.services:
            return 253, "", err(10, "already exist", -3) + "Success\n"
        family = key[2] if key[0] == "fwmark" else ("inet6" if ":" in key[1] else "inet")
        svc = {"key": key, "family": family, "rs": {}, "laddrs": [], "blk": [], "wht": []}
        svc.update(self.fresh_flags(svc, opts))
        self.services[key] = svc
        return 0, "", ""

    def fresh_flags(self, svc, opts):
        sched = opts.get("-s", "wlc")
        return {
            "sched": sched,
            "hash": opts.get("--hash-target", "sip") if sched == "conhash" else None,
            "persistent": int(opts["-p"]) if "-p" in opts else None,
            "netmask": self.netmask(svc, opts["-M"]) if "-M" in opts else None,
            "ops": "--ops" in opts,
            "synproxy": opts.get("-j") == "enable",
            "conn_timeout": int(opts["--conn-timeout"]) if opts.get("--conn-timeout", "0") != "0" else None,
            "pp": opts.get("--proxy-protocol"),
            "expire_quiescent": "--expire-quiescent" in opts,
            "quic": "--quic" in opts,
            "dest_check": M.canonical_dest_check("x", opts["--dest-check"]) if "--dest-check" in opts else None,
        }

    def edit_service(self, cmd, key, opts):
        svc = self.services.get(key)
        if svc is None:
            return 255, "", err(20, "msg callback failed", -23) + "Success\nSuccess\n"
        if self.flavor == "kernel":  # the kernel replaces the whole config
            svc.update(self.fresh_flags(svc, opts))
            return 0, "", ""
        # DPVS: dpvs_update_service_by_options
        if "-s" in opts:
            svc["sched"] = opts["-s"]
            svc["hash"] = "sip" if opts["-s"] == "conhash" else None
        if "-p" in opts:
            svc["persistent"] = int(opts["-p"])
        if "-M" in opts:
            svc["netmask"] = self.netmask(svc, opts["-M"])
        svc["conn_timeout"] = int(opts["--conn-timeout"]) if opts.get("--conn-timeout", "0") != "0" else None
        svc["pp"] = opts.get("--proxy-protocol")
        if "-j" in opts:
            svc["synproxy"] = opts["-j"] == "enable"
        if "--expire-quiescent" in opts:
            svc["expire_quiescent"] = True
        if "--ops" in opts:
            svc["ops"] = True
        if "--hash-target" in opts:
            svc["hash"] = opts["--hash-target"]
        return 0, "", ""

    def del_service(self, cmd, key, opts):
        if self.services.pop(key, None) is None:
            return 255, "", err(12, "invalid parameter", -1) + "Success\n"
        return 0, "", ""

    def rs_key(self, svc, opts, fwd):
        ip, port = P.split_hostport(opts["-r"])
        if fwd in ("dr", "tunnel") and svc["key"][0] != "fwmark" and cmd_is_add_or_edit(opts):
            port = svc["key"][2]
        return (ip, port or 0)

    def add_rs(self, cmd, key, opts):
        svc = self.services.get(key)
        if svc is None:
            return 255, "", err(13, "invalid parameter", -1) + "Success\n"
        fwd = next((SWITCH_FWD[s] for s in SWITCH_FWD if s in opts), "dr")
        rkey = self.rs_key(svc, dict(opts, _add=True), fwd)
        if rkey in svc["rs"]:
            return 253, "", err(13, "already exist", -3) + "Success\n"
        svc["rs"][rkey] = {
            "fwd": fwd,
            "weight": int(opts.get("-w", 1)),
            "u": int(opts.get("-x", 0)),
            "l": int(opts.get("-y", 0)),
            "active": 0,
        }
        return 0, "", ""

    def edit_rs(self, cmd, key, opts):
        svc = self.services.get(key)
        if svc is None:
            return 255, "", err(14, "invalid parameter", -1) + "Success\n"
        fwd = next((SWITCH_FWD[s] for s in SWITCH_FWD if s in opts), "dr")
        rkey = self.rs_key(svc, dict(opts, _add=True), fwd)
        if rkey not in svc["rs"]:
            return 252, "", err(14, "not exist", -4) + "Success\n"
        svc["rs"][rkey].update(
            fwd=fwd, weight=int(opts.get("-w", 1)), u=int(opts.get("-x", 0)), l=int(opts.get("-y", 0))
        )
        return 0, "", ""

    def del_rs(self, cmd, key, opts):
        svc = self.services.get(key)
        if svc is None:
            return 255, "", err(15, "invalid parameter", -1) + "Success\n"
        rkey = self.rs_key(svc, opts, None)
        if svc["rs"].pop(rkey, None) is None:
            return 252, "", err(15, "not exist", -4) + "Success\n"
        return 0, "", ""

    def add_laddr(self, cmd, key, opts):
        if "-F" not in opts:
            return 2, "", "You need to supply the 'ifname' option for the 'add-laddr' command\n"
        ip = opts["-z"]
        noise = ""
        if ip in self.nic:
            noise = err(47, "already exist", -3)
        else:
            self.nic[ip] = {"dev": opts["-F"], "sapool": True}
        svc = self.services.get(key)
        if svc is None:
            return 239, "", noise + err(0, "no service", -17) + "Success\n"
        if ip in svc["laddrs"]:
            return 253, "", noise + err(0, "already exist", -3) + "Success\n"
        svc["laddrs"].append(ip)
        return 0, "", noise

    def del_laddr(self, cmd, key, opts):
        ip = opts["-z"]
        noise = ""
        if self.nic.get(ip, {}).get("dev") == opts["-F"]:
            del self.nic[ip]  # regardless of other services using it
        else:
            noise = err(48, "not exist", -4)
        svc = self.services.get(key)
        if svc is None:
            return 239, "", noise + err(1, "no service", -17) + "Success\n"
        if ip not in svc["laddrs"]:
            return 252, "", noise + err(1, "not exist", -4) + "Success\n"
        svc["laddrs"].remove(ip)
        return 0, "", noise

    def acl(self, cmd, key, opts):
        svc = self.services[key]
        kind, entry = ("blk", opts.get("-k")) if "blklst" in cmd else ("wht", opts.get("-2"))
        if cmd.startswith("--add"):
            if entry not in svc[kind]:
                svc[kind].append(entry)
            return 0, "", ""
        if entry not in svc[kind]:
            return 252, "", err(74, "not exist", -4) + "Success\n"
        svc[kind].remove(entry)
        return 0, "", ""

    # --- listings (transcript formats)

    def svc_name(self, key):
        if key[0] == "fwmark":
            return f"FWM  {key[1]}" + (" IPv6" if key[2] == "inet6" else "")
        addr = f"[{key[1]}]:{key[2]}" if ":" in key[1] else f"{key[1]}:{key[2]}"
        return ("%-4s %s" if self.flavor == "kernel" else "%s  %s") % (PROTO_NAMES[key[0]], addr)

    def flags_text(self, svc):
        out = ""
        if svc["hash"]:
            out += " " + svc["hash"]
        if svc["persistent"] is not None:
            out += f" persistent {svc['persistent']}"
            if svc["netmask"]:
                out += f" mask {svc['netmask']}"
        for name in ("ops", "synproxy"):
            if svc[name]:
                out += " " + name
        if svc["conn_timeout"]:
            out += f" conn-timeout {svc['conn_timeout']}"
        if svc["pp"] and svc["pp"] != "disable":
            out += " pp" + svc["pp"]
        if svc["expire_quiescent"]:
            out += " expire-quiescent"
        if svc["quic"] and svc["key"][0] == "udp":
            out += " quic"
        if svc["dest_check"]:
            out += " dest-check " + svc["dest_check"]
        return out

    def sorted_services(self):
        def order(svc):
            key = svc["key"]
            if key[0] == "fwmark":
                return (1, key[1], 0, 0, 0)
            return (0, 0, ip_key(key[1])[0], M.PROTOCOLS.index(key[0]), ip_key(key[1])[1], key[2])

        return sorted(self.services.values(), key=order)

    def listing(self, key, thresholds):
        if key is not None and key not in self.services:
            return 1, "", err(20, "msg callback failed", -23) + "Success\n"
        out = ""
        if key is None:
            out += "IP Virtual Server version %s\n" % (
                "1.10.2 (size=0)" if self.flavor == "dpvs" else "1.2.1 (size=4096)"
            )
        if thresholds:
            out += printf("%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
                          "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn")  # fmt: skip
        else:
            out += "Prot LocalAddress:Port Scheduler Flags\n"
            out += "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        for svc in self.sorted_services():
            if key is not None and svc["key"] != key:
                continue
            out += f"{self.svc_name(svc['key'])} {svc['sched']}{self.flags_text(svc)}\n"
            for (ip, port), rs in sorted(svc["rs"].items(), key=lambda item: (ip_key(item[0][0]), item[0][1])):
                label = (M.service_label(svc["key"]), ip, port)
                if key is not None and self.active.get(label):
                    rs["active"] = self.active[label].pop(0)
                name = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
                if thresholds:
                    out += printf("  -> %-28s %-10u %-10u %-10u %-10u\n", name, rs["u"], rs["l"], rs["active"], 0)
                else:
                    out += printf(
                        "  -> %-28s %-7s %-6d %-10u %-10u\n",
                        name,
                        FWD_NAMES[rs["fwd"]],
                        rs["weight"],
                        rs["active"],
                        0,
                    )
        return 0, out, ""

    def laddr_listing(self, key):
        services = [s for s in self.services.values() if key is None or s["key"] == key]
        if key is not None and not services:
            return 1, "", err(20, "msg callback failed", -23) + "Success\n"
        if not services:
            return 0, "", ""
        out = printf("%-20s %-8s %-20s %-10s %-10s\n", "VIP:VPORT", "TOTAL", "SNAT_IP", "CONFLICTS", "CONNS")
        for svc in reversed(list(services)):  # hash order, not sorted
            k = svc["key"]
            vname = f"[{k[1]}]:{k[2]}" if ":" in k[1] else f"{k[1]}:{k[2]}"
            out += printf("%-20s %-8u \n", vname, len(svc["laddrs"]))
            for ip in svc["laddrs"]:
                out += printf("%-20s %-8s %-20s %-10lu %-10u\n", "", "", ip, 0, 0)
        return 0, out, ""

    def acl_listing(self, kind):
        out = printf("%-8s %-30s %-30s\n", "PROTO", "VIP:VPORT", "BLACKLIST" if kind == "blk" else "WHITELIST")
        for svc in self.sorted_services():
            k = svc["key"]
            for entry in svc[kind]:
                out += printf("%-8s %-30s %-30s\n", PROTO_NAMES[k[0]], f"{k[1]}:{k[2]}", entry)
        return 0, out, ""

    # --- dpip

    def dpip(self, args):
        if args[:2] == ["link", "show"]:
            out = ""
            for idx, name in enumerate(self.links):
                out += f"{idx + 1}: {name}: socket 0 mtu 1500 rx-queue 1 tx-queue 1\n"
                out += "    UP 10000 Mbps full-duplex fixed-nego \n"
                out += f"    addr DA:E5:DF:AE:7C:C{idx} \n"
            return 0, out, ""
        stats = args[:1] == ["-s"]
        if args[stats:][:2] == ["addr", "show"]:
            out = ""
            for ip, entry in self.nic.items():
                fam, plen = ("inet6", 128) if ":" in ip else ("inet", 32)
                out += f"{fam} {ip}/{plen} scope global {entry['dev']}\n     valid_lft forever preferred_lft forever"
                out += " sa_used 0 sa_free 1032176 sa_miss 0\n" if stats and entry["sapool"] else "\n"
            return 0, out, ""
        if args and args[0] == "-6":
            args = args[1:]
        if args[:2] == ["addr", "add"]:
            ip = args[2].split("/")[0]
            if ip in self.nic:
                return 1, "", err(47, "already exist", -3) + "dpip: already exist\n"
            self.nic[ip] = {"dev": args[args.index("dev") + 1], "sapool": "sapool" in args}
            return 0, "", ""
        raise AssertionError(f"unexpected dpip call {args}")


def cmd_is_add_or_edit(opts):
    return opts.get("_add", False)


# ----------------------------------------------------------------------------- helpers

BINS = {"ipvsadm_path": "/usr/sbin/ipvsadm", "dpip_path": "/usr/bin/dpip"}


def params(**changes):
    base = {
        "flavor": "dpvs",
        "services": [],
        "purge": False,
        "drain": False,
        "drain_timeout": 30,
        "drain_poll": 1.0,
        "batch_threshold": 20,
        "manage_laddr_addresses": True,
        "ipc_file": None,
        "dpip_path": "dpip",
        "ipvsadm_path": "ipvsadm",
    }
    base.update(changes)
    return base


class Clock:
    """A fake monotonic clock that sleep() advances."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def run(fake, check_mode=False, diff=False, clock=None, **changes):
    clock = clock or Clock()
    runner = Runner(fake.run_command, retries=1)
    return PL.run(
        params(**changes),
        runner,
        lambda option, default: BINS[option],
        check_mode=check_mode,
        want_diff=diff,
        sleep=clock.sleep,
        clock=clock,
    )


def lines(result):
    return [" ".join(entry["cmd"][1:]) for entry in result["commands"]]


WEB = {
    "vip": "10.0.96.204",
    "port": 80,
    "scheduler": "rr",
    "real_servers": [{"ip": "192.168.229.1", "port": 80}, {"ip": "192.168.229.2", "port": 8080, "weight": 2}],
    "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}],
}


def web(**changes):
    return dict(WEB, **changes)


# ----------------------------------------------------------------------------- planner


def test_return_services_false_leaves_the_table_out_of_the_result():
    fake = FakeIPVS()
    quiet = run(fake, services=[web()], return_services=False)
    assert quiet["changed"] is True and "services" not in quiet and quiet["flavor"] == "dpvs"
    again = run(fake, services=[web()], return_services=False)
    assert again["changed"] is False and "services" not in again
    assert [s["vip"] for s in run(fake, services=[web()])["services"]] == ["10.0.96.204"]


def test_cold_start_then_idempotent():
    fake = FakeIPVS()
    first = run(fake, services=[web()])
    assert first["changed"] is True and first["flavor"] == "dpvs"
    assert lines(first) == [
        "-A -t 10.0.96.204:80 -s rr",
        "-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1",
        "-a -t 10.0.96.204:80 -r 192.168.229.2:8080 -b -w 2",
        "--add-laddr -z 192.168.229.204 -t 10.0.96.204:80 -F dpdk0",
    ]
    assert all(entry["rc"] == 0 for entry in first["commands"])
    svc = first["services"][0]
    assert [(r["ip"], r["port"], r["weight"]) for r in svc["real_servers"]] == [
        ("192.168.229.1", 80, 1),
        ("192.168.229.2", 8080, 2),
    ]
    assert svc["laddrs"] == [{"ip": "192.168.229.204", "conflicts": 0, "conns": 0}]
    assert fake.nic["192.168.229.204"] == {"dev": "dpdk0", "sapool": True}
    fake.calls.clear()
    again = run(fake, services=[web()])
    assert again["changed"] is False and again["commands"] == [] and fake.writes() == []


def test_live_equal_to_desired_plans_nothing():
    fake = FakeIPVS()
    fake.setup(
        "-A -t 10.0.96.204:443 -s conhash -j enable --conn-timeout 120",
        "-a -t 10.0.96.204:443 -r 192.168.229.3:443 -b -w 1 -x 100 -y 10",
        "-A -u 10.0.96.204:53 -s wlc -p 300 -M 255.255.255.0",
        "-A -t [2001:db8::204]:8080 -s rr",
        "-a -t [2001:db8::204]:8080 -r 192.168.229.1:80 -b",
        "--add-laddr -z 192.168.229.209 -t [2001:db8::204]:8080 -F dpdk0",
    )
    services = [
        {"vip": "10.0.96.204", "port": 443, "scheduler": "conhash", "synproxy": True, "conn_timeout": 120,
         "real_servers": [{"ip": "192.168.229.3", "port": 443, "u_threshold": 100, "l_threshold": 10}]},
        {"protocol": "udp", "vip": "10.0.96.204", "port": 53, "scheduler": "wlc", "persistent": 300,
         "persistent_netmask": "24", "real_servers": []},
        {"vip": "2001:db8::204", "port": 8080, "scheduler": "rr", "real_servers": [{"ip": "192.168.229.1", "port": 80}],
         "laddrs": [{"ip": "192.168.229.209", "dev": "dpdk0"}]},
    ]  # fmt: skip
    result = run(fake, services=services, diff=True)
    assert result["changed"] is False and fake.writes() == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert "--add-laddr -z 192.168.229.209 -t [2001:db8::204]:8080" in result["diff"]["before"]
    assert "-s conhash -j enable --hash-target sip --conn-timeout 120" in result["diff"]["before"]


def test_option_change_is_one_full_edit_and_keeps_dpvs_flags():
    fake = FakeIPVS()
    fake.setup("-A -t 10.0.96.204:443 -s rr --conn-timeout 120 --proxy-protocol v2")
    want = {"vip": "10.0.96.204", "port": 443, "scheduler": "wrr", "conn_timeout": 120, "proxy_protocol": "v2"}
    result = run(fake, services=[want])
    assert lines(result) == ["-E -t 10.0.96.204:443 -s wrr -j disable --conn-timeout 120 --proxy-protocol v2"]
    flags = result["services"][0]["flags"]
    # a bare "-E -s wrr" would have reset both (DPVS, transcript 173): the read-back proves they stayed
    assert (flags["conn_timeout"], flags["proxy_protocol"]) == (120, "v2")
    assert result["services"][0]["scheduler"] == "wrr"


def test_weight_and_threshold_change_is_edit_rs():
    fake = FakeIPVS()
    run(fake, services=[web()])
    changed = web(real_servers=[{"ip": "192.168.229.1", "port": 80, "u_threshold": 50}, WEB["real_servers"][1]])
    changed["real_servers"][1] = dict(changed["real_servers"][1], weight=5)
    result = run(fake, services=[changed])
    assert lines(result) == [
        "-e -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1 -x 50 -y 0",
        "-e -t 10.0.96.204:80 -r 192.168.229.2:8080 -b -w 5 -x 0 -y 0",
    ]
    assert fake.services[("tcp", "10.0.96.204", 80)]["rs"][("192.168.229.1", 80)]["u"] == 50


def test_forward_change_is_delete_then_add():
    fake = FakeIPVS()
    fake.setup("-A -t 10.0.96.204:443 -s rr", "-a -t 10.0.96.204:443 -r 192.168.229.3:443 -b -w 1")
    want = {"vip": "10.0.96.204", "port": 443, "scheduler": "rr",
            "real_servers": [{"ip": "192.168.229.3", "port": 443, "forward": "masq"}]}  # fmt: skip
    result = run(fake, services=[want])
    assert lines(result) == [
        "-d -t 10.0.96.204:443 -r 192.168.229.3:443",
        "-a -t 10.0.96.204:443 -r 192.168.229.3:443 -m -w 1",
    ]
    assert result["services"][0]["real_servers"][0]["forward"] == "masq"


def test_rs_port_zero_is_drift_and_replaced_first():
    # the seed's mistake: `ipvsadm -a -t VIP:80 -r 192.168.229.1 -b` created 192.168.229.1:0 (transcript 67)
    fake = FakeIPVS()
    fake.setup("-A -t 10.0.96.213:80 -s rr", "-a -t 10.0.96.213:80 -r 192.168.229.1 -b")
    assert "192.168.229.1:0" in fake.listing(None, False)[1]
    want = {"vip": "10.0.96.213", "port": 80, "scheduler": "rr", "real_servers": [{"ip": "192.168.229.1", "port": 80}]}
    result = run(fake, services=[want])
    assert lines(result) == [
        "-d -t 10.0.96.213:80 -r 192.168.229.1:0",
        "-a -t 10.0.96.213:80 -r 192.168.229.1:80 -b -w 1",
    ]
    assert [(r["ip"], r["port"]) for r in result["services"][0]["real_servers"]] == [("192.168.229.1", 80)]


def test_purge_removes_only_undeclared_services_and_their_laddrs_first():
    fake = FakeIPVS()
    fake.setup(
        "-A -t 10.0.96.204:80 -s rr",
        "-a -t 10.0.96.204:80 -r 192.168.229.9:80 -b",
        "-A -t 10.0.96.204:81 -s rr",
        "--add-laddr -z 192.168.229.206 -t 10.0.96.204:81 -F dpdk1",
        "-A -u 10.0.96.204:53 -s wlc",
    )
    declared = [{"vip": "10.0.96.204", "port": 80, "scheduler": "rr"}]  # real_servers omitted: left alone
    assert run(fake, services=declared)["changed"] is False  # no purge: nothing
    result = run(fake, services=declared, purge=True, diff=True)
    assert lines(result) == [
        "--del-laddr -z 192.168.229.206 -t 10.0.96.204:81 -F dpdk1",  # the device from `dpip addr show`
        "-D -t 10.0.96.204:81",
        "-D -u 10.0.96.204:53",
    ]
    assert set(fake.services) == {("tcp", "10.0.96.204", 80)}
    assert fake.services[("tcp", "10.0.96.204", 80)]["rs"]  # .9 stayed
    assert "192.168.229.206" not in fake.nic  # the removed service's LIP left the NIC too
    assert "10.0.96.204:81" in result["diff"]["before"] and "10.0.96.204:81" not in result["diff"]["after"]


def test_absent_service():
    fake = FakeIPVS()
    fake.setup("-A -t [2001:db8::204]:80 -s rr")
    result = run(fake, services=[{"vip": "2001:db8::204", "port": 80, "state": "absent"}])
    assert lines(result) == ["-D -t [2001:db8::204]:80"]
    assert run(fake, services=[{"vip": "2001:db8::204", "port": 80, "state": "absent"}])["changed"] is False


def test_authoritative_lists_versus_omitted():
    fake = FakeIPVS()
    run(
        fake,
        services=[web(laddrs=[{"ip": "192.168.229.204", "dev": "dpdk0"}, {"ip": "192.168.229.205", "dev": "dpdk0"}])],
    )
    # omitted real_servers/laddrs: left alone, even with purge
    untouched = run(fake, services=[{"vip": "10.0.96.204", "port": 80, "scheduler": "rr"}], purge=True)
    assert untouched["changed"] is False
    # empty lists: exactly none
    emptied = run(fake, services=[web(real_servers=[], laddrs=[{"ip": "192.168.229.205", "dev": "dpdk0"}])])
    assert lines(emptied) == [
        "--del-laddr -z 192.168.229.204 -t 10.0.96.204:80 -F dpdk0",
        "-d -t 10.0.96.204:80 -r 192.168.229.1:80",
        "-d -t 10.0.96.204:80 -r 192.168.229.2:8080",
    ]
    svc = emptied["services"][0]
    assert svc["real_servers"] == [] and [x["ip"] for x in svc["laddrs"]] == ["192.168.229.205"]


def test_shared_lip_is_reasserted_after_del_laddr():
    lip = {"ip": "192.168.229.205", "dev": "dpdk0"}
    both = [web(real_servers=[], laddrs=[lip]), web(port=443, real_servers=[], laddrs=[lip])]
    fake = FakeIPVS()
    run(fake, services=both)
    assert fake.nic["192.168.229.205"]["sapool"] is True
    one = [both[0], dict(both[1], laddrs=[])]
    result = run(fake, services=one)
    assert lines(result) == [
        "--del-laddr -z 192.168.229.205 -t 10.0.96.204:443 -F dpdk0",
        "addr add 192.168.229.205/32 dev dpdk0 sapool",
    ]
    assert result["commands"][1]["cmd"][0] == "/usr/bin/dpip"
    assert fake.nic["192.168.229.205"] == {"dev": "dpdk0", "sapool": True}  # :80 still has its LIP
    assert run(fake, services=one)["changed"] is False
    # without manage_laddr_addresses the NIC address is gone after the same change
    fake2 = FakeIPVS()
    run(fake2, services=both)
    assert lines(run(fake2, services=one, manage_laddr_addresses=False)) == [
        "--del-laddr -z 192.168.229.205 -t 10.0.96.204:443 -F dpdk0"
    ]
    assert "192.168.229.205" not in fake2.nic


def test_ipv6_lip_reassert_uses_dpip_6():
    lip = {"ip": "2001:db8::205", "dev": "dpdk1"}
    v6 = {"vip": "2001:db8::204", "port": 80, "scheduler": "rr", "laddrs": [lip]}
    fake = FakeIPVS()
    run(fake, services=[v6, dict(v6, port=443)])
    result = run(fake, services=[v6, dict(v6, port=443, state="absent")])
    assert lines(result) == [
        "--del-laddr -z 2001:db8::205 -t [2001:db8::204]:443 -F dpdk1",
        "-D -t [2001:db8::204]:443",
        "-6 addr add 2001:db8::205/128 dev dpdk1 sapool",
    ]
    assert fake.nic["2001:db8::205"]["dev"] == "dpdk1"


def test_dpvs_edit_cannot_drop_persistence_so_the_service_is_recreated():
    fake = FakeIPVS()
    fake.setup(
        "-A -t 10.0.96.204:9001 -s fo -p 360",
        "-a -t 10.0.96.204:9001 -r 192.168.229.1:9001 -i -w 3",
        "--add-laddr -z 192.168.229.204 -t 10.0.96.204:9001 -F dpdk0",
        "--add-blklst -t 10.0.96.204:9001 -k 10.0.96.99",
    )
    want = {"vip": "10.0.96.204", "port": 9001, "scheduler": "fo"}  # no persistence, RS/laddrs left alone
    result = run(fake, services=[want])
    # the black list was not read at first: the planner asked for it and re-planned
    assert any(call[0][1] == "--get-blklst" for call in fake.calls)
    assert lines(result) == [
        "-D -t 10.0.96.204:9001",
        "-A -t 10.0.96.204:9001 -s fo",
        "-a -t 10.0.96.204:9001 -r 192.168.229.1:9001 -i -w 3",
        "--add-laddr -z 192.168.229.204 -t 10.0.96.204:9001 -F dpdk0",
        "--add-blklst -t 10.0.96.204:9001 -k 10.0.96.99",
    ]
    svc = fake.services[("tcp", "10.0.96.204", 9001)]
    assert svc["persistent"] is None and svc["laddrs"] == ["192.168.229.204"] and svc["blk"] == ["10.0.96.99"]
    # the kernel's -E replaces everything: no recreation there
    kernel = FakeIPVS("kernel")
    kernel.setup("-A -t 10.0.0.1:80 -s rr -p 360")
    assert lines(run(kernel, flavor="kernel", services=[{"vip": "10.0.0.1", "port": 80, "scheduler": "rr"}])) == [
        "-E -t 10.0.0.1:80 -s rr"
    ]


def test_edit_can_express():
    base = M.default_options()
    assert PL.edit_can_express(dict(base, persistent=300), dict(base, persistent=600), "dpvs") is True
    assert PL.edit_can_express(dict(base, persistent=300), base, "dpvs") is False
    assert PL.edit_can_express(dict(base, ops=True), base, "dpvs") is False
    assert PL.edit_can_express(base, dict(base, ops=True), "dpvs") is True
    assert PL.edit_can_express(base, dict(base, quic=True), "dpvs") is False
    assert PL.edit_can_express(base, dict(base, dest_check="internal:default"), "dpvs") is False
    assert PL.edit_can_express(dict(base, persistent=300), base, "kernel") is True


def test_laddrs_of_tcp_and_udp_on_one_vip_port_are_read_per_service():
    fake = FakeIPVS()
    fake.setup(
        "-A -t 10.0.96.204:443 -s rr",
        "-A -u 10.0.96.204:443 -s rr",
        "--add-laddr -z 192.168.229.204 -t 10.0.96.204:443 -F dpdk0",
    )
    services = [
        {"vip": "10.0.96.204", "port": 443, "scheduler": "rr", "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}]},
        {"protocol": "udp", "vip": "10.0.96.204", "port": 443, "scheduler": "rr", "laddrs": []},
    ]
    result = run(fake, services=services)
    assert result["changed"] is False
    reads = [call[0][1:] for call in fake.calls if call[0][1] == "-G"]
    assert ["-G", "-t", "10.0.96.204:443"] in reads and ["-G", "-u", "10.0.96.204:443"] in reads


# ----------------------------------------------------------------------------- batch / single


def big(n):
    return [
        {"vip": f"10.0.96.{i + 1}", "port": 80, "scheduler": "rr",
         "real_servers": [{"ip": f"192.168.229.{j + 1}", "port": 8000 + i} for j in range(3)],
         "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}]}
        for i in range(n)
    ]  # fmt: skip


def test_above_batch_threshold_one_restore_process():
    fake = FakeIPVS()
    result = run(fake, services=big(10))
    assert len(result["commands"]) == 1
    (entry,) = result["commands"]
    assert entry["cmd"] == ["/usr/sbin/ipvsadm", "-R"] and entry["rc"] == 0
    stdin = entry["stdin"].splitlines()
    assert len(stdin) == 50 and stdin[0] == "-A -t 10.0.96.1:80 -s rr"
    assert "--add-laddr -z 192.168.229.204 -t 10.0.96.10:80 -F dpdk0" in stdin
    assert len(fake.writes()) == 1
    assert len(fake.services) == 10 and all(len(s["rs"]) == 3 for s in fake.services.values())
    # at the threshold: one process per command
    small = FakeIPVS()
    result = run(small, services=big(4), batch_threshold=20)  # 4 * 5 = 20 commands
    assert len(result["commands"]) == 20 and not any("stdin" in e for e in result["commands"])


def test_restore_read_back_mismatch_is_reported():
    fake = FakeIPVS()
    # the daemon refuses one line in the middle; -R goes on and exits with the LAST line's code (0)
    fake.fail_lines["-a -t 10.0.96.3:80 -r 192.168.229.2:8002 -b -w 1"] = (
        253,
        err(13, "already exist", -3) + "Success\n",
    )
    with pytest.raises(PL.NotConvergedError) as info:
        run(fake, services=big(10))
    exc = info.value
    assert exc.commands[0]["rc"] == 0  # the batch "succeeded"
    assert exc.remaining == ["tcp 10.0.96.3:80: real server 192.168.229.2:8002 missing"]
    assert "already exist(-3)" in exc.msg and "Success" not in exc.msg
    assert exc.batch_errors == [{"msg": 13, "text": "already exist", "code": -3}]


# ----------------------------------------------------------------------------- drain


def drained_table():
    fake = FakeIPVS()
    run(fake, services=[web(laddrs=[])])
    return fake


def test_drain_sets_weight_zero_waits_for_active_conn_then_deletes():
    fake = drained_table()
    fake.active[("tcp 10.0.96.204:80", "192.168.229.2", 8080)] = [7, 3, 1, 0]
    clock = Clock()
    fake.calls.clear()
    result = run(fake, services=[web(real_servers=WEB["real_servers"][:1], laddrs=[])], drain=True, drain_poll=2.0,
                 clock=clock)  # fmt: skip
    assert lines(result) == [
        "-e -t 10.0.96.204:80 -r 192.168.229.2:8080 -b -w 0 -x 0 -y 0",
        "-d -t 10.0.96.204:80 -r 192.168.229.2:8080",
    ]
    polls = [c[0] for c in fake.calls if c[0][1:] == ["-ln", "-t", "10.0.96.204:80"]]
    assert len(polls) == 4 and clock.sleeps == [2.0, 2.0, 2.0]
    # the polls happened between the weight-0 edit and the delete
    order = [" ".join(c[0][1:]) for c in fake.calls]
    assert (
        order.index("-e -t 10.0.96.204:80 -r 192.168.229.2:8080 -b -w 0 -x 0 -y 0")
        < order.index("-ln -t 10.0.96.204:80")
        < order.index("-d -t 10.0.96.204:80 -r 192.168.229.2:8080")
    )
    assert result["drained"] == [
        {"service": "tcp 10.0.96.204:80", "ip": "192.168.229.2", "port": 8080, "seconds": 6.0, "active_conns": 0,
         "timed_out": False}
    ]  # fmt: skip


def test_drain_timeout_deletes_anyway():
    fake = drained_table()
    fake.active[("tcp 10.0.96.204:80", "192.168.229.2", 8080)] = [5] * 100
    clock = Clock()
    result = run(fake, services=[web(real_servers=WEB["real_servers"][:1], laddrs=[])], drain=True, drain_timeout=5,
                 drain_poll=1.0, clock=clock)  # fmt: skip
    (drained,) = result["drained"]
    assert drained["timed_out"] is True and drained["active_conns"] == 5 and drained["seconds"] == 5.0
    assert ("192.168.229.2", 8080) not in fake.services[("tcp", "10.0.96.204", 80)]["rs"]


def test_drain_of_a_removed_service_and_check_mode_drains_nothing():
    fake = drained_table()
    fake.calls.clear()
    planned = run(fake, services=[{"vip": "10.0.96.204", "port": 80, "state": "absent"}], drain=True, check_mode=True)
    assert [d["ip"] for d in planned["drained"]] == ["192.168.229.1", "192.168.229.2"]
    assert all(d["seconds"] is None for d in planned["drained"]) and fake.writes() == []
    result = run(fake, services=[{"vip": "10.0.96.204", "port": 80, "state": "absent"}], drain=True)
    assert lines(result) == [
        "-e -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 0 -x 0 -y 0",
        "-e -t 10.0.96.204:80 -r 192.168.229.2:8080 -b -w 0 -x 0 -y 0",
        "-D -t 10.0.96.204:80",
    ]
    assert [d["timed_out"] for d in result["drained"]] == [False, False]


def test_drain_splits_a_batch_around_the_wait():
    fake = FakeIPVS()
    run(fake, services=big(6))
    fewer = big(6)
    for svc in fewer:
        svc["real_servers"] = svc["real_servers"][:1]  # 12 RS to drain: 12 -e + 12 -d > 20
    result = run(fake, services=fewer, drain=True)
    assert [e["cmd"][1:] for e in result["commands"]] == [["-R"], ["-R"]]
    assert all(line.startswith("-e ") for line in result["commands"][0]["stdin"].splitlines())
    assert all(line.startswith("-d ") for line in result["commands"][1]["stdin"].splitlines())
    assert len(result["drained"]) == 12


# ----------------------------------------------------------------------------- check mode


@pytest.mark.parametrize("threshold", [20, 3])
def test_check_mode_writes_nothing_and_predicts_the_real_commands(threshold):
    start = (
        "-A -t 10.0.96.204:80 -s wlc",
        "-a -t 10.0.96.204:80 -r 192.168.229.1 -b",
        "-a -t 10.0.96.204:80 -r 192.168.229.9:80 -b -w 4",
        "-A -u 10.0.96.204:53 -s rr",
        "-A -t 10.0.96.204:443 -s rr",
        "--add-laddr -z 192.168.229.205 -t 10.0.96.204:443 -F dpdk0",
    )
    desired = [
        web(scheduler="wrr", laddrs=[{"ip": "192.168.229.205", "dev": "dpdk0"}]),
        {"vip": "2001:db8::204", "port": 8080, "scheduler": "rr", "real_servers": [{"ip": "192.168.229.1", "port": 80}],
         "laddrs": [{"ip": "192.168.229.209", "dev": "dpdk0"}]},
    ]  # fmt: skip
    checked, real = FakeIPVS(), FakeIPVS()
    checked.setup(*start)
    real.setup(*start)
    predicted = run(checked, check_mode=True, diff=True, services=desired, purge=True, batch_threshold=threshold)
    assert checked.writes() == []
    assert predicted["changed"] is True and all(entry["rc"] is None for entry in predicted["commands"])
    done = run(real, diff=True, services=desired, purge=True, batch_threshold=threshold)
    assert [(e["cmd"], e.get("stdin")) for e in predicted["commands"]] == [
        (e["cmd"], e.get("stdin")) for e in done["commands"]
    ]
    assert predicted["diff"] == done["diff"]
    # the services check mode predicts are the services the real run reads back
    strip = [{k: v for k, v in s.items() if k != "laddrs"} for s in done["services"]]
    assert [{k: v for k, v in s.items() if k != "laddrs"} for s in predicted["services"]] == strip
    if threshold == 20:
        assert lines(done)[:2] == ["-E -t 10.0.96.204:80 -s wrr -j disable", "-A -t [2001:db8::204]:8080 -s rr"]
        assert "-d -t 10.0.96.204:80 -r 192.168.229.1:0" in lines(done)
        # 192.168.229.205 moves from :443 (purged) to :80: --del-laddr drops it, dpip puts it back
        assert lines(done)[-1] == "addr add 192.168.229.205/32 dev dpdk0 sapool"
    assert real.nic["192.168.229.205"]["dev"] == "dpdk0"


# ----------------------------------------------------------------------------- flavour, reads, failures


def test_flavor_detection():
    dpvs = FakeIPVS()
    assert run(dpvs, flavor="auto")["flavor"] == "dpvs"
    assert [c[0][1:] for c in dpvs.calls][:2] == [["-h"], ["-ln"]]
    kernel = FakeIPVS("kernel")
    fwmark = {"fwmark": 5, "scheduler": "sh", "real_servers": [{"ip": "192.168.1.2", "forward": "dr"}]}
    result = run(kernel, flavor="auto", services=[fwmark])
    assert result["flavor"] == "kernel"
    assert lines(result) == ["-A -f 5 -s sh", "-a -f 5 -r 192.168.1.2:0 -g -w 1"]
    # -ln was read once for the probe and reused as the live read
    assert sum(1 for c in kernel.calls if c[0][1:] == ["-ln"]) == 2  # probe + read-back
    missing = FakeIPVS("kernel")
    missing.ipvs_missing = True
    runner = Runner(missing.run_command, retries=1)
    assert PL.detect_flavor(runner, "ipvsadm") == ("kernel", None)


def test_flavour_rules_after_auto_probe_and_no_write():
    fake = FakeIPVS("kernel")
    with pytest.raises(InputError) as info:
        run(fake, flavor="auto", services=[web()])
    assert info.value.path == "services[0].laddrs" and fake.writes() == []
    assert [c[0][1:] for c in fake.calls] == [["-h"], ["-ln"]]  # the probe only


def test_bad_input_runs_no_command_with_explicit_flavor():
    fake = FakeIPVS()
    with pytest.raises(InputError):
        run(fake, services=[web(port=0)])
    assert fake.calls == []


def test_laddr_device_must_exist():
    fake = FakeIPVS(links=("dpdk0",))
    with pytest.raises(InputError) as info:
        run(fake, services=[web(laddrs=[{"ip": "192.168.229.204", "dev": "dpdk9"}])])
    assert info.value.path == "services[0].laddrs[0].dev" and "dpdk0" in info.value.problem
    assert fake.writes() == [] and [c[0][1:] for c in fake.calls] == [["link", "show"]]


def test_failure_part_way_reports_applied_and_the_dpvs_error():
    fake = FakeIPVS()
    fake.fail_lines["-a -t 10.0.96.204:80 -r 192.168.229.2:8080 -b -w 2"] = (
        253, err(13, "already exist", -3) + "Success\n")  # fmt: skip
    with pytest.raises(PL.ApplyError) as info:
        run(fake, services=[web()])
    exc = info.value
    assert [" ".join(e["cmd"][1:]) for e in exc.applied] == [
        "-A -t 10.0.96.204:80 -s rr",
        "-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1",
    ]
    assert exc.failed["rc"] == 253 and exc.failed["cmd"][-1] == "2"
    assert exc.dpvs_errors == [{"msg": 13, "text": "already exist", "code": -3}]
    assert "already exist(-3)" in exc.msg and "Success" not in exc.msg
    assert "2 command(s) had been applied" in exc.msg


def test_daemon_down_is_reported_as_such():
    fake = FakeIPVS()
    fake.down = True
    with pytest.raises(DaemonDownError) as info:
        run(fake, flavor="auto")
    assert info.value.msg.startswith("DPVS daemon is not reachable")


# ----------------------------------------------------------------------------- check mode, DPVS not started yet

FRESH_SERVICES = [
    web(blocklist=["10.0.0.1"]),
    {"protocol": "udp", "vip": "10.0.96.204", "port": 53, "scheduler": "rr",
     "real_servers": [{"ip": "192.168.229.3", "port": 53}], "laddrs": [{"ip": "192.168.230.204", "dev": "dpdk1"}]},
    {"vip": "10.0.96.205", "port": 80, "state": "absent"},
]  # fmt: skip


@pytest.mark.parametrize("flavor", ["dpvs", "auto"])
@pytest.mark.parametrize("threshold", [20, 2])
def test_check_mode_with_dpvs_down_plans_what_a_fresh_dpvs_then_runs(flavor, threshold):
    down = FakeIPVS()
    down.down = True
    options = dict(services=FRESH_SERVICES, purge=True, batch_threshold=threshold, flavor=flavor)
    checked = run(down, check_mode=True, diff=True, plan_fresh_when_down=True, **options)
    assert checked["warnings"] == [
        "DPVS is not running yet: planned against a freshly started DPVS (empty tables); the real run starts it first"
    ]
    assert checked["flavor"] == "dpvs" and checked["changed"] is True
    assert down.writes() == [] and len(down.calls) == 1  # the first read found DPVS down, nothing else ran
    fresh = FakeIPVS()  # DPVS started: an empty table
    real = run(fresh, diff=True, plan_fresh_when_down=True, **options)
    assert [(e["cmd"], e.get("stdin")) for e in checked["commands"]] == [
        (e["cmd"], e.get("stdin")) for e in real["commands"]
    ]
    assert checked["diff"] == real["diff"]
    assert "warnings" not in real
    predicted = [(s["protocol"], s["vip"], s["port"], len(s["real_servers"])) for s in checked["services"]]
    assert predicted == [(s["protocol"], s["vip"], s["port"], len(s["real_servers"])) for s in real["services"]]


def test_check_mode_with_dpvs_down_exact_commands():
    down = FakeIPVS()
    down.down = True
    result = run(down, check_mode=True, services=[web()], plan_fresh_when_down=True)
    assert lines(result) == [
        "-A -t 10.0.96.204:80 -s rr",
        "-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1",
        "-a -t 10.0.96.204:80 -r 192.168.229.2:8080 -b -w 2",
        "--add-laddr -z 192.168.229.204 -t 10.0.96.204:80 -F dpdk0",
    ]
    assert result["drained"] == []


@pytest.mark.parametrize("option", [True, False])
def test_a_real_run_with_dpvs_down_fails_whatever_the_option(option):
    for flavor in ("dpvs", "auto"):
        fake = FakeIPVS()
        fake.down = True
        with pytest.raises(DaemonDownError) as info:
            run(fake, services=[web()], flavor=flavor, plan_fresh_when_down=option)
        assert info.value.msg.startswith("DPVS daemon is not reachable") and fake.writes() == []


def test_check_mode_with_dpvs_down_and_the_option_off_fails():
    for extra in ({}, {"plan_fresh_when_down": False}):
        fake = FakeIPVS()
        fake.down = True
        with pytest.raises(DaemonDownError) as info:
            run(fake, check_mode=True, services=[web()], **extra)
        assert info.value.msg.startswith("DPVS daemon is not reachable")


def test_plan_fresh_when_down_is_for_dpvs_only():
    fake = FakeIPVS("kernel")
    with pytest.raises(InputError) as info:
        run(fake, flavor="kernel", check_mode=True, plan_fresh_when_down=True)
    assert info.value.path == "plan_fresh_when_down" and "kernel" in info.value.problem
    assert fake.calls == []
    assert run(fake, flavor="kernel", check_mode=True, plan_fresh_when_down=False)["changed"] is False
    with pytest.raises(InputError) as info:
        run(FakeIPVS(), check_mode=True, plan_fresh_when_down="yes")
    assert info.value.path == "plan_fresh_when_down"


def test_the_option_with_dpvs_up_reads_and_plans_as_usual():
    fake = FakeIPVS()
    run(fake, services=[web()])
    result = run(fake, check_mode=True, services=[web()], plan_fresh_when_down=True)
    assert result["changed"] is False and "warnings" not in result
    with pytest.raises(InputError) as info:  # laddr devices are checked when DPVS answers
        run(fake, check_mode=True, services=[web(laddrs=[{"ip": "192.168.229.9", "dev": "dpdk9"}])],
            plan_fresh_when_down=True)  # fmt: skip
    assert info.value.path == "services[0].laddrs[0].dev"


def test_units_and_commands_shape():
    desired = M.normalize([web()], "dpvs")
    the_plan = PL.plan(desired, [], "dpvs")
    assert bool(the_plan) and the_plan.ipvsadm_count() == 4
    units = PL.execution_units(the_plan, 3)
    assert [u["kind"] for u in units] == ["restore"]
    cmds = PL.planned_commands(units, {"ipvsadm": "ipvsadm"})
    assert cmds == [{"cmd": ["ipvsadm", "-R"], "stdin": PL.restore_stdin(units[0]["actions"]), "rc": None}]
    assert PL.execution_units(the_plan, 4)[0]["kind"] == "cmd"
    assert not PL.plan(desired, [], "dpvs").drain_targets


def test_verify_lists_every_difference():
    desired = M.normalize([web(blocklist=["10.0.96.99"])], "dpvs")
    expected = PL.plan(desired, [], "dpvs").expected
    live = M.live_services(
        P.parse_list(transcripts.load("101-ipvsadm-ln-after-restore.txt").stdout),
        None,
        {("tcp", "10.0.96.204", 80): ["192.168.229.205"]},
        [],
        [],
    )
    assert PL.verify(expected, live) == [
        "tcp 10.0.96.204:80: real server 192.168.229.2:8080 weight is 5, want 2",
        "tcp 10.0.96.204:80: local addresses are ['192.168.229.205'], want ['192.168.229.204']",
        "tcp 10.0.96.204:80: blocklist is [], want ['10.0.96.99']",
        "tcp 10.0.96.210:443: service still present",
    ]


# ----------------------------------------------------------------------------- the module entry point


class FakeModule:
    """Just enough of AnsibleModule for run_module()."""

    class Exit(Exception):
        pass

    def __init__(self, fake, check_mode=False, diff=False, **changes):
        self.params = params(**changes)
        self.check_mode = check_mode
        self._diff = diff
        self.fake = fake
        self.result = None

    def get_bin_path(self, name, required=False):
        return "/usr/sbin/" + name

    def run_command(self, argv, **kwargs):
        return self.fake.run_command(argv, **kwargs)

    def exit_json(self, **result):
        self.result = dict(result, failed=False)
        raise self.Exit()

    def fail_json(self, **result):
        self.result = dict(result, failed=True)
        raise self.Exit()


def module_run(fake, **changes):
    module = FakeModule(fake, **changes)
    with pytest.raises(FakeModule.Exit):
        PL.run_module(module, sleep=lambda s: None)
    return module.result


def test_run_module_success_failure_and_input_error():
    fake = FakeIPVS()
    ok = module_run(fake, services=[web()])
    assert ok["failed"] is False and ok["changed"] is True and ok["commands"][0]["cmd"][0] == "/usr/sbin/ipvsadm"
    bad = module_run(fake, services=[web(real_servers=[{"ip": "192.168.229.1"}])])
    assert bad["failed"] is True and bad["commands"] == []
    assert bad["msg"].startswith("services[0].real_servers[0].port: ") and "port 0" in bad["msg"]
    fake.fail_lines["-D -t 10.0.96.204:80"] = (255, err(12, "invalid parameter", -1) + "Success\n")
    failed = module_run(fake, services=[{"vip": "10.0.96.204", "port": 80, "state": "absent"}])
    assert failed["failed"] is True and failed["rc"] == 255
    assert failed["applied"] == [{"cmd": ["/usr/sbin/ipvsadm", "--del-laddr", "-z", "192.168.229.204", "-t",
                                          "10.0.96.204:80", "-F", "dpdk0"], "rc": 0}]  # fmt: skip
    assert failed["dpvs_errors"] == [{"msg": 12, "text": "invalid parameter", "code": -1}]
    assert failed["cmd"] == ["/usr/sbin/ipvsadm", "-D", "-t", "10.0.96.204:80"]
    assert "Success" not in failed["msg"]
    fake.down = True
    down = module_run(fake, services=[web()])
    assert down["failed"] is True and down["msg"].startswith("DPVS daemon is not reachable")


# ----------------------------------------------------------------------------- big tables: reads at once


def _many(count):
    return [
        web(vip=f"10.1.{i // 250}.{i % 250 + 1}", laddrs=[{"ip": "192.168.229.204", "dev": "dpdk0"}])
        for i in range(count)
    ]


class BarrierIPVS(FakeIPVS):
    """A FakeIPVS whose listings wait for each other: a read that runs alone times the barrier out."""

    def __init__(self, parties):
        super().__init__()
        self.barrier = None
        self.parties = parties
        self.lock = threading.Lock()

    def run_command(self, argv, **kwargs):
        if self.barrier is not None and argv[1:] in (["-ln"], ["-ln", "--thresholds"], ["-G"]):
            self.barrier.wait()
        with self.lock:
            return super().run_command(argv, **kwargs)


def test_a_big_table_is_read_with_its_listings_at_once_and_converges_the_same():
    services = _many(PL.PARALLEL_READS_FROM)
    fake = BarrierIPVS(3)
    first = run(fake, services=services, return_services=False)
    assert first["changed"] is True
    fake.barrier = threading.Barrier(3, timeout=10)  # -ln, -ln --thresholds and -G of one read
    fake.calls.clear()
    again = run(fake, services=services, return_services=False)
    assert again["changed"] is False
    reads = sorted(" ".join(c[0][1:]) for c in fake.calls if c[0][0].endswith("ipvsadm"))
    assert reads == ["-G", "-ln", "-ln --thresholds"]  # each listing once, nothing written


def test_a_small_table_is_read_one_listing_after_the_other():
    fake = FakeIPVS()
    run(fake, services=_many(3))
    fake.calls.clear()
    run(fake, services=_many(3))
    assert [" ".join(c[0][1:]) for c in fake.calls if c[0][0].endswith("ipvsadm")] == ["-ln", "-ln --thresholds", "-G"]


def _json_run(fake, services, monkeypatch, **changes):
    """run_module with the table as services_json (prefetch from 10 characters); returns the
    result and the commands that had been started when the input check began."""
    monkeypatch.setattr(PL, "PREFETCH_FROM_CHARS", 10)
    module = FakeModule(fake, services=None, services_json=json.dumps(services), **changes)
    module.argument_spec = {"services": {"options": {}}}
    started = []

    def prepare(raw, options):
        deadline = time.monotonic() + 5
        while changes.get("flavor", "dpvs") != "auto" and len(fake.calls) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        started.extend(" ".join(call[0]) for call in fake.calls)
        return dict(raw, services=json.loads(raw["services_json"]))

    with pytest.raises(FakeModule.Exit):
        PL.run_module(module, sleep=lambda s: None, prepare=prepare)
    return module.result, sorted(started)


LISTINGS_STARTED = sorted(
    ["/usr/sbin/ipvsadm -ln", "/usr/sbin/ipvsadm -ln --thresholds", "/usr/sbin/ipvsadm -G", "/usr/sbin/dpip link show"]
)


def test_a_big_json_table_is_listed_while_its_input_is_checked_and_each_listing_once(monkeypatch):
    services = _many(3)
    fake = FakeIPVS()
    run(fake, services=services)
    fake.calls.clear()
    result, started = _json_run(fake, services, monkeypatch)
    assert result["failed"] is False and result["changed"] is False
    assert started == LISTINGS_STARTED  # all four running before the input was checked
    assert sorted(" ".join(call[0]) for call in fake.calls) == LISTINGS_STARTED  # and none read twice


def test_an_input_error_with_listings_started_still_changes_nothing(monkeypatch):
    fake = FakeIPVS()
    result, started = _json_run(fake, [web(real_servers=[{"ip": "192.168.229.1"}])], monkeypatch)
    assert started == LISTINGS_STARTED
    assert result["failed"] is True and result["commands"] == []
    assert "port 0" in result["msg"]
    assert all(call[1] is None and call[0][1] in ("-ln", "-G", "link") for call in fake.calls)


def test_a_prefetched_listing_that_failed_is_read_again_and_its_error_reported(monkeypatch):
    fake = FakeIPVS()
    fake.down = True
    result, _started = _json_run(fake, _many(3), monkeypatch)
    assert result["failed"] is True and result["msg"].startswith("DPVS daemon is not reachable")
    fake.down = False
    calls = []
    real = fake.run_command

    def flaky(argv, **kwargs):
        calls.append(argv[1:])
        if argv[1:] == ["-ln"] and calls.count(["-ln"]) == 1:
            return 1, "", "[sockopt_msg_recv] errcode set in socket msg#12 header: no memory(-2)\n"
        return real(argv, **kwargs)

    fake.run_command = flaky
    result, _started = _json_run(fake, _many(3), monkeypatch)
    assert result["failed"] is False and result["changed"] is True
    assert calls.count(["-ln"]) == 3  # the failed prefetch, its re-read, the read back


def test_no_listing_is_started_early_for_a_small_table_or_an_unknown_flavour(monkeypatch):
    fake = FakeIPVS()
    module = FakeModule(fake, services_json=json.dumps(_many(3)))
    PL.prefetch_listings(module, Runner(fake.run_command), module.params)  # under PREFETCH_FROM_CHARS
    result, started = _json_run(fake, _many(3), monkeypatch, flavor="auto")
    assert started == [] and result["failed"] is False


def test_a_failed_listing_of_a_big_read_fails_the_run_before_any_write():
    services = _many(PL.PARALLEL_READS_FROM)
    fake = FakeIPVS()
    run(fake, services=services)
    real = fake.run_command

    def broken(argv, **kwargs):
        if argv[1:] == ["-G"]:
            return 1, "", "[sockopt_msg_recv] errcode set in socket msg#12 header: no memory(-2)\n"
        return real(argv, **kwargs)

    fake.run_command = broken
    fake.calls.clear()
    with pytest.raises(CommandError, match="-G"):
        run(fake, services=services[:-1], purge=True, purge_max=5)
    assert fake.writes() == []
