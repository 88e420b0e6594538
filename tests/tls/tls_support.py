"""Fixtures for the TLS tests: certificates made with cryptography's builder and, until the
``pki`` branch is merged, a minimal test double of ``minternet.tls.signing`` / ``verify``
(registered only when the real modules are absent)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import socket
import ssl
import subprocess
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
HOST = "www.example.com"


# -- test double for the pki branch's modules ------------------------------------------------
def _hash(name: str) -> hashes.HashAlgorithm:
    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[name]


_SCHEMES = {
    0x0401: ("pkcs1", "sha256"),
    0x0501: ("pkcs1", "sha384"),
    0x0601: ("pkcs1", "sha512"),
    0x0403: ("ecdsa", "sha256"),
    0x0503: ("ecdsa", "sha384"),
    0x0804: ("pss", "sha256"),
    0x0805: ("pss", "sha384"),
    0x0806: ("pss", "sha512"),
}


def _fake_signing() -> types.ModuleType:
    m = types.ModuleType("minternet.tls.signing")

    def schemes_for_key(key: Any) -> list[int]:
        pub = key.public_key() if hasattr(key, "public_key") else key
        if isinstance(pub, rsa.RSAPublicKey):
            # PKCS#1 v1.5 first: deterministic, so a replayed handshake gives the same bytes
            return [0x0401, 0x0501, 0x0601, 0x0804, 0x0805, 0x0806]
        if isinstance(pub.curve, ec.SECP384R1):
            return [0x0503, 0x0403]
        return [0x0403, 0x0503]

    def _pad(kind: str, h: str) -> Any:
        if kind == "pss":
            return padding.PSS(padding.MGF1(_hash(h)), padding.PSS.DIGEST_LENGTH)
        return padding.PKCS1v15()

    def sign(key: Any, scheme: int, data: bytes, random: Any) -> bytes:
        kind, h = _SCHEMES[scheme]
        if kind == "ecdsa":  # RFC 6979 nonces: deterministic
            return bytes(key.sign(data, ec.ECDSA(_hash(h), deterministic_signing=True)))
        return bytes(key.sign(data, _pad(kind, h), _hash(h)))

    def verify(pub: Any, scheme: int, data: bytes, sig: bytes) -> bool:
        kind, h = _SCHEMES[scheme]
        try:
            if kind == "ecdsa":
                pub.verify(sig, data, ec.ECDSA(_hash(h)))
            else:
                pub.verify(sig, data, _pad(kind, h), _hash(h))
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True

    def rsa_pkcs1v15_encrypt(pub: Any, message: bytes, random: Any) -> bytes:
        # RFC 8017 §7.2.1 with the padding from the injected random (deterministic)
        nums = pub.public_numbers()
        k = (nums.n.bit_length() + 7) // 8
        ps = bytearray()
        while len(ps) < k - 3 - len(message):
            ps += bytes(b for b in random.random_bytes(k) if b)
        em = b"\x00\x02" + bytes(ps[: k - 3 - len(message)]) + b"\x00" + message
        return pow(int.from_bytes(em, "big"), nums.e, nums.n).to_bytes(k, "big")

    m.schemes_for_key = schemes_for_key  # type: ignore[attr-defined]
    m.sign = sign  # type: ignore[attr-defined]
    m.verify = verify  # type: ignore[attr-defined]
    m.rsa_pkcs1v15_encrypt = rsa_pkcs1v15_encrypt  # type: ignore[attr-defined]
    return m


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Verification:
    ok: bool
    checks: list[Check]
    alert: int | None
    reason: str | None


class TrustStore:
    def __init__(self, certs: list[x509.Certificate]) -> None:
        self.certs = certs

    @classmethod
    def from_pem_files(cls, *paths: Any) -> TrustStore:
        return cls(
            [c for p in paths for c in x509.load_pem_x509_certificates(Path(p).read_bytes())]
        )


def _fake_verify() -> types.ModuleType:
    m = types.ModuleType("minternet.tls.verify")

    def verify_server_chain(
        chain: list[bytes], host: str | None, now: dt.datetime, trust: TrustStore, **kw: Any
    ) -> Verification:
        certs = [x509.load_der_x509_certificate(d) for d in chain]
        checks: list[Check] = []

        def fail(name: str, alert: int, reason: str) -> Verification:
            checks.append(Check(name, False, reason))
            return Verification(False, checks, alert, reason)

        for c in certs:
            if not (c.not_valid_before_utc <= now <= c.not_valid_after_utc):
                return fail("validity", 45, f"{c.subject.rfc4514_string()} expired")
        checks.append(Check("validity", True, "all in date"))
        cur = certs[0]
        pool = certs[1:]
        for _ in range(5):
            anchor = next((t for t in trust.certs if t.subject == cur.issuer), None)
            if anchor is not None:
                try:
                    cur.verify_directly_issued_by(anchor)
                except (InvalidSignature, ValueError, TypeError):
                    return fail("signature", 42, "bad signature")
                checks.append(
                    Check("chain", True, f"anchored at {anchor.subject.rfc4514_string()}")
                )
                break
            nxt = next((p for p in pool if p.subject == cur.issuer), None)
            if nxt is None:
                return fail("chain", 48, "unknown CA")
            try:
                cur.verify_directly_issued_by(nxt)
            except (InvalidSignature, ValueError, TypeError):
                return fail("signature", 42, "bad signature")
            cur = nxt
        if host is not None:
            san = certs[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            if host not in san.get_values_for_type(x509.DNSName):
                return fail("hostname", 42, f"certificate is not for {host}")
            checks.append(Check("hostname", True, host))
        return Verification(True, checks, None, None)

    m.TrustStore = TrustStore  # type: ignore[attr-defined]
    m.Check = Check  # type: ignore[attr-defined]
    m.Verification = Verification  # type: ignore[attr-defined]
    m.verify_server_chain = verify_server_chain  # type: ignore[attr-defined]
    return m


for _name, _make in (("signing", _fake_signing), ("verify", _fake_verify)):
    if importlib.util.find_spec(f"minternet.tls.{_name}") is None:
        sys.modules[f"minternet.tls.{_name}"] = _make()


def make_trust(certs: list[x509.Certificate]) -> Any:
    """A trust store of the real verify module when present, else of the double."""
    mod = sys.modules.get("minternet.tls.verify") or importlib.import_module("minternet.tls.verify")
    return mod.TrustStore(certs)


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


# -- running the command line (through cli_launcher.py, which installs the doubles) ---------
LAUNCHER = Path(__file__).resolve().parent / "cli_launcher.py"
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["NO_COLOR"] = "1"
    return env


def minternet(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LAUNCHER), *args],
        capture_output=True, text=True, env=_env(), timeout=60, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
