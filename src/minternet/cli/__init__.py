"""``minternet`` command line: :data:`app` holds the commands (registered in
:mod:`minternet.cli.app`); :func:`main` runs one and applies the exit-status policy of
:mod:`minternet.cli.exits` (0 ok, 1 outcome failed, 2 usage; every error one line)."""

from __future__ import annotations

import sys

import click

from ..drivers.keycache import use_key_cache
from ..errors import MinternetError
from ..loop import LoopTimeout
from .app import app
from .exits import exit_status

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``minternet`` console script."""
    use_key_cache()  # seeded keys minted once, not again in every process (drivers/keycache)
    try:
        rv = app.main(args=argv, prog_name="minternet", standalone_mode=False)
    except (
        click.ClickException,
        click.exceptions.Abort,
        KeyboardInterrupt,
        MinternetError,
        LoopTimeout,
        OSError,
    ) as e:
        status, line = exit_status(e)
        print(line, file=sys.stderr)
        sys.exit(status)
    sys.exit(rv if isinstance(rv, int) else 0)
