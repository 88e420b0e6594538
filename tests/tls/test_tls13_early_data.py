"""0-RTT between our TLS 1.3 client and server in memory (RFC 8446 §2.3, §4.2.10, §8):
accepted, replayed (refused by the anti-replay store, the handshake completing in 1-RTT),
over max_early_data_size (unexpected_message), declined for each rule of §4.2.10, after a
HelloRetryRequest, and the store's own bounds."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from test_tls13_pair import client_for, info_of, move
from tls_support import NOW, Certs

from minternet.errors import ConfigError, DecodeError
from minternet.randomness import SeededRandom
from minternet.tls.alerts import AlertDescription
from minternet.tls.antireplay import ClientHelloRecorder
from minternet.tls.connection import ApplicationData, Closed
from minternet.tls.connection13 import EarlyData, NewTicket, Ticket13
from minternet.tls.extensions import Extension, ExtensionType, NamedGroup
from minternet.tls.messages13 import EndOfEarlyData
from minternet.tls.server import KeyAndChain
from minternet.tls.server13 import ServerConfig13, TlsServer13

REQUEST = b"GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> Any:
        return self.now


def server_config(pki: Certs, **kw: Any) -> ServerConfig13:
    kw.setdefault("max_early_data", 1024)
    kw.setdefault("anti_replay", ClientHelloRecorder(window_ms=10_000, capacity=16))
    kw.setdefault("now", lambda: NOW)
    return ServerConfig13(
        credentials=[KeyAndChain(pki.rsa.chain, pki.rsa.key)],
        random=SeededRandom(2),
        **kw,
    )


def first_ticket(pki: Certs, config: ServerConfig13, **client_kw: Any) -> Ticket13:
    client = client_for(pki, **client_kw)
    ce, _ = move(client, TlsServer13(config))
    return next(e.ticket for e in ce if isinstance(e, NewTicket))


def early(events: list[Any]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, EarlyData))


def late(events: list[Any]) -> bytes:
    return b"".join(
        e.data for e in events if isinstance(e, ApplicationData) and not isinstance(e, EarlyData)
    )


def test_zero_rtt_accepted(pki: Certs) -> None:
    config = server_config(pki)
    ticket = first_ticket(pki, config)
    assert ticket.max_early_data == 1024
    client = client_for(pki, seed=3, session=ticket, early_data=REQUEST)
    server = TlsServer13(config)
    # The early data reaches the server before it has even answered.
    se = server.receive_data(client.data_to_send())
    assert early(se) == REQUEST
    ce, se2 = move(client, server)
    ci, si = info_of(ce), info_of(se + se2)
    assert ci.early_data == si.early_data == "accepted"
    assert ci.early_data_bytes == si.early_data_bytes == len(REQUEST)
    assert ci.schedule.client_early_traffic_secret == si.schedule.client_early_traffic_secret
    assert late(se2) == b""  # nothing sent twice
    client.send_application_data(b"after")
    _, se3 = move(client, server)
    assert late(se3) == b"after" and early(se3) == b""


def test_replayed_hello_is_refused_and_completes_in_one_rtt(pki: Certs) -> None:
    """The same ClientHello and early records twice (the same seed makes the same bytes,
    as an attacker's copy would be): the second server, sharing the store, refuses the
    early data (§8.2), skips it, and the handshake completes 1-RTT with the PSK; the client
    sends its data again after Finished."""
    config = server_config(pki)
    ticket = first_ticket(pki, config)
    original = client_for(pki, seed=3, session=ticket, early_data=REQUEST)
    flight = original.data_to_send()
    first = TlsServer13(config)
    assert early(first.receive_data(flight)) == REQUEST
    assert len(config.anti_replay or ()) == 1
    replayed = client_for(pki, seed=3, session=ticket, early_data=REQUEST)
    assert replayed.data_to_send() == flight  # byte for byte the same hello and 0-RTT data
    server = TlsServer13(config)
    se = server.receive_data(flight)
    assert early(se) == b"" and server.closed is None
    ce, se2 = move(replayed, server)
    ci, si = info_of(ce), info_of(se + se2)
    assert ci.resumed and si.resumed
    assert ci.early_data == si.early_data == "rejected"
    assert late(se2) == REQUEST  # sent again, under the application keys


def test_early_data_over_max_early_data_size_is_unexpected_message(pki: Certs) -> None:
    config = server_config(pki, max_early_data=100)
    ticket = first_ticket(pki, config)
    greedy = dataclasses.replace(ticket, max_early_data=4096)  # a client that ignores it
    client = client_for(pki, seed=3, session=greedy, early_data=bytes(300))
    server = TlsServer13(config)
    events = server.receive_data(client.data_to_send())
    closed = [e for e in events if isinstance(e, Closed)]
    assert server.closed is not None and closed
    assert server.closed.alert == AlertDescription.unexpected_message
    assert server.closed.alert_sent
    assert "max_early_data_size" in server.closed.reason


def test_client_sends_at_most_max_early_data_size_early(pki: Certs) -> None:
    config = server_config(pki, max_early_data=10)
    ticket = first_ticket(pki, config)
    client = client_for(pki, seed=3, session=ticket, early_data=REQUEST)
    server = TlsServer13(config)
    ce, se = move(client, server)
    assert early(se) == REQUEST[:10] and late(se) == REQUEST[10:]
    assert info_of(ce).early_data_bytes == 10


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"anti_replay": None}, "no anti-replay store"),
        ({"now": None}, "no anti-replay store"),
        ({"max_early_data": 0}, "does not allow"),
        ({"clock_skew": timedelta(seconds=30)}, "freshness window"),
        ({"clock_skew": timedelta(seconds=-30)}, "freshness window"),
    ],
)
def test_zero_rtt_declined_and_handshake_goes_on(
    pki: Certs, change: dict[str, Any], why: str
) -> None:
    clock = Clock()
    config = server_config(pki, now=clock)
    ticket = first_ticket(pki, config)
    skew = change.pop("clock_skew", timedelta(0))
    clock.now = NOW + skew
    again = dataclasses.replace(config, **change)
    traced: list[str] = []
    server = TlsServer13(again, trace=lambda k, f, w: traced.append(f"{k} {w}"))
    client = client_for(pki, seed=3, session=ticket, early_data=REQUEST)
    ce, se = move(client, server)
    ci, si = info_of(ce), info_of(se)
    assert ci.resumed and ci.early_data == si.early_data == "rejected"
    assert early(se) == b"" and late(se) == REQUEST
    assert any(why in t for t in traced if t.startswith("early_data")), traced


def test_zero_rtt_declined_for_another_alpn(pki: Certs) -> None:
    config = server_config(pki, alpn=("h2", "http/1.1"))
    ticket = first_ticket(pki, config, alpn=("http/1.1",))
    assert ticket.alpn == "http/1.1"
    # The client offers the ticket's protocol, but the server now prefers h2.
    client = client_for(pki, seed=3, session=ticket, early_data=REQUEST, alpn=("h2", "http/1.1"))
    ce, se = move(client, TlsServer13(config))
    assert info_of(se).alpn == "h2" and info_of(ce).early_data == "rejected"
    assert late(se) == REQUEST
    # A client whose offer lacks the ticket's protocol does not even try.
    client = client_for(pki, seed=4, session=ticket, early_data=REQUEST, alpn=("h2",))
    ce, se = move(client, TlsServer13(config))
    assert info_of(ce).early_data == "not offered" and late(se) == REQUEST


def test_hello_retry_declines_early_data(pki: Certs) -> None:
    config = server_config(pki)
    ticket = first_ticket(pki, config)
    # The server wants P-256 first; the client shares only x25519 in its first hello.
    server = TlsServer13(
        dataclasses.replace(config, groups=(NamedGroup.secp256r1, NamedGroup.x25519))
    )
    client = client_for(pki, seed=3, session=ticket, early_data=REQUEST)
    ce, se = move(client, server)
    ci, si = info_of(ce), info_of(se)
    assert ci.hello_retry and ci.resumed and ci.early_data == si.early_data == "rejected"
    assert early(se) == b"" and late(se) == REQUEST


def test_no_early_data_without_a_ticket_that_allows_it(pki: Certs) -> None:
    config = server_config(pki, max_early_data=0)
    ticket = first_ticket(pki, config)
    assert ticket.max_early_data == 0
    client = client_for(pki, seed=3, session=ticket, early_data=REQUEST)
    ce, se = move(client, TlsServer13(config))
    assert info_of(ce).early_data == "not offered"
    assert late(se) == REQUEST


def test_recorder_bounds() -> None:
    r = ClientHelloRecorder(window_ms=1000, capacity=2)
    assert r.admit(b"a", issued_ms=0, client_age_ms=5000, now_ms=5100) is None
    assert "seen before" in (r.admit(b"a", 0, 5000, 5200) or "")
    assert r.admit(b"b", 0, 5000, 5200) is None
    assert "full" in (r.admit(b"c", 0, 5000, 5300) or "")
    # Forgotten only once a replay would fail the freshness check on its own.
    assert "freshness" in (r.admit(b"a", 0, 5000, 6001) or "")
    assert r.admit(b"c", 0, 5500, 6001) is None and len(r) == 1
    with pytest.raises(ConfigError):
        ClientHelloRecorder(window_ms=0)


def test_end_of_early_data_with_a_body_is_decode_error() -> None:
    assert EndOfEarlyData().encode() == b"\x05\x00\x00\x00"
    with pytest.raises(DecodeError):
        EndOfEarlyData.decode_body(b"\x00")


def test_early_data_in_encrypted_extensions_unoffered_is_refused(pki: Certs) -> None:
    """A server that says early_data in EncryptedExtensions to a hello that offered none:
    unsupported_extension (RFC 8446 §4.2); to one that sent no early data after all:
    illegal_parameter."""
    config = server_config(pki, extra_encrypted_extensions=(Extension(ExtensionType.early_data),))
    client = client_for(pki)
    move(client, TlsServer13(config))
    assert client.closed is not None
    assert client.closed.alert == AlertDescription.unsupported_extension
    ticket = first_ticket(pki, server_config(pki))
    # offered (the extension is in the hello) but the ticket allowed no early data: none sent
    client = client_for(
        pki,
        seed=3,
        session=dataclasses.replace(ticket, max_early_data=0),
        extra_extensions=(Extension(ExtensionType.early_data),),
    )
    move(client, TlsServer13(config))
    assert client.closed is not None
    assert client.closed.alert == AlertDescription.illegal_parameter
