"""The client requires the leaf's keyUsage bit the key exchange needs (RFC 5246 §7.4.2,
RFC 5280 §4.2.1.3): digitalSignature for ECDHE (the key signs the ServerKeyExchange),
keyEncipherment for RSA key transport (the key decrypts the pre-master secret). A leaf
lacking it is refused with unsupported_certificate, which the server receives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tls_pair import shuttle

from minternet.randomness import SeededRandom
from minternet.tls import (
    ClientConfig,
    Closed,
    HandshakeComplete,
    ServerConfig,
    TlsClient,
    TlsServer,
    suite_by_name,
)
from minternet.tls import pki as pki_mod
from minternet.tls.server import KeyAndChain

HOST = "www.example.com"
UNSUPPORTED_CERTIFICATE = 43


@pytest.fixture(scope="module")
def world() -> Any:
    # tests/pki's seed: its keys are minted once a run (the run's key cache, tests/conftest)
    return pki_mod.Pki.create(SeededRandom(2026), pki_mod.SIM_EPOCH)


@pytest.fixture(scope="module")
def leaf_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def _leaf(world: Any, key: rsa.RSAPrivateKey, *, sign: bool, encipher: bool) -> KeyAndChain:
    inter = world.intermediate.chain[0]
    usage = x509.KeyUsage(sign, False, encipher, False, False, False, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(inter.subject)
        .public_key(key.public_key())
        .serial_number(0x5EED)
        .not_valid_before(world.now - timedelta(days=1))
        .not_valid_after(world.now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(world.intermediate.key, hashes.SHA256())
    )
    return KeyAndChain((cert, inter), key)


def _handshake(world: Any, creds: KeyAndChain, suite: str) -> tuple[list[Any], list[Any]]:
    c = TlsClient(
        ClientConfig(
            random=SeededRandom(1),
            server_name=HOST,
            trust=world.trust_store(),
            now=world.now + timedelta(hours=1),
            suites=(suite_by_name(suite),),
        )
    )
    s = TlsServer(ServerConfig([creds], SeededRandom(2), suites=(suite_by_name(suite),)))
    c.start()
    return shuttle(c, s)


@pytest.mark.parametrize(
    ("suite", "sign", "encipher", "missing"),
    [
        ("ECDHE-RSA-AES128-GCM-SHA256", False, True, "digital_signature"),
        ("AES128-GCM-SHA256", True, False, "key_encipherment"),
        ("AES128-SHA", True, False, "key_encipherment"),
    ],
)
def test_leaf_without_the_needed_usage_is_refused(
    world: Any, leaf_key: rsa.RSAPrivateKey, suite: str, sign: bool, encipher: bool, missing: str
) -> None:
    ce, se = _handshake(world, _leaf(world, leaf_key, sign=sign, encipher=encipher), suite)
    assert not [e for e in ce if isinstance(e, HandshakeComplete)]
    closed = [e for e in ce if isinstance(e, Closed)]
    assert closed and closed[0].alert == UNSUPPORTED_CERTIFICATE and closed[0].alert_sent
    assert f"does not allow {missing}" in closed[0].reason
    assert closed[0].reason.startswith("key usage not allowed")
    # the server hears the alert
    s_closed = [e for e in se if isinstance(e, Closed)]
    assert s_closed and s_closed[0].alert == UNSUPPORTED_CERTIFICATE


@pytest.mark.parametrize(
    ("suite", "sign", "encipher"),
    [
        ("ECDHE-RSA-AES128-GCM-SHA256", True, False),
        ("AES128-GCM-SHA256", False, True),
        ("ECDHE-RSA-AES256-GCM-SHA384", True, True),
        ("AES256-GCM-SHA384", True, True),
    ],
)
def test_leaf_with_the_needed_usage_is_accepted(
    world: Any, leaf_key: rsa.RSAPrivateKey, suite: str, sign: bool, encipher: bool
) -> None:
    ce, _ = _handshake(world, _leaf(world, leaf_key, sign=sign, encipher=encipher), suite)
    done = [e for e in ce if isinstance(e, HandshakeComplete)]
    assert done, ce
    checks = [ch for ch in done[0].info.verification.checks if ch.name == "keyUsage"]
    needed = "digital_signature" if suite.startswith("ECDHE") else "key_encipherment"
    assert any(ch.ok and ch.detail.endswith(f"allows {needed}") for ch in checks), checks
