"""Loss recovery that does not wait for the RTO: tail loss probes (RFC 8985 §7), RACK-style
time-based loss detection for small flights (RFC 8985 §6.2), the RFC 6582 "recover" bound,
and RFC 6675 rescue retransmission — each against the plain RTO path it replaces."""

from __future__ import annotations

from typing import Any

import pytest
from tcp_pair import Pair, handshake

from minternet.tcp.connection import Connection, TcpConfig
from minternet.tcp.segment import Sack, Segment
from minternet.trace.bus import TraceBus, TraceEvent

SMSS = 1448


def _events(c: Connection) -> list[TraceEvent]:
    got: list[TraceEvent] = []
    bus = TraceBus()
    bus.subscribe(got.append)
    c.trace = bus
    return got


def _first_copy_dropper(a: Connection, offsets: set[int]) -> Any:
    """Drop the first transmission of a's data segments starting at these offsets."""
    seen: set[int] = set()

    def drop(c: Connection, seg: Segment) -> bool:
        if c is not a or not seg.payload:
            return False
        off = (seg.seq - a.iss) & 0xFFFFFFFF
        if off in offsets and off not in seen:
            seen.add(off)
            return True
        return False

    return drop


@pytest.mark.parametrize("tlp", [True, False])
def test_a_lost_last_segment_is_repaired_by_a_probe_not_the_rto(tlp: bool) -> None:
    p = Pair(config=TcpConfig(delayed_ack=0, tail_loss_probe=tlp, rto_min=1.0))
    a, _b = handshake(p)
    events = _events(a)
    p.drop = _first_copy_dropper(a, {1 + 2 * SMSS})  # the third and last segment
    t0 = p.now
    a.write(b"z" * (3 * SMSS), p.now)
    p.run_until(lambda: a.snd_una == 1 + 3 * SMSS)
    took = p.now - t0
    kinds = [e.kind for e in events]
    assert a.retransmissions == 1
    if tlp:
        # PTO = 2 SRTT + 200 ms (one segment left in flight: a delayed ACK is possible)
        assert took < 0.02 + 2 * 0.03 + 0.2 + 0.03
        assert "tail-loss-probe" in kinds and "rto" not in kinds
        assert a.rto.backoff == 0
    else:
        assert took > 1.0 and "rto" in kinds and "tail-loss-probe" not in kinds


def test_a_probe_due_after_the_rto_goes_out_at_the_rto_time_instead() -> None:
    """RFC 8985 §7.2: "If Now() + PTO > TCP_RTO_expiration(): PTO = TCP_RTO_expiration() -
    Now()". With one segment left in flight the PTO is 2 SRTT + 200 ms, later than the
    200 ms RTO: the probe is sent at the RTO's time and the timeout does not happen (no
    backoff, no cwnd collapse), as Linux's tcp_schedule_loss_probe."""
    p = Pair(config=TcpConfig(delayed_ack=0, rto_min=0.2))
    a, _b = handshake(p)
    events = _events(a)
    p.drop = _first_copy_dropper(a, {1 + 2 * SMSS})  # the third and last segment
    a.write(b"z" * (3 * SMSS), p.now)
    sent = p.now
    p.run_until(lambda: a.snd_una == 1 + 3 * SMSS)
    kinds = [e.kind for e in events]
    assert "tail-loss-probe" in kinds and "rto" not in kinds, kinds
    probe = next(e for e in events if e.kind == "tail-loss-probe")
    assert probe.time - sent < 0.2 + 0.05  # at the RTO's time, not 2 SRTT + 200 ms later
    assert a.retransmissions == 1 and a.rto.backoff == 0
    assert a.recovery.cc.cwnd >= 3 * SMSS


def test_a_fin_after_a_lost_segment_is_sacked_at_once_and_the_hole_resent_by_rack() -> None:
    """The last data segment is lost and the FIN, sent on its own, arrives: the receiver
    holds the FIN, ACKs at once (RFC 5681 §4.2: out of order) with a SACK block covering
    the FIN's sequence number (as Linux's out-of-order queue), and the sender's RACK
    resends the hole within an RTT or so — no probe, no timeout. Before, the FIN went
    unacknowledged and the sender waited for its RTO."""
    p = Pair(config=TcpConfig(delayed_ack=0, tail_loss_probe=False, rto_min=1.0))
    a, b = handshake(p)
    events = _events(a)
    a.write(b"c" * 31, p.now)
    p.drop = _first_copy_dropper(a, {1})
    p.flush()  # the 31 bytes leave (and are lost) before the close
    a.shutdown(p.now)
    t0 = p.now
    p.run_until(lambda: a.snd_una == 1 + 31 + 1)
    sacks = [
        o.blocks
        for _t, who, seg in p.log
        if who == "b" and seg.flags & 0x10
        for o in seg.options
        if type(o) is Sack
    ]
    fin = ((b.irs + 32) & 0xFFFFFFFF, (b.irs + 33) & 0xFFFFFFFF)  # offsets 1-31 are data
    assert any(fin in blocks for blocks in sacks), sacks
    whys = [e.why or "" for e in events if e.kind == "retransmit"]
    assert len(whys) == 1 and "RACK" in whys[0], whys
    assert not [e for e in events if e.kind == "rto"]
    assert p.now - t0 < 0.2
    assert b.fin_received and b.reassembler.read(100) == b"c" * 31


def test_lost_acks_are_answered_by_a_probe_with_new_data() -> None:
    """Every ACK of the first flight is lost: the probe sends the next new segment (not a
    retransmission), whose ACK acknowledges everything."""
    p = Pair(config=TcpConfig(delayed_ack=0))
    a, b = handshake(p)
    events = _events(a)
    t0 = p.now
    p.drop = lambda c, seg: c is b and p.now < t0 + 0.025
    a.write(b"n" * (20 * SMSS), p.now)
    p.run_until(lambda: a.snd_una == 1 + 20 * SMSS)
    probes = [e for e in events if e.kind == "tail-loss-probe"]
    assert probes and probes[0].fields["sent"] == "new data"
    assert a.retransmissions == 0
    assert p.now - t0 < 0.5


def test_too_few_duplicate_acks_still_start_recovery_after_the_reordering_window() -> None:
    """The first segment and the two limited-transmit segments are lost: two duplicate ACKs
    only. The SACKed data was sent after the hole, so after SRTT/4 the hole is lost."""
    p = Pair(config=TcpConfig(delayed_ack=0, rto_min=1.0))
    a, _b = handshake(p)
    events = _events(a)
    p.drop = _first_copy_dropper(a, {1, 1 + 3 * SMSS, 1 + 4 * SMSS})
    a.write(b"r" * (12 * SMSS), p.now)
    p.run_until(lambda: a.snd_una == 1 + 12 * SMSS)
    whys = [e.why or "" for e in events if e.kind == "cwnd"]
    assert any("reordering window" in w for w in whys), whys
    assert not [e for e in events if e.kind == "rto"]


def test_recovery_ends_when_the_ack_reaches_recover() -> None:
    """RFC 6582: an ACK covering everything sent when recovery began is a full ACK."""
    p = Pair(config=TcpConfig(delayed_ack=0))
    a, _b = handshake(p)
    p.drop = _first_copy_dropper(a, {1 + SMSS})
    a.write(b"f" * (6 * SMSS), p.now)
    p.run_until(lambda: a.snd_una == 1 + 6 * SMSS)
    assert a.retransmissions >= 1
    assert not a.recovery.in_recovery  # before the fix it stayed in recovery at ack == recover


def test_a_lost_hole_and_a_lost_tail_are_both_repaired_without_the_rto() -> None:
    """A hole in the middle and the last segment lost: RACK marks the hole (data sent after
    it was SACKed), the tail loss probe finds the tail (RFC 8985 §6.2, §7)."""
    p = Pair(config=TcpConfig(delayed_ack=0, tail_loss_probe=False, rto_min=1.0))
    a, _b = handshake(p)
    events = _events(a)
    # the window grows past 6 segments first, then segment 7 and the last one are lost
    a.write(b"w" * (6 * SMSS), p.now)
    p.run_until(lambda: a.snd_una == 1 + 6 * SMSS)
    base = 1 + 6 * SMSS
    p.drop = _first_copy_dropper(a, {base, base + 4 * SMSS})
    a.write(b"w" * (5 * SMSS), p.now)
    p.run_until(lambda: a.snd_una == base + 5 * SMSS)
    whys = [e.why or "" for e in events if e.kind == "retransmit"]
    assert len(whys) == 2 and any("RACK" in w for w in whys), whys
    assert not [e for e in events if e.kind == "rto"]
