"""TCP: bulk throughput, memory per idle connection, 10,000 connections, kernel reference.

Run ``python -m bench.tcp_bulk`` (``--quick`` for a smaller run). Prints medians; the
throughput is quoted against the kernel's loopback TCP measured in the same run, since the
machines are shared and noisy. "cpu" figures divide by this process's CPU time, "wall" by
the wall clock.
"""

from __future__ import annotations

import argparse
import gc
import socket
import statistics
import threading
import time
import tracemalloc
from typing import Any

from minternet.sim.wire import wire_net
from minternet.tcp.connection import TcpConfig

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"


def sim_bulk(
    size: int, make_net: Any = wire_net, config: Any = TcpConfig
) -> tuple[float, float, int]:
    """``size`` bytes one way through one simulated link (MTU 1500, 1 ms, no loss).

    ``make_net``/``config``: ``wire_net`` and ``TcpConfig`` of another copy of the package
    (``bench.tcp_ab`` compares two checkouts in one process)."""
    net = make_net(1, latency=0.001, mtu=1500)
    a = net.add(CLIENT, "laptop", config())
    b = net.add(SERVER, "www", config())
    listener = b.listen(80)
    data = bytes(size)
    got = [0]

    async def server() -> None:
        s = await listener.accept()
        while chunk := await s.recv(1 << 20):
            got[0] += len(chunk)

    async def client() -> None:
        s = await a.connect((SERVER, 80))
        await s.send(data)
        s.shutdown()

    net.loop.create_task(server())
    net.loop.create_task(client())
    w0, c0 = time.perf_counter(), time.process_time()
    net.loop.run(until=3600)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert got[0] == size, "the transfer did not complete"
    return size / wall / 1e6, size / cpu / 1e6, net.wire.stats.sent


def world_bulk(size: int, world_class: Any = None) -> tuple[float, float, float] | None:
    """``size`` bytes laptop -> www through the default world (four routers, ARP, IPv4).

    Returns (MB/s wall, MB/s cpu, simulated seconds), or None without the network layer.
    ``world_class``: the ``World`` of another copy of the package (``bench.tcp_ab``).
    """
    if world_class is None:
        try:
            from minternet.sim.world import World
        except ImportError:
            return None
        world_class = World
    world = world_class.default(seed=1)
    laptop, www = world.node("laptop"), world.node("www")
    listener = www.tcp_listen(80)
    data = bytes(size)
    got = [0]

    async def server() -> None:
        s = await listener.accept()
        while chunk := await s.recv(1 << 20):
            got[0] += len(chunk)

    async def client() -> None:
        s = await laptop.tcp_connect((www.address, 80))
        await s.send(data)
        s.shutdown()

    world.loop.create_task(server())
    world.loop.create_task(client())
    w0, c0 = time.perf_counter(), time.process_time()
    world.loop.run(until=3600)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert got[0] == size, "the transfer did not complete"
    return size / wall / 1e6, size / cpu / 1e6, world.loop.now()


def kernel_loopback(size: int) -> float:
    """The kernel's TCP over 127.0.0.1: MB/s of one bulk transfer (the reference)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    chunk = bytes(1 << 16)

    def sender() -> None:
        c = socket.create_connection(("127.0.0.1", port))
        left = size
        while left > 0:
            n = c.send(chunk[: min(left, len(chunk))])
            left -= n
        c.close()

    t = threading.Thread(target=sender)
    w0 = time.perf_counter()
    t.start()
    conn, _ = srv.accept()
    got = 0
    while data := conn.recv(1 << 20):
        got += len(data)
    wall = time.perf_counter() - w0
    t.join()
    conn.close()
    srv.close()
    assert got == size
    return size / wall / 1e6


def open_connections(n: int, measure_memory: bool) -> tuple[float, float, float, float]:
    """``n`` concurrent established connections between two stacks.

    Returns (CPU seconds to open, bytes per endpoint, CPU seconds to close all, total MB).
    Memory is traced only when asked (tracemalloc slows every allocation down).
    """
    net = wire_net(2, latency=0.001)
    a = net.add(CLIENT, "laptop", TcpConfig(msl=1.0))
    b = net.add(SERVER, "www", TcpConfig(msl=1.0))
    listener = b.listen(80, backlog=n)
    net.loop.run(until=0.5)
    gc.collect()
    if measure_memory:
        tracemalloc.start()
    m0 = tracemalloc.get_traced_memory()[0]
    c0 = time.process_time()
    futs = [a.connect((SERVER, 80)) for _ in range(n)]
    accepts = [listener.accept() for _ in range(n)]
    net.loop.run(until=net.loop.now() + 5)
    t_open = time.process_time() - c0
    assert all(f.done() and f.exception() is None for f in futs), "not all connections opened"
    gc.collect()
    m1 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    c1 = time.process_time()
    for f in futs:
        f.result().close()
    for f in accepts:
        f.result().close()
    net.loop.run(until=net.loop.now() + 10)
    t_close = time.process_time() - c1
    assert not a.sockets and not b.sockets, "connections left over"
    return t_open, (m1 - m0) / (2 * n), t_close, (m1 - m0) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    args = ap.parse_args()
    runs = 3 if args.quick else 5
    size = (8 if args.quick else 32) << 20
    n_conns = 2000 if args.quick else 10_000

    results, kernels = [], []
    for _ in range(runs):  # interleaved (ours, kernel, ours, …): the noise hits both alike
        results.append(sim_bulk(size))
        kernels.append(kernel_loopback(256 << 20))
    wall = statistics.median(r[0] for r in results)
    cpu = statistics.median(r[1] for r in results)
    kernel = statistics.median(kernels)
    print(f"TCP bulk, one simulated link (MTU 1500, no loss), {size >> 20} MiB, median of {runs}:")
    print(f"  ours   {wall:8.1f} MB/s wall  {cpu:8.1f} MB/s cpu   ({results[0][2]} segments)")
    print(f"  kernel {kernel:8.1f} MB/s wall (loopback TCP, same run)")
    print(f"  ratio ours/kernel: {wall / kernel:.4f} (wall)")
    worlds = [world_bulk(size // 4) for _ in range(runs)]
    if all(w is not None for w in worlds):
        w_wall = statistics.median(w[0] for w in worlds if w)
        w_cpu = statistics.median(w[1] for w in worlds if w)
        print(
            f"  default world, laptop -> www through 4 routers, {size >> 22} MiB:"
            f" {w_wall:.1f} MB/s wall, {w_cpu:.1f} MB/s cpu"
        )
    else:
        print("  default world: not measured (no network layer in this checkout)")
    _, per_conn, _, _ = open_connections(2000, measure_memory=True)
    print(f"memory per idle established endpoint: {per_conn / 1024:.1f} KiB (tracemalloc, 2,000)")
    _, per_conn, _, total = open_connections(n_conns, measure_memory=True)
    t_open, _, t_close, _ = open_connections(n_conns, measure_memory=False)
    print(
        f"{n_conns:,} concurrent connections in one simulation: open {t_open:.2f} s cpu"
        f" ({t_open / n_conns * 1e6:.0f} us per connection, both ends), close {t_close:.2f} s"
        f" cpu, {total:.1f} MB traced ({per_conn / 1024:.1f} KiB per endpoint)"
    )


if __name__ == "__main__":
    main()
