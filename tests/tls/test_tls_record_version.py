"""The record-layer version of the initial ClientHello: our client writes {3, 1} there, as
most clients do (RFC 5246 App. E.1, RFC 8446 §5.1 legacy_record_version), and {3, 3} in
every later record; our server accepts either. Records are read back with dpkt, and the
other side is OpenSSL (Python ``ssl`` + MemoryBIO) where it matters."""

from __future__ import annotations

import contextlib
import ssl
import struct
from typing import Any

import dpkt
from tls_pair import pump_openssl, shuttle
from tls_support import NOW, Certs, make_trust

from minternet.randomness import SeededRandom
from minternet.tls import (
    ClientConfig,
    HandshakeComplete,
    ServerConfig,
    TlsClient,
    TlsServer,
)
from minternet.tls.server import KeyAndChain

HOST = "www.example.com"


def _records(data: bytes) -> list[Any]:
    out = []
    while data:
        rec = dpkt.ssl.TLSRecord(data)
        out.append(rec)
        data = data[5 + rec.length :]
    return out


def _client(certs: Certs, seed: int = 1) -> TlsClient:
    return TlsClient(ClientConfig(SeededRandom(seed), HOST, make_trust([certs.root]), NOW))


def _server(certs: Certs) -> TlsServer:
    creds = certs.rsa
    return TlsServer(ServerConfig([KeyAndChain(creds.chain, creds.key)], SeededRandom(9)))


def test_client_hello_record_is_3_1_and_later_records_3_3(pki: Certs) -> None:
    c, s = _client(pki), _server(pki)
    c.start()
    hello = c.data_to_send()
    (rec,) = _records(hello)
    assert (rec.type, rec.version) == (22, 0x0301)
    assert rec.data[0] == 1  # ClientHello
    assert struct.unpack(">H", rec.data[4:6])[0] == 0x0303  # client_version stays TLS 1.2
    s.receive_data(hello)
    server_flight = s.data_to_send()
    assert {r.version for r in _records(server_flight)} == {0x0303}
    c.receive_data(server_flight)
    second = c.data_to_send()  # ClientKeyExchange, ChangeCipherSpec, Finished
    assert [r.type for r in _records(second)] == [22, 20, 22]
    assert {r.version for r in _records(second)} == {0x0303}
    s.receive_data(second)
    c.receive_data(s.data_to_send())
    assert c.established and s.established
    c.send_application_data(b"x")
    assert {r.version for r in _records(c.data_to_send())} == {0x0303}


def test_server_accepts_client_hello_in_either_record_version(pki: Certs) -> None:
    for version in (0x0301, 0x0303):
        c, s = _client(pki), _server(pki)
        c.start()
        hello = bytearray(c.data_to_send())
        hello[1:3] = version.to_bytes(2, "big")
        s.receive_data(bytes(hello))
        c.receive_data(s.data_to_send())
        ce, _ = shuttle(c, s)
        assert c.established and s.established, (version, ce)


def test_openssl_server_accepts_our_3_1_hello(pki: Certs) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pki.rsa.cert_path, pki.rsa.key_path)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=True)
    c = _client(pki)
    c.start()
    events, done = pump_openssl(c, obj, inc, out)
    assert done and any(isinstance(e, HandshakeComplete) for e in events)


def test_our_server_accepts_openssls_3_1_hello(pki: Certs) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(pki.root_path)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=HOST)
    with contextlib.suppress(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = out.read()
    (rec,) = _records(hello)
    assert (rec.type, rec.version) == (22, 0x0301)  # what OpenSSL writes, too
    s = _server(pki)
    s.receive_data(hello)
    events, done = pump_openssl(s, obj, inc, out)
    assert done and any(isinstance(e, HandshakeComplete) for e in events)
