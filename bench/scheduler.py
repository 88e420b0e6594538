"""Scheduler throughput: our VirtualLoop against a bare heapq loop and simpy, same workload.

Workload: ``P`` processes, each waking up ``N`` times after a pseudo-random delay (the delays
are precomputed so that no engine pays for random numbers). Counted: timer events per second.
Our loop is measured twice: with plain timer callbacks (``call_at``, what links and protocol
timers use) and with coroutines awaiting ``loop.sleep`` (what applications do; comparable to
simpy processes, which are generators yielding timeouts).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable

import simpy

from minternet.loop import VirtualLoop

from ._util import fmt, median_rates

P = 100
N = 2000
DELAYS = [random.Random(i).random() for i in range(997)]
REPEAT = 8  # a multiple of the 4 contenders: each runs after each neighbour twice


def bare_heapq() -> int:
    heap: list[tuple[float, int, Callable[[float], None]]] = []
    seq = 0
    count = 0

    def make(p: int) -> Callable[[float], None]:
        left = [N]

        def wake(now: float) -> None:
            nonlocal seq, count
            count += 1
            left[0] -= 1
            if left[0]:
                seq += 1
                heapq.heappush(heap, (now + DELAYS[(p + left[0]) % 997], seq, wake))

        return wake

    for p in range(P):
        seq += 1
        heap.append((DELAYS[p], seq, make(p)))
    heapq.heapify(heap)
    pop = heapq.heappop
    while heap:
        now, _, cb = pop(heap)
        cb(now)
    return count


def ours_callbacks() -> int:
    loop = VirtualLoop()
    count = 0

    def make(p: int) -> Callable[[], None]:
        left = [N]

        def wake() -> None:
            nonlocal count
            count += 1
            left[0] -= 1
            if left[0]:
                loop.call_later(DELAYS[(p + left[0]) % 997], wake)

        return wake

    for p in range(P):
        loop.call_later(DELAYS[p], make(p))
    loop.run()
    return count


def ours_coroutines() -> int:
    loop = VirtualLoop()
    count = 0

    async def proc(p: int) -> None:
        nonlocal count
        for i in range(N):
            await loop.sleep(DELAYS[(p + i) % 997])
            count += 1

    for p in range(P):
        loop.create_task(proc(p))
    loop.run()
    return count


def with_simpy() -> int:
    env = simpy.Environment()
    count = 0

    def proc(p: int):  # type: ignore[no-untyped-def]
        nonlocal count
        for i in range(N):
            yield env.timeout(DELAYS[(p + i) % 997])
            count += 1

    for p in range(P):
        env.process(proc(p))
    env.run()
    return count


def main() -> dict[str, float]:
    rates = median_rates(
        {
            "bare heapq loop": bare_heapq,
            "VirtualLoop call_at": ours_callbacks,
            "VirtualLoop coroutines": ours_coroutines,
            "simpy processes": with_simpy,
        },
        repeat=REPEAT,
        rotate=True,
    )
    print(
        f"scheduler: {P} processes x {N} wake-ups, median of {REPEAT} interleaved runs, "
        "order rotated each round (wake-ups per second)"
    )
    simpy_rate = rates["simpy processes"]
    heap_rate = rates["bare heapq loop"]
    for name, r in rates.items():
        print(
            f"  {name:24s} {fmt(r):>12s}   x{r / simpy_rate:5.2f} simpy   "
            f"x{r / heap_rate:5.2f} bare heapq"
        )
    return rates


if __name__ == "__main__":
    main()
