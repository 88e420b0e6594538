"""A browser-like client: URL → name → TCP → TLS → ``GET`` → page → close → text.

:func:`parse_url` splits an ``http``/``https`` URL (RFC 3986) and turns an international host
name into its ASCII form (IDNA, RFC 5891: ``bücher.example`` → ``xn--bcher-kva.example``).
:class:`Browser` resolves the host through the resolver it is given (the DNS stub in the
simulator, hosts file + system resolver on a real machine), connects with the stack's TCP,
wraps the stream in TLS for ``https`` (SNI = the host, ALPN ``http/1.1``; through the
``secure`` callable it is given), sends ``GET`` with ``Host``, ``User-Agent``, ``Accept`` and
``Accept-Encoding: identity``, reads the response (Content-Length, chunked or until close)
and then closes the connection itself — the client's FIN starts the four-way close, as in
the seed. Redirects (301/302/303/307/308) are followed up to a limit.

A body can go to a ``sink`` as it arrives (``fetch -o``: nothing held in memory, no size
limit). A body that ends with the connection (no Content-Length, not chunked) is complete
only if TLS said so with close_notify: a bare close is a truncation (RFC 9112 §9.8), and
the fetch fails. A ``deadline`` bounds the whole fetch — resolving, connecting, the
handshake, every read — as curl's ``--max-time`` does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

from ..errors import ConfigError, MinternetError
from ..http import (
    NEED_DATA,
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
)
from ..http.render import render_html
from ..loop import EventLoop, Future, LoopTimeout
from ..node.api import NetworkStack, StreamSocket
from .streams import ByteStream, as_future, ended_cleanly

USER_AGENT = "minternet-browser/0.1"
ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"
DEFAULT_PORTS = {"http": 80, "https": 443}

Resolver = Callable[[str], Awaitable[str]]
"""``await resolve(host)`` gives the IPv4 address of ``host`` (raises if it has none)."""
Secure = Callable[[StreamSocket, str], Awaitable[ByteStream]]
"""``await secure(sock, server_name)`` runs a TLS handshake on ``sock`` and gives the stream."""
Sink = Callable[[bytes], object]
"""``sink(data)`` takes the next piece of a page's body (instead of the Page keeping it)."""
REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(MinternetError):
    """A page could not be fetched (bad URL, timeout, the server broke HTTP)."""


@dataclass(frozen=True, slots=True)
class Url:
    """An absolute ``http``/``https`` URL; ``host`` is ASCII (IDNA), ``target`` the path+query."""

    scheme: str
    host: str
    port: int
    target: str

    @property
    def authority(self) -> str:
        """``host[:port]``, the port left out when it is the scheme's default (Host field)."""
        default = DEFAULT_PORTS[self.scheme]
        return self.host if self.port == default else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.authority}{self.target}"


def parse_url(text: str) -> Url:
    """Parse ``text`` (a bare ``host/path`` means ``https://``); :class:`ConfigError` if bad."""
    text = text.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise ConfigError(f"bad URL {text!r}: {e}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ConfigError(f"bad URL {text!r}: only http and https are supported")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"bad URL {text!r}: user information is not supported")
    host = parts.hostname or ""
    if not host:
        raise ConfigError(f"bad URL {text!r}: no host")
    host = _ascii_host(host, text)
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/?%:@!$&'()*+,;=-._~") if parts.query else ""
    target = path + (f"?{query}" if query else "")
    return Url(scheme, host, port or DEFAULT_PORTS[scheme], target)


def _ascii_host(host: str, text: str) -> str:
    """IPv4 literals stay; names become IDNA A-labels, lower-case (RFC 5890 §2.3.2.1)."""
    if ":" in host:
        raise ConfigError(f"bad URL {text!r}: IPv6 is not part of this internet")
    try:
        ipaddress.IPv4Address(host)
        return host
    except ValueError:
        pass
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError as e:
        raise ConfigError(f"bad URL {text!r}: host {host!r} is not a valid name ({e})") from None
    if not ascii_host or any(len(label) > 63 or not label for label in ascii_host.split(".")):
        raise ConfigError(f"bad URL {text!r}: host {host!r} is not a valid name")
    return ascii_host


def is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Page:
    """What a fetch brought back."""

    url: Url
    address: tuple[str, int]
    response: Response
    body: bytes
    redirects: tuple[str, ...] = field(default_factory=tuple)
    streamed: int | None = None  # bytes given to a sink (``body`` is then empty)

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def size(self) -> int:
        """The body's length, kept or streamed."""
        return len(self.body) if self.streamed is None else self.streamed

    @property
    def content_type(self) -> str:
        return (self.response.headers.get("content-type") or "").split(";")[0].strip().lower()

    def text(self) -> str:
        """The body decoded with the charset of Content-Type (UTF-8 if none)."""
        charset = "utf-8"
        for param in (self.response.headers.get("content-type") or "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                charset = value.strip().strip('"') or charset
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    def render(self, width: int = 78) -> str:
        """The page as terminal text (HTML rendered, other text as is)."""
        ctype = self.content_type
        if ctype in ("text/html", "application/xhtml+xml"):
            return render_html(self.text(), str(self.url), width)
        if ctype.startswith("text/") or ctype in ("application/json", ""):
            return self.text()
        return f"[{len(self.body)} bytes of {ctype}]\n"


class Browser:
    """Fetches pages over a :class:`~minternet.node.api.NetworkStack`."""

    def __init__(
        self,
        stack: NetworkStack,
        resolve: Resolver,
        secure: Secure | None = None,
        *,
        user_agent: str = USER_AGENT,
        timeout: float = 30.0,
        max_redirects: int = 5,
        max_body: int = 64 * 1024 * 1024,
    ) -> None:
        self.stack = stack
        self.resolve = resolve
        self.secure = secure
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.max_body = max_body
        self._deadline: float | None = None

    def _emit(self, kind: str, why: str | None = None, **fields: object) -> None:
        trace = self.stack.trace
        if trace.active:
            trace.emit(self.stack.loop.now(), self.stack.name, "http", kind, fields, why=why)

    def _wait(self) -> float:
        """How long the next step may take: ``timeout``, less if the deadline is nearer."""
        if self._deadline is None:
            return self.timeout
        return max(0.0, min(self.timeout, self._deadline - self.stack.loop.now()))

    def _timed_out(self, what: str) -> FetchError:
        if self._deadline is not None:
            return FetchError(f"{what} timed out: the fetch took more than {self.timeout:g} s")
        return FetchError(f"{what} timed out after {self.timeout:g} s")

    async def fetch(self, url: str | Url, *, sink: Sink | None = None,
                    deadline: float | None = None) -> Page:  # fmt: skip
        """GET ``url``, following redirects; :class:`FetchError` if it cannot.

        ``sink``: the final page's body goes there as it arrives. ``deadline`` (loop time):
        everything, redirects included, must be done by then."""
        target = parse_url(url) if isinstance(url, str) else url
        self._deadline = deadline
        seen: list[str] = []
        while True:
            page = await self.fetch_once(target, sink)
            location = page.response.headers.get("location")
            if page.status not in REDIRECTS or location is None:
                return Page(page.url, page.address, page.response, page.body, tuple(seen),
                            page.streamed)  # fmt: skip
            if len(seen) >= self.max_redirects:
                raise FetchError(f"more than {self.max_redirects} redirects from {url}")
            seen.append(str(target))
            target = parse_url(urljoin(str(target), location))
            self._emit("redirect", to=str(target), status=page.status)

    async def fetch_once(self, url: Url, sink: Sink | None = None) -> Page:
        """One GET on one new connection, which the browser closes itself afterwards."""
        loop = self.stack.loop
        if url.scheme == "https" and self.secure is None:
            raise FetchError("https needs TLS, which this browser was not given")
        try:
            if is_ipv4(url.host):
                address = url.host
            elif self._deadline is None:
                address = await self.resolve(url.host)
            else:
                lookup = as_future(loop, self.resolve(url.host), "resolve")
                address = await loop.wait_for(lookup, self._wait())
        except LoopTimeout:
            raise self._timed_out(f"resolving {url.host}") from None
        self._emit("resolved", host=url.host, address=address)
        try:
            sock = await self.stack.tcp_connect((address, url.port), self._wait())
        except LoopTimeout:
            raise self._timed_out(f"connecting to {address}:{url.port}") from None
        sock.set_nodelay(True)  # as browsers do: no Nagle delay on a request's last segment
        stream: ByteStream = sock
        try:
            if url.scheme == "https":
                assert self.secure is not None
                handshake = as_future(loop, self.secure(sock, url.host), "tls-connect")
                stream = await loop.wait_for(handshake, self._wait())
            response, body, streamed = await self._exchange(stream, url, sink)
        except LoopTimeout:
            sock.abort()
            raise self._timed_out(str(url)) from None
        except HttpRemoteError as e:
            sock.abort()
            raise FetchError(f"{url}: the server broke HTTP/1.1: {e}") from None
        except BaseException:
            sock.abort()
            raise
        await _close(loop, stream, self._wait())
        self._emit("closed", url=str(url))
        return Page(url, (address, url.port), response, body, streamed=streamed)

    async def _exchange(
        self, stream: ByteStream, url: Url, sink: Sink | None
    ) -> tuple[Response, bytes, int | None]:
        """Request, then response: the head, and the body kept (``bytes``) or given to
        ``sink`` (its length); a redirect's body is kept, to be dropped."""
        loop = self.stack.loop
        conn = HttpConnection(Role.CLIENT)
        request = Request(
            "GET",
            url.target,
            Headers.of(
                [
                    ("Host", url.authority),
                    ("User-Agent", self.user_agent),
                    ("Accept", ACCEPT),
                    ("Accept-Encoding", "identity"),
                ]
            ),
        )
        self._emit("request", method="GET", target=url.target, host=url.authority)
        await stream.send(conn.send(request) + conn.send(EndOfMessage()))
        response: Response | None = None
        body = bytearray()
        streamed: int | None = None
        framing = Framing.NONE
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                data = await loop.wait_for(stream.recv(65536), self._wait())
                conn.receive_data(data)
            elif isinstance(event, Response):
                if event.status >= 200:
                    response = event
                    framing = conn.their_framing
                    self._emit("response", status=event.status, reason=event.reason)
                    redirect = event.status in REDIRECTS and "location" in event.headers
                    if sink is not None and not redirect:
                        streamed = 0
            elif isinstance(event, Data):
                if streamed is not None and sink is not None:
                    sink(event.data)
                    streamed += len(event.data)
                    continue
                body += event.data
                if len(body) > self.max_body:
                    raise FetchError(f"{url}: body larger than {self.max_body} bytes")
            elif isinstance(event, EndOfMessage):
                assert response is not None
                if framing is Framing.CLOSE and not ended_cleanly(stream):
                    got = len(body) if streamed is None else streamed
                    raise FetchError(
                        f"{url}: body truncated after {got} bytes: the connection closed "
                        "without TLS close_notify (RFC 9112 §9.8)"
                    )
                return response, bytes(body), streamed
            elif isinstance(event, ConnectionClosed):
                raise FetchError(f"{url}: the server closed the connection without a response")
            else:
                raise FetchError(f"{url}: unexpected HTTP state {event!r}")


async def _close(loop: EventLoop, stream: ByteStream, timeout: float) -> None:
    result = stream.close()
    if isinstance(result, Future):
        with suppress(LoopTimeout, MinternetError, OSError):
            await loop.wait_for(result, timeout)
