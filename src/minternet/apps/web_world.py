"""Put the web of the built-in world on its hosts: the nginx-like server on ``www`` (HTTPS on
443 with a certificate from the simulated PKI) and a browser on the laptop.

:func:`install_web` takes anything with a loop, a trace bus and named nodes that are
:class:`~minternet.node.api.NetworkStack` s — the simulator's ``World`` — mints the PKI at
virtual time 0 (dates from :func:`~minternet.tls.pki.sim_datetime`), and starts the server as
a task on the world's loop. :func:`laptop_browser` gives the laptop's browser, resolving
through the stub of :func:`~minternet.apps.dns_world.install_dns` and trusting the PKI's root.
Every random choice comes from the nodes' seeded sources; every date from the virtual clock.

Both take optional hooks for ``minternet fetch``'s story and scenarios: ready-made server
``credentials`` (an expired certificate, one for another name, one from an unknown CA), the
client's ``suites``, ``signature_schemes`` and ``keylog``, and ``tap_socket`` /
``tap_stream``, which wrap the TCP socket under TLS and the TLS stream under HTTP so that a
caller can keep a copy of the ciphertext and plaintext each side wrote and read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ..errors import ConfigError
from ..loop import EventLoop, Future, Task
from ..node.api import NetworkStack, StreamSocket
from ..tls.client import DEFAULT_SIGNATURE_SCHEMES, ClientConfig
from ..tls.pki import SIM_EPOCH, Credentials, Pki, sim_datetime
from ..tls.server import ServerConfig
from ..tls.suites import SUITES, CipherSuite
from ..trace.bus import TraceBus
from .browser import Browser, FetchError
from .dns_stub import StubResolver
from .site import Site, packaged_site
from .streams import ByteStream, as_future
from .tls_stream import tls_accept, tls_connect
from .web_server import ServerConfig as WebConfig
from .web_server import WebServer

WEB_NODE = "www"
WEB_NAMES = ("www.example.com",)
ALPN = ("http/1.1",)

SocketTap = Callable[[StreamSocket], StreamSocket]
"""Wraps the TCP socket a TLS connection runs on (to watch the ciphertext)."""
StreamTap = Callable[[ByteStream], ByteStream]
"""Wraps the TLS stream HTTP runs on (to watch the plaintext)."""


class WorldLike(Protocol):
    @property
    def loop(self) -> EventLoop: ...

    @property
    def trace(self) -> TraceBus: ...

    def node(self, name: str) -> NetworkStack: ...


@dataclass
class WebDeployment:
    """What :func:`install_web` started."""

    server: WebServer
    pki: Pki
    task: Task[None]

    def stop(self) -> None:
        self.task.cancel()


def sim_clock(loop: EventLoop) -> Callable[[], float]:
    """POSIX seconds of the virtual clock (for Date and Last-Modified)."""
    epoch = SIM_EPOCH.timestamp()
    return lambda: epoch + loop.now()


def install_web(
    world: WorldLike,
    *,
    node: str = WEB_NODE,
    names: tuple[str, ...] = WEB_NAMES,
    site: Site | None = None,
    port: int = 443,
    pki: Pki | None = None,
    credentials: Credentials | None = None,
    plain_port: int | None = None,
    tap_socket: SocketTap | None = None,
    tap_stream: StreamTap | None = None,
    tls_versions: tuple[str, ...] = ("1.2",),
    handshake_timeout: float | None = None,
    clock: Callable[[], float] | None = None,
    keylog: Callable[[str], None] | None = None,
    web_config: WebConfig | None = None,
    trace: TraceBus | None = None,
) -> WebDeployment:
    """Start the HTTPS server on ``node`` (and plain HTTP on ``plain_port`` if given); the
    PKI is made from the node's randomness unless given; ``credentials`` replace the
    certificate it would issue for ``names``.

    A world in real time passes its own ``clock`` (POSIX seconds; default: the virtual
    clock's calendar), a ``keylog`` for the server's TLS secrets and a ``web_config`` that
    streams files (default: one write per response, the simulator's choice), and may give
    the server and its TLS a ``trace`` bus of their own (default: the world's), so that
    listening to the access log does not switch on every router's events."""
    try:
        stack = world.node(node)
    except (KeyError, ConfigError) as e:
        raise ConfigError(f"the world has no node {node!r} for the web server") from e
    loop = world.loop
    bus = trace if trace is not None else world.trace
    if pki is None:
        pki = Pki.create(stack.random.child("pki"), sim_datetime(0))
    creds = credentials if credentials is not None else pki.issue_server(list(names))
    config = ServerConfig(
        credentials=[creds],
        random=stack.random.child("tls"),
        alpn=ALPN,
        keylog=keylog,
        now=lambda: sim_datetime(loop.now()),
    )
    # One write per response (no output_buffer): the simulated server holds its small site
    # in memory anyway, and a run's segments stay what they have always been.
    if web_config is None:
        web_config = WebConfig(output_buffer=None)
    if handshake_timeout is not None:  # a scenario's shorter deadline
        web_config = replace(web_config, handshake_timeout=handshake_timeout)
    server = WebServer(
        site or packaged_site(), loop, clock or sim_clock(loop), bus, node, web_config
    )

    async def secure(sock: StreamSocket) -> ByteStream:
        if tap_socket is not None:
            sock = tap_socket(sock)
        stream: ByteStream = await tls_accept(
            sock, config, loop=loop, trace=bus, node=node, versions=tls_versions
        )
        return tap_stream(stream) if tap_stream is not None else stream

    task = loop.create_task(server.serve(stack.tcp_listen(port), secure), f"web@{node}")
    if plain_port is not None:
        loop.create_task(server.serve(stack.tcp_listen(plain_port)), f"web-http@{node}")
    return WebDeployment(server, pki, task)


def laptop_browser(
    world: WorldLike,
    stub: StubResolver,
    pki: Pki,
    *,
    node: str = "laptop",
    timeout: float = 30,
    suites: tuple[CipherSuite, ...] = SUITES,
    signature_schemes: tuple[int, ...] = DEFAULT_SIGNATURE_SCHEMES,
    keylog: Callable[[str], None] | None = None,
    tap_socket: SocketTap | None = None,
    tap_stream: StreamTap | None = None,
    tls_versions: tuple[str, ...] = ("1.2",),
) -> Browser:
    """The laptop's browser: names through ``stub``, TLS trusting ``pki``'s root.

    Concurrent lookups of one name join the one in flight, as a browser's host resolver
    does (a thousand tabs opening at once ask the DNS once, the caches answer later ones).
    """
    stack = world.node(node)
    loop = world.loop
    trust = pki.trust_store()
    rnd = stack.random.child("tls")
    connections = 0
    inflight: dict[str, Future[str]] = {}

    async def lookup(host: str) -> str:
        answer = await stub.lookup(host)
        if not answer.ok:
            raise FetchError(f"cannot resolve {host}: {answer.explanation}")
        return answer.addresses[0]

    async def resolve(host: str) -> str:
        fut = inflight.get(host)
        if fut is None or fut.done():
            fut = inflight[host] = as_future(loop, lookup(host), "resolve")
        return await fut

    async def secure(sock: StreamSocket, host: str) -> ByteStream:
        nonlocal connections
        connections += 1  # each connection its own stream: a fresh client random
        config = ClientConfig(
            random=rnd.child(f"connection-{connections}"),
            server_name=host,
            trust=trust,
            now=lambda: sim_datetime(loop.now()),
            suites=suites,
            signature_schemes=signature_schemes,
            alpn=ALPN,
            keylog=keylog,
        )
        if tap_socket is not None:
            sock = tap_socket(sock)
        stream: ByteStream = await tls_connect(
            sock, config, loop=loop, trace=world.trace, node=node, versions=tls_versions
        )
        return tap_stream(stream) if tap_stream is not None else stream

    return Browser(stack, resolve, secure, timeout=timeout)
