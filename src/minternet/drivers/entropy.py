"""The operating system's randomness, for the real drivers.

A deterministic generator must never reach a real network: the kernel stack, the TAP host
and the TLS tools take their ISNs, ports, DNS ids, TLS randoms and keys from here.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.asymmetric import rsa


class SystemRandom:
    """The operating system's CSPRNG, for real drivers."""

    deterministic = False

    def __init__(self) -> None:
        self._rng = secrets.SystemRandom()

    def random_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)

    def randint(self, lo: int, hi: int) -> int:
        return lo + secrets.randbelow(hi - lo + 1)

    def random(self) -> float:
        return self._rng.random()

    def child(self, label: str) -> SystemRandom:
        return self

    def rsa_private_key(self, bits: int) -> rsa.RSAPrivateKey:
        """OpenSSL's RSA key generation (FIPS 186-5 §A.1.3, its own CSPRNG), ~10× faster
        than expanding a seed in Python: nothing here needs to be replayed."""
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)

    def __repr__(self) -> str:
        return "SystemRandom()"
