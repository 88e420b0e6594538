"""A property test of the state machine: in every state, any sequence of segments (each a
kind × flags × position × length × options drawn by hypothesis), timer firings and reads
keeps the connection's invariants after every step — the fuzz tests only check that
nothing raises.

Invariants: SND.UNA ≤ SND.NXT ≤ SND.MAX; every state change is a row of TRANSITIONS; the
advertised right edge never moves left (RFC 9293 §3.8.6.2.2) and bytes held never exceed
the receive buffer; loss recovery's byte counters equal what its records say, with the
records inside [SND.UNA, SND.MAX]; a CLOSED connection has no timer and TIME-WAIT only
its 2 MSL timer; whatever is sent encodes."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tcp_attack import _in_state

from minternet.tcp.connection import TRANSITIONS, Connection, State
from minternet.tcp.segment import ACK, FIN, PSH, RST, SYN, Sack, Segment, Timestamps
from minternet.tcp.seq import MASK

KINDS = st.sampled_from(
    [ACK, ACK | PSH, ACK | FIN, FIN, RST, RST | ACK, SYN, SYN | ACK, ACK | FIN | PSH, 0]
)
STEP = st.tuples(
    KINDS,
    st.integers(-3000, 70000),  # sequence number relative to RCV.NXT
    st.integers(-3000, 3000),  # acknowledgment number relative to SND.UNA
    st.integers(0, 2000),  # payload length
    st.integers(0, 3),  # options: none, timestamps, SACK, both
    st.sampled_from(["segment", "timer", "read"]),
)


def _check(conn: Connection, rcv_adv_before: int) -> None:
    assert conn.snd_una <= conn.snd_nxt <= conn.snd_max
    rows = set(TRANSITIONS.items())
    states = [s for _, s, _ in conn.history]
    # every change in the history is a table row (inputs are not kept; check the pair exists)
    for old, new in itertools.pairwise(states):
        assert any(k[0] is old and v is new for k, v in rows), (old, new)
    if conn.state not in (State.CLOSED, State.LISTEN, State.SYN_SENT):
        assert conn.rcv_adv >= rcv_adv_before or rcv_adv_before <= conn.rcv_nxt
        assert conn.reassembler.readable + conn.reassembler.held <= conn.config.recv_buffer
    rec = conn.recovery
    segs = rec.segs
    assert rec.sacked_bytes == sum(s.end - s.start for s in segs if s.sacked)
    assert rec.lost_bytes == sum(s.end - s.start for s in segs if s.lost and not s.sacked)
    assert rec.retrans_bytes == sum(s.end - s.start for s in segs if s.in_rtx)
    if segs:
        assert conn.snd_una <= segs[-1].end <= conn.snd_max
        assert all(a.end <= b.start for a, b in itertools.pairwise(segs))
    if conn.state is State.CLOSED:
        assert conn.next_deadline() is None
    if conn.state is State.TIME_WAIT:
        assert rec.next_deadline() is None


def _run(state: State, steps: list[tuple[int, int, int, int, int, str]]) -> None:
    p, conn = _in_state(state)
    now = p.now
    for flags, dseq, dack, plen, opts, what in steps:
        before = conn.rcv_adv
        now += 0.05
        if what == "timer":
            conn.on_timer(max(now, conn.next_deadline() or now))
        elif what == "read" and conn.state is not State.CLOSED:
            conn.read(1 << 16, now)
        else:
            options: tuple[object, ...] = ()
            if opts & 1:
                options += (Timestamps((conn.ts_recent + dseq) & MASK, 0),)
            if opts & 2:
                left = (conn.iss + conn.snd_una + abs(dack)) & MASK
                options += (Sack(((left, (left + 1448) & MASK),)),)
            seg = Segment(
                conn.remote[1],
                conn.local[1],
                (conn.irs + conn.rcv_nxt + dseq) & MASK,
                (conn.iss + conn.snd_una + dack) & MASK,
                flags,
                4096,
                bytes(plen),
                options,  # type: ignore[arg-type]
            )
            conn.receive(seg, now)
        for out in conn.take_segments():
            out.encode(b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02")
        conn.take_events()
        _check(conn, before)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(State)), st.lists(STEP, min_size=1, max_size=30))
def test_invariants_hold_after_every_step(state: State, steps: list) -> None:  # type: ignore[type-arg]
    _run(state, steps)
