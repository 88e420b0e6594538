"""A DNS cache with TTLs on the loop's clock and negative caching (RFC 1035 §7.4, RFC 2308).

Records are cached as RRsets (RFC 2181 §5) keyed by (owner, type). Every entry remembers when
it was stored and its rank — how much it is trusted (RFC 2181 §5.4.1): glue from the
additional section is worth less than a referral's NS set, which is worth less than an
authoritative answer. A lower-ranked RRset never replaces a live higher-ranked one, so glue
cannot overwrite an answer. Reads return the records with their *remaining* TTL.

Negative answers (RFC 2308): NXDOMAIN is cached for the name (every type), NODATA for the
(name, type); each for the negative TTL, min(SOA TTL, SOA MINIMUM), capped (§5 suggests at
most a few hours). The SOA is kept so that a cached negative answer can be given again with
it (§6).

Time is always passed in (``now``, seconds); the cache never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from .codes import Rcode, RType, type_name
from .message import ResourceRecord
from .name import Name
from .rdata import SOA


class Rank(IntEnum):
    """Trust levels of RFC 2181 §5.4.1, simplified to three."""

    GLUE = 1  # addresses from the additional section
    REFERRAL = 2  # NS sets from the authority section of a referral
    ANSWER = 3  # the answer section of an authoritative answer


@dataclass(frozen=True, slots=True)
class CacheEntry:
    records: tuple[ResourceRecord, ...]
    stored: float
    expires: float
    rank: Rank


@dataclass(frozen=True, slots=True)
class NegativeEntry:
    rcode: int  # NXDOMAIN, or NOERROR for NODATA
    soa: ResourceRecord
    stored: float
    expires: float


@dataclass(frozen=True, slots=True)
class CacheHit:
    records: tuple[ResourceRecord, ...]  # with the TTL that remains
    ttl: int
    rank: Rank


@dataclass(frozen=True, slots=True)
class NegativeHit:
    rcode: int
    soa: ResourceRecord  # with the TTL that remains
    ttl: int


class DnsCache:
    """RRsets and negative answers, each until its TTL runs out on the clock given."""

    def __init__(self, max_ttl: int = 7 * 86400, max_negative_ttl: int = 3 * 3600) -> None:
        self.max_ttl = max_ttl
        self.max_negative_ttl = max_negative_ttl
        self._rrsets: dict[tuple[Name, int], CacheEntry] = {}
        self._negative: dict[tuple[Name, int | None], NegativeEntry] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._rrsets) + len(self._negative)

    # -- positive ----------------------------------------------------------------------
    def put(self, records: tuple[ResourceRecord, ...], now: float, rank: Rank) -> bool:
        """Cache one RRset (same owner and type); False if a better live one is kept."""
        if not records:
            return False
        first = records[0]
        key = (first.name, first.rtype)
        old = self._rrsets.get(key)
        if old is not None and old.expires > now and old.rank > rank:
            return False
        ttl = min(min(r.ttl for r in records), self.max_ttl)  # RFC 2181 §5.2: one TTL
        self._rrsets[key] = CacheEntry(records, now, now + ttl, rank)
        # A positive answer ends a cached negative one for the same data.
        self._negative.pop((first.name, first.rtype), None)
        self._negative.pop((first.name, None), None)
        return True

    def get(
        self, owner: Name, rtype: int, now: float, min_rank: Rank = Rank.GLUE
    ) -> CacheHit | None:
        entry = self._rrsets.get((owner, rtype))
        if entry is None:
            return None
        if entry.expires <= now:
            del self._rrsets[(owner, rtype)]
            return None
        if entry.rank < min_rank:
            return None
        left = int(entry.expires - now)
        return CacheHit(tuple(r.with_ttl(left) for r in entry.records), left, entry.rank)

    # -- negative (RFC 2308) -----------------------------------------------------------
    def put_negative(self, owner: Name, rtype: int | None, soa: ResourceRecord, now: float) -> int:
        """Cache NXDOMAIN (``rtype`` None) or NODATA; returns the negative TTL used."""
        assert isinstance(soa.rdata, SOA)
        ttl = min(soa.ttl, soa.rdata.minimum, self.max_negative_ttl)
        rcode = Rcode.NXDOMAIN if rtype is None else Rcode.NOERROR
        self._negative[(owner, rtype)] = NegativeEntry(rcode, soa, now, now + ttl)
        return ttl

    def get_negative(self, owner: Name, rtype: int, now: float) -> NegativeHit | None:
        for key in ((owner, None), (owner, rtype)):
            entry = self._negative.get(key)
            if entry is None:
                continue
            if entry.expires <= now:
                del self._negative[key]
                continue
            left = int(entry.expires - now)
            return NegativeHit(entry.rcode, entry.soa.with_ttl(left), left)
        return None

    # -- for the resolver --------------------------------------------------------------
    def closest_zone(self, qname: Name, now: float) -> tuple[Name, CacheHit] | None:
        """The deepest ancestor of ``qname`` whose NS set is cached (where to start asking)."""
        for anc in qname.ancestors():
            hit = self.get(anc, RType.NS, now)
            if hit is not None:
                return anc, hit
        return None

    def dump(self, now: float) -> list[str]:
        """Every live entry as a line of text (for ``--json`` and the timeline)."""
        out = []
        for _key, entry in sorted(
            self._rrsets.items(), key=lambda kv: (kv[0][0].key[::-1], kv[0][1])
        ):
            if entry.expires > now:
                left = int(entry.expires - now)
                for r in entry.records:
                    out.append(f"{r.with_ttl(left).to_text()} ; {entry.rank.name.lower()}")
        for (owner, rt), neg in self._negative.items():
            if neg.expires > now:
                what = "NXDOMAIN" if rt is None else f"NODATA {type_name(rt)}"
                out.append(f"{owner} {int(neg.expires - now)} ; negative {what}")
        return out

    def flush(self) -> None:
        self._rrsets.clear()
        self._negative.clear()
