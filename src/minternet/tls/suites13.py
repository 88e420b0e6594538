"""The TLS 1.3 cipher suites (RFC 8446 §B.4): an AEAD and the hash of the key schedule.

Unlike TLS 1.2's, a 1.3 suite names neither the key exchange nor the authentication: the
key_share extension and the certificate's SignatureScheme decide those separately.
:data:`TLS13_SUITES` is in our order of preference (OpenSSL's default order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError

Aead = Literal["AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305"]


@dataclass(frozen=True, slots=True)
class Tls13Suite:
    """One row of RFC 8446 §B.4."""

    code: int
    name: str  # IANA; OpenSSL uses the same names for 1.3 suites
    aead: Aead
    key_len: int
    hash_name: str  # "sha256" or "sha384"

    @property
    def openssl_name(self) -> str:
        return self.name

    @property
    def hash_len(self) -> int:
        return 48 if self.hash_name == "sha384" else 32

    def __str__(self) -> str:
        return self.name


TLS_AES_128_GCM_SHA256 = Tls13Suite(0x1301, "TLS_AES_128_GCM_SHA256", "AES-128-GCM", 16, "sha256")
TLS_AES_256_GCM_SHA384 = Tls13Suite(0x1302, "TLS_AES_256_GCM_SHA384", "AES-256-GCM", 32, "sha384")
TLS_CHACHA20_POLY1305_SHA256 = Tls13Suite(
    0x1303, "TLS_CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305", 32, "sha256"
)
TLS13_SUITES: tuple[Tls13Suite, ...] = (
    TLS_AES_256_GCM_SHA384,
    TLS_CHACHA20_POLY1305_SHA256,
    TLS_AES_128_GCM_SHA256,
)
TLS13_BY_CODE: dict[int, Tls13Suite] = {s.code: s for s in TLS13_SUITES}


def tls13_suites_by_names(names: str) -> tuple[Tls13Suite, ...]:
    """A colon- or comma-separated list of 1.3 suite names (or ``0x1301`` codes)."""
    out: list[Tls13Suite] = []
    for part in (p.strip() for p in names.replace(",", ":").split(":")):
        if not part:
            continue
        found = next((s for s in TLS13_SUITES if s.name == part.upper()), None)
        if found is None and part.lower().startswith("0x"):
            try:
                found = TLS13_BY_CODE.get(int(part, 16))
            except ValueError:
                found = None
        if found is None:
            known = ", ".join(s.name for s in TLS13_SUITES)
            raise ConfigError(f"unknown TLS 1.3 cipher suite {part!r}; known: {known}")
        out.append(found)
    if not out:
        raise ConfigError("empty TLS 1.3 cipher suite list")
    return tuple(out)
