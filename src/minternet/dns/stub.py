"""The laptop's stub resolver, sans-IO: browser cache → OS cache → hosts file → a server.

This is the path a browser's lookup of ``www.example.com`` takes before any packet leaves
(phase 1 of the seed). :class:`Stub` holds what the machine keeps (resolv.conf, the hosts
file, the OS cache, the browser cache); :meth:`Stub.lookup` starts a :class:`StubLookup`,
which looks in each layer in turn and reports each to the trace hook (kind ``lookup``, with
the ``layer``) with the TTL it found or ``miss``:

1. the browser's own host cache, whose entries live at most :data:`BROWSER_CACHE_MAX` s
   (Chromium keeps them a minute whatever the TTL);
2. the operating system's cache (like systemd-resolved or nscd), which honours TTLs and
   caches negative answers (RFC 2308), shared by every program on the machine;
3. the hosts file;
4. a query, recursion desired, to the ``nameserver`` lines of a resolv.conf(5)-like
   :class:`ResolvConf`, with its ``timeout`` and ``attempts``, rotating over the servers:
   :meth:`StubLookup.next_query` says whom to ask, :meth:`StubLookup.on_answer` and
   :meth:`StubLookup.on_timeout` (time passed in) say what happened. The exchange itself —
   random id and port, strict matching, TC → TCP — is
   :func:`minternet.apps.dns_transport.exchange`, driven by
   :class:`minternet.apps.dns_stub.StubResolver`.

The files are read at the edge: :meth:`ResolvConf.parse` and
:meth:`~minternet.dns.hosts.HostsFile.parse` take their text.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

from ..errors import ConfigError
from .cache import DnsCache, Rank
from .codes import Rcode, RType, rcode_name, type_name
from .hosts import HostsFile
from .message import OUR_EDNS_SIZE, Edns, Message, ResourceRecord, make_query
from .name import Name
from .rdata import CNAME
from .resolution import (
    QueryMachine,
    Reply,
    TraceHook,
    cache_negative,
    follow_answer,
    negative_text,
)

BROWSER_CACHE_MAX = 60
MAX_CNAME = 15  # CNAMEs followed in a server's answer


@dataclass(frozen=True, slots=True)
class ResolvConf:
    """The part of resolv.conf(5) a stub uses."""

    nameservers: tuple[str, ...] = ("198.51.100.53",)
    timeout: float = 5.0  # per try (resolv.conf's default)
    attempts: int = 2

    @classmethod
    def parse(cls, text: str, where: str = "resolv.conf") -> ResolvConf:
        servers: list[str] = []
        timeout, attempts = 5.0, 2
        for lineno, line in enumerate(text.splitlines(), 1):
            fields = line.split("#", 1)[0].split(";", 1)[0].split()
            if not fields:
                continue
            try:
                if fields[0] == "nameserver":
                    servers.append(fields[1])
                elif fields[0] == "options":
                    for opt in fields[1:]:
                        key, _, value = opt.partition(":")
                        if key == "timeout":
                            timeout = float(value)
                        elif key == "attempts":
                            attempts = int(value)
            except (IndexError, ValueError):
                raise ConfigError(f"{where}:{lineno}: cannot read {line.strip()!r}") from None
        if not servers:
            raise ConfigError(f"{where}: no nameserver line")
        return cls(tuple(servers), timeout, max(1, attempts))


@dataclass(frozen=True, slots=True)
class StubAnswer:
    """What the browser gets back, with where it came from and a one-line explanation."""

    host: Name
    qtype: int
    addresses: tuple[str, ...]
    source: str  # "browser-cache", "os-cache", "hosts", "dns", or "error"
    rcode: int = Rcode.NOERROR
    ttl: int | None = None
    explanation: str = ""
    records: tuple[ResourceRecord, ...] = ()

    @property
    def ok(self) -> bool:
        return bool(self.addresses)


@dataclass
class BrowserCache:
    """The browser's host cache: name → addresses until an expiry, a minute at most."""

    max_ttl: int = BROWSER_CACHE_MAX
    entries: dict[tuple[Name, int], tuple[tuple[str, ...], float]] = field(default_factory=dict)

    def get(self, host: Name, qtype: int, now: float) -> tuple[tuple[str, ...], int] | None:
        e = self.entries.get((host, qtype))
        if e is None or e[1] <= now:
            self.entries.pop((host, qtype), None)
            return None
        return e[0], int(e[1] - now)

    def put(self, host: Name, qtype: int, addresses: tuple[str, ...], ttl: int, now: float) -> None:
        self.entries[(host, qtype)] = (addresses, now + min(ttl, self.max_ttl))


@dataclass(frozen=True, slots=True)
class StubQuery:
    """What to send now: ``message`` (id 0: the exchange picks it) to ``server`` port 53."""

    server: str
    message: Message


class Stub:
    """The resolver library of the laptop, with the browser's cache in front (no I/O)."""

    def __init__(
        self,
        conf: ResolvConf | None = None,
        hosts: HostsFile | None = None,
        os_cache: DnsCache | None = None,
        browser_cache: BrowserCache | None = None,
    ) -> None:
        self.conf = conf or ResolvConf()
        self.hosts = hosts or HostsFile()
        self.os_cache = os_cache if os_cache is not None else DnsCache()
        self.browser_cache = browser_cache if browser_cache is not None else BrowserCache()
        self.rotate = 0  # the first server to ask (resolv.conf's ``rotate`` would move it)

    def lookup(
        self, host: Name | str, qtype: int, now: float, trace: TraceHook | None = None
    ) -> StubLookup:
        """Start looking ``host`` up at ``now``."""
        name = host if isinstance(host, Name) else Name.from_text(host)
        return StubLookup(self, name, qtype, now, trace)


class StubLookup(QueryMachine[StubQuery, StubAnswer]):
    """One lookup through the layers, driven like a :class:`~.resolution.Resolution`."""

    def __init__(
        self, stub: Stub, host: Name, qtype: int, now: float, trace: TraceHook | None
    ) -> None:
        super().__init__(now)
        self.stub = stub
        self.host = host
        self.qtype = qtype
        self._trace = trace

    def _emit(self, layer_name: str, fields: dict[str, object], why: str | None = None) -> None:
        if self._trace is not None:
            self._trace(self.now, "lookup", {"layer": layer_name, **fields}, why)

    def _run(self) -> Generator[StubQuery, Reply, StubAnswer]:
        n, qtype = self.host, self.qtype
        base: dict[str, object] = {"name": n.to_text(), "qtype": type_name(qtype)}
        browser_cache = self.stub.browser_cache
        hit = browser_cache.get(n, qtype, self.now)
        if hit is not None:
            self._emit("browser-cache", {**base, "hit": True, "ttl": hit[1], "addresses": hit[0]})
            return StubAnswer(
                n,
                qtype,
                hit[0],
                "browser-cache",
                ttl=hit[1],
                explanation=f"{n} from the browser's cache ({hit[1]} s left)",
            )
        self._emit("browser-cache", {**base, "hit": False})
        answer = self._from_os(n, qtype, base)
        if answer is None:
            answer = self._from_hosts(n, qtype, base)
        if answer is None:
            answer = yield from self._ask_servers(n, qtype)
        if answer.ok and answer.ttl is not None:
            browser_cache.put(n, qtype, answer.addresses, answer.ttl, self.now)
        return answer

    def _from_os(self, n: Name, qtype: int, base: dict[str, object]) -> StubAnswer | None:
        os_cache, now = self.stub.os_cache, self.now
        chain: list[ResourceRecord] = []
        cur = n
        hit = os_cache.get(cur, qtype, now)
        while hit is None and qtype != RType.CNAME and len(chain) < 8:
            alias = os_cache.get(cur, RType.CNAME, now)  # follow cached CNAMEs
            if alias is None:
                break
            chain += alias.records
            target = alias.records[0].rdata
            assert isinstance(target, CNAME)
            cur = target.target
            hit = os_cache.get(cur, qtype, now)
        if hit is not None:
            addrs = tuple(r.rdata.to_text() for r in hit.records)
            ttl = min(r.ttl for r in (*chain, *hit.records))
            self._emit("os-cache", {**base, "hit": True, "ttl": ttl, "addresses": addrs})
            return StubAnswer(
                n,
                qtype,
                addrs,
                "os-cache",
                ttl=ttl,
                records=(*chain, *hit.records),
                explanation=f"{n} from the OS cache ({ttl} s left)",
            )
        neg = os_cache.get_negative(n, qtype, now)
        if neg is not None:
            self._emit(
                "os-cache", {**base, "hit": True, "negative": rcode_name(neg.rcode), "ttl": neg.ttl}
            )
            return StubAnswer(
                n,
                qtype,
                (),
                "os-cache",
                neg.rcode,
                neg.ttl,
                f"{n}: {negative_text(neg.rcode, qtype)} (cached, {neg.ttl} s left)",
            )
        self._emit("os-cache", {**base, "hit": False})
        return None

    def _from_hosts(self, n: Name, qtype: int, base: dict[str, object]) -> StubAnswer | None:
        found = tuple(self.stub.hosts.lookup(n, qtype))
        if found:
            self._emit("hosts", {**base, "hit": True, "addresses": found})
            return StubAnswer(n, qtype, found, "hosts", explanation=f"{n} from the hosts file")
        self._emit("hosts", {**base, "hit": False})
        return None

    def _ask_servers(self, n: Name, qtype: int) -> Generator[StubQuery, Reply, StubAnswer]:
        conf = self.stub.conf
        query = make_query(n, qtype, 0, rd=True, edns=Edns(OUR_EDNS_SIZE))
        tried: list[str] = []
        for _ in range(conf.attempts):
            for i in range(len(conf.nameservers)):
                server = conf.nameservers[(self.stub.rotate + i) % len(conf.nameservers)]
                resp = yield StubQuery(server, query)
                tried.append(server)
                if not isinstance(resp, Message):  # silence, or no usable answer
                    continue
                return self._digest(n, qtype, resp, server)
        servers = ", ".join(dict.fromkeys(tried))
        return StubAnswer(
            n, qtype, (), "error", Rcode.SERVFAIL,
            explanation=f"{n}: no answer from {servers} after {conf.attempts} attempt(s) of "
            f"{conf.timeout:g} s (timeout)",
        )  # fmt: skip

    def _digest(self, n: Name, qtype: int, resp: Message, server: str) -> StubAnswer:
        """What a server's answer means; its RRsets and negative answer go to the OS cache."""
        os_cache, now = self.stub.os_cache, self.now
        if resp.rcode not in (Rcode.NOERROR, Rcode.NXDOMAIN):
            return StubAnswer(
                n,
                qtype,
                (),
                "error",
                resp.rcode,
                explanation=f"{n}: the server {server} answered {resp.rcode_name}",
            )
        chain, final, cur = follow_answer(resp.answers, n, qtype, MAX_CNAME)
        for r in chain:
            os_cache.put((r,), now, Rank.ANSWER)
        if final:
            os_cache.put(final, now, Rank.ANSWER)
            addrs = tuple(r.rdata.to_text() for r in final)
            ttl = min(r.ttl for r in (*chain, *final))
            return StubAnswer(
                n,
                qtype,
                addrs,
                "dns",
                ttl=ttl,
                records=(*chain, *final),
                explanation=f"{n} is {', '.join(addrs)} (from {server}, TTL {ttl} s)",
            )
        soa = [r for r in resp.authority if r.rtype == RType.SOA]
        nx = resp.rcode == Rcode.NXDOMAIN
        cache_negative(os_cache, cur, None if nx else qtype, soa[0] if soa else None, now)
        return StubAnswer(
            n,
            qtype,
            (),
            "dns",
            resp.rcode,
            records=chain,
            explanation=f"{n}: {negative_text(resp.rcode, qtype)} (from {server})",
        )


__all__ = ["BrowserCache", "ResolvConf", "Stub", "StubAnswer", "StubLookup", "StubQuery"]
