"""An attacker injecting RSTs, SYNs and data with guessed numbers (RFC 5961) does not break
an established transfer; fuzzed segments in every state raise nothing."""

from __future__ import annotations

import pytest
from tcp_pair import A, B, Pair, handshake
from tcp_transfer import CLIENT, SERVER, start_transfer

from minternet.randomness import SeededRandom
from minternet.sim.wire import wire_net
from minternet.tcp.connection import Connection, State, TcpConfig
from minternet.tcp.segment import (
    ACK,
    PSH,
    RST,
    SYN,
    MaximumSegmentSize,
    NoOperation,
    Sack,
    Segment,
    Timestamps,
    UnknownOption,
    WindowScale,
    checksum,
)
from minternet.tcp.seq import MASK


@pytest.mark.parametrize("seed", range(4))
def test_blind_and_in_window_injection_does_not_break_a_transfer(seed: int) -> None:
    t = start_transfer(seed, size=512 * 1024, bandwidth=2e6)
    net = t.net
    loop = net.loop
    rnd = SeededRandom(seed).child("attacker")
    injected = {"rst": 0, "syn": 0, "data": 0}

    def attack() -> None:
        if t.client is not None and t.server is not None and "client" not in t.done:
            for victim, src in ((t.server, CLIENT), (t.client, SERVER)):
                c = victim.conn
                if c.state is State.CLOSED:
                    continue
                sport, dport = c.remote[1], c.local[1]
                # In-window guesses: the RFC 5961 attacks (anything but the exact RCV.NXT).
                rcv_nxt = (c.irs + c.rcv_nxt) & MASK
                guess = (rcv_nxt + rnd.randint(1, max(1, c.rcv_adv - c.rcv_nxt))) & MASK
                kind = rnd.randint(0, 3)
                if kind == 0:
                    seg = Segment(sport, dport, guess, 0, RST, 0)
                    injected["rst"] += 1
                elif kind == 1:
                    seg = Segment(sport, dport, guess, rnd.randint(0, MASK), RST | ACK, 0)
                    injected["rst"] += 1
                elif kind == 2:
                    seg = Segment(
                        sport,
                        dport,
                        rnd.randint(0, MASK),
                        0,
                        SYN,
                        65535,
                        options=(MaximumSegmentSize(1460),),
                    )
                    injected["syn"] += 1
                else:
                    # Blind data: the attacker guesses both numbers.
                    seg = Segment(
                        sport,
                        dport,
                        rnd.randint(0, MASK),
                        rnd.randint(0, MASK),
                        ACK | PSH,
                        65535,
                        b"EVIL" * 100,
                    )
                    injected["data"] += 1
                net.wire.inject(src, victim.local[0], seg)
        if len(t.done) < 2:
            loop.call_later(0.002, attack)

    loop.call_later(0.02, attack)
    loop.run()
    assert sorted(t.done) == ["client", "server"]
    assert t.intact, "injected bytes reached the application"
    assert min(injected.values()) > 20
    assert net.trace.counters["tcp.challenge-ack"] > 0


def test_rst_in_window_gets_challenge_ack_and_exact_rst_resets() -> None:
    p = Pair()
    _a, b = handshake(p)
    wire_seq = (b.irs + b.rcv_nxt + 100) & MASK
    b.receive(Segment(A[1], B[1], wire_seq, 0, RST, 0), p.now)
    assert b.state is State.ESTABLISHED
    (challenge,) = b.take_segments()
    assert challenge.flags == ACK and challenge.ack == (b.irs + b.rcv_nxt) & MASK
    b.receive(Segment(A[1], B[1], (b.irs + b.rcv_nxt) & MASK, 0, RST, 0), p.now)
    assert b.state is State.CLOSED
    assert b.take_segments() == []  # a reset is never answered


def test_syn_on_established_connection_gets_challenge_ack() -> None:
    p = Pair()
    _a, b = handshake(p)
    b.receive(Segment(A[1], B[1], 12345, 0, SYN, 1000), p.now)
    assert b.state is State.ESTABLISHED
    (challenge,) = b.take_segments()
    assert challenge.flags == ACK


def test_ack_of_unsent_data_is_challenged_and_data_dropped() -> None:
    p = Pair()
    _a, b = handshake(p)
    seq = (b.irs + b.rcv_nxt) & MASK
    bad_ack = (b.iss + b.snd_max + 100000) & MASK
    b.receive(Segment(A[1], B[1], seq, bad_ack, ACK | PSH, 1000, b"forged"), p.now)
    assert b.readable == 0
    (challenge,) = b.take_segments()
    assert challenge.flags == ACK


def test_challenge_acks_are_rate_limited() -> None:
    p = Pair(config=TcpConfig(challenge_ack_limit=5))
    _a, b = handshake(p)
    for i in range(50):
        b.receive(Segment(A[1], B[1], (b.irs + b.rcv_nxt + 10 + i) & MASK, 0, RST, 0), p.now)
    assert len(b.take_segments()) == 5


# -- fuzzing every state -----------------------------------------------------------------


def _in_state(target: State) -> tuple[Pair, Connection]:
    p = Pair(config=TcpConfig(msl=5.0))
    if target is State.LISTEN:
        p.b = p.make(B, A, active=False, label="b")
        return p, p.b
    if target is State.SYN_SENT:
        p.a = p.make(A, B, active=True, label="a")
        p.a.take_segments()
        return p, p.a
    if target is State.SYN_RECEIVED:
        p.b = p.make(B, A, active=False, label="b")
        p.b.receive(Segment(A[1], B[1], 1000, 0, SYN, 65535), 0.0)
        p.b.take_segments()
        return p, p.b
    if target is State.CLOSED:
        p.a = p.make(A, B, active=True, label="a")
        p.a.abort(0.0)
        return p, p.a
    a, b = handshake(p)
    if target is State.ESTABLISHED:
        a.write(b"x" * 3000, p.now)
        return p, a
    if target in (State.FIN_WAIT_1, State.CLOSING):
        a.shutdown(p.now)
        if target is State.CLOSING:
            b.shutdown(p.now)
            p.run_until(lambda: a.state is State.CLOSING)
        return p, a
    if target in (State.FIN_WAIT_2, State.CLOSE_WAIT, State.LAST_ACK, State.TIME_WAIT):
        a.shutdown(p.now)
        p.run_until(lambda: a.state is State.FIN_WAIT_2 and b.state is State.CLOSE_WAIT)
        if target is State.FIN_WAIT_2:
            return p, a
        if target is State.CLOSE_WAIT:
            return p, b
        b.shutdown(p.now)
        if target is State.LAST_ACK:
            return p, b
        p.run_until(lambda: a.state is State.TIME_WAIT)
        return p, a
    raise AssertionError(target)


@pytest.mark.parametrize("state", list(State), ids=str)
def test_fuzzed_segments_in_every_state_raise_nothing(state: State) -> None:
    p, conn = _in_state(state)
    assert conn.state is state
    rnd = SeededRandom(f"fuzz-{state}")
    now = p.now
    opts_pool = [
        (),
        (MaximumSegmentSize(rnd.randint(0, 70000) & 0xFFFF),),
        (WindowScale(15),),
        (NoOperation(), NoOperation(), Timestamps(rnd.randint(0, MASK), 0)),
        (Sack(((0, MASK), (5, 4))),),
        (UnknownOption(99, b"zz"),),
    ]
    for i in range(400):
        near_seq = (conn.irs + conn.rcv_nxt + rnd.randint(-3000, 70000)) & MASK
        near_ack = (conn.iss + conn.snd_una + rnd.randint(-3000, 3000)) & MASK
        seg = Segment(
            conn.remote[1],
            conn.local[1],
            near_seq if rnd.random() < 0.7 else rnd.randint(0, MASK),
            near_ack if rnd.random() < 0.7 else rnd.randint(0, MASK),
            rnd.randint(0, 255) if rnd.random() < 0.5 else rnd.randint(0, 31) | ACK,
            rnd.randint(0, 0xFFFF),
            rnd.random_bytes(rnd.randint(0, 1500)) if rnd.random() < 0.4 else b"",
            opts_pool[rnd.randint(0, len(opts_pool) - 1)],
        )
        now += rnd.random() * 0.5
        conn.receive(seg, now)
        if i % 7 == 0:
            conn.on_timer(now)
        if i % 11 == 0 and conn.state is not State.CLOSED:
            conn.read(1 << 16, now)
        for out in conn.take_segments():
            out.encode(b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02")
        conn.take_events()


def test_fuzzed_bytes_into_a_stack_raise_nothing() -> None:
    net = wire_net(7)
    stack = net.add("10.0.0.2", "www")
    stack.listen(80)
    rnd = SeededRandom("stack-fuzz")
    for _ in range(2000):
        data = bytearray(rnd.random_bytes(rnd.randint(0, 80)))
        if len(data) >= 20 and rnd.random() < 0.7:
            data[2:4] = (80).to_bytes(2, "big")
            data[12] = (5 + rnd.randint(0, 10)) << 4
        raw = bytes(data)
        if rnd.random() < 0.8 and len(raw) >= 18:
            c = checksum(
                raw[:16] + b"\x00\x00" + raw[18:], b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"
            )
            raw = raw[:16] + c.to_bytes(2, "big") + raw[18:]
        stack.deliver("10.0.0.1", "10.0.0.2", raw)
        net.loop.run(until=net.loop.now() + 0.01)
    net.loop.run(until=net.loop.now() + 200)
    assert net.loop.failed_tasks == []
    assert net.trace.counters.get("tcp.drop.malformed", 0) > 0
    assert net.trace.counters.get("tcp.drop.bad-checksum", 0) > 0
