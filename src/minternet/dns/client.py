"""One DNS exchange as a client: a query, the matching response (UDP, then TCP on TC).

Used by the stub resolver and ``minternet dig``. The transaction id and the source port come
from the random source given (RFC 5452 §4, §9.1); a response counts only if it comes from
the server's address and port, is a response, and has our id and our question — anything
else is ignored and the wait goes on. A UDP answer with TC set is asked again over TCP with
the 2-byte length framing (RFC 1035 §4.2.2, RFC 7766).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import DecodeError, LocalProtocolError
from ..loop import Cancelled, LoopTimeout
from ..node.api import Address, DatagramSocket, NetworkStack, StreamSocket
from ..randomness import RandomSource
from .message import Message

DNS_PORT = 53


@dataclass(frozen=True, slots=True)
class Exchange:
    response: Message | None  # None: no answer after every try
    wire: bytes
    server: Address
    transport: str
    rtt: float  # seconds from the last query sent to the answer
    tries: int
    ignored: int  # datagrams that did not match and were ignored
    truncated_first: bool = False
    error: str | None = None  # why there is no response, when it is not just silence


def _bind(
    stack: NetworkStack, random: RandomSource, lo: int = 1024, hi: int = 65535
) -> DatagramSocket:
    for _ in range(16):
        try:
            return stack.udp_socket(("0.0.0.0", random.randint(lo, hi)))
        except (OSError, LocalProtocolError):  # port in use (kernel; simulator)
            continue
    return stack.udp_socket(("0.0.0.0", 0))


async def exchange(
    stack: NetworkStack,
    random: RandomSource,
    query: Message,
    server: Address,
    *,
    timeout: float = 5.0,
    tries: int = 3,
    tcp: bool = False,
) -> Exchange:
    """Send ``query`` (its id is replaced by a random one) and wait for its answer."""
    query = replace(query, id=random.randint(0, 0xFFFF))
    if tcp:
        resp, wire, rtt, err = await _over_tcp(stack, query, server, timeout)
        return Exchange(resp, wire, server, "tcp", rtt, 1, 0, error=err)
    wire_q = query.encode()
    loop = stack.loop
    ignored = 0
    for attempt in range(1, tries + 1):
        sock = _bind(stack, random)
        sent = loop.now()
        deadline = sent + timeout
        try:
            sock.sendto(wire_q, server)
            while True:
                left = deadline - loop.now()
                if left <= 0:
                    raise LoopTimeout("no answer")
                data, src = await sock.recvfrom(timeout=left)
                resp = _match(data, src, server, query)
                if resp is None:
                    ignored += 1
                    continue
                break
        except LoopTimeout:
            continue
        finally:
            sock.close()
        rtt = loop.now() - sent
        if resp.tc:
            t_resp, t_wire, t_rtt, _err = await _over_tcp(stack, query, server, timeout)
            if t_resp is not None:
                return Exchange(t_resp, t_wire, server, "tcp", t_rtt, attempt, ignored, True)
        return Exchange(resp, data, server, "udp", rtt, attempt, ignored)
    return Exchange(
        None, b"", server, "udp", 0.0, tries, ignored, error=f"no answer after {tries} tries"
    )


def _match(data: bytes, src: Address, server: Address, query: Message) -> Message | None:
    if src != server:
        return None
    try:
        resp = Message.decode(data)
    except DecodeError:
        return None
    if not resp.qr or resp.id != query.id or resp.questions != query.questions:
        return None
    return resp


async def _over_tcp(
    stack: NetworkStack, query: Message, server: Address, timeout: float
) -> tuple[Message | None, bytes, float, str | None]:
    loop = stack.loop
    sent = loop.now()
    conn: StreamSocket | None = None
    try:
        conn = await stack.tcp_connect(server, timeout=timeout)
        wire = query.encode()
        await conn.send(len(wire).to_bytes(2, "big") + wire)
        buf = bytearray()
        while len(buf) < 2 or len(buf) < 2 + int.from_bytes(buf[:2], "big"):
            chunk = await conn.recv(65536, timeout=timeout)
            if not chunk:
                raise ConnectionResetError("closed before the whole answer")
            buf += chunk
        data = bytes(buf[2 : 2 + int.from_bytes(buf[:2], "big")])
        await conn.close()
    except (LoopTimeout, ConnectionError, OSError, LocalProtocolError) as e:
        if conn is not None:
            conn.abort()
        return None, b"", 0.0, f"TCP to {server[0]}:{server[1]}: {e or type(e).__name__}"
    except Cancelled:
        if conn is not None:
            conn.abort()
        raise
    resp = _match(data, server, server, query)
    return resp, data, loop.now() - sent, None if resp else "the TCP answer did not match"
