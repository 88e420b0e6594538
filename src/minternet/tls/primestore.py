"""Where the primes of seeded RSA keys may be kept between processes (lent by an edge).

:mod:`~minternet.tls.keygen` asks the lent :class:`PrimeStore` for a seed's ``(p, q)`` before
searching for them and gives it what it found; ``drivers/keycache.py`` lends one over files.
This module is apart from ``keygen`` so that lending one costs no import of the generator
(or of ``cryptography``) in a process that never mints a key.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["PrimeStore", "prime_store", "use_prime_store"]


class PrimeStore(Protocol):
    """Keeps the primes of seeded RSA keys (best effort: a cache)."""

    def load(self, seed: bytes, bits: int) -> tuple[int, int] | None:
        """The ``(p, q)`` saved for this seed and key size, or None."""
        ...

    def save(self, seed: bytes, bits: int, p: int, q: int) -> None:
        """Keep ``(p, q)`` for this seed and key size."""
        ...


_store: PrimeStore | None = None


def use_prime_store(store: PrimeStore | None) -> None:
    """Load and save seeded RSA primes in ``store`` from now on (None: in none)."""
    global _store
    _store = store


def prime_store() -> PrimeStore | None:
    """The store lent, if any."""
    return _store
