"""RFC 6125 / RFC 9525 host name matching, table-driven."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet.randomness import SeededRandom
from minternet.tls.pki import SIM_EPOCH, Pki
from minternet.tls.verify import host_matches, match_hostname

# (pattern in the certificate, host asked for, match?)
TABLE = [
    ("www.example.com", "www.example.com", True),
    ("www.example.com", "WWW.Example.COM", True),  # case-insensitive (RFC 6125 §6.4.1)
    ("WWW.EXAMPLE.COM", "www.example.com", True),
    ("www.example.com", "www.example.com.", True),  # trailing dot is the same name
    ("www.example.com.", "www.example.com", True),
    ("www.example.com", "example.com", False),
    ("www.example.com", "www.example.com..", False),
    ("www.example.com", " www.example.com", False),
    (" www.example.com", "www.example.com", False),
    ("example.com", "www.example.com", False),
    ("www.example.com", "www.example.co", False),
    ("www.example.com", "wwwXexample.com", False),
    ("*.example.com", "www.example.com", True),  # wildcard = the whole left-most label
    ("*.example.com", "WWW.EXAMPLE.COM", True),
    ("*.example.com", "example.com", False),  # matches exactly one label...
    ("*.example.com", "a.b.example.com", False),  # ...not two
    ("*.example.com", ".example.com", False),  # ...and not an empty one
    ("*.Example.Com", "mail.example.com", True),
    ("*.com", "example.com", False),  # not over a single-label suffix
    ("*", "localhost", False),
    ("*.", "com", False),
    ("w*.example.com", "www.example.com", False),  # partial wildcards: never (RFC 9525)
    ("*w.example.com", "www.example.com", False),
    ("w*w.example.com", "www.example.com", False),
    ("www.*.com", "www.example.com", False),  # wildcard not left-most
    ("*.*.example.com", "a.b.example.com", False),
    ("www.example.*", "www.example.com", False),
    ("*.example.com", "*.example.com", False),  # "*" is no host name character
    ("*.example.com", "a_b.example.com", True),
    ("*.example.com", "a/b.example.com", False),
    ("xn--bcher-kva.example", "bücher.example", True),  # IDN host to A-label
    ("*.example.com", "xn--bcher-kva.example.com", True),
    ("", "example.com", False),
    ("example.com", "", False),
    ("example.com", "exa mple.com", False),
    ("example.com", "example.com\x00.evil.com", False),
    ("example.com", "example..com", False),
    ("ex\u00e4mple.com", "ex\u00e4mple.com", False),  # a non-ASCII dNSName is invalid
]


@pytest.mark.parametrize(("pattern", "host", "expected"), TABLE)
def test_host_matches(pattern: str, host: str, expected: bool) -> None:
    assert host_matches(pattern, host) is expected


def test_ip_addresses_match_ip_sans_only(pki: Pki) -> None:
    cert = pki.issue_server(["www.example.com", "93.184.216.34", "2001:db8::1"]).certificate
    assert match_hostname(cert, "93.184.216.34")[0]
    assert match_hostname(cert, "2001:db8::1")[0]
    assert match_hostname(cert, "[2001:db8::1]")[0]
    assert match_hostname(cert, "2001:0db8:0:0::1")[0]  # same address, other spelling
    assert not match_hostname(cert, "93.184.216.35")[0]
    # A DNS SAN that looks like an address does not match an IP (RFC 6125 §6.2.1)...
    dns_only = pki.issue_server(["www.example.com"]).certificate
    ok, detail = match_hostname(dns_only, "93.184.216.34")
    assert not ok and "no IP addresses" in detail
    # ...and an IP SAN is no DNS name.
    assert not match_hostname(cert, "34.216.184.93.in-addr.arpa")[0]


def test_cn_is_ignored_when_sans_are_present(pki: Pki) -> None:
    # The leaf's CN is the first name; a SAN list without it must not match the CN.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = pki.intermediate.key
    base = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cn-only.example.com")]))
        .issuer_name(pki.intermediate.certificate.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(SIM_EPOCH)
        .not_valid_after(SIM_EPOCH.replace(year=2027))
    )
    with_san = base.add_extension(
        x509.SubjectAlternativeName([x509.DNSName("san.example.com")]), critical=False
    ).sign(key, hashes.SHA256())
    assert not match_hostname(with_san, "cn-only.example.com")[0]
    assert match_hostname(with_san, "san.example.com")[0]
    no_san = base.sign(key, hashes.SHA256())
    ok, detail = match_hostname(no_san, "cn-only.example.com")
    assert ok and "no subjectAltName" in detail
    assert not match_hostname(no_san, "other.example.com")[0]


def test_wildcard_certificate_end_to_end() -> None:
    from minternet.tls.verify import verify_server_chain

    p = Pki.create(SeededRandom(2026), SIM_EPOCH)
    creds = p.issue_server(["*.example.com"])
    ok = verify_server_chain(creds.chain_der(), "www.example.com", SIM_EPOCH, p.trust_store())
    assert ok.ok
    bad = verify_server_chain(creds.chain_der(), "example.com", SIM_EPOCH, p.trust_store())
    assert not bad.ok and bad.alert == 42 and bad.failed is not None
    assert bad.failed.name == "hostname"


_label = st.text(alphabet="ab*-.\x00 Xé_1", max_size=12)


@given(_label, _label)
def test_host_matching_never_raises(pattern: str, host: str) -> None:
    result = host_matches(pattern, host)
    assert isinstance(result, bool)
    if result and "*" not in pattern:
        assert pattern.lower().removesuffix(".") == host.lower().removesuffix(".")
