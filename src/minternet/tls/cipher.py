"""Record protection: turning TLSPlaintext into TLSCiphertext and back (RFC 5246 §6.2.3).

- AES-GCM (RFC 5288 §3): nonce = 4-byte implicit salt from the key block + 8-byte explicit
  nonce sent in front of the ciphertext (we send the sequence number, which is unique).
- ChaCha20-Poly1305 (RFC 7905 §2): nonce = 12-byte IV XOR the 64-bit sequence number
  left-padded to 12 bytes; nothing explicit on the wire.
- AES-CBC + HMAC (RFC 5246 §6.2.3.2): MAC-then-encrypt with an explicit random IV per
  record, or encrypt-then-MAC when RFC 7366 was negotiated.

The additional data / MAC input is ``seq_num(8) + type(1) + version(2) + length(2)``.
Every failure to open a record — wrong tag, wrong MAC, bad padding, bad length — raises the
same :class:`BadRecordMac` after the same work (the MAC is computed even when the padding is
bad, RFC 5246 §6.2.3.2), so the alert gives no padding oracle.
"""

from __future__ import annotations

import hmac
import struct
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from ..randomness import RandomSource
from .alerts import AlertDescription, TlsAlert
from .suites import CipherSuite

_SEQ_HDR = struct.Struct(">QBHH")
TLS12 = 0x0303


class BadRecordMac(TlsAlert):
    """A protected record did not open: one error for every cause."""

    def __init__(self) -> None:
        super().__init__(AlertDescription.bad_record_mac, "record failed authentication")


class RecordProtection(Protocol):
    """Seals and opens record fragments for one direction of one connection."""

    name: str

    def seal(self, seq: int, content_type: int, plaintext: bytes) -> bytes: ...

    def open(self, seq: int, content_type: int, fragment: bytes) -> bytes: ...


class NullProtection:
    """TLS_NULL_WITH_NULL_NULL: the state before the first ChangeCipherSpec."""

    name = "NULL"

    def seal(self, seq: int, content_type: int, plaintext: bytes) -> bytes:
        return plaintext

    def open(self, seq: int, content_type: int, fragment: bytes) -> bytes:
        return fragment


class GcmProtection:
    """AES-GCM with RFC 5288 nonces."""

    name = "AES-GCM"

    def __init__(self, key: bytes, salt: bytes) -> None:
        self._aead = AESGCM(key)
        self._salt = salt

    def seal(self, seq: int, content_type: int, plaintext: bytes) -> bytes:
        explicit = seq.to_bytes(8, "big")
        aad = _SEQ_HDR.pack(seq, content_type, TLS12, len(plaintext))
        return explicit + self._aead.encrypt(self._salt + explicit, plaintext, aad)

    def open(self, seq: int, content_type: int, fragment: bytes) -> bytes:
        if len(fragment) < 8 + 16:
            raise BadRecordMac()
        explicit = fragment[:8]
        aad = _SEQ_HDR.pack(seq, content_type, TLS12, len(fragment) - 24)
        try:
            return self._aead.decrypt(self._salt + explicit, fragment[8:], aad)
        except InvalidTag:
            raise BadRecordMac() from None


class ChaChaProtection:
    """ChaCha20-Poly1305 with RFC 7905 nonces."""

    name = "CHACHA20-POLY1305"

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._aead = ChaCha20Poly1305(key)
        self._iv = int.from_bytes(iv, "big")

    def _nonce(self, seq: int) -> bytes:
        return (self._iv ^ seq).to_bytes(12, "big")

    def seal(self, seq: int, content_type: int, plaintext: bytes) -> bytes:
        aad = _SEQ_HDR.pack(seq, content_type, TLS12, len(plaintext))
        return self._aead.encrypt(self._nonce(seq), plaintext, aad)

    def open(self, seq: int, content_type: int, fragment: bytes) -> bytes:
        if len(fragment) < 16:
            raise BadRecordMac()
        aad = _SEQ_HDR.pack(seq, content_type, TLS12, len(fragment) - 16)
        try:
            return self._aead.decrypt(self._nonce(seq), fragment, aad)
        except InvalidTag:
            raise BadRecordMac() from None


class CbcProtection:
    """AES-CBC with HMAC, MAC-then-encrypt (RFC 5246) or encrypt-then-MAC (RFC 7366)."""

    def __init__(
        self,
        key: bytes,
        mac_key: bytes,
        mac_hash: str,
        mac_len: int,
        random: RandomSource,
        encrypt_then_mac: bool,
    ) -> None:
        self._alg = algorithms.AES(key)
        self._mac_key = mac_key
        self._hash = mac_hash
        self._mac_len = mac_len
        self._random = random
        self.etm = encrypt_then_mac
        self.name = f"AES-CBC+HMAC-{mac_hash.upper()}" + (" (encrypt_then_mac)" if self.etm else "")

    def _mac(self, seq: int, content_type: int, data: bytes) -> bytes:
        return hmac.digest(
            self._mac_key, _SEQ_HDR.pack(seq, content_type, TLS12, len(data)) + data, self._hash
        )

    def _encrypt(self, iv: bytes, data: bytes) -> bytes:
        enc = Cipher(self._alg, modes.CBC(iv)).encryptor()
        return enc.update(data) + enc.finalize()

    def _decrypt(self, iv: bytes, data: bytes) -> bytes:
        dec = Cipher(self._alg, modes.CBC(iv)).decryptor()
        return dec.update(data) + dec.finalize()

    @staticmethod
    def _padding(n: int) -> bytes:
        pad = 15 - n % 16  # padding bytes plus the padding_length byte make a whole block
        return bytes([pad]) * (pad + 1)

    def seal(self, seq: int, content_type: int, plaintext: bytes) -> bytes:
        iv = self._random.random_bytes(16)
        if self.etm:
            body = plaintext + self._padding(len(plaintext))
            ct = iv + self._encrypt(iv, body)
            return ct + self._mac(seq, content_type, ct)
        body = plaintext + self._mac(seq, content_type, plaintext)
        body += self._padding(len(body))
        return iv + self._encrypt(iv, body)

    def open(self, seq: int, content_type: int, fragment: bytes) -> bytes:
        ml = self._mac_len
        if self.etm:
            if len(fragment) < 16 + 16 + ml or (len(fragment) - ml) % 16:
                raise BadRecordMac()
            ct, tag = fragment[:-ml], fragment[-ml:]
            if not hmac.compare_digest(tag, self._mac(seq, content_type, ct)):
                raise BadRecordMac()
            body = self._decrypt(ct[:16], ct[16:])
            pad = body[-1]
            ok = pad + 1 <= len(body) and body[-pad - 1 :] == bytes([pad]) * (pad + 1)
            if not ok:
                raise BadRecordMac()
            return body[: -pad - 1]
        if len(fragment) < 16 + max(16, ml + 1) or len(fragment) % 16:
            raise BadRecordMac()
        body = self._decrypt(fragment[:16], fragment[16:])
        pad = body[-1]
        good_pad = pad + 1 + ml <= len(body) and body[-pad - 1 :] == bytes([pad]) * (pad + 1)
        if not good_pad:
            pad = -1  # still compute a MAC over the whole body minus a MAC's length
        content = body[: len(body) - pad - 1 - ml]
        tag = body[len(content) : len(content) + ml]
        good_mac = hmac.compare_digest(tag, self._mac(seq, content_type, content))
        # Lucky 13 (AlFardan & Paterson, 2013): hash about as many bytes whatever the padding
        # said — the real MAC over the content, a throwaway one over the padding's length.
        # (Python is not constant-time; this removes the large, padding-dependent difference.
        # encrypt_then_mac, negotiated by default, avoids the issue altogether.)
        self._mac(seq, content_type, body[: pad + 1])
        if not (good_pad and good_mac):
            raise BadRecordMac()
        return content


def protection_for(
    suite: CipherSuite,
    key: bytes,
    iv: bytes,
    mac_key: bytes,
    random: RandomSource,
    encrypt_then_mac: bool = False,
) -> RecordProtection:
    """The protection object a suite's keys call for."""
    if suite.bulk == "CHACHA20-POLY1305":
        return ChaChaProtection(key, iv)
    if suite.aead:
        return GcmProtection(key, iv)
    assert suite.mac is not None
    return CbcProtection(key, mac_key, suite.mac, suite.mac_len, random, encrypt_then_mac)
