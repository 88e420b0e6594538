"""Our TLS 1.3 client and server joined in memory: every suite × group, HelloRetryRequest,
resumption with a ticket, KeyUpdate both ways, byte-at-a-time delivery, close_notify."""

from __future__ import annotations

from typing import Any

import pytest
from tls_support import HOST, NOW, Certs, make_trust

from minternet.randomness import SeededRandom
from minternet.tls.client13 import ClientConfig13, TlsClient13
from minternet.tls.connection import ApplicationData, Closed, HandshakeComplete
from minternet.tls.connection13 import NewTicket, Tls13Connection, Tls13Info
from minternet.tls.extensions import NamedGroup
from minternet.tls.server import KeyAndChain
from minternet.tls.server13 import ServerConfig13, TlsServer13
from minternet.tls.suites13 import TLS13_SUITES, Tls13Suite

GROUPS = (NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1, NamedGroup.x448)


def move(
    client: Tls13Connection, server: Tls13Connection, chunk: int | None = None
) -> tuple[list[Any], list[Any]]:
    ce: list[Any] = []
    se: list[Any] = []
    for _ in range(20):
        a = client.data_to_send()
        b = server.data_to_send()
        if not a and not b:
            break
        for data, dst, evs in ((a, server, se), (b, client, ce)):
            step = chunk or max(len(data), 1)
            for i in range(0, len(data), step):
                evs += dst.receive_data(data[i : i + step])
    return ce, se


def server_for(pki: Certs, seed: int = 2, **kw: Any) -> TlsServer13:
    return TlsServer13(
        ServerConfig13(
            credentials=[
                KeyAndChain(pki.rsa.chain, pki.rsa.key),
                KeyAndChain(pki.ecdsa.chain, pki.ecdsa.key),
            ],
            random=SeededRandom(seed),
            now=lambda: NOW,
            **kw,
        )
    )


def client_for(pki: Certs, seed: int = 1, **kw: Any) -> TlsClient13:
    c = TlsClient13(
        ClientConfig13(
            random=SeededRandom(seed),
            server_name=HOST,
            trust=make_trust([pki.root]),
            now=NOW,
            **kw,
        )
    )
    c.start()
    return c


def info_of(events: list[Any]) -> Tls13Info:
    hc = [e for e in events if isinstance(e, HandshakeComplete)]
    assert hc, events
    assert isinstance(hc[0].info, Tls13Info)
    return hc[0].info


@pytest.mark.parametrize("suite", TLS13_SUITES, ids=lambda s: s.name)
@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
def test_full_handshake_each_suite_and_group(pki: Certs, suite: Tls13Suite, group: int) -> None:
    client = client_for(pki, suites=(suite,), groups=(group,))
    server = server_for(pki, suites=(suite,), groups=(group,))
    ce, se = move(client, server)
    ci, si = info_of(ce), info_of(se)
    assert ci.suite == si.suite == suite
    assert ci.group == si.group == group
    assert not ci.hello_retry and not ci.resumed
    assert ci.verification is not None and ci.verification.ok
    assert (
        ci.schedule.client_application_traffic_secret
        == si.schedule.client_application_traffic_secret
    )
    client.send_application_data(b"ping" * 5000)
    _, se = move(client, server)
    assert b"".join(e.data for e in se if isinstance(e, ApplicationData)) == b"ping" * 5000
    server.send_application_data(b"pong")
    ce, _ = move(client, server)
    assert [e.data for e in ce if isinstance(e, ApplicationData)] == [b"pong"]


def test_byte_at_a_time(pki: Certs) -> None:
    client = client_for(pki)
    server = server_for(pki)
    ce, se = move(client, server, chunk=1)
    assert info_of(ce).suite == info_of(se).suite


def test_hello_retry_when_the_server_prefers_another_group(pki: Certs) -> None:
    client = client_for(pki, groups=(NamedGroup.x25519, NamedGroup.secp256r1))
    server = server_for(pki, groups=(NamedGroup.secp256r1, NamedGroup.x25519), hrr_cookie=True)
    ce, se = move(client, server)
    ci, si = info_of(ce), info_of(se)
    assert ci.hello_retry and si.hello_retry
    assert ci.group == si.group == NamedGroup.secp256r1


def test_resumption_with_a_ticket(pki: Certs) -> None:
    client = client_for(pki)
    server = server_for(pki, tickets=2)
    ce, _ = move(client, server)
    tickets = [e.ticket for e in ce if isinstance(e, NewTicket)]
    assert len(tickets) == 2
    again = client_for(pki, seed=3, session=tickets[0])
    server2 = server_for(pki, seed=2, tickets=0)  # same seed: same ticket key
    ce, se = move(again, server2)
    ci, si = info_of(ce), info_of(se)
    assert ci.resumed and si.resumed
    assert ci.key_exchange.startswith("PSK + ECDHE")
    assert ci.peer_chain == ()


def test_resumption_refused_by_another_server_falls_back_to_full(pki: Certs) -> None:
    client = client_for(pki)
    server = server_for(pki)
    ce, _ = move(client, server)
    ticket = next(e.ticket for e in ce if isinstance(e, NewTicket))
    again = client_for(pki, seed=3, session=ticket)
    other = server_for(pki, seed=99)  # another ticket key
    ce, se = move(again, other)
    assert not info_of(ce).resumed and not info_of(se).resumed


def test_key_update_both_ways(pki: Certs) -> None:
    client = client_for(pki)
    server = server_for(pki)
    move(client, server)
    before = client._write_secret
    client.update_keys(request_peer=True)
    client.send_application_data(b"after update")
    ce, se = move(client, server)
    assert [e.data for e in se if isinstance(e, ApplicationData)] == [b"after update"]
    assert client._write_secret != before
    assert server._write_secret == client._read_secret  # the server answered with its own
    server.update_keys(request_peer=False)
    server.send_application_data(b"server side")
    ce, _ = move(client, server)
    assert [e.data for e in ce if isinstance(e, ApplicationData)] == [b"server side"]


def test_close_notify(pki: Certs) -> None:
    client = client_for(pki)
    server = server_for(pki)
    move(client, server)
    client.close()
    ce, se = move(client, server)
    assert any(isinstance(e, Closed) and e.clean for e in se)
    assert any(isinstance(e, Closed) and e.clean for e in ce)


def test_compatibility_mode_off(pki: Certs) -> None:
    client = client_for(pki, compatibility_mode=False)
    server = server_for(pki)
    ce, _se = move(client, server)
    assert not info_of(ce).compatibility_mode
