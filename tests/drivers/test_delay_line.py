"""The delay line of ``bench.linux_loss_ratio`` (root only): two namespaces joined by two TAP
devices and this process, which delays, serialises and drops their frames.

Judged by the kernel's own ``ping`` between the namespaces: without loss the round trip is
the line's 2 × 24.2 ms; with half the IPv4 frames dropped each way, about half of the
frames the line carried are lost and about a quarter of the pings come back.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from required_tools import NETNS

ROOT = str(Path(__file__).resolve().parents[2])  # the checkout, for ``bench``
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.linux_loss_ratio import IP_B, ONE_WAY, LinePair  # noqa: E402

pytestmark = [pytest.mark.root, pytest.mark.tools(*NETNS, "ping")]


def ping_through(pair: LinePair, count: int, interval: float) -> str:
    """Run ``ping`` in namespace A to B while the line forwards; its output."""
    proc = pair.a.popen(
        ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "1", IP_B],
        stdout=subprocess.PIPE,
        text=True,
    )
    exited = os.pidfd_open(proc.pid)
    try:
        assert pair.line.serve([exited], time.monotonic() + count * interval + 10), "ping hung"
    finally:
        os.close(exited)
    assert proc.stdout is not None
    out: str = proc.stdout.read()
    return out


def test_round_trip_is_twice_the_one_way_delay() -> None:
    with LinePair(loss=0.0, seed=1) as pair:
        out = ping_through(pair, 12, 0.05)
    rtts = [float(ms) for ms in re.findall(r"time=([\d.]+) ms", out)]
    assert len(rtts) == 12, out
    # the first waits for ARP (one more round trip); the rest are the line's 48.4 ms
    median = statistics.median(rtts[1:])
    assert abs(median - 2 * ONE_WAY * 1e3) < 2.0, rtts
    assert min(rtts) >= 2 * ONE_WAY * 1e3, rtts  # never early
    counters = pair.line.counters()
    assert all(d["lost"] == 0 for d in counters.values()), counters
    assert pair.line.lateness_ms()["p50"] < 1.0


def test_half_the_frames_are_lost_each_way() -> None:
    with LinePair(loss=0.5, seed=7) as pair:
        out = ping_through(pair, 300, 0.01)
    counters = pair.line.counters()
    frames = sum(d["frames"] for d in counters.values())  # IPv4 and the ARP exchange
    lost = sum(d["lost"] for d in counters.values())  # IPv4 only
    assert frames >= 400, counters
    assert 0.4 < lost / frames < 0.55, counters
    # a ping comes back when neither its request nor its reply was lost: 1/4 of 300
    got = int(re.search(r"(\d+) received", out).group(1))  # type: ignore[union-attr]
    assert 45 <= got <= 105, out
