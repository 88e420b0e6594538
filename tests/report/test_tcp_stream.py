"""The report's in-order TCP byte stream (:class:`StreamBytes`): segments of a stream cut at
random, arriving in a random order with copies (whole or overlapping several), put the
stream back byte for byte, never holding a byte twice; a copy with other bytes does not
replace the first and is counted; bytes let go of stay gone."""

from __future__ import annotations

import random
from itertools import pairwise

from minternet.report.html.tcp_stream import StreamBytes


def test_random_cuts_orders_and_copies_rebuild_the_stream() -> None:
    rng = random.Random(7)
    for _ in range(200):
        data = rng.randbytes(rng.randrange(1, 3000))
        cuts = sorted({0, len(data), *(rng.randrange(len(data)) for _ in range(8))})
        pieces = [(a, data[a:b]) for a, b in pairwise(cuts)]
        for _ in range(rng.randrange(4)):  # copies over arbitrary spans
            a = rng.randrange(len(data))
            b = rng.randrange(a, len(data)) + 1
            pieces.append((a, data[a:b]))
        rng.shuffle(pieces)
        s = StreamBytes()
        for off, payload in pieces:
            assert s.add(off, payload) == 0
            held = sorted(s.held.items())
            assert all(k >= s.end for k, _ in held)  # only what lies past a gap is held
            spans = [(k, k + len(c)) for k, c in held]
            assert all(a[1] <= b[0] for a, b in pairwise(spans))
        assert bytes(s.data) == data
        assert s.held == {}


def test_first_copy_wins_and_a_different_copy_is_counted() -> None:
    s = StreamBytes()
    assert s.add(10, b"0123456789") == 0  # held past a gap
    assert s.add(15, b"XX789abc") == 2  # differs from the held copy in 2 bytes
    assert s.add(0, b"aaaaaaaaaaaaBB") == 4  # fills the gap; the held 10-13 are kept
    assert bytes(s.data) == b"aaaaaaaaaa0123456789abc"
    assert s.add(0, b"aaab") == 1
    s.release(12)
    assert (s.start, s.end, s.get(12, 15)) == (12, 23, b"234")
    assert s.add(5, b"zzzzzzzzzz") == 3  # only the bytes still kept are compared
    assert bytes(s.data) == b"23456789abc"
