"""An nginx-like static web server over any :class:`~.streams.ByteStream` (TCP or TLS).

What it does, as nginx does with a plain ``root`` and ``index`` configuration:

- ``GET`` and ``HEAD`` of files under the site root, ``index.html`` for a directory, ``301``
  with ``Location`` to add the slash to a directory, ``404``, ``403`` for a directory without
  an index, ``400`` for a path that climbs above the root (``/../``, ``%2e%2e``), ``405`` with
  ``Allow`` for other known methods and ``501`` for unknown ones (RFC 9110 §9.1, §15.5.6);
- ``Server``, ``Date``, ``Content-Type`` from the extension, ``Content-Length``,
  ``Last-Modified`` and ``ETag`` (nginx's ``"mtime-size"`` form), ``Accept-Ranges: bytes``,
  byte ranges (``206``, several as ``multipart/byteranges``, ``416``; RFC 9110 §14),
  conditional ``GET``/``HEAD`` answered ``304`` (``If-None-Match`` first, else
  ``If-Modified-Since``, RFC 9110 §13.2.2); ``Expect: 100-continue`` answered ``100``
  before a request body is read (RFC 9110 §10.1.1), other expectations ``417``;
- deadlines as nginx's: ``client_header_timeout`` for a whole head (from the connection's
  start or the head's first byte: a client trickling bytes does not restart it; ``408``),
  ``client_body_timeout`` between reads of a body, ``keepalive_timeout`` for an idle
  connection, ``send_timeout`` between two writes the client takes nothing of (then the
  connection is reset and its buffers freed); a request limit (``keepalive_requests``);
  HTTP/1.0 answered and closed unless it asked for keep-alive; a malformed request answered
  with the status its error carries (400/413/414/431/501/505) and the connection closed;
- files streamed, ``output_buffer`` bytes at a time, each write awaited before the next read
  (back-pressure): memory per connection is bounded whatever the file's size, and ``HEAD``
  or a range reads nothing it does not send. A small response is head and body in one write,
  so it fits one TLS record.

Dates come from ``clock()`` (POSIX seconds) given by the caller — in the simulator an epoch
plus the virtual clock. Each response is an access-log trace event (layer ``http``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import cast
from urllib.parse import quote

from ..errors import MinternetError
from ..http import (
    NEED_DATA,
    REASONS,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Framing,
    Headers,
    HttpConnection,
    HttpRemoteError,
    Request,
    Response,
    Role,
    State,
)
from ..http.dates import format_http_date, parse_http_date
from ..loop import EventLoop, Future, LoopTimeout
from ..node.api import Listener, StreamSocket
from ..trace.bus import TraceBus
from .site import Site, SiteEntry, SiteFile
from .streams import ByteStream, as_future

Accept = Callable[[StreamSocket], Awaitable[ByteStream]]
"""``await secure(sock)`` runs the server side of a TLS handshake and gives the stream."""

SERVER_NAME = "minternet-nginx/0.1"
LINGER_TIME = 2.0  # nginx lingering_time is 30 s; a demo server waits less
LINGER_BYTES = 1 << 20
PEER_FIN_WAIT = 1.0

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "htm": "text/html; charset=utf-8",
    "css": "text/css",
    "js": "application/javascript",
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "ico": "image/x-icon",
    "webp": "image/webp",
    "woff2": "font/woff2",
    "pdf": "application/pdf",
    "xml": "application/xml",
    "wasm": "application/wasm",
}
DEFAULT_TYPE = "application/octet-stream"

# RFC 9110 §9.3: the methods a server knows; of them we implement GET and HEAD.
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
ALLOW = "GET, HEAD"
# RFC 9110 §14.1.2: int-range = first-pos "-" [ last-pos ] ; suffix-range = "-" suffix-length
_RANGE_SPEC = re.compile(r"([0-9]{0,18})-([0-9]{0,18})")
# RFC 3986 §3.3: what a path segment may carry unencoded (pchar less pct-encoded).
_PCHAR_SAFE = "!$&'()*+,;=:@-._~"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Limits and timeouts (seconds), named after the nginx directives they mirror (and
    with nginx's defaults)."""

    server_name: str = SERVER_NAME
    keepalive_timeout: float = 75.0  # idle time between requests before we close
    client_header_timeout: float = 60.0  # a whole head, from its start (or accept) → 408
    client_body_timeout: float = 60.0  # between two reads of a request body → 408
    send_timeout: float = 60.0  # between two writes the client takes nothing of → reset
    keepalive_requests: int = 1000  # requests per connection, then Connection: close
    max_head: int = 16 * 1024  # large_client_header_buffers-like limit → 431
    max_request_line: int = 8 * 1024  # one large_client_header_buffers buffer → 414
    # nginx limits the head's size, not its number of fields; so do we (None: no count).
    max_fields: int | None = None
    client_max_body_size: int = 1024 * 1024  # → 413
    index: str = "index.html"
    # a TLS handshake must finish within this from accept (nginx ssl_handshake_timeout: 60 s;
    # under heavy loss TCP's backed-off retransmissions alone can take tens of seconds)
    handshake_timeout: float = 60.0
    # Bytes of a file read and written at a time (nginx's output_buffers). None: a whole
    # response in one write — the simulator's choice, where memory is no one's to exhaust
    # and one write per response keeps a run's segments as they always were.
    output_buffer: int | None = 64 * 1024
    max_ranges: int = 16  # more ranges than this (or overlapping ones) get the whole file


class BadPath(MinternetError):
    """A request path that cannot name a file under the root (answered 400)."""


class SendTimeout(MinternetError):
    """The client took none of our bytes for ``send_timeout`` seconds."""


class FileChanged(MinternetError):
    """A file ended before the length its response announced (it shrank meanwhile)."""


def path_segments(target: str) -> tuple[tuple[str, ...], bool, str]:
    """``(segments, ends_with_slash, query)`` of an origin- or absolute-form target.

    Percent-decoding (RFC 3986 §2.1) happens before dot-segment removal (§5.2.4), as nginx
    does, so ``%2e%2e`` climbs like ``..``; climbing above the root is :class:`BadPath`.
    """
    if not target.startswith("/"):
        scheme_end = target.find("://")
        slash = target.find("/", scheme_end + 3) if scheme_end >= 0 else -1
        target = target[slash:] if slash >= 0 else "/"
    path, _, query = target.partition("?")
    raw = _percent_decode(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPath("path is not UTF-8") from None
    if "\x00" in text:
        raise BadPath("NUL in path")
    out: list[str] = []
    for seg in text.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if not out:
                raise BadPath("path climbs above the root")
            out.pop()
            continue
        out.append(seg)
    ends_with_slash = text.endswith("/") or text.endswith("/.") or text.endswith("/..")
    return tuple(out), ends_with_slash, query


def _percent_decode(path: str) -> bytes:
    b = path.encode("latin-1")
    if b"%" not in b:
        return b
    parts = b.split(b"%")
    out = bytearray(parts[0])
    for part in parts[1:]:
        try:
            out.append(int(part[:2], 16))
        except ValueError:
            raise BadPath("bad percent-encoding") from None
        if len(part) < 2:
            raise BadPath("bad percent-encoding")
        out += part[2:]
    return bytes(out)


def entity_tag(entry: SiteEntry) -> str:
    """nginx's strong validator: ``"<mtime hex>-<size hex>"`` (RFC 9110 §8.8.3)."""
    return f'"{int(entry.mtime):x}-{entry.size:x}"'


def _etag_matches(header: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: If-None-Match uses the weak comparison."""
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in header.split(","))


def _error_page(status: int, reason: str, server: str) -> bytes:
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>{server}</center>\r\n"
        f"</body>\r\n</html>\r\n"
    ).encode()


Span = bytes | tuple[int, int]
"""A piece of a response's content: literal bytes, or ``(offset, length)`` of its file."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A response decided by :meth:`WebServer.respond`: status, fields and the content.

    The content is ``body`` (an error page), or when ``file`` is set the ``spans`` of that
    file of the site, read only when they are sent.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    close: bool = False
    file: tuple[str, ...] | None = None
    spans: tuple[Span, ...] = ()

    @property
    def length(self) -> int:
        """The content's length (what Content-Length says)."""
        if self.file is None:
            return len(self.body)
        return sum(len(s) if isinstance(s, bytes) else s[1] for s in self.spans)


class WebServer:
    """Serves a :class:`Site`; :meth:`serve_connection` runs one connection to its end."""

    def __init__(
        self,
        site: Site,
        loop: EventLoop,
        clock: Callable[[], float],
        trace: TraceBus | None = None,
        node: str = "server",
        config: ServerConfig | None = None,
    ) -> None:
        self.site = site
        self.loop = loop
        self.clock = clock
        self.trace = trace or TraceBus()
        self.node = node
        self.config = config or ServerConfig()
        self.connections = 0
        self.requests = 0

    # -- deciding the response (no I/O but the Site) ------------------------------------
    def respond(self, req: Request) -> Reply:
        """The answer to one request, by RFC 9110 and nginx's static-file habits."""
        method = req.method
        if method not in ("GET", "HEAD"):
            if method in KNOWN_METHODS:
                return self._error(405, [("Allow", ALLOW)])
            return self._error(501)
        try:
            parts, slash, query = path_segments(req.target)
        except BadPath:
            return self._error(400)
        entry = self.site.stat(parts)
        if entry is not None and entry.kind == "dir":
            if not slash:
                # The segments are decoded text: encode them again (RFC 3986 §2.1, UTF-8),
                # so that a "?" or a non-ASCII letter of a name stays part of the path.
                path = "".join("/" + quote(p, safe=_PCHAR_SAFE) for p in parts)
                location = path + "/" + (f"?{query}" if query else "")
                return self._error(301, [("Location", location)])
            parts = (*parts, self.config.index)
            slash = False
            entry = self.site.stat(parts)
            if entry is None:
                return self._error(403)
        if entry is None or entry.kind != "file" or slash:
            return self._error(404)
        return self._file(req, parts, entry)

    def read_content(self, reply: Reply) -> bytes:
        """A reply's whole content, read now (for a small reply; the server itself streams)."""
        if reply.file is None:
            return reply.body
        f = self.site.open(reply.file)
        try:
            return b"".join(s if isinstance(s, bytes) else f.read_at(*s) for s in reply.spans)
        finally:
            f.close()

    def _file(self, req: Request, parts: tuple[str, ...], entry: SiteEntry) -> Reply:
        etag = entity_tag(entry)
        last_modified = format_http_date(entry.mtime)
        ext = parts[-1].rpartition(".")[2].lower() if "." in parts[-1] else ""
        fields = [
            ("Content-Type", CONTENT_TYPES.get(ext, DEFAULT_TYPE)),
            ("Last-Modified", last_modified),
            ("ETag", etag),
        ]
        h = req.headers
        # RFC 9110 §13.2.2: If-None-Match, and only without it If-Modified-Since.
        inm = h.get("if-none-match")
        if inm is not None:
            not_modified = _etag_matches(inm, etag)
        else:
            ims = h.get("if-modified-since")
            since = parse_http_date(ims) if ims is not None else None
            not_modified = since is not None and int(entry.mtime) <= since
        if not_modified:
            return Reply(304, [(n, v) for n, v in fields if n != "Content-Type"])
        size = entry.size
        status = 200
        spans: tuple[Span, ...] = ((0, size),)
        rng = h.get("range")
        if rng is not None and req.method == "GET" and self._if_range_ok(h, etag, last_modified):
            ranges = byte_ranges(rng, size, self.config.max_ranges)
            if isinstance(ranges, str):
                return self._error(416, [("Content-Range", f"bytes */{size}")])
            if ranges is not None and len(ranges) == 1:
                first, last = ranges[0]
                spans = ((first, last - first + 1),)
                status = 206
                fields.append(("Content-Range", f"bytes {first}-{last}/{size}"))
            elif ranges is not None:
                status = 206
                boundary = hashlib.sha256(f"{etag} {rng}".encode()).hexdigest()[:20]
                spans = multipart_spans(ranges, size, fields[0][1], boundary)
                fields[0] = ("Content-Type", f"multipart/byteranges; boundary={boundary}")
        reply = Reply(status, fields, file=parts, spans=spans)
        fields.append(("Content-Length", str(reply.length)))
        fields.append(("Accept-Ranges", "bytes"))
        return reply

    @staticmethod
    def _if_range_ok(h: Headers, etag: str, last_modified: str) -> bool:
        """RFC 9110 §13.1.5: a Range applies only if If-Range (when present) still matches."""
        cond = h.get("if-range")
        return cond is None or cond in (etag, last_modified)

    def _error(self, status: int, extra: list[tuple[str, str]] | None = None) -> Reply:
        reason = REASONS.get(status, "")
        body = b"" if status == 304 else _error_page(status, reason, self.config.server_name)
        fields = [("Content-Type", "text/html"), ("Content-Length", str(len(body)))]
        return Reply(status, fields + (extra or []), body, close=status in (400, 408, 417))

    # -- running a connection ------------------------------------------------------------
    async def serve_connection(self, stream: ByteStream, peer: str = "") -> None:
        """Serve requests on ``stream`` until the client closes, a limit or an error."""
        self.connections += 1
        cfg = self.config
        loop = self.loop
        conn = HttpConnection(
            Role.SERVER,
            max_head=cfg.max_head,
            max_fields=cfg.max_fields,
            max_body=cfg.client_max_body_size,
            max_request_line=cfg.max_request_line,
        )
        served = 0
        request: Request | None = None
        # When the head being read must be complete: from the connection's start for the
        # first request, from its first byte for the next ones (None: idle, no head begun).
        head_deadline: float | None = loop.now() + cfg.client_header_timeout
        try:
            while True:
                try:
                    event = conn.next_event()
                except HttpRemoteError as e:
                    reply = self._protocol_error(e, peer)
                    await self._send_reply(conn, stream, peer, None, reply)
                    break
                if event is NEED_DATA:
                    reading_head = conn.their_state is State.IDLE
                    if not reading_head:
                        timeout = cfg.client_body_timeout
                    elif head_deadline is not None:
                        timeout = max(0.0, head_deadline - loop.now())
                    else:
                        timeout = cfg.keepalive_timeout
                    try:
                        data = await loop.wait_for(stream.recv(65536), timeout)
                    except LoopTimeout:
                        partial = not reading_head or conn.buffered > 0
                        self._log("timeout", peer, partial=partial)
                        if partial and conn.our_state is State.IDLE:
                            await self._send_reply(conn, stream, peer, request, self._error(408))
                        break
                    if reading_head and head_deadline is None and data:
                        head_deadline = loop.now() + cfg.client_header_timeout
                    conn.receive_data(data)
                    continue
                if isinstance(event, Request):
                    request = event
                    head_deadline = None
                    refusal = await self._expectation(conn, stream, event)
                    if refusal is not None:
                        await self._send_reply(conn, stream, peer, event, refusal)
                        break
                    continue
                if isinstance(event, Data):
                    continue  # request bodies are read and dropped: we serve static files
                if isinstance(event, EndOfMessage) and request is not None:
                    served += 1
                    self.requests += 1
                    reply = self.respond(request)
                    last = served >= cfg.keepalive_requests
                    await self._send_reply(conn, stream, peer, request, reply, last=last)
                    request = None
                    if conn.our_state is not State.IDLE:
                        break  # MUST_CLOSE: Connection: close, HTTP/1.0, or an error reply
                    if conn.buffered:  # a pipelined head has begun already
                        head_deadline = loop.now() + cfg.client_header_timeout
                    continue
                if isinstance(event, ConnectionClosed):
                    break
                break  # PAUSED with a connection that must close
        except (MinternetError, OSError, LoopTimeout) as e:
            # The peer vanished mid-exchange (RST, TLS alert, closed pipe) or read nothing
            # for send_timeout: drop the connection, and its buffers with it.
            self._log("error", peer, error=str(e) or type(e).__name__)
            _transport(stream).abort()
            return
        # (no ``finally``: a task cancelled or a coroutine discarded must not await here)
        await self._close(stream, linger=conn.their_state is not State.CLOSED)

    async def _expectation(
        self, conn: HttpConnection, stream: ByteStream, req: Request
    ) -> Reply | None:
        """RFC 9110 §10.1.1: answer ``100 Continue`` to a client that waits for it before
        sending its body; an expectation we do not know is refused (417). An HTTP/1.0
        request's Expect is ignored, as the RFC says."""
        if req.version != "1.1" or "expect" not in req.headers:
            return None
        if req.headers.tokens("expect") != ["100-continue"]:
            return self._error(417)
        if conn.their_framing is not Framing.NONE and conn.buffered == 0:
            await self._write(stream, conn.send(Response(100)))
        return None

    def _protocol_error(self, e: HttpRemoteError, peer: str) -> Reply:
        reply = self._error(e.status)
        self.trace.emit(
            self.loop.now(), self.node, "http", "bad-request",
            {"peer": peer, "status": e.status}, why=str(e),
        )  # fmt: skip
        return Reply(reply.status, reply.headers, reply.body, close=True)

    def _open(self, reply: Reply) -> tuple[Reply, SiteFile | None]:
        """The reply's file, opened; a file gone since it was looked at gets 404 (403 if it
        may not be read, 500 otherwise), as nginx answers a failed ``open``."""
        if reply.file is None:
            return reply, None
        try:
            return reply, self.site.open(reply.file)
        except FileNotFoundError:
            return self._error(404), None
        except PermissionError:
            return self._error(403), None
        except OSError:
            return self._error(500), None

    async def _send_reply(
        self,
        conn: HttpConnection,
        stream: ByteStream,
        peer: str,
        req: Request | None,
        reply: Reply,
        *,
        last: bool = False,
    ) -> None:
        head_only = req is not None and req.method == "HEAD"
        file = None
        if not head_only:
            reply, file = self._open(reply)
        try:
            close = reply.close or last or not conn.keep_alive or conn.their_state is State.ERROR
            fields = [("Server", self.config.server_name), ("Date", format_http_date(self.clock()))]
            fields += reply.headers
            http10 = conn.their_version == "1.0"
            if close:
                fields.append(("Connection", "close"))
            elif http10 or req is not None:
                fields.append(("Connection", "keep-alive"))
            response = Response(reply.status, Headers(tuple(fields)))
            self._log(
                "response",
                peer,
                method=req.method if req else "-",
                target=req.target if req else "-",
                version=f"HTTP/{conn.their_version or '1.1'}",
                status=reply.status,
                bytes=0 if head_only else reply.length,
                user_agent=req.headers.get("user-agent", "-") if req else "-",
            )
            if conn.their_state is State.IDLE:
                # A timeout reply (408) to a head that never completed: no request to answer
                # in the state machine, and the connection closes right after.
                await self._write(stream, response.encode() + reply.body)
                return
            head = conn.send(response)
            if head_only or reply.status == 304:
                await self._write(stream, head + conn.send(EndOfMessage()))
                return
            await self._write_content(conn, stream, head, reply, file)
        finally:
            if file is not None:
                file.close()

    async def _write_content(
        self, conn: HttpConnection, stream: ByteStream, head: bytes, reply: Reply,
        file: SiteFile | None,
    ) -> None:  # fmt: skip
        """Head and content, ``output_buffer`` bytes per write, each write awaited before the
        next piece is read (back-pressure: a client that reads slowly holds one buffer)."""
        chunk = self.config.output_buffer
        pending = bytearray(head)
        spans = reply.spans if reply.file is not None else (reply.body,)
        for span in spans:
            if isinstance(span, bytes):
                if span:
                    pending += conn.send(Data(span))
                continue
            assert file is not None
            offset, left = span
            while left:
                piece = file.read_at(offset, left if chunk is None else min(left, chunk))
                if not piece:
                    raise FileChanged(f"{'/'.join(reply.file or ())} shrank while being sent")
                pending += conn.send(Data(piece))
                offset += len(piece)
                left -= len(piece)
                if chunk is not None and len(pending) >= chunk:
                    await self._write(stream, bytes(pending))
                    pending.clear()
        pending += conn.send(EndOfMessage())
        if pending:
            await self._write(stream, bytes(pending))

    async def _write(self, stream: ByteStream, data: bytes) -> None:
        """One write, which the client must take within ``send_timeout`` (nginx's
        ``send_timeout``: the time between two successful writes): else the connection is
        reset, which frees what it held."""
        timeout = self.config.send_timeout
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            _transport(stream).abort()

        timer = self.loop.call_later(timeout, expire)
        try:
            await stream.send(data)
        except (MinternetError, OSError):
            if expired:
                msg = f"the client took nothing for {timeout:g} s (send_timeout)"
                raise SendTimeout(msg) from None
            raise
        finally:
            timer.cancel()

    def _log(self, kind: str, peer: str, **fields: object) -> None:
        if self.trace.active:
            self.trace.emit(self.loop.now(), self.node, "http", kind, {"peer": peer, **fields})

    async def _close(self, stream: ByteStream, linger: bool) -> None:
        """Close; when the client may still be sending, half-close first and drain what it
        sends for a moment, so our last response is not destroyed by a TCP RST for unread
        data (RFC 9112 §9.6, nginx's lingering close)."""
        try:
            shutdown = getattr(stream, "shutdown", None)
            if linger and callable(shutdown):
                shutdown()
                deadline = self.loop.now() + LINGER_TIME
                drained = 0
                while drained < LINGER_BYTES and self.loop.now() < deadline:
                    left = deadline - self.loop.now()
                    chunk = await self.loop.wait_for(stream.recv(65536), left)
                    if not chunk:
                        break
                    drained += len(chunk)
        except (MinternetError, OSError, LoopTimeout):
            pass
        transport = getattr(stream, "sock", None)
        tls_closed = getattr(stream, "closed", None)
        if (
            not linger
            and transport is not None
            and not (tls_closed is not None and tls_closed.alert_sent)
        ):
            # A TLS stream whose peer sent close_notify: wait (briefly) for the peer's FIN
            # before closing, so that our FIN answers it — the four-way close of the seed
            # (CLOSE-WAIT, then LAST-ACK) instead of two FINs crossing on the wire. After a
            # fatal alert of ours there is nothing to wait for (RFC 5246 §7.2.2: the
            # connection is over): close as soon as the alert is flushed.
            with suppress(MinternetError, OSError, LoopTimeout):
                await self.loop.wait_for(transport.recv(65536), PEER_FIN_WAIT)
        try:
            result = stream.close()
            if isinstance(result, Future):
                await self.loop.wait_for(result, 5.0)
        except (MinternetError, OSError, LoopTimeout):
            pass

    async def serve(self, listener: Listener, secure: Accept | None = None) -> None:
        """Accept forever; each connection (TLS handshake first, if ``secure``) is a task."""
        while True:
            try:
                sock = await listener.accept()
            except (MinternetError, OSError, LoopTimeout) as e:
                self._log("accept-error", "", error=str(e))
                continue
            self.loop.create_task(self.handle(sock, secure), "http-conn")

    async def handle(self, sock: StreamSocket, secure: Accept | None = None) -> None:
        """One accepted TCP connection: the TLS handshake (bounded in time), then HTTP."""
        try:
            remote = sock.remote
            peer = f"{remote[0]}:{remote[1]}"
        except (OSError, MinternetError):
            peer = "?"
        # nginx's `tcp_nodelay on`: a response's last small segment is not held back by
        # Nagle's algorithm waiting for the client's (delayed) ACK.
        sock.set_nodelay(True)
        stream: ByteStream = sock
        if secure is not None:
            try:
                stream = await self.loop.wait_for(
                    as_future(self.loop, secure(sock), "tls-accept"), self.config.handshake_timeout
                )
            except (MinternetError, OSError, LoopTimeout) as e:
                self._log("handshake-failed", peer, error=str(e) or type(e).__name__)
                sock.abort()
                return
        await self.serve_connection(stream, peer)


def _transport(stream: ByteStream) -> StreamSocket:
    """The TCP socket under ``stream`` (a TLS stream's ``sock``, or the stream itself)."""
    return cast("StreamSocket", getattr(stream, "sock", stream))


def byte_ranges(header: str, size: int, max_ranges: int = 16) -> list[tuple[int, int]] | str | None:
    """The ``(first, last)`` ranges of a ``Range: bytes=…`` field (RFC 9110 §14.1.2).

    None: ignore the header and send the whole representation (not bytes, malformed, more
    than ``max_ranges`` ranges, or ranges that add up to more than the file — §14.2 lets a
    server ignore such a Range; the last two keep a request from multiplying its answer, as
    nginx does); ``"unsatisfiable"``: answer 416 (no range starts inside the file, §14.1.1,
    or one has its last byte before its first, as nginx answers — §14.2 allows rejecting an
    invalid ranges-specifier). Ranges that cannot be satisfied are left out (§14.1.1).
    """
    unit, eq, spec = header.partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None
    out: list[tuple[int, int]] = []
    total = 0
    specs = [p.strip() for p in spec.split(",")]
    specs = [p for p in specs if p]  # RFC 9110 §5.6.1: empty list elements do not count
    if not specs or len(specs) > max_ranges:
        return None
    for part in specs:
        m = _RANGE_SPEC.fullmatch(part)
        if m is None:
            return None
        first_s, last_s = m[1], m[2]
        if first_s == "":
            if last_s == "":
                return None
            n = int(last_s)
            if n == 0 or size == 0:
                continue
            first, last = max(0, size - n), size - 1
        else:
            first = int(first_s)
            last = int(last_s) if last_s else size - 1
            if last_s and last < first:
                return "unsatisfiable"
            if first >= size:
                continue
            last = min(last, size - 1)
        out.append((first, last))
        total += last - first + 1
    if not out:
        return "unsatisfiable"
    if total > size:
        return None
    return out


def multipart_spans(
    ranges: list[tuple[int, int]], size: int, content_type: str, boundary: str
) -> tuple[Span, ...]:
    """The content of a ``multipart/byteranges`` 206 (RFC 9110 §14.6, RFC 2046 §5.1.1):
    each part its own Content-Type and Content-Range, then its bytes of the file."""
    spans: list[Span] = []
    for i, (first, last) in enumerate(ranges):
        part = (
            ("" if i == 0 else "\r\n") + f"--{boundary}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Range: bytes {first}-{last}/{size}\r\n\r\n"
        )
        spans.append(part.encode("latin-1"))
        spans.append((first, last - first + 1))
    spans.append(f"\r\n--{boundary}--\r\n".encode("latin-1"))
    return tuple(spans)
