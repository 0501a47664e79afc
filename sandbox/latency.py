"""A TCP relay that adds network latency on loopback, for benchmarks.

A remote source costs a round trip per HTTP exchange, and the client's work to
send a request overlaps that wait while its work to read the answer comes
after it. Sleeping before each call gets both wrong (one sleep however many
round trips a call makes, and the sending pushed behind the sleep). This relay
holds every chunk for half the round trip in each direction, as a network
does, and the kernel's `netem` is not available in a container. It costs a
few microseconds of CPU per chunk in its own process.

    relay = start_relay({"prom": ("127.0.0.1", 9090)}, rtt=0.1)  # -> {"prom": url}
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import time
from collections import deque
from dataclasses import dataclass

from sandbox import procs


class _Delayed:
    """One direction of a connection: chunks written `delay` seconds after they came,
    in order, end-of-stream included."""

    def __init__(self, loop: asyncio.AbstractEventLoop, delay: float) -> None:
        self.loop, self.delay = loop, delay
        self.queue: deque[tuple[float, bytes | None]] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self.out: asyncio.Transport | None = None

    def push(self, data: bytes | None) -> None:
        self.queue.append((self.loop.time() + self.delay, data))
        if self.timer is None:
            self.timer = self.loop.call_at(self.queue[0][0], self._flush)

    def _flush(self) -> None:
        self.timer = None
        if self.out is None:  # upstream not connected yet: try again shortly
            self.timer = self.loop.call_later(0.001, self._flush)
            return
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now:
            _, data = self.queue.popleft()
            if data is None:
                if self.out.can_write_eof():
                    self.out.write_eof()
            elif not self.out.is_closing():
                self.out.write(data)
        if self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self._flush)


class _Side(asyncio.Protocol):
    """Either end of a relayed connection: what it reads goes into `to_peer`."""

    def __init__(self, to_peer: _Delayed, from_peer: _Delayed) -> None:
        self.to_peer, self.from_peer = to_peer, from_peer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.from_peer.out = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.to_peer.push(data)

    def eof_received(self) -> bool:
        self.to_peer.push(None)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        out = self.to_peer.out
        if out is not None:
            self.to_peer.loop.call_later(self.to_peer.delay + 0.01, out.close)


async def _relay(listen_port: int, upstream: tuple[str, int], rtt: float) -> None:
    loop = asyncio.get_running_loop()

    def accepted() -> _Side:
        up, down = _Delayed(loop, rtt / 2), _Delayed(loop, rtt / 2)
        client_side = _Side(up, down)
        loop.create_task(loop.create_connection(lambda: _Side(down, up), *upstream))
        return client_side

    server = await loop.create_server(accepted, "127.0.0.1", listen_port)
    await server.serve_forever()


def _run(ports: dict[int, tuple[str, int]], rtt: float) -> None:
    async def main() -> None:
        await asyncio.gather(*(_relay(port, up, rtt) for port, up in ports.items()))
    asyncio.run(main())


@dataclass
class Relay:
    """The relay process and the URL that reaches each upstream through it."""

    process: multiprocessing.Process
    urls: dict[str, str]

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


def start_relay(upstreams: dict[str, tuple[str, int]], rtt: float) -> Relay:
    """One relay process with a loopback port per upstream, each adding `rtt` seconds
    per round trip."""
    ports = {name: procs.free_port() for name in upstreams}
    process = multiprocessing.get_context("spawn").Process(
        target=_run, args=({ports[n]: up for n, up in upstreams.items()}, rtt), daemon=True)
    process.start()
    deadline = time.monotonic() + 10
    for port in ports.values():
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    process.terminate()
                    raise RuntimeError("latency relay did not start") from None
                time.sleep(0.02)
    return Relay(process, {name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
