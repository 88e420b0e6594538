"""Our verifier and cryptography's Rust verifier (``x509.verification``, a WebPKI profile)
agree on every chain of the matrix, for RSA and ECDSA."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509 import verification

from minternet.tls.keygen import KeyType
from minternet.tls.pki import SIM_EPOCH, Credentials, Pki
from minternet.tls.verify import verify_server_chain

HOST = "www.example.com"


def theirs(pki: Pki, creds: Credentials, host: str) -> str | None:
    """None if cryptography accepts the chain, else its error text."""
    leaf, *rest = creds.chain
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store([pki.root.certificate]))
        .time(SIM_EPOCH)
        .build_server_verifier(verification.DNSName(host))
    )
    try:
        verifier.verify(leaf, rest)
    except verification.VerificationError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("which", ["rsa", "ecdsa"])
def test_agreement_on_good_and_bad_chains(pki: Pki, ec_pki: Pki, which: str) -> None:
    the_pki = pki if which == "rsa" else ec_pki
    key_type: KeyType = "rsa" if which == "rsa" else "ecdsa"
    good = the_pki.issue_server([HOST, "example.com"], key_type=key_type)
    assert theirs(the_pki, good, HOST) is None
    assert verify_server_chain(good.chain_der(), HOST, SIM_EPOCH, the_pki.trust_store()).ok
    for case in the_pki.negative_matrix(HOST, key_type=key_type):
        error = theirs(the_pki, case.credentials, case.host)
        ours = verify_server_chain(
            case.credentials.chain_der(), case.host, SIM_EPOCH, the_pki.trust_store()
        )
        assert error is not None, case.name
        assert not ours.ok, case.name


def test_wildcards_agree(pki: Pki) -> None:
    creds = pki.issue_server(["*.example.com"])
    for host, expected in [("www.example.com", True), ("example.com", False),
                           ("a.b.example.com", False)]:  # fmt: skip
        assert (theirs(pki, creds, host) is None) is expected, host
        ours = verify_server_chain(creds.chain_der(), host, SIM_EPOCH, pki.trust_store())
        assert ours.ok is expected, host


def test_ip_names_agree(pki: Pki) -> None:
    import ipaddress

    creds = pki.issue_server(["192.0.2.10"])
    leaf, *rest = creds.chain
    for ip, expected in [("192.0.2.10", True), ("192.0.2.11", False)]:
        verifier = (
            verification.PolicyBuilder()
            .store(verification.Store([pki.root.certificate]))
            .time(SIM_EPOCH)
            .build_server_verifier(x509.IPAddress(ipaddress.ip_address(ip)))  # type: ignore[arg-type]
        )
        try:
            verifier.verify(leaf, rest)
            accepted = True
        except verification.VerificationError:
            accepted = False
        assert accepted is expected
        ours = verify_server_chain(creds.chain_der(), ip, SIM_EPOCH, pki.trust_store())
        assert ours.ok is expected
