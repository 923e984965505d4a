"""tcp_probe's inputs, and the probe on the loopback (the namespace tier drops SYNs for real:
tests/integration/test_netns_tcp_probe.py)."""

import contextlib
import socket
import threading

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.common.inputs import InputError
from ansible_collections.dpvs.cluster.plugins.module_utils.kernel import tcp_probe as tp


def test_targets_as_dicts_and_text_in_order_without_duplicates():
    assert tp.parse_targets(["10.0.96.204:80", {"host": "2001:db8::0:1", "port": "443"}, "[2001:db8::1]:443"]) == [
        ("10.0.96.204", 80),
        ("2001:db8::1", 443),
    ]
    assert tp.target_key("2001:db8::1", 443) == "[2001:db8::1]:443"


@pytest.mark.parametrize(
    "value, path",
    [
        ([], "targets"),
        (["10.0.96.204"], r"targets\[0\]"),
        (["10.0.96.204:0"], r"targets\[0\]\.port"),
        ([{"host": "vip", "port": 80}], r"targets\[0\]\.host"),
    ],
)
def test_bad_targets_name_the_item(value, path):
    with pytest.raises(InputError, match=f"^{path}: "):
        tp.parse_targets(value)


@pytest.fixture
def server():
    """A loopback listener that answers the first byte of each connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _peer = sock.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(1)
                with contextlib.suppress(OSError):
                    if conn.recv(100):
                        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join(2)
    sock.close()


def closed_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_answered_and_refused_on_the_loopback(server):
    closed = closed_port()
    targets = [("127.0.0.1", server), ("127.0.0.1", closed)]
    result = tp.probe(targets, count=10, rate=500, timeout=2.0, request=b"HEAD /")
    assert result["targets"][f"127.0.0.1:{server}"] == {
        "attempted": 10, "connected": 10, "answered": 10, "refused": 0, "timed_out": 0, "errors": 0,
        "first_error": None, "local_addresses": ["127.0.0.1"],
    }  # fmt: skip
    refused = result["targets"][f"127.0.0.1:{closed}"]
    assert (refused["attempted"], refused["refused"], refused["answered"]) == (10, 10, 0)
    assert result["first_error"] == f"127.0.0.1:{closed}: connection refused"
    assert (result["attempted"], result["answered"], result["refused"]) == (20, 10, 10)
    assert result["seconds"] < 1.5


def test_the_rate_paces_the_starts(server):
    result = tp.probe([("127.0.0.1", server)], count=10, rate=40, timeout=1.0)
    assert result["answered"] == 10
    assert 0.2 <= result["seconds"] < 1.0  # 10 starts at 40/s: 9 intervals of 25 ms
