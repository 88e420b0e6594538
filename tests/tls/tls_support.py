"""Fixtures for the TLS tests: small certificate sets made with cryptography's builder
(independent of our own PKI, which ``test_tls_with_pki.py`` uses), and CLI helpers."""

from __future__ import annotations

import datetime as dt
import os
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from clitools import run_in_process
from minternet.tls.verify import TrustStore

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
HOST = "www.example.com"


def make_trust(certs: list[x509.Certificate]) -> TrustStore:
    """A trust store holding ``certs``."""
    return TrustStore(certs)


# -- certificates ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Creds:
    chain: tuple[x509.Certificate, ...]
    key: Any
    cert_path: Path
    key_path: Path


@dataclass(frozen=True)
class Certs:
    root: x509.Certificate
    root_path: Path
    rsa: Creds
    ecdsa: Creds


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(
    subject: str, key: Any, issuer: x509.Name, issuer_key: Any, ca: bool, names: list[str]
) -> x509.Certificate:
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        b = b.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _write(d: Path, stem: str, chain: tuple[x509.Certificate, ...], key: Any) -> Creds:
    cp, kp = d / f"{stem}.pem", d / f"{stem}.key"
    cp.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))
    kp.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Creds(chain, key, cp, kp)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    d = tmp_path_factory.mktemp("pki")
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _issue("Test Root CA", root_key, _name("Test Root CA"), root_key, True, [])
    rsa_key = rsa.generate_private_key(65537, 2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_leaf = _issue(HOST, rsa_key, root.subject, root_key, False, [HOST])
    ec_leaf = _issue(HOST, ec_key, root.subject, root_key, False, [HOST])
    root_path = d / "root.pem"
    root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return Certs(
        root,
        root_path,
        _write(d, "rsa", (rsa_leaf,), rsa_key),
        _write(d, "ecdsa", (ec_leaf,), ec_key),
    )


@pytest.fixture
def openssl_server_ctx(pki: Certs) -> Iterator[ssl.SSLContext]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pki.rsa.cert_path, pki.rsa.key_path)
    ctx.load_cert_chain(pki.ecdsa.cert_path, pki.ecdsa.key_path)
    yield ctx


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A second, unrelated CA and server certificate (for unknown_ca)."""
    d = tmp_path_factory.mktemp("other")
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _issue("Other Root CA", root_key, _name("Other Root CA"), root_key, True, [])
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _issue(HOST, leaf_key, root.subject, root_key, False, [HOST])
    root_path = d / "root.pem"
    root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    creds = _write(d, "ecdsa", (leaf,), leaf_key)
    return Certs(root, root_path, creds, creds)


# -- running the command line ----------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["NO_COLOR"] = "1"
    return env


def minternet(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """``minternet ARGS`` (a client, a usage error: a command that ends by itself) in this
    interpreter, answered as ``subprocess.run`` would; servers run in their own process."""
    return run_in_process(*args, check=False, input=input)


@pytest.fixture(scope="session")
def our_tls_server(pki: Certs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One ``minternet tls server 0`` (RSA and ECDSA credentials, default options) for the
    worker's whole session: tests that only make one handshake each (``openssl s_client``
    per suite and group) share it instead of starting an interpreter each. Port 0: the
    kernel picks the port and the server names it on stderr (no check-then-bind race)."""
    log = tmp_path_factory.mktemp("our-tls-server") / "stderr.txt"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "minternet", "tls", "server", "0",
             "--cert", str(pki.rsa.cert_path), "--key", str(pki.rsa.key_path),
             "--cert", str(pki.ecdsa.cert_path), "--key", str(pki.ecdsa.key_path)],
            stdout=subprocess.DEVNULL, stderr=err, text=True, env=_env(),
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (m := re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read_text())):
            assert proc.poll() is None, f"tls server exited: {log.read_text()}"
            assert time.monotonic() < deadline, "tls server did not start"
            time.sleep(0.05)
        yield int(m[1])
        assert proc.poll() is None, f"the shared tls server died: {log.read_text()}"
    finally:
        proc.kill()
        proc.wait()
