"""Loss recovery of one TCP sender: RACK-TLP (RFC 8985), the RTO (RFC 6298), undo.

:class:`LossRecovery` keeps one record per segment sent and not yet cumulatively
acknowledged (:class:`SentSegment`: its range, when it was last sent, whether it was
retransmitted, SACKed or is believed lost). From those records come

- **RTT samples** from the send times of newly ACKed or SACKed segments that were never
  retransmitted (Karn's rule, RFC 6298 §3), taking the most recently sent one (RACK.rtt,
  RFC 8985 §6.2 step 1), as Linux does from its write queue. Samples are not taken from
  echoed timestamps: after lost ACKs or a hole, RFC 7323 §4.3 makes the peer echo an older
  TSval, which inflates SRTT (RFC 7323 Appendix G); the send time of the newest delivered
  segment has no such bias. Only an ACK that newly acknowledges nothing but resent data
  (no send time may time it) is timed from its echo, when the echo is that of the latest
  resend (RFC 7323 §4.1, as Linux's ``tcp_rtt_tsopt_us``): it ends the backoff (RFC 6298
  §5.5 keeps it until a valid sample).
- **Loss detection** by time (RACK, RFC 8985 §6.2): a segment is lost when a segment sent
  after it was delivered and a reordering window has passed since then. The window starts
  at min_RTT/4, grows by that much per round trip in which a D-SACK (RFC 2883) shows that a
  retransmission was spurious, and falls back after 16 recoveries without one (§6.2 step
  3). Without SACK, NewReno's three duplicate ACKs and partial ACKs (RFC 6582) mark losses.
- **Tail loss probes** (RFC 8985 §7) and the **retransmission timer** (RFC 6298 §5).
- **Undo** of a congestion response that was not needed: when the peer's timestamps show
  that the first retransmission's original arrived (Eifel detection, RFC 3522), or D-SACKs
  account for every retransmission of the episode (RFC 3708), cwnd and ssthresh return to
  their values before the episode (the RFC 4015 response) and marks of loss are cleared.
- ``pipe`` (RFC 6675 §4): bytes outstanding, minus SACKed and lost, plus retransmitted.

Congestion control is a plug-in (:mod:`.congestion`); nothing here reads a clock or sends:
the connection asks :meth:`LossRecovery.next_lost` what to resend and calls back
:meth:`~LossRecovery.on_sent` / :meth:`~LossRecovery.on_retransmitted`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from heapq import heappop, heappush
from operator import attrgetter
from typing import Any

from .congestion import CongestionControl
from .rto import RtoEstimator

DUP_THRESH = 3
TLP_INITIAL_PTO = 1.0  # RFC 8985 §7.2: the PTO before any RTT sample
WC_DEL_ACK_T = 0.200  # RFC 8985 §7.2 WCDelAckT: the worst-case delayed-ACK timer
TLP_MIN_PTO = 0.010  # a floor under 2*SRTT, as Linux keeps, so timer jitter is not a loss
REO_WND_PERSIST = 16  # RFC 8985 §6.2 step 3: recoveries a grown window lasts

Emit = Callable[[str, dict[str, Any], str], None]

_START = attrgetter("start")


class SentSegment:
    """One segment in flight: offsets ``[start, end)`` (a FIN counts as the last byte)."""

    __slots__ = ("end", "in_rtx", "lost", "retransmitted", "sacked", "start", "xmit_at")

    def __init__(self, start: int, end: int, xmit_at: float) -> None:
        self.start = start
        self.end = end
        self.xmit_at = xmit_at
        self.retransmitted = False
        self.sacked = False
        self.lost = False
        self.in_rtx = False  # a retransmission of it is in flight (counted in pipe)

    def __repr__(self) -> str:
        marks = "".join(
            c for c, on in (("R", self.retransmitted), ("S", self.sacked), ("L", self.lost)) if on
        )
        return f"<{self.start}-{self.end} @{self.xmit_at:g} {marks}>"


class LossRecovery:
    """The sender's records of segments in flight and everything decided from them.

    ``segs`` holds the records in sequence order. So that an ACK costs what it changes
    and not the whole window, three indexes follow it:

    - ``_tsorted``: the segments RACK may still mark lost (RFC 8985 §6.2 step 5: neither
      SACKed nor marked lost and awaiting their resend), in the order they were last sent,
      as Linux's ``tsorted_sent_queue``: a segment joins its tail when sent or resent and
      leaves when SACKed, cumulatively ACKed or marked lost. A dict keyed by the record
      keeps that order with O(1) insertion, move to the end and deletion. Send times only
      grow along it, so the RACK scan stops at the first segment sent after RACK.xmit_ts:
      it reads the few candidates, not the window. Its marks are then made in sequence
      order, as a scan of the records makes them. (An undo, a split or a clock that went
      back breaks the orders it relies on: the first two rebuild it, the last falls back
      to reading all of it; see ``_ts_monotonic`` and ``_ts_in_seq``.)
    - ``_lost``: a heap by offset of the segments marked lost and not resent, validated
      lazily: an entry whose segment was since resent, SACKed or ACKed is dropped when it
      comes to the top, so :meth:`next_lost` is amortized O(log n) instead of a scan from
      the first record.
    - ``_unsacked``: the records not SACKed, in sequence order. A SACK block bisects it
      for the first record starting inside the block and reads only the records it newly
      SACKs (whole ones: a record partly inside is not delivered), not those that earlier
      ACKs' blocks already covered.
    """

    __slots__ = (
        "_lost",
        "_lost_serial",
        "_ts_in_seq",
        "_ts_last",
        "_ts_monotonic",
        "_tsorted",
        "_unsacked",
        "cc",
        "dsack_round",
        "dupacks",
        "emit",
        "fack",
        "fast_rxt_due",
        "in_loss",
        "in_recovery",
        "last_rtt",
        "lost_bytes",
        "min_rtt",
        "rack_end",
        "rack_rtt",
        "rack_xmit",
        "recover",
        "reo_at",
        "reo_wnd_mult",
        "reo_wnd_persist",
        "reord",
        "retrans_bytes",
        "rto",
        "rto_at",
        "sack",
        "sacked_bytes",
        "segs",
        "smss",
        "spurious",
        "tail_loss_probe",
        "tlp_at",
        "tlp_high",
        "tlp_rxt",
        "traced",
        "undo_cwnd",
        "undo_retrans",
        "undo_rxt_at",
        "undo_rxt_ms",
        "undo_ssthresh",
    )

    def __init__(
        self,
        cc: CongestionControl,
        rto: RtoEstimator,
        *,
        smss: int,
        sack: bool,
        tail_loss_probe: bool,
        traced: Callable[[], bool] | None = None,
        emit: Emit | None = None,
    ) -> None:
        self.cc = cc
        self.rto = rto
        self.smss = smss
        self.sack = sack
        self.tail_loss_probe = tail_loss_probe
        self.emit = emit
        self.traced = traced
        self.segs: list[SentSegment] = []
        # the indexes of the records (see the class's docstring)
        self._tsorted: dict[SentSegment, None] = {}
        self._ts_last = float("-inf")  # the latest send time that joined _tsorted
        self._ts_monotonic = True  # send times never decrease along _tsorted
        self._ts_in_seq = True  # its members never resent lie in sequence order
        self._lost: list[tuple[int, int, SentSegment]] = []  # (start, serial, record)
        self._lost_serial = 0
        self._unsacked: list[SentSegment] = []  # the records not SACKed, in sequence order
        self.sacked_bytes = 0
        self.lost_bytes = 0
        self.retrans_bytes = 0
        self.dupacks = 0
        self.in_recovery = False  # fast recovery: cwnd held at ssthresh
        self.in_loss = False  # resending after a timeout: slow start (RFC 5681 §3.1)
        self.recover = 0  # one past the highest offset sent when the episode began
        self.fast_rxt_due = False  # RFC 6675 §5 (4.3): the first resend ignores pipe
        # RACK (RFC 8985 §6.1)
        self.rack_xmit = -1.0
        self.rack_end = 0
        self.rack_rtt = 0.0
        self.min_rtt: float | None = None
        self.last_rtt: float | None = None  # this ACK's RTT sample, for HyStart++
        self.fack = 0
        self.reord = False
        self.reo_wnd_mult = 1
        self.reo_wnd_persist = 0
        self.dsack_round: int | None = None
        # timers
        self.rto_at: float | None = None
        self.tlp_at: float | None = None
        self.reo_at: float | None = None
        self.tlp_high: int | None = None  # TLP.end_seq
        self.tlp_rxt: tuple[int, int] | None = None
        # undo (RFC 3522 / RFC 3708 detection, RFC 4015 response)
        self.undo_cwnd: int | None = None
        self.undo_ssthresh = 0
        self.undo_retrans = 0
        self.undo_rxt_ms: int | None = None
        self.undo_rxt_at = 0  # the offset of the first retransmission of the episode
        self.spurious = 0  # retransmissions a D-SACK showed were not needed

    @property
    def trace(self) -> bool:
        """Whether trace events are wanted (the bus has a subscriber)."""
        return self.emit is not None and self.traced is not None and self.traced()

    def loss_reason(self) -> str:
        if self.in_loss:
            return "resending after a retransmission timeout"
        if self.sack:
            return "marked lost by RACK (RFC 8985 §6.2): a later segment was delivered"
        return "fast retransmit (RFC 5681 §3.2 / RFC 6582 partial ACK)"

    # -- the records ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.segs)

    def pipe(self, flight: int) -> int:
        """RFC 6675 §4 SetPipe: outstanding - SACKed - lost + retransmitted (bytes)."""
        sacked = self.sacked_bytes
        if not self.sack and self.dupacks:
            # Without SACK every duplicate ACK stands for one segment that left the
            # network (the NewReno inflation of RFC 6582 §3.2, as Linux emulates SACK).
            sacked = min(self.dupacks * self.smss, max(flight - self.smss, 0))
        return flight - sacked - self.lost_bytes + self.retrans_bytes

    def on_sent(self, start: int, end: int, now: float) -> None:
        """New data (or the FIN) ``[start, end)`` left for the first time."""
        seg = SentSegment(start, end, now)
        self.segs.append(seg)
        self._unsacked.append(seg)
        if self._tsorted and now >= self._ts_last:
            self._tsorted[seg] = None  # the usual case of _ts_join, inline: one per segment
            self._ts_last = now
        else:
            self._ts_join(seg, now)

    def _ts_join(self, seg: SentSegment, now: float) -> None:
        """``seg`` was (re)sent at ``now``: to the tail of the send-time order."""
        ts = self._tsorted
        if not ts:
            self._ts_monotonic = self._ts_in_seq = True
        elif now < self._ts_last:
            self._ts_monotonic = False  # a clock that went back: read all of it
        self._ts_last = now
        ts[seg] = None

    def on_retransmitted(self, seg: SentSegment, now: float) -> None:
        if self.undo_cwnd is not None and (self.in_recovery or self.in_loss):
            self.undo_retrans += 1
            if self.undo_rxt_ms is None:
                self.undo_rxt_ms = int(now * 1000)
                self.undo_rxt_at = seg.start
        seg.retransmitted = True
        seg.xmit_at = now
        if not seg.in_rtx:
            seg.in_rtx = True
            self.retrans_bytes += seg.end - seg.start
        if not seg.sacked:  # a candidate for RACK again, sent last
            self._tsorted.pop(seg, None)
            self._ts_join(seg, now)

    def next_lost(self) -> SentSegment | None:
        """The first segment marked lost whose retransmission is not in flight."""
        heap = self._lost
        if not self.lost_bytes:
            if heap:
                heap.clear()  # no entry is valid
            return None
        segs = self.segs
        first = segs[0].start if segs else 0
        while heap:
            s = heap[0][2]
            # Records cumulatively ACKed lie below the first record still held.
            if s.lost and not s.in_rtx and not s.sacked and s.start >= first and segs:
                return s
            heappop(heap)
        return None

    def _lost_join(self, s: SentSegment) -> None:
        """``s`` is now marked lost and awaits its resend: one more entry for next_lost."""
        self._lost_serial += 1
        heappush(self._lost, (s.start, self._lost_serial, s))

    def split(self, seg: SentSegment, at: int) -> None:
        """Cut ``seg`` at offset ``at`` (a smaller SMSS after Path MTU Discovery)."""
        i = self.segs.index(seg)
        tail = SentSegment(at, seg.end, seg.xmit_at)
        tail.retransmitted, tail.sacked, tail.lost = seg.retransmitted, seg.sacked, seg.lost
        if seg.in_rtx:  # only lost, not-in-flight segments are split
            raise ValueError("cannot split a segment whose retransmission is in flight")
        seg.end = at
        self.segs.insert(i + 1, tail)
        if not seg.sacked:
            unsacked = self._unsacked
            unsacked.insert(bisect_left(unsacked, at, key=_START), tail)
        if seg in self._tsorted:  # the tail was sent with it: right after it
            ts: dict[SentSegment, None] = {}
            for s in self._tsorted:
                ts[s] = None
                if s is seg:
                    ts[tail] = None
            self._tsorted = ts
        elif tail.lost and not tail.sacked:
            self._lost_join(tail)

    def last(self) -> SentSegment | None:
        return self.segs[-1] if self.segs else None

    def _mark_lost(self, s: SentSegment, why: str, now: float) -> None:
        n = s.end - s.start
        if not s.sacked and (s.in_rtx or not s.lost):
            self._tsorted.pop(s, None)
            self._lost_join(s)
        if s.in_rtx:
            s.in_rtx = False
            self.retrans_bytes -= n
            if self.trace:
                self._emit(
                    "lost-retransmission",
                    {"rel_seq": s.start, "len": n},
                    "a segment sent after this retransmission was delivered; it is missing",
                )
        if not s.lost:
            s.lost = True
            self.lost_bytes += n

    def mark_all_lost(self) -> None:
        """Every un-SACKed segment in flight is lost (a timeout, or a smaller path MTU)."""
        self._tsorted.clear()
        heap = self._lost
        heap.clear()
        for s in self._unsacked:
            self._lost_serial += 1
            heap.append((s.start, self._lost_serial, s))  # in order: a heap already
            n = s.end - s.start
            if s.in_rtx:
                s.in_rtx = False
                self.retrans_bytes -= n
            if not s.lost:
                s.lost = True
                self.lost_bytes += n

    # -- ACK processing ------------------------------------------------------------------

    def on_ack(
        self,
        una: int,
        ack: int,
        snd_max: int,
        blocks: list[tuple[int, int]],
        tsecr_ms: int | None,
        duplicate: bool,
        now: float,
    ) -> int:
        """Process an acceptable ACK (``una`` is SND.UNA before it); returns the number of
        newly SACKed bytes. Updates RACK, RTT, undo state, marks losses and the cwnd."""
        segs = self.segs
        delivered: list[SentSegment] = []
        self.last_rtt = None
        # Cumulatively acknowledged records leave the list.
        k = 0
        n = len(segs)
        tsorted = self._tsorted
        while k < n and segs[k].end <= ack:
            s = segs[k]
            size = s.end - s.start
            if s.sacked:
                self.sacked_bytes -= size
            else:
                tsorted.pop(s, None)
                delivered.append(s)  # the first len(delivered) of _unsacked
                if s.lost:
                    self.lost_bytes -= size
                if s.in_rtx:
                    self.retrans_bytes -= size
            k += 1
        if k:
            del segs[:k]
            if delivered:
                del self._unsacked[: len(delivered)]
        # D-SACK (RFC 2883 §4): the first block lies below the ACK or inside the second.
        dsack: tuple[int, int] | None = None
        if blocks:
            s0, e0 = blocks[0]
            if e0 <= ack or (len(blocks) > 1 and blocks[1][0] <= s0 and e0 <= blocks[1][1]):
                dsack = (s0, e0)
                blocks = blocks[1:]
        newly_sacked = 0
        if blocks and self.sack:
            newly_sacked = self._sack(blocks, ack, snd_max, delivered)
        # RACK step 1 and 2 (RFC 8985 §6.2): the most recently sent delivered segment.
        if delivered:
            self._rack_update(delivered, k, tsecr_ms, now)
        if dsack is not None:
            self._on_dsack(dsack, ack, snd_max)
        if self.dsack_round is not None and ack >= self.dsack_round:
            self.dsack_round = None
        # Eifel detection (RFC 3522): the ACK of the first retransmission echoes a TSval
        # older than that retransmission, so the original had arrived.
        if (
            self.undo_cwnd is not None
            and (self.in_recovery or self.in_loss)
            and ack > una
            and tsecr_ms is not None
            and self.undo_rxt_ms is not None
            and tsecr_ms < self.undo_rxt_ms
            and ack > self.undo_rxt_at
        ):
            self._undo("the ACK echoes a timestamp older than the retransmission (RFC 3522)")
        if self.tlp_high is not None and ack >= self.tlp_high:
            self._probe_acked(ack, una, snd_max, newly_sacked, dsack, now)
        cc = self.cc
        if ack > una:
            self.dupacks = 0
            if (self.in_recovery or self.in_loss) and ack >= self.recover:
                self._exit_recovery()
            elif self.in_recovery and not self.sack and segs:
                # RFC 6582 §3.2 step 5: a partial ACK — the next hole was lost too.
                self._mark_lost(segs[0], "partial ACK", now)
            if not self.in_recovery:
                cc.on_ack(ack - una, now, self.rto.srtt, self.last_rtt, ack, snd_max)
                if self.trace:
                    self._emit_cwnd(cc.note or "new data acknowledged")
                cc.note = None
        elif duplicate and segs:
            self.dupacks += 1
            if self.trace:
                self._emit("dup-ack", {"count": self.dupacks, "rel_ack": una}, "")
            if (
                not self.sack
                and not self.in_recovery
                and self.dupacks >= DUP_THRESH
                and una >= self.recover  # RFC 6582 §3.2 step 2
            ):
                self._mark_lost(segs[0], "three duplicate ACKs", now)
        if self.sack:
            if self.sacked_bytes or self.retrans_bytes or self._first_sent_before_rack():
                self._detect_loss(now)
            else:
                self.reo_at = None
        if self.lost_bytes and not self.in_recovery and not self.in_loss:
            self._enter_recovery(snd_max, now, "RACK: lost segments (RFC 8985 §6.2); recovery")
        # RFC 6298 §5.2/5.3: stop the timer when all is acked, else restart it on new data.
        if ack > una:
            self.rto_at = now + self.rto.rto if segs else None
        return newly_sacked

    def _sack(
        self,
        blocks: list[tuple[int, int]],
        ack: int,
        snd_max: int,
        delivered: list[SentSegment],
    ) -> int:
        unsacked = self._unsacked
        newly = 0
        for left, right in blocks:
            left, right = max(left, ack), min(right, snd_max)
            if right <= left:
                continue
            # Only whole segments count as delivered: those not yet SACKed from the first
            # that starts in the block up to the first that ends beyond it.
            first = i = bisect_left(unsacked, left, key=_START)
            n = len(unsacked)
            while i < n and unsacked[i].end <= right:
                newly += self._sacked(unsacked[i], delivered)
                i += 1
            if i > first:
                del unsacked[first:i]
        return newly

    def _sacked(self, s: SentSegment, delivered: list[SentSegment]) -> int:
        """``s`` is newly SACKed (its entry in ``_unsacked`` is the caller's to remove)."""
        size = s.end - s.start
        s.sacked = True
        self._tsorted.pop(s, None)
        self.sacked_bytes += size
        if s.lost:
            s.lost = False
            self.lost_bytes -= size
        if s.in_rtx:
            s.in_rtx = False
            self.retrans_bytes -= size
        delivered.append(s)
        return size

    def _rack_update(
        self, delivered: list[SentSegment], acked: int, tsecr_ms: int | None, now: float
    ) -> None:
        """RACK steps 1-2 and the RTT sample; ``delivered[:acked]`` were cumulatively ACKed."""
        best: SentSegment | None = None
        sample: float | None = None
        sample_at = -1.0
        fack = self.fack
        # Karn (RFC 6298 §3), as Linux applies it: an ACK that covers any retransmitted
        # segment times nothing — the segments around it may have waited for it.
        karn = False
        for s in delivered:
            if s.end > fack:
                fack = s.end
            if s.retransmitted:
                karn = True
        for s in delivered:
            rtt = now - s.xmit_at
            if s.retransmitted:
                # §6.2 step 1: an ACK that may be for the original does not time the copy.
                if tsecr_ms is not None:
                    if tsecr_ms < int(s.xmit_at * 1000):
                        continue
                elif self.min_rtt is not None and rtt < self.min_rtt - 0.001:
                    continue
            elif s.xmit_at > sample_at and not karn:
                sample, sample_at = rtt, s.xmit_at
            if s.end < self.fack and not s.retransmitted and not self.reord:
                self.reord = True  # step 2: delivered below a higher delivered segment
                if self.trace:
                    self._emit(
                        "reordering",
                        {"rel_seq": s.start},
                        "delivered after data sent later (RFC 8985 §6.2 step 2)",
                    )
            if best is None or (s.xmit_at, s.end) > (best.xmit_at, best.end):
                best = s
        self.fack = fack
        if best is not None:
            self.rack_rtt = now - best.xmit_at
            if (best.xmit_at, best.end) > (self.rack_xmit, self.rack_end):
                self.rack_xmit, self.rack_end = best.xmit_at, best.end
        if sample is not None:
            self.last_rtt = sample
            self.take_rtt_sample(sample, "RTT of the newest segment acknowledged (RFC 6298)")
        elif karn and acked and tsecr_ms is not None:
            self._ts_sample(delivered[:acked], tsecr_ms, now)

    def _ts_sample(self, acked: list[SentSegment], tsecr_ms: int, now: float) -> None:
        """An ACK that newly acknowledges only data that was resent has no send time to
        time, but its echoed timestamp does: RFC 7323 §4.1 (RTTM) measures retransmissions
        unambiguously, and Linux takes this sample when the queue gives none
        (``tcp_ack_update_rtt``: ``tcp_rtt_tsopt_us``). Without it Karn's rule keeps the
        backed-off RTO (RFC 6298 §5.5) through a whole loss episode, so at 20 % loss one
        lost resend after a run of them waits tens of seconds. Taken only when the echo is
        no older than the latest resend it covers: an older echo would time the original
        across a hole (the inflation RFC 7323 Appendix G warns of); the sample then
        cannot exceed the time since that resend."""
        resent = [int(s.xmit_at * 1000) for s in acked if s.retransmitted]
        if not resent or tsecr_ms < max(resent):
            return
        rtt = now - tsecr_ms / 1000
        self.last_rtt = rtt
        self.take_rtt_sample(rtt, "RTT from the echoed timestamp of a resend (RFC 7323 §4.1)")

    def take_rtt_sample(self, rtt: float, why: str) -> None:
        rtt = max(rtt, 0.000001)
        if self.min_rtt is None or rtt < self.min_rtt:
            self.min_rtt = rtt
        self.rto.sample(rtt)
        if self.trace:
            self._emit("rtt", self.rto_fields(), why)

    def _on_dsack(self, block: tuple[int, int], ack: int, snd_max: int) -> None:
        """RFC 8985 §6.2 step 3 and RFC 3708: a duplicate arrived."""
        self.spurious += 1
        if self.trace:
            self._emit(
                "spurious-retransmission",
                {"rel_seq": block[0], "len": block[1] - block[0]},
                "D-SACK: the peer got this range twice (RFC 2883)",
            )
        if self.dsack_round is None:
            self.dsack_round = snd_max
            self.reo_wnd_mult += 1
            self.reo_wnd_persist = REO_WND_PERSIST
        if self.undo_cwnd is not None:
            self.undo_retrans -= 1
            if self.undo_retrans <= 0:
                self._undo("D-SACKs for every retransmission of the episode (RFC 3708)")

    def reo_wnd(self) -> float:
        """RFC 8985 §6.2 step 4."""
        if not self.reord and (
            self.in_recovery or self.in_loss or self.sacked_bytes >= DUP_THRESH * self.smss
        ):
            return 0.0
        min_rtt = self.min_rtt or 0.0
        srtt = self.rto.srtt if self.rto.srtt is not None else min_rtt
        return min(self.reo_wnd_mult * min_rtt / 4, srtt)

    def _first_sent_before_rack(self) -> bool:
        """Whether RACK has anything to look at when no segment is SACKed and no resend is
        in flight: the candidates are then first transmissions (send order is sequence
        order), so the first one not already lost decides for all. They are then the
        members of ``_tsorted``, and the first of them is the first in sequence unless an
        undo put a resent one among them (``_ts_in_seq``)."""
        segs = self.segs
        first: SentSegment | None = segs[0] if segs else None
        if first is not None and first.lost:
            if self._ts_in_seq:
                first = next(iter(self._tsorted), None)
            else:
                first = next((s for s in segs if not s.lost), None)
        return first is not None and (first.xmit_at, first.end) < (self.rack_xmit, self.rack_end)

    def _detect_loss(self, now: float) -> None:
        """RFC 8985 §6.2 step 5; arms the reordering timer for segments not yet due.

        The candidates (neither SACKed nor lost and not yet resent) are ``_tsorted``, in
        the order they were sent: the scan ends at the first one sent after RACK.xmit_ts
        (all later ones were too), and marks the lost ones in sequence order."""
        if self.rack_xmit < 0:
            return
        rack_xmit, rack_end = self.rack_xmit, self.rack_end
        reo_wnd = self.reo_wnd()
        wait = self.rack_rtt + reo_wnd
        earliest: float | None = None
        monotonic = self._ts_monotonic
        due: list[SentSegment] = []
        for s in self._tsorted:
            if s.xmit_at > rack_xmit:
                if monotonic:
                    break  # sent after the most recently delivered segment, as all later
                continue
            if s.xmit_at == rack_xmit and s.end >= rack_end:
                continue  # sent after the most recently delivered segment
            remaining = s.xmit_at + wait - now
            if remaining <= 0:
                due.append(s)
            elif earliest is None or remaining < earliest:
                earliest = remaining
        if len(due) > 1:
            due.sort(key=_START)
        for s in due:
            self._mark_lost(s, "RACK", now)
        self.reo_at = None if earliest is None else now + earliest

    def on_reorder_timeout(self, snd_max: int, now: float) -> None:
        self.reo_at = None
        self._detect_loss(now)
        if self.lost_bytes and not self.in_recovery and not self.in_loss:
            self._enter_recovery(
                snd_max,
                now,
                "SACKed data sent after the hole, no ACK for it within the reordering "
                "window: lost (RFC 8985 §6.2); recovery",
            )

    # -- episodes ------------------------------------------------------------------------

    def _start_undo(self) -> None:
        cc = self.cc
        self.undo_cwnd = cc.cwnd
        self.undo_ssthresh = cc.ssthresh
        self.undo_retrans = 0
        self.undo_rxt_ms = None

    def _enter_recovery(self, snd_max: int, now: float, why: str) -> None:
        flight = self._flight(snd_max)
        self._start_undo()
        self.in_recovery = True
        self.fast_rxt_due = True
        self.recover = snd_max
        self.cc.on_congestion_event(flight, now)
        self.tlp_at = None  # no probes in recovery (RFC 8985 §7.2)
        self.tlp_high = self.tlp_rxt = None
        if self.trace:
            self._emit_cwnd(why)

    def _exit_recovery(self) -> None:
        if self.undo_cwnd is not None and self.undo_retrans <= 0:
            # Nothing was resent, or D-SACKs covered every resend: the segments marked
            # lost were only late (RFC 3708's test at the end of the episode).
            self._undo("every segment marked lost arrived without a retransmission")
            return
        if self.in_recovery:
            self.cc.on_recovery_end()
        self.in_recovery = self.in_loss = False
        self.reo_wnd_persist -= 1
        if self.reo_wnd_persist <= 0:
            self.reo_wnd_mult = 1
        if self.trace:
            self._emit_cwnd("full ACK: recovery ends")

    def _flight(self, snd_max: int) -> int:
        return snd_max - self.segs[0].start if self.segs else 0

    def _undo(self, why: str) -> None:
        cc = self.cc
        assert self.undo_cwnd is not None
        cc.undo(self.undo_cwnd, self.undo_ssthresh)
        self.undo_cwnd = None
        if self.dsack_round is None:
            # The reordering window was too small: widen it as a D-SACK would (§6.2 step 3).
            self.reo_wnd_mult += 1
            self.reo_wnd_persist = REO_WND_PERSIST
        self.undo_rxt_ms = None
        # The marks of loss were wrong too: what is not yet resent is not resent.
        for s in self.segs:
            if s.lost and not s.in_rtx and not s.sacked:
                s.lost = False
                self.lost_bytes -= s.end - s.start
        self._ts_rebuild()
        self.in_recovery = self.in_loss = False
        if self.trace:
            self._emit_cwnd("spurious retransmission: undo the reduction; " + why)

    def _ts_rebuild(self) -> None:
        """After an undo no segment awaits its resend and those that did are RACK's
        candidates again, at their last send times: ``_tsorted`` is made anew in send-time
        order. A segment that was resent and later marked lost again now lies there out of
        sequence order; ``_ts_in_seq`` says whether any does."""
        self._lost.clear()
        members = [s for s in self.segs if not s.sacked and not (s.lost and not s.in_rtx)]
        members.sort(key=attrgetter("xmit_at"))
        self._tsorted = dict.fromkeys(members)
        self._ts_monotonic = True
        self._ts_last = members[-1].xmit_at if members else float("-inf")
        firsts = [s.start for s in members if not s.in_rtx]
        self._ts_in_seq = firsts == sorted(firsts)

    def on_timeout(self, snd_max: int, now: float) -> None:
        """RFC 6298 §5.4-5.6 and RFC 5681 §3.1: every un-SACKed segment is lost."""
        flight = self._flight(snd_max)
        # One reduction per episode (RFC 5681 §3.1, RFC 6582 §3.2; Linux's tcp_enter_loss
        # keeps ssthresh when the timeout falls inside a recovery or an earlier timeout).
        repeated = self.in_recovery or self.in_loss
        if not repeated:
            self._start_undo()
        self.cc.on_timeout(flight, repeated=repeated)
        self.in_recovery = False
        self.in_loss = True
        self.recover = snd_max
        self.dupacks = 0
        self.mark_all_lost()
        self.tlp_at = self.reo_at = None
        self.tlp_high = self.tlp_rxt = None
        if self.trace:
            self._emit_cwnd("retransmission timeout: ssthresh = FlightSize/2, cwnd = 1 SMSS")

    # -- tail loss probe (RFC 8985 §7) ---------------------------------------------------

    def arm_probe(self, una: int, snd_max: int, now: float, allowed: bool) -> None:
        """§7.2: schedule the probe timeout while data is outstanding outside recovery."""
        if (
            not allowed
            or not self.tail_loss_probe
            or not self.sack
            or self.in_recovery
            or self.in_loss
            or self.tlp_high is not None  # one probe per episode (TLP.end_seq is set)
            or una >= snd_max
        ):
            self.tlp_at = None
            return
        srtt = self.rto.srtt
        if srtt is None:
            pto = TLP_INITIAL_PTO
        else:
            pto = 2 * srtt
            if snd_max - una <= self.smss:
                pto += WC_DEL_ACK_T  # one segment out: the receiver may delay its ACK
            pto = max(pto, TLP_MIN_PTO)
        at = now + pto
        # "If Now() + PTO > TCP_RTO_expiration(): PTO = TCP_RTO_expiration() - Now()": the
        # probe then goes out at the RTO's time instead of the timeout (as Linux's
        # tcp_schedule_loss_probe), without collapsing cwnd or backing off.
        self.tlp_at = at if self.rto_at is None or at < self.rto_at else self.rto_at

    def probe_sent(self, snd_max: int, rxt: tuple[int, int] | None, now: float) -> None:
        self.tlp_high = snd_max
        self.tlp_rxt = rxt
        self.rto_at = now + self.rto.rto

    def _probe_acked(
        self,
        ack: int,
        una: int,
        snd_max: int,
        newly_sacked: int,
        dsack: tuple[int, int] | None,
        now: float,
    ) -> None:
        """§7.4: an ACK at or past TLP.end_seq ends the episode. A probe that resent data
        and was followed by neither a D-SACK for it nor a plain duplicate ACK repaired a
        real loss: respond as fast recovery would, once (§7.4.2)."""
        high = self.tlp_high
        rxt = self.tlp_rxt
        if high is None or ack < high:
            return
        if rxt is None:
            pass  # a probe with new data: losses it reveals go through RACK
        elif dsack is not None and dsack[1] <= ack and dsack[0] <= rxt[0] < dsack[1]:
            if self.trace:
                self._emit("tlp-spurious", {"rel_seq": rxt[0]}, "D-SACK: both copies arrived")
        elif ack > high:
            self.cc.on_congestion_event(snd_max - una, now)
            self.cc.on_recovery_end()
            if self.trace:
                self._emit_cwnd("the tail loss probe repaired a loss (RFC 8985 §7.4.2)")
        elif ack == una and not newly_sacked:
            pass  # a duplicate ACK for the probe: the original had arrived (no loss)
        else:
            return  # ACK == TLP.end_seq for the original: wait for the next one
        self.tlp_high = self.tlp_rxt = None

    def next_deadline(self) -> float | None:
        best: float | None = None
        for t in (self.rto_at, self.tlp_at, self.reo_at):
            if t is not None and (best is None or t < best):
                best = t
        return best

    def clear_timers(self) -> None:
        self.rto_at = self.tlp_at = self.reo_at = None

    # -- trace ---------------------------------------------------------------------------

    def _emit(self, kind: str, fields: dict[str, Any], why: str) -> None:
        if self.emit is not None:
            self.emit(kind, fields, why)

    def rto_fields(self) -> dict[str, Any]:
        r = self.rto
        return {
            "rto": round(r.rto, 6),
            "srtt": None if r.srtt is None else round(r.srtt, 6),
            "rttvar": round(r.rttvar, 6),
            "backoff": r.backoff,
        }

    def _emit_cwnd(self, why: str) -> None:
        cc = self.cc
        phase = "fast-recovery" if self.in_recovery else cc.phase
        self._emit(
            "cwnd",
            {"cwnd": cc.cwnd, "ssthresh": min(cc.ssthresh, 1 << 30), "phase": phase},
            why,
        )
