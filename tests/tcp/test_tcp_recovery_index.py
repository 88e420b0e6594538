"""Loss recovery's indexes against a scan of the records: random sequences of sends,
cumulative ACKs, SACK and D-SACK blocks, resends, tail loss probes, splits, timeouts,
reordering timeouts and a clock that stalls or steps back, applied to a
:class:`LossRecovery` and to :class:`ScanRecovery` — the same sender whose RACK loss
detection (RFC 8985 §6.2 step 5) and choice of the next segment to resend read every record
in sequence order, as they did before the indexes. After every step both must hold the
same records with the same marks, counters, timers, congestion window, trace events and
next segment to resend; and the indexes must say what the records say."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from minternet.tcp.congestion import NewReno
from minternet.tcp.recovery import LossRecovery, SentSegment
from minternet.tcp.rto import RtoEstimator

MSS = 100


class ScanRecovery(LossRecovery):
    """The reference: SACK blocks, RACK, ``next_lost`` and a timeout's marks as
    straightforward scans of ``segs`` (its ``_unsacked`` is not kept)."""

    def _sack(
        self, blocks: list[tuple[int, int]], ack: int, snd_max: int, delivered: list[SentSegment]
    ) -> int:
        newly = 0
        for left, right in blocks:
            left, right = max(left, ack), min(right, snd_max)
            for s in self.segs:
                if not s.sacked and left <= s.start and s.end <= right:
                    newly += self._sacked(s, delivered)
        return newly

    def mark_all_lost(self) -> None:
        self._unsacked = [s for s in self.segs if not s.sacked]
        super().mark_all_lost()

    def next_lost(self) -> SentSegment | None:
        if not self.lost_bytes:
            return None
        return next((s for s in self.segs if s.lost and not s.in_rtx and not s.sacked), None)

    def _first_sent_before_rack(self) -> bool:
        for s in self.segs:
            if not s.lost:
                return (s.xmit_at, s.end) < (self.rack_xmit, self.rack_end)
        return False

    def _detect_loss(self, now: float) -> None:
        if self.rack_xmit < 0:
            return
        wait = self.rack_rtt + self.reo_wnd()
        earliest: float | None = None
        for s in self.segs:
            if s.sacked or (s.lost and not s.in_rtx):
                continue
            if s.xmit_at > self.rack_xmit or (
                s.xmit_at == self.rack_xmit and s.end >= self.rack_end
            ):
                continue
            remaining = s.xmit_at + wait - now
            if remaining <= 0:
                self._mark_lost(s, "RACK", now)
            elif earliest is None or remaining < earliest:
                earliest = remaining
        self.reo_at = None if earliest is None else now + earliest


class Log(list[tuple[str, list[tuple[str, Any]], str]]):
    """The trace events a sender emitted."""

    def emit(self, kind: str, fields: dict[str, Any], why: str) -> None:
        self.append((kind, sorted(fields.items()), why))


def _pair() -> tuple[LossRecovery, ScanRecovery, list[Log]]:
    logs = [Log(), Log()]
    made: list[LossRecovery] = []
    for kind, log in zip((LossRecovery, ScanRecovery), logs, strict=True):
        made.append(
            kind(
                NewReno(MSS, cwnd=10 * MSS),
                RtoEstimator(1.0, 0.2, 60.0),
                smss=MSS,
                sack=True,
                tail_loss_probe=True,
                traced=lambda: True,
                emit=log.emit,
            )
        )
    fast, scan = made
    assert isinstance(scan, ScanRecovery)
    return fast, scan, logs


def _state(r: LossRecovery) -> tuple[Any, ...]:
    nxt = r.next_lost()
    return (
        [(s.start, s.end, s.xmit_at, s.retransmitted, s.sacked, s.lost, s.in_rtx) for s in r.segs],
        (r.sacked_bytes, r.lost_bytes, r.retrans_bytes, r.dupacks, r.spurious),
        (r.in_recovery, r.in_loss, r.recover, r.fast_rxt_due, r.cc.cwnd, r.cc.ssthresh),
        (r.rack_xmit, r.rack_end, r.rack_rtt, r.fack, r.reord, r.reo_wnd_mult),
        (r.reo_at, r.rto_at, r.tlp_at, r.tlp_high, r.rto.srtt, r.min_rtt),
        None if nxt is None else (nxt.start, nxt.end),
    )


def _check_indexes(r: LossRecovery) -> None:
    """``_unsacked`` holds the records not SACKed in sequence order, ``_tsorted`` exactly
    RACK's candidates, in send order while the clock went forward; ``_lost`` has an entry
    for every segment lost and not resent."""
    assert list(map(id, r._unsacked)) == [id(s) for s in r.segs if not s.sacked]
    candidates = [s for s in r.segs if not s.sacked and not (s.lost and not s.in_rtx)]
    assert sorted(map(id, r._tsorted)) == sorted(map(id, candidates))
    if r._ts_monotonic:
        times = [s.xmit_at for s in r._tsorted]
        assert times == sorted(times)
    if r._ts_in_seq:
        firsts = [s.start for s in r._tsorted if not s.in_rtx]
        assert firsts == sorted(firsts)
    awaiting = {id(s) for s in r.segs if s.lost and not s.in_rtx and not s.sacked}
    assert awaiting <= {id(e[2]) for e in r._lost}


OPS = st.sampled_from(
    (
        *("send", "send", "tick", "tick", "ack", "ack", "ack", "resend", "resend", "reorder"),
        *("timeout", "probe", "split", "smaller-mtu", "clock-back"),
    )
)


def _offset(data: st.DataObject, r: LossRecovery, low: int, high: int) -> int:
    """An offset in [low, high]: mostly a record's edge or next to one, sometimes any."""
    near = {e + d for s in r.segs for e in (s.start, s.end) for d in (-1, 0, 0, 1)}
    edges = sorted({low, high} | {e for e in near if low <= e <= high})
    if data.draw(st.booleans()):
        return data.draw(st.sampled_from(edges))
    return data.draw(st.integers(low, high))


def _step(data: st.DataObject, fast: LossRecovery, scan: ScanRecovery, w: dict[str, Any]) -> None:
    op = data.draw(OPS)
    now = w["now"]
    both = (fast, scan)
    if op == "send":
        for _ in range(data.draw(st.integers(1, 6))):
            size = data.draw(st.sampled_from([MSS, MSS, MSS, 50, 1]))
            for r in both:
                r.on_sent(w["max"], w["max"] + size, now)
            w["max"] += size
    elif op == "tick":
        w["now"] = now + data.draw(st.sampled_from([0.0, 0.001, 0.004, 0.02, 0.1, 0.5]))
    elif op == "clock-back":
        w["now"] = max(0.0, now - 0.003)
    elif op == "ack":
        una, high = w["una"], w["max"]
        ack = una if data.draw(st.booleans()) else _offset(data, fast, una, high)
        blocks: list[tuple[int, int]] = []
        if data.draw(st.integers(0, 4)) == 0 and ack > 1:  # a D-SACK below the ACK
            left = data.draw(st.integers(1, ack - 1))
            blocks.append((left, data.draw(st.integers(left + 1, ack))))
        for _ in range(data.draw(st.integers(0, 3))):
            if high <= ack:
                break
            left = _offset(data, fast, ack, high - 1)
            blocks.append((left, _offset(data, fast, left + 1, high)))
        tsecr = None
        if data.draw(st.booleans()):
            tsecr = data.draw(st.integers(0, int(now * 1000)))
        duplicate = ack == una and data.draw(st.booleans())
        got = [r.on_ack(una, ack, high, list(blocks), tsecr, duplicate, now) for r in both]
        assert got[0] == got[1]
        w["una"] = ack
    elif op == "resend":
        for _ in range(data.draw(st.integers(1, 4))):
            a, b = fast.next_lost(), scan.next_lost()
            if a is None or b is None:
                assert a is b is None
                break
            fast.on_retransmitted(a, now)
            scan.on_retransmitted(b, now)
    elif op == "reorder":
        if fast.reo_at is not None:
            w["now"] = max(now, fast.reo_at)
            for r in both:
                r.on_reorder_timeout(w["max"], w["now"])
    elif op == "timeout" and fast.segs:
        for r in both:
            r.on_timeout(w["max"], now)
    elif op == "probe" and fast.segs and not fast.segs[-1].sacked:
        for r in both:
            last = r.last()
            assert last is not None
            r.on_retransmitted(last, now)
            r.probe_sent(w["max"], (last.start, last.end), now)
    elif op == "split" and fast.segs:
        i = data.draw(st.integers(0, len(fast.segs) - 1))
        seg = fast.segs[i]
        if seg.end - seg.start > 1 and not seg.in_rtx:
            at = data.draw(st.integers(seg.start + 1, seg.end - 1))
            for r in both:
                r.split(r.segs[i], at)
    elif op == "smaller-mtu":
        for r in both:
            r.mark_all_lost()


@settings(max_examples=200)
@given(st.data())
def test_indexes_decide_as_a_scan_of_the_records(data: st.DataObject) -> None:
    fast, scan, logs = _pair()
    w: dict[str, Any] = {"now": 0.0, "una": 1, "max": 1}
    for _ in range(data.draw(st.integers(1, 80))):
        _step(data, fast, scan, w)
        assert _state(fast) == _state(scan)
        assert logs[0] == logs[1]
        _check_indexes(fast)


def _recovery() -> LossRecovery:
    return LossRecovery(
        NewReno(MSS, cwnd=100 * MSS), RtoEstimator(1.0, 0.2, 60.0), smss=MSS, sack=True,
        tail_loss_probe=True,
    )  # fmt: skip


def test_rack_reads_only_segments_sent_before_the_newest_delivered() -> None:
    """The send-time order (Linux's tsorted queue): a segment leaves it when SACKed or
    marked lost and rejoins at the tail when resent; segments sent after RACK.xmit_ts stay
    unread behind the first of them."""
    r = _recovery()
    for i in range(50):
        r.on_sent(1 + i * MSS, 1 + (i + 1) * MSS, i / 1000)
    # segment 0 lost, 1..3 SACKed: three segments SACKed, reo_wnd = 0, 0 lost at once
    r.on_ack(1, 1, 5001, [(101, 401)], None, True, 0.1)
    assert r.in_recovery and r.lost_bytes == MSS
    order = list(r._tsorted)
    assert [s.start for s in order] == [1 + i * MSS for i in range(4, 50)]
    lost = r.next_lost()
    assert lost is not None and lost.start == 1
    r.on_retransmitted(lost, 0.1)
    assert next(reversed(r._tsorted)) is lost and r.next_lost() is None
    # 4 is delivered: RACK.xmit_ts is 0.004, nothing sent before it is outstanding but 0's
    # copy, sent after it: nothing new is lost, no timer.
    r.on_ack(1, 1, 5001, [(401, 501), (101, 401)], None, True, 0.11)
    assert r.lost_bytes == MSS and r.reo_at is None and r.retrans_bytes == MSS


def _stepper() -> tuple[LossRecovery, Callable[..., None]]:
    """A sender and ``step(method, *args)``: the call made on it and on the reference
    (an argument that is a function is called with the sender first), then compared."""
    fast, scan, logs = _pair()

    def step(call: str, *args: Any) -> None:
        for r in (fast, scan):
            getattr(r, call)(*[a(r) if callable(a) else a for a in args])
        assert _state(fast) == _state(scan) and logs[0] == logs[1]
        _check_indexes(fast)

    return fast, step


def test_a_clock_that_steps_back_lets_rack_read_past_a_later_send() -> None:
    """Send times that do not grow along the send order (a caller whose clock stepped
    back): the RACK scan cannot stop at the first segment sent after RACK.xmit_ts."""
    fast, step = _stepper()
    step("on_sent", 1, 101, 1.0)
    step("on_sent", 101, 201, 0.5)  # the clock went back
    step("on_sent", 201, 301, 0.7)
    assert not fast._ts_monotonic
    # 201-301 (sent at 0.7) SACKed at 0.8: 101-201, sent at 0.5, is lost; 1-101 is not
    # (sent at 1.0, after RACK.xmit_ts), though it comes first in send order.
    step("on_ack", 1, 1, 301, [(201, 301)], None, True, 0.8)
    assert [s.lost for s in fast.segs] == [False, True, False]


def test_after_an_undo_the_first_candidate_is_found_in_sequence_order() -> None:
    """An undo returns to RACK's candidates segments resent before a timeout, at their
    resend times: the send-time order then differs from the sequence order, and with
    nothing SACKed or resent the first segment not lost must still be the first in
    sequence (RFC 8985 §6.2 step 5 looks at it), not the first in send order."""
    fast, step = _stepper()

    def seg(i: int) -> Any:
        return lambda r: r.segs[i]

    # R, P, X, H: sent in sequence order 1 ms apart
    for i in range(4):
        step("on_sent", 1001 + i * MSS, 1001 + (i + 1) * MSS, i / 1000)
    step("on_retransmitted", seg(0), 0.3)  # R resent
    step("on_retransmitted", seg(2), 0.5)  # X resent
    step("on_timeout", 1401, 1.0)  # all lost
    step("on_ack", 1001, 1001, 1401, [(1, 2)], None, True, 1.01)  # a D-SACK: undo
    assert not fast.lost_bytes and not fast._ts_in_seq
    assert [s.start for s in fast._tsorted] == [1101, 1301, 1001, 1201]  # P, H, R, X
    step("on_ack", 1001, 1101, 1401, [], 300, False, 1.05)  # R's copy: RACK.xmit_ts 0.3
    assert fast.reo_at is not None
    step("on_reorder_timeout", 1401, fast.reo_at + 0.0005)  # P lost, H not yet
    assert [s.lost for s in fast.segs] == [True, False, False]
    # Nothing SACKed or resent, P lost: X (resent at 0.5, after RACK.xmit_ts) is the first
    # candidate in sequence, not H (sent at 0.003): RACK has nothing to look at.
    step("on_ack", 1101, 1101, 1401, [], None, True, 1.13)
    assert [s.lost for s in fast.segs] == [True, False, False] and fast.reo_at is None
