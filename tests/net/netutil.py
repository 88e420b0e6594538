"""Small worlds for the tests in tests/net (imported as a plain module)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from minternet.sim.faults import Faults
from minternet.sim.world import World

T = TypeVar("T")


def two_hosts(**link: Any) -> World:
    """a 10.0.0.1 ── b 10.0.0.2 on one link with the given link options."""
    return World.from_dict(
        {
            "nodes": {"a": {"kind": "host"}, "b": {"kind": "host"}},
            "links": [{"a": "a", "a_ip": "10.0.0.1/24", "b": "b", "b_ip": "10.0.0.2/24", **link}],
        }
    )


def chain(mtu_middle: int = 1500, faults: Faults | None = None, seed: int = 1) -> World:
    """h1 10.1.0.10 ─ r1 ─(10.2.0.0/30, mtu_middle)─ r2 ─ h2 10.3.0.10."""
    return World.from_dict(
        {
            "nodes": {
                "h1": {"kind": "host"},
                "r1": {"kind": "router"},
                "r2": {"kind": "router"},
                "h2": {"kind": "host"},
            },
            "links": [
                {"a": "h1", "a_ip": "10.1.0.10/24", "b": "r1", "b_ip": "10.1.0.1/24"},
                {
                    "a": "r1",
                    "a_ip": "10.2.0.1/30",
                    "b": "r2",
                    "b_ip": "10.2.0.2/30",
                    "mtu": mtu_middle,
                    "latency_ms": 5,
                },
                {"a": "r2", "a_ip": "10.3.0.1/24", "b": "h2", "b_ip": "10.3.0.10/24"},
            ],
        },
        faults=faults,
        seed=seed,
    )


def run(world: World, coro: Coroutine[Any, Any, T], timeout: float = 600.0) -> T:
    task = world.loop.create_task(coro)
    result = world.loop.run_until_complete(task, timeout)
    assert world.loop.failed_tasks == []
    return result
