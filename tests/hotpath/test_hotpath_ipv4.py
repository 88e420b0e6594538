"""The lean IPv4 path gives the same bytes as a full re-encoding (RFC 1624 incremental
checksum on TTL − 1, the header kept from decode), checked on random headers and by scapy."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from scapy.layers.inet import IP  # type: ignore[import-untyped]

from minternet.checksum import internet_checksum
from minternet.errors import DecodeError
from minternet.ip.ipv4 import IPv4Packet, fragment, originated


def _fresh(p: IPv4Packet) -> IPv4Packet:
    """The same fields in a packet built from scratch (no kept header)."""
    return IPv4Packet(
        p.src, p.dst, p.protocol, p.payload, p.ttl, p.identification, p.dont_fragment,
        p.more_fragments, p.fragment_offset, p.tos, p.options, p.reserved_flag,
    )  # fmt: skip


def _random_header(rnd: random.Random) -> bytes:
    """A valid header (random fields, random options length) with a random payload."""
    options = rnd.randbytes(4 * rnd.randint(0, 10)) if rnd.random() < 0.3 else b""
    packet = IPv4Packet(
        ".".join(str(rnd.randint(0, 255)) for _ in range(4)),
        ".".join(str(rnd.randint(0, 255)) for _ in range(4)),
        rnd.randint(0, 255),
        rnd.randbytes(rnd.randint(0, 64)),
        ttl=rnd.randint(0, 255),
        identification=rnd.randint(0, 0xFFFF),
        dont_fragment=rnd.random() < 0.5,
        more_fragments=rnd.random() < 0.5,
        fragment_offset=8 * rnd.randint(0, 0x1FFF),
        tos=rnd.randint(0, 255),
        options=options,
        reserved_flag=rnd.random() < 0.1,
    )
    return packet.encode()


def test_decoded_header_reencodes_identically() -> None:
    rnd = random.Random(1624)
    for _ in range(3000):
        data = _random_header(rnd)
        p = IPv4Packet.decode(data)
        assert p.encode() == data
        assert p.encode() == _fresh(p).encode()


def test_incremental_ttl_checksum_equals_full_recomputation() -> None:
    rnd = random.Random(791)
    for _ in range(3000):
        p = IPv4Packet.decode(_random_header(rnd))
        for ttl in {p.ttl - 1 if p.ttl else 0, rnd.randint(0, 255), 0, 255}:
            out = p.with_ttl(ttl)
            expect = _fresh(out).encode_header()
            assert out.encode_header() == expect, (p, ttl)
            assert internet_checksum(out.encode_header()) == 0
            # chained hops: decode what we sent, decrement again
            again = IPv4Packet.decode(out.encode())
            if again.ttl:
                nxt = again.with_ttl(again.ttl - 1)
                assert nxt.encode_header() == _fresh(nxt).encode_header()


def test_scapy_agrees_with_forwarded_header() -> None:
    rnd = random.Random(1812)
    for _ in range(300):
        p = IPv4Packet.decode(_random_header(rnd))
        if p.ttl == 0:
            continue
        out = p.with_ttl(p.ttl - 1).encode()
        ip = IP(out)
        theirs = ip.chksum
        del ip.chksum
        assert IP(bytes(ip)).chksum == theirs
        assert ip.ttl == p.ttl - 1


def _with_checksum_ffff() -> bytes:
    """A header whose other words sum to 0xFFFF: both 0x0000 and 0xFFFF verify."""
    base = bytearray(IPv4Packet("10.0.0.1", "10.0.0.2", 17, b"", ttl=64).encode_header())
    base[10:12] = b"\x00\x00"
    for ident in range(0x10000):
        base[4:6] = ident.to_bytes(2, "big")
        if internet_checksum(bytes(base)) == 0:  # the rest sums to 0xFFFF
            break
    else:  # pragma: no cover
        raise AssertionError("no such identification")
    base[10:12] = b"\xff\xff"
    return bytes(base)


def test_negative_zero_checksum_is_not_kept() -> None:
    data = _with_checksum_ffff()
    p = IPv4Packet.decode(data)
    assert p.checksum == 0xFFFF
    # what a full re-encoding has always produced: 0x0000, not the received 0xFFFF
    assert p.encode() == _fresh(p).encode()
    assert p.encode()[10:12] == b"\x00\x00"
    fwd = p.with_ttl(63)
    assert fwd.encode_header() == _fresh(fwd).encode_header()


def test_replace_and_fragments_never_reuse_the_kept_header() -> None:
    p = IPv4Packet.decode(IPv4Packet("10.0.0.1", "10.0.0.2", 17, bytes(100), ttl=9).encode())
    q = replace(p, ttl=3, payload=b"x" * 10)
    assert q.encode() == _fresh(q).encode()
    for piece in fragment(p.with_ttl(8), 68):
        assert piece.encode() == _fresh(piece).encode()


def test_truncated_or_unverified_decodes_keep_no_header() -> None:
    data = IPv4Packet("10.0.0.1", "10.0.0.2", 17, bytes(40), ttl=9).encode()
    cut = IPv4Packet.decode(data[:30], allow_truncated=True)
    assert cut.encode() == _fresh(cut).encode()
    assert cut.encode()[2:4] == (30).to_bytes(2, "big")
    bad = bytearray(data)
    bad[10] ^= 0xFF
    unchecked = IPv4Packet.decode(bytes(bad), verify_checksum=False)
    assert unchecked.encode() == data


def test_out_of_range_fields_still_raise_value_error() -> None:
    with pytest.raises(ValueError):
        IPv4Packet("10.0.0.1", "10.0.0.2", 17, b"", ttl=256).encode()
    with pytest.raises(ValueError):
        IPv4Packet("10.0.0.1", "10.0.0.2", 17, b"", tos=-1).encode()


def test_fast_built_packets_equal_constructed_ones() -> None:
    from dataclasses import fields

    rnd = random.Random(9293)
    for _ in range(500):
        data = _random_header(rnd)
        p = IPv4Packet.decode(data)
        q = p.with_ttl(rnd.randint(0, 255))
        for got in (p, q):
            ref = _fresh(got)
            assert got == ref and hash(got) == hash(ref)
            for f in fields(IPv4Packet):
                if f.name not in ("checksum", "_header"):
                    assert getattr(got, f.name) == getattr(ref, f.name), f.name
        assert p.checksum == int.from_bytes(data[10:12], "big")
        assert q.checksum == 0  # as with_ttl has always set it


def test_originated_packets_are_the_constructed_ones() -> None:
    """What a host sends (:func:`originated`) is the object ``IPv4Packet(...)`` makes: every
    field, the checksum and kept header included, and the same bytes."""
    from dataclasses import fields

    rnd = random.Random(791)
    for _ in range(500):
        args = (
            ".".join(str(rnd.randint(0, 255)) for _ in range(4)),
            ".".join(str(rnd.randint(0, 255)) for _ in range(4)),
            rnd.randint(0, 255), rnd.randbytes(rnd.randint(0, 1500)),
        )  # fmt: skip
        ttl, ident, df = rnd.randint(0, 255), rnd.randint(0, 0xFFFF), rnd.random() < 0.5
        got = originated(*args, ttl, ident, df)
        ref = IPv4Packet(*args, ttl=ttl, identification=ident, dont_fragment=df)
        assert got == ref and hash(got) == hash(ref)
        for f in fields(IPv4Packet):
            assert getattr(got, f.name) == getattr(ref, f.name), f.name
        assert got.encode() == ref.encode()


def test_encoded_checksum_is_internet_checksum_for_every_identification() -> None:
    """The header checksum encode computes inline equals :func:`internet_checksum` of the
    header for all 65,536 identifications of one header — among them the one whose words
    sum to a multiple of 0xFFFF (checksum 0x0000, never 0xFFFF) — and with options."""
    zeros = 0
    for options in (b"", b"\x01\x01\x01\x00"):
        for ident in range(0x10000):
            p = IPv4Packet("192.0.2.1", "198.51.100.7", 6, b"", ttl=63, identification=ident,
                           options=options)  # fmt: skip
            h = p.encode_header()
            want = internet_checksum(h[:10] + b"\x00\x00" + h[12:])
            assert h[10:12] == want.to_bytes(2, "big"), ident
            zeros += want == 0
    assert zeros == 2


def test_decode_verifies_as_internet_checksum_does() -> None:
    """decode's inlined verification accepts a header exactly when its
    :func:`internet_checksum` is zero: random headers (with options) and their checksum
    field set to every value that could matter — right, 0x0000, 0xFFFF, off by one."""
    rnd = random.Random(1071)
    accepted = 0
    for _ in range(3000):
        good = bytearray(_random_header(rnd))
        hlen = (good[0] & 0x0F) * 4
        right = int.from_bytes(good[10:12], "big")
        for value in {right, 0, 0xFFFF, (right + 1) & 0xFFFF, 0xFFFF - right}:
            data = bytes(good[:10] + value.to_bytes(2, "big") + good[12:])
            ok = internet_checksum(data[:hlen]) == 0
            try:
                IPv4Packet.decode(data)
            except DecodeError as e:
                assert not ok and e.field == "checksum"
            else:
                assert ok
                accepted += 1
    assert accepted >= 3000  # every right one
