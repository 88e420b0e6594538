"""HTTP/1.1 (RFC 9110, RFC 9112): a strict sans-IO codec and connection for both roles.

Public names are re-exported here; the modules behind them are implementation detail.
"""

from .connection import Framing, HttpConnection, Role, State
from .errors import (
    BadRequest,
    ContentTooLarge,
    HeadTooLarge,
    HttpLocalError,
    HttpRemoteError,
    NotImplementedCoding,
    UriTooLong,
    VersionNotSupported,
)
from .messages import (
    NEED_DATA,
    PAUSED,
    REASONS,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    Headers,
    Request,
    Response,
)

__all__ = [
    "NEED_DATA",
    "PAUSED",
    "REASONS",
    "BadRequest",
    "ConnectionClosed",
    "ContentTooLarge",
    "Data",
    "EndOfMessage",
    "Event",
    "Framing",
    "HeadTooLarge",
    "Headers",
    "HttpConnection",
    "HttpLocalError",
    "HttpRemoteError",
    "NotImplementedCoding",
    "Request",
    "Response",
    "Role",
    "State",
    "UriTooLong",
    "VersionNotSupported",
]
