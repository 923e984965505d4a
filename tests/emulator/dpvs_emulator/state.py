"""The state file: one JSON document per emulated daemon, shared by every tool process.

``DPVS_EMULATOR_STATE`` names it (default ``$TMPDIR/dpvs-emulator-<uid>/state.json``). Access
is serialised with ``fcntl.flock`` on ``<state>.lock``; writes go to a temporary file that
replaces the state with ``os.replace`` so a reader never sees half a document.
"""
# ruff: noqa: UP031 (printf-style formats mirror the C tools' printf calls)

import errno
import fcntl
import os
import time

from .common import AF_INET6, ntop, pton
from .fastjson import dumps, loads

FORMAT = 1
DEFAULT_IPC = "/var/run/dpvs.ipc"
DPVS_VERSION = "1.10.2"
SA_POOL_FREE = 1032176  # sa_free of one sapool address on the lab daemon (1 worker)

# The lab daemon's only port, as dpip -s/-v link show printed it (transcripts 01-04).
LAB_PORT = {
    "name": "dpdk0",
    "mac": "DA:E5:DF:AE:7C:C9",
    "socket": 0,
    "mtu": 1500,
    "rx_queues": 1,
    "tx_queues": 1,
    "speed": 10000,
    "duplex": "full-duplex",
    "autoneg": "fixed-nego",
    "link": "UP",
    "lldp": True,
    "stats": {"ipackets": 5, "opackets": 1, "ibytes": 350, "obytes": 78},
    "mbuf_avail": 16383,
    "dev_info": {"pci_addr": "vdev", "driver_name": "net_af_packet", "if_index": 2},
}

DEV_INFO_DEFAULTS = {
    "pci_addr": "vdev", "driver_name": "net_af_packet", "if_index": 0, "min_rx_bufsize": 0,
    "max_rx_pktlen": 1518, "max_mac_addrs": 1, "max_rx_queues": 1, "max_tx_queues": 1,
    "max_hash_addrs": 0, "max_vfs": 0, "max_vmdq_pools": 0, "rx_ol_capa": 0x4001,
    "tx_ol_capa": 0x8001, "reta_size": 0, "hash_key_size": 0, "flowtype_rss_ol": 0,
    "vmdq_que_base": 0, "vmdq_que_num": 0, "rx_desc_max": 65535, "rx_desc_min": 0,
    "rx_desc_align": 1, "vmdq_pool_base": 0, "tx_desc_max": 65535, "tx_desc_min": 0,
    "tx_desc_align": 1, "speed_capa": 0,
}
STATS_KEYS = ("ipackets", "opackets", "ibytes", "obytes", "ierrors", "oerrors", "imissed",
              "rx_nombuf")
FLAG_KEYS = ("promisc", "allmulticast", "forward2kni", "tc_egress", "tc_ingress", "lldp")


class ConfigError(ValueError):
    pass


def state_path():
    path = os.environ.get("DPVS_EMULATOR_STATE")
    if path:
        return path
    base = os.path.join(os.environ.get("TMPDIR") or "/tmp", "dpvs-emulator-%d" % os.getuid())
    return os.path.join(base, "state.json")


def ipc_path():
    """The control socket the tools look for: $DPVS_IPC_FILE, else the built-in default."""
    path = os.environ.get("DPVS_IPC_FILE")
    if path is not None:
        return path
    return os.environ.get("DPVS_EMULATOR_DEFAULT_IPC") or DEFAULT_IPC


class Locked(object):
    """``with Locked() as st:`` -> the state dict (None when no file); ``st.save(doc)``."""

    def __init__(self, path=None):
        self.path = path or state_path()
        self.fd = None
        self.doc = None

    def __enter__(self):
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            os.makedirs(folder, exist_ok=True)
        self.fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            with open(self.path) as handle:
                self.doc = loads(handle.read())
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
            self.doc = None
        return self

    def save(self, doc):
        tmp = "%s.tmp.%d" % (self.path, os.getpid())
        with open(tmp, "w") as handle:
            handle.write(dumps(doc))
        os.replace(tmp, self.path)
        self.doc = doc

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        return False


def proc_stat(pid):
    """``(state, starttime)`` of a process from ``/proc/<pid>/stat``; None when unreadable."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        return fields[0].decode("ascii"), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def pid_alive(pid, start=None):
    """True while ``pid`` is the process that was recorded: not gone, not a zombie, and (when
    ``start`` is known) with the same start time, so that a reused pid is not taken for it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else: /proc tells whether it is ours
    except OSError:
        return False
    stat = proc_stat(pid)
    if stat is None:  # gone in between, or no /proc: kill(0) is all there is to know
        return not os.path.exists("/proc/self/stat")
    return stat[0] not in ("Z", "X", "x") and (start is None or stat[1] == start)


def daemon_running(doc):
    """The daemon runs: the document says so and its process (when it has one) is alive. A
    recorded process that is gone is a crash: the socket file stays, nothing listens."""
    if not doc or not doc.get("running"):
        return False
    pid = doc.get("pid")
    return pid is None or pid_alive(pid, doc.get("pid_start"))


def connect_errno(doc, path):
    """What connect() to the IPC socket would report: 0, ENOENT or ECONNREFUSED."""
    if not os.path.lexists(path):
        return errno.ENOENT
    if daemon_running(doc):
        try:
            st = os.stat(path)
        except OSError:
            return errno.ENOENT
        if [st.st_dev, st.st_ino] == doc.get("ipc_id"):
            return 0
    return errno.ECONNREFUSED


# -- ports ------------------------------------------------------------------------------------------
def _mac(text, where):
    parts = str(text).split(":")
    if len(parts) != 6:
        raise ConfigError("%s: bad MAC %r" % (where, text))
    try:
        octets = [int(p, 16) for p in parts]
    except ValueError:
        raise ConfigError("%s: bad MAC %r" % (where, text)) from None
    if any(o < 0 or o > 255 for o in octets):
        raise ConfigError("%s: bad MAC %r" % (where, text))
    return ":".join("%02X" % o for o in octets)


def link_local(mac):
    """EUI-64 IPv6 link-local address of a MAC (universal/local bit flipped)."""
    octets = [int(p, 16) for p in mac.split(":")]
    octets[0] ^= 0x02
    packed = bytes([0xFE, 0x80, 0, 0, 0, 0, 0, 0, *octets[:3], 0xFF, 0xFE, *octets[3:]])
    return ntop(AF_INET6, packed)


def _int(desc, key, default, where, low=0, high=None):
    value = desc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
            high is not None and value > high):
        raise ConfigError("%s.%s: must be an integer >= %d, got %r" % (where, key, low, value))
    return value


def normalize_port(desc, index):
    """A port description (PORTS_FILE entry) with every default filled in."""
    where = "ports[%d]" % index
    if not isinstance(desc, dict) or not isinstance(desc.get("name"), str) or not desc["name"]:
        raise ConfigError("%s: needs a non-empty 'name'" % where)
    known = set(("name", "mac", "socket", "mtu", "rx_queues", "tx_queues", "speed", "duplex",
                 "autoneg", "link", "offloads", "stats", "mbuf_avail", "mbuf_inuse", "dev_info",
                 "ipv6_link_local", "queue_cpus", "role", "comment")) | set(FLAG_KEYS)
    unknown = sorted(set(desc) - known)
    if unknown:
        raise ConfigError("%s: unknown keys %s" % (where, ", ".join(unknown)))
    port = {
        "name": desc["name"],
        "mac": _mac(desc.get("mac", "00:00:00:00:00:%02X" % (index + 1)), where),
        "socket": _int(desc, "socket", 0, where),
        "mtu": _int(desc, "mtu", 1500, where, 68),
        "rx_queues": _int(desc, "rx_queues", 1, where, 1, 128),
        "tx_queues": _int(desc, "tx_queues", 1, where, 1, 128),
        "speed": _int(desc, "speed", 10000, where),
        "duplex": str(desc.get("duplex", "full-duplex")),
        "autoneg": str(desc.get("autoneg", "fixed-nego")),
        "link": str(desc.get("link", "UP")),
        "offloads": [str(x) for x in desc.get("offloads", [])],
        "mbuf_avail": _int(desc, "mbuf_avail", 16383, where),
        "mbuf_inuse": _int(desc, "mbuf_inuse", 0, where),
        "role": desc.get("role"),
    }
    if port["link"] not in ("UP", "DOWN"):
        raise ConfigError("%s.link: UP or DOWN" % where)
    for key in FLAG_KEYS:
        port[key] = bool(desc.get(key, key == "lldp"))
    stats = desc.get("stats", {})
    port["stats"] = dict((key, int(stats.get(key, 0))) for key in STATS_KEYS)
    info = dict(DEV_INFO_DEFAULTS)
    info.update(desc.get("dev_info", {}))
    port["dev_info"] = info
    lla = desc.get("ipv6_link_local", port["link"] == "UP" and port["mac"] != "00:00:00:00:00:00")
    port["ipv6_link_local"] = bool(lla)
    if "queue_cpus" in desc:
        port["queue_cpus"] = [[int(a), int(b)] for a, b in desc["queue_cpus"]]
    return port


def load_ports_config(path=None):
    """The daemon configuration: {"ports": [...], "workers": N} from PORTS_FILE or the lab."""
    if path is None:
        raw = {"ports": [dict(LAB_PORT)], "workers": 1}
    else:
        import json  # only at start: its messages name the line and column

        try:
            with open(path) as handle:
                raw = json.load(handle)
        except OSError as exc:
            raise ConfigError("%s: %s" % (path, exc.strerror or exc)) from None
        except ValueError as exc:
            raise ConfigError("%s: not JSON: %s" % (path, exc)) from None
        if isinstance(raw, list):
            raw = {"ports": raw}
        if not isinstance(raw, dict) or not isinstance(raw.get("ports"), list) or not raw["ports"]:
            raise ConfigError("%s: needs a non-empty 'ports' list" % path)
    unknown = sorted(set(raw) - set(("ports", "workers", "sa_pool_free", "comment")))
    if unknown:
        raise ConfigError("unknown top-level keys %s" % ", ".join(unknown))
    ports = [normalize_port(desc, i) for i, desc in enumerate(raw["ports"])]
    names = [p["name"] for p in ports]
    if len(set(names)) != len(names):
        raise ConfigError("port names must be unique")
    workers = _int(raw, "workers", 1, "workers", 1, 63)
    return {"ports": ports, "workers": workers,
            "sa_pool_free": _int(raw, "sa_pool_free", SA_POOL_FREE, "sa_pool_free")}


def fresh_runtime(config):
    """The runtime state of a daemon that just started: ports up, link-locals, nothing else."""
    from . import netstack  # local import: the tools that only read do not need it

    rt = {
        "seq": 0, "started": time.time(), "ports": [], "addrs": [], "rt4_local": [],
        "rt4_net": [], "rt6": [], "neigh": [], "svcs": [], "blklst": [], "whtlst": [],
    }
    for index, port in enumerate(config["ports"]):
        dev = dict(port)
        dev["id"] = index
        dev["kind"] = "phys"
        dev["mc"] = []
        rt["ports"].append(dev)
    for dev in rt["ports"]:
        # the link-local address (its solicited-node group first), then idev_add_mcast_init():
        # all-nodes, all-routers; the HW list keeps that order (transcript 03)
        if dev["ipv6_link_local"]:
            addr = link_local(dev["mac"])
            netstack.addr_add(rt, AF_INET6, pton(AF_INET6, addr), 64, dev["name"],
                              scope=netstack.SCOPE_LINK)
        if dev["link"] == "UP":
            netstack.mc_add(dev, "33:33:00:00:00:01")
            netstack.mc_add(dev, "33:33:00:00:00:02")
    return rt
