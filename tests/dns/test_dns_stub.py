"""The laptop's stub resolver: each layer in turn, on the fake network."""

from __future__ import annotations

import pytest
from dns_world import RESOLVER_IP, make_world

from minternet.apps.dns_stub import StubResolver
from minternet.dns import Rcode, RType
from minternet.dns.hosts import DEFAULT_HOSTS, HostsFile
from minternet.dns.stub import ResolvConf, StubAnswer
from minternet.errors import ConfigError


def _stub(**kw: object):  # type: ignore[no-untyped-def]
    w = make_world()
    hosts = HostsFile.parse(DEFAULT_HOSTS + "10.0.0.5 intranet.corp Intranet\n")
    stub = StubResolver(w.laptop, ResolvConf((RESOLVER_IP,), **kw), hosts)  # type: ignore[arg-type]

    def lookup(name: str, qtype: int = RType.A) -> StubAnswer:
        t = w.net.loop.create_task(stub.lookup(name, qtype))
        return w.net.loop.run_until_complete(t, timeout=120)

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
    t0 = w.net.loop.now()
    w.net.loop.run(until=t0 + 61)  # the browser keeps names a minute at most
    c = lookup("www.example.com")
    assert c.source == "os-cache" and c.ttl is not None and 230 <= c.ttl <= 240


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
    w.net.down.add(RESOLVER_IP)
    t0 = w.net.loop.now()
    a = lookup("www.example.com")
    assert a.source == "error" and "after 3 attempt(s) of 2 s (timeout)" in a.explanation
    assert w.net.loop.now() - t0 == pytest.approx(6.0)


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
    w.net.loop.run(until=w.net.loop.now() + 61)
    again = lookup("web.example.com")
    assert again.source == "os-cache" and again.addresses == ("93.184.216.34",)
    assert [r.rtype for r in again.records] == [RType.CNAME, RType.A]
