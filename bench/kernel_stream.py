"""KernelStack over loopback against plain blocking Python sockets, in the same run.

What our event-loop driver costs on top of the kernel: bulk send (our stack → a blocking
reader thread), bulk receive (a blocking writer thread → our stack) and small request/
response round trips, each against the same transfer done with blocking ``socket`` calls.
Run: ``python -m bench.kernel_stream`` (medians of several runs, ratios ours/peer).
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable

from minternet.drivers.kernel import KernelStack
from minternet.drivers.realtime import RealtimeLoop

LO = "127.0.0.1"
SIZE = 64 * 1024 * 1024
CHUNK = 256 * 1024
ROUND_TRIPS = 5000
RUNS = 5


def _server(handler: Callable[[socket.socket], None]) -> tuple[socket.socket, threading.Thread]:
    srv = socket.create_server((LO, 0))

    def accept_one() -> None:
        conn, _ = srv.accept()
        with conn:
            handler(conn)

    t = threading.Thread(target=accept_one, daemon=True)
    t.start()
    return srv, t


def _sink(conn: socket.socket) -> None:
    while conn.recv(1 << 20):
        pass


def _source(conn: socket.socket) -> None:
    block = bytes(CHUNK)
    for _ in range(SIZE // CHUNK):
        conn.sendall(block)


def _echo(conn: socket.socket) -> None:
    while data := conn.recv(4096):
        conn.sendall(data)


def ours_send() -> float:
    srv, t = _server(_sink)
    loop = RealtimeLoop()
    stack = KernelStack(loop)

    async def main() -> None:
        conn = await stack.tcp_connect(srv.getsockname())
        block = bytes(CHUNK)
        for _ in range(SIZE // CHUNK):
            await conn.send(block)
        await conn.close()

    t0 = time.perf_counter()
    loop.run_until_complete(loop.create_task(main()))
    t.join()
    dt = time.perf_counter() - t0
    srv.close()
    loop.close()
    return SIZE / dt / 1e6


def peer_send() -> float:
    srv, t = _server(_sink)
    t0 = time.perf_counter()
    with socket.create_connection(srv.getsockname()) as c:
        _source(c)
    t.join()
    dt = time.perf_counter() - t0
    srv.close()
    return SIZE / dt / 1e6


def ours_recv() -> float:
    srv, t = _server(_source)
    loop = RealtimeLoop()
    stack = KernelStack(loop)

    async def main() -> int:
        conn = await stack.tcp_connect(srv.getsockname())
        n = 0
        while data := await conn.recv(1 << 20):
            n += len(data)
        await conn.close()
        return n

    t0 = time.perf_counter()
    n = loop.run_until_complete(loop.create_task(main()))
    dt = time.perf_counter() - t0
    t.join()
    assert n == SIZE
    srv.close()
    loop.close()
    return SIZE / dt / 1e6


def peer_recv() -> float:
    srv, t = _server(_source)
    t0 = time.perf_counter()
    n = 0
    with socket.create_connection(srv.getsockname()) as c:
        while data := c.recv(1 << 20):
            n += len(data)
    dt = time.perf_counter() - t0
    t.join()
    assert n == SIZE
    srv.close()
    return SIZE / dt / 1e6


def ours_rtt() -> float:
    srv, t = _server(_echo)
    loop = RealtimeLoop()
    stack = KernelStack(loop)

    async def main() -> None:
        conn = await stack.tcp_connect(srv.getsockname())
        for _ in range(ROUND_TRIPS):
            await conn.send(b"x" * 64)
            got = 0
            while got < 64:
                got += len(await conn.recv(4096))
        await conn.close()

    t0 = time.perf_counter()
    loop.run_until_complete(loop.create_task(main()))
    dt = time.perf_counter() - t0
    t.join()
    srv.close()
    loop.close()
    return ROUND_TRIPS / dt


def peer_rtt() -> float:
    srv, t = _server(_echo)
    t0 = time.perf_counter()
    with socket.create_connection(srv.getsockname()) as c:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(ROUND_TRIPS):
            c.sendall(b"x" * 64)
            got = 0
            while got < 64:
                got += len(c.recv(4096))
    dt = time.perf_counter() - t0
    t.join()
    srv.close()
    return ROUND_TRIPS / dt


def main() -> None:
    print(f"KernelStack vs blocking Python sockets over loopback (median of {RUNS})")
    for label, unit, ours, peer in [
        ("bulk send 64 MiB", "MB/s", ours_send, peer_send),
        ("bulk recv 64 MiB", "MB/s", ours_recv, peer_recv),
        ("64-byte round trips", "/s", ours_rtt, peer_rtt),
    ]:
        o = statistics.median(ours() for _ in range(RUNS))
        p = statistics.median(peer() for _ in range(RUNS))
        print(f"  {label:22} ours {o:10.1f} {unit:5}  peer {p:10.1f} {unit:5}  ratio {o / p:.2f}")


if __name__ == "__main__":
    main()
