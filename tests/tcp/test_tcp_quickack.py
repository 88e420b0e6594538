"""The receiver's quick-ACK mode (Linux ``tcp_enter_quickack_mode``) beside RFC 5681 §4.2's
delayed ACKs: at the first data of a connection, after a silence longer than the RTO and
after a duplicate segment, the next in-order segments are acknowledged one by one; otherwise
every second full-sized segment is (and a lone one after the delayed-ACK timer)."""

from __future__ import annotations

from tcp_pair import Pair, handshake

from minternet.tcp.connection import MAX_QUICKACKS, Connection, TcpConfig
from minternet.tcp.segment import Segment

SMSS = 1448


def _acks(p: Pair, a: Connection, since: float) -> list[int]:
    """How many bytes each of b's ACKs since ``since`` newly acknowledged (pure ACKs of
    a's data, in order sent; duplicates count 0)."""
    out: list[int] = []
    last: int | None = None
    for t, who, seg in p.log:
        if who != "b" or seg.payload or not seg.flags & 0x10:
            continue
        rel = (seg.ack - a.iss) & 0xFFFFFFFF
        if t >= since and last is not None:
            out.append(rel - last)
        last = rel if last is None else max(last, rel)
    return out


def _send(p: Pair, a: Connection, n: int, reader: Connection | None = None) -> None:
    goal = a.snd_max + n * SMSS
    data = b"q" * (n * SMSS)
    sent = a.write(data, p.now)

    def done() -> bool:
        nonlocal sent
        if reader is not None:
            reader.read(1 << 20, p.now)  # the application keeps up
        if sent < len(data):
            sent += a.write(data[sent:], p.now)
        return a.snd_una >= goal

    p.run_until(done)


def test_the_first_segments_of_a_connection_are_acked_one_by_one() -> None:
    p = Pair(latency=0.02)
    a, b = handshake(p)
    t0 = p.now
    _send(p, a, 40)
    acks = [n for n in _acks(p, a, t0) if n]
    # tcp_event_data_recv: the first data puts the receiver in quick-ACK mode for half the
    # advertised window in segments, at most MAX_QUICKACKS (16): one ACK per segment ...
    assert acks[:MAX_QUICKACKS] == [SMSS] * MAX_QUICKACKS
    # ... then RFC 5681 §4.2's every second full-sized segment again.
    assert 2 * SMSS in acks[MAX_QUICKACKS:]
    assert b.readable == 40 * SMSS


def test_quick_acks_are_bounded_by_half_the_window() -> None:
    # A 4-segment receive window: 4 // 2 = 2 quick ACKs (tcp_incr_quickack), not 16.
    p = Pair(latency=0.02, config=TcpConfig(recv_buffer=4 * SMSS, window_scaling=False))
    a, b = handshake(p)
    t0 = p.now
    _send(p, a, 12, reader=b)
    acks = [n for n in _acks(p, a, t0) if n]
    assert acks[:2] == [SMSS, SMSS]
    assert 2 * SMSS in acks[2:] and len(acks) < 12  # then delayed ACKs again


def _acked_per_ack(p: Pair, a: Connection, n: int) -> list[int]:
    """Send ``n`` segments; what each of the receiver's ACKs of them newly acknowledged."""
    t0 = p.now
    _send(p, a, n)
    return [k for k in _acks(p, a, t0) if k]


def _steady() -> tuple[Pair, Connection, Connection]:
    """A connection whose quick ACKs of its start are used up."""
    p = Pair(latency=0.02)
    a, b = handshake(p)
    _send(p, a, 3 * MAX_QUICKACKS)
    return p, a, b


def test_after_a_duplicate_segment_the_next_ones_are_acked_one_by_one() -> None:
    p, a, b = _steady()
    before = _acked_per_ack(p, a, 8)
    assert before and all(n == 2 * SMSS for n in before)  # delayed ACKs: every second
    # The sender resends a segment the receiver already has (our ACK of it was lost):
    # Linux's tcp_send_dupack enters quick-ACK mode, as does the out-of-window drop.
    old: Segment = next(seg for _, who, seg in reversed(p.log) if who == "a" and seg.payload)
    b.receive(old, p.now)
    p.flush()
    assert _acked_per_ack(p, a, 8) == [SMSS] * 8


def test_data_after_a_silence_longer_than_the_rto_is_acked_one_by_one() -> None:
    p, a, b = _steady()
    assert _acked_per_ack(p, a, 6) == [2 * SMSS] * 3
    # A pause shorter than the receiver's RTO changes nothing ...
    p.run(p.now + b.rto.rto / 2)
    assert _acked_per_ack(p, a, 6) == [2 * SMSS] * 3
    # ... a longer one (the sender "failed to restart window", tcp_event_data_recv) does.
    p.run(p.now + 2 * b.rto.rto)
    assert _acked_per_ack(p, a, 6) == [SMSS] * 6


def test_no_delayed_acks_at_all_when_they_are_off() -> None:
    p = Pair(latency=0.02, config=TcpConfig(delayed_ack=0))
    a, _b = handshake(p)
    assert _acked_per_ack(p, a, 3 * MAX_QUICKACKS) == [SMSS] * (3 * MAX_QUICKACKS)
