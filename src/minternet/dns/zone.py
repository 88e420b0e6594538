"""Zones: the records one authority serves, and how a query is looked up in them.

:meth:`Zone.lookup` is the algorithm of RFC 1034 §4.3.2 step 3 for one zone, with
wildcards as RFC 4592 §3.3 clarifies them: walk down from the origin toward the query name;
a delegation (NS below the apex) on the way gives a :class:`Referral` with glue; the name
itself gives an :class:`Answer` (following a CNAME while the target stays in the zone and
is not one already followed), or
:class:`NoData`; a name that does not exist is answered by the wildcard
``*.<closest encloser>`` if there is one, with the records' owner rewritten to the name
asked, else gives :class:`NxDomain`. Negative answers carry the SOA whose TTL is the
negative TTL, min(SOA TTL, SOA MINIMUM) (RFC 2308 §3, §5).

:func:`parse_zone` reads a subset of the master-file format (RFC 1035 §5.1): ``$ORIGIN``,
``$TTL``, ``@``, relative owners, an empty owner repeating the previous one, ``;`` comments,
``( … )`` across lines, quoted strings, and the types of :mod:`.rdata`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import ConfigError
from .codes import RClass, RType, type_from_text
from .message import ResourceRecord
from .name import BadName, Name
from .rdata import AAAA, CNAME, MX, NS, PTR, SOA, TXT, A, Rdata, Unknown

MAX_CNAME_IN_ZONE = 8


@dataclass(frozen=True, slots=True)
class Answer:
    records: tuple[ResourceRecord, ...]  # the CNAME chain (if any) then the records
    zone: Zone


@dataclass(frozen=True, slots=True)
class Referral:
    cut: Name
    ns: tuple[ResourceRecord, ...]
    glue: tuple[ResourceRecord, ...]
    chain: tuple[ResourceRecord, ...] = ()  # CNAMEs followed before reaching the cut


@dataclass(frozen=True, slots=True)
class NoData:
    soa: ResourceRecord
    chain: tuple[ResourceRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class NxDomain:
    soa: ResourceRecord
    chain: tuple[ResourceRecord, ...] = ()


Lookup = Answer | Referral | NoData | NxDomain


class Zone:
    """The records of one zone, indexed by owner name then type."""

    def __init__(self, origin: Name, records: Iterable[ResourceRecord] = ()) -> None:
        self.origin = origin
        self.nodes: dict[Name, dict[int, list[ResourceRecord]]] = {}
        self._names_below: set[Name] = set()  # every name that exists or has descendants
        for r in records:
            self.add(r)

    def add(self, r: ResourceRecord) -> None:
        if not r.name.is_subdomain(self.origin):
            raise ConfigError(f"{r.name} is outside the zone {self.origin}")
        self.nodes.setdefault(r.name, {}).setdefault(r.rtype, []).append(r)
        for anc in r.name.ancestors():
            if not anc.is_subdomain(self.origin):
                break
            self._names_below.add(anc)

    @property
    def soa(self) -> ResourceRecord:
        recs = self.nodes.get(self.origin, {}).get(RType.SOA)
        if not recs:
            raise ConfigError(f"zone {self.origin} has no SOA record")
        return recs[0]

    def negative_soa(self) -> ResourceRecord:
        """The SOA as sent in a negative answer: TTL = min(TTL, MINIMUM) (RFC 2308 §3)."""
        soa = self.soa
        assert isinstance(soa.rdata, SOA)
        return soa.with_ttl(min(soa.ttl, soa.rdata.minimum))

    def rrset(self, owner: Name, rtype: int) -> list[ResourceRecord]:
        return self.nodes.get(owner, {}).get(rtype, [])

    def all_records(self) -> list[ResourceRecord]:
        return [r for types in self.nodes.values() for rs in types.values() for r in rs]

    def lookup(self, qname: Name, qtype: int) -> Lookup:
        chain: list[ResourceRecord] = []
        visited = {qname}
        for _ in range(MAX_CNAME_IN_ZONE):
            # Walk down from just below the origin: a delegation on the way wins.
            depth = len(qname.labels) - len(self.origin.labels)
            for i in range(depth, 0, -1):
                cut = Name(qname.labels[i - 1 :], _checked=True)
                ns = self.rrset(cut, RType.NS)
                if ns:
                    return Referral(cut, tuple(ns), tuple(self.glue_for(ns)), tuple(chain))
            node = self.nodes.get(qname)
            if node is None:
                if qname in self._names_below:  # an empty non-terminal (RFC 4592 §2.2.2)
                    return NoData(self.negative_soa(), tuple(chain))
                node = self._wildcard(qname)
                if node is None:
                    return NxDomain(self.negative_soa(), tuple(chain))
            if qtype == RType.ANY:
                return Answer((*chain, *(r for rs in node.values() for r in rs)), self)
            found = node.get(qtype)
            if found:
                return Answer((*chain, *found), self)
            cname = node.get(RType.CNAME)
            if cname and qtype != RType.CNAME:
                chain.append(cname[0])
                target = cname[0].rdata
                assert isinstance(target, CNAME)
                if not target.target.is_subdomain(self.origin) or target.target in visited:
                    # out of the zone, or a loop (RFC 1034 §3.6.2): the chain so far, each
                    # CNAME once — not the loop walked round until the limit
                    return Answer(tuple(chain), self)
                qname = target.target
                visited.add(qname)
                continue
            return NoData(self.negative_soa(), tuple(chain))
        return Answer(tuple(chain), self)

    def _wildcard(self, qname: Name) -> dict[int, list[ResourceRecord]] | None:
        """The records a wildcard synthesizes for ``qname``, owned by ``qname`` (RFC 4592
        §3.3.1): the source of synthesis is ``*.`` + the closest encloser — the longest
        ancestor of ``qname`` that exists — if that wildcard exists."""
        for anc in qname.ancestors()[1:]:
            if anc in self._names_below:
                source = self.nodes.get(Name((b"*", *anc.labels), _checked=True))
                if source is None:
                    return None
                return {
                    t: [ResourceRecord(qname, r.rtype, r.rclass, r.ttl, r.rdata) for r in rs]
                    for t, rs in source.items()
                }
        return None

    def glue_for(self, ns: Iterable[ResourceRecord]) -> list[ResourceRecord]:
        """Addresses of name servers that this zone holds (RFC 1034 §4.2.1 glue)."""
        out: list[ResourceRecord] = []
        for r in ns:
            target = r.rdata
            if isinstance(target, NS | MX):
                host = target.target if isinstance(target, NS) else target.exchange
                out += self.rrset(host, RType.A)
                out += self.rrset(host, RType.AAAA)
        return out


def find_zone(zones: Iterable[Zone], qname: Name) -> Zone | None:
    """The zone with the longest origin that ``qname`` is in."""
    best: Zone | None = None
    for z in zones:
        if qname.is_subdomain(z.origin) and (
            best is None or len(z.origin.labels) > len(best.origin.labels)
        ):
            best = z
    return best


# -- master files ----------------------------------------------------------------------
def _tokens(text: str, where: str) -> list[tuple[int, bool, list[str]]]:
    """Logical lines: (line number, starts with blank, tokens), parentheses joined."""
    out: list[tuple[int, bool, list[str]]] = []
    depth = 0
    current: list[str] = []
    start_line, blank_owner = 0, False
    for lineno, line in enumerate(text.splitlines(), 1):
        i, n = 0, len(line)
        if depth == 0:
            current = []
            start_line = lineno
            blank_owner = bool(line[:1].isspace())
        while i < n:
            c = line[i]
            if c == ";":
                break
            if c.isspace():
                i += 1
            elif c == "(":
                depth += 1
                i += 1
            elif c == ")":
                if depth == 0:
                    raise ConfigError(f"{where}:{lineno}: unbalanced ')'")
                depth -= 1
                i += 1
            elif c == '"':
                j = i + 1
                buf = ['"']
                while j < n and line[j] != '"':
                    if line[j] == "\\" and j + 1 < n:
                        buf.append(line[j : j + 2])
                        j += 2
                        continue
                    buf.append(line[j])
                    j += 1
                if j >= n:
                    raise ConfigError(f"{where}:{lineno}: unterminated string")
                current.append("".join(buf))
                i = j + 1
            else:
                j = i
                while j < n and not line[j].isspace() and line[j] not in '();"':
                    j += 1
                current.append(line[i:j])
                i = j
        if depth == 0 and current:
            out.append((start_line, blank_owner, current))
    if depth:
        raise ConfigError(f"{where}: unbalanced '('")
    return out


def _unquote(tok: str) -> bytes:
    s = tok[1:] if tok.startswith('"') else tok
    out = bytearray()
    i = 0
    raw = s.encode()
    while i < len(raw):
        if raw[i] == 0x5C and i + 1 < len(raw):
            if raw[i + 1 : i + 4].isdigit() and len(raw[i + 1 : i + 4]) == 3:
                out.append(int(raw[i + 1 : i + 4]) & 0xFF)
                i += 4
                continue
            out.append(raw[i + 1])
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return bytes(out)


def _ttl(tok: str) -> int | None:
    return int(tok) if tok.isdigit() else None


def _name(tok: str, origin: Name) -> Name:
    if tok == "@":
        return origin
    if tok.endswith(".") and not tok.endswith("\\."):
        return Name.from_text(tok)
    rel = Name.from_text(tok)
    return Name(rel.labels + origin.labels)


def _rdata(rtype: int, args: list[str], origin: Name) -> Rdata:
    if rtype == RType.A:
        return A(args[0])
    if rtype == RType.AAAA:
        return AAAA(args[0])
    if rtype == RType.NS:
        return NS(_name(args[0], origin))
    if rtype == RType.CNAME:
        return CNAME(_name(args[0], origin))
    if rtype == RType.PTR:
        return PTR(_name(args[0], origin))
    if rtype == RType.MX:
        return MX(int(args[0]), _name(args[1], origin))
    if rtype == RType.SOA:
        nums = [int(x) for x in args[2:7]]
        if len(nums) != 5:
            raise ValueError("SOA needs MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM")
        return SOA(_name(args[0], origin), _name(args[1], origin), *nums)
    if rtype == RType.TXT:
        return TXT(tuple(_unquote(a) for a in args))
    if args[:1] == ["\\#"]:
        data = bytes.fromhex("".join(args[2:]))
        if len(data) != int(args[1]):
            raise ValueError("\\# length does not match the data")
        return Unknown(rtype, data)
    raise ValueError(f"cannot read RDATA of type {rtype} (use \\# LENGTH HEX)")


def parse_zone(text: str, origin: Name | str | None = None, where: str = "zone") -> Zone:
    """A :class:`Zone` from master-file text; errors are :class:`ConfigError` with the line."""
    org = Name.from_text(origin) if isinstance(origin, str) else origin
    default_ttl = 3600
    records: list[ResourceRecord] = []
    last_owner: Name | None = None
    zone_origin = org
    for lineno, blank, toks in _tokens(text, where):
        try:
            if toks[0] == "$ORIGIN":
                org = Name.from_text(toks[1])
                if zone_origin is None:
                    zone_origin = org
                continue
            if toks[0] == "$TTL":
                default_ttl = int(toks[1])
                continue
            if org is None:
                raise ValueError("no $ORIGIN before the first record")
            if blank:
                if last_owner is None:
                    raise ValueError("a record without an owner comes first")
                owner = last_owner
            else:
                owner = _name(toks[0], org)
                toks = toks[1:]
            ttl, rclass = default_ttl, int(RClass.IN)
            while toks:
                t = _ttl(toks[0])
                if t is not None:
                    ttl = t
                elif toks[0].upper() == "IN":
                    rclass = RClass.IN
                else:
                    break
                toks = toks[1:]
            if not toks:
                raise ValueError("no record type")
            rtype = type_from_text(toks[0])
            rdata = _rdata(rtype, toks[1:], org)
            records.append(ResourceRecord(owner, rtype, rclass, ttl, rdata))
            last_owner = owner
        except (ValueError, IndexError, BadName) as e:
            raise ConfigError(f"{where}:{lineno}: {e or 'missing field'}") from None
    if zone_origin is None:
        raise ConfigError(f"{where}: no origin")
    zone = Zone(zone_origin, records)
    _ = zone.soa  # every zone needs its SOA
    return zone
