"""Negative matrices: what our server and client refuse, with which alert (checked on the
wire, and by OpenSSL where OpenSSL can provoke it), and the strict SNI checks."""

from __future__ import annotations

import ssl
import struct
from typing import Any

import pytest
from tls_pair import shuttle
from tls_support import HOST, NOW, Certs, make_trust

from minternet.randomness import SeededRandom
from minternet.tls import (
    ClientConfig,
    Closed,
    HandshakeComplete,
    ServerConfig,
    TlsClient,
    TlsServer,
)
from minternet.tls import extensions as ext
from minternet.tls.extensions import ExtensionType
from minternet.tls.messages import ClientHello, ServerHello
from minternet.tls.record import ContentType
from minternet.tls.server import KeyAndChain
from minternet.tls.suites import TLS_EMPTY_RENEGOTIATION_INFO_SCSV


def _server(pki: Certs, **kw: Any) -> TlsServer:
    creds = [KeyAndChain(pki.rsa.chain, pki.rsa.key), KeyAndChain(pki.ecdsa.chain, pki.ecdsa.key)]
    return TlsServer(ServerConfig(credentials=creds, random=SeededRandom(2), **kw))


def _client(pki: Certs, cls: type[TlsClient] = TlsClient, **kw: Any) -> TlsClient:
    kw.setdefault("server_name", HOST)
    kw.setdefault("now", NOW)
    cfg = ClientConfig(random=SeededRandom(1), trust=make_trust([pki.root]), **kw)
    c = cls(cfg)
    c.start()
    return c


def _records(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        ct, _v, n = struct.unpack_from(">BHH", data, pos)
        out.append((ct, data[pos + 5 : pos + 5 + n]))
        pos += 5 + n
    return out


def _alert_on_wire(server: TlsServer) -> int:
    """The description of the plaintext fatal alert the server just wrote."""
    recs = _records(server.data_to_send())
    alerts = [r for ct, r in recs if ct == ContentType.alert]
    assert alerts, recs
    assert alerts[-1][0] == 2  # fatal
    return alerts[-1][1]


def _closed(events: list[Any]) -> Closed:
    c = [e for e in events if isinstance(e, Closed)]
    assert c, events
    return c[0]


def _hello(**kw: Any) -> bytes:
    args: dict[str, Any] = {
        "version": 0x0303,
        "random": bytes(32),
        "session_id": b"",
        "cipher_suites": (0xC02F,),
        "extensions": (
            ext.u16_list(ExtensionType.supported_groups, [29]),
            ext.u16_list(ExtensionType.signature_algorithms, [0x0804, 0x0403]),
        ),
    }
    args.update(kw)
    raw = ClientHello(**args).encode()
    return struct.pack(">BHH", 22, 0x0301, len(raw)) + raw


# -- server: the acceptance matrix --------------------------------------------------------
class TamperedFinishedClient(TlsClient):
    def _finished_data(self, label: bytes) -> bytes:
        vd = super()._finished_data(label)
        return bytes([vd[0] ^ 1]) + vd[1:]


def test_server_refuses_tampered_finished(pki: Certs) -> None:
    c, s = _client(pki, TamperedFinishedClient), _server(pki)
    s.receive_data(c.data_to_send())
    c.receive_data(s.data_to_send())
    events = s.receive_data(c.data_to_send())
    assert _closed(events).alert == 51  # decrypt_error
    assert _alert_on_wire(s) == 51


def test_server_refuses_tampered_record(pki: Certs) -> None:
    c, s = _client(pki), _server(pki)
    s.receive_data(c.data_to_send())
    c.receive_data(s.data_to_send())
    flight = bytearray(c.data_to_send())
    flight[-3] ^= 0x40  # inside the encrypted Finished
    events = s.receive_data(bytes(flight))
    assert _closed(events).alert == 20  # bad_record_mac
    assert _alert_on_wire(s) == 20


def test_server_refuses_tampered_application_data(pki: Certs) -> None:
    c, s = _client(pki), _server(pki)
    shuttle(c, s)
    c.send_application_data(b"hello")
    rec = bytearray(c.data_to_send())
    rec[10] ^= 1
    assert _closed(s.receive_data(bytes(rec))).alert == 20


@pytest.mark.parametrize(
    "first",
    [
        struct.pack(">BHH", 23, 0x0303, 3) + b"abc",  # application data before the handshake
        struct.pack(">BHH", 20, 0x0303, 1) + b"\x01",  # ChangeCipherSpec first
        struct.pack(">BHH", 22, 0x0303, 16) + b"\x10\x00\x00\x0c" + bytes(12),  # a CKE first
        struct.pack(">BHH", 22, 0x0303, 4) + b"\x0e\x00\x00\x00",  # ServerHelloDone to a server
    ],
    ids=["appdata", "ccs", "client_key_exchange", "server_hello_done"],
)
def test_server_refuses_unexpected_message(pki: Certs, first: bytes) -> None:
    s = _server(pki)
    assert _closed(s.receive_data(first)).alert == 10  # unexpected_message
    assert _alert_on_wire(s) == 10


@pytest.mark.parametrize("length", [(1 << 14) + 2049, 0xFFFF])
def test_server_refuses_oversized_record(pki: Certs, length: int) -> None:
    s = _server(pki)
    assert _closed(s.receive_data(struct.pack(">BHH", 22, 0x0303, length))).alert == 22
    assert _alert_on_wire(s) == 22


def test_server_refuses_oversized_plaintext(pki: Certs) -> None:
    s = _server(pki)
    n = (1 << 14) + 1
    events = s.receive_data(struct.pack(">BHH", 22, 0x0303, n) + bytes(n))
    assert _closed(events).alert == 22


def test_server_refuses_nothing_in_common(pki: Certs) -> None:
    s = _server(pki)
    events = s.receive_data(_hello(cipher_suites=(0x0005, 0x000A, 0xC014)))
    assert _closed(events).alert == 40  # handshake_failure
    assert _alert_on_wire(s) == 40


@pytest.mark.parametrize("version", [0x0300, 0x0301, 0x0302])
def test_server_refuses_old_version(pki: Certs, version: int) -> None:
    s = _server(pki)
    assert _closed(s.receive_data(_hello(version=version))).alert == 70  # protocol_version
    assert _alert_on_wire(s) == 70


def _openssl_client(pki: Certs, **kw: Any) -> tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.root_path)
    if "ciphers" in kw:
        ctx.set_ciphers(kw["ciphers"])
    if "max_version" in kw:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        ctx.minimum_version = ctx.maximum_version = kw["max_version"]
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    return ctx.wrap_bio(inc, out, server_hostname=HOST), inc, out


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"ciphers": "ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA"}, "handshake failure"),
        ({"max_version": ssl.TLSVersion.TLSv1_1}, "protocol version"),
    ],
    ids=["no_common_suite", "tls1_1"],
)
@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_openssl_client_sees_our_alert(pki: Certs, kw: dict[str, Any], words: str) -> None:
    cli, inc, out = _openssl_client(pki, **kw)
    s = _server(pki)
    with pytest.raises(ssl.SSLError):
        cli.do_handshake()
    s.receive_data(out.read())
    inc.write(s.data_to_send())
    with pytest.raises(ssl.SSLError) as err:
        cli.do_handshake()
    assert words in str(err.value).replace("_", " ").lower()


# -- server: hello rules ---------------------------------------------------------------
def _server_hello(s: TlsServer) -> ServerHello:
    ct, rec = _records(s.data_to_send())[0]
    assert ct == 22 and rec[0] == 2
    return ServerHello.decode_body(rec[4:])


def test_server_hello_carries_only_offered_extensions(pki: Certs) -> None:
    s = _server(pki)
    s.receive_data(_hello(extensions=()))
    assert _server_hello(s).extensions == ()


def test_server_echoes_renegotiation_info_for_scsv(pki: Certs) -> None:
    s = _server(pki)
    s.receive_data(_hello(cipher_suites=(0xC02F, TLS_EMPTY_RENEGOTIATION_INFO_SCSV)))
    sh = _server_hello(s)
    assert ext.find(sh.extensions, ExtensionType.renegotiation_info) == ext.renegotiation_info()


def test_server_refuses_nonempty_renegotiation_info(pki: Certs) -> None:
    s = _server(pki)
    events = s.receive_data(_hello(extensions=(ext.renegotiation_info(b"x" * 12),)))
    assert _closed(events).alert == 40


def _sni(entries: list[tuple[int, bytes]]) -> ext.Extension:
    body = b"".join(bytes([t]) + len(n).to_bytes(2, "big") + n for t, n in entries)
    return ext.Extension(0, len(body).to_bytes(2, "big") + body)


@pytest.mark.parametrize(
    ("sni", "alert"),
    [
        (_sni([]), 50),
        (_sni([(0, b"")]), 50),
        (_sni([(0, b"a.example"), (0, b"b.example")]), 47),
        (_sni([(0, b"www.exa\x00mple.com")]), 47),
        (_sni([(0, b"www.example.com\n")]), 47),
        (_sni([(0, b"www example.com")]), 47),
        (_sni([(0, b"www.example.com.")]), 47),
        (ext.Extension(0, b"\x00\x05\x00\x00\x09abc"), 50),  # inner length overruns
    ],
    ids=["empty_list", "empty_name", "two_names", "nul", "newline", "space", "dot", "overrun"],
)
def test_sni_strictly_checked(pki: Certs, sni: ext.Extension, alert: int) -> None:
    s = _server(pki)
    assert _closed(s.receive_data(_hello(extensions=(sni,)))).alert == alert


def test_server_renegotiation_attempt_gets_no_renegotiation(pki: Certs) -> None:
    c, s = _client(pki), _server(pki)
    shuttle(c, s)
    # a second ClientHello, protected like any record after the handshake
    raw = ClientHello(0x0303, bytes(32), b"", (0xC02F,)).encode()
    from minternet.tls.record import RecordLayer  # noqa: F401  (documenting the path)

    c._out += c.records.encode(ContentType.handshake, raw)
    ce, se = shuttle(c, s)
    assert not any(isinstance(e, Closed) for e in se)
    assert any(getattr(e, "description", None) == 100 for e in ce)


# -- client ----------------------------------------------------------------------------
class ExtraExtensionServer(TlsServer):
    def _hello_extensions(self, *a: Any) -> tuple[ext.Extension, ...]:
        return (*super()._hello_extensions(*a), ext.Extension(0x1234, b""))


def test_client_refuses_unoffered_extension(pki: Certs) -> None:
    c = _client(pki)
    s = ExtraExtensionServer(
        ServerConfig([KeyAndChain(pki.rsa.chain, pki.rsa.key)], SeededRandom(2))
    )
    ce, _ = shuttle(c, s)
    assert _closed(ce).alert == 110  # unsupported_extension


def test_client_refuses_unknown_ca(pki: Certs, other_pki: Certs) -> None:
    c = TlsClient(ClientConfig(SeededRandom(1), HOST, make_trust([other_pki.root]), NOW))
    c.start()
    ce, se = shuttle(c, _server(pki))
    closed = _closed(ce)
    assert closed.alert == 48 and closed.alert_sent
    assert _closed(se).alert == 48  # the server received it
    assert c.neg.verification is not None and not c.neg.verification.ok


def test_client_refuses_wrong_host(pki: Certs) -> None:
    c = _client(pki, server_name="www.example.org")
    ce, _ = shuttle(c, _server(pki))
    assert _closed(ce).alert == 42


def test_client_refuses_expired(pki: Certs) -> None:
    import datetime as dt

    c = _client(pki, now=NOW + dt.timedelta(days=4000))
    ce, _ = shuttle(c, _server(pki))
    assert _closed(ce).alert == 45


def test_client_without_trust_store_reports_unverified(pki: Certs) -> None:
    c = TlsClient(ClientConfig(SeededRandom(1), HOST))
    c.start()
    ce, _ = shuttle(c, _server(pki))
    hc = [e for e in ce if isinstance(e, HandshakeComplete)]
    assert hc and hc[0].info.verification is None


def test_warning_alert_mid_handshake_then_fatal(pki: Certs) -> None:
    s = _server(pki)
    events = s.receive_data(struct.pack(">BHH", 21, 0x0303, 2) + b"\x02\x28")
    closed = _closed(events)
    assert closed.alert == 40 and not closed.alert_sent
    assert s.data_to_send() == b""  # no alert answers a fatal alert


# -- RSA key exchange without a padding oracle (RFC 5246 §7.4.7.1) -------------------------
class BadPreMasterClient(TlsClient):
    """Sends a chosen EncryptedPreMasterSecret instead of the right one."""

    make_enc: Any = None

    def _send_handshake(self, msg: Any, fields: dict[str, Any] | None = None) -> None:
        from minternet.tls.messages import EncryptedPreMasterSecret

        if isinstance(msg, EncryptedPreMasterSecret):
            msg = EncryptedPreMasterSecret(self.make_enc(self._server_key))
        super()._send_handshake(msg, fields)


def _raw_rsa(pub: Any, em: bytes) -> bytes:
    n = pub.public_numbers()
    k = (n.n.bit_length() + 7) // 8
    return pow(int.from_bytes(em.rjust(k, b"\x00"), "big"), n.e, n.n).to_bytes(k, "big")


def _em(k: int, message: bytes, block_type: bytes = b"\x02") -> bytes:
    return b"\x00" + block_type + b"\x11" * (k - 3 - len(message)) + b"\x00" + message


@pytest.mark.parametrize(
    "make_enc",
    [
        lambda pub: _raw_rsa(pub, _em(256, b"\x03\x03" + b"\x01" * 46)),  # well formed
        lambda pub: _raw_rsa(pub, _em(256, b"\x03\x01" + b"\x01" * 46)),  # wrong version
        lambda pub: _raw_rsa(pub, _em(256, b"\x03\x03" + b"\x01" * 45)),  # 47 bytes
        lambda pub: _raw_rsa(pub, _em(256, b"\x03\x03" + b"\x01" * 46, b"\x01")),  # bad type
        lambda pub: _raw_rsa(pub, b"\x00\x02" + b"\x11" * 254),  # no zero separator
        lambda pub: bytes(256),  # zero
        lambda pub: b"\x01" * 10,  # short
    ],
    ids=["good_but_not_ours", "version", "47_bytes", "block_type", "no_separator", "zero", "short"],
)
def test_rsa_pre_master_failures_all_look_alike(pki: Certs, make_enc: Any) -> None:
    """Whatever is wrong with the encrypted pre-master secret, the server goes on with a
    random one and the handshake fails at the client's Finished with bad_record_mac."""
    from minternet.tls import suite_by_name

    c = TlsClient(
        ClientConfig(SeededRandom(1), HOST, make_trust([pki.root]), NOW,
                     suites=(suite_by_name("AES128-GCM-SHA256"),))
    )  # fmt: skip
    c.__class__ = BadPreMasterClient
    c.make_enc = make_enc  # type: ignore[attr-defined]
    c.start()
    s = _server(pki)
    s.receive_data(c.data_to_send())
    c.receive_data(s.data_to_send())
    flight = c.data_to_send()
    recs = _records(flight)
    events = s.receive_data(
        b"".join(struct.pack(">BHH", ct, 0x0303, len(r)) + r for ct, r in recs[:2])
    )
    assert events == [] and s.state.name == "WAIT_FINISHED"  # no early signal
    events = s.receive_data(struct.pack(">BHH", recs[2][0], 0x0303, len(recs[2][1])) + recs[2][1])
    assert _closed(events).alert == 20


@pytest.mark.parametrize(
    ("version", "tail", "alert"),
    [
        (0x0302, b"DOWNGRD\x00", 47),  # RFC 8446 §4.1.3 sentinel: illegal_parameter
        (0x0302, b"\x00" * 8, 70),  # plain old version: protocol_version
        (0x0304, b"\x00" * 8, 70),  # a version we did not offer
    ],
)
def test_client_refuses_downgrade_and_other_versions(
    pki: Certs, version: int, tail: bytes, alert: int
) -> None:
    c = _client(pki)
    c.data_to_send()
    sh = ServerHello(version, bytes(24) + tail, b"", 0xC02F).encode()
    events = c.receive_data(struct.pack(">BHH", 22, 0x0303, len(sh)) + sh)
    assert _closed(events).alert == alert


def test_client_refuses_unoffered_suite_and_compression(pki: Certs) -> None:
    for kw, alert in (({"cipher_suite": 0x0005}, 47), ({"compression_method": 1}, 47)):
        c = _client(pki)
        c.data_to_send()
        args: dict[str, Any] = {"version": 0x0303, "random": bytes(32), "session_id": b"",
                                "cipher_suite": 0xC02F, **kw}  # fmt: skip
        sh = ServerHello(**args).encode()
        events = c.receive_data(struct.pack(">BHH", 22, 0x0303, len(sh)) + sh)
        assert _closed(events).alert == alert, kw


# -- issue 14: protocol edges peers expect ---------------------------------------------------
def _server_messages(data: bytes) -> dict[int, bytes]:
    hs = b"".join(r for ct, r in _records(data) if ct == ContentType.handshake)
    out: dict[int, bytes] = {}
    while hs:
        n = 4 + int.from_bytes(hs[1:4], "big")
        out[hs[0]] = hs[:n]
        hs = hs[n:]
    return out


def test_no_signature_algorithms_ecdsa_signs_with_ecdsa_sha1(pki: Certs) -> None:
    """RFC 5246 §7.4.1.4.1: {sha1, ecdsa} for an ECDHE_ECDSA suite; tlslite-ng parses the
    ServerKeyExchange and cryptography verifies it with the certificate's key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from tlslite.messages import ServerKeyExchange
    from tlslite.utils.codec import Parser

    s = _server(pki)
    s.receive_data(_hello(cipher_suites=(0xC02B,), extensions=(
        ext.u16_list(ExtensionType.supported_groups, [29]),
    )))  # fmt: skip
    msgs = _server_messages(s.data_to_send())
    ske = ServerKeyExchange(0xC02B, (3, 3)).parse(Parser(bytearray(msgs[12][1:])))
    assert (ske.hashAlg, ske.signAlg) == (2, 3)  # sha1, ecdsa
    params = msgs[12][4 : 4 + 4 + msgs[12][7]]
    key = pki.ecdsa.chain[0].public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(bytes(ske.signature), bytes(32) + msgs[2][6:38] + params, ec.ECDSA(hashes.SHA1()))


def test_no_signature_algorithms_and_only_ed25519_refused() -> None:
    """An Ed25519 key has no {sha1, …} pair: without the extension nothing can sign."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from minternet.tls.signing import legacy_scheme_for_key

    assert legacy_scheme_for_key(ed25519.Ed25519PrivateKey.generate()) is None


def test_two_byte_change_cipher_spec_where_one_is_due(pki: Certs) -> None:
    """At the point the client's ChangeCipherSpec is due, a record of 0x01 0x01 is one CCS
    and a second, unexpected one (RFC 5246 §7.1, §6.2.1); a lone 0x02 is out of range."""
    for payload, alert in ((b"\x01\x01", 10), (b"\x01\x00", 10), (b"\x02", 50)):

        class DoubleCcsClient(TlsClient):
            ccs_payload = payload

            def _send_change_cipher_spec(self) -> None:
                super()._send_change_cipher_spec()
                ccs = self._out.rindex(b"\x14\x03\x03\x00\x01\x01")
                p = self.ccs_payload
                self._out[ccs:] = struct.pack(">BHH", 20, 0x0303, len(p)) + p

        c = _client(pki, DoubleCcsClient)
        s = _server(pki)
        s.receive_data(c.data_to_send())
        c.receive_data(s.data_to_send())
        assert _closed(s.receive_data(c.data_to_send())).alert == alert
        assert _alert_on_wire(s) == alert


def test_warning_alert_before_client_hello_answered_by_fatal_alert(pki: Certs) -> None:
    """RFC 5246 §7.2: not proceeding after a warning, we SHOULD send a fatal alert."""
    s = _server(pki)
    events = s.receive_data(struct.pack(">BHH", 21, 0x0301, 2) + b"\x01\x5a")
    assert any(str(e) == "warning alert user_canceled (90)" for e in events)
    closed = _closed(events)
    assert closed.alert == 40 and closed.alert_sent
    assert _alert_on_wire(s) == 40


def test_nothing_after_our_close_notify_sans_io(pki: Certs) -> None:
    c = _client(pki)
    s = _server(pki)
    shuttle(c, s)
    assert s.established
    s.close()
    assert _records(s.data_to_send())[0][0] == ContentType.alert
    events = s.receive_data(struct.pack(">BHH", 23, 0x0303, 40) + bytes(40))  # bad MAC
    assert _closed(events).alert is None  # not "received": we withheld ours
    assert s.data_to_send() == b""


def test_handshake_message_cap_is_configurable(pki: Certs) -> None:
    """The cap is checked at the header (memory stays bounded) and may go up to the 24-bit
    maximum (RFC 5246 §7.4), not beyond."""
    from minternet.errors import ConfigError

    msg = ClientHello(0x0303, bytes(32), b"", (0xC02F,), b"\x00", (
        ext.u16_list(ExtensionType.supported_groups, [29]), ext.Extension(21, bytes(60000)),
    )).encode()  # fmt: skip
    big = b"".join(
        struct.pack(">BHH", 22, 0x0301, len(msg[i : i + 9000])) + msg[i : i + 9000]
        for i in range(0, len(msg), 9000)
    )
    s = _server(pki, max_handshake_message=1000)
    assert _closed(s.receive_data(big[:9005])).alert == 50  # its first record: refused
    s = _server(pki, max_handshake_message=(1 << 24) - 1)
    s.receive_data(big)
    assert ServerHello.decode_body(_server_messages(s.data_to_send())[2][4:]).cipher_suite
    with pytest.raises(ConfigError):
        _server(pki, max_handshake_message=1 << 24)


def test_x448_between_our_client_and_server(pki: Certs) -> None:
    from minternet.tls.extensions import NamedGroup

    c = _client(pki, groups=(NamedGroup.x448,))
    ce, _ = shuttle(c, _server(pki))
    done = [e for e in ce if isinstance(e, HandshakeComplete)]
    assert done and done[0].info.key_exchange == "ECDHE x448"
