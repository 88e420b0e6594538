"""A small public-key infrastructure for the simulated world, deterministic from the seed.

:meth:`Pki.create` mints a root CA and an intermediate CA; :meth:`Pki.issue_server` issues
server certificates (RSA or ECDSA keys) with the extensions real CAs put in (RFC 5280 §4.2:
basicConstraints, keyUsage, extendedKeyUsage serverAuth, subjectAltName, subject and
authority key identifiers). Keys come from :mod:`minternet.tls.keygen`, serial numbers from
the random source, certificate signatures are deterministic (RSA PKCS#1 v1.5 always is; ECDSA
CAs sign with RFC 6979 nonces), so the same seed and ``now`` give byte-identical
certificates. Each certificate draws from its own child stream named after what it is, so
issuing one more certificate does not change the others.

The negative matrix a TLS client must refuse is here too (:meth:`Pki.negative_matrix`):
expired, not yet valid, wrong host, unknown CA, bad signature, an intermediate without the
CA flag, a self-signed leaf.

:data:`SIM_EPOCH` is the calendar date of virtual time 0 in the simulator.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import ConfigError
from ..randomness import RandomSource
from .keygen import KeyType, generate_key
from .verify import (
    BAD_CERTIFICATE,
    CERTIFICATE_EXPIRED,
    UNKNOWN_CA,
    TrustStore,
)

__all__ = [
    "SIM_EPOCH",
    "Credentials",
    "NegativeCase",
    "Pki",
    "sim_datetime",
]

SIM_EPOCH = datetime(2026, 6, 1, tzinfo=UTC)
"""The date and time that virtual time 0 stands for."""

CaKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def sim_datetime(now: float) -> datetime:
    """The calendar time of virtual time ``now`` (seconds since :data:`SIM_EPOCH`)."""
    return SIM_EPOCH + timedelta(seconds=now)


@dataclass(frozen=True)
class Credentials:
    """A certificate chain (leaf first, anchor not included) and the leaf's private key."""

    chain: list[x509.Certificate]
    key: CaKey

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    def chain_der(self) -> list[bytes]:
        """The chain as a TLS Certificate message carries it (RFC 5246 §7.4.2)."""
        return [c.public_bytes(Encoding.DER) for c in self.chain]

    def cert_pem(self) -> bytes:
        """The whole chain in PEM, leaf first (what nginx's ``ssl_certificate`` wants)."""
        return b"".join(c.public_bytes(Encoding.PEM) for c in self.chain)

    def key_pem(self) -> bytes:
        """The private key, PKCS#8 PEM, unencrypted."""
        return self.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


@dataclass(frozen=True)
class NegativeCase:
    """A chain a client must refuse for ``host``: the alert and first failing check expected."""

    name: str
    credentials: Credentials
    host: str
    alert: int
    check: str


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ZZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _serial(random: RandomSource) -> int:
    # RFC 5280 §4.1.2.2: positive, at most 20 octets; CA/B Forum: >= 64 random bits.
    return int.from_bytes(random.random_bytes(16), "big") >> 1 | 1 << 120


def _sign(builder: x509.CertificateBuilder, key: CaKey) -> x509.Certificate:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algo: hashes.SHA256 | hashes.SHA384 = (
            hashes.SHA384() if key.curve.key_size > 256 else hashes.SHA256()
        )
        return builder.sign(key, algo, ecdsa_deterministic=True)
    return builder.sign(key, hashes.SHA256())


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = []
    for n in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            general.append(x509.DNSName(n))
    return x509.SubjectAlternativeName(general)


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _server_leaf(
    subject: x509.Name,
    issuer: x509.Name,
    key: CaKey,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    names: list[str],
) -> x509.CertificateBuilder:
    """A TLS server certificate's fields: not a CA, key usage for its key type, EKU
    serverAuth, the names as subjectAltName, and its SKI (the AKI is the issuer's to add)."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(key), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_san(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _leaf_usage(key: CaKey) -> x509.KeyUsage:
    # RSA server keys sign (ECDHE) and decrypt the pre-master secret (RSA key exchange).
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=isinstance(key, rsa.RSAPrivateKey),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class Pki:
    """A root CA, an intermediate CA under it, and what they issue."""

    root: Credentials
    intermediate: Credentials
    now: datetime
    random: RandomSource
    name: str = "minternet"
    _keys: dict[str, CaKey] = field(default_factory=dict, repr=False)

    @classmethod
    def create(
        cls,
        random: RandomSource,
        now: datetime,
        *,
        key_type: KeyType = "rsa",
        name: str = "minternet",
    ) -> Pki:
        """Mint a root CA (valid 10 years) and an intermediate (5 years, pathLen 0) at ``now``."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        now = now.replace(microsecond=0)
        org = f"{name} simulated PKI"
        root_key = generate_key(random.child(f"pki/{name}/root/key/{key_type}"), key_type)
        root_name = _name(f"{name} Root CA", org)
        root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
        root_cert = _sign(
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(_serial(random.child(f"pki/{name}/root/serial")))
            .not_valid_before(now - timedelta(days=30))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(root_ski, critical=False),
            root_key,
        )
        root = Credentials([root_cert], root_key)
        inter_key = generate_key(random.child(f"pki/{name}/intermediate/key/{key_type}"), key_type)
        inter_cert = _sign(
            x509.CertificateBuilder()
            .subject_name(_name(f"{name} Intermediate CA", org))
            .issuer_name(root_name)
            .public_key(inter_key.public_key())
            .serial_number(_serial(random.child(f"pki/{name}/intermediate/serial")))
            .not_valid_before(now - timedelta(days=30))
            .not_valid_after(now + timedelta(days=1825))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(inter_key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
                critical=False,
            ),
            root_key,
        )
        intermediate = Credentials([inter_cert], inter_key)
        return cls(root, intermediate, now, random, name)

    # --- issuing ---------------------------------------------------------------------------

    def trust_store(self) -> TrustStore:
        """A trust store holding this PKI's root."""
        return TrustStore([self.root.certificate])

    def _leaf_key(self, names: list[str], key_type: KeyType) -> CaKey:
        label = f"pki/{self.name}/leaf-key/{key_type}/{','.join(names)}"
        if label not in self._keys:
            self._keys[label] = generate_key(self.random.child(label), key_type)
        return self._keys[label]

    def _leaf_builder(
        self,
        names: list[str],
        key: CaKey,
        issuer: x509.Certificate,
        not_before: datetime,
        not_after: datetime,
        label: str,
    ) -> x509.CertificateBuilder:
        if not names:
            raise ConfigError("a server certificate needs at least one host name")
        org = f"{self.name} simulated PKI"
        serial_label = (
            f"pki/{self.name}/{label}/serial/{','.join(names)}/"
            f"{not_before.isoformat()}/{not_after.isoformat()}/{type(key).__name__}"
        )
        builder = _server_leaf(
            _name(names[0], org),
            issuer.subject,
            key,
            _serial(self.random.child(serial_label)),
            not_before,
            not_after,
            names,
        )
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )

    def _times(
        self, not_before: datetime | None, not_after: datetime | None
    ) -> tuple[datetime, datetime]:
        nb = not_before if not_before is not None else self.now - timedelta(days=1)
        na = not_after if not_after is not None else self.now + timedelta(days=90)
        nb = (nb if nb.tzinfo else nb.replace(tzinfo=UTC)).replace(microsecond=0)
        na = (na if na.tzinfo else na.replace(tzinfo=UTC)).replace(microsecond=0)
        if na <= nb:
            raise ConfigError("a certificate's notAfter must come after its notBefore")
        return nb, na

    def issue_server(
        self,
        names: list[str],
        *,
        key_type: KeyType = "rsa",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key: CaKey | None = None,
    ) -> Credentials:
        """A server certificate for DNS names and/or IP addresses, issued by the intermediate.

        Valid from a day before ``now`` for 90 days unless told otherwise; the first name is
        also the subject CN. The chain is [leaf, intermediate]. The key is the one this PKI
        derives for these names and key type, unless ``key`` is given (a renewal, say).
        """
        if key is None:
            key = self._leaf_key(names, key_type)
        nb, na = self._times(not_before, not_after)
        inter = self.intermediate.certificate
        cert = _sign(self._leaf_builder(names, key, inter, nb, na, "server"), self.intermediate.key)
        return Credentials([cert, inter], key)

    # --- the negative matrix ---------------------------------------------------------------

    def issue_expired(self, names: list[str], *, key_type: KeyType = "rsa") -> Credentials:
        """Valid for 90 days that ended 10 days before ``now``."""
        return self.issue_server(
            names,
            key_type=key_type,
            not_before=self.now - timedelta(days=100),
            not_after=self.now - timedelta(days=10),
        )

    def issue_not_yet_valid(self, names: list[str], *, key_type: KeyType = "rsa") -> Credentials:
        """Valid only from 10 days after ``now``."""
        return self.issue_server(
            names,
            key_type=key_type,
            not_before=self.now + timedelta(days=10),
            not_after=self.now + timedelta(days=100),
        )

    def issue_bad_signature(self, names: list[str], *, key_type: KeyType = "rsa") -> Credentials:
        """A good leaf whose signature value has one bit flipped (its last byte)."""
        good = self.issue_server(names, key_type=key_type)
        der = bytearray(good.certificate.public_bytes(Encoding.DER))
        der[-1] ^= 0x01  # the last byte of the DER is the last byte of signatureValue
        return Credentials([x509.load_der_x509_certificate(bytes(der)), *good.chain[1:]], good.key)

    def issue_via_non_ca(self, names: list[str], *, key_type: KeyType = "rsa") -> Credentials:
        """A leaf issued by an "intermediate" that is an end-entity certificate (CA:FALSE).

        The impostor is issued by the root directly, so the only fault on the path
        [leaf, impostor, root] is the missing CA flag (and with it keyCertSign).
        """
        label = "non-ca-intermediate"
        key = self._leaf_key([label], "rsa")
        nb, na = self._times(None, None)
        issuer_cert = _sign(
            self._leaf_builder(
                [f"{self.name}-not-a-ca.invalid"], key, self.root.certificate, nb, na, label
            ),
            self.root.key,
        )
        leaf_key = self._leaf_key(names, key_type)
        leaf = _sign(self._leaf_builder(names, leaf_key, issuer_cert, nb, na, "via-non-ca"), key)
        return Credentials([leaf, issuer_cert], leaf_key)

    def issue_self_signed(self, names: list[str], *, key_type: KeyType = "rsa") -> Credentials:
        """A leaf that signs itself (subject = issuer), as ``openssl req -x509`` makes."""
        key = self._leaf_key(names, key_type)
        nb, na = self._times(None, None)
        org = f"{self.name} simulated PKI"
        serial_label = f"pki/{self.name}/self-signed/serial/{','.join(names)}/{key_type}"
        subject = _name(names[0], org)
        serial = _serial(self.random.child(serial_label))
        cert = _sign(_server_leaf(subject, subject, key, serial, nb, na, names), key)
        return Credentials([cert], key)

    def unknown_ca(self) -> Pki:
        """Another PKI, same shape, that nobody trusts."""
        key_type: KeyType = (
            "ecdsa" if isinstance(self.root.key, ec.EllipticCurvePrivateKey) else "rsa"
        )
        return Pki.create(
            self.random.child("unknown-ca"), self.now, key_type=key_type, name="Unknown"
        )

    def negative_matrix(
        self, host: str, *, names: list[str] | None = None, key_type: KeyType = "rsa"
    ) -> list[NegativeCase]:
        """Every chain a client must refuse for ``host``, with the expected alert and check.

        The certificates carry ``names`` (default: just ``host``) and share one server key,
        which keeps key generation (the slow part) to three new keys for the whole matrix.
        """
        names = names if names is not None else [host]
        key = self._leaf_key(names, key_type)
        wrong = f"wrong-host.{host.partition('.')[2] or 'invalid'}"
        return [
            NegativeCase(
                "expired", self.issue_expired(names, key_type=key_type), host,
                CERTIFICATE_EXPIRED, "validity",
            ),
            NegativeCase(
                "not-yet-valid", self.issue_not_yet_valid(names, key_type=key_type), host,
                CERTIFICATE_EXPIRED, "validity",
            ),
            NegativeCase(
                "wrong-host", self.issue_server([wrong], key=key), host,
                BAD_CERTIFICATE, "hostname",
            ),
            NegativeCase(
                "unknown-ca", self.unknown_ca().issue_server(names, key=key), host,
                UNKNOWN_CA, "chain",
            ),
            NegativeCase(
                "bad-signature", self.issue_bad_signature(names, key_type=key_type), host,
                BAD_CERTIFICATE, "signature",
            ),
            NegativeCase(
                "non-ca-intermediate", self.issue_via_non_ca(names, key_type=key_type), host,
                BAD_CERTIFICATE, "basicConstraints",
            ),
            NegativeCase(
                "self-signed", self.issue_self_signed(names, key_type=key_type), host,
                UNKNOWN_CA, "chain",
            ),
        ]  # fmt: skip
