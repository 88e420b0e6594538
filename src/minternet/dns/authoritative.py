"""An authoritative name server's logic: bytes in, bytes out (no I/O).

:class:`AuthoritativeServer` does the RFC 1034 §4.3.2 lookup in the best zone it holds: AA
on authoritative data, referrals with glue (AA off), NXDOMAIN and NODATA with the SOA in
the authority section (RFC 2308 §3), REFUSED for names outside its zones, NOTIMP for opcodes
other than QUERY, FORMERR when the header is readable but the rest is not (nothing at all
when even the header is not, or when the message is a response), BADVERS for EDNS versions
above 0 (RFC 6891 §6.1.3). Each RRset appears once, with one TTL (RFC 2181 §5). Over UDP an
answer larger than 512 bytes — or the EDNS payload size the query offered — first loses
additional records; only if the answer itself (or a referral's in-domain glue) does not fit
is it cut to the header and question with TC set (RFC 2181 §9, RFC 9471;
:mod:`minternet.dns.response`), so the client retries over TCP.

It runs on a stack in :mod:`minternet.apps.dns_authoritative`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import DecodeError
from .codes import Opcode, RClass, Rcode, RType
from .message import OUR_EDNS_SIZE, Edns, Message, ResourceRecord, peek_header
from .name import Name
from .rdata import MX, NS
from .response import fit_udp, with_unique_rrsets
from .zone import Answer, NoData, NxDomain, Referral, Zone, find_zone


class AuthoritativeServer:
    """Answers queries from a set of zones; holds no state between queries."""

    def __init__(self, zones: Iterable[Zone], name: str = "authoritative") -> None:
        self.zones = list(zones)
        self.name = name
        self.stats: dict[str, int] = {}

    def _count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    # -- bytes in, bytes out ---------------------------------------------------------
    def respond(self, data: bytes, over_tcp: bool = False) -> bytes | None:
        """The answer to ``data`` (None: say nothing — unreadable header or a response)."""
        try:
            header = peek_header(data)
        except DecodeError:
            self._count("dropped-short")
            return None
        if header.qr:
            self._count("dropped-response")
            return None
        try:
            query = Message.decode(data)
        except DecodeError:
            self._count("formerr")
            return _error(header.id, header.opcode, header.rd, Rcode.FORMERR)
        reply = self.answer(query)
        if over_tcp:
            return reply.encode()
        wire, sent = fit_udp(reply, query)
        if sent.tc:
            self._count("truncated")
        elif sent.additional != reply.additional:
            self._count("additional-trimmed")
        return wire

    def answer(self, query: Message) -> Message:
        """The reply :class:`Message` to a decoded query, each RRset in it once (RFC 2181
        §5)."""
        return with_unique_rrsets(self._answer(query))

    def _answer(self, query: Message) -> Message:
        edns = Edns(OUR_EDNS_SIZE) if query.edns is not None else None
        if query.opcode != Opcode.QUERY:
            self._count("notimp")
            return query.reply(rcode=Rcode.NOTIMP, edns=edns)
        if query.edns is not None and query.edns.version > 0:
            self._count("badvers")
            return query.reply(rcode=Rcode.BADVERS, edns=edns)
        if len(query.questions) != 1:
            self._count("formerr")
            return query.reply(rcode=Rcode.FORMERR, edns=edns)
        q = query.questions[0]
        if q.rclass not in (RClass.IN, RClass.ANY) or q.rtype in (RType.AXFR, 251, RType.OPT):
            self._count("refused")
            return query.reply(rcode=Rcode.REFUSED, edns=edns)
        zone = find_zone(self.zones, q.name)
        if zone is None:
            self._count("refused")
            return query.reply(rcode=Rcode.REFUSED, edns=edns)
        result = zone.lookup(q.name, q.rtype)
        if isinstance(result, Answer):
            self._count("answer")
            return query.reply(
                aa=True,
                answers=result.records,
                additional=tuple(self._additional(result.records)),
                edns=edns,
            )
        if isinstance(result, Referral):
            self._count("referral")
            glue = list(result.glue)
            have = {(r.name, r.rtype) for r in glue}
            for r in self._additional(result.ns):
                if (r.name, r.rtype) not in have:
                    glue.append(r)
            return query.reply(
                answers=result.chain, authority=result.ns, additional=tuple(glue), edns=edns
            )
        if isinstance(result, NxDomain):
            self._count("nxdomain")
            return query.reply(
                aa=True,
                rcode=Rcode.NXDOMAIN,
                answers=result.chain,
                authority=(result.soa,),
                edns=edns,
            )
        assert isinstance(result, NoData)
        self._count("nodata")
        return query.reply(aa=True, answers=result.chain, authority=(result.soa,), edns=edns)

    def _additional(self, records: Iterable[ResourceRecord]) -> list[ResourceRecord]:
        """Addresses of NS and MX targets (RFC 1035 §3.3.9, §4.3.2), each RRset once.

        Of the zones we hold, the one closest to the target speaks for it: its
        authoritative data outranks a parent zone's glue for the same name (RFC 2181 §5.4.1),
        so ``a.iana-servers.net A`` comes once, from iana-servers.net, not also as the net
        zone's glue with another TTL. A zone further up is asked only if that one has none.
        """
        out: list[ResourceRecord] = []
        seen: set[Name] = set()
        for r in records:
            rd = r.rdata
            host = rd.target if isinstance(rd, NS) else rd.exchange if isinstance(rd, MX) else None
            if host is None or host in seen or not host.labels:
                continue
            seen.add(host)
            closest = find_zone(self.zones, host)
            sources = ([closest] if closest is not None else []) + self.zones
            for rtype in (RType.A, RType.AAAA):
                out += next((rs for z in sources if (rs := z.rrset(host, rtype))), [])
        return out


def _error(ident: int, opcode: int, rd: bool, rcode: int) -> bytes:
    return Message(id=ident, qr=True, opcode=opcode, rd=rd, rcode=rcode).encode()


__all__ = ["AuthoritativeServer"]
