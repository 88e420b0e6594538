from __future__ import annotations

import pytest

from minternet import Cancelled, LoopTimeout, SeededRandom, VirtualLoop


def test_timers_run_in_time_order_and_ties_in_insertion_order() -> None:
    loop = VirtualLoop()
    seen: list[tuple[float, str]] = []
    loop.call_at(2.0, lambda: seen.append((loop.now(), "b")))
    loop.call_at(1.0, lambda: seen.append((loop.now(), "a1")))
    loop.call_at(1.0, lambda: seen.append((loop.now(), "a2")))
    t = loop.call_at(1.5, lambda: seen.append((loop.now(), "x")))
    t.cancel()
    loop.run()
    assert seen == [(1.0, "a1"), (1.0, "a2"), (2.0, "b")]


def test_tasks_sleep_on_virtual_time_and_return_values() -> None:
    loop = VirtualLoop()

    async def worker(d: float) -> float:
        await loop.sleep(d)
        return loop.now()

    async def main() -> list[float]:
        a = loop.create_task(worker(3))
        b = loop.create_task(worker(1))
        return [await a, await b]

    assert loop.run_until_complete(loop.create_task(main())) == [3.0, 1.0]
    assert loop.now() == 3.0


def test_wait_for_times_out_and_cancels() -> None:
    loop = VirtualLoop()
    fut = loop.create_future()

    async def main() -> str:
        try:
            await loop.wait_for(fut, 2.0)
        except LoopTimeout:
            return "timeout"
        return "done"

    assert loop.run_until_complete(loop.create_task(main())) == "timeout"
    assert loop.now() == 2.0
    assert fut.cancelled()


def test_cancelled_task_sees_cancelled() -> None:
    loop = VirtualLoop()
    saw: list[str] = []

    async def sleeper() -> None:
        try:
            await loop.sleep(100)
        except Cancelled:
            saw.append("cancelled")
            raise

    task = loop.create_task(sleeper())
    loop.call_at(1.0, task.cancel)
    loop.run(until=10)
    assert saw == ["cancelled"] and task.cancelled()
    assert loop.now() == 10


def test_failed_task_is_recorded_not_raised() -> None:
    loop = VirtualLoop()

    async def bad() -> None:
        raise ValueError("boom")

    loop.create_task(bad(), name="bad")
    loop.run()
    assert [n for n, _ in loop.failed_tasks] == ["bad"]


def test_run_until_complete_reports_a_stall() -> None:
    loop = VirtualLoop()
    with pytest.raises(LoopTimeout):
        loop.run_until_complete(loop.create_future())


def test_seeded_random_is_reproducible_and_children_independent() -> None:
    a, b = SeededRandom(7), SeededRandom(7)
    assert a.random_bytes(16) == b.random_bytes(16)
    assert a.child("x").randint(0, 10**9) == b.child("x").randint(0, 10**9)
    assert a.child("x").random_bytes(8) != a.child("y").random_bytes(8)
    assert SeededRandom(8).random_bytes(16) != SeededRandom(7).random_bytes(16)
