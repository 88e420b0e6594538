from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from minternet.checksum import internet_checksum, ones_complement_sum


def reference_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    s = 0
    for i in range(0, len(data), 2):
        s += (data[i] << 8) | data[i + 1]
        s = (s & 0xFFFF) + (s >> 16)
    return s


def test_rfc1071_example() -> None:
    # RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
    assert ones_complement_sum(bytes.fromhex("0001f203f4f5f6f7")) == 0xDDF2
    assert internet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D


def test_known_ipv4_header() -> None:
    hdr = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert internet_checksum(hdr) == 0xB861


@given(st.binary(max_size=2000))
def test_matches_word_by_word_reference(data: bytes) -> None:
    assert ones_complement_sum(data) == reference_sum(data)


@given(st.binary(min_size=2, max_size=200).filter(lambda b: len(b) % 2 == 0))
def test_verifies_to_zero(data: bytes) -> None:
    c = internet_checksum(data)
    assert internet_checksum(data + c.to_bytes(2, "big")) == 0
