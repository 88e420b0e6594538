"""Helpers for tests that run the ``minternet`` command (imported as a plain module:
``from clitools import CliRunner, cli_env``; not from ``conftest``, whose name other
test folders' conftest files share)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("COLUMNS", "120")
    env["NO_COLOR"] = "1"
    return env


CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@contextmanager
def minternet_serve(
    *args: str, stdout: int | IO[str] = subprocess.DEVNULL
) -> Iterator[tuple[dict[str, int], subprocess.Popen[str]]]:
    """Run ``minternet serve ARGS`` until the block ends, then stop it by its own pid.

    Yields ``{scheme: port}`` (``https``, ``http``: bound before "ready"; the DNS sockets
    may be bound just after, so wait for ``--dns PORT`` yourself) and the process;
    ``stdout`` takes its access-log and query lines (discarded by default).
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "minternet", "serve", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    ports: dict[str, int] = {}
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                raise AssertionError(f"minternet serve exited {proc.wait()}")
            m = re.match(r"listening on (https?) [0-9.]+:([0-9]+)", line)
            if m:
                ports[m[1]] = int(m[2])
            if line.startswith("ready"):
                break
        yield ports, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def free_port() -> int:
    """A loopback port free for both UDP and TCP (for ``serve --dns PORT``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        t.bind(("127.0.0.1", port))  # free for TCP too
    return port
