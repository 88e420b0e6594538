"""The laptop's stub resolver: browser cache → OS cache → hosts file → configured server.

This is the path a browser's lookup of ``www.example.com`` takes before any packet leaves
(phase 1 of the seed). :class:`StubResolver` looks in each layer in turn and reports each as
a trace event (layer ``dns``, kind ``lookup``) with the TTL it found or ``miss``:

1. the browser's own host cache, whose entries live at most :data:`BROWSER_CACHE_MAX` s
   (Chromium keeps them a minute whatever the TTL);
2. the operating system's cache (like systemd-resolved or nscd), which honours TTLs and
   caches negative answers (RFC 2308), shared by every program on the machine;
3. the hosts file;
4. a query, recursion desired, to the ``nameserver`` lines of a resolv.conf(5)-like
   :class:`ResolvConf`, with its ``timeout`` and ``attempts``, rotating over the servers.
   The id and the source port are random from the injected source; a response is taken only
   from the server's address and port 53, with the id and the question; TC → again over TCP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from ..node.api import NetworkStack
from .cache import DnsCache, Rank
from .client import exchange
from .codes import Rcode, RType, rcode_name, type_name
from .hosts import HostsFile
from .message import Edns, Message, Question, ResourceRecord, make_query
from .name import Name
from .rdata import CNAME

BROWSER_CACHE_MAX = 60
DNS_PORT = 53


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


class StubResolver:
    """The resolver library of the laptop, with the browser's cache in front."""

    def __init__(
        self,
        stack: NetworkStack,
        conf: ResolvConf | None = None,
        hosts: HostsFile | None = None,
        os_cache: DnsCache | None = None,
        browser_cache: BrowserCache | None = None,
    ) -> None:
        self.stack = stack
        self.conf = conf or ResolvConf()
        self.hosts = hosts or HostsFile()
        self.os_cache = os_cache if os_cache is not None else DnsCache()
        self.browser_cache = browser_cache if browser_cache is not None else BrowserCache()
        self.random = stack.random.child("dns-stub")
        self._rotate = 0

    def _emit(self, layer_name: str, fields: dict[str, object], why: str | None = None) -> None:
        trace = self.stack.trace
        if trace.active:
            trace.emit(
                self.stack.loop.now(), self.stack.name, "dns", "lookup",
                {"layer": layer_name, **fields}, why=why,
            )  # fmt: skip

    async def lookup(self, host: Name | str, qtype: int = RType.A) -> StubAnswer:
        n = host if isinstance(host, Name) else Name.from_text(host)
        now = self.stack.loop.now()
        t = type_name(qtype)
        base: dict[str, object] = {"name": n.to_text(), "qtype": t}
        hit = self.browser_cache.get(n, qtype, now)
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
        answer = self._from_os(n, qtype, now, base)
        if answer is None:
            answer = self._from_hosts(n, qtype, base)
        if answer is None:
            answer = await self._ask_server(n, qtype, base)
        if answer.ok and answer.ttl is not None:
            self.browser_cache.put(n, qtype, answer.addresses, answer.ttl, self.stack.loop.now())
        return answer

    def _from_os(
        self, n: Name, qtype: int, now: float, base: dict[str, object]
    ) -> StubAnswer | None:
        chain: list[ResourceRecord] = []
        cur = n
        hit = self.os_cache.get(cur, qtype, now)
        while hit is None and qtype != RType.CNAME and len(chain) < 8:
            alias = self.os_cache.get(cur, RType.CNAME, now)  # follow cached CNAMEs
            if alias is None:
                break
            chain += alias.records
            target = alias.records[0].rdata
            assert isinstance(target, CNAME)
            cur = target.target
            hit = self.os_cache.get(cur, qtype, now)
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
        neg = self.os_cache.get_negative(n, qtype, now)
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
                f"{n}: {_negative_text(neg.rcode, qtype)} (cached, {neg.ttl} s left)",
            )
        self._emit("os-cache", {**base, "hit": False})
        return None

    def _from_hosts(self, n: Name, qtype: int, base: dict[str, object]) -> StubAnswer | None:
        found = tuple(self.hosts.lookup(n, qtype))
        if found:
            self._emit("hosts", {**base, "hit": True, "addresses": found})
            return StubAnswer(n, qtype, found, "hosts", explanation=f"{n} from the hosts file")
        self._emit("hosts", {**base, "hit": False})
        return None

    async def _ask_server(self, n: Name, qtype: int, base: dict[str, object]) -> StubAnswer:
        conf = self.conf
        q = Question(n, qtype)
        tried: list[str] = []
        for _ in range(conf.attempts):
            for i in range(len(conf.nameservers)):
                server = conf.nameservers[(self._rotate + i) % len(conf.nameservers)]
                resp = await self._exchange(server, q, base)
                tried.append(server)
                if resp is None:
                    continue
                return self._digest(n, qtype, resp, server)
        servers = ", ".join(dict.fromkeys(tried))
        return StubAnswer(
            n, qtype, (), "error", Rcode.SERVFAIL,
            explanation=f"{n}: no answer from {servers} after {conf.attempts} attempt(s) of "
            f"{conf.timeout:g} s (timeout)",
        )  # fmt: skip

    def _digest(self, n: Name, qtype: int, resp: Message, server: str) -> StubAnswer:
        now = self.stack.loop.now()
        if resp.rcode not in (Rcode.NOERROR, Rcode.NXDOMAIN):
            return StubAnswer(
                n,
                qtype,
                (),
                "error",
                resp.rcode,
                explanation=f"{n}: the server {server} answered {resp.rcode_name}",
            )
        # Keep the chain from n; cache each RRset in the OS cache.
        cur, chain, final = n, [], []
        for _ in range(16):
            rrs = [r for r in resp.answers if r.name == cur and r.rtype == qtype]
            if rrs:
                final = rrs
                break
            cn = [r for r in resp.answers if r.name == cur and r.rtype == RType.CNAME]
            if not cn:
                break
            chain.append(cn[0])
            target = cn[0].rdata
            assert isinstance(target, CNAME)
            cur = target.target
        for r in chain:
            self.os_cache.put((r,), now, Rank.ANSWER)
        if final:
            self.os_cache.put(tuple(final), now, Rank.ANSWER)
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
        if soa:
            self.os_cache.put_negative(
                cur, None if resp.rcode == Rcode.NXDOMAIN else qtype, soa[0], now
            )
        return StubAnswer(
            n,
            qtype,
            (),
            "dns",
            resp.rcode,
            records=tuple(chain),
            explanation=f"{n}: {_negative_text(resp.rcode, qtype)} (from {server})",
        )

    async def _exchange(self, server: str, q: Question, base: dict[str, object]) -> Message | None:
        query = make_query(q.name, q.rtype, 0, rd=True, edns=Edns(1232))
        self._emit("dns", {**base, "server": server}, why=f"asking the name server {server}")
        ex = await exchange(
            self.stack, self.random, query, (server, DNS_PORT), timeout=self.conf.timeout, tries=1
        )
        if ex.response is None:
            self._emit(
                "dns",
                {**base, "server": server, "timeout": self.conf.timeout},
                why="no answer in time",
            )
            return None
        resp = ex.response
        self._emit(
            "dns",
            {
                **base,
                "server": server,
                "rcode": resp.rcode_name,
                "id": resp.id,
                "transport": ex.transport,
                "rtt_ms": round(ex.rtt * 1000, 3),
                "answers": [r.to_text() for r in resp.answers],
            },
        )
        return resp


def _negative_text(rcode: int, qtype: int) -> str:
    if rcode == Rcode.NXDOMAIN:
        return "no such name (NXDOMAIN)"
    return f"the name exists but has no {type_name(qtype)} record (NODATA)"
