"""HTTP errors, typed by blame, carrying the status code to answer with (style.md §4).

A :class:`HttpRemoteError` means the peer sent bytes HTTP/1.1 forbids; its ``status`` is what a
server answers (400, 413, 414, 431, 501, 505) before it closes. A :class:`HttpLocalError` means our
own caller misused the connection (a body longer than its Content-Length, a request sent
twice); it is a bug in the caller, never something the peer can cause.
"""

from __future__ import annotations

from ..errors import LocalProtocolError, RemoteProtocolError


class HttpRemoteError(RemoteProtocolError):
    """The peer broke HTTP/1.1; ``status`` is the response a server sends before closing."""

    status = 400
    reason = "Bad Request"

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class BadRequest(HttpRemoteError):
    """Malformed syntax or framing (RFC 9110 §15.5.1): 400."""


class ContentTooLarge(HttpRemoteError):
    """A body bigger than we accept (RFC 9110 §15.5.14): 413."""

    status = 413
    reason = "Content Too Large"


class HeadTooLarge(HttpRemoteError):
    """Header section too big or with too many fields (RFC 6585 §5): 431."""

    status = 431
    reason = "Request Header Fields Too Large"


class UriTooLong(HttpRemoteError):
    """A request-target longer than we read (RFC 9110 §15.5.15): 414."""

    status = 414
    reason = "URI Too Long"


class NotImplementedCoding(HttpRemoteError):
    """A transfer coding we do not implement (RFC 9112 §6.1): 501."""

    status = 501
    reason = "Not Implemented"


class VersionNotSupported(HttpRemoteError):
    """A major version other than 1 (RFC 9110 §15.6.6): 505."""

    status = 505
    reason = "HTTP Version Not Supported"


class HttpLocalError(LocalProtocolError):
    """Our caller used the HTTP connection in a way HTTP/1.1 forbids."""
