"""Congestion control as a plug-in: RFC 5681 slow start and congestion avoidance (NewReno).

A :class:`CongestionControl` owns ``cwnd`` and ``ssthresh`` (bytes) and is told what
happened: new data acknowledged, a congestion event (a loss found by ACKs), the end of
recovery, a retransmission timeout, a reduction found to be spurious (undo). It decides
nothing about *what* to send: loss recovery (:mod:`.recovery`) does, using the RFC 6675
``pipe`` estimate instead of inflating ``cwnd`` (NewReno's RFC 6582 partial ACKs and the
duplicate-ACK inflation live there too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

#: The congestion controllers a host can run (``--cc``, the world's ``congestion_control``).
CongestionName = Literal["newreno", "cubic"]


def initial_window(smss: int) -> int:
    """RFC 5681 §3.1 (RFC 3390): IW = min(4*SMSS, max(2*SMSS, 4380)) bytes."""
    return min(4 * smss, max(2 * smss, 4380))


class CongestionControl(Protocol):
    """What loss recovery tells a congestion controller, and what it reads back."""

    smss: int
    cwnd: int
    ssthresh: int
    note: str | None  # a phase change worth a trace event (read and cleared by recovery)

    @property
    def phase(self) -> str: ...

    def on_ack(
        self,
        acked: int,
        now: float,
        srtt: float | None,
        rtt: float | None,
        ack: int,
        snd_max: int,
    ) -> None: ...

    def on_congestion_event(self, flight_size: int, now: float) -> None: ...

    def on_recovery_end(self) -> None: ...

    def on_timeout(self, flight_size: int, *, repeated: bool = False) -> None: ...

    def undo(self, cwnd: int, ssthresh: int) -> None: ...


@dataclass(slots=True)
class NewReno:
    """The congestion window and slow-start threshold of one connection (RFC 5681)."""

    smss: int
    cwnd: int = 0
    ssthresh: int = 1 << 30  # §3.1: arbitrarily high before the first loss
    bytes_acked: int = 0  # appropriate byte counting in congestion avoidance (RFC 3465)
    note: str | None = None

    def __post_init__(self) -> None:
        if self.cwnd == 0:
            self.cwnd = initial_window(self.smss)

    @property
    def phase(self) -> str:
        return "slow-start" if self.cwnd < self.ssthresh else "congestion-avoidance"

    def on_ack(
        self,
        acked: int,
        now: float = 0.0,
        srtt: float | None = None,
        rtt: float | None = None,
        ack: int = 0,
        snd_max: int = 0,
    ) -> None:
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

    def on_congestion_event(self, flight_size: int, now: float = 0.0) -> None:
        """A loss detected by ACKs (RFC 5681 §3.2 eq. 4, RFC 6675 §5 step 4.2): ssthresh
        = max(FlightSize/2, 2*SMSS) and cwnd = ssthresh; the pipe estimate does the rest."""
        self.ssthresh = max(flight_size // 2, 2 * self.smss)
        self.cwnd = self.ssthresh
        self.bytes_acked = 0

    def on_recovery_end(self) -> None:
        """RFC 6675 §5: at the end of recovery cwnd is ssthresh (it already is)."""
        self.cwnd = min(self.cwnd, self.ssthresh)

    def on_timeout(self, flight_size: int, *, repeated: bool = False) -> None:
        """RFC 5681 §3.1: after an RTO, ssthresh = max(FlightSize/2, 2*SMSS), cwnd = 1 SMSS.
        ``repeated``: a timeout inside an episode already answered (a recovery or an earlier
        timeout) holds ssthresh constant, as §3.1 says for a segment already resent."""
        if not repeated:
            self.ssthresh = max(flight_size // 2, 2 * self.smss)
        self.cwnd = self.smss
        self.bytes_acked = 0

    def undo(self, cwnd: int, ssthresh: int) -> None:
        """The reduction was for a spurious retransmission (RFC 4015 §3): restore."""
        self.cwnd = max(self.cwnd, cwnd)
        self.ssthresh = max(self.ssthresh, ssthresh)
        self.bytes_acked = 0

    def after_idle(self, rto: float, idle: float) -> None:
        """RFC 5681 §4.1: restart from the restart window after an idle period > RTO."""
        if idle > rto:
            self.cwnd = min(self.cwnd, initial_window(self.smss))


def make_congestion_control(name: str, smss: int) -> CongestionControl:
    """The controller called ``name`` (``"newreno"`` or ``"cubic"``) for a segment size."""
    if name == "newreno":
        return NewReno(smss)
    if name == "cubic":
        from .cubic import Cubic

        return Cubic(smss)
    raise ValueError(f"unknown congestion control {name!r} (newreno or cubic)")
