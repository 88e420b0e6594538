"""The TCP segment codec against scapy and dpkt, both ways, plus malformed input."""

from __future__ import annotations

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP

from minternet.errors import DecodeError
from minternet.tcp.segment import (
    ACK,
    FIN,
    PSH,
    SYN,
    EndOfOptions,
    MaximumSegmentSize,
    NoOperation,
    Sack,
    SackPermitted,
    Segment,
    Timestamps,
    UnknownOption,
    WindowScale,
    checksum_ok,
    decode_options,
    flag_names,
)

SRC, DST = "192.168.1.10", "93.184.216.34"
SB, DB = bytes([192, 168, 1, 10]), bytes([93, 184, 216, 34])


def scapy_segment(pkt: TCP) -> bytes:
    """The TCP bytes scapy builds (checksum included) inside an IPv4 packet."""
    return bytes(IP(src=SRC, dst=DST) / pkt)[20:]


def test_linux_style_syn_matches_scapy_byte_for_byte() -> None:
    ours = Segment(
        51000,
        443,
        0x12345678,
        0,
        SYN,
        64240,
        options=(
            MaximumSegmentSize(1460),
            SackPermitted(),
            Timestamps(1000, 0),
            NoOperation(),
            WindowScale(7),
        ),
    ).encode(SB, DB)
    theirs = scapy_segment(
        TCP(
            sport=51000,
            dport=443,
            seq=0x12345678,
            ack=0,
            flags="S",
            window=64240,
            options=[
                ("MSS", 1460),
                ("SAckOK", b""),
                ("Timestamp", (1000, 0)),
                ("NOP", None),
                ("WScale", 7),
            ],
        )
    )
    assert ours == theirs
    assert len(ours) == 40


def test_data_segment_with_sack_matches_scapy() -> None:
    payload = b"GET / HTTP/1.1\r\n\r\n"
    ours = Segment(
        443,
        51000,
        1,
        0xFFFFFFF0,
        ACK | PSH,
        501,
        payload,
        (
            NoOperation(),
            NoOperation(),
            Timestamps(7, 8),
            NoOperation(),
            NoOperation(),
            Sack(((100, 200), (300, 400))),
        ),
    ).encode(DB, SB)
    theirs = bytes(
        IP(src=DST, dst=SRC)
        / TCP(
            sport=443,
            dport=51000,
            seq=1,
            ack=0xFFFFFFF0,
            flags="PA",
            window=501,
            options=[
                ("NOP", None),
                ("NOP", None),
                ("Timestamp", (7, 8)),
                ("NOP", None),
                ("NOP", None),
                ("SAck", (100, 200, 300, 400)),
            ],
        )
        / payload
    )[20:]
    assert ours == theirs


@pytest.mark.parametrize(
    "flags", ["S", "SA", "A", "PA", "FA", "R", "RA", "U", "E", "C", "FSRPAUEC"]
)
def test_scapy_segments_decode_and_reencode(flags: str) -> None:
    raw = scapy_segment(
        TCP(
            sport=1234,
            dport=80,
            seq=4294967295,
            ack=17,
            flags=flags,
            window=65535,
            urgptr=3,
            options=[("MSS", 536), ("NOP", None), ("WScale", 14), ("EOL", None)],
        )
        / (b"x" * 10)
    )
    seg = Segment.decode(raw)
    assert checksum_ok(raw, SB, DB)
    assert seg.src_port == 1234 and seg.dst_port == 80
    assert seg.seq == 4294967295 and seg.ack == 17 and seg.urgent == 3
    assert seg.payload == b"x" * 10
    assert flag_names(seg.flags).count(",") == len(flags) - 1
    assert seg.option(MaximumSegmentSize) == MaximumSegmentSize(536)
    assert seg.option(WindowScale) == WindowScale(14)
    assert seg.encode(SB, DB) == raw  # byte-exact, checksum recomputed identically


def test_our_segment_parsed_by_scapy_and_dpkt() -> None:
    seg = Segment(
        40000,
        80,
        1,
        2,
        ACK | FIN,
        1000,
        b"hello",
        (NoOperation(), NoOperation(), Timestamps(123456, 654321), UnknownOption(254, b"ab")),
    )
    raw = seg.encode(SB, DB)
    sc = TCP(raw)
    assert (sc.sport, sc.dport, sc.seq, sc.ack, sc.window) == (40000, 80, 1, 2, 1000)
    assert str(sc.flags) == "FA"
    assert ("Timestamp", (123456, 654321)) in sc.options
    assert bytes(sc.payload) == b"hello"
    # scapy recomputes the same checksum from the pseudo-header
    fresh = IP(src=SRC, dst=DST) / TCP(raw)
    fresh[TCP].chksum = None
    assert TCP(bytes(fresh)[20:]).chksum == sc.chksum
    dp = dpkt.tcp.TCP(raw)
    assert dp.flags == ACK | FIN and dp.data == b"hello"
    opts = dpkt.tcp.parse_opts(dp.opts)
    assert (
        dpkt.tcp.TCP_OPT_TIMESTAMP,
        (123456).to_bytes(4, "big") + (654321).to_bytes(4, "big"),
    ) in opts
    assert (254, b"ab") in opts
    assert Segment.decode(raw) == Segment(
        40000,
        80,
        1,
        2,
        ACK | FIN,
        1000,
        b"hello",
        (NoOperation(), NoOperation(), Timestamps(123456, 654321), UnknownOption(254, b"ab")),
        0,
        int.from_bytes(raw[16:18], "big"),
    )


def test_checksum_detects_a_flipped_bit() -> None:
    raw = bytearray(Segment(1, 2, 3, 4, ACK, 5, b"data").encode(SB, DB))
    assert checksum_ok(bytes(raw), SB, DB)
    raw[-1] ^= 0x10
    assert not checksum_ok(bytes(raw), SB, DB)
    raw[-1] ^= 0x10  # restored: but the pseudo-header of other addresses does not match
    assert checksum_ok(bytes(raw), SB, DB)
    assert not checksum_ok(bytes(raw), SB, DB[:3] + b"\x23")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (b"\x02", "option 2 length"),  # kind without a length byte
        (b"\x02\x00\x00\x00", "option 2 length"),  # length 0
        (b"\x02\x08\x05\xb4", "option 2 length"),  # runs past the header
        (b"\x03\x04\x07\x00", "option 3 length"),  # wrong fixed length
        (b"\x05\x06\x00\x00\x00\x00", "option 5 (SACK) length"),
    ],
)
def test_malformed_options_raise_decode_error(options: bytes, field: str) -> None:
    with pytest.raises(DecodeError) as e:
        decode_options(options)
    assert e.value.field == field


def test_short_and_bad_offset_headers() -> None:
    with pytest.raises(DecodeError):
        Segment.decode(b"\x00" * 19)
    raw = bytearray(Segment(1, 2, 3, 4, ACK, 5).encode())
    raw[12] = 0x40  # data offset 4 words < 5
    with pytest.raises(DecodeError):
        Segment.decode(bytes(raw))
    raw[12] = 0xF0  # 60 bytes > 20 given
    with pytest.raises(DecodeError):
        Segment.decode(bytes(raw))


def test_eol_stops_option_parsing() -> None:
    opts = decode_options(b"\x01\x00\x00\x00")
    assert opts == (NoOperation(), EndOfOptions())


_options = st.lists(
    st.one_of(
        st.builds(MaximumSegmentSize, st.integers(0, 0xFFFF)),
        st.builds(WindowScale, st.integers(0, 14)),
        st.just(SackPermitted()),
        st.just(NoOperation()),
        st.builds(Timestamps, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
        st.builds(
            Sack,
            st.lists(
                st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
                min_size=1,
                max_size=2,
            ).map(tuple),
        ),
        st.builds(UnknownOption, st.integers(6, 7) | st.integers(9, 255), st.binary(max_size=6)),
    ),
    max_size=3,
).filter(
    lambda os: sum(len(o.encode()) for o in os) <= 40 and sum(len(o.encode()) for o in os) % 4 == 0
)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 0xFF),
    st.integers(0, 0xFFFF),
    st.binary(max_size=64),
    _options,
)
def test_roundtrip(
    sport: int, dport: int, seq: int, ack: int, flags: int, win: int, payload: bytes, options: list
) -> None:  # type: ignore[type-arg]
    seg = Segment(sport, dport, seq, ack, flags, win, payload, tuple(options))
    raw = seg.encode(SB, DB)
    assert checksum_ok(raw, SB, DB)
    back = Segment.decode(raw)
    assert back.encode(SB, DB) == raw
    assert back.payload == payload and back.options == tuple(options)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80))
def test_random_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        seg = Segment.decode(data)
    except DecodeError:
        return
    assert Segment.decode(seg.encode()) == seg  # whatever parsed re-encodes to the same


def test_flag_names_in_wireshark_order() -> None:
    assert flag_names(SYN | ACK) == "SYN,ACK"
    assert flag_names(ACK | PSH | FIN) == "FIN,PSH,ACK"
    assert flag_names(0xFF) == "FIN,SYN,RST,PSH,ACK,URG,ECE,CWR"
    assert flag_names(0) == "none"
