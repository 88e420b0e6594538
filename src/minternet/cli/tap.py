"""``minternet tap up`` / ``minternet tap down``: our stack on a TAP device (issue 8).

``tap up`` runs in the foreground until Ctrl-C (or SIGTERM/SIGHUP) and removes everything it
created on the way out; it leaves a small state file in :data:`STATE_DIR` so that
``tap down`` — from another terminal, or after a run was killed — can stop it and remove
whatever namespaces and links of ours are left.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import click

from ..drivers.netns import PREFIX, remove_leftovers, require_root
from .app import app

STATE_DIR = Path("/run/minternet")


def _state_files() -> list[Path]:
    if not STATE_DIR.is_dir():
        return []
    return sorted(STATE_DIR.glob("tap-*.json"))


def write_state(info: dict[str, Any]) -> Path:
    """Record a running ``tap up`` (its pid, namespace, interface) for ``tap down``."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path = STATE_DIR / f"tap-{os.getpid()}.json"
    path.write_text(json.dumps(info))
    return path


def _is_our_tap_up(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(b"minternet" in part for part in cmdline) and b"up" in cmdline


def _stop(pid: int, timeout: float = 10.0) -> bool:
    """SIGTERM a running ``tap up`` and wait for it to clean up; True if it has gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.05)
    return False


@app.group()
def tap() -> None:
    """Our whole stack on a Linux TAP device, talking to the kernel's TCP/IP (needs root)."""


@tap.command()
@click.option(
    "--prefix",
    default=PREFIX,
    hidden=True,
    help="Only namespaces whose name starts with this (tests use it to stay in their lane).",
)
def down(prefix: str) -> None:
    """Stop any running `tap up` and remove every namespace and link it left behind."""
    require_root("minternet tap down")
    if not prefix.startswith(PREFIX):
        raise click.BadParameter(f"must start with {PREFIX!r}", param_hint="--prefix")
    scoped = prefix != PREFIX
    stopped = []
    for path in _state_files():
        try:
            info = json.loads(path.read_text())
            pid = int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if scoped and not str(info.get("netns", "")).startswith(prefix):
            continue
        if pid != os.getpid() and _is_our_tap_up(pid) and _stop(pid):
            stopped.append(pid)
        path.unlink(missing_ok=True)
    removed = remove_leftovers(prefix, None) if scoped else remove_leftovers()
    for pid in stopped:
        click.echo(f"stopped tap up (pid {pid})")
    for name in removed:
        click.echo(f"removed {name}")
    if not stopped and not removed:
        click.echo("nothing to remove")
