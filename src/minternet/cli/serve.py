"""``minternet serve``: our HTTP (and TLS) server on this machine's loopback, for real clients.

curl, Python's urllib, a browser or ``minternet fetch --real`` talk to it. The kernel does
TCP/IP (:mod:`minternet.drivers.kernel`); everything above — TLS 1.2 and HTTP/1.1 — is ours.
Every response is printed as an access-log line. Ctrl-C stops it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ..apps.site import DirectorySite, Site, packaged_site
from ..apps.web_server import WebServer
from ..drivers import kernel
from ..errors import ConfigError
from ..loop import Future
from ..trace.bus import TraceBus, TraceEvent
from .app import app

SERVER_NAMES = ["www.example.com", "localhost", "127.0.0.1"]


def access_line(ev: TraceEvent) -> str | None:
    """An nginx-style access-log line for an ``http`` trace event of the server."""
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


@app.command()
@click.option(
    "--https",
    "https_port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve HTTPS (our TLS 1.2) on this port.",
)
@click.option(
    "--http",
    "http_port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve plain HTTP on this port.",
)
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to serve (default: the built-in page).",
)
@click.option(
    "--ca-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the CA certificate (PEM) clients must trust to this file.",
)
@click.option(
    "--host",
    "bind",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address to listen on.",
)
@click.option(
    "--duration",
    type=click.FloatRange(0.0),
    default=None,
    help="Stop after this many seconds (default: until Ctrl-C).",
)
@click.option("--quiet", is_flag=True, help="No access log.")
def serve(
    https_port: int | None,
    http_port: int | None,
    site_dir: Path | None,
    ca_out: Path | None,
    bind: str,
    duration: float | None,
    quiet: bool,
) -> None:
    """Serve a site over HTTP/1.1 (and TLS) on this machine, for curl, browsers, urllib."""
    if not bind.startswith("127."):
        raise ConfigError(f"{bind} is not a loopback address: minternet serves on 127.0.0.0/8 only")
    if https_port is None and http_port is None:
        https_port = 8443
    site = load_site(site_dir)
    trace = TraceBus()
    if not quiet:

        def log(ev: TraceEvent) -> None:
            if ev.layer == "http":
                line = access_line(ev)
                if line:
                    click.echo(line)

        trace.subscribe(log)
    secure = None
    if https_port is not None:
        secure = https_acceptor(ca_out)

    async def main(stack: kernel.KernelStack) -> None:
        server = WebServer(site, stack.loop, time.time, stack.trace, "minternet-serve")
        tasks = []
        for scheme, port, wrap in (("https", https_port, secure), ("http", http_port, None)):
            if port is None:
                continue
            listener = stack.tcp_listen(port, host=bind)
            actual = listener.local[1]
            click.echo(f"serving {scheme}://{bind}:{actual}/", err=True)
            tasks.append(stack.loop.create_task(server.serve(listener, wrap), f"serve-{scheme}"))
        if ca_out is not None and secure is not None:
            click.echo(f"CA certificate written to {ca_out}", err=True)
        click.echo("ready (Ctrl-C stops)", err=True)
        forever: Future[None] = stack.loop.create_future()
        if duration is not None:
            stack.loop.call_later(duration, forever.set_result, None)
        await forever

    kernel.run(main, name="minternet-serve", trace=trace)


def https_acceptor(ca_out: Path | None) -> Any:
    """The TLS side of ``serve`` — built from our PKI once TLS is available."""
    raise ConfigError("HTTPS needs minternet's TLS, which is not merged yet; use --http PORT")
