"""The error families of minternet, typed by blame (see style.md §4).

- :class:`DecodeError` — bytes on the wire do not parse. Always says which field at which
  offset is wrong. Decoders raise nothing else for bad input.
- :class:`RemoteProtocolError` — the peer broke the protocol. Carries what goes on the wire
  in answer (a TLS alert, an HTTP status, a DNS rcode) in subclasses of each protocol.
- :class:`LocalProtocolError` — our caller misused an API (e.g. send on a closed socket).
"""

from __future__ import annotations


class MinternetError(Exception):
    """Base of every error minternet raises on purpose."""


class DecodeError(MinternetError, ValueError):
    """Bytes that do not decode: names the protocol field and the byte offset."""

    def __init__(self, what: str, field: str, offset: int, reason: str) -> None:
        self.what = what
        self.field = field
        self.offset = offset
        self.reason = reason
        super().__init__(f"{what}: {field} at offset {offset}: {reason}")


class RemoteProtocolError(MinternetError):
    """The peer sent something the protocol forbids."""


class LocalProtocolError(MinternetError):
    """The local caller used an API in a way the protocol forbids."""


class ConfigError(MinternetError):
    """A world description, option or file given by the user is wrong (a one-line message)."""
