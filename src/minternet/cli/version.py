"""``minternet version``."""

from __future__ import annotations

import click

from .. import __version__
from .app import app


@app.command()
def version() -> None:
    """Print the version of minternet."""
    click.echo(__version__)
