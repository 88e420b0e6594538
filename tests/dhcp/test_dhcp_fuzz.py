"""Malformed and hostile DHCP never crashes the server or the client: random bytes, valid
messages with bytes flipped or cut, and well-formed messages of every type in every client
state. The server answers or stays silent; the client ignores (an Ignored action) or acts."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from minternet.dhcp.client import ClientConfig, DhcpClient, State
from minternet.dhcp.message import (
    BOOTREPLY,
    BOOTREQUEST,
    MESSAGE_TYPE_NAMES,
    OPT_LEASE_TIME,
    OPT_SERVER_ID,
    OPT_SUBNET_MASK,
    DhcpMessage,
    address_option,
    seconds_option,
    type_option,
)
from minternet.dhcp.server import DhcpServer, ServerConfig
from minternet.errors import DecodeError
from minternet.randomness import SeededRandom

MAC = "02:00:00:00:00:01"
CONFIG = ServerConfig("10.0.0.1", "10.0.0.10", "10.0.0.20", 24, ("10.0.0.1",), ("10.0.0.53",))


def seed_messages() -> list[bytes]:
    out = []
    for kind in MESSAGE_TYPE_NAMES:
        for op in (BOOTREQUEST, BOOTREPLY):
            out.append(
                DhcpMessage(
                    op,
                    0,
                    MAC,
                    (
                        type_option(kind),
                        address_option(OPT_SERVER_ID, "10.0.0.1"),
                        seconds_option(OPT_LEASE_TIME, 60),
                        address_option(OPT_SUBNET_MASK, "255.255.255.0"),
                    ),
                    yiaddr="10.0.0.10",
                    ciaddr="10.0.0.10" if kind % 2 else "0.0.0.0",
                ).encode()
            )
    return out


SEEDS = seed_messages()


def clients_in_every_state() -> list[DhcpClient]:
    """A client stopped in each state it can be in while waiting for a message."""
    out = []
    server = DhcpServer(CONFIG)
    for stop in (State.SELECTING, State.REQUESTING, State.PROBING, State.BOUND):
        c = DhcpClient(ClientConfig(MAC), SeededRandom(1))
        c.start(0.0)
        now = 0.0
        while c.state is not stop:
            d = c.next_deadline()
            assert d is not None
            now = d
            pending = list(c.on_timer(now))
            while pending:
                a = pending.pop(0)
                if c.state is stop:
                    break
                msg = getattr(a, "message", None)
                if msg is not None:
                    for r in server.handle(msg.encode(), now).replies:
                        if c.state is not stop:
                            pending += c.on_message(r.message.encode(), now)
        out.append(c)
    lease = out[-1].lease
    assert lease is not None
    rebooting = DhcpClient(ClientConfig(MAC), SeededRandom(2), previous_lease=lease)
    rebooting.start(0.0)
    rebooting.on_timer(rebooting.next_deadline() or 0.0)
    assert rebooting.state is State.REBOOTING
    out.append(rebooting)
    return out


def mutate(data: bytes, cuts: int, flips: list[tuple[int, int]]) -> bytes:
    b = bytearray(data[: max(len(data) - cuts, 0)])
    for pos, val in flips:
        if b:
            b[pos % len(b)] = val
    return bytes(b)


@settings(max_examples=300)
@given(
    st.sampled_from(range(len(SEEDS))),
    st.integers(0, 80),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=8),
)
def test_mutated_messages_never_crash(i: int, cuts: int, flips: list[tuple[int, int]]) -> None:
    data = mutate(SEEDS[i], cuts, flips)
    with contextlib.suppress(DecodeError):
        DhcpMessage.decode(data)
    server = DhcpServer(CONFIG)
    server.handle(data, 1.0)
    for c in clients_in_every_state():
        c.xid = 0  # so mutated replies match and reach the state logic
        acts = c.on_message(data, 100.0)
        assert isinstance(acts, list)
        c.on_timer(1e9)  # and its timers still run


@given(st.binary(max_size=600))
def test_random_bytes_never_crash(data: bytes) -> None:
    DhcpServer(CONFIG).handle(data, 0.0)
    c = DhcpClient(ClientConfig(MAC), SeededRandom(2))
    c.start(0.0)
    c.on_timer(20.0)
    c.on_message(data, 20.0)
    c.on_arp(2, "02:00:00:00:00:09", "10.0.0.10", "0.0.0.0", 21.0)
