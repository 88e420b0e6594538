"""The TLS record layer (RFC 5246 §6.2): framing, fragmentation, protection, sequence numbers.

A record is ``type(1) version(2) length(2) fragment``. Plaintext fragments carry at most
2^14 bytes; a protected fragment at most 2^14 + 2048 (§6.2.3) — anything longer is answered
with record_overflow. Each direction keeps its own 64-bit sequence number, reset to zero when
its ChangeCipherSpec switches the protection. Records hold bytes of one content type; the
handshake layer above reassembles messages that span records or share one.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Self

from ..codec import Reader
from .alerts import AlertDescription, TlsAlert
from .cipher import NullProtection, RecordProtection

MAX_PLAINTEXT = 1 << 14
MAX_CIPHERTEXT = MAX_PLAINTEXT + 2048
TLS12 = 0x0303
# The record version of a client's initial ClientHello: {3, 1} as most clients write it for
# servers that choke on a newer one (RFC 5246 App. E.1: any {03,XX}; RFC 8446 §5.1:
# legacy_record_version 0x0301 for an initial ClientHello). Receivers accept any {03,XX}.
INITIAL_CLIENT_HELLO_VERSION = 0x0301
_HDR = struct.Struct(">BHH")


class ContentType(IntEnum):
    """RFC 5246 §6.2.1."""

    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23


@dataclass(frozen=True, slots=True)
class Record:
    """One TLSPlaintext/TLSCiphertext as on the wire."""

    content_type: int
    version: int
    fragment: bytes

    def encode(self) -> bytes:
        return _HDR.pack(self.content_type, self.version, len(self.fragment)) + self.fragment

    @classmethod
    def decode(cls, data: bytes) -> Self:
        r = Reader(data, "TLS record")
        ct = r.u8("type")
        version = r.u16("version")
        fragment = r.vector(2, "fragment")
        r.expect_end("record")
        return cls(ct, version, fragment)


def take_record(buf: bytearray, limit: int) -> tuple[int, bytes, bytes] | None:
    """The next whole record off the front of ``buf``: ``(content type, header, fragment)``,
    or None (nothing taken) until it has all arrived. The header is checked as soon as it
    is there (RFC 5246 §6.2, RFC 8446 §5.1): a known content type, version 3.x, a length of
    at most ``limit`` (else record_overflow) — TLS 1.2 and 1.3 alike."""
    if len(buf) < 5:
        return None
    ct, version, length = _HDR.unpack_from(buf)
    if ct not in (20, 21, 22, 23):
        raise TlsAlert(AlertDescription.unexpected_message, f"record content type {ct}")
    if version >> 8 != 3:
        raise TlsAlert(AlertDescription.protocol_version, f"record version 0x{version:04x}")
    if length > limit:
        raise TlsAlert(
            AlertDescription.record_overflow, f"record of {length} bytes (limit {limit})"
        )
    if len(buf) < 5 + length:
        return None
    header = bytes(buf[:5])
    fragment = bytes(buf[5 : 5 + length])
    del buf[: 5 + length]
    return ct, header, fragment


class RecordLayer:
    """Both directions of one connection's record layer."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.read_protection: RecordProtection = NullProtection()
        self.write_protection: RecordProtection = NullProtection()
        self.read_seq = 0
        self.write_seq = 0
        self.records_in = 0
        self.records_out = 0

    # -- receiving ------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        self._buf += data

    def buffered(self) -> int:
        return len(self._buf)

    def next_record(self) -> tuple[int, bytes] | None:
        """The next complete record as ``(content_type, plaintext)``, or None for more bytes.

        Raises :class:`TlsAlert` for a record that must be refused.
        """
        rec = take_record(self._buf, MAX_CIPHERTEXT)
        if rec is None:
            return None
        ct, _header, fragment = rec
        plaintext = self.read_protection.open(self.read_seq, ct, fragment)
        self.read_seq += 1
        self.records_in += 1
        if len(plaintext) > MAX_PLAINTEXT:
            raise TlsAlert(AlertDescription.record_overflow, f"plaintext of {len(plaintext)} bytes")
        if not plaintext and ct != ContentType.application_data:
            raise TlsAlert(AlertDescription.unexpected_message, "empty non-application record")
        return ct, plaintext

    def records(self) -> Iterator[tuple[int, bytes]]:
        while (rec := self.next_record()) is not None:
            yield rec

    def change_read(self, protection: RecordProtection) -> None:
        self.read_protection = protection
        self.read_seq = 0

    # -- sending --------------------------------------------------------------------------
    def encode(self, content_type: int, data: bytes, version: int = TLS12) -> bytes:
        """``data`` cut into records of at most 2^14 bytes, each protected.

        ``version`` is the record header's version field: TLS12 except for a client's
        initial ClientHello (see :data:`INITIAL_CLIENT_HELLO_VERSION`).
        """
        out = bytearray()
        pos = 0
        while True:
            chunk = data[pos : pos + MAX_PLAINTEXT]
            fragment = self.write_protection.seal(self.write_seq, content_type, chunk)
            self.write_seq += 1
            self.records_out += 1
            out += _HDR.pack(content_type, version, len(fragment))
            out += fragment
            pos += MAX_PLAINTEXT
            if pos >= len(data):
                return bytes(out)

    def change_write(self, protection: RecordProtection) -> None:
        self.write_protection = protection
        self.write_seq = 0
