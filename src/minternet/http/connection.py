"""The sans-IO HTTP/1.1 connection for both roles (RFC 9112), in one state machine.

Bytes in (:meth:`HttpConnection.receive_data`), events out (:meth:`~HttpConnection.next_event`);
events in (:meth:`~HttpConnection.send`), bytes out. No sockets, no clock. Each side has a
state; the rules live in this file:

====================  ==========================================================================
IDLE                  no message in progress (a client may send a request; a server waits)
SEND_BODY             the head went; body bytes follow (Content-Length, chunked or until close)
DONE                  this side's message is complete; waiting for the other side's
MUST_CLOSE            the exchange is over and the connection cannot be reused
CLOSED                this side sent its FIN (or we saw the peer's)
ERROR                 this side broke the protocol; nothing more is parsed or sent
====================  ==========================================================================

When both sides are DONE the connection starts the next cycle (both IDLE) if it persists —
RFC 9112 §9.3: HTTP/1.1 defaults to persistence; ``Connection: close`` in either message, an
HTTP/1.0 peer without ``keep-alive``, or a close-delimited body end it (both MUST_CLOSE).
Pipelined requests wait in the buffer (:data:`PAUSED`) until the response is out.

Message body length (RFC 9112 §6.3), strictly, to refuse request smuggling:
responses to HEAD and 1xx/204/304 responses have no body; Transfer-Encoding together with
Content-Length is refused; Transfer-Encoding must be exactly ``chunked`` (any other coding:
501, chunked not last: 400); Content-Length must be digits, repeated values must agree;
a request with neither has no body; a response with neither runs until the close.
"""

from __future__ import annotations

from enum import Enum

from . import _abnf
from .errors import (
    BadRequest,
    ContentTooLarge,
    HeadTooLarge,
    HttpLocalError,
    HttpRemoteError,
    NotImplementedCoding,
    UriTooLong,
)
from .messages import (
    DEFAULT_MAX_FIELDS,
    NEED_DATA,
    PAUSED,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    Headers,
    NeedData,
    Paused,
    Request,
    Response,
    parse_field_lines,
)

DEFAULT_MAX_HEAD = 16 * 1024
# nginx reads a request line into one of its large_client_header_buffers (8 KiB) and
# answers 414 when it does not fit; a longer head is 431 (RFC 6585 §5).
DEFAULT_MAX_REQUEST_LINE = 8 * 1024
MAX_CHUNK_LINE = 1024


class Role(Enum):
    CLIENT = "client"
    SERVER = "server"


class State(Enum):
    IDLE = "IDLE"
    SEND_BODY = "SEND_BODY"
    DONE = "DONE"
    MUST_CLOSE = "MUST_CLOSE"
    CLOSED = "CLOSED"
    ERROR = "ERROR"


class Framing(Enum):
    """How a body's end is known (RFC 9112 §6.3)."""

    NONE = "none"
    LENGTH = "content-length"
    CHUNKED = "chunked"
    CLOSE = "close-delimited"


def content_length(headers: Headers) -> int | None:
    """The Content-Length of a message, or None; differing or bad values are an error."""
    if "content-length" not in headers:
        return None
    values = headers.tokens("content-length")
    if not values:
        if headers.get_all("content-length"):
            raise BadRequest("empty Content-Length (RFC 9110 §8.6)")
        return None
    first = values[0]
    for v in values:
        if _abnf.content_length_re.fullmatch(v) is None:
            raise BadRequest(f"Content-Length {v!r} is not a number (RFC 9110 §8.6)")
        if v.lstrip("0") != first.lstrip("0"):
            raise BadRequest("differing Content-Length values (RFC 9112 §6.3, item 5)")
    return int(first)


def body_framing(headers: Headers, *, is_request: bool, version: str) -> tuple[Framing, int]:
    """Framing and length of a message that can have a body (RFC 9112 §6.3, items 3-7)."""
    has_te = "transfer-encoding" in headers
    te = headers.tokens("transfer-encoding") if has_te else []
    cl = content_length(headers)
    if has_te:
        if cl is not None:
            raise BadRequest(
                "both Transfer-Encoding and Content-Length: refused as request smuggling "
                "(RFC 9112 §6.1, §11.2)"
            )
        if version == "1.0":
            raise BadRequest("Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1)")
        if not te or te[-1] != "chunked":
            if is_request:
                raise BadRequest("chunked is not the final transfer coding (RFC 9112 §6.3)")
            raise NotImplementedCoding(f"transfer codings {te} without chunked", 502)
        if "chunked" in te[:-1]:
            raise BadRequest("chunked applied more than once (RFC 9112 §6.1)")
        if len(te) > 1:
            raise NotImplementedCoding(f"transfer codings {te[:-1]} not implemented (§6.1)")
        return Framing.CHUNKED, 0
    if cl is not None:
        return (Framing.LENGTH, cl) if cl else (Framing.NONE, 0)
    return (Framing.NONE, 0) if is_request else (Framing.CLOSE, 0)


def _wants_close(headers: Headers, version: str) -> bool:
    """RFC 9112 §9.3: does this message end the connection after the exchange?"""
    conn = headers.tokens("connection")
    if "close" in conn:
        return True
    return version == "1.0" and "keep-alive" not in conn


class HttpConnection:
    """One HTTP/1.1 connection seen from ``role``; see the module docstring for the rules."""

    def __init__(
        self,
        role: Role,
        *,
        max_head: int = DEFAULT_MAX_HEAD,
        max_fields: int | None = DEFAULT_MAX_FIELDS,
        max_body: int | None = None,
        max_request_line: int = DEFAULT_MAX_REQUEST_LINE,
    ) -> None:
        self.role = role
        self.max_head = max_head
        self.max_request_line = min(max_request_line, max_head)
        self.max_fields = max_fields
        self.max_body = max_body
        self.our_state = State.IDLE
        self.their_state = State.IDLE
        self.their_version: str | None = None
        self.keep_alive = True
        self.cycles = 0  # completed request/response exchanges
        self._buf = bytearray()
        self._eof = False
        self._scanned = 0  # how far the head search has looked without finding CRLFCRLF
        self._request_method: str | None = None
        # what we are reading
        self._r_framing = Framing.NONE
        self._r_left = 0  # bytes left in a Content-Length body or the current chunk
        self._r_chunk = "size"  # "size" | "data" | "crlf" | "trailers"
        self._r_total = 0
        # what we are writing
        self._w_framing = Framing.NONE
        self._w_left = 0
        self._w_total = 0

    # -- input --------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Bytes from the peer; ``b""`` means it closed its side (EOF)."""
        if data:
            if self._eof:
                raise HttpLocalError("data received after EOF")
            self._buf += data
        else:
            self._eof = True

    @property
    def trailing_data(self) -> tuple[bytes, bool]:
        """Unparsed bytes and whether EOF was seen."""
        return bytes(self._buf), self._eof

    @property
    def buffered(self) -> int:
        """How many received bytes are not parsed yet (without copying them)."""
        return len(self._buf)

    @property
    def their_framing(self) -> Framing:
        """How the body the peer is sending now ends (NONE: no body, or it is over)."""
        return self._r_framing if self.their_state is State.SEND_BODY else Framing.NONE

    def next_event(self) -> Event | NeedData | Paused:
        """The next event from the peer, :data:`NEED_DATA` or :data:`PAUSED`."""
        state = self.their_state
        if state is State.ERROR:
            raise HttpLocalError("the peer's stream is broken; close the connection")
        try:
            if state is State.SEND_BODY:
                return self._read_body()
            if state is State.IDLE:
                return self._read_head()
            if state is State.CLOSED:
                return ConnectionClosed()
            # DONE or MUST_CLOSE: anything more waits for our side (or is never read)
            if self._eof and not self._buf:
                self.their_state = State.CLOSED
                return ConnectionClosed()
            return PAUSED
        except HttpRemoteError:
            self.their_state = State.ERROR
            self.keep_alive = False
            raise

    def _read_head(self) -> Event | NeedData | Paused:
        buf = self._buf
        if self.role is Role.SERVER:
            # RFC 9112 §2.2: ignore at least one empty line before the request-line.
            while buf[:2] == b"\r\n":
                del buf[:2]
        elif self.our_state is State.IDLE:
            if self._eof and not buf:
                self.their_state = State.CLOSED
                return ConnectionClosed()
            # Bytes before we asked anything (a stray 408, junk after a HEAD response) are
            # parsed as the response to our next request, and refused then if they are not.
            return PAUSED if buf else NEED_DATA
        elif buf[:5] != b"HTTP/"[: len(buf)]:
            # RFC 9112 §2.3: a response starts with HTTP-version. Anything else is an
            # HTTP/0.9 reply (a bare body) or not HTTP at all: we do not guess its length.
            raise HttpRemoteError(
                "the reply has no status line: an HTTP/0.9 response or not HTTP "
                f"(starts {bytes(buf[:16])!r}; RFC 9112 §2.3)"
            )
        end = buf.find(b"\r\n\r\n", max(0, self._scanned - 3))
        if end < 0:
            if _abnf.bare_lf_re.search(buf, self._scanned) is not None:
                raise BadRequest("bare LF ending a line of the head (RFC 9112 §2.2)")
            self._check_request_line(buf)
            if len(buf) > self.max_head:
                raise HeadTooLarge(f"head longer than {self.max_head} bytes")
            self._scanned = len(buf)
            if self._eof:
                if not buf:
                    self.their_state = State.CLOSED
                    return ConnectionClosed()
                raise BadRequest("connection closed in the middle of a head")
            return NEED_DATA
        self._check_request_line(buf)
        if end + 4 > self.max_head:
            raise HeadTooLarge(f"head of {end + 4} bytes, more than {self.max_head}")
        lines = buf[:end].decode("latin-1").split("\r\n")
        del buf[: end + 4]
        self._scanned = 0
        if self.role is Role.SERVER:
            return self._got_request(Request.from_lines(lines, self.max_fields))
        return self._got_response(Response.from_lines(lines, self.max_fields))

    def _check_request_line(self, buf: bytearray) -> None:
        """414 for a request line that does not fit ``max_request_line`` (RFC 9110 §15.5.15):
        what makes it long is the request-target."""
        limit = self.max_request_line
        if self.role is Role.SERVER and len(buf) > limit and buf.find(b"\r\n", 0, limit) < 0:
            raise UriTooLong(f"request line longer than {limit} bytes")

    def _got_request(self, req: Request) -> Request:
        h = req.headers
        self.their_version = req.version
        # RFC 9112 §3.2: exactly one valid Host in an HTTP/1.1 request, else 400.
        hosts = h.get_all("host")
        if len(hosts) > 1:
            raise BadRequest("more than one Host field (RFC 9112 §3.2)")
        if req.version == "1.1" and not hosts:
            raise BadRequest("HTTP/1.1 request without Host (RFC 9112 §3.2)")
        if hosts and _abnf.host_re.fullmatch(hosts[0]) is None:
            raise BadRequest(f"invalid Host {hosts[0]!r} (RFC 9112 §3.2)")
        if hosts and _host_is_empty(hosts[0]) and req.target.startswith("/"):
            # RFC 9112 §3.3: the target URI is rebuilt from Host; an http(s) URI with an
            # empty host is invalid and a recipient MUST reject it (RFC 9110 §4.2.1).
            raise BadRequest("empty Host: an http URI needs a host (RFC 9110 §4.2.1)")
        _check_target(req)
        framing, length = body_framing(h, is_request=True, version=req.version)
        if self.max_body is not None and length > self.max_body:
            raise ContentTooLarge(f"Content-Length {length} over the limit {self.max_body}")
        if _wants_close(h, req.version):
            self.keep_alive = False
        self._request_method = req.method
        self._start_reading(framing, length)
        return req

    def _got_response(self, resp: Response) -> Response:
        self.their_version = resp.version
        status = resp.status
        if status < 200:
            if status == 101:
                raise HttpRemoteError("101 Switching Protocols: we only speak HTTP/1.1")
            return resp  # interim response; the final one follows (RFC 9110 §15.2)
        if self._request_method == "HEAD" or status in (204, 304):
            framing, length = Framing.NONE, 0  # RFC 9112 §6.3, item 1
        else:
            framing, length = body_framing(resp.headers, is_request=False, version=resp.version)
        if _wants_close(resp.headers, resp.version) or framing is Framing.CLOSE:
            self.keep_alive = False
        self._start_reading(framing, length)
        return resp

    def _start_reading(self, framing: Framing, length: int) -> None:
        self._r_framing = framing
        self._r_left = length
        self._r_chunk = "size"
        self._r_total = 0
        self.their_state = State.SEND_BODY

    def _read_body(self) -> Event | NeedData | Paused:
        framing = self._r_framing
        buf = self._buf
        if framing is Framing.NONE:
            return self._end_of_their_message(Headers())
        if framing is Framing.LENGTH:
            if not buf:
                if self._eof:
                    raise BadRequest(f"closed with {self._r_left} body bytes still to come")
                return NEED_DATA
            n = min(self._r_left, len(buf))
            data = bytes(buf[:n])
            del buf[:n]
            self._r_left -= n
            if self._r_left == 0:
                self._r_framing = Framing.NONE
            return Data(data)
        if framing is Framing.CLOSE:
            if buf:
                data = bytes(buf)
                buf.clear()
                return Data(data)
            if self._eof:
                return self._end_of_their_message(Headers())
            return NEED_DATA
        return self._read_chunked()

    def _read_chunked(self) -> Event | NeedData | Paused:
        """RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF."""
        buf = self._buf
        while True:
            step = self._r_chunk
            if step == "data":
                if not buf:
                    break
                n = min(self._r_left, len(buf))
                data = bytes(buf[:n])
                del buf[:n]
                self._r_left -= n
                if self._r_left == 0:
                    self._r_chunk = "crlf"
                return Data(data)
            if step == "crlf":
                if buf[:2] != b"\r\n"[: len(buf)]:
                    raise BadRequest("chunk data not followed by CRLF (RFC 9112 §7.1)")
                if len(buf) < 2:
                    break
                del buf[:2]
                self._r_chunk = "size"
                continue
            if step == "size":
                lf = buf.find(b"\n", 0, MAX_CHUNK_LINE)
                if lf < 0:
                    if len(buf) >= MAX_CHUNK_LINE:
                        raise BadRequest("chunk-size line too long")
                    break
                if lf == 0 or buf[lf - 1] != 0x0D:
                    # Not a line end we wait for more bytes after: answer now, not at a
                    # timeout (RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF).
                    raise BadRequest("chunk-size line ends in a bare LF (RFC 9112 §7.1)")
                end = lf - 1
                line = buf[:end].decode("latin-1")
                m = _abnf.chunk_header_re.fullmatch(line)
                if m is None:
                    raise BadRequest(f"bad chunk-size line {line[:40]!r} (RFC 9112 §7.1)")
                del buf[: end + 2]
                size = int(m[1], 16)
                self._r_total += size
                if self.max_body is not None and self._r_total > self.max_body:
                    raise ContentTooLarge(f"chunked body over the limit {self.max_body}")
                if size == 0:
                    self._r_chunk = "trailers"
                else:
                    self._r_left = size
                    self._r_chunk = "data"
                continue
            # trailers (RFC 9112 §7.1.2): trailer-section CRLF
            if _abnf.bare_lf_re.search(buf) is not None:
                raise BadRequest("bare LF in the trailer section (RFC 9112 §2.2)")
            if buf[:2] == b"\r\n":
                del buf[:2]
                return self._end_of_their_message(Headers())
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > self.max_head:
                    raise HeadTooLarge("trailer section too long")
                break
            lines = buf[:end].decode("latin-1").split("\r\n")
            del buf[: end + 4]
            trailers = parse_field_lines(lines, self.max_fields, "trailer")
            return self._end_of_their_message(trailers)
        if self._eof:
            raise BadRequest("connection closed in the middle of a chunked body")
        return NEED_DATA

    def _end_of_their_message(self, trailers: Headers) -> EndOfMessage:
        self.their_state = State.DONE
        self._maybe_next_cycle()
        return EndOfMessage(trailers)

    # -- output -------------------------------------------------------------------------
    def send(self, event: Event) -> bytes:
        """The bytes that put ``event`` on the wire; :class:`HttpLocalError` if not allowed."""
        if self.our_state is State.ERROR:
            raise HttpLocalError("cannot send after a local error")
        try:
            return self._send(event)
        except HttpLocalError:
            self.our_state = State.ERROR
            raise

    def _send(self, event: Event) -> bytes:
        if isinstance(event, Data):
            return self._send_data(event.data)
        if isinstance(event, EndOfMessage):
            return self._send_end(event.trailers)
        if isinstance(event, Request):
            return self._send_request(event)
        if isinstance(event, Response):
            return self._send_response(event)
        self.our_state = State.CLOSED
        return b""

    def _send_request(self, req: Request) -> bytes:
        if self.role is not Role.CLIENT:
            raise HttpLocalError("a server does not send requests")
        if self.our_state is not State.IDLE:
            raise HttpLocalError(f"cannot send a request in state {self.our_state.value}")
        if req.version == "1.1" and "host" not in req.headers:
            raise HttpLocalError("an HTTP/1.1 request needs Host (RFC 9112 §3.2)")
        try:
            framing, length = body_framing(req.headers, is_request=True, version=req.version)
        except HttpRemoteError as e:
            raise HttpLocalError(str(e)) from None
        if _wants_close(req.headers, req.version):
            self.keep_alive = False
        data = req.encode()
        self._request_method = req.method
        self._start_writing(framing, length)
        return data

    def _send_response(self, resp: Response) -> bytes:
        if self.role is not Role.SERVER:
            raise HttpLocalError("a client does not send responses")
        if self.our_state is not State.IDLE or self.their_state is State.IDLE:
            raise HttpLocalError("a response answers a request that has arrived")
        data = resp.encode()
        if resp.status < 200:
            return data
        if self._request_method == "HEAD" or resp.status in (204, 304):
            framing, length = Framing.NONE, 0
        else:
            try:
                framing, length = body_framing(resp.headers, is_request=False, version=resp.version)
            except HttpRemoteError as e:
                raise HttpLocalError(str(e)) from None
            if framing is Framing.CHUNKED and self.their_version == "1.0":
                raise HttpLocalError("an HTTP/1.0 client cannot read chunked (RFC 9112 §6.1)")
        if (
            _wants_close(resp.headers, "1.1")
            or framing is Framing.CLOSE
            or self.their_state is State.ERROR
        ):
            self.keep_alive = False
        self._start_writing(framing, length)
        return data

    def _start_writing(self, framing: Framing, length: int) -> None:
        self._w_framing = framing
        self._w_left = length
        self._w_total = 0
        self.our_state = State.SEND_BODY

    def _send_data(self, data: bytes) -> bytes:
        if self.our_state is not State.SEND_BODY:
            raise HttpLocalError(f"body data in state {self.our_state.value}")
        framing = self._w_framing
        n = len(data)
        if framing is Framing.LENGTH:
            if n > self._w_left:
                raise HttpLocalError(f"{n} body bytes but only {self._w_left} announced")
            self._w_left -= n
            return data
        if framing is Framing.CHUNKED:
            return b"%x\r\n%b\r\n" % (n, data) if n else b""
        if framing is Framing.CLOSE:
            return data
        if n:
            raise HttpLocalError("this message has no body (HEAD, 1xx, 204, 304, no length)")
        return b""

    def _send_end(self, trailers: Headers) -> bytes:
        if self.our_state is not State.SEND_BODY:
            raise HttpLocalError(f"end of message in state {self.our_state.value}")
        framing = self._w_framing
        out = b""
        if framing is Framing.CHUNKED:
            out = b"0\r\n" + trailers.encode_lines().encode("latin-1") + b"\r\n"
        elif trailers:
            raise HttpLocalError("trailers need chunked transfer coding (RFC 9112 §7.1.2)")
        elif framing is Framing.LENGTH and self._w_left:
            raise HttpLocalError(f"message ended {self._w_left} bytes short of Content-Length")
        self.our_state = State.DONE
        if self.their_state is State.ERROR:
            self.our_state = State.MUST_CLOSE  # the error response was the last word
        self._maybe_next_cycle()
        return out

    def _maybe_next_cycle(self) -> None:
        done = (State.DONE, State.MUST_CLOSE)
        if self.our_state in done and self.their_state in done:
            if self.keep_alive and self.our_state is State.DONE and self.their_state is State.DONE:
                self.our_state = self.their_state = State.IDLE
                self._request_method = None
                self.cycles += 1
            else:
                self.our_state = self.their_state = State.MUST_CLOSE


def _check_target(req: Request) -> None:
    """RFC 9112 §3.2: the request-target form must fit the method."""
    t = req.target
    if t.startswith("/"):
        ok = _abnf.origin_form_re.fullmatch(t) is not None
    elif t == "*":
        ok = req.method == "OPTIONS"
    elif req.method == "CONNECT":
        ok = _abnf.host_re.fullmatch(t) is not None
    else:
        m = _abnf.absolute_form_re.fullmatch(t)
        ok = m is not None
        if m is not None and "@" in m[1]:
            # RFC 9110 §4.2.4: userinfo in an http(s) URI is to be treated as an error.
            raise BadRequest("user information in the request-target (RFC 9110 §4.2.4)")
        if m is not None and _host_is_empty(m[1]):
            raise BadRequest("request-target with an empty host (RFC 9110 §4.2.1)")
    if not ok:
        raise BadRequest(f"request-target {t[:80]!r} is not valid here (RFC 9112 §3.2)")


def _host_is_empty(authority: str) -> bool:
    """``""`` or ``":port"``: no uri-host (RFC 3986 §3.2.2)."""
    return authority.partition(":")[0] == "" if not authority.startswith("[") else False
