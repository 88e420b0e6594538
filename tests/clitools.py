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
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("COLUMNS", "120")
    env["NO_COLOR"] = "1"
    return env


CliRunner = Callable[..., subprocess.CompletedProcess[str]]


class PortTaken(AssertionError):
    """``minternet serve`` exited because another process holds its port (EADDRINUSE)."""


def _start_serve(
    args: tuple[str, ...], stdout: int | IO[str], wait_for: tuple[str, ...]
) -> tuple[dict[str, int], subprocess.Popen[str]]:
    """Start ``minternet serve ARGS``; read its stderr until "ready" and a "listening on
    PROTO" line for each of ``wait_for``. Returns ``{proto: port}`` and the process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "minternet", "serve", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    ports: dict[str, int] = {}
    seen: list[str] = []
    ready = False
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        while not (ready and all(p in ports for p in wait_for)):
            assert time.monotonic() < deadline, "minternet serve: " + "".join(seen)
            line = proc.stderr.readline()
            if not line:
                err = "".join(seen) + proc.stderr.read()
                kind = PortTaken if "Address already in use" in err else AssertionError
                raise kind(f"minternet serve exited {proc.wait()}: {err}")
            seen.append(line)
            m = re.match(r"listening on (https?|udp|tcp) [0-9.]+:([0-9]+)", line)
            if m:
                ports[m[1]] = int(m[2])
            ready = ready or line.startswith("ready")
    except BaseException:
        stop_process(proc)
        raise
    return ports, proc


def stop_process(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM) -> None:
    """Stop a server we started, by its own pid: ``sig``, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


@contextmanager
def minternet_serve(
    *args: str, stdout: int | IO[str] = subprocess.DEVNULL
) -> Iterator[tuple[dict[str, int], subprocess.Popen[str]]]:
    """Run ``minternet serve ARGS`` until the block ends, then stop it by its own pid.

    Yields ``{scheme: port}`` (``https``, ``http``: bound before "ready"; port 0 lets the
    server choose, race-free) and the process; ``stdout`` takes its access-log and query
    lines (discarded by default). For ``--dns`` use :func:`minternet_serve_dns`.
    """
    ports, proc = _start_serve(args, stdout, ())
    try:
        yield ports, proc
    finally:
        stop_process(proc)


@contextmanager
def minternet_serve_dns(
    *args: str, stdout: int | IO[str] = subprocess.DEVNULL, attempts: int = 8
) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """Run ``minternet serve --dns PORT ARGS`` until the block ends; yields PORT (both its
    UDP and TCP sockets bound) and the process.

    ``--dns`` needs one port number free for UDP and TCP alike, so the server cannot take
    port 0: :func:`free_port` finds one, and between its check and the server's bind any
    other process (a parallel test's client taking an ephemeral port) may take it. Then the
    server exits with EADDRINUSE and we try again with a fresh port.
    """
    for attempt in range(attempts):
        port = free_port()
        try:
            ports, proc = _start_serve(("--dns", str(port), *args), stdout, ("udp", "tcp"))
        except PortTaken:
            if attempt == attempts - 1:
                raise
            continue
        assert ports == {"udp": port, "tcp": port}, ports
        try:
            yield port, proc
        finally:
            stop_process(proc)
        return


def free_port() -> int:
    """A loopback port free for both UDP and TCP (for ``serve --dns PORT``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        t.bind(("127.0.0.1", port))  # free for TCP too
    return port
