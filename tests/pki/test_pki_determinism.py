"""Same seed, same certificates and keys, byte for byte; another seed, other bytes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from minternet.randomness import SeededRandom
from minternet.tls.pki import SIM_EPOCH, Pki, sim_datetime

SCRIPT = """
import hashlib, sys
from minternet.randomness import SeededRandom
from minternet.tls.pki import SIM_EPOCH, Pki
p = Pki.create(SeededRandom(int(sys.argv[1])), SIM_EPOCH)
h = hashlib.sha256()
for c in (p.root, p.intermediate, p.issue_server(["www.example.com"]),
          p.issue_server(["www.example.com"], key_type="ecdsa")):
    h.update(c.cert_pem() + c.key_pem())
print(h.hexdigest())
"""


def fingerprint(p: Pki) -> str:
    h = hashlib.sha256()
    for c in (p.root, p.intermediate, p.issue_server(["www.example.com"]),
              p.issue_server(["www.example.com"], key_type="ecdsa")):  # fmt: skip
        h.update(c.cert_pem() + c.key_pem())
    return h.hexdigest()


def test_same_seed_same_bytes_in_process(pki: Pki) -> None:
    # The session fixture is seed 2026 too: its RSA keys are cached, the certificates are not.
    a = pki
    b = Pki.create(SeededRandom(2026), SIM_EPOCH)
    assert a.root.cert_pem() == b.root.cert_pem()
    assert a.root.key_pem() == b.root.key_pem()
    assert a.intermediate.chain_der() == b.intermediate.chain_der()
    for key_type in ("rsa", "ecdsa"):
        x = a.issue_server(["www.example.com", "10.0.0.1"], key_type=key_type)  # type: ignore[arg-type]
        y = b.issue_server(["www.example.com", "10.0.0.1"], key_type=key_type)  # type: ignore[arg-type]
        assert x.chain_der() == y.chain_der() and x.key_pem() == y.key_pem()
    for ca, cb in zip(a.negative_matrix("www.example.com"), b.negative_matrix("www.example.com"),
                      strict=True):  # fmt: skip
        assert ca.credentials.chain_der() == cb.credentials.chain_der(), ca.name


def test_issue_order_does_not_matter() -> None:
    a = Pki.create(SeededRandom(78), SIM_EPOCH, key_type="ecdsa")
    b = Pki.create(SeededRandom(78), SIM_EPOCH, key_type="ecdsa")
    a1 = a.issue_server(["a.example"], key_type="ecdsa")
    a2 = a.issue_server(["b.example"], key_type="ecdsa")
    b2 = b.issue_server(["b.example"], key_type="ecdsa")
    b1 = b.issue_server(["a.example"], key_type="ecdsa")
    assert a1.chain_der() == b1.chain_der() and a2.chain_der() == b2.chain_der()
    # Distinct certificates from one CA never share a serial number (RFC 5280 §4.1.2.2).
    later = a.issue_server(["a.example"], key_type="ecdsa", not_after=SIM_EPOCH + timedelta(days=9))
    expired = a.issue_expired(["a.example"], key_type="ecdsa")
    serials = {c.certificate.serial_number for c in (a1, a2, later, expired)}
    assert len(serials) == 4


def test_other_seed_other_bytes(pki: Pki) -> None:
    a = pki
    b = Pki.create(SeededRandom(80), SIM_EPOCH, key_type="ecdsa")
    assert a.root.key_pem() != b.root.key_pem()
    assert a.root.cert_pem() != b.root.cert_pem()
    assert a.root.certificate.serial_number != b.root.certificate.serial_number
    assert (
        a.issue_server(["x.example"], key_type="ecdsa").key_pem()
        != b.issue_server(["x.example"], key_type="ecdsa").key_pem()
    )


def test_same_bytes_in_a_fresh_process(pki: Pki) -> None:
    """No hidden state (caches, hash randomisation, OpenSSL's RNG) reaches the bytes."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, "2026"],
        capture_output=True, text=True, timeout=120, check=True, env=env,
    )  # fmt: skip
    assert out.stdout.strip() == fingerprint(Pki.create(SeededRandom(2026), SIM_EPOCH))


def test_sim_epoch() -> None:
    assert SIM_EPOCH.tzinfo is not None and SIM_EPOCH.utcoffset() == timedelta(0)
    assert sim_datetime(0.0) == SIM_EPOCH
    assert sim_datetime(86400.5) == SIM_EPOCH + timedelta(days=1, seconds=0.5)
