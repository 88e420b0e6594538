"""``minternet fetch --real`` against servers that end badly, trickle, or stretch HTTP: a
thread in this process plays the server (raw sockets, OpenSSL through Python ``ssl``), or
``minternet serve`` does. The fetch runs in this interpreter (``clitools.run_in_process``:
the same command, its exit status and both streams as a subprocess would give them, without
~0.4 CPU s of start-up a run), except where its own process is measured (peak RSS)."""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from http_peers import cli_env, minternet_serve

from clitools import run_in_process

MB = 1 << 20


@contextmanager
def one_shot_server(answer: Callable[[socket.socket], None], read_head: bool = True
                    ) -> Iterator[int]:  # fmt: skip
    """A loopback server for one connection: reads the request head (unless ``read_head``
    is false: TLS comes first), then ``answer(conn)``."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def run() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(30)
            data = b""
            try:
                while read_head and b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                answer(conn)
            except OSError:
                pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        listener.close()
        thread.join(30)


def tls_files(tmp: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA file for our client and an OpenSSL server context with a localhost leaf."""
    from minternet.drivers.entropy import SystemRandom
    from minternet.drivers.pem import write_credentials
    from minternet.tls.pki import Pki

    pki = Pki.create(SystemRandom(), datetime.now(UTC))
    creds = pki.issue_server(["localhost", "127.0.0.1"])
    ca, cert, key = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    ca.write_bytes(pki.root.cert_pem())
    write_credentials(creds, cert, key)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ca, ctx


def fetch(*args: str) -> subprocess.CompletedProcess[str]:
    return run_in_process("fetch", "--real", *args, check=False)


def close_delimited(ctx: ssl.SSLContext, close_notify: bool) -> Callable[[socket.socket], None]:
    def answer(raw: socket.socket) -> None:
        tls = ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        tls.do_handshake()
        tls.recv(65536)  # the request
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, ")
        time.sleep(0.1)
        tls.sendall(b"world\n")
        if close_notify:
            tls.unwrap().close()  # close_notify, then the TCP close
        else:
            tls.close()  # the TCP connection just ends, no close_notify (SSL_shutdown unused)

    return answer


def test_close_delimited_body_without_close_notify_is_truncated(tmp_path: Path) -> None:
    """RFC 9112 §9.8: such a body is incomplete; the fetch fails (exit 1)."""
    ca, ctx = tls_files(tmp_path)
    with one_shot_server(close_delimited(ctx, close_notify=False), read_head=False) as port:
        r = fetch(f"https://localhost:{port}/", "--cafile", str(ca), "--raw")
    assert r.returncode == 1, r.stderr
    assert "truncated" in r.stderr and "close_notify" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    with one_shot_server(close_delimited(ctx, close_notify=True), read_head=False) as port:
        r = fetch(f"https://localhost:{port}/", "--cafile", str(ca), "--raw")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello, world\n"


def vm_hwm(pid: int) -> int:
    """Peak resident set of a running process, bytes (0 once it has gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def test_output_file_is_streamed_not_held_nor_capped(tmp_path: Path) -> None:
    """A 100 MB body (over the old 64 MiB cap) goes to -o as it arrives: the fetch's peak
    memory stays well under the body's size."""
    root = tmp_path / "www"
    root.mkdir()
    block = os.urandom(MB)
    with open(root / "big.bin", "wb") as f:
        for _ in range(100):
            f.write(block)
    want = hashlib.sha256(block * 100).hexdigest()
    out = tmp_path / "out.bin"
    with minternet_serve("--http", "0", "--quiet", "--site", str(root)) as (ports, _):
        url = f"http://127.0.0.1:{ports['http']}/big.bin"
        proc = subprocess.Popen(
            [sys.executable, "-m", "minternet", "fetch", "--real", url, "-o", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
        )  # fmt: skip
        peak = 0
        while proc.poll() is None:
            peak = max(peak, vm_hwm(proc.pid))
            time.sleep(0.02)
        _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert f"{100 * MB} bytes written to {out}" in err
    assert hashlib.sha256(out.read_bytes()).hexdigest() == want
    assert 0 < peak < 90 * MB, f"peak RSS {peak / MB:.0f} MB"


def test_timeout_bounds_the_whole_fetch() -> None:
    """A server trickling one byte every 0.2 s never lets a read wait long; --timeout 2
    still ends the fetch after ~2 s (exit 1), not when the body is done."""

    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n")
        for _ in range(200):
            conn.sendall(b"x")
            time.sleep(0.2)

    with one_shot_server(trickle) as port:
        t0 = time.monotonic()
        r = fetch(f"http://127.0.0.1:{port}/", "--raw", "--timeout", "2")
        took = time.monotonic() - t0
    assert r.returncode == 1, r.stdout
    assert "more than 2 s" in r.stderr
    assert took < 20  # the body alone would take 40 s


def test_status_line_without_reason_phrase_is_accepted() -> None:
    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n")

    with one_shot_server(answer) as port:
        r = fetch(f"http://127.0.0.1:{port}/", "--raw")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ok\n"


def test_http_09_reply_is_named() -> None:
    def answer(conn: socket.socket) -> None:
        conn.sendall(b"<html>hello</html>\n")

    with one_shot_server(answer) as port:
        r = fetch(f"http://127.0.0.1:{port}/", "--raw")
    assert r.returncode == 1
    assert "HTTP/0.9" in r.stderr and len(r.stderr.strip().splitlines()) == 1
