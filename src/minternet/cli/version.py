"""``minternet version``."""

from __future__ import annotations

import click

from .. import __version__


@click.command()
def version() -> None:
    """Print the version of minternet."""
    click.echo(__version__)
