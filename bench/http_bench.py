"""HTTP benchmarks: head parse rate against h11, requests/s against nginx.

``python -m bench.http_bench`` runs the parse benchmark (always) and, with ``--live``, the
keep-alive request rate over one TLS connection on loopback to our server and to Debian's
nginx with the same client (needs the TLS stack, the kernel driver and ``nginx``).

Each figure is the median of several rounds; the ratio is against the peer measured in the
same run, because the machines are shared and noisy.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import h11

from minternet.http import NEED_DATA, HttpConnection, Request, Role

# What Firefox sends for a page (user agent shortened): a realistic head of ~450 bytes.
BROWSER_HEAD = (
    b"GET /index.html HTTP/1.1\r\n"
    b"Host: www.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Connection: keep-alive\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"Sec-Fetch-Dest: document\r\n"
    b"Sec-Fetch-Mode: navigate\r\n"
    b"Sec-Fetch-Site: none\r\n"
    b"Sec-Fetch-User: ?1\r\n"
    b"Priority: u=0, i\r\n"
    b"\r\n"
)


def rate(fn: Callable[[int], object], n: int, rounds: int = 7) -> float:
    """Median operations per second of ``fn(n)`` over ``rounds``."""
    results = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(n)
        results.append(n / (time.perf_counter() - t0))
    return statistics.median(results)


def ours_connection(n: int) -> None:
    for _ in range(n):
        c = HttpConnection(Role.SERVER)
        c.receive_data(BROWSER_HEAD)
        ev = c.next_event()
        assert isinstance(ev, Request)


def h11_connection(n: int) -> None:
    for _ in range(n):
        c = h11.Connection(h11.SERVER)
        c.receive_data(BROWSER_HEAD)
        ev = c.next_event()
        assert isinstance(ev, h11.Request)


def ours_keepalive(n: int) -> None:
    """n requests through one connection: parse head, end of message, 204, next cycle."""
    from minternet.http import EndOfMessage, Response

    c = HttpConnection(Role.SERVER)
    for _ in range(n):
        c.receive_data(BROWSER_HEAD)
        c.next_event()
        c.next_event()
        c.send(Response(204))
        c.send(EndOfMessage())
    assert c.next_event() is NEED_DATA


def h11_keepalive(n: int) -> None:
    c = h11.Connection(h11.SERVER)
    for _ in range(n):
        c.receive_data(BROWSER_HEAD)
        c.next_event()
        c.next_event()
        c.send(h11.Response(status_code=204, headers=[]))
        c.send(h11.EndOfMessage())
        c.start_next_cycle()


def parse_bench() -> list[str]:
    n = 20000
    lines = ["HTTP head parsing (a 13-field browser request, median of 7 rounds)"]
    for label, ours, theirs in [
        ("new connection + head", ours_connection, h11_connection),
        ("keep-alive cycle (head, EOM, 204)", ours_keepalive, h11_keepalive),
    ]:
        ours(1000), theirs(1000)  # warm up
        a = rate(ours, n)
        b = rate(theirs, n)
        lines.append(f"  {label:36s} minternet {a:9,.0f}/s   h11 {b:9,.0f}/s   ratio {a / b:.2f}x")
    return lines


def main(argv: list[str] | None = None) -> None:
    for line in parse_bench():
        print(line)
    if argv and "--live" in argv:
        from bench.http_live import live_bench

        for line in live_bench():
            print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
