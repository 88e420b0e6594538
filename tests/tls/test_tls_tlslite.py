"""A second, independent TLS implementation judges us: tlslite-ng (pure Python, its own
record layer, PRF and handshake code) as server for our client and as client for our server,
over a socket pair."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import pytest
from tls_support import HOST, NOW, Certs, make_trust
from tlslite import X509, HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey

from minternet.randomness import SeededRandom
from minternet.tls import (
    ApplicationData,
    ClientConfig,
    HandshakeComplete,
    ServerConfig,
    TlsClient,
    TlsServer,
    suite_by_name,
)
from minternet.tls.connection import TlsConnection
from minternet.tls.server import KeyAndChain

# (our suite, tlslite cipher name, tlslite key exchange, tlslite MAC)
CASES = [
    ("ECDHE-RSA-AES128-GCM-SHA256", "aes128gcm", "ecdhe_rsa", "aead"),
    ("ECDHE-RSA-AES256-GCM-SHA384", "aes256gcm", "ecdhe_rsa", "aead"),
    ("ECDHE-RSA-CHACHA20-POLY1305", "chacha20-poly1305", "ecdhe_rsa", "aead"),
    ("AES128-GCM-SHA256", "aes128gcm", "rsa", "aead"),
    ("AES128-SHA", "aes128", "rsa", "sha"),
    ("ECDHE-RSA-AES128-SHA256", "aes128", "ecdhe_rsa", "sha256"),
]


def _settings(cipher: str, kx: str, mac: str) -> Any:
    s = HandshakeSettings()
    s.minVersion = s.maxVersion = (3, 3)
    s.cipherNames = [cipher]
    s.keyExchangeNames = [kx]
    s.macNames = [mac]
    return s


def _drive(ours: TlsConnection, sock: socket.socket, done: Any) -> list[Any]:
    events: list[Any] = []
    while not done(events):
        out = ours.data_to_send()
        if out:
            with contextlib.suppress(OSError):
                sock.sendall(out)
        if done(events) or ours.closed is not None:
            break
        data = sock.recv(65536)
        events += ours.receive_data(data) if data else ours.receive_eof()
    out = ours.data_to_send()
    if out:
        with contextlib.suppress(OSError):  # the peer may have closed after its close_notify
            sock.sendall(out)
    return events


@pytest.mark.parametrize(("suite", "cipher", "kx", "mac"), CASES, ids=[c[0] for c in CASES])
def test_our_client_with_tlslite_server(
    pki: Certs, suite: str, cipher: str, kx: str, mac: str
) -> None:
    chain = X509CertChain([X509().parse(pki.rsa.cert_path.read_text())])
    key = parsePEMKey(pki.rsa.key_path.read_text(), private=True)
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)
    result: dict[str, Any] = {}

    def serve() -> None:
        conn = TLSConnection(b)
        conn.handshakeServer(certChain=chain, privateKey=key, settings=_settings(cipher, kx, mac))
        result["cipher"] = conn.getCipherName()
        result["ems"] = conn.extendedMasterSecret
        result["got"] = conn.read()
        conn.write(b"pong from tlslite")
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    c = TlsClient(
        ClientConfig(SeededRandom(1), HOST, make_trust([pki.root]), NOW,
                     suites=(suite_by_name(suite),))
    )  # fmt: skip
    c.start()
    events = _drive(c, a, lambda ev: c.established)
    assert any(isinstance(e, HandshakeComplete) for e in events), events
    c.send_application_data(b"ping from minternet")
    events = _drive(c, a, lambda ev: any(isinstance(e, ApplicationData) for e in ev))
    t.join(10)
    a.close()
    b.close()
    assert result["got"] == b"ping from minternet"
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == (
        b"pong from tlslite"
    )
    assert result["ems"] is True
    assert result["cipher"] == cipher


@pytest.mark.parametrize(("suite", "cipher", "kx", "mac"), CASES, ids=[c[0] for c in CASES])
def test_tlslite_client_with_our_server(
    pki: Certs, suite: str, cipher: str, kx: str, mac: str
) -> None:
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)
    s = TlsServer(
        ServerConfig([KeyAndChain(pki.rsa.chain, pki.rsa.key)], SeededRandom(2),
                     suites=(suite_by_name(suite),))
    )  # fmt: skip
    result: dict[str, Any] = {}

    def client() -> None:
        conn = TLSConnection(a)
        conn.handshakeClientCert(settings=_settings(cipher, kx, mac), serverName=HOST)
        result["cipher"] = conn.getCipherName()
        conn.write(b"hello from tlslite")
        result["got"] = conn.read()
        conn.close()

    t = threading.Thread(target=client)
    t.start()
    events = _drive(s, b, lambda ev: any(isinstance(e, ApplicationData) for e in ev))
    assert any(isinstance(e, HandshakeComplete) for e in events)
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == (
        b"hello from tlslite"
    )
    s.send_application_data(b"hello from minternet")
    _drive(s, b, lambda ev: True)
    t.join(10)
    a.close()
    b.close()
    assert result["got"] == b"hello from minternet"
    assert result["cipher"] == cipher
