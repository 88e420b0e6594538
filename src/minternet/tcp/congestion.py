"""Congestion control: RFC 5681 slow start and congestion avoidance, NewReno (RFC 6582).

:class:`NewReno` owns ``cwnd`` and ``ssthresh`` (bytes) and is told what happened: new data
acknowledged, a duplicate ACK, the start and the end of fast recovery, a partial ACK, a
retransmission timeout. It decides nothing about *what* to send; the connection does, and
with SACK it uses the RFC 6675 ``pipe`` estimate instead of inflating ``cwnd``.
"""

from __future__ import annotations

from dataclasses import dataclass


def initial_window(smss: int) -> int:
    """RFC 5681 §3.1 (RFC 3390): IW = min(4*SMSS, max(2*SMSS, 4380)) bytes."""
    return min(4 * smss, max(2 * smss, 4380))


@dataclass(slots=True)
class NewReno:
    """The congestion window and slow-start threshold of one connection."""

    smss: int
    cwnd: int = 0
    ssthresh: int = 1 << 30  # §3.1: arbitrarily high before the first loss
    bytes_acked: int = 0  # appropriate byte counting in congestion avoidance (RFC 3465)
    in_recovery: bool = False
    recover: int = 0  # one past RFC 6582 "recover", the highest offset sent when it began

    def __post_init__(self) -> None:
        if self.cwnd == 0:
            self.cwnd = initial_window(self.smss)

    @property
    def phase(self) -> str:
        if self.in_recovery:
            return "fast-recovery"
        return "slow-start" if self.cwnd < self.ssthresh else "congestion-avoidance"

    def on_ack(self, acked: int) -> None:
        """New data acknowledged outside recovery (RFC 5681 §3.1)."""
        smss = self.smss
        if self.cwnd < self.ssthresh:
            # Slow start: grow by at most SMSS per ACK (eq. 2).
            self.cwnd += min(acked, smss)
        else:
            # Congestion avoidance: one SMSS per cwnd of data acknowledged (eq. 3 via ABC).
            self.bytes_acked += acked
            if self.bytes_acked >= self.cwnd:
                self.bytes_acked -= self.cwnd
                self.cwnd += smss

    def enter_recovery(self, flight_size: int, highest_sent: int, sack: bool) -> None:
        """Third duplicate ACK (RFC 5681 §3.2 steps 2-3, RFC 6582 §3.2 step 2)."""
        self.ssthresh = max(flight_size // 2, 2 * self.smss)  # eq. 4
        # NewReno inflates by the three segments that left the network; with SACK
        # (RFC 6675 §5 step 4.2) cwnd = ssthresh and the pipe estimate does the rest.
        self.cwnd = self.ssthresh if sack else self.ssthresh + 3 * self.smss
        self.in_recovery = True
        self.recover = highest_sent
        self.bytes_acked = 0

    def on_dup_ack_in_recovery(self) -> None:
        """NewReno §3.2 step 3: each further duplicate ACK inflates cwnd by SMSS."""
        self.cwnd += self.smss

    def on_partial_ack(self, acked: int) -> None:
        """RFC 6582 §3.2 step 5 (partial ACK): deflate by the amount acked, add back SMSS."""
        self.cwnd = max(self.cwnd - acked + self.smss, self.smss)

    def exit_recovery(self, flight_size: int) -> None:
        """RFC 6582 §3.2 step 5 (full ACK): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)."""
        self.cwnd = min(self.ssthresh, max(flight_size, self.smss) + self.smss)
        self.in_recovery = False
        self.bytes_acked = 0

    def on_loss_repaired(self, flight_size: int) -> None:
        """A loss repaired outside fast recovery (a tail loss probe, RFC 8985 §7.4.2): the
        same reduction as entering recovery (RFC 5681 eq. 4), cwnd = ssthresh."""
        self.ssthresh = max(flight_size // 2, 2 * self.smss)
        self.cwnd = min(self.cwnd, self.ssthresh)
        self.bytes_acked = 0

    def on_timeout(self, flight_size: int) -> None:
        """RFC 5681 §3.1: after an RTO, ssthresh = max(FlightSize/2, 2*SMSS), cwnd = 1 SMSS."""
        self.ssthresh = max(flight_size // 2, 2 * self.smss)
        self.cwnd = self.smss
        self.in_recovery = False
        self.bytes_acked = 0

    def after_idle(self, rto: float, idle: float) -> None:
        """RFC 5681 §4.1: restart from the restart window after an idle period > RTO."""
        if idle > rto:
            self.cwnd = min(self.cwnd, initial_window(self.smss))
