"""The record layer and record protection: fragmentation and coalescing, sequence numbers,
limits, the RFC nonce constructions checked against the primitives, and one error for
every way a protected record can fail (no padding oracle)."""

from __future__ import annotations

import hmac
import struct

import pytest
from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from minternet.errors import DecodeError
from minternet.randomness import SeededRandom
from minternet.tls import AlertDescription, TlsAlert
from minternet.tls.alerts import ERROR_ALERTS, Alert, alert_for
from minternet.tls.cipher import BadRecordMac, CbcProtection, ChaChaProtection, GcmProtection
from minternet.tls.messages import HandshakeBuffer
from minternet.tls.record import MAX_PLAINTEXT, ContentType, Record, RecordLayer

KEY16, KEY32 = bytes(range(16)), bytes(range(32))


def test_fragmentation_at_2_14() -> None:
    rl = RecordLayer()
    data = bytes(range(256)) * 200  # 51200 bytes → 4 records
    wire = rl.encode(ContentType.application_data, data)
    rx = RecordLayer()
    rx.feed(wire)
    recs = list(rx.records())
    assert [len(p) for _, p in recs] == [MAX_PLAINTEXT] * 3 + [51200 - 3 * MAX_PLAINTEXT]
    assert b"".join(p for _, p in recs) == data
    assert rl.write_seq == 4 == rx.read_seq


def test_record_fed_byte_by_byte_and_several_in_one_read() -> None:
    rl = RecordLayer()
    wire = rl.encode(22, b"abc") + rl.encode(23, b"defg")
    rx = RecordLayer()
    got = []
    for b in wire:
        rx.feed(bytes([b]))
        got += list(rx.records())
    assert got == [(22, b"abc"), (23, b"defg")]
    assert Record.decode(wire[:8]) == Record(22, 0x0303, b"abc")


def test_handshake_message_spanning_records_and_sharing_one() -> None:
    m1 = b"\x01\x00\x00\x05hello"
    m2 = b"\x02\x00\x00\x02hi"
    hb = HandshakeBuffer()
    stream = m1 + m2
    for cut in (3, 7, 10):  # a record boundary inside a header, inside a body, between bodies
        hb.feed(stream[:cut])
        hb.feed(stream[cut:])
        assert [m.raw for m in iter(hb.next_message, None)] == [m1, m2]


def test_handshake_length_limit() -> None:
    hb = HandshakeBuffer()
    hb.feed(b"\x0b\xff\xff\xff")
    with pytest.raises(DecodeError):
        hb.next_message()


@pytest.mark.parametrize(
    ("header", "alert"),
    [
        (struct.pack(">BHH", 24, 0x0303, 1), AlertDescription.unexpected_message),
        (struct.pack(">BHH", 22, 0x0203, 1), AlertDescription.protocol_version),
        (struct.pack(">BHH", 22, 0x0303, 18433), AlertDescription.record_overflow),
        (struct.pack(">BHH", 22, 0x0303, 0), AlertDescription.unexpected_message),
    ],
)
def test_bad_record_headers(header: bytes, alert: AlertDescription) -> None:
    rx = RecordLayer()
    rx.feed(header + b"\x00")
    with pytest.raises(TlsAlert) as e:
        rx.next_record()
    assert e.value.description is alert


def test_gcm_nonce_is_rfc5288() -> None:
    salt = b"\x01\x02\x03\x04"
    p = GcmProtection(KEY16, salt)
    frag = p.seal(7, 23, b"data")
    explicit = frag[:8]
    assert explicit == (7).to_bytes(8, "big")
    aad = struct.pack(">QBHH", 7, 23, 0x0303, 4)
    assert AESGCM(KEY16).decrypt(salt + explicit, frag[8:], aad) == b"data"
    assert p.open(7, 23, frag) == b"data"
    with pytest.raises(BadRecordMac):
        p.open(8, 23, frag)  # wrong sequence number


def test_chacha_nonce_is_rfc7905() -> None:
    iv = bytes(range(12))
    p = ChaChaProtection(KEY32, iv)
    frag = p.seal(0x0102, 22, b"x")
    nonce = bytes(a ^ b for a, b in zip(iv, (0x0102).to_bytes(12, "big"), strict=True))
    aad = struct.pack(">QBHH", 0x0102, 22, 0x0303, 1)
    assert ChaCha20Poly1305(KEY32).decrypt(nonce, frag, aad) == b"x"


def _cbc(etm: bool) -> CbcProtection:
    return CbcProtection(KEY16, b"m" * 20, "sha1", 20, SeededRandom(1), etm)


def test_cbc_mac_then_encrypt_layout() -> None:
    p = _cbc(False)
    frag = p.seal(3, 23, b"hello")
    iv, ct = frag[:16], frag[16:]
    dec = Cipher(algorithms.AES(KEY16), modes.CBC(iv)).decryptor()
    body = dec.update(ct) + dec.finalize()
    mac = hmac.digest(b"m" * 20, struct.pack(">QBHH", 3, 23, 0x0303, 5) + b"hello", "sha1")
    pad = body[-1]
    assert body[: 5 + 20] == b"hello" + mac
    assert body[25:] == bytes([pad]) * (pad + 1)
    assert p.open(3, 23, frag) == b"hello"


def test_cbc_encrypt_then_mac_layout() -> None:
    p = _cbc(True)
    frag = p.seal(3, 23, b"hello")
    ct, tag = frag[:-20], frag[-20:]
    assert tag == hmac.digest(b"m" * 20, struct.pack(">QBHH", 3, 23, 0x0303, len(ct)) + ct, "sha1")
    assert p.open(3, 23, frag) == b"hello"


def _reencrypt(body: bytes, iv: bytes) -> bytes:
    enc = Cipher(algorithms.AES(KEY16), modes.CBC(iv)).encryptor()
    return iv + enc.update(body) + enc.finalize()


def test_cbc_every_failure_is_the_same_bad_record_mac() -> None:
    p = _cbc(False)
    good = p.seal(0, 23, b"A" * 30)
    iv = good[:16]
    mac = hmac.digest(b"m" * 20, struct.pack(">QBHH", 0, 23, 0x0303, 30) + b"A" * 30, "sha1")
    bad_padding = _reencrypt(b"A" * 30 + mac + b"\x0d" * 13 + b"\x0e", iv)  # pad bytes wrong
    bad_mac = _reencrypt(b"A" * 30 + bytes(20) + b"\x0d" * 14, iv)
    huge_pad = _reencrypt(b"A" * 30 + mac + b"\xff" * 14, iv)
    short = good[:32]
    unaligned = good[:-1]
    flipped = good[:20] + bytes([good[20] ^ 1]) + good[21:]
    errors = []
    for frag in (bad_padding, bad_mac, huge_pad, short, unaligned, flipped):
        with pytest.raises(TlsAlert) as e:
            p.open(0, 23, frag)
        errors.append((type(e.value), e.value.description, str(e.value)))
    assert len(set(errors)) == 1
    assert errors[0][1] is AlertDescription.bad_record_mac


# -- the one error→alert table, table-driven ----------------------------------------------
@pytest.mark.parametrize(
    ("exc", "alert"),
    [
        (DecodeError("x", "f", 0, "r"), AlertDescription.decode_error),
        (BadRecordMac(), AlertDescription.bad_record_mac),
        (TlsAlert(AlertDescription.record_overflow, "r"), AlertDescription.record_overflow),
        (TlsAlert(AlertDescription.unknown_ca, "r"), AlertDescription.unknown_ca),
        (InvalidTag(), AlertDescription.bad_record_mac),
        (InvalidSignature(), AlertDescription.decrypt_error),
        (UnsupportedAlgorithm("x"), AlertDescription.unsupported_certificate),
        (ValueError("bug"), AlertDescription.internal_error),
        (KeyError("bug"), AlertDescription.internal_error),
    ],
)
def test_error_to_alert_table(exc: BaseException, alert: AlertDescription) -> None:
    assert alert_for(exc) is alert


def test_table_keys_are_error_types() -> None:
    assert all(issubclass(k, BaseException) for k in ERROR_ALERTS)


def test_alert_codec() -> None:
    assert Alert(2, 40).encode() == b"\x02\x28"
    assert Alert.decode(b"\x01\x00") == Alert(1, 0)
    with pytest.raises(TlsAlert):
        Alert.decode(b"\x03\x00")
    with pytest.raises(DecodeError):
        Alert.decode(b"\x02")
