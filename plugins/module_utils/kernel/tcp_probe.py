# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bounded burst of TCP connections to a list of targets, counting the outcomes (tcp_probe).

Connections start round-robin over the targets, at most ``rate`` per second, and each lives at
most ``timeout`` seconds (handshake, and the answer when a request is sent): the burst ends within
about ``count * len(targets) / rate + timeout`` seconds. Everything is non-blocking on one
selector, so a target that drops SYNs costs its timeout once, not once per connection.

Outcomes per connection: ``answered`` (the handshake completed and, with a ``request``, at least
one byte came back), ``refused`` (a RST to the SYN), ``timed_out`` (no handshake, or no answer
to the request, within ``timeout``) or ``errors`` (anything else: unreachable, reset after the
request, closed without an answer). ``connected`` counts completed handshakes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import os
import selectors
import socket
import time

from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError, ip_address, item_path

MAX_TARGETS = 1024
MAX_COUNT = 100000
MAX_OPEN = 1000  # connections open at once (file descriptors); starts wait for a free slot
CONNECTING, SENDING, READING = "connecting", "sending", "reading"
IN_PROGRESS = (errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK)


def target_key(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_targets(values, var="targets"):
    """``[{"host": ..., "port": ...}]`` or ``"HOST:PORT"`` / ``"[V6]:PORT"`` -> ``[(host, port)]``, in order,
    duplicates dropped."""
    if not isinstance(values, list) or not values:
        raise InputError(var, values, "a non-empty list of targets")
    found = []
    for index, value in enumerate(values):
        path = item_path(var, index)
        if isinstance(value, dict):
            host, port = value.get("host"), value.get("port")
        elif isinstance(value, str) and ":" in value:
            host, _sep, port = value.rpartition(":")
        else:
            raise InputError(path, value, "a {host, port} dict or HOST:PORT")
        host = ip_address(f"{path}.host", host).compressed
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise InputError(f"{path}.port", port, "a port number 1..65535") from None
        if not 1 <= port <= 65535:
            raise InputError(f"{path}.port", port, "a port number 1..65535")
        if (host, port) not in found:
            found.append((host, port))
    if len(found) > MAX_TARGETS:
        raise InputError(var, len(found), f"at most {MAX_TARGETS} targets")
    return found


def _counters():
    return {
        "attempted": 0,
        "connected": 0,
        "answered": 0,
        "refused": 0,
        "timed_out": 0,
        "errors": 0,
        "first_error": None,
        "local_addresses": set(),
    }


class _Conn:
    __slots__ = ("deadline", "sent", "sock", "state", "target")

    def __init__(self, sock, target, deadline):
        self.sock = sock
        self.target = target
        self.deadline = deadline
        self.state = CONNECTING
        self.sent = 0


class _Burst:
    """The selector, the open connections and the counters of one probe; :func:`probe` drives it."""

    def __init__(self, targets, timeout, request, bind_address, clock):
        self.targets = targets
        self.timeout = timeout
        self.request = request
        self.bind_address = bind_address
        self.clock = clock
        self.selector = selectors.DefaultSelector()
        self.open = {}
        self.counters = {target: _counters() for target in targets}

    # -- outcomes ------------------------------------------------------------------------
    def _finish(self, conn, outcome, error=None):
        counter = self.counters[conn.target]
        counter[outcome] += 1
        if error and counter["first_error"] is None:
            counter["first_error"] = f"{target_key(*conn.target)}: {error}"
        del self.open[id(conn)]
        self.selector.unregister(conn.sock)
        conn.sock.close()

    def _failed(self, conn, err):
        if err == errno.ECONNREFUSED:
            self._finish(conn, "refused", "connection refused")
        elif err == errno.ETIMEDOUT:
            self._finish(conn, "timed_out", "connection timed out")
        else:
            self._finish(conn, "errors", os.strerror(err) if isinstance(err, int) else str(err))

    # -- starting ------------------------------------------------------------------------
    def start(self, target):
        counter = self.counters[target]
        counter["attempted"] += 1
        family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            counter["errors"] += 1
            counter["first_error"] = counter["first_error"] or f"{target_key(*target)}: {exc}"
            return
        sock.setblocking(False)
        conn = _Conn(sock, target, self.clock() + self.timeout)
        self.open[id(conn)] = conn
        self.selector.register(sock, selectors.EVENT_WRITE, conn)
        try:
            if self.bind_address:
                sock.bind((self.bind_address, 0))
            err = sock.connect_ex(target)
        except OSError as exc:
            err = exc.errno or str(exc)
        if err == 0:
            self._connected(conn)
        elif err not in IN_PROGRESS:
            self._failed(conn, err)

    # -- events --------------------------------------------------------------------------
    def _connected(self, conn):
        counter = self.counters[conn.target]
        counter["connected"] += 1
        with contextlib.suppress(OSError):
            counter["local_addresses"].add(conn.sock.getsockname()[0])
        if not self.request:
            self._finish(conn, "answered")
            return
        conn.state = SENDING
        self._send(conn)

    def _send(self, conn):
        try:
            conn.sent += conn.sock.send(self.request[conn.sent :])
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._finish(conn, "errors", f"sending the request: {exc.strerror or exc}")
            return
        if conn.sent >= len(self.request):
            conn.state = READING
            self.selector.modify(conn.sock, selectors.EVENT_READ, conn)

    def _read(self, conn):
        try:
            data = conn.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._finish(conn, "errors", f"waiting for the answer: {exc.strerror or exc}")
            return
        if data:
            self._finish(conn, "answered")
        else:
            self._finish(conn, "errors", "closed by the server without an answer")

    def handle(self, conn):
        if conn.state == CONNECTING:
            err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._failed(conn, err)
            else:
                self._connected(conn)
        elif conn.state == SENDING:
            self._send(conn)
        else:
            self._read(conn)

    def expire(self, now):
        for conn in [c for c in self.open.values() if c.deadline <= now]:
            what = "no handshake" if conn.state == CONNECTING else "no answer to the request"
            self._finish(conn, "timed_out", f"{what} within {self.timeout:g} s")

    def poll(self, wait):
        for key, _events in self.selector.select(max(0.0, wait)):
            if id(key.data) in self.open:
                self.handle(key.data)
        self.expire(self.clock())

    def next_deadline(self):
        return min((conn.deadline for conn in self.open.values()), default=None)

    def close(self):
        for conn in list(self.open.values()):
            conn.sock.close()
        self.open.clear()
        self.selector.close()

    def per_target(self):
        out = {}
        for target, counter in self.counters.items():
            entry = dict(counter)
            entry["local_addresses"] = sorted(counter["local_addresses"])
            out[target_key(*target)] = entry
        return out


def _run(burst, count, rate):
    """Start ``count`` connections per target at ``rate`` per second; then wait for the last ones."""
    interval = 1.0 / rate
    schedule = [target for _seq in range(count) for target in burst.targets]
    next_start = burst.clock()
    for target in schedule:
        while True:
            now = burst.clock()
            if now >= next_start and len(burst.open) < MAX_OPEN:
                break
            waits = [next_start - now] if now < next_start else []
            deadline = burst.next_deadline()
            if deadline is not None:
                waits.append(deadline - now)
            burst.poll(min(waits) if waits else 0.0)
        burst.start(target)
        next_start += interval
        burst.poll(0.0)
    while burst.open:
        burst.poll(burst.next_deadline() - burst.clock())


def probe(targets, count=20, rate=100, timeout=3.0, request=None, bind_address=None, clock=time.monotonic):
    """``count`` TCP connections to each ``(host, port)`` of ``targets``, ``rate`` per second in all.

    ``request`` (bytes): sent once connected; then an answer is at least one byte back. Returns
    totals, ``targets`` (per ``HOST:PORT``: attempted, connected, answered, refused, timed_out,
    errors, first_error, local_addresses), ``local_addresses`` and ``seconds``.
    """
    burst = _Burst(targets, timeout, request or b"", bind_address, clock)
    started = clock()
    try:
        _run(burst, count, rate)
    finally:
        burst.close()
    per_target = burst.per_target()
    totals = {
        key: sum(entry[key] for entry in per_target.values())
        for key in ("attempted", "connected", "answered", "refused", "timed_out", "errors")
    }
    first = [entry["first_error"] for entry in per_target.values() if entry["first_error"]]
    return dict(
        totals,
        first_error=first[0] if first else None,
        targets=per_target,
        local_addresses=sorted({a for entry in per_target.values() for a in entry["local_addresses"]}),
        seconds=round(clock() - started, 3),
    )
