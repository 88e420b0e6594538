"""A link schedules its deliveries with :meth:`EventLoop.schedule_at` (no handle to
cancel); the deliveries, and every other timer due at the same instants, run in exactly
the order :meth:`EventLoop.call_at` gives them (time, then insertion), as they do on a loop
whose ``schedule_at`` goes through ``call_at`` — with faults switched on and off between
frames, and with ties between links and timers."""

from __future__ import annotations

from typing import Any

from minternet.loop import EventLoop, Timer, VirtualLoop
from minternet.randomness import SeededRandom
from minternet.sim.faults import Faults
from minternet.sim.link import Link
from minternet.trace.bus import TraceBus


class _End:
    def __init__(self, name: str, log: list[tuple[float, str, Any]], loop: EventLoop) -> None:
        self.full_name = name
        self.log = log
        self.loop = loop

    def deliver(self, data: bytes, packet_id: int | None) -> None:
        self.log.append((self.loop.now(), self.full_name, packet_id))


class _CountingLoop(VirtualLoop):
    """A loop whose ``schedule_at`` goes through ``call_at`` (the reference order), and
    whose ``call_at`` counts what it schedules."""

    calls = 0

    def call_at(self, when: float, callback: Any, *args: Any) -> Timer:
        self.calls += 1
        return super().call_at(when, callback, *args)

    def schedule_at(self, when: float, callback: Any, args: tuple[Any, ...]) -> None:
        self.call_at(when, callback, *args)


def _run(loop: VirtualLoop) -> list[tuple[float, str, Any]]:
    log: list[tuple[float, str, Any]] = []
    ends = [_End(n, log, loop) for n in ("a", "b", "c", "d")]
    trace = TraceBus()
    # Two links whose frames arrive at the same instants (same size, bandwidth, latency).
    one = Link("one", loop, SeededRandom(1), trace, ends[0], ends[1], latency=0.002,
               bandwidth=1e7, queue_frames=8)  # fmt: skip
    two = Link("two", loop, SeededRandom(2), trace, ends[2], ends[3], latency=0.002,
               bandwidth=1e7, queue_frames=8)  # fmt: skip
    lossy = Faults(loss=0.3, duplicate=0.2, reorder=0.2)
    for i in range(200):
        if i % 50 == 10:
            one.faults = lossy
        if i % 50 == 30:
            one.faults = Faults()  # a new object that does nothing
        size = 100 if i % 3 else 1000
        one.transmit(ends[0], bytes(size), i)
        two.transmit(ends[2], bytes(size), 1000 + i)
        two.transmit(ends[3], bytes(size), 2000 + i)  # the other direction
        # A timer due exactly when the frames just sent arrive (a tie broken by order).
        when = loop.now() + (size + 24) * 8 / 1e7 + 0.002  # as the link adds it up
        loop.call_at(when, ends[1].deliver, b"", -1 - i)
        loop.run(until=loop.now() + (0.0003 if i % 7 else 0.003))
    loop.run()
    return log


def test_link_deliveries_keep_call_ats_order() -> None:
    plain = _run(VirtualLoop())
    counting = _CountingLoop()
    overridden = _run(counting)
    assert counting.calls == len(overridden) > 500  # every delivery went through call_at
    assert plain == overridden
    timers = {x[0] for x in plain if x[2] < 0}
    assert len(timers) > 100
    assert sum(1 for x in plain if x[2] >= 0 and x[0] in timers) > 100  # ties
    assert sum(1 for x in plain if x[1] == "b" and x[2] >= 0) < 200  # some were lost
