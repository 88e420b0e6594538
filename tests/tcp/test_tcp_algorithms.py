"""The small pure modules: sequence arithmetic, RTO (RFC 6298), NewReno."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet.tcp.congestion import NewReno, initial_window
from minternet.tcp.rto import RtoEstimator
from minternet.tcp.seq import (
    seq_add,
    seq_between,
    seq_diff,
    seq_ge,
    seq_gt,
    seq_le,
    seq_lt,
    unwrap,
    wrap,
)


def test_comparisons_across_the_wrap() -> None:
    assert seq_lt(0xFFFFFFF0, 0x10)
    assert seq_gt(0x10, 0xFFFFFFF0)
    assert seq_le(5, 5) and seq_ge(5, 5)
    assert seq_add(0xFFFFFFFF, 2) == 1
    assert seq_diff(1, 0xFFFFFFFF) == 2
    assert seq_between(0xFFFFFFFE, 0, 3)
    assert not seq_between(5, 5, 5)


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**40), st.integers(-(2**30), 2**30))
def test_unwrap_inverts_wrap(base: int, near: int, delta: int) -> None:
    offset = max(0, near + delta)
    assert unwrap(base, wrap(base, offset), near) == offset


def test_rto_follows_rfc6298() -> None:
    r = RtoEstimator(initial=1.0, minimum=0.2, maximum=60.0)
    assert r.rto == 1.0  # §2.1
    r.sample(0.1)  # §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR
    assert r.srtt == pytest.approx(0.1) and r.rttvar == pytest.approx(0.05)
    assert r.rto == pytest.approx(0.3)
    r.sample(0.3)  # §2.3
    assert r.rttvar == pytest.approx(0.75 * 0.05 + 0.25 * 0.2)
    assert r.srtt == pytest.approx(0.875 * 0.1 + 0.125 * 0.3)
    base = r.rto
    r.back_off()
    r.back_off()
    assert r.rto == pytest.approx(4 * base)  # §5.5
    for _ in range(20):
        r.back_off()
    assert r.rto == 60.0
    r.sample(0.1)
    assert r.backoff == 0


def test_rto_minimum_is_one_second_by_default() -> None:
    r = RtoEstimator()
    r.sample(0.001)
    assert r.rto == 1.0


def test_newreno_phases() -> None:
    assert initial_window(1460) == 4380  # RFC 5681 §3.1
    assert initial_window(536) == 2144
    cc = NewReno(1000)
    assert cc.cwnd == 4000 and cc.phase == "slow-start"
    cc.on_ack(1000)
    assert cc.cwnd == 5000
    cc.on_ack(5000)  # at most SMSS per ACK in slow start
    assert cc.cwnd == 6000
    before = (cc.cwnd, cc.ssthresh)
    cc.on_congestion_event(flight_size=10000)
    assert cc.ssthresh == 5000 and cc.cwnd == 5000  # eq. 4, cwnd = ssthresh (RFC 6675)
    cc.undo(*before)  # the retransmission was spurious (RFC 4015)
    assert (cc.cwnd, cc.ssthresh) == before
    cc.on_congestion_event(flight_size=6000)
    cc.on_recovery_end()
    assert cc.cwnd == 3000 and cc.phase == "congestion-avoidance"
    for _ in range(3):
        cc.on_ack(1000)
    assert cc.cwnd == 4000  # one SMSS per cwnd of data in congestion avoidance
    cc.on_timeout(flight_size=8000)
    assert cc.cwnd == 1000 and cc.ssthresh == 4000
    cc.on_timeout(flight_size=1000)
    assert cc.ssthresh == 2000  # never below 2 SMSS
    cc.on_timeout(flight_size=9000, repeated=True)
    assert cc.cwnd == 1000 and cc.ssthresh == 2000  # §3.1: held within one episode
