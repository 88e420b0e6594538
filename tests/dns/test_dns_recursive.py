"""The ISP's recursive resolver on the simulated world (real Ethernet, ARP, IPv4, UDP and
TCP between the nodes): the walk over the wire, the cache over time, TC → TCP, timeouts,
serving clients, and attackers sending forged datagrams through the routers.

The algorithm itself is tested step by step on the sans-IO machine
(test_dns_resolution.py); these tests check what only the network shows."""

from __future__ import annotations

from dns_world import IANA, RESOLVER_IP, DnsWorld, make_world

from minternet.dns import NS, A, Message, Question, Rcode, RType, make_query, name, rr
from minternet.dns.framing import frame, take_framed
from minternet.dns.message import Edns
from minternet.dns.resolution import ResolverConfig


def zones_asked(w: DnsWorld) -> list[str]:
    return [str(e.fields["zone"]) for e in w.log.of("dns", "query") if e.node == "resolver"]


def test_cold_lookup_walks_root_then_com_then_example_com_over_the_wire() -> None:
    w = make_world()
    res = w.resolve("www.example.com")
    assert res.rcode == Rcode.NOERROR and res.addresses() == ["93.184.216.34"]
    assert not res.from_cache and res.queries == 6
    assert zones_asked(w) == [".", "com.", ".", "net.", "iana-servers.net.", "example.com."]
    answered = [e.node for e in w.log.of("dns", "answer")]
    assert answered[0] == "a.root-servers.net" and answered[1] == "a.gtld-servers.net"
    assert answered[-1] == "a.iana-servers.net"
    # each answer is the real server's, hop by hop: round trips of milliseconds
    rtts = [float(str(e.fields["rtt_ms"])) for e in w.log.of("dns", "response")]
    assert len(rtts) == 6 and all(1.0 < t < 100.0 for t in rtts)
    assert any(e.layer == "ip" for e in w.log.events)
    assert "93.184.216.34" in res.explanation and "\n" not in res.explanation


def test_second_lookup_from_cache_until_the_ttl_runs_out() -> None:
    w = make_world()
    w.resolve("www.example.com")
    t0 = w.now()
    sent = w.resolver.queries_sent
    w.wait(299)
    res = w.resolve("www.example.com")
    assert res.from_cache and res.queries == 0 and res.answers[0].ttl <= 1
    assert w.resolver.queries_sent == sent
    w.world.loop.run(until=t0 + 301)
    res = w.resolve("www.example.com")
    assert not res.from_cache and res.queries == 1  # the NS of example.com are still cached
    assert zones_asked(w)[-1] == "example.com."
    assert res.answers[0].ttl == 300


def test_truncated_answer_is_asked_again_over_simulated_tcp() -> None:
    w = make_world()
    res = w.resolve("big.example.com", RType.TXT)
    assert res.rcode == Rcode.NOERROR and len(res.answers) == 1
    assert w.log.of("dns", "truncated")
    transports = [e.fields["transport"] for e in w.log.of("dns", "query") if e.node == "resolver"]
    assert transports[-2:] == ["udp", "tcp"]
    tcp_nodes = {e.node for e in w.log.events if e.layer == "tcp"}
    assert {"resolver", "a.iana-servers.net"} <= tcp_nodes  # real segments both ways
    answer = w.run(w.dep.stub.lookup("big.example.com", RType.TXT))  # type: ignore[union-attr]
    assert answer.rcode == Rcode.NOERROR and answer.records


def test_truncated_answer_and_no_tcp_is_servfail_saying_so() -> None:
    w = make_world()
    w.stop_tcp("a.iana-servers.net")
    res = w.resolve("big.example.com", RType.TXT)
    assert res.rcode == Rcode.SERVFAIL
    assert "answered TC, then TCP failed" in res.explanation, res.explanation


def test_a_stopped_server_times_out_after_the_tries() -> None:
    w = make_world(config=ResolverConfig(timeout=1.0, attempts=3))
    w.resolve("a.iana-servers.net")
    w.stop("a.iana-servers.net")
    t0 = w.now()
    res = w.resolve("www.example.com")
    assert res.rcode == Rcode.SERVFAIL
    assert "no answer" in res.explanation and "3 tries of 1 s" in res.explanation
    timeouts = w.log.of("dns", "timeout")
    assert [e.fields["attempt"] for e in timeouts] == [1, 2, 3]
    assert 3.0 <= w.now() - t0 < 3.5


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

    async def client() -> tuple[Message, Message, Message]:
        sock = w.laptop.udp_socket()
        sock.sendto(
            make_query("www.example.com", RType.A, 555, edns=Edns()).encode(), (RESOLVER_IP, 53)
        )
        data, src = await sock.recvfrom(timeout=10)
        assert src == (RESOLVER_IP, 53)
        bad = make_query("www.example.com", RType.A, 999).encode()[:-2]
        sock.sendto(bad, (RESOLVER_IP, 53))
        formerr, _ = await sock.recvfrom(timeout=5)
        conn = await w.laptop.tcp_connect((RESOLVER_IP, 53), timeout=5)
        await conn.send(frame(make_query("nope.example.com", RType.A, 556).encode()))
        buf = bytearray()
        while (framed := take_framed(buf)) is None:
            buf += await conn.recv(timeout=10)
        await conn.close()
        return Message.decode(data), Message.decode(formerr), Message.decode(framed)

    udp, formerr, tcp = w.run(client(), timeout=30)
    assert udp.ra and udp.rd and udp.qr and udp.id == 555
    assert [r.rdata for r in udp.answers] == [A("93.184.216.34")]
    assert formerr.rcode == Rcode.FORMERR and formerr.id == 999
    assert tcp.rcode == Rcode.NXDOMAIN and tcp.id == 556


# -- attackers on the wire -----------------------------------------------------------------


def _forged_reply(ident: int, qname: str, evil: str = "6.6.6.6") -> bytes:
    """What an attacker wants cached: an answer, a takeover of example.com, and more."""
    return Message(
        id=ident,
        qr=True,
        aa=True,
        questions=(Question(name(qname), RType.A),),
        answers=(rr(qname, 86400, A(evil)),),
        authority=(rr("example.com", 86400, NS(name("ns.evil.example.com"))),),
        additional=(
            rr("ns.evil.example.com", 86400, A(evil)),
            rr("www.example.com", 86400, A(evil)),
            rr("www.bank.com", 86400, A(evil)),
        ),
    ).encode()


def _poisoned(w: DnsWorld, evil: str = "6.6.6.6") -> list[str]:
    return [line for line in w.resolver.cache.dump(w.now()) if evil in line]


def _warm(w: DnsWorld) -> None:
    """Resolve once (later lookups go straight to example.com's server) and let the
    attacker's host learn its router's MAC, so that forgeries leave at once."""
    w.resolve("www.example.com")
    w.spoof((IANA, 53), (RESOLVER_IP, 9), b"warm up the attacker's ARP cache")
    w.wait(1.0)


def test_off_path_attacker_racing_forged_answers_poisons_nothing() -> None:
    w = make_world(seed=11)
    _warm(w)
    rng = w.world.random.child("attacker")
    for attempt in range(300):
        qname = f"a{attempt}.example.com"
        task = w.world.loop.create_task(w.resolver.resolve(qname))
        # The attacker (the web server's host, off the resolver's path) starts the race when
        # it asks for the name; its forgeries claim to come from the real server, with
        # guessed ids and ports.
        for _ in range(10):
            port = rng.randint(1024, 65535)
            w.spoof((IANA, 53), (RESOLVER_IP, port), _forged_reply(rng.randint(0, 0xFFFF), qname))
        res = w.world.loop.run_until_complete(task, timeout=60)
        assert res.rcode == Rcode.NXDOMAIN, res.explanation
    # the forgeries really arrived: nearly all at closed ports (ICMP port unreachable)
    assert w.world.trace.counters.get("drop.udp-port-unreachable", 0) > 2900
    assert _poisoned(w) == []
    assert w.resolve("www.example.com").addresses() == ["93.184.216.34"]


def test_on_path_attacker_can_poison_which_shows_the_check_above_can_fail() -> None:
    w = make_world(seed=3, frames=True)
    _warm(w)

    def sniff(src: tuple[str, int], dst: tuple[str, int], data: bytes) -> None:
        if dst == (IANA, 53):
            q = Message.decode(data)
            w.spoof(dst, src, _forged_reply(q.id, q.questions[0].name.to_text()))

    w.sniffers.append(sniff)
    res = w.resolve("x1.example.com")
    assert res.addresses() == ["6.6.6.6"]  # the answer itself is in bailiwick: accepted
    poisoned = _poisoned(w)
    assert any(line.startswith("x1.example.com.") for line in poisoned)
    # but scrubbing and ranks kept the rest: no bank.com, no glue over a cached answer
    assert not any("bank.com" in line for line in poisoned)
    assert not any(line.startswith("www.example.com.") for line in poisoned)


def test_responses_must_match_source_port_id_and_question() -> None:
    w = make_world(seed=5, frames=True)
    _warm(w)
    tricks: list[str] = []

    def sniff(src: tuple[str, int], dst: tuple[str, int], data: bytes) -> None:
        if dst != (IANA, 53) or tricks:
            return
        q = Message.decode(data)
        qn = q.questions[0].name.to_text()
        w.spoof(("203.0.113.66", 53), src, _forged_reply(q.id, qn))  # another address
        w.spoof((IANA, 5353), src, _forged_reply(q.id, qn))  # another port
        w.spoof(dst, src, _forged_reply(q.id ^ 1, qn))  # another id
        w.spoof(dst, src, _forged_reply(q.id, "y.example.com"))  # another question
        w.spoof(dst, src, b"\x00" * 5)  # not even a header
        tricks.append(qn)

    w.sniffers.append(sniff)
    res = w.resolve("x2.example.com")
    assert tricks == ["x2.example.com."] and res.rcode == Rcode.NXDOMAIN
    whys = [e.why or "" for e in w.log.of("dns", "ignored")]
    assert len(whys) == 5 and w.world.trace.counters["dns.ignored"] == 5
    assert any("203.0.113.66" in y for y in whys) and any("5353" in y for y in whys)
    assert any("id" in y for y in whys) and any("question" in y for y in whys)
    assert any("malformed" in y for y in whys)
    assert _poisoned(w) == []
