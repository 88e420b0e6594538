"""RealtimeLoop's file-descriptor watching: a reader and a writer on one descriptor."""

from __future__ import annotations

import itertools
import os
import re
import resource
import socket
import time

import pytest

from minternet.drivers.realtime import RealtimeLoop


def test_reader_and_writer_on_one_fd_are_independent() -> None:
    loop = RealtimeLoop()
    a, b = socket.socketpair()
    a.setblocking(False)
    seen: list[str] = []

    def on_write() -> None:
        seen.append("w")
        loop.remove_writer(a.fileno())
        b.send(b"x")  # makes a readable

    def on_read() -> None:
        seen.append("r:" + a.recv(10).decode())
        loop.remove_reader(a.fileno())

    loop.add_reader(a.fileno(), on_read)
    loop.add_writer(a.fileno(), on_write)
    done = loop.create_future()
    loop.call_later(0.3, done.set_result, None)
    loop.run_until_complete(done, timeout=5)
    assert seen == ["w", "r:x"]
    # nothing is watched any more; removing again is a no-op
    loop.remove_reader(a.fileno())
    loop.remove_writer(a.fileno())
    b.send(b"y")
    done2 = loop.create_future()
    loop.call_later(0.05, done2.set_result, None)
    loop.run_until_complete(done2, timeout=5)
    assert seen == ["w", "r:x"]
    loop.close()
    a.close()
    b.close()


def test_timers_run_without_any_descriptor() -> None:
    loop = RealtimeLoop()
    t0 = loop.now()
    loop.run_until_complete(loop.sleep(0.1), timeout=5)
    assert 0.09 <= loop.now() - t0 < 1.0
    loop.close()


class _CountingLoop(RealtimeLoop):
    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0

    def _tick(self, max_wait: float) -> None:
        self.ticks += 1
        super()._tick(max_wait)


def _sub_millisecond_timers(loop: _CountingLoop, count: int = 40, gap: float = 0.0003) -> None:
    """Run ``count`` timers ``gap`` seconds apart, each set by the one before."""
    fired: list[float] = []
    done = loop.create_future()

    def step() -> None:
        fired.append(loop.now())
        if len(fired) == count:
            done.set_result(None)
        else:
            loop.call_later(gap, step)

    loop.call_later(gap, step)
    loop.run_until_complete(done, timeout=10)
    assert all(b - a >= gap for a, b in itertools.pairwise(fired))  # never early


def test_sub_millisecond_timers_are_waited_for_not_polled() -> None:
    # epoll cannot wait less than a millisecond; select() can. Polling until each timer is
    # due took hundreds of passes through the loop per timer (and a whole core).
    loop = _CountingLoop()
    a, b = socket.socketpair()
    loop.add_reader(a.fileno(), lambda: None)  # watched, never readable
    _sub_millisecond_timers(loop)
    assert loop.ticks < 5 * 40
    # and a descriptor that becomes readable during such a wait is served
    got: list[bytes] = []
    loop.add_reader(a.fileno(), lambda: got.append(a.recv(10)))
    b.send(b"z")
    _sub_millisecond_timers(loop, count=3)
    assert got == [b"z"]
    loop.close()
    a.close()
    b.close()


def test_a_descriptor_beyond_select_still_works() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 1100:
        pytest.skip(f"cannot open descriptor 1100 (hard limit {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    loop = _CountingLoop()
    a, b = socket.socketpair()
    high = os.dup2(a.fileno(), 1100)
    try:
        got: list[bytes] = []
        loop.add_reader(high, lambda: got.append(os.read(high, 10)))
        b.send(b"q")
        _sub_millisecond_timers(loop, count=3)  # epoll only: polled as before, but correct
        assert got == [b"q"]
    finally:
        loop.close()
        os.close(high)
        a.close()
        b.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_lateness_counts_timers_that_ran_after_their_time() -> None:
    # One callback holds the loop for 30 ms; a timer due 1 ms in cannot begin before that
    # ends, so it is at least 29 ms late (a lower bound: the clock cannot run backwards).
    loop = RealtimeLoop()
    done = loop.create_future()
    loop.call_later(0.001, time.sleep, 0.03)
    loop.call_later(0.002, done.set_result, None)
    loop.run_until_complete(done, timeout=5)
    late = loop.lateness
    assert late.timers == 2
    assert late.late >= 1 and late.very_late >= 1
    assert late.worst >= 0.028
    assert late.behind  # one of two timers late: the loop did not keep real time
    assert late.as_dict()["worst_ms"] >= 28.0
    assert re.fullmatch(
        r"fell behind real time: \d+\.\d % of 2 timers ran within 1 ms of their time, "
        r"[12] more than 10 ms late, the worst \d+\.\d ms",
        late.describe(),
    ), late.describe()
    loop.close()


def test_lateness_of_a_loop_that_runs_no_timer() -> None:
    loop = RealtimeLoop()
    assert loop.lateness.timers == 0 and not loop.lateness.behind
    assert loop.lateness.describe() == "no timers ran"
    loop.close()
