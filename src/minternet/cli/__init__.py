"""``minternet`` command line. Each module in this package registers its commands on
:data:`app`; :func:`main` loads them all and turns errors into one-line messages."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from ..errors import MinternetError
from .app import app

__all__ = ["app", "main"]


def _load_commands() -> None:
    for mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        if mod not in ("app", "options"):
            importlib.import_module(f"{__name__}.{mod}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``minternet`` console script."""
    _load_commands()
    try:
        rv = app.main(args=argv, prog_name="minternet", standalone_mode=False)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except MinternetError as e:
        print(f"minternet: {e}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        print(f"minternet: {e.strerror or e}", file=sys.stderr)
        sys.exit(2)
    sys.exit(rv if isinstance(rv, int) else 0)
