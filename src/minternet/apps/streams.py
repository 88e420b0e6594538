"""The byte stream HTTP runs on: a TCP :class:`~minternet.node.api.StreamSocket` or a TLS
stream over one. Apps above (the web server, the browser) only need these three calls."""

from __future__ import annotations

from typing import Protocol

from ..loop import Future


class ByteStream(Protocol):
    """A reliable ordered byte stream owned by a loop."""

    def send(self, data: bytes) -> Future[None]: ...

    def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> Future[bytes]:
        """Up to ``max_bytes``; ``b""`` at the peer's end of stream."""
        ...

    def close(self) -> object:
        """Close (a Future to await, or None if closing is immediate)."""
        ...
