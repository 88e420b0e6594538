"""TLS over a :class:`~minternet.node.api.StreamSocket`, on the stack's event loop.

:func:`tls_connect` / :func:`tls_accept` run the handshake and give a :class:`TlsStream`,
which HTTP uses like a socket: ``send(data)`` and ``recv(max, timeout)`` return futures;
``recv`` gives ``b""`` once the peer sent close_notify (or the transport ended); ``close()``
sends close_notify and closes the socket. A handshake that fails raises
:class:`TlsHandshakeError` (one line: which alert, sent or received, and why). Every step of
the machines is emitted on the trace bus as layer ``"tls"``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..errors import MinternetError, RemoteProtocolError
from ..loop import EventLoop, Future, LoopTimeout
from ..node.api import StreamSocket
from ..tls.alerts import alert_name
from ..tls.client import ClientConfig
from ..tls.connection import (
    AlertReceived,
    ApplicationData,
    Closed,
    HandshakeComplete,
    TlsInfo,
    TraceHook,
)
from ..tls.connection13 import EarlyData, Ticket13, Tls13Info
from ..tls.negotiate import TlsMachine, client_machine, server_machine
from ..tls.server import ServerConfig
from ..tls.server13 import ServerConfig13
from ..trace.bus import TraceBus


class TlsHandshakeError(RemoteProtocolError):
    """The handshake ended with an alert or the transport closed under it."""

    def __init__(self, closed: Closed, connection: TlsMachine) -> None:
        self.closed = closed
        self.connection = connection  # what was negotiated and checked before the failure
        self.verification = getattr(getattr(connection, "neg", None), "verification", None)
        if closed.alert is not None:
            way = "sent" if closed.alert_sent else "received"
            msg = f"TLS handshake failed ({way} {alert_name(closed.alert)}): {closed.reason}"
        else:
            msg = f"TLS handshake failed: {closed.reason}"
        super().__init__(msg)


class TlsStream:
    """An established TLS connection over a stream socket."""

    def __init__(self, sock: StreamSocket, conn: TlsMachine, loop: EventLoop) -> None:
        self.sock = sock
        self.conn = conn
        self.loop = loop
        self._buf = bytearray()
        self._eof = False
        self.alerts: list[AlertReceived] = []
        self.early_data_bytes = 0  # how many of the first bytes came as 0-RTT data

    @property
    def info(self) -> TlsInfo | Tls13Info:
        info = self.conn.info
        assert isinstance(info, TlsInfo | Tls13Info)
        return info

    @property
    def closed(self) -> Closed | None:
        return self.conn.closed

    def _absorb(self, events: list[Any]) -> None:
        for ev in events:
            if isinstance(ev, ApplicationData):
                self._buf += ev.data
                if isinstance(ev, EarlyData):
                    self.early_data_bytes += len(ev.data)
            elif isinstance(ev, AlertReceived):
                self.alerts.append(ev)
            elif isinstance(ev, Closed):
                self._eof = True

    async def _flush(self) -> None:
        out = self.conn.data_to_send()
        if out:
            await self.sock.send(out)

    async def _pump(self, timeout: float | None) -> None:
        try:
            data = await self.sock.recv(65536, timeout)
        except ConnectionError:  # RST: the transport ended without close_notify
            data = b""
        self._absorb(self.conn.receive_data(data) if data else self.conn.receive_eof())
        await self._flush()

    async def _handshake(self, timeout: float | None) -> TlsStream:
        await self._flush()
        while not self.conn.established:
            if self.conn.closed is not None:
                await self._flush_quietly()
                self.sock.close()
                raise TlsHandshakeError(self.conn.closed, self.conn)
            try:
                await self._pump(timeout)
            except LoopTimeout:
                # the peer went silent mid-handshake: say why, then drop the connection
                self.conn.close()
                await self._flush_quietly()
                self.sock.abort()
                raise
        return self

    async def _flush_quietly(self) -> None:
        with contextlib.suppress(OSError, MinternetError):
            await self._flush()

    # -- the socket-like API --------------------------------------------------------------
    def send(self, data: bytes) -> Future[None]:
        """Encrypt ``data`` into records and hand them to the socket."""
        self.conn.send_application_data(data)
        return self.sock.send(self.conn.data_to_send())

    def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> Future[bytes]:
        """Up to ``max_bytes`` of application data; ``b""`` after close_notify or EOF."""
        if self._buf or self._eof:  # already here: no task, no trip through the loop
            fut: Future[bytes] = self.loop.create_future()
            out = bytes(self._buf[:max_bytes])
            del self._buf[:max_bytes]
            fut.set_result(out)
            return fut
        return self.loop.create_task(self._recv(max_bytes, timeout), "tls-recv")

    async def _recv(self, max_bytes: int, timeout: float | None) -> bytes:
        while not self._buf and not self._eof:
            await self._pump(timeout)
        out = bytes(self._buf[:max_bytes])
        del self._buf[:max_bytes]
        return out

    def shutdown(self) -> Future[None]:
        """Send close_notify but keep the socket: ``recv`` still gives records the peer had
        sent before it saw ours, then ``b""`` at its answering close_notify. (TLS 1.2 has no
        real half-close: RFC 5246 §7.2.1 has the peer answer at once.)"""
        self.conn.close()
        return self.loop.create_task(self._flush_quietly(), "tls-shutdown")

    def close(self) -> Future[None]:
        """Send close_notify (RFC 5246 §7.2.1), then close the socket."""
        return self.loop.create_task(self._close(), "tls-close")

    async def _close(self) -> None:
        self.conn.close()
        await self._flush_quietly()
        await self.sock.close()


def _hook(trace: TraceBus | None, loop: EventLoop, node: str) -> TraceHook | None:
    if trace is None:
        return None

    def emit(kind: str, fields: dict[str, Any], why: str | None) -> None:
        trace.emit(loop.now(), node, "tls", kind, fields, why=why)

    return emit


async def tls_connect(
    sock: StreamSocket,
    config: ClientConfig,
    *,
    loop: EventLoop,
    trace: TraceBus | None = None,
    node: str = "",
    timeout: float | None = None,
    versions: tuple[str, ...] = ("1.2",),
    session13: Ticket13 | None = None,
    early_data: bytes = b"",
) -> TlsStream:
    """Run the client handshake over ``sock``; the established :class:`TlsStream`.
    ``versions``: ``("1.2",)``, ``("1.3",)`` or both (one hello offering both, 1.3 first);
    ``session13``: a TLS 1.3 ticket to resume with; ``early_data``: application data sent
    first — as 0-RTT data when the ticket allows it (replayable: RFC 8446 §8)."""
    conn = client_machine(
        config, versions, trace=_hook(trace, loop, node), session13=session13, early_data=early_data
    )
    return await TlsStream(sock, conn, loop)._handshake(timeout)


async def tls_accept(
    sock: StreamSocket,
    config: ServerConfig,
    *,
    loop: EventLoop,
    trace: TraceBus | None = None,
    node: str = "",
    timeout: float | None = None,
    versions: tuple[str, ...] = ("1.2",),
    config13: ServerConfig13 | None = None,
) -> TlsStream:
    """Run the server handshake over an accepted ``sock`` (``versions`` as for
    :func:`tls_connect`: with both, the client's hello decides; ``config13``: the 1.3 side
    if not derived from ``config``). 0-RTT data the server accepted is read before the
    handshake completes and comes first from ``recv`` (``early_data_bytes`` says how much)."""
    conn = server_machine(config, versions, trace=_hook(trace, loop, node), config13=config13)
    return await TlsStream(sock, conn, loop)._handshake(timeout)


__all__ = ["HandshakeComplete", "TlsHandshakeError", "TlsStream", "tls_accept", "tls_connect"]
