"""``minternet serve``: the built-in world's services on this machine's loopback, for real tools.

One command, several optional services, each switched on by its option; they all run on
one :class:`~minternet.loop.RealtimeLoop` over the kernel's sockets
(:mod:`minternet.drivers.kernel`) until Ctrl-C. Today: ``--dns PORT`` — every zone of the
built-in world, authoritatively, over UDP and TCP, so that
``dig @127.0.0.1 -p PORT www.example.com`` (and ``+tcp``) gets 93.184.216.34.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import click

from ..apps.dns_authoritative import AuthoritativeServer, serve_tcp, serve_udp
from ..dns import zones_builtin
from ..dns.zone import Zone, parse_zone
from ..drivers import kernel
from ..errors import ConfigError
from ..node.api import Address, NetworkStack
from ..trace.bus import TraceBus, TraceEvent
from .app import app

Service = Callable[
    [NetworkStack, Callable[[str, Address], object]], list[Coroutine[Any, Any, None]]
]


def _loopback(host: str) -> str:
    if not host.startswith("127."):
        raise ConfigError(f"{host} is not a loopback address: minternet serves on 127.0.0.0/8 only")
    return host


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


@app.command()
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
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to use.")
@click.option("--quiet", is_flag=True, help="Do not print a line per query.")
def serve(dns_port: int | None, zone_files: tuple[Path, ...], host: str, quiet: bool) -> None:
    """Serve the world's services on this machine's loopback until Ctrl-C."""
    services: list[Service] = []
    if dns_port is not None:
        extra = [parse_zone(p.read_text(), where=str(p)) for p in zone_files]
        services.append(dns_service(dns_port, _loopback(host), extra))
    elif zone_files:
        raise click.UsageError("--zone goes with --dns PORT")
    if not services:
        raise click.UsageError("choose at least one service, e.g. --dns 5353")
    trace = TraceBus()
    if not quiet:

        def show(ev: TraceEvent) -> None:
            line = _query_line(ev)
            if line is not None:
                click.echo(line)

        trace.subscribe(show)

    def ready(proto: str, addr: Address) -> None:
        click.echo(f"listening on {proto} {addr[0]}:{addr[1]}")

    async def main(stack: NetworkStack) -> None:
        tasks = [
            stack.loop.create_task(coro, name="serve")
            for start in services
            for coro in start(stack, ready)
        ]
        click.echo("serving until Ctrl-C")
        for t in tasks:
            await t

    kernel.run(main, name="minternet", trace=trace)
