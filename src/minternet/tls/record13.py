"""The TLS 1.3 record layer (RFC 8446 §5): one AEAD per direction, the real content type
inside the encryption, a per-record nonce, padding, and the size limits.

A protected record always says ``application_data(23) 0x0303 length`` outside; inside the
AEAD is ``TLSInnerPlaintext = content || ContentType || zeros`` (§5.2). The nonce is the
traffic IV XOR the 64-bit record sequence number, left-padded to the IV's 12 bytes (§5.3);
the additional data is the 5-byte record header. Each key change (handshake keys,
application keys, every KeyUpdate) restarts that direction's sequence number at zero.

Limits (§5.1, §5.2): a plaintext record carries at most 2^14 bytes, a protected one at most
2^14 + 256 bytes of ciphertext and 2^14 + 1 of inner plaintext — more is record_overflow.
A record that does not authenticate is bad_record_mac; an inner plaintext of only zeros
(no content type) is unexpected_message. ``change_cipher_spec`` records are never
protected: the middlebox-compatibility CCS (§D.4) is one byte 0x01 and is dropped by the
caller. Records protected with keys we do not have (0-RTT data a server declined, §4.2.10:
records that fail to decrypt, or any application_data record before the second ClientHello
after a HelloRetryRequest) can be skipped up to a byte budget.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from .alerts import AlertDescription, TlsAlert
from .cipher import BadRecordMac
from .record import INITIAL_CLIENT_HELLO_VERSION, MAX_PLAINTEXT, ContentType, take_record
from .schedule import TrafficKeys
from .suites13 import Tls13Suite

MAX_CIPHERTEXT_13 = MAX_PLAINTEXT + 256
TLS12 = 0x0303
_HDR = struct.Struct(">BHH")
TAG_LEN = 16

__all__ = ["MAX_CIPHERTEXT_13", "Aead13", "RecordLayer13"]


class Aead13:
    """Seals and opens TLSInnerPlaintext for one direction under one traffic secret."""

    __slots__ = ("_aead", "_iv", "name")

    def __init__(self, suite: Tls13Suite, keys: TrafficKeys) -> None:
        self.name = suite.aead
        self._aead: AESGCM | ChaCha20Poly1305 = (
            ChaCha20Poly1305(keys.key) if suite.aead == "CHACHA20-POLY1305" else AESGCM(keys.key)
        )
        self._iv = int.from_bytes(keys.iv, "big")

    def nonce(self, seq: int) -> bytes:
        return (self._iv ^ seq).to_bytes(12, "big")

    def seal(self, seq: int, inner: bytes) -> bytes:
        """The whole record: header (the additional data) + ciphertext + tag."""
        header = _HDR.pack(ContentType.application_data, TLS12, len(inner) + TAG_LEN)
        return header + self._aead.encrypt(self.nonce(seq), inner, header)

    def open(self, seq: int, header: bytes, fragment: bytes) -> bytes:
        if len(fragment) < TAG_LEN:
            raise BadRecordMac()
        try:
            return self._aead.decrypt(self.nonce(seq), fragment, header)
        except InvalidTag:
            raise BadRecordMac() from None


Padding = Callable[[int, int], int]  # (content type, content length) -> zero bytes to add


def no_padding(_ct: int, _n: int) -> int:
    return 0


class RecordLayer13:
    """Both directions of a TLS 1.3 connection's record layer."""

    def __init__(self, padding: Padding = no_padding) -> None:
        self._buf = bytearray()
        self.read_aead: Aead13 | None = None
        self.write_aead: Aead13 | None = None
        self.read_seq = 0
        self.write_seq = 0
        self.records_in = 0
        self.records_out = 0
        self.padding = padding
        self.skip_budget = 0  # bytes of undecryptable records still to skip (§4.2.10)

    # -- receiving ------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        self._buf += data

    def buffered(self) -> int:
        return len(self._buf)

    def next_record(self) -> tuple[int, bytes] | None:
        """``(content type, content)`` of the next complete record, or None for more bytes.

        Raises :class:`TlsAlert` for a record that must be refused.
        """
        while True:
            limit = MAX_CIPHERTEXT_13 if self.read_aead is not None else MAX_PLAINTEXT
            rec = take_record(self._buf, limit)
            if rec is None:
                return None
            ct, header, fragment = rec
            length = len(fragment)
            self.records_in += 1
            if ct == ContentType.change_cipher_spec or self.read_aead is None:
                if not fragment and ct != ContentType.application_data:
                    raise TlsAlert(
                        AlertDescription.unexpected_message, "empty non-application record"
                    )
                if ct == ContentType.application_data:
                    if self.skip_budget >= length:
                        # 0-RTT data after our HelloRetryRequest (RFC 8446 §4.2.10)
                        self.skip_budget -= length
                        continue
                    raise TlsAlert(
                        AlertDescription.unexpected_message, "application data before any keys"
                    )
                return ct, fragment
            if ct != ContentType.application_data:
                raise TlsAlert(
                    AlertDescription.unexpected_message,
                    f"unprotected record of type {ct} after keys were set",
                )
            try:
                inner = self.read_aead.open(self.read_seq, header, fragment)
            except BadRecordMac:
                if self.skip_budget >= length:
                    self.skip_budget -= length  # declined 0-RTT data (RFC 8446 §4.2.10)
                    continue
                raise
            self.skip_budget = 0
            self.read_seq += 1
            if len(inner) > MAX_PLAINTEXT + 1:
                raise TlsAlert(
                    AlertDescription.record_overflow, f"inner plaintext of {len(inner)} bytes"
                )
            end = len(inner)
            while end and inner[end - 1] == 0:
                end -= 1
            if end == 0:
                raise TlsAlert(
                    AlertDescription.unexpected_message, "protected record without a content type"
                )
            real = inner[end - 1]
            content = inner[: end - 1]
            if real not in (21, 22, 23):
                raise TlsAlert(AlertDescription.unexpected_message, f"inner content type {real}")
            if not content and real != ContentType.application_data:
                raise TlsAlert(AlertDescription.unexpected_message, "empty non-application record")
            return real, content

    def set_read(self, aead: Aead13 | None) -> None:
        self.read_aead = aead
        self.read_seq = 0

    # -- sending --------------------------------------------------------------------------
    def encode(self, content_type: int, data: bytes, *, initial_hello: bool = False) -> bytes:
        """``data`` cut into records of at most 2^14 bytes, each protected if keys are set.

        ``initial_hello``: the record of a first ClientHello says {3, 1} (§5.1).
        """
        out = bytearray()
        pos = 0
        while True:
            chunk = data[pos : pos + MAX_PLAINTEXT]
            if self.write_aead is None or content_type == ContentType.change_cipher_spec:
                version = INITIAL_CLIENT_HELLO_VERSION if initial_hello else TLS12
                out += _HDR.pack(content_type, version, len(chunk)) + chunk
            else:
                pad = min(self.padding(content_type, len(chunk)), MAX_PLAINTEXT - len(chunk))
                inner = chunk + bytes([content_type]) + bytes(max(pad, 0))
                out += self.write_aead.seal(self.write_seq, inner)
                self.write_seq += 1
            self.records_out += 1
            pos += MAX_PLAINTEXT
            if pos >= len(data):
                return bytes(out)

    def set_write(self, aead: Aead13 | None) -> None:
        self.write_aead = aead
        self.write_seq = 0
