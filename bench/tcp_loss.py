"""TCP under loss: how loss recovery spends time, in the simulator and against Linux.

Run ``python -m bench.tcp_loss`` (``--quick`` for fewer seeds and a smaller TAP transfer).

- **simulator**: 1 MiB one way through one simulated link (``minternet.sim.wire``, 5 ms,
  10 % loss each way) over several seeds: median virtual seconds and wall seconds, and how
  the sender recovered (fast retransmits, SACK retransmissions, tail loss probes, RTOs);
- **TAP** (root only): our TCP sends 10 MiB over a TAP device to the Linux kernel's TCP in
  a namespace, with 5 % of frames dropped each way *by the kernel* (nftables on a bridge,
  :meth:`minternet.drivers.netns.Namespace.bridge_loss`): MB/s and the same breakdown. The
  reference is the same transfer without loss in the same run.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import statistics
import subprocess
import sys
import textwrap
import time
from typing import Any

from minternet.sim.faults import Faults
from minternet.sim.wire import wire_net
from minternet.tcp.connection import TcpConfig
from minternet.trace.bus import TraceBus, TraceEvent

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"


def _recovery_counter(trace: TraceBus) -> collections.Counter[str]:
    """Count how the sender repaired losses, from the trace."""
    counts: collections.Counter[str] = collections.Counter()

    def on(ev: TraceEvent) -> None:
        if ev.layer != "tcp":
            return
        if ev.kind in ("rto", "tail-loss-probe", "lost-retransmission"):
            counts[ev.kind] += 1
        elif ev.kind == "retransmit":
            counts["retransmit"] += 1

    trace.subscribe(on)
    return counts


def sim_lossy(seed: int, size: int, loss: float) -> tuple[float, float, dict[str, int]]:
    """(virtual s, wall s, recovery counts) of ``size`` bytes one way at ``loss``."""
    net = wire_net(seed, faults=Faults(loss=loss), latency=0.005)
    counts = _recovery_counter(net.trace)
    a = net.add(CLIENT, "laptop", TcpConfig())
    b = net.add(SERVER, "www", TcpConfig())
    listener = b.listen(80)
    data = net.wire.random.child("data").random_bytes(size)
    got = bytearray()
    done: list[float] = []

    async def server() -> None:
        s = await listener.accept()
        while chunk := await s.recv(1 << 20):
            got.extend(chunk)
        done.append(net.loop.now())

    async def client() -> None:
        s = await a.connect((SERVER, 80))
        await s.send(data)
        s.shutdown()

    net.loop.create_task(server())
    net.loop.create_task(client())
    w0 = time.perf_counter()
    net.loop.run(until=36000)
    wall = time.perf_counter() - w0
    assert done and bytes(got) == data, "the transfer did not complete intact"
    return done[0], wall, dict(counts)


RECEIVER = """
import hashlib, socket
srv = socket.socket(); srv.bind(("{ip}", 9090)); srv.listen(1)
print("ready", flush=True)
s, _ = srv.accept(); h = hashlib.sha256(); n = 0
while chunk := s.recv(1 << 16):
    h.update(chunk); n += len(chunk)
print(n, h.hexdigest(), flush=True)
"""


def tap_lossy(size: int, loss: float) -> tuple[float, dict[str, Any]]:
    """MB/s of ``size`` bytes from our TCP to the kernel's over a TAP, ``loss`` by nft."""
    from minternet.drivers.entropy import SystemRandom
    from minternet.drivers.realtime import RealtimeLoop
    from minternet.drivers.tap import TapLink, TapPort, tap_network
    from minternet.drivers.tapservices import REAL_LINK_TCP
    from minternet.node.host import Host
    from minternet.node.tcp_host import attach_tcp

    with tap_network("10.84.0.0/24", kernel_loss=loss) as net:
        loop = RealtimeLoop()
        trace = TraceBus()
        counts = _recovery_counter(trace)
        host = Host("us", loop, SystemRandom(), trace)
        iface = host.add_interface("eth0", "02:00:00:00:84:02", net.host_ip, net.prefixlen)
        tcp = attach_tcp(host, REAL_LINK_TCP)
        port = TapPort(loop, net.tap, trace=trace, node="us", iface="eth0")
        TapLink(port, iface)
        port.start()
        proc = net.ns.popen(
            [sys.executable, "-c", textwrap.dedent(RECEIVER.format(ip=net.kernel_ip))],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        data = os.urandom(size)
        took: list[float] = []

        async def main() -> None:
            c = await tcp.connect((net.kernel_ip, 9090), timeout=10)
            t0 = loop.now()
            await c.send(data)
            c.shutdown()
            while await c.recv(1 << 16):
                pass
            took.append(loop.now() - t0)
            await c.close()

        try:
            loop.run_until_complete(loop.create_task(main()), timeout=600)
            line = proc.stdout.readline().split()
        finally:
            port.stop()
            loop.close()
        assert line == [str(size), hashlib.sha256(data).hexdigest()], "not byte-identical"
        info: dict[str, Any] = dict(counts)
        info["frames"] = net.loss_counters()
    return size / took[0] / 1e6, info


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.tcp_loss")
    ap.add_argument("--quick", action="store_true", help="fewer seeds, 4 MiB over the TAP")
    args = ap.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    seeds = range(1, 6 if args.quick else 12)
    runs = [sim_lossy(s, 1 << 20, 0.10) for s in seeds]
    virt = statistics.median(r[0] for r in runs)
    wall = statistics.median(r[1] for r in runs)
    total: collections.Counter[str] = collections.Counter()
    for r in runs:
        total.update(r[2])
    per = {k: round(v / len(runs), 1) for k, v in sorted(total.items())}
    print(
        f"sim 1 MiB one way, 10 % loss each way, one 5 ms link, {len(runs)} seeds: median "
        f"{virt:.2f} s virtual, {wall:.2f} s wall; per transfer {per}"
    )
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("TAP: skipped (needs root and /dev/net/tun)")
        return
    from minternet.drivers.netns import nft_available

    if not nft_available():
        print("TAP: skipped (needs nftables: the nft command and nf_tables in the kernel)")
        return
    size = (4 if args.quick else 10) << 20
    clean, _ = tap_lossy(size, 0.0)
    rates = []
    for _ in range(1 if args.quick else 3):
        rate, info = tap_lossy(size, 0.05)
        rates.append(rate)
        print(f"TAP {size >> 20} MiB to the kernel, 5 % loss by nft: {rate:.2f} MB/s; {info}")
    print(
        f"TAP {size >> 20} MiB: median {statistics.median(rates):.2f} MB/s at 5 % loss, "
        f"{clean:.2f} MB/s without loss (ratio {statistics.median(rates) / clean:.3f})"
    )


if __name__ == "__main__":
    main()
