"""TCP's header prediction (``Connection._predicted``, the fast path for the next in-order
segment and the pure ACK) leaves a connection exactly as the full RFC 9293 §3.10.7.4 path
does: every field of the connection and its parts (send and receive buffers, loss-recovery
records, RTO, congestion window, timers), the segments it sends, its events and its trace
events. Checked on the states of real transfers — loss, reordering, duplication, both
directions sending, delayed ACKs on and off, with and without SACK and timestamps — with
each arriving segment and with variants of it made to sit at the fast path's edges (SEQ and
ACK off by a little, older timestamps, other flags and options, text beyond the window)."""

from __future__ import annotations

import copy
import random
from dataclasses import fields, is_dataclass, replace
from enum import Enum
from typing import Any

import pytest

from minternet.sim.faults import Faults
from minternet.sim.wire import wire_net
from minternet.tcp.connection import Connection, TcpConfig
from minternet.tcp.segment import ACK, FIN, NOP, PSH, RST, SYN, URG, Sack, Segment, Timestamps
from minternet.tcp.seq import MASK


class Recorder:
    """A tracer that keeps what it is told."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.events: list[tuple[Any, ...]] = []
        self.counts: list[tuple[str, int]] = []

    def emit(self, *args: Any, **kwargs: Any) -> None:
        self.events.append((args, sorted(kwargs.items())))

    def count(self, name: str, n: int = 1) -> None:
        self.counts.append((name, n))


def _state(obj: Any, seen: set[int] | None = None) -> Any:
    """Everything an object holds, as plain comparable values (callables left out)."""
    if isinstance(obj, int | float | str | bytes | bool | Enum) or obj is None:
        return obj
    if isinstance(obj, bytearray | memoryview):
        return bytes(obj)
    if isinstance(obj, list | tuple):
        return [_state(x, seen) for x in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, int | float | str | bytes | Enum) for k in obj):
            return {k: _state(v, seen) for k, v in obj.items()}
        # keyed by objects (loss recovery's send-time order): the pairs, in the dict's order
        return [(_state(k, seen), _state(v, seen)) for k, v in obj.items()]
    if callable(obj):
        return None
    if isinstance(obj, Recorder):
        return (obj.events, obj.counts)
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return "<seen>"
    seen.add(id(obj))
    names: list[str] = []
    for klass in type(obj).__mro__:
        names += getattr(klass, "__slots__", ())
    if is_dataclass(obj):
        names += [f.name for f in fields(obj)]
    names += list(getattr(obj, "__dict__", {}))
    values = {n: _state(getattr(obj, n), seen) for n in names if hasattr(obj, n)}
    return (type(obj).__name__, values)


class Checker:
    """Feeds a segment to two copies of a connection, one kept off the fast path."""

    def __init__(self) -> None:
        self.receive = Connection.receive  # not the test's wrapper around it
        self.taken = 0
        self.declined = 0

    def compare(self, conn: Connection, seg: Segment, now: float, traced: bool) -> None:
        copies = []
        for _ in range(2):
            memo = {id(conn.trace): Recorder(traced), id(conn.config): conn.config}
            copies.append(copy.deepcopy(conn, memo))
        fast, full = copies
        original = Connection._predicted
        outcome: list[bool] = []

        def spy(self: Connection, s: Segment, t: float) -> bool:
            r = original(self, s, t)
            outcome.append(r)
            return r

        Connection._predicted = spy  # type: ignore[method-assign]
        try:
            self.receive(fast, seg, now)
        finally:
            Connection._predicted = original  # type: ignore[method-assign]
        Connection._predicted = lambda self, s, t: False  # type: ignore[method-assign]
        try:
            self.receive(full, seg, now)
        finally:
            Connection._predicted = original  # type: ignore[method-assign]
        if outcome and outcome[0]:
            self.taken += 1
        else:
            self.declined += 1
        assert _state(fast) == _state(full), (seg, conn.state)
        assert fast.take_segments() == full.take_segments()
        assert fast.take_events() == full.take_events()
        assert fast.next_deadline() == full.next_deadline()


def _variants(seg: Segment, rnd: random.Random) -> list[Segment]:
    """The segment moved to the fast path's edges."""
    out: list[Segment] = []
    ts = next((o for o in seg.options if type(o) is Timestamps), None)
    for d in (-1, 1, -1448, rnd.randint(-70000, 70000)):
        out.append(replace(seg, seq=(seg.seq + d) & MASK))
        out.append(replace(seg, ack=(seg.ack + d) & MASK))
    for flags in (ACK | PSH, ACK | FIN, ACK | RST, ACK | SYN, ACK | URG, PSH, 0, ACK | 0x40):
        out.append(replace(seg, flags=flags))
    if ts is not None:
        for d in (-1, -2, -(1 << 31), 1 << 31, (1 << 31) + 1, rnd.randint(0, MASK)):
            t2 = Timestamps((ts.tsval + d) & MASK, ts.tsecr)
            out.append(replace(seg, options=(NOP, NOP, t2)))
        out.append(replace(seg, options=(NOP, NOP, Timestamps(ts.tsval, 0))))
        block = ((seg.ack + 1000) & MASK, (seg.ack + 2000) & MASK)
        out.append(replace(seg, options=(NOP, NOP, ts, NOP, NOP, Sack((block,)))))
        out.append(replace(seg, options=(ts,)))
    out.append(replace(seg, options=()))
    out.append(replace(seg, payload=seg.payload + bytes(rnd.choice([1, 1448, 70000]))))
    out.append(replace(seg, payload=b""))
    out.append(replace(seg, window=rnd.choice([0, 1, seg.window + 1, 0xFFFF])))
    return out


def _transfer(rnd: random.Random, net_seed: int, checker: Checker) -> None:
    """Data both ways under random faults; a share of the arriving segments (and variants
    of them) are checked on copies of the connection before it gets them."""
    faults = Faults(
        loss=rnd.choice([0.0, 0.02, 0.1]),
        reorder=rnd.choice([0.0, 0.05, 0.2]),
        duplicate=rnd.choice([0.0, 0.05]),
    )
    net = wire_net(net_seed, latency=0.002, faults=faults)
    config = TcpConfig(
        delayed_ack=rnd.choice([0.0, 0.04]),
        sack=rnd.random() < 0.8,
        timestamps=rnd.random() < 0.9,
        window_scaling=rnd.random() < 0.8,
        recv_buffer=rnd.choice([8192, 65536, 256 * 1024]),
        congestion_control=rnd.choice(["newreno", "cubic"]),
    )
    a = net.add("10.0.0.1", "a", config)
    b = net.add("10.0.0.2", "b", config)
    listener = b.listen(80)
    size_up, size_down = rnd.randint(0, 300_000), rnd.randint(0, 100_000)

    async def server() -> None:
        s = await listener.accept()
        await s.send(rnd.randbytes(size_down) or b"x")
        while await s.recv(rnd.choice([100, 4096, 1 << 20])):
            pass
        s.shutdown()

    async def client() -> None:
        s = await a.connect(("10.0.0.2", 80))
        await s.send(rnd.randbytes(size_up) or b"y")
        s.shutdown()
        while await s.recv(1 << 20):
            pass

    original = Connection.receive

    def receive(self: Connection, seg: Segment, now: float) -> None:
        if rnd.random() < 0.25:
            traced = rnd.random() < 0.3
            checker.compare(self, seg, now, traced)
            for v in rnd.sample(_variants(seg, rnd), 2):
                checker.compare(self, v, now, traced)
        original(self, seg, now)

    Connection.receive = receive  # type: ignore[method-assign]
    try:
        net.loop.create_task(server())
        net.loop.create_task(client())
        net.loop.run(until=600)
    finally:
        Connection.receive = original  # type: ignore[method-assign]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_header_prediction_matches_the_full_path(seed: int) -> None:
    rnd = random.Random(seed)
    checker = Checker()
    for run in range(4):
        _transfer(rnd, seed * 10 + run, checker)
    assert checker.taken > 40 and checker.declined > 100, (checker.taken, checker.declined)
