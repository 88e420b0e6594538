"""The recursive resolver on the fake network: the walk, the cache, failures, attacks."""

from __future__ import annotations

from dns_world import RESOLVER_IP, DnsWorld, make_world

from minternet.apps.dns_recursive import ResolverConfig
from minternet.dns import (
    CNAME,
    NS,
    A,
    Message,
    Rcode,
    ResourceRecord,
    RType,
    make_query,
    name,
    rr,
)
from minternet.dns.message import Edns, Question

IANA = "199.43.135.53"


def zones_asked(w: DnsWorld) -> list[str]:
    return [str(e.fields["zone"]) for e in w.log.of("dns", "query") if e.node == "resolver"]


def test_cold_lookup_walks_root_then_com_then_example_com() -> None:
    w = make_world()
    res = w.resolve("www.example.com")
    assert res.rcode == Rcode.NOERROR and res.addresses() == ["93.184.216.34"]
    assert not res.from_cache and res.queries == 6
    # root → com → (a.iana-servers.net looked up through net., its glue being out of com.'s
    # bailiwick) → example.com
    assert zones_asked(w) == [".", "com.", ".", "net.", "iana-servers.net.", "example.com."]
    refs = [(e.fields["zone"], e.fields["to"]) for e in w.log.of("dns", "referral")]
    assert refs[:2] == [(".", "com."), ("com.", "example.com.")]
    dropped = w.log.of("dns", "referral")[1].fields["glue_dropped"]
    assert dropped == ["a.iana-servers.net. 172800 IN A 199.43.135.53"]
    answered = [e.node for e in w.log.of("dns", "answer")]
    assert answered[0] == "a.root-servers.net" and answered[1] == "a.gtld-servers.net"
    assert answered[-1] == "a.iana-servers.net"
    assert "93.184.216.34" in res.explanation and "\n" not in res.explanation


def test_second_lookup_from_cache_until_the_ttl_runs_out() -> None:
    w = make_world()
    w.resolve("www.example.com")
    t0 = w.net.loop.now()
    sent = w.resolver.queries_sent
    w.net.loop.run(until=t0 + 299)
    res = w.resolve("www.example.com")
    assert res.from_cache and res.queries == 0 and res.answers[0].ttl <= 1
    assert w.resolver.queries_sent == sent
    w.net.loop.run(until=t0 + 301)
    res = w.resolve("www.example.com")
    assert not res.from_cache and res.queries == 1  # the NS of example.com are still cached
    assert zones_asked(w)[-1] == "example.com."
    assert res.answers[0].ttl == 300


def test_negative_answers_are_cached_for_the_soa_minimum() -> None:
    w = make_world()
    res = w.resolve("nope.example.com")
    assert res.rcode == Rcode.NXDOMAIN and "does not exist" in res.explanation
    assert res.authority[0].rtype == RType.SOA
    t0 = w.net.loop.now()
    sent = w.resolver.queries_sent
    again = w.resolve("nope.example.com", RType.AAAA)  # NXDOMAIN covers every type
    assert again.rcode == Rcode.NXDOMAIN and again.from_cache
    assert w.resolver.queries_sent == sent
    w.net.loop.run(until=t0 + 301)
    later = w.resolve("nope.example.com")
    assert later.rcode == Rcode.NXDOMAIN and not later.from_cache
    # NODATA: cached for the (name, type) only
    nodata = w.resolve("www.example.com", RType.MX)
    assert nodata.rcode == Rcode.NOERROR and not nodata.answers and "no MX" in nodata.explanation
    sent = w.resolver.queries_sent
    assert w.resolve("www.example.com", RType.MX).from_cache
    assert w.resolve("www.example.com", RType.A).addresses() == ["93.184.216.34"]
    assert w.resolver.queries_sent == sent + 1


def test_cnames_are_chased_within_and_across_zones() -> None:
    w = make_world()
    res = w.resolve("web.example.com")
    assert [r.rtype for r in res.answers] == [RType.CNAME, RType.A]
    res = w.resolve("docs.example.com")
    assert res.answers[0].rdata == CNAME(name("www.iana-servers.net"))
    assert res.addresses() == ["192.0.43.8"] and "alias" in res.explanation


def test_truncated_answer_is_asked_again_over_tcp() -> None:
    w = make_world()
    res = w.resolve("big.example.com", RType.TXT)
    assert res.rcode == Rcode.NOERROR and len(res.answers) == 1
    assert w.log.of("dns", "truncated")
    transports = [e.fields["transport"] for e in w.log.of("dns", "query") if e.node == "resolver"]
    assert transports[-2:] == ["udp", "tcp"]


def test_unreachable_server_times_out_after_retries() -> None:
    cfg = ResolverConfig(timeout=1.0, attempts=3)
    w = make_world(config=cfg)
    w.net.down.add(IANA)
    t0 = w.net.loop.now()
    res = w.resolve("www.example.com")
    assert res.rcode == Rcode.SERVFAIL
    assert "no answer" in res.explanation and "3 tries of 1 s" in res.explanation
    assert len(w.log.of("dns", "timeout")) == 3
    assert 3.0 <= w.net.loop.now() - t0 < 3.5


def test_lame_delegation_is_servfail() -> None:
    w = make_world()
    com = w.servers["a.gtld-servers.net"].zones[0]
    com.add(rr("lame.com", 172800, NS(name("a.iana-servers.net"))))
    res = w.resolve("www.lame.com")
    assert res.rcode == Rcode.SERVFAIL
    assert "lame delegation for lame.com." in res.explanation and "REFUSED" in res.explanation


def test_limits_end_cname_loops_and_long_walks() -> None:
    w = make_world()
    ex = w.servers["a.iana-servers.net"].zones[0]
    ex.add(rr("loop1.example.com", 60, CNAME(name("loop2.example.com"))))
    ex.add(rr("loop2.example.com", 60, CNAME(name("loop1.example.com"))))
    res = w.resolve("loop1.example.com")
    assert res.rcode == Rcode.SERVFAIL and "CNAME chain" in res.explanation
    w2 = make_world(config=ResolverConfig(max_queries=3))
    res = w2.resolve("www.example.com")
    assert res.rcode == Rcode.SERVFAIL and "gave up after 3 queries" in res.explanation


def test_ids_and_ports_come_from_the_seed() -> None:
    def draws(seed: int) -> list[tuple[object, object]]:
        w = make_world(seed=seed)
        w.resolve("www.example.com")
        return [(e.fields["id"], e.fields["sport"]) for e in w.log.of("dns", "query")]

    a, b, c = draws(7), draws(7), draws(8)
    assert a == b and a != c
    assert len({i for i, _ in a}) == len(a) and len({p for _, p in a}) == len(a)


def test_serves_clients_with_ra_over_udp_and_tcp() -> None:
    w = make_world()
    loop = w.net.loop

    async def client() -> tuple[Message, Message]:
        sock = w.laptop.udp_socket()
        sock.sendto(
            make_query("www.example.com", RType.A, 555, edns=Edns()).encode(), (RESOLVER_IP, 53)
        )
        data, src = await sock.recvfrom(timeout=10)
        assert src == (RESOLVER_IP, 53)
        conn = await w.laptop.tcp_connect((RESOLVER_IP, 53), timeout=5)
        q = make_query("nope.example.com", RType.A, 556).encode()
        await conn.send(len(q).to_bytes(2, "big") + q)
        framed = await conn.recv(timeout=10)
        return Message.decode(data), Message.decode(framed[2:])

    udp, tcp = loop.run_until_complete(loop.create_task(client()), timeout=30)
    assert udp.ra and udp.rd and udp.qr and udp.id == 555
    assert [r.rdata for r in udp.answers] == [A("93.184.216.34")]
    assert tcp.rcode == Rcode.NXDOMAIN and tcp.id == 556


# -- attacks -------------------------------------------------------------------------------


def _forged_reply(ident: int, qname: str, evil: str = "6.6.6.6") -> bytes:
    """What an attacker wants cached: an answer, a takeover of example.com, and more."""
    q = Question(name(qname), RType.A)
    return Message(
        id=ident,
        qr=True,
        aa=True,
        questions=(q,),
        answers=(rr(qname, 86400, A(evil)),),
        authority=(rr("example.com", 86400, NS(name("ns.evil.example.com"))),),
        additional=(
            rr("ns.evil.example.com", 86400, A(evil)),
            rr("www.example.com", 86400, A(evil)),
            rr("www.bank.com", 86400, A(evil)),
        ),
    ).encode()


def _poisoned(w: DnsWorld, evil: str = "6.6.6.6") -> list[str]:
    return [line for line in w.resolver.cache.dump(w.net.loop.now()) if evil in line]


def test_off_path_attacker_poisons_nothing_in_1000_attempts() -> None:
    w = make_world(seed=3)
    w.resolve("www.example.com")  # warm: later lookups go straight to example.com's server
    attacker = w.net.random.child("attacker")
    forged = 0
    for attempt in range(1000):
        qname = f"x{attempt}.example.com"
        # The attacker triggers the lookup itself, so it knows when the query leaves, and
        # races 10 forged answers, "from" the real server, with guessed ids and ports.
        for k in range(10):
            ident = attacker.randint(0, 0xFFFF)
            port = attacker.randint(1024, 65535)
            w.net.inject(
                (IANA, 53),
                (RESOLVER_IP, port),
                _forged_reply(ident, qname),
                delay=0.001 + k * 0.0005,
            )
            forged += 1
        res = w.resolve(qname)
        assert res.rcode == Rcode.NXDOMAIN, res.explanation
    assert forged == 10_000
    assert _poisoned(w) == []
    assert w.resolve("www.example.com").addresses() == ["93.184.216.34"]


def test_on_path_attacker_can_poison_which_shows_the_check_above_can_fail() -> None:
    w = make_world(seed=3)
    w.resolve("www.example.com")

    def sniff(src: tuple[str, int], dst: tuple[str, int], data: bytes) -> None:
        if src[0] == RESOLVER_IP and dst == (IANA, 53):
            q = Message.decode(data)
            reply = _forged_reply(q.id, q.questions[0].name.to_text())
            w.net.inject(dst, src, reply, delay=0.001)  # before the real answer

    w.net.observers.append(sniff)
    res = w.resolve("x1.example.com")
    assert res.addresses() == ["6.6.6.6"]  # the answer itself is in bailiwick: accepted
    poisoned = _poisoned(w)
    assert any(line.startswith("x1.example.com.") for line in poisoned)
    # but scrubbing and ranks kept the rest: no bank.com, no glue over a cached answer
    assert not any("bank.com" in line for line in poisoned)
    assert not any(line.startswith("www.example.com.") for line in poisoned)


def test_responses_must_match_source_id_and_question() -> None:
    w = make_world(seed=5)
    w.resolve("www.example.com")
    tricks: list[str] = []

    def sniff(src: tuple[str, int], dst: tuple[str, int], data: bytes) -> None:
        if src[0] == RESOLVER_IP and dst == (IANA, 53) and not tricks:
            q = Message.decode(data)
            qn = q.questions[0].name.to_text()
            w.net.inject(("203.0.113.66", 53), src, _forged_reply(q.id, qn), 0.001)
            w.net.inject((IANA, 5353), src, _forged_reply(q.id, qn), 0.001)
            w.net.inject(dst, src, _forged_reply(q.id ^ 1, qn), 0.001)
            w.net.inject(dst, src, _forged_reply(q.id, "y.example.com"), 0.001)
            w.net.inject(dst, src, b"\x00" * 5, 0.001)
            tricks.append(qn)

    w.net.observers.append(sniff)
    res = w.resolve("x2.example.com")
    assert res.rcode == Rcode.NXDOMAIN
    whys = [e.why or "" for e in w.log.of("dns", "ignored")]
    assert len(whys) == 5
    assert any("203.0.113.66" in y for y in whys) and any("5353" in y for y in whys)
    assert any("id" in y for y in whys) and any("question" in y for y in whys)
    assert any("malformed" in y for y in whys)
    assert _poisoned(w) == []


def test_glue_never_overrides_an_answer_and_scrubbing_drops_other_zones() -> None:
    w = make_world()
    w.resolve("www.example.com")
    now = w.net.loop.now()
    from minternet.dns.cache import Rank

    glue = (ResourceRecord(name("www.example.com"), RType.A, 1, 9999, A("6.6.6.6")),)
    assert not w.resolver.cache.put(glue, now, Rank.GLUE)
    hit = w.resolver.cache.get(name("www.example.com"), RType.A, now)
    assert hit is not None and hit.records[0].rdata == A("93.184.216.34")


def test_a_dead_server_is_skipped_for_another_of_the_zone() -> None:
    w = make_world()
    com = w.servers["a.gtld-servers.net"].zones[0]
    example = w.servers["a.iana-servers.net"].zones[0]
    # example.com. gets a second server, ns2.example.com (glue in com.), that never answers
    com.add(rr("example.com", 172800, NS(name("ns2.example.com"))))
    com.add(rr("ns2.example.com", 172800, A("199.43.133.53")))
    example.add(rr("example.com", 86400, NS(name("ns2.example.com"))))
    example.add(rr("ns2.example.com", 86400, A("199.43.133.53")))
    res = w.resolve("www.example.com")
    assert res.addresses() == ["93.184.216.34"], res.explanation
    timeouts = w.log.of("dns", "timeout")
    assert len(timeouts) == 2 and all("199.43.133.53" in str(e.fields["server"]) for e in timeouts)
    # the dead one is tried (its glue was the only address known), then a.iana-servers.net
    # is looked up and answers
    assert any(e.kind == "lookup-ns" for e in w.log.events)


def test_client_queries_that_do_not_parse_get_formerr() -> None:
    w = make_world()
    loop = w.net.loop

    async def client() -> Message:
        sock = w.laptop.udp_socket()
        bad = make_query("www.example.com", RType.A, 999).encode()[:-2]
        sock.sendto(bad, (RESOLVER_IP, 53))
        data, _ = await sock.recvfrom(timeout=5)
        return Message.decode(data)

    m = loop.run_until_complete(loop.create_task(client()), timeout=10)
    assert m.rcode == Rcode.FORMERR and m.id == 999


def test_meta_types_are_not_chased() -> None:
    w = make_world()
    res = w.resolve("example.com", RType.ANY)
    assert res.rcode == Rcode.NOTIMP and "RFC 8482" in res.explanation
    assert w.resolver.queries_sent == 0


def test_truncated_answer_and_no_tcp_is_servfail_saying_so() -> None:
    w = make_world()
    for t in w.dep.tasks:
        if t.name == "dns-tcp@a.iana-servers.net":
            t.cancel()
    res = w.resolve("big.example.com", RType.TXT)
    assert res.rcode == Rcode.SERVFAIL
    assert "answered TC, then TCP failed" in res.explanation, res.explanation


def test_expired_glue_under_a_live_ns_set_falls_back_to_the_parent() -> None:
    w = make_world()
    w.resolve("www.example.com")
    # a.iana-servers.net's A (TTL 3600) expires long before the NS sets (172800)
    w.net.loop.run(until=w.net.loop.now() + 3700)
    res = w.resolve("www.example.com")
    assert res.addresses() == ["93.184.216.34"], res.explanation
    assert any(e.kind == "fallback" for e in w.log.events)


def test_in_bailiwick_servers_without_glue_are_servfail() -> None:
    w = make_world()
    com = w.servers["a.gtld-servers.net"].zones[0]
    com.add(rr("noglue.com", 172800, NS(name("ns.noglue.com"))))  # and no A for it anywhere
    res = w.resolve("www.noglue.com")
    assert res.rcode == Rcode.SERVFAIL
    assert "no address for any name server of noglue.com." in res.explanation


def test_three_days_of_lookups_across_every_expiry_stay_right() -> None:
    w = make_world(seed=9)
    expected = {
        ("www.example.com", RType.A): (Rcode.NOERROR, ["93.184.216.34"]),
        ("web.example.com", RType.A): (Rcode.NOERROR, ["93.184.216.34"]),
        ("docs.example.com", RType.A): (Rcode.NOERROR, ["192.0.43.8"]),
        ("nope.example.com", RType.A): (Rcode.NXDOMAIN, []),
        ("a.gtld-servers.net", RType.A): (Rcode.NOERROR, ["192.5.6.30"]),
        ("www.example.com", RType.MX): (Rcode.NOERROR, []),
    }
    rng = w.net.random.child("soak")
    keys = list(expected)
    t = 0.0
    while t < 3 * 86400:
        qname, qtype = keys[rng.randint(0, len(keys) - 1)]
        res = w.resolve(qname, qtype)
        assert (res.rcode, res.addresses()) == expected[(qname, qtype)], (t, res.explanation)
        t += rng.randint(1, 4000)
        w.net.loop.run(until=t)
    assert w.net.loop.failed_tasks == []
