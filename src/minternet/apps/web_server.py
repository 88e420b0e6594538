"""An nginx-like static web server over any :class:`~.streams.ByteStream` (TCP or TLS).

What it does, as nginx does with a plain ``root`` and ``index`` configuration:

- ``GET`` and ``HEAD`` of files under the site root, ``index.html`` for a directory, ``301``
  with ``Location`` to add the slash to a directory, ``404``, ``403`` for a directory without
  an index, ``400`` for a path that climbs above the root (``/../``, ``%2e%2e``), ``405`` with
  ``Allow`` for other known methods and ``501`` for unknown ones (RFC 9110 §9.1, §15.5.6);
- ``Server``, ``Date``, ``Content-Type`` from the extension, ``Content-Length``,
  ``Last-Modified`` and ``ETag`` (nginx's ``"mtime-size"`` form), ``Accept-Ranges: bytes``,
  a single byte range (``206``/``416``, RFC 9110 §14), conditional ``GET``/``HEAD`` answered
  ``304`` (``If-None-Match`` first, else ``If-Modified-Since``, RFC 9110 §13.2.2);
- keep-alive with an idle timeout and a request limit (nginx's ``keepalive_timeout`` and
  ``keepalive_requests``), a header timeout answered ``408``; HTTP/1.0 answered and closed
  unless it asked for keep-alive; a malformed request answered with the status its error
  carries (400/413/431/501/505) and the connection closed;
- head and body written in one ``send``, so a small response fits one TLS record.

Dates come from ``clock()`` (POSIX seconds) given by the caller — in the simulator an epoch
plus the virtual clock. Each response is an access-log trace event (layer ``http``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass

from ..errors import MinternetError
from ..http import (
    NEED_DATA,
    REASONS,
    ConnectionClosed,
    Data,
    EndOfMessage,
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
from .site import Site, SiteEntry
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


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Limits and timeouts (seconds), named after the nginx directives they mirror."""

    server_name: str = SERVER_NAME
    keepalive_timeout: float = 75.0  # idle time between requests before we close
    client_header_timeout: float = 60.0  # a started head must complete within this → 408
    keepalive_requests: int = 1000  # requests per connection, then Connection: close
    max_head: int = 16 * 1024  # large_client_header_buffers-like limit → 431
    max_fields: int = 100
    client_max_body_size: int = 1024 * 1024  # → 413
    index: str = "index.html"
    handshake_timeout: float = 10.0  # a TLS handshake must finish within this


class BadPath(MinternetError):
    """A request path that cannot name a file under the root (answered 400)."""


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


@dataclass(frozen=True, slots=True)
class Reply:
    """A response decided by :meth:`WebServer.respond`: status, fields and the body to send."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    close: bool = False


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
                location = "/" + "/".join(parts) + "/" + (f"?{query}" if query else "")
                return self._error(301, [("Location", location)])
            parts = (*parts, self.config.index)
            slash = False
            entry = self.site.stat(parts)
            if entry is None:
                return self._error(403)
        if entry is None or entry.kind != "file" or slash:
            return self._error(404)
        return self._file(req, parts, entry)

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
            return Reply(304, [(n, v) for n, v in fields if n != "Content-Type"], b"")
        body = self.site.read(parts)
        size = len(body)
        status = 200
        rng = h.get("range")
        if rng is not None and req.method == "GET" and self._if_range_ok(h, etag, last_modified):
            span = _byte_range(rng, size)
            if isinstance(span, str):
                return self._error(416, [("Content-Range", f"bytes */{size}")])
            if span is not None:
                first, last = span
                body = body[first : last + 1]
                status = 206
                fields.append(("Content-Range", f"bytes {first}-{last}/{size}"))
        fields.append(("Content-Length", str(len(body))))
        fields.append(("Accept-Ranges", "bytes"))
        return Reply(status, fields, body)

    @staticmethod
    def _if_range_ok(h: Headers, etag: str, last_modified: str) -> bool:
        """RFC 9110 §13.1.5: a Range applies only if If-Range (when present) still matches."""
        cond = h.get("if-range")
        return cond is None or cond in (etag, last_modified)

    def _error(self, status: int, extra: list[tuple[str, str]] | None = None) -> Reply:
        reason = REASONS.get(status, "")
        body = b"" if status == 304 else _error_page(status, reason, self.config.server_name)
        fields = [("Content-Type", "text/html"), ("Content-Length", str(len(body)))]
        return Reply(status, fields + (extra or []), body, close=status in (400, 408))

    # -- running a connection ------------------------------------------------------------
    async def serve_connection(self, stream: ByteStream, peer: str = "") -> None:
        """Serve requests on ``stream`` until the client closes, a limit or an error."""
        self.connections += 1
        cfg = self.config
        conn = HttpConnection(
            Role.SERVER,
            max_head=cfg.max_head,
            max_fields=cfg.max_fields,
            max_body=cfg.client_max_body_size,
        )
        served = 0
        request: Request | None = None
        try:
            while True:
                try:
                    event = conn.next_event()
                except HttpRemoteError as e:
                    await self._send_reply(conn, stream, peer, None, self._protocol_error(e))
                    break
                if event is NEED_DATA:
                    partial = conn.their_state is not State.IDLE or conn.trailing_data[0] != b""
                    timeout = cfg.client_header_timeout if partial else cfg.keepalive_timeout
                    try:
                        data = await self.loop.wait_for(stream.recv(65536), timeout)
                    except LoopTimeout:
                        self._log("timeout", peer, partial=partial)
                        if partial and conn.our_state is State.IDLE:
                            await self._send_reply(conn, stream, peer, request, self._error(408))
                        break
                    conn.receive_data(data)
                    continue
                if isinstance(event, Request):
                    request = event
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
                    continue
                if isinstance(event, ConnectionClosed):
                    break
                break  # PAUSED with a connection that must close
        except (MinternetError, OSError, LoopTimeout) as e:
            # The peer vanished mid-exchange (RST, TLS alert, closed pipe): drop the connection.
            self._log("error", peer, error=str(e) or type(e).__name__)
            abort = getattr(stream, "abort", None)
            if callable(abort):
                abort()
                return
        # (no ``finally``: a task cancelled or a coroutine discarded must not await here)
        await self._close(stream, linger=conn.their_state is not State.CLOSED)

    def _protocol_error(self, e: HttpRemoteError) -> Reply:
        reply = self._error(e.status)
        self.trace.emit(
            self.loop.now(), self.node, "http", "bad-request", {"status": e.status}, why=str(e)
        )
        return Reply(reply.status, reply.headers, reply.body, close=True)

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
        close = reply.close or last or not conn.keep_alive or conn.their_state is State.ERROR
        fields = [("Server", self.config.server_name), ("Date", format_http_date(self.clock()))]
        fields += reply.headers
        http10 = conn.their_version == "1.0"
        if close:
            fields.append(("Connection", "close"))
        elif http10 or req is not None:
            fields.append(("Connection", "keep-alive"))
        response = Response(reply.status, Headers(tuple(fields)))
        if conn.their_state is State.IDLE:
            # A timeout reply (408) to a head that never completed: no request to answer
            # in the state machine, and the connection closes right after.
            out = response.encode() + reply.body
        else:
            out = conn.send(response)
            if reply.body and (req is None or req.method != "HEAD"):
                out += conn.send(Data(reply.body))
            out += conn.send(EndOfMessage())
        self._log(
            "response",
            peer,
            method=req.method if req else "-",
            target=req.target if req else "-",
            version=f"HTTP/{conn.their_version or '1.1'}",
            status=reply.status,
            bytes=len(reply.body) if req is None or req.method != "HEAD" else 0,
            user_agent=req.headers.get("user-agent", "-") if req else "-",
        )
        await stream.send(out)

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
        if not linger and transport is not None:
            # A TLS stream whose peer sent close_notify: wait (briefly) for the peer's FIN
            # before closing, so that our FIN answers it — the four-way close of the seed
            # (CLOSE-WAIT, then LAST-ACK) instead of two FINs crossing on the wire.
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


def _byte_range(header: str, size: int) -> tuple[int, int] | str | None:
    """One ``bytes=first-last`` / ``first-`` / ``-suffix`` range (RFC 9110 §14.1.2).

    None: ignore the header (not bytes, several ranges, malformed — §14.2 lets us serve
    the whole representation); ``"unsatisfiable"``: answer 416.
    """
    unit, eq, spec = header.partition("=")
    if not eq or unit.strip().lower() != "bytes" or "," in spec:
        return None
    m = _RANGE_SPEC.fullmatch(spec.strip())
    if m is None:
        return None
    first_s, last_s = m[1], m[2]
    if first_s == "":
        if last_s == "":
            return None
        n = int(last_s)
        if n == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None  # invalid: ignore (RFC 9110 §14.1.1)
    if first >= size:
        return "unsatisfiable"
    return first, min(last, size - 1)
