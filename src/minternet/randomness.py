"""The one source of randomness handed to every protocol machine.

Protocol code never imports :mod:`random`, :mod:`secrets` or :func:`os.urandom`; it is given a
:class:`RandomSource`. In the simulator that is a :class:`SeededRandom` — one seed fixes every
ISN, port, DNS id, TLS random and ephemeral key — and each node or connection takes a
:meth:`~RandomSource.child` stream named after it, so adding a node does not shift what the
others draw. Real drivers use :class:`~minternet.drivers.entropy.SystemRandom` (the OS's
CSPRNG); a deterministic generator must never reach a real network, so drivers check
:attr:`RandomSource.deterministic`.

This module reads no entropy: :class:`SeededRandom` is a pure function of its seed and label
(the Mersenne Twister engine of :mod:`_random`, the C core of :mod:`random`, always given a
seed), so protocol cores may import it — :mod:`minternet.tls.keygen` expands a drawn seed
into an RSA key with it.
"""

from __future__ import annotations

import hashlib
from _random import Random as _MersenneTwister
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa


@runtime_checkable
class RandomSource(Protocol):
    """What protocol machines may ask of randomness."""

    @property
    def deterministic(self) -> bool: ...

    def random_bytes(self, n: int) -> bytes: ...

    def randint(self, lo: int, hi: int) -> int:
        """A uniform integer in ``[lo, hi]`` (both ends included)."""
        ...

    def random(self) -> float:
        """A uniform float in ``[0, 1)``."""
        ...

    def child(self, label: str) -> RandomSource:
        """An independent stream for one node, connection or purpose."""
        ...


@runtime_checkable
class RsaKeySource(Protocol):
    """A source whose randomness cannot be replayed (the OS's) and that therefore makes RSA
    keys itself, with OpenSSL's generator: :func:`minternet.tls.keygen.generate_rsa_key`
    asks it instead of expanding a drawn seed in Python, which only a replayable source
    needs (and which costs ~0.5 s of CPU a 2048-bit key, against OpenSSL's ~0.05 s)."""

    def rsa_private_key(self, bits: int) -> rsa.RSAPrivateKey:
        """A fresh RSA key of ``bits`` bits with ``e = 65537``."""
        ...


class SeededRandom:
    """Deterministic randomness for the simulator: same seed and labels, same bytes.

    The stream of label ``L`` is a Mersenne Twister seeded with SHA-256(seed ‖ 0 ‖ L). It is
    set up on the first draw: most children (one per node, link, connection) never draw,
    and seeding one costs more than everything else about it. Draws are exactly those of
    :class:`random.Random` seeded with the same integer (``randbytes``, ``randint`` and
    ``random`` follow its algorithms; a test compares them), without importing
    :mod:`random`, which seeds a module-wide generator from the OS's entropy on import.
    """

    __slots__ = ("_rng", "_seed", "label")

    deterministic = True

    def __init__(self, seed: int | str | bytes = 0, label: str = "") -> None:
        if isinstance(seed, int):
            seed_bytes = seed.to_bytes(16, "big", signed=True)
        elif isinstance(seed, str):
            seed_bytes = seed.encode()
        else:
            seed_bytes = seed
        self._seed = seed_bytes
        self.label = label
        self._rng: _MersenneTwister | None = None

    def _stream(self) -> _MersenneTwister:
        digest = hashlib.sha256(self._seed + b"\x00" + self.label.encode()).digest()
        rng = self._rng = _MersenneTwister(int.from_bytes(digest, "big"))
        return rng

    def random_bytes(self, n: int) -> bytes:
        # random.Random.randbytes
        return (self._rng or self._stream()).getrandbits(n * 8).to_bytes(n, "little")

    def randint(self, lo: int, hi: int) -> int:
        # random.Random.randint -> randrange -> _randbelow_with_getrandbits
        width = hi - lo + 1
        if width <= 0:
            raise ValueError(f"empty range for randint({lo}, {hi})")
        getrandbits = (self._rng or self._stream()).getrandbits
        k = width.bit_length()
        r = getrandbits(k)
        while r >= width:
            r = getrandbits(k)
        return lo + r

    def random(self) -> float:
        return (self._rng or self._stream()).random()

    def child(self, label: str) -> SeededRandom:
        return SeededRandom(self._seed, f"{self.label}/{label}")

    def __repr__(self) -> str:
        return f"SeededRandom(label={self.label!r})"
