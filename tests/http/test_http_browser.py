"""The browser-like client: URLs, fetching from our server and from h11, rendering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import h11
import pytest
from http_memory import MemoryStack, MemoryStream

from minternet.apps.browser import Browser, FetchError, Page, parse_url
from minternet.apps.site import packaged_site
from minternet.apps.web_server import WebServer
from minternet.errors import ConfigError
from minternet.http.render import render_html
from minternet.loop import Future, VirtualLoop

ADDR = "93.184.216.34"


@pytest.mark.parametrize(
    ("text", "scheme", "host", "port", "target"),
    [
        ("https://www.example.com/index.html", "https", "www.example.com", 443, "/index.html"),
        ("http://WWW.Example.COM:8080", "http", "www.example.com", 8080, "/"),
        ("www.example.com/a?b=c d#frag", "https", "www.example.com", 443, "/a?b=c%20d"),
        ("https://bücher.example/ä", "https", "xn--bcher-kva.example", 443, "/%C3%A4"),
        ("https://例え.テスト/", "https", "xn--r8jz45g.xn--zckzah", 443, "/"),
        ("http://127.0.0.1:8443/x/../y", "http", "127.0.0.1", 8443, "/x/../y"),
    ],
)
def test_parse_url(text: str, scheme: str, host: str, port: int, target: str) -> None:
    url = parse_url(text)
    assert (url.scheme, url.host, url.port, url.target) == (scheme, host, port, target)


@pytest.mark.parametrize(
    "text",
    ["ftp://a/", "https://", "https://user:pw@a/", "https://[::1]/", "http://a:99999/",
     "https://" + "a" * 64 + ".com/"],
)  # fmt: skip
def test_bad_urls_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_url(text)


def resolver(loop: VirtualLoop, table: dict[str, str]) -> Callable[[str], Future[str]]:
    def resolve(host: str) -> Future[str]:
        fut: Future[str] = loop.create_future()
        if host in table:
            fut.set_result(table[host])
        else:
            fut.set_exception(FetchError(f"{host}: no such name"))
        return fut

    return resolve


def h11_server(
    respond: Callable[[h11.Request], tuple[int, list[tuple[str, str]], list[bytes]]],
    seen: list[h11.Request],
    close_after: bool = False,
) -> Callable[[MemoryStream], Any]:
    """An independent HTTP server (h11) answering one request per connection."""

    async def handler(stream: MemoryStream) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                conn.receive_data(await stream.recv(65536, 10))
                continue
            if isinstance(ev, h11.Request):
                seen.append(ev)
            if isinstance(ev, h11.EndOfMessage):
                break
        status, headers, chunks = respond(seen[-1])
        out = conn.send(h11.Response(status_code=status, headers=headers))
        for c in chunks:
            out += conn.send(h11.Data(data=c))
        out += conn.send(h11.EndOfMessage())
        await stream.send(out)
        if close_after:
            await stream.close()
            return
        # wait for the client's FIN: the browser closes first
        stream.peer_fin = await stream.recv(65536, 10) == b""  # type: ignore[attr-defined]
        await stream.close()

    return handler


def fetch(loop: VirtualLoop, stack: MemoryStack, url: str, **kw: Any) -> Page:
    browser = Browser(stack, resolver(loop, {"www.example.com": ADDR}), **kw)  # type: ignore[arg-type]
    return loop.run_until_complete(loop.create_task(browser.fetch(url)), 100)


def test_fetch_from_our_server_over_http() -> None:
    loop = VirtualLoop()
    stack = MemoryStack(loop)
    site = packaged_site()
    server = WebServer(site, loop, lambda: 1_780_000_000.0 + loop.now())
    stack.servers[(ADDR, 80)] = lambda s: server.serve_connection(s, "laptop")
    page = fetch(loop, stack, "http://www.example.com/index.html")
    assert page.status == 200 and page.body == site.files[("index.html",)]
    assert page.address == (ADDR, 80)
    text = page.render()
    assert "IT WORKS" in text and "1. DNS:" in text and "Links:" in text
    loop.run(until=loop.now() + 5)
    assert not loop.failed_tasks and server.connections == 1


def test_request_fields_and_client_closes_first() -> None:
    loop = VirtualLoop()
    stack = MemoryStack(loop)
    seen: list[h11.Request] = []
    body = b"<html><body><p>hello</p></body></html>"
    stack.servers[(ADDR, 80)] = h11_server(
        lambda r: (200, [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
                   [body]),
        seen,
    )  # fmt: skip
    page = fetch(loop, stack, "http://www.example.com/a/b?c=1")
    assert page.body == body and page.render().strip() == "hello"
    req = seen[0]
    assert (req.method, req.target, req.http_version) == (b"GET", b"/a/b?c=1", b"1.1")
    h = dict(req.headers)
    assert h[b"host"] == b"www.example.com"
    assert h[b"user-agent"].startswith(b"minternet-browser/")
    assert h[b"accept-encoding"] == b"identity" and b"text/html" in h[b"accept"]
    assert b"connection" not in h  # keep-alive, so that the client's FIN comes first
    loop.run(until=loop.now() + 5)
    server_side = stack.client_streams[0].peer
    assert server_side is not None and server_side.peer_fin  # type: ignore[attr-defined]


def test_chunked_and_close_delimited_responses_from_h11() -> None:
    loop = VirtualLoop()
    stack = MemoryStack(loop)
    seen: list[h11.Request] = []
    parts = [b"<p>one ", b"two ", b"three</p>"]
    stack.servers[(ADDR, 80)] = h11_server(
        lambda r: (200, [("Content-Type", "text/html; charset=utf-8"),
                         ("Transfer-Encoding", "chunked")], parts),
        seen,
    )  # fmt: skip
    page = fetch(loop, stack, "http://www.example.com/")
    assert page.body == b"".join(parts)
    stack.servers[(ADDR, 80)] = h11_server(
        lambda r: (200, [("Content-Type", "text/plain"), ("Connection", "close")], parts),
        seen,
        close_after=True,
    )
    page = fetch(loop, stack, "http://www.example.com/")
    assert page.body == b"".join(parts) and page.render() == "<p>one two three</p>"


def test_redirects_are_followed() -> None:
    loop = VirtualLoop()
    stack = MemoryStack(loop)
    site = packaged_site()
    server = WebServer(site, loop, lambda: 1_780_000_000.0)
    site.files[("docs", "index.html")] = b"<h1>Docs</h1>"
    site.dirs.add(("docs",))
    stack.servers[(ADDR, 80)] = lambda s: server.serve_connection(s, "laptop")
    page = fetch(loop, stack, "http://www.example.com/docs")
    assert page.status == 200 and page.body == b"<h1>Docs</h1>"
    assert page.redirects == ("http://www.example.com/docs",)
    assert str(page.url) == "http://www.example.com/docs/"


def test_failures_are_one_line_errors() -> None:
    loop = VirtualLoop()
    stack = MemoryStack(loop)
    with pytest.raises(ConnectionRefusedError):
        fetch(loop, stack, "http://www.example.com/")
    with pytest.raises(FetchError, match="no such name"):
        fetch(loop, stack, "http://nowhere.example/")
    with pytest.raises(FetchError, match="TLS"):
        fetch(loop, stack, "https://www.example.com/")

    async def garbage(stream: MemoryStream) -> None:
        await stream.recv(65536, 5)
        await stream.send(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")

    stack.servers[(ADDR, 80)] = garbage
    with pytest.raises(FetchError, match="broke HTTP"):
        fetch(loop, stack, "http://www.example.com/")

    async def silent(stream: MemoryStream) -> None:
        await stream.recv(65536, 100)

    stack.servers[(ADDR, 80)] = silent
    with pytest.raises(FetchError, match="timed out"):
        fetch(loop, stack, "http://www.example.com/", timeout=3.0)


def test_render_html() -> None:
    html = (
        "<html><head><title>T</title><script>alert(1)</script></head><body>"
        "<h1>Big</h1><h2>Small</h2><h3>Tiny</h3><p>Some <b>bo</b>ld &amp; "
        "<a href='/x'>a link</a>.</p><ul><li>one</li><li>two</li></ul>"
        "<pre>keep\n  this</pre><img src=a.png alt='a cat'></body></html>"
    )
    text = render_html(html, "https://www.example.com/dir/")
    assert text.startswith("[ T ]")
    assert "BIG\n===" in text and "Small\n-----" in text and "### Tiny" in text
    assert "Some bold & a link[1]." in text
    assert "• one\n• two" in text
    assert "keep\n  this" in text
    assert "[image: a cat]" in text
    assert "[1] https://www.example.com/x" in text
    assert "alert" not in text
    render_html("<p><b>unclosed <i>tags</p></div></span><<>>&bogus;")  # never raises


def test_body_limit() -> None:
    loop = VirtualLoop()
    stack = MemoryStack(loop)
    seen: list[h11.Request] = []
    stack.servers[(ADDR, 80)] = h11_server(
        lambda r: (200, [("Content-Length", "5000")], [b"x" * 5000]), seen
    )
    with pytest.raises(FetchError, match="larger than"):
        fetch(loop, stack, "http://www.example.com/", max_body=1000)
