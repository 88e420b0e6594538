"""A DHCP client (RFC 2131 §4.4, figure 5) with RFC 5227's address conflict detection,
sans-IO: messages, ARP packets seen and ``now`` in; :data:`Action` objects out;
:meth:`DhcpClient.next_deadline` / :meth:`DhcpClient.on_timer` for its timers.

States and what moves them (the RFC's names; ``PROBING`` is RFC 5227 §2.1's check of the
offered address, between the DHCPACK and using it)::

  INIT ──(initial delay)──▶ send DHCPDISCOVER ──▶ SELECTING
  SELECTING ──DHCPOFFER──▶ send DHCPREQUEST (broadcast, option 54) ──▶ REQUESTING
  REQUESTING ──DHCPACK──▶ ARP probes ──▶ PROBING        ──DHCPNAK──▶ INIT
  PROBING ──ARP from the address / a rival probe──▶ DHCPDECLINE, INIT after 10 s
  PROBING ──ANNOUNCE_WAIT, no conflict──▶ configure, ARP announcements ──▶ BOUND
  BOUND ──T1──▶ DHCPREQUEST unicast to the server, ciaddr ──▶ RENEWING
  RENEWING ──T2──▶ DHCPREQUEST broadcast, ciaddr ──▶ REBINDING
  RENEWING/REBINDING ──DHCPACK──▶ BOUND (new T1, T2, expiry)  ──DHCPNAK──▶ INIT
  REBINDING ──lease expired──▶ deconfigure ──▶ INIT
  BOUND/RENEWING/REBINDING ──release()──▶ DHCPRELEASE unicast ──▶ RELEASED

Timers (all drawn from the injected :class:`~minternet.randomness.RandomSource`, never the
OS): DISCOVER and REQUEST retransmissions after 4, 8, 16, 32, 64 s, each ±1 s (§4.1);
RENEWING/REBINDING retransmissions after half the time left to T2 / to expiry, at least
60 s (§4.4.5); the probes of RFC 5227 §1.1 (PROBE_WAIT 1 s, PROBE_NUM 3 at PROBE_MIN 1 s –
PROBE_MAX 2 s, ANNOUNCE_WAIT 2 s, ANNOUNCE_NUM 2 at ANNOUNCE_INTERVAL 2 s; after
MAX_CONFLICTS 10 conflicts, RATE_LIMIT_INTERVAL 60 s). Lease times count from when the
DHCPREQUEST that earned the DHCPACK was sent (§4.4.1). A message that does not decode, is
not a BOOTREPLY for our xid and hardware address, or makes no sense in the state, is
ignored (an :class:`Ignored` action says why); nothing raises for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..errors import DecodeError, LocalProtocolError
from ..ip.address import ANY, BROADCAST
from ..randomness import RandomSource
from .message import (
    BOOTREPLY,
    BOOTREQUEST,
    DHCPACK,
    DHCPDECLINE,
    DHCPDISCOVER,
    DHCPNAK,
    DHCPOFFER,
    DHCPRELEASE,
    DHCPREQUEST,
    FLAG_BROADCAST,
    OPT_CLIENT_ID,
    OPT_DNS_SERVER,
    OPT_DOMAIN_NAME,
    OPT_HOST_NAME,
    OPT_LEASE_TIME,
    OPT_PARAMETER_LIST,
    OPT_REBINDING_TIME,
    OPT_RENEWAL_TIME,
    OPT_REQUESTED_IP,
    OPT_ROUTER,
    OPT_SERVER_ID,
    OPT_SUBNET_MASK,
    DhcpMessage,
    Option,
    address_option,
    mask_to_prefix,
    type_option,
)

# RFC 5227 §1.1's constants (seconds).
PROBE_WAIT = 1.0
PROBE_NUM = 3
PROBE_MIN = 1.0
PROBE_MAX = 2.0
ANNOUNCE_WAIT = 2.0
ANNOUNCE_NUM = 2
ANNOUNCE_INTERVAL = 2.0
MAX_CONFLICTS = 10
RATE_LIMIT_INTERVAL = 60.0
DECLINE_WAIT = 10.0  # RFC 2131 §3.1 step 5: at least ten seconds before restarting


class State(Enum):
    INIT = "INIT"
    SELECTING = "SELECTING"
    REQUESTING = "REQUESTING"
    PROBING = "PROBING"
    BOUND = "BOUND"
    RENEWING = "RENEWING"
    REBINDING = "REBINDING"
    RELEASED = "RELEASED"


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """How the client behaves. ``initial_delay`` is RFC 2131 §4.4.1's random wait before
    the first DHCPDISCOVER ("SHOULD wait a random time between one and ten seconds");
    ``probe`` turns RFC 5227's check off (RFC 2131 says SHOULD) for tests that need speed;
    ``broadcast_flag`` asks servers to broadcast their replies (for a client that cannot
    receive unicast before it has an address, §4.1)."""

    chaddr: str
    hostname: str | None = None
    initial_delay: tuple[float, float] = (1.0, 10.0)
    broadcast_flag: bool = False
    probe: bool = True
    max_request_tries: int = 4
    parameters: tuple[int, ...] = (
        OPT_SUBNET_MASK,
        OPT_ROUTER,
        OPT_DNS_SERVER,
        OPT_DOMAIN_NAME,
        OPT_LEASE_TIME,
        OPT_RENEWAL_TIME,
        OPT_REBINDING_TIME,
    )


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease as the client holds it; times are absolute (the caller's clock)."""

    address: str
    prefix_len: int
    server_id: str
    routers: tuple[str, ...]
    dns_servers: tuple[str, ...]
    domain_name: str | None
    lease_time: int
    start: float  # when the DHCPREQUEST that earned it was sent
    t1: float
    t2: float
    expires: float
    ack: DhcpMessage = field(compare=False, repr=False)


# -- actions ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Transmit:
    """Send ``message`` from ``src``:68 to ``dst``:67 (broadcast: 255.255.255.255 from
    0.0.0.0, or from our address in REBINDING; unicast to the server while RENEWING)."""

    message: DhcpMessage
    src: str
    dst: str


@dataclass(frozen=True, slots=True)
class ArpProbe:
    """RFC 5227 §2.1.1: an ARP request for ``target`` with sender address 0.0.0.0."""

    target: str
    number: int


@dataclass(frozen=True, slots=True)
class ArpAnnounce:
    """RFC 5227 §2.3: an ARP request with sender and target both ``address``."""

    address: str
    number: int


@dataclass(frozen=True, slots=True)
class Configure:
    """Put the lease on the interface: address/prefix, default route, DNS servers."""

    lease: Lease


@dataclass(frozen=True, slots=True)
class Deconfigure:
    """Take the lease's address, route and DNS servers off the interface."""

    lease: Lease
    reason: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """RFC 5227 §2.1.1: the probed address is in use (``mac`` answered or probed for it)."""

    address: str
    mac: str
    how: str


@dataclass(frozen=True, slots=True)
class StateChange:
    old: State
    new: State
    why: str


@dataclass(frozen=True, slots=True)
class Ignored:
    why: str


Action = (
    Transmit | ArpProbe | ArpAnnounce | Configure | Deconfigure | Conflict | StateChange | Ignored
)


class DhcpClient:
    """One interface's DHCP client."""

    def __init__(self, config: ClientConfig, random: RandomSource) -> None:
        self.config = config
        self.random = random
        self.state = State.INIT
        self.lease: Lease | None = None
        self.xid = 0
        self.conflicts = 0
        self._deadline: float | None = None  # the one timer: what it does depends on state
        self._tries = 0
        self._started = 0.0  # when this acquisition began ('secs')
        self._secs = 0
        self._sent_at = 0.0  # when the last DHCPREQUEST was sent
        self._offer: DhcpMessage | None = None
        self._ack: DhcpMessage | None = None
        self._probes = 0
        self._announces = 0
        self._out: list[Action] = []

    # -- the caller's interface -------------------------------------------------------
    def start(self, now: float) -> list[Action]:
        """Begin in INIT: the first DHCPDISCOVER after the initial delay."""
        lo, hi = self.config.initial_delay
        self._deadline = now + lo + (hi - lo) * self.random.random()
        return []

    def next_deadline(self) -> float | None:
        return self._deadline

    def settled_at(self) -> float | None:
        """When the last RFC 5227 announcement will have gone out, if some are still due
        in BOUND; None otherwise (a caller may wait for the joining to be over)."""
        if self.state is not State.BOUND or not self.config.probe or self._deadline is None:
            return None
        left = ANNOUNCE_NUM - self._announces
        return self._deadline + (left - 1) * ANNOUNCE_INTERVAL if left > 0 else None

    def on_timer(self, now: float) -> list[Action]:
        if self._deadline is None or now < self._deadline:
            return []
        self._deadline = None
        s = self.state
        if s is State.INIT:
            self._discover(now)
        elif s is State.SELECTING:
            self._retransmit(now, self._discover_message(now))
        elif s is State.REQUESTING:
            if self._tries >= self.config.max_request_tries:
                self._to(State.INIT, "no DHCPACK after the retransmissions: start again")
                self._discover(now)
            else:
                assert self._offer is not None
                self._retransmit(now, self._selecting_request(self._offer))
        elif s is State.PROBING:
            self._probe_step(now)
        elif s is State.BOUND:
            self._bound_timer(now)
        elif s in (State.RENEWING, State.REBINDING):
            self._renew_timer(now)
        return self._flush()

    def on_message(self, data: bytes, now: float) -> list[Action]:
        """A UDP payload that arrived on port 68."""
        try:
            msg = DhcpMessage.decode(data)
        except DecodeError as e:
            return [Ignored(f"malformed: {e}")]
        if msg.op != BOOTREPLY or msg.xid != self.xid or msg.chaddr != self.config.chaddr:
            return [Ignored(f"not for us (xid 0x{msg.xid:08x}, chaddr {msg.chaddr})")]
        kind, s = msg.message_type, self.state
        if kind == DHCPOFFER and s is State.SELECTING:
            self._select(msg, now)
        elif kind == DHCPACK and s is State.REQUESTING:
            self._acked(msg, now)
        elif kind == DHCPACK and s in (State.RENEWING, State.REBINDING):
            self._extended(msg, now)
        elif kind == DHCPNAK and s in (State.REQUESTING, State.RENEWING, State.REBINDING):
            self._nak(msg, now)
        else:
            return [Ignored(f"a {msg.type_name} in {s.value}")]
        return self._flush()

    def on_arp(
        self, op: int, sender_mac: str, sender_ip: str, target_ip: str, now: float
    ) -> list[Action]:
        """An ARP packet seen on the interface (RFC 5227 §2.1.1 conflict rules)."""
        if self.state is not State.PROBING or self._ack is None:
            return []
        target = self._ack.yiaddr
        if sender_mac == self.config.chaddr:
            return []
        if sender_ip == target:
            how = "answered our probe" if op == 2 else "uses it"
        elif sender_ip == ANY and target_ip == target:
            how = "is probing for it too"
        else:
            return []
        self._conflict(Conflict(target, sender_mac, how), now)
        return self._flush()

    def release(self, now: float) -> list[Action]:
        """Give the lease back (§4.4.6): DHCPRELEASE unicast to the server."""
        lease = self.lease
        if lease is None or self.state not in (State.BOUND, State.RENEWING, State.REBINDING):
            raise LocalProtocolError(f"no lease to release (state {self.state.value})")
        self.xid = self._new_xid()
        msg = self._message(
            DHCPRELEASE,
            [address_option(OPT_SERVER_ID, lease.server_id)],
            ciaddr=lease.address,
            broadcast=False,
        )
        self._out.append(Transmit(msg, lease.address, lease.server_id))
        self._out.append(Deconfigure(lease, "released"))
        self.lease = None
        self._deadline = None
        self._to(State.RELEASED, "the lease was given back (DHCPRELEASE)")
        return self._flush()

    # -- transitions ------------------------------------------------------------------
    def _flush(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    def _to(self, new: State, why: str) -> None:
        if new is not self.state:
            self._out.append(StateChange(self.state, new, why))
            self.state = new

    def _new_xid(self) -> int:
        return self.random.randint(0, 0xFFFFFFFF)

    def _backoff(self, now: float) -> None:
        """§4.1: 4 s before the first retransmission, doubling to 64 s, ±1 s."""
        base = min(4 * 2 ** (self._tries - 1), 64)
        self._deadline = now + base + (2 * self.random.random() - 1)

    def _discover(self, now: float) -> None:
        self.xid = self._new_xid()
        self._tries = 0
        self._started = now
        self._offer = self._ack = None
        self._to(State.SELECTING, "DHCPDISCOVER broadcast")
        self._retransmit(now, self._discover_message(now))

    def _retransmit(self, now: float, msg: DhcpMessage) -> None:
        self._tries += 1
        if msg.message_type == DHCPREQUEST:
            self._sent_at = now
        self._out.append(Transmit(msg, ANY, BROADCAST))
        self._backoff(now)

    def _discover_message(self, now: float) -> DhcpMessage:
        self._secs = min(int(now - self._started), 0xFFFF)
        opts: list[Option] = []
        if self.lease is not None:
            opts.append(address_option(OPT_REQUESTED_IP, self.lease.address))
        return self._message(DHCPDISCOVER, opts, secs=self._secs)

    def _selecting_request(self, offer: DhcpMessage) -> DhcpMessage:
        assert offer.server_id is not None
        return self._message(
            DHCPREQUEST,
            [
                address_option(OPT_REQUESTED_IP, offer.yiaddr),
                address_option(OPT_SERVER_ID, offer.server_id),
            ],
            secs=self._secs,  # §4.4.1: the same 'secs' as the DHCPDISCOVER
        )

    def _select(self, offer: DhcpMessage, now: float) -> None:
        if offer.server_id is None or offer.yiaddr in (ANY, BROADCAST):
            self._out.append(Ignored("a DHCPOFFER without server identifier or address"))
            return
        self._offer = offer
        self._tries = 0
        self._to(State.REQUESTING, f"DHCPOFFER of {offer.yiaddr} from {offer.server_id}")
        self._retransmit(now, self._selecting_request(offer))

    def _make_lease(self, ack: DhcpMessage, start: float) -> Lease | None:
        lease_time = ack.lease_time
        mask = ack.subnet_mask
        server = ack.server_id or (self._offer.server_id if self._offer else None)
        if lease_time is None or server is None or ack.yiaddr in (ANY, BROADCAST):
            return None
        try:
            plen = mask_to_prefix(mask) if mask is not None else _classful(ack.yiaddr)
        except ValueError:
            return None
        t1 = ack.renewal_time if ack.renewal_time is not None else lease_time // 2
        t2 = ack.rebinding_time if ack.rebinding_time is not None else lease_time * 7 // 8
        if not t1 < t2 <= lease_time:  # §4.4.5 allows nonsense to be replaced by defaults
            t1, t2 = lease_time // 2, lease_time * 7 // 8
        return Lease(
            ack.yiaddr,
            plen,
            server,
            ack.routers,
            ack.dns_servers,
            ack.domain_name,
            lease_time,
            start,
            start + t1,
            start + t2,
            start + lease_time,
            ack,
        )

    def _acked(self, ack: DhcpMessage, now: float) -> None:
        lease = self._make_lease(ack, self._sent_at)
        if lease is None:
            self._out.append(Ignored("a DHCPACK without lease time, server or address"))
            return
        self._ack = ack
        self.lease = lease
        if not self.config.probe:
            self._use(now)
            return
        self._probes = 0
        self._to(State.PROBING, f"DHCPACK of {ack.yiaddr}: check it is free (RFC 5227)")
        self._deadline = now + PROBE_WAIT * self.random.random()

    def _probe_step(self, now: float) -> None:
        assert self._ack is not None
        if self._probes < PROBE_NUM:
            self._probes += 1
            self._out.append(ArpProbe(self._ack.yiaddr, self._probes))
            if self._probes < PROBE_NUM:
                gap = PROBE_MIN + (PROBE_MAX - PROBE_MIN) * self.random.random()
                self._deadline = now + gap
            else:
                self._deadline = now + ANNOUNCE_WAIT
            return
        self._use(now)

    def _use(self, now: float) -> None:
        lease = self.lease
        assert lease is not None
        self._out.append(Configure(lease))
        self.conflicts = 0
        self._to(State.BOUND, f"{lease.address} configured")
        self._announces = 0
        if self.config.probe:
            self._announce(now)
        else:
            self._deadline = lease.t1

    def _announce(self, now: float) -> None:
        assert self.lease is not None
        self._announces += 1
        self._out.append(ArpAnnounce(self.lease.address, self._announces))
        if self._announces < ANNOUNCE_NUM:
            self._deadline = now + ANNOUNCE_INTERVAL
        else:
            self._deadline = self.lease.t1

    def _bound_timer(self, now: float) -> None:
        lease = self.lease
        assert lease is not None
        if self.config.probe and self._announces < ANNOUNCE_NUM and now < lease.t1:
            self._announce(now)
            return
        self.xid = self._new_xid()
        self._to(State.RENEWING, f"T1: renew with {lease.server_id}")
        self._renew_send(now)

    def _renew_send(self, now: float) -> None:
        lease = self.lease
        assert lease is not None
        renewing = self.state is State.RENEWING
        msg = self._message(DHCPREQUEST, [], ciaddr=lease.address, broadcast=False)
        self._sent_at = now
        self._out.append(Transmit(msg, lease.address, lease.server_id if renewing else BROADCAST))
        until = lease.t2 if renewing else lease.expires
        self._deadline = min(now + max((until - now) / 2, 60.0), until)

    def _renew_timer(self, now: float) -> None:
        lease = self.lease
        assert lease is not None
        if now >= lease.expires:
            self._lost(now, "the lease expired")
            return
        if self.state is State.RENEWING and now >= lease.t2:
            self._to(State.REBINDING, "T2: no answer from the server, ask any server")
        self._renew_send(now)

    def _extended(self, ack: DhcpMessage, now: float) -> None:
        lease = self.lease
        assert lease is not None
        new = self._make_lease(ack, self._sent_at)
        if new is None or new.address != lease.address:
            self._out.append(Ignored("a DHCPACK that does not extend our lease"))
            return
        self.lease = new
        self._announces = ANNOUNCE_NUM
        self._to(State.BOUND, f"DHCPACK: lease extended to {new.expires:g}")
        self._deadline = new.t1

    def _nak(self, msg: DhcpMessage, now: float) -> None:
        if self.state is not State.REQUESTING:
            self._lost(now, f"DHCPNAK from {msg.server_id}")
            return
        self.lease = None
        self._to(State.INIT, f"DHCPNAK from {msg.server_id}: start again")
        self._discover(now)

    def _lost(self, now: float, why: str) -> None:
        lease = self.lease
        assert lease is not None
        self._out.append(Deconfigure(lease, why))
        self.lease = None
        self._to(State.INIT, why)
        self._discover(now)

    def _conflict(self, conflict: Conflict, now: float) -> None:
        lease = self.lease
        assert lease is not None and self._ack is not None
        self._out.append(conflict)
        self.conflicts += 1
        self.xid = self._new_xid()
        decline = self._message(
            DHCPDECLINE,
            [
                address_option(OPT_REQUESTED_IP, conflict.address),
                address_option(OPT_SERVER_ID, lease.server_id),
            ],
            broadcast=False,
        )
        self._out.append(Transmit(decline, ANY, BROADCAST))  # §4.4.4: broadcast
        self.lease = None
        wait = RATE_LIMIT_INTERVAL if self.conflicts >= MAX_CONFLICTS else DECLINE_WAIT
        self._to(State.INIT, f"{conflict.address} is in use: DHCPDECLINE, again in {wait:g} s")
        self._deadline = now + wait

    def _message(
        self,
        kind: int,
        extra: list[Option],
        *,
        ciaddr: str = ANY,
        secs: int = 0,
        broadcast: bool | None = None,
    ) -> DhcpMessage:
        c = self.config
        mac = bytes.fromhex(c.chaddr.replace(":", ""))
        options: list[Option] = [type_option(kind), (OPT_CLIENT_ID, b"\x01" + mac), *extra]
        if kind in (DHCPDISCOVER, DHCPREQUEST):
            if c.hostname:
                options.append((OPT_HOST_NAME, c.hostname.encode("ascii", "replace")))
            options.append((OPT_PARAMETER_LIST, bytes(c.parameters)))
        flag = c.broadcast_flag if broadcast is None else broadcast
        return DhcpMessage(
            BOOTREQUEST,
            self.xid,
            c.chaddr,
            tuple(options),
            secs=secs,
            flags=FLAG_BROADCAST if flag else 0,
            ciaddr=ciaddr,
        )


def _classful(address: str) -> int:
    """The natural mask when a server gives none (RFC 2131 §4.3.1 lets it omit it)."""
    first = int(address.split(".", 1)[0])
    return 8 if first < 128 else 16 if first < 192 else 24


__all__ = [
    "Action",
    "ArpAnnounce",
    "ArpProbe",
    "ClientConfig",
    "Configure",
    "Conflict",
    "Deconfigure",
    "DhcpClient",
    "Ignored",
    "Lease",
    "State",
    "StateChange",
    "Transmit",
]
