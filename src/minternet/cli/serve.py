"""``minternet serve``: the world's services on this machine's loopback, for real tools.

One command, several optional services, each switched on by its option; they all run on
one :class:`~minternet.drivers.realtime.RealtimeLoop` over the kernel's sockets
(:mod:`minternet.drivers.kernel`) until Ctrl-C (or ``--duration``):

- ``--https PORT`` / ``--http PORT`` — the nginx-like web server (our HTTP/1.1, and our
  TLS 1.3 and 1.2 with a certificate from a fresh PKI for www.example.com, localhost and
  127.0.0.1; ``--ca-out F`` writes the root CA for clients to trust), so that
  ``curl --cacert F https://localhost:PORT/`` gets the page. With no service option at all,
  HTTPS on port 8443. TLS 1.3 0-RTT only with ``--early-data`` (see
  :func:`minternet.drivers.https.https_acceptor`).
- ``--dns PORT`` — every zone of the built-in world, authoritatively, over UDP and TCP, so
  that ``dig @127.0.0.1 -p PORT www.example.com`` (and ``+tcp``) gets 93.184.216.34.

Status lines ("listening on …", "ready") go to stderr; access-log and query lines to stdout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ..apps.dns_authoritative import AuthoritativeServer, serve_tcp, serve_udp
from ..apps.site import DirectorySite, Site, packaged_site
from ..apps.web_server import Accept, ServerConfig, WebServer
from ..dns import zones_builtin
from ..dns.zone import Zone, parse_zone
from ..drivers import kernel
from ..errors import ConfigError
from ..loop import Future
from ..node.api import Address, NetworkStack
from ..trace.bus import TraceBus, TraceEvent
from .options import keylog_option, site_option, tls_option

Service = Callable[
    [NetworkStack, Callable[[str, Address], object]], list[Coroutine[Any, Any, None]]
]

SERVER_NAMES = ["www.example.com", "localhost", "127.0.0.1"]
DEFAULT_HTTPS_PORT = 8443
WEB_DEFAULTS = ServerConfig()


def _loopback(host: str) -> str:
    if not host.startswith("127."):
        raise ConfigError(f"{host} is not a loopback address: minternet serves on 127.0.0.0/8 only")
    return host


# -- DNS ------------------------------------------------------------------------------------


def dns_service(port: int, host: str, extra: list[Zone] | None = None) -> Service:
    zones = zones_builtin.all_zones()
    for z in extra or []:  # a zone file given by the user replaces a built-in one
        zones = [old for old in zones if old.origin != z.origin] + [z]

    def start(
        stack: NetworkStack, ready: Callable[[str, Address], object]
    ) -> list[Coroutine[Any, Any, None]]:
        server = AuthoritativeServer(zones, "minternet")
        return [
            serve_udp(stack, server, port, host, ready=ready),
            serve_tcp(stack, server, port, host, ready=ready),
        ]

    return start


def _query_line(ev: TraceEvent) -> str | None:
    if ev.layer != "dns" or ev.kind not in ("answer", "drop"):
        return None
    f = ev.fields
    if ev.kind == "drop":
        return f"dns {f.get('from')} ({f.get('transport')}): dropped, {ev.why}"
    flags = ",".join(k for k in ("aa", "tc") if f.get(k))
    return (
        f"dns {f.get('from')} ({f.get('transport')}): {f.get('qname', '?')} {f.get('qtype', '')}"
        f" -> {f.get('rcode')} {flags} {len(f.get('answers', []))} answer(s)"
    )


# -- the web server ---------------------------------------------------------------------------


def access_line(ev: TraceEvent) -> str | None:
    """An nginx-style access-log line for an ``http`` trace event of the server."""
    if ev.layer != "http":
        return None
    f = ev.fields
    when = datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    if ev.kind == "response":
        return (
            f'{f["peer"]} - - [{when}] "{f["method"]} {f["target"]} {f["version"]}" '
            f'{f["status"]} {f["bytes"]} "{f["user_agent"]}"'
        )
    if ev.kind in ("handshake-failed", "error", "bad-request"):
        detail = f.get("error") or ev.why or ""
        return f"{f.get('peer', '-')} - - [{when}] {ev.kind}: {detail}"
    return None


def load_site(site_dir: Path | None) -> Site:
    if site_dir is None:
        return packaged_site()
    try:
        return DirectorySite(site_dir)
    except OSError as e:
        raise ConfigError(f"--site {site_dir}: {e}") from None


def web_service(
    site: Site,
    scheme: str,
    port: int,
    host: str,
    ca_out: Path | None,
    keylog: Path | None,
    config: ServerConfig | None = None,
    versions: tuple[str, ...] = ("1.3", "1.2"),
    early_data: bool = False,
) -> Service:
    def start(
        stack: NetworkStack, ready: Callable[[str, Address], object]
    ) -> list[Coroutine[Any, Any, None]]:
        secure = (
            https_acceptor(stack, ca_out, keylog, versions, early_data)
            if scheme == "https"
            else None
        )
        server = WebServer(site, stack.loop, time.time, stack.trace, "minternet-serve", config)
        listener = stack.tcp_listen(port, host=host)
        ready(scheme, listener.local)
        return [server.serve(listener, secure)]

    return start


def https_acceptor(
    stack: NetworkStack,
    ca_out: Path | None,
    keylog: Path | None,
    versions: tuple[str, ...] = ("1.3", "1.2"),
    early_data: bool = False,
) -> Accept:
    """Our TLS server side (:func:`minternet.drivers.https.https_acceptor`: a fresh PKI,
    TLS ``versions``, ALPN http/1.1, 0-RTT only with ``early_data``) with a certificate for
    www.example.com, localhost and 127.0.0.1; the root CA goes to ``ca_out``."""
    from ..drivers.https import https_acceptor as tls_side
    from ..tls.keylog import KeyLogFile

    log = KeyLogFile(keylog.open("a", encoding="ascii")) if keylog is not None else None
    secure, pki = tls_side(
        SERVER_NAMES, random=stack.random, loop=stack.loop, trace=stack.trace,
        node="minternet-serve", keylog=log, versions=versions, early_data=early_data,
    )  # fmt: skip
    if ca_out is not None:
        try:
            ca_out.write_bytes(pki.root.cert_pem())
        except OSError as e:
            raise ConfigError(f"--ca-out {ca_out}: {e.strerror}") from None
        click.echo(f"CA certificate written to {ca_out}", err=True)
    return secure


# -- the command ----------------------------------------------------------------------------


def _seconds_option(name: str, default: float, help: str) -> Callable[[Any], Any]:
    """A web server deadline, in seconds, with nginx's default."""
    return click.option(
        name, type=click.FloatRange(0.1), default=default, show_default=True,
        metavar="SECONDS", help=help,
    )  # fmt: skip


@click.command()
@click.option(
    "--https",
    "https_port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help=f"Serve HTTPS (our TLS 1.3/1.2 + HTTP/1.1) on PORT (default "
    f"{DEFAULT_HTTPS_PORT} when no service is chosen).",
)
@click.option(
    "--http",
    "http_port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Serve plain HTTP/1.1 on PORT.",
)
@site_option
@click.option(
    "--ca-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the CA certificate (PEM) HTTPS clients must trust to this file.",
)
@keylog_option
@click.option(
    "--dns",
    "dns_port",
    type=click.IntRange(1, 65535),
    metavar="PORT",
    help="Serve the built-in zones (root, com, net, example.com…) on UDP and TCP PORT.",
)
@click.option(
    "--zone",
    "zone_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also serve this master file (RFC 1035 §5 subset; $ORIGIN needed).",
)
@_seconds_option(
    "--client-header-timeout",
    WEB_DEFAULTS.client_header_timeout,
    "A request head must be complete this long after the connection (or the head) began, "
    "else 408 (nginx's client_header_timeout).",
)
@_seconds_option(
    "--send-timeout",
    WEB_DEFAULTS.send_timeout,
    "Reset a connection whose client takes none of the response for this long "
    "(nginx's send_timeout).",
)
@_seconds_option(
    "--handshake-timeout",
    WEB_DEFAULTS.handshake_timeout,
    "A TLS handshake must be complete this long after accept, else the connection is "
    "dropped (nginx's ssl_handshake_timeout).",
)
@_seconds_option(
    "--keepalive-timeout",
    WEB_DEFAULTS.keepalive_timeout,
    "Close a connection idle this long between requests (nginx's keepalive_timeout).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to use.")
@click.option(
    "--duration",
    type=click.FloatRange(0.0),
    default=None,
    help="Stop after this many seconds (default: until Ctrl-C).",
)
@click.option("--quiet", is_flag=True, help="No access-log or query lines.")
@tls_option(help="HTTPS: TLS version(s); with both the client's hello decides, 1.3 first.")
@click.option(
    "--early-data",
    is_flag=True,
    help="HTTPS, TLS 1.3: accept 0-RTT requests (once per ClientHello; answered only after "
    "the handshake completes, so a replayed hello gets no answer). Off by default.",
)
def serve(
    https_port: int | None,
    http_port: int | None,
    site_dir: Path | None,
    ca_out: Path | None,
    keylog: Path | None,
    dns_port: int | None,
    zone_files: tuple[Path, ...],
    client_header_timeout: float,
    send_timeout: float,
    handshake_timeout: float,
    keepalive_timeout: float,
    host: str,
    duration: float | None,
    quiet: bool,
    tls_version: str,
    early_data: bool,
) -> None:
    """Serve the world's services (web, DNS) on this machine's loopback until Ctrl-C."""
    from ..tls.negotiate import parse_versions

    versions = parse_versions(tls_version)
    host = _loopback(host)
    services: list[Service] = []
    if dns_port is not None:
        extra = [parse_zone(p.read_text(), where=str(p)) for p in zone_files]
        services.append(dns_service(dns_port, host, extra))
    elif zone_files:
        raise click.UsageError("--zone goes with --dns PORT")
    if https_port is None and http_port is None and dns_port is None:
        https_port = DEFAULT_HTTPS_PORT
    if https_port is None and (ca_out is not None or keylog is not None or early_data):
        raise click.UsageError("--ca-out, --keylog and --early-data go with --https PORT")
    if https_port is None and http_port is None and site_dir is not None:
        raise click.UsageError("--site goes with --https PORT or --http PORT")
    if https_port is not None or http_port is not None:
        site = load_site(site_dir)
        config = ServerConfig(
            client_header_timeout=client_header_timeout,
            client_body_timeout=client_header_timeout,
            send_timeout=send_timeout,
            keepalive_timeout=keepalive_timeout,
            handshake_timeout=handshake_timeout,
        )
        for scheme, port in (("https", https_port), ("http", http_port)):
            if port is not None:
                services.append(
                    web_service(
                        site, scheme, port, host, ca_out, keylog, config, versions, early_data
                    )
                )
    trace = TraceBus()
    if not quiet:

        def show(ev: TraceEvent) -> None:
            line = _query_line(ev) or access_line(ev)
            if line is not None:
                click.echo(line)

        trace.subscribe(show)

    def ready(proto: str, addr: Address) -> None:
        extra = f" ({proto}://{addr[0]}:{addr[1]}/)" if proto.startswith("http") else ""
        click.echo(f"listening on {proto} {addr[0]}:{addr[1]}{extra}", err=True)

    async def main(stack: NetworkStack) -> None:
        tasks = [
            stack.loop.create_task(coro, name="serve")
            for start in services
            for coro in start(stack, ready)
        ]
        click.echo("ready (Ctrl-C stops)", err=True)
        stopped: Future[None] = stack.loop.create_future()
        for t in tasks:  # a service that dies stops the command with its error
            t.add_done_callback(lambda _t: stopped.set_result(None))
        if duration is not None:
            stack.loop.call_later(duration, stopped.set_result, None)
        await stopped
        for t in tasks:
            if t.done():
                t.result()

    kernel.run(main, name="minternet", trace=trace)
