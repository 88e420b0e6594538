"""The cipher suites we speak, with their IANA and OpenSSL names (RFC 5246 App. A.5,
RFC 5288, RFC 5289, RFC 7905).

A suite fixes the key exchange (``ECDHE`` or ``RSA``), the server's authentication key
(``RSA`` or ``ECDSA``), the record protection (AES-GCM, ChaCha20-Poly1305 or AES-CBC with
HMAC) and the PRF hash. :data:`SUITES` is in our order of preference: forward-secret AEAD
first, then RSA key exchange with AEAD, then CBC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError

KeyExchange = Literal["ECDHE", "RSA"]
Auth = Literal["RSA", "ECDSA"]
Bulk = Literal["AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305", "AES-128-CBC", "AES-256-CBC"]


@dataclass(frozen=True, slots=True)
class CipherSuite:
    """One row of the table: code point, names and what the record layer needs."""

    code: int
    name: str  # IANA
    openssl_name: str
    kx: KeyExchange
    auth: Auth
    bulk: Bulk
    key_len: int
    fixed_iv_len: int  # implicit IV/salt from the key block (4 for GCM, 12 for ChaCha)
    mac: str | None  # HMAC hash for CBC suites (hashlib name), None for AEAD
    mac_len: int
    prf_hash: str  # "sha256" or "sha384"

    @property
    def aead(self) -> bool:
        return self.mac is None

    def __str__(self) -> str:
        return self.name


def _aead(code: int, name: str, ossl: str, kx: KeyExchange, auth: Auth, bulk: Bulk) -> CipherSuite:
    key_len = 16 if bulk == "AES-128-GCM" else 32
    iv_len = 12 if bulk == "CHACHA20-POLY1305" else 4
    prf_hash = "sha384" if name.endswith("SHA384") else "sha256"
    return CipherSuite(code, name, ossl, kx, auth, bulk, key_len, iv_len, None, 0, prf_hash)


def _cbc(code: int, name: str, ossl: str, kx: KeyExchange, auth: Auth, mac: str) -> CipherSuite:
    bulk: Bulk = "AES-128-CBC" if "AES_128" in name else "AES-256-CBC"
    key_len = 16 if bulk == "AES-128-CBC" else 32
    mac_len = {"sha1": 20, "sha256": 32, "sha384": 48}[mac]
    prf_hash = "sha384" if mac == "sha384" else "sha256"
    return CipherSuite(code, name, ossl, kx, auth, bulk, key_len, 0, mac, mac_len, prf_hash)


SUITES: tuple[CipherSuite, ...] = (
    _aead(
        0xC02B,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE",
        "ECDSA",
        "AES-128-GCM",
    ),
    _aead(
        0xC02F,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE",
        "RSA",
        "AES-128-GCM",
    ),
    _aead(
        0xC02C,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE",
        "ECDSA",
        "AES-256-GCM",
    ),
    _aead(
        0xC030,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE",
        "RSA",
        "AES-256-GCM",
    ),
    _aead(
        0xCCA9,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE",
        "ECDSA",
        "CHACHA20-POLY1305",
    ),
    _aead(
        0xCCA8,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE",
        "RSA",
        "CHACHA20-POLY1305",
    ),
    _aead(
        0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", "RSA", "RSA", "AES-128-GCM"
    ),
    _aead(
        0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", "RSA", "RSA", "AES-256-GCM"
    ),
    _cbc(
        0xC027,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-RSA-AES128-SHA256",
        "ECDHE",
        "RSA",
        "sha256",
    ),
    _cbc(
        0xC023,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-ECDSA-AES128-SHA256",
        "ECDHE",
        "ECDSA",
        "sha256",
    ),
    _cbc(
        0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", "ECDHE", "RSA", "sha1"
    ),
    _cbc(
        0xC009,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "ECDHE-ECDSA-AES128-SHA",
        "ECDHE",
        "ECDSA",
        "sha1",
    ),
    _cbc(0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", "RSA", "RSA", "sha256"),
    _cbc(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", "RSA", "RSA", "sha1"),
)

BY_CODE: dict[int, CipherSuite] = {s.code: s for s in SUITES}

# Signalling values that are not suites (RFC 5746 §3.3, RFC 7507).
TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF
TLS_FALLBACK_SCSV = 0x5600


def suite_by_name(name: str) -> CipherSuite:
    """A suite by IANA name (``TLS_…``), OpenSSL name, or ``0xC02F``; ConfigError otherwise."""
    key = name.strip()
    for s in SUITES:
        if key.upper() in (s.name, s.openssl_name.upper()):
            return s
    if key.lower().startswith("0x"):
        try:
            return BY_CODE[int(key, 16)]
        except (ValueError, KeyError):
            pass
    known = ", ".join(s.name for s in SUITES)
    raise ConfigError(f"unknown cipher suite {name!r}; known: {known}")


def suites_by_names(names: str) -> tuple[CipherSuite, ...]:
    """A colon- or comma-separated list of suite names, in the order given."""
    parts = [p for p in names.replace(",", ":").split(":") if p.strip()]
    if not parts:
        raise ConfigError("empty cipher suite list")
    return tuple(suite_by_name(p) for p in parts)
