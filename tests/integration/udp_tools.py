"""The network-namespace tier's own UDP tools, independent of the collection's modules.

Run inside a namespace with ``ip netns exec NS python udp_tools.py ...``:

* ``echo --ports 7890-7900``: one socket per port on 0.0.0.0 (seed 000's echo servers, in
  one process); every datagram is sent back with `` seen-from ADDRESS:PORT`` appended, so the
  client learns the source address the server saw (SNAT). Prints ``ready`` once bound.
* ``burst --target ADDR --ports 7890-7900 --count 200``: seed 000's client, bounded: COUNT
  datagrams per port (``tier PORT SEQ``), then up to ``--timeout`` seconds for the answers;
  prints one JSON object with, per port, the datagrams sent and answered (distinct), where
  the answers came from, and which sources the server saw.
"""

import argparse
import contextlib
import json
import selectors
import socket
import sys
import time

SEEN = b" seen-from "


def port_range(text):
    ports = []
    for part in text.split(","):
        low, _sep, high = part.partition("-")
        ports.extend(range(int(low), int(high or low) + 1))
    return ports


def echo(args):
    selector = selectors.DefaultSelector()
    for port in port_range(args.ports):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((args.bind, port))
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    print("ready", flush=True)
    while True:
        for key, _events in selector.select():
            sock = key.fileobj
            while True:
                try:
                    data, source = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                reply = data + SEEN + f"{source[0]}:{source[1]}".encode()
                with contextlib.suppress(OSError):
                    sock.sendto(reply, source)


def burst(args):
    ports = port_range(args.ports)
    selector = selectors.DefaultSelector()
    state = {}
    for port in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, port)
        state[port] = {"sock": sock, "sent": 0, "answered": set(), "reply_sources": set(), "server_saw": set()}

    def drain(timeout):
        for key, _events in selector.select(timeout):
            entry = state[key.data]
            while True:
                try:
                    data, source = key.fileobj.recvfrom(65535)
                except OSError:  # BlockingIOError: drained
                    break
                head, _sep, seen = data.partition(SEEN)
                words = head.split()
                if len(words) >= 3 and words[0] == b"tier" and int(words[1]) == key.data:
                    entry["answered"].add(int(words[2]))
                    entry["reply_sources"].add(f"{source[0]}:{source[1]}")
                    entry["server_saw"].add(seen.decode().rsplit(":", 1)[0])

    started = time.monotonic()
    for seq in range(args.count):
        for port in ports:
            entry = state[port]
            try:
                entry["sock"].sendto(b"tier %d %d " % (port, seq) + b"x" * args.pad, (args.target, port))
                entry["sent"] += 1
            except OSError:
                pass
        if seq % 20 == 19:  # a bounded burst, not a flood: let the answers in
            drain(0.001)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if all(len(entry["answered"]) == entry["sent"] for entry in state.values()):
            break
        drain(0.05)
    result = {
        "seconds": round(time.monotonic() - started, 3),
        "ports": {
            str(port): {
                "sent": entry["sent"],
                "answered": len(entry["answered"]),
                "reply_sources": sorted(entry["reply_sources"]),
                "server_saw": sorted(entry["server_saw"]),
            }
            for port, entry in state.items()
        },
    }
    print(json.dumps(result))


def main(argv=None):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    server = sub.add_parser("echo")
    server.add_argument("--ports", required=True)
    server.add_argument("--bind", default="0.0.0.0")
    client = sub.add_parser("burst")
    client.add_argument("--target", required=True)
    client.add_argument("--ports", required=True)
    client.add_argument("--count", type=int, default=200)
    client.add_argument("--pad", type=int, default=64)
    client.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    if args.command == "echo":
        echo(args)
    else:
        burst(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
