"""One rule for faults: :func:`impair` decides for every simulated link and the TCP wire."""

from __future__ import annotations

from netutil import two_hosts

from minternet.randomness import SeededRandom
from minternet.sim.faults import Faults, impair
from minternet.sim.wire import wire_net
from minternet.tcp.segment import ACK, Segment
from minternet.trace.bus import EventLog

FRAME = bytes(range(64))


def test_corruption_flips_exactly_one_bit_outside_the_protected_header() -> None:
    rnd = SeededRandom(1)
    for _ in range(500):
        fate = impair(Faults(corrupt=1.0), rnd, FRAME, delay=0.01, protect=14)
        assert fate is not None and fate.flipped_bit is not None
        assert 14 * 8 <= fate.flipped_bit < len(FRAME) * 8
        diff = [a ^ b for a, b in zip(fate.data, FRAME, strict=True)]
        byte, bit = divmod(fate.flipped_bit, 8)
        assert diff[byte] == 0x80 >> bit  # bits counted from the most significant
        assert sum(d != 0 for d in diff) == 1
        assert fate.hold == 0.0 and not fate.duplicate


def test_a_frame_no_longer_than_the_protected_header_is_not_corrupted() -> None:
    fate = impair(Faults(corrupt=1.0), SeededRandom(1), FRAME[:14], delay=0.01, protect=14)
    assert fate is not None and fate.flipped_bit is None and fate.data == FRAME[:14]


def test_reordering_holds_a_frame_back_one_to_two_delays() -> None:
    rnd = SeededRandom(2)
    holds = [impair(Faults(reorder=1.0), rnd, FRAME, delay=0.02) for _ in range(300)]
    assert all(f is not None and 0.02 <= f.hold < 0.04 for f in holds)
    # A carrier without delay still holds a reordered frame back at least a millisecond.
    fate = impair(Faults(reorder=1.0), rnd, FRAME, delay=0.0)
    assert fate is not None and 0.001 <= fate.hold < 0.002


def test_loss_and_duplication_and_no_draw_without_faults() -> None:
    assert impair(Faults(loss=1.0), SeededRandom(3), FRAME, delay=0.01) is None
    fate = impair(Faults(duplicate=1.0), SeededRandom(3), FRAME, delay=0.01)
    assert fate is not None and fate.duplicate and fate.data == FRAME
    a, b = SeededRandom(4), SeededRandom(4)
    clean = impair(Faults(), a, FRAME, delay=0.01)
    assert clean is not None and clean.data == FRAME and not clean.duplicate
    assert a.random() == b.random()  # nothing was drawn


def test_a_link_applies_the_rule_with_the_ethernet_header_protected() -> None:
    w = two_hosts(corrupt=1.0)
    log = EventLog()
    w.trace.subscribe(log)
    w.node("a").udp_socket().sendto(b"x" * 100, ("10.0.0.2", 9))
    w.run(until=5)
    flips = log.of(layer="sim", kind="corrupt")
    assert flips and all(e.fields["byte"] >= 14 for e in flips)


def test_the_tcp_wire_applies_the_same_rule_from_its_stream() -> None:
    net = wire_net(5, latency=0.01, faults=Faults(corrupt=1.0, reorder=1.0))
    got: list[tuple[float, bytes]] = []
    net.wire.stacks["10.0.0.2"] = _Recorder(net, got)  # type: ignore[assignment]
    seg = Segment(src_port=1, dst_port=2, seq=1, ack=1, flags=ACK, window=100, payload=b"y" * 40)
    data = seg.encode(bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    net.wire.send("10.0.0.1", "10.0.0.2", data)
    net.loop.run()
    # The same draws from the wire's stream, by the one rule: same bit, same hold.
    fate = impair(Faults(corrupt=1.0, reorder=1.0), SeededRandom(5), data, delay=0.01)
    assert fate is not None
    assert got == [(0.01 + fate.hold, fate.data)]
    assert net.wire.stats.corrupted == net.wire.stats.reordered == 1


class _Recorder:
    def __init__(self, net: object, got: list[tuple[float, bytes]]) -> None:
        self.net = net
        self.got = got

    def deliver(self, src: str, dst: str, data: bytes) -> None:
        self.got.append((self.net.loop.now(), data))  # type: ignore[attr-defined]
