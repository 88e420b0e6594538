"""One TCP connection as a sans-IO state machine (RFC 9293).

Segments and the time come in (:meth:`Connection.receive`, :meth:`Connection.on_timer`),
application calls come in (:meth:`~Connection.write`, :meth:`~Connection.read`,
:meth:`~Connection.shutdown`, :meth:`~Connection.abort`); segments to send
(:meth:`~Connection.take_segments`), events (:meth:`~Connection.take_events`) and the next
deadline (:meth:`~Connection.next_deadline`) come out. Nothing here reads a clock, draws
randomness on its own or does I/O.

The eleven states and every move between them are in :data:`TRANSITIONS`, one table a
reader can check against RFC 9293 §3.3.2 (Figure 5); :meth:`Connection._move` is the only
place the state changes, and it reports each change with its cause. Segment processing
follows the order of RFC 9293 §3.10.7.4 (sequence check, RST, SYN, ACK, text, FIN) with the
RFC 5961 defences (exact-match RST, challenge ACKs, the ACK range check) and PAWS (RFC 7323
§5.3). The connection is the state machine and the send path; its parts keep their own
state: :class:`~.reassembly.Reassembler` (received data, out-of-order pieces, the SACK and
D-SACK blocks to report), :class:`~.recovery.LossRecovery` (segments in flight, RACK-TLP,
the RTO, undo) with a congestion controller from :mod:`.congestion` plugged in.
:meth:`Connection.next_deadline` is the earliest of the parts' timers.

Sequence numbers are kept as unwrapped offsets from the ISNs (:mod:`.seq`): the SYN is
offset 0, the first data byte offset 1. They are the "relative" numbers Wireshark shows;
the trace gives both those and the absolute 32-bit values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import LocalProtocolError
from ..randomness import RandomSource
from .congestion import CongestionControl, make_congestion_control
from .reassembly import Reassembler
from .recovery import LossRecovery, SentSegment
from .rto import RtoEstimator
from .segment import (
    ACK,
    FIN,
    NOP,
    PSH,
    RST,
    SYN,
    MaximumSegmentSize,
    NoOperation,
    Option,
    Sack,
    SackPermitted,
    Segment,
    Timestamps,
    UnknownOption,
    WindowScale,
    flag_names,
)
from .sendbuffer import SendBuffer
from .seq import HALF, MASK, seq_lt, unwrap, wrap
from .tracer import Tracer, Untraced

Address = tuple[str, int]

DEFAULT_MSS = 536  # RFC 9293 §3.7.1: assumed when the peer sends no MSS option
MAX_WINDOW_SHIFT = 14  # RFC 7323 §2.3


# -- states and the transition table ---------------------------------------------------


class State(Enum):
    """The connection states of RFC 9293 §3.3.2, with their RFC names."""

    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"

    # Identity hashing in C: state sets are tested on every segment, and Enum's own
    # __hash__ is Python code.
    __hash__ = object.__hash__

    def __str__(self) -> str:
        return self.value


class Input(Enum):
    """What moves the machine: an application call, a segment, or a timer."""

    ACTIVE_OPEN = "active OPEN"
    PASSIVE_OPEN = "passive OPEN"
    RCV_SYN = "SYN received"
    RCV_SYN_ACK = "SYN,ACK received"
    RCV_ACK_OF_SYN = "ACK of our SYN received"
    RCV_FIN = "FIN received"
    RCV_ACK_OF_FIN = "ACK of our FIN received"
    CLOSE = "CLOSE by the application"
    RCV_RST = "RST received"
    ABORT = "ABORT by the application"
    GIVE_UP = "retransmissions exhausted"
    TIME_WAIT_EXPIRED = "2*MSL timer expired"


S = State
_SYNCHRONIZED_OR_OPENING = [s for s in State if s not in (S.CLOSED,)]

TRANSITIONS: dict[tuple[State, Input], State] = {
    # opening (RFC 9293 Figure 5; simultaneous open is SYN-SENT --SYN--> SYN-RECEIVED)
    (S.CLOSED, Input.ACTIVE_OPEN): S.SYN_SENT,
    (S.CLOSED, Input.PASSIVE_OPEN): S.LISTEN,
    (S.LISTEN, Input.RCV_SYN): S.SYN_RECEIVED,
    (S.SYN_SENT, Input.RCV_SYN_ACK): S.ESTABLISHED,
    (S.SYN_SENT, Input.RCV_SYN): S.SYN_RECEIVED,
    (S.SYN_RECEIVED, Input.RCV_ACK_OF_SYN): S.ESTABLISHED,
    # closing from our side
    (S.LISTEN, Input.CLOSE): S.CLOSED,
    (S.SYN_SENT, Input.CLOSE): S.CLOSED,
    (S.ESTABLISHED, Input.CLOSE): S.FIN_WAIT_1,
    (S.CLOSE_WAIT, Input.CLOSE): S.LAST_ACK,
    (S.FIN_WAIT_1, Input.RCV_ACK_OF_FIN): S.FIN_WAIT_2,
    (S.FIN_WAIT_1, Input.RCV_FIN): S.CLOSING,  # simultaneous close
    (S.FIN_WAIT_2, Input.RCV_FIN): S.TIME_WAIT,
    (S.CLOSING, Input.RCV_ACK_OF_FIN): S.TIME_WAIT,
    (S.TIME_WAIT, Input.TIME_WAIT_EXPIRED): S.CLOSED,
    # closing from the peer's side
    (S.SYN_RECEIVED, Input.RCV_FIN): S.CLOSE_WAIT,
    (S.ESTABLISHED, Input.RCV_FIN): S.CLOSE_WAIT,
    (S.LAST_ACK, Input.RCV_ACK_OF_FIN): S.CLOSED,
    # the ends of every connection that is not closed: reset, abort, give up
    **{(s, Input.RCV_RST): S.CLOSED for s in _SYNCHRONIZED_OR_OPENING if s is not S.LISTEN},
    **{(s, Input.ABORT): S.CLOSED for s in _SYNCHRONIZED_OR_OPENING},
    **{(s, Input.GIVE_UP): S.CLOSED for s in _SYNCHRONIZED_OR_OPENING},
}

MAX_QUICKACKS = 16  # segments ACKed at once in quick-ACK mode (Linux TCP_MAX_QUICKACKS)
PAWS_IDLE = 24 * 24 * 3600.0  # RFC 7323 §5.5: TS.Recent is invalid after 24 days idle
PAWS_WINDOW = 1  # ticks of TSval older than TS.Recent still accepted (Linux TCP_PAWS_WINDOW)
SENDING_STATES = frozenset({S.ESTABLISHED, S.CLOSE_WAIT, S.FIN_WAIT_1, S.CLOSING, S.LAST_ACK})
RECEIVING_STATES = frozenset({S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2})


# -- configuration and events ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TcpConfig:
    """Tunables of a TCP stack; the defaults follow the RFCs (and Linux where they allow)."""

    mss: int = 1460  # what we advertise and the most we send: MTU 1500 - 20 (IP) - 20 (TCP)
    send_buffer: int = 256 * 1024
    recv_buffer: int = 256 * 1024
    window_scaling: bool = True  # RFC 7323
    sack: bool = True  # RFC 2018 / RFC 6675
    timestamps: bool = True  # RFC 7323
    nagle: bool = True  # RFC 9293 §3.7.4
    delayed_ack: float = 0.040  # seconds; 0 acknowledges every segment at once
    msl: float = 30.0  # TIME-WAIT lasts 2 * msl
    syn_retries: int = 6
    max_retries: int = 15
    rto_initial: float = 1.0
    # Linux's TCP_RTO_MIN. RFC 6298 §2.4 says SHOULD 1 s; at 20 % loss that floor cost 3.5x
    # (bench/README.md, issue 15).
    rto_min: float = 0.2
    rto_max: float = 60.0
    tail_loss_probe: bool = True  # RFC 8985 §7 (TLP), with SACK only
    challenge_ack_limit: int = 100  # RFC 5961 §7: challenge ACKs per second
    fin_wait_2_timeout: float = 60.0  # a closed socket's wait for the peer's FIN (Linux: 60 s)
    rfc1337: bool = True  # TIME-WAIT ignores RST (RFC 1337 §3, Linux's net.ipv4.tcp_rfc1337)
    congestion_control: str = "newreno"  # or "cubic" (RFC 9438)


@dataclass(frozen=True, slots=True)
class StateChanged:
    old: State
    new: State
    cause: str


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """The connection ended abnormally: ``"refused"``, ``"reset"`` or ``"timeout"``."""

    reason: str
    detail: str


Event = StateChanged | ConnectionFailed


def _window_shift(buffer: int) -> int:
    shift = 0
    while (buffer >> shift) > 0xFFFF and shift < MAX_WINDOW_SHIFT:
        shift += 1
    return shift


# -- the connection ----------------------------------------------------------------------


class Connection:
    """A TCP connection between ``local`` and ``remote`` (both ``(ip, port)``)."""

    __slots__ = (
        "_ack_now",
        "_challenge_window",
        "_challenges",
        "_close_after_sync",
        "_data_end",
        "_data_rcvd_at",
        "_delack_at",
        "_events",
        "_fin_queued",
        "_last_ack_sent",
        "_now",
        "_out",
        "_persist_at",
        "_persist_backoff",
        "_quickacks",
        "_sbuf",
        "_syn_sent_at",
        "_timewait_at",
        "_ts_offset",
        "_ts_recent_at",
        "_unacked_segs",
        "bytes_received",
        "bytes_sent",
        "config",
        "fin_received",
        "history",
        "irs",
        "iss",
        "local",
        "max_snd_wnd",
        "node",
        "passive",
        "peer_mss",
        "rcv_adv",
        "rcv_nxt",
        "rcv_wscale",
        "reassembler",
        "recovery",
        "remote",
        "retransmissions",
        "retries",
        "rto",
        "sack_ok",
        "segments_received",
        "segments_sent",
        "smss",
        "snd_max",
        "snd_nxt",
        "snd_una",
        "snd_wl1",
        "snd_wl2",
        "snd_wnd",
        "snd_wscale",
        "soft_error",
        "state",
        "trace",
        "ts_ok",
        "ts_recent",
    )

    def __init__(
        self,
        local: Address,
        remote: Address,
        *,
        config: TcpConfig,
        random: RandomSource,
        now: float,
        trace: Tracer | None = None,
        node: str = "",
    ) -> None:
        self.local = local
        self.remote = remote
        self.config = config
        self.trace: Tracer = trace if trace is not None else Untraced()
        self.node = node
        self.state = S.CLOSED
        self.history: list[tuple[float, State, str]] = [(now, S.CLOSED, "created")]
        self.passive = False
        self._now = now
        self._out: list[Segment] = []
        self._events: list[Event] = []

        # Send side (offsets from ISS; the SYN is 0, data starts at 1).
        self.iss = random.randint(0, MASK)  # RFC 9293 §3.4.1, from the injected source
        self.snd_una = 0
        self.snd_nxt = 0
        self.snd_max = 0
        self.snd_wnd = 0
        self.max_snd_wnd = 0
        self.snd_wl1 = 0
        self.snd_wl2 = 0
        self._sbuf = SendBuffer(1)
        self._data_end = 1  # offset just past the last byte the application wrote
        self._fin_queued = False
        self._close_after_sync = False

        # Receive side (offsets from IRS).
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_adv = 0  # right edge of the window we advertised
        self.reassembler = Reassembler()
        self.fin_received = False

        # Options negotiated on the SYNs.
        self.peer_mss = DEFAULT_MSS
        self.snd_wscale = 0
        self.rcv_wscale = _window_shift(config.recv_buffer) if config.window_scaling else 0
        self.sack_ok = False
        self.ts_ok = False
        self.ts_recent = 0
        self._ts_recent_at = now
        self._last_ack_sent = 0
        self._ts_offset = random.randint(0, MASK)
        self.smss = min(config.mss, DEFAULT_MSS)

        # Reliability and congestion control.
        self.rto = RtoEstimator(config.rto_initial, config.rto_min, config.rto_max)
        self.recovery = self._new_recovery()
        self.retries = 0
        self._syn_sent_at: float | None = None  # times the SYN unless it is resent (Karn)
        self._persist_at: float | None = None
        self._persist_backoff = 0
        self._delack_at: float | None = None
        self._timewait_at: float | None = None
        self._unacked_segs = 0
        self._quickacks = 0  # in-order segments still to ACK at once (Linux's quick-ACK mode)
        self._data_rcvd_at: float | None = None  # when in-order data last arrived
        self._ack_now = False
        self._challenge_window = 0.0
        self._challenges = 0

        # Counters for reports.
        self.soft_error: str | None = None
        self.retransmissions = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.segments_sent = 0
        self.segments_received = 0

    def _new_recovery(self) -> LossRecovery:
        cfg = self.config
        return LossRecovery(
            make_congestion_control(cfg.congestion_control, self.smss),
            self.rto,
            smss=self.smss,
            sack=self.sack_ok,
            tail_loss_probe=cfg.tail_loss_probe,
            traced=self._traced,
            emit=self._emit_recovery,
        )

    @property
    def cc(self) -> CongestionControl:
        """The congestion controller (owned by loss recovery)."""
        return self.recovery.cc

    # -- construction ------------------------------------------------------------------

    @classmethod
    def connect(cls, local: Address, remote: Address, **kw: Any) -> Connection:
        """Active OPEN: a connection that has sent its SYN."""
        conn = cls(local, remote, **kw)
        conn._move(Input.ACTIVE_OPEN, f"connect to {remote[0]}:{remote[1]}")
        conn._send_syn(conn._now, retransmit=False)
        return conn

    @classmethod
    def listen(cls, local: Address, remote: Address, **kw: Any) -> Connection:
        """Passive OPEN: a connection in LISTEN, about to be given the peer's SYN."""
        conn = cls(local, remote, **kw)
        conn.passive = True
        conn._move(Input.PASSIVE_OPEN, f"listening on port {local[1]}")
        return conn

    # -- the state machine -------------------------------------------------------------

    def _move(self, event: Input, cause: str) -> None:
        """Apply one transition of :data:`TRANSITIONS` (the only place state changes)."""
        old = self.state
        new = TRANSITIONS.get((old, event))
        if new is None:
            raise LocalProtocolError(f"TCP: no transition from {old} on {event.value}")
        self.state = new
        why = f"{event.value}: {cause}" if cause else event.value
        self.history.append((self._now, new, why))
        self._events.append(StateChanged(old, new, why))
        if self.trace.active:
            self._emit("state", {"old": old.value, "new": new.value}, why=why)
        if new is S.TIME_WAIT:
            self._timewait_at = self._now + 2 * self.config.msl
            self.recovery.clear_timers()
            self._persist_at = None
        elif new is S.CLOSED:
            self.recovery.clear_timers()
            self._persist_at = self._delack_at = self._timewait_at = None

    # -- application calls -------------------------------------------------------------

    @property
    def send_space(self) -> int:
        """How many more bytes :meth:`write` would accept now."""
        return max(0, self.config.send_buffer - (self._data_end - self.snd_una))

    @property
    def readable(self) -> int:
        """Bytes received in order and not yet read."""
        return self.reassembler.readable

    def write(self, data: bytes | memoryview, now: float) -> int:
        """Queue as much of ``data`` as the send buffer takes; returns the count taken."""
        if self._fin_queued or self.state not in (
            S.SYN_SENT,
            S.SYN_RECEIVED,
            S.ESTABLISHED,
            S.CLOSE_WAIT,
        ):
            raise LocalProtocolError(f"TCP: cannot send in {self.state} after shutdown/close")
        n = min(len(data), self.send_space)
        if n:
            self._sbuf.append(data[:n])
            self._data_end += n
            self._now = now
            if self.state in SENDING_STATES:
                self._output(now)
        return n

    def read(self, max_bytes: int, now: float) -> bytes:
        """Up to ``max_bytes`` of received data (``b""`` if none is ready)."""
        data = self.reassembler.read(max_bytes)
        if not data:
            return data
        # RFC 9293 §3.8.6.2.2: tell the peer when a small window opened by a useful amount.
        if self.state in RECEIVING_STATES:
            buf = self.config.recv_buffer
            if self.rcv_adv - self.rcv_nxt < buf // 2 and (
                self.rcv_nxt + buf - self.reassembler.readable - self.rcv_adv
                >= min(buf // 2, self.smss)
            ):
                self._now = now
                self._ack_now = True
                self._output(now)
        return data

    def shutdown(self, now: float) -> None:
        """CLOSE (RFC 9293 §3.10.4): send FIN after the queued data; receiving continues."""
        self._now = now
        st = self.state
        if st in (S.LISTEN, S.SYN_SENT):
            self._move(Input.CLOSE, "closed before the connection was established")
        elif st is S.SYN_RECEIVED:
            self._close_after_sync = True  # queue the FIN until ESTABLISHED
        elif st in (S.ESTABLISHED, S.CLOSE_WAIT):
            self._fin_queued = True
            self._move(Input.CLOSE, "the application closed its sending side")
            self._output(now)
        # Already closing or closed: nothing more to do (RFC: "connection closing").

    def icmp_error(self, kind: str, seq: int, next_hop_mtu: int, now: float, detail: str) -> None:
        """An ICMP error quoting one of our segments (RFC 1122 §4.2.3.9, RFC 5927).

        ``kind`` is ``"frag-needed"`` (Path MTU Discovery, RFC 1191: shrink the segment size to
        ``next_hop_mtu``), ``"unreachable"`` (port/protocol: a hard error, fatal only while
        connecting, as RFC 5461 advises) or anything else (a soft error, remembered for the
        timeout's message). The quoted sequence number must lie in [SND.UNA, SND.NXT]
        (RFC 5927 §4.1), or the message is ignored as possibly forged.
        """
        self._now = now
        if self.state is S.CLOSED:
            return
        off = unwrap(self.iss, seq, self.snd_una)
        if not self.snd_una <= off <= self.snd_nxt:
            return
        if kind == "frag-needed" and next_hop_mtu >= 68:
            smss = next_hop_mtu - 40 - (12 if self.ts_ok else 0)
            if 0 < smss < self.smss:
                self.smss = smss
                self.cc.smss = smss
                self.recovery.smss = smss
                self.recovery.mark_all_lost()  # resend what was too big, in smaller segments
                if self.trace.active:
                    self._emit("pmtu", {"mtu": next_hop_mtu, "smss": smss}, why=detail)
        elif kind == "unreachable" and self.state is S.SYN_SENT:
            self._fail("refused", detail)
            self._move(Input.GIVE_UP, detail)
        else:
            self.soft_error = detail

    def give_up(self, now: float, why: str) -> None:
        """Forget the connection without a RST (an orphan in FIN-WAIT-2 that timed out)."""
        self._now = now
        if self.state is not S.CLOSED:
            self._move(Input.GIVE_UP, why)

    def abort(self, now: float, why: str = "the application aborted") -> None:
        """ABORT (RFC 9293 §3.10.5): send RST in synchronized states, forget everything."""
        self._now = now
        st = self.state
        if st is S.CLOSED:
            return
        if st not in (S.LISTEN, S.SYN_SENT, S.TIME_WAIT):
            self._emit_segment(self._seq_wire(self.snd_nxt), 0, RST, b"")
        self._move(Input.ABORT, why)

    # -- outputs -------------------------------------------------------------------------

    def take_segments(self) -> list[Segment]:
        out = self._out
        if out:
            self._out = []
        return out

    def take_events(self) -> list[Event]:
        ev = self._events
        if ev:
            self._events = []
        return ev

    def next_deadline(self) -> float | None:
        """The earliest timer of the connection and its parts."""
        best = self.recovery.next_deadline()
        for t in (self._delack_at, self._persist_at, self._timewait_at):
            if t is not None and (best is None or t < best):
                best = t
        return best

    # -- timers --------------------------------------------------------------------------

    def on_timer(self, now: float) -> None:
        """Run whatever timers are due at ``now``."""
        self._now = now
        rec = self.recovery
        if self._timewait_at is not None and now >= self._timewait_at:
            self._timewait_at = None
            self._move(Input.TIME_WAIT_EXPIRED, f"{2 * self.config.msl:g} s in TIME-WAIT")
            return
        if self._delack_at is not None and now >= self._delack_at:
            self._delack_at = None
            self._ack_now = True
        tlp_at = rec.tlp_at
        if tlp_at is not None and now >= tlp_at and (rec.rto_at is None or tlp_at <= rec.rto_at):
            # RFC 8985 §7.2: a probe due at the RTO's time goes first; sending it restarts
            # the RTO (§7.3), and if there was nothing to probe the timeout still runs.
            rec.tlp_at = None
            self._on_probe_timeout(now)
        if rec.rto_at is not None and now >= rec.rto_at:
            rec.rto_at = rec.tlp_at = None
            self._on_retransmission_timeout(now)
            if self.state is S.CLOSED:
                return
        if rec.reo_at is not None and now >= rec.reo_at:
            if self.state in SENDING_STATES:
                rec.on_reorder_timeout(self.snd_max, now)
            else:
                rec.reo_at = None
        if self._persist_at is not None and now >= self._persist_at:
            self._persist_at = None
            self._on_persist_timeout(now)
        self._output(now)

    def _on_retransmission_timeout(self, now: float) -> None:
        st = self.state
        self.retries += 1
        limit = (
            self.config.syn_retries
            if st in (S.SYN_SENT, S.SYN_RECEIVED)
            else (self.config.max_retries)
        )
        if self.retries > limit:
            detail = f"no answer after {self.retries - 1} retransmissions"
            if self.soft_error:
                detail += f" ({self.soft_error})"
            self._fail("timeout", detail)
            if st is not S.SYN_SENT:
                # As BSD's tcp_drop: tell the peer, so it does not wait for us forever.
                self._emit_segment(self._seq_wire(self.snd_max), 0, RST, b"")
                if self.trace.active:
                    self._emit("rst", {}, why="giving up: retransmissions exhausted")
            self._move(Input.GIVE_UP, f"{self.retries - 1} retransmissions unanswered")
            return
        self.rto.back_off()
        self._syn_sent_at = None  # Karn: never time a retransmitted segment
        if self.trace.active:
            self._emit(
                "rto", self.recovery.rto_fields(), why="retransmission timer expired; backing off"
            )
        if st in (S.SYN_SENT, S.SYN_RECEIVED):
            self._send_syn(now, retransmit=True)
            return
        if self.snd_una >= self.snd_max:
            return
        self.recovery.on_timeout(self.snd_max, now)

    def _on_persist_timeout(self, now: float) -> None:
        """RFC 9293 §3.8.6.1: probe a zero window (a segment one below SND.UNA, as Linux does)."""
        if self.state not in SENDING_STATES or self.snd_una < self.snd_nxt:
            return
        if self.snd_wnd == 0:
            self._emit_segment(self._seq_wire(self.snd_una - 1), self._ack_wire(), ACK, b"")
            if self.trace.active:
                self._emit(
                    "zero-window-probe",
                    {"seq": self._seq_wire(self.snd_una - 1)},
                    why="the peer's window is zero",
                )
        self._persist_backoff = min(self._persist_backoff + 1, 10)
        self._persist_at = now + min(self.rto.base * (1 << self._persist_backoff), 60.0)
        if self.snd_wnd > 0:
            self._persist_at = None
            self._send_data(now, force=True)

    # -- segment arrival (RFC 9293 §3.10.7) ---------------------------------------------

    def receive(self, seg: Segment, now: float) -> None:
        """Process one segment addressed to this connection."""
        self._now = now
        self.segments_received += 1
        if self.trace.active:
            self._trace_segment("recv", seg)
        st = self.state
        if st is S.ESTABLISHED and self._predicted(seg, now):
            self._output(now)
            return
        if st is S.LISTEN:
            self._rcv_listen(seg, now)
        elif st is S.SYN_SENT:
            self._rcv_syn_sent(seg, now)
        elif st is not S.CLOSED:
            self._rcv_synchronized(seg, now)
        if self.state is not S.CLOSED:
            self._output(now)

    def _predicted(self, seg: Segment, now: float) -> bool:
        """Header prediction (RFC 9293 §3.10.7.4 as BSD's ``tcp_input`` and Linux's
        ``tcp_rcv_established`` shortcut it): in ESTABLISHED, a segment with ACK (and PSH)
        alone, the timestamp option alone and not older than TS.Recent, SEQ = RCV.NXT, an
        ACK in [SND.UNA, SND.MAX], and text that fits the window — a pure ACK or the next
        data in order. For it every check of
        :meth:`_rcv_synchronized` passes and most steps do nothing; this does the steps
        that do something, in the same order, with the same result
        (``tests/hotpath/test_tcp_header_prediction.py`` compares the two). Any other
        segment: returns False having changed nothing."""
        if seg.flags & ~PSH != ACK or not self.ts_ok:
            return False
        opts = seg.options
        if len(opts) != 3 or opts[0] is not NOP or opts[1] is not NOP:
            return False
        ts = opts[2]
        if type(ts) is not Timestamps or (ts.tsval - self.ts_recent) & MASK > HALF:
            return False  # no timestamp, or an older one: PAWS decides (RFC 7323 §5.3)
        rcv_nxt = self.rcv_nxt
        if seg.seq != (self.irs + rcv_nxt) & MASK:
            return False
        una = self.snd_una
        acked = (seg.ack - self.iss - una) & MASK
        if acked > self.snd_max - una:
            return False
        payload = seg.payload
        plen = len(payload)
        if plen and plen > self.rcv_adv - rcv_nxt:
            return False  # beyond the window: the full path trims it
        if rcv_nxt <= self._last_ack_sent:  # RFC 7323 §4.3: TS.Recent
            self.ts_recent = ts.tsval
            self._ts_recent_at = now
        if acked or una < self.snd_max or self.recovery.tlp_high is not None:
            self._process_ack(seg, rcv_nxt, una + acked, plen, seg.flags, now)
        else:  # nothing in flight, nothing acknowledged: the ACK step only updates SND.WND
            self._update_window(seg, rcv_nxt, una)
        if plen:
            self._rcv_in_order(rcv_nxt, payload, now)
        return True

    def _rcv_listen(self, seg: Segment, now: float) -> None:
        flags = seg.flags
        if flags & RST:
            return
        if flags & ACK:
            self._send_rst_for(seg, "ACK to a listening socket")
            return
        if not flags & SYN:
            return
        self.irs = seg.seq
        self.rcv_nxt = 1
        self._take_syn_options(seg)
        self._move(Input.RCV_SYN, f"SYN from {self.remote[0]}:{self.remote[1]}")
        self._send_syn(now, retransmit=False)

    def _rcv_syn_sent(self, seg: Segment, now: float) -> None:
        flags = seg.flags
        ack = 0
        if flags & ACK:
            ack = unwrap(self.iss, seg.ack, self.snd_una)
            if ack <= 0 or ack > self.snd_max:
                if not flags & RST:
                    self._send_rst_for(seg, "unacceptable ACK in SYN-SENT")
                return
        if flags & RST:
            if flags & ACK:  # RFC 5961 §3.2 keeps the RFC 793 rule here: the ACK must match
                self._fail("refused", f"{self.remote[0]}:{self.remote[1]} answered RST")
                self._move(Input.RCV_RST, "connection refused")
            return
        if not flags & SYN:
            return
        self.irs = seg.seq
        self.rcv_nxt = 1
        self._take_syn_options(seg)
        if flags & ACK:
            self._syn_acked(now)
            self.snd_una = ack
            self.snd_nxt = max(self.snd_nxt, ack)
            self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.window, 0, ack  # unscaled in a SYN
            self.recovery.rto_at = None
            self.retries = 0
            self._move(Input.RCV_SYN_ACK, f"SYN,ACK acknowledges ISN+1 = {seg.ack}")
            self._ack_now = True
            self._after_established(now)
        else:
            # Simultaneous open (RFC 9293 §3.5 Figure 8): answer SYN,ACK with our same ISS.
            self._move(Input.RCV_SYN, "the peer's SYN crossed ours (simultaneous open)")
            self.snd_wnd = seg.window
            self._send_syn(now, retransmit=False)

    def _paws_rejects(self, seg: Segment, now: float) -> bool:
        """RFC 7323 §5.3 R1: a segment whose TSval is older than TS.Recent is a duplicate
        from an earlier wrap of the sequence space — drop it (with an ACK; never a RST).

        As Linux (``TCP_PAWS_WINDOW``), one tick of age is tolerated: a resend that fills
        the hole at RCV.NXT moves TS.Recent to its TSval, and segments sent a millisecond
        before it but reordered behind it are new data, not old duplicates (dropping them
        made the sender resend them needlessly)."""
        if not self.ts_ok or seg.flags & RST:
            return False
        for o in seg.options:
            if type(o) is Timestamps:
                if (
                    seq_lt(o.tsval, self.ts_recent)
                    and (self.ts_recent - o.tsval) & MASK > PAWS_WINDOW
                    and now - self._ts_recent_at <= PAWS_IDLE
                    and not self._disordered_ack(seg, o.tsval)
                ):
                    self.trace.count("tcp.paws-drop")
                    if self.trace.active:
                        self._emit(
                            "paws-drop",
                            {"tsval": o.tsval, "ts_recent": self.ts_recent},
                            why="TSval older than TS.Recent (RFC 7323 §5.3 R1): dropped, ACKed",
                        )
                    self._ack_now = True
                    return True
                return False
        return False

    def _disordered_ack(self, seg: Segment, tsval: int) -> bool:
        """A pure duplicate ACK overtaken by a newer segment (Linux's tcp_disordered_ack):
        its SACK blocks still count, so PAWS lets it through when it is at RCV.NXT, does not
        move SND.UNA and is younger than one RTO."""
        if seg.payload or seg.flags & (SYN | FIN) or not seg.flags & ACK:
            return False
        if unwrap(self.irs, seg.seq, self.rcv_nxt) != self.rcv_nxt:
            return False
        if unwrap(self.iss, seg.ack, self.snd_una) > self.snd_una:
            return False
        return (self.ts_recent - tsval) & MASK <= self.rto.rto * 1000

    def _rcv_synchronized(self, seg: Segment, now: float) -> None:
        flags = seg.flags
        st = self.state
        payload = seg.payload
        seq = seq0 = unwrap(self.irs, seg.seq, self.rcv_nxt)

        # SYN-RECEIVED: the peer's SYN again, or its SYN,ACK in a simultaneous open.
        if flags & SYN and st is S.SYN_RECEIVED and seq == 0 and not flags & RST:
            if not flags & ACK:
                self._send_syn(now, retransmit=True, why="the peer retransmitted its SYN")
                return
            flags &= ~SYN
            seq = 1

        # RFC 7323 §5.3 R1: PAWS, before the sequence number check.
        if self.ts_ok and self._paws_rejects(seg, now):
            return

        # First: the sequence number check.
        rcv_nxt = self.rcv_nxt
        wnd = max(0, self.rcv_adv - rcv_nxt)
        plen = len(payload)
        seg_len = plen + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)
        if seg_len == 0:
            ok = seq == rcv_nxt if wnd == 0 else rcv_nxt <= seq < rcv_nxt + wnd
        elif wnd == 0:
            ok = False
        else:
            ok = (rcv_nxt <= seq < rcv_nxt + wnd) or (rcv_nxt <= seq + seg_len - 1 < rcv_nxt + wnd)
        if not ok and wnd == 0 and seq == rcv_nxt and flags & (ACK | RST):
            # §3.10.7.4: at a zero window accept valid ACKs and RSTs but drop the text —
            # and acknowledge it, for the segment was not acceptable: a probe that carries
            # data (BSD, macOS, Windows probe so) must learn the window from our answer.
            ok = True
            if seg_len:
                self._ack_now = True
                if self.trace.active:
                    self._emit(
                        "zero-window-probe-ack",
                        {"seq": seg.seq, "len": plen},
                        why="zero receive window: text dropped, ACK sent (RFC 9293 §3.10.7.4)",
                    )
            payload, plen, flags = b"", 0, flags & ~FIN
        if not ok:
            if flags & RST:
                return
            if st is S.TIME_WAIT and flags & FIN and seq + seg_len == rcv_nxt:
                # §3.10.7.4 eighth: a retransmitted FIN — acknowledge it, restart 2*MSL.
                self._timewait_at = now + 2 * self.config.msl
                if self.trace.active:
                    self._emit(
                        "re-ack-fin",
                        {"seq": seg.seq},
                        why="TIME-WAIT: the peer retransmitted its FIN (our ACK was lost)",
                    )
            elif seg_len:
                if plen and seq < rcv_nxt:
                    self.reassembler.duplicate(seq, min(seq + plen, rcv_nxt))  # RFC 2883
                    self._enter_quickack()  # our ACK of it was lost: ACK the next ones at once
                if self.trace.active:
                    self._emit(
                        "old-segment",
                        {"seq": seg.seq, "len": seg_len},
                        why="outside the receive window: a duplicate; re-ACK",
                    )
            self._ack_now = True
            return
        # RFC 7323 §4.3 (and §5.3 R3): TS.Recent from the segment that the next ACK covers.
        if self.ts_ok and seq <= self._last_ack_sent:
            self._take_ts_recent(seg, now)
        # Trim to the window (§3.10.7.4 "first", the trimming rule).
        if seq < rcv_nxt:
            cut = rcv_nxt - seq
            if flags & SYN:
                flags &= ~SYN
                cut -= 1
            if cut > 0 and payload:
                self.reassembler.duplicate(seq, min(seq + cut, seq + len(payload)))
            payload = payload[cut:]
            seq = rcv_nxt
        if wnd and seq + len(payload) > rcv_nxt + wnd:
            payload = payload[: rcv_nxt + wnd - seq]
            flags &= ~FIN
        plen = len(payload)

        # Second: RST (RFC 5961 §3.2: reset only on an exact match, else a challenge ACK).
        if flags & RST:
            if seq0 == rcv_nxt:
                if st is S.SYN_RECEIVED and self.passive:
                    self._fail("reset", "RST in SYN-RECEIVED: back to listening")
                    self._move(Input.RCV_RST, "the peer reset the half-open connection")
                elif st is S.SYN_RECEIVED:
                    self._fail("refused", "RST in SYN-RECEIVED after a simultaneous open")
                    self._move(Input.RCV_RST, "connection refused")
                elif st is S.TIME_WAIT and self.config.rfc1337:
                    self.trace.count("tcp.rfc1337-ignored-rst")
                    if self.trace.active:
                        self._emit(
                            "drop",
                            {},
                            why="RST in TIME-WAIT ignored (RFC 1337 §3, TIME-WAIT assassination)",
                        )
                elif st in (S.CLOSING, S.LAST_ACK, S.TIME_WAIT):
                    self._move(Input.RCV_RST, "RST while closing")
                else:
                    self._fail("reset", "connection reset by peer")
                    self._move(Input.RCV_RST, f"RST with SEQ = RCV.NXT = {seg.seq}")
            else:
                self._challenge_ack("RST inside the window but not at RCV.NXT (RFC 5961 §3.2)")
            return

        # Fourth: SYN in a synchronized state (RFC 5961 §4.2: challenge ACK).
        if flags & SYN:
            self._challenge_ack("SYN on a synchronized connection (RFC 5961 §4.2)")
            return

        # Fifth: ACK.
        if not flags & ACK:
            return
        ack = unwrap(self.iss, seg.ack, self.snd_una)
        if st is S.SYN_RECEIVED:
            if not self.snd_una < ack <= self.snd_max:
                self._send_rst_for(seg, "unacceptable ACK in SYN-RECEIVED")
                return
            self.snd_una = ack
            self.snd_nxt = max(self.snd_nxt, ack)
            self._syn_acked(now)
            self.recovery.rto_at = None
            self.retries = 0
            self._update_window(seg, seq, ack)
            self._move(Input.RCV_ACK_OF_SYN, f"ACK acknowledges our ISN+1 = {seg.ack}")
            self._after_established(now)
            st = self.state
        if ack > self.snd_max or ack < self.snd_una - self.max_snd_wnd:
            # RFC 5961 §5.2: an ACK outside [SND.UNA - MAX.SND.WND, SND.NXT].
            self._challenge_ack("ACK outside [SND.UNA - MAX.SND.WND, SND.NXT] (RFC 5961 §5.2)")
            return
        self._process_ack(seg, seq, ack, plen, flags, now)
        st = self.state
        if st is S.CLOSED:
            return
        if self._fin_queued and self.snd_una > self._data_end:  # our FIN is acknowledged
            if st is S.FIN_WAIT_1 or st is S.CLOSING:
                self._move(Input.RCV_ACK_OF_FIN, "the peer acknowledged our FIN")
            elif st is S.LAST_ACK:
                self._move(Input.RCV_ACK_OF_FIN, "the peer acknowledged our FIN")
                return
        st = self.state

        # Seventh: segment text.
        if plen and st in RECEIVING_STATES:
            if seq == self.rcv_nxt:
                self._rcv_in_order(seq, payload, now)
            else:
                self.reassembler.store(seq, payload)
                self._ack_now = True  # out of order: duplicate ACK at once (RFC 5681 §4.2)
                if self.trace.active:
                    self._emit(
                        "out-of-order",
                        {"rel_seq": seq, "len": plen},
                        why=f"expected relative seq {self.rcv_nxt}; kept for reassembly",
                    )
        elif plen and seq < self.rcv_nxt + plen:
            self._ack_now = True

        # Eighth: FIN.
        if flags & FIN and not self.fin_received and st not in (S.CLOSED, S.LISTEN, S.SYN_SENT):
            fin_at = seq + plen
            if fin_at == self.rcv_nxt:
                self._fin_arrived(now)
            elif fin_at > self.rcv_nxt and st in RECEIVING_STATES:
                # Out of order: hold it and send a duplicate ACK at once (RFC 5681 §4.2),
                # whose SACK block covers the FIN: the sender's RACK then sees the hole.
                self.reassembler.store_fin(fin_at)
                self._ack_now = True
                if self.trace.active and not plen:
                    self._emit(
                        "out-of-order",
                        {"rel_seq": seq, "len": 0, "fin": True},
                        why=f"FIN before relative seq {self.rcv_nxt}; held until the data is in",
                    )

    def _rcv_in_order(self, seq: int, payload: bytes, now: float) -> None:
        """Text at RCV.NXT (§3.10.7.4 seventh): to the application's buffer, with what it
        joins up from the reassembly queue; ACK now or delay the ACK (RFC 5681 §4.2, and
        :meth:`_enter_quickack`)."""
        reasm = self.reassembler
        reasm.append(payload)
        self.rcv_nxt = seq + len(payload)
        last = self._data_rcvd_at
        self._data_rcvd_at = now
        if last is None or now - last > self.rto.rto:
            self._enter_quickack()  # the first data, or data after a silence
        if reasm.has_holes:
            self.rcv_nxt = reasm.drain(self.rcv_nxt)
            self._ack_now = True  # filled (part of) a hole: ACK at once (RFC 5681 §4.2)
        else:
            self._unacked_segs += 1
            if self._unacked_segs >= 2 or self._quickacks or not self.config.delayed_ack:
                self._ack_now = True
            elif self._delack_at is None:
                self._delack_at = now + self.config.delayed_ack
        self.bytes_received += self.rcv_nxt - seq
        fin_at = reasm.fin_at
        if fin_at is not None and fin_at == self.rcv_nxt:
            self._fin_arrived(now)

    def _enter_quickack(self) -> None:
        """Acknowledge the next in-order segments at once instead of every second one.

        RFC 5681 §4.2 lets a receiver delay ACKs and asks for immediate ones only for
        out-of-order and hole-filling data. Linux (``tcp_incr_quickack``) also ACKs every
        segment for a while when the sender is likely short of ACKs: at the first data of a
        connection and after a silence longer than the RTO (``tcp_event_data_recv``: the
        sender "failed to restart window" — it waits on a timeout with a window of one or
        two segments), and after a duplicate segment (``tcp_send_dupack``, ``tcp_data_queue``:
        the sender resent because our ACK was lost). At a window of two to four segments a
        delayed ACK is the only ACK of its flight; losing it costs a timeout, losing both of
        two ACKs is rarer. The count is half the advertised window in segments (at least
        two, at most :data:`MAX_QUICKACKS`); each ACK of new data uses one.
        """
        n = (self.rcv_adv - self._last_ack_sent) // (2 * self.smss) or 2  # the window we offered
        self._quickacks = max(self._quickacks, min(n, MAX_QUICKACKS))

    def _take_ts_recent(self, seg: Segment, now: float) -> None:
        """RFC 7323 §4.3: TS.Recent = SEG.TSval if it is not older (modulo 2**32)."""
        for o in seg.options:
            if type(o) is Timestamps:
                if not seq_lt(o.tsval, self.ts_recent):
                    self.ts_recent = o.tsval
                    self._ts_recent_at = now
                return

    def _fin_arrived(self, now: float) -> None:
        self.rcv_nxt += 1
        self.fin_received = True
        self.reassembler.fin_at = None
        self._ack_now = True
        st = self.state
        if st in (S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.SYN_RECEIVED):
            self._move(Input.RCV_FIN, "the peer has no more data to send")

    def _process_ack(
        self, seg: Segment, seq: int, ack: int, plen: int, flags: int, now: float
    ) -> None:
        una = self.snd_una
        sack: Sack | None = None
        tsecr_ms: int | None = None
        for o in seg.options:
            if type(o) is Timestamps:
                if self.ts_ok and o.tsecr:
                    tsecr_ms = (o.tsecr - self._ts_offset) & MASK
            elif type(o) is Sack:
                sack = o
        blocks: list[tuple[int, int]] = []
        if sack is not None and self.sack_ok:
            iss = self.iss
            blocks = [(unwrap(iss, a, una), unwrap(iss, b, una)) for a, b in sack.blocks]
        old_wnd = self.snd_wnd
        self._update_window(seg, seq, ack)
        rec = self.recovery
        duplicate = (
            ack == una
            and una < self.snd_max
            and plen == 0
            and not flags & (SYN | FIN)
            and self.snd_wnd == old_wnd
        )
        if ack > una or duplicate or blocks or rec.tlp_high is not None:
            rec.on_ack(una, ack, self.snd_max, blocks, tsecr_ms, duplicate, now)
        if ack > una:
            self._on_new_ack(ack, now)

    def _update_window(self, seg: Segment, seq: int, ack: int) -> None:
        # RFC 9293 §3.10.7.4: update the send window only from newer segments.
        if self.snd_wl1 < seq or (self.snd_wl1 == seq and self.snd_wl2 <= ack):
            wnd = seg.window if seg.flags & SYN else seg.window << self.snd_wscale
            self.snd_wnd = wnd
            self.snd_wl1 = seq
            self.snd_wl2 = ack
            if wnd > self.max_snd_wnd:
                self.max_snd_wnd = wnd
            if wnd:
                self._persist_at = None
                self._persist_backoff = 0

    def _on_new_ack(self, ack: int, now: float) -> None:
        una = self.snd_una
        self.snd_una = ack
        if self.snd_nxt < ack:
            self.snd_nxt = ack
        # Release acknowledged data (offsets 1 .. data_end-1 are data), but not from the
        # first segment still in flight: one acknowledged only in part (a peer that trimmed
        # it to its window) is resent from its first byte.
        segs = self.recovery.segs
        upto = min(ack, self._data_end, segs[0].start if segs else ack)
        if upto > max(una, 1):
            self._sbuf.release(upto)
        self.retries = 0
        self._arm_probe(now)  # RFC 8985 §7.2: restart the probe timer

    def _arm_probe(self, now: float) -> None:
        self.recovery.arm_probe(
            self.snd_una, self.snd_max, now, allowed=self.state in SENDING_STATES
        )

    def _on_probe_timeout(self, now: float) -> None:
        """RFC 8985 §7.3: send the probe — a new segment if the receive window allows, else
        the last segment again — and restart the RTO after it. Not limited by cwnd."""
        rec = self.recovery
        if (
            rec.tlp_high is not None
            or rec.in_recovery
            or rec.in_loss
            or self.snd_una >= self.snd_max
            or self.state not in SENDING_STATES
        ):
            return
        una, nxt, data_end = self.snd_una, self.snd_nxt, self._data_end
        smss = self._data_mss()
        n = min(data_end - nxt, smss, una + self.snd_wnd - nxt)
        rxt: tuple[int, int] | None = None
        if nxt == self.snd_max and n > 0:
            end = nxt + n
            flags = ACK
            if end == data_end:
                flags |= PSH | (FIN if self._fin_queued else 0)
            self._send_new(nxt, end, flags)
            what = "new data"
        else:
            last = rec.last()
            if last is None or last.sacked:
                return
            if last.end - last.start > smss:
                rec.split(last, last.end - smss)
                last = rec.last()
                assert last is not None
            self._retransmit(last, "tail loss probe (RFC 8985 §7.3)")
            rxt = (last.start, last.end)
            what = "the last segment again"
        rec.probe_sent(self.snd_max, rxt, now)
        if self.trace.active:
            self._emit(
                "tail-loss-probe",
                {"rel_seq": una if rxt is None else rxt[0], "sent": what},
                why="no ACK within the probe timeout (about 2 SRTT): tail loss probe",
            )

    def _syn_acked(self, now: float) -> None:
        if self._syn_sent_at is not None:
            self.recovery.take_rtt_sample(now - self._syn_sent_at, "RTT of the SYN (RFC 6298)")
            self._syn_sent_at = None

    # -- sending -------------------------------------------------------------------------

    def _seq_wire(self, offset: int) -> int:
        return (self.iss + offset) & MASK

    def _ack_wire(self) -> int:
        return (self.irs + self.rcv_nxt) & MASK

    def _after_established(self, now: float) -> None:
        if self.retransmissions:
            # Our SYN (or SYN,ACK) was lost: RFC 5681 §3.1 starts with a one-segment window,
            # and RFC 6298 §5.7 restarts an unmeasured RTO at 3 s rather than the backoff.
            self.cc.cwnd = self.smss
            if self.rto.srtt is None:
                self.rto.initial = 3.0
            self.rto.backoff = 0
        if self._close_after_sync:
            self._close_after_sync = False
            self.shutdown(now)

    def _take_syn_options(self, seg: Segment) -> None:
        """Negotiate MSS, window scale, SACK and timestamps from the peer's SYN."""
        cfg = self.config
        peer_ws: int | None = None
        peer_sack = peer_ts = False
        for opt in seg.options:
            if isinstance(opt, MaximumSegmentSize):
                self.peer_mss = max(opt.mss, 64)
            elif isinstance(opt, WindowScale):
                peer_ws = min(opt.shift, MAX_WINDOW_SHIFT)
            elif isinstance(opt, SackPermitted):
                peer_sack = True
            elif isinstance(opt, Timestamps):
                peer_ts = True
                self.ts_recent = opt.tsval
                self._ts_recent_at = self._now
        if peer_ws is not None and cfg.window_scaling:
            self.snd_wscale = peer_ws
        else:
            self.snd_wscale = 0
            self.rcv_wscale = 0
        self.sack_ok = peer_sack and cfg.sack
        self.ts_ok = peer_ts and cfg.timestamps
        self.smss = min(self.peer_mss, cfg.mss) - (12 if self.ts_ok else 0)
        self.recovery = self._new_recovery()
        self.snd_wnd = seg.window  # never scaled in a SYN (RFC 7323 §2.2)
        self.max_snd_wnd = max(self.max_snd_wnd, self.snd_wnd)

    def _syn_options(self) -> tuple[Option, ...]:
        cfg = self.config
        opts: list[Option] = [MaximumSegmentSize(cfg.mss)]
        synack = self.state is S.SYN_RECEIVED
        want_sack = cfg.sack and (self.sack_ok or not synack)
        want_ts = cfg.timestamps and (self.ts_ok or not synack)
        want_ws = cfg.window_scaling and (self.snd_wscale or self.rcv_wscale or not synack)
        if want_sack and want_ts:
            opts += [SackPermitted(), Timestamps(self._tsval(), self.ts_recent)]
        elif want_ts:
            opts += [NOP, NOP, Timestamps(self._tsval(), self.ts_recent)]
        elif want_sack:
            opts += [NOP, NOP, SackPermitted()]
        if want_ws:
            opts += [NOP, WindowScale(self.rcv_wscale)]
        return tuple(opts)

    def _tsval(self) -> int:
        return (int(self._now * 1000) + self._ts_offset) & MASK

    def _send_syn(self, now: float, *, retransmit: bool, why: str = "") -> None:
        synack = self.state is S.SYN_RECEIVED
        flags = SYN | ACK if synack else SYN
        window = min(self.config.recv_buffer, 0xFFFF)  # never scaled in a SYN (RFC 7323 §2.2)
        self.rcv_adv = self.rcv_nxt + window
        seg = Segment(
            self.local[1],
            self.remote[1],
            self.iss,
            self._ack_wire() if synack else 0,
            flags,
            window,
            b"",
            self._syn_options(),
        )
        if synack:
            # RFC 7323 §4.3: the SYN,ACK acknowledges RCV.NXT too — Last.ACK.sent, so the
            # peer's first ACK updates TS.Recent and our first segment echoes its TSval.
            self._last_ack_sent = self.rcv_nxt
        self._push(seg)
        self.snd_nxt = max(self.snd_nxt, 1)
        self.snd_max = max(self.snd_max, 1)
        if retransmit:
            self.retransmissions += 1
            self._syn_sent_at = None
            if self.trace.active:
                self._emit(
                    "retransmit",
                    {"flags": flag_names(flags), "seq": self.iss},
                    why=why or f"no answer; RTO now {self.rto.rto:g} s",
                )
        elif self._syn_sent_at is None and not self.retransmissions:
            self._syn_sent_at = now
        self.recovery.rto_at = now + self.rto.rto

    def _challenge_ack(self, why: str) -> None:
        """RFC 5961 §3.2/§4.2/§5.2: answer with an ACK, at most N per second (§7)."""
        now = self._now
        if now - self._challenge_window >= 1.0:
            self._challenge_window = now
            self._challenges = 0
        self._challenges += 1
        self.trace.count("tcp.challenge-ack")
        if self._challenges <= self.config.challenge_ack_limit:
            self._ack_now = True
            if self.trace.active:
                self._emit("challenge-ack", {}, why=why)
        elif self.trace.active:
            self._emit("drop", {}, why=why + "; challenge ACK rate limit reached")

    def _send_rst_for(self, seg: Segment, why: str) -> None:
        """RFC 9293 §3.10.7.1/§3.10.7.3: a reset that the offending segment will accept."""
        if seg.flags & ACK:
            rst = Segment(self.local[1], self.remote[1], seg.ack, 0, RST, 0)
        else:
            ack = (seg.seq + seg.seg_len) & MASK
            rst = Segment(self.local[1], self.remote[1], 0, ack, RST | ACK, 0)
        self._push(rst)
        if self.trace.active:
            self._emit("rst", {}, why=why)

    def _fail(self, reason: str, detail: str) -> None:
        self._events.append(ConnectionFailed(reason, detail))

    def _output(self, now: float) -> None:
        """Send what is due: data and FIN as the windows allow, then a pure ACK if owed."""
        st = self.state
        if st in SENDING_STATES and (
            self.snd_nxt < self._data_end or self._fin_queued or self.recovery.lost_bytes
        ):
            sent_before = self.snd_max
            self._send_data(now)
            if self.snd_max > sent_before:
                self._arm_probe(now)  # RFC 8985 §7.2: (re)start the PTO after new data
        if self._ack_now and st not in (S.CLOSED, S.LISTEN, S.SYN_SENT):
            if st is S.SYN_RECEIVED:
                self._ack_now = False
                return
            self._emit_segment(self._seq_wire(self.snd_nxt), self._ack_wire(), ACK, b"")

    def _send_data(self, now: float, force: bool = False) -> None:
        """RFC 6675 §5 with RACK's marks: lost segments first, then new data, while
        cwnd - pipe allows; the peer's window, sender SWS avoidance and Nagle for new data."""
        rec = self.recovery
        cc = rec.cc
        smss = self._data_mss()
        while True:
            una, nxt = self.snd_una, self.snd_nxt
            room = cc.cwnd - rec.pipe(self.snd_max - una)
            if rec.lost_bytes:
                lost = rec.next_lost()
                if lost is not None:
                    if room < smss and not rec.fast_rxt_due:
                        return
                    rec.fast_rxt_due = False
                    if lost.end - lost.start > smss:
                        rec.split(lost, lost.start + smss)  # a smaller path MTU
                    self._retransmit(lost, rec.loss_reason())
                    continue
            data_end = self._data_end
            avail = data_end - nxt
            if avail <= 0:
                if self._fin_queued and nxt == data_end:
                    # All data is out: the FIN (it needs no window of its own).
                    self._send_new(nxt, nxt, FIN | ACK)
                return
            if rec.in_recovery and room < smss:
                return
            peer_room = una + self.snd_wnd - nxt
            n = min(avail, smss, room, peer_room)
            if n <= 0:
                if peer_room <= 0 and una == nxt and self._persist_at is None:
                    self._persist_at = now + self.rto.rto  # zero window: start probing
                return
            if n < smss and not force:
                if n < avail:
                    # A runt limited by a window. Sender SWS avoidance (§3.8.6.2.1) sends it
                    # only if it is at least half the largest window the peer has offered;
                    # with nothing in flight the persist timer is the override timeout.
                    if not (peer_room < avail and n >= self.max_snd_wnd // 2):
                        if una == nxt and self._persist_at is None:
                            self._persist_at = now + self.rto.rto
                        return
                elif self.config.nagle and una < nxt and not self._fin_queued:
                    return  # Nagle (§3.7.4): one small segment in flight at a time
            force = False
            end = nxt + n
            flags = ACK
            if end == data_end:
                flags |= PSH
                if self._fin_queued:
                    flags |= FIN  # piggyback the FIN on the last data segment
            self._send_new(nxt, end, flags)

    def _send_new(self, start: int, end: int, flags: int) -> None:
        """Send offsets [start, end) (+FIN) for the first time; advance SND.NXT."""
        payload = self._sbuf.slice(start, end)
        self._emit_segment(self._seq_wire(start), self._ack_wire(), flags, payload)
        nxt = end + (1 if flags & FIN else 0)
        self.snd_nxt = self.snd_max = nxt
        self.bytes_sent += end - start
        rec = self.recovery
        rec.on_sent(start, nxt, self._now)
        if rec.rto_at is None:
            rec.rto_at = self._now + self.rto.rto

    def _retransmit(self, seg: SentSegment, why: str) -> None:
        """Resend one segment in flight (its range, and the FIN if it carries it)."""
        start, end = seg.start, seg.end
        data_end = self._data_end
        flags = ACK
        if end > data_end:  # the segment carries our FIN
            flags |= FIN
        if end >= data_end:
            end = data_end
            flags |= PSH
        payload = self._sbuf.slice(start, end)
        self._emit_segment(self._seq_wire(start), self._ack_wire(), flags, payload)
        rec = self.recovery
        rec.on_retransmitted(seg, self._now)
        self.retransmissions += 1
        if rec.rto_at is None:
            rec.rto_at = self._now + self.rto.rto
        if self.trace.active:
            fields: dict[str, object] = {"rel_seq": start, "len": end - start}
            if flags & FIN:
                fields["flags"] = "FIN"
            self._emit("retransmit", fields, why=why)

    def _data_mss(self) -> int:
        """The most data a segment sent now may carry. ``smss`` already leaves room for the
        timestamps; RFC 6691 §2: "the sender MUST reduce the TCP data length to account for
        any IP or TCP options that it is including", so SACK blocks going out with the data
        (NOP, NOP, kind, length and 8 bytes a block) take their room from the payload, as
        Linux's ``tcp_current_mss`` does."""
        reasm = self.reassembler
        if not (self.sack_ok and (reasm.has_holes or reasm.dsack is not None)):
            return self.smss
        return self.smss - 4 - 8 * reasm.sack_block_count(3 if self.ts_ok else 4)

    def _emit_segment(self, seq: int, ack: int, flags: int, payload: bytes) -> None:
        """Build a segment with the current window and options, and queue it."""
        opts: tuple[Option, ...] = ()
        if flags & ACK:
            window = self._receive_window() >> self.rcv_wscale
            if window > 0xFFFF:
                window = 0xFFFF
                self.rcv_adv = self.rcv_nxt + (window << self.rcv_wscale)
            if self.ts_ok:
                opts = (NOP, NOP, Timestamps(self._tsval(), self.ts_recent))
            reasm = self.reassembler
            if self.sack_ok and (reasm.has_holes or reasm.dsack is not None):
                irs = self.irs
                blocks = reasm.sack_blocks(3 if self.ts_ok else 4)
                opts += (NOP, NOP, Sack(tuple((wrap(irs, s), wrap(irs, e)) for s, e in blocks)))
            self._ack_now = False
            if self._quickacks and self.rcv_nxt > self._last_ack_sent:
                self._quickacks -= 1
            self._last_ack_sent = self.rcv_nxt
            self._unacked_segs = 0
            self._delack_at = None
        else:
            window = 0
        self._push(Segment(self.local[1], self.remote[1], seq, ack, flags, window, payload, opts))

    def _push(self, seg: Segment) -> None:
        self._out.append(seg)
        self.segments_sent += 1
        if self.trace.active:
            self._trace_segment("send", seg)

    def _receive_window(self) -> int:
        """The window to advertise: free space, never shrinking the right edge (§3.8.6.2.2)."""
        free = self.config.recv_buffer - self.reassembler.readable
        right = self.rcv_nxt + max(free, 0)
        # Receiver SWS avoidance: move the edge only by a useful amount.
        if right > self.rcv_adv and (
            right - self.rcv_adv >= min(self.config.recv_buffer // 2, self.smss)
            or (self.rcv_adv <= self.rcv_nxt and free > 0)
        ):
            self.rcv_adv = right
        return max(0, self.rcv_adv - self.rcv_nxt)

    # -- trace -------------------------------------------------------------------------

    def _emit(self, kind: str, fields: dict[str, Any], why: str | None = None) -> None:
        fields = {"conn": self.name, **fields}
        self.trace.emit(self._now, self.node, "tcp", kind, fields, why=why)

    def _traced(self) -> bool:
        return self.trace.active

    def _emit_recovery(self, kind: str, fields: dict[str, Any], why: str) -> None:
        self._emit(kind, fields, why=why or None)

    @property
    def name(self) -> str:
        return f"{self.local[0]}:{self.local[1]}->{self.remote[0]}:{self.remote[1]}"

    def _trace_segment(self, direction: str, seg: Segment) -> None:
        flags = seg.flags
        if direction == "send":
            rel_seq = (seg.seq - self.iss) & MASK
            rel_ack = (seg.ack - self.irs) & MASK if flags & ACK else None
        else:
            # Before the peer's SYN is processed its ISN is not known yet: its SYN is 0.
            known = self.state not in (S.LISTEN, S.SYN_SENT)
            rel_seq = (seg.seq - self.irs) & MASK if known else 0
            rel_ack = (seg.ack - self.iss) & MASK if flags & ACK else None
        fields: dict[str, Any] = {
            "flags": flag_names(flags),
            "seq": seg.seq,
            "ack": seg.ack if flags & ACK else None,
            "rel_seq": rel_seq,
            "rel_ack": rel_ack,
            "len": len(seg.payload),
            "win": seg.window,
        }
        if seg.options:
            fields["options"] = [
                _option_label(o) for o in seg.options if not isinstance(o, NoOperation)
            ]
        self._emit(direction, fields)


def _option_label(o: Option) -> str:
    """Short option names as Wireshark shows them: ``MSS=1460``, ``WS=3``, ``TS=val/ecr``."""
    if isinstance(o, MaximumSegmentSize):
        return f"MSS={o.mss}"
    if isinstance(o, WindowScale):
        return f"WS={o.shift}"
    if isinstance(o, SackPermitted):
        return "SACK_PERM"
    if isinstance(o, Sack):
        return "SACK=" + ",".join(f"{a}-{b}" for a, b in o.blocks)
    if isinstance(o, Timestamps):
        return f"TS={o.tsval}/{o.tsecr}"
    if isinstance(o, UnknownOption):
        return f"kind{o.kind}"
    return "EOL"
