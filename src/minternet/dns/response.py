"""Shaping a server's answer for the wire: each RRset once, and truncation.

Sans-IO rules a responder applies to a reply :class:`~minternet.dns.message.Message` it has
assembled, before sending it:

- :func:`merge_rrsets` / :func:`with_unique_rrsets`: an RRset — the records of one name,
  class and type — appears once per section, its records without duplicates and all with one
  TTL (RFC 2181 §5, §5.2: differing TTLs within an RRset are an error; the lowest is used).
  An additional RRset that is already in the answer or authority section is left out.
- :func:`fit` (:func:`fit_udp` for a query's UDP limit): a reply that does not fit the
  transport's limit loses additional RRsets,
  last first, until it does (RFC 2181 §9: TC is "not set merely because some extra
  information could have been included"). Only when the answer and authority sections
  themselves do not fit — or, in a referral, the in-domain glue a resolver needs to follow
  it (RFC 9471 §3) — is the reply cut to its header and question with TC set, so the
  client asks again over TCP (RFC 1035 §4.2.1, RFC 7766 §5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .codes import RType
from .message import UDP_LIMIT, Message, ResourceRecord
from .name import Name

RRsetKey = tuple[Name, int, int]  # (owner name, class, type)


def _key(r: ResourceRecord) -> RRsetKey:
    return (r.name, r.rclass, r.rtype)


def _rrsets(records: Iterable[ResourceRecord]) -> dict[RRsetKey, list[ResourceRecord]]:
    """Records grouped by RRset, in the order each RRset first appears, duplicates dropped."""
    sets: dict[RRsetKey, list[ResourceRecord]] = {}
    for r in records:
        members = sets.setdefault(_key(r), [])
        if all(m.rdata != r.rdata for m in members):
            members.append(r)
    return sets


def merge_rrsets(records: Iterable[ResourceRecord]) -> tuple[ResourceRecord, ...]:
    """``records`` with each RRset together and once, its TTL the lowest seen (RFC 2181
    §5.2), in the order the RRsets first appear."""
    records = list(records)
    lowest: dict[RRsetKey, int] = {}
    for r in records:  # duplicates dropped below count here too
        lowest[_key(r)] = min(r.ttl, lowest.get(_key(r), r.ttl))
    out: list[ResourceRecord] = []
    for key, members in _rrsets(records).items():
        ttl = lowest[key]
        out += [m if m.ttl == ttl else m.with_ttl(ttl) for m in members]
    return tuple(out)


def with_unique_rrsets(reply: Message) -> Message:
    """``reply`` with every section's RRsets merged (:func:`merge_rrsets`) and no additional
    RRset that the answer or authority section already carries."""
    answers = merge_rrsets(reply.answers)
    authority = merge_rrsets(reply.authority)
    shown = {_key(r) for r in (*answers, *authority)}
    additional = merge_rrsets(r for r in reply.additional if _key(r) not in shown)
    if (answers, authority, additional) == (reply.answers, reply.authority, reply.additional):
        return reply
    return replace(reply, answers=answers, authority=authority, additional=additional)


def _required_glue(reply: Message) -> set[RRsetKey]:
    """In a referral (not authoritative, no answer but a CNAME chain, NS in authority), the
    address RRsets of name servers inside the delegated zone: without them the delegation
    cannot be followed (RFC 9471 §2.1 in-domain glue)."""
    if reply.aa or any(r.rtype != RType.CNAME for r in reply.answers):
        return set()
    cuts = [r.name for r in reply.authority if r.rtype == RType.NS]
    return {
        _key(r)
        for r in reply.additional
        if r.rtype in (RType.A, RType.AAAA) and any(r.name.is_subdomain(c) for c in cuts)
    }


def fit(reply: Message, limit: int) -> tuple[bytes, Message]:
    """``reply`` on the wire in at most ``limit`` bytes, and the message sent.

    Additional RRsets go first, last one first; TC is set only when what is left cannot be
    dropped (the answer, the authority section, a referral's in-domain glue).
    """
    wire = reply.encode()
    if len(wire) <= limit:
        return wire, reply
    required = _required_glue(reply)
    kept = _rrsets(reply.additional)
    for key in [k for k in reversed(kept) if k not in required]:
        del kept[key]
        trimmed = replace(reply, additional=tuple(r for ms in kept.values() for r in ms))
        wire = trimmed.encode()
        if len(wire) <= limit:
            return wire, trimmed
    cut = replace(reply, tc=True, answers=(), authority=(), additional=())
    return cut.encode(), cut


def fit_udp(reply: Message, query: Message) -> tuple[bytes, Message]:
    """``reply`` for UDP: :func:`fit` to 512 bytes, or to the EDNS payload size the query
    offered (RFC 1035 §4.2.1, RFC 6891 §6.2.5); the bytes and the message sent."""
    limit = max(UDP_LIMIT, query.edns.udp_size) if query.edns else UDP_LIMIT
    return fit(reply, limit)


__all__ = ["fit", "fit_udp", "merge_rrsets", "with_unique_rrsets"]
