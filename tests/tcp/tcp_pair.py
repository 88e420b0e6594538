"""Two sans-IO TCP connections joined in memory (a test helper, not a test module).

Segments go through the real codec (encode with checksum, verify, decode) and arrive after
``latency``; ``drop`` decides per segment whether the wire loses it. Time advances to the
next arrival or the next connection deadline, so timers (RTO, delayed ACK, TIME-WAIT) run
exactly as they would in the simulator.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import count

from minternet.node.tcp import ip_bytes
from minternet.randomness import SeededRandom
from minternet.tcp.connection import Connection, State, TcpConfig
from minternet.tcp.segment import Segment, checksum_ok

A = ("10.0.0.1", 40000)
B = ("10.0.0.2", 80)

Drop = Callable[[Connection, Segment], bool]


class Pair:
    def __init__(
        self,
        a: Connection | None = None,
        b: Connection | None = None,
        *,
        latency: float = 0.01,
        config: TcpConfig | None = None,
        seed: int = 1,
    ) -> None:
        self.now = 0.0
        self.latency = latency
        cfg = config or TcpConfig()
        rnd = SeededRandom(seed)
        self.kw = {"config": cfg, "now": 0.0}
        self.rnd = rnd
        self.a = a
        self.b = b
        self.drop: Drop | None = None
        self.queue: list[tuple[float, int, Connection, bytes]] = []
        self.counter = count()
        self.log: list[tuple[float, str, Segment]] = []

    def make(
        self,
        local: tuple[str, int],
        remote: tuple[str, int],
        *,
        active: bool,
        label: str,
        config: TcpConfig | None = None,
    ) -> Connection:
        kw = dict(self.kw)
        if config is not None:
            kw["config"] = config
        kw["now"] = self.now
        factory = Connection.connect if active else Connection.listen
        return factory(local, remote, random=self.rnd.child(label), **kw)  # type: ignore[arg-type]

    def peer(self, c: Connection) -> Connection | None:
        return self.b if c is self.a else self.a

    def flush(self) -> None:
        for c in (self.a, self.b):
            if c is None:
                continue
            for seg in c.take_segments():
                self.log.append((self.now, "a" if c is self.a else "b", seg))
                if self.drop is not None and self.drop(c, seg):
                    continue
                dst = self.peer(c)
                if dst is None:
                    continue
                raw = seg.encode(ip_bytes(c.local[0]), ip_bytes(c.remote[0]))
                heapq.heappush(self.queue, (self.now + self.latency, next(self.counter), dst, raw))

    def step(self) -> bool:
        self.flush()
        deadlines = [
            (d, c)
            for c in (self.a, self.b)
            if c is not None and (d := c.next_deadline()) is not None
        ]
        t_seg = self.queue[0][0] if self.queue else None
        t_timer = min(deadlines, key=lambda x: x[0]) if deadlines else None
        if t_seg is None and t_timer is None:
            return False
        if t_timer is not None and (t_seg is None or t_timer[0] < t_seg):
            self.now = max(self.now, t_timer[0])
            t_timer[1].on_timer(self.now)
        else:
            t, _, dst, raw = heapq.heappop(self.queue)
            self.now = max(self.now, t)
            assert checksum_ok(raw, ip_bytes(dst.remote[0]), ip_bytes(dst.local[0]))
            dst.receive(Segment.decode(raw), self.now)
        self.flush()
        return True

    def run(self, until: float) -> None:
        while True:
            nxt = self._next_time()
            if nxt is None or nxt > until:
                break
            self.step()
        self.now = max(self.now, until)

    def _next_time(self) -> float | None:
        self.flush()
        times = [c.next_deadline() for c in (self.a, self.b) if c is not None]
        times = [t for t in times if t is not None]
        if self.queue:
            times.append(self.queue[0][0])
        return min(times) if times else None

    def run_until(self, cond: Callable[[], bool], limit: float = 1000.0) -> None:
        while not cond():
            nxt = self._next_time()
            assert nxt is not None and nxt <= limit, "the scenario stalled"
            self.step()


def states(c: Connection) -> list[str]:
    return [str(s) for _, s, _ in c.history]


def handshake(pair: Pair) -> tuple[Connection, Connection]:
    pair.b = pair.make(B, A, active=False, label="b")
    pair.a = pair.make(A, B, active=True, label="a")
    pair.run_until(
        lambda: (
            pair.a.state is State.ESTABLISHED  # type: ignore[union-attr]
            and pair.b.state is State.ESTABLISHED
        )
    )  # type: ignore[union-attr]
    return pair.a, pair.b
