"""The event loop on the wall clock, waiting on file descriptors: the real drivers' loop.

:class:`RealtimeLoop` runs :class:`~minternet.loop.EventLoop`'s heap of timers against
:func:`time.monotonic` and waits with :mod:`selectors` on the descriptors of TAP devices and
kernel sockets. It lives with the drivers because it is the one loop that reads a clock and
touches file descriptors; the simulator's :class:`~minternet.loop.VirtualLoop` does neither.
"""

from __future__ import annotations

import heapq
import math
import select
import selectors
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..loop import EventLoop, Future, LoopTimeout

T = TypeVar("T")
_FD_SETSIZE = 1024  # select(2): descriptors at or above it cannot be waited for


LATE = 0.001  # seconds: a timer run later than this after its time was not kept
BEHIND_SHARE = 0.01  # the world fell behind when more than this share of timers was late


@dataclass
class Lateness:
    """How late the loop ran its timers: the wall clock when each callback began, minus the
    time it was due. A world on the wall clock is only as faithful as this: a frame
    delivered 20 ms late crossed a 100 Mb/s link with 20 ms more latency than the world
    file says, and frames released together by late timers meet a queue together, so a
    loop that cannot keep up (a busy CPU) drops and delays more than its links would."""

    timers: int = 0  # timers run
    late: int = 0  # of them, run more than LATE after their time
    very_late: int = 0  # ... more than 10 ms after it
    worst: float = 0.0  # seconds

    @property
    def behind(self) -> bool:
        """More than BEHIND_SHARE of the timers ran late: the world did not keep real time."""
        return self.late > BEHIND_SHARE * self.timers

    def as_dict(self) -> dict[str, Any]:
        return {
            "timers": self.timers,
            "late_over_1ms": self.late,
            "late_over_10ms": self.very_late,
            "worst_ms": round(self.worst * 1000.0, 3),
            "behind": self.behind,
        }

    def describe(self) -> str:
        """One line: ``kept real time: 99.6 % of 125914 timers on time (...)``."""
        if not self.timers:
            return "no timers ran"
        on_time = 100.0 * (self.timers - self.late) / self.timers
        what = "fell behind real time" if self.behind else "kept real time"
        return (
            f"{what}: {on_time:.1f} % of {self.timers} timers ran within 1 ms of their time, "
            f"{self.very_late} more than 10 ms late, the worst {self.worst * 1000.0:.1f} ms"
        )


class RealtimeLoop(EventLoop):
    """The same loop on the wall clock, waiting on file descriptors (TAP, sockets).

    Each file descriptor may have one reader and one writer callback; the selector waits
    for whichever of the two are registered.

    Timers are often due within a millisecond (a frame's serialisation on a 100 Mb/s link
    takes 0.12 ms), and epoll waits whole milliseconds: waits of a millisecond or more go
    to epoll, rounded down, and the rest to :func:`select.select`, whose timeout is in
    microseconds — instead of polling in a loop until the timer is due, which burnt the
    CPU the world's work needed (``select`` takes descriptors below ``FD_SETSIZE`` only;
    with a higher one the loop polls as before).

    :attr:`lateness` records how late each timer ran (see :class:`Lateness`).
    """

    def __init__(self) -> None:
        super().__init__()
        self._selector = selectors.DefaultSelector()
        self._t0 = time.monotonic()
        self._readers: dict[int, Callable[[], object]] = {}
        self._writers: dict[int, Callable[[], object]] = {}
        # The descriptors for select() (None: one is too high for it), made when a sub-
        # millisecond wait needs them after the watched set changed: a server adds and
        # removes a reader per request, and rebuilding them there cost O(connections).
        self._fine: tuple[list[int], list[int]] | None = ([], [])
        self._fine_stale = False
        self.lateness = Lateness()

    def now(self) -> float:
        return time.monotonic() - self._t0

    def add_reader(self, fd: int, callback: Callable[[], object]) -> None:
        """Call ``callback()`` whenever ``fd`` is readable (replaces an earlier reader)."""
        self._readers[fd] = callback
        self._watch(fd)

    def remove_reader(self, fd: int) -> None:
        """Stop watching ``fd`` for reading (no-op if it was not watched)."""
        if self._readers.pop(fd, None) is not None:
            self._watch(fd)

    def add_writer(self, fd: int, callback: Callable[[], object]) -> None:
        """Call ``callback()`` whenever ``fd`` is writable (replaces an earlier writer)."""
        self._writers[fd] = callback
        self._watch(fd)

    def remove_writer(self, fd: int) -> None:
        """Stop watching ``fd`` for writing (no-op if it was not watched)."""
        if self._writers.pop(fd, None) is not None:
            self._watch(fd)

    def _watch(self, fd: int) -> None:
        events = (selectors.EVENT_READ if fd in self._readers else 0) | (
            selectors.EVENT_WRITE if fd in self._writers else 0
        )
        try:
            key = self._selector.get_key(fd)
        except KeyError:
            key = None
        if key is None:
            if events:
                self._selector.register(fd, events)
        elif not events:
            self._selector.unregister(fd)
        elif key.events != events:
            self._selector.modify(fd, events)
        self._fine_stale = True

    def _fine_fds(self) -> tuple[list[int], list[int]] | None:
        """The watched descriptors, sorted, for select(); None if one is too high for it."""
        if self._fine_stale:
            fds = (sorted(self._readers), sorted(self._writers))
            self._fine = fds if all(f < _FD_SETSIZE for f in (*fds[0], *fds[1])) else None
            self._fine_stale = False
        return self._fine

    def _tick(self, max_wait: float) -> None:
        self._run_ready()
        nxt = self.next_timer()
        wait = max_wait if nxt is None else max(0.0, min(max_wait, nxt - self.now()))
        if self._ready:
            wait = 0.0
        if self._readers or self._writers:
            fine = self._fine_fds() if 0.0 < wait < 0.001 else None
            if fine is not None:
                readable, writable, _ = select.select(fine[0], fine[1], (), wait)
                for fd in readable:
                    reader = self._readers.get(fd)
                    if reader is not None:
                        reader()
                for fd in writable:
                    writer = self._writers.get(fd)  # a reader may have removed it
                    if writer is not None:
                        writer()
            else:
                # epoll waits whole milliseconds, rounded up: a timer due in 0.3 ms would
                # fire 0.7 ms late, and a frame crossing six simulated links would gather
                # those delays. Whole milliseconds, rounded down; select() waits the rest.
                wait = math.floor(wait * 1000.0) / 1000.0
                for key, mask in self._selector.select(wait):
                    fd = key.fd
                    if mask & selectors.EVENT_READ:
                        reader = self._readers.get(fd)
                        if reader is not None:
                            reader()
                    if mask & selectors.EVENT_WRITE:
                        writer = self._writers.get(fd)  # the reader may have removed it
                        if writer is not None:
                            writer()
        elif wait > 0:
            time.sleep(wait)
        now = self.now()
        heap = self._heap
        if heap and heap[0][0] <= now:
            self._run_due(heap, now)
        self._run_ready()

    def _run_due(self, heap: list[Any], now: float) -> None:
        """Run the timers due by ``now`` (and those they make due by then), noting how
        late each began (:attr:`lateness`); the counts are kept in locals on this hot path."""
        clock, t0, pop = time.monotonic, self._t0, heapq.heappop
        stats = self.lateness
        ran = late = very_late = 0
        worst = stats.worst
        try:
            while heap and heap[0][0] <= now:
                due, _, callback, args = pop(heap)
                if callback is not None:  # not cancelled
                    behind = clock() - t0 - due
                    if behind > LATE:
                        late += 1
                        if behind > 0.01:
                            very_late += 1
                        if behind > worst:
                            worst = behind
                    ran += 1
                    callback(*args)
        finally:
            self.events_run += ran
            stats.timers += ran
            stats.late += late
            stats.very_late += very_late
            stats.worst = worst

    def run_until_complete(self, aw: Future[T], timeout: float | None = None) -> T:
        deadline = None if timeout is None else self.now() + timeout
        while not aw.done():
            if deadline is not None and self.now() >= deadline:
                raise LoopTimeout(f"timed out after {timeout:g} s")
            self._tick(0.05)
        return aw.result()

    def run_forever(self, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            self._tick(0.05)

    def close(self) -> None:
        self._selector.close()
