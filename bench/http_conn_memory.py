"""Server memory per HTTPS connection, idle and active: ``minternet serve`` vs nginx.

Both servers run as child processes on loopback serving the same folder (an index page and
a 20 MiB file); memory is the server process's resident set (``VmRSS`` of
``/proc/PID/status``), read before and after opening the connections:

- idle: ``IDLE`` TLS 1.2 connections (Python ``ssl``: OpenSSL) with the handshake done
  and no request sent;
- active: ``ACTIVE`` connections that each ``GET`` the 20 MiB file and then read nothing,
  so every response is in flight, held up by TCP flow control.

``python -m bench.http_conn_memory`` (needs nginx).
"""

from __future__ import annotations

import socket
import ssl
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # clitools
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "http"))  # http_peers

from http_peers import minternet_serve, nginx

IDLE = 100
ACTIVE = 20
BIG = 20 * 1024 * 1024
SETTLE = 2.0


def rss_kib(pid: int) -> int:
    """The process's resident set size in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _connect(port: int, ca: Path) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    raw = socket.create_connection(("127.0.0.1", port), 10)
    tls = ctx.wrap_socket(raw, server_hostname="localhost")
    return tls


def per_connection(pid: int, port: int, ca: Path) -> tuple[float, float]:
    """KiB of server RSS per idle and per active connection."""
    base = rss_kib(pid)
    idle = [_connect(port, ca) for _ in range(IDLE)]
    time.sleep(SETTLE)
    idle_kib = (rss_kib(pid) - base) / IDLE
    for s in idle:
        s.close()
    time.sleep(SETTLE)
    base = rss_kib(pid)
    active = []
    for _ in range(ACTIVE):
        s = _connect(port, ca)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        s.recv(1)  # the response has started
        active.append(s)
    time.sleep(SETTLE)
    active_kib = (rss_kib(pid) - base) / ACTIVE
    for s in active:
        s.close()
    return idle_kib, active_kib


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        root = tmp / "www"
        root.mkdir()
        (root / "index.html").write_bytes(b"<html><body>hello</body></html>\n")
        (root / "big.bin").write_bytes(bytes(range(256)) * (BIG // 256))
        from bench.http_live import pki_files

        ca, cert, key = pki_files(tmp)
        our_ca = tmp / "ours-ca.pem"
        print(f"server RSS per HTTPS connection ({IDLE} idle, then {ACTIVE} active on a "
              f"{BIG >> 20} MiB file), KiB")  # fmt: skip
        with minternet_serve(
            "--https", "0", "--quiet", "--site", str(root), "--ca-out", str(our_ca)
        ) as (ports, proc):
            ours = per_connection(proc.pid, ports["https"], our_ca)
        with nginx(root, tmp, cert, key) as port:
            pid = int((tmp / "nginx.pid").read_text())
            theirs = per_connection(pid, port, ca)
        print(f"  idle   minternet serve {ours[0]:9,.1f}   nginx {theirs[0]:9,.1f}")
        print(f"  active minternet serve {ours[1]:9,.1f}   nginx {theirs[1]:9,.1f}")


if __name__ == "__main__":
    main()
