"""The operating system's randomness, for the real drivers.

A deterministic generator must never reach a real network: the kernel stack, the TAP host
and the TLS tools take their ISNs, ports, DNS ids, TLS randoms and keys from here.
"""

from __future__ import annotations

import secrets


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

    def __repr__(self) -> str:
        return "SystemRandom()"
