"""One exit-status policy for every command, and one line for every error.

- **0** — the command did what was asked (the page arrived, the name resolved, the target
  answered, the data arrived intact).
- **1** — the network or protocol outcome failed: refused, timed out, NXDOMAIN, a TLS alert,
  unreachable, a transfer incomplete. The command still prints its report (with ``--json``
  the JSON object, carrying what failed); the reason goes to stderr as one line.
- **2** — usage or configuration: a bad option, a missing or unwritable file, a world
  description that does not load.

A command signals an outcome failure by raising :class:`OutcomeFailed` (or lets a
network error escape); :func:`exit_status` maps whatever escaped to ``(status, line)``.
"""

from __future__ import annotations

import errno
import socket

import click

from ..errors import ConfigError, MinternetError
from ..loop import LoopTimeout

OK, FAILED, USAGE = 0, 1, 2
INTERRUPTED = 130

#: errno values of OSErrors that are a network outcome, not a local problem.
NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EHOSTDOWN,
        errno.ENETDOWN,
        errno.EPIPE,
    }
)


class OutcomeFailed(MinternetError):
    """The network or protocol outcome the command asked for did not happen (exit 1)."""


def one_line(text: str) -> str:
    """``text`` with its lines joined: every error is one line."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def is_network_error(e: OSError) -> bool:
    """Is this OSError the network's answer (refused, unreachable, timed out…) rather than a
    local problem (a file, a permission, an address in use)?"""
    return (
        isinstance(e, ConnectionError | TimeoutError | socket.gaierror | socket.herror)
        or e.errno in NETWORK_ERRNOS
    )


def _os_error(e: OSError) -> tuple[int, str]:
    status = FAILED if is_network_error(e) else USAGE
    reason = e.strerror or str(e) or type(e).__name__
    if e.filename is not None:  # name the path (str(e) would too, after "[Errno N]")
        where = f"{e.filename}" + (f" → {e.filename2}" if e.filename2 is not None else "")
        return status, f"{where}: {reason}"
    return status, (reason if e.strerror else str(e) or reason)


def exit_status(e: BaseException) -> tuple[int, str]:
    """The exit status and the one-line message for an exception that ended a command."""
    if isinstance(e, click.UsageError):
        ctx = e.ctx
        path = ctx.command_path if ctx is not None else "minternet"
        return USAGE, one_line(f"{path}: {e.format_message()} (see {path} --help)")
    if isinstance(e, click.ClickException):
        return USAGE, "minternet: " + one_line(e.format_message())
    if isinstance(e, click.exceptions.Abort | KeyboardInterrupt):
        return INTERRUPTED, "minternet: interrupted"
    if isinstance(e, ConfigError):
        return USAGE, "minternet: " + one_line(str(e))
    if isinstance(e, MinternetError):
        return FAILED, "minternet: " + one_line(str(e) or type(e).__name__)
    if isinstance(e, LoopTimeout):
        return FAILED, "minternet: " + one_line(str(e) or "timed out")
    if isinstance(e, OSError):
        status, line = _os_error(e)
        return status, "minternet: " + one_line(line)
    raise e
