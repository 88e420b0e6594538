"""Decoders fed random and mutated bytes raise nothing but DecodeError."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minternet.errors import DecodeError
from minternet.ip.icmp import IcmpMessage
from minternet.ip.ipv4 import IPv4Packet, Reassembler
from minternet.link.arp import ArpPacket
from minternet.link.ethernet import EthernetFrame
from minternet.trace.narrate import describe_frame
from minternet.udp.datagram import UdpDatagram

SAMPLES: dict[str, tuple[Callable[[bytes], object], bytes]] = {
    "ethernet": (
        EthernetFrame.decode,
        EthernetFrame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:01", 0x0806, bytes(28)).encode(),
    ),
    "arp": (
        ArpPacket.decode,
        ArpPacket.request("02:00:00:00:00:01", "10.0.0.1", "10.0.0.2").encode(),
    ),
    "ipv4": (
        IPv4Packet.decode,
        IPv4Packet("10.0.0.1", "10.0.0.2", 1, b"abcdefgh", options=b"\x01\x01\x01\x00").encode(),
    ),
    "icmp": (IcmpMessage.decode, IcmpMessage.echo_request(1, 2, b"data").encode()),
    "udp": (
        lambda b: UdpDatagram.decode(b, "10.0.0.1", "10.0.0.2"),
        UdpDatagram(1, 2, b"hello").encode("10.0.0.1", "10.0.0.2"),
    ),
    "quoted": (
        lambda b: IPv4Packet.decode(b, verify_checksum=False, allow_truncated=True),
        IPv4Packet("10.0.0.1", "10.0.0.2", 17, bytes(30)).encode()[:28],
    ),
}


def _mutations() -> st.SearchStrategy[tuple[str, bytes]]:
    def mutate(name: str, data: st.DataObject) -> tuple[str, bytes]:
        raw = bytearray(SAMPLES[name][1])
        for _ in range(data.draw(st.integers(1, 4))):
            op = data.draw(st.sampled_from(["flip", "cut", "insert", "set"]))
            if op == "flip" and raw:
                i = data.draw(st.integers(0, len(raw) - 1))
                raw[i] ^= 1 << data.draw(st.integers(0, 7))
            elif op == "cut":
                raw = raw[: data.draw(st.integers(0, len(raw)))]
            elif op == "insert":
                raw[data.draw(st.integers(0, len(raw))) : 0] = data.draw(st.binary(max_size=8))
            elif raw:
                raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        return name, bytes(raw)

    return st.tuples(st.sampled_from(sorted(SAMPLES)), st.data()).map(lambda t: mutate(*t))


@pytest.mark.parametrize("name", sorted(SAMPLES))
@settings(max_examples=150, deadline=None)
@given(junk=st.binary(max_size=120))
def test_random_bytes_raise_only_decode_error(name: str, junk: bytes) -> None:
    with contextlib.suppress(DecodeError):
        SAMPLES[name][0](junk)


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_mutated_bytes_raise_only_decode_error(data: st.DataObject) -> None:
    name, raw = data.draw(_mutations())
    with contextlib.suppress(DecodeError):
        SAMPLES[name][0](raw)
    describe_frame(raw)  # the narrator never raises either


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 8191), st.booleans(), st.binary(max_size=64)), max_size=12)
)
def test_reassembler_with_hostile_fragments(frags: list[tuple[int, bool, bytes]]) -> None:
    r = Reassembler(max_datagrams=4)
    for off, mf, payload in frags:
        p = IPv4Packet(
            "10.0.0.1",
            "10.0.0.2",
            17,
            payload,
            identification=1,
            more_fragments=mf,
            fragment_offset=off * 8,
        )
        try:
            out = r.add(p, 0.0)
        except DecodeError:
            continue
        if out is not None:
            assert not out.is_fragment


def _chain_world():  # type: ignore[no-untyped-def]
    from netutil import chain

    return chain(mtu_middle=600)


_GOOD_FRAMES: list[bytes] = []


def _good_frames() -> list[bytes]:
    """Real frames of a ping and a fragmented UDP datagram crossing the chain world."""
    if not _GOOD_FRAMES:
        w = _chain_world()
        w.trace.subscribe_frames(lambda rec: _GOOD_FRAMES.append(rec.data))
        w.node("h2").udp_socket(("0.0.0.0", 7))
        w.node("h1").udp_socket().sendto(bytes(1200), ("10.3.0.10", 7))
        w.node("h1").icmp_socket().send("10.3.0.10", IcmpMessage.echo_request(1, 1, b"x"), ttl=2)
        w.run(until=5)
    return _GOOD_FRAMES


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_frames_in_the_simulator_are_dropped_never_raised(data: st.DataObject) -> None:
    frames = _good_frames()
    raw = bytearray(data.draw(st.sampled_from(frames)))
    for _ in range(data.draw(st.integers(1, 3))):
        if raw and data.draw(st.booleans()):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] ^= 1 << data.draw(st.integers(0, 7))
        else:
            raw = raw[: data.draw(st.integers(0, len(raw)))]
    w = _chain_world()
    target = data.draw(st.sampled_from(["r1", "r2", "h2"]))
    node = w.node(target)
    iface = next(iter(node.interfaces.values()))
    # Address the frame to this interface so it is not filtered by MAC.
    if len(raw) >= 6 and data.draw(st.booleans()):
        raw[0:6] = bytes.fromhex(iface.mac.replace(":", ""))
    iface.deliver(bytes(raw), None)
    w.run(until=40)  # ARP give-ups, ICMP errors and reassembly timeouts included
    assert w.loop.failed_tasks == []
