"""Shared helpers: measure several contenders interleaved, keep the median of each."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_rates(
    contenders: dict[str, Callable[[], int]], repeat: int = 7, rotate: bool = False
) -> dict[str, float]:
    """Each contender does some work and returns how many units; the median units per
    second of each. Runs are interleaved (A B C, A B C …) so that the machine's noise hits
    every contender alike. With ``rotate`` each round starts one contender later (A B C,
    B C A, C A B …), so that none always runs right after the same neighbour: a run's speed
    depends by several per cent on what ran just before it (allocator and cache state)."""
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    items = list(contenders.items())
    for round_ in range(repeat):
        shift = round_ % len(items) if rotate else 0
        for name, fn in items[shift:] + items[:shift]:
            t0 = time.perf_counter()
            n = fn()
            rates[name].append(n / (time.perf_counter() - t0))
    return {name: statistics.median(r) for name, r in rates.items()}


def fmt(rate: float) -> str:
    return f"{rate / 1e6:.3f} M/s" if rate >= 1e6 else f"{rate / 1e3:.1f} k/s"
