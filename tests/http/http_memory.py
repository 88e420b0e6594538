"""In-memory byte streams on a virtual loop, for driving the HTTP apps without a network.

A :class:`MemoryStream` pair behaves like two ends of a TCP connection as the apps see it:
``send`` delivers after ``latency`` virtual seconds, ``recv`` waits (with an optional
timeout), ``close``/``shutdown`` deliver EOF after the queued bytes, ``abort`` makes the
peer's next ``recv``/``send`` fail with :class:`ConnectionResetError`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from minternet.loop import Future, VirtualLoop
from minternet.randomness import SeededRandom
from minternet.trace.bus import EventLog, TraceBus


class MemoryStream:
    def __init__(self, loop: VirtualLoop, local: tuple[str, int], remote: tuple[str, int],
                 latency: float = 0.001) -> None:  # fmt: skip
        self.loop = loop
        self.local = local
        self.remote = remote
        self.latency = latency
        self.peer: MemoryStream | None = None
        self.buf = bytearray()
        self.eof = False
        self.reset = False
        self.closed = False
        self.waiter: Future[bytes] | None = None
        self.waiter_max = 0
        self.sent: list[bytes] = []  # every send, as one item per call

    # delivery from the peer
    def _deliver(self, data: bytes) -> None:
        if self.closed and not self.reset:
            return
        self.buf += data
        self._wake()

    def _deliver_eof(self) -> None:
        self.eof = True
        self._wake()

    def _deliver_reset(self) -> None:
        self.reset = True
        self._wake()

    def _wake(self) -> None:
        w = self.waiter
        if w is None or w.done():
            return
        if self.reset:
            self.waiter = None
            w.set_exception(ConnectionResetError("connection reset by peer"))
        elif self.buf:
            self.waiter = None
            n = self.waiter_max
            data = bytes(self.buf[:n])
            del self.buf[:n]
            w.set_result(data)
        elif self.eof:
            self.waiter = None
            w.set_result(b"")

    # the StreamSocket API
    def send(self, data: bytes) -> Future[None]:
        fut: Future[None] = self.loop.create_future()
        if self.reset or self.closed:
            fut.set_exception(ConnectionResetError("connection reset by peer"))
            return fut
        self.sent.append(bytes(data))
        assert self.peer is not None
        self.loop.call_later(self.latency, self.peer._deliver, bytes(data))
        fut.set_result(None)
        return fut

    def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> Future[bytes]:
        fut: Future[bytes] = self.loop.create_future()
        self.waiter = fut
        self.waiter_max = max_bytes
        self._wake()
        return self.loop.wait_for(fut, timeout)

    def shutdown(self) -> None:
        if not self.closed:
            assert self.peer is not None
            self.loop.call_later(self.latency, self.peer._deliver_eof)

    def close(self) -> Future[None]:
        self.shutdown()
        self.closed = True
        fut: Future[None] = self.loop.create_future()
        fut.set_result(None)
        return fut

    def set_nodelay(self, on: bool) -> None:
        """Nothing to do: an in-memory stream has no Nagle's algorithm."""

    def abort(self) -> None:
        self.closed = True
        assert self.peer is not None
        self.loop.call_later(self.latency, self.peer._deliver_reset)


def stream_pair(loop: VirtualLoop, latency: float = 0.001) -> tuple[MemoryStream, MemoryStream]:
    a = MemoryStream(loop, ("192.168.1.10", 49152), ("93.184.216.34", 443), latency)
    b = MemoryStream(loop, ("93.184.216.34", 443), ("192.168.1.10", 49152), latency)
    a.peer, b.peer = b, a
    return a, b


Handler = Callable[[MemoryStream], Coroutine[Any, Any, None]]


class MemoryStack:
    """A NetworkStack whose TCP connects to in-memory handlers (tests of the browser)."""

    def __init__(self, loop: VirtualLoop, name: str = "laptop") -> None:
        self.name = name
        self.loop = loop
        self.random = SeededRandom(1, name)
        self.trace = TraceBus()
        self.log = EventLog()
        self.trace.subscribe(self.log)
        self.servers: dict[tuple[str, int], Handler] = {}
        self.client_streams: list[MemoryStream] = []

    def tcp_connect(self, addr: tuple[str, int], timeout: float | None = None) -> Future[Any]:
        fut: Future[Any] = self.loop.create_future()
        handler = self.servers.get(addr)
        if handler is None:
            fut.set_exception(ConnectionRefusedError(f"{addr} refused"))
            return fut
        client, server = stream_pair(self.loop)
        self.client_streams.append(client)
        self.loop.create_task(handler(server), "server-conn")
        fut.set_result(client)
        return fut

    def udp_socket(self, bind: tuple[str, int] = ("0.0.0.0", 0)) -> Any:
        raise NotImplementedError

    def tcp_listen(self, port: int, backlog: int = 128, host: str = "0.0.0.0") -> Any:
        raise NotImplementedError
