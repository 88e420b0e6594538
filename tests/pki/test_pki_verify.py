"""verify_server_chain: every step, every negative case, odd chains and bad input."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from minternet.drivers.pem import load_trust_store, write_credentials
from minternet.errors import ConfigError
from minternet.tls.pki import SIM_EPOCH, Credentials, Pki
from minternet.tls.verify import (
    BAD_CERTIFICATE,
    CERTIFICATE_EXPIRED,
    UNKNOWN_CA,
    UNSUPPORTED_CERTIFICATE,
    TrustStore,
    Verification,
    verify_server_chain,
)

HOST = "www.example.com"


def check(creds: Credentials | list[bytes], pki: Pki, host: str | None = HOST) -> Verification:
    der = creds if isinstance(creds, list) else creds.chain_der()
    return verify_server_chain(der, host, SIM_EPOCH, pki.trust_store())


def der(c: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return c.public_bytes(Encoding.DER)


@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
def test_good_chain_passes_every_step(pki: Pki, key_type: str) -> None:
    creds = pki.issue_server([HOST, "example.com"], key_type=key_type)  # type: ignore[arg-type]
    v = check(creds, pki)
    assert v.ok and v.alert is None and v.reason is None and v.failed is None
    names = [c.name for c in v.checks]
    for step in ("parse", "chain", "signature", "validity", "basicConstraints", "keyUsage",
                 "extendedKeyUsage", "hostname"):  # fmt: skip
        assert step in names
    assert [c.subject for c in v.path] == [
        creds.certificate.subject,
        pki.intermediate.certificate.subject,
        pki.root.certificate.subject,
    ]
    assert names.count("signature") == 2 and names.count("validity") == 3


def test_ecdsa_ca_chain(ec_pki: Pki) -> None:
    creds = ec_pki.issue_server([HOST], key_type="ecdsa")
    v = check(creds, ec_pki)
    assert v.ok, v.reason
    assert any("ECDSA with SHA-256" in c.detail for c in v.checks if c.name == "signature")


@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
def test_negative_matrix(pki: Pki, key_type: str) -> None:
    cases = pki.negative_matrix(HOST, key_type=key_type)  # type: ignore[arg-type]
    assert [c.name for c in cases] == [
        "expired", "not-yet-valid", "wrong-host", "unknown-ca", "bad-signature",
        "non-ca-intermediate", "self-signed",
    ]  # fmt: skip
    for case in cases:
        v = check(case.credentials, pki, case.host)
        assert not v.ok, case.name
        assert v.alert == case.alert, (case.name, v.alert, v.reason)
        assert v.failed is not None and v.failed.name == case.check, (case.name, v.checks)
        assert v.reason and "\n" not in v.reason and len(v.reason) < 240, v.reason
        # Only the intended fault: every other check passed.
        failed = {c.name for c in v.checks if not c.ok}
        expected = {case.check} | ({"keyUsage"} if case.name == "non-ca-intermediate" else set())
        assert failed == expected, (case.name, v.checks)


def test_negative_reasons_read_well(pki: Pki) -> None:
    reasons = {c.name: check(c.credentials, pki, c.host).reason for c in pki.negative_matrix(HOST)}
    assert "expired on" in str(reasons["expired"])
    assert "not valid before" in str(reasons["not-yet-valid"])
    assert "not for 'www.example.com'" in str(reasons["wrong-host"])
    assert "CN=Unknown Root CA" in str(reasons["unknown-ca"])
    assert "does not verify" in str(reasons["bad-signature"])
    assert "not a CA" in str(reasons["non-ca-intermediate"])
    assert "self-signed" in str(reasons["self-signed"])


def test_alert_codes() -> None:
    assert (BAD_CERTIFICATE, UNSUPPORTED_CERTIFICATE, CERTIFICATE_EXPIRED, UNKNOWN_CA) == (
        42, 43, 45, 48,
    )  # fmt: skip


def test_validity_edges(pki: Pki) -> None:
    creds = pki.issue_server([HOST])
    nb, na = creds.certificate.not_valid_before_utc, creds.certificate.not_valid_after_utc
    trust = pki.trust_store()
    assert verify_server_chain(creds.chain_der(), HOST, nb, trust).ok
    assert verify_server_chain(creds.chain_der(), HOST, na, trust).ok
    late = verify_server_chain(creds.chain_der(), HOST, na + timedelta(seconds=1), trust)
    assert late.alert == CERTIFICATE_EXPIRED
    early = verify_server_chain(creds.chain_der(), HOST, nb - timedelta(seconds=1), trust)
    assert early.alert == CERTIFICATE_EXPIRED
    # A naive datetime is taken as UTC.
    assert verify_server_chain(creds.chain_der(), HOST, SIM_EPOCH.replace(tzinfo=None), trust).ok
    # An expired intermediate fails too.
    after_inter = pki.intermediate.certificate.not_valid_after_utc + timedelta(days=1)
    v = verify_server_chain(creds.chain_der(), None, after_inter, trust)
    assert any(not c.ok and "Intermediate" in c.detail for c in v.checks if c.name == "validity")


def test_chain_out_of_order_with_extras_and_root(pki: Pki, ec_pki: Pki) -> None:
    creds = pki.issue_server([HOST])
    leaf, inter = creds.chain_der()
    unrelated = ec_pki.intermediate.chain_der()[0]
    root = der(pki.root.certificate)
    for chain in ([leaf, unrelated, root, inter], [leaf, root, inter], [leaf, inter, inter]):
        v = check(chain, pki)
        assert v.ok, (v.reason, v.checks)
        assert len(v.path) == 3
    # Missing intermediate: unknown_ca, like a browser without AIA fetching.
    v = check([leaf], pki)
    assert v.alert == UNKNOWN_CA and "Intermediate CA is unknown" in str(v.reason)
    # Trust anchor is the intermediate itself: a path of two.
    v = verify_server_chain([leaf], HOST, SIM_EPOCH, TrustStore([pki.intermediate.certificate]))
    assert v.ok and len(v.path) == 2
    # A leaf that is itself trusted.
    selfsigned = pki.issue_self_signed([HOST])
    v = verify_server_chain(
        selfsigned.chain_der(), HOST, SIM_EPOCH, TrustStore([selfsigned.certificate])
    )
    assert v.ok


def _builder(
    subject: str, issuer: x509.Certificate, public_key: object, serial: int = 42
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer.subject)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(serial)
        .not_valid_before(SIM_EPOCH - timedelta(days=1))
        .not_valid_after(SIM_EPOCH + timedelta(days=30))
    )


def _leaf_for(pki: Pki, issuer: x509.Certificate, issuer_key: object, **kw: object) -> bytes:
    b = _builder(HOST, issuer, pki.issue_server([HOST]).key.public_key()).add_extension(
        x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False
    )
    for ext, crit in kw.get("extensions", []):  # type: ignore[attr-defined]
        b = b.add_extension(ext, critical=crit)
    return der(b.sign(issuer_key, hashes.SHA256(), rsa_padding=kw.get("rsa_padding")))  # type: ignore[arg-type]


def test_path_length_constraint(pki: Pki) -> None:
    # The intermediate has pathLen 0: a CA below it breaks the constraint.
    sub_key = pki.issue_server(["sub-ca"]).key
    sub = (
        _builder("Sub CA", pki.intermediate.certificate, sub_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(pki.intermediate.key, hashes.SHA256())
    )
    leaf = _leaf_for(pki, sub, sub_key)
    v = check([leaf, der(sub), pki.intermediate.chain_der()[0]], pki)
    assert v.alert == BAD_CERTIFICATE and v.failed is not None
    assert v.failed.name == "basicConstraints" and "pathLen" not in v.failed.detail
    assert "allows 0 CA(s) below it, the path has 1" in v.failed.detail


def test_extended_key_usage_client_only(pki: Pki) -> None:
    eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    leaf = _leaf_for(pki, pki.intermediate.certificate, pki.intermediate.key,
                     extensions=[(eku, False)])  # fmt: skip
    v = check([leaf, pki.intermediate.chain_der()[0]], pki)
    assert v.alert == UNSUPPORTED_CERTIFICATE and v.failed is not None
    assert v.failed.name == "extendedKeyUsage" and "clientAuth" in v.failed.detail
    any_eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE])
    leaf = _leaf_for(pki, pki.intermediate.certificate, pki.intermediate.key,
                     extensions=[(any_eku, False)])  # fmt: skip
    assert check([leaf, pki.intermediate.chain_der()[0]], pki).ok


def test_unknown_critical_extension(pki: Pki) -> None:
    ext = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")
    leaf = _leaf_for(pki, pki.intermediate.certificate, pki.intermediate.key,
                     extensions=[(ext, True)])  # fmt: skip
    v = check([leaf, pki.intermediate.chain_der()[0]], pki)
    assert v.alert == UNSUPPORTED_CERTIFICATE and v.failed is not None
    assert v.failed.name == "criticalExtensions" and "1.3.6.1.4.1.55555.1" in v.failed.detail
    leaf = _leaf_for(pki, pki.intermediate.certificate, pki.intermediate.key,
                     extensions=[(ext, False)])  # fmt: skip
    assert check([leaf, pki.intermediate.chain_der()[0]], pki).ok


def test_key_usage(pki: Pki) -> None:
    def ku(**bits: bool) -> x509.KeyUsage:
        names = ["digital_signature", "content_commitment", "key_encipherment",
                 "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                 "encipher_only", "decipher_only"]  # fmt: skip
        return x509.KeyUsage(**{n: bits.get(n, False) for n in names})

    inter = pki.intermediate.chain_der()[0]
    sign_only = _leaf_for(pki, pki.intermediate.certificate, pki.intermediate.key,
                          extensions=[(ku(digital_signature=True), True)])  # fmt: skip
    trust = pki.trust_store()
    assert verify_server_chain([sign_only, inter], HOST, SIM_EPOCH, trust).ok
    assert verify_server_chain(
        [sign_only, inter], HOST, SIM_EPOCH, trust, required_key_usage="digital_signature"
    ).ok
    v = verify_server_chain(
        [sign_only, inter], HOST, SIM_EPOCH, trust, required_key_usage="key_encipherment"
    )
    assert v.alert == UNSUPPORTED_CERTIFICATE and v.failed is not None
    assert v.failed.name == "keyUsage"
    crl_only = _leaf_for(pki, pki.intermediate.certificate, pki.intermediate.key,
                         extensions=[(ku(crl_sign=True), True)])  # fmt: skip
    assert check([crl_only, inter], pki).alert == UNSUPPORTED_CERTIFICATE
    # A CA whose keyUsage lacks keyCertSign may not issue.
    ca_key = pki.issue_server(["weak-ca"]).key
    ca = (
        _builder("No certSign CA", pki.root.certificate, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ku(digital_signature=True), critical=True)
        .sign(pki.root.key, hashes.SHA256())
    )
    v = check([_leaf_for(pki, ca, ca_key), der(ca)], pki)
    assert v.alert == BAD_CERTIFICATE and v.failed is not None and v.failed.name == "keyUsage"


def test_pss_signed_certificate(pki: Pki) -> None:
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
    leaf = _leaf_for(pki, pki.intermediate.certificate, pki.intermediate.key, rsa_padding=pss)
    v = check([leaf, pki.intermediate.chain_der()[0]], pki)
    assert v.ok, v.reason
    assert "RSA-PSS with SHA-256" in v.checks[2].detail


def test_sha1_signature_refused(tmp_path: Path, pki: Pki) -> None:
    # cryptography will not make a SHA-1 signature any more; OpenSSL still does.
    leaf = pki.issue_server([HOST])
    write_credentials(pki.intermediate, tmp_path / "ca.pem", tmp_path / "ca.key")
    (tmp_path / "leaf.key").write_bytes(leaf.key_pem())
    csr = subprocess.run(
        ["openssl", "req", "-new", "-key", str(tmp_path / "leaf.key"), "-subj", f"/CN={HOST}"],
        capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    out = subprocess.run(
        ["openssl", "x509", "-req", "-sha1", "-CA", str(tmp_path / "ca.pem"), "-CAkey",
         str(tmp_path / "ca.key"), "-set_serial", "5", "-days", "30", "-outform", "DER"],
        input=csr, capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    v = check([out, pki.intermediate.chain_der()[0]], pki)
    assert v.alert == BAD_CERTIFICATE and v.failed is not None and v.failed.name == "signature"
    assert "RSA PKCS#1 v1.5 with SHA-1 is too weak" in str(v.reason)


@pytest.mark.parametrize(
    "chain",
    [
        [],
        [b""],
        [b"\x30\x03\x02\x01\x00"],
        [b"not a certificate at all"],
    ],
)
def test_garbage_gives_bad_certificate_never_an_exception(pki: Pki, chain: list[bytes]) -> None:
    v = check(chain, pki)
    assert not v.ok and v.alert == BAD_CERTIFICATE and v.reason


def test_fuzzed_leaf_bytes_never_raise(pki: Pki) -> None:
    leaf, inter = pki.issue_server([HOST]).chain_der()
    for i in range(0, len(leaf), 7):
        mutated = bytearray(leaf)
        mutated[i] ^= 0xA5
        v = check([bytes(mutated), inter], pki)
        assert not v.ok or bytes(mutated) == leaf
        assert v.alert in (BAD_CERTIFICATE, UNSUPPORTED_CERTIFICATE, CERTIFICATE_EXPIRED,
                           UNKNOWN_CA)  # fmt: skip
    for cut in (0, 1, 10, len(leaf) // 2, len(leaf) - 1):
        assert check([leaf[:cut], inter], pki).alert == BAD_CERTIFICATE
    # A broken extra certificate is reported but the path still verifies without it.
    v = check([leaf, inter[:-5]], pki)
    assert not v.ok and v.checks[0].name == "parse" and not v.checks[0].ok


def test_trust_store_from_pem_files(tmp_path: Path, pki: Pki, ec_pki: Pki) -> None:
    a = tmp_path / "a.pem"
    a.write_bytes(pki.root.cert_pem())
    b = tmp_path / "b.pem"
    b.write_bytes(ec_pki.root.cert_pem() + pki.root.cert_pem())
    store = load_trust_store(a, b)
    assert len(store) == 2
    assert pki.root.certificate in store and ec_pki.root.certificate in store
    assert pki.intermediate.certificate not in store
    assert "not a cert" not in store
    creds = ec_pki.issue_server([HOST], key_type="ecdsa")
    assert verify_server_chain(creds.chain_der(), HOST, SIM_EPOCH, store).ok
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"hello")
    with pytest.raises(ConfigError):
        load_trust_store(bad)
    with pytest.raises(ConfigError):
        load_trust_store(tmp_path / "missing.pem")
    with pytest.raises(ConfigError):
        TrustStore().add(b"\x00")


def test_overlong_certificate_lists_are_refused(pki: Pki) -> None:
    leaf, inter = pki.issue_server([HOST]).chain_der()
    assert check([leaf] + [inter] * 31, pki).ok
    v = check([leaf] + [inter] * 32, pki)
    assert v.alert == BAD_CERTIFICATE and "more than the 32 accepted" in str(v.reason)
