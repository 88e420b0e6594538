"""Requests per second over one keep-alive connection on loopback: our server vs nginx.

The same client — our HTTP/1.1 connection (and our TLS, when given) over the kernel's TCP
via :mod:`minternet.drivers.kernel` — sends sequential ``GET /index.html`` on one
connection to ``minternet serve`` and to Debian's nginx, both child processes serving the
same file. Run as part of ``python -m bench.http_bench --live``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # clitools
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "http"))  # http_peers

from http_peers import minternet_serve, nginx

from minternet.apps.streams import ByteStream
from minternet.drivers import kernel
from minternet.drivers.pem import load_trust_store, write_credentials
from minternet.http import (
    NEED_DATA,
    Data,
    EndOfMessage,
    Headers,
    HttpConnection,
    Request,
    Response,
    Role,
)
from minternet.node.api import StreamSocket

SITE = Path(__file__).resolve().parents[1] / "src" / "minternet" / "apps" / "site"
Wrap = Callable[[StreamSocket], Awaitable[ByteStream]]


async def keepalive_rate(stack: kernel.KernelStack, port: int, n: int,
                         wrap: Wrap | None = None) -> float:  # fmt: skip
    sock = await stack.tcp_connect(("127.0.0.1", port), 5)
    stream: ByteStream = await wrap(sock) if wrap else sock
    conn = HttpConnection(Role.CLIENT)
    req = Request("GET", "/index.html", Headers.of([("Host", "localhost")]))
    t0 = time.perf_counter()
    for _ in range(n):
        await stream.send(conn.send(req) + conn.send(EndOfMessage()))
        size = 0
        while True:
            ev = conn.next_event()
            if ev is NEED_DATA:
                conn.receive_data(await stream.recv(65536, 5))
            elif isinstance(ev, Response):
                assert ev.status == 200, ev
            elif isinstance(ev, Data):
                size += len(ev.data)
            elif isinstance(ev, EndOfMessage):
                break
    elapsed = time.perf_counter() - t0
    result = stream.close()
    if result is not None:
        await result  # type: ignore[misc]
    return n / elapsed


def our_client(port: int, n: int, wrap_factory: Callable[[kernel.KernelStack], Wrap] | None
               ) -> float:  # fmt: skip
    """One run of our client: requests/s over one keep-alive connection."""

    async def main(stack: kernel.KernelStack) -> float:
        wrap = wrap_factory(stack) if wrap_factory else None
        return await keepalive_rate(stack, port, n, wrap)

    return kernel.run(main, timeout=120)


def curl_client(base: str, n: int, *args: str) -> float:
    """One run of curl fetching ``n`` URLs over one keep-alive connection (URL globbing)."""
    t0 = time.perf_counter()
    subprocess.run(["curl", "-sS", "-o", "/dev/null", *args, f"{base}/index.html?[1-{n}]"],
                   check=True, timeout=120)  # fmt: skip
    return n / (time.perf_counter() - t0)


def paired(label: str, ours: Callable[[], float], theirs: Callable[[], float], rounds: int) -> str:
    """Alternate the two runs ``rounds`` times; medians of rates and of per-round ratios."""
    a, b, ratios = [], [], []
    for _ in range(rounds):
        x, y = ours(), theirs()
        a.append(x)
        b.append(y)
        ratios.append(x / y)
    return (
        f"  {label:18s} minternet serve {statistics.median(a):8,.0f} req/s   "
        f"nginx {statistics.median(b):8,.0f} req/s   ratio {statistics.median(ratios):.2f}"
    )


def live_bench(n: int = 1000, rounds: int = 7) -> list[str]:
    lines = [
        f"HTTP keep-alive GET /index.html over loopback, {n} requests per run, "
        f"{rounds} paired rounds (medians)"
    ]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "www"
        root.mkdir()
        (root / "index.html").write_bytes((SITE / "index.html").read_bytes())
        with (
            minternet_serve("--http", "0", "--quiet", "--site", str(root)) as (ports, _),
            nginx(root, Path(tmp)) as nginx_port,
        ):
            p = ports["http"]
            lines.append(
                paired(
                    "HTTP, our client",
                    lambda: our_client(p, n, None),
                    lambda: our_client(nginx_port, n, None),
                    rounds,
                )
            )
            lines.append(
                paired(
                    "HTTP, curl",
                    lambda: curl_client(f"http://127.0.0.1:{p}", n),
                    lambda: curl_client(f"http://127.0.0.1:{nginx_port}", n),
                    rounds,
                )
            )
        try:
            import minternet.apps.tls_stream  # noqa: F401
        except ImportError:
            lines.append("  HTTPS: skipped (minternet.tls is not in this checkout)")
            return lines
        ca, cert, key = pki_files(Path(tmp))
        our_ca = Path(tmp) / "ours-ca.pem"
        with (
            minternet_serve(
                "--https", "0", "--quiet", "--site", str(root), "--ca-out", str(our_ca)
            ) as (ports, _),
            nginx(root, Path(tmp), cert, key) as nginx_port,
        ):
            p = ports["https"]
            lines.append(
                paired(
                    "HTTPS, our client",
                    lambda: our_client(p, n, tls_wrap(our_ca)),
                    lambda: our_client(nginx_port, n, tls_wrap(ca)),
                    rounds,
                )
            )
            lines.append(
                paired(
                    "HTTPS, curl",
                    lambda: curl_client(f"https://localhost:{p}", n, "--cacert", str(our_ca)),
                    lambda: curl_client(f"https://localhost:{nginx_port}", n, "--cacert", str(ca)),
                    rounds,
                )
            )
    return lines


def pki_files(tmp: Path) -> tuple[Path, Path, Path]:
    from minternet.drivers.entropy import SystemRandom
    from minternet.tls.pki import Pki

    pki = Pki.create(SystemRandom(), datetime.now(UTC))
    creds = pki.issue_server(["localhost", "127.0.0.1"])
    ca, cert, key = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    ca.write_bytes(pki.root.cert_pem())
    write_credentials(creds, cert, key)
    return ca, cert, key


def tls_wrap(ca: Path) -> Callable[[kernel.KernelStack], Wrap]:
    from minternet.apps.tls_stream import tls_connect
    from minternet.tls.client import ClientConfig

    trust = load_trust_store(ca)

    def factory(stack: kernel.KernelStack) -> Wrap:
        async def wrap(sock: StreamSocket) -> ByteStream:
            config = ClientConfig(random=stack.random, server_name="localhost", trust=trust,
                                  now=lambda: datetime.now(UTC), alpn=("http/1.1",))  # fmt: skip
            return await tls_connect(sock, config, loop=stack.loop, timeout=10)

        return wrap

    return factory


if __name__ == "__main__":
    for line in live_bench():
        print(line)
