"""The ISP's recursive resolver: :class:`~minternet.dns.resolution.Resolution` on a stack.

:class:`RecursiveResolver` keeps what outlives one question — the cache, the names of the
servers it has met — and drives one sans-IO :class:`~minternet.dns.resolution.Resolution`
per question: each query the machine asks for goes out through the one
:func:`~minternet.apps.dns_transport.exchange` (random id and source port, strict matching
of source, id and question, RFC 5452 §4, §9.1; TC → TCP, RFC 7766 §5), one try of
``timeout`` seconds, and what came back is handed to the machine with the time. The
algorithm — referrals, bailiwick, glue, CNAMEs, negative caching, limits — is all in the
machine.

It serves clients on :func:`~minternet.apps.dns_transport.serve` (UDP and TCP) with RA
set, each UDP client in its own task. Meta types (ANY, AXFR, IXFR) get NOTIMP (RFC 8482).

Trace events (layer ``dns``): the machine's (``cache``, ``referral``, ``scrub``,
``lookup-ns``, ``fallback``, ``resolved``) and, around each exchange, ``query``,
``response`` (with the sections), ``ignored``, ``timeout`` and ``truncated``. The
transaction id and source port come from the injected random source, never from a clock.
"""

from __future__ import annotations

from ..dns.cache import DnsCache
from ..dns.codes import Opcode, RClass, Rcode, RType, type_name
from ..dns.message import Edns, Message
from ..dns.name import Name
from ..dns.resolution import Query, Resolution, Resolved, ResolverConfig
from ..dns.response import fit_udp
from ..errors import DecodeError
from ..node.api import Address, NetworkStack
from .dns_transport import DNS_PORT, ExchangeWatcher, exchange, serve, trace_hook


class RecursiveResolver:
    """Iterative resolution on a :class:`~minternet.node.api.NetworkStack`, with a cache."""

    def __init__(
        self,
        stack: NetworkStack,
        config: ResolverConfig | None = None,
        cache: DnsCache | None = None,
    ) -> None:
        self.stack = stack
        self.config = config or ResolverConfig()
        self.cache = cache or DnsCache()
        self.random = stack.random.child("dns-resolver")
        self.names: dict[str, str] = {a: n for n, a in self.config.root_hints}
        self.queries_sent = 0
        self._trace = trace_hook(stack)

    # -- resolving ---------------------------------------------------------------------
    async def resolve(self, qname: Name | str, qtype: int = RType.A) -> Resolved:
        """Resolve ``qname``/``qtype``; never raises for network or protocol trouble."""
        loop = self.stack.loop
        res = Resolution(
            qname,
            qtype,
            self.cache,
            self.config,
            loop.now(),
            names=self.names,
            trace=self._trace,
            count=self.stack.trace.count,
        )
        while (q := res.next_query()) is not None:
            self.queries_sent += 1
            watch = _Watch(self, res, q)
            ex = await exchange(
                self.stack,
                self.random,
                q.message,
                (q.server, DNS_PORT),
                timeout=self.config.timeout,
                tries=1,
                port_range=self.config.port_range,
                watch=watch,
            )
            if ex.response is None:
                res.on_timeout(loop.now())
            elif ex.error is not None:  # TC over UDP, then nothing usable over TCP
                res.on_failure(f"answered TC, then {ex.error}", loop.now())
            else:
                res.on_answer(ex.response, loop.now())
        assert res.result is not None
        return res.result

    # -- serving clients ---------------------------------------------------------------
    async def respond(self, data: bytes, over_tcp: bool) -> bytes | None:
        """Answer a client's query (RA set) from the cache or by resolving."""
        try:
            query = Message.decode(data)
        except DecodeError:
            if len(data) >= 12 and not data[2] & 0x80:
                return Message(
                    id=int.from_bytes(data[:2], "big"), qr=True, rcode=Rcode.FORMERR, ra=True
                ).encode()
            return None
        if query.qr:
            return None
        edns = Edns(self.config.edns_size) if query.edns is not None else None
        if query.opcode != Opcode.QUERY:
            return query.reply(ra=True, rcode=Rcode.NOTIMP, edns=edns).encode()
        if len(query.questions) != 1 or query.questions[0].rclass != RClass.IN:
            return query.reply(ra=True, rcode=Rcode.FORMERR, edns=edns).encode()
        q = query.questions[0]
        res = await self.resolve(q.name, q.rtype)
        reply = query.reply(
            ra=True, rcode=res.rcode, answers=res.answers, authority=res.authority, edns=edns
        )
        return reply.encode() if over_tcp else fit_udp(reply, query)[0]

    async def _handle(self, data: bytes, peer: Address, transport: str) -> bytes | None:
        return await self.respond(data, over_tcp=transport == "tcp")

    async def serve_udp(self, port: int = DNS_PORT) -> None:
        await serve(self.stack, self._handle, port, over="udp", concurrent=True)

    async def serve_tcp(self, port: int = DNS_PORT) -> None:
        await serve(self.stack, self._handle, port, over="tcp")


class _Watch(ExchangeWatcher):
    """One query's exchange as trace events, in the resolver's words."""

    def __init__(self, resolver: RecursiveResolver, res: Resolution, q: Query) -> None:
        self.resolver = resolver
        self.res = res
        self.q = q

    @property
    def server(self) -> str:
        return self.res.label(self.q.server)

    def _emit(self, kind: str, fields: dict[str, object], why: str | None = None) -> None:
        stack = self.resolver.stack
        self.resolver._trace(stack.loop.now(), kind, fields, why)

    def sent(self, transport: str, query: Message, sport: int, attempt: int, size: int) -> None:
        q = self.q
        fields: dict[str, object] = {
            "server": self.server,
            "address": q.server,
            "zone": q.zone.to_text(),
            "qname": q.question.name.to_text(),
            "qtype": type_name(q.question.rtype),
            "id": query.id,
            "sport": sport,
            "transport": transport,
        }
        if transport == "udp":
            fields["attempt"] = q.attempt
            fields["bytes"] = size
        self._emit("query", fields)

    def ignored(self, src: Address, why: str) -> None:
        self.resolver.stack.trace.count("dns.ignored")
        self._emit("ignored", {"from": f"{src[0]}:{src[1]}"}, why=why)

    def timed_out(self, transport: str, attempt: int, why: str) -> None:
        if transport == "tcp":
            self._emit("timeout", {"server": self.server, "transport": "tcp"}, why=why)
            return
        self._emit(
            "timeout",
            {
                "server": self.server,
                "qname": self.q.question.name.to_text(),
                "attempt": self.q.attempt,
                "after": self.resolver.config.timeout,
            },
        )

    def answered(self, response: Message, size: int, rtt: float, transport: str) -> None:
        if not self.resolver.stack.trace.active:
            return
        self._emit(
            "response",
            {
                "server": self.server,
                "address": self.q.server,
                "zone": self.q.zone.to_text(),
                "rcode": response.rcode_name,
                "flags": response.flag_names(),
                "id": response.id,
                "answers": [r.to_text() for r in response.answers],
                "authority": [r.to_text() for r in response.authority],
                "additional": [r.to_text() for r in response.additional],
                "bytes": size,
                "rtt_ms": round(rtt * 1000, 3),
                "transport": transport,
            },
        )

    def truncated(self) -> None:
        self._emit(
            "truncated",
            {"server": self.server},
            why="answer did not fit in UDP (TC): asking again over TCP",
        )


__all__ = ["RecursiveResolver", "Resolved", "ResolverConfig"]
