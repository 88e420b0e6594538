"""The DHCP codec (RFC 2131 §2, RFC 2132) judged by scapy's BOOTP/DHCP layers both ways, and
every kind of malformed input refused with a typed error naming the field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.dhcp import BOOTP, DHCP

from minternet.dhcp.message import (
    BOOTREPLY,
    BOOTREQUEST,
    DHCPACK,
    DHCPDISCOVER,
    DHCPOFFER,
    FLAG_BROADCAST,
    MAGIC_COOKIE,
    OPT_DNS_SERVER,
    OPT_DOMAIN_NAME,
    OPT_LEASE_TIME,
    OPT_ROUTER,
    OPT_SERVER_ID,
    OPT_SUBNET_MASK,
    DhcpMessage,
    address_option,
    mask_to_prefix,
    seconds_option,
    type_option,
)
from minternet.errors import DecodeError

MAC = "02:00:00:00:00:01"


def scapy_options(data: bytes) -> dict[str, object]:
    pkt = BOOTP(data)
    return {o[0]: o[1:] for o in pkt[DHCP].options if isinstance(o, tuple)}


def ack() -> DhcpMessage:
    return DhcpMessage(
        BOOTREPLY,
        0xDEADBEEF,
        MAC,
        (
            type_option(DHCPACK),
            address_option(OPT_SERVER_ID, "192.168.1.1"),
            seconds_option(OPT_LEASE_TIME, 86400),
            address_option(OPT_SUBNET_MASK, "255.255.255.0"),
            address_option(OPT_ROUTER, "192.168.1.1"),
            address_option(OPT_DNS_SERVER, "198.51.100.53", "198.51.100.54"),
            (OPT_DOMAIN_NAME, b"home.arpa"),
        ),
        flags=FLAG_BROADCAST,
        yiaddr="192.168.1.10",
    )


def test_our_ack_as_scapy_reads_it() -> None:
    data = ack().encode()
    assert len(data) == 300  # padded to the BOOTP size
    pkt = BOOTP(data)
    assert pkt.op == BOOTREPLY and pkt.xid == 0xDEADBEEF and pkt.flags == FLAG_BROADCAST
    assert pkt.yiaddr == "192.168.1.10" and pkt.chaddr[:6] == bytes.fromhex("020000000001")
    opts = scapy_options(data)
    assert opts["message-type"] == (5,)
    assert opts["server_id"] == ("192.168.1.1",)
    assert opts["lease_time"] == (86400,)
    assert opts["subnet_mask"] == ("255.255.255.0",)
    assert opts["router"] == ("192.168.1.1",)
    assert opts["name_server"] == ("198.51.100.53", "198.51.100.54")
    assert opts["domain"] == (b"home.arpa",)
    assert "end" in pkt[DHCP].options  # then the zero padding


def test_scapy_discover_as_we_read_it() -> None:
    pkt = BOOTP(op=1, xid=0x1234, flags=0, chaddr=bytes.fromhex("020000000001")) / DHCP(
        options=[
            ("message-type", "discover"),
            ("client_id", b"\x01\x02\x00\x00\x00\x00\x01"),
            ("requested_addr", "192.168.1.77"),
            ("hostname", b"laptop"),
            ("param_req_list", [1, 3, 6, 15, 51]),
            "end",
        ]
    )
    msg = DhcpMessage.decode(bytes(pkt))
    assert msg.op == BOOTREQUEST and msg.message_type == DHCPDISCOVER and msg.xid == 0x1234
    assert msg.chaddr == MAC and msg.requested_ip == "192.168.1.77"
    assert msg.host_name == "laptop" and msg.parameter_request_list == (1, 3, 6, 15, 51)
    assert msg.client_id == b"\x01\x02\x00\x00\x00\x00\x01"
    assert msg.encode()[:240] == bytes(pkt)[:240]  # header and cookie byte for byte


def test_scapy_offer_round_trip_byte_for_byte() -> None:
    pkt = BOOTP(op=2, xid=7, yiaddr="10.0.0.5", chaddr=bytes.fromhex("020000000001")) / DHCP(
        options=[
            ("message-type", "offer"),
            ("server_id", "10.0.0.1"),
            ("lease_time", 600),
            ("router", "10.0.0.1"),
            "end",
        ]
    )
    raw = bytes(pkt)
    msg = DhcpMessage.decode(raw)
    assert msg.message_type == DHCPOFFER and msg.lease_time == 600 and msg.routers == ("10.0.0.1",)
    assert msg.encode()[: len(raw)] == raw  # ours only adds the zero padding to 300 bytes


@given(
    st.integers(0, 0xFFFFFFFF),
    st.booleans(),
    st.lists(st.integers(1, 0xFFFFFFFE), min_size=1, max_size=3),
    st.binary(min_size=1, max_size=300),
)
def test_any_message_round_trips_and_scapy_agrees(
    xid: int, bcast: bool, times: list[int], name: bytes
) -> None:
    msg = DhcpMessage(
        BOOTREQUEST,
        xid,
        MAC,
        (type_option(DHCPDISCOVER), seconds_option(OPT_LEASE_TIME, times[0]), (200, name)),
        flags=FLAG_BROADCAST if bcast else 0,
    )
    data = msg.encode()
    assert DhcpMessage.decode(data) == msg  # option 200 > 255 bytes: split and joined again
    pkt = BOOTP(data)
    assert pkt.xid == xid and pkt.flags == (FLAG_BROADCAST if bcast else 0)
    assert scapy_options(data)["lease_time"] == (times[0],)


def _valid() -> bytearray:
    return bytearray(ack().encode())


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b[:100], "header"),
        (lambda b: bytes([3]) + b[1:], "op"),
        (lambda b: b[:1] + bytes([6]) + b[2:], "htype"),
        (lambda b: b[:2] + bytes([16]) + b[3:], "hlen"),
        (lambda b: b[:236] + b"\x63\x82\x53\x00" + b[240:], "magic cookie"),
        (lambda b: b[:240] + bytes([53, 1, 5, 51, 9, 0]), "option 51"),  # length past the end
        (lambda b: b[:240] + bytes([53, 1, 5, 51, 3, 0, 0, 1, 255]), "option 51"),  # 3 ≠ 4
        (lambda b: b[:240] + bytes([53, 1, 5, 3, 5, 1, 2, 3, 4, 5, 255]), "option 3"),
        (lambda b: b[:240] + bytes([53, 1, 5, 54, 4, 1, 2, 3, 4]), "options"),  # no End
        (lambda b: b[:240] + bytes([53, 1, 9, 255]), "option 53"),  # unknown type
        (lambda b: b[:240] + bytes([1, 4, 255, 255, 255, 0, 255]), "option 53"),  # BOOTP
        (lambda b: b[:240] + bytes([53, 1, 5, 52, 1, 7, 255]), "option 52"),  # bad overload
        (lambda b: b[:240] + bytes([53]), "option 53"),  # no length byte
    ],
)
def test_malformed_is_a_typed_error(mutate: object, field: str) -> None:
    data = bytes(mutate(_valid()))  # type: ignore[operator]
    with pytest.raises(DecodeError) as e:
        DhcpMessage.decode(data)
    assert e.value.field.startswith(field), str(e.value)


def test_overload_reads_options_from_file_and_sname() -> None:
    b = _valid()
    b[108:115] = bytes([OPT_DOMAIN_NAME, 4]) + b"home"[:4] + bytes([255])  # in 'file'
    b[240:] = bytes([53, 1, 5, 52, 1, 1, 255]) + bytes(len(b) - 247)
    msg = DhcpMessage.decode(bytes(b))
    assert msg.domain_name == "home" and msg.file == b""


def test_mask_to_prefix() -> None:
    assert mask_to_prefix("255.255.255.0") == 24 and mask_to_prefix("255.255.252.0") == 22
    with pytest.raises(ValueError):
        mask_to_prefix("255.0.255.0")
    assert bytes((99, 130, 83, 99)) == MAGIC_COOKIE
