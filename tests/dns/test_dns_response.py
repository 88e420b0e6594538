"""The sans-IO answer-shaping rules (:mod:`minternet.dns.response`), judged by dnspython."""

from __future__ import annotations

from dataclasses import replace

import dns.flags
import dns.message

from minternet.dns.message import Message, Question, rr
from minternet.dns.name import Name
from minternet.dns.rdata import NS, A
from minternet.dns.response import fit, merge_rrsets, with_unique_rrsets

EX = Name.from_text("example.com.")


def test_an_rrset_once_with_its_lowest_ttl() -> None:
    """RFC 2181 §5.2: one RRset, one TTL (the lowest); duplicates dropped; order kept."""
    a1 = rr("a.iana-servers.net.", 172800, A("199.43.135.53"))
    a2 = rr("a.iana-servers.net.", 3600, A("199.43.135.53"))
    b = rr("b.iana-servers.net.", 60, A("199.43.133.53"))
    c = rr("a.iana-servers.net.", 7200, A("199.43.135.54"))
    assert merge_rrsets([a1, b, a2, c]) == (a2, c.with_ttl(3600), b)
    assert merge_rrsets([b]) == (b,)


def test_additional_rrset_already_answered_is_left_out() -> None:
    a = rr("ns.example.com.", 300, A("192.0.2.1"))
    ns = rr(EX, 300, NS(Name.from_text("ns.example.com.")))
    reply = Message(qr=True, questions=(Question(EX),), answers=(ns, a), additional=(a, a))
    assert with_unique_rrsets(reply).additional == ()


def _referral(glue: int) -> Message:
    ns = [
        rr("sub.example.com.", 300, NS(Name.from_text(f"ns{i}.sub.example.com.")))
        for i in range(glue)
    ]
    sibling = [rr(f"ns{i}.other.net.", 300, A(f"198.51.100.{i}")) for i in range(30)]
    inside = [rr(f"ns{i}.sub.example.com.", 300, A(f"192.0.2.{i}")) for i in range(glue)]
    return Message(
        qr=True, questions=(Question(Name.from_text("www.sub.example.com.")),),
        authority=tuple(ns), additional=tuple(inside + sibling),
    )  # fmt: skip


def test_fit_drops_additional_last_first_and_keeps_in_domain_glue() -> None:
    reply = _referral(8)
    wire, sent = fit(reply, 512)
    assert len(wire) <= 512 and not sent.tc
    parsed = dns.message.from_wire(wire)
    assert not parsed.flags & dns.flags.TC
    names = {str(rs.name) for rs in parsed.additional}
    assert {f"ns{i}.sub.example.com." for i in range(8)} <= names  # all in-domain glue
    assert "ns0.other.net." in names and "ns29.other.net." not in names  # last went first


def test_fit_sets_tc_when_in_domain_glue_does_not_fit() -> None:
    wire, sent = fit(_referral(20), 512)
    assert sent.tc and len(wire) <= 512
    assert dns.message.from_wire(wire).flags & dns.flags.TC


def test_fit_leaves_a_small_reply_alone() -> None:
    reply = Message(qr=True, questions=(Question(EX),), answers=(rr(EX, 60, A("192.0.2.7")),))
    wire, sent = fit(reply, 512)
    assert sent is reply and wire == reply.encode()


def test_an_answer_is_not_a_referral() -> None:
    """Addresses under an NS in an answer's authority section are not required glue."""
    referral = _referral(20)
    answered = replace(referral, answers=(rr("www.sub.example.com.", 60, A("192.0.2.99")),))
    wire, sent = fit(answered, 512)
    assert not sent.tc and sent.answers == answered.answers and len(wire) <= 512
