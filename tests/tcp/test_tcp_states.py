"""Both ends' state sequences for the scenarios of RFC 9293 §3.5-§3.6 (issue 3 acceptance)."""

from __future__ import annotations

import hashlib

import pytest
from tcp_pair import A, B, Pair, handshake, states

from minternet.loop import LoopTimeout
from minternet.sim.wire import wire_net
from minternet.tcp.connection import TRANSITIONS, Connection, Input, State, TcpConfig
from minternet.tcp.segment import ACK, FIN, SYN

OPEN = ["CLOSED", "SYN-SENT", "ESTABLISHED"]
PASSIVE = ["CLOSED", "LISTEN", "SYN-RECEIVED", "ESTABLISHED"]


def test_transition_table_has_the_eleven_states() -> None:
    seen = {s for s, _ in TRANSITIONS} | set(TRANSITIONS.values())
    assert seen == set(State)
    assert [s.value for s in State] == [
        "CLOSED",
        "LISTEN",
        "SYN-SENT",
        "SYN-RECEIVED",
        "ESTABLISHED",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "CLOSE-WAIT",
        "CLOSING",
        "LAST-ACK",
        "TIME-WAIT",
    ]


def test_three_way_handshake_numbers() -> None:
    p = Pair()
    a, b = handshake(p)
    syn, synack, ack = (seg for _, _, seg in p.log[:3])
    assert syn.flags == SYN and syn.seq == a.iss
    assert synack.flags == SYN | ACK and synack.ack == (a.iss + 1) % 2**32  # Ack = X + 1
    assert synack.seq == b.iss
    assert ack.flags == ACK and ack.ack == (b.iss + 1) % 2**32 and ack.seq == (a.iss + 1) % 2**32
    assert a.sack_ok and b.sack_ok and a.ts_ok and a.snd_wscale == b.rcv_wscale == 3
    assert a.smss == 1460 - 12


def test_normal_close() -> None:
    p = Pair(config=TcpConfig(msl=5.0))
    a, b = handshake(p)
    assert a.write(b"hello", p.now) == 5
    a.shutdown(p.now)
    p.run_until(lambda: b.fin_received)
    assert b.read(100, p.now) == b"hello"
    b.shutdown(p.now)
    p.run_until(lambda: a.state is State.TIME_WAIT and b.state is State.CLOSED)
    p.run(p.now + 11)
    assert states(a) == [*OPEN, "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"]
    assert states(b) == [*PASSIVE, "CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    # the causes are recorded with each change
    assert "2*MSL" in a.history[-1][2]


def test_simultaneous_open() -> None:
    p = Pair()
    p.a = p.make(A, B, active=True, label="a")
    p.b = p.make(B, A, active=True, label="b")
    p.run_until(lambda: p.a.state is State.ESTABLISHED and p.b.state is State.ESTABLISHED)  # type: ignore[union-attr]
    for c in (p.a, p.b):
        assert states(c) == ["CLOSED", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"]
    p.a.write(b"x" * 5000, p.now)
    p.run_until(lambda: p.b.readable == 5000)  # type: ignore[union-attr]


def test_simultaneous_close() -> None:
    p = Pair(config=TcpConfig(msl=1.0))
    a, b = handshake(p)
    a.shutdown(p.now)
    b.shutdown(p.now)
    p.run(p.now + 10)
    for c in (a, b):
        assert states(c)[-4:] == ["FIN-WAIT-1", "CLOSING", "TIME-WAIT", "CLOSED"]


def test_half_close_with_data_still_flowing() -> None:
    p = Pair(config=TcpConfig(msl=1.0))
    a, b = handshake(p)
    a.write(b"request", p.now)
    a.shutdown(p.now)
    p.run_until(lambda: b.fin_received)
    assert b.read(100, p.now) == b"request" and b.state is State.CLOSE_WAIT
    p.run_until(lambda: a.state is State.FIN_WAIT_2)
    body = bytes(range(256)) * 800  # 200 KiB back over the half-closed connection
    sent = 0
    got = bytearray()
    while sent < len(body) or b.state is State.CLOSE_WAIT:
        sent += b.write(body[sent:], p.now) if sent < len(body) else 0
        if sent == len(body) and b.state is State.CLOSE_WAIT:
            b.shutdown(p.now)
        p.step()
        got += a.read(1 << 20, p.now)
    p.run_until(lambda: a.fin_received)
    got += a.read(1 << 20, p.now)
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()
    p.run(p.now + 5)
    assert states(a) == [*OPEN, "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"]
    assert states(b) == [*PASSIVE, "CLOSE-WAIT", "LAST-ACK", "CLOSED"]


def test_rst_from_abort() -> None:
    p = Pair()
    a, b = handshake(p)
    a.abort(p.now)
    p.run(p.now + 1)
    assert states(a) == [*OPEN, "CLOSED"]
    assert states(b) == [*PASSIVE, "CLOSED"]
    assert "RST" in b.history[-1][2]
    assert any(ev.reason == "reset" for ev in b.take_events() if hasattr(ev, "reason"))


def test_lost_final_ack_is_reacked_from_time_wait() -> None:
    p = Pair(config=TcpConfig(msl=30.0))
    a, b = handshake(p)
    a.shutdown(p.now)
    p.run_until(lambda: a.state is State.FIN_WAIT_2)
    dropped: list[float] = []

    def drop_first_final_ack(c: Connection, seg: object) -> bool:
        if c is a and a.state is State.TIME_WAIT and not dropped:
            dropped.append(p.now)
            return True
        return False

    p.drop = drop_first_final_ack  # type: ignore[assignment]
    b.shutdown(p.now)
    p.run_until(lambda: b.state is State.CLOSED, limit=100)
    assert dropped, "the final ACK was dropped"
    # b retransmitted its FIN from LAST-ACK; a, in TIME-WAIT, acknowledged it again
    fins_from_b = [s for _, who, s in p.log if who == "b" and s.flags & FIN]
    assert len(fins_from_b) == 2
    assert a.state is State.TIME_WAIT
    assert states(b) == [*PASSIVE, "CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    acks_after = [s for t, who, s in p.log if who == "a" and t > dropped[0] and s.flags == ACK]
    assert acks_after, "TIME-WAIT re-ACKed the retransmitted FIN"


def test_time_wait_lasts_two_msl() -> None:
    p = Pair(config=TcpConfig(msl=5.0))
    a, b = handshake(p)
    a.shutdown(p.now)
    b.shutdown(p.now + 0.001)
    p.run_until(lambda: a.state is State.TIME_WAIT)
    entered = a.history[-1][0]
    p.run(entered + 9.99)
    assert a.state is State.TIME_WAIT
    p.run(entered + 10.01)
    assert a.state is State.CLOSED
    assert a.history[-1][0] == pytest.approx(entered + 10.0)


def test_syn_retransmission_backs_off_then_gives_up() -> None:
    p = Pair(config=TcpConfig(syn_retries=3))
    p.a = p.make(A, B, active=True, label="a")
    p.drop = lambda c, s: True
    p.run(200)
    syn_times = [t for t, who, s in p.log if s.flags == SYN]
    assert syn_times == [0.0, 1.0, 3.0, 7.0]  # RTO 1 s, doubled each time (RFC 6298 §5.5)
    assert states(p.a) == ["CLOSED", "SYN-SENT", "CLOSED"]
    assert "retransmissions" in p.a.history[-1][2]


def _client_server(bed_seed: int = 1):  # type: ignore[no-untyped-def]
    tb = wire_net(bed_seed)
    client = tb.add("10.0.0.1", "laptop", TcpConfig(msl=2.0))
    server = tb.add("10.0.0.2", "www", TcpConfig(msl=2.0))
    return tb, client, server


def test_connect_to_closed_port_is_refused() -> None:
    tb, client, _server = _client_server()
    fut = client.connect(("10.0.0.2", 81))
    with pytest.raises(ConnectionRefusedError):
        tb.loop.run_until_complete(fut, timeout=10)
    (key,) = [k for k in tb.trace.counters if k.startswith("tcp.rst")]
    assert key == "tcp.rst.closed-port"


def test_socket_level_states_and_rst_reaches_recv() -> None:
    tb, client, server = _client_server()
    lst = server.listen(80)
    out: dict[str, object] = {}

    async def srv() -> None:
        s = await lst.accept()
        out["srv"] = s
        try:
            await s.recv()
        except ConnectionResetError as e:
            out["err"] = e

    async def cli() -> None:
        s = await client.connect(("10.0.0.2", 80))
        out["cli"] = s
        s.abort()

    tb.loop.create_task(srv())
    tb.loop.create_task(cli())
    tb.loop.run(until=5)
    assert isinstance(out["err"], ConnectionResetError)
    assert states(out["cli"].conn) == [*OPEN, "CLOSED"]  # type: ignore[attr-defined]
    assert states(out["srv"].conn) == [*PASSIVE, "CLOSED"]  # type: ignore[attr-defined]
    assert not client.sockets and not server.sockets


def test_connect_timeout_when_nobody_answers() -> None:
    tb, client, _ = _client_server()
    fut = client.connect(("10.9.9.9", 80), timeout=2.5)
    with pytest.raises(LoopTimeout):
        tb.loop.run_until_complete(fut, timeout=10)
    tb.loop.run(until=20)
    assert not client.sockets


def test_closed_connection_inputs_are_in_the_table() -> None:
    for state in State:
        for inp in (Input.RCV_RST, Input.ABORT):
            if state in (State.CLOSED,) or (state is State.LISTEN and inp is Input.RCV_RST):
                continue
            assert TRANSITIONS[(state, inp)] is State.CLOSED


def test_karn_no_rtt_sample_from_a_retransmission_without_timestamps() -> None:
    # the RTO path itself: no tail loss probe to repair the loss first
    p = Pair(config=TcpConfig(timestamps=False, delayed_ack=0, tail_loss_probe=False, rto_min=1.0))
    a, _b = handshake(p)
    srtt = a.rto.srtt
    assert srtt == pytest.approx(0.02)  # the SYN was timed: two 10 ms hops
    dropped: list[int] = []

    def drop_first_data(c: Connection, seg: object) -> bool:
        if c is a and getattr(seg, "payload", b"") and not dropped:
            dropped.append(1)
            return True
        return False

    p.drop = drop_first_data  # type: ignore[assignment]
    t0 = p.now
    a.write(b"x" * 1000, p.now)
    p.run_until(lambda: a.snd_una == 1001)
    assert p.now == pytest.approx(t0 + 1.0 + 0.02)  # RTO (1 s minimum) then one round trip
    assert a.retransmissions == 1
    assert a.rto.srtt == srtt and a.rto.backoff == 1  # Karn: the ambiguous ACK is not timed
    a.write(b"y" * 1000, p.now)
    p.run_until(lambda: a.snd_una == 2001)
    assert a.rto.backoff == 0  # a fresh segment was timed: the backoff is cleared


def test_lost_syn_means_one_segment_window_and_three_second_rto() -> None:
    p = Pair(config=TcpConfig(timestamps=False))
    p.b = p.make(B, A, active=False, label="b")
    p.a = p.make(A, B, active=True, label="a")
    p.drop = lambda c, s: c is p.a and p.now < 0.5  # the first SYN is lost
    p.run_until(lambda: p.a.state is State.ESTABLISHED)  # type: ignore[union-attr]
    assert p.a.retransmissions == 1 and p.now == pytest.approx(1.02)
    assert p.a.cc.cwnd == p.a.smss  # RFC 5681 §3.1
    assert p.a.rto.srtt is None and p.a.rto.rto == 3.0  # RFC 6298 §5.7 (Karn: no sample)


def test_lost_retransmission_is_resent_without_waiting_for_the_rto() -> None:
    from minternet.trace.bus import EventLog, TraceBus

    trace = TraceBus()
    log = EventLog()
    trace.subscribe(log)
    p = Pair(config=TcpConfig(delayed_ack=0, send_buffer=1 << 20))
    p.b = p.make(B, A, active=False, label="b")
    p.a = Connection.connect(
        A,
        B,
        config=TcpConfig(delayed_ack=0),
        random=p.rnd.child("a"),
        now=0.0,
        trace=trace,
        node="a",
    )
    p.run_until(lambda: p.a.state is State.ESTABLISHED and p.b.state is State.ESTABLISHED)  # type: ignore[union-attr]
    a, b = p.a, p.b
    drops = [0]

    def drop_first_segment_twice(c: Connection, seg: object) -> bool:
        first = getattr(seg, "seq", None) == (a.iss + 1) % 2**32 and getattr(seg, "payload", b"")
        if c is a and first and drops[0] < 2:
            drops[0] += 1
            return True
        return False

    p.drop = drop_first_segment_twice  # type: ignore[assignment]
    t0 = p.now
    total = 0
    data = bytes(200_000)
    while total < len(data):
        total += a.write(data[total:], p.now)
        p.step()
    p.run_until(lambda: a.snd_una == len(data) + 1, limit=100)
    assert drops[0] == 2  # the segment and its fast retransmission were both lost
    assert [e.kind for e in log.events if e.kind == "lost-retransmission"]
    assert not [e for e in log.events if e.kind == "rto"]
    assert p.now - t0 < 1.0  # recovered within the RTO (1 s minimum)
    assert b.readable == len(data)
