"""SeededRandom draws exactly what :class:`random.Random` would from the same seed.

The simulator's bytes (ISNs, TLS randoms, RSA keys, faults) were recorded with
``random.Random``; SeededRandom runs the same Mersenne Twister (``_random``) without importing
:mod:`random`, so every algorithm on top of the engine must match it draw for draw.
"""

from __future__ import annotations

import hashlib
import random

import pytest

from minternet.randomness import SeededRandom


def reference(seed: int, label: str) -> random.Random:
    digest = hashlib.sha256(seed.to_bytes(16, "big", signed=True) + b"\x00" + label.encode())
    return random.Random(int.from_bytes(digest.digest(), "big"))


@pytest.mark.parametrize("seed", [0, 1, 7, -3, 2**100])
def test_draws_match_random_random(seed: int) -> None:
    ours = SeededRandom(seed).child("a").child("b")
    ref = reference(seed, "/a/b")
    for i in range(400):
        kind = i % 5
        if kind == 0:
            assert ours.random_bytes(i % 37) == ref.randbytes(i % 37)
        elif kind == 1:
            assert ours.randint(0, i) == ref.randint(0, i)
        elif kind == 2:
            lo = -(i**3)
            assert ours.randint(lo, lo + 2**i) == ref.randint(lo, lo + 2**i)
        elif kind == 3:
            assert ours.random() == ref.random()
        else:
            assert ours.randint(5, 5) == ref.randint(5, 5)


def test_empty_range_is_refused_like_random_random() -> None:
    with pytest.raises(ValueError):
        SeededRandom(1).randint(3, 2)
    with pytest.raises(ValueError):
        random.Random(1).randint(3, 2)


def test_str_and_bytes_seeds_are_the_same_bytes() -> None:
    assert SeededRandom("x").random_bytes(8) == SeededRandom(b"x").random_bytes(8)
