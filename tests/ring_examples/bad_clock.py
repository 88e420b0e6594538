"""A known-bad core for tests/test_rings.py: it reads the clock itself instead of taking
``now`` as an argument (``time`` is loaded at interpreter start-up, so only the import hook
of the test can see this import)."""

from __future__ import annotations

import time

from minternet.tcp.rto import RtoEstimator


def now() -> float:
    return time.monotonic()


__all__ = ["RtoEstimator", "now"]
