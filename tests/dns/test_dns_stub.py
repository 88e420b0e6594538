"""The laptop's stub resolver: each layer in turn, on the simulated world; and its sans-IO
lookup machine alone, with time and answers given by the test."""

from __future__ import annotations

import pytest
from dns_world import RESOLVER_IP, make_world

from minternet.apps.dns_stub import StubResolver
from minternet.dns import CNAME, SOA, A, Message, Rcode, RType, name, rr
from minternet.dns.hosts import DEFAULT_HOSTS, HostsFile
from minternet.dns.stub import ResolvConf, Stub, StubAnswer, StubQuery
from minternet.errors import ConfigError


def _stub(**kw: object):  # type: ignore[no-untyped-def]
    w = make_world()
    hosts = HostsFile.parse(DEFAULT_HOSTS + "10.0.0.5 intranet.corp Intranet\n")
    stub = StubResolver(w.laptop, ResolvConf((RESOLVER_IP,), **kw), hosts)  # type: ignore[arg-type]

    def lookup(name: str, qtype: int = RType.A) -> StubAnswer:
        return w.run(stub.lookup(name, qtype))

    return w, stub, lookup


def layers(w, since: int = 0) -> list[tuple[str, bool]]:  # type: ignore[no-untyped-def]
    return [
        (e.fields["layer"], e.fields.get("hit", None))
        for e in w.log.events[since:]
        if e.kind == "lookup" and e.node == "laptop" and "hit" in e.fields
    ]


def test_layers_in_turn_then_the_browser_cache_then_the_os_cache() -> None:
    w, _, lookup = _stub()
    a = lookup("www.example.com")
    assert a.addresses == ("93.184.216.34",) and a.source == "dns" and a.ttl == 300
    assert layers(w) == [("browser-cache", False), ("os-cache", False), ("hosts", False)]
    mark = len(w.log.events)
    b = lookup("www.example.com")
    assert b.source == "browser-cache" and layers(w, mark) == [("browser-cache", True)]
    w.wait(61)  # the browser keeps names a minute at most
    c = lookup("www.example.com")
    assert c.source == "os-cache" and c.ttl is not None and 230 <= c.ttl <= 240


def test_laptop_resolves_through_the_isp_resolver_from_the_root() -> None:
    w = make_world()
    stub = w.dep.stub
    assert stub is not None
    answer = w.run(stub.lookup("www.example.com"))
    assert answer.addresses == ("93.184.216.34",) and answer.source == "dns"
    zones = [e.fields["zone"] for e in w.log.of("dns", "query") if e.node == "resolver"]
    assert zones == [".", "com.", ".", "net.", "iana-servers.net.", "example.com."]
    asked = [e for e in w.log.of("dns", "lookup") if e.node == "laptop" and "rcode" in e.fields]
    assert asked[0].fields["transport"] == "udp" and asked[0].fields["rcode"] == "NOERROR"
    # real packets carried it: the laptop's query crossed the home and ISP routers
    assert any(e.layer == "ip" and e.node == "home-router" for e in w.log.events)
    assert w.run(stub.lookup("www.example.com")).source == "browser-cache"


def test_hosts_file_wins_over_dns() -> None:
    _w, _, lookup = _stub()
    a = lookup("INTRANET")
    assert a.source == "hosts" and a.addresses == ("10.0.0.5",)
    assert lookup("localhost").addresses == ("127.0.0.1",)
    assert lookup("localhost", RType.AAAA).addresses == ("::1",)


def test_nxdomain_is_explained_and_cached_by_the_os() -> None:
    _w, _, lookup = _stub()
    a = lookup("nope.example.com")
    assert not a.ok and a.rcode == Rcode.NXDOMAIN and "NXDOMAIN" in a.explanation
    b = lookup("nope.example.com")
    assert b.source == "os-cache" and b.rcode == Rcode.NXDOMAIN


def test_resolver_down_is_a_timeout_after_the_attempts() -> None:
    w, _, lookup = _stub(timeout=2.0, attempts=3)
    w.stop("resolver")
    t0 = w.now()
    a = lookup("www.example.com")
    assert a.source == "error" and "after 3 attempt(s) of 2 s (timeout)" in a.explanation
    assert w.now() - t0 == pytest.approx(6.0)
    asked = [e for e in w.log.of("dns", "lookup") if e.fields.get("timeout")]
    assert len(asked) == 3


def test_resolv_conf_and_hosts_parsing() -> None:
    conf = ResolvConf.parse(
        "# c\nnameserver 198.51.100.53\nnameserver 8.8.8.8\noptions timeout:1 attempts:4\n"
    )
    assert conf == ResolvConf(("198.51.100.53", "8.8.8.8"), 1.0, 4)
    with pytest.raises(ConfigError):
        ResolvConf.parse("options timeout:1\n")
    h = HostsFile.parse("1.2.3.4 a b # c\nbad line here\n::2 a\n300.1.1.1 x\n")
    assert h.entries and len(h.problems) == 2


def test_the_os_cache_follows_cached_cnames() -> None:
    w, _, lookup = _stub()
    first = lookup("web.example.com")
    assert first.source == "dns" and first.addresses == ("93.184.216.34",)
    w.wait(61)
    again = lookup("web.example.com")
    assert again.source == "os-cache" and again.addresses == ("93.184.216.34",)
    assert [r.rtype for r in again.records] == [RType.CNAME, RType.A]


# -- the sans-IO lookup alone --------------------------------------------------------------


def _answer(q: StubQuery, **kw: object) -> Message:
    return Message(id=q.message.id, qr=True, rd=True, ra=True, questions=q.message.questions, **kw)  # type: ignore[arg-type]


def test_the_lookup_asks_the_servers_in_turn_for_the_attempts() -> None:
    stub = Stub(ResolvConf(("192.0.2.1", "192.0.2.2"), 1.0, 2), HostsFile())
    look = stub.lookup("www.example.com", RType.A, 0.0)
    servers = []
    t = 0.0
    while (q := look.next_query()) is not None:
        servers.append(q.server)
        assert q.message.rd and q.message.questions[0].name == name("www.example.com")
        t += 1.0
        look.on_timeout(t)
    assert servers == ["192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.2"]
    assert look.result is not None and look.result.source == "error"
    assert "no answer from 192.0.2.1, 192.0.2.2 after 2 attempt(s) of 1 s" in (
        look.result.explanation
    )


def test_an_answer_fills_the_os_and_browser_caches_with_the_time_given() -> None:
    stub = Stub(ResolvConf(("192.0.2.1",)), HostsFile())
    look = stub.lookup("web.example.com", RType.A, 10.0)
    q = look.next_query()
    assert q is not None
    look.on_answer(
        _answer(
            q,
            answers=(
                rr("web.example.com", 120, CNAME(name("www.example.com"))),
                rr("www.example.com", 300, A("93.184.216.34")),
            ),
        ),
        10.5,
    )
    assert look.next_query() is None and look.result is not None
    assert look.result.addresses == ("93.184.216.34",) and look.result.ttl == 120
    # the browser keeps it 60 s from 10.5, the OS cache the TTLs
    again = stub.lookup("web.example.com", RType.A, 70.0)
    assert again.next_query() is None and again.result is not None
    assert again.result.source == "browser-cache"
    later = stub.lookup("web.example.com", RType.A, 71.0)
    assert later.next_query() is None and later.result is not None
    assert later.result.source == "os-cache" and later.result.ttl == 59


def test_a_negative_answer_is_cached_by_the_os_for_the_soa_minimum() -> None:
    stub = Stub(ResolvConf(("192.0.2.1",)), HostsFile())
    look = stub.lookup("nope.example.com", RType.A, 0.0)
    q = look.next_query()
    assert q is not None
    soa = rr("example.com", 3600, SOA(name("ns"), name("h"), 1, 2, 3, 4, 30))
    look.on_answer(_answer(q, rcode=Rcode.NXDOMAIN, authority=(soa,)), 0.1)
    assert look.result is not None and look.result.rcode == Rcode.NXDOMAIN
    cached = stub.lookup("nope.example.com", RType.AAAA, 20.0)
    assert cached.next_query() is None and cached.result is not None
    assert cached.result.source == "os-cache" and cached.result.rcode == Rcode.NXDOMAIN
    expired = stub.lookup("nope.example.com", RType.A, 31.0)
    assert expired.next_query() is not None  # 30 s later: asked again


def test_a_server_failure_is_reported_not_cached() -> None:
    stub = Stub(ResolvConf(("192.0.2.1",)), HostsFile())
    look = stub.lookup("www.example.com", RType.A, 0.0)
    q = look.next_query()
    assert q is not None
    look.on_answer(_answer(q, rcode=Rcode.SERVFAIL), 0.1)
    assert look.result is not None and look.result.source == "error"
    assert "answered SERVFAIL" in look.result.explanation
    assert stub.lookup("www.example.com", RType.A, 0.2).next_query() is not None
