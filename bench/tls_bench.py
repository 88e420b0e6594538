"""TLS 1.2 benchmarks: full ECDHE-RSA-AES128-GCM handshakes per second with both ends in one
process (ours vs OpenSSL through Python ``ssl`` + MemoryBIO vs tlslite-ng), and bulk
application data through 16 KiB records, encrypt + decrypt, in MB/s (ours vs OpenSSL).

Run: ``python -m bench.tls_bench [--quick]``. Medians of several rounds; ratios are what
matter (the machines are shared). Every side verifies the server's chain and uses the OS's
randomness, as on a real network.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from minternet.drivers.entropy import SystemRandom
from minternet.tls import ClientConfig, ServerConfig, TlsClient, TlsServer, suite_by_name
from minternet.tls.server import KeyAndChain
from minternet.tls.verify import TrustStore

HOST = "www.example.com"
SUITE = suite_by_name("ECDHE-RSA-AES128-GCM-SHA256")
NOW = dt.datetime.now(dt.UTC)


_CA_USAGE = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
_SERVER_AUTH = x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH])


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(d: Path) -> tuple[x509.Certificate, x509.Certificate, rsa.RSAPrivateKey]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(_name("Bench CA")).issuer_name(_name("Bench CA"))
        .public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = rsa.generate_private_key(65537, 2048)
    leaf = (
        x509.CertificateBuilder().subject_name(_name(HOST)).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(2)
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_SERVER_AUTH, critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    (d / "ca.pem").write_bytes(ca.public_bytes(pem))
    (d / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (d / "leaf.key").write_bytes(
        key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    return ca, leaf, key


def rate(fn: Callable[[], Any], seconds: float, rounds: int) -> float:
    """Median operations per second of ``fn`` over ``rounds`` rounds of ``seconds``."""
    results = []
    for _ in range(rounds):
        n, t0 = 0, time.perf_counter()
        while (t := time.perf_counter() - t0) < seconds:
            fn()
            n += 1
        results.append(n / t)
    return statistics.median(results)


# -- handshakes --------------------------------------------------------------------------
def ours_handshake(ca: x509.Certificate, leaf: x509.Certificate, key: Any) -> Callable[[], None]:
    trust = TrustStore([ca])
    creds = [KeyAndChain((leaf,), key)]
    rnd = SystemRandom()

    def once() -> None:
        c = TlsClient(ClientConfig(rnd, HOST, trust, NOW, suites=(SUITE,)))
        s = TlsServer(ServerConfig(creds, rnd, suites=(SUITE,), session_cache=None))
        c.start()
        while not (c.established and s.established):
            s.receive_data(c.data_to_send())
            c.receive_data(s.data_to_send())

    return once


def openssl_handshake(d: Path) -> Callable[[], None]:
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(d / "leaf.pem", d / "leaf.key")
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(d / "ca.pem")
    for ctx in (sctx, cctx):
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(SUITE.openssl_name)
    sctx.options |= ssl.OP_NO_TICKET

    def once() -> None:
        openssl_pair(cctx, sctx)

    return once


def openssl_pair(
    cctx: ssl.SSLContext, sctx: ssl.SSLContext, session: ssl.SSLSession | None = None
) -> tuple[ssl.SSLObject, ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO]:
    """An OpenSSL client and server handshaken in memory: (client, server, the client's
    incoming BIO, the server's outgoing BIO)."""
    ci, co, si, so = (ssl.MemoryBIO() for _ in range(4))
    c = cctx.wrap_bio(ci, co, server_hostname=HOST, session=session)
    s = sctx.wrap_bio(si, so, server_side=True)
    cdone = sdone = False
    while not (cdone and sdone):
        if not cdone:
            try:
                c.do_handshake()
                cdone = True
            except ssl.SSLWantReadError:
                pass
        si.write(co.read())
        if not sdone:
            try:
                s.do_handshake()
                sdone = True
            except ssl.SSLWantReadError:
                pass
        ci.write(so.read())
    return c, s, ci, so


def tlslite_handshake(d: Path) -> Callable[[], None]:
    from tlslite import X509, HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey

    chain = X509CertChain([X509().parse((d / "leaf.pem").read_text())])
    pkey = parsePEMKey((d / "leaf.key").read_text(), private=True)
    settings = HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 3)
    settings.cipherNames = ["aes128gcm"]
    settings.keyExchangeNames = ["ecdhe_rsa"]

    def once() -> None:
        a, b = socket.socketpair()
        sc, cc = TLSConnection(a), TLSConnection(b)
        t = threading.Thread(
            target=lambda: sc.handshakeServer(certChain=chain, privateKey=pkey, settings=settings)
        )
        t.start()
        cc.handshakeClientCert(settings=settings, serverName=HOST)
        t.join()
        a.close()
        b.close()

    return once


# -- bulk ----------------------------------------------------------------------------------
RECORD = 16384


def ours_bulk(ca: Any, leaf: Any, key: Any, mb: int) -> Callable[[], None]:
    trust = TrustStore([ca])
    rnd = SystemRandom()
    c = TlsClient(ClientConfig(rnd, HOST, trust, NOW, suites=(SUITE,)))
    s = TlsServer(ServerConfig([KeyAndChain((leaf,), key)], rnd, suites=(SUITE,)))
    c.start()
    while not (c.established and s.established):
        s.receive_data(c.data_to_send())
        c.receive_data(s.data_to_send())
    chunk = b"\xa5" * RECORD
    n = mb * 1024 * 1024 // RECORD

    def once() -> None:
        for _ in range(n):
            c.send_application_data(chunk)
            s.receive_data(c.data_to_send())

    return once


def openssl_bulk(d: Path, mb: int) -> Callable[[], None]:
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(d / "leaf.pem", d / "leaf.key")
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(d / "ca.pem")
    for ctx in (sctx, cctx):
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(SUITE.openssl_name)
    ci, co, si, so = (ssl.MemoryBIO() for _ in range(4))
    c = cctx.wrap_bio(ci, co, server_hostname=HOST)
    s = sctx.wrap_bio(si, so, server_side=True)
    for _ in range(10):
        for obj in (c, s):
            with contextlib.suppress(ssl.SSLWantReadError):
                obj.do_handshake()
        si.write(co.read())
        ci.write(so.read())
    chunk = b"\xa5" * RECORD
    n = mb * 1024 * 1024 // RECORD

    def once() -> None:
        for _ in range(n):
            c.write(chunk)
            si.write(co.read())
            s.read(RECORD)

    return once


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    secs, rounds, mb = (0.5, 3, 8) if quick else (2.0, 5, 32)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ca, leaf, key = make_pki(d)
        print(f"TLS 1.2 {SUITE.name}, RSA-2048 server key, chain verified, medians of {rounds}")
        hs = paired(
            [ours_handshake(ca, leaf, key), openssl_handshake(d), tlslite_handshake(d)],
            secs,
            rounds,
        )
        show("handshakes/s", hs, ["minternet", "OpenSSL", "tlslite-ng"], [0.5, 10.0])
        bulk = paired([ours_bulk(ca, leaf, key, mb), openssl_bulk(d, mb)], secs, rounds)
        bulk = [(r * mb, q) for r, q in bulk]
        show("bulk MB/s", bulk, ["minternet", "OpenSSL"], [0.4])
        print("(bulk: 16 KiB records, encrypt + decrypt of application data)")


def paired(fns: list[Callable[[], Any]], secs: float, rounds: int) -> list[tuple[float, float]]:
    """Rates measured round by round side by side: [(median rate, median ours/this ratio)]."""
    per: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            per[i].append(rate(fn, secs, 1))
    out = []
    for i in range(len(fns)):
        ratios = [a / b for a, b in zip(per[0], per[i], strict=True)]
        out.append((statistics.median(per[i]), statistics.median(ratios)))
    return out


def show(what: str, res: list[tuple[float, float]], names: list[str], goals: list[float]) -> None:
    print(f"{what:<14} {names[0]:<11} {res[0][0]:9.1f}")
    for (r, ratio), name, goal in zip(res[1:], names[1:], goals, strict=True):
        print(f"{what:<14} {name:<11} {r:9.1f}   minternet/{name} = {ratio:.2f} (goal >= {goal})")


if __name__ == "__main__":
    main(sys.argv[1:])
