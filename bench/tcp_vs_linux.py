"""Our TCP against Linux's under 5 % loss each way, and Linux against itself (root only).

Run ``python -m bench.tcp_vs_linux`` (``--quick``: 2 MiB, one run of each).

Three transfers of the same size, each with the Linux kernel dropping 5 % of the frames in
each direction (nftables on a bridge, :meth:`minternet.drivers.netns.Namespace.bridge_loss`,
as ``tests/tcp/test_tcp_tap*.py`` do), for NewReno (Linux: ``reno``) and CUBIC:

- **ours → Linux**: our host on a TAP sends to a kernel receiver in the namespace;
- **Linux → ours**: a kernel sender in the namespace sends to our host's receiver;
- **Linux → Linux**: a kernel sender in one namespace, a kernel receiver in another, joined
  by veth pairs through a bridge with the same nft rules (the reference, same run).

Goodput is timed at the receiver, from the accepted connection to the sender's FIN; the
senders' congestion control is chosen per socket (``TCP_CONGESTION``) or per host
(:class:`~minternet.tcp.connection.TcpConfig`). Also printed: the same transfers without
loss, so that "what loss costs" (lossy ÷ clean) can be compared apart from raw speed — our
TCP is bound by Python's per-segment cost long before the kernel's is.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager

from minternet.drivers.netns import Namespace, link_name, unique_suffix

LINUX_CC = {"newreno": "reno", "cubic": "cubic"}
PORT = 9090

RECEIVER = """
import hashlib, socket, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("{ip}", {port})); srv.listen(1)
print("ready", flush=True)
s, _ = srv.accept(); t0 = time.monotonic(); h = hashlib.sha256(); n = 0
while chunk := s.recv(1 << 16):
    h.update(chunk); n += len(chunk)
print(n, h.hexdigest(), time.monotonic() - t0, flush=True)
"""

SENDER = """
import os, socket, sys
data = bytes.fromhex(sys.stdin.readline().strip()) * {repeat}
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"{cc}")
s.connect(("{ip}", {port})); s.sendall(data); s.shutdown(socket.SHUT_WR)
while s.recv(1 << 16):
    pass
"""

BLOCK = 1 << 16  # the kernel sender repeats one random block (sent to it on stdin)


def _digest(block: bytes, size: int) -> str:
    return hashlib.sha256(block * (size // len(block))).hexdigest()


def start_receiver(ns: Namespace, ip: str) -> subprocess.Popen[str]:
    proc = ns.popen(
        [sys.executable, "-c", textwrap.dedent(RECEIVER.format(ip=ip, port=PORT))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def start_sender(ns: Namespace, ip: str, block: bytes, size: int, cc: str) -> subprocess.Popen[str]:
    src = SENDER.format(ip=ip, port=PORT, repeat=size // len(block), cc=LINUX_CC[cc])
    proc = ns.popen([sys.executable, "-c", textwrap.dedent(src)], stdin=subprocess.PIPE, text=True)
    assert proc.stdin is not None
    proc.stdin.write(block.hex() + "\n")
    proc.stdin.close()
    return proc


def received_seconds(proc: subprocess.Popen[str], block: bytes, size: int) -> float:
    """Seconds the receiver measured (accept to the sender's FIN); checks the bytes
    arrived intact."""
    assert proc.stdout is not None
    n, digest, seconds = proc.stdout.readline().split()
    assert int(n) == size and digest == _digest(block, size), "not byte-identical"
    return float(seconds)


def _received(proc: subprocess.Popen[str], block: bytes, size: int) -> float:
    """MB/s the receiver measured; checks the bytes arrived intact."""
    return size / received_seconds(proc, block, size) / 1e6


def linux_to_linux(size: int, loss: float, cc: str) -> float:
    """Kernel → kernel across two namespaces, a bridge between them dropping ``loss``."""
    with Namespace() as a, Namespace() as b:
        suffix = unique_suffix()
        va, vx = link_name("va", suffix), link_name("vx", suffix)
        vk, vb = link_name("vk", suffix), link_name("vb", suffix)
        # a: va ── vx ─┬─ bridge (in b, nft drops) ─┬─ vb ── vk: b
        b.ip("link", "add", vx, "type", "veth", "peer", "name", va, "netns", a.name)
        b.ip("link", "add", vk, "type", "veth", "peer", "name", vb)
        for ns, link in ((a, va), (b, vk)):
            # one frame per skb, as on the TAP side: a drop takes one segment, not a burst
            ns.ip("link", "set", link, "gso_max_segs", "1")
        br = b.bridge(ports=[vx, vb])
        b.ip("link", "set", br, "arp", "off")
        b.sysctl("net.ipv4.conf.all.arp_ignore", "1")
        if loss:
            b.bridge_loss([vx, vb], loss)
        a.add_address(va, "10.86.0.1/24")
        b.add_address(vk, "10.86.0.2/24")
        a.up(va)
        b.up(vk)
        block = os.urandom(BLOCK)
        rx = start_receiver(b, "10.86.0.2")
        tx = start_sender(a, "10.86.0.2", block, size, cc)
        rate = _received(rx, block, size)
        tx.wait(timeout=60)
        return rate


@contextmanager
def _our_host(loss: float, cc: str) -> Iterator[tuple[object, object, object, str]]:
    """Our host on a TAP into a namespace (kernel side there), running ``cc``."""
    from minternet.drivers.entropy import SystemRandom
    from minternet.drivers.realtime import RealtimeLoop
    from minternet.drivers.tap import TapLink, TapPort, tap_network
    from minternet.drivers.tapservices import REAL_LINK_TCP
    from minternet.node.host import Host
    from minternet.node.tcp_host import attach_tcp
    from minternet.trace.bus import TraceBus

    with tap_network("10.85.0.0/24", kernel_loss=loss) as net:
        loop = RealtimeLoop()
        trace = TraceBus()
        host = Host("us", loop, SystemRandom(), trace)
        iface = host.add_interface("eth0", "02:00:00:00:85:02", net.host_ip, net.prefixlen)
        tcp = attach_tcp(host, dataclasses.replace(REAL_LINK_TCP, congestion_control=cc))
        port = TapPort(loop, net.tap, trace=trace, node="us", iface="eth0")
        TapLink(port, iface)
        port.start()
        try:
            yield net, loop, tcp, net.host_ip
        finally:
            port.stop()
            loop.close()


def ours_to_linux(size: int, loss: float, cc: str) -> float:
    with _our_host(loss, cc) as (net, loop, tcp, _):
        block = os.urandom(BLOCK)
        rx = start_receiver(net.ns, net.kernel_ip)  # type: ignore[attr-defined]

        async def main() -> None:
            c = await tcp.connect((net.kernel_ip, PORT), timeout=10)  # type: ignore[attr-defined]
            await c.send(block * (size // BLOCK))
            c.shutdown()
            while await c.recv(1 << 16):
                pass
            await c.close()

        loop.run_until_complete(loop.create_task(main()), timeout=900)  # type: ignore[attr-defined]
        return _received(rx, block, size)


def linux_to_ours(size: int, loss: float, cc: str) -> float:
    with _our_host(loss, cc) as (net, loop, tcp, host_ip):
        block = os.urandom(BLOCK)
        listener = tcp.listen(PORT)  # type: ignore[attr-defined]
        out: list[float] = []

        async def main() -> None:
            s = await listener.accept()
            t0 = time.monotonic()
            h = hashlib.sha256()
            n = 0
            while chunk := await s.recv(1 << 16):
                h.update(chunk)
                n += len(chunk)
            out.append(time.monotonic() - t0)
            assert n == size and h.hexdigest() == _digest(block, size), "not byte-identical"
            await s.close()

        task = loop.create_task(main())  # type: ignore[attr-defined]
        tx = start_sender(net.ns, host_ip, block, size, cc)  # type: ignore[attr-defined]
        loop.run_until_complete(task, timeout=900)  # type: ignore[attr-defined]
        tx.wait(timeout=60)
        return size / out[0] / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.tcp_vs_linux")
    ap.add_argument("--quick", action="store_true", help="2 MiB, one run of each")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=8)
    args = ap.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("skipped (needs root and /dev/net/tun)")
        return
    from minternet.drivers.netns import nft_available

    if not nft_available():
        print("skipped (needs nftables: the nft command and nf_tables in the kernel)")
        return
    size = (2 if args.quick else args.mib) << 20
    runs = 1 if args.quick else args.runs
    print(f"{size >> 20} MiB each, median of {runs}; load average {os.getloadavg()[0]:.1f}")
    for cc in ("newreno", "cubic"):
        for loss in (0.05, 0.0):
            med = {}
            for name, fn in (
                ("ours → Linux", ours_to_linux),
                ("Linux → ours", linux_to_ours),
                ("Linux → Linux", linux_to_linux),
            ):
                med[name] = statistics.median(fn(size, loss, cc) for _ in range(runs))
            ref = med["Linux → Linux"]
            print(
                f"{cc:8} loss {loss:.0%}: "
                + ", ".join(f"{k} {v:.2f} MB/s" for k, v in med.items())
                + f"; ratios to Linux → Linux {med['ours → Linux'] / ref:.3f} / "
                f"{med['Linux → ours'] / ref:.3f}"
            )
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
