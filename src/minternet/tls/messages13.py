"""The handshake messages TLS 1.3 adds or reshapes (RFC 8446 §4), as frozen dataclasses.

ClientHello and ServerHello keep their 1.2 layout (:mod:`minternet.tls.messages`); a
HelloRetryRequest is a ServerHello whose random is :data:`HELLO_RETRY_REQUEST_RANDOM`
(§4.1.3). New here: EncryptedExtensions (§4.3.1), CertificateRequest (§4.3.2), the 1.3
Certificate with a request context and per-certificate extensions (§4.4.2),
CertificateVerify (§4.4.3), a Finished as long as the hash (§4.4.4), NewSessionTicket
(§4.6.1), EndOfEarlyData (§4.5), KeyUpdate (§4.6.3), and the synthetic ``message_hash``
that replaces the first ClientHello in the transcript after a HelloRetryRequest (§4.4.1).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar, Self

from ..codec import Reader, Writer
from .alerts import AlertDescription, TlsAlert
from .extensions import Extension, decode_extensions, encode_extensions
from .messages import HandshakeType

# SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)
DOWNGRADE_TLS12 = b"DOWNGRD\x01"  # last 8 bytes of a 1.3-capable server's 1.2 random
DOWNGRADE_TLS11 = b"DOWNGRD\x00"
SERVER_CV_CONTEXT = b"TLS 1.3, server CertificateVerify"
CLIENT_CV_CONTEXT = b"TLS 1.3, client CertificateVerify"


def _frame(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def _extensions_block(w: Writer, exts: tuple[Extension, ...]) -> None:
    """A 1.3 extension list is always present, even empty (unlike a 1.2 hello's)."""
    with w.block(2):
        for e in exts:
            w.raw(e.encode())


def _read_extensions(r: Reader, what: str) -> tuple[Extension, ...]:
    if r.remaining() < 2:
        raise r.error("extensions", f"{what} needs its extension list")
    return decode_extensions(r)


def message_hash(hash_name: str, client_hello1: bytes) -> bytes:
    """``message_hash(254) 00 00 Hash.length Hash(ClientHello1)`` (RFC 8446 §4.4.1)."""
    digest = hashlib.new(hash_name, client_hello1).digest()
    return _frame(HandshakeType.message_hash, digest)


def certificate_verify_input(context: bytes, transcript_hash: bytes) -> bytes:
    """What a CertificateVerify signs (§4.4.3): 64 spaces, the context string, a zero byte,
    then the transcript hash."""
    return b"\x20" * 64 + context + b"\x00" + transcript_hash


@dataclass(frozen=True, slots=True)
class EncryptedExtensions:
    msg_type: ClassVar[int] = HandshakeType.encrypted_extensions
    extensions: tuple[Extension, ...] = ()

    def encode(self) -> bytes:
        w = Writer()
        _extensions_block(w, self.extensions)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "EncryptedExtensions")
        exts = _read_extensions(r, "EncryptedExtensions")
        r.expect_end("EncryptedExtensions")
        return cls(exts)


@dataclass(frozen=True, slots=True)
class CertificateRequest13:
    msg_type: ClassVar[int] = HandshakeType.certificate_request
    context: bytes
    extensions: tuple[Extension, ...]

    def encode(self) -> bytes:
        w = Writer()
        w.vector(1, self.context)
        _extensions_block(w, self.extensions)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "CertificateRequest")
        ctx = r.vector(1, "certificate_request_context")
        exts = _read_extensions(r, "CertificateRequest")
        r.expect_end("CertificateRequest")
        return cls(ctx, exts)


@dataclass(frozen=True, slots=True)
class CertificateEntry:
    cert_data: bytes
    extensions: tuple[Extension, ...] = ()


@dataclass(frozen=True, slots=True)
class Certificate13:
    msg_type: ClassVar[int] = HandshakeType.certificate
    context: bytes
    entries: tuple[CertificateEntry, ...]

    @property
    def chain(self) -> tuple[bytes, ...]:
        return tuple(e.cert_data for e in self.entries)

    def encode(self) -> bytes:
        w = Writer()
        w.vector(1, self.context)
        with w.block(3):
            for e in self.entries:
                w.vector(3, e.cert_data)
                _extensions_block(w, e.extensions)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "Certificate")
        ctx = r.vector(1, "certificate_request_context")
        entries: list[CertificateEntry] = []
        with r.block(r.u24("certificate_list.length"), "certificate_list") as sub:
            while not sub.at_end():
                data = sub.vector(3, "cert_data")
                if not data:
                    raise sub.error("cert_data", "empty certificate")
                with sub.block(sub.u16("extensions.length"), "extensions") as ex:
                    exts: list[Extension] = []
                    while not ex.at_end():
                        exts.append(Extension(ex.u16("type"), ex.vector(2, "data")))
                entries.append(CertificateEntry(data, tuple(exts)))
        r.expect_end("Certificate")
        return cls(ctx, tuple(entries))


@dataclass(frozen=True, slots=True)
class CertificateVerify:
    msg_type: ClassVar[int] = HandshakeType.certificate_verify
    signature_scheme: int
    signature: bytes

    def encode(self) -> bytes:
        w = Writer()
        w.u16(self.signature_scheme)
        w.vector(2, self.signature)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "CertificateVerify")
        scheme = r.u16("algorithm")
        sig = r.vector(2, "signature")
        r.expect_end("CertificateVerify")
        if not sig:
            raise r.error("signature", "empty")
        return cls(scheme, sig)


@dataclass(frozen=True, slots=True)
class Finished13:
    msg_type: ClassVar[int] = HandshakeType.finished
    verify_data: bytes

    def encode(self) -> bytes:
        return _frame(self.msg_type, self.verify_data)

    @classmethod
    def decode_body(cls, body: bytes, hash_len: int) -> Self:
        r = Reader(body, "Finished")
        vd = r.raw(hash_len, "verify_data")
        r.expect_end("Finished")
        return cls(vd)


@dataclass(frozen=True, slots=True)
class NewSessionTicket13:
    msg_type: ClassVar[int] = HandshakeType.new_session_ticket
    lifetime: int
    age_add: int
    nonce: bytes
    ticket: bytes
    extensions: tuple[Extension, ...] = ()

    def encode(self) -> bytes:
        w = Writer()
        w.u32(self.lifetime)
        w.u32(self.age_add)
        w.vector(1, self.nonce)
        w.vector(2, self.ticket)
        _extensions_block(w, self.extensions)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "NewSessionTicket")
        lifetime = r.u32("ticket_lifetime")
        age_add = r.u32("ticket_age_add")
        nonce = r.vector(1, "ticket_nonce")
        ticket = r.vector(2, "ticket")
        if not ticket:
            raise r.error("ticket", "empty")
        with r.block(r.u16("extensions.length"), "extensions") as ex:
            exts: list[Extension] = []
            while not ex.at_end():
                exts.append(Extension(ex.u16("type"), ex.vector(2, "data")))
        r.expect_end("NewSessionTicket")
        return cls(lifetime, age_add, nonce, ticket, tuple(exts))


@dataclass(frozen=True, slots=True)
class EndOfEarlyData:
    """The client's last message under the early traffic keys (§4.5): empty body."""

    msg_type: ClassVar[int] = HandshakeType.end_of_early_data

    def encode(self) -> bytes:
        return _frame(self.msg_type, b"")

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        Reader(body, "EndOfEarlyData").expect_end("EndOfEarlyData")
        return cls()


@dataclass(frozen=True, slots=True)
class KeyUpdate:
    msg_type: ClassVar[int] = HandshakeType.key_update
    request_update: bool

    def encode(self) -> bytes:
        return _frame(self.msg_type, bytes([1 if self.request_update else 0]))

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "KeyUpdate")
        v = r.u8("request_update")
        r.expect_end("KeyUpdate")
        if v > 1:  # §4.6.3: illegal_parameter, not decode_error
            raise TlsAlert(AlertDescription.illegal_parameter, f"KeyUpdate request_update {v}")
        return cls(v == 1)


__all__ = [
    "CLIENT_CV_CONTEXT",
    "DOWNGRADE_TLS11",
    "DOWNGRADE_TLS12",
    "HELLO_RETRY_REQUEST_RANDOM",
    "SERVER_CV_CONTEXT",
    "Certificate13",
    "CertificateEntry",
    "CertificateRequest13",
    "CertificateVerify",
    "EncryptedExtensions",
    "EndOfEarlyData",
    "Finished13",
    "KeyUpdate",
    "NewSessionTicket13",
    "certificate_verify_input",
    "encode_extensions",
    "message_hash",
]
