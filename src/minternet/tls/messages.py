"""Handshake messages (RFC 5246 §7.4) as frozen dataclasses, and their reassembly.

Each message is ``msg_type(1) length(3) body``. ``encode()`` gives the whole message
(header included, as hashed into the transcript); ``decode_body(body)`` parses a body
whose type the header already told. ClientKeyExchange has two shapes, chosen by the key
exchange (§7.4.7): :class:`EncryptedPreMasterSecret` (RSA) or :class:`ClientEcdhPublic`
(ECDHE, RFC 8422 §5.7). :class:`HandshakeBuffer` cuts a stream of handshake-record bytes
into messages: a message may span records and a record may hold several.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, Self

from ..codec import Reader, Writer
from ..errors import DecodeError
from .extensions import Extension, decode_extensions, encode_extensions

# A handshake message's length field is 24 bits (RFC 5246 §7.4), so 2^24 - 1 is the largest
# legal one; we buffer at most MAX_HANDSHAKE (configurable per server). 256 KiB holds the
# largest well-formed ClientHello (131,396 body bytes: 2^16 - 2 of cipher suites plus
# 2^16 - 1 of extensions, §7.4.1.2) with room to parse — not just refuse — a longer one.
HANDSHAKE_LENGTH_LIMIT = (1 << 24) - 1
MAX_HANDSHAKE = 256 * 1024


class HandshakeType(IntEnum):
    hello_request = 0
    client_hello = 1
    server_hello = 2
    new_session_ticket = 4
    end_of_early_data = 5
    encrypted_extensions = 8
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    finished = 20
    certificate_status = 22
    key_update = 24
    message_hash = 254


def _frame(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


@dataclass(frozen=True, slots=True)
class ClientHello:
    """RFC 5246 §7.4.1.2."""

    msg_type: ClassVar[int] = HandshakeType.client_hello
    version: int
    random: bytes
    session_id: bytes
    cipher_suites: tuple[int, ...]
    compression_methods: bytes = b"\x00"
    extensions: tuple[Extension, ...] = ()

    def encode(self) -> bytes:
        w = Writer()
        w.u16(self.version)
        w.raw(self.random)
        w.vector(1, self.session_id)
        with w.block(2):
            for s in self.cipher_suites:
                w.u16(s)
        w.vector(1, self.compression_methods)
        encode_extensions(w, self.extensions)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "ClientHello")
        version = r.u16("client_version")
        random = r.raw(32, "random")
        session_id = r.vector(1, "session_id")
        if len(session_id) > 32:
            raise r.error("session_id", "longer than 32 bytes")
        suites_raw = r.vector(2, "cipher_suites")
        if not suites_raw or len(suites_raw) % 2:
            raise r.error("cipher_suites", "empty or odd length")
        suites = tuple(
            int.from_bytes(suites_raw[i : i + 2], "big") for i in range(0, len(suites_raw), 2)
        )
        comp = r.vector(1, "compression_methods")
        if not comp:
            raise r.error("compression_methods", "empty")
        exts = decode_extensions(r)
        return cls(version, random, session_id, suites, comp, exts)


@dataclass(frozen=True, slots=True)
class ServerHello:
    """RFC 5246 §7.4.1.3."""

    msg_type: ClassVar[int] = HandshakeType.server_hello
    version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int = 0
    extensions: tuple[Extension, ...] = ()

    def encode(self) -> bytes:
        w = Writer()
        w.u16(self.version)
        w.raw(self.random)
        w.vector(1, self.session_id)
        w.u16(self.cipher_suite)
        w.u8(self.compression_method)
        encode_extensions(w, self.extensions)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "ServerHello")
        version = r.u16("server_version")
        random = r.raw(32, "random")
        session_id = r.vector(1, "session_id")
        if len(session_id) > 32:
            raise r.error("session_id", "longer than 32 bytes")
        suite = r.u16("cipher_suite")
        comp = r.u8("compression_method")
        exts = decode_extensions(r)
        return cls(version, random, session_id, suite, comp, exts)


@dataclass(frozen=True, slots=True)
class Certificate:
    """RFC 5246 §7.4.2: the chain, DER certificates, sender's own first."""

    msg_type: ClassVar[int] = HandshakeType.certificate
    chain: tuple[bytes, ...]

    def encode(self) -> bytes:
        w = Writer()
        with w.block(3):
            for cert in self.chain:
                w.vector(3, cert)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "Certificate")
        certs = []
        with r.block(r.u24("certificate_list.length"), "certificate_list") as sub:
            while not sub.at_end():
                cert = sub.vector(3, "ASN.1Cert")
                if not cert:
                    raise sub.error("ASN.1Cert", "empty certificate")
                certs.append(cert)
        r.expect_end("Certificate")
        return cls(tuple(certs))


@dataclass(frozen=True, slots=True)
class ServerKeyExchange:
    """RFC 8422 §5.4: ECDHE parameters (named curve + point) and their signature."""

    msg_type: ClassVar[int] = HandshakeType.server_key_exchange
    named_curve: int
    public: bytes
    signature_scheme: int
    signature: bytes

    def params(self) -> bytes:
        """``ServerECDHParams`` as signed: curve_type named_curve(3), the group, the point."""
        return (
            b"\x03" + self.named_curve.to_bytes(2, "big") + bytes([len(self.public)]) + self.public
        )

    def encode(self) -> bytes:
        w = Writer()
        w.raw(self.params())
        w.u16(self.signature_scheme)
        w.vector(2, self.signature)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "ServerKeyExchange")
        curve_type = r.u8("curve_type")
        if curve_type != 3:
            raise r.error("curve_type", f"{curve_type} is not named_curve (3)")
        curve = r.u16("namedcurve")
        public = r.vector(1, "public")
        if not public:
            raise r.error("public", "empty point")
        scheme = r.u16("signature_algorithm")
        sig = r.vector(2, "signature")
        r.expect_end("ServerKeyExchange")
        return cls(curve, public, scheme, sig)


@dataclass(frozen=True, slots=True)
class CertificateRequest:
    """RFC 5246 §7.4.4 (parsed so that a server asking for one gets a clear answer)."""

    msg_type: ClassVar[int] = HandshakeType.certificate_request
    certificate_types: bytes
    signature_schemes: tuple[int, ...]
    authorities: bytes

    def encode(self) -> bytes:
        w = Writer()
        w.vector(1, self.certificate_types)
        w.vector(2, b"".join(s.to_bytes(2, "big") for s in self.signature_schemes))
        w.vector(2, self.authorities)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "CertificateRequest")
        types = r.vector(1, "certificate_types")
        algs = r.vector(2, "supported_signature_algorithms")
        if len(algs) % 2:
            raise r.error("supported_signature_algorithms", "odd length")
        auth = r.vector(2, "certificate_authorities")
        r.expect_end("CertificateRequest")
        schemes = tuple(int.from_bytes(algs[i : i + 2], "big") for i in range(0, len(algs), 2))
        return cls(types, schemes, auth)


@dataclass(frozen=True, slots=True)
class ServerHelloDone:
    """RFC 5246 §7.4.5: empty."""

    msg_type: ClassVar[int] = HandshakeType.server_hello_done

    def encode(self) -> bytes:
        return _frame(self.msg_type, b"")

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        Reader(body, "ServerHelloDone").expect_end("ServerHelloDone")
        return cls()


@dataclass(frozen=True, slots=True)
class HelloRequest:
    """RFC 5246 §7.4.1.1: empty; we answer it with no_renegotiation."""

    msg_type: ClassVar[int] = HandshakeType.hello_request

    def encode(self) -> bytes:
        return _frame(self.msg_type, b"")

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        Reader(body, "HelloRequest").expect_end("HelloRequest")
        return cls()


@dataclass(frozen=True, slots=True)
class EncryptedPreMasterSecret:
    """RFC 5246 §7.4.7.1: the RSA-encrypted pre-master secret."""

    msg_type: ClassVar[int] = HandshakeType.client_key_exchange
    encrypted: bytes

    def encode(self) -> bytes:
        w = Writer()
        w.vector(2, self.encrypted)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "ClientKeyExchange")
        enc = r.vector(2, "EncryptedPreMasterSecret")
        r.expect_end("ClientKeyExchange")
        if not enc:
            raise r.error("EncryptedPreMasterSecret", "empty")
        return cls(enc)


@dataclass(frozen=True, slots=True)
class ClientEcdhPublic:
    """RFC 8422 §5.7: the client's ephemeral ECDH public value."""

    msg_type: ClassVar[int] = HandshakeType.client_key_exchange
    public: bytes

    def encode(self) -> bytes:
        w = Writer()
        w.vector(1, self.public)
        return _frame(self.msg_type, w.getvalue())

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "ClientKeyExchange")
        pub = r.vector(1, "ecdh_Yc")
        r.expect_end("ClientKeyExchange")
        if not pub:
            raise r.error("ecdh_Yc", "empty point")
        return cls(pub)


@dataclass(frozen=True, slots=True)
class Finished:
    """RFC 5246 §7.4.9: 12 bytes of verify_data."""

    msg_type: ClassVar[int] = HandshakeType.finished
    verify_data: bytes

    def encode(self) -> bytes:
        return _frame(self.msg_type, self.verify_data)

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        r = Reader(body, "Finished")
        vd = r.raw(12, "verify_data")
        r.expect_end("Finished")
        return cls(vd)


@dataclass(frozen=True, slots=True)
class RawHandshake:
    """One reassembled message: its type, body and the exact bytes (for the transcript)."""

    msg_type: int
    body: bytes
    raw: bytes

    @property
    def name(self) -> str:
        try:
            return HandshakeType(self.msg_type).name
        except ValueError:
            return f"handshake_{self.msg_type}"


@dataclass
class HandshakeBuffer:
    """Reassembles handshake messages from the bytes of consecutive handshake records.

    A message longer than ``limit`` is refused as soon as its header arrives, so at most
    ``limit`` bytes plus one record are ever held.
    """

    limit: int = MAX_HANDSHAKE
    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def pending(self) -> bool:
        return bool(self._buf)

    def next_message(self) -> RawHandshake | None:
        buf = self._buf
        if len(buf) < 4:
            return None
        length = int.from_bytes(buf[1:4], "big")
        if length > self.limit:
            raise DecodeError(
                "TLS handshake", "length", 1, f"message of {length} bytes (limit {self.limit})"
            )
        if len(buf) < 4 + length:
            return None
        raw = bytes(buf[: 4 + length])
        del buf[: 4 + length]
        return RawHandshake(raw[0], raw[4:], raw)
