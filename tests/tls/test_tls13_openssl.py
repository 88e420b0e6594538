"""TLS 1.3 against OpenSSL in memory (Python ``ssl`` with MemoryBIO), both ways: every
suite × group, HelloRetryRequest (the server prefers a group the client did not share),
resumption with a ticket, KeyUpdate, application data and close_notify."""

from __future__ import annotations

import contextlib
import ssl
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from tls_pair import openssl_read_all as read_all
from tls_pair import pump_openssl as pump
from tls_support import HOST, NOW, Certs, make_trust

from minternet.drivers.entropy import SystemRandom
from minternet.randomness import SeededRandom
from minternet.tls.client13 import ClientConfig13, TlsClient13
from minternet.tls.connection import ApplicationData, Closed, HandshakeComplete
from minternet.tls.connection13 import NewTicket, Tls13Info
from minternet.tls.extensions import NamedGroup
from minternet.tls.server import KeyAndChain
from minternet.tls.server13 import ServerConfig13, TlsServer13
from minternet.tls.suites13 import TLS13_SUITES, Tls13Suite

GROUPS = {
    NamedGroup.x25519: "X25519",
    NamedGroup.secp256r1: "prime256v1",
    NamedGroup.secp384r1: "secp384r1",
}


def info_of(events: list[Any]) -> Tls13Info:
    hc = [e for e in events if isinstance(e, HandshakeComplete)]
    assert hc, events
    assert isinstance(hc[0].info, Tls13Info)
    return hc[0].info


def openssl_server(pki: Certs, curve: str | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(pki.rsa.cert_path, pki.rsa.key_path)
    ctx.load_cert_chain(pki.ecdsa.cert_path, pki.ecdsa.key_path)
    if curve:
        ctx.set_ecdh_curve(curve)
    return ctx


def openssl_client(pki: Certs, curve: str | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(pki.root_path)
    if curve:
        ctx.set_ecdh_curve(curve)
    return ctx


def our_client(pki: Certs, **kw: Any) -> TlsClient13:
    c = TlsClient13(
        ClientConfig13(
            random=kw.pop("random", SeededRandom(1)),
            server_name=HOST,
            trust=make_trust([pki.root]),
            now=NOW,
            **kw,
        )
    )
    c.start()
    return c


def our_server(pki: Certs, rsa_only: bool = False, **kw: Any) -> TlsServer13:
    creds = [KeyAndChain(pki.rsa.chain, pki.rsa.key)]
    if not rsa_only:
        creds.append(KeyAndChain(pki.ecdsa.chain, pki.ecdsa.key))
    return TlsServer13(
        ServerConfig13(credentials=creds, random=kw.pop("random", SeededRandom(2)), **kw)
    )


@pytest.mark.parametrize("suite", TLS13_SUITES, ids=lambda s: s.name)
@pytest.mark.parametrize("group", list(GROUPS), ids=lambda g: NamedGroup(g).name)
def test_our_client_with_openssl_server(pki: Certs, suite: Tls13Suite, group: int) -> None:
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = openssl_server(pki).wrap_bio(inc, out, server_side=True)
    client = our_client(pki, suites=(suite,), groups=(group,))
    events, done = pump(client, srv, inc, out)
    assert done
    info = info_of(events)
    assert info.suite == suite and info.group == group
    assert srv.version() == "TLSv1.3" and srv.cipher()[0] == suite.name
    assert info.verification is not None and info.verification.ok
    big = bytes(range(256)) * 100
    client.send_application_data(b"GET / HTTP/1.1\r\n\r\n" + big)
    inc.write(client.data_to_send())
    assert read_all(srv) == b"GET / HTTP/1.1\r\n\r\n" + big
    srv.write(b"HTTP/1.1 200 OK\r\n\r\nhello")
    events = client.receive_data(out.read())
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == (
        b"HTTP/1.1 200 OK\r\n\r\nhello"
    )
    client.close()
    inc.write(client.data_to_send())
    with contextlib.suppress(ssl.SSLZeroReturnError):
        assert srv.read() == b""
    srv.unwrap()
    events = client.receive_data(out.read())
    assert any(isinstance(e, Closed) and e.clean for e in events)


@pytest.mark.parametrize("suite", TLS13_SUITES, ids=lambda s: s.name)
@pytest.mark.parametrize("group", list(GROUPS), ids=lambda g: NamedGroup(g).name)
@pytest.mark.parametrize("cert", ["rsa", "ecdsa"])
def test_openssl_client_with_our_server(
    pki: Certs, suite: Tls13Suite, group: int, cert: str
) -> None:
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    cli = openssl_client(pki, GROUPS[group]).wrap_bio(inc, out, server_hostname=HOST)
    creds = pki.rsa if cert == "rsa" else pki.ecdsa
    server = TlsServer13(
        ServerConfig13(
            credentials=[KeyAndChain(creds.chain, creds.key)],
            random=SeededRandom(2),
            suites=(suite,),
            groups=(group,),
        )
    )
    events, done = _pump_client(cli, server, inc, out)
    assert done
    info = info_of(events)
    assert cli.version() == "TLSv1.3" and cli.cipher()[0] == suite.name
    assert info.group == group
    cli.write(b"hello server")
    events = server.receive_data(out.read())
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == b"hello server"
    server.send_application_data(b"hello client" * 2000)
    inc.write(server.data_to_send())
    assert read_all(cli) == b"hello client" * 2000


def _pump_client(
    cli: ssl.SSLObject, server: TlsServer13, inc: ssl.MemoryBIO, out: ssl.MemoryBIO
) -> tuple[list[Any], bool]:
    events: list[Any] = []
    done = False
    for _ in range(20):
        if not done:
            try:
                cli.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                pass
        data = out.read()
        if data:
            events += server.receive_data(data)
        back = server.data_to_send()
        if back:
            inc.write(back)
        if not data and not back and done:
            break
    return events, done


def test_openssl_client_gets_a_hello_retry(pki: Certs) -> None:
    """OpenSSL shares X25519 first; our server prefers P-256 and asks for it."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    cli = openssl_client(pki).wrap_bio(inc, out, server_hostname=HOST)
    server = our_server(pki, groups=(NamedGroup.secp256r1, NamedGroup.x25519), hrr_cookie=True)
    events, done = _pump_client(cli, server, inc, out)
    assert done
    info = info_of(events)
    assert info.hello_retry and info.group == NamedGroup.secp256r1


def test_our_client_gets_a_hello_retry_from_openssl(pki: Certs) -> None:
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = openssl_server(pki, "prime256v1").wrap_bio(inc, out, server_side=True)
    client = our_client(pki, groups=(NamedGroup.x25519, NamedGroup.secp256r1))
    events, done = pump(client, srv, inc, out)
    assert done
    info = info_of(events)
    assert info.hello_retry and info.group == NamedGroup.secp256r1


def test_our_client_resumes_with_openssl_ticket(pki: Certs) -> None:
    ctx = openssl_server(pki)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = ctx.wrap_bio(inc, out, server_side=True)
    client = our_client(pki)
    events, done = pump(client, srv, inc, out)
    assert done
    events += client.receive_data(out.read())
    tickets = [e.ticket for e in events if isinstance(e, NewTicket)]
    assert tickets, "OpenSSL sends tickets after the handshake"
    inc2, out2 = ssl.MemoryBIO(), ssl.MemoryBIO()
    srv2 = ctx.wrap_bio(inc2, out2, server_side=True)
    again = our_client(pki, random=SeededRandom(5), session=tickets[0])
    events, done = pump(again, srv2, inc2, out2)
    assert done
    assert srv2.session_reused
    assert info_of(events).resumed


def test_openssl_client_resumes_with_our_ticket(pki: Certs) -> None:
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    ctx = openssl_client(pki)
    cli = ctx.wrap_bio(inc, out, server_hostname=HOST)
    random = SeededRandom(2)
    server = our_server(pki, random=random, tickets=2)
    _, done = _pump_client(cli, server, inc, out)
    assert done
    read_all(cli)  # OpenSSL takes the tickets in while reading
    session = cli.session
    assert session is not None and session.has_ticket
    inc2, out2 = ssl.MemoryBIO(), ssl.MemoryBIO()
    cli2 = ctx.wrap_bio(inc2, out2, server_hostname=HOST, session=session)
    server2 = TlsServer13(server.config)  # same configuration: same ticket key
    events, done = _pump_client(cli2, server2, inc2, out2)
    assert done
    assert cli2.session_reused
    assert info_of(events).resumed


def test_key_update_with_openssl(pki: Certs) -> None:
    """We update our keys and ask OpenSSL to update its own: data flows both ways after."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = openssl_server(pki).wrap_bio(inc, out, server_side=True)
    client = our_client(pki, random=SystemRandom())
    _, done = pump(client, srv, inc, out)
    assert done
    for i in range(3):
        old_read = client._read_secret
        client.update_keys(request_peer=True)
        client.send_application_data(b"after update %d" % i)
        inc.write(client.data_to_send())
        assert read_all(srv) == b"after update %d" % i
        srv.write(b"reply %d" % i)  # OpenSSL answers our request with its own KeyUpdate first
        events = client.receive_data(out.read())
        assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == b"reply %d" % i
        assert client._read_secret != old_read


@pytest.fixture(scope="module")
def ed25519_creds(pki: Certs, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An Ed25519 server certificate from a CA of its own (RFC 8410 keys, RFC 8446 §4.2.3)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from tls_support import _name, _write

    def issue(subject: str, key: Any, issuer: Any, issuer_key: Any, ca: bool) -> Any:
        b = (
            x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(dt.datetime.now(dt.UTC) + dt.timedelta(days=30))  # and for OpenSSL
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )  # fmt: skip
        if not ca:
            b = b.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False
            ).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
        return b.sign(issuer_key, None)  # Ed25519 signs without a separate hash

    ca_key = ed25519.Ed25519PrivateKey.generate()
    ca = issue("Ed25519 Root CA", ca_key, _name("Ed25519 Root CA"), ca_key, True)
    key = ed25519.Ed25519PrivateKey.generate()
    leaf = issue(HOST, key, ca.subject, ca_key, False)
    d = tmp_path_factory.mktemp("ed25519")
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return ca, _write(d, "ed25519", (leaf,), key), d / "ca.pem"


def test_ed25519_certificate_verify_both_ways(ed25519_creds: Any) -> None:
    ca, creds, ca_path = ed25519_creds
    # our client, OpenSSL's server
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.minimum_version = ssl.TLSVersion.TLSv1_3
    sctx.load_cert_chain(creds.cert_path, creds.key_path)
    srv = sctx.wrap_bio(inc, out, server_side=True)
    client = TlsClient13(
        ClientConfig13(random=SeededRandom(1), server_name=HOST, trust=make_trust([ca]), now=NOW)
    )
    client.start()
    events, done = pump(client, srv, inc, out)
    assert done
    info = info_of(events)
    assert info.signature_scheme == 0x0807 and info.verification is not None
    assert info.verification.ok
    # OpenSSL's client, our server
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(ca_path)
    cli = cctx.wrap_bio(inc, out, server_hostname=HOST)
    server = TlsServer13(
        ServerConfig13(credentials=[KeyAndChain(creds.chain, creds.key)], random=SeededRandom(2))
    )
    events, done = _pump_client(cli, server, inc, out)
    assert done and cli.version() == "TLSv1.3"
    assert info_of(events).signature_scheme == 0x0807
