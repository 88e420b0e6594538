from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet import DecodeError, Reader, Writer


def test_reader_bounds_and_names_the_field() -> None:
    r = Reader(b"\x00\x05abc", "demo")
    assert r.u16("len") == 5
    with pytest.raises(DecodeError) as e:
        r.raw(5, "body")
    assert e.value.field == "body" and e.value.offset == 2


def test_block_must_be_consumed_exactly() -> None:
    r = Reader(b"\x03abcd", "demo")
    n = r.u8("n")
    with pytest.raises(DecodeError, match="left unread"), r.block(n, "inner") as b:
        b.raw(2, "x")


def test_writer_backpatches_length() -> None:
    w = Writer()
    with w.block(2) as b:
        b.raw(b"hello")
    assert w.getvalue() == b"\x00\x05hello"


@given(st.lists(st.binary(max_size=300), max_size=8))
def test_vectors_round_trip(items: list[bytes]) -> None:
    w = Writer()
    for it in items:
        w.vector(2, it)
    r = Reader(w.getvalue(), "vec")
    assert [r.vector(2, "v") for _ in items] == items
    r.expect_end("end")


@given(st.binary(max_size=64))
def test_reader_raises_only_decode_error(data: bytes) -> None:
    r = Reader(data, "fuzz")
    try:
        while True:
            r.vector(1, "v")
    except DecodeError:
        pass
