"""DNS on a :class:`~minternet.node.api.NetworkStack`: one exchange, one serve loop.

:func:`exchange` is the only way our clients (the stub, the recursive resolver, ``dig``)
put a query on the network: the transaction id and the UDP source port come from the
random source given (RFC 5452 §4, §9.1); a datagram counts as the answer only if it comes
from the server's address and port, is a response, and has our id and our question —
anything else is ignored and the wait goes on. A UDP answer with TC set is asked again
over TCP (RFC 1035 §4.2.1, RFC 7766 §5). An :class:`ExchangeWatcher` sees each step as it
happens (the recursive resolver turns them into trace events).

:func:`serve` is the only server loop: the authoritative server
and the recursive resolver both run on them with a handler ``(data, peer, transport) ->
reply``. TCP carries several length-prefixed queries per connection (RFC 7766 §6.2.1);
:func:`read_framed` is the one reader of that framing (:mod:`minternet.dns.framing`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from ..dns.framing import frame, take_framed
from ..dns.message import Message
from ..dns.resolution import TraceHook
from ..errors import DecodeError, LocalProtocolError
from ..loop import Cancelled, LoopTimeout
from ..node.api import Address, DatagramSocket, NetworkStack, StreamSocket
from ..randomness import RandomSource

DNS_PORT = 53
TCP_IDLE = 10.0  # seconds for a TCP client's next whole query (RFC 7766 §6.2.3)
BIND_TRIES = 16  # random source ports tried before the stack picks one

Handler = Callable[[bytes, Address, str], Awaitable[bytes | None]]
"""``handler(query bytes, peer, "udp" | "tcp") -> reply bytes`` (None: say nothing)."""
Ready = Callable[[str, Address], object]
"""``ready(transport, bound address)``: called once the socket is bound."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """How one exchange went."""

    response: Message | None  # None: no answer after every try
    wire: bytes
    server: Address
    transport: str
    rtt: float  # seconds from the last query sent to the answer
    tries: int
    ignored: int  # datagrams that did not match and were ignored
    truncated_first: bool = False  # answered TC over UDP, then over TCP
    error: str | None = None  # why TCP gave no answer (then ``response`` may be the TC one)


class ExchangeWatcher:
    """What an exchange reports as it goes; every method does nothing unless overridden."""

    def sent(self, transport: str, query: Message, sport: int, attempt: int, size: int) -> None:
        """``query`` left from port ``sport`` (UDP: before the wait; TCP: once connected)."""

    def ignored(self, src: Address, why: str) -> None:
        """A message that is not the answer (RFC 5452 §9.1), and why."""

    def timed_out(self, transport: str, attempt: int, why: str) -> None:
        """No answer in time (UDP), or the TCP connection failed."""

    def answered(self, response: Message, size: int, rtt: float, transport: str) -> None:
        """The matching answer."""

    def truncated(self) -> None:
        """The UDP answer had TC: asking again over TCP."""


_QUIET = ExchangeWatcher()


async def exchange(
    stack: NetworkStack,
    random: RandomSource,
    query: Message,
    server: Address,
    *,
    timeout: float = 5.0,
    tries: int = 3,
    tcp: bool = False,
    port_range: tuple[int, int] = (1024, 65535),
    watch: ExchangeWatcher = _QUIET,
) -> Exchange:
    """Send ``query`` (its id replaced by a random one) and wait for its answer.

    Each of ``tries`` UDP tries waits ``timeout`` seconds from a fresh random port with the
    same id. Over TCP (``tcp``, or after TC) the connection must open within ``timeout``
    and the answer arrive within twice that.
    """
    query = replace(query, id=random.randint(0, 0xFFFF))
    if tcp:
        return await _over_tcp(stack, query, server, timeout, 1, 0, watch)
    wire_q = query.encode()
    loop = stack.loop
    ignored = 0
    for attempt in range(1, tries + 1):
        sock = _bind(stack, random, port_range)
        watch.sent("udp", query, sock.local[1], attempt, len(wire_q))
        sent = loop.now()
        deadline = sent + timeout
        try:
            sock.sendto(wire_q, server)
            while True:
                left = deadline - loop.now()
                if left <= 0:
                    raise LoopTimeout("no answer")
                data, src = await sock.recvfrom(timeout=left)
                resp, why = match(data, src, server, query)
                if resp is not None:
                    break
                ignored += 1
                watch.ignored(src, why)
        except LoopTimeout:
            watch.timed_out("udp", attempt, f"no answer in {timeout:g} s")
            continue
        finally:
            sock.close()
        rtt = loop.now() - sent
        watch.answered(resp, len(data), rtt, "udp")
        if resp.tc:
            watch.truncated()
            over_tcp = await _over_tcp(stack, query, server, timeout, attempt, ignored, watch)
            if over_tcp.response is not None:
                return replace(over_tcp, truncated_first=True)
            return Exchange(resp, data, server, "udp", rtt, attempt, ignored, error=over_tcp.error)
        return Exchange(resp, data, server, "udp", rtt, attempt, ignored)
    return Exchange(
        None, b"", server, "udp", 0.0, tries, ignored, error=f"no answer after {tries} tries"
    )


def match(data: bytes, src: Address, server: Address, query: Message) -> tuple[Message | None, str]:
    """The response if it answers ``query`` in every way (RFC 5452 §9.1); else why not."""
    if src != server:
        return None, f"from {src[0]}:{src[1]}, not {server[0]}:{server[1]}"
    try:
        resp = Message.decode(data)
    except DecodeError as e:
        return None, f"malformed: {e}"
    if not resp.qr:
        return None, "not a response"
    if resp.id != query.id:
        return None, f"id {resp.id} is not {query.id}"
    if resp.questions != query.questions:
        return None, "question does not match"
    return resp, ""


def _bind(stack: NetworkStack, random: RandomSource, port_range: tuple[int, int]) -> DatagramSocket:
    """A UDP socket on a random port (RFC 5452 §10); the stack's choice if all are taken."""
    lo, hi = port_range
    for _ in range(BIND_TRIES):
        try:
            return stack.udp_socket(("0.0.0.0", random.randint(lo, hi)))
        except (OSError, LocalProtocolError):  # port in use (kernel; simulator)
            continue
    return stack.udp_socket(("0.0.0.0", 0))


async def _over_tcp(
    stack: NetworkStack,
    query: Message,
    server: Address,
    timeout: float,
    attempt: int,
    ignored: int,
    watch: ExchangeWatcher,
) -> Exchange:
    loop = stack.loop
    sent = loop.now()
    conn: StreamSocket | None = None

    def failed(why: str) -> Exchange:
        return Exchange(None, b"", server, "tcp", 0.0, attempt, ignored, error=why)

    try:
        conn = await stack.tcp_connect(server, timeout=timeout)
        wire = query.encode()
        watch.sent("tcp", query, conn.local[1], attempt, len(wire))
        await conn.send(frame(wire))
        data = await read_framed(conn, bytearray(), timeout * 2, clock=loop.now)
        await conn.close()
    except (LoopTimeout, ConnectionError, OSError, LocalProtocolError) as e:
        if conn is not None:
            conn.abort()
        why = str(e) or type(e).__name__
        watch.timed_out("tcp", attempt, why)
        return failed(f"TCP failed: {why}")
    except Cancelled:
        if conn is not None:
            conn.abort()
        raise
    if data is None:
        return failed("closed the TCP connection without an answer")
    resp, why = match(data, server, server, query)
    if resp is None:
        watch.ignored(server, why)
        return failed("sent a TCP answer that does not match")
    rtt = loop.now() - sent
    watch.answered(resp, len(data), rtt, "tcp")
    return Exchange(resp, data, server, "tcp", rtt, attempt, ignored)


async def read_framed(
    conn: StreamSocket,
    buf: bytearray,
    timeout: float | None,
    *,
    clock: Callable[[], float] | None = None,
) -> bytes | None:
    """One length-prefixed message from ``conn`` (None at the end of the stream).

    With ``clock`` (the loop's ``now``), ``timeout`` bounds the whole wait — idle time and
    every byte of the message — so a peer trickling a byte now and then is cut off
    (:class:`LoopTimeout`) instead of restarting the timer with each one; without it,
    ``timeout`` applies to each read.
    """
    deadline = None if timeout is None or clock is None else clock() + timeout
    while (msg := take_framed(buf)) is None:
        left = timeout if deadline is None or clock is None else deadline - clock()
        if left is not None and left <= 0:
            raise LoopTimeout(f"no whole DNS message in {timeout:g} s")
        chunk = await conn.recv(65536, timeout=left)
        if not chunk:
            return None
        buf += chunk
    return msg


def trace_hook(stack: NetworkStack) -> TraceHook:
    """The stack's trace bus as a sans-IO machine's hook (layer ``dns``, this node)."""

    def hook(now: float, kind: str, fields: dict[str, object], why: str | None) -> None:
        trace = stack.trace
        if trace.active:
            trace.emit(now, stack.name, "dns", kind, fields, why=why)

    return hook


# -- serving ---------------------------------------------------------------------------
async def serve(
    stack: NetworkStack,
    handler: Handler,
    port: int = DNS_PORT,
    host: str = "0.0.0.0",
    *,
    over: str = "udp",
    ready: Ready | None = None,
    concurrent: bool = False,
) -> None:
    """Answer queries on ``host:port`` over ``over`` (``udp`` or ``tcp``) until cancelled.

    UDP: ``concurrent`` gives each datagram its own task (a handler that waits on the
    network, like a recursive resolver's); otherwise each is answered before the next is
    read. TCP: each client gets a task and may send several queries; a node without TCP
    serves UDP only and says so in the trace.
    """
    if over == "tcp":
        await _serve_tcp(stack, handler, port, host, ready)
    else:
        await _serve_udp(stack, handler, port, host, ready, concurrent)


async def _serve_udp(
    stack: NetworkStack, handler: Handler, port: int, host: str, ready: Ready | None, spawn: bool
) -> None:
    sock = stack.udp_socket((host, port))
    if ready is not None:
        ready("udp", sock.local)
    try:
        while True:
            data, addr = await sock.recvfrom()
            if spawn:
                stack.loop.create_task(_answer_udp(sock, handler, data, addr), name="dns-client")
            else:
                await _answer_udp(sock, handler, data, addr)
    finally:
        sock.close()


async def _answer_udp(sock: DatagramSocket, handler: Handler, data: bytes, addr: Address) -> None:
    reply = await handler(data, addr, "udp")
    if reply is not None:
        sock.sendto(reply, addr)


async def _serve_tcp(
    stack: NetworkStack, handler: Handler, port: int, host: str, ready: Ready | None
) -> None:
    try:
        listener = stack.tcp_listen(port, host=host)
    except LocalProtocolError as e:  # a node without TCP serves UDP only
        stack.trace.emit(stack.loop.now(), stack.name, "dns", "no-tcp", {"port": port}, why=str(e))
        return
    if ready is not None:
        ready("tcp", listener.local)
    try:
        while True:
            conn = await listener.accept()
            stack.loop.create_task(
                _tcp_client(handler, conn, stack.loop.now), name="dns-tcp-client"
            )
    finally:
        listener.close()


async def _tcp_client(handler: Handler, conn: StreamSocket, clock: Callable[[], float]) -> None:
    """Queries from one TCP client, answered in turn. Each whole query must arrive within
    :data:`TCP_IDLE` of the previous answer (or of accept): the idle timeout of RFC 7766
    §6.2.3 and a whole-message deadline in one, so a client that sends a byte every few
    seconds does not hold the connection for ever."""
    buf = bytearray()
    try:
        while True:
            data = await read_framed(conn, buf, TCP_IDLE, clock=clock)
            if data is None:
                break
            reply = await handler(data, conn.remote, "tcp")
            if reply is None:
                break
            await conn.send(frame(reply))
        await conn.close()
    except (LoopTimeout, ConnectionError, OSError):
        conn.abort()
    except Cancelled:
        conn.abort()
        raise


__all__ = [
    "DNS_PORT",
    "Exchange",
    "ExchangeWatcher",
    "Handler",
    "exchange",
    "match",
    "read_framed",
    "serve",
    "trace_hook",
]
