"""A host's TCP: demultiplexing, listeners, ephemeral ports and the socket API.

:class:`TcpStack` sits between the host's IPv4 layer and applications. IP input calls
:meth:`TcpStack.deliver` with each segment; the stack checks the checksum (RFC 9293 §3.1),
decodes, finds the connection by its 4-tuple or a listener by its port, and answers segments
for which there is neither with a RST (RFC 9293 §3.10.7.1). It drives each
:class:`~minternet.tcp.connection.Connection` — a sans-IO machine — with the loop's clock,
hands the segments it produces to IP through ``send_ip`` and keeps one loop timer per
connection at its ``next_deadline()``.

Applications use :meth:`TcpStack.connect` and :meth:`TcpStack.listen`, which return the
:class:`~minternet.node.api.StreamSocket` and :class:`~minternet.node.api.Listener` shapes of
:mod:`minternet.node.api`; every blocking call returns a loop Future.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from ..errors import DecodeError, LocalProtocolError
from ..loop import Cancelled, EventLoop, Future, Timer
from ..randomness import RandomSource
from ..tcp.connection import (
    Address,
    Connection,
    ConnectionFailed,
    State,
    StateChanged,
    TcpConfig,
)
from ..tcp.segment import ACK, RST, SYN, Segment, checksum_ok, flag_names
from ..tcp.seq import MASK
from ..trace.bus import TraceBus

EPHEMERAL_LOW, EPHEMERAL_HIGH = 49152, 65535  # RFC 6335 §6 dynamic ports

SendIp = Callable[[str, str, bytes], None]


class QuotedPacket(Protocol):
    """The part of an ICMP error's quoted IPv4 datagram TCP needs."""

    src: str
    dst: str
    payload: bytes


class IcmpReport(Protocol):
    """An ICMP error about a datagram we sent, as the host's ICMP input hands it over."""

    reporter: str
    type: int
    code: int
    next_hop_mtu: int
    quoted: QuotedPacket


SourceFor = Callable[[str], str]


def ip_bytes(ip: str) -> bytes:
    """Dotted quad to four bytes (no socket module in protocol code)."""
    parts = ip.split(".") if isinstance(ip, str) else []
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise LocalProtocolError(f"TCP: not an IPv4 address: {ip!r}")
    return bytes(int(p) for p in parts)


def _check_port(port: object, lowest: int) -> int:
    if not isinstance(port, int) or not lowest <= port <= 65535:
        raise LocalProtocolError(f"TCP: port must be an integer in [{lowest}, 65535]: {port!r}")
    return port


class TcpStack:
    """The TCP of one node."""

    def __init__(
        self,
        *,
        loop: EventLoop,
        random: RandomSource,
        trace: TraceBus,
        node: str,
        send_ip: SendIp,
        source_for: SourceFor,
        config: TcpConfig | None = None,
    ) -> None:
        self.loop = loop
        self.random = random
        self.trace = trace
        self.node = node
        self.send_ip = send_ip
        self.source_for = source_for
        self.config = config if config is not None else TcpConfig()
        self.sockets: dict[tuple[str, int, str, int], TcpSocket] = {}
        self.listeners: dict[int, TcpListener] = {}
        self._ports = random.child("tcp-ports")
        self._conn_count = 0
        self._addr_cache: dict[str, bytes] = {}

    # -- IP input ----------------------------------------------------------------------

    def deliver(self, src: str, dst: str, data: bytes) -> None:
        """A segment from IP: ``src`` sent it to our address ``dst``."""
        cache = self._addr_cache
        sb = cache.get(src) or cache.setdefault(src, ip_bytes(src))
        db = cache.get(dst) or cache.setdefault(dst, ip_bytes(dst))
        if not checksum_ok(data, sb, db):
            self._drop("bad-checksum", src, dst, "the checksum does not match (RFC 9293 §3.1)")
            return
        try:
            seg = Segment.decode(data)
        except DecodeError as e:
            self._drop("malformed", src, dst, str(e))
            return
        sock = self.sockets.get((dst, seg.dst_port, src, seg.src_port))
        if sock is not None:
            sock.conn.receive(seg, self.loop.now())
            sock._service()
            return
        listener = self.listeners.get(seg.dst_port)
        if listener is not None and listener.host in ("0.0.0.0", dst):
            listener._on_segment(src, dst, seg)
            return
        self._reset_closed_port(src, dst, seg)

    def icmp_error(self, report: IcmpReport) -> None:
        """An ICMP error quoting a TCP segment we sent (called by the host's ICMP input)."""
        quoted = report.quoted
        head = quoted.payload
        if len(head) < 8:  # RFC 792: the quote holds at least 8 bytes of our header
            return
        sport, dport, seq = struct.unpack_from("!HHI", head)
        sock = self.sockets.get((quoted.src, sport, quoted.dst, dport))
        if sock is None:
            return
        if report.type == 3 and report.code == 4:
            kind = "frag-needed"
        elif report.type == 3 and report.code in (2, 3):
            kind = "unreachable"
        else:
            kind = "soft"
        detail = f"ICMP type {report.type} code {report.code} from {report.reporter}"
        sock.conn.icmp_error(kind, seq, report.next_hop_mtu, self.loop.now(), detail)
        sock._service()

    def _drop(self, reason: str, src: str, dst: str, why: str) -> None:
        self.trace.count(f"tcp.drop.{reason}")
        if self.trace.active:
            self.trace.emit(
                self.loop.now(), self.node, "tcp", "drop", {"src": src, "dst": dst}, why=why
            )

    def _reset_closed_port(self, src: str, dst: str, seg: Segment) -> None:
        """RFC 9293 §3.10.7.1: a segment to a closed port gets a RST (unless it is one)."""
        if seg.flags & RST:
            return
        if seg.flags & ACK:
            rst = Segment(seg.dst_port, seg.src_port, seg.ack, 0, RST, 0)
        else:
            rst = Segment(
                seg.dst_port, seg.src_port, 0, (seg.seq + seg.seg_len) & MASK, RST | ACK, 0
            )
        self.trace.count("tcp.rst.closed-port")
        if self.trace.active:
            self.trace.emit(
                self.loop.now(),
                self.node,
                "tcp",
                "rst",
                {
                    "to": f"{src}:{seg.src_port}",
                    "port": seg.dst_port,
                    "flags": flag_names(rst.flags),
                },
                why=f"no socket on port {seg.dst_port}: connection refused",
            )
        self.output(dst, src, rst)

    def output(self, src: str, dst: str, seg: Segment) -> None:
        """Encode ``seg`` with its checksum and hand it to IP."""
        cache = self._addr_cache
        sb = cache.get(src) or cache.setdefault(src, ip_bytes(src))
        db = cache.get(dst) or cache.setdefault(dst, ip_bytes(dst))
        self.send_ip(src, dst, seg.encode(sb, db))

    # -- the application side ----------------------------------------------------------

    def _new_connection_kwargs(self) -> dict[str, object]:
        self._conn_count += 1
        return {
            "config": self.config,
            "random": self.random.child(f"tcp-conn-{self._conn_count}"),
            "now": self.loop.now(),
            "trace": self.trace,
            "node": self.node,
        }

    def _ephemeral_port(self, local_ip: str, remote: Address) -> int:
        """RFC 6056 algorithm 1: a random port, retried until the 4-tuple is free."""
        for _ in range(EPHEMERAL_HIGH - EPHEMERAL_LOW + 1):
            port = self._ports.randint(EPHEMERAL_LOW, EPHEMERAL_HIGH)
            if port not in self.listeners and (local_ip, port, *remote) not in self.sockets:
                return port
        raise LocalProtocolError("TCP: no free ephemeral port")

    def connect(self, addr: Address, timeout: float | None = None) -> Future[TcpSocket]:
        """Active open to ``addr``; the future fails with ConnectionRefusedError on RST."""
        ip_bytes(addr[0])
        _check_port(addr[1], 1)
        local_ip = self.source_for(addr[0])
        port = self._ephemeral_port(local_ip, addr)
        conn = Connection.connect((local_ip, port), addr, **self._new_connection_kwargs())
        sock = TcpSocket(self, conn)
        self.sockets[(local_ip, port, addr[0], addr[1])] = sock
        fut = sock._connected
        sock._service()
        if timeout is None:
            return fut

        def on_timeout(f: Future[TcpSocket]) -> None:
            if f.cancelled() and sock.conn.state is not State.CLOSED:
                sock.conn.abort(self.loop.now(), "connect timed out")
                sock._service()

        fut.add_done_callback(on_timeout)
        return self.loop.wait_for(fut, timeout)

    def listen(self, port: int, backlog: int = 128, host: str = "0.0.0.0") -> TcpListener:
        _check_port(port, 1)
        ip_bytes(host)
        if port in self.listeners:
            raise LocalProtocolError(f"TCP: port {port} is already listening")
        lst = TcpListener(self, port, backlog, host)
        self.listeners[port] = lst
        return lst

    # -- bookkeeping -------------------------------------------------------------------

    def _forget(self, sock: TcpSocket) -> None:
        c = sock.conn
        key = (c.local[0], c.local[1], c.remote[0], c.remote[1])
        if self.sockets.get(key) is sock:
            del self.sockets[key]
        if sock.listener is not None:
            sock.listener._child_closed(sock)


class TcpSocket:
    """A connection as applications see it (the :class:`~minternet.node.api.StreamSocket`)."""

    def __init__(
        self, stack: TcpStack, conn: Connection, listener: TcpListener | None = None
    ) -> None:
        self.stack = stack
        self.conn = conn
        self.listener = listener
        loop = stack.loop
        self.loop = loop
        self._connected: Future[TcpSocket] = loop.create_future()
        self._closed: Future[None] = loop.create_future()
        # Plain lists: almost always empty or one long, and a deque costs 600 bytes.
        self._writes: list[tuple[memoryview, Future[None]]] = []
        self._readers: list[tuple[int, Future[bytes]]] = []
        self._shutdown_pending = False
        self._discard = False
        self._error: ConnectionFailed | None = None
        self._timer: Timer | None = None
        self._timer_at = 0.0
        self._src_b = ip_bytes(conn.local[0])
        self._dst_b = ip_bytes(conn.remote[0])
        self._accepted = False

    @property
    def local(self) -> Address:
        return self.conn.local

    @property
    def remote(self) -> Address:
        return self.conn.remote

    @property
    def state(self) -> State:
        return self.conn.state

    # -- StreamSocket API --------------------------------------------------------------

    def set_nodelay(self, on: bool) -> None:
        """``TCP_NODELAY``: switch Nagle's algorithm off (``on``) or back on, for this
        connection only — as nginx (``tcp_nodelay on``) and browsers do."""
        self.conn.config = replace(self.conn.config, nagle=not on)

    def send(self, data: bytes) -> Future[None]:
        fut: Future[None] = self.loop.create_future()
        if (
            self._shutdown_pending
            or self.conn._fin_queued
            or self.conn.state
            not in (
                State.ESTABLISHED,
                State.CLOSE_WAIT,
                State.SYN_SENT,
                State.SYN_RECEIVED,
            )
        ):
            fut.set_exception(self._closed_error("send"))
            return fut
        if not data:
            fut.set_result(None)
            return fut
        self._writes.append((memoryview(data), fut))
        self._pump_writes()
        self._flush()
        return fut

    def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> Future[bytes]:
        fut: Future[bytes] = self.loop.create_future()
        if not self._readers and self._try_read(max_bytes, fut):
            self._flush()
            return fut
        self._readers.append((max_bytes, fut))
        return self.loop.wait_for(fut, timeout)

    def shutdown(self) -> None:
        self._shutdown_pending = True
        self._pump_writes()
        self._flush()

    def close(self) -> Future[None]:
        self._discard = True
        self.shutdown()
        self._service()
        if self.conn.state is State.FIN_WAIT_2:
            self._orphan_timer()
        return self._closed

    def _orphan_timer(self) -> None:
        """A closed socket does not wait forever for the peer's FIN (as Linux's
        ``tcp_fin_timeout``): after ``fin_wait_2_timeout`` in FIN-WAIT-2 it is dropped."""
        timeout = self.conn.config.fin_wait_2_timeout

        def expire() -> None:
            if self.conn.state is State.FIN_WAIT_2:
                self.conn.give_up(
                    self.loop.now(), f"no FIN from the peer within {timeout:g} s of close"
                )
                self._service()

        self.loop.call_later(timeout, expire)

    def abort(self) -> None:
        self.conn.abort(self.loop.now())
        self._service()

    # -- internals ---------------------------------------------------------------------

    def _closed_error(self, what: str) -> Exception:
        err = self._error
        if err is not None and err.reason == "refused":
            return ConnectionRefusedError(f"{what}: {err.detail}")
        if err is not None and err.reason == "reset":
            return ConnectionResetError(f"{what}: {err.detail}")
        if err is not None and err.reason == "timeout":
            return TimeoutError(f"{what}: {err.detail}")
        return BrokenPipeError(f"{what}: the connection is closed ({self.conn.state})")

    def _try_read(self, max_bytes: int, fut: Future[bytes]) -> bool:
        conn = self.conn
        if conn.readable:
            fut.set_result(conn.read(max_bytes, self.loop.now()))
            return True
        if conn.fin_received:
            fut.set_result(b"")  # the peer's FIN: end of stream
            return True
        if conn.state is State.CLOSED:
            if self._error is not None:
                fut.set_exception(self._closed_error("recv"))
            else:
                fut.set_result(b"")
            return True
        return False

    def _pump_writes(self) -> None:
        conn = self.conn
        writes = self._writes
        now = self.loop.now()
        while writes:
            mv, fut = writes[0]
            if fut.done():  # cancelled by the caller
                del writes[0]
                continue
            if conn.state is State.CLOSED:
                fut.set_exception(self._closed_error("send"))
                del writes[0]
                continue
            n = conn.write(mv, now)
            if n < len(mv):
                writes[0] = (mv[n:], fut)
                break
            del writes[0]
            fut.set_result(None)
        if (
            not writes
            and self._shutdown_pending
            and not conn._fin_queued
            and conn.state in (State.ESTABLISHED, State.CLOSE_WAIT, State.SYN_RECEIVED)
        ):
            conn.shutdown(now)  # in SYN-SENT the FIN waits until the connection is open

    def _flush(self) -> None:
        """Send what the connection produced and react to its events."""
        conn = self.conn
        stack = self.stack
        out = conn.take_segments()
        if out:
            send_ip = stack.send_ip
            src, dst = conn.local[0], conn.remote[0]
            sb, db = self._src_b, self._dst_b
            for seg in out:
                send_ip(src, dst, seg.encode(sb, db))
        events = conn.take_events()
        for ev in events:
            if isinstance(ev, ConnectionFailed):
                self._error = ev
                stack.trace.count(f"tcp.failed.{ev.reason}")
            elif isinstance(ev, StateChanged):
                self._on_state(ev)
        self._arm()

    def _service(self) -> None:
        """After input or a timer: flush, then wake readers, writers and waiters."""
        conn = self.conn
        if self._writes or self._shutdown_pending:
            self._pump_writes()
        self._flush()
        if self._discard and conn.readable:
            conn.read(conn.readable, self.loop.now())
            self._flush()
        readers = self._readers
        while readers:
            max_bytes, fut = readers[0]
            if fut.done():
                del readers[0]
                continue
            if not self._try_read(max_bytes, fut):
                break
            del readers[0]
            self._flush()

    def _on_state(self, ev: StateChanged) -> None:
        new = ev.new
        if new is State.ESTABLISHED:
            if self.listener is not None and not self._accepted:
                self._accepted = True
                self.listener._child_established(self)
            else:
                self._connected.set_result(self)
        elif new is State.FIN_WAIT_2 and self._discard:
            self._orphan_timer()
        elif new in (State.TIME_WAIT, State.CLOSED):
            if not self._closed.done():
                self._closed.set_result(None)
            if new is State.CLOSED:
                self._on_closed()

    def _on_closed(self) -> None:
        if not self._connected.done():
            self._connected.set_exception(self._closed_error("connect"))
        for _, fut in self._writes:
            if not fut.done():
                fut.set_exception(self._closed_error("send"))
        self._writes.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.stack._forget(self)

    def _arm(self) -> None:
        """Keep one loop timer at or before the connection's next deadline."""
        deadline = self.conn.next_deadline()
        timer = self._timer
        if deadline is None:
            return
        if timer is not None and not timer.cancelled and self._timer_at <= deadline:
            return
        if timer is not None:
            timer.cancel()
        self._timer_at = deadline
        self._timer = self.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        conn = self.conn
        if conn.state is State.CLOSED:
            return
        deadline = conn.next_deadline()
        now = self.loop.now()
        if deadline is not None and deadline <= now:
            conn.on_timer(now)
            self._service()
        else:
            self._arm()


class TcpListener:
    """A listening port with a backlog (the :class:`~minternet.node.api.Listener`)."""

    def __init__(self, stack: TcpStack, port: int, backlog: int, host: str) -> None:
        self.stack = stack
        self.port = port
        self.backlog = max(1, backlog)
        self.host = host
        self._ready: deque[TcpSocket] = deque()
        self._half_open = 0
        self._accepts: deque[Future[TcpSocket]] = deque()
        self._open = True

    @property
    def local(self) -> Address:
        return (self.host, self.port)

    def accept(self) -> Future[TcpSocket]:
        fut: Future[TcpSocket] = self.stack.loop.create_future()
        if not self._open:
            fut.set_exception(LocalProtocolError("TCP: the listener is closed"))
        elif self._ready:
            fut.set_result(self._ready.popleft())
        else:
            self._accepts.append(fut)
        return fut

    def close(self) -> None:
        self._open = False
        if self.stack.listeners.get(self.port) is self:
            del self.stack.listeners[self.port]
        for fut in self._accepts:
            if not fut.done():
                fut.set_exception(Cancelled())
        self._accepts.clear()
        while self._ready:
            self._ready.popleft().abort()

    def _on_segment(self, src: str, dst: str, seg: Segment) -> None:
        stack = self.stack
        if seg.flags & (RST | ACK) or not seg.flags & SYN:
            # RST: ignore; ACK: RST (RFC 9293 §3.10.7.2); anything else: drop.
            if seg.flags & ACK and not seg.flags & RST:
                stack._reset_closed_port(src, dst, seg)
            return
        if self._half_open + len(self._ready) >= self.backlog:
            stack.trace.count("tcp.drop.backlog-full")
            if stack.trace.active:
                stack.trace.emit(
                    stack.loop.now(),
                    stack.node,
                    "tcp",
                    "drop",
                    {"port": self.port, "backlog": self.backlog},
                    why="listen backlog full: SYN dropped (the client will retransmit)",
                )
            return
        conn = Connection.listen(
            (dst, self.port), (src, seg.src_port), **stack._new_connection_kwargs()
        )
        sock = TcpSocket(stack, conn, self)
        stack.sockets[(dst, self.port, src, seg.src_port)] = sock
        self._half_open += 1
        conn.receive(seg, stack.loop.now())
        sock._service()

    def _child_established(self, sock: TcpSocket) -> None:
        self._half_open -= 1
        while self._accepts:
            fut = self._accepts.popleft()
            if not fut.done():
                fut.set_result(sock)
                return
        self._ready.append(sock)

    def _child_closed(self, sock: TcpSocket) -> None:
        if not sock._accepted:
            self._half_open -= 1
        elif sock in self._ready:
            self._ready.remove(sock)
