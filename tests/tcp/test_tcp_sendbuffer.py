"""The send buffer (tcp/sendbuffer.py) returns exactly the bytes written at every offset
range still held, whatever the sizes of the writes (tiny ones coalesced, large ones kept
whole) and however releases cut through them; it keeps no more than one partly released
chunk beyond what is unacknowledged."""

from __future__ import annotations

import random

from minternet.tcp.sendbuffer import COALESCE, SendBuffer


def test_slices_match_a_plain_byte_string_under_random_writes_and_releases() -> None:
    rnd = random.Random(9293)
    for _ in range(40):
        buf = SendBuffer(1)
        ref = bytearray()  # ref[i] is the byte at offset i + 1
        released = 1
        for _ in range(300):
            op = rnd.random()
            if op < 0.45:
                size = rnd.choice([0, 1, 5, COALESCE - 1, COALESCE, 1448, 2896, 70000])
                data = rnd.randbytes(size)
                buf.append(memoryview(data) if rnd.random() < 0.5 else data)
                ref += data
            elif op < 0.85 and len(ref) + 1 > released:
                start = rnd.randint(released, len(ref) + 1)
                end = rnd.randint(start, min(len(ref) + 1, start + rnd.choice([1, 1448, 9000])))
                assert buf.slice(start, end) == bytes(ref[start - 1 : end - 1])
            else:
                released = rnd.randint(released, len(ref) + 1)
                buf.release(released)
            # at most the largest chunk (a 70000-byte write) beyond the unacknowledged bytes
            assert buf.held <= len(ref) + 1 - released + 70000


def test_a_whole_chunk_is_returned_without_a_copy() -> None:
    buf = SendBuffer(1)
    data = bytes(range(256)) * 10
    buf.append(data)
    assert buf.slice(1, 1 + len(data)) is data


def test_small_writes_are_joined_and_everything_released_is_forgotten() -> None:
    buf = SendBuffer(1)
    for i in range(100):
        buf.append(bytes([i]) * 10)
    assert buf.slice(1, 1001) == b"".join(bytes([i]) * 10 for i in range(100))
    assert len(buf._chunks) == 1
    buf.release(1001)
    assert buf.held == 0 and buf.slice(1001, 1001) == b""
