"""The byte stream HTTP runs on: a TCP :class:`~minternet.node.api.StreamSocket` or a TLS
stream over one. Apps above (the web server, the browser) only need these three calls."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar

from ..loop import Cancelled, EventLoop, Future

T = TypeVar("T")


class ByteStream(Protocol):
    """A reliable ordered byte stream owned by a loop."""

    def send(self, data: bytes) -> Future[None]: ...

    def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> Future[bytes]:
        """Up to ``max_bytes``; ``b""`` at the peer's end of stream."""
        ...

    def close(self) -> object:
        """Close (a Future to await, or None if closing is immediate)."""
        ...


def ended_cleanly(stream: ByteStream) -> bool:
    """False when the stream knows its end was not a proper close: a TLS stream whose
    transport ended without close_notify (RFC 5246 §7.2.1). A plain TCP stream cannot tell
    a FIN from a truncation: True."""
    closed = getattr(stream, "closed", None)
    return getattr(closed, "clean", True) is not False


def as_future(loop: EventLoop, aw: Awaitable[T], name: str = "awaitable") -> Future[T]:
    """A Future for any awaitable (so ``loop.wait_for`` can bound it in time).

    A coroutine runs as a task whose failure is handed to the Future rather than reported as
    a failed task; cancelling the Future (a timeout) cancels the task.
    """
    if isinstance(aw, Future):
        return aw
    out: Future[T] = loop.create_future()

    async def run() -> None:
        try:
            result = await aw
        except Cancelled:
            out.cancel()
            return
        except Exception as e:
            out.set_exception(e)
            return
        out.set_result(result)

    task = loop.create_task(run(), name)

    def on_done(f: Future[Any]) -> None:
        if f.cancelled():
            task.cancel()

    out.add_done_callback(on_done)
    return out
