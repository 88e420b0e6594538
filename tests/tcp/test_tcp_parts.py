"""The connection's parts on their own: the reassembler (held pieces, FIN position, SACK
and D-SACK blocks) and loss recovery (RACK marks, pipe, D-SACK and Eifel undo, timers)."""

from __future__ import annotations

from minternet.tcp.congestion import NewReno
from minternet.tcp.reassembly import Reassembler
from minternet.tcp.recovery import LossRecovery
from minternet.tcp.rto import RtoEstimator

MSS = 100


def test_reassembler_holds_pieces_and_reports_sack_then_dsack() -> None:
    r = Reassembler()
    r.store(301, b"c" * 100)
    r.store(101, b"a" * 100)
    assert r.has_holes and r.held == 200
    assert r.sack_blocks(4) == [(101, 201), (301, 401)]  # the newest piece first
    r.store(151, b"x" * 100)  # overlaps [151, 201) and adds [201, 251)
    assert r.sack_blocks(4) == [(151, 201), (101, 251), (301, 401)]  # D-SACK first
    assert r.sack_blocks(4) == [(101, 251), (301, 401)]  # a D-SACK is reported once
    r.append(b"0" * 100)  # the in-order bytes [1, 101)
    assert r.drain(101) == 251 and r.readable == 250
    assert r.read(1000)[100:] == b"a" * 100 + b"x" * 50
    assert r.sack_blocks(4) == [(301, 401)]


def test_reassembler_duplicate_of_delivered_data_is_a_dsack() -> None:
    r = Reassembler()
    r.duplicate(1, 51)
    assert r.sack_blocks(3) == [(1, 51)] and r.dsack is None


def test_reassembler_reports_a_held_fin_as_the_sequence_number_it_occupies() -> None:
    r = Reassembler()
    r.store_fin(401)  # the FIN alone, data [1, 401) not yet in
    assert r.has_holes and r.sack_block_count(4) == 1
    assert r.sack_blocks(4) == [(401, 402)]
    r.store(301, b"d" * 100)  # the data just before it joins its block
    assert r.sack_block_count(4) == 1 and r.sack_blocks(4) == [(301, 402)]
    r.store(101, b"b" * 100)
    assert r.sack_block_count(4) == 2
    assert r.sack_blocks(4) == [(101, 201), (301, 402)]  # the newest piece first


def _recovery(sack: bool = True) -> LossRecovery:
    rto = RtoEstimator(1.0, 0.2, 60.0)
    return LossRecovery(NewReno(MSS, cwnd=10 * MSS), rto, smss=MSS, sack=sack, tail_loss_probe=True)


def _send(r: LossRecovery, n: int, now: float, first: int = 1) -> None:
    for i in range(n):
        r.on_sent(first + i * MSS, first + (i + 1) * MSS, now)


def test_rack_marks_a_hole_lost_only_after_the_reordering_window() -> None:
    r = _recovery()
    _send(r, 5, 0.0)
    # segment 1 missing, 2..3 SACKed at 0.05: RTT 0.05; not yet 3 segments SACKed, so
    # reo_wnd = min_RTT/4 and the hole is lost at 0 + 0.05 + 0.0125.
    r.on_ack(1, 1, 501, [(101, 301)], None, True, 0.05)
    assert r.lost_bytes == 0 and r.reo_at is not None
    assert abs(r.reo_at - 0.0625) < 1e-9
    r.on_reorder_timeout(501, r.reo_at)
    assert r.lost_bytes == MSS and r.in_recovery
    assert r.cc.cwnd == 250  # NewReno: ssthresh = flight/2, cwnd = ssthresh
    lost = r.next_lost()
    assert lost is not None and lost.start == 1
    # pipe: 500 out - 200 SACKed - 100 lost = 200; after resending it, 300.
    assert r.pipe(500) == 200
    r.on_retransmitted(lost, 0.07)
    assert r.pipe(500) == 300 and r.next_lost() is None


def test_three_sacked_segments_mark_the_hole_lost_at_once() -> None:
    r = _recovery()
    _send(r, 5, 0.0)
    r.on_ack(1, 1, 501, [(101, 401)], None, True, 0.05)  # reo_wnd 0 (RFC 8985 §6.2 step 4)
    assert r.lost_bytes == MSS and r.in_recovery


def test_dsack_for_every_retransmission_undoes_the_reduction() -> None:
    r = _recovery()
    _send(r, 5, 0.0)
    r.on_ack(1, 1, 501, [(101, 401)], None, True, 0.05)
    lost = r.next_lost()
    assert lost is not None
    r.on_retransmitted(lost, 0.05)
    assert r.cc.cwnd == 250
    # The original arrives after all: the cumulative ACK, then the D-SACK for the copy.
    r.on_ack(1, 401, 501, [], None, False, 0.06)
    r.on_ack(401, 401, 501, [(1, 101)], None, False, 0.10)
    assert r.cc.cwnd == 10 * MSS and r.spurious == 1
    assert r.reo_wnd_mult == 2  # §6.2 step 3: the window grows after a D-SACK round


def test_eifel_timestamps_undo_a_spurious_timeout() -> None:
    r = _recovery()
    _send(r, 3, 0.0)
    r.on_timeout(301, 1.0)
    assert r.in_loss and r.cc.cwnd == MSS and r.lost_bytes == 300
    seg = r.next_lost()
    assert seg is not None
    r.on_retransmitted(seg, 1.0)
    # The ACK echoes a TSval from before the retransmission (sent at 0 ms): RFC 3522.
    r.on_ack(1, 301, 301, [], 0, False, 1.02)
    assert r.cc.cwnd >= 10 * MSS and not r.in_loss and r.lost_bytes == 0


def test_rtt_samples_skip_acks_covering_a_retransmission() -> None:
    r = _recovery()
    _send(r, 2, 0.0)
    r.on_timeout(201, 1.0)
    seg = r.next_lost()
    assert seg is not None
    r.on_retransmitted(seg, 1.0)
    r.on_ack(1, 201, 201, [], None, False, 1.05)
    assert r.rto.srtt is None  # Karn: the ACK covered the resent segment
    _send(r, 1, 2.0, first=201)
    r.on_ack(201, 301, 301, [], None, False, 2.04)
    assert r.rto.srtt is not None and abs(r.rto.srtt - 0.04) < 1e-9


def test_without_sack_three_duplicate_acks_mark_the_first_segment_lost() -> None:
    r = _recovery(sack=False)
    _send(r, 6, 0.0)
    for i in range(2):
        r.on_ack(1, 1, 601, [], None, True, 0.05 + i / 1000)
    assert not r.in_recovery and r.pipe(600) == 400  # limited transmit (RFC 3042)
    r.on_ack(1, 1, 601, [], None, True, 0.053)
    assert r.in_recovery and r.lost_bytes == MSS
    lost = r.next_lost()
    assert lost is not None
    r.on_retransmitted(lost, 0.053)
    r.on_ack(1, 201, 601, [], None, False, 0.1)  # partial ACK: the next hole is lost too
    nxt = r.next_lost()
    assert nxt is not None and nxt.start == 201


def test_an_ack_of_a_resend_is_timed_from_its_echo_and_ends_the_backoff() -> None:
    """RFC 7323 §4.1: the echo of the resend's TSval times the ACK Karn cannot (as Linux's
    tcp_rtt_tsopt_us); RFC 6298 §5.5's backoff then ends. An echo older than the latest
    resend (of an earlier copy) would time that copy across the wait: no sample."""
    r = _recovery()
    _send(r, 2, 0.0)
    r.on_timeout(201, 1.0)
    r.rto.back_off()
    seg = r.next_lost()
    assert seg is not None
    r.on_retransmitted(seg, 1.0)
    r.on_timeout(201, 1.4)
    r.rto.back_off()
    seg = r.next_lost()
    assert seg is not None and seg.start == 1
    r.on_retransmitted(seg, 1.4)
    r.on_ack(1, 101, 201, [], 1000, False, 1.45)  # echoes the first resend (1000 ms)
    assert r.rto.srtt is None and r.rto.backoff == 2
    seg = r.next_lost()
    assert seg is not None and seg.start == 101
    r.on_retransmitted(seg, 1.5)
    r.on_ack(101, 201, 201, [], 1500, False, 1.54)  # echoes this resend (1500 ms)
    assert r.rto.srtt is not None and abs(r.rto.srtt - 0.04) < 1e-9 and r.rto.backoff == 0


def test_a_timeout_inside_an_episode_keeps_ssthresh() -> None:
    """RFC 5681 §3.1: one reduction per loss episode — a second timeout (or one during
    fast recovery) sets cwnd to 1 SMSS but holds ssthresh."""
    r = _recovery()
    _send(r, 8, 0.0)
    r.on_timeout(801, 1.0)
    assert r.cc.ssthresh == 400 and r.cc.cwnd == MSS
    seg = r.next_lost()
    assert seg is not None
    r.on_retransmitted(seg, 1.0)
    r.on_ack(1, 101, 801, [], 1000, False, 1.05)  # partial: still in the timeout episode
    r.on_timeout(801, 1.5)
    assert r.cc.ssthresh == 400 and r.cc.cwnd == MSS  # not 350 = FlightSize/2 again
