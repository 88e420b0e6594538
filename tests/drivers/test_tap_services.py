"""Issue 8 from the kernel's side: ``minternet tap up`` runs our host with our DNS and web
server; the Linux kernel, in the namespace, pings it, resolves names with ``dig`` and
(soon) fetches pages with ``curl`` — every byte above the kernel's socket API is ours.
Needs root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from minternet.drivers.netns import list_namespaces

ROOT_OK = os.geteuid() == 0 and os.path.exists("/dev/net/tun") and shutil.which("ip") is not None
pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(not ROOT_OK, reason="needs root, /dev/net/tun and iproute2"),
]
SRC = Path(__file__).resolve().parents[2] / "src"
SITE_INDEX = SRC / "minternet" / "apps" / "site" / "index.html"
HOST = "10.77.0.2"
_count = 0


@contextmanager
def tap_up(*extra: str) -> Iterator[str]:
    """Run ``minternet tap up`` until the block ends; yields the namespace."""
    global _count
    _count += 1
    ns = f"minternet-svc-{os.getpid()}-{_count}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "minternet", "tap", "up", "--netns", ns, "--duration", "300",
         *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(SRC)),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        while not lines or not lines[-1].startswith("  stop:"):
            line = proc.stdout.readline()
            assert line, "tap up ended early: " + (proc.stderr.read() if proc.stderr else "")
            lines.append(line)
        yield ns
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert f"removed namespace {ns}" in out
        assert ns not in list_namespaces()


def in_ns(ns: str, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *cmd], capture_output=True, timeout=timeout, check=False
    )


@pytest.mark.skipif(shutil.which("dig") is None, reason="needs dig")
def test_kernel_pings_and_resolves_through_our_host() -> None:
    with tap_up() as ns:
        ping = in_ns(ns, "ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", HOST)
        udp = in_ns(ns, "dig", "+short", "+tries=1", f"@{HOST}", "www.example.com")
        tcp = in_ns(ns, "dig", "+short", "+tcp", "+tries=1", f"@{HOST}", "www.example.com")
        nx = in_ns(ns, "dig", "+tries=1", f"@{HOST}", "nope.example.com")
        big = in_ns(ns, "dig", "+tries=1", f"@{HOST}", "big.example.com", "TXT")
        # the namespace's resolver is our DNS server: no hosts entry, no --resolve
        getent = in_ns(ns, "getent", "ahostsv4", "www.example.com")
        upload = in_ns(ns, sys.executable, "-c", UPLOAD.format(host=HOST, size=4 << 20))
    assert ping.returncode == 0 and b"2 received" in ping.stdout
    assert udp.stdout.split() == [HOST.encode()]
    assert tcp.stdout.split() == [HOST.encode()]
    assert b"status: NXDOMAIN" in nx.stdout and b"flags: qr aa" in nx.stdout
    # too big for UDP: dig got TC and retried over TCP (our TCP, the kernel's dig)
    assert big.returncode == 0 and big.stdout.count(b"TXT") >= 2, big.stdout
    assert getent.stdout.split()[0] == HOST.encode()
    assert upload.stdout.strip() == b"ok", upload.stderr


# the kernel's TCP sends to our Discard service (RFC 863), then waits for our FIN
UPLOAD = """
import socket
c = socket.create_connection(("{host}", 9), timeout=30)
c.sendall(bytes(range(256)) * ({size} // 256))
c.shutdown(socket.SHUT_WR)
assert c.recv(100) == b""  # discard sends nothing, then closes cleanly
print("ok")
"""
