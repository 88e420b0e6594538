"""Iterative resolution from the root hints as a sans-IO machine (RFC 1034 §5.3.3).

:class:`Resolution` answers one question the way a recursive resolver does, without doing
any I/O: it says which server to ask next (:meth:`Resolution.next_query`), and it is told
what came back (:meth:`Resolution.on_answer`), that nothing came in time
(:meth:`Resolution.on_timeout`), or that the exchange failed otherwise
(:meth:`Resolution.on_failure`). Every input carries the time; nothing here reads a clock,
draws a random number or touches a socket — the transaction id and the source port are the
exchange's business (RFC 5452 §4, §9.1), and so is matching a response to its query.

The walk starts at the deepest zone whose servers the cache knows (the root hints when
cold) and asks a server of that zone, recursion desired off. A referral moves it one zone
down; an answer, NXDOMAIN or NODATA ends it; a CNAME restarts it at the target, in
whatever zone that is. What it trusts (the defences against cache poisoning):

- every record is scrubbed for bailiwick: only names at or below the zone the server was
  asked about are kept (RFC 5452 §6, "bailiwick rule");
- glue (addresses of name servers from the additional section) is used only if it lies in
  the bailiwick of the server that sent it; out-of-bailiwick name servers are looked up
  on their own;
- a referral must go down toward the name, else the server is lame;
- what it caches is ranked (RFC 2181 §5.4.1): glue never replaces an answer;
- negative answers are cached for the SOA's negative TTL (RFC 2308 §5), NXDOMAIN for the
  name, NODATA for the (name, type).

Servers with a known address are asked first; the others are looked up only if those fail.
When no server of a zone has an address any more (its glue expired before its NS set), the
walk asks the parent zone again. Meta types (ANY, AXFR, IXFR) get NOTIMP (RFC 8482).

Limits end bad delegations: a total number of queries per resolution, referrals per walk,
CNAMEs per chain and nested name-server lookups; past them the answer is SERVFAIL, with the
reason. Each server gets ``attempts`` tries; a server that answers badly is not asked again
in the same round, and a round in which every server answered badly ends the zone.

Every step is reported to the injected trace hook (layer ``dns``): ``cache`` hit/miss,
``referral`` (glue kept and dropped), ``scrub``, ``lookup-ns``, ``fallback``, ``resolved``
(with the one-line explanation as ``why``). The driver adds ``query``, ``response`` and
``timeout`` around the exchanges it makes.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import LocalProtocolError
from .cache import DnsCache, Rank
from .codes import Opcode, RClass, Rcode, RType, rcode_name, type_name
from .message import OUR_EDNS_SIZE, Edns, Message, Question, ResourceRecord, make_query
from .name import ROOT, Name
from .rdata import CNAME, NS

META_TYPES = frozenset({RType.ANY, RType.AXFR, 251, RType.OPT})  # 251 = IXFR

TraceHook = Callable[[float, str, dict[str, object], str | None], None]
"""``hook(now, kind, fields, why)``: one step of the walk, for the trace."""
CountHook = Callable[[str, int], None]
"""``count(name, n)``: a counter (records scrubbed), kept whether or not anyone traces."""


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    """Where the walk starts and the limits that end it."""

    root_hints: tuple[tuple[str, str], ...] = (("a.root-servers.net", "198.41.0.4"),)
    timeout: float = 1.0  # seconds per try
    attempts: int = 2  # rounds over a zone's servers
    max_queries: int = 40  # per client question, all steps included
    max_referrals: int = 12  # zone cuts followed in one walk
    max_cname: int = 8
    max_depth: int = 3  # nested lookups of name-server addresses
    edns_size: int = OUR_EDNS_SIZE
    port_range: tuple[int, int] = (1024, 65535)  # the exchange's source ports (RFC 5452 §10)


@dataclass(frozen=True, slots=True)
class Resolved:
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


@dataclass(frozen=True, slots=True)
class Query:
    """What to send now: ``message`` (id 0: the exchange picks it) to ``server`` port 53."""

    server: str  # an address
    message: Message
    zone: Name  # the zone the server was asked about
    attempt: int  # 1, 2, … (round over the zone's servers)

    @property
    def question(self) -> Question:
        return self.message.questions[0]


@dataclass(frozen=True, slots=True)
class Failed:
    """The exchange failed in a way that is not silence (e.g. TC, then TCP failed)."""

    why: str


Reply = Message | Failed | None  # None: no answer in time
Q = TypeVar("Q")
T = TypeVar("T")


class _Fail(Exception):
    """Resolution cannot go on: SERVFAIL with this reason."""


class _NoAddress(Exception):
    """No server of a zone has a usable address (the walk falls back to the parent)."""


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


def follow_answer(
    answers: Sequence[ResourceRecord], name: Name, qtype: int, limit: int
) -> tuple[tuple[ResourceRecord, ...], tuple[ResourceRecord, ...], Name]:
    """The CNAME chain from ``name``, the RRset of ``qtype`` it ends in, and the last name.

    At most ``limit`` CNAMEs are followed (RFC 1034 §3.6.2, §4.3.2 step 3a); the final
    RRset is empty when the answer section stops short of it (a NODATA or NXDOMAIN at the
    end of the chain, or a chain that leaves the zone).
    """
    chain: list[ResourceRecord] = []
    cur = name
    for _ in range(limit + 1):
        rrset = tuple(r for r in answers if r.name == cur and r.rtype == qtype)
        if rrset:
            return tuple(chain), rrset, cur
        if qtype == RType.CNAME:
            break
        cn = [r for r in answers if r.name == cur and r.rtype == RType.CNAME]
        if not cn:
            break
        chain.append(cn[0])
        target = cn[0].rdata
        assert isinstance(target, CNAME)
        cur = target.target
    return tuple(chain), (), cur


def cache_negative(
    cache: DnsCache, owner: Name, qtype: int | None, soa: ResourceRecord | None, now: float
) -> str:
    """Cache NXDOMAIN (``qtype`` None) or NODATA if there is an SOA (RFC 2308 §5); say so."""
    if soa is None:
        return "no SOA, so not cached"
    ttl = cache.put_negative(owner, qtype, soa, now)
    return f"cached for {ttl} s (RFC 2308)"


def negative_text(rcode: int, qtype: int) -> str:
    """NXDOMAIN or NODATA in words (RFC 2308 §1)."""
    if rcode == Rcode.NXDOMAIN:
        return "no such name (NXDOMAIN)"
    return f"the name exists but has no {type_name(qtype)} record (NODATA)"


class QueryMachine(Generic[Q, T]):
    """A lookup written as a generator that yields the queries it needs answered (sans-IO).

    :meth:`next_query` gives the query to send now (None once :attr:`result` is set); each
    input — :meth:`on_answer`, :meth:`on_timeout`, :meth:`on_failure` — carries the time and
    runs the lookup on until it needs the network again or is done.
    """

    def __init__(self, now: float) -> None:
        self.now = now
        self.result: T | None = None
        self._pending: Q | None = None
        self._walk: Generator[Q, Reply, T] | None = None

    def _run(self) -> Generator[Q, Reply, T]:
        raise NotImplementedError

    def next_query(self) -> Q | None:
        """The query to send now, or None when :attr:`result` is ready."""
        if self._walk is None:
            self._walk = self._run()
            self._advance(None)
        return self._pending

    def on_answer(self, response: Message, now: float) -> None:
        """The response to the pending query (already matched to it by the exchange)."""
        self._reply(response, now)

    def on_timeout(self, now: float) -> None:
        """No answer to the pending query in time."""
        self._reply(None, now)

    def on_failure(self, why: str, now: float) -> None:
        """The pending query got no usable answer, for a reason other than silence."""
        self._reply(Failed(why), now)

    def _reply(self, reply: Reply, now: float) -> None:
        if self._pending is None:
            raise LocalProtocolError("no query is waiting for an answer")
        self.now = now
        self._advance(reply)

    def _advance(self, reply: Reply) -> None:
        """Run the lookup until it needs the network again, or to its end."""
        assert self._walk is not None
        try:
            self._pending = self._walk.send(reply)
        except StopIteration as done:
            self._pending = None
            self.result = done.value


class Resolution(QueryMachine[Query, Resolved]):
    """One client question resolved iteratively; sans-IO (see the module's docstring).

    Drive it like this::

        res = Resolution(qname, qtype, cache, config, now)
        while (q := res.next_query()) is not None:
            ...send q.message to q.server, wait...
            res.on_answer(response, now)  # or res.on_timeout(now) / res.on_failure(why, now)
        res.result

    ``cache`` and ``names`` (address → server name, for people) are the resolver's and
    outlive the resolution; the result is also in the cache for the next one.
    """

    def __init__(
        self,
        qname: Name | str,
        qtype: int,
        cache: DnsCache,
        config: ResolverConfig,
        now: float,
        *,
        names: dict[str, str] | None = None,
        trace: TraceHook | None = None,
        count: CountHook | None = None,
    ) -> None:
        super().__init__(now)
        self.qname = qname if isinstance(qname, Name) else Name.from_text(qname)
        self.qtype = qtype
        self.cache = cache
        self.config = config
        self.names = names if names is not None else {a: n for n, a in config.root_hints}
        self._hints = {Name.from_text(n): a for n, a in config.root_hints}
        self._trace = trace
        self._count = count
        self.queries = 0  # sent so far, nested lookups included

    def label(self, addr: str) -> str:
        """``name (address)`` of a server when its name is known, else the address."""
        n = self.names.get(addr)
        return f"{n} ({addr})" if n else addr

    def _emit(self, kind: str, fields: dict[str, object], why: str | None = None) -> None:
        if self._trace is not None:
            self._trace(self.now, kind, fields, why)

    # -- the whole question ------------------------------------------------------------
    def _run(self) -> Generator[Query, Reply, Resolved]:
        n, qtype = self.qname, self.qtype
        try:
            if qtype in META_TYPES:
                res = Resolved(
                    n, qtype, Rcode.NOTIMP,
                    explanation=f"{type_name(qtype)} is a meta type a resolver does not chase "
                    "(RFC 8482)",
                )  # fmt: skip
            else:
                res = yield from self._resolve(n, qtype, 0)
        except _Fail as e:
            res = Resolved(n, qtype, Rcode.SERVFAIL, explanation=str(e), queries=self.queries)
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
    def _resolve(self, qname: Name, qtype: int, depth: int) -> Generator[Query, Reply, Resolved]:
        chain: list[ResourceRecord] = []
        name = qname
        for _ in range(self.config.max_cname + 1):
            hit = self.cache.get(name, qtype, self.now)
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
                return Resolved(
                    qname,
                    qtype,
                    Rcode.NOERROR,
                    (*chain, *hit.records),
                    explanation=f"{name} {type_name(qtype)} from the cache (TTL {hit.ttl} s left)",
                    from_cache=not self.queries,
                    queries=self.queries,
                )
            neg = self.cache.get_negative(name, qtype, self.now)
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
                return Resolved(
                    qname,
                    qtype,
                    neg.rcode,
                    tuple(chain),
                    (neg.soa,),
                    explanation=f"{name} {what} (negative answer cached, {neg.ttl} s left, "
                    "RFC 2308)",
                    from_cache=not self.queries,
                    queries=self.queries,
                )
            if qtype != RType.CNAME:
                cn = self.cache.get(name, RType.CNAME, self.now)
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
            step = yield from self._walk_zones(name, qtype, depth)
            chain += step.chain
            if step.next is not None:
                name = step.next
                continue
            explanation = step.explanation
            if chain:
                hops = " -> ".join(r.rdata.to_text() for r in chain)
                explanation = f"{qname} is an alias (CNAME -> {hops}); {explanation}"
            return Resolved(
                qname,
                qtype,
                step.rcode,
                (*chain, *step.records),
                step.authority,
                explanation=explanation,
                queries=self.queries,
            )
        raise _Fail(f"CNAME chain longer than {self.config.max_cname} at {name}")

    def _start(self, name: Name) -> tuple[Name, list[Name]]:
        """The deepest zone with known servers: from the cache, else the root hints."""
        found = self.cache.closest_zone(name, self.now)
        if found is not None:
            zone, hit = found
            return zone, [r.rdata.target for r in hit.records if isinstance(r.rdata, NS)]
        return ROOT, [Name.from_text(n) for n, _ in self.config.root_hints]

    def _walk_zones(self, name: Name, qtype: int, depth: int) -> Generator[Query, Reply, _Step]:
        zone, servers = self._start(name)
        fell_back: set[Name] = set()
        for _ in range(self.config.max_referrals):
            try:
                step = yield from self._ask_zone(zone, servers, name, qtype, depth)
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
        out: list[tuple[Name, str]] = []
        for ns in servers:
            hit = self.cache.get(ns, RType.A, self.now)
            if hit is not None:
                out += [(ns, r.rdata.to_text()) for r in hit.records]
            elif zone == ROOT and ns in self._hints:
                out.append((ns, self._hints[ns]))
        return out

    def _lookup_addresses(
        self, zone: Name, missing: Sequence[Name], depth: int
    ) -> Generator[Query, Reply, list[tuple[Name, str]]]:
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
            res = yield from self._resolve(ns, RType.A, depth + 1)
            addrs = [(ns, a) for a in res.addresses()] if res.rcode == Rcode.NOERROR else []
            if addrs:
                return addrs
        return []

    def _ask_zone(
        self, zone: Name, servers: list[Name], name: Name, qtype: int, depth: int
    ) -> Generator[Query, Reply, _Step]:
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
                addrs = yield from self._lookup_addresses(zone, missing, depth)
            if not addrs:
                continue
            asked += [a for _, a in addrs]
            step = yield from self._try_servers(addrs, q, zone, problems)
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

    def _try_servers(
        self,
        addrs: list[tuple[Name, str]],
        q: Question,
        zone: Name,
        problems: list[tuple[str, str]],
    ) -> Generator[Query, Reply, _Step | None]:
        """``attempts`` rounds over ``addrs``; the first usable answer, else None."""
        for ns, addr in addrs:
            self.names.setdefault(addr, ns.to_text().rstrip("."))
        message = make_query(q.name, q.rtype, 0, rd=False, edns=Edns(self.config.edns_size))
        for attempt in range(self.config.attempts):
            bad_answers = 0
            for _ns, addr in addrs:
                if self.queries >= self.config.max_queries:
                    raise _Fail(f"gave up after {self.queries} queries (limit)")
                self.queries += 1
                resp = yield Query(addr, message, zone, attempt + 1)
                if resp is None:
                    problems.append(("timeout", f"{self.label(addr)} timed out"))
                    continue
                if isinstance(resp, Failed):
                    problems.append(("tcp", f"{self.label(addr)} {resp.why}"))
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

    # -- what a response means ---------------------------------------------------------
    def _classify(self, resp: Message, zone: Name, name: Name, qtype: int, addr: str) -> _Step:
        server = self.label(addr)
        now = self.now
        if resp.opcode != Opcode.QUERY or resp.rcode not in (Rcode.NOERROR, Rcode.NXDOMAIN):
            return _Step(lame=f"{server} answered {resp.rcode_name}")
        answers, authority, additional, dropped = self._scrub(resp, zone, server)
        # Follow the answer: CNAMEs from the name, then the records asked for.
        chain, final, cur = follow_answer(answers, name, qtype, self.config.max_cname)
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
                chain,
                final,
                explanation=f"{name} {type_name(qtype)} is {what} (from {server})",
            )
        soa = [r for r in authority if r.rtype == RType.SOA and cur.is_subdomain(r.name)]
        ns = [r for r in authority if r.rtype == RType.NS and r.name != zone]
        if resp.rcode != Rcode.NXDOMAIN and not soa and ns:
            cut = ns[0].name
            if not (cur.is_subdomain(cut) and cut.is_subdomain(zone)):
                return _Step(lame=f"{server} sent a referral to {cut}, not below {zone}")
            targets = self._referral(ns, cut, additional, dropped, zone, server)
            if chain:  # the CNAME target is in a zone below: go on from the cache
                return _Step(Rcode.NOERROR, chain, next=cur)
            return _Step(referral=(cut, targets))
        if resp.rcode == Rcode.NXDOMAIN or soa or (resp.aa and not chain):
            # A negative answer (RFC 2308 §2.1 NXDOMAIN, §2.2 NODATA), cached once here.
            nx = resp.rcode == Rcode.NXDOMAIN
            first_soa = soa[0] if soa else None
            note = cache_negative(self.cache, cur, None if nx else qtype, first_soa, now)
            what = (
                f"does not exist (NXDOMAIN from {server})"
                if nx
                else f"has no {type_name(qtype)} record (NODATA from {server})"
            )
            return _Step(resp.rcode, chain, (), tuple(soa[:1]), explanation=f"{cur} {what}; {note}")
        if chain:  # the CNAME leads out of this zone: resolve the target from the top
            return _Step(Rcode.NOERROR, chain, next=cur)
        return _Step(lame=f"{server} is not authoritative for {zone} and did not refer")

    def _scrub(
        self, resp: Message, zone: Name, server: str
    ) -> tuple[list[ResourceRecord], list[ResourceRecord], list[ResourceRecord], list[str]]:
        """Keep only records at or below ``zone`` (the bailiwick rule, RFC 5452 §6)."""
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
        if dropped:
            if self._count is not None:
                self._count("dns.scrubbed", len(dropped))
            self._emit(
                "scrub",
                {"server": server, "zone": zone.to_text(), "dropped": dropped},
                why=f"outside the bailiwick of {zone}",
            )
        return kept[0], kept[1], kept[2], dropped

    def _referral(
        self,
        ns: list[ResourceRecord],
        cut: Name,
        additional: list[ResourceRecord],
        dropped: list[str],
        zone: Name,
        server: str,
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
        self.cache.put(ns_set, self.now, Rank.REFERRAL)
        for rrs in by_owner.values():
            self.cache.put(tuple(rrs), self.now, Rank.GLUE)
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


__all__ = [
    "Failed",
    "Query",
    "QueryMachine",
    "Reply",
    "Resolution",
    "Resolved",
    "ResolverConfig",
    "cache_negative",
    "follow_answer",
    "negative_text",
]
