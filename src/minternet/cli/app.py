"""The ``minternet`` click group and its commands, registered here explicitly.

Each command's module is imported when that command runs (or when ``--help`` lists them
all): ``minternet serve`` does not load the simulator, the report renderers and Dask, and
every process that runs one command starts in about half the time.
"""

from __future__ import annotations

import importlib

import click

EXIT_STATUS_HELP = (
    "Exit status: 0 success; 1 the network or protocol outcome failed (refused, timeout, "
    "NXDOMAIN, TLS alert, unreachable, transfer incomplete; --json still prints its JSON); "
    "2 usage or configuration error."
)

#: Every command: its name and where it lives (``module:attribute`` in this package).
COMMANDS: dict[str, str] = {
    "demo": "demo:demo",
    "dig": "dns:dig_command",
    "fetch": "fetch:fetch",
    "ping": "ping:ping",
    "pki": "pki:pki",
    "resolve": "dns:resolve",
    "serve": "serve:serve",
    "sweep": "sweep:sweep",
    "tap": "tap:tap",
    "tcp-transfer": "tcp:tcp_transfer",
    "tls": "tls:tls",
    "traceroute": "ping:traceroute",
    "version": "version:version",
    "world": "world:world",
}


def load_command(name: str) -> click.Command:
    """The command registered as ``name``, its module imported now."""
    module, attribute = COMMANDS[name].split(":")
    command = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
    assert isinstance(command, click.Command) and command.name == name, (name, command)
    return command


class Commands(click.Group):
    """A group whose commands are imported on first use (click's documented lazy-loading
    pattern: ``list_commands`` from the table, ``get_command`` imports one)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            self.add_command(load_command(cmd_name))
        return self.commands[cmd_name]


@click.group(
    name="minternet",
    cls=Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_STATUS_HELP,
)
def app() -> None:
    """A miniature internet: every protocol of an HTTPS page load, shown as it happens."""
