"""The socket-like API applications are written against.

The browser, the web server, DNS servers and tools take a :class:`NetworkStack` and never
know whether it is a simulated host (our IPv4/UDP/TCP in the simulator or on a TAP device) or
the kernel's sockets (:mod:`minternet.drivers.kernel`). Every blocking call returns a
:class:`~minternet.loop.Future` to ``await`` on the stack's loop.

Addresses are ``(ip, port)`` tuples of a dotted-quad string and an int.
"""

from __future__ import annotations

from typing import Protocol

from ..loop import EventLoop, Future
from ..randomness import RandomSource
from ..trace.bus import TraceBus

Address = tuple[str, int]


class DatagramSocket(Protocol):
    """A bound UDP socket."""

    @property
    def local(self) -> Address: ...

    def sendto(self, data: bytes, addr: Address) -> None: ...

    def recvfrom(self, timeout: float | None = None) -> Future[tuple[bytes, Address]]:
        """The next datagram; fails with :class:`~minternet.loop.LoopTimeout` after timeout."""
        ...

    def close(self) -> None: ...


class StreamSocket(Protocol):
    """A connected TCP stream."""

    @property
    def local(self) -> Address: ...

    @property
    def remote(self) -> Address: ...

    def send(self, data: bytes) -> Future[None]:
        """Queue ``data``; completes when the stack has accepted it (back-pressure)."""
        ...

    def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> Future[bytes]:
        """Up to ``max_bytes``; ``b""`` once the peer has closed its side (FIN)."""
        ...

    def shutdown(self) -> None:
        """Half-close: send FIN after queued data; receiving goes on."""
        ...

    def close(self) -> Future[None]:
        """Full close; completes when the close handshake is done from our side's view."""
        ...

    def abort(self) -> None:
        """Send RST and forget the connection."""
        ...

    def set_nodelay(self, on: bool) -> None:
        """``TCP_NODELAY``: with ``on``, small segments are not held back by Nagle's
        algorithm (RFC 9293 §3.7.4) waiting for the ACK of data in flight."""
        ...


class Listener(Protocol):
    """A listening TCP socket."""

    @property
    def local(self) -> Address: ...

    def accept(self) -> Future[StreamSocket]: ...

    def close(self) -> None: ...


class NetworkStack(Protocol):
    """What an application may use: time, randomness, the trace bus, UDP and TCP."""

    name: str
    loop: EventLoop
    random: RandomSource
    trace: TraceBus

    def udp_socket(self, bind: Address = ("0.0.0.0", 0)) -> DatagramSocket: ...

    def tcp_connect(self, addr: Address, timeout: float | None = None) -> Future[StreamSocket]:
        """Fails with :class:`ConnectionRefusedError` on RST, LoopTimeout on no answer."""
        ...

    def tcp_listen(self, port: int, backlog: int = 128, host: str = "0.0.0.0") -> Listener: ...
