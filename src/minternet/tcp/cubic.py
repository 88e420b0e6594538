"""CUBIC congestion control (RFC 9438) with HyStart++ slow start (RFC 9406).

:class:`Cubic` has the shape of :class:`~.congestion.CongestionControl`: loss recovery tells
it what happened and reads ``cwnd`` and ``ssthresh``. Windows are kept in bytes; the cubic
function works in segments (``W`` in RFC 9438 §4.2) and seconds, as the RFC writes it.

- Slow start with HyStart++ (RFC 9406 §4): per round trip the minimum RTT of the first
  N_RTT_SAMPLE samples is compared with the previous round's; a rise of more than
  clamp(lastRoundMinRTT/8, 4 ms, 16 ms) moves to Conservative Slow Start (growth / 4),
  which ends in congestion avoidance after CSS_ROUNDS rounds, or returns to slow start if
  the RTT falls back below the baseline.
- Congestion avoidance: W_cubic(t) = C (t - K)^3 + W_max (§4.2), the target W_cubic(t +
  RTT) clamped to [cwnd, 1.5 cwnd] (§4.4), and the Reno-friendly estimate W_est (§4.3).
- A congestion event: W_max = cwnd (reduced further by fast convergence, §4.7),
  ssthresh = cwnd = max(beta_cubic * cwnd, 2 SMSS) (§4.6); a timeout sets cwnd = 1 SMSS
  (§4.8); a spurious event is undone with W_max and K restored (§4.9).
"""

from __future__ import annotations

from dataclasses import dataclass

from .congestion import initial_window

C = 0.4  # RFC 9438 §5.1
BETA = 0.7  # §4.6 beta_cubic
ALPHA = 3 * (1 - BETA) / (1 + BETA)  # §4.3 alpha_cubic for the Reno-friendly region

# RFC 9406 §4.3
MIN_RTT_THRESH = 0.004
MAX_RTT_THRESH = 0.016
MIN_RTT_DIVISOR = 8
N_RTT_SAMPLE = 8
CSS_GROWTH_DIVISOR = 4
CSS_ROUNDS = 5
L = 8  # segments of growth per ACK at most (no pacing)


@dataclass(slots=True)
class Cubic:
    """The congestion window of one connection under CUBIC with HyStart++."""

    smss: int
    cwnd: int = 0
    ssthresh: int = 1 << 30
    w_max: float = 0.0  # segments
    k: float = 0.0  # seconds
    epoch_start: float | None = None
    w_est: float = 0.0  # segments
    cwnd_frac: float = 0.0  # bytes of growth not yet whole
    undo_w_max: float = 0.0
    undo_k: float = 0.0
    # HyStart++ state
    window_end: int | None = None
    last_round_min_rtt: float | None = None
    current_round_min_rtt: float | None = None
    rtt_sample_count: int = 0
    css_baseline_min_rtt: float | None = None
    css_rounds: int = 0
    note: str | None = None  # a phase change to report (read and cleared by recovery)

    def __post_init__(self) -> None:
        if self.cwnd == 0:
            self.cwnd = initial_window(self.smss)

    @property
    def phase(self) -> str:
        if self.cwnd >= self.ssthresh:
            return "congestion-avoidance"
        return "conservative-slow-start" if self.css_baseline_min_rtt else "slow-start"

    # -- slow start (RFC 9406) -------------------------------------------------------------

    def _new_round(self, snd_max: int) -> None:
        self.window_end = snd_max
        self.last_round_min_rtt = self.current_round_min_rtt
        self.current_round_min_rtt = None
        self.rtt_sample_count = 0
        if self.css_baseline_min_rtt is not None:
            self.css_rounds += 1
            if self.css_rounds >= CSS_ROUNDS:
                # §4.2: CSS lasted CSS_ROUNDS rounds: the end of slow start.
                self.ssthresh = self.cwnd
                self.css_baseline_min_rtt = None
                self.note = "HyStart++: conservative slow start over, congestion avoidance"

    def _hystart(self, rtt: float | None, ack: int, snd_max: int) -> None:
        if self.window_end is None or ack > self.window_end:
            self._new_round(snd_max)
        if rtt is None:
            return
        cur = self.current_round_min_rtt
        self.current_round_min_rtt = rtt if cur is None else min(cur, rtt)
        self.rtt_sample_count += 1
        last = self.last_round_min_rtt
        cur = self.current_round_min_rtt
        if self.css_baseline_min_rtt is None:
            if self.rtt_sample_count >= N_RTT_SAMPLE and last is not None:
                thresh = min(max(last / MIN_RTT_DIVISOR, MIN_RTT_THRESH), MAX_RTT_THRESH)
                if cur >= last + thresh:
                    self.css_baseline_min_rtt = cur
                    self.css_rounds = 0
                    self.note = (
                        f"HyStart++: RTT rose {1000 * (cur - last):.1f} ms in a round; "
                        "conservative slow start (RFC 9406 §4.2)"
                    )
        elif cur < self.css_baseline_min_rtt:
            self.css_baseline_min_rtt = None  # §4.2: a false alarm, back to slow start
            self.note = "HyStart++: RTT fell below the baseline; back to slow start"

    # -- the interface loss recovery uses ------------------------------------------------

    def on_ack(
        self,
        acked: int,
        now: float = 0.0,
        srtt: float | None = None,
        rtt: float | None = None,
        ack: int = 0,
        snd_max: int = 0,
    ) -> None:
        smss = self.smss
        if self.cwnd < self.ssthresh:
            self._hystart(rtt, ack, snd_max)
            grow = min(acked, L * smss)
            if self.css_baseline_min_rtt is not None:
                grow //= CSS_GROWTH_DIVISOR
            self.cwnd += grow
            return
        # Congestion avoidance (RFC 9438 §4.2-4.5), in segments.
        cwnd = self.cwnd / smss
        if self.epoch_start is None:
            self.epoch_start = now
            if cwnd < self.w_max:
                self.k = ((self.w_max - cwnd) / C) ** (1 / 3)
            else:
                self.k = 0.0
                self.w_max = cwnd
            self.w_est = cwnd
        rtt_now = srtt if srtt is not None else 0.0
        t = now - self.epoch_start
        target = C * (t + rtt_now - self.k) ** 3 + self.w_max
        target = min(max(target, cwnd), 1.5 * cwnd)
        segs = acked / smss
        self.w_est += ALPHA * segs / cwnd
        w_cubic = C * (t - self.k) ** 3 + self.w_max
        if w_cubic < self.w_est:
            inc = (self.w_est - cwnd) * smss  # the Reno-friendly region (§4.3)
        else:
            inc = (target - cwnd) / cwnd * segs * smss  # concave or convex (§4.4, 4.5)
        self.cwnd_frac += max(inc, 0.0)
        whole = int(self.cwnd_frac)
        if whole:
            self.cwnd += whole
            self.cwnd_frac -= whole

    def _reduce(self) -> int:
        cwnd = self.cwnd / self.smss
        self.undo_w_max, self.undo_k = self.w_max, self.k
        # §4.7 fast convergence: release bandwidth to new flows.
        self.w_max = cwnd * (1 + BETA) / 2 if cwnd < self.w_max else cwnd
        self.epoch_start = None
        self.cwnd_frac = 0.0
        self.css_baseline_min_rtt = None
        self.window_end = None
        return max(int(self.cwnd * BETA), 2 * self.smss)

    def on_congestion_event(self, flight_size: int, now: float = 0.0) -> None:
        """§4.6: ssthresh = cwnd = max(beta_cubic * cwnd, 2 SMSS)."""
        self.ssthresh = self._reduce()
        self.cwnd = self.ssthresh

    def on_recovery_end(self) -> None:
        self.cwnd = min(self.cwnd, self.ssthresh)

    def on_timeout(self, flight_size: int, *, repeated: bool = False) -> None:
        """§4.8: as a congestion event, then cwnd = 1 SMSS (slow start up to ssthresh).
        ``repeated``: the episode was already answered (RFC 5681 §3.1 holds ssthresh
        constant), so neither ssthresh nor W_max shrinks again."""
        if not repeated:
            self.ssthresh = self._reduce()
        self.cwnd = self.smss

    def undo(self, cwnd: int, ssthresh: int) -> None:
        """§4.9: the event was spurious — restore cwnd, ssthresh, W_max and K."""
        self.cwnd = max(self.cwnd, cwnd)
        self.ssthresh = max(self.ssthresh, ssthresh)
        self.w_max, self.k = self.undo_w_max, self.undo_k
        self.epoch_start = None
