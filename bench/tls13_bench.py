"""TLS 1.3 benchmarks: full handshakes per second (TLS_AES_128_GCM_SHA256, x25519, RSA-2048
server key with RSA-PSS, chain verified) and resumptions per second (a ticket, psk_dhe_ke),
both ends in one process: ours vs OpenSSL (Python ``ssl`` + MemoryBIO) in the same run.

Run: ``python -m bench.tls13_bench [--quick]``. Medians of several rounds, measured side by
side round by round; the ratios are what matter. Goal: ours >= 0.5x OpenSSL on full
handshakes.
"""

from __future__ import annotations

import contextlib
import ssl
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509

from bench.tls_bench import HOST, NOW, make_pki, openssl_pair, paired, show
from minternet.drivers.entropy import SystemRandom
from minternet.tls.client13 import ClientConfig13, TlsClient13
from minternet.tls.connection13 import NewTicket, Ticket13
from minternet.tls.extensions import NamedGroup
from minternet.tls.server import KeyAndChain
from minternet.tls.server13 import ServerConfig13, TlsServer13
from minternet.tls.suites13 import TLS_AES_128_GCM_SHA256
from minternet.tls.verify import TrustStore

SUITE = TLS_AES_128_GCM_SHA256


def _ours(ca: x509.Certificate, leaf: x509.Certificate, key: Any) -> tuple[Any, Any]:
    rnd = SystemRandom()
    trust = TrustStore([ca])
    ccfg = ClientConfig13(rnd, HOST, trust, NOW, suites=(SUITE,), groups=(NamedGroup.x25519,))
    scfg = ServerConfig13([KeyAndChain((leaf,), key)], rnd, suites=(SUITE,), tickets=1)
    return ccfg, scfg


def _connect(ccfg: ClientConfig13, scfg: ServerConfig13) -> list[Any]:
    c = TlsClient13(ccfg)
    s = TlsServer13(scfg)
    c.start()
    events: list[Any] = []
    while not (c.established and s.established):
        s.receive_data(c.data_to_send())
        events += c.receive_data(s.data_to_send())
    events += c.receive_data(s.data_to_send())  # the ticket
    return events


def ours_full(ca: Any, leaf: Any, key: Any) -> Callable[[], None]:
    ccfg, scfg = _ours(ca, leaf, key)

    def once() -> None:
        _connect(ccfg, scfg)

    return once


def ours_resumed(ca: Any, leaf: Any, key: Any) -> Callable[[], None]:
    ccfg, scfg = _ours(ca, leaf, key)
    ticket: Ticket13 = next(e.ticket for e in _connect(ccfg, scfg) if isinstance(e, NewTicket))
    ccfg.session = ticket

    def once() -> None:
        events = _connect(ccfg, scfg)
        assert any(isinstance(e, NewTicket) for e in events)

    return once


def _openssl_contexts(d: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(d / "leaf.pem", d / "leaf.key")
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(d / "ca.pem")
    for ctx in (sctx, cctx):
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    sctx.num_tickets = 1  # like ours
    cctx.set_ecdh_curve("X25519")
    return sctx, cctx


def _openssl_connect(
    sctx: ssl.SSLContext, cctx: ssl.SSLContext, session: ssl.SSLSession | None
) -> ssl.SSLObject:
    c, _, ci, so = openssl_pair(cctx, sctx, session)
    ci.write(so.read())
    with contextlib.suppress(ssl.SSLWantReadError):  # take the ticket in, as ours does
        c.read(1)
    return c


def openssl_full(d: Path) -> Callable[[], None]:
    sctx, cctx = _openssl_contexts(d)  # (Python's ssl cannot pick a 1.3 suite: OpenSSL's

    def once() -> None:  # first choice, AES-256-GCM, is what it negotiates)
        _openssl_connect(sctx, cctx, None)

    return once


def openssl_resumed(d: Path) -> Callable[[], None]:
    sctx, cctx = _openssl_contexts(d)
    session = _openssl_connect(sctx, cctx, None).session

    def once() -> None:
        c = _openssl_connect(sctx, cctx, session)
        assert c.session_reused

    return once


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    secs, rounds = (0.5, 3) if quick else (2.0, 5)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ca, leaf, key = make_pki(d)
        print(
            f"TLS 1.3, x25519, RSA-2048 server key (RSA-PSS), chain verified, medians of {rounds}"
        )
        hs = paired([ours_full(ca, leaf, key), openssl_full(d)], secs, rounds)
        show("full hs/s", hs, ["minternet", "OpenSSL"], [0.5])
        rs = paired([ours_resumed(ca, leaf, key), openssl_resumed(d)], secs, rounds)
        show("resumed/s", rs, ["minternet", "OpenSSL"], [0.5])
        print("(resumed: a ticket from the previous connection, psk_dhe_ke — a fresh x25519 too)")


if __name__ == "__main__":
    main(sys.argv[1:])
