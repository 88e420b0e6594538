"""A DHCP server (RFC 2131 §4.3), sans-IO: a message and ``now`` in, replies out.

The server owns one address pool on one network. Every address it has spoken about has a
:class:`Binding` (offered, bound, free-but-remembered, or declined), so its memory is
bounded by the pool's size whatever the clients send. Leases expire in the caller's time
(``now``), checked lazily on each message and by :meth:`DhcpServer.bindings`.

- DHCPDISCOVER → DHCPOFFER (§4.3.1): the client's current or previous address, else the
  address it asks for (option 50) if free, else the first free address of the pool; the
  offer holds the address for :attr:`ServerConfig.offer_hold` seconds.
- DHCPREQUEST (§4.3.2): SELECTING (server identifier present: ours → ACK of the offered
  address, another's → our offer is withdrawn); INIT-REBOOT (requested address, no
  ciaddr): ACK if it is the client's binding, NAK if it is wrong for this network or
  someone else's; with no record of the client, a server that is not
  :attr:`ServerConfig.authoritative` remains silent (§4.3.2 "MUST remain silent"), an
  authoritative one ACKs the address if it is free in the pool, else NAKs (dnsmasq's
  ``dhcp-authoritative``); RENEWING/REBINDING (ciaddr: ACK extends the client's binding,
  NAK otherwise).
- DHCPDECLINE (§4.3.3): the address is marked unusable for :attr:`ServerConfig.decline_hold`.
- DHCPRELEASE (§4.3.4): the address is free again; the server remembers whose it was.
- DHCPINFORM (§4.3.5): an ACK with the configuration and no lease, unicast to ciaddr.

Where each reply goes is RFC 2131 §4.1's rule, decided here (:class:`Reply`): to the relay
(giaddr) if any; else to ciaddr if set; else broadcast if the client set the BROADCAST flag;
else unicast to yiaddr at the client's hardware address, without ARP (the client has no
address to answer with yet). A DHCPNAK without a relay is always broadcast.
Malformed messages are not answered; :attr:`ServerResult.note` says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import DecodeError
from ..ip.address import ANY, BROADCAST, ip_from_int, ip_to_bytes, ip_to_int, mask_of
from ..link.ethernet import BROADCAST_MAC
from .message import (
    BOOTREPLY,
    BOOTREQUEST,
    CLIENT_PORT,
    DHCPACK,
    DHCPDECLINE,
    DHCPDISCOVER,
    DHCPINFORM,
    DHCPNAK,
    DHCPOFFER,
    DHCPRELEASE,
    DHCPREQUEST,
    FLAG_BROADCAST,
    OPT_DNS_SERVER,
    OPT_DOMAIN_NAME,
    OPT_LEASE_TIME,
    OPT_MESSAGE,
    OPT_REBINDING_TIME,
    OPT_RENEWAL_TIME,
    OPT_ROUTER,
    OPT_SERVER_ID,
    OPT_SUBNET_MASK,
    SERVER_PORT,
    DhcpMessage,
    Option,
    address_option,
    seconds_option,
    type_option,
)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """What a DHCP server hands out on one network (RFC 2132 options 1, 3, 6, 15, 51, 58,
    59). ``renewal_time``/``rebinding_time`` default to 50 % and 87.5 % of the lease
    (RFC 2131 §4.4.5)."""

    server_id: str  # our address on the client's network (option 54)
    pool_start: str
    pool_end: str
    prefix_len: int
    routers: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    domain_name: str | None = None
    lease_time: int = 86400
    renewal_time: int | None = None
    rebinding_time: int | None = None
    offer_hold: float = 60.0
    decline_hold: float = 3600.0
    # The only DHCP server of its network (dnsmasq's dhcp-authoritative, ISC's
    # "authoritative;"): it answers INIT-REBOOT requests it has no record of (§4.3.2).
    authoritative: bool = True

    def __post_init__(self) -> None:
        lo, hi = ip_to_int(self.pool_start), ip_to_int(self.pool_end)
        if lo > hi:
            raise ValueError(f"pool {self.pool_start}–{self.pool_end} is empty")
        mask = mask_of(self.prefix_len)
        if lo & mask != ip_to_int(self.server_id) & mask or hi & mask != lo & mask:
            raise ValueError(
                f"pool {self.pool_start}–{self.pool_end} is not on {self.server_id}"
                f"/{self.prefix_len}"
            )
        for a in (*self.routers, *self.dns_servers):
            ip_to_bytes(a)
        if not 0 < self.lease_time <= 0xFFFFFFFE:
            raise ValueError(f"lease time {self.lease_time} s out of range")

    @property
    def subnet_mask(self) -> str:
        return ip_from_int(mask_of(self.prefix_len))

    @property
    def t1(self) -> int:
        return self.renewal_time if self.renewal_time is not None else self.lease_time // 2

    @property
    def t2(self) -> int:
        if self.rebinding_time is not None:
            return self.rebinding_time
        return self.lease_time * 7 // 8

    def in_network(self, address: str) -> bool:
        mask = mask_of(self.prefix_len)
        return ip_to_int(address) & mask == ip_to_int(self.server_id) & mask


@dataclass(slots=True)
class Binding:
    """What the server knows of one address of its pool."""

    address: str
    client: bytes  # client identifier (option 61) or 0x01 + chaddr
    chaddr: str
    state: str  # "offered" | "bound" | "free" (released or expired) | "declined"
    expires: float


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to send and where (RFC 2131 §4.1): ``link_mac`` is the Ethernet
    destination when the reply must not be ARPed for (broadcast, or the client's hardware
    address before it has an address); None means "route ``dst`` as usual"."""

    message: DhcpMessage
    dst: str
    port: int
    link_mac: str | None


@dataclass(slots=True)
class ServerResult:
    """The answers to one message and what happened (``event``: offer, ack, nak, decline,
    release, inform, withdrawn, ignored)."""

    replies: list[Reply] = field(default_factory=list)
    event: str = "ignored"
    address: str | None = None
    note: str = ""


def client_key(msg: DhcpMessage) -> bytes:
    """RFC 2131 §4.2: the client identifier if given, else the hardware type + address."""
    return msg.client_id or b"\x01" + bytes.fromhex(msg.chaddr.replace(":", ""))


class DhcpServer:
    """The server of one pool."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._bindings: dict[str, Binding] = {}  # address → binding, insertion-ordered
        lo, hi = ip_to_int(config.pool_start), ip_to_int(config.pool_end)
        reserved = {ip_to_int(config.server_id), *(ip_to_int(r) for r in config.routers)}
        base = ip_to_int(config.server_id) & mask_of(config.prefix_len)
        bcast = base | (~mask_of(config.prefix_len) & 0xFFFFFFFF)
        self._pool = [
            ip_from_int(a) for a in range(lo, hi + 1) if a not in reserved and base < a < bcast
        ]

    # -- the table --------------------------------------------------------------------
    def bindings(self, now: float) -> list[Binding]:
        """Every address the server remembers, in pool order, after expiring what is due."""
        self._expire(now)
        order = {a: i for i, a in enumerate(self._pool)}
        return sorted(self._bindings.values(), key=lambda b: order.get(b.address, -1))

    def _expire(self, now: float) -> None:
        for b in list(self._bindings.values()):
            if b.expires > now:
                continue
            if b.state in ("offered", "declined"):
                del self._bindings[b.address]
            elif b.state == "bound":
                b.state = "free"

    def _record(self, b: Binding) -> Binding:
        """Make ``b`` the binding of its address, last in the table's order (the newest)."""
        self._bindings.pop(b.address, None)
        self._bindings[b.address] = b
        return b

    def _of_client(self, key: bytes) -> Binding | None:
        for b in self._bindings.values():
            if b.client == key and b.state in ("offered", "bound", "free"):
                return b
        return None

    def _available(self, address: str, key: bytes) -> bool:
        if address not in self._pool:
            return False
        b = self._bindings.get(address)
        return b is None or (b.state == "free" and b.client == key)

    def _allocate(self, msg: DhcpMessage, key: bytes) -> str | None:
        mine = self._of_client(key)
        if mine is not None:
            return mine.address
        wanted = msg.requested_ip
        if wanted is not None and self._available(wanted, key):
            return wanted
        for a in self._pool:
            if a not in self._bindings:
                return a
        # Reuse the free address released or expired longest ago.
        free = [b for b in self._bindings.values() if b.state == "free"]
        return min(free, key=lambda b: b.expires).address if free else None

    # -- input ------------------------------------------------------------------------
    def handle(self, data: bytes, now: float) -> ServerResult:
        """Answer one message (the UDP payload that arrived on port 67)."""
        try:
            msg = DhcpMessage.decode(data)
        except DecodeError as e:
            return ServerResult(note=f"malformed: {e}")
        if msg.op != BOOTREQUEST:
            return ServerResult(note="a BOOTREPLY sent to a server")
        self._expire(now)
        kind = msg.message_type
        if kind == DHCPDISCOVER:
            return self._discover(msg, now)
        if kind == DHCPREQUEST:
            return self._request(msg, now)
        if kind == DHCPDECLINE:
            return self._decline(msg, now)
        if kind == DHCPRELEASE:
            return self._release(msg, now)
        if kind == DHCPINFORM:
            return self._inform(msg)
        return ServerResult(note=f"a {msg.type_name} is not for a server")

    def _discover(self, msg: DhcpMessage, now: float) -> ServerResult:
        key = client_key(msg)
        address = self._allocate(msg, key)
        if address is None:
            return ServerResult(note="the pool is exhausted: no offer")
        b = self._bindings.get(address)
        if b is None or b.state != "bound":
            self._record(Binding(address, key, msg.chaddr, "offered", now + self.config.offer_hold))
        reply = self._reply(msg, DHCPOFFER, address, self._lease_options())
        return ServerResult([reply], "offer", address)

    def _request(self, msg: DhcpMessage, now: float) -> ServerResult:
        key = client_key(msg)
        mine = self._of_client(key)
        server_id = msg.server_id
        if server_id is not None:  # SELECTING
            if server_id != self.config.server_id:
                if mine is not None and mine.state == "offered":
                    del self._bindings[mine.address]
                    return ServerResult(
                        event="withdrawn",
                        address=mine.address,
                        note=f"the client chose {server_id}",
                    )
                return ServerResult(note=f"for another server ({server_id})")
            wanted = msg.requested_ip
            if mine is None or wanted != mine.address or msg.ciaddr != ANY:
                return self._nak(msg, "no offer of that address for this client")
            return self._ack(msg, mine, now)
        if msg.ciaddr == ANY:
            return self._init_reboot(msg, mine, now)
        # RENEWING (unicast) or REBINDING (broadcast): ciaddr is the client's address.
        if (
            mine is not None
            and mine.address == msg.ciaddr
            and (mine.state == "bound" or self._available(mine.address, key))
        ):
            return self._ack(msg, mine, now)
        if self.config.in_network(msg.ciaddr):
            return self._nak(msg, f"{msg.ciaddr} is not leased to this client")
        return ServerResult(note=f"{msg.ciaddr} is not on this network: silent")

    def _init_reboot(self, msg: DhcpMessage, mine: Binding | None, now: float) -> ServerResult:
        """§4.3.2 "DHCPREQUEST generated during INIT-REBOOT state": option 50 and no
        ciaddr. The client's own binding → ACK; no record and not authoritative → silent
        ("MUST remain silent ... for peaceful coexistence of non-communicating DHCP
        servers"); a wrong network → NAK ("SHOULD send a DHCPNAK"); an authoritative
        server that knows the address is free in its pool binds it to the client (as
        dnsmasq does: a client keeps its address across the server's restart), and NAKs
        an address that is someone else's or not in the pool."""
        wanted = msg.requested_ip
        if wanted is None:
            return ServerResult(note="a DHCPREQUEST with neither ciaddr nor address")
        if mine is not None and mine.address == wanted:
            return self._ack(msg, mine, now)
        if mine is None and not self.config.authoritative:
            return ServerResult(note=f"no record of this client for {wanted}: silent")
        if not self.config.in_network(wanted):
            return self._nak(msg, f"{wanted} is not on this network")
        key = client_key(msg)
        if mine is not None or not self._available(wanted, key):
            return self._nak(msg, f"{wanted} is not this client's address")
        return self._ack(msg, self._record(Binding(wanted, key, msg.chaddr, "bound", now)), now)

    def _ack(self, msg: DhcpMessage, b: Binding, now: float) -> ServerResult:
        b.state = "bound"
        b.chaddr = msg.chaddr
        b.expires = now + self.config.lease_time
        reply = self._reply(msg, DHCPACK, b.address, self._lease_options())
        return ServerResult([reply], "ack", b.address)

    def _nak(self, msg: DhcpMessage, why: str) -> ServerResult:
        nak = DhcpMessage(
            BOOTREPLY,
            msg.xid,
            msg.chaddr,
            (
                type_option(DHCPNAK),
                address_option(OPT_SERVER_ID, self.config.server_id),
                (OPT_MESSAGE, why.encode("ascii", "replace")[:255]),
            ),
            flags=msg.flags,
            giaddr=msg.giaddr,
        )
        if msg.giaddr != ANY:  # §4.3.2: via the relay, which broadcasts it
            reply = Reply(nak.with_broadcast(), msg.giaddr, SERVER_PORT, None)
        else:
            reply = Reply(nak, BROADCAST, CLIENT_PORT, BROADCAST_MAC)
        return ServerResult([reply], "nak", msg.requested_ip or msg.ciaddr, why)

    def _decline(self, msg: DhcpMessage, now: float) -> ServerResult:
        address = msg.requested_ip
        if msg.server_id != self.config.server_id or address is None:
            return ServerResult(note="a DHCPDECLINE for another server or without an address")
        b = self._bindings.get(address)
        if b is None or b.client != client_key(msg):
            return ServerResult(note=f"a DHCPDECLINE of {address}, not this client's")
        self._bindings[address] = Binding(
            address, b"", "", "declined", now + self.config.decline_hold
        )
        return ServerResult(
            event="decline",
            address=address,
            note=f"{address} is in use by another device: marked unusable",
        )

    def _release(self, msg: DhcpMessage, now: float) -> ServerResult:
        b = self._bindings.get(msg.ciaddr)
        if b is None or b.client != client_key(msg) or b.state != "bound":
            return ServerResult(note=f"a DHCPRELEASE of {msg.ciaddr}, not leased to this client")
        b.state = "free"
        b.expires = now
        return ServerResult(event="release", address=msg.ciaddr)

    def _inform(self, msg: DhcpMessage) -> ServerResult:
        if msg.ciaddr == ANY or not self.config.in_network(msg.ciaddr):
            return ServerResult(note="a DHCPINFORM without an address on this network")
        options = [o for o in self._lease_options() if o[0] not in _LEASE_CODES]
        ack = DhcpMessage(
            BOOTREPLY,
            msg.xid,
            msg.chaddr,
            (type_option(DHCPACK), *options),
            flags=msg.flags,
            ciaddr=msg.ciaddr,
            giaddr=msg.giaddr,
        )
        return ServerResult([Reply(ack, msg.ciaddr, CLIENT_PORT, None)], "inform", msg.ciaddr)

    # -- output -----------------------------------------------------------------------
    def _lease_options(self) -> list[Option]:
        c = self.config
        options = [
            address_option(OPT_SERVER_ID, c.server_id),
            seconds_option(OPT_LEASE_TIME, c.lease_time),
            seconds_option(OPT_RENEWAL_TIME, c.t1),
            seconds_option(OPT_REBINDING_TIME, c.t2),
            address_option(OPT_SUBNET_MASK, c.subnet_mask),
        ]
        if c.routers:
            options.append(address_option(OPT_ROUTER, *c.routers))
        if c.dns_servers:
            options.append(address_option(OPT_DNS_SERVER, *c.dns_servers))
        if c.domain_name:
            options.append((OPT_DOMAIN_NAME, c.domain_name.encode("ascii")))
        return options

    def _reply(self, msg: DhcpMessage, kind: int, address: str, options: list[Option]) -> Reply:
        out = DhcpMessage(
            BOOTREPLY,
            msg.xid,
            msg.chaddr,
            (type_option(kind), *options),
            flags=msg.flags,
            yiaddr=address,
            giaddr=msg.giaddr,
            ciaddr=msg.ciaddr,
        )
        # RFC 2131 §4.1, the four cases, in the RFC's order.
        if msg.giaddr != ANY:
            return Reply(out, msg.giaddr, SERVER_PORT, None)
        if msg.ciaddr != ANY:
            return Reply(out, msg.ciaddr, CLIENT_PORT, None)
        if msg.flags & FLAG_BROADCAST:
            return Reply(out, BROADCAST, CLIENT_PORT, BROADCAST_MAC)
        return Reply(out, address, CLIENT_PORT, msg.chaddr)


_LEASE_CODES = (OPT_LEASE_TIME, OPT_RENEWAL_TIME, OPT_REBINDING_TIME)

__all__ = ["Binding", "DhcpServer", "Reply", "ServerConfig", "ServerResult", "client_key"]
