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
RFC 5961 defences (exact-match RST, challenge ACKs, the ACK range check). The algorithms
live in small pure modules: :mod:`.rto` (RFC 6298), :mod:`.congestion` (RFC 5681/6582)
and :mod:`.sack` (RFC 6675).

Sequence numbers are kept as unwrapped offsets from the ISNs (:mod:`.seq`): the SYN is
offset 0, the first data byte offset 1. They are the "relative" numbers Wireshark shows;
the trace gives both those and the absolute 32-bit values.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from ..errors import LocalProtocolError
from ..randomness import RandomSource
from .congestion import NewReno
from .rto import RtoEstimator
from .sack import Scoreboard
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
from .seq import MASK, unwrap, wrap

Address = tuple[str, int]


class Tracer(Protocol):
    """Where a connection reports, injected by whoever drives it (the node passes its
    trace bus, which has this shape); the connection never imports the bus itself.

    ``active`` says whether anyone listens — read on every report, since a listener may
    subscribe while a connection is open, and checked before building fields on hot paths;
    ``emit`` reports one event; ``count`` counts one whether or not anyone listens.
    """

    @property
    def active(self) -> bool: ...

    def emit(
        self,
        time: float,
        node: str,
        layer: str,
        kind: str,
        fields: dict[str, Any] | None = None,
        *,
        why: str | None = None,
    ) -> None: ...

    def count(self, name: str, n: int = 1) -> None: ...


class _Untraced:
    """The tracer of a connection nobody watches."""

    active = False

    def emit(self, *args: Any, **kwargs: Any) -> None:
        pass

    def count(self, name: str, n: int = 1) -> None:
        pass


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

TLP_INITIAL_PTO = 1.0  # RFC 8985 §7.2: the PTO before any RTT sample
WC_DEL_ACK_T = 0.200  # RFC 8985 §7.2 WCDelAckT: the worst-case delayed-ACK timer
TLP_MIN_PTO = 0.010  # a floor under 2*SRTT, as Linux keeps, so timer jitter is not a loss
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
    rto_min: float = 1.0
    rto_max: float = 60.0
    tail_loss_probe: bool = True  # RFC 8985 §7 (TLP), with SACK only
    challenge_ack_limit: int = 100  # RFC 5961 §7: challenge ACKs per second
    fin_wait_2_timeout: float = 60.0  # a closed socket's wait for the peer's FIN (Linux: 60 s)


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
        "_delack_at",
        "_events",
        "_fin_queued",
        "_high_rxt",
        "_last_ack_sent",
        "_last_ooo",
        "_limited_transmit",
        "_lost_rxt",
        "_now",
        "_ooo",
        "_ooo_fin",
        "_ooo_starts",
        "_out",
        "_persist_at",
        "_persist_backoff",
        "_rbuf",
        "_rbuf_head",
        "_reo_at",
        "_rescue_rxt",
        "_rto_at",
        "_rtt_seq",
        "_rtt_time",
        "_rxt_marks",
        "_sbuf",
        "_sbuf_head",
        "_sbuf_seq",
        "_timewait_at",
        "_tlp_at",
        "_tlp_high",
        "_tlp_rxt",
        "_ts_offset",
        "_unacked_segs",
        "bytes_received",
        "bytes_sent",
        "cc",
        "config",
        "dupacks",
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
        "remote",
        "retransmissions",
        "retries",
        "rto",
        "sack_ok",
        "scoreboard",
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
        self.trace: Tracer = trace if trace is not None else _Untraced()
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
        self._sbuf = bytearray()
        self._sbuf_head = 0  # index in _sbuf of the byte at offset _sbuf_seq
        self._sbuf_seq = 1
        self._data_end = 1  # offset just past the last byte the application wrote
        self._fin_queued = False
        self._close_after_sync = False

        # Receive side (offsets from IRS).
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_adv = 0  # right edge of the window we advertised
        self._rbuf = bytearray()
        self._rbuf_head = 0
        self._ooo_starts: list[int] = []
        self._ooo: dict[int, bytes] = {}
        self._ooo_fin: int | None = None
        self._last_ooo: int | None = None
        self.fin_received = False

        # Options negotiated on the SYNs.
        self.peer_mss = DEFAULT_MSS
        self.snd_wscale = 0
        self.rcv_wscale = _window_shift(config.recv_buffer) if config.window_scaling else 0
        self.sack_ok = False
        self.ts_ok = False
        self.ts_recent = 0
        self._last_ack_sent = 0
        self._ts_offset = random.randint(0, MASK)
        self.smss = min(config.mss, DEFAULT_MSS)

        # Reliability and congestion control.
        self.rto = RtoEstimator(config.rto_initial, config.rto_min, config.rto_max)
        self.cc = NewReno(self.smss)
        self.scoreboard = Scoreboard()
        self._high_rxt = 0
        self._rescue_rxt: int | None = None  # RFC 6675 RescueRxt
        # Lost retransmissions (a RACK-like extension of RFC 6675, which has no way to see
        # them): each retransmission in recovery remembers SND.MAX at the time; a SACK for
        # data sent after it, while it is still missing, means it was lost too.
        self._rxt_marks: list[tuple[int, int, int]] = []
        self._lost_rxt: list[tuple[int, int]] = []
        self.dupacks = 0
        self._limited_transmit = 0
        self.retries = 0
        self._rtt_seq: int | None = None
        self._rtt_time = 0.0
        self._rto_at: float | None = None
        self._persist_at: float | None = None
        self._persist_backoff = 0
        self._delack_at: float | None = None
        self._timewait_at: float | None = None
        # Tail loss probe (RFC 8985 §7): when the probe timer fires, the end of SND.MAX at
        # the probe (TLP.end_seq), and the range resent if the probe was a retransmission.
        self._tlp_at: float | None = None
        self._tlp_high: int | None = None
        self._tlp_rxt: tuple[int, int] | None = None
        self._reo_at: float | None = None  # the RACK-style reordering window's end
        self._unacked_segs = 0
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
            self._rto_at = self._persist_at = None
        elif new is S.CLOSED:
            self._rto_at = self._persist_at = self._delack_at = self._timewait_at = None

    # -- application calls -------------------------------------------------------------

    @property
    def send_space(self) -> int:
        """How many more bytes :meth:`write` would accept now."""
        return max(0, self.config.send_buffer - (self._data_end - self.snd_una))

    @property
    def readable(self) -> int:
        """Bytes received in order and not yet read."""
        return len(self._rbuf) - self._rbuf_head

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
            self._sbuf += data[:n]
            self._data_end += n
            self._now = now
            if self.state in SENDING_STATES:
                self._output(now)
        return n

    def read(self, max_bytes: int, now: float) -> bytes:
        """Up to ``max_bytes`` of received data (``b""`` if none is ready)."""
        head = self._rbuf_head
        avail = len(self._rbuf) - head
        if avail <= 0:
            return b""
        n = min(avail, max_bytes)
        data = bytes(self._rbuf[head : head + n])
        head += n
        if head == len(self._rbuf):
            self._rbuf.clear()
            head = 0
        elif head > 65536 and head * 2 > len(self._rbuf):
            del self._rbuf[:head]
            head = 0
        self._rbuf_head = head
        # RFC 9293 §3.8.6.2.2: tell the peer when a small window opened by a useful amount.
        if self.state in RECEIVING_STATES:
            buf = self.config.recv_buffer
            opened = self.rcv_nxt + buf - self.readable - self.rcv_adv
            if self.rcv_adv - self.rcv_nxt < buf // 2 and opened >= min(buf // 2, self.smss):
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
                self.snd_nxt = self.snd_una  # resend what was too big, in smaller segments
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
        best: float | None = None
        for t in (
            self._delack_at,
            self._rto_at,
            self._tlp_at,
            self._reo_at,
            self._persist_at,
            self._timewait_at,
        ):
            if t is not None and (best is None or t < best):
                best = t
        return best

    # -- timers --------------------------------------------------------------------------

    def on_timer(self, now: float) -> None:
        """Run whatever timers are due at ``now``."""
        self._now = now
        if self._timewait_at is not None and now >= self._timewait_at:
            self._timewait_at = None
            self._move(Input.TIME_WAIT_EXPIRED, f"{2 * self.config.msl:g} s in TIME-WAIT")
            return
        if self._delack_at is not None and now >= self._delack_at:
            self._delack_at = None
            self._ack_now = True
        if self._rto_at is not None and now >= self._rto_at:
            self._rto_at = None
            self._tlp_at = None
            self._on_retransmission_timeout(now)
            if self.state is S.CLOSED:
                return
        elif self._tlp_at is not None and now >= self._tlp_at:
            self._tlp_at = None
            self._on_probe_timeout(now)
        if self._reo_at is not None and now >= self._reo_at:
            self._reo_at = None
            self._on_reorder_timeout()
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
            self._move(Input.GIVE_UP, f"{self.retries - 1} retransmissions unanswered")
            return
        self.rto.back_off()
        self._rtt_seq = None  # Karn: never time a retransmitted segment
        if self.trace.active:
            self._emit("rto", self._rto_fields(), why="retransmission timer expired; backing off")
        if st in (S.SYN_SENT, S.SYN_RECEIVED):
            self._send_syn(now, retransmit=True)
            return
        if self.snd_una >= self.snd_max:
            return
        flight = self.snd_max - self.snd_una
        self.cc.on_timeout(flight)
        self.cc.recover = self.snd_max
        self.scoreboard.clear()  # RFC 2018 §8: forget SACKed bits after a timeout
        self._tlp_high = self._tlp_rxt = None
        self._reo_at = None
        self._rxt_marks.clear()
        self._lost_rxt.clear()
        self.dupacks = 0
        self._high_rxt = self.snd_una
        self.snd_nxt = self.snd_una  # go back and resend from the first unacknowledged byte
        if self.trace.active:
            self._emit_cwnd("retransmission timeout: ssthresh = FlightSize/2, cwnd = 1 SMSS")

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
        if st is S.LISTEN:
            self._rcv_listen(seg, now)
        elif st is S.SYN_SENT:
            self._rcv_syn_sent(seg, now)
        elif st is not S.CLOSED:
            self._rcv_synchronized(seg, now)
        if self.state is not S.CLOSED:
            self._output(now)

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
            self._rtt_sample(ack, now)
            self.snd_una = ack
            self.snd_nxt = max(self.snd_nxt, ack)
            self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.window, 0, ack  # unscaled in a SYN
            self._rto_at = None
            self.retries = 0
            self._move(Input.RCV_SYN_ACK, f"SYN,ACK acknowledges ISN+1 = {seg.ack}")
            self._ack_now = True
            self._after_established(now)
        else:
            # Simultaneous open (RFC 9293 §3.5 Figure 8): answer SYN,ACK with our same ISS.
            self._move(Input.RCV_SYN, "the peer's SYN crossed ours (simultaneous open)")
            self.snd_wnd = seg.window
            self._send_syn(now, retransmit=False)

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
            ok = True  # §3.10.7.4: accept valid ACKs and RSTs at a zero window, drop the text
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
            elif self.trace.active and seg_len:
                self._emit(
                    "old-segment",
                    {"seq": seg.seq, "len": seg_len},
                    why="outside the receive window: a duplicate; re-ACK",
                )
            self._ack_now = True
            return
        # Trim to the window (§3.10.7.4 "first", the trimming rule).
        if seq < rcv_nxt:
            cut = rcv_nxt - seq
            if flags & SYN:
                flags &= ~SYN
                cut -= 1
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
            self._rtt_sample(ack, now)
            self._rto_at = None
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
                self._rbuf += payload
                self.rcv_nxt = seq + plen
                self.bytes_received += plen
                if self._ooo_starts:
                    self._drain_ooo()
                    self._ack_now = True  # filled (part of) a hole: ACK at once (RFC 5681 §4.2)
                else:
                    self._unacked_segs += 1
                    if self._unacked_segs >= 2 or not self.config.delayed_ack:
                        self._ack_now = True
                    elif self._delack_at is None:
                        self._delack_at = now + self.config.delayed_ack
            else:
                self._store_ooo(seq, payload)
                self._ack_now = True  # out of order: duplicate ACK at once (RFC 5681 §4.2)
                if self.trace.active:
                    self._emit(
                        "out-of-order",
                        {"rel_seq": seq, "len": plen},
                        why=f"expected relative seq {self.rcv_nxt}; kept for reassembly",
                    )

        # Eighth: FIN.
        if flags & FIN and not self.fin_received and st not in (S.CLOSED, S.LISTEN, S.SYN_SENT):
            fin_at = seq + plen
            if fin_at == self.rcv_nxt:
                self._fin_arrived(now)
            elif fin_at > self.rcv_nxt and st in RECEIVING_STATES:
                self._ooo_fin = fin_at

    def _fin_arrived(self, now: float) -> None:
        self.rcv_nxt += 1
        self.fin_received = True
        self._ooo_fin = None
        self._ack_now = True
        st = self.state
        if st in (S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.SYN_RECEIVED):
            self._move(Input.RCV_FIN, "the peer has no more data to send")

    def _process_ack(
        self, seg: Segment, seq: int, ack: int, plen: int, flags: int, now: float
    ) -> None:
        una = self.snd_una
        newly_sacked = 0
        ts_rtt: float | None = None
        sack: Sack | None = None
        ts: Timestamps | None = None
        first_block: tuple[int, int] | None = None
        for o in seg.options:
            if type(o) is Timestamps:
                ts = o
            elif type(o) is Sack:
                sack = o
        if sack is not None and self.sack_ok:
            iss = self.iss
            blocks = [
                (unwrap(iss, left, una), unwrap(iss, right, una)) for left, right in sack.blocks
            ]
            first_block = blocks[0] if blocks else None
            newly_sacked = self.scoreboard.add(blocks, una, self.snd_max)
            if newly_sacked and self._rxt_marks:
                self._detect_lost_retransmissions(ack)
        if ts is not None and self.ts_ok:
            if seq <= self._last_ack_sent:
                self.ts_recent = ts.tsval  # RFC 7323 §4.3
            if ack > una and ts.tsecr:
                # RFC 7323 §4.1 (RTTM): the echoed TSval times every ACK, retransmitted
                # segments included, so Karn's ambiguity does not arise.
                sent_ms = (ts.tsecr - self._ts_offset) & MASK
                ts_rtt = max(now * 1000 - sent_ms, 1.0) / 1000
        old_wnd = self.snd_wnd
        self._update_window(seg, seq, ack)
        if self._tlp_high is not None and ack >= self._tlp_high:
            self._probe_acked(ack, una, newly_sacked, first_block)
        if ack > una:
            if ts_rtt is not None and ts_rtt < 3600:
                self._rtt_seq = None
                self.rto.sample(ts_rtt)
                if self.trace.active:
                    self._emit("rtt", self._rto_fields(), why="RTT sample from TSecr (RFC 7323)")
            self._on_new_ack(ack, now)
        elif (
            ack == una
            and una < self.snd_max
            and plen == 0
            and not flags & (SYN | FIN)
            and (self.snd_wnd == old_wnd or newly_sacked)
        ):
            self._on_dup_ack(newly_sacked, now)
        if newly_sacked:
            self._arm_reorder_timer(now)

    def _detect_lost_retransmissions(self, ack: int) -> None:
        # A retransmission is lost when data first sent after it was SACKed, or when a
        # later retransmission (rules 3 and 4 resend below SND.MAX) has arrived: RACK's
        # "delivered after it was sent" (RFC 8985 §6.2), in the order of _rxt_marks.
        highest = self.scoreboard.highest or 0
        marks = self._rxt_marks
        arrived = [end <= ack or self.scoreboard.covers(start) for start, end, _ in marks]
        last_arrived = max((i for i, a in enumerate(arrived) if a), default=-1)
        keep: list[tuple[int, int, int]] = []
        for i, (start, end, sent_before) in enumerate(marks):
            if arrived[i]:
                continue
            if highest > sent_before or i < last_arrived:
                self._lost_rxt.append((start, end))
                if self.trace.active:
                    self._emit(
                        "lost-retransmission",
                        {"rel_seq": start, "len": end - start},
                        why="data sent after this retransmission was SACKed; it is missing",
                    )
            else:
                keep.append((start, end, sent_before))
        self._rxt_marks = keep

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
        acked = ack - una
        self.snd_una = ack
        if self.snd_nxt < ack:
            self.snd_nxt = ack
        # Release acknowledged data (offsets 1 .. data_end-1 are data).
        data_acked = min(ack, self._data_end) - max(una, 1)
        if data_acked > 0:
            self._sbuf_head += data_acked
            self._sbuf_seq += data_acked
            if self._sbuf_head >= len(self._sbuf):
                self._sbuf.clear()
                self._sbuf_head = 0
            elif self._sbuf_head > 65536 and self._sbuf_head * 2 > len(self._sbuf):
                del self._sbuf[: self._sbuf_head]
                self._sbuf_head = 0
        self._rtt_sample(ack, now)
        self.retries = 0
        self.dupacks = 0
        self._limited_transmit = 0
        if self.scoreboard:
            self.scoreboard.advance(ack)
        cc = self.cc
        if cc.in_recovery:
            # RFC 6582 §3.2 step 5: a full ACK covers "recover", the highest sequence
            # number sent when recovery began (cc.recover is one past it).
            if ack >= cc.recover:
                self._rxt_marks.clear()
                self._lost_rxt.clear()
                if self.sack_ok:
                    cc.in_recovery = False
                    cc.cwnd = cc.ssthresh
                else:
                    cc.exit_recovery(self.snd_max - ack)
                if self.trace.active:
                    self._emit_cwnd("full ACK: fast recovery ends")
            elif not self.sack_ok:
                # RFC 6582 §3.2 step 5: a partial ACK — the next hole was lost too.
                cc.on_partial_ack(acked)
                self._retransmit(ack, min(ack + self.smss, self._data_end), "partial ACK (NewReno)")
            elif self._high_rxt <= ack and (
                self.scoreboard or any(e <= ack < sent for _, e, sent in self._rxt_marks)
            ):
                # The same inference with SACK: the hole now at SND.UNA was sent before data
                # that has arrived — SACKed data above it, or the retransmission this ACK
                # covers (sent when SND.MAX was beyond the hole): RACK's rule with reo_wnd 0
                # in recovery (RFC 8985 §6.2). RFC 6675 IsLost may not say so yet (too few
                # SACKed bytes above it); without this only the RTO would resend it.
                end = min(ack + self.smss, self._data_end)
                self._retransmit(ack, end, "partial ACK: the hole at SND.UNA is lost (RFC 6582)")
                self._high_rxt = end
        else:
            cc.on_ack(acked)
        if self.trace.active and not cc.in_recovery:
            self._emit_cwnd("new data acknowledged")
        # RFC 6298 §5.2/5.3: stop the timer when all is acked, else restart it.
        self._rto_at = now + self.rto.rto if self.snd_una < self.snd_max else None
        self._arm_probe(now)  # RFC 8985 §7.2: and restart the probe timer

    def _on_dup_ack(self, newly_sacked: int, now: float) -> None:
        self.dupacks += 1
        if self.trace.active:
            self._emit(
                "dup-ack",
                {
                    "count": self.dupacks,
                    "ack": self._seq_wire(self.snd_una),
                    "rel_ack": self.snd_una,
                },
            )
        cc = self.cc
        if cc.in_recovery:
            if not self.sack_ok:
                cc.on_dup_ack_in_recovery()
            elif newly_sacked and self._high_rxt <= self.snd_una:
                # RACK in recovery (RFC 8985 §6.2, reo_wnd = 0): the hole at SND.UNA was
                # sent before the data just SACKed and has not been resent: it is lost.
                end = min(self.snd_una + self.smss, self._data_end)
                self._retransmit(self.snd_una, end, "SACK above the unsent-again hole at SND.UNA")
                self._high_rxt = end
            return
        smss = self.smss
        flight = self.snd_max - self.snd_una
        threshold = 3
        if self.snd_nxt >= self._data_end and flight < 4 * smss:
            # Early retransmit (RFC 5827 §3.1): with fewer than four segments outstanding and
            # nothing new to send, three duplicate ACKs can never arrive.
            threshold = max(1, -(-flight // smss) - 1)
        lost = self.sack_ok and self.scoreboard.lost_below(smss) > self.snd_una
        # RFC 6582 §3.2 step 2: a new recovery only once the ACK covers "recover".
        if (self.dupacks >= threshold or lost) and self.snd_una >= cc.recover:
            self._fast_retransmit(f"{self.dupacks} duplicate ACKs: fast retransmit, fast recovery")
        elif self.dupacks <= 2:
            # Limited transmit (RFC 3042): each of the first two duplicate ACKs lets one new
            # segment out beyond cwnd, so a small window can still reach three.
            self._limited_transmit = self.dupacks * smss

    def _retransmit_tail(self) -> bool:
        """RFC 6675 §4 NextSeg rules 3 and 4, for when no new data may be sent: resend the
        first unSACKed segment above HighRxt (rule 3), else once per recovery the segment
        holding the highest unSACKed byte (rule 4, the rescue retransmission; HighRxt is
        not moved). Returns whether a segment was sent."""
        una, snd_max = self.snd_una, min(self.snd_max, self._data_end)
        for s, e in self.scoreboard.holes(max(una, self._high_rxt), snd_max):
            end = min(e, s + self.smss)
            self._retransmit(s, end, "SACK recovery: unSACKed data above HighRxt (rule 3)")
            self._high_rxt = end
            return True
        if self._rescue_rxt is None or una > self._rescue_rxt:
            last = None
            for hole in self.scoreboard.holes(una, snd_max):
                last = hole
            if last is not None:
                s, e = last
                self._retransmit(max(s, e - self.smss), e, "rescue retransmission (rule 4)")
                self._rescue_rxt = self.cc.recover
                return True
        return False

    def _fast_retransmit(self, why: str) -> None:
        """Enter fast recovery and resend the segment at SND.UNA (RFC 5681 §3.2, 6675 §5)."""
        cc = self.cc
        self._limited_transmit = 0
        cc.enter_recovery(self.snd_max - self.snd_una, self.snd_max, self.sack_ok)
        self._tlp_at = None  # no probes in recovery (RFC 8985 §7.2)
        self._reo_at = None
        if self.trace.active:
            self._emit_cwnd(why)
        self._rescue_rxt = None
        end = min(self.snd_una + self.smss, self._data_end)
        self._retransmit(self.snd_una, end, "fast retransmit")
        self._high_rxt = end

    # -- time-based loss detection (after RFC 8985 §6.2, RACK) ---------------------------
    # Duplicate ACKs cannot reach DupThresh when the flight is small (a tail loss probe's
    # single segment, a window of two or three): a hole stays un-repaired until the RTO.
    # RACK's rule instead: a segment is lost once a segment sent after it was delivered
    # and a reordering window has passed. Outside recovery the holes below SACKed data were
    # sent (first transmissions, in order) before that data; the SACK arrived about one
    # RACK.rtt after it was sent, so "SACK arrival + reo_wnd" bounds RACK's deadline for
    # every hole. reo_wnd = SRTT/4 (RFC 8985 §6.2 step 4 uses min_RTT/4).

    def _arm_reorder_timer(self, now: float) -> None:
        if (
            self._reo_at is None
            and self.config.tail_loss_probe
            and self.scoreboard
            and not self.cc.in_recovery
            and self.snd_una >= self.cc.recover
        ):
            srtt = self.rto.srtt
            self._reo_at = now + max((srtt if srtt is not None else 0.0) / 4, 0.001)

    def _on_reorder_timeout(self) -> None:
        if (
            self.scoreboard
            and not self.cc.in_recovery
            and self.snd_una >= self.cc.recover
            and self.snd_una < self.snd_max
            and self.state in SENDING_STATES
        ):
            self._fast_retransmit(
                "SACKed data sent after the hole at SND.UNA, no ACK for it within the "
                "reordering window: lost (RFC 8985 §6.2); fast recovery"
            )

    # -- tail loss probe (RFC 8985 §7) ---------------------------------------------------
    # A loss at the tail of a flight (or of every ACK for it) leaves the sender nothing to
    # count duplicate ACKs with; without a probe only the RTO repairs it. After about two
    # round trips of silence the sender sends one segment — new data if it may, else the
    # last segment again — so that the receiver's SACK starts ordinary fast recovery.

    def _arm_probe(self, now: float) -> None:
        """§7.2: schedule the probe timeout (PTO) while data is outstanding outside recovery."""
        if (
            not self.config.tail_loss_probe
            or not self.sack_ok
            or self.cc.in_recovery
            or self._tlp_high is not None  # one probe per episode (TLP.end_seq is set)
            or self.snd_una >= self.snd_max
            or self.snd_una < self.cc.recover  # still resending after an RTO
            or self.state not in SENDING_STATES
        ):
            self._tlp_at = None
            return
        srtt = self.rto.srtt
        if srtt is None:
            pto = TLP_INITIAL_PTO
        else:
            pto = 2 * srtt
            if self.snd_max - self.snd_una <= self.smss:
                pto += WC_DEL_ACK_T  # one segment out: the receiver may delay its ACK
            pto = max(pto, TLP_MIN_PTO)
        at = now + pto
        # "if RTO is earlier than PTO, use RTO": then there is no probe to schedule.
        self._tlp_at = at if self._rto_at is None or at < self._rto_at else None

    def _on_probe_timeout(self, now: float) -> None:
        """§7.3: send the probe — a new segment if the receive window allows, else the last
        segment again — and restart the RTO after it. Not limited by cwnd."""
        if (
            self._tlp_high is not None
            or self.cc.in_recovery
            or self.snd_una >= self.snd_max
            or self.state not in SENDING_STATES
        ):
            return
        una, nxt, data_end = self.snd_una, self.snd_nxt, self._data_end
        n = min(data_end - nxt, self.smss, una + self.snd_wnd - nxt)
        if nxt == self.snd_max and n > 0:
            end = nxt + n
            flags = ACK
            if end == data_end:
                flags |= PSH | (FIN if self._fin_queued else 0)
            self._send_segment(nxt, end, flags)
            self._tlp_rxt = None
            what = "new data"
        else:
            end = min(self.snd_max, data_end)
            start = max(una, end - self.smss)
            self._retransmit(start, end, "tail loss probe (RFC 8985 §7.3)")
            self._tlp_rxt = (start, end)
            what = "the last segment again"
        self._tlp_high = self.snd_max
        self._rto_at = now + self.rto.rto
        if self.trace.active:
            self._emit(
                "tail-loss-probe",
                {"rel_seq": una if self._tlp_rxt is None else self._tlp_rxt[0], "sent": what},
                why="no ACK within the probe timeout (about 2 SRTT): tail loss probe",
            )

    def _probe_acked(
        self, ack: int, una: int, newly_sacked: int, dsack: tuple[int, int] | None
    ) -> None:
        """§7.4: an ACK at or past TLP.end_seq ends the episode. A probe that resent data
        and was followed by neither a D-SACK (RFC 2883) for it nor a plain duplicate ACK
        repaired a real loss: respond as fast recovery would, once (§7.4.2)."""
        high = self._tlp_high
        rxt = self._tlp_rxt
        assert high is not None
        if rxt is None:
            pass  # a probe with new data: losses it reveals go through SACK recovery
        elif dsack is not None and dsack[1] <= ack and dsack[0] <= rxt[0] < dsack[1]:
            if self.trace.active:
                self._emit("tlp-spurious", {"rel_seq": rxt[0]}, why="D-SACK: both copies arrived")
        elif ack > high:
            flight = self.snd_max - una
            self.cc.on_loss_repaired(flight)
            if self.trace.active:
                self._emit_cwnd("the tail loss probe repaired a loss (RFC 8985 §7.4.2)")
        elif ack == una and not newly_sacked:
            pass  # a duplicate ACK for the probe: the original had arrived (no loss)
        else:
            return  # ACK == TLP.end_seq for the original: wait for the next one
        self._tlp_high = self._tlp_rxt = None

    def _rtt_sample(self, ack: int, now: float) -> None:
        if self._rtt_seq is not None and ack >= self._rtt_seq:
            self.rto.sample(now - self._rtt_time)
            self._rtt_seq = None
            if self.trace.active:
                self._emit("rtt", self._rto_fields(), why="RTT sample (RFC 6298)")

    # -- receive buffer and reassembly ---------------------------------------------------

    def _store_ooo(self, seq: int, payload: bytes) -> None:
        end = seq + len(payload)
        self._last_ooo = seq
        starts, pieces = self._ooo_starts, self._ooo
        i = bisect_left(starts, seq)
        # Trim against the piece before and skip what later pieces already hold.
        if i > 0:
            prev = starts[i - 1]
            prev_end = prev + len(pieces[prev])
            if prev_end >= end:
                return
            if prev_end > seq:
                payload = payload[prev_end - seq :]
                seq = prev_end
        while i < len(starts) and starts[i] < end:
            s = starts[i]
            s_end = s + len(pieces[s])
            if s > seq:
                self._put_piece(seq, payload[: s - seq])
                i += 1
            if s_end >= end:
                return
            payload = payload[s_end - seq :]
            seq = s_end
            i = bisect_left(starts, seq)
        if payload:
            self._put_piece(seq, payload)

    def _put_piece(self, seq: int, data: bytes) -> None:
        if seq in self._ooo:
            return
        insort(self._ooo_starts, seq)
        self._ooo[seq] = data

    def _drain_ooo(self) -> None:
        starts, pieces = self._ooo_starts, self._ooo
        k = 0
        while k < len(starts) and starts[k] <= self.rcv_nxt:
            s = starts[k]
            data = pieces.pop(s)
            end = s + len(data)
            if end > self.rcv_nxt:
                self._rbuf += data[self.rcv_nxt - s :]
                self.bytes_received += end - self.rcv_nxt
                self.rcv_nxt = end
            k += 1
        del starts[:k]
        if self._ooo_fin is not None and self._ooo_fin == self.rcv_nxt:
            self._fin_arrived(self._now)

    def _sack_blocks(self) -> tuple[tuple[int, int], ...]:
        """RFC 2018 §4: merged out-of-order ranges, the most recently changed one first."""
        blocks: list[tuple[int, int]] = []
        pieces = self._ooo
        for s in self._ooo_starts:
            e = s + len(pieces[s])
            if blocks and blocks[-1][1] >= s:
                blocks[-1] = (blocks[-1][0], max(blocks[-1][1], e))
            else:
                blocks.append((s, e))
        last = self._last_ooo
        if last is not None:
            for i, (s, e) in enumerate(blocks):
                if s <= last < e:
                    blocks.insert(0, blocks.pop(i))
                    break
        limit = 3 if self.ts_ok else 4
        irs = self.irs
        return tuple((wrap(irs, s), wrap(irs, e)) for s, e in blocks[:limit])

    def _receive_window(self) -> int:
        """The window to advertise: free space, never shrinking the right edge (§3.8.6.2.2)."""
        free = self.config.recv_buffer - self.readable
        right = self.rcv_nxt + max(free, 0)
        # Receiver SWS avoidance: move the edge only by a useful amount.
        if right > self.rcv_adv and (
            right - self.rcv_adv >= min(self.config.recv_buffer // 2, self.smss)
            or (self.rcv_adv <= self.rcv_nxt and free > 0)
        ):
            self.rcv_adv = right
        return max(0, self.rcv_adv - self.rcv_nxt)

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
        if peer_ws is not None and cfg.window_scaling:
            self.snd_wscale = peer_ws
        else:
            self.snd_wscale = 0
            self.rcv_wscale = 0
        self.sack_ok = peer_sack and cfg.sack
        self.ts_ok = peer_ts and cfg.timestamps
        self.smss = min(self.peer_mss, cfg.mss) - (12 if self.ts_ok else 0)
        self.cc = NewReno(self.smss)
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
        self._push(seg)
        self.snd_nxt = max(self.snd_nxt, 1)
        self.snd_max = max(self.snd_max, 1)
        if retransmit:
            self.retransmissions += 1
            self._rtt_seq = None
            if self.trace.active:
                self._emit(
                    "retransmit",
                    {"flags": flag_names(flags), "seq": self.iss},
                    why=why or f"no answer; RTO now {self.rto.rto:g} s",
                )
        elif self._rtt_seq is None:
            self._rtt_seq, self._rtt_time = 1, now
        self._rto_at = now + self.rto.rto

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
            self.snd_nxt < self._data_end or self._fin_queued or self.cc.in_recovery
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
        cc = self.cc
        smss = self.smss
        sack_recovery = cc.in_recovery and self.sack_ok
        while True:
            una, nxt = self.snd_una, self.snd_nxt
            if sack_recovery:
                pipe = self.scoreboard.pipe(una, self.snd_max, self._high_rxt, smss)
                if cc.cwnd - pipe < smss:
                    return
                if self._lost_rxt:
                    s, e = self._lost_rxt.pop(0)
                    if e > una and not self.scoreboard.covers(s):
                        s = max(s, una)
                        self._retransmit(s, min(e, self._data_end), "the retransmission was lost")
                    continue
                hole = self.scoreboard.next_lost(una, self._high_rxt, smss)
                if hole is not None:
                    s, e = hole
                    e = min(e, self._data_end)
                    if e > s:
                        self._retransmit(s, e, "SACK recovery: lost hole (RFC 6675 NextSeg)")
                        self._high_rxt = e
                        continue
                    self._high_rxt = max(self._high_rxt, s + 1)
                    continue
                if self.snd_nxt >= self._data_end or una + self.snd_wnd <= self.snd_nxt:
                    # NextSeg rule 2 (new data) cannot apply: rules 3 and 4.
                    if self._retransmit_tail():
                        continue
                    return
                allowed = smss
            else:
                allowed = una + cc.cwnd + self._limited_transmit - nxt
            data_end = self._data_end
            avail = data_end - nxt
            if avail <= 0:
                if self._fin_queued and nxt == data_end:
                    # All data is out: the FIN (it needs no window of its own).
                    self._send_segment(nxt, nxt, FIN | ACK)
                return
            peer_room = una + self.snd_wnd - nxt
            n = min(avail, smss, allowed, peer_room)
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
            self._send_segment(nxt, end, flags)

    def _send_segment(self, start: int, end: int, flags: int) -> None:
        """Send offsets [start, end) (+FIN) from the send buffer; advance SND.NXT."""
        i = self._sbuf_head + (start - self._sbuf_seq)
        payload = bytes(self._sbuf[i : i + (end - start)]) if end > start else b""
        is_retx = start < self.snd_max
        self._emit_segment(self._seq_wire(start), self._ack_wire(), flags, payload)
        nxt = end + (1 if flags & FIN else 0)
        self.snd_nxt = nxt
        if nxt > self.snd_max:
            self.snd_max = nxt
        if is_retx:
            self.retransmissions += 1
            if self._rtt_seq is not None and self._rtt_seq > start:
                self._rtt_seq = None
            if self.trace.active:
                self._emit(
                    "retransmit",
                    {"rel_seq": start, "len": end - start},
                    why="resending after a retransmission timeout",
                )
        else:
            self.bytes_sent += end - start
            if self._rtt_seq is None:
                self._rtt_seq, self._rtt_time = nxt, self._now
        if self._rto_at is None:
            self._rto_at = self._now + self.rto.rto

    def _retransmit(self, start: int, end: int, why: str) -> None:
        """Resend [start, end) without moving SND.NXT (fast retransmit, recovery)."""
        flags = ACK
        # Past the data only the FIN can be resent, and only while it is outstanding.
        if start >= self._data_end and not (
            self._fin_queued and start == self._data_end < self.snd_max
        ):
            return
        if end >= self._data_end:
            end = self._data_end
            flags |= PSH
            if self._fin_queued and self.snd_max > self._data_end:
                flags |= FIN
        i = self._sbuf_head + (start - self._sbuf_seq)
        payload = bytes(self._sbuf[i : i + (end - start)]) if end > start else b""
        if not payload and not flags & FIN:
            return
        self._emit_segment(self._seq_wire(start), self._ack_wire(), flags, payload)
        if self.sack_ok and self.cc.in_recovery:
            self._rxt_marks.append((start, end, self.snd_max))
        self.retransmissions += 1
        if self._rtt_seq is not None and self._rtt_seq > start:
            self._rtt_seq = None  # Karn's rule
        if self._rto_at is None:
            self._rto_at = self._now + self.rto.rto
        if self.trace.active:
            self._emit("retransmit", {"rel_seq": start, "len": end - start}, why=why)

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
            if self.sack_ok and self._ooo_starts:
                opts += (NOP, NOP, Sack(self._sack_blocks()))
            self._ack_now = False
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

    # -- trace -------------------------------------------------------------------------

    def _emit(self, kind: str, fields: dict[str, Any], why: str | None = None) -> None:
        fields = {"conn": self.name, **fields}
        self.trace.emit(self._now, self.node, "tcp", kind, fields, why=why)

    @property
    def name(self) -> str:
        return f"{self.local[0]}:{self.local[1]}->{self.remote[0]}:{self.remote[1]}"

    def _rto_fields(self) -> dict[str, Any]:
        r = self.rto
        return {
            "rto": round(r.rto, 6),
            "srtt": None if r.srtt is None else round(r.srtt, 6),
            "rttvar": round(r.rttvar, 6),
            "backoff": r.backoff,
        }

    def _emit_cwnd(self, why: str) -> None:
        cc = self.cc
        self._emit(
            "cwnd",
            {"cwnd": cc.cwnd, "ssthresh": min(cc.ssthresh, 1 << 30), "phase": cc.phase},
            why=why,
        )

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
