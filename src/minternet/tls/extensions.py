"""Hello extensions (RFC 5246 §7.4.1.4) and the payloads we understand.

An extension is ``type(2) data<0..2^16-1>``; unknown ones are kept as they came.
Understood: server_name (RFC 6066 §3, checked strictly), supported_groups and
ec_point_formats (RFC 8422 §5.1), signature_algorithms (RFC 5246 §7.4.1.4.1, RFC 8446
§4.2.3 code points), ALPN (RFC 7301), encrypt_then_mac (RFC 7366), extended_master_secret
(RFC 7627), renegotiation_info (RFC 5746).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Self

from ..codec import Reader, Writer
from ..errors import ConfigError
from .alerts import AlertDescription, TlsAlert


class ExtensionType(IntEnum):
    server_name = 0
    status_request = 5
    supported_groups = 10
    ec_point_formats = 11
    signature_algorithms = 13
    application_layer_protocol_negotiation = 16
    signed_certificate_timestamp = 18
    padding = 21
    encrypt_then_mac = 22
    extended_master_secret = 23
    record_size_limit = 28
    session_ticket = 35
    pre_shared_key = 41
    early_data = 42
    supported_versions = 43
    cookie = 44
    psk_key_exchange_modes = 45
    certificate_authorities = 47
    post_handshake_auth = 49
    signature_algorithms_cert = 50
    key_share = 51
    renegotiation_info = 0xFF01


class NamedGroup(IntEnum):
    """RFC 8422 §5.1.1 / RFC 8446 §4.2.7."""

    secp256r1 = 23
    secp384r1 = 24
    secp521r1 = 25
    x25519 = 29
    x448 = 30
    ffdhe2048 = 256
    ffdhe3072 = 257
    ffdhe4096 = 258
    ffdhe6144 = 259
    ffdhe8192 = 260


@dataclass(frozen=True, slots=True)
class Extension:
    type: int
    data: bytes = b""

    def encode(self) -> bytes:
        return self.type.to_bytes(2, "big") + len(self.data).to_bytes(2, "big") + self.data

    @classmethod
    def decode(cls, data: bytes) -> Self:
        r = Reader(data, "TLS extension")
        ext = cls(r.u16("type"), r.vector(2, "data"))
        r.expect_end("extension")
        return ext

    @property
    def name(self) -> str:
        try:
            return ExtensionType(self.type).name
        except ValueError:
            return f"unknown_{self.type}"


def encode_extensions(w: Writer, exts: tuple[Extension, ...]) -> None:
    if not exts:
        return  # an absent list and an empty one differ; we send none when we have none
    with w.block(2):
        for e in exts:
            w.raw(e.encode())


def decode_extensions(r: Reader) -> tuple[Extension, ...]:
    """The optional extension list at the end of a hello (RFC 5246 §7.4.1.2)."""
    if r.at_end():
        return ()
    out: list[Extension] = []
    seen: set[int] = set()
    with r.block(r.u16("extensions.length"), "extensions") as sub:
        while not sub.at_end():
            t = sub.u16("extension.type")
            data = sub.vector(2, "extension.data")
            if t in seen:
                raise TlsAlert(AlertDescription.illegal_parameter, f"extension {t} twice")
            seen.add(t)
            out.append(Extension(t, data))
    r.expect_end("hello")
    return tuple(out)


def find(exts: tuple[Extension, ...], t: int) -> Extension | None:
    for e in exts:
        if e.type == t:
            return e
    return None


# -- server_name (RFC 6066 §3) ----------------------------------------------------------
def server_name(host: str) -> Extension:
    """SNI for ``host``; an internationalized name is sent as its A-labels (IDNA)."""
    try:
        name = host.rstrip(".").encode("idna")
    except UnicodeError as e:
        raise ConfigError(f"server name {host!r} is not a valid host name: {e}") from None
    w = Writer()
    with w.block(2):
        w.u8(0)  # host_name
        w.vector(2, name)
    return Extension(ExtensionType.server_name, w.getvalue())


def parse_server_name(data: bytes) -> str:
    """The one host_name in a ClientHello's server_name, checked strictly.

    An empty list or name is a decode_error; two host names, or a name that is not a
    printable ASCII DNS name (control characters, spaces, NUL, a trailing dot), is
    illegal_parameter (RFC 6066 §3: "MUST NOT contain more than one name of the same
    name_type"; "the trailing dot is not included").
    """
    r = Reader(data, "server_name")
    host: str | None = None
    with r.block(r.u16("server_name_list.length"), "server_name_list") as sub:
        if sub.at_end():
            raise TlsAlert(AlertDescription.decode_error, "empty server_name list")
        while not sub.at_end():
            name_type = sub.u8("name_type")
            name = sub.vector(2, "host_name")
            if name_type != 0:
                continue
            if host is not None:
                raise TlsAlert(AlertDescription.illegal_parameter, "two host names in SNI")
            if not name:
                raise TlsAlert(AlertDescription.decode_error, "empty host name in SNI")
            if any(b <= 0x20 or b >= 0x7F for b in name) or name.endswith(b"."):
                raise TlsAlert(AlertDescription.illegal_parameter, f"bad SNI host name {name!r}")
            host = name.decode("ascii")
    r.expect_end("server_name")
    if host is None:
        raise TlsAlert(AlertDescription.illegal_parameter, "no host_name in SNI")
    return host


# -- lists of 16-bit code points (supported_groups, signature_algorithms) ---------------
def u16_list(t: int, values: tuple[int, ...] | list[int]) -> Extension:
    w = Writer()
    with w.block(2):
        for v in values:
            w.u16(v)
    return Extension(t, w.getvalue())


def parse_u16_list(data: bytes, what: str) -> list[int]:
    r = Reader(data, what)
    out = []
    with r.block(r.u16("list.length"), "list") as sub:
        if sub.remaining() % 2 or sub.at_end():
            raise sub.error("list", "odd or empty list of 16-bit values")
        while not sub.at_end():
            out.append(sub.u16("value"))
    r.expect_end(what)
    return out


# -- ec_point_formats (RFC 8422 §5.1.2) --------------------------------------------------
def ec_point_formats() -> Extension:
    return Extension(ExtensionType.ec_point_formats, b"\x01\x00")  # uncompressed


def parse_ec_point_formats(data: bytes) -> list[int]:
    r = Reader(data, "ec_point_formats")
    formats = list(r.vector(1, "ec_point_format_list"))
    r.expect_end("ec_point_formats")
    if not formats:
        raise r.error("ec_point_format_list", "empty")
    return formats


# -- ALPN (RFC 7301 §3.1) ----------------------------------------------------------------
def alpn(protocols: tuple[str, ...] | list[str]) -> Extension:
    w = Writer()
    with w.block(2):
        for p in protocols:
            w.vector(1, p.encode())
    return Extension(ExtensionType.application_layer_protocol_negotiation, w.getvalue())


def parse_alpn(data: bytes) -> list[str]:
    r = Reader(data, "ALPN")
    out = []
    with r.block(r.u16("protocol_name_list.length"), "protocol_name_list") as sub:
        while not sub.at_end():
            name = sub.vector(1, "protocol_name")
            if not name:
                raise sub.error("protocol_name", "empty protocol name")
            out.append(name.decode("latin-1"))
    r.expect_end("ALPN")
    if not out:
        raise r.error("protocol_name_list", "empty")
    return out


# -- renegotiation_info (RFC 5746 §3.2) --------------------------------------------------
def renegotiation_info(verify_data: bytes = b"") -> Extension:
    return Extension(ExtensionType.renegotiation_info, bytes([len(verify_data)]) + verify_data)


def parse_renegotiation_info(data: bytes) -> bytes:
    r = Reader(data, "renegotiation_info")
    v = r.vector(1, "renegotiated_connection")
    r.expect_end("renegotiation_info")
    return v
