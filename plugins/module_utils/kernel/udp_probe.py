# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bounded burst of UDP datagrams to a list of ports, counting the answers (udp_probe).

Each datagram carries ``dpvs-probe PORT SEQ`` at its start, so an echo that returns the
payload (and may append to it) is matched to what was sent. One unconnected socket per port:
answers from any address are received and their source reported (behind a forwarder the
answers must come from the address the probe sent to).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import selectors
import socket
import time

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError, item_path
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel.forwarder import port_item

# b"dpvs-probe 7890 17 ......" (the payload head; echoes may append after the padding)
PAYLOAD_RE = re.compile(rb"^dpvs-probe (?P<port>\d+) (?P<seq>\d+) ")
MAX_PORTS = 1024
MIN_PAYLOAD = 32


def expand_ports(values, var="ports"):
    """Ports and ranges ("7890-7900") -> a sorted list of distinct ports."""
    if not isinstance(values, list) or not values:
        raise InputError(var, values, "a non-empty list of ports or ranges")
    found = set()
    for index, value in enumerate(values):
        low, high = port_item(item_path(var, index), value)
        found.update(range(low, high + 1))
    if len(found) > MAX_PORTS:
        raise InputError(var, values, f"{len(found)} ports; at most {MAX_PORTS} per probe")
    return sorted(found)


def payload(port, seq, size):
    head = b"dpvs-probe %d %d " % (port, seq)
    return head + b"." * max(0, size - len(head))


def parse_answer(data):
    """``(port, seq)`` from an answer, or None when it is not one of ours."""
    match = PAYLOAD_RE.match(data)
    if not match:
        return None
    return int(match.group("port")), int(match.group("seq"))


def _drain(sock, counters, stats):
    while True:
        try:
            data, source = sock.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # e.g. ECONNREFUSED reported on the socket
            stats["receive_errors"] += 1
            stats["last_error"] = str(exc)
            return
        answer = parse_answer(data)
        if answer is None or answer[0] not in counters:
            stats["foreign"] += 1
            continue
        entry = counters[answer[0]]
        entry["reply_sources"].add(f"{source[0]}:{source[1]}")
        if answer[1] in entry["seen"]:
            entry["duplicates"] += 1
        elif 0 <= answer[1] < entry["sent"]:
            entry["seen"].add(answer[1])


class _Burst:
    """The sockets, counters and clock of one probe; :func:`probe` drives it."""

    def __init__(self, host, ports, size, clock):
        self.host = host
        self.ports = ports
        self.size = size
        self.clock = clock
        self.selector = selectors.DefaultSelector()
        self.sockets = {}
        self.counters = {
            port: {"sent": 0, "send_errors": 0, "seen": set(), "duplicates": 0, "reply_sources": set()}
            for port in ports
        }
        self.stats = {"receive_errors": 0, "foreign": 0, "last_error": None}

    def open(self, bind_address):
        """One non-blocking socket per port, registered for reading."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for port in self.ports:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            if bind_address:
                sock.bind((bind_address, 0))
            self.sockets[port] = sock
            self.selector.register(sock, selectors.EVENT_READ, port)

    def close(self):
        self.selector.close()
        for sock in self.sockets.values():
            sock.close()

    def receive(self, wait):
        """Drain the sockets that have answers within ``wait`` seconds."""
        for key, _events in self.selector.select(wait):
            _drain(key.fileobj, self.counters, self.stats)

    def send_one(self, port, seq):
        counter = self.counters[port]
        try:
            self.sockets[port].sendto(payload(port, seq, self.size), (self.host, port))
            counter["sent"] += 1
        except (BlockingIOError, InterruptedError):
            counter["send_errors"] += 1
        except OSError as exc:
            counter["send_errors"] += 1
            self.stats["last_error"] = str(exc)

    def send(self, count, rate):
        """``count`` datagrams per port, paced to ``rate`` per second (0: unpaced), reading answers meanwhile."""
        interval = 1.0 / rate if rate else 0.0
        next_send = self.clock()
        for seq in range(count):
            for port in self.ports:
                if interval:
                    delay = next_send - self.clock()
                    if delay > 0:
                        self.receive(delay)
                    next_send += interval
                self.send_one(port, seq)
            self.receive(0)

    def wait(self, timeout):
        """Read answers until every datagram is answered or ``timeout`` seconds have passed."""
        deadline = self.clock() + timeout
        while self.clock() < deadline:
            if all(len(entry["seen"]) == entry["sent"] for entry in self.counters.values()):
                break
            self.receive(max(0.0, min(0.1, deadline - self.clock())))

    def per_port(self):
        return {
            str(port): {
                "sent": entry["sent"],
                "send_errors": entry["send_errors"],
                "answered": len(entry["seen"]),
                "lost": entry["sent"] - len(entry["seen"]),
                "duplicates": entry["duplicates"],
                "reply_sources": sorted(entry["reply_sources"]),
            }
            for port, entry in self.counters.items()
        }


def probe(host, ports, count=100, size=64, rate=10000, timeout=2.0, bind_address=None, clock=time.monotonic):
    """Send ``count`` datagrams to every port of ``host``; wait up to ``timeout`` s after the last.

    ``rate`` is datagrams per second over all ports (0: as fast as the sockets take them).
    Returns totals and per-port ``sent``, ``answered``, ``lost``, ``duplicates``, ``reply_sources``.
    """
    burst = _Burst(host, ports, size, clock)
    started = clock()
    try:
        burst.open(bind_address)
        burst.send(count, rate)
        sending = clock() - started
        burst.wait(timeout)
    finally:
        burst.close()
    per_port = burst.per_port()
    sent = sum(entry["sent"] for entry in per_port.values())
    answered = sum(entry["answered"] for entry in per_port.values())
    return {
        "host": host,
        "sent": sent,
        "answered": answered,
        "lost": sent - answered,
        "send_errors": sum(entry["send_errors"] for entry in per_port.values()),
        "receive_errors": burst.stats["receive_errors"],
        "foreign": burst.stats["foreign"],
        "last_error": burst.stats["last_error"],
        "reply_sources": sorted({source for entry in per_port.values() for source in entry["reply_sources"]}),
        "ports": per_port,
        "sending_seconds": round(sending, 3),
        "seconds": round(clock() - started, 3),
    }
