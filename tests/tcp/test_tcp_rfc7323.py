"""The receive-side rules that were missing: a data-carrying zero-window probe is ACKed
(RFC 9293 §3.10.7.4), PAWS (RFC 7323 §5.3), TS.Recent from the SYN,ACK (RFC 7323 §4.3),
D-SACK (RFC 2883), RFC 1337's TIME-WAIT, a RST when retransmissions are exhausted, and one
retransmission per loss event under random loss."""

from __future__ import annotations

from collections import Counter

import pytest
from tcp_pair import A, B, Pair, handshake
from tcp_transfer import start_transfer

from minternet.sim.faults import Faults
from minternet.tcp.connection import State, TcpConfig
from minternet.tcp.segment import ACK, PSH, RST, Sack, Segment, Timestamps
from minternet.tcp.seq import MASK
from minternet.trace.bus import EventLog, TraceBus


def _ts(seg: Segment) -> Timestamps:
    return next(o for o in seg.options if isinstance(o, Timestamps))


def test_a_zero_window_probe_carrying_data_is_acked_not_kept() -> None:
    p = Pair(config=TcpConfig(recv_buffer=4096, delayed_ack=0, window_scaling=False))
    a, b = handshake(p)
    a.write(b"f" * 4096, p.now)  # fills b's buffer; b's application does not read
    p.run_until(lambda: a.snd_una == 4097)
    assert b.rcv_adv == b.rcv_nxt  # b advertises a zero window
    # A BSD-style probe: one new byte at RCV.NXT.
    probe = Segment(
        A[1],
        B[1],
        (b.irs + b.rcv_nxt) & MASK,
        (b.iss + b.snd_nxt) & MASK,
        ACK | PSH,
        65535,
        b"p",
        (Timestamps(_ts(a._out[0]).tsval if a._out else b.ts_recent + 1, 0),),
    )
    b.receive(probe, p.now)
    (answer,) = b.take_segments()
    assert answer.flags == ACK and answer.window == 0
    assert answer.ack == (b.irs + 4097) & MASK  # the byte was not accepted
    assert b.readable == 4096


def _data_from_a(b: object, seq_off: int, tsval: int, payload: bytes) -> Segment:
    return Segment(
        A[1],
        B[1],
        (b.irs + seq_off) & MASK,  # type: ignore[attr-defined]
        (b.iss + b.snd_nxt) & MASK,  # type: ignore[attr-defined]
        ACK | PSH,
        4096,
        payload,
        (Timestamps(tsval, 0),),
    )


def test_paws_drops_an_old_timestamp_with_an_ack() -> None:
    p = Pair(config=TcpConfig(delayed_ack=0))
    _a, b = handshake(p)
    old = (b.ts_recent - 100_000) & MASK
    b.receive(_data_from_a(b, b.rcv_nxt, old, b"stale"), p.now)
    (answer,) = b.take_segments()
    assert answer.flags == ACK and answer.ack == (b.irs + 1) & MASK
    assert b.readable == 0 and b.rcv_nxt == 1  # the exact-sequence old segment was dropped
    fresh = (b.ts_recent + 5) & MASK
    b.receive(_data_from_a(b, b.rcv_nxt, fresh, b"fresh"), p.now)
    assert b.read(100, p.now) == b"fresh" and b.ts_recent == fresh


def test_paws_tolerates_one_tick_as_linux() -> None:
    """A segment sent a millisecond before the resend that moved TS.Recent, reordered
    behind it, is new data (Linux's TCP_PAWS_WINDOW); two ticks older is dropped."""
    p = Pair(config=TcpConfig(delayed_ack=0))
    _a, b = handshake(p)
    recent = b.ts_recent
    b.receive(_data_from_a(b, b.rcv_nxt, (recent - 1) & MASK, b"late"), p.now)
    assert b.read(100, p.now) == b"late"
    b.take_segments()
    b.receive(_data_from_a(b, b.rcv_nxt, (b.ts_recent - 2) & MASK, b"older"), p.now)
    assert b.readable == 0


def test_paws_lets_a_reset_through() -> None:
    p = Pair()
    _a, b = handshake(p)
    rst = Segment(A[1], B[1], (b.irs + b.rcv_nxt) & MASK, 0, RST, 0)
    b.receive(rst, p.now)
    assert b.state is State.CLOSED


def test_the_first_ack_after_our_syn_ack_echoes_the_peers_ack_tsval() -> None:
    """RFC 7323 §4.3: the SYN,ACK sets Last.ACK.sent, so the peer's ACK of it updates
    TS.Recent; the server's first data segment echoes that ACK's TSval, not the SYN's."""
    p = Pair(config=TcpConfig(delayed_ack=0), latency=0.02)
    a, b = handshake(p)
    syn, _synack, final_ack = (seg for _, _, seg in p.log[:3])
    assert _ts(final_ack).tsval != _ts(syn).tsval  # 40 ms apart
    b.write(b"hello", p.now)
    (data,) = b.take_segments()
    assert _ts(data).tsecr == _ts(final_ack).tsval
    p.log.clear()
    p.b = b
    b._out.append(data)
    p.run_until(lambda: b.snd_una == 6)
    assert a.rto.srtt is not None and b.rto.srtt == pytest.approx(0.04, abs=0.002)


def test_duplicate_data_is_reported_with_a_dsack_block() -> None:
    p = Pair(config=TcpConfig(delayed_ack=0))
    _a, b = handshake(p)
    b.receive(_data_from_a(b, 1, b.ts_recent, b"x" * 100), p.now)
    b.take_segments()
    b.receive(_data_from_a(b, 1, b.ts_recent, b"x" * 100), p.now)  # again
    (answer,) = b.take_segments()
    (sack,) = [o for o in answer.options if isinstance(o, Sack)]
    assert sack.blocks == (((b.irs + 1) & MASK, (b.irs + 101) & MASK),)


@pytest.mark.parametrize("rfc1337", [True, False])
def test_time_wait_ignores_rst_per_rfc1337(rfc1337: bool) -> None:
    p = Pair(config=TcpConfig(rfc1337=rfc1337))
    a, b = handshake(p)
    a.shutdown(p.now)
    p.run_until(lambda: b.state is State.CLOSE_WAIT)
    b.shutdown(p.now)
    p.run_until(lambda: a.state is State.TIME_WAIT)
    rst = Segment(B[1], A[1], (a.irs + a.rcv_nxt) & MASK, 0, RST, 0)
    a.receive(rst, p.now)
    assert a.state is (State.TIME_WAIT if rfc1337 else State.CLOSED)


def test_giving_up_sends_a_reset() -> None:
    p = Pair(config=TcpConfig(max_retries=3, delayed_ack=0))
    a, b = handshake(p)
    p.drop = lambda c, seg: c is b  # every segment from b is lost from now on
    a.write(b"d" * 100, p.now)
    p.run_until(lambda: a.state is State.CLOSED, limit=100)
    p.run(until=p.now + 1)
    sent = [seg for _, who, seg in p.log if who == "a"]
    assert sent[-1].flags & RST and sent[-1].seq == (a.iss + a.snd_max) & MASK
    assert b.state is State.CLOSED  # the reset arrived: b does not wait forever


@pytest.mark.parametrize("seed", range(3))
def test_one_retransmission_per_loss_event(seed: int) -> None:
    t = start_transfer(seed, size=200_000, faults=Faults(loss=0.1))
    log = EventLog()
    t.net.trace.subscribe(log)
    t.net.loop.run()
    assert t.intact
    retx = [e for e in log.of("tcp", "retransmit") if "rel_seq" in e.fields]
    same_instant = Counter((e.node, e.time, e.fields["rel_seq"]) for e in retx)
    assert max(same_instant.values()) == 1  # never the same segment twice at one instant


def test_one_duplicate_ack_is_not_a_fast_retransmit() -> None:
    """Two segments, the first lost: the one duplicate ACK may be reordering, so RACK waits
    a quarter of the minimum RTT past it (RFC 8985 §6.2) instead of resending at once."""
    p = Pair(config=TcpConfig(delayed_ack=0))
    a, _b = handshake(p)
    log = EventLog()
    bus = TraceBus()
    bus.subscribe(log)
    a.trace = bus
    first = [True]

    def drop(c: object, seg: Segment) -> bool:
        if c is a and seg.payload and first[0]:
            first[0] = False
            return True
        return False

    p.drop = drop  # type: ignore[assignment]
    a.write(b"q" * (2 * a.smss), p.now)
    p.run_until(lambda: a.snd_una == 1 + 2 * a.smss)
    (dup,) = [e for e in log.of("tcp", "recv") if any("SACK=" in o for o in e.fields["options"])]
    (retx,) = log.of("tcp", "retransmit")
    assert retx.time == pytest.approx(dup.time + 0.02 / 4)  # min_RTT/4 later
