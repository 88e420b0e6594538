"""Whole page loads in the simulated world (``python -m bench.fetch_bench``).

1. Full fetches per second of wall time, a fresh default world each (DNS walk from the
   root, TCP, TLS 1.2 ECDHE-RSA, GET, the close, TIME-WAIT run out), the PKI minted once
   (``pki_seed``), no trace recorded. Peer in the same run: OpenSSL (Python ``ssl`` with
   MemoryBIO, both ends in this process) doing a TLS 1.2 ECDHE-RSA handshake plus one
   GET/response of the same page — the cryptographic core of a fetch with no network at all.
2. Wall time per fetch with 1, 100, 1,000 and 10,000 browsers fetching concurrently in one
   world (it must stay flat: no per-event cost that grows with the number of connections).
   Browser i starts i virtual milliseconds after the first: a fetch lasts ~0.7 s and its
   TIME-WAIT 60 s, so hundreds are in flight and all of them alive at once, but the access
   line's 100-frame queues are not hit by one burst of N SYNs (which, as on a real line,
   overflows them: thousands of drops, RTO backoff, and handshakes that time out).
"""

from __future__ import annotations

import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

from minternet.apps.fetch_run import FetchOptions, _server_credentials, run_fetch
from minternet.apps.site import packaged_site
from minternet.drivers.pem import write_credentials


def one_fetch(seed: int) -> None:
    run = run_fetch(
        FetchOptions(seed=seed, pki_seed=1, kex="ecdhe", record_frames=False, record_events=False)
    )
    assert run.ok, run.failure


def openssl_peer(ctx_pair: tuple[ssl.SSLContext, ssl.SSLContext], body: bytes) -> None:
    cctx, sctx = ctx_pair
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = cctx.wrap_bio(c_in, c_out, server_hostname="www.example.com")
    server = sctx.wrap_bio(s_in, s_out, server_side=True)
    done_c = done_s = False
    while not (done_c and done_s):
        for side, peer_in, out in ((client, s_in, c_out), (server, c_in, s_out)):
            try:
                side.do_handshake()
                if side is client:
                    done_c = True
                else:
                    done_s = True
            except ssl.SSLWantReadError:
                pass
            data = out.read()
            if data:
                peer_in.write(data)
    client.write(b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
    s_in.write(c_out.read())
    server.read(65536)
    server.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    c_in.write(s_out.read())
    client.read(65536)


def openssl_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    pki, creds = _server_credentials(1, "good")
    tmp = Path(tempfile.mkdtemp())
    write_credentials(creds, tmp / "cert.pem", tmp / "key.pem")
    (tmp / "root.pem").write_bytes(pki.root.cert_pem())
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    sctx.maximum_version = ssl.TLSVersion.TLSv1_2
    sctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(tmp / "root.pem")
    cctx.maximum_version = ssl.TLSVersion.TLSv1_2
    cctx.check_hostname = False  # the simulated PKI's validity is around its own epoch
    cctx.verify_mode = ssl.CERT_NONE
    return cctx, sctx


def fetch_rate(repeat: int = 5, n: int = 30) -> tuple[float, float]:
    ctxs = openssl_contexts()
    body = packaged_site().files[("index.html",)]
    ours: list[float] = []
    peer: list[float] = []
    seed = 100
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            seed += 1
            one_fetch(seed)
        ours.append(n / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(n):
            openssl_peer(ctxs, body)
        peer.append(n / (time.perf_counter() - t0))
    return statistics.median(ours), statistics.median(peer)


STAGGER = 0.001  # one new browser per virtual millisecond: all alive at once, no SYN burst


def concurrent(browsers: int) -> float:
    t0 = time.perf_counter()
    run = run_fetch(
        FetchOptions(seed=7, pki_seed=1, kex="ecdhe", record_frames=False, record_events=False,
                     browsers=browsers, stagger=STAGGER, timeout=60.0)
    )  # fmt: skip
    assert run.ok, run.failure
    return (time.perf_counter() - t0) / browsers


def main() -> None:
    _server_credentials(1, "good")  # mint the PKI once, outside the timings
    one_fetch(1)
    ours, peer = fetch_rate()
    print(f"full fetches (fresh world each, ECDHE-RSA): {ours:.1f}/s; OpenSSL handshake+GET "
          f"in memory: {peer:.1f}/s; ratio {ours / peer:.3f}")  # fmt: skip
    sizes = [1, 100, 1000, 10000] if "--quick" not in sys.argv else [1, 100]
    for n in sizes:
        per = statistics.median(concurrent(n) for _ in range(3 if n <= 100 else 1))
        print(f"{n:6d} concurrent browsers: {per * 1000:.2f} ms wall per fetch")


if __name__ == "__main__":
    main()
