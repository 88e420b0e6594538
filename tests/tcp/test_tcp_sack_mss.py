"""RFC 6691 §2: a segment carrying data and SACK blocks shortens its data so that the
options fit — on a 1500-byte link no packet exceeds 1500 bytes, whatever the loss."""

from __future__ import annotations

import pytest

from minternet.sim.faults import Faults
from minternet.sim.wire import wire_net
from minternet.tcp.connection import Connection, TcpConfig
from minternet.tcp.segment import Sack, Segment, encode_options


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("timestamps", [True, False])
def test_data_with_sack_blocks_fits_the_mtu(
    seed: int, timestamps: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wire raises ValueError for a packet larger than its MTU (1500).
    net = wire_net(seed, latency=0.01, faults=Faults(loss=0.1))
    config = TcpConfig(timestamps=timestamps)
    a = net.add("10.0.0.1", "a", config)
    b = net.add("10.0.0.2", "b", config)
    listener = b.listen(80)
    up = net.wire.random.child("up").random_bytes(300_000)
    down = net.wire.random.child("down").random_bytes(300_000)
    got_up, got_down = bytearray(), bytearray()
    with_sack: list[int] = []  # data length of each segment that also carried SACK blocks
    largest: list[int] = [0]
    push = Connection._push

    def record(self: Connection, seg: Segment) -> None:
        size = 20 + len(encode_options(seg.options)) + len(seg.payload)
        largest[0] = max(largest[0], size)
        if seg.payload and any(isinstance(o, Sack) for o in seg.options):
            with_sack.append(len(seg.payload))
        push(self, seg)

    monkeypatch.setattr(Connection, "_push", record)

    async def server() -> None:
        s = await listener.accept()
        s.send(down)
        while chunk := await s.recv(1 << 20):
            got_up.extend(chunk)
        s.shutdown()

    async def client() -> None:
        s = await a.connect(("10.0.0.2", 80))
        s.send(up)
        s.shutdown()
        while chunk := await s.recv(1 << 20):
            got_down.extend(chunk)

    net.loop.create_task(server())
    net.loop.create_task(client())
    net.loop.run(until=3600)
    assert bytes(got_up) == up and bytes(got_down) == down
    assert with_sack, "no segment carried data and SACK blocks: the case was not exercised"
    assert largest[0] <= 1480, largest[0]
    # full-sized data segments give up the SACK blocks' room (4 + 8 per block)
    mss = 1460 - (12 if timestamps else 0)
    assert max(with_sack) <= mss - 12 and max(with_sack) >= mss - 4 - 8 * 4
