"""HTTP/1.1 messages as events, and the codec of their heads (RFC 9112 §2-§5).

A message on the wire is a head — start line, field lines, an empty line — then perhaps a
body. The events of a connection are :class:`Request` and :class:`Response` (the heads),
:class:`Data` (body bytes), :class:`EndOfMessage` (with any trailer fields) and
:class:`ConnectionClosed`. Heads are frozen dataclasses with ``encode() -> bytes`` and
``decode(bytes)``; decoding is strict (see :mod:`._abnf`) and raises
:class:`~.errors.HttpRemoteError` carrying the status to answer with. Encoding checks that
every name is a token and no value carries CR or LF, so a caller can never inject a field.

Names keep the case they were sent with; lookups are case-insensitive (RFC 9110 §5.1).
Heads are handled as latin-1 ``str``: one character per byte, so bytes round-trip exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Self

from . import _abnf
from .errors import BadRequest, HeadTooLarge, HttpLocalError, HttpRemoteError, VersionNotSupported

# RFC 9110 §15: the reason phrases we write (a client ignores them, RFC 9112 §4).
REASONS: dict[int, str] = {
    100: "Continue",
    101: "Switching Protocols",
    200: "OK",
    201: "Created",
    204: "No Content",
    206: "Partial Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}

DEFAULT_MAX_FIELDS = 100


@dataclass(frozen=True, slots=True)
class Headers:
    """An ordered list of ``(name, value)`` field lines (RFC 9110 §5.3: order matters)."""

    fields: tuple[tuple[str, str], ...] = ()
    # lower-cased name -> values, built on the first lookup (one pass over the fields)
    _index: dict[str, list[str]] | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]] = ()) -> Headers:
        return cls(tuple(pairs))

    def _lookup(self) -> dict[str, list[str]]:
        index = self._index
        if index is None:
            index = {}
            for n, v in self.fields:
                key = n.lower()
                if key in index:
                    index[key].append(v)
                else:
                    index[key] = [v]
            object.__setattr__(self, "_index", index)
        return index

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name`` (case-insensitive), or ``default``."""
        values = self._lookup().get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        return list(self._lookup().get(name.lower(), ()))

    def tokens(self, name: str) -> list[str]:
        """The lower-cased comma-separated list members of every ``name`` field (§5.6.1)."""
        out: list[str] = []
        for v in self.get_all(name):
            out.extend(t.strip().lower() for t in v.split(",") if t.strip())
        return out

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def with_field(self, name: str, value: str) -> Headers:
        return Headers((*self.fields, (name, value)))

    def encode_lines(self) -> str:
        """``name: value\\r\\n`` per field, after checking each against RFC 9110 §5."""
        token = _abnf.token_re.fullmatch
        value_ok = _abnf.field_value_re.fullmatch
        parts = []
        for n, v in self.fields:
            if token(n) is None:
                raise HttpLocalError(f"field name {n!r} is not a token (RFC 9110 §5.1)")
            if value_ok(v) is None:
                raise HttpLocalError(f"field {n} value {v!r} is not a field-value (RFC 9110 §5.5)")
            parts.append(f"{n}: {v}\r\n")
        return "".join(parts)


def parse_field_lines(lines: list[str], max_fields: int | None, what: str) -> Headers:
    """Parse field lines (RFC 9112 §5) strictly: no obs-fold, no space before the colon.

    ``max_fields`` None: no limit on the count (the head's size limit bounds it, as nginx's
    ``large_client_header_buffers`` does)."""
    if max_fields is not None and len(lines) > max_fields:
        raise HeadTooLarge(f"{what}: {len(lines)} field lines, more than {max_fields}")
    match = _abnf.field_line_re.fullmatch
    out = []
    for line in lines:
        m = match(line)
        if m is None:
            raise BadRequest(f"{what}: {_field_line_problem(line)}: {line[:60]!r}")
        out.append((m[1], m[2]))
    return Headers(tuple(out))


def _field_line_problem(line: str) -> str:
    if line[:1] in (" ", "\t"):
        return "obsolete line folding or whitespace before a field line (RFC 9112 §5.2)"
    if "\r" in line or "\n" in line:
        return "bare CR or LF (RFC 9112 §2.2)"
    name, colon, _ = line.partition(":")
    if not colon:
        return "field line without a colon (RFC 9112 §5)"
    if name != name.rstrip(" \t"):
        return "whitespace between field name and colon (RFC 9112 §5.1)"
    if _abnf.token_re.fullmatch(name) is None:
        return "field name is not a token (RFC 9110 §5.1)"
    return "field value has forbidden characters (RFC 9110 §5.5)"


def _split_head(data: bytes, what: str) -> list[str]:
    """The lines of a head that ends with an empty line (CRLF CRLF), decoded as latin-1."""
    if not data.endswith(b"\r\n\r\n"):
        raise BadRequest(f"{what}: head does not end with an empty line")
    return data[:-4].decode("latin-1").split("\r\n")


def _check_version(major: str, minor: str, what: str) -> str:
    if major != "1":
        raise VersionNotSupported(f"{what}: HTTP/{major}.{minor} is not HTTP/1.x", 505)
    return f"{major}.{minor}"


@dataclass(frozen=True, slots=True)
class Request:
    """A request head (RFC 9112 §3): method, request-target, version and fields."""

    method: str
    target: str
    headers: Headers = field(default_factory=Headers)
    version: str = "1.1"

    def encode(self) -> bytes:
        if _abnf.token_re.fullmatch(self.method) is None:
            raise HttpLocalError(f"method {self.method!r} is not a token (RFC 9110 §9.1)")
        if not self.target or any(c <= " " or c > "~" for c in self.target):
            raise HttpLocalError(f"request-target {self.target!r} has spaces or controls")
        if self.version not in ("1.0", "1.1"):
            raise HttpLocalError(f"we speak HTTP/1.0 and HTTP/1.1, not {self.version}")
        head = f"{self.method} {self.target} HTTP/{self.version}\r\n"
        return (head + self.headers.encode_lines() + "\r\n").encode("latin-1")

    @classmethod
    def decode(cls, data: bytes, max_fields: int | None = DEFAULT_MAX_FIELDS) -> Self:
        return cls.from_lines(_split_head(data, "request"), max_fields)

    @classmethod
    def from_lines(cls, lines: list[str], max_fields: int | None = DEFAULT_MAX_FIELDS) -> Self:
        line = lines[0]
        m = _abnf.request_line_re.fullmatch(line)
        if m is None:
            parts = line.split(" ")
            version = parts[-1] if len(parts) == 3 else ""
            if _abnf.loose_version_re.fullmatch(version) and not version.startswith("HTTP/1."):
                raise VersionNotSupported(f"request line {line[:80]!r}: unsupported version")
            raise BadRequest(f"malformed request line {line[:80]!r} (RFC 9112 §3)")
        version = _check_version(m[3], m[4], "request")
        headers = parse_field_lines(lines[1:], max_fields, "request")
        return cls(m[1], m[2], headers, version)


@dataclass(frozen=True, slots=True)
class Response:
    """A response head (RFC 9112 §4): version, status code, reason and fields."""

    status: int
    headers: Headers = field(default_factory=Headers)
    reason: str = ""
    version: str = "1.1"

    def encode(self) -> bytes:
        if not 100 <= self.status <= 999:
            raise HttpLocalError(f"status {self.status} is not three digits (RFC 9110 §15)")
        reason = self.reason or REASONS.get(self.status, "")
        if any(c in "\r\n" for c in reason):
            raise HttpLocalError("reason phrase with CR or LF")
        head = f"HTTP/{self.version} {self.status} {reason}\r\n"
        return (head + self.headers.encode_lines() + "\r\n").encode("latin-1")

    @classmethod
    def decode(cls, data: bytes, max_fields: int | None = DEFAULT_MAX_FIELDS) -> Self:
        return cls.from_lines(_split_head(data, "response"), max_fields)

    @classmethod
    def from_lines(cls, lines: list[str], max_fields: int | None = DEFAULT_MAX_FIELDS) -> Self:
        line = lines[0]
        m = _abnf.status_line_re.fullmatch(line)
        if m is None:
            raise HttpRemoteError(f"malformed status line {line[:80]!r} (RFC 9112 §4)")
        version = _check_version(m[1], m[2], "response")
        headers = parse_field_lines(lines[1:], max_fields, "response")
        return cls(int(m[3]), headers, m[4] or "", version)


@dataclass(frozen=True, slots=True)
class Data:
    """Body bytes (already de-chunked)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The body is complete; ``trailers`` are the fields after a chunked body (§7.1.2)."""

    trailers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed its sending side (or, sent, we close ours)."""


Event = Request | Response | Data | EndOfMessage | ConnectionClosed


class _Sentinel:
    name: ClassVar[str] = ""

    def __repr__(self) -> str:
        return self.name


class NeedData(_Sentinel):
    """``next_event`` needs more bytes from the peer first."""

    name = "NEED_DATA"


class Paused(_Sentinel):
    """``next_event`` waits for our side to finish its message (pipelined requests)."""

    name = "PAUSED"


NEED_DATA = NeedData()
PAUSED = Paused()
