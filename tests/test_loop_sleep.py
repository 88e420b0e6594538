"""``loop.sleep`` off the common path: the fast path in :class:`Task` for awaiting a sleep
must behave exactly like an ordinary :class:`Future` (these tests pass on the loop before
the fast path too)."""

from __future__ import annotations

from typing import Any

import pytest

from minternet import Cancelled, LoopTimeout, VirtualLoop


def test_sleep_is_a_future_usable_without_a_task() -> None:
    loop = VirtualLoop()
    fut = loop.sleep(2.5)
    assert not fut.done()
    assert loop.run_until_complete(fut) is None
    assert fut.done() and fut.result() is None and loop.now() == 2.5


def test_awaited_sleep_is_done_afterwards_and_can_be_awaited_again() -> None:
    loop = VirtualLoop()
    seen: list[Any] = []

    async def main() -> None:
        s = loop.sleep(1)
        await s
        seen.append((s.done(), loop.now()))
        seen.append(await s)  # already done: no wait
        seen.append(loop.now())

    loop.run_until_complete(loop.create_task(main()))
    assert seen == [(True, 1.0), None, 1.0]


def test_callbacks_added_before_and_after_the_task_awaits_run_in_order() -> None:
    loop = VirtualLoop()
    order: list[str] = []

    async def waiter(s: Any, name: str) -> None:
        await s
        order.append(name)

    early = loop.sleep(1)
    early.add_done_callback(lambda f: order.append("cb-before"))
    loop.create_task(waiter(early, "task-early"))
    late = loop.sleep(2)
    loop.create_task(waiter(late, "task-late"))
    loop.run(until=0.5)  # both tasks now wait on their sleeps
    late.add_done_callback(lambda f: order.append("cb-after"))
    loop.run()
    assert order == ["cb-before", "task-early", "task-late", "cb-after"]


def test_two_tasks_awaiting_one_sleep_both_wake_in_await_order() -> None:
    loop = VirtualLoop()
    order: list[tuple[str, float]] = []
    s = loop.sleep(3)

    async def waiter(name: str) -> None:
        await s
        order.append((name, loop.now()))

    loop.create_task(waiter("a"))
    loop.create_task(waiter("b"))
    loop.run()
    assert order == [("a", 3.0), ("b", 3.0)]


def test_cancelling_the_sleep_itself_throws_cancelled_into_the_awaiting_task() -> None:
    loop = VirtualLoop()
    saw: list[Any] = []

    async def main() -> None:
        s = loop.sleep(10)
        loop.call_at(1.0, s.cancel)
        try:
            await s
        except Cancelled:
            saw.append(("cancelled", loop.now()))
        await loop.sleep(1)  # the task goes on; the stale timer must not wake it early
        saw.append(("slept", loop.now()))

    task = loop.create_task(main())
    loop.run()
    assert saw == [("cancelled", 1.0), ("slept", 2.0)]
    assert task.done() and not task.cancelled()
    assert loop.now() == 10.0  # the cancelled sleep's timer still ran (as a no-op)


def test_cancelled_sleeping_task_can_catch_and_sleep_again() -> None:
    loop = VirtualLoop()
    saw: list[float] = []

    async def stubborn() -> None:
        try:
            await loop.sleep(5)
        except Cancelled:
            saw.append(loop.now())
        await loop.sleep(1)
        saw.append(loop.now())

    task = loop.create_task(stubborn())
    loop.call_at(2.0, task.cancel)
    loop.run()
    assert saw == [2.0, 3.0] and task.done() and task.result() is None
    assert loop.now() == 5.0


def test_wait_for_a_sleep_times_out_and_cancels_it() -> None:
    loop = VirtualLoop()

    async def main() -> str:
        s = loop.sleep(10)
        try:
            await loop.wait_for(s, 2.0)
        except LoopTimeout:
            return f"timeout {loop.now():g} {s.cancelled()}"
        return "done"

    assert loop.run_until_complete(loop.create_task(main())) == "timeout 2 True"


def test_zero_and_negative_sleeps_yield_in_fifo_order() -> None:
    loop = VirtualLoop()
    order: list[str] = []

    async def worker(name: str, d: float) -> None:
        for i in range(3):
            await loop.sleep(d)
            order.append(f"{name}{i}")

    loop.create_task(worker("a", 0))
    loop.create_task(worker("b", -1))
    loop.run()
    assert order == ["a0", "b0", "a1", "b1", "a2", "b2"] and loop.now() == 0.0


def test_run_until_complete_times_out_on_a_long_sleep_and_can_resume() -> None:
    loop = VirtualLoop()
    s = loop.sleep(5)
    with pytest.raises(LoopTimeout):
        loop.run_until_complete(s, timeout=1)
    assert loop.now() == 1.0 and not s.done()
    loop.run_until_complete(s)
    assert loop.now() == 5.0


def test_run_stops_at_until_and_resumes_with_the_same_order() -> None:
    loop = VirtualLoop()
    seen: list[str] = []
    for name in "abc":
        loop.call_at(2.0, seen.append, name)
    loop.run(until=1.0)
    assert seen == [] and loop.now() == 1.0
    loop.run(max_events=1)
    assert seen == ["a"]
    loop.run()
    assert seen == ["a", "b", "c"]


def test_timer_handle_reports_cancellation() -> None:
    loop = VirtualLoop()
    t = loop.call_later(1.0, lambda: None)
    assert not t.cancelled and t.when == 1.0
    t.cancel()
    assert t.cancelled
    assert loop.next_timer() is None
