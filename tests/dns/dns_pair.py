"""The sans-IO :class:`~minternet.dns.resolution.Resolution` joined in memory to the built-in
world's authoritative servers: each query the machine asks for is answered by the server at
that address (bytes in, bytes out, TC → the same server over "TCP"), with virtual time
moving by a fixed round trip, or by the timeout for a server that is down.

No loop, no socket: what the machine decides can be tested step by step, and a test can
replace any answer (a hostile server) or any server (a lame one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from minternet.dns import zones_builtin
from minternet.dns.authoritative import AuthoritativeServer
from minternet.dns.cache import DnsCache
from minternet.dns.message import Message
from minternet.dns.resolution import Query, Resolution, Resolved, ResolverConfig
from minternet.trace.bus import TraceEvent

RTT = 0.02
Tamper = Callable[[Query, Message], Message | None]
"""Change the answer to a query (None: the server says nothing, as if down)."""


@dataclass
class Pair:
    config: ResolverConfig = field(default_factory=ResolverConfig)
    now: float = 0.0
    cache: DnsCache = field(default_factory=DnsCache)
    names: dict[str, str] = field(default_factory=dict)
    servers: dict[str, AuthoritativeServer] = field(default_factory=dict)  # by address
    down: set[str] = field(default_factory=set)
    tamper: Tamper | None = None
    events: list[TraceEvent] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    asked: list[Query] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.servers:
            for host, (addr, zones) in zones_builtin.servers().items():
                self.servers[addr] = AuthoritativeServer(zones, host)
        if not self.names:
            self.names = {a: n for n, a in self.config.root_hints}

    def server(self, host: str) -> AuthoritativeServer:
        return next(s for s in self.servers.values() if s.name == host)

    def _trace(self, now: float, kind: str, fields: dict[str, object], why: str | None) -> None:
        self.events.append(TraceEvent(now, "resolver", "dns", kind, fields, None, why))

    def _count(self, name: str, n: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def of(self, kind: str) -> list[TraceEvent]:
        return [e for e in self.events if e.kind == kind]

    def start(self, qname: str, qtype: int = 1) -> Resolution:
        return Resolution(
            qname,
            qtype,
            self.cache,
            self.config,
            self.now,
            names=self.names,
            trace=self._trace,
            count=self._count,
        )

    def answer(self, q: Query) -> Message | None:
        """What the server at ``q.server`` says (None: nothing, in time)."""
        srv = self.servers.get(q.server)
        if srv is None or q.server in self.down:
            return None
        wire = srv.respond(replace(q.message, id=4321).encode(), over_tcp=False)
        if wire is None:
            return None
        resp = Message.decode(wire)
        if resp.tc:  # what the exchange does: the same question over TCP
            tcp = srv.respond(replace(q.message, id=4321).encode(), over_tcp=True)
            assert tcp is not None
            resp = Message.decode(tcp)
        return self.tamper(q, resp) if self.tamper is not None else resp

    def drive(self, res: Resolution) -> Resolved:
        while (q := res.next_query()) is not None:
            self.asked.append(q)
            resp = self.answer(q)
            if resp is None:
                self.now += self.config.timeout
                res.on_timeout(self.now)
            else:
                self.now += RTT
                res.on_answer(resp, self.now)
        assert res.result is not None
        return res.result

    def resolve(self, qname: str, qtype: int = 1) -> Resolved:
        return self.drive(self.start(qname, qtype))

    def zones_asked(self) -> list[str]:
        return [q.zone.to_text() for q in self.asked]
