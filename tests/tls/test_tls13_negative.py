"""TLS 1.3 refusals (RFC 8446 §6): each wrong input gets the alert the RFC names, from our
client or our server, and malformed or mutated 1.3 messages never crash either side — a
fatal alert and a closed connection, never internal_error.

The fuzzing is deterministic: a seeded generator mutates the plaintext of each handshake
message *before* the sender encrypts it (so the receiver's parser, not only its AEAD, meets
the damage), plus a corpus of hand-made malformed messages with the alert each must get."""

from __future__ import annotations

import random
from typing import Any, ClassVar

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tls_support import HOST, NOW, Certs, make_trust

from minternet.randomness import SeededRandom
from minternet.tls import extensions as ext
from minternet.tls import extensions13 as ext13
from minternet.tls.alerts import AlertDescription
from minternet.tls.client13 import ClientConfig13, TlsClient13
from minternet.tls.connection import Closed
from minternet.tls.connection13 import State13
from minternet.tls.extensions import Extension, ExtensionType, NamedGroup
from minternet.tls.messages import ClientHello
from minternet.tls.messages13 import Finished13
from minternet.tls.record import ContentType
from minternet.tls.server import KeyAndChain
from minternet.tls.server13 import ServerConfig13, TlsServer13

A = AlertDescription


def client(pki: Certs, seed: int = 1, **kw: Any) -> TlsClient13:
    c = TlsClient13(
        ClientConfig13(
            random=SeededRandom(seed), server_name=HOST, trust=make_trust([pki.root]), now=NOW,
            **kw,
        )
    )  # fmt: skip
    c.start()
    return c


def server(
    pki: Certs, seed: int = 2, cls: type[TlsServer13] = TlsServer13, **kw: Any
) -> TlsServer13:
    return cls(
        ServerConfig13(
            credentials=[KeyAndChain(pki.rsa.chain, pki.rsa.key)], random=SeededRandom(seed), **kw
        )
    )


def run(c: Any, s: Any, rounds: int = 10) -> None:
    for _ in range(rounds):
        a, b = c.data_to_send(), s.data_to_send()
        if not a and not b:
            return
        if a:
            s.receive_data(a)
        if b:
            c.receive_data(b)


def alert_sent(m: Any) -> int | None:
    assert m.closed is not None, "the connection should have ended"
    assert m.closed.alert_sent, m.closed
    return int(m.closed.alert) if m.closed.alert is not None else None


def hello(pki: Certs, **changes: Any) -> bytes:
    """A record with our client's ClientHello, some extensions replaced or removed."""
    c = client(pki)
    rec = c.data_to_send()
    ch = ClientHello.decode_body(rec[9:])
    exts = [e for e in ch.extensions if e.type not in changes.get("drop", ())]
    for e in changes.get("put", ()):
        exts = [x for x in exts if x.type != e.type] + [e]
    body = ClientHello(
        ch.version, ch.random, ch.session_id, changes.get("suites", ch.cipher_suites),
        ch.compression_methods, tuple(exts),
    ).encode()  # fmt: skip
    return b"\x16\x03\x01" + len(body).to_bytes(2, "big") + body


def serve_hello(pki: Certs, record: bytes) -> int | None:
    s = server(pki)
    s.receive_data(record)
    return alert_sent(s)


# -- the alerts of the acceptance list -------------------------------------------------------
def test_bad_certificate_verify_is_decrypt_error(pki: Certs) -> None:
    """The server signs (RSA-PSS, as its certificate says) with another RSA key."""
    other = rsa.generate_private_key(65537, 2048)
    s = TlsServer13(
        ServerConfig13(credentials=[KeyAndChain(pki.rsa.chain, other)], random=SeededRandom(2))
    )
    c = client(pki)
    run(c, s)
    assert alert_sent(c) == A.decrypt_error
    assert "CertificateVerify" in c.closed.reason  # type: ignore[union-attr]


def _bad_finished(msg: Any) -> Any:
    if isinstance(msg, Finished13):
        return Finished13(bytes([msg.verify_data[0] ^ 1]) + msg.verify_data[1:])
    return msg


class BadFinishedServer(TlsServer13):
    def _queue(self, msg: Any, fields: dict[str, Any] | None = None) -> bytes:
        return super()._queue(_bad_finished(msg), fields)


class BadFinishedClient(TlsClient13):
    def _queue(self, msg: Any, fields: dict[str, Any] | None = None) -> bytes:
        return super()._queue(_bad_finished(msg), fields)


def test_bad_server_finished_is_decrypt_error(pki: Certs) -> None:
    c = client(pki)
    s = server(pki, cls=BadFinishedServer)
    run(c, s)
    assert alert_sent(c) == A.decrypt_error


def test_bad_client_finished_is_decrypt_error(pki: Certs) -> None:
    c = BadFinishedClient(
        ClientConfig13(
            random=SeededRandom(1), server_name=HOST, trust=make_trust([pki.root]), now=NOW
        )
    )
    c.start()
    s = server(pki)
    run(c, s)
    assert alert_sent(s) == A.decrypt_error


def test_unknown_group_only_is_handshake_failure(pki: Certs) -> None:
    groups = ext.u16_list(ExtensionType.supported_groups, [NamedGroup.ffdhe2048])
    share = ext13.key_share_offer((ext13.KeyShareEntry(NamedGroup.ffdhe2048, bytes(256)),))
    assert serve_hello(pki, hello(pki, put=(groups, share))) == A.handshake_failure


def test_key_share_outside_supported_groups_is_illegal_parameter(pki: Certs) -> None:
    groups = ext.u16_list(ExtensionType.supported_groups, [NamedGroup.secp256r1])
    assert serve_hello(pki, hello(pki, put=(groups,))) == A.illegal_parameter


def test_missing_key_share_is_missing_extension(pki: Certs) -> None:
    assert serve_hello(pki, hello(pki, drop=(ExtensionType.key_share,))) == A.missing_extension


def test_missing_supported_groups_is_missing_extension(pki: Certs) -> None:
    rec = hello(pki, drop=(ExtensionType.supported_groups,))
    assert serve_hello(pki, rec) == A.missing_extension


def test_no_common_suite_is_handshake_failure(pki: Certs) -> None:
    assert serve_hello(pki, hello(pki, suites=(0x1399,))) == A.handshake_failure


def test_record_over_2_14_plus_256_is_record_overflow(pki: Certs) -> None:
    c = client(pki)
    s = server(pki)
    run(c, s)
    assert c.established and s.established
    s.receive_data(b"\x17\x03\x03" + ((1 << 14) + 257).to_bytes(2, "big"))
    assert alert_sent(s) == A.record_overflow


def test_inner_plaintext_over_2_14_plus_1_is_record_overflow(pki: Certs) -> None:
    c = client(pki)
    s = server(pki)
    run(c, s)
    # sealed with the client's real keys, so only the size is wrong
    aead = c.records.write_aead
    assert aead is not None
    inner = bytes((1 << 14) + 1) + bytes([ContentType.application_data])
    s.receive_data(aead.seal(c.records.write_seq, inner))
    assert alert_sent(s) == A.record_overflow


def test_plaintext_record_over_2_14_is_record_overflow(pki: Certs) -> None:
    s = server(pki)
    s.receive_data(b"\x16\x03\x01" + ((1 << 14) + 1).to_bytes(2, "big"))
    assert alert_sent(s) == A.record_overflow


def test_tampered_record_is_bad_record_mac(pki: Certs) -> None:
    c = client(pki)
    s = server(pki)
    run(c, s)
    c.send_application_data(b"hello")
    rec = bytearray(c.data_to_send())
    rec[-1] ^= 1
    s.receive_data(bytes(rec))
    assert alert_sent(s) == A.bad_record_mac


def test_nothing_after_our_close_notify(pki: Certs) -> None:
    """RFC 8446 §6.1: after close_notify we send nothing more, not even the fatal alert a
    bad record from the peer would otherwise get."""
    c = client(pki)
    s = server(pki)
    run(c, s)
    c.send_application_data(b"hello")
    rec = bytearray(c.data_to_send())
    rec[-1] ^= 1
    s.close()
    assert s.data_to_send()[0] == ContentType.application_data  # the sealed close_notify
    s.receive_data(bytes(rec))
    assert s.closed is not None and s.closed.alert is None  # withheld, not sent
    assert s.data_to_send() == b""


# -- a corpus of malformed 1.3 messages -----------------------------------------------------
SV = ExtensionType.supported_versions
KS = ExtensionType.key_share
PSK = ext13.pre_shared_key_offer(ext13.OfferedPsks((ext13.PskIdentity(b"t", 0),), (bytes(32),)))
TWICE = ext13.key_share_offer((ext13.KeyShareEntry(29, bytes(32)),) * 2)
SHORT = ext13.key_share_offer((ext13.KeyShareEntry(29, bytes(31)),))
NO_BINDERS = Extension(ExtensionType.pre_shared_key, b"\x00\x07\x00\x01t\x00\x00\x00\x00\x00\x00")
NO_MODES = Extension(ExtensionType.psk_key_exchange_modes, b"\x00")
PAD = Extension(ExtensionType.padding, bytes(4))
CORPUS_SERVER: list[tuple[str, dict[str, Any], int]] = [
    ("empty supported_versions", {"put": (Extension(SV, b"\x00"),)}, A.decode_error),
    ("odd supported_versions", {"put": (Extension(SV, b"\x03\x03\x04\x03"),)}, A.decode_error),
    ("no 1.3 offered", {"put": (Extension(SV, b"\x02\x03\x03"),)}, A.protocol_version),
    ("key_share cut short", {"put": (Extension(KS, b"\x00\x24\x00\x1d"),)}, A.decode_error),
    ("key share twice", {"put": (TWICE,)}, A.illegal_parameter),
    ("x25519 share of 31 bytes", {"put": (SHORT,)}, A.illegal_parameter),
    ("pre_shared_key not last", {"put": (PSK, PAD)}, A.illegal_parameter),
    ("psk without modes", {"drop": (ExtensionType.psk_key_exchange_modes,), "put": (PSK,)},
     A.missing_extension),
    ("psk identities without binders", {"put": (NO_BINDERS,)}, A.illegal_parameter),
    ("empty psk modes", {"put": (NO_MODES,)}, A.decode_error),
    ("no signature_algorithms", {"drop": (ExtensionType.signature_algorithms,)},
     A.missing_extension),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "changes", "alert"), CORPUS_SERVER, ids=[c[0] for c in CORPUS_SERVER]
)
def test_corpus_into_the_server(pki: Certs, what: str, changes: dict[str, Any], alert: int) -> None:
    assert serve_hello(pki, hello(pki, **changes)) == alert, what


def _after_the_handshake(pki: Certs, message: bytes) -> int | None:
    """The alert our server sends for a handshake ``message`` the client writes (encrypted,
    as any post-handshake message) once the handshake is done."""
    c = client(pki)
    s = server(pki)
    run(c, s)
    c._hs_out += message
    c._flush()
    s.receive_data(c.data_to_send())
    return alert_sent(s)


def test_key_update_with_bad_value_is_illegal_parameter(pki: Certs) -> None:
    # KeyUpdate, request_update = 2
    assert _after_the_handshake(pki, b"\x18\x00\x00\x01\x02") == A.illegal_parameter


def test_client_hello_after_the_handshake_is_unexpected(pki: Certs) -> None:
    assert _after_the_handshake(pki, hello(pki)[5:]) == A.unexpected_message


def test_ccs_after_the_handshake_is_unexpected(pki: Certs) -> None:
    c = client(pki)
    s = server(pki)
    run(c, s)
    s.receive_data(b"\x14\x03\x03\x00\x01\x01")
    assert alert_sent(s) == A.unexpected_message


# -- fuzzing: mutated plaintext handshake messages, then encrypted by the sender ----------
def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    op = rng.randrange(5)
    if op == 0 and b:
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif op == 1 and len(b) > 4:
        del b[rng.randrange(4, len(b)) :]
    elif op == 2:
        pos = rng.randrange(len(b) + 1)
        b[pos:pos] = rng.randbytes(rng.randint(1, 20))
    elif op == 3 and b:
        b[rng.randrange(len(b))] = rng.choice([0, 1, 0x7F, 0x80, 0xFF])
    elif b:
        pos = rng.randrange(len(b))
        n = rng.randint(1, 8)
        b[pos : pos + n] = rng.randbytes(n)
    return bytes(b)


class _Mutated:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def encode(self) -> bytes:
        return self.raw


def _mutating(base: type[Any]) -> type[Any]:
    class Mutating(base):  # type: ignore[misc,valid-type]
        rng: ClassVar[random.Random]
        target: ClassVar[int]

        def _queue(self, msg: Any, fields: dict[str, Any] | None = None) -> bytes:
            raw = msg.encode()
            if raw[0] == self.target:
                raw = _mutate(self.rng, raw)
            return super()._queue(_Mutated(raw), fields)

    return Mutating


SERVER_MESSAGES = [2, 8, 11, 15, 20, 4]  # ServerHello … Finished, NewSessionTicket
CLIENT_MESSAGES = [1, 20]


@pytest.mark.parametrize("target", SERVER_MESSAGES)
def test_fuzz_server_messages_into_our_client(pki: Certs, target: int) -> None:
    cls = _mutating(TlsServer13)
    for i in range(40):
        cls.rng = random.Random(f"s{target}-{i}")
        cls.target = target
        c = client(pki, seed=i)
        s = server(pki, cls=cls)
        run(c, s)
        _never_internal_error(c)


@pytest.mark.parametrize("target", CLIENT_MESSAGES)
def test_fuzz_client_messages_into_our_server(pki: Certs, target: int) -> None:
    cls = _mutating(TlsClient13)
    for i in range(40):
        cls.rng = random.Random(f"c{target}-{i}")
        cls.target = target
        c = cls(
            ClientConfig13(
                random=SeededRandom(i), server_name=HOST, trust=make_trust([pki.root]), now=NOW
            )
        )
        c.start()
        s = server(pki)
        run(c, s)
        _never_internal_error(s)


def test_fuzz_raw_bytes_into_both(pki: Certs) -> None:
    rng = random.Random(13)
    good = hello(pki)
    for _ in range(200):
        s = server(pki)
        s.receive_data(_mutate(rng, good))
        _never_internal_error(s)
        c = client(pki)
        c.receive_data(_mutate(rng, b"\x16\x03\x03\x00\x5a" + good[5:95]))
        _never_internal_error(c)


def _never_internal_error(m: Any) -> None:
    closed = m.closed
    if closed is None:
        return  # still waiting for more bytes, or the mutation happened to be harmless
    assert isinstance(closed, Closed)
    assert closed.alert != A.internal_error, closed.reason
    if m.state is not State13.CLOSED:
        raise AssertionError(m.state)
