"""The benchmarks' latency relay (sandbox.latency): a round trip per exchange, bytes intact."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from sandbox.latency import start_relay

RTT = 0.08


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    """A loopback server that sends back whatever it reads, until the client ends."""
    server = socket.create_server(("127.0.0.1", 0))

    def echo_one(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=echo_one, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()
    server.close()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_each_exchange_costs_one_round_trip_and_the_bytes_come_back_whole(echo) -> None:
    relay = start_relay({"echo": echo}, rtt=RTT)
    try:
        with socket.create_connection(("127.0.0.1", _port(relay.urls["echo"]))) as conn:
            took = []
            for _ in range(3):
                started = time.perf_counter()
                conn.sendall(b"ping")
                assert conn.recv(16) == b"ping"
                took.append(time.perf_counter() - started)
            # One exchange waits the whole round trip, not half of it and not two.
            assert all(RTT * 0.95 <= t < RTT * 1.9 for t in took), took

            payload = os.urandom(1 << 20)  # many chunks: order and content must survive
            conn.sendall(payload)
            got = bytearray()
            while len(got) < len(payload):
                got += conn.recv(1 << 16)
            assert bytes(got) == payload

            conn.shutdown(socket.SHUT_WR)  # end of stream is relayed too
            conn.settimeout(2)
            assert conn.recv(16) == b""
    finally:
        relay.stop()
    assert not relay.process.is_alive()


def test_answers_sent_at_once_arrive_together_after_one_round_trip(echo) -> None:
    """Concurrent exchanges overlap: latency is a delay, not a queue."""
    relay = start_relay({"echo": echo}, rtt=RTT)
    try:
        conns = [socket.create_connection(("127.0.0.1", _port(relay.urls["echo"])))
                 for _ in range(8)]
        started = time.perf_counter()
        for i, conn in enumerate(conns):
            conn.sendall(bytes([i]) * 10)
        for i, conn in enumerate(conns):
            assert conn.recv(16) == bytes([i]) * 10
        assert time.perf_counter() - started < RTT * 1.9
        for conn in conns:
            conn.close()
    finally:
        relay.stop()
