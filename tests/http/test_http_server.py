"""The nginx-like web server: its answers, its limits, and surviving bad clients."""

from __future__ import annotations

import re
from collections.abc import Coroutine
from typing import Any

import h11
import pytest
from http_memory import MemoryStream, stream_pair

from minternet.apps.site import MemorySite, packaged_site
from minternet.apps.web_server import (
    ServerConfig,
    WebServer,
    entity_tag,
    path_segments,
)
from minternet.http import Headers, Request, Response
from minternet.http.dates import format_http_date, parse_http_date
from minternet.loop import LoopTimeout, VirtualLoop
from minternet.trace.bus import EventLog, TraceBus

EPOCH = 1_780_000_000.0
MTIME = 1_767_225_600.0
INDEX = b"<html><body><h1>Hi</h1></body></html>\n"
FILES = {
    "index.html": INDEX,
    "style.css": b"body { color: red }\n",
    "logo.svg": b"<svg/>",
    "docs/index.html": b"docs",
    "docs/a.txt": b"0123456789",
    "noindex/file.bin": b"\x00\x01",
    "caf\u00e9.txt": b"utf8 name",
}


def make_server(loop: VirtualLoop, **cfg: Any) -> tuple[WebServer, EventLog]:
    trace = TraceBus()
    log = EventLog()
    trace.subscribe(log)
    server = WebServer(
        MemorySite(FILES, MTIME), loop, lambda: EPOCH + loop.now(), trace, "www",
        ServerConfig(**cfg),
    )  # fmt: skip
    return server, log


def get(target: str, method: str = "GET", **headers: str) -> Request:
    fields = [("Host", "www.example.com")]
    fields += [(k.replace("_", "-"), v) for k, v in headers.items()]
    return Request(method, target, Headers.of(fields))


# -- what the server answers (pure logic over the Site) -----------------------------------

ANSWERS = [
    ("/", 200, INDEX),
    ("/index.html", 200, INDEX),
    ("/docs/", 200, b"docs"),
    ("/docs/../index.html", 200, INDEX),
    ("/docs/./a.txt?x=1", 200, b"0123456789"),
    ("//docs//a.txt", 200, b"0123456789"),
    ("/caf%C3%A9.txt", 200, b"utf8 name"),
    ("http://www.example.com/docs/a.txt", 200, b"0123456789"),
    ("/missing", 404, None),
    ("/index.html/", 404, None),
    ("/noindex/", 403, None),
    ("/../etc/passwd", 400, None),
    ("/..", 400, None),
    ("/%2e%2e/etc/passwd", 400, None),
    ("/%2E%2E%2Fetc%2Fpasswd", 400, None),
    ("/docs/%2e%2e/%2e%2e/x", 400, None),
    ("/docs/..%2f..%2fx", 400, None),
    ("/%zz", 400, None),
    ("/%ff", 400, None),
    ("/a%00b", 400, None),
]


@pytest.mark.parametrize(("target", "status", "body"), ANSWERS)
def test_answers(target: str, status: int, body: bytes | None) -> None:
    server, _ = make_server(VirtualLoop())
    reply = server.respond(get(target))
    assert reply.status == status
    if body is not None:
        assert server.read_content(reply) == body
    else:
        assert f"<h1>{status} ".encode() in reply.body


def test_directory_without_slash_redirects() -> None:
    server, _ = make_server(VirtualLoop())
    reply = server.respond(get("/docs"))
    assert reply.status == 301 and ("Location", "/docs/") in reply.headers
    reply = server.respond(get("/docs?q=1"))
    assert ("Location", "/docs/?q=1") in reply.headers


@pytest.mark.parametrize(
    ("name", "target", "location"),
    [
        ("\u65e5\u672c", "/%E6%97%A5%E6%9C%AC", "/%E6%97%A5%E6%9C%AC/"),
        ("caf\u00e9", "/caf%C3%A9", "/caf%C3%A9/"),
        ("q?x", "/q%3Fx", "/q%3Fx/"),
        ("a b#c", "/a%20b%23c?k=v", "/a%20b%23c/?k=v"),
    ],
)
def test_directory_redirect_location_is_percent_encoded(
    name: str, target: str, location: str
) -> None:
    """The Location of a directory redirect names the same directory (RFC 3986 §2.1)."""
    server = WebServer(MemorySite({f"{name}/index.html": b"x"}), VirtualLoop(), lambda: EPOCH)
    reply = server.respond(get(target))
    assert reply.status == 301 and ("Location", location) in reply.headers
    follow = server.respond(get(location))
    assert follow.status == 200 and server.read_content(follow) == b"x"


def test_methods() -> None:
    server, _ = make_server(VirtualLoop())
    for m in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"):
        reply = server.respond(get("/", m))
        assert reply.status == 405 and ("Allow", "GET, HEAD") in reply.headers
    assert server.respond(get("/", "BREW")).status == 501


def test_file_metadata_fields() -> None:
    server, _ = make_server(VirtualLoop())
    reply = server.respond(get("/style.css"))
    h = dict(reply.headers)
    assert h["Content-Type"] == "text/css"
    assert h["Content-Length"] == str(len(FILES["style.css"]))
    assert h["Last-Modified"] == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert h["ETag"] == f'"{int(MTIME):x}-{len(FILES["style.css"]):x}"'
    assert h["Accept-Ranges"] == "bytes"
    assert dict(server.respond(get("/logo.svg")).headers)["Content-Type"] == "image/svg+xml"
    assert dict(server.respond(get("/")).headers)["Content-Type"] == "text/html; charset=utf-8"
    assert dict(server.respond(get("/noindex/file.bin")).headers)["Content-Type"] == (
        "application/octet-stream"
    )


def test_conditional_get() -> None:
    server, _ = make_server(VirtualLoop())
    etag = dict(server.respond(get("/")).headers)["ETag"]
    lm = format_http_date(MTIME)
    assert server.respond(get("/", If_None_Match=etag)).status == 304
    assert server.respond(get("/", If_None_Match=f'"x", W/{etag}')).status == 304
    assert server.respond(get("/", If_None_Match="*")).status == 304
    assert server.respond(get("/", If_None_Match='"other"')).status == 200
    assert server.respond(get("/", If_Modified_Since=lm)).status == 304
    assert server.respond(get("/", If_Modified_Since=format_http_date(MTIME - 1))).status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
    assert server.respond(get("/", If_None_Match='"other"', If_Modified_Since=lm)).status == 200
    assert server.respond(get("/", If_Modified_Since="not a date")).status == 200
    not_modified = server.respond(get("/", "HEAD", If_None_Match=etag))
    assert not_modified.status == 304 and not_modified.body == b""
    assert ("ETag", etag) in not_modified.headers


def test_ranges() -> None:
    server, _ = make_server(VirtualLoop())
    r = server.respond(get("/docs/a.txt", Range="bytes=2-4"))
    assert r.status == 206 and server.read_content(r) == b"234"
    assert ("Content-Range", "bytes 2-4/10") in r.headers
    r = server.respond(get("/docs/a.txt", Range="bytes=-3"))
    assert r.status == 206 and server.read_content(r) == b"789"
    r = server.respond(get("/docs/a.txt", Range="bytes=7-"))
    assert server.read_content(r) == b"789"
    r = server.respond(get("/docs/a.txt", Range="bytes=8-100"))
    assert server.read_content(r) == b"89" and ("Content-Range", "bytes 8-9/10") in r.headers
    r = server.respond(get("/docs/a.txt", Range="bytes=10-"))
    assert r.status == 416 and ("Content-Range", "bytes */10") in r.headers
    # last-pos before first-pos: invalid, rejected as nginx does (RFC 9110 §14.2 allows it)
    r = server.respond(get("/docs/a.txt", Range="bytes=5-2"))
    assert r.status == 416 and ("Content-Range", "bytes */10") in r.headers
    # an unsatisfiable range beside a satisfiable one is left out (RFC 9110 §14.1.1)
    r = server.respond(get("/docs/a.txt", Range="bytes=20-30, 1-2"))
    assert r.status == 206 and server.read_content(r) == b"12"
    # ranges adding up to more than the file (overlap), or too many: the whole file
    assert server.respond(get("/docs/a.txt", Range="bytes=0-8,1-9")).status == 200
    many = ",".join(f"{i}-{i}" for i in range(10)) + ",0-0" * 7
    assert server.respond(get("/docs/a.txt", Range=f"bytes={many}")).status == 200
    assert server.respond(get("/docs/a.txt", Range="items=0-1")).status == 200
    assert server.respond(get("/docs/a.txt", Range="bytes=0-1", If_Range='"old"')).status == 200


def test_multiple_ranges_are_a_multipart_byteranges_206() -> None:
    """RFC 9110 §14.6, checked with the standard library's MIME parser."""
    import email.parser
    import email.policy

    server, _ = make_server(VirtualLoop())
    r = server.respond(get("/docs/a.txt", Range="bytes=0-1, 4-5,-2"))
    assert r.status == 206
    h = dict(r.headers)
    ctype = h["Content-Type"]
    assert ctype.startswith("multipart/byteranges; boundary=")
    body = server.read_content(r)
    assert int(h["Content-Length"]) == len(body)
    assert "Content-Range" not in h
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + body
    )
    parts = [(p["Content-Range"], p.get_content_type(), p.get_payload(decode=True))
             for p in msg.iter_parts()]  # fmt: skip
    assert parts == [
        ("bytes 0-1/10", "text/plain", b"01"),
        ("bytes 4-5/10", "text/plain", b"45"),
        ("bytes 8-9/10", "text/plain", b"89"),
    ]


def test_path_segments() -> None:
    assert path_segments("/a/b/../c/?q") == (("a", "c"), True, "q")
    assert path_segments("/a/%2e") == (("a",), True, "")
    with pytest.raises(Exception, match="climbs"):
        path_segments("/a/../../b")


def test_packaged_site_is_served() -> None:
    loop = VirtualLoop()
    site = packaged_site()
    server = WebServer(site, loop, lambda: EPOCH)
    page = server.respond(get("/"))
    assert page.status == 200 and b"<title>" in server.read_content(page)
    for asset in ("/style.css", "/logo.svg"):
        assert server.respond(get(asset)).status == 200
    assert entity_tag(site.stat(("index.html",))).startswith('"')  # type: ignore[arg-type]


# -- over a connection ----------------------------------------------------------------------


async def read_until_close(stream: MemoryStream, timeout: float = 500.0) -> tuple[bytes, bool]:
    """Everything the server sends until it closes (True) or ``timeout`` passes (False)."""
    out = bytearray()
    while True:
        try:
            chunk = await stream.recv(65536, timeout)
        except LoopTimeout:
            return bytes(out), False
        except ConnectionResetError:
            return bytes(out), True
        if not chunk:
            return bytes(out), True
        out += chunk


def run(loop: VirtualLoop, coro: Coroutine[Any, Any, Any], timeout: float = 1000.0) -> Any:
    return loop.run_until_complete(loop.create_task(coro), timeout)


def statuses(data: bytes) -> list[int]:
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] ([0-9]{3}) ", data)]


def test_h11_client_gets_the_page_and_head_and_body_go_in_one_send() -> None:
    loop = VirtualLoop()
    server, log = make_server(loop)
    client, srv = stream_pair(loop)
    task = loop.create_task(server.serve_connection(srv, "192.168.1.10:49152"))

    async def go() -> tuple[h11.Response, bytes]:
        h = h11.Connection(h11.CLIENT)
        await client.send(
            h.send(
                h11.Request(
                    method="GET", target="/index.html", headers=[("Host", "www.example.com")]
                )
            )
            + h.send(h11.EndOfMessage())
        )
        resp, body = None, b""
        while True:
            ev = h.next_event()
            if ev is h11.NEED_DATA:
                h.receive_data(await client.recv(65536, 10))
            elif isinstance(ev, h11.Response):
                resp = ev
            elif isinstance(ev, h11.Data):
                body += ev.data
            elif isinstance(ev, h11.EndOfMessage):
                break
        await client.close()
        assert resp is not None
        return resp, body

    resp, body = run(loop, go())
    assert resp.status_code == 200 and body == INDEX
    h = {k.decode(): v.decode() for k, v in resp.headers.raw_items()}
    assert h["Server"] == "minternet-nginx/0.1"
    assert parse_http_date(h["Date"]) == int(EPOCH + 0.001)
    assert h["Connection"] == "keep-alive"
    loop.run(until=loop.now() + 1)
    assert task.done() and task.exception() is None
    assert len(srv.sent) == 1  # head and body in one write: one TLS record when small
    access = log.of("http", "response")
    assert access[0].fields["status"] == 200 and access[0].fields["target"] == "/index.html"


BAD_REQUESTS = [
    (
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n",
        400,
    ),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400),
    (b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"x" * 20000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"x" * 20000, 431),  # never ends
    (b"GET /../../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET /%2E%2E%2F%2E%2E%2Fetc%2Fpasswd HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n", 501),
    (b"DELETE /index.html HTTP/1.1\r\nHost: a\r\n\r\n", 405),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999\r\n\r\n", 413),
]


def test_bad_requests_get_their_status_and_the_server_goes_on() -> None:
    loop = VirtualLoop()
    server, _ = make_server(loop)

    async def one(raw: bytes) -> tuple[bytes, bool]:
        client, srv = stream_pair(loop)
        loop.create_task(server.serve_connection(srv, "peer"))
        await client.send(raw)
        return await read_until_close(client, 30.0)

    async def all_of_them() -> list[tuple[bytes, bool]]:
        out = []
        for raw, _ in BAD_REQUESTS:
            out.append(await one(raw))
        out.append(await one(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
        return out

    results = run(loop, all_of_them())
    for (raw, want), (got, closed) in zip(BAD_REQUESTS, results, strict=False):
        assert statuses(got)[:1] == [want], raw[:60]
        assert closed or want in (404, 405, 501), raw[:60]
        resp = Response.decode(got[: got.index(b"\r\n\r\n") + 4])
        assert resp.headers.get("server") == "minternet-nginx/0.1"
    # the smuggled second request was never answered
    assert statuses(results[0][0]) == [400]
    last, closed = results[-1]
    assert statuses(last) == [200] and last.endswith(INDEX) and closed
    assert server.requests >= 1 and not loop.failed_tasks


def test_keep_alive_1000_requests_on_one_connection() -> None:
    loop = VirtualLoop()
    server, _ = make_server(loop)
    client, srv = stream_pair(loop)
    task = loop.create_task(server.serve_connection(srv, "peer"))

    async def go() -> list[int]:
        h = h11.Connection(h11.CLIENT)
        codes = []
        for i in range(1000):
            target = "/docs/a.txt" if i % 2 else "/"
            await client.send(
                h.send(h11.Request(method="GET", target=target, headers=[("Host", "a")]))
                + h.send(h11.EndOfMessage())
            )
            while True:
                ev = h.next_event()
                if ev is h11.NEED_DATA:
                    h.receive_data(await client.recv(65536, 5))
                elif isinstance(ev, h11.Response):
                    codes.append(ev.status_code)
                    last_conn = dict(ev.headers).get(b"connection")
                elif isinstance(ev, h11.EndOfMessage):
                    break
            if h.our_state is h11.MUST_CLOSE:
                break
            h.start_next_cycle()
        assert last_conn == b"close"  # the 1000th answer ends the connection (keepalive_requests)
        rest, closed = await read_until_close(client, 5)
        assert rest == b"" and closed
        return codes

    codes = run(loop, go())
    assert codes == [200] * 1000
    loop.run(until=loop.now() + 3)  # the server's lingering close waits for our FIN
    assert task.done() and server.requests == 1000


def test_keepalive_requests_limit_and_http10() -> None:
    loop = VirtualLoop()
    server, _ = make_server(loop, keepalive_requests=2)

    async def session(raw: bytes) -> tuple[bytes, bool]:
        client, srv = stream_pair(loop)
        loop.create_task(server.serve_connection(srv, "peer"))
        await client.send(raw)
        return await read_until_close(client, 5)

    req = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    got, closed = run(loop, session(req * 3))
    assert statuses(got) == [200, 200] and closed and b"Connection: close" in got
    got, closed = run(loop, session(b"GET / HTTP/1.0\r\n\r\n"))
    assert statuses(got) == [200] and closed and b"Connection: close\r\n" in got
    got, closed = run(loop, session(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
    assert statuses(got) == [200] and not closed and b"Connection: keep-alive\r\n" in got


def test_slow_client_gets_408_and_idle_client_is_closed() -> None:
    loop = VirtualLoop()
    server, log = make_server(loop, client_header_timeout=10.0, keepalive_timeout=30.0)

    async def slow() -> tuple[bytes, bool, float]:
        client, srv = stream_pair(loop)
        loop.create_task(server.serve_connection(srv, "slow"))
        t0 = loop.now()
        await client.send(b"GET / HTTP/1.1\r\nHo")
        got, closed = await read_until_close(client, 100)
        return got, closed, loop.now() - t0

    got, closed, took = run(loop, slow())
    assert statuses(got) == [408] and closed and 10.0 <= took < 11.0

    async def idle() -> tuple[bytes, bool, float]:
        client, srv = stream_pair(loop)
        loop.create_task(server.serve_connection(srv, "idle"))
        t0 = loop.now()
        await client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        got, closed = await read_until_close(client, 100)
        return got, closed, loop.now() - t0

    got, closed, took = run(loop, idle())
    assert statuses(got) == [200] and closed and 30.0 <= took < 31.0  # closed without a word
    assert len(log.of("http", "timeout")) == 2


def test_client_vanishing_mid_response_does_not_hurt_the_server() -> None:
    loop = VirtualLoop()
    server, log = make_server(loop)

    async def rude() -> None:
        client, srv = stream_pair(loop)
        loop.create_task(server.serve_connection(srv, "rude"))
        await client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" * 5)
        await client.recv(10, 5)  # the first bytes of the first response
        client.abort()

    async def polite() -> tuple[bytes, bool]:
        client, srv = stream_pair(loop)
        loop.create_task(server.serve_connection(srv, "polite"))
        await client.send(b"GET /style.css HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        return await read_until_close(client, 5)

    run(loop, rude())
    loop.run(until=loop.now() + 5)
    got, closed = run(loop, polite())
    assert statuses(got) == [200] and got.endswith(FILES["style.css"]) and closed
    assert log.of("http", "error")
    assert not loop.failed_tasks


def test_pipelined_requests_are_answered_in_order() -> None:
    loop = VirtualLoop()
    server, _ = make_server(loop)

    async def go() -> bytes:
        client, srv = stream_pair(loop)
        loop.create_task(server.serve_connection(srv, "p"))
        await client.send(
            b"GET /docs/a.txt HTTP/1.1\r\nHost: a\r\n\r\n"
            b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /missing HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
        got, closed = await read_until_close(client, 5)
        assert closed
        return got

    got = run(loop, go())
    assert statuses(got) == [200, 200, 404]
    # the HEAD answer announces the length of the page but carries no body
    head_part = got.split(b"HTTP/1.1 ")[2]  # the second response: the HEAD answer
    assert f"Content-Length: {len(INDEX)}".encode() in head_part
    assert head_part.endswith(b"\r\n\r\n")


class QueueListener:
    """A Listener whose accept() hands out server ends queued by the test."""

    def __init__(self, loop: VirtualLoop) -> None:
        self.loop = loop
        self.ready: list[MemoryStream] = []
        self.waiter: Any = None
        self.local = ("93.184.216.34", 443)

    def push(self, stream: MemoryStream) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(stream)
            self.waiter = None
        else:
            self.ready.append(stream)

    def accept(self) -> Any:
        fut = self.loop.create_future()
        if self.ready:
            fut.set_result(self.ready.pop(0))
        else:
            self.waiter = fut
        return fut

    def close(self) -> None:
        pass


def test_serve_accepts_connections_and_survives_failed_handshakes() -> None:
    loop = VirtualLoop()
    server, log = make_server(loop, handshake_timeout=5.0)
    listener = QueueListener(loop)
    handshakes = 0

    async def secure(sock: Any) -> Any:
        nonlocal handshakes
        handshakes += 1
        hello = await sock.recv(65536, 100)
        if hello != b"HELLO":
            raise ConnectionResetError("bad handshake")
        return sock

    loop.create_task(server.serve(listener, secure))  # type: ignore[arg-type]

    async def session(first: bytes, then: bytes) -> tuple[bytes, bool]:
        client, srv = stream_pair(loop)
        listener.push(srv)
        await client.send(first)
        if then:
            await client.send(then)
        return await read_until_close(client, 20)

    got, closed = run(loop, session(b"JUNK", b""))
    assert got == b"" and closed
    got, closed = run(loop, session(b"", b""))  # never says hello: handshake timeout
    assert got == b"" and closed
    got, closed = run(
        loop, session(b"HELLO", b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    )
    assert statuses(got) == [200] and closed
    assert handshakes == 3
    assert len(log.of("http", "handshake-failed")) == 2
    assert not loop.failed_tasks
