"""Helpers for tests that run the ``minternet`` command (imported as a plain module:
``from clitools import CliRunner, cli_env``; not from ``conftest``, whose name other
test folders' conftest files share)."""

from __future__ import annotations

import io
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
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


@contextmanager
def environ(changes: Mapping[str, str | None]) -> Iterator[None]:
    """``os.environ`` with ``changes`` (None: unset) until the block ends."""
    saved = {k: os.environ.get(k) for k in changes}
    try:
        _set_environ(changes)
        yield
    finally:
        _set_environ(saved)


def _set_environ(values: Mapping[str, str | None]) -> None:
    """Set each variable in ``values`` (None: unset it)."""
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _pipe() -> io.TextIOWrapper:
    """A text stream over bytes, like a child's stdout on a pipe (UTF-8, not a tty)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)


def main_in_process(
    args: tuple[str, ...] | list[str],
    input: bytes = b"",
    env: Mapping[str, str | None] | None = None,
) -> tuple[int, bytes, bytes]:
    """``minternet ARGS`` in this interpreter, as :func:`minternet.cli.main` runs it for
    the console script: stdout and stderr captured as pipes (UTF-8 text streams over bytes,
    not a tty), stdin from ``input``, the environment of :func:`cli_env` (plus ``env``),
    ``SystemExit`` read as the exit status, and an escaping exception printed as Python
    would (a traceback, status 1). Returns ``(status, stdout, stderr)``.

    It saves a fresh interpreter and its imports (~0.5 CPU s) per run, and the keys the
    seeded PKI mints are cached in-process. What only a real process shows (its exit code
    as a shell sees it, signals, a server on a port) needs :func:`run_process`.
    """
    from minternet.cli import main

    out, err = _pipe(), _pipe()
    stdin = io.TextIOWrapper(io.BytesIO(input), encoding="utf-8")
    changes: dict[str, str | None] = {"NO_COLOR": "1", "COLUMNS": os.environ.get("COLUMNS", "120")}
    changes.update(env or {})
    saved = sys.stdin, sys.stdout, sys.stderr
    status: int
    with environ(changes):
        sys.stdin, sys.stdout, sys.stderr = stdin, out, err
        try:
            main(list(args))
            status = 0
        except SystemExit as e:
            if e.code is None or isinstance(e.code, int):
                status = e.code or 0
            else:
                print(e.code, file=err)
                status = 1
        except Exception:  # what the interpreter does with an uncaught exception
            traceback.print_exc(file=err)
            status = 1
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
    return status, _bytes(out), _bytes(err)


def _bytes(stream: io.TextIOWrapper) -> bytes:
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue()


def _text(data: bytes) -> str:
    """Bytes read as ``subprocess.run(text=True)`` reads a pipe: universal newlines."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def run_in_process(
    *args: str,
    check: bool = True,
    input: str | None = None,
    env: Mapping[str, str | None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``minternet ARGS`` in this interpreter (:func:`main_in_process`), answered as
    ``subprocess.run(capture_output=True, text=True)`` would answer for the real command;
    with ``check``, a non-zero status fails the test with both streams."""
    status, out, err = main_in_process(args, (input or "").encode(), env)
    proc = subprocess.CompletedProcess(["minternet", *args], status, _text(out), _text(err))
    if check and status != 0:
        raise AssertionError(
            f"minternet {' '.join(args)} exited {status}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def run_process(
    *args: str, check: bool = True, timeout: float = 120, **kw: object
) -> subprocess.CompletedProcess[str]:
    """Run ``minternet ARGS…`` as a user would, in a fresh interpreter, from this checkout."""
    proc = subprocess.run(
        [sys.executable, "-m", "minternet", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=timeout,
        **kw,  # type: ignore[arg-type]
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"minternet {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


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
        deadline = time.monotonic() + 120  # minting the PKI is slow on a loaded machine
        while not (ready and all(p in ports for p in wait_for)):
            assert time.monotonic() < deadline, "minternet serve: " + "".join(seen)
            line = proc.stderr.readline()
            if not line:
                err = "".join(seen) + proc.stderr.read()
                raise AssertionError(f"minternet serve exited {proc.wait()}: {err}")
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
    *args: str, stdout: int | IO[str] = subprocess.DEVNULL
) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """Run ``minternet serve --dns PORT ARGS`` until the block ends; yields PORT (both its
    UDP and TCP sockets bound) and the process.

    ``--dns`` needs one port number for UDP and TCP alike, so the server cannot take port 0:
    :func:`free_port` gives one no other test and no client's ephemeral port can take.
    """
    port = free_port()
    ports, proc = _start_serve(("--dns", str(port), *args), stdout, ("udp", "tcp"))
    assert ports == {"udp": port, "tcp": port}, ports
    try:
        yield port, proc
    finally:
        stop_process(proc)


#: Test servers that need a port number chosen for them (nginx's ``listen``, ``serve --dns``)
#: take it below the kernel's ephemeral range (``ip_local_port_range``, 32768-60999 by
#: default), where no client's ``connect()`` and no ``bind(port 0)`` elsewhere can take it
#: between our check and the server's bind. Each process draws from its own block of
#: ``_BLOCK`` ports: up to four xdist workers of a run from different quarters, so they never
#: share one, and concurrent runs from blocks spread by their pids.
_FIRST, _BLOCKS, _BLOCK = 20000, 96, 128
_taken = itertools.count()


def _block_start() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    quarter = _BLOCKS // 4
    block = (index % 4) * quarter + os.getpid() % quarter
    return _FIRST + block * _BLOCK


def free_port() -> int:
    """A loopback port free for both UDP and TCP, from this process's own block (see
    ``_FIRST``): no other test of this run and no ephemeral port takes it meanwhile."""
    start = _block_start()
    for _ in range(_BLOCK):
        port = start + next(_taken) % _BLOCK
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                t.bind(("127.0.0.1", port))
        except OSError:  # still in TIME-WAIT, or another run's
            continue
        return port
    raise AssertionError(f"no free port in {start}..{start + _BLOCK - 1}")
