"""Our whole stack — Ethernet, ARP, IPv4, TCP — on a TAP device, the Linux kernel at the
other end (root only). The kernel's TCP connects to our listener and our client connects to
the kernel's, with the TAP port injecting loss both ways."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap

import pytest

from minternet.drivers.entropy import SystemRandom
from minternet.drivers.realtime import RealtimeLoop
from minternet.drivers.tap import TapLink, TapPort, tap_network
from minternet.node.host import Host
from minternet.node.tcp import TcpSocket
from minternet.node.tcp_host import attach_tcp
from minternet.randomness import SeededRandom
from minternet.tcp.connection import TcpConfig
from minternet.trace.bus import TraceBus
from required_tools import NETNS

pytestmark = [
    pytest.mark.root,
    pytest.mark.tools(*NETNS),
]


@pytest.mark.parametrize("loss", [0.0, 0.05])
def test_kernel_and_our_host_exchange_a_mebibyte_each_way(loss: float) -> None:
    size = 1 << 20
    with tap_network("10.82.0.0/24") as net:
        loop = RealtimeLoop()
        trace = TraceBus()
        host = Host("us", loop, SystemRandom(), trace)
        iface = host.add_interface("eth0", "02:00:00:00:82:02", net.host_ip, net.prefixlen)
        tcp = attach_tcp(host, TcpConfig(rto_min=0.2))
        port = TapPort(loop, net.tap, trace=trace, node="us", iface="eth0", loss=loss)
        TapLink(port, iface)
        port.start()
        listener = tcp.listen(8080)
        proc = net.ns.popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(f"""
                import hashlib, socket, threading
                srv = socket.socket(); srv.bind(("{net.kernel_ip}", 9090)); srv.listen(1)
                print("ready", flush=True)
                c = socket.create_connection(("{net.host_ip}", 8080), timeout=30)
                data = bytes(range(256)) * 4096
                echoed = bytearray()

                def read_echo():  # concurrently: our echo server waits for each send
                    while chunk := c.recv(65536):
                        echoed.extend(chunk)

                reader = threading.Thread(target=read_echo)
                reader.start()
                c.sendall(data); c.shutdown(socket.SHUT_WR)
                reader.join()
                ok = hashlib.sha256(echoed).digest() == hashlib.sha256(data).digest()
                print("echo-ok" if ok else "echo-bad", flush=True)
                s, _ = srv.accept()
                got = bytearray()
                while chunk := s.recv(65536):
                    got.extend(chunk)
                s.sendall(hashlib.sha256(got).hexdigest().encode()); s.close()
            """),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        upload = SeededRandom("tap-upload").random_bytes(size)
        result: dict[str, object] = {}

        async def echo(s: TcpSocket) -> None:
            while chunk := await s.recv(1 << 16):
                await s.send(chunk)
            await s.close()

        async def main() -> None:
            s = await listener.accept()
            await echo(s)  # type: ignore[arg-type]
            c = await tcp.connect((net.kernel_ip, 9090), timeout=10)
            await c.send(upload)
            c.shutdown()
            reply = bytearray()
            while chunk := await c.recv(1 << 16):
                reply.extend(chunk)
            await c.close()
            result["reply"] = bytes(reply)
            result["retx"] = s.conn.retransmissions + c.conn.retransmissions  # type: ignore[attr-defined]

        loop.run_until_complete(loop.create_task(main()), timeout=90)
        out, err = proc.communicate(timeout=30)
        port.stop()
        loop.close()
    assert out.strip() == "echo-ok", err
    assert result["reply"] == hashlib.sha256(upload).hexdigest().encode()
    if loss:
        assert isinstance(result["retx"], int) and result["retx"] > 0
