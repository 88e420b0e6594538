"""The ISP's recursive resolver: iterative resolution from the root hints (RFC 1034 §5.3.3).

For a name it does not have cached, :class:`RecursiveResolver` starts at the deepest zone
whose servers it knows (the root hints when cold) and asks a server of that zone, with
recursion desired off. A referral moves it one zone down; an answer, NXDOMAIN or NODATA ends
the walk; a CNAME restarts it at the target, in whatever zone that is.

What it trusts (the defences against cache poisoning):

- a response is accepted only if it comes from the address and port the query went to, to
  the random source port the query left from, with the random transaction id and the same
  question (RFC 5452 §4, §9.1); everything else is ignored and the wait goes on;
- every record is scrubbed for bailiwick: only names at or below the zone the server was
  asked about are kept (RFC 5452 §6, "bailiwick rule");
- glue (addresses of name servers from the additional section) is used only if it lies in
  the bailiwick of the server that sent it; out-of-bailiwick name servers are looked up
  on their own;
- a referral must go down toward the name, else the server is lame;
- what it caches is ranked (RFC 2181 §5.4.1): glue never replaces an answer.

Servers with a known address are asked first; the others are looked up only if those fail.
When no server of a zone has an address any more (its glue expired before its NS set), the
walk asks the parent zone again. Meta types (ANY, AXFR, IXFR) get NOTIMP (RFC 8482).

Limits end bad delegations: a total number of queries per resolution, referrals per walk,
CNAMEs per chain and nested name-server lookups; past them the answer is SERVFAIL, with the
reason. Each server gets ``attempts`` tries of ``timeout`` seconds; a truncated (TC) UDP
answer is asked again over TCP (RFC 7766 §5).

Every step is a trace event (layer ``dns``): ``cache`` hit/miss, ``query``, ``response``
(with the sections), ``referral`` (glue kept and dropped), ``scrub``, ``ignored``,
``timeout``, ``truncated``, ``lookup-ns``, ``fallback``, ``resolved`` (with the one-line
explanation as ``why``). The transaction id and source port come from the injected random
source, never from a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..dns.cache import DnsCache, Rank
from ..dns.codes import Opcode, RClass, Rcode, RType, rcode_name, type_name
from ..dns.message import Edns, Message, Question, ResourceRecord, make_query
from ..dns.name import ROOT, Name
from ..dns.rdata import CNAME, NS
from ..errors import DecodeError, LocalProtocolError
from ..loop import Cancelled, LoopTimeout
from ..node.api import Address, DatagramSocket, NetworkStack, StreamSocket
from .dns_authoritative import OUR_EDNS_SIZE, UDP_LIMIT, frame, read_framed

DNS_PORT = 53
META_TYPES = frozenset({RType.ANY, RType.AXFR, 251, RType.OPT})  # 251 = IXFR


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    root_hints: tuple[tuple[str, str], ...] = (("a.root-servers.net", "198.41.0.4"),)
    timeout: float = 1.0  # seconds per try
    attempts: int = 2  # rounds over a zone's servers
    max_queries: int = 40  # per client question, all steps included
    max_referrals: int = 12  # zone cuts followed in one walk
    max_cname: int = 8
    max_depth: int = 3  # nested lookups of name-server addresses
    edns_size: int = OUR_EDNS_SIZE
    port_range: tuple[int, int] = (1024, 65535)


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of one lookup, with a one-line explanation for people."""

    qname: Name
    qtype: int
    rcode: int
    answers: tuple[ResourceRecord, ...] = ()
    authority: tuple[ResourceRecord, ...] = ()
    explanation: str = ""
    from_cache: bool = False
    queries: int = 0

    @property
    def rcode_name(self) -> str:
        return rcode_name(self.rcode)

    def addresses(self) -> list[str]:
        return [r.rdata.to_text() for r in self.answers if r.rtype in (RType.A, RType.AAAA)]

    @property
    def ttl(self) -> int | None:
        recs = self.answers or self.authority
        return min(r.ttl for r in recs) if recs else None


@dataclass
class _Budget:
    """What one client question has used so far (shared by nested lookups)."""

    queries: int = 0


class _Fail(Exception):
    """Resolution cannot go on: SERVFAIL with this reason."""


class _NoAddress(Exception):
    """No server of a zone has a usable address (the walk falls back to the parent)."""


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
        self._hints = {Name.from_text(n): a for n, a in self.config.root_hints}
        self.queries_sent = 0

    # -- trace -------------------------------------------------------------------------
    def _emit(self, kind: str, fields: dict[str, object], why: str | None = None) -> None:
        trace = self.stack.trace
        if trace.active:
            trace.emit(self.stack.loop.now(), self.stack.name, "dns", kind, fields, why=why)

    def _server_label(self, addr: str) -> str:
        n = self.names.get(addr)
        return f"{n} ({addr})" if n else addr

    # -- public ------------------------------------------------------------------------
    async def resolve(self, qname: Name | str, qtype: int = RType.A) -> Resolution:
        """Resolve ``qname``/``qtype``; never raises for network or protocol trouble."""
        n = qname if isinstance(qname, Name) else Name.from_text(qname)
        budget = _Budget()
        try:
            if qtype in META_TYPES:
                res = Resolution(
                    n, qtype, Rcode.NOTIMP,
                    explanation=f"{type_name(qtype)} is a meta type a resolver does not chase "
                    "(RFC 8482)",
                )  # fmt: skip
            else:
                res = await self._resolve(n, qtype, budget, 0)
        except _Fail as e:
            res = Resolution(n, qtype, Rcode.SERVFAIL, explanation=str(e), queries=budget.queries)
        self._emit(
            "resolved",
            {
                "qname": n.to_text(),
                "qtype": type_name(qtype),
                "rcode": res.rcode_name,
                "answers": [r.to_text() for r in res.answers],
                "queries": res.queries,
                "from_cache": res.from_cache,
            },
            why=res.explanation,
        )
        return res

    # -- the walk ----------------------------------------------------------------------
    async def _resolve(self, qname: Name, qtype: int, budget: _Budget, depth: int) -> Resolution:
        chain: list[ResourceRecord] = []
        name = qname
        now = self.stack.loop.now
        for _ in range(self.config.max_cname + 1):
            hit = self.cache.get(name, qtype, now())
            if hit is not None:
                self._emit(
                    "cache",
                    {
                        "hit": True,
                        "name": name.to_text(),
                        "qtype": type_name(qtype),
                        "ttl": hit.ttl,
                    },
                )
                return Resolution(
                    qname,
                    qtype,
                    Rcode.NOERROR,
                    (*chain, *hit.records),
                    explanation=f"{name} {type_name(qtype)} from the cache (TTL {hit.ttl} s left)",
                    from_cache=not budget.queries,
                    queries=budget.queries,
                )
            neg = self.cache.get_negative(name, qtype, now())
            if neg is not None:
                what = (
                    "does not exist"
                    if neg.rcode == Rcode.NXDOMAIN
                    else (f"has no {type_name(qtype)} record")
                )
                self._emit(
                    "cache",
                    {
                        "hit": True,
                        "negative": rcode_name(neg.rcode),
                        "name": name.to_text(),
                        "qtype": type_name(qtype),
                        "ttl": neg.ttl,
                    },
                )
                return Resolution(
                    qname,
                    qtype,
                    neg.rcode,
                    tuple(chain),
                    (neg.soa,),
                    explanation=f"{name} {what} (negative answer cached, {neg.ttl} s left, "
                    "RFC 2308)",
                    from_cache=not budget.queries,
                    queries=budget.queries,
                )
            if qtype != RType.CNAME:
                cn = self.cache.get(name, RType.CNAME, now())
                if cn is not None:
                    self._emit(
                        "cache",
                        {"hit": True, "name": name.to_text(), "qtype": "CNAME", "ttl": cn.ttl},
                    )
                    chain += cn.records
                    target = cn.records[0].rdata
                    assert isinstance(target, CNAME)
                    name = target.target
                    continue
            self._emit("cache", {"hit": False, "name": name.to_text(), "qtype": type_name(qtype)})
            step = await self._walk(name, qtype, budget, depth)
            chain += step.chain
            if step.next is not None:
                name = step.next
                continue
            explanation = step.explanation
            if chain:
                hops = " -> ".join(r.rdata.to_text() for r in chain)
                explanation = f"{qname} is an alias (CNAME -> {hops}); {explanation}"
            return Resolution(
                qname,
                qtype,
                step.rcode,
                (*chain, *step.records),
                step.authority,
                explanation=explanation,
                queries=budget.queries,
            )
        raise _Fail(f"CNAME chain longer than {self.config.max_cname} at {name}")

    def _start(self, name: Name) -> tuple[Name, list[Name]]:
        """The deepest zone with known servers: from the cache, else the root hints."""
        now = self.stack.loop.now()
        found = self.cache.closest_zone(name, now)
        if found is not None:
            zone, hit = found
            return zone, [r.rdata.target for r in hit.records if isinstance(r.rdata, NS)]
        return ROOT, [Name.from_text(n) for n, _ in self.config.root_hints]

    async def _walk(self, name: Name, qtype: int, budget: _Budget, depth: int) -> _Step:
        zone, servers = self._start(name)
        fell_back: set[Name] = set()
        for _ in range(self.config.max_referrals):
            try:
                step = await self._ask_zone(zone, servers, name, qtype, budget, depth)
            except _NoAddress as e:
                if zone == ROOT or zone in fell_back:
                    raise _Fail(f"{e} (lame delegation)") from None
                fell_back.add(zone)
                # e.g. the glue expired before the NS set: the parent's referral brings it back
                self._emit(
                    "fallback",
                    {"zone": zone.to_text(), "parent": zone.parent().to_text()},
                    why=f"{e}: asking the parent zone again",
                )
                zone, servers = self._start(zone.parent())
                continue
            if step.referral is None:
                return step
            zone, servers = step.referral
        raise _Fail(f"more than {self.config.max_referrals} referrals for {name}")

    def _known_addresses(self, zone: Name, servers: Sequence[Name]) -> list[tuple[Name, str]]:
        """Addresses of ``servers`` that the cache (or the root hints) already has."""
        now = self.stack.loop.now()
        out: list[tuple[Name, str]] = []
        for ns in servers:
            hit = self.cache.get(ns, RType.A, now)
            if hit is not None:
                out += [(ns, r.rdata.to_text()) for r in hit.records]
            elif zone == ROOT and ns in self._hints:
                out.append((ns, self._hints[ns]))
        return out

    async def _lookup_addresses(
        self, zone: Name, missing: Sequence[Name], budget: _Budget, depth: int
    ) -> list[tuple[Name, str]]:
        """Resolve name servers without a trusted address, one by one, until one has one."""
        wanted = [ns for ns in missing if not ns.is_subdomain(zone)]
        # (a server inside its own zone without glue cannot be found: asking needs it)
        if wanted and depth >= self.config.max_depth:
            raise _Fail(
                f"name servers of {zone} need lookups nested deeper than {self.config.max_depth}"
            )
        for ns in wanted:
            self._emit(
                "lookup-ns",
                {"zone": zone.to_text(), "server": ns.to_text()},
                why="no address in bailiwick for this name server: resolving it first",
            )
            res = await self._resolve(ns, RType.A, budget, depth + 1)
            addrs = [(ns, a) for a in res.addresses()] if res.rcode == Rcode.NOERROR else []
            if addrs:
                return addrs
        return []

    async def _ask_zone(
        self,
        zone: Name,
        servers: list[Name],
        name: Name,
        qtype: int,
        budget: _Budget,
        depth: int,
    ) -> _Step:
        """Ask the servers of ``zone``: those with known addresses first, then the others."""
        q = Question(name, qtype, RClass.IN)
        problems: list[tuple[str, str]] = []  # (kind: timeout | lame | tcp, text)
        asked: list[str] = []
        known = self._known_addresses(zone, servers)
        have = {ns for ns, _ in known}
        missing = [ns for ns in servers if ns not in have]
        for addrs in (known, None):
            if addrs is None:
                if not missing:
                    break
                addrs = await self._lookup_addresses(zone, missing, budget, depth)
            if not addrs:
                continue
            asked += [a for _, a in addrs]
            step = await self._try_servers(addrs, q, zone, budget, problems)
            if step is not None:
                return step
        if not asked:
            raise _NoAddress(f"no address for any name server of {zone}")
        kinds = {k for k, _ in problems}
        if kinds == {"timeout"}:
            raise _Fail(
                f"no answer from the {len(set(asked))} server(s) of {zone} after "
                f"{self.config.attempts} tries of {self.config.timeout:g} s each"
            )
        texts = "; ".join(dict.fromkeys(t for k, t in problems if k != "timeout"))
        if kinds <= {"timeout", "lame"}:
            raise _Fail(f"lame delegation for {zone}: {texts}")
        raise _Fail(f"no usable answer from the servers of {zone}: {texts}")

    async def _try_servers(
        self,
        addrs: list[tuple[Name, str]],
        q: Question,
        zone: Name,
        budget: _Budget,
        problems: list[tuple[str, str]],
    ) -> _Step | None:
        """``attempts`` rounds over ``addrs``; the first usable answer, else None."""
        for ns, addr in addrs:
            self.names.setdefault(addr, ns.to_text().rstrip("."))
        for attempt in range(self.config.attempts):
            bad_answers = 0
            for _ns, addr in addrs:
                if budget.queries >= self.config.max_queries:
                    raise _Fail(f"gave up after {budget.queries} queries (limit)")
                resp = await self._query(addr, q, zone, budget, attempt)
                if resp is None:
                    problems.append(("timeout", f"{self._server_label(addr)} timed out"))
                    continue
                if isinstance(resp, str):
                    problems.append(("tcp", f"{self._server_label(addr)} {resp}"))
                    bad_answers += 1
                    continue
                step = self._classify(resp, zone, q.name, q.rtype, addr)
                if step.lame is not None:
                    problems.append(("lame", step.lame))
                    bad_answers += 1
                    continue
                return step
            if bad_answers == len(addrs):
                break  # every server answered, badly: asking again changes nothing
        return None

    # -- one query ---------------------------------------------------------------------
    async def _query(
        self, addr: str, q: Question, zone: Name, budget: _Budget, attempt: int
    ) -> Message | str | None:
        """The answer; None if none came in time; a text if TC and TCP failed."""
        budget.queries += 1
        self.queries_sent += 1
        ident = self.random.randint(0, 0xFFFF)
        lo, hi = self.config.port_range
        query = make_query(q.name, q.rtype, ident, rd=False, edns=Edns(self.config.edns_size))
        wire = query.encode()
        sock = None
        for _ in range(8):
            port = self.random.randint(lo, hi)
            try:
                sock = self.stack.udp_socket(("0.0.0.0", port))
                break
            except (OSError, LocalProtocolError):  # port in use (kernel; simulator)
                continue
        if sock is None:
            raise _Fail("no free UDP port for a query")
        server = (addr, DNS_PORT)
        self._emit(
            "query",
            {
                "server": self._server_label(addr),
                "address": addr,
                "zone": zone.to_text(),
                "qname": q.name.to_text(),
                "qtype": type_name(q.rtype),
                "id": ident,
                "sport": sock.local[1],
                "transport": "udp",
                "attempt": attempt + 1,
                "bytes": len(wire),
            },
        )
        loop = self.stack.loop
        sent_at = loop.now()
        deadline = sent_at + self.config.timeout
        resp: Message | None = None
        try:
            sock.sendto(wire, server)
            while True:
                left = deadline - loop.now()
                if left <= 0:
                    raise LoopTimeout("query timed out")
                data, src = await sock.recvfrom(timeout=left)
                resp = self._accept(data, src, server, ident, q)
                if resp is not None:
                    size = len(data)
                    break
        except LoopTimeout:
            self._emit(
                "timeout",
                {
                    "server": self._server_label(addr),
                    "qname": q.name.to_text(),
                    "attempt": attempt + 1,
                    "after": self.config.timeout,
                },
            )
            return None
        finally:
            sock.close()
        self._emit_response(resp, addr, zone, size, loop.now() - sent_at, "udp")
        if resp.tc:
            self._emit(
                "truncated",
                {"server": self._server_label(addr)},
                why="answer did not fit in UDP (TC): asking again over TCP",
            )
            return await self._query_tcp(addr, query, q, zone)
        return resp

    def _accept(
        self, data: bytes, src: Address, server: Address, ident: int, q: Question
    ) -> Message | None:
        """The response if it matches our query in every way; else None (and a trace)."""
        why = None
        msg = None
        if src != server:
            why = f"from {src[0]}:{src[1]}, not {server[0]}:{server[1]}"
        else:
            try:
                msg = Message.decode(data)
            except DecodeError as e:
                why = f"malformed: {e}"
            else:
                if not msg.qr:
                    why = "not a response"
                elif msg.id != ident:
                    why = f"id {msg.id} is not {ident}"
                elif msg.questions != (q,):
                    why = "question does not match"
        if why is not None:
            self.stack.trace.count("dns.ignored")
            self._emit("ignored", {"from": f"{src[0]}:{src[1]}"}, why=why)
            return None
        return msg

    async def _query_tcp(self, addr: str, query: Message, q: Question, zone: Name) -> Message | str:
        """The answer over TCP, or why there is none."""
        loop = self.stack.loop
        sent_at = loop.now()
        conn: StreamSocket | None = None
        try:
            conn = await self.stack.tcp_connect((addr, DNS_PORT), timeout=self.config.timeout)
            self._emit(
                "query",
                {
                    "server": self._server_label(addr),
                    "address": addr,
                    "zone": zone.to_text(),
                    "qname": q.name.to_text(),
                    "qtype": type_name(q.rtype),
                    "id": query.id,
                    "sport": conn.local[1],
                    "transport": "tcp",
                },
            )
            await conn.send(frame(query.encode()))
            data = await read_framed(conn, bytearray(), self.config.timeout * 2)
            await conn.close()
        except (LoopTimeout, ConnectionError, OSError, LocalProtocolError) as e:
            if conn is not None:
                conn.abort()
            why = str(e) or type(e).__name__
            self._emit("timeout", {"server": self._server_label(addr), "transport": "tcp"}, why=why)
            return f"answered TC, then TCP failed: {why}"
        except Cancelled:
            if conn is not None:
                conn.abort()
            raise
        if data is None:
            return "answered TC, then closed the TCP connection without an answer"
        resp = self._accept(data, (addr, DNS_PORT), (addr, DNS_PORT), query.id, q)
        if resp is None:
            return "answered TC, then sent a TCP answer that does not match"
        self._emit_response(resp, addr, zone, len(data), loop.now() - sent_at, "tcp")
        return resp

    def _emit_response(
        self, resp: Message, addr: str, zone: Name, size: int, rtt: float, transport: str
    ) -> None:
        if not self.stack.trace.active:
            return
        self._emit(
            "response",
            {
                "server": self._server_label(addr),
                "address": addr,
                "zone": zone.to_text(),
                "rcode": resp.rcode_name,
                "flags": resp.flag_names(),
                "id": resp.id,
                "answers": [r.to_text() for r in resp.answers],
                "authority": [r.to_text() for r in resp.authority],
                "additional": [r.to_text() for r in resp.additional],
                "bytes": size,
                "rtt_ms": round(rtt * 1000, 3),
                "transport": transport,
            },
        )

    # -- what a response means ---------------------------------------------------------
    def _classify(self, resp: Message, zone: Name, name: Name, qtype: int, addr: str) -> _Step:
        server = self._server_label(addr)
        now = self.stack.loop.now()
        if resp.opcode != Opcode.QUERY or resp.rcode not in (Rcode.NOERROR, Rcode.NXDOMAIN):
            return _Step(lame=f"{server} answered {resp.rcode_name}")
        # Bailiwick scrubbing: only records at or below the zone we asked about count.
        kept: list[list[ResourceRecord]] = []
        dropped: list[str] = []
        for section in (resp.answers, resp.authority, resp.additional):
            keep = []
            for r in section:
                if r.name.is_subdomain(zone) and r.rclass == RClass.IN:
                    keep.append(r)
                else:
                    dropped.append(r.to_text())
            kept.append(keep)
        answers, authority, additional = kept
        if dropped:
            self.stack.trace.count("dns.scrubbed", len(dropped))
            self._emit(
                "scrub",
                {"server": server, "zone": zone.to_text(), "dropped": dropped},
                why=f"outside the bailiwick of {zone}",
            )
        # Follow the answer: CNAMEs from the name, then the records asked for.
        chain: list[ResourceRecord] = []
        cur = name
        final: tuple[ResourceRecord, ...] = ()
        for _ in range(self.config.max_cname + 1):
            rrset = tuple(r for r in answers if r.name == cur and r.rtype == qtype)
            if rrset:
                final = rrset
                break
            if qtype == RType.CNAME:
                break
            cn = [r for r in answers if r.name == cur and r.rtype == RType.CNAME]
            if not cn:
                break
            chain.append(cn[0])
            target = cn[0].rdata
            assert isinstance(target, CNAME)
            cur = target.target
        rank = Rank.ANSWER if resp.aa else Rank.REFERRAL
        for r in chain:
            self.cache.put((r,), now, rank)
        if final:
            self.cache.put(final, now, rank)
            what = ", ".join(r.rdata.to_text() for r in final)
            if len(what) > 80:
                what = what[:77] + "..."
            return _Step(
                Rcode.NOERROR,
                tuple(chain),
                final,
                explanation=f"{name} {type_name(qtype)} is {what} (from {server})",
            )
        soa = [r for r in authority if r.rtype == RType.SOA and cur.is_subdomain(r.name)]
        if resp.rcode == Rcode.NXDOMAIN:
            if soa:
                ttl = self.cache.put_negative(cur, None, soa[0], now)
                note = f"cached for {ttl} s (RFC 2308)"
            else:
                note = "no SOA, so not cached"
            return _Step(
                Rcode.NXDOMAIN,
                tuple(chain),
                (),
                tuple(soa[:1]),
                explanation=f"{cur} does not exist (NXDOMAIN from {server}); {note}",
            )
        ns = [r for r in authority if r.rtype == RType.NS and r.name != zone]
        if not soa and ns:
            cut = ns[0].name
            if not (cur.is_subdomain(cut) and cut.is_subdomain(zone)):
                return _Step(lame=f"{server} sent a referral to {cut}, not below {zone}")
            targets = self._referral(ns, cut, additional, dropped, zone, server, now)
            if chain:  # the CNAME target is in a zone below: go on from the cache
                return _Step(Rcode.NOERROR, tuple(chain), next=cur)
            return _Step(referral=(cut, targets))
        if soa or (resp.aa and not chain):
            if soa:
                ttl = self.cache.put_negative(cur, qtype, soa[0], now)
                note = f"cached for {ttl} s (RFC 2308)"
            else:
                note = "no SOA, so not cached"
            return _Step(
                Rcode.NOERROR,
                tuple(chain),
                (),
                tuple(soa[:1]),
                explanation=f"{cur} has no {type_name(qtype)} record (NODATA from "
                f"{server}); {note}",
            )
        if chain:  # the CNAME leads out of this zone: resolve the target from the top
            return _Step(Rcode.NOERROR, tuple(chain), next=cur)
        return _Step(lame=f"{server} is not authoritative for {zone} and did not refer")

    def _referral(
        self,
        ns: list[ResourceRecord],
        cut: Name,
        additional: list[ResourceRecord],
        dropped: list[str],
        zone: Name,
        server: str,
        now: float,
    ) -> list[Name]:
        """Cache a delegation's NS set and its in-bailiwick glue; return the server names."""
        ns_set = tuple(r for r in ns if r.name == cut)
        targets = [r.rdata.target for r in ns_set if isinstance(r.rdata, NS)]
        glue_ok: list[str] = []
        by_owner: dict[tuple[Name, int], list[ResourceRecord]] = {}
        for r in additional:  # already scrubbed to the bailiwick of ``zone``
            if r.rtype in (RType.A, RType.AAAA) and r.name in targets:
                by_owner.setdefault((r.name, r.rtype), []).append(r)
                glue_ok.append(r.to_text())
        prefixes = tuple(t.to_text() + " " for t in targets)
        glue_bad = [d for d in dropped if d.startswith(prefixes)]
        self.cache.put(ns_set, now, Rank.REFERRAL)
        for rrs in by_owner.values():
            self.cache.put(tuple(rrs), now, Rank.GLUE)
        self._emit(
            "referral",
            {
                "from": server,
                "zone": zone.to_text(),
                "to": cut.to_text(),
                "ns": [t.to_text() for t in targets],
                "glue": glue_ok,
                "glue_dropped": glue_bad,
            },
            why=f"{zone} delegates {cut} to {', '.join(t.to_text() for t in targets)}",
        )
        return targets

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
        wire = reply.encode()
        limit = max(UDP_LIMIT, query.edns.udp_size) if query.edns else UDP_LIMIT
        if not over_tcp and len(wire) > limit:
            wire = replace(reply, tc=True, answers=(), authority=()).encode()
        return wire

    async def serve_udp(self, port: int = DNS_PORT) -> None:
        sock = self.stack.udp_socket(("0.0.0.0", port))
        try:
            while True:
                data, addr = await sock.recvfrom()
                self.stack.loop.create_task(self._answer_udp(sock, data, addr), name="dns-client")
        finally:
            sock.close()

    async def _answer_udp(self, sock: DatagramSocket, data: bytes, addr: Address) -> None:
        reply = await self.respond(data, over_tcp=False)
        if reply is not None:
            sock.sendto(reply, addr)

    async def serve_tcp(self, port: int = DNS_PORT) -> None:
        try:
            listener = self.stack.tcp_listen(port)
        except LocalProtocolError as e:  # a node without TCP serves UDP only
            self.stack.trace.emit(
                self.stack.loop.now(), self.stack.name, "dns", "no-tcp", {"port": port}, why=str(e)
            )
            return
        try:
            while True:
                conn = await listener.accept()
                self.stack.loop.create_task(self._tcp_client(conn), name="dns-tcp-client")
        finally:
            listener.close()

    async def _tcp_client(self, conn: StreamSocket) -> None:
        buf = bytearray()
        try:
            while True:
                data = await read_framed(conn, buf, 10.0)
                if data is None:
                    break
                reply = await self.respond(data, over_tcp=True)
                if reply is None:
                    break
                await conn.send(frame(reply))
            await conn.close()
        except (LoopTimeout, ConnectionError, OSError):
            conn.abort()


@dataclass(frozen=True, slots=True)
class _Step:
    """What one server's answer means for the walk."""

    rcode: int = Rcode.NOERROR
    chain: tuple[ResourceRecord, ...] = ()
    records: tuple[ResourceRecord, ...] = ()
    authority: tuple[ResourceRecord, ...] = ()
    explanation: str = ""
    next: Name | None = None  # a CNAME target to resolve from the top
    referral: tuple[Name, list[Name]] | None = None
    lame: str | None = None


__all__ = ["RecursiveResolver", "Resolution", "ResolverConfig"]
