"""The socket-like API (:mod:`minternet.node.api`) on the kernel's own UDP and TCP sockets.

Our applications — the DNS servers and resolver, the TLS and HTTP client and server — run
unchanged on a :class:`KernelStack` to talk to real peers (curl, OpenSSL, nginx, dig): the
kernel does IPv4/UDP/TCP, we do everything above. Every socket is non-blocking and driven by
the :class:`~minternet.drivers.realtime.RealtimeLoop`'s selector; nothing here ever blocks the loop.

Guarantees:

- :meth:`StreamSocket.send <KernelStream.send>` completes when the kernel has taken every
  byte (back-pressure: an application that awaits each send never buffers more than one
  write beyond the kernel's socket buffer);
- :meth:`~KernelStream.recv` gives ``b""`` once the peer's FIN arrived, forever after;
- :meth:`~KernelStream.shutdown` sends FIN after the queued bytes, :meth:`~KernelStream.abort`
  sends RST (``SO_LINGER`` 0), :meth:`~KernelStream.close` flushes then closes;
- a refused connect fails with :class:`ConnectionRefusedError`, an unanswered one with
  :class:`~minternet.loop.LoopTimeout`;
- randomness is the OS's (:class:`~minternet.drivers.entropy.SystemRandom`): a deterministic
  generator is refused, because it must never reach a real network.

Connection events (listen, connect, accept, refused, shutdown, close, abort) go to the
stack's :class:`~minternet.trace.bus.TraceBus`. :func:`run` runs one coroutine on a fresh
loop with Ctrl-C and SIGTERM handled, for the CLI commands.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections import deque
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import ConfigError, LocalProtocolError
from ..loop import Cancelled, EventLoop, Future, LoopTimeout
from ..randomness import RandomSource
from ..trace.bus import TraceBus
from .entropy import SystemRandom
from .interrupt import signals_as_interrupt
from .realtime import RealtimeLoop

if TYPE_CHECKING:
    from ..node.api import DatagramSocket, Listener, NetworkStack, StreamSocket

T = TypeVar("T")
Address = tuple[str, int]

_UDP_MAX = 65535
_TRY_AGAIN = (BlockingIOError, InterruptedError)


def _fmt(addr: Address) -> str:
    return f"{addr[0]}:{addr[1]}"


W = TypeVar("W")


class _Waiters(Generic[W]):
    """A FIFO of futures waiting for something, each with a size; done ones are skipped.

    A waiter is done early when its deadline passed (:class:`LoopTimeout`) or its task was
    cancelled; skipping it means nothing read from the kernel is ever handed to nobody.
    """

    __slots__ = ("_q",)

    def __init__(self) -> None:
        self._q: deque[tuple[Future[W], int]] = deque()

    def add(self, fut: Future[W], size: int = 0) -> None:
        self._q.append((fut, size))

    def first(self) -> tuple[Future[W], int] | None:
        q = self._q
        while q and q[0][0].done():
            q.popleft()
        return q[0] if q else None

    def pop(self) -> None:
        self._q.popleft()

    def fail_all(self, exc: BaseException) -> None:
        while self._q:
            self._q.popleft()[0].set_exception(exc)


def _expire_after(loop: EventLoop, fut: Future[Any], timeout: float | None, what: str) -> None:
    """Fail ``fut`` with :class:`LoopTimeout` if it is not done within ``timeout`` s."""
    if timeout is None or fut.done():
        return

    def expire() -> None:
        fut.set_exception(LoopTimeout(f"{what} timed out after {timeout:g} s"))

    timer = loop.call_later(timeout, expire)
    fut.add_done_callback(lambda _: timer.cancel())


class KernelDatagramSocket:
    """A non-blocking kernel UDP socket (:class:`~minternet.node.api.DatagramSocket`)."""

    def __init__(self, stack: KernelStack, sock: socket.socket) -> None:
        self._stack = stack
        self._loop = stack._rt
        self._sock = sock
        self._fd = sock.fileno()
        self._local: Address = sock.getsockname()
        self._waiters: _Waiters[tuple[bytes, Address]] = _Waiters()
        self._outbox: deque[tuple[bytes, Address]] = deque()
        self._reading = False
        self.closed = False
        stack._remember(self)

    @property
    def local(self) -> Address:
        return self._local

    def sendto(self, data: bytes, addr: Address) -> None:
        """Send one datagram; queued (never dropped by us) if the kernel's buffer is full."""
        if self.closed:
            raise LocalProtocolError("sendto on a closed UDP socket")
        if self._outbox:
            self._outbox.append((data, addr))
            return
        try:
            self._sock.sendto(data, addr)
        except _TRY_AGAIN:
            self._outbox.append((data, addr))
            self._loop.add_writer(self._fd, self._on_writable)

    def _on_writable(self) -> None:
        while self._outbox:
            data, addr = self._outbox[0]
            try:
                self._sock.sendto(data, addr)
            except _TRY_AGAIN:
                return
            except OSError as e:  # e.g. unreachable: the datagram is lost, as UDP allows
                self._stack._event("udp", "send-error", self._local, addr, why=str(e))
            self._outbox.popleft()
        self._loop.remove_writer(self._fd)

    def recvfrom(self, timeout: float | None = None) -> Future[tuple[bytes, Address]]:
        """The next datagram; :class:`LoopTimeout` after ``timeout`` seconds."""
        fut: Future[tuple[bytes, Address]] = Future(self._loop)
        if self.closed:
            fut.set_exception(LocalProtocolError("recvfrom on a closed UDP socket"))
            return fut
        self._waiters.add(fut)
        self._on_readable()
        if not fut.done():
            if not self._reading:
                self._reading = True
                self._loop.add_reader(self._fd, self._on_readable)
            _expire_after(self._loop, fut, timeout, "UDP recvfrom")
        return fut

    def _on_readable(self) -> None:
        while (w := self._waiters.first()) is not None:
            fut = w[0]
            try:
                data, addr = self._sock.recvfrom(_UDP_MAX)
            except _TRY_AGAIN:
                return
            except OSError as e:  # an ICMP error reported on this socket
                self._waiters.pop()
                fut.set_exception(e)
                continue
            self._waiters.pop()
            fut.set_result((data, (addr[0], addr[1])))
        if self._reading:  # nobody waits: leave further datagrams in the kernel's queue
            self._reading = False
            self._loop.remove_reader(self._fd)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._loop.remove_reader(self._fd)
        self._loop.remove_writer(self._fd)
        self._waiters.fail_all(LocalProtocolError("UDP socket closed"))
        self._stack._forget(self)
        self._sock.close()


class KernelStream:
    """A connected kernel TCP socket (:class:`~minternet.node.api.StreamSocket`)."""

    def __init__(self, stack: KernelStack, sock: socket.socket) -> None:
        self._stack = stack
        self._loop = stack._rt
        self._sock = sock
        self._fd = sock.fileno()
        self._local: Address = sock.getsockname()
        self._remote: Address = sock.getpeername()
        # sending: bytes not yet taken by the kernel, and who waits for which offset
        self._outbuf = bytearray()
        self._queued = 0  # total bytes ever queued by send()
        self._taken = 0  # total bytes the kernel has taken
        self._send_waiters: deque[tuple[int, Future[None]]] = deque()
        self._writing = False
        self._fin_pending = False
        self._fin_sent = False
        self._close_fut: Future[None] | None = None
        self._send_error: OSError | None = None
        # receiving
        self._recv_waiters: _Waiters[bytes] = _Waiters()
        self._reading = False
        self._eof = False
        self._recv_error: OSError | None = None
        self.closed = False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stack._remember(self)

    @property
    def local(self) -> Address:
        return self._local

    @property
    def remote(self) -> Address:
        return self._remote

    # -- sending ------------------------------------------------------------------------
    def send(self, data: bytes) -> Future[None]:
        """Queue ``data``; completes once the kernel has taken all of it."""
        if self.closed or self._close_fut is not None:
            raise LocalProtocolError("send on a closed TCP stream")
        if self._fin_pending:
            raise LocalProtocolError("send after shutdown (our FIN is queued)")
        fut: Future[None] = Future(self._loop)
        if self._send_error is not None:
            fut.set_exception(self._send_error)
            return fut
        if not data:
            fut.set_result(None)
            return fut
        self._queued += len(data)
        if not self._outbuf:
            try:
                n = self._sock.send(data)
            except _TRY_AGAIN:
                n = 0
            except OSError as e:
                self._fail_sending(e)
                fut.set_exception(e)
                return fut
            self._taken += n
            if n == len(data):
                fut.set_result(None)
                return fut
            self._outbuf += memoryview(data)[n:]
        else:
            self._outbuf += data
        self._send_waiters.append((self._queued, fut))
        self._want_write()
        return fut

    def _want_write(self) -> None:
        if not self._writing:
            self._writing = True
            self._loop.add_writer(self._fd, self._on_writable)

    def _on_writable(self) -> None:
        buf = self._outbuf
        while buf:
            try:
                n = self._sock.send(buf)
            except _TRY_AGAIN:
                break
            except OSError as e:
                self._fail_sending(e)
                return
            del buf[:n]  # O(1) amortised: bytearray moves its start
            self._taken += n
        waiters = self._send_waiters
        while waiters and waiters[0][0] <= self._taken:
            waiters.popleft()[1].set_result(None)
        if not buf:
            self._writing = False
            self._loop.remove_writer(self._fd)
            self._flushed()

    def _fail_sending(self, exc: OSError) -> None:
        """The kernel refused our bytes (EPIPE, ECONNRESET): fail every pending send."""
        self._send_error = exc
        self._outbuf.clear()
        while self._send_waiters:
            self._send_waiters.popleft()[1].set_exception(exc)
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)
        self._flushed()

    def _flushed(self) -> None:
        """Everything queued is with the kernel (or lost): FIN or close may go now."""
        if self._close_fut is not None:
            if not self.closed:
                self._release("close")
            self._close_fut.set_result(None)
        elif self._fin_pending and not self._fin_sent:
            self._fin_sent = True
            if self._send_error is None:
                with suppress(OSError):
                    self._sock.shutdown(socket.SHUT_WR)
                self._stack._event("tcp", "shutdown", self._local, self._remote, why="FIN sent")

    def set_nodelay(self, on: bool) -> None:
        """``TCP_NODELAY`` on the kernel socket (on by default: we buffer ourselves)."""
        with suppress(OSError):
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(on))

    def shutdown(self) -> None:
        """Half-close: FIN after the queued bytes; receiving goes on."""
        if self.closed or self._fin_pending:
            return
        self._fin_pending = True
        if not self._outbuf:
            self._flushed()

    # -- receiving ----------------------------------------------------------------------
    def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> Future[bytes]:
        """Up to ``max_bytes`` bytes; ``b""`` once the peer's FIN has arrived."""
        fut: Future[bytes] = Future(self._loop)
        if self.closed:
            fut.set_exception(LocalProtocolError("recv on a closed TCP stream"))
            return fut
        if max_bytes <= 0:
            raise LocalProtocolError("recv needs max_bytes > 0")
        self._recv_waiters.add(fut, max_bytes)
        self._on_readable()
        if not fut.done():
            if not self._reading:
                self._reading = True
                self._loop.add_reader(self._fd, self._on_readable)
            _expire_after(self._loop, fut, timeout, "TCP recv")
        return fut

    def _on_readable(self) -> None:
        waiters = self._recv_waiters
        while (w := waiters.first()) is not None:
            fut, size = w
            if self._recv_error is not None:
                waiters.pop()
                fut.set_exception(self._recv_error)
                continue
            if self._eof:
                data = b""
            else:
                try:
                    data = self._sock.recv(size)
                except _TRY_AGAIN:
                    return
                except OSError as e:  # ECONNRESET: the peer sent RST
                    self._recv_error = e
                    self._stack._event(
                        "tcp", "reset", self._local, self._remote, why=e.strerror or str(e)
                    )
                    continue
                if not data:
                    self._eof = True
                    self._stack._event("tcp", "peer-fin", self._local, self._remote)
            waiters.pop()
            fut.set_result(data)
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._fd)

    # -- closing ------------------------------------------------------------------------
    def close(self) -> Future[None]:
        """Send what is queued, then close (the kernel does the FIN handshake)."""
        if self._close_fut is not None:
            return self._close_fut
        fut: Future[None] = Future(self._loop)
        self._close_fut = fut
        if self.closed:
            fut.set_result(None)
            return fut
        self._fin_pending = True
        if not self._outbuf:
            self._flushed()
        return fut

    def abort(self) -> None:
        """Send RST now (``SO_LINGER`` 0) and drop what is queued."""
        if self.closed:
            return
        with suppress(OSError):
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        exc = ConnectionAbortedError(errno.ECONNABORTED, "connection aborted locally")
        while self._send_waiters:
            self._send_waiters.popleft()[1].set_exception(exc)
        self._outbuf.clear()
        self._release("abort")
        if self._close_fut is not None:
            self._close_fut.set_result(None)

    def _release(self, kind: str) -> None:
        self.closed = True
        self._loop.remove_reader(self._fd)
        self._loop.remove_writer(self._fd)
        self._reading = self._writing = False
        self._recv_waiters.fail_all(LocalProtocolError("TCP stream closed locally"))
        self._stack._forget(self)
        self._sock.close()
        self._stack._event("tcp", kind, self._local, self._remote)


class KernelListener:
    """A listening kernel TCP socket (:class:`~minternet.node.api.Listener`)."""

    def __init__(self, stack: KernelStack, sock: socket.socket) -> None:
        self._stack = stack
        self._loop = stack._rt
        self._sock = sock
        self._fd = sock.fileno()
        self._local: Address = sock.getsockname()
        self._waiters: _Waiters[StreamSocket] = _Waiters()
        self._reading = False
        self.closed = False
        stack._remember(self)

    @property
    def local(self) -> Address:
        return self._local

    def accept(self) -> Future[StreamSocket]:
        fut: Future[StreamSocket] = Future(self._loop)
        if self.closed:
            fut.set_exception(LocalProtocolError("accept on a closed listener"))
            return fut
        self._waiters.add(fut)
        self._on_readable()
        if not fut.done() and not self._reading:
            self._reading = True
            self._loop.add_reader(self._fd, self._on_readable)
        return fut

    def _on_readable(self) -> None:
        while (w := self._waiters.first()) is not None:
            fut = w[0]
            try:
                conn, _ = self._sock.accept()
            except _TRY_AGAIN:
                return
            except ConnectionAbortedError:  # the peer gave up before we accepted
                continue
            except OSError as e:  # EMFILE and friends: tell the waiting acceptor
                self._waiters.pop()
                fut.set_exception(e)
                continue
            conn.setblocking(False)
            try:
                stream = KernelStream(self._stack, conn)
            except OSError:  # reset between accept() and getpeername()
                conn.close()
                continue
            self._waiters.pop()
            self._stack._event("tcp", "accept", stream.local, stream.remote)
            fut.set_result(stream)
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._fd)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._loop.remove_reader(self._fd)
        self._waiters.fail_all(LocalProtocolError("listener closed"))
        self._stack._forget(self)
        self._sock.close()
        self._stack._event("tcp", "unlisten", self._local, None)


_Closable = KernelDatagramSocket | KernelStream | KernelListener


def _naming(e: OSError, addr: Address) -> OSError:
    """``e`` (same errno, same subclass) with the address it is about as its "filename", so
    the user's one line says which: ``127.0.0.1:8443: Address already in use``."""
    return OSError(e.errno, e.strerror, f"{addr[0]}:{addr[1]}")


class KernelStack:
    """:class:`~minternet.node.api.NetworkStack` on the kernel's sockets (IPv4 only)."""

    def __init__(
        self,
        loop: RealtimeLoop,
        *,
        name: str = "localhost",
        random: RandomSource | None = None,
        trace: TraceBus | None = None,
    ) -> None:
        rnd = random if random is not None else SystemRandom()
        if rnd.deterministic:
            raise ConfigError("a deterministic random source must never reach a real network")
        self.name = name
        self.loop: EventLoop = loop
        self._rt = loop
        self.random: RandomSource = rnd
        self.trace = trace if trace is not None else TraceBus()
        self._open: dict[int, _Closable] = {}  # by id(), in creation order

    # -- the NetworkStack API -----------------------------------------------------------
    def udp_socket(self, bind: Address = ("0.0.0.0", 0)) -> DatagramSocket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind(bind)
        except OSError as e:
            sock.close()
            raise _naming(e, bind) from None
        s = KernelDatagramSocket(self, sock)
        self._event("udp", "bind", s.local, None)
        return s

    def tcp_connect(self, addr: Address, timeout: float | None = None) -> Future[StreamSocket]:
        """Non-blocking connect; :class:`ConnectionRefusedError` on RST, LoopTimeout."""
        fut: Future[StreamSocket] = Future(self._rt)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        fd = sock.fileno()
        try:
            err = sock.connect_ex(addr)
        except OSError as e:  # e.g. a malformed address
            sock.close()
            fut.set_exception(e)
            return fut

        watching = False  # our writer callback is registered for fd

        def stop_watching() -> None:
            nonlocal watching
            if watching:  # never after close: the fd number may belong to a new socket
                watching = False
                self._rt.remove_writer(fd)

        def finish(code: int) -> None:
            if fut.done():
                return
            if code == 0:
                try:
                    stream = KernelStream(self, sock)
                except OSError as e:  # reset right after the handshake
                    sock.close()
                    fut.set_exception(e)
                    return
                self._event("tcp", "connect", stream.local, stream.remote)
                fut.set_result(stream)
            else:
                sock.close()
                exc = OSError(code, os.strerror(code))  # ECONNREFUSED → ConnectionRefusedError
                self._event("tcp", "connect-failed", None, addr, why=os.strerror(code))
                fut.set_exception(exc)

        def on_writable() -> None:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code == 0:
                try:
                    sock.getpeername()
                except OSError as e:
                    if e.errno == errno.ENOTCONN:
                        return  # a spurious wake-up: the handshake is still going on
            stop_watching()
            finish(code)

        def on_done(f: Future[StreamSocket]) -> None:
            stop_watching()
            exc = f.exception()
            if exc is not None and sock.fileno() != -1:  # timed out or cancelled while waiting
                sock.close()
                why = "no answer (timeout)" if isinstance(exc, LoopTimeout) else "cancelled"
                self._event("tcp", "connect-failed", None, addr, why=why)

        if err == 0:
            finish(0)
        elif err in (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY):
            watching = True
            self._rt.add_writer(fd, on_writable)
            fut.add_done_callback(on_done)
            _expire_after(self._rt, fut, timeout, f"TCP connect to {_fmt(addr)}")
        else:
            finish(err)
        return fut

    def tcp_listen(self, port: int, backlog: int = 128, host: str = "0.0.0.0") -> Listener:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setblocking(False)
            sock.bind((host, port))
            sock.listen(backlog)
        except OSError as e:
            sock.close()
            raise _naming(e, (host, port)) from None
        lst = KernelListener(self, sock)
        self._event("tcp", "listen", lst.local, None)
        return lst

    # -- bookkeeping --------------------------------------------------------------------
    def close_all(self) -> None:
        """Close every socket still open (RST for streams: the program is ending)."""
        for s in list(self._open.values()):
            if isinstance(s, KernelStream):
                s.abort()
            else:
                s.close()

    def open_sockets(self) -> int:
        return len(self._open)

    def _remember(self, s: _Closable) -> None:
        self._open[id(s)] = s

    def _forget(self, s: _Closable) -> None:
        self._open.pop(id(s), None)

    def _event(
        self,
        layer: str,
        kind: str,
        local: Address | None,
        remote: Address | None,
        *,
        why: str | None = None,
    ) -> None:
        self.trace.count(f"kernel.{layer}.{kind}")
        if not self.trace.active:
            return
        fields: dict[str, Any] = {}
        if local is not None:
            fields["local"] = _fmt(local)
        if remote is not None:
            fields["remote"] = _fmt(remote)
        self.trace.emit(self._rt.now(), self.name, layer, kind, fields, why=why)


def run(
    main: Callable[[KernelStack], Coroutine[Any, Any, T]],
    *,
    name: str = "localhost",
    trace: TraceBus | None = None,
    timeout: float | None = None,
    grace: float = 2.0,
) -> T:
    """Run ``main(stack)`` to completion on a new :class:`RealtimeLoop` and KernelStack.

    On Ctrl-C (or SIGTERM, SIGHUP) the task is cancelled and given ``grace`` seconds to run its
    ``finally`` blocks, then :class:`KeyboardInterrupt` goes on to the caller (the CLI turns
    it into "interrupted"). Every socket still open at the end is closed. ``timeout``
    bounds the whole run (:class:`LoopTimeout`).
    """
    loop = RealtimeLoop()
    stack = KernelStack(loop, name=name, trace=trace)
    with signals_as_interrupt():
        task = loop.create_task(main(stack), name="main")
        try:
            return loop.run_until_complete(task, timeout)
        except (KeyboardInterrupt, LoopTimeout):
            if task.cancel():  # let the task's finally blocks close what it opened
                with suppress(Cancelled, Exception):
                    loop.run_until_complete(task, grace)
            raise
        finally:
            stack.close_all()
            loop.close()


if TYPE_CHECKING:

    def _conforms(s: KernelStack) -> NetworkStack:
        return s  # mypy checks that KernelStack is a NetworkStack
