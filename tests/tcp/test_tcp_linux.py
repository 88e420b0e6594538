"""The Linux kernel's TCP as the peer (root only): our stack behind a TUN device.

The judge here is the kernel of a network namespace we create: its TCP connects to our
listener and our client connects to its listener, across a TUN device whose other end is
this process. IPv4 headers are built and parsed by this test alone (the network layer is
not part of TCP); everything above them is ours. The harness drops packets both ways (seeded),
so recovery is exercised against a real peer (Linux SACK, timestamps, window scaling,
delayed ACKs).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from minternet.checksum import internet_checksum
from minternet.drivers.entropy import SystemRandom
from minternet.drivers.netns import Namespace
from minternet.drivers.realtime import RealtimeLoop
from minternet.node.tcp import TcpStack, ip_bytes
from minternet.randomness import SeededRandom
from minternet.tcp.connection import TcpConfig
from minternet.trace.bus import TraceBus
from required_tools import NETNS

pytestmark = [
    pytest.mark.root,
    pytest.mark.tools(*NETNS),
]

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
KERNEL_IP, OUR_IP = "10.79.0.1", "10.79.0.2"


class Tun:
    """A TUN device: one read or write is one IPv4 packet."""

    def __init__(self) -> None:
        self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        ifr = fcntl.ioctl(
            self.fd, TUNSETIFF, struct.pack("16sH22x", b"mnettcp%d", IFF_TUN | IFF_NO_PI)
        )
        self.name = struct.unpack("16sH22x", ifr)[0].rstrip(b"\0").decode()

    def close(self) -> None:
        os.close(self.fd)


@contextmanager
def kernel_peer() -> Iterator[tuple[Namespace, Tun]]:
    tun = Tun()
    try:
        with Namespace() as ns:
            ns.adopt(tun.name)
            ns.ip("link", "set", tun.name, "mtu", "1500")
            ns.add_address(tun.name, f"{KERNEL_IP}/24")
            ns.up(tun.name)
            yield ns, tun
    finally:
        tun.close()


class TunHost:
    """The smallest IPv4 around our TcpStack; ``drop`` loses packets in both directions."""

    def __init__(self, loop: RealtimeLoop, tun: Tun, drop: float = 0.0) -> None:
        self.loop = loop
        self.tun = tun
        self.drop = drop
        self.drops = SeededRandom("tun-drops")
        self.ident = 0
        self.trace = TraceBus()
        self.tcp = TcpStack(
            loop=loop,
            random=SystemRandom(),
            trace=self.trace,
            node="us",
            send_ip=self.send_ip,
            source_for=lambda _dst: OUR_IP,
            config=TcpConfig(rto_min=0.2),
        )
        loop.add_reader(tun.fd, self.readable)

    def send_ip(self, src: str, dst: str, segment: bytes) -> None:
        if self.drop and self.drops.random() < self.drop:
            return
        self.ident = (self.ident + 1) & 0xFFFF
        head = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(segment),
            self.ident,
            0x4000,
            64,
            6,
            0,
            ip_bytes(src),
            ip_bytes(dst),
        )
        head = head[:10] + internet_checksum(head).to_bytes(2, "big") + head[12:]
        os.write(self.tun.fd, head + segment)

    def readable(self) -> None:
        while True:
            try:
                pkt = os.read(self.tun.fd, 65535)
            except BlockingIOError:
                return
            if len(pkt) < 20 or pkt[0] >> 4 != 4 or pkt[9] != 6:
                continue
            if self.drop and self.drops.random() < self.drop:
                continue
            ihl = (pkt[0] & 15) * 4
            total = int.from_bytes(pkt[2:4], "big")
            src = ".".join(str(b) for b in pkt[12:16])
            dst = ".".join(str(b) for b in pkt[16:20])
            self.tcp.deliver(src, dst, pkt[ihl:total])


def _kernel_python(ns: Namespace, script: str) -> subprocess.Popen[str]:
    return ns.popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("loss", [0.0, 0.03, 0.10])
def test_linux_client_to_our_server(loss: float) -> None:
    size = 1 << 20
    with kernel_peer() as (ns, tun):
        loop = RealtimeLoop()
        host = TunHost(loop, tun, drop=loss)
        listener = host.tcp.listen(8080)
        got = bytearray()

        retx: list[int] = []

        async def echo_server() -> None:
            s = await listener.accept()
            while chunk := await s.recv(1 << 16):
                got.extend(chunk)
                await s.send(chunk)
            await s.close()
            retx.append(s.conn.retransmissions)

        task = loop.create_task(echo_server())
        proc = _kernel_python(
            ns,
            f"""
            import hashlib, os, socket, threading
            data = os.urandom({size})
            s = socket.create_connection(("{OUR_IP}", 8080), timeout=30)
            back = bytearray()
            def reader():
                while chunk := s.recv(65536):
                    back.extend(chunk)
            t = threading.Thread(target=reader); t.start()
            s.sendall(data); s.shutdown(socket.SHUT_WR); t.join(); s.close()
            print(hashlib.sha256(data).hexdigest(), hashlib.sha256(back).hexdigest())
        """,
        )
        loop.run_until_complete(task, timeout=60)
        out, err = proc.communicate(timeout=30)
        loop.close()
    sent_hash, echoed_hash = out.split()
    assert sent_hash == echoed_hash == hashlib.sha256(got).hexdigest(), err
    assert (retx[0] > 0) == (loss > 0)


@pytest.mark.parametrize("loss", [0.0, 0.03, 0.10])
def test_our_client_to_linux_server(loss: float) -> None:
    size = 1 << 20
    with kernel_peer() as (ns, tun):
        proc = _kernel_python(
            ns,
            f"""
            import hashlib, socket
            srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind(("{KERNEL_IP}", 9090)); srv.listen(1); print("ready", flush=True)
            c, _ = srv.accept()
            got = bytearray()
            while chunk := c.recv(65536):
                got.extend(chunk)
            c.sendall(hashlib.sha256(got).hexdigest().encode() + bytes(range(256)) * 2048)
            c.close()
        """,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        loop = RealtimeLoop()
        host = TunHost(loop, tun, drop=loss)
        data = SeededRandom("payload").random_bytes(size)
        reply = bytearray()
        retx: list[int] = []

        async def client() -> None:
            s = await host.tcp.connect((KERNEL_IP, 9090), timeout=10)
            await s.send(data)
            s.shutdown()
            while chunk := await s.recv(1 << 16):
                reply.extend(chunk)
            await s.close()
            retx.append(s.conn.retransmissions)

        loop.run_until_complete(loop.create_task(client()), timeout=60)
        proc.wait(timeout=30)
        loop.close()
    assert bytes(reply[:64]).decode() == hashlib.sha256(data).hexdigest()
    assert bytes(reply[64:]) == bytes(range(256)) * 2048
    assert (retx[0] > 0) == (loss > 0)


def test_linux_gets_rst_from_a_closed_port() -> None:
    with kernel_peer() as (ns, tun):
        loop = RealtimeLoop()
        host = TunHost(loop, tun)
        proc = _kernel_python(
            ns,
            f"""
            import socket
            try:
                socket.create_connection(("{OUR_IP}", 7), timeout=5)
            except ConnectionRefusedError:
                print("refused")
        """,
        )
        deadline = loop.now() + 10
        while proc.poll() is None and loop.now() < deadline:
            loop._tick(0.05)
        out, _ = proc.communicate(timeout=10)
        loop.close()
    assert out.strip() == "refused"
    assert host.trace.counters["tcp.rst.closed-port"] >= 1
