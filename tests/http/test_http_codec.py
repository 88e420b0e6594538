"""The HTTP/1.1 codec: golden heads, strict refusals, and cross-parsing with h11."""

from __future__ import annotations

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minternet.errors import RemoteProtocolError
from minternet.http import (
    NEED_DATA,
    PAUSED,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Headers,
    HttpConnection,
    HttpLocalError,
    HttpRemoteError,
    Request,
    Response,
    Role,
    State,
)

# -- golden heads ------------------------------------------------------------------------

GET_HEAD = (
    b"GET /index.html HTTP/1.1\r\n"
    b"Host: www.example.com\r\n"
    b"User-Agent: minternet-browser/0.1\r\n"
    b"Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
    b"Accept-Encoding: identity\r\n"
    b"\r\n"
)

# What curl 7.88 sends (captured on loopback) and what Debian's nginx 1.22 answers.
CURL_HEAD = b"GET /index.html HTTP/1.1\r\nHost: localhost:8443\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"  # noqa: E501
NGINX_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: nginx/1.22.1\r\n"
    b"Date: Mon, 30 Nov 2026 12:00:00 GMT\r\n"
    b"Content-Type: text/html\r\n"
    b"Content-Length: 615\r\n"
    b"Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
    b"Connection: keep-alive\r\n"
    b'ETag: "69559a00-267"\r\n'
    b"Accept-Ranges: bytes\r\n"
    b"\r\n"
)


def test_request_head_golden_bytes() -> None:
    req = Request(
        "GET",
        "/index.html",
        Headers.of(
            [
                ("Host", "www.example.com"),
                ("User-Agent", "minternet-browser/0.1"),
                ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
                ("Accept-Encoding", "identity"),
            ]
        ),
    )
    assert req.encode() == GET_HEAD
    assert Request.decode(GET_HEAD) == req


def test_curl_request_and_nginx_response_decode_and_rebuild() -> None:
    req = Request.decode(CURL_HEAD)
    assert (req.method, req.target, req.version) == ("GET", "/index.html", "1.1")
    assert req.headers.get("HOST") == "localhost:8443"
    assert req.encode() == CURL_HEAD
    resp = Response.decode(NGINX_HEAD)
    assert (resp.status, resp.reason) == (200, "OK")
    assert resp.headers.get("content-length") == "615"
    assert resp.headers.get("etag") == '"69559a00-267"'
    assert resp.encode() == NGINX_HEAD


def test_status_line_with_empty_reason_and_value_whitespace() -> None:
    resp = Response.decode(b"HTTP/1.1 204 \r\nX-A: \t spaced  value \t\r\nX-Empty:\r\n\r\n")
    assert resp.status == 204 and resp.reason == ""
    assert resp.headers.fields == (("X-A", "spaced  value"), ("X-Empty", ""))


@pytest.mark.parametrize(
    ("name", "value"),
    [("X Bad", "v"), ("X-A", "a\r\nInjected: 1"), ("X-A", "a\nb"), ("", "v"), ("X:A", "v")],
)
def test_encoding_refuses_field_injection(name: str, value: str) -> None:
    with pytest.raises(HttpLocalError):
        Request("GET", "/", Headers.of([("Host", "a"), (name, value)])).encode()


def test_encoding_refuses_bad_method_and_target() -> None:
    with pytest.raises(HttpLocalError):
        Request("GE T", "/").encode()
    with pytest.raises(HttpLocalError):
        Request("GET", "/a b").encode()


# -- strict parsing: what a server must refuse, and with which status ----------------------

REFUSED: list[tuple[str, bytes, int]] = [
    ("CL and TE", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),  # noqa: E501
    ("TE and CL", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400),  # noqa: E501
    ("differing CL", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400),  # noqa: E501
    ("differing CL list", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello", 400),
    ("signed CL", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", 400),
    ("hex CL", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", 400),
    ("empty CL", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400),
    ("TE not chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    ("TE chunked twice", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),  # noqa: E501
    ("TE gzip,chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),  # noqa: E501
    ("TE in HTTP/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE obfuscated", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 400),
    ("bad chunk size", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),  # noqa: E501
    ("negative chunk", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n", 400),  # noqa: E501
    ("spaced chunk size", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n", 400),  # noqa: E501
    ("huge chunk size", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", 400),  # noqa: E501
    ("chunk without CRLF", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),  # noqa: E501
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400),
    ("space before first field", b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    ("bare CR in value", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", 400),
    ("bare LF in head", b"GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", 400),
    ("LF-only head", b"GET / HTTP/1.1\nHost: a\n\n", 400),
    ("NUL in value", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", 400),
    ("bad method token", b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("bad name token", b"GET / HTTP/1.1\r\nHost: a\r\nX@Y: 1\r\n\r\n", 400),
    ("no colon", b"GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n", 400),
    ("double space", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("lower-case version", b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    ("no version", b"GET /\r\nHost: a\r\n\r\n", 400),
    ("garbage line", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
    ("target not a path", b"GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("control in target", b"GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("no Host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("bad Host", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    ("HTTP/10.1", b"GET / HTTP/10.1\r\nHost: a\r\n\r\n", 505),
    ("too many fields", b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", 431),
    ("head too large", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: " + b"a" * 17000 + b"\r\n\r\n", 431),
    ("body too large", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", 413),
    ("closed mid-body", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello", 400),
    ("closed mid-head", b"GET / HTTP/1.1\r\nHost: a\r\n", 400),
    ("long target", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    ("endless target", b"GET /" + b"a" * 20000, 414),
    ("empty Host", b"GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
    ("Host without host", b"GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400),
    ("userinfo in target", b"GET http://u:p@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("empty host in target", b"GET http://:80/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("LF after chunk size", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400),  # noqa: E501
    ("LF after chunk data", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", 400),  # noqa: E501
    ("LF in trailers", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n", 400),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize(
    "raw",
    [
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n",
        b"GET / HTTP/1.1\r\nHost: a\nX",
        b"GET /" + b"a" * 8200,
    ],
)
def test_refused_at_once_not_after_waiting_for_more(raw: bytes) -> None:
    """A line that cannot end well is refused now, not at a timeout (no EOF given)."""
    conn = HttpConnection(Role.SERVER)
    conn.receive_data(raw)
    with pytest.raises(HttpRemoteError):
        for _ in range(10):
            conn.next_event()


def test_field_count_limit_can_be_off() -> None:
    """nginx limits a head's bytes, not its fields (max_fields=None)."""
    raw = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-A: 1\r\n" * 1000 + b"\r\n"
    conn = HttpConnection(Role.SERVER, max_fields=None)
    conn.receive_data(raw)
    req = conn.next_event()
    assert isinstance(req, Request) and len(req.headers) == 1001


@pytest.mark.parametrize(("raw", "status"), [(r, s) for _, r, s in REFUSED],
                         ids=[n for n, _, _ in REFUSED])  # fmt: skip
@pytest.mark.parametrize("mode", ["whole", "bytewise"])
def test_server_refuses_with_status(raw: bytes, status: int, mode: str) -> None:
    conn = HttpConnection(Role.SERVER, max_body=1_000_000)
    with pytest.raises(HttpRemoteError) as info:
        chunks = [raw] if mode == "whole" else [raw[i : i + 1] for i in range(len(raw))]
        for chunk in [*chunks, b""]:
            conn.receive_data(chunk)
            while True:
                ev = conn.next_event()
                if ev is NEED_DATA or ev is PAUSED or isinstance(ev, ConnectionClosed):
                    break
    assert info.value.status == status
    assert isinstance(info.value, RemoteProtocolError)
    assert conn.their_state is State.ERROR
    # the server may still answer with the error status, then must close
    out = conn.send(Response(status, Headers.of([("Content-Length", "0")])))
    out += conn.send(EndOfMessage())
    assert out.startswith(f"HTTP/1.1 {status} ".encode())
    assert conn.our_state is State.MUST_CLOSE


ACCEPTED = [
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello",
    b'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n5;ext=1;q="a b"\r\nhello\r\n0\r\n\r\n',  # noqa: E501
    b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",  # RFC 9112 §2.2: leading empty line ignored
    b"GET / HTTP/1.0\r\n\r\n",  # no Host needed in HTTP/1.0
    b"GET http://a/x?y HTTP/1.1\r\nHost: a\r\n\r\n",  # absolute-form
    b"OPTIONS * HTTP/1.1\r\nHost: a:8080\r\n\r\n",  # asterisk-form
    b"GET / HTTP/1.1\r\nHost: [::1]:80\r\nX-Latin: caf\xe9\r\n\r\n",  # obs-text is allowed
]


@pytest.mark.parametrize("raw", ACCEPTED)
def test_server_accepts_valid_edge_cases(raw: bytes) -> None:
    conn = HttpConnection(Role.SERVER)
    conn.receive_data(raw)
    events = drain(conn)
    assert isinstance(events[0], Request)
    assert isinstance(events[-1], EndOfMessage)
    body = b"".join(e.data for e in events if isinstance(e, Data))
    assert body in (b"", b"hello")


def test_client_refuses_bad_responses() -> None:
    for raw in [
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"<html>HTTP/0.9 has no head</html>",
    ]:
        conn = HttpConnection(Role.CLIENT)
        conn.send(Request("GET", "/", Headers.of([("Host", "a")])))
        conn.send(EndOfMessage())
        conn.receive_data(raw)
        with pytest.raises(HttpRemoteError):
            drain(conn)


def test_client_names_an_http09_reply_and_takes_a_status_line_without_reason() -> None:
    conn = HttpConnection(Role.CLIENT)
    conn.send(Request("GET", "/", Headers.of([("Host", "a")])))
    conn.send(EndOfMessage())
    conn.receive_data(b"hello")  # no EOF needed: it cannot be a status line
    with pytest.raises(HttpRemoteError, match=r"HTTP/0\.9"):
        conn.next_event()
    conn = HttpConnection(Role.CLIENT)
    conn.send(Request("GET", "/", Headers.of([("Host", "a")])))
    conn.send(EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok")
    events = drain(conn)
    assert isinstance(events[0], Response) and (events[0].status, events[0].reason) == (200, "")
    assert events[1] == Data(b"ok")


def test_local_misuse_is_a_local_error() -> None:
    conn = HttpConnection(Role.CLIENT)
    with pytest.raises(HttpLocalError):
        conn.send(Request("GET", "/"))  # HTTP/1.1 without Host
    conn = HttpConnection(Role.CLIENT)
    conn.send(Request("POST", "/", Headers.of([("Host", "a"), ("Content-Length", "2")])))
    with pytest.raises(HttpLocalError):
        conn.send(Data(b"abc"))
    conn = HttpConnection(Role.CLIENT)
    conn.send(Request("POST", "/", Headers.of([("Host", "a"), ("Content-Length", "2")])))
    conn.send(Data(b"a"))
    with pytest.raises(HttpLocalError):
        conn.send(EndOfMessage())
    server = HttpConnection(Role.SERVER)
    with pytest.raises(HttpLocalError):
        server.send(Response(200))  # nothing to answer yet


# -- life cycle: keep-alive, pipelining, HEAD, close ---------------------------------------


def drain(conn: HttpConnection) -> list[object]:
    out: list[object] = []
    while True:
        ev = conn.next_event()
        if ev is NEED_DATA or ev is PAUSED:
            return out
        out.append(ev)
        if isinstance(ev, ConnectionClosed):
            return out


def test_pipelined_requests_wait_for_the_response() -> None:
    server = HttpConnection(Role.SERVER)
    server.receive_data(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    first = drain(server)
    assert [type(e) for e in first] == [Request, EndOfMessage]
    assert server.next_event() is PAUSED
    server.send(Response(200, Headers.of([("Content-Length", "0")])))
    server.send(EndOfMessage())
    assert server.our_state is State.IDLE
    second = drain(server)
    assert isinstance(second[0], Request) and second[0].target == "/b"


def test_head_response_has_no_body_even_with_content_length() -> None:
    client = HttpConnection(Role.CLIENT)
    client.send(Request("HEAD", "/", Headers.of([("Host", "x")])))
    client.send(EndOfMessage())
    client.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1")
    events = drain(client)
    assert [type(e) for e in events] == [Response, EndOfMessage]
    assert client.our_state is State.IDLE
    assert client.next_event() is PAUSED  # the stray bytes wait for the next request


@pytest.mark.parametrize("status", [100, 204, 304])
def test_bodiless_statuses(status: int) -> None:
    client = HttpConnection(Role.CLIENT)
    client.send(Request("GET", "/", Headers.of([("Host", "x")])))
    client.send(EndOfMessage())
    raw = f"HTTP/1.1 {status} X\r\nContent-Length: 5\r\n\r\n".encode()
    if status == 100:
        raw += b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    client.receive_data(raw)
    events = drain(client)
    assert isinstance(events[0], Response) and events[0].status == status
    assert isinstance(events[-1], EndOfMessage)
    if status == 100:
        assert Data(b"ok") in events


def test_close_delimited_response_and_connection_close() -> None:
    client = HttpConnection(Role.CLIENT)
    client.send(Request("GET", "/", Headers.of([("Host", "x")])))
    client.send(EndOfMessage())
    client.receive_data(b"HTTP/1.0 200 OK\r\n\r\nall of")
    client.receive_data(b" it")
    client.receive_data(b"")
    events = drain(client)
    body = b"".join(e.data for e in events if isinstance(e, Data))
    assert body == b"all of it"
    assert isinstance(events[-2], EndOfMessage) or isinstance(events[-1], EndOfMessage)
    assert client.our_state is State.MUST_CLOSE and not client.keep_alive


def test_http10_keep_alive_and_connection_close() -> None:
    s = HttpConnection(Role.SERVER)
    s.receive_data(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    drain(s)
    s.send(Response(200, Headers.of([("Content-Length", "0"), ("Connection", "keep-alive")])))
    s.send(EndOfMessage())
    assert s.our_state is State.IDLE
    s = HttpConnection(Role.SERVER)
    s.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    drain(s)
    s.send(Response(200, Headers.of([("Content-Length", "0")])))
    s.send(EndOfMessage())
    assert s.our_state is State.MUST_CLOSE


# -- cross-parsing with h11 ----------------------------------------------------------------

TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
names = st.text(TOKEN_CHARS, min_size=1, max_size=12).filter(
    lambda n: n.lower() not in {"host", "content-length", "transfer-encoding", "connection",
                                "te", "trailer", "upgrade", "expect", "keep-alive"}
)  # fmt: skip
values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30
).map(str.strip)  # fmt: skip
header_sets = st.lists(st.tuples(names, values), max_size=8)
bodies = st.binary(max_size=300)
framings = st.sampled_from(["length", "chunked"])
splits = st.lists(st.integers(1, 50), min_size=1, max_size=6)


def chunks_of(data: bytes, sizes: list[int]) -> list[bytes]:
    out, i, k = [], 0, 0
    while i < len(data):
        n = sizes[k % len(sizes)]
        out.append(data[i : i + n])
        i += n
        k += 1
    return out


def feed_h11(conn: h11.Connection, data: bytes, mode: str = "whole") -> list[object]:
    pieces = [data] if mode == "whole" else [data[i : i + 1] for i in range(len(data))]
    out = []
    for p in pieces:
        conn.receive_data(p)
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA or ev is h11.PAUSED:
                break
            out.append(ev)
    return out


def feed_ours(conn: HttpConnection, data: bytes, mode: str) -> list[object]:
    pieces = [data] if mode == "whole" else [data[i : i + 1] for i in range(len(data))]
    out: list[object] = []
    for p in pieces:
        conn.receive_data(p)
        out += drain(conn)
    return out


FEED = st.sampled_from(["whole", "bytewise"])
H = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@H
@given(header_sets, bodies, framings, splits, FEED)
def test_h11_parses_our_requests(
    fields: list[tuple[str, str]], body: bytes, framing: str, sizes: list[int], mode: str
) -> None:
    ours = HttpConnection(Role.CLIENT)
    hdrs = [("Host", "www.example.com"), *fields]
    hdrs.append(("Content-Length", str(len(body))) if framing == "length"
                else ("Transfer-Encoding", "chunked"))  # fmt: skip
    trailers = Headers.of([("X-Checksum", "abc")]) if framing == "chunked" else Headers()
    wire = ours.send(Request("POST", "/upload?x=1", Headers.of(hdrs)))
    for piece in chunks_of(body, sizes):
        wire += ours.send(Data(piece))
    wire += ours.send(EndOfMessage(trailers))
    theirs = h11.Connection(h11.SERVER)
    events = feed_h11(theirs, wire, mode)
    req = events[0]
    assert isinstance(req, h11.Request)
    assert req.method == b"POST" and req.target == b"/upload?x=1"
    got = [(n.decode(), v.decode()) for n, v in req.headers.raw_items()]
    assert got == hdrs
    assert b"".join(e.data for e in events if isinstance(e, h11.Data)) == body
    eom = events[-1]
    assert isinstance(eom, h11.EndOfMessage)
    assert [(n.decode(), v.decode()) for n, v in eom.headers.raw_items()] == list(trailers)


@H
@given(header_sets, bodies, framings, FEED)
def test_we_parse_h11_requests_with_trailing_data(
    fields: list[tuple[str, str]], body: bytes, framing: str, mode: str
) -> None:
    theirs = h11.Connection(h11.CLIENT)
    hdrs = [("Host", "www.example.com"), *fields]
    hdrs.append(("Content-Length", str(len(body))) if framing == "length"
                else ("Transfer-Encoding", "chunked"))  # fmt: skip
    wire = theirs.send(h11.Request(method="PUT", target="/a/b", headers=hdrs))
    if body:
        wire += theirs.send(h11.Data(data=body))
    wire += theirs.send(h11.EndOfMessage())
    nxt = b"GET /next HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
    ours = HttpConnection(Role.SERVER)
    events = feed_ours(ours, wire + nxt, mode)
    req = events[0]
    assert isinstance(req, Request)
    assert (req.method, req.target) == ("PUT", "/a/b")
    # h11 lower-cases names on send; values and order survive
    assert [(n.lower(), v) for n, v in req.headers] == [(n.lower(), v) for n, v in hdrs]
    assert b"".join(e.data for e in events if isinstance(e, Data)) == body
    assert isinstance(events[-1], EndOfMessage)
    assert ours.next_event() is PAUSED  # the next request waits for our response
    ours.send(Response(204))
    ours.send(EndOfMessage())
    nxt_events = drain(ours)
    assert isinstance(nxt_events[0], Request) and nxt_events[0].target == "/next"


@H
@given(header_sets, bodies, framings, splits, st.sampled_from(["GET", "HEAD"]), FEED)
def test_h11_parses_our_responses(
    fields: list[tuple[str, str]],
    body: bytes,
    framing: str,
    sizes: list[int],
    method: str,
    mode: str,
) -> None:
    client = h11.Connection(h11.CLIENT)
    req_wire = client.send(h11.Request(method=method, target="/", headers=[("Host", "a")]))
    req_wire += client.send(h11.EndOfMessage())
    ours = HttpConnection(Role.SERVER)
    ours.receive_data(req_wire)
    drain(ours)
    hdrs = [*fields]
    hdrs.append(("Content-Length", str(len(body))) if framing == "length"
                else ("Transfer-Encoding", "chunked"))  # fmt: skip
    wire = ours.send(Response(200, Headers.of(hdrs)))
    if method == "GET":
        for piece in chunks_of(body, sizes):
            wire += ours.send(Data(piece))
    wire += ours.send(EndOfMessage())
    assert ours.our_state is State.IDLE
    events = feed_h11(client, wire, mode)
    resp = events[0]
    assert isinstance(resp, h11.Response) and resp.status_code == 200
    assert [(n.decode(), v.decode()) for n, v in resp.headers.raw_items()] == hdrs
    got = b"".join(e.data for e in events if isinstance(e, h11.Data))
    assert got == (body if method == "GET" else b"")
    assert isinstance(events[-1], h11.EndOfMessage)
    assert client.our_state is h11.DONE and client.their_state is h11.DONE


@H
@given(header_sets, bodies, framings, FEED, st.sampled_from([200, 404, 500]))
def test_we_parse_h11_responses(
    fields: list[tuple[str, str]], body: bytes, framing: str, mode: str, status: int
) -> None:
    server = h11.Connection(h11.SERVER)
    ours = HttpConnection(Role.CLIENT)
    server.receive_data(ours.send(Request("GET", "/", Headers.of([("Host", "a")])))
                        + ours.send(EndOfMessage()))  # fmt: skip
    assert isinstance(server.next_event(), h11.Request)
    hdrs = [*fields]
    hdrs.append(("Content-Length", str(len(body))) if framing == "length"
                else ("Transfer-Encoding", "chunked"))  # fmt: skip
    wire = server.send(h11.Response(status_code=status, headers=hdrs))
    if body:
        wire += server.send(h11.Data(data=body))
    wire += server.send(h11.EndOfMessage(headers=[("X-T", "1")] if framing == "chunked" else []))
    events = feed_ours(ours, wire, mode)
    resp = events[0]
    assert isinstance(resp, Response) and resp.status == status
    assert b"".join(e.data for e in events if isinstance(e, Data)) == body
    eom = events[-1]
    assert isinstance(eom, EndOfMessage)
    if framing == "chunked":
        assert eom.trailers.get("x-t") == "1"
    assert ours.our_state is State.IDLE  # keep-alive: ready for the next request


@H
@given(st.binary(max_size=400))
def test_garbage_never_crashes(data: bytes) -> None:
    for role in (Role.SERVER, Role.CLIENT):
        conn = HttpConnection(role)
        if role is Role.CLIENT:
            conn.send(Request("GET", "/", Headers.of([("Host", "a")])))
            conn.send(EndOfMessage())
        try:
            conn.receive_data(data)
            conn.receive_data(b"")
            for _ in range(1000):
                ev = conn.next_event()
                if isinstance(ev, ConnectionClosed) or ev is PAUSED:
                    break
        except HttpRemoteError as e:
            assert 400 <= e.status <= 505


OPS = st.lists(
    st.one_of(
        st.sampled_from(["req", "req-cl", "req-chunked", "resp", "resp-cl", "resp-chunked",
                         "resp-100", "data", "eom", "eom-trailers", "close", "next", "eof"]),
        st.binary(max_size=40),
        st.sampled_from([GET_HEAD, NGINX_HEAD[:-2] + b"Content-Length: 3\r\n\r\nabc",
                         b"0\r\n\r\n", b"5\r\nhello\r\n"]),
    ),
    max_size=25,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([Role.CLIENT, Role.SERVER]), OPS)
def test_any_sequence_of_calls_ends_in_typed_errors_only(role: Role, ops: list[object]) -> None:
    """Every (state, input) pair either works or raises HttpLocalError/HttpRemoteError."""
    conn = HttpConnection(role)
    host = Headers.of([("Host", "a")])
    sends: dict[str, object] = {
        "req": Request("GET", "/", host),
        "req-cl": Request("POST", "/", host.with_field("Content-Length", "3")),
        "req-chunked": Request("POST", "/", host.with_field("Transfer-Encoding", "chunked")),
        "resp": Response(200),
        "resp-cl": Response(200, Headers.of([("Content-Length", "3")])),
        "resp-chunked": Response(200, Headers.of([("Transfer-Encoding", "chunked")])),
        "resp-100": Response(100),
        "data": Data(b"abc"),
        "eom": EndOfMessage(),
        "eom-trailers": EndOfMessage(Headers.of([("X-T", "1")])),
        "close": ConnectionClosed(),
    }
    for op in ops:
        try:
            if isinstance(op, bytes):
                conn.receive_data(op) if op else None
            elif op == "eof":
                conn.receive_data(b"")
            elif op == "next":
                for _ in range(50):
                    ev = conn.next_event()
                    if ev is NEED_DATA or ev is PAUSED or isinstance(ev, ConnectionClosed):
                        break
            else:
                out = conn.send(sends[str(op)])  # type: ignore[arg-type]
                assert isinstance(out, bytes)
        except (HttpLocalError, HttpRemoteError):
            continue
