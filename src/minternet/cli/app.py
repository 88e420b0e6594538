"""The ``minternet`` click group and its commands, registered here explicitly."""

from __future__ import annotations

import click

from . import demo, dns, fetch, ping, pki, serve, sweep, tap, tcp, tls, version, world

EXIT_STATUS_HELP = (
    "Exit status: 0 success; 1 the network or protocol outcome failed (refused, timeout, "
    "NXDOMAIN, TLS alert, unreachable, transfer incomplete; --json still prints its JSON); "
    "2 usage or configuration error."
)


@click.group(
    name="minternet",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_STATUS_HELP,
)
def app() -> None:
    """A miniature internet: every protocol of an HTTPS page load, shown as it happens."""


COMMANDS: tuple[click.Command, ...] = (
    demo.demo,
    dns.dig_command,
    fetch.fetch,
    ping.ping,
    pki.pki,
    dns.resolve,
    serve.serve,
    sweep.sweep,
    tap.tap,
    tcp.tcp_transfer,
    tls.tls,
    ping.traceroute,
    version.version,
    world.world,
)
for _command in COMMANDS:
    app.add_command(_command)
