"""The send buffer (tcp/sendbuffer.py) returns exactly the bytes written at every offset
range still held, whatever the sizes of the writes (tiny ones coalesced, large ones kept
whole) and however releases cut through them; it keeps no more than one partly released
chunk beyond what is unacknowledged."""

from __future__ import annotations

import random

from tcp_pair import Pair, handshake

from minternet.tcp.connection import TcpConfig
from minternet.tcp.segment import ACK, NOP, Segment, Timestamps
from minternet.tcp.sendbuffer import COALESCE, SendBuffer
from minternet.tcp.seq import wrap


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


def test_a_partly_acknowledged_segment_is_resent_with_its_own_bytes() -> None:
    """An ACK inside a segment (a peer that trimmed it to its window) releases what it
    covers; the resend of that segment still starts at its first byte, so the bytes before
    the ACK must still be there — and be the right ones."""
    p = Pair(config=TcpConfig(delayed_ack=0))
    a, b = handshake(p)
    p.drop = lambda c, seg: c is a  # the peer sees nothing: only our hand-made ACK
    data = random.Random(7323).randbytes(8000)
    for i in range(0, 8000, 1000):  # writes of 1000 bytes, joined into chunks of 3000
        a.write(data[i : i + 1000], p.now)
    p.flush()
    smss = a.smss
    inside = 2 * smss + 200  # in the third segment, past a chunk boundary
    ack = Segment(
        b.local[1], a.local[1], wrap(b.iss, b.snd_nxt), wrap(a.iss, 1 + inside), ACK, 0xFFFF,
        b"", (NOP, NOP, Timestamps(a.ts_recent + 1, 0)),
    )  # fmt: skip
    a.receive(ack, p.now + 0.01)
    assert a.snd_una == 1 + inside
    a.take_segments()
    starts = []
    for _ in range(4):  # a tail loss probe first, then the retransmission timeout
        deadline = a.next_deadline()
        assert deadline is not None
        a.on_timer(deadline)
        for s in a.take_segments():
            start = (s.seq - a.iss) & 0xFFFFFFFF
            starts.append(start)
            assert s.payload == data[start - 1 : start - 1 + len(s.payload)]
            if start < 1 + inside:  # the partly acknowledged one, resent from its start
                assert start + len(s.payload) > 1 + inside, (start, len(s.payload))
    assert min(starts) < 1 + inside, starts
