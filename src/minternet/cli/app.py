"""The click group every command module registers on."""

from __future__ import annotations

import click


@click.group(
    name="minternet",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def app() -> None:
    """A miniature internet: every protocol of an HTTPS page load, shown as it happens."""
