"""The sans-IO resolution machine step by step, joined in memory to the built-in zones'
authoritative servers (tests/dns/dns_pair.py): referrals, bailiwick and glue, CNAMEs,
negative caching, lame and silent servers, limits. No loop, no socket, time given."""

from __future__ import annotations

from dataclasses import replace

import dns.message
import dns.rdatatype
import pytest
from dns_pair import RTT, Pair

from minternet.dns import CNAME, NS, A, Message, Rcode, ResourceRecord, RType, name, rr
from minternet.dns.cache import Rank
from minternet.dns.resolution import Query, Resolution, ResolverConfig
from minternet.errors import LocalProtocolError

IANA = "199.43.135.53"
GTLD = "192.5.6.30"


def test_the_first_query_goes_to_the_root_hints_without_recursion() -> None:
    p = Pair()
    res = p.start("www.example.com")
    q = res.next_query()
    assert q is not None and q.server == "198.41.0.4" and q.zone.to_text() == "."
    assert res.next_query() is q  # asking again changes nothing until an input comes
    # an independent reading of the query the machine wants sent
    ours = dns.message.from_wire(q.message.encode())
    assert not ours.flags & dns.flags.RD and ours.edns == 0
    assert ours.question[0].to_text() == "www.example.com. IN A"


def test_a_cold_walk_follows_referrals_and_looks_up_an_out_of_bailiwick_server() -> None:
    p = Pair()
    res = p.resolve("www.example.com")
    assert res.rcode == Rcode.NOERROR and res.addresses() == ["93.184.216.34"]
    assert res.queries == 6 and not res.from_cache
    # root → com → (a.iana-servers.net: its glue in com. is out of bailiwick, so it is
    # resolved through . and net.) → example.com
    assert p.zones_asked() == [".", "com.", ".", "net.", "iana-servers.net.", "example.com."]
    refs = p.of("referral")
    assert [(e.fields["zone"], e.fields["to"]) for e in refs[:2]] == [
        (".", "com."),
        ("com.", "example.com."),
    ]
    assert refs[0].fields["glue"] == ["a.gtld-servers.net. 172800 IN A 192.5.6.30"]
    assert refs[1].fields["glue_dropped"] == ["a.iana-servers.net. 172800 IN A 199.43.135.53"]
    assert p.counters["dns.scrubbed"] >= 1
    # time is what the inputs said: six round trips
    assert p.now == pytest.approx(6 * RTT) and p.of("resolved")[-1].time == p.now


def test_out_of_bailiwick_records_are_dropped_and_never_cached() -> None:
    p = Pair()
    p.resolve("a.iana-servers.net")  # the way to example.com is known

    def evil(q: Query, m: Message) -> Message:
        if q.server != IANA:
            return m
        extra = (
            rr("www.bank.com", 86400, A("6.6.6.6")),
            rr("a.gtld-servers.net", 86400, A("6.6.6.6")),
            rr("ns.example.com", 86400, A("192.0.2.1")),
        )
        return replace(m, additional=m.additional + extra)

    p.tamper = evil
    res = p.resolve("www.example.com")
    assert res.addresses() == ["93.184.216.34"]
    scrub = p.of("scrub")[-1]
    assert scrub.fields["zone"] == "example.com." and len(scrub.fields["dropped"]) == 2
    dump = "\n".join(p.cache.dump(p.now))
    assert "6.6.6.6" not in dump and "bank" not in dump


def test_glue_never_replaces_an_answer() -> None:
    p = Pair()
    p.resolve("www.example.com")
    glue = (ResourceRecord(name("www.example.com"), RType.A, 1, 9999, A("6.6.6.6")),)
    assert not p.cache.put(glue, p.now, Rank.GLUE)
    hit = p.cache.get(name("www.example.com"), RType.A, p.now)
    assert hit is not None and hit.records[0].rdata == A("93.184.216.34")


def test_cnames_are_chased_within_and_across_zones() -> None:
    p = Pair()
    res = p.resolve("web.example.com")
    assert [r.rtype for r in res.answers] == [RType.CNAME, RType.A]
    res = p.resolve("docs.example.com")
    assert res.answers[0].rdata == CNAME(name("www.iana-servers.net"))
    assert res.addresses() == ["192.0.43.8"] and "alias" in res.explanation
    # the target's zone was walked to from the top: iana-servers.net. was asked for it
    assert p.asked[-1].zone.to_text() == "iana-servers.net."
    # and the chain is cached: the second time costs nothing
    again = p.resolve("docs.example.com")
    assert again.from_cache and again.addresses() == ["192.0.43.8"]


def test_nxdomain_is_cached_for_every_type_until_the_soa_minimum() -> None:
    p = Pair()
    res = p.resolve("nope.example.com")
    assert res.rcode == Rcode.NXDOMAIN and "does not exist" in res.explanation
    assert res.authority[0].rtype == RType.SOA and "cached for 300 s" in res.explanation
    t0 = p.now
    sent = len(p.asked)
    again = p.resolve("nope.example.com", RType.AAAA)  # NXDOMAIN covers every type
    assert again.rcode == Rcode.NXDOMAIN and again.from_cache and len(p.asked) == sent
    assert "RFC 2308" in again.explanation
    p.now = t0 + 301
    later = p.resolve("nope.example.com")
    assert later.rcode == Rcode.NXDOMAIN and not later.from_cache and len(p.asked) == sent + 1


def test_nodata_is_cached_for_the_name_and_type_only() -> None:
    p = Pair()
    res = p.resolve("www.example.com", RType.MX)
    assert res.rcode == Rcode.NOERROR and not res.answers and "no MX" in res.explanation
    sent = len(p.asked)
    assert p.resolve("www.example.com", RType.MX).from_cache and len(p.asked) == sent
    assert p.resolve("www.example.com").addresses() == ["93.184.216.34"]
    assert len(p.asked) == sent + 1


def test_a_negative_answer_without_soa_is_not_cached() -> None:
    p = Pair()
    p.resolve("a.iana-servers.net")

    def no_soa(q: Query, m: Message) -> Message:
        return replace(m, authority=()) if m.rcode == Rcode.NXDOMAIN else m

    p.tamper = no_soa
    res = p.resolve("nope.example.com")
    assert res.rcode == Rcode.NXDOMAIN and "no SOA, so not cached" in res.explanation
    sent = len(p.asked)
    assert not p.resolve("nope.example.com").from_cache and len(p.asked) == sent + 1


def _two_servers_for_example_com(p: Pair, second: str) -> None:
    """example.com. gets a second server, ns2.example.com at ``second`` (glue in com.)."""
    com = p.server("a.gtld-servers.net").zones[0]
    com.add(rr("example.com", 172800, NS(name("ns2.example.com"))))
    com.add(rr("ns2.example.com", 172800, A(second)))


def test_a_lame_server_is_skipped_for_the_next_one() -> None:
    p = Pair()
    # ns2.example.com's glue points at the .com server, which answers with a referral to
    # example.com again: not below the zone asked about, so lame
    _two_servers_for_example_com(p, GTLD)
    res = p.resolve("www.example.com")
    assert res.addresses() == ["93.184.216.34"], res.explanation
    example_asks = [q.server for q in p.asked if q.zone.to_text() == "example.com."]
    assert example_asks[0] == GTLD and example_asks[-1] == IANA
    assert any(e.kind == "lookup-ns" for e in p.events)


def test_only_lame_servers_is_servfail_naming_them() -> None:
    p = Pair()
    com = p.server("a.gtld-servers.net").zones[0]
    com.add(rr("lame.com", 172800, NS(name("a.iana-servers.net"))))
    res = p.resolve("www.lame.com")
    assert res.rcode == Rcode.SERVFAIL
    assert "lame delegation for lame.com." in res.explanation and "REFUSED" in res.explanation
    # a server that answered badly is not asked again: one round only
    assert [q.zone.to_text() for q in p.asked].count("lame.com.") == 1


def test_a_silent_server_is_retried_then_the_walk_gives_up_with_the_count() -> None:
    p = Pair(config=ResolverConfig(timeout=1.0, attempts=3))
    p.resolve("a.iana-servers.net")
    p.down.add(IANA)
    t0 = p.now
    res = p.resolve("www.example.com")
    assert res.rcode == Rcode.SERVFAIL
    assert "no answer" in res.explanation and "3 tries of 1 s" in res.explanation
    tries = [q for q in p.asked if q.server == IANA and q.zone.to_text() == "example.com."]
    assert [q.attempt for q in tries] == [1, 2, 3]
    assert p.now - t0 == pytest.approx(2 * RTT + 3.0)  # root, com, then three timeouts


def test_a_timeout_then_an_answer_on_the_retry() -> None:
    p = Pair()
    p.resolve("a.iana-servers.net")
    silent = {"left": 1}

    def once(q: Query, m: Message) -> Message | None:
        if q.server == IANA and silent["left"]:
            silent["left"] -= 1
            return None
        return m

    p.tamper = once
    res = p.resolve("www.example.com")
    assert res.addresses() == ["93.184.216.34"]
    assert [q.attempt for q in p.asked if q.zone.to_text() == "example.com."] == [1, 2]


def test_a_dead_server_is_skipped_for_another_of_the_zone() -> None:
    p = Pair()
    _two_servers_for_example_com(p, "199.43.133.53")  # nobody answers there
    res = p.resolve("www.example.com")
    assert res.addresses() == ["93.184.216.34"], res.explanation
    dead = [q for q in p.asked if q.server == "199.43.133.53"]
    assert len(dead) == 2  # every attempt on the only known address, then the lookup


def test_tc_then_tcp_failure_is_a_reason_not_a_timeout() -> None:
    p = Pair(config=ResolverConfig(attempts=1))
    res = p.start("big.example.com", RType.TXT)
    while (q := res.next_query()) is not None:
        p.now += RTT
        if q.server == IANA:
            res.on_failure("answered TC, then TCP failed: connection refused", p.now)
        else:
            answer = p.answer(q)
            assert answer is not None
            res.on_answer(answer, p.now)
    assert res.result is not None and res.result.rcode == Rcode.SERVFAIL
    assert "answered TC, then TCP failed" in res.result.explanation


def test_cname_loops_and_query_limits_end_in_servfail() -> None:
    p = Pair()
    ex = p.server("a.iana-servers.net").zones[0]
    ex.add(rr("loop1.example.com", 60, CNAME(name("loop2.example.com"))))
    ex.add(rr("loop2.example.com", 60, CNAME(name("loop1.example.com"))))
    res = p.resolve("loop1.example.com")
    assert res.rcode == Rcode.SERVFAIL and "CNAME chain" in res.explanation
    small = Pair(config=ResolverConfig(max_queries=3))
    res = small.resolve("www.example.com")
    assert res.rcode == Rcode.SERVFAIL and "gave up after 3 queries" in res.explanation
    assert len(small.asked) == 3


def test_nested_name_server_lookups_are_limited() -> None:
    p = Pair(config=ResolverConfig(max_depth=0))
    res = p.resolve("www.example.com")  # a.iana-servers.net must be looked up: depth 1
    assert res.rcode == Rcode.SERVFAIL and "nested deeper than 0" in res.explanation


def test_referrals_that_never_end_are_limited() -> None:
    p = Pair(config=ResolverConfig(max_referrals=4))
    p.resolve("a.iana-servers.net")

    def deeper(q: Query, m: Message) -> Message:
        if q.server != IANA:
            return m
        # always one label further down toward the name, with glue: a referral each time
        labels = q.question.name.labels
        cut = name(".".join(x.decode() for x in labels[-(len(q.zone.labels) + 1) :]))
        ns = name(f"ns.{cut.to_text()}")
        return replace(
            m,
            aa=False,
            rcode=Rcode.NOERROR,
            answers=(),
            authority=(rr(cut.to_text(), 3600, NS(ns)),),
            additional=(rr(ns.to_text(), 3600, A(IANA)),),
        )

    p.tamper = deeper
    res = p.resolve("a.b.c.d.e.f.example.com")
    assert res.rcode == Rcode.SERVFAIL and "more than 4 referrals" in res.explanation


def test_in_bailiwick_servers_without_glue_are_servfail() -> None:
    p = Pair()
    com = p.server("a.gtld-servers.net").zones[0]
    com.add(rr("noglue.com", 172800, NS(name("ns.noglue.com"))))  # and no A for it anywhere
    res = p.resolve("www.noglue.com")
    assert res.rcode == Rcode.SERVFAIL
    assert "no address for any name server of noglue.com." in res.explanation


def test_expired_glue_under_a_live_ns_set_falls_back_to_the_parent() -> None:
    p = Pair()
    p.resolve("www.example.com")
    p.now += 3700  # a.iana-servers.net's A (TTL 3600) expires long before the NS sets
    res = p.resolve("www.example.com")
    assert res.addresses() == ["93.184.216.34"], res.explanation
    assert p.of("fallback")


def test_meta_types_are_not_chased() -> None:
    p = Pair()
    res = p.resolve("example.com", RType.ANY)
    assert res.rcode == Rcode.NOTIMP and "RFC 8482" in res.explanation and not p.asked


def test_inputs_without_a_pending_query_are_refused() -> None:
    p = Pair()
    res = p.start("www.example.com")
    with pytest.raises(LocalProtocolError):
        res.on_timeout(0.0)
    p.drive(res)
    assert res.next_query() is None
    with pytest.raises(LocalProtocolError):
        res.on_answer(Message(), p.now)


def test_the_same_inputs_give_the_same_steps() -> None:
    def steps() -> list[tuple[float, str, str]]:
        p = Pair()
        for qname in ("www.example.com", "docs.example.com", "nope.example.com"):
            p.resolve(qname)
        return [(e.time, e.kind, str(e.why)) for e in p.events]

    assert steps() == steps()


def test_three_days_of_lookups_across_every_expiry_stay_right() -> None:
    p = Pair()
    expected = {
        ("www.example.com", RType.A): (Rcode.NOERROR, ["93.184.216.34"]),
        ("web.example.com", RType.A): (Rcode.NOERROR, ["93.184.216.34"]),
        ("docs.example.com", RType.A): (Rcode.NOERROR, ["192.0.43.8"]),
        ("nope.example.com", RType.A): (Rcode.NXDOMAIN, []),
        ("a.gtld-servers.net", RType.A): (Rcode.NOERROR, ["192.5.6.30"]),
        ("www.example.com", RType.MX): (Rcode.NOERROR, []),
    }
    keys = list(expected)
    step = 0
    while p.now < 3 * 86400:
        qname, qtype = keys[step % len(keys)]
        res = p.resolve(qname, qtype)
        assert (res.rcode, res.addresses()) == expected[(qname, qtype)], (p.now, res.explanation)
        step += 1
        p.now += 1 + (step * 7919) % 4000


def test_a_resolution_with_a_fresh_cache_and_names_of_its_own() -> None:
    res = Resolution("www.example.com", dns.rdatatype.A, Pair().cache, ResolverConfig(), 5.0)
    q = res.next_query()
    assert q is not None and res.label(q.server) == "a.root-servers.net (198.41.0.4)"
