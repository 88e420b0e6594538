"""TLS alerts (RFC 5246 §7.2) and the one table that maps an error to the alert we send.

Every error a TLS machine meets ends as exactly one fatal alert on the wire. A
:class:`TlsAlert` carries its description; any other error is looked up in
:data:`ERROR_ALERTS` by :func:`alert_for` — the single place where blame becomes an alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Self

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm

from ..codec import Reader
from ..errors import DecodeError, RemoteProtocolError


class AlertLevel(IntEnum):
    """RFC 5246 §7.2."""

    warning = 1
    fatal = 2


class AlertDescription(IntEnum):
    """RFC 5246 §7.2 plus RFC 5746 (no_renegotiation), RFC 7301 (ALPN), RFC 8446 names."""

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    decryption_failed_RESERVED = 21
    record_overflow = 22
    decompression_failure_RESERVED = 30
    handshake_failure = 40
    no_certificate_RESERVED = 41
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    export_restriction_RESERVED = 60
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86
    user_canceled = 90
    no_renegotiation = 100
    missing_extension = 109
    unsupported_extension = 110
    unrecognized_name = 112
    unknown_psk_identity = 115
    no_application_protocol = 120


def alert_name(code: int) -> str:
    """``"bad_record_mac (20)"``, or ``"alert 200"`` for a code we do not know."""
    try:
        return f"{AlertDescription(code).name} ({code})"
    except ValueError:
        return f"alert {code}"


class TlsAlert(RemoteProtocolError):
    """A protocol error answered by a fatal alert with :attr:`description`."""

    def __init__(self, description: AlertDescription, reason: str) -> None:
        self.description = description
        self.reason = reason
        super().__init__(f"{description.name}: {reason}")


# The one error→alert table (anything not listed is our own fault: internal_error).
ERROR_ALERTS: dict[type[BaseException], AlertDescription] = {
    DecodeError: AlertDescription.decode_error,  # RFC 5246 §7.2.2: a message that won't parse
    InvalidTag: AlertDescription.bad_record_mac,  # an AEAD record that does not authenticate
    InvalidSignature: AlertDescription.decrypt_error,  # a signature that does not verify
    UnsupportedAlgorithm: AlertDescription.unsupported_certificate,  # a key type we lack
}


def alert_for(exc: BaseException) -> AlertDescription:
    """The fatal alert that answers ``exc``."""
    if isinstance(exc, TlsAlert):
        return exc.description
    for cls in type(exc).__mro__:
        if cls in ERROR_ALERTS:
            return ERROR_ALERTS[cls]
    return AlertDescription.internal_error


@dataclass(frozen=True, slots=True)
class Alert:
    """The two-byte alert message carried in an alert record."""

    level: int
    description: int

    def encode(self) -> bytes:
        return bytes((self.level, self.description))

    @classmethod
    def decode(cls, data: bytes) -> Self:
        r = Reader(data, "TLS alert")
        level = r.u8("level")
        desc = r.u8("description")
        r.expect_end("alert")
        if level not in (1, 2):
            raise TlsAlert(AlertDescription.illegal_parameter, f"alert level {level}")
        return cls(level, desc)
