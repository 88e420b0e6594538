"""Put the web of the built-in world on its hosts: the nginx-like server on ``www`` (HTTPS on
443 with a certificate from the simulated PKI) and a browser on the laptop.

:func:`install_web` takes anything with a loop, a trace bus and named nodes that are
:class:`~minternet.node.api.NetworkStack` s — the simulator's ``World`` — mints the PKI at
virtual time 0 (dates from :func:`~minternet.tls.pki.sim_datetime`), and starts the server as
a task on the world's loop. :func:`laptop_browser` gives the laptop's browser, resolving
through the stub of :func:`~minternet.apps.dns_world.install_dns` and trusting the PKI's root.
Every random choice comes from the nodes' seeded sources; every date from the virtual clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..dns.stub import StubResolver
from ..errors import ConfigError
from ..loop import EventLoop, Task
from ..node.api import NetworkStack, StreamSocket
from ..tls.client import ClientConfig
from ..tls.pki import SIM_EPOCH, Pki, sim_datetime
from ..tls.server import ServerConfig
from ..tls.stream import tls_accept, tls_connect
from ..trace.bus import TraceBus
from .browser import Browser, FetchError
from .site import Site, packaged_site
from .streams import ByteStream
from .web_server import WebServer

WEB_NODE = "www"
WEB_NAMES = ("www.example.com",)
ALPN = ("http/1.1",)


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
) -> WebDeployment:
    """Start the HTTPS server on ``node``; the PKI is made from the node's randomness."""
    try:
        stack = world.node(node)
    except (KeyError, ConfigError) as e:
        raise ConfigError(f"the world has no node {node!r} for the web server") from e
    loop = world.loop
    if pki is None:
        pki = Pki.create(stack.random.child("pki"), sim_datetime(0))
    creds = pki.issue_server(list(names))
    config = ServerConfig(credentials=[creds], random=stack.random.child("tls"), alpn=ALPN)
    server = WebServer(site or packaged_site(), loop, sim_clock(loop), world.trace, node)

    async def secure(sock: StreamSocket) -> ByteStream:
        return await tls_accept(sock, config, loop=loop, trace=world.trace, node=node)

    task = loop.create_task(server.serve(stack.tcp_listen(port), secure), f"web@{node}")
    return WebDeployment(server, pki, task)


def laptop_browser(
    world: WorldLike, stub: StubResolver, pki: Pki, *, node: str = "laptop", timeout: float = 30
) -> Browser:
    """The laptop's browser: names through ``stub``, TLS trusting ``pki``'s root."""
    stack = world.node(node)
    loop = world.loop
    trust = pki.trust_store()
    rnd = stack.random.child("tls")
    connections = 0

    async def resolve(host: str) -> str:
        answer = await stub.lookup(host)
        if not answer.ok:
            raise FetchError(f"cannot resolve {host}: {answer.explanation}")
        return answer.addresses[0]

    async def secure(sock: StreamSocket, host: str) -> ByteStream:
        nonlocal connections
        connections += 1  # each connection its own stream: a fresh client random
        config = ClientConfig(
            random=rnd.child(f"connection-{connections}"),
            server_name=host,
            trust=trust,
            now=lambda: sim_datetime(loop.now()),
            alpn=ALPN,
        )
        return await tls_connect(sock, config, loop=loop, trace=world.trace, node=node)

    return Browser(stack, resolve, secure, timeout=timeout)
