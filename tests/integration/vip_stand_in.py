"""A stand-in for a DPVS VIP with its real server, for the network-namespace tier (no DPVS).

Run inside a namespace whose address is the "VIP" with
``ip netns exec NS python vip_stand_in.py serve CONFIG.json``; it answers on the VIP itself:

* TCP ports: ``listen`` (accept, hold the connection, never answer), ``answer`` (accept and
  send ``HTTP/1.0 200 OK`` once a byte arrives), ``drop_syn`` is not this script's (an iptables
  rule of the test);
* UDP ports: an echo (``dpvs-probe PORT SEQ ...`` comes back as sent).

Playing the parts DPVS and the real server would, it keeps in files of the test's tmp dir:

* ``ipvs``: per service and real server ``conns`` as DPVS's ``ipvsadm -ln --stats`` counts them
  (one per accepted TCP connection, one per new UDP flow), read by ``ipvsadm`` below;
* ``proc_net``/toa_stats and uoa_stats in the exact format of DPVS v1.10.2's kmod/toa/toa.c and
  kmod/uoa/uoa.c: ``syn_recv_sock_toa`` grows per accepted connection when ``toa`` is on,
  ``uoa_got`` per datagram among the first 3 of a flow (DPVS's uoa_max_trail) when ``uoa`` is on
  (each while the file ``toa_flag`` / ``uoa_flag`` of the config exists).

``python vip_stand_in.py ipvsadm CONFIG.json ARGS...`` prints ``ipvsadm -ln`` and ``ipvsadm -ln
--stats --exact`` in DPVS v1.10.2's format (transcripts 101 and 79) from that file, for
dpvs.cluster.dpvs_info. Prints ``ready`` once every socket is bound.
"""

import json
import os
import selectors
import socket
import subprocess
import sys

TOA_NAMES = ("syn_recv_sock_toa", "syn_recv_sock_no_toa", "getname_toa_ok", "getname_toa_mismatch",
             "getname_toa_bypass", "getname_toa_empty")  # fmt: skip
UOA_HEADER = " Success     Miss  Invalid|UOA  Got     None    Saved Ack-Fail\n"
UOA_TRAIL = 3


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


class State:
    def __init__(self, config):
        self.config = config
        self.toa = dict.fromkeys(TOA_NAMES, 0)
        self.uoa = {"success": 0, "miss": 0, "invalid": 0, "uoa_got": 0, "uoa_none": 0, "uoa_saved": 0, "ack": 0}
        self.services = [dict(svc, conns=0) for svc in config["services"]]
        self.flows = {}
        self.save()

    def carries(self, name):
        """Whether the client address arrives (TOA or UOA): on while the test's flag file exists."""
        flag = self.config.get(f"{name}_flag")
        return bool(flag) and os.path.exists(flag)

    def count(self, protocol, port):
        """One more connection for DPVS's Conns of the service (when the test declares one)."""
        for svc in self.services:
            if svc["protocol"] == protocol and svc["port"] == port:
                svc["conns"] += 1

    def accepted(self, port):
        self.count("tcp", port)
        self.toa["syn_recv_sock_toa" if self.carries("toa") else "syn_recv_sock_no_toa"] += 1
        self.save()

    def datagram(self, port, source):
        count = self.flows.get((port, source), 0)
        self.flows[(port, source)] = count + 1
        if count == 0:
            self.count("udp", port)
        if count < UOA_TRAIL and self.carries("uoa"):
            self.uoa["uoa_got"] += 1
            self.uoa["uoa_saved"] += 1
        else:
            self.uoa["uoa_none"] += 1
        self.save()

    def save(self):
        proc = self.config["proc_net"]
        # toa_stats_show(): two online CPUs; this stand-in counts everything on CPU0
        text = "                                  CPU0       CPU1       \n"
        for name in TOA_NAMES:
            text += f"{name:<25}:{self.toa[name]:>10} {0:>10} \n"
        write(os.path.join(proc, "toa_stats"), text)
        values = [self.uoa[k] for k in ("success", "miss", "invalid", "uoa_got", "uoa_none", "uoa_saved", "ack")]
        write(os.path.join(proc, "uoa_stats"), UOA_HEADER + " ".join(f"{v:>8}" for v in values) + "\n")
        write(self.config["ipvs"], json.dumps(self.services))


def serve(config):
    state = State(config)
    selector = selectors.DefaultSelector()
    for svc in config["listen"]:
        kind = socket.SOCK_STREAM if svc["protocol"] == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((config["vip"], svc["port"]))
        if kind == socket.SOCK_STREAM:
            sock.listen(128)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, ("listen", svc))
    print("ready", flush=True)
    held = []
    while True:
        for key, _events in selector.select():
            role, svc = key.data
            if role == "listen" and svc["protocol"] == "udp":
                data, source = key.fileobj.recvfrom(65535)
                state.datagram(svc["port"], source)
                key.fileobj.sendto(data, source)
            elif role == "listen":
                conn, _peer = key.fileobj.accept()
                conn.setblocking(False)
                state.accepted(svc["port"])
                held.append(conn)
                if svc["mode"] == "answer":
                    selector.register(conn, selectors.EVENT_READ, ("conn", svc))
            else:
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if data:
                    key.fileobj.send(b"HTTP/1.0 200 OK\r\n\r\n")
                selector.unregister(key.fileobj)
                key.fileobj.close()


def ipvsadm(config, args):
    """``ipvsadm -ln`` and ``ipvsadm -ln --stats --exact`` of the services in the state file."""
    with open(config["ipvs"]) as handle:
        services = json.load(handle)
    out = ["IP Virtual Server version 1.10.2 (size=0)"]
    stats = "--stats" in args
    if stats:
        out.append("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes")
        out.append("  -> RemoteAddress:Port")
    else:
        out.append("Prot LocalAddress:Port Scheduler Flags")
        out.append("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn")
    for svc in services:
        head = f"{svc['protocol'].upper()}  {svc['vip']}:{svc['port']}"
        rs = f"{svc['rs_ip']}:{svc['rs_port']}"
        if stats:
            numbers = f" {svc['conns']:>8}" + f" {0:>8}" * 4
            out += [f"{head:<33}{numbers}", f"  -> {rs:<28}{numbers}"]
        else:
            out += [f"{head} rr", f"  -> {rs:<28} FullNat 1      0          0         "]
    print("\n".join(out))


def start(lab, config_path, namespace="B"):
    """Start ``serve`` in ``namespace`` of a netns_lab.Lab (stopped by ``lab.down()``)."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns[namespace], sys.executable, os.path.abspath(__file__), "serve", config_path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lab.processes.append(proc)
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise AssertionError(f"the stand-in did not start: {line!r} {proc.stderr.read()[-2000:]}")
    return proc


def ipvsadm_wrapper(directory, config_path):
    """An executable ``ipvsadm`` that prints the stand-in's tables (for dpvs_info's ipvsadm_path)."""
    path = os.path.join(directory, "ipvsadm")
    with open(path, "w") as handle:
        handle.write(f'#!/bin/sh\nexec {sys.executable} {os.path.abspath(__file__)} ipvsadm {config_path} "$@"\n')
    os.chmod(path, 0o755)
    return path


def main():
    command, path = sys.argv[1], sys.argv[2]
    with open(path) as handle:
        config = json.load(handle)
    if command == "serve":
        serve(config)
    else:
        ipvsadm(config, sys.argv[3:])


if __name__ == "__main__":
    main()
