"""Golden bytes for every handshake message: hand-annotated layouts from RFC 5246 / RFC 8422,
and real flights from OpenSSL parsed and rebuilt byte for byte; dpkt reads ours."""

from __future__ import annotations

import ssl
import struct
from typing import Any

import dpkt
import pytest
from tls_support import HOST, Certs

from minternet.errors import DecodeError
from minternet.tls import TlsAlert
from minternet.tls import extensions as ext
from minternet.tls.extensions import Extension, ExtensionType
from minternet.tls.messages import (
    Certificate,
    CertificateRequest,
    ClientEcdhPublic,
    ClientHello,
    EncryptedPreMasterSecret,
    Finished,
    HandshakeBuffer,
    HandshakeType,
    HelloRequest,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
)

R32 = bytes(range(32))


def h(s: str) -> bytes:
    return bytes.fromhex("".join(s.split()))


GOLDEN: list[tuple[Any, bytes]] = [
    (
        ClientHello(
            0x0303,
            R32,
            b"\xaa" * 4,
            (0xC02F, 0x00FF),
            b"\x00",
            (ext.server_name("a.b"), Extension(ExtensionType.extended_master_secret)),
        ),
        h("""01 000041   0303""")
        + R32
        + h("""04 aaaaaaaa  0004 c02f 00ff  01 00
             0010  0000 0008 0006 00 0003 612e62   0017 0000"""),
    ),
    (
        ServerHello(0x0303, R32, b"", 0xC02F, 0, (ext.renegotiation_info(),)),
        h("02 00002d 0303") + R32 + h("00 c02f 00 0005 ff01 0001 00"),
    ),
    (
        ServerHello(0x0303, R32, b"\x01" * 32, 0x009C, 0, ()),
        h("02 000046 0303") + R32 + h("20") + b"\x01" * 32 + h("009c 00"),
    ),
    (
        Certificate((b"\x30\x01\x00", b"\x30\x00")),
        h("0b 00000e 00000b 000003 300100 000002 3000"),
    ),
    (Certificate(()), h("0b 000003 000000")),
    (
        ServerKeyExchange(29, b"\x09" * 32, 0x0804, b"\x55" * 4),
        h("0c 00002c 03 001d 20") + b"\x09" * 32 + h("0804 0004 55555555"),
    ),
    (ServerHelloDone(), h("0e 000000")),
    (HelloRequest(), h("00 000000")),
    (
        CertificateRequest(b"\x01\x40", (0x0401, 0x0403), b""),
        h("0d 00000b 02 0140 0004 0401 0403 0000"),
    ),
    (EncryptedPreMasterSecret(b"\x77" * 5), h("10 000007 0005 7777777777")),
    (ClientEcdhPublic(b"\x04" + b"\x01" * 4), h("10 000006 05 0401010101")),
    (Finished(b"\x0f" * 12), h("14 00000c") + b"\x0f" * 12),
]


@pytest.mark.parametrize(("msg", "wire"), GOLDEN, ids=[type(m).__name__ for m, _ in GOLDEN])
def test_golden_bytes(msg: Any, wire: bytes) -> None:
    assert msg.encode() == wire
    assert type(msg).decode_body(wire[4:]) == msg
    assert int.from_bytes(wire[1:4], "big") == len(wire) - 4


@pytest.mark.parametrize(("msg", "wire"), GOLDEN, ids=[type(m).__name__ for m, _ in GOLDEN])
def test_truncations_are_decode_errors(msg: Any, wire: bytes) -> None:
    body = wire[4:]
    for n in range(len(body)):
        try:
            type(msg).decode_body(body[:n])
        except (DecodeError, TlsAlert):
            continue
        # a few prefixes are themselves valid (a hello without extensions)
        assert type(msg) in (ClientHello, ServerHello), n
    with pytest.raises((DecodeError, TlsAlert)):
        type(msg).decode_body(body + b"\x00")


def _split_handshakes(data: bytes) -> list[bytes]:
    buf = HandshakeBuffer()
    pos = 0
    while pos < len(data):
        ct, _v, n = struct.unpack_from(">BHH", data, pos)
        if ct == 20:
            break  # what follows is encrypted
        if ct == 22:
            buf.feed(data[pos + 5 : pos + 5 + n])
        pos += 5 + n
    out = []
    while (m := buf.next_message()) is not None:
        out.append(m.raw)
    return out


DECODE = {
    HandshakeType.client_hello: ClientHello,
    HandshakeType.server_hello: ServerHello,
    HandshakeType.certificate: Certificate,
    HandshakeType.server_key_exchange: ServerKeyExchange,
    HandshakeType.server_hello_done: ServerHelloDone,
}


@pytest.mark.parametrize(
    "cipher", ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "AES128-SHA"]
)
def test_openssl_flights_round_trip(
    pki: Certs, openssl_server_ctx: ssl.SSLContext, cipher: str
) -> None:
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.minimum_version = cctx.maximum_version = ssl.TLSVersion.TLSv1_2
    cctx.load_verify_locations(pki.root_path)
    cctx.set_ciphers(cipher)
    cctx.set_alpn_protocols(["h2", "http/1.1"])
    openssl_server_ctx.set_ciphers(cipher)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    cli = cctx.wrap_bio(c_in, c_out, server_hostname=HOST)
    srv = openssl_server_ctx.wrap_bio(s_in, s_out, server_side=True)
    with pytest.raises(ssl.SSLWantReadError):
        cli.do_handshake()
    hello = c_out.read()
    s_in.write(hello)
    with pytest.raises(ssl.SSLWantReadError):
        srv.do_handshake()
    flight = s_out.read()
    msgs = _split_handshakes(hello) + _split_handshakes(flight)
    types = [m[0] for m in msgs]
    assert types[0] == 1 and types[1] == 2 and types[-1] == 14
    for raw in msgs:
        msg = DECODE[HandshakeType(raw[0])].decode_body(raw[4:])
        assert msg.encode() == raw
    ch = ClientHello.decode_body(msgs[0][4:])
    assert ext.parse_server_name(ext.find(ch.extensions, 0).data) == HOST  # type: ignore[union-attr]
    alpn = ext.find(ch.extensions, ExtensionType.application_layer_protocol_negotiation)
    assert alpn is not None and ext.parse_alpn(alpn.data) == ["h2", "http/1.1"]
    # finish with OpenSSL's ClientKeyExchange
    c_in.write(flight)
    with pytest.raises(ssl.SSLWantReadError):
        cli.do_handshake()
    cke = _split_handshakes(c_out.read())[0]
    cls = EncryptedPreMasterSecret if cipher == "AES128-SHA" else ClientEcdhPublic
    assert cls.decode_body(cke[4:]).encode() == cke


def test_dpkt_reads_our_client_hello() -> None:
    from minternet.randomness import SeededRandom
    from minternet.tls import ClientConfig, TlsClient

    c = TlsClient(ClientConfig(SeededRandom(3), server_name=HOST))
    c.start()
    data = c.data_to_send()
    rec = dpkt.ssl.TLSRecord(data)
    hs = dpkt.ssl.TLSHandshake(rec.data)
    assert hs.type == 1
    hello = hs.data
    assert hello.random == c.neg.client_random
    codes = [cs.code for cs in hello.ciphersuites]
    assert codes == [s.code for s in c.config.suites]
    ext_types = [t for t, _ in hello.extensions]
    assert ExtensionType.server_name in ext_types
    assert ExtensionType.extended_master_secret in ext_types
