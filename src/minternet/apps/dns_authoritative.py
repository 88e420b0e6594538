"""An authoritative name server on a stack, over UDP and TCP.

The logic, bytes in and bytes out, is :class:`~minternet.dns.authoritative.AuthoritativeServer`
(re-exported here). :func:`serve_udp` and :func:`serve_tcp` run it on any
:class:`~minternet.node.api.NetworkStack` through the serve loop of
:mod:`minternet.apps.dns_transport` (TCP messages carry a 2-byte length, RFC 1035 §4.2.2,
RFC 7766 §8), answering each query before reading the next.
"""

from __future__ import annotations

from functools import partial

from ..dns.authoritative import AuthoritativeServer
from ..dns.codes import type_name
from ..dns.message import Message
from ..errors import DecodeError
from ..node.api import Address, NetworkStack
from . import dns_transport as transport
from .dns_transport import Handler, Ready


# -- running on a stack ----------------------------------------------------------------
def handler(stack: NetworkStack, server: AuthoritativeServer) -> Handler:
    """``server`` as a :data:`~minternet.apps.dns_transport.Handler`, answering inline."""

    async def answer(data: bytes, peer: Address, transport: str) -> bytes | None:
        reply = server.respond(data, over_tcp=transport == "tcp")
        _trace(stack, server, data, reply, peer, transport)
        return reply

    return answer


async def serve(
    stack: NetworkStack,
    server: AuthoritativeServer,
    port: int = 53,
    host: str = "0.0.0.0",
    ready: Ready | None = None,
    *,
    over: str = "udp",
) -> None:
    """Serve ``server`` on ``host:port`` over ``over`` (``udp`` or ``tcp``) until cancelled."""
    await transport.serve(stack, handler(stack, server), port, host, over=over, ready=ready)


serve_udp = partial(serve, over="udp")
serve_tcp = partial(serve, over="tcp")


def _trace(
    stack: NetworkStack,
    server: AuthoritativeServer,
    data: bytes,
    reply: bytes | None,
    peer: tuple[str, int],
    transport: str,
) -> None:
    trace = stack.trace
    if not trace.active:
        return
    fields: dict[str, object] = {"from": f"{peer[0]}:{peer[1]}", "transport": transport}
    try:
        q = Message.decode(data)
        if q.question is not None:
            fields["qname"] = q.question.name.to_text()
            fields["qtype"] = type_name(q.question.rtype)
    except DecodeError as e:
        fields["error"] = str(e)
    if reply is None:
        trace.emit(stack.loop.now(), stack.name, "dns", "drop", fields, why="not a readable query")
        return
    r = Message.decode(reply)
    fields["rcode"] = r.rcode_name
    fields["aa"] = r.aa
    fields["tc"] = r.tc
    fields["answers"] = [x.to_text() for x in r.answers]
    fields["authority"] = [x.to_text() for x in r.authority]
    fields["additional"] = [x.to_text() for x in r.additional]
    trace.emit(stack.loop.now(), stack.name, "dns", "answer", fields)


__all__ = ["AuthoritativeServer", "handler", "serve", "serve_tcp", "serve_udp"]
