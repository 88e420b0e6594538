"""Stopping a real-network run cleanly, however it is asked to stop.

Inside :func:`signals_as_interrupt`, SIGTERM and SIGHUP raise :class:`KeyboardInterrupt`
exactly as Ctrl-C does, so every ``with`` block and ``finally`` clause — closing sockets,
removing namespaces and TAP devices — runs on all three.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`KeyboardInterrupt` while inside (main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
