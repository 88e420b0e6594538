"""TLS signatures and RSA encryption, with every random byte taken from the injected source.

What the handshake signs (ServerKeyExchange) and encrypts (the RSA pre-master secret) is
produced here so that one seed fixes every byte on the wire:

- ``rsa_pkcs1_*`` (RFC 8017 §8.2, EMSA-PKCS1-v1_5) is deterministic by construction, so it
  is left to ``cryptography``.
- ``ecdsa_*`` uses deterministic nonces (RFC 6979) through ``cryptography``'s
  ``ECDSA(..., deterministic_signing=True)``; ``ed25519`` is deterministic by design.
- ``rsa_pss_rsae_*`` needs a random salt (RFC 8017 §9.1.1) and PKCS#1 v1.5 encryption needs
  random padding (RFC 8017 §7.2.1). ``cryptography`` draws those itself, so when the source is
  deterministic (the simulator) we encode EMSA-PSS / EME-PKCS1-v1_5 here and do the RSA
  operation with :func:`pow` (the private one with the CRT, checked before release). With a
  non-deterministic source (real networks) the salt or padding comes from OpenSSL's CSPRNG
  via ``cryptography`` instead: the OS-seeded generator either way, and 25× faster.

Verification always uses ``cryptography``'s standard verifiers, so an independent
implementation judges our encodings.

SignatureScheme codes follow RFC 8446 §4.2.3. In TLS 1.2 the same code points are read as
(HashAlgorithm, SignatureAlgorithm) pairs (RFC 5246 §7.4.1.4.1), so ``ecdsa_secp256r1_sha256``
means "ECDSA with SHA-256" on any curve; the curve is not enforced here.
"""

from __future__ import annotations

import hashlib
from enum import IntEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from ..errors import LocalProtocolError
from ..randomness import RandomSource

__all__ = [
    "PrivateKey",
    "PublicKey",
    "SignatureScheme",
    "UnsupportedSchemeError",
    "emsa_pss_encode",
    "legacy_scheme_for_key",
    "rsa_pkcs1v15_encrypt",
    "schemes_for_key",
    "sign",
    "verify",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class SignatureScheme(IntEnum):
    """TLS SignatureScheme code points (RFC 8446 §4.2.3; RFC 8422 for ed25519 in TLS 1.2)."""

    rsa_pkcs1_sha1 = 0x0201
    ecdsa_sha1 = 0x0203
    rsa_pkcs1_sha256 = 0x0401
    rsa_pkcs1_sha384 = 0x0501
    rsa_pkcs1_sha512 = 0x0601
    ecdsa_secp256r1_sha256 = 0x0403
    ecdsa_secp384r1_sha384 = 0x0503
    ecdsa_secp521r1_sha512 = 0x0603
    rsa_pss_rsae_sha256 = 0x0804
    rsa_pss_rsae_sha384 = 0x0805
    rsa_pss_rsae_sha512 = 0x0806
    ed25519 = 0x0807


class UnsupportedSchemeError(LocalProtocolError):
    """Asked to sign with a scheme we do not implement or that does not fit the key."""


_HashName = str
# scheme -> (family, hash name). The SHA-1 pairs sign only for a client that sent no
# signature_algorithms (RFC 5246 §7.4.1.4.1, see :func:`legacy_scheme_for_key`); no list we
# offer or prefer holds them.
_SCHEMES: dict[int, tuple[str, _HashName]] = {
    SignatureScheme.rsa_pkcs1_sha1: ("pkcs1", "sha1"),
    SignatureScheme.ecdsa_sha1: ("ecdsa", "sha1"),
    SignatureScheme.rsa_pkcs1_sha256: ("pkcs1", "sha256"),
    SignatureScheme.rsa_pkcs1_sha384: ("pkcs1", "sha384"),
    SignatureScheme.rsa_pkcs1_sha512: ("pkcs1", "sha512"),
    SignatureScheme.rsa_pss_rsae_sha256: ("pss", "sha256"),
    SignatureScheme.rsa_pss_rsae_sha384: ("pss", "sha384"),
    SignatureScheme.rsa_pss_rsae_sha512: ("pss", "sha512"),
    SignatureScheme.ecdsa_secp256r1_sha256: ("ecdsa", "sha256"),
    SignatureScheme.ecdsa_secp384r1_sha384: ("ecdsa", "sha384"),
    SignatureScheme.ecdsa_secp521r1_sha512: ("ecdsa", "sha512"),
    SignatureScheme.ed25519: ("eddsa", ""),
}

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_DIGEST_SIZE = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

# Preference order offered for each key (strongest-first within a family).
_RSA_ORDER = (
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pss_rsae_sha384,
    SignatureScheme.rsa_pss_rsae_sha512,
    SignatureScheme.rsa_pkcs1_sha256,
    SignatureScheme.rsa_pkcs1_sha384,
    SignatureScheme.rsa_pkcs1_sha512,
)
_EC_FIRST = {
    "secp256r1": SignatureScheme.ecdsa_secp256r1_sha256,
    "secp384r1": SignatureScheme.ecdsa_secp384r1_sha384,
    "secp521r1": SignatureScheme.ecdsa_secp521r1_sha512,
}
_EC_ALL = (
    SignatureScheme.ecdsa_secp256r1_sha256,
    SignatureScheme.ecdsa_secp384r1_sha384,
    SignatureScheme.ecdsa_secp521r1_sha512,
)


def _public(key: PrivateKey | PublicKey) -> PublicKey:
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return key.public_key()
    return key


def schemes_for_key(key: PrivateKey | PublicKey) -> list[int]:
    """The SignatureSchemes this key can sign (or verify) with, in our order of preference.

    RSA keys get RSA-PSS (rsae) first, then PKCS#1 v1.5, leaving out any hash too long for
    the modulus (RFC 8017 §9.1.1: emLen >= hLen + sLen + 2). EC keys get the scheme named
    after their curve first (what TLS 1.3 would require), then the other ECDSA hashes that
    TLS 1.2 also allows.
    """
    pub = _public(key)
    if isinstance(pub, rsa.RSAPublicKey):
        em_len = (pub.key_size - 1 + 7) // 8
        out: list[int] = []
        for scheme in _RSA_ORDER:
            family, hname = _SCHEMES[scheme]
            h_len = _DIGEST_SIZE[hname]
            if family == "pss" and em_len < 2 * h_len + 2:
                continue
            if family == "pkcs1" and pub.key_size // 8 < h_len + 19 + 11:
                continue
            out.append(int(scheme))
        return out
    if isinstance(pub, ec.EllipticCurvePublicKey):
        first = _EC_FIRST.get(pub.curve.name)
        if first is None:
            return []
        return [int(first)] + [int(s) for s in _EC_ALL if s != first]
    if isinstance(pub, ed25519.Ed25519PublicKey):
        return [int(SignatureScheme.ed25519)]
    return []


def legacy_scheme_for_key(key: PrivateKey | PublicKey) -> int | None:
    """The scheme a TLS 1.2 server signs with for a client that sent no signature_algorithms.

    RFC 5246 §7.4.1.4.1: the server "MUST behave as if client had sent the value
    {sha1,rsa}" for an RSA key exchange signature, {sha1,ecdsa} for ECDSA. An Ed25519 key
    has no such pair (RFC 8422 §5.1.3 requires the extension), so None: refuse that key.
    """
    pub = _public(key)
    if isinstance(pub, rsa.RSAPublicKey):
        return int(SignatureScheme.rsa_pkcs1_sha1)
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return int(SignatureScheme.ecdsa_sha1)
    return None


def _scheme(scheme: int) -> tuple[str, str]:
    try:
        return _SCHEMES[scheme]
    except KeyError:
        raise UnsupportedSchemeError(f"signature scheme 0x{scheme:04x} is not supported") from None


def sign(private_key: PrivateKey, scheme: int, data: bytes, random: RandomSource) -> bytes:
    """Sign ``data`` (the whole message; it is hashed here) with ``scheme``.

    Raises :class:`UnsupportedSchemeError` if the scheme is unknown or does not fit the key.
    """
    family, hname = _scheme(scheme)
    if isinstance(private_key, rsa.RSAPrivateKey) and family in ("pkcs1", "pss"):
        if scheme not in schemes_for_key(private_key) and scheme != legacy_scheme_for_key(
            private_key
        ):
            raise UnsupportedSchemeError(
                f"{SignatureScheme(scheme).name} does not fit a {private_key.key_size}-bit key"
            )
        h = _HASHES[hname]()
        if family == "pkcs1":
            return private_key.sign(data, padding.PKCS1v15(), h)
        if not random.deterministic:
            return private_key.sign(data, padding.PSS(padding.MGF1(h), h.digest_size), h)
        return _rsa_pss_sign(private_key, hname, data, random)
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and family == "ecdsa":
        return private_key.sign(data, ec.ECDSA(_HASHES[hname](), deterministic_signing=True))
    if isinstance(private_key, ed25519.Ed25519PrivateKey) and family == "eddsa":
        return private_key.sign(data)
    raise UnsupportedSchemeError(
        f"{SignatureScheme(scheme).name} cannot be used with a {type(private_key).__name__}"
    )


def verify(public_key: PublicKey, scheme: int, data: bytes, signature: bytes) -> bool:
    """True if ``signature`` over ``data`` is valid for ``scheme`` and ``public_key``.

    Unknown schemes and schemes that do not match the key's type give False. PSS signatures
    must use a salt as long as the digest (RFC 8446 §4.2.3), as TLS requires.
    """
    entry = _SCHEMES.get(scheme)
    if entry is None:
        return False
    family, hname = entry
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and family in ("pkcs1", "pss"):
            h = _HASHES[hname]()
            pad: padding.AsymmetricPadding
            if family == "pkcs1":
                pad = padding.PKCS1v15()
            else:
                pad = padding.PSS(padding.MGF1(h), padding.PSS.DIGEST_LENGTH)
            public_key.verify(signature, data, pad, h)
            return True
        if isinstance(public_key, ec.EllipticCurvePublicKey) and family == "ecdsa":
            public_key.verify(signature, data, ec.ECDSA(_HASHES[hname]()))
            return True
        if isinstance(public_key, ed25519.Ed25519PublicKey) and family == "eddsa":
            public_key.verify(signature, data)
            return True
    except InvalidSignature:
        return False
    return False


# --- RFC 8017 encodings and raw RSA ------------------------------------------------------


def _mgf1(seed: bytes, length: int, hname: str) -> bytes:
    """MGF1 (RFC 8017 §B.2.1)."""
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.new(hname, seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def emsa_pss_encode(m_hash: bytes, em_bits: int, salt: bytes, hname: str) -> bytes:
    """EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of an already computed message hash."""
    h_len = len(m_hash)
    em_len = (em_bits + 7) // 8
    if em_len < h_len + len(salt) + 2:
        raise UnsupportedSchemeError("encoding error: modulus too short for PSS with this hash")
    m_prime = b"\x00" * 8 + m_hash + salt
    h = hashlib.new(hname, m_prime).digest()
    db = b"\x00" * (em_len - len(salt) - h_len - 2) + b"\x01" + salt
    db_mask = _mgf1(h, em_len - h_len - 1, hname)
    masked = bytearray(a ^ b for a, b in zip(db, db_mask, strict=True))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked) + h + b"\xbc"


#: RSASP1 results by ``(n, e, m)``, the newest last. For a public key ``(n, e)`` each message
#: representative has one signature (RSA permutes Z_n), so a repeat — a seed signing the same
#: handshake again, as the cells of one seed in a sweep and many tests do — costs no modular
#: exponentiation (~6 ms a signature with Python's ``pow``). Bounded: the oldest goes first.
_SIGNED: dict[tuple[int, int, int], int] = {}
_SIGNED_MAX = 1024


def _rsa_private_op(key: rsa.RSAPrivateKey, m: int) -> int:
    """RSASP1 (RFC 8017 §5.2.1) with the CRT, checked with the public exponent before release
    (a faulty CRT result would leak a factor of n)."""
    priv = key.private_numbers()
    pub = priv.public_numbers
    if not 0 <= m < pub.n:
        raise UnsupportedSchemeError("message representative out of range")
    done = (pub.n, pub.e, m)
    s = _SIGNED.get(done)
    if s is not None:
        return s
    s1 = pow(m, priv.dmp1, priv.p)
    s2 = pow(m, priv.dmq1, priv.q)
    s = s2 + ((priv.iqmp * (s1 - s2)) % priv.p) * priv.q
    if pow(s, pub.e, pub.n) != m:
        raise UnsupportedSchemeError("RSA private operation failed its self-check")
    if len(_SIGNED) >= _SIGNED_MAX:
        del _SIGNED[next(iter(_SIGNED))]
    _SIGNED[done] = s
    return s


def _rsa_pss_sign(key: rsa.RSAPrivateKey, hname: str, data: bytes, random: RandomSource) -> bytes:
    """RSASSA-PSS-SIGN (RFC 8017 §8.1.1), salt length = digest length, salt from ``random``."""
    m_hash = hashlib.new(hname, data).digest()
    salt = random.random_bytes(len(m_hash))
    mod_bits = key.key_size
    em = emsa_pss_encode(m_hash, mod_bits - 1, salt, hname)
    s = _rsa_private_op(key, int.from_bytes(em, "big"))
    return s.to_bytes((mod_bits + 7) // 8, "big")


def _nonzero_bytes(n: int, random: RandomSource) -> bytes:
    out = bytearray()
    while len(out) < n:
        out += bytes(b for b in random.random_bytes(n - len(out)) if b)
    return bytes(out)


def rsa_pkcs1v15_encrypt(
    public_key: rsa.RSAPublicKey, message: bytes, random: RandomSource
) -> bytes:
    """RSAES-PKCS1-v1_5-ENCRYPT (RFC 8017 §7.2.1), padding string drawn from ``random``.

    This is how the TLS 1.2 client sends the pre-master secret (RFC 5246 §7.4.7.1).
    """
    k = (public_key.key_size + 7) // 8
    if len(message) > k - 11:
        raise UnsupportedSchemeError(f"message of {len(message)} bytes too long for the key")
    if not random.deterministic:
        return public_key.encrypt(message, padding.PKCS1v15())
    ps = _nonzero_bytes(k - len(message) - 3, random)
    em = b"\x00\x02" + ps + b"\x00" + message
    nums = public_key.public_numbers()
    c = pow(int.from_bytes(em, "big"), nums.e, nums.n)
    return c.to_bytes(k, "big")
