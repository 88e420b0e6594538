"""The services ``minternet tap up`` runs on our host, for the kernel side to use.

- TCP (RFC 9293, ours) attached to the host, so the kernel's TCP has someone to talk to;
- DNS on port 53 (UDP and TCP): the built-in world's zones, authoritatively, with
  ``www.example.com`` moved to our host's TAP address — and the namespace's resolver pointed
  at us, so ``curl https://www.example.com/`` inside it resolves through our DNS server;
- Discard on TCP port 9 (RFC 863): reads and throws away what it is sent — the upload half
  of the throughput benchmark;
- HTTPS on port 443: our nginx-like web server behind our TLS 1.3 and 1.2 (the client's
  hello picks, as with ``serve --https``: :mod:`.https`), with a certificate for
  ``www.example.com`` (and the host's address) from a PKI minted at start-up with the OS's
  randomness; its root CA certificate is written where ``curl --cacert`` can read it;
- or, the other way round, :func:`fetch_from_kernel_side`: our browser on our host fetching
  from a server (Debian's nginx) in the namespace, over the kernel's TCP.

Every service is an ``async def`` task on the host's loop; :func:`start_services` returns
what it started, for the command's summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..apps.browser import Browser, Page, is_ipv4, parse_url
from ..apps.dns_authoritative import AuthoritativeServer, serve_tcp, serve_udp
from ..apps.site import Site, packaged_site
from ..apps.streams import ByteStream
from ..apps.tls_stream import tls_connect
from ..apps.web_server import WebServer
from ..dns import zones_builtin
from ..dns.zone import parse_zone
from ..errors import ConfigError, MinternetError
from ..loop import Task
from ..node.api import NetworkStack, StreamSocket
from ..node.tcp_host import attach_tcp
from ..tcp.connection import TcpConfig
from ..tls.client import ClientConfig
from .https import https_acceptor
from .pem import load_trust_store
from .taphost import TapHost

WWW = "www.example.com"
KeyLog = Callable[[str], None]  # receives NSS key log lines (tls.keylog)
DISCARD_PORT = 9  # RFC 863
# Our TCP on a real interface, facing the Linux kernel across a TAP: the same tunables as in
# the simulator, whose 200 ms minimum RTO is Linux's TCP_RTO_MIN (RFC 6298 §2.4's 1 s SHOULD
# was chosen for unknown Internet paths of its time; see TcpConfig.rto_min).
REAL_LINK_TCP = TcpConfig()


@dataclass(slots=True)
class Services:
    """What runs on our host: names for the summary, tasks to cancel at the end."""

    names: list[str] = field(default_factory=list)
    tasks: list[Task[None]] = field(default_factory=list)
    ca_file: Path | None = None

    def stop(self) -> None:
        for t in self.tasks:
            t.cancel()


def tap_dns_server(www_address: str) -> AuthoritativeServer:
    """Every built-in zone, with ``www.example.com`` answering ``www_address``."""
    example = parse_zone(
        zones_builtin.EXAMPLE_COM_ZONE.replace(zones_builtin.WWW_ADDRESS, www_address),
        where="example.com zone (tap)",
    )
    zones = [z for z in zones_builtin.all_zones() if z.origin != example.origin]
    return AuthoritativeServer([*zones, example], "minternet-tap")


async def serve_discard(stack: NetworkStack, port: int = DISCARD_PORT) -> None:
    """RFC 863: "simply throw away any data received", one task per connection."""
    listener = stack.tcp_listen(port)

    async def drain(conn: StreamSocket) -> None:
        try:
            while await conn.recv(1 << 20):
                pass
        except (MinternetError, OSError):
            conn.abort()
            return
        await conn.close()

    try:
        while True:
            conn = await listener.accept()
            stack.loop.create_task(drain(conn), name="discard")
    finally:
        listener.close()


def start_services(
    th: TapHost,
    *,
    dns: bool = True,
    discard: bool = True,
    https: bool = True,
    site: Site | None = None,
    ca_out: Path | None = None,
    keylog: KeyLog | None = None,
) -> Services:
    """Attach TCP to our host; start the DNS server (53, UDP and TCP), Discard (9) and the
    HTTPS server (443), writing the CA certificate to ``ca_out``."""
    host = th.host
    loop = host.loop
    out = Services(["icmp-echo"])
    attach_tcp(host, REAL_LINK_TCP)
    out.names.append("tcp")
    if dns:
        server = tap_dns_server(th.address)
        out.tasks.append(loop.create_task(serve_udp(host, server, 53), name="dns-udp"))
        out.tasks.append(loop.create_task(serve_tcp(host, server, 53), name="dns-tcp"))
        th.net.ns.use_resolver(th.address)
        out.names.append("dns:53")
    if discard:
        out.tasks.append(loop.create_task(serve_discard(host), name="discard"))
        out.names.append("discard:9")
    if https:
        if ca_out is None:
            raise ValueError("HTTPS needs a file for the CA certificate")
        _start_https(th, out, site or packaged_site(), ca_out, keylog)
    return out


def _start_https(
    th: TapHost, out: Services, site: Site, ca_out: Path, keylog: KeyLog | None
) -> None:
    host = th.host
    secure, pki = https_acceptor(
        [WWW, th.address], random=host.random, loop=host.loop, trace=host.trace,
        node=host.name, keylog=keylog, pki_name="minternet-tap",
    )  # fmt: skip
    ca_out.write_bytes(pki.root.cert_pem())
    out.ca_file = ca_out
    server = WebServer(site, host.loop, time.time, host.trace, host.name)
    listener = host.tcp_listen(443)
    out.tasks.append(host.loop.create_task(server.serve(listener, secure), name="https"))
    out.names.append("https:443")


async def fetch_from_kernel_side(
    th: TapHost,
    url: str,
    cafile: tuple[Path, ...],
    *,
    timeout: float = 30.0,
    keylog: KeyLog | None = None,
) -> Page:
    """Our browser, on our host, fetches ``url`` from a server on the kernel's side.

    A name in the URL resolves to the kernel side's address (like ``curl --resolve``): the
    server runs in the namespace. HTTPS is our TLS 1.3 or 1.2 (one hello offering both, as
    ``fetch --real``) with SNI and ALPN ``http/1.1``, verified against the certificates of
    the ``cafile`` PEM files. The browser closes the
    connection itself, so our TCP is the side that closes first and ends in TIME-WAIT.
    """
    host = th.host
    target = parse_url(url)
    trust = load_trust_store(*cafile) if cafile else None
    if target.scheme == "https" and trust is None:
        raise ConfigError("an https:// URL needs --cafile (the CA that issued the server's cert)")

    async def resolve(name: str) -> str:
        return name if is_ipv4(name) else th.kernel_address

    async def secure(sock: StreamSocket, server_name: str) -> ByteStream:
        config = ClientConfig(
            random=host.random,
            server_name=server_name,
            trust=trust,
            now=lambda: datetime.now(UTC),
            alpn=("http/1.1",),
            keylog=keylog,
        )
        return await tls_connect(
            sock, config, loop=host.loop, trace=host.trace, node=host.name, versions=("1.3", "1.2")
        )

    browser = Browser(host, resolve, secure, timeout=timeout)
    return await browser.fetch(target)
