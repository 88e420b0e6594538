"""verify_server_chain checks each (certificate, issuer) signature once: path building tries
candidate issuers by their signature and the ``signature`` step reports those results —
with the same checks, alerts and reasons as verifying again would give."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from minternet.tls import verify as verify_mod
from minternet.tls.pki import SIM_EPOCH, Pki
from minternet.tls.verify import BAD_CERTIFICATE, Verification, verify_server_chain

HOST = "www.example.com"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[tuple[bytes, bytes]]]:
    """Every real signature verification, by (certificate DER, issuer DER)."""
    seen: Counter[tuple[bytes, bytes]] = Counter()
    real = verify_mod._check_signature

    def counting(cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bool, str]:
        seen[(cert.public_bytes(Encoding.DER), issuer.public_bytes(Encoding.DER))] += 1
        return real(cert, issuer)

    monkeypatch.setattr(verify_mod, "_check_signature", counting)
    yield seen


def _verify(chain: list[x509.Certificate], pki: Pki) -> Verification:
    ders = [c.public_bytes(Encoding.DER) for c in chain]
    return verify_server_chain(ders, HOST, SIM_EPOCH, pki.trust_store())


def test_good_chain_each_signature_once(pki: Pki, calls: Counter[tuple[bytes, bytes]]) -> None:
    creds = pki.issue_server([HOST])
    v = _verify(creds.chain, pki)
    assert v.ok
    sig_checks = [c for c in v.checks if c.name == "signature"]
    assert len(sig_checks) == 2 and all(c.ok for c in sig_checks)
    assert len(calls) == 2 and set(calls.values()) == {1}


def test_bad_signature_reported_once_with_its_alert(
    pki: Pki, calls: Counter[tuple[bytes, bytes]]
) -> None:
    creds = pki.issue_bad_signature([HOST])
    v = _verify(creds.chain, pki)
    assert not v.ok and v.alert == BAD_CERTIFICATE
    failed = v.failed
    assert failed is not None and failed.name == "signature"
    assert "signature does not verify" in failed.detail
    assert v.reason == f"bad certificate signature: {failed.detail}"
    assert set(calls.values()) == {1}


def _impostor(real: x509.Certificate) -> x509.Certificate:
    """A CA certificate with ``real``'s subject and key identifier but another key."""
    key = ec.generate_private_key(ec.SECP256R1())
    ski = real.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(key.public_key())
        .serial_number(12345)
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )


def test_same_named_impostor_tried_once_then_the_right_issuer(
    pki: Pki, calls: Counter[tuple[bytes, bytes]]
) -> None:
    # Same subject and key identifier as our intermediate, other key: path building must
    # try it and move on to the right issuer by signature.
    inter = pki.intermediate.certificate
    impostor = _impostor(inter)
    creds = pki.issue_server([HOST])
    v = _verify([creds.certificate, impostor, inter], pki)
    assert v.ok, v.reason
    assert v.path[1].public_bytes(Encoding.DER) == inter.public_bytes(Encoding.DER)
    assert set(calls.values()) == {1}
    leaf_der = creds.certificate.public_bytes(Encoding.DER)
    tried = {issuer for (cert, issuer) in calls if cert == leaf_der}
    assert tried == {impostor.public_bytes(Encoding.DER), inter.public_bytes(Encoding.DER)}
