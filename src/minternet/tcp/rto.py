"""The retransmission timeout (RFC 6298).

:class:`RtoEstimator` keeps SRTT and RTTVAR from round-trip samples and says how long the
retransmission timer runs. It is pure arithmetic: the connection decides which samples are
valid (Karn's rule, RFC 6298 §3: never time a retransmitted segment) and when to back off.
"""

from __future__ import annotations

from dataclasses import dataclass

ALPHA = 1 / 8
BETA = 1 / 4
K = 4


@dataclass(slots=True)
class RtoEstimator:
    """SRTT, RTTVAR and RTO with the RFC 6298 rules; times are seconds."""

    initial: float = 1.0  # §2.1: RTO <- 1 second before any sample
    minimum: float = 1.0  # §2.4: SHOULD be rounded up to 1 s (Linux uses 0.2 s)
    maximum: float = 60.0  # §2.5: a maximum of at least 60 s MAY be placed
    granularity: float = 0.001  # G, the clock granularity
    srtt: float | None = None
    rttvar: float = 0.0
    backoff: int = 0  # how many times the timer has been doubled since the last sample

    @property
    def base(self) -> float:
        """The RTO before backoff."""
        if self.srtt is None:
            return self.initial
        rto = self.srtt + max(self.granularity, K * self.rttvar)
        return min(self.maximum, max(self.minimum, rto))

    @property
    def rto(self) -> float:
        """The current timeout: the base doubled once per backoff (§5.5), capped."""
        return min(self.maximum, self.base * (1 << self.backoff))

    def sample(self, rtt: float) -> None:
        """Take a round-trip measurement R (§2.2 for the first, §2.3 after)."""
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:
            self.rttvar = (1 - BETA) * self.rttvar + BETA * abs(self.srtt - rtt)
            self.srtt = (1 - ALPHA) * self.srtt + ALPHA * rtt
        self.backoff = 0

    def back_off(self) -> None:
        """§5.5: the timer expired — double the RTO (up to the maximum)."""
        if self.base * (1 << self.backoff) < self.maximum:
            self.backoff += 1
