"""Interop matrix in memory: every suite, our client ↔ OpenSSL server and OpenSSL client ↔
our server (Python ``ssl`` with MemoryBIO, TLS 1.2 only), application data both ways and a
clean close_notify."""

from __future__ import annotations

import contextlib
import ssl
from typing import Any

import pytest
from tls_pair import kinds, openssl_read_all, pump_openssl
from tls_support import HOST, NOW, Certs, make_trust

from minternet.randomness import SeededRandom
from minternet.tls import (
    SUITES,
    ApplicationData,
    ClientConfig,
    Closed,
    HandshakeComplete,
    ServerConfig,
    SessionCache,
    TlsClient,
    TlsServer,
)
from minternet.tls.server import KeyAndChain
from minternet.tls.suites import CipherSuite

SSL_OP_NO_ENCRYPT_THEN_MAC = 1 << 19  # not exported by Python's ssl module
# Every suite; CBC suites both with encrypt_then_mac (OpenSSL's default) and without.
MATRIX = [(s, True) for s in SUITES] + [(s, False) for s in SUITES if not s.aead]
IDS = [f"{s.name}{'' if e else '-mte'}" for s, e in MATRIX]


def _client_ctx(pki: Certs, suite: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(pki.root_path)
    ctx.set_ciphers(suite)
    return ctx


@pytest.mark.parametrize(("suite", "etm"), MATRIX, ids=IDS)
def test_our_client_with_openssl_server(
    suite: CipherSuite, etm: bool, pki: Certs, openssl_server_ctx: ssl.SSLContext
) -> None:
    openssl_server_ctx.set_ciphers(suite.openssl_name)
    if not etm:
        openssl_server_ctx.options |= SSL_OP_NO_ENCRYPT_THEN_MAC
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = openssl_server_ctx.wrap_bio(inc, out, server_side=True)
    client = TlsClient(
        ClientConfig(
            random=SeededRandom(1),
            server_name=HOST,
            trust=make_trust([pki.root]),
            now=NOW,
            suites=(suite,),
        )
    )
    client.start()
    events, done = pump_openssl(client, srv, inc, out)
    assert done, kinds(events)
    hc = [e for e in events if isinstance(e, HandshakeComplete)]
    assert hc, events
    info = hc[0].info
    assert info.suite == suite
    assert srv.cipher()[0] == suite.openssl_name
    assert info.verification is not None and info.verification.ok
    assert info.encrypt_then_mac == (etm and not suite.aead)
    # application data both ways, including a multi-record message
    big = bytes(range(256)) * 200
    client.send_application_data(b"GET / HTTP/1.1\r\n\r\n" + big)
    inc.write(client.data_to_send())
    assert openssl_read_all(srv) == b"GET / HTTP/1.1\r\n\r\n" + big
    srv.write(b"HTTP/1.1 200 OK\r\n\r\nhello")
    events = client.receive_data(out.read())
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == (
        b"HTTP/1.1 200 OK\r\n\r\nhello"
    )
    # clean close: we send close_notify, OpenSSL answers
    client.close()
    inc.write(client.data_to_send())
    with contextlib.suppress(ssl.SSLZeroReturnError):
        assert srv.read() == b""
    srv.unwrap()  # OpenSSL saw our close_notify, so this completes and sends its own
    events = client.receive_data(out.read())
    closed = [e for e in events if isinstance(e, Closed)]
    assert closed and closed[0].clean


@pytest.mark.parametrize(("suite", "etm"), MATRIX, ids=IDS)
def test_openssl_client_with_our_server(suite: CipherSuite, etm: bool, pki: Certs) -> None:
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    ctx = _client_ctx(pki, suite.openssl_name)
    if not etm:
        ctx.options |= SSL_OP_NO_ENCRYPT_THEN_MAC
    cli = ctx.wrap_bio(inc, out, server_hostname=HOST)
    server = TlsServer(
        ServerConfig(
            credentials=[
                KeyAndChain(pki.rsa.chain, pki.rsa.key),
                KeyAndChain(pki.ecdsa.chain, pki.ecdsa.key),
            ],
            random=SeededRandom(2),
            suites=(suite,),
        )
    )
    # OpenSSL speaks first
    with contextlib.suppress(ssl.SSLWantReadError):
        cli.do_handshake()
    events = []
    for _ in range(10):
        data = out.read()
        if data:
            events += server.receive_data(data)
        back = server.data_to_send()
        if back:
            inc.write(back)
        try:
            cli.do_handshake()
            break
        except ssl.SSLWantReadError:
            continue
    out_data = out.read()
    if out_data:
        events += server.receive_data(out_data)
    hc = [e for e in events if isinstance(e, HandshakeComplete)]
    assert hc, kinds(events)
    assert hc[0].info.encrypt_then_mac == (etm and not suite.aead)
    assert cli.cipher()[0] == suite.openssl_name
    assert cli.version() == "TLSv1.2"
    cli.write(b"ping" * 5000)
    events = server.receive_data(out.read())
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == b"ping" * 5000
    server.send_application_data(b"pong")
    inc.write(server.data_to_send())
    assert openssl_read_all(cli) == b"pong"
    # OpenSSL closes; we answer close_notify
    with contextlib.suppress(ssl.SSLWantReadError):
        cli.unwrap()
    events = server.receive_data(out.read())
    assert any(isinstance(e, Closed) and e.clean for e in events)
    inc.write(server.data_to_send())
    cli.unwrap()


def _openssl_pair_handshake(cli: ssl.SSLObject, server: TlsServer, inc: Any, out: Any) -> list[Any]:
    events: list[Any] = []
    for _ in range(10):
        try:
            cli.do_handshake()
            break
        except ssl.SSLWantReadError:
            pass
        events += server.receive_data(out.read())
        inc.write(server.data_to_send())
    events += server.receive_data(out.read())
    inc.write(server.data_to_send())
    return events


@pytest.mark.parametrize("cipher", ["ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"])
def test_openssl_client_resumes_session_with_our_server(pki: Certs, cipher: str) -> None:
    ctx = _client_ctx(pki, cipher)
    ctx.options |= ssl.OP_NO_TICKET
    cache = SessionCache()

    def server() -> TlsServer:
        creds = [KeyAndChain(pki.rsa.chain, pki.rsa.key)]
        return TlsServer(ServerConfig(creds, SeededRandom(len(cache)), session_cache=cache))

    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    cli = ctx.wrap_bio(inc, out, server_hostname=HOST)
    events = _openssl_pair_handshake(cli, server(), inc, out)
    first = next(e for e in events if isinstance(e, HandshakeComplete)).info
    assert not cli.session_reused and cli.session is not None
    assert cli.session.id == first.session_id
    inc2, out2 = ssl.MemoryBIO(), ssl.MemoryBIO()
    cli2 = ctx.wrap_bio(inc2, out2, server_hostname=HOST, session=cli.session)
    server2 = server()
    events = _openssl_pair_handshake(cli2, server2, inc2, out2)
    second = next(e for e in events if isinstance(e, HandshakeComplete)).info
    assert second.resumed and cli2.session_reused
    assert second.master_secret == first.master_secret
    assert second.encrypt_then_mac == first.encrypt_then_mac == (cipher == "AES128-SHA")
    cli2.write(b"after resumption")
    data = b"".join(
        e.data for e in server2.receive_data(out2.read()) if isinstance(e, ApplicationData)
    )
    assert data == b"after resumption"


@pytest.mark.parametrize("cipher", ["ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"])
def test_our_client_resumes_session_with_openssl_server(
    pki: Certs, openssl_server_ctx: ssl.SSLContext, cipher: str
) -> None:
    openssl_server_ctx.options |= ssl.OP_NO_TICKET
    openssl_server_ctx.set_ciphers(cipher)
    infos = []
    session = None
    for seed in (1, 2):
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        srv = openssl_server_ctx.wrap_bio(inc, out, server_side=True)
        client = TlsClient(
            ClientConfig(
                random=SeededRandom(seed), server_name=HOST, trust=make_trust([pki.root]),
                now=NOW, session=session,
            )
        )  # fmt: skip
        client.start()
        events, done = pump_openssl(client, srv, inc, out)
        assert done
        info = next(e for e in events if isinstance(e, HandshakeComplete)).info
        infos.append(info)
        session = info.session
        if seed == 2:
            assert srv.session_reused
        # a clean close: OpenSSL drops sessions of connections that were not shut down
        client.close()
        inc.write(client.data_to_send())
        with contextlib.suppress(ssl.SSLZeroReturnError):
            srv.read()
        srv.unwrap()
    assert not infos[0].resumed and infos[1].resumed
    assert infos[1].suite.openssl_name == cipher


@pytest.mark.parametrize(
    ("groups", "schemes", "cipher"),
    [
        ((23,), (0x0401,), "ECDHE-RSA-AES128-GCM-SHA256"),  # P-256, RSA PKCS#1
        ((29,), (0x0805,), "ECDHE-RSA-AES256-GCM-SHA384"),  # x25519, RSA-PSS SHA-384
        ((23,), (0x0403,), "ECDHE-ECDSA-AES128-GCM-SHA256"),  # P-256, ECDSA
    ],
)
def test_groups_and_signature_schemes_both_ways(
    pki: Certs, openssl_server_ctx: ssl.SSLContext, groups: tuple[int, ...],
    schemes: tuple[int, ...], cipher: str,
) -> None:  # fmt: skip
    # our client offering only these against OpenSSL
    openssl_server_ctx.set_ciphers(cipher)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = openssl_server_ctx.wrap_bio(inc, out, server_side=True)
    client = TlsClient(
        ClientConfig(
            random=SeededRandom(1), server_name=HOST, trust=make_trust([pki.root]), now=NOW,
            groups=groups, signature_schemes=schemes,
        )
    )  # fmt: skip
    client.start()
    events, done = pump_openssl(client, srv, inc, out)
    assert done
    info = next(e for e in events if isinstance(e, HandshakeComplete)).info
    assert info.signature_scheme == schemes[0]
    assert info.key_exchange.endswith({23: "secp256r1", 29: "x25519"}[groups[0]])
    # OpenSSL client restricted the same way against our server
    ctx = _client_ctx(pki, cipher)
    ctx.set_ecdh_curve({23: "prime256v1", 29: "X25519"}[groups[0]])
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    cli = ctx.wrap_bio(inc, out, server_hostname=HOST)
    creds = [KeyAndChain(pki.rsa.chain, pki.rsa.key), KeyAndChain(pki.ecdsa.chain, pki.ecdsa.key)]
    events = _openssl_pair_handshake(cli, TlsServer(ServerConfig(creds, SeededRandom(3))), inc, out)
    info = next(e for e in events if isinstance(e, HandshakeComplete)).info
    assert info.key_exchange.endswith({23: "secp256r1", 29: "x25519"}[groups[0]])


def test_our_client_fed_openssl_bytes_one_at_a_time(
    pki: Certs, openssl_server_ctx: ssl.SSLContext
) -> None:
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = openssl_server_ctx.wrap_bio(inc, out, server_side=True)
    client = TlsClient(
        ClientConfig(
            random=SeededRandom(1), server_name=HOST, trust=make_trust([pki.root]), now=NOW
        )
    )
    client.start()
    events: list[Any] = []
    for _ in range(6):
        inc.write(client.data_to_send())
        with contextlib.suppress(ssl.SSLWantReadError):
            srv.do_handshake()
        for b in out.read():
            events += client.receive_data(bytes([b]))
    assert any(isinstance(e, HandshakeComplete) for e in events), events
    srv.write(b"x" * 20000)
    got = b""
    for b in out.read():
        got += b"".join(
            e.data for e in client.receive_data(bytes([b])) if isinstance(e, ApplicationData)
        )
    assert got == b"x" * 20000


@pytest.mark.parametrize(
    "mode", [ssl.CERT_OPTIONAL, ssl.CERT_REQUIRED], ids=["optional", "required"]
)
def test_server_asking_for_a_client_certificate(
    pki: Certs, openssl_server_ctx: ssl.SSLContext, mode: ssl.VerifyMode
) -> None:
    """We have none: an empty Certificate goes before the ClientKeyExchange (RFC 5246 §7.4.6)."""
    openssl_server_ctx.verify_mode = mode
    openssl_server_ctx.load_verify_locations(pki.root_path)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = openssl_server_ctx.wrap_bio(inc, out, server_side=True)
    client = TlsClient(
        ClientConfig(
            random=SeededRandom(1), server_name=HOST, trust=make_trust([pki.root]), now=NOW
        )
    )
    client.start()
    try:
        events, done = pump_openssl(client, srv, inc, out)
    except ssl.SSLError as e:
        assert mode == ssl.CERT_REQUIRED and "certificate" in str(e).lower()
        events = client.receive_data(out.read())
        closed = [e for e in events if isinstance(e, Closed)]
        assert closed and closed[0].alert is not None and not closed[0].alert_sent
        return
    assert mode == ssl.CERT_OPTIONAL and done
    assert any(isinstance(e, HandshakeComplete) for e in events)
