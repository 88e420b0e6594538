"""Property tests (hypothesis): every handshake message and record survives encode → decode
unchanged, and the length prefixes are what the RFC layouts say."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from minternet.tls.extensions import Extension
from minternet.tls.messages import (
    Certificate,
    ClientEcdhPublic,
    ClientHello,
    EncryptedPreMasterSecret,
    Finished,
    ServerHello,
    ServerKeyExchange,
)
from minternet.tls.record import Record

u16 = st.integers(0, 0xFFFF)
ext_types = st.sampled_from([0, 10, 11, 13, 16, 22, 23, 35, 0xFF01, 0x1234, 0xFAFA])
extensions = st.lists(
    st.builds(Extension, ext_types, st.binary(max_size=40)), max_size=6, unique_by=lambda e: e.type
).map(tuple)
MESSAGES: list[Any] = [
    st.builds(
        ClientHello, u16, st.binary(min_size=32, max_size=32), st.binary(max_size=32),
        st.lists(u16, min_size=1, max_size=20).map(tuple), st.binary(min_size=1, max_size=3),
        extensions,
    ),
    st.builds(
        ServerHello, u16, st.binary(min_size=32, max_size=32), st.binary(max_size=32), u16,
        st.integers(0, 255), extensions,
    ),
    st.builds(Certificate, st.lists(st.binary(min_size=1, max_size=300), max_size=4).map(tuple)),
    st.builds(
        ServerKeyExchange, u16, st.binary(min_size=1, max_size=133), u16, st.binary(max_size=512)
    ),
    st.builds(EncryptedPreMasterSecret, st.binary(min_size=1, max_size=512)),
    st.builds(ClientEcdhPublic, st.binary(min_size=1, max_size=133)),
    st.builds(Finished, st.binary(min_size=12, max_size=12)),
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.one_of(*MESSAGES))
def test_message_round_trip(msg: Any) -> None:
    raw = msg.encode()
    assert int.from_bytes(raw[1:4], "big") == len(raw) - 4
    assert raw[0] == msg.msg_type
    assert type(msg).decode_body(raw[4:]) == msg


@settings(max_examples=60, deadline=None)
@given(st.integers(20, 23), st.binary(max_size=2000))
def test_record_round_trip(ct: int, fragment: bytes) -> None:
    rec = Record(ct, 0x0303, fragment)
    assert Record.decode(rec.encode()) == rec
