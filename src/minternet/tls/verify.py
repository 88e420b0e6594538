"""The TLS client's checks of the server's certificate chain, one step at a time.

:func:`verify_server_chain` takes the DER certificates of a TLS Certificate message (leaf
first, RFC 5246 §7.4.2) and returns a :class:`Verification`: every step as a :class:`Check`
(so the trace and the CLI can show each one), the TLS alert to send if it failed and a
one-line reason for a person. The steps, in order:

1. ``parse`` — every certificate is DER that decodes, extensions included.
2. ``chain`` — a path from the leaf to a certificate of the :class:`TrustStore` (RFC 5280
   §6, RFC 4158 in small): issuers are looked for by name (and key identifier, when both
   carry one) among the trust anchors first, then among the other certificates sent, in any
   order; extra certificates are ignored; among equally named issuers one whose signature
   verifies wins.
3. ``signature`` — each certificate's signature under its issuer's key (RSA PKCS#1 v1.5,
   RSA-PSS, ECDSA, Ed25519; SHA-1 and MD5 refused). The anchor itself is trusted as is.
4. ``validity`` — notBefore <= now <= notAfter for every certificate on the path.
5. ``basicConstraints`` — every issuer is a CA and its pathLenConstraint holds (§4.2.1.9).
6. ``keyUsage`` — issuers may sign certificates (keyCertSign); the leaf may be used by a
   TLS server (§4.2.1.3).
7. ``extendedKeyUsage`` — when present, it allows serverAuth (§4.2.1.12).
8. ``criticalExtensions`` — no critical extension we do not process (§4.2).
9. ``hostname`` — the host against subjectAltName (RFC 6125 §6, RFC 9525).

Alerts (RFC 5246 §7.2.2) follow NSS (Firefox), which OpenSSL mostly agrees with:
certificate_expired for expired *and* not-yet-valid certificates (NSS reports both as
SEC_ERROR_EXPIRED_CERTIFICATE; OpenSSL sends bad_certificate for the latter); unknown_ca when
no path reaches a trust anchor (both); bad_certificate for a bad signature (NSS; OpenSSL
says decrypt_error), a wrong host name (both) and CA constraint violations (NSS; OpenSSL
says unknown_ca for a non-CA issuer); unsupported_certificate for a certificate not meant
for TLS servers or with an unhandled critical extension (OpenSSL's INVALID_PURPOSE and
UNHANDLED_CRITICAL_EXTENSION).
"""

from __future__ import annotations

import ipaddress
import itertools
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from ..errors import ConfigError

__all__ = [
    "BAD_CERTIFICATE",
    "CERTIFICATE_EXPIRED",
    "UNKNOWN_CA",
    "UNSUPPORTED_CERTIFICATE",
    "Check",
    "TrustStore",
    "Verification",
    "describe_certificate",
    "describe_name",
    "describe_time",
    "host_matches",
    "match_hostname",
    "verify_server_chain",
]

# AlertDescription codes (RFC 5246 §7.2).
BAD_CERTIFICATE = 42
UNSUPPORTED_CERTIFICATE = 43
CERTIFICATE_EXPIRED = 45
UNKNOWN_CA = 48

MAX_PATH_LENGTH = 8  # certificates on a path, leaf and anchor included
# A Certificate message may hold 16 MiB of certificates; real chains hold 2-5. Refusing long
# lists bounds the work a server can make a client do (parsing, signature checks).
MAX_CHAIN_CERTIFICATES = 32
MAX_ISSUER_CANDIDATES = 8  # same-named issuers whose signature is tried at each step

_HANDLED_CRITICAL = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    }
)


@dataclass(frozen=True)
class Check:
    """One step of the verification: its name, whether it passed and what was seen;
    ``cert`` is the position on the path (0: the leaf) of the certificate the step is
    about, None for steps about the whole chain."""

    name: str
    ok: bool
    detail: str
    cert: int | None = None


@dataclass(frozen=True)
class Verification:
    """The result: ``ok``, every :class:`Check`, and on failure the alert and a reason."""

    ok: bool
    checks: list[Check]
    alert: int | None
    reason: str | None
    path: list[x509.Certificate] = field(default_factory=list)

    @property
    def failed(self) -> Check | None:
        """The first check that failed (the one ``alert`` and ``reason`` speak of)."""
        return next((c for c in self.checks if not c.ok), None)


class TrustStore:
    """The certificates a client trusts as anchors (its "CA bundle")."""

    def __init__(self, certs: Iterable[x509.Certificate] = ()) -> None:
        self._certs: list[x509.Certificate] = []
        self._der: set[bytes] = set()
        for c in certs:
            self.add(c)

    def add(self, cert: x509.Certificate | bytes) -> None:
        """Trust ``cert`` (a certificate object or its DER)."""
        if isinstance(cert, bytes):
            try:
                cert = x509.load_der_x509_certificate(cert)
            except ValueError as exc:
                raise ConfigError(f"trust anchor does not parse: {exc}") from None
        der = _der(cert)
        if der not in self._der:
            self._der.add(der)
            self._certs.append(cert)

    def add_pem(self, data: bytes, source: str = "PEM data") -> int:
        """Trust every certificate in ``data``; returns how many were found.

        Distribution CA bundles still hold a few roots with a non-positive serial number
        (RFC 5280 §4.1.2.2 forbids it); as OpenSSL does, they are accepted as trust anchors,
        without cryptography's deprecation warning for each.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                certs = x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise ConfigError(f"{source}: no readable PEM certificate ({exc})") from None
        for c in certs:
            self.add(c)
        return len(certs)

    @classmethod
    def from_pem(cls, data: bytes) -> TrustStore:
        store = cls()
        store.add_pem(data)
        return store

    def __contains__(self, cert: object) -> bool:
        return isinstance(cert, x509.Certificate) and _der(cert) in self._der

    def has_der(self, der: bytes) -> bool:
        """Is the certificate with this DER encoding a trust anchor?"""
        return der in self._der

    def __len__(self) -> int:
        return len(self._certs)

    def __iter__(self) -> Iterator[x509.Certificate]:
        return iter(self._certs)

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """Anchors whose subject (and key identifier) could have issued ``cert``."""
        return [a for a in self._certs if _could_issue(a, cert)]


# --- helpers -----------------------------------------------------------------------------


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def describe_name(name: x509.Name) -> str:
    """A short form of a distinguished name: its CN if any, else the RFC 4514 string."""
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if cns:
        value = cns[0].value
        return f"CN={value if isinstance(value, str) else value.decode(errors='replace')}"
    return name.rfc4514_string() or "(empty name)"


def _ext(
    cert: x509.Certificate, oid: x509.ObjectIdentifier
) -> x509.Extension[x509.ExtensionType] | None:
    try:
        return cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None


def _ski(cert: x509.Certificate) -> bytes | None:
    ext = _ext(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    if ext is None or not isinstance(ext.value, x509.SubjectKeyIdentifier):
        return None
    return ext.value.digest


def _aki(cert: x509.Certificate) -> bytes | None:
    ext = _ext(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    if ext is None or not isinstance(ext.value, x509.AuthorityKeyIdentifier):
        return None
    return ext.value.key_identifier


def _could_issue(issuer: x509.Certificate, cert: x509.Certificate) -> bool:
    if issuer.subject != cert.issuer:
        return False
    aki, ski = _aki(cert), _ski(issuer)
    return aki is None or ski is None or aki == ski


def _self_issued(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


_WEAK_HASHES = (hashes.SHA1, hashes.MD5)


def _check_signature(cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bool, str]:
    """Verify ``cert``'s signature under ``issuer``'s key; (ok, what was checked)."""
    who = f"{describe_name(cert.subject)} by {describe_name(issuer.subject)}"
    try:
        params = cert.signature_algorithm_parameters
        algo = cert.signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError) as exc:
        return False, f"{who}: unsupported signature algorithm ({exc})"
    if isinstance(params, padding.PSS):
        kind = "RSA-PSS"
    elif isinstance(params, padding.PKCS1v15):
        kind = "RSA PKCS#1 v1.5"
    elif isinstance(params, ec.ECDSA):
        kind = "ECDSA"
    else:
        kind = cert.signature_algorithm_oid._name
    if algo is not None:
        kind += f" with {algo.name.upper().replace('SHA', 'SHA-')}"
    if isinstance(algo, _WEAK_HASHES):
        return False, f"{who}: {kind} is too weak to be accepted"
    try:
        cert.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return False, f"{who}: {kind} signature does not verify"
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return False, f"{who}: {kind} signature cannot be checked ({exc})"
    return True, f"{who}: {kind} signature verified"


class _Signatures:
    """Each (certificate, issuer) signature checked at most once per verification.

    Path building tries candidate issuers by their signature; the ``signature`` step then
    reports the result already found for the pairs on the path instead of verifying again.
    Keys are object identities, valid while the verification holds every certificate.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[int, int], tuple[bool, str]] = {}

    def check(self, cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bool, str]:
        key = (id(cert), id(issuer))
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = _check_signature(cert, issuer)
        return found


def _pick(
    candidates: list[x509.Certificate], child: x509.Certificate, sigs: _Signatures
) -> x509.Certificate | None:
    if not candidates:
        return None
    for c in candidates[:MAX_ISSUER_CANDIDATES]:
        if sigs.check(child, c)[0]:
            return c
    return candidates[0]


def _build_path(
    leaf: x509.Certificate,
    pool: list[x509.Certificate],
    trust: TrustStore,
    sigs: _Signatures,
    ders: dict[int, bytes],
) -> tuple[list[x509.Certificate], bool, str]:
    """(path leaf→…, whether it ends at a trust anchor, why it stopped if not).

    ``ders`` maps ``id(cert)`` to the DER each certificate of the chain was sent as.
    """
    path = [leaf]
    if trust.has_der(ders[id(leaf)]):
        return path, True, ""
    used = {ders[id(leaf)]}
    cur = leaf
    while len(path) < MAX_PATH_LENGTH:
        anchor = _pick(trust.issuers_of(cur), cur, sigs)
        if anchor is not None:
            path.append(anchor)
            return path, True, ""
        if _self_issued(cur):
            if cur is leaf:
                return path, False, f"{describe_name(cur.subject)} is self-signed and not trusted"
            return path, False, f"root {describe_name(cur.subject)} is not in the trust store"
        nxt = _pick(
            [c for c in pool if ders[id(c)] not in used and _could_issue(c, cur)], cur, sigs
        )
        if nxt is None:
            return path, False, f"issuer {describe_name(cur.issuer)} is unknown (not trusted)"
        used.add(ders[id(nxt)])
        path.append(nxt)
        cur = nxt
    return path, False, f"no trusted root within {MAX_PATH_LENGTH} certificates"


def describe_certificate(cert: x509.Certificate) -> dict[str, str | list[str]]:
    """What a reader checks of one certificate (RFC 5280 §4.1): subject and issuer, the
    validity period, the serial number, the signature algorithm, subjectAltName DNS names."""
    ext = _ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    san = (
        ext.value.get_values_for_type(x509.DNSName)
        if ext is not None and isinstance(ext.value, x509.SubjectAlternativeName)
        else []
    )
    try:
        algo = cert.signature_algorithm_oid._name
    except (UnsupportedAlgorithm, ValueError):  # pragma: no cover - parsed before
        algo = "unknown"
    return {
        "subject": describe_name(cert.subject),
        "issuer": describe_name(cert.issuer),
        "not_before": _fmt_time(cert.not_valid_before_utc),
        "not_after": _fmt_time(cert.not_valid_after_utc),
        "serial": f"{cert.serial_number:x}",
        "signature_algorithm": algo,
        "san": list(san),
    }


def _fmt_time(t: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS UTC`` (what ``strftime`` gives, without its cost)."""
    return f"{t.year}-{t.month:02}-{t.day:02} {t.hour:02}:{t.minute:02}:{t.second:02} UTC"


def describe_time(t: datetime) -> str:
    """``t`` as the checks write times (``YYYY-MM-DD HH:MM:SS UTC``); naive means UTC."""
    return _fmt_time(t if t.tzinfo is None else t.astimezone(UTC))


# --- RFC 6125 host names -----------------------------------------------------------------


_LDH = "abcdefghijklmnopqrstuvwxyz0123456789-_"


def _normalize_host(host: str) -> str | None:
    """Lower-case A-label form without a trailing dot, or None if it is no DNS name."""
    host = host.removesuffix(".")
    if not host or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in host):
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    labels = ascii_host.lower().split(".")
    if any(not label or len(label) > 63 or label.strip(_LDH) for label in labels):
        return None  # only letters, digits, hyphen (and the common underscore) per label
    return ".".join(labels)


def host_matches(pattern: str, host: str) -> bool:
    """Does the dNSName ``pattern`` of a certificate match ``host`` (RFC 6125 §6.4, RFC 9525)?

    Case-insensitive; a trailing dot is ignored. A wildcard is accepted only as the whole
    left-most label (``*.example.com``), matches exactly one non-empty label, and needs at
    least two labels after it (so ``*.com`` matches nothing). Partial wildcards
    (``w*.example.com``) and wildcards elsewhere match nothing.
    """
    h = _normalize_host(host)
    p = pattern.lower().removesuffix(".")
    if h is None or not p or not p.isascii():
        return False
    if "*" not in p:
        return p == h
    first, _, rest = p.partition(".")
    if first != "*" or "*" in rest or rest.count(".") < 1 or not all(rest.split(".")):
        return False
    h_first, _, h_rest = h.partition(".")
    return bool(h_first) and h_rest == rest


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" not in text and not text.replace(".", "").isdigit():
        return None  # neither IPv6 nor dotted decimal: spare ip_address its two exceptions
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def match_hostname(cert: x509.Certificate, host: str) -> tuple[bool, str]:
    """Match ``host`` against the certificate's identities; (ok, what was compared).

    An IP address is compared with iPAddress SANs only. A DNS name is compared with dNSName
    SANs; the subject CN is looked at only when the certificate has no subjectAltName at all
    (RFC 6125 §6.4.4).
    """
    ext = _ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    san = (
        ext.value
        if ext is not None and isinstance(ext.value, x509.SubjectAlternativeName)
        else None
    )
    ip = _ip(host)
    if ip is not None:
        ips = san.get_values_for_type(x509.IPAddress) if san is not None else []
        if any(ip == other for other in ips):
            return True, f"{ip} matches subjectAltName IP address"
        shown = ", ".join(str(i) for i in ips) or "no IP addresses"
        return False, f"certificate is for {shown}, not for {ip}"
    if san is not None:
        names = san.get_values_for_type(x509.DNSName)
        for n in names:
            if host_matches(n, host):
                return True, f"{host!r} matches subjectAltName DNS:{n}"
        shown = ", ".join(names) or "no DNS names"
        return False, f"certificate is for {shown}, not for {host!r}"
    cns = [
        v if isinstance(v, str) else v.decode(errors="replace")
        for v in (a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    ]
    for cn in cns:
        if host_matches(cn, host):
            return True, f"{host!r} matches subject CN={cn} (no subjectAltName)"
    shown = ", ".join(cns) or "no names"
    return False, f"certificate (no subjectAltName) is for {shown}, not for {host!r}"


# --- the verification --------------------------------------------------------------------


_REASON_LABEL = {
    "parse": "malformed certificate",
    "chain": "untrusted certificate",
    "signature": "bad certificate signature",
    "validity": "certificate outside its validity period",
    "basicConstraints": "invalid CA certificate",
    "keyUsage": "key usage not allowed",
    "extendedKeyUsage": "certificate not for TLS servers",
    "criticalExtensions": "unsupported certificate",
    "hostname": "wrong host name",
}

_LEAF_USAGES = ("digital_signature", "key_encipherment", "key_agreement")


def _key_usage_check(
    cert: x509.Certificate, is_leaf: bool, required: str | None
) -> tuple[bool, str] | None:
    ext = _ext(cert, ExtensionOID.KEY_USAGE)
    who = describe_name(cert.subject)
    if ext is None or not isinstance(ext.value, x509.KeyUsage):
        return None
    ku = ext.value
    if not is_leaf:
        if ku.key_cert_sign:
            return True, f"{who} may sign certificates (keyCertSign)"
        return False, f"{who} is not allowed to sign certificates (no keyCertSign)"
    present = [u for u in _LEAF_USAGES if getattr(ku, u)]
    if required is not None:
        if required in present:
            return True, f"{who} allows {required}"
        return False, f"{who} does not allow {required} (has {', '.join(present) or 'none'})"
    if present:
        return True, f"{who} allows {', '.join(present)}"
    return False, f"{who} allows none of {', '.join(_LEAF_USAGES)}"


def verify_server_chain(
    chain: list[bytes],
    host: str | None,
    now: datetime,
    trust: TrustStore,
    *,
    required_key_usage: str | None = None,
) -> Verification:
    """Verify a TLS server's certificate chain (DER, leaf first) for ``host`` at ``now``.

    ``required_key_usage`` may name the keyUsage bit the key exchange needs of the leaf
    (``"digital_signature"`` for ECDHE, ``"key_encipherment"`` for RSA key transport,
    RFC 5246 §7.4.2); by default any TLS-server usage is accepted.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    checks: list[Check] = []
    failures: list[tuple[int, str]] = []  # (alert, reason) in order of the checks

    def record(name: str, ok: bool, detail: str, alert: int, cert: int | None = None) -> None:
        checks.append(Check(name, ok, detail, cert))
        if not ok:
            failures.append((alert, detail))

    def result(path: list[x509.Certificate]) -> Verification:
        if failures:
            alert, detail = failures[0]
            name = next(c.name for c in checks if not c.ok)
            reason = f"{_REASON_LABEL[name]}: {detail}"
            return Verification(False, checks, alert, reason, path)
        return Verification(True, checks, None, None, path)

    # 1. parse — RFC 5246 §7.2.2: bad_certificate, "a certificate was corrupt".
    if not chain:
        record("parse", False, "the server sent no certificate", BAD_CERTIFICATE)
        return result([])
    if len(chain) > MAX_CHAIN_CERTIFICATES:
        detail = f"{len(chain)} certificates sent, more than the {MAX_CHAIN_CERTIFICATES} accepted"
        record("parse", False, detail, BAD_CERTIFICATE)
        return result([])
    certs: list[x509.Certificate] = []
    ders: dict[int, bytes] = {}  # id(cert) -> the DER it was parsed from
    for i, der in enumerate(chain):
        try:
            cert = x509.load_der_x509_certificate(der)
            # Parts decode lazily: force them here so no later step meets a parse error.
            _ = (cert.version, cert.subject, cert.issuer, cert.serial_number)
            _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.public_key())
            _ = list(cert.extensions)
        except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
            record("parse", False, f"certificate #{i} does not parse: {exc}", BAD_CERTIFICATE)
            if i == 0:
                return result([])
            continue
        certs.append(cert)
        ders[id(cert)] = bytes(der)
    leaf = certs[0]
    record("parse", True, f"{len(certs)} certificate(s), leaf {describe_name(leaf.subject)}", 0)

    # 2. chain
    sigs = _Signatures()
    path, anchored, why = _build_path(leaf, certs[1:], trust, sigs, ders)
    shown = " → ".join(describe_name(c.subject) for c in path)
    if anchored:
        record("chain", True, f"{shown} (trusted)", 0)
    else:
        record("chain", False, f"{why}; path {shown}", UNKNOWN_CA)

    # 3. signatures (the anchor is trusted as is, RFC 5280 §6.1); path building has already
    # checked those of the path, each result is reported here
    for i, (child, issuer) in enumerate(itertools.pairwise(path)):
        ok, detail = sigs.check(child, issuer)
        record("signature", ok, detail, BAD_CERTIFICATE, i)

    # 4. validity
    for i, cert in enumerate(path):
        nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
        who = describe_name(cert.subject)
        if now < nb:
            record(
                "validity",
                False,
                f"{who} is not valid before {_fmt_time(nb)} (now {_fmt_time(now)})",
                CERTIFICATE_EXPIRED,
                i,
            )
        elif now > na:
            record(
                "validity",
                False,
                f"{who} expired on {_fmt_time(na)} (now {_fmt_time(now)})",
                CERTIFICATE_EXPIRED,
                i,
            )
        else:
            record(
                "validity",
                True,
                f"{who} valid {_fmt_time(nb)} to {_fmt_time(na)} (now {_fmt_time(now)})",
                0,
                i,
            )

    # 5. basicConstraints (RFC 5280 §4.2.1.9, §6.1.4 (k)-(m))
    below = 0  # non-self-issued intermediates between this issuer and the leaf
    for i, cert in enumerate(path[1:], start=1):
        who = describe_name(cert.subject)
        ext = _ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
        bc = ext.value if ext is not None and isinstance(ext.value, x509.BasicConstraints) else None
        is_anchor = anchored and i == len(path) - 1
        if bc is None:
            if is_anchor and cert.version == x509.Version.v1:
                record("basicConstraints", True, f"{who} is a v1 trust anchor", 0, i)
            else:
                record(
                    "basicConstraints",
                    False,
                    f"{who} issued a certificate but is not a CA (no basicConstraints)",
                    BAD_CERTIFICATE,
                    i,
                )
        elif not bc.ca:
            record(
                "basicConstraints",
                False,
                f"{who} issued a certificate but is not a CA (CA:FALSE)",
                BAD_CERTIFICATE,
                i,
            )
        elif bc.path_length is not None and below > bc.path_length:
            record(
                "basicConstraints",
                False,
                f"{who} allows {bc.path_length} CA(s) below it, the path has {below}",
                BAD_CERTIFICATE,
                i,
            )
        else:
            limit = "" if bc.path_length is None else f", pathLen {bc.path_length}"
            record("basicConstraints", True, f"{who} is a CA{limit}", 0, i)
        if not _self_issued(cert):
            below += 1

    # 6. keyUsage (the leaf's failure is OpenSSL's INVALID_PURPOSE: unsupported_certificate)
    for i, cert in enumerate(path):
        if i > 0 and anchored and i == len(path) - 1 and cert.version == x509.Version.v1:
            continue
        ku = _key_usage_check(cert, i == 0, required_key_usage)
        if ku is not None:
            alert = UNSUPPORTED_CERTIFICATE if i == 0 else BAD_CERTIFICATE
            record("keyUsage", ku[0], ku[1], alert, i)

    # 7. extendedKeyUsage on every certificate but the anchor
    last = len(path) - 1 if anchored else len(path)
    for i, cert in enumerate(path[:last]):
        ext = _ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
        if ext is None or not isinstance(ext.value, x509.ExtendedKeyUsage):
            continue
        who = describe_name(cert.subject)
        usages = list(ext.value)
        if ExtendedKeyUsageOID.SERVER_AUTH in usages:
            record("extendedKeyUsage", True, f"{who} allows serverAuth", 0, i)
        elif ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages:
            record("extendedKeyUsage", True, f"{who} allows anyExtendedKeyUsage", 0, i)
        else:
            names = ", ".join(u._name for u in usages)
            record(
                "extendedKeyUsage",
                False,
                f"{who} is not for TLS servers (extendedKeyUsage {names})",
                UNSUPPORTED_CERTIFICATE,
                i,
            )

    # 8. critical extensions we do not process (RFC 5280 §4.2: must reject)
    for i, cert in enumerate(path[:last]):
        unknown = [e.oid for e in cert.extensions if e.critical and e.oid not in _HANDLED_CRITICAL]
        if unknown:
            names = ", ".join(
                o._name if o._name != "Unknown OID" else o.dotted_string for o in unknown
            )
            record(
                "criticalExtensions",
                False,
                f"{describe_name(cert.subject)} has critical extension(s) not processed: {names}",
                UNSUPPORTED_CERTIFICATE,
                i,
            )

    # 9. host name
    if host is None:
        record("hostname", True, "no host name to check", 0)
    else:
        ok, detail = match_hostname(leaf, host)
        record("hostname", ok, detail, BAD_CERTIFICATE, 0)

    return result(path)
