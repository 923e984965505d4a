"""_udp_probe on the loopback: a real echo (thread) on two ports, and a port where nobody answers."""

import contextlib
import socket
import threading

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel import udp_probe as up


@pytest.fixture
def echo():
    socks = []
    for _index in range(2):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        socks.append(sock)
    stop = threading.Event()

    def serve(sock):
        while not stop.is_set():
            try:
                data, source = sock.recvfrom(65535)
            except socket.timeout:
                continue
            sock.sendto(data + b" seen-from x", source)
            if data.startswith(b"dpvs-probe") and data.split()[2] == b"3":
                sock.sendto(data, source)  # one duplicate answer per port

    threads = [threading.Thread(target=serve, args=(sock,), daemon=True) for sock in socks]
    for thread in threads:
        thread.start()
    yield [sock.getsockname()[1] for sock in socks]
    stop.set()
    for thread in threads:
        thread.join(2)
    for sock in socks:
        sock.close()


def closed_port():
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_every_datagram_answered_with_its_sources(echo):
    result = up.probe("127.0.0.1", echo, count=50, size=100, rate=0, timeout=2.0)
    assert result["sent"] == 100 and result["answered"] == 100 and result["lost"] == 0
    for port in echo:
        entry = result["ports"][str(port)]
        assert entry == {
            "sent": 50,
            "send_errors": 0,
            "answered": 50,
            "lost": 0,
            "duplicates": 1,
            "reply_sources": [f"127.0.0.1:{port}"],
        }
    assert result["reply_sources"] == sorted(f"127.0.0.1:{port}" for port in echo)


def test_nobody_listening_means_lost_and_the_timeout_bounds_the_wait(echo):
    silent = closed_port()
    result = up.probe("127.0.0.1", [echo[0], silent], count=10, rate=1000, timeout=0.3)
    assert result["ports"][str(echo[0])]["answered"] == 10
    assert result["ports"][str(silent)]["answered"] == 0
    assert result["lost"] == 10
    assert result["seconds"] < 5


def test_expand_ports():
    assert up.expand_ports([7890, "7892-7894", "7891"]) == [7890, 7891, 7892, 7893, 7894]
    with pytest.raises(InputError, match=r"ports\[1\]: the range is backwards"):
        up.expand_ports([1, "9-3"])
    with pytest.raises(InputError, match="at most 1024"):
        up.expand_ports(["1-2000"])
    with pytest.raises(InputError, match="non-empty"):
        up.expand_ports([])


def test_payload_and_parse():
    data = up.payload(7890, 17, 64)
    assert len(data) == 64
    assert up.parse_answer(data + b" seen-from 10.0.0.1:1") == (7890, 17)
    assert up.parse_answer(b"something else") is None
