"""A hostile authoritative server: whatever example.com's server answers (with the right id
and question), the resolver ends with a result, never an exception, and caches nothing of
it outside example.com's bailiwick."""

from __future__ import annotations

from dataclasses import replace

from dns_world import make_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minternet.apps.dns_recursive import ResolverConfig
from minternet.dns import CNAME, MX, NS, SOA, TXT, A, Message, Name, ResourceRecord, name

EVIL = "6.6.6.6"
VOCAB = [
    "www.example.com", "example.com", "x.www.example.com", "com", ".", "evil.net",
    "a.iana-servers.net", "www.bank.com", "ns.example.com", "a.gtld-servers.net", "sub.example.com",
]  # fmt: skip
names = st.sampled_from(VOCAB).map(name)
rdatas = st.one_of(
    st.just(A(EVIL)),
    names.map(NS),
    names.map(CNAME),
    st.builds(MX, st.integers(0, 10), names),
    st.builds(
        SOA, names, names, st.just(1), st.just(2), st.just(3), st.just(4), st.integers(0, 100_000)
    ),
    st.just(TXT((b"evil",))),
)
records = st.builds(
    lambda n, ttl, rd: ResourceRecord(n, rd.type_code, 1, ttl, rd),
    names,
    st.integers(0, 10**6),
    rdatas,
)
answers = st.fixed_dictionaries(
    {
        "aa": st.booleans(),
        "tc": st.booleans(),
        "rcode": st.integers(0, 5),
        "answers": st.lists(records, max_size=4).map(tuple),
        "authority": st.lists(records, max_size=3).map(tuple),
        "additional": st.lists(records, max_size=3).map(tuple),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(answers, min_size=1, max_size=4), st.sampled_from(["www.example.com", "x.example.com"])
)
def test_hostile_answers_end_in_a_result_and_poison_nothing_outside_the_bailiwick(
    script: list[dict[str, object]], qname: str
) -> None:
    w = make_world(config=ResolverConfig(timeout=0.5, attempts=1))
    w.resolve("a.iana-servers.net")  # the way to example.com's server is known and honest
    w.resolve("com", 2)
    srv = w.servers["a.iana-servers.net"]
    honest = srv.respond
    turn = iter(range(10**6))

    def hostile(data: bytes, over_tcp: bool = False) -> bytes | None:
        real = honest(data, over_tcp)
        if real is None:
            return None
        m = Message.decode(real)
        if not m.questions[0].name.is_subdomain(Name.from_text("example.com")):
            return real
        fake = script[next(turn) % len(script)]
        return replace(m, **fake).encode()  # type: ignore[arg-type]

    srv.respond = hostile  # type: ignore[method-assign]
    res = w.resolve(qname)
    assert res.rcode in (0, 2, 3, 4, 5), res
    assert "\n" not in res.explanation
    assert w.net.loop.failed_tasks == []
    example = Name.from_text("example.com")
    for line in w.resolver.cache.dump(w.net.loop.now()):
        owner = Name.from_text(line.split(" ", 1)[0])
        if "; negative" in line:
            continue  # e.g. evil.net. NXDOMAIN: the honest net. server's answer to a CNAME
        if not owner.is_subdomain(example):
            assert EVIL not in line and "evil" not in line, line
