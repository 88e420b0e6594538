"""TLS 1.2 and 1.3 side by side: version negotiation (RFC 8446 §4.2.1) and the downgrade
sentinel (§4.1.3), between our machines and against OpenSSL."""

from __future__ import annotations

import ssl
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from tls_support import HOST, NOW, Certs, make_trust

from minternet.errors import ConfigError
from minternet.randomness import SeededRandom
from minternet.tls import ClientConfig, ServerConfig, TlsClient, TlsServer
from minternet.tls.alerts import AlertDescription
from minternet.tls.connection import ApplicationData, Closed, HandshakeComplete, TlsInfo
from minternet.tls.connection13 import NewTicket, Tls13Info
from minternet.tls.extensions import ExtensionType
from minternet.tls.messages import ClientHello, ServerHello
from minternet.tls.messages13 import DOWNGRADE_TLS12
from minternet.tls.negotiate import (
    NegotiatingClient,
    NegotiatingServer,
    client_machine,
    parse_versions,
)
from minternet.tls.server import KeyAndChain


def client_config(pki: Certs, seed: int = 1) -> ClientConfig:
    return ClientConfig(
        random=SeededRandom(seed), server_name=HOST, trust=make_trust([pki.root]), now=NOW
    )


def server_config(pki: Certs, seed: int = 2) -> ServerConfig:
    return ServerConfig(
        credentials=[
            KeyAndChain(pki.rsa.chain, pki.rsa.key),
            KeyAndChain(pki.ecdsa.chain, pki.ecdsa.key),
        ],
        random=SeededRandom(seed),
    )


def move(client: Any, server: Any) -> tuple[list[Any], list[Any]]:
    ce: list[Any] = []
    se: list[Any] = []
    for _ in range(20):
        a, b = client.data_to_send(), server.data_to_send()
        if not a and not b:
            break
        if a:
            se += server.receive_data(a)
        if b:
            ce += client.receive_data(b)
    return ce, se


def info(events: list[Any]) -> Any:
    hc = [e for e in events if isinstance(e, HandshakeComplete)]
    assert hc, events
    return hc[0].info


def test_both_sides_negotiate_tls13(pki: Certs) -> None:
    client = NegotiatingClient(client_config(pki))
    client.start()
    server = NegotiatingServer(server_config(pki))
    ce, se = move(client, server)
    assert isinstance(info(ce), Tls13Info) and isinstance(info(se), Tls13Info)
    client.send_application_data(b"hi")
    _, se = move(client, server)
    assert [e.data for e in se if isinstance(e, ApplicationData)] == [b"hi"]


def test_client_falls_back_to_a_tls12_server(pki: Certs) -> None:
    client = NegotiatingClient(client_config(pki))
    client.start()
    server = TlsServer(server_config(pki))
    ce, se = move(client, server)
    ci = info(ce)
    assert isinstance(ci, TlsInfo) and ci.version == "TLSv1.2"
    assert ci.extended_master_secret and ci.verification is not None and ci.verification.ok
    client.send_application_data(b"over 1.2")
    _, se = move(client, server)
    assert [e.data for e in se if isinstance(e, ApplicationData)] == [b"over 1.2"]


def test_tls12_client_gets_the_sentinel_from_a_13_capable_server(pki: Certs) -> None:
    client = TlsClient(client_config(pki))
    client.start()
    server = NegotiatingServer(server_config(pki))
    ce, _ = move(client, server)
    ci = info(ce)
    assert isinstance(ci, TlsInfo)
    assert ci.server_random[-8:] == DOWNGRADE_TLS12


def _strip_tls13(record: bytes) -> bytes:
    """A middlebox rewriting the ClientHello record: supported_versions and key_share gone."""
    ch = ClientHello.decode_body(record[9:])
    exts = tuple(
        e
        for e in ch.extensions
        if e.type not in (ExtensionType.supported_versions, ExtensionType.key_share)
    )
    body = ClientHello(
        ch.version, ch.random, ch.session_id, ch.cipher_suites, ch.compression_methods, exts
    ).encode()
    return record[:3] + len(body).to_bytes(2, "big") + body


def test_forced_downgrade_is_detected_by_our_client(pki: Certs) -> None:
    client = NegotiatingClient(client_config(pki))
    client.start()
    server = NegotiatingServer(server_config(pki))
    server.receive_data(_strip_tls13(client.data_to_send()))
    answer = server.data_to_send()
    sh = ServerHello.decode_body(answer[9 : 9 + int.from_bytes(answer[6:9], "big")])
    assert sh.random[-8:] == DOWNGRADE_TLS12
    events = client.receive_data(answer)
    closed = [e for e in events if isinstance(e, Closed)]
    assert closed and closed[0].alert == AlertDescription.illegal_parameter and closed[0].alert_sent
    assert "downgrade" in closed[0].reason


def test_forced_downgrade_is_detected_by_openssl(pki: Certs) -> None:
    """OpenSSL as the client: our 1.2 answer to its stripped hello carries the sentinel it
    checks, and it refuses the connection."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.root_path)
    cli = ctx.wrap_bio(inc, out, server_hostname=HOST)
    with pytest.raises(ssl.SSLWantReadError):
        cli.do_handshake()
    server = NegotiatingServer(server_config(pki))
    server.receive_data(_strip_tls13(out.read()))
    inc.write(server.data_to_send())
    # OpenSSL names a sentinel it finds SSL_R_INAPPROPRIATE_FALLBACK (ssl/statem/statem_clnt.c).
    with pytest.raises(ssl.SSLError, match="INAPPROPRIATE_FALLBACK"):
        cli.do_handshake()


@pytest.mark.parametrize("maximum", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_openssl_client_with_our_negotiating_server(pki: Certs, maximum: ssl.TLSVersion) -> None:
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = maximum
    ctx.load_verify_locations(pki.root_path)
    cli = ctx.wrap_bio(inc, out, server_hostname=HOST)
    server = NegotiatingServer(server_config(pki))
    done = False
    events: list[Any] = []
    for _ in range(10):
        try:
            cli.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            pass
        events += server.receive_data(out.read())
        inc.write(server.data_to_send())
        if done:
            break
    assert done
    assert cli.version() == ("TLSv1.3" if maximum == ssl.TLSVersion.TLSv1_3 else "TLSv1.2")
    assert info(events).version == cli.version()


@pytest.mark.parametrize("maximum", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_our_negotiating_client_with_openssl(pki: Certs, maximum: ssl.TLSVersion) -> None:
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = maximum
    ctx.load_cert_chain(pki.rsa.cert_path, pki.rsa.key_path)
    srv = ctx.wrap_bio(inc, out, server_side=True)
    client = NegotiatingClient(client_config(pki))
    client.start()
    events: list[Any] = []
    done = False
    for _ in range(10):
        inc.write(client.data_to_send())
        try:
            srv.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            pass
        events += client.receive_data(out.read())
        if done and client.established:
            break
    assert done and client.established
    assert info(events).version == srv.version()


def test_parse_versions() -> None:
    assert parse_versions(None) == ("1.3", "1.2")
    assert parse_versions("1.2") == ("1.2",)
    with pytest.raises(ConfigError, match=r"1\.2, 1\.3 or both"):
        parse_versions("1.1")


def test_the_servers_clock_dates_13_tickets_and_ends_them(pki: Certs) -> None:
    """RFC 8446 §4.6.1: a ticket is not used past its lifetime. The 1.3 side of a 1.2
    configuration (what ``tls server``, ``serve --https`` and the simulated web server run)
    takes ``ServerConfig.now``, so its tickets carry an issue time and expire."""
    clock = [NOW]
    cfg = replace(server_config(pki), now=lambda: clock[0])
    client = client_machine(client_config(pki), ("1.3",))
    server = NegotiatingServer(cfg)
    ce, _ = move(client, server)
    ticket = next(e.ticket for e in ce if isinstance(e, NewTicket))
    lifetime = server.config13.ticket_lifetime

    def resumed(after: int) -> bool:
        clock[0] = NOW + timedelta(seconds=after)
        again = client_machine(client_config(pki, seed=3), ("1.3",), session13=ticket)
        ce2, se2 = move(again, NegotiatingServer(cfg))
        assert info(ce2).resumed == info(se2).resumed
        return bool(info(se2).resumed)

    assert resumed(lifetime - 1)
    assert not resumed(lifetime + 1)  # a full handshake instead
