"""DHCP messages (RFC 2131 §2, §3) and their options (RFC 2132): the codec.

A message is the BOOTP header of RFC 951 (op, htype, hlen, hops, xid, secs, flags, ciaddr,
yiaddr, siaddr, giaddr, chaddr, sname, file: 236 bytes), the magic cookie 99.130.83.99
(RFC 2131 §3, RFC 2132 §2) and the options, each ``code, length, data`` except Pad (0) and
End (255). :class:`DhcpMessage` keeps every option in wire order, unknown ones too, and
reads the ones this project uses through typed properties.

Decoding is strict and bounded (style.md §2): every malformed input raises a
:class:`~minternet.errors.DecodeError` naming the field and its offset — short header, an
``op`` other than BOOTREQUEST/BOOTREPLY, a hardware type or length other than Ethernet's,
a wrong cookie, an option running past the end, a known option of the wrong length, no
End option, no DHCP message type (option 53, which separates DHCP from BOOTP). An option
that appears twice is concatenated (RFC 3396 §7); Option Overload (52) makes the ``file``
and ``sname`` fields hold options too (RFC 2132 §9.3). Encoding writes End and pads the
message to BOOTP's 300 bytes (RFC 1542 §2.1), as ISC dhclient and dnsmasq do.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Self

from ..codec import Reader
from ..errors import DecodeError
from ..ip.address import ANY, ip_from_bytes, ip_to_bytes
from ..link.ethernet import mac_from_bytes, mac_to_bytes

SERVER_PORT = 67  # RFC 2131 §4.1: servers listen on 67, clients on 68
CLIENT_PORT = 68
BOOTREQUEST = 1
BOOTREPLY = 2
HTYPE_ETHERNET = 1
MAGIC_COOKIE = bytes((99, 130, 83, 99))
HEADER_LEN = 236
MIN_LEN = 300  # the BOOTP message size relays and old servers expect (RFC 1542 §2.1)
FLAG_BROADCAST = 0x8000  # RFC 2131 §2, figure 2: the leftmost bit of 'flags'

# Message types, option 53 (RFC 2132 §9.6).
DHCPDISCOVER = 1
DHCPOFFER = 2
DHCPREQUEST = 3
DHCPDECLINE = 4
DHCPACK = 5
DHCPNAK = 6
DHCPRELEASE = 7
DHCPINFORM = 8
MESSAGE_TYPE_NAMES = {
    DHCPDISCOVER: "DHCPDISCOVER", DHCPOFFER: "DHCPOFFER", DHCPREQUEST: "DHCPREQUEST",
    DHCPDECLINE: "DHCPDECLINE", DHCPACK: "DHCPACK", DHCPNAK: "DHCPNAK",
    DHCPRELEASE: "DHCPRELEASE", DHCPINFORM: "DHCPINFORM",
}  # fmt: skip

# Option codes (RFC 2132).
OPT_PAD = 0
OPT_SUBNET_MASK = 1  # §3.3
OPT_ROUTER = 3  # §3.5
OPT_DNS_SERVER = 6  # §3.8
OPT_HOST_NAME = 12  # §3.14
OPT_DOMAIN_NAME = 15  # §3.17
OPT_REQUESTED_IP = 50  # §9.1
OPT_LEASE_TIME = 51  # §9.2
OPT_OVERLOAD = 52  # §9.3
OPT_MESSAGE_TYPE = 53  # §9.6
OPT_SERVER_ID = 54  # §9.7
OPT_PARAMETER_LIST = 55  # §9.8
OPT_MESSAGE = 56  # §9.9
OPT_MAX_SIZE = 57  # §9.10
OPT_RENEWAL_TIME = 58  # §9.11 (T1)
OPT_REBINDING_TIME = 59  # §9.12 (T2)
OPT_CLIENT_ID = 61  # §9.14
OPT_END = 255
OPTION_NAMES = {
    OPT_SUBNET_MASK: "subnet mask", OPT_ROUTER: "router", OPT_DNS_SERVER: "DNS server",
    OPT_HOST_NAME: "host name", OPT_DOMAIN_NAME: "domain name",
    OPT_REQUESTED_IP: "requested address", OPT_LEASE_TIME: "lease time",
    OPT_OVERLOAD: "overload", OPT_MESSAGE_TYPE: "message type",
    OPT_SERVER_ID: "server identifier", OPT_PARAMETER_LIST: "parameter request list",
    OPT_MESSAGE: "message", OPT_MAX_SIZE: "maximum message size",
    OPT_RENEWAL_TIME: "renewal time (T1)", OPT_REBINDING_TIME: "rebinding time (T2)",
    OPT_CLIENT_ID: "client identifier",
}  # fmt: skip

# Lengths RFC 2132 fixes: exactly n bytes, or ("multiple", n) bytes at least once, or
# ("min", n) bytes at least.
_EXACT = {
    OPT_SUBNET_MASK: 4, OPT_REQUESTED_IP: 4, OPT_LEASE_TIME: 4, OPT_OVERLOAD: 1,
    OPT_MESSAGE_TYPE: 1, OPT_SERVER_ID: 4, OPT_MAX_SIZE: 2, OPT_RENEWAL_TIME: 4,
    OPT_REBINDING_TIME: 4,
}  # fmt: skip
_MULTIPLE_OF_4 = (OPT_ROUTER, OPT_DNS_SERVER)
_MIN = {OPT_HOST_NAME: 1, OPT_DOMAIN_NAME: 1, OPT_PARAMETER_LIST: 1, OPT_CLIENT_ID: 2}

Option = tuple[int, bytes]


def _check_option(code: int, data: bytes, r: Reader, at: int) -> None:
    n = len(data)
    name = OPTION_NAMES.get(code, str(code))
    if code in _EXACT and n != _EXACT[code]:
        raise r.error(f"option {code}", f"{name} must be {_EXACT[code]} bytes, not {n}", at)
    if code in _MULTIPLE_OF_4 and (n == 0 or n % 4):
        raise r.error(f"option {code}", f"{name} needs a multiple of 4 bytes, not {n}", at)
    if code in _MIN and n < _MIN[code]:
        raise r.error(f"option {code}", f"{name} needs at least {_MIN[code]} bytes", at)
    if code == OPT_MESSAGE_TYPE and data[0] not in MESSAGE_TYPE_NAMES:
        raise r.error("option 53", f"unknown DHCP message type {data[0]}", at)


def _read_options(r: Reader, into: dict[int, bytes], order: list[int], *, field: str) -> None:
    """Options up to End (RFC 2132 §2); a code seen before is concatenated (RFC 3396)."""
    while True:
        at = r.pos
        code = r.u8(f"{field}: option code (no End option before the end)")
        if code == OPT_PAD:
            continue
        if code == OPT_END:
            return
        if r.remaining() < 1:
            raise r.error(f"option {code}", "length byte missing", at)
        n = r.u8(f"option {code} length")
        if n > r.remaining():
            raise r.error(f"option {code}", f"length {n} runs past the end", at)
        data = r.raw(n, f"option {code}")
        if code in into:
            into[code] += data
        else:
            into[code] = data
            order.append(code)


@dataclass(frozen=True, slots=True)
class DhcpMessage:
    """One DHCP message (RFC 2131 figure 1). Addresses are dotted quads; ``chaddr`` is the
    client's Ethernet address; ``options`` in wire order, without Pad and End."""

    op: int
    xid: int
    chaddr: str
    options: tuple[Option, ...] = ()
    secs: int = 0
    flags: int = 0
    ciaddr: str = ANY
    yiaddr: str = ANY
    siaddr: str = ANY
    giaddr: str = ANY
    hops: int = 0
    sname: bytes = b""
    file: bytes = b""
    htype: int = HTYPE_ETHERNET
    hlen: int = 6
    _by_code: dict[int, bytes] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", dict(self.options))

    # -- options ---------------------------------------------------------------------
    def option(self, code: int) -> bytes | None:
        return self._by_code.get(code)

    def with_options(self, *options: Option) -> DhcpMessage:
        return replace(self, options=self.options + options)

    def with_broadcast(self) -> DhcpMessage:
        """The same message with the BROADCAST flag set (RFC 2131 §4.1)."""
        return replace(self, flags=self.flags | FLAG_BROADCAST)

    @property
    def message_type(self) -> int:
        data = self._by_code.get(OPT_MESSAGE_TYPE)
        return data[0] if data else 0

    @property
    def type_name(self) -> str:
        return MESSAGE_TYPE_NAMES.get(self.message_type, "BOOTP")

    def _address(self, code: int) -> str | None:
        data = self._by_code.get(code)
        return ip_from_bytes(data[:4]) if data is not None and len(data) >= 4 else None

    def _addresses(self, code: int) -> tuple[str, ...]:
        data = self._by_code.get(code) or b""
        return tuple(ip_from_bytes(data[i : i + 4]) for i in range(0, len(data) - 3, 4))

    def _seconds(self, code: int) -> int | None:
        data = self._by_code.get(code)
        return int.from_bytes(data, "big") if data is not None and len(data) == 4 else None

    @property
    def subnet_mask(self) -> str | None:
        return self._address(OPT_SUBNET_MASK)

    @property
    def routers(self) -> tuple[str, ...]:
        return self._addresses(OPT_ROUTER)

    @property
    def dns_servers(self) -> tuple[str, ...]:
        return self._addresses(OPT_DNS_SERVER)

    @property
    def domain_name(self) -> str | None:
        data = self._by_code.get(OPT_DOMAIN_NAME)
        return data.rstrip(b"\x00").decode("ascii", "replace") if data else None

    @property
    def host_name(self) -> str | None:
        data = self._by_code.get(OPT_HOST_NAME)
        return data.rstrip(b"\x00").decode("ascii", "replace") if data else None

    @property
    def server_id(self) -> str | None:
        return self._address(OPT_SERVER_ID)

    @property
    def requested_ip(self) -> str | None:
        return self._address(OPT_REQUESTED_IP)

    @property
    def lease_time(self) -> int | None:
        return self._seconds(OPT_LEASE_TIME)

    @property
    def renewal_time(self) -> int | None:
        return self._seconds(OPT_RENEWAL_TIME)

    @property
    def rebinding_time(self) -> int | None:
        return self._seconds(OPT_REBINDING_TIME)

    @property
    def client_id(self) -> bytes | None:
        return self._by_code.get(OPT_CLIENT_ID)

    @property
    def parameter_request_list(self) -> tuple[int, ...]:
        return tuple(self._by_code.get(OPT_PARAMETER_LIST) or b"")

    @property
    def broadcast(self) -> bool:
        return bool(self.flags & FLAG_BROADCAST)

    # -- codec -----------------------------------------------------------------------
    def encode(self) -> bytes:
        """The message, End-terminated and padded to 300 bytes."""
        if len(self.sname) > 64 or len(self.file) > 128:
            raise ValueError("sname is at most 64 bytes and file at most 128")
        out = bytearray((self.op, self.htype, self.hlen, self.hops))
        out += self.xid.to_bytes(4, "big")
        out += self.secs.to_bytes(2, "big") + self.flags.to_bytes(2, "big")
        for a in (self.ciaddr, self.yiaddr, self.siaddr, self.giaddr):
            out += ip_to_bytes(a)
        out += mac_to_bytes(self.chaddr).ljust(16, b"\x00")
        out += self.sname.ljust(64, b"\x00") + self.file.ljust(128, b"\x00")
        out += MAGIC_COOKIE
        for code, data in self.options:
            if not 0 < code < 255:
                raise ValueError(f"option code {code} is reserved")
            for i in range(0, max(len(data), 1), 255):  # long options split (RFC 3396)
                chunk = data[i : i + 255]
                out += bytes((code, len(chunk))) + chunk
        out.append(OPT_END)
        if len(out) < MIN_LEN:
            out += bytes(MIN_LEN - len(out))
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> Self:
        r = Reader(data, "DHCP")
        if len(data) < HEADER_LEN + 4:
            raise r.error("header", f"short message: {len(data)} bytes, at least 240 needed")
        op = r.u8("op")
        if op not in (BOOTREQUEST, BOOTREPLY):
            raise r.error("op", f"op must be 1 (BOOTREQUEST) or 2 (BOOTREPLY), not {op}", 0)
        htype, hlen = r.u8("htype"), r.u8("hlen")
        if htype != HTYPE_ETHERNET:
            raise r.error("htype", f"hardware type {htype}: only Ethernet (1)", 1)
        if hlen != 6:
            raise r.error("hlen", f"hardware address length {hlen}: Ethernet's is 6", 2)
        hops = r.u8("hops")
        xid = r.u32("xid")
        secs, flags = r.u16("secs"), r.u16("flags")
        ciaddr, yiaddr, siaddr, giaddr = (ip_from_bytes(r.raw(4, f)) for f in _ADDRS)
        chaddr = mac_from_bytes(r.raw(16, "chaddr")[:6])
        sname, file = r.raw(64, "sname"), r.raw(128, "file")
        if r.raw(4, "magic cookie") != MAGIC_COOKIE:
            raise r.error("magic cookie", "not 99.130.83.99 (RFC 2131 §3)", HEADER_LEN)
        by_code: dict[int, bytes] = {}
        order: list[int] = []
        _read_options(r, by_code, order, field="options")
        overload = by_code.get(OPT_OVERLOAD)
        if overload is not None:
            if len(overload) != 1 or overload[0] not in (1, 2, 3):
                raise r.error("option 52", "overload must be 1 byte: 1, 2 or 3")
            if overload[0] & 1:  # file first, then sname (RFC 2131 §4.1)
                _read_options(Reader(data, "DHCP", 108, 236), by_code, order, field="file")
                file = b""
            if overload[0] & 2:
                _read_options(Reader(data, "DHCP", 44, 108), by_code, order, field="sname")
                sname = b""
        for code in order:
            _check_option(code, by_code[code], r, HEADER_LEN + 4)
        if OPT_MESSAGE_TYPE not in by_code:
            raise r.error("option 53", "no DHCP message type: a BOOTP message, not DHCP")
        return cls(
            op, xid, chaddr, tuple((c, by_code[c]) for c in order), secs, flags, ciaddr,
            yiaddr, siaddr, giaddr, hops, sname.rstrip(b"\x00"), file.rstrip(b"\x00"),
        )  # fmt: skip

    def describe(self) -> str:
        """One line of the fields that matter, for ``-v`` and frame comments."""
        parts = [f"{self.type_name} xid=0x{self.xid:08x}"]
        if self.flags & FLAG_BROADCAST:
            parts.append("flags=broadcast")
        for name in ("ciaddr", "yiaddr", "siaddr", "giaddr"):
            v = getattr(self, name)
            if v != ANY:
                parts.append(f"{name}={v}")
        parts.append(f"chaddr={self.chaddr}")
        for code, data in self.options:
            if code != OPT_MESSAGE_TYPE:
                parts.append(f"{code}({OPTION_NAMES.get(code, '?')})={_show(self, code, data)}")
        return " ".join(parts)


_ADDRS = ("ciaddr", "yiaddr", "siaddr", "giaddr")


def _show(msg: DhcpMessage, code: int, data: bytes) -> str:
    if code in (OPT_SUBNET_MASK, OPT_SERVER_ID, OPT_REQUESTED_IP):
        return str(msg._address(code))
    if code in _MULTIPLE_OF_4:
        return ",".join(msg._addresses(code))
    if code in (OPT_LEASE_TIME, OPT_RENEWAL_TIME, OPT_REBINDING_TIME):
        return f"{int.from_bytes(data, 'big')}s"
    if code in (OPT_DOMAIN_NAME, OPT_HOST_NAME, OPT_MESSAGE):
        return data.decode("ascii", "replace")
    if code == OPT_PARAMETER_LIST:
        return ",".join(str(b) for b in data)
    return data.hex()


def address_option(code: int, *addresses: str) -> Option:
    return (code, b"".join(ip_to_bytes(a) for a in addresses))


def seconds_option(code: int, seconds: int) -> Option:
    return (code, min(seconds, 0xFFFFFFFF).to_bytes(4, "big"))


def type_option(message_type: int) -> Option:
    return (OPT_MESSAGE_TYPE, bytes((message_type,)))


def mask_to_prefix(mask: str) -> int:
    """``255.255.255.0`` → 24; ``ValueError`` for a mask that is not contiguous ones."""
    value = int.from_bytes(ip_to_bytes(mask), "big")
    plen = bin(value).count("1")
    if value != (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF:
        raise ValueError(f"{mask} is not a contiguous subnet mask")
    return plen


__all__ = [
    "DecodeError",
    "DhcpMessage",
    "Option",
    "address_option",
    "mask_to_prefix",
    "seconds_option",
    "type_option",
]
