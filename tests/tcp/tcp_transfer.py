"""A 1 MiB-each-way transfer between two stacks on the simulated wire (a test helper)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from minternet.node.tcp import TcpSocket
from minternet.sim.faults import Faults
from minternet.sim.wire import WireNet, wire_net
from minternet.tcp.connection import TcpConfig

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"


@dataclass
class Transfer:
    net: WireNet
    sent_up: bytes
    sent_down: bytes
    got_up: bytearray = field(default_factory=bytearray)
    got_down: bytearray = field(default_factory=bytearray)
    client: TcpSocket | None = None
    server: TcpSocket | None = None
    done: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return (
            hashlib.sha256(self.got_up).digest() == hashlib.sha256(self.sent_up).digest()
            and hashlib.sha256(self.got_down).digest() == hashlib.sha256(self.sent_down).digest()
        )


def start_transfer(
    seed: int,
    size: int = 1 << 20,
    faults: Faults | None = None,
    config: TcpConfig | None = None,
    latency: float = 0.005,
    bandwidth: float | None = None,
) -> Transfer:
    net = wire_net(seed, faults=faults, latency=latency, bandwidth=bandwidth)
    cfg = config or TcpConfig(msl=5.0)
    a = net.add(CLIENT, "laptop", cfg)
    b = net.add(SERVER, "www", cfg)
    rnd = net.wire.random
    t = Transfer(net, rnd.child("up").random_bytes(size), rnd.child("down").random_bytes(size))
    listener = b.listen(443)

    async def server() -> None:
        s = await listener.accept()
        t.server = s
        while chunk := await s.recv(1 << 16):
            t.got_up += chunk
        await s.send(t.sent_down)
        await s.close()
        t.done.append("server")

    async def client() -> None:
        s = await a.connect((SERVER, 443))
        t.client = s
        await s.send(t.sent_up)
        s.shutdown()
        while chunk := await s.recv(1 << 16):
            t.got_down += chunk
        await s.close()
        t.done.append("client")

    net.loop.create_task(server())
    net.loop.create_task(client())
    return t


def run_transfer(seed: int, **kw: object) -> Transfer:
    t = start_transfer(seed, **kw)  # type: ignore[arg-type]
    t.net.loop.run()
    return t
