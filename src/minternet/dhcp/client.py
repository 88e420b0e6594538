"""A DHCP client (RFC 2131 §4.4, figure 5) with RFC 5227's address conflict detection,
sans-IO: messages, ARP packets seen and ``now`` in; :data:`Action` objects out;
:meth:`DhcpClient.next_deadline` / :meth:`DhcpClient.on_timer` for its timers.

States and what moves them (the RFC's names; ``PROBING`` is RFC 5227 §2.1's check of the
offered address, between the DHCPACK and using it)::

  INIT ──(initial delay)──▶ send DHCPDISCOVER ──▶ SELECTING
  INIT-REBOOT ──(initial delay)──▶ DHCPREQUEST broadcast, option 50, no option 54,
      ciaddr 0 ──▶ REBOOTING                             (a previous, unexpired lease)
  REBOOTING ──DHCPACK──▶ ARP probes ──▶ PROBING   ──DHCPNAK / no answer──▶ INIT
  SELECTING ──DHCPOFFER──▶ send DHCPREQUEST (broadcast, option 54) ──▶ REQUESTING
  REQUESTING ──DHCPACK──▶ ARP probes ──▶ PROBING   ──DHCPNAK / no answer──▶ INIT
  PROBING ──ARP from the address / a rival probe──▶ DHCPDECLINE, INIT after 10 s
  PROBING ──ANNOUNCE_WAIT, no conflict──▶ configure, ARP announcements ──▶ BOUND
  BOUND ──T1──▶ DHCPREQUEST unicast to the server, ciaddr ──▶ RENEWING
  RENEWING ──T2──▶ DHCPREQUEST broadcast, ciaddr ──▶ REBINDING
  RENEWING/REBINDING ──DHCPACK──▶ BOUND (new T1, T2, expiry)  ──DHCPNAK──▶ INIT
  REBINDING ──lease expired──▶ deconfigure ──▶ INIT
  BOUND/RENEWING/REBINDING ──ARP from another MAC claiming our address──▶ one ARP
      announcement (defend); a second within DEFEND_INTERVAL ──▶ deconfigure,
      DHCPDECLINE, INIT after 10 s (RFC 5227 §2.4)
  BOUND/RENEWING/REBINDING ──release()──▶ DHCPRELEASE unicast ──▶ RELEASED

Timers (all drawn from the injected :class:`~minternet.randomness.RandomSource`, never the
OS): DISCOVER and REQUEST retransmissions after 4, 8, 16, 32, 64 s, each ±1 s (§4.1), a
DHCPREQUEST (SELECTING's or INIT-REBOOT's) sent :attr:`ClientConfig.max_request_tries`
times, 4 by default: the "four times, for a total delay of 60 seconds, before restarting
the initialization procedure" of §3.1 step 5, after which it "reverts to INIT state".
INIT-REBOOT's DHCPREQUEST has the same limit (§3.2's MAY of keeping the unexpired lease
when nobody answers is not taken: the client goes back to INIT and discovers afresh, as
dhclient does after its ``reboot`` timeout);
RENEWING/REBINDING retransmissions after half the time left to T2 / to expiry, at least
60 s (§4.4.5); the probes of RFC 5227 §1.1 (PROBE_WAIT 1 s, PROBE_NUM 3 at PROBE_MIN 1 s –
PROBE_MAX 2 s, ANNOUNCE_WAIT 2 s, ANNOUNCE_NUM 2 at ANNOUNCE_INTERVAL 2 s; after
MAX_CONFLICTS 10 conflicts, RATE_LIMIT_INTERVAL 60 s; DEFEND_INTERVAL 10 s). Lease times
count from when the DHCPREQUEST that earned the DHCPACK was sent (§4.4.1). A message that
does not decode, is not a BOOTREPLY for our xid and hardware address, or makes no sense in
the state, is ignored (an :class:`Ignored` action says why); nothing raises for bad input.
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
DEFEND_INTERVAL = 10.0
DECLINE_WAIT = 10.0  # RFC 2131 §3.1 step 5: at least ten seconds before restarting


class State(Enum):
    INIT = "INIT"
    INIT_REBOOT = "INIT-REBOOT"
    REBOOTING = "REBOOTING"
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
class Defend:
    """RFC 5227 §2.4 (b): ``mac`` claimed our ``address``; one ARP announcement of it (as
    :class:`ArpAnnounce`) answers the claim."""

    address: str
    mac: str


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
    """RFC 5227 §2.1.1: the probed address is in use (``mac`` answered or probed for it);
    or §2.4: ``mac`` claimed our address again within DEFEND_INTERVAL of the last claim."""

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
    Transmit
    | ArpProbe
    | ArpAnnounce
    | Defend
    | Configure
    | Deconfigure
    | Conflict
    | StateChange
    | Ignored
)


class DhcpClient:
    """One interface's DHCP client. With ``previous_lease`` (one it held before the host
    went down or its link did) it begins in INIT-REBOOT (RFC 2131 §4.4.2, figure 5) and
    asks for that address again, if the lease has not expired by :meth:`start`."""

    def __init__(
        self, config: ClientConfig, random: RandomSource, previous_lease: Lease | None = None
    ) -> None:
        self.config = config
        self.random = random
        self.state = State.INIT if previous_lease is None else State.INIT_REBOOT
        self.previous_lease = previous_lease
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
        self._defended_at: float | None = None  # RFC 5227 §2.4: the last conflict defended
        self._out: list[Action] = []

    # -- the caller's interface -------------------------------------------------------
    def start(self, now: float) -> list[Action]:
        """Begin: the first DHCPDISCOVER (INIT) or INIT-REBOOT's DHCPREQUEST after the
        initial delay (§4.4.1: desynchronize clients started together). A previous lease
        that has expired by ``now`` is no use: INIT (§4.4.2 is for a lease still held)."""
        prev = self.previous_lease
        if prev is not None and prev.expires <= now:
            self.previous_lease = None
            self._to(State.INIT, f"the previous lease of {prev.address} has expired")
        lo, hi = self.config.initial_delay
        self._deadline = now + lo + (hi - lo) * self.random.random()
        return self._flush()

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
        elif s is State.INIT_REBOOT:
            self._reboot(now)
        elif s is State.SELECTING:
            self._retransmit(now, self._discover_message(now))
        elif s in (State.REQUESTING, State.REBOOTING):
            self._request_timer(now)
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
        elif kind == DHCPACK and s in (State.REQUESTING, State.REBOOTING):
            self._acked(msg, now)
        elif kind == DHCPACK and s in (State.RENEWING, State.REBINDING):
            self._extended(msg, now)
        elif kind == DHCPNAK and s in _ASKING:
            self._nak(msg, now)
        else:
            return [Ignored(f"a {msg.type_name} in {s.value}")]
        return self._flush()

    def on_arp(
        self, op: int, sender_mac: str, sender_ip: str, target_ip: str, now: float
    ) -> list[Action]:
        """An ARP packet seen on the interface: RFC 5227 §2.1.1's conflict rules while
        probing, §2.4's once the address is in use."""
        if sender_mac == self.config.chaddr:
            return []
        lease = self.lease
        if self.state in _IN_USE and lease is not None and sender_ip == lease.address:
            self._claimed(lease, sender_mac, op, now)
            return self._flush()
        if self.state is not State.PROBING or self._ack is None:
            return []
        target = self._ack.yiaddr
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

    def _begin(self, now: float) -> None:
        """A new exchange: a new xid, no retransmissions yet, 'secs' counted from now."""
        self.xid = self._new_xid()
        self._tries = 0
        self._started = now
        self._offer = self._ack = None

    def _discover(self, now: float) -> None:
        self._begin(now)
        self._to(State.SELECTING, "DHCPDISCOVER broadcast")
        self._retransmit(now, self._discover_message(now))

    def _reboot(self, now: float) -> None:
        """§4.4.2: INIT-REBOOT's DHCPREQUEST for the previous address, broadcast."""
        prev = self.previous_lease
        assert prev is not None
        self._begin(now)
        self._to(State.REBOOTING, f"DHCPREQUEST for {prev.address} (INIT-REBOOT) broadcast")
        self._retransmit(now, self._reboot_request(now))

    def _request_timer(self, now: float) -> None:
        """No answer to a DHCPREQUEST (REQUESTING or REBOOTING): send it again after the
        §4.1 backoff, or after ``max_request_tries`` sends go back to INIT (§3.1 step 5,
        and §3.2 for INIT-REBOOT)."""
        if self._tries >= self.config.max_request_tries:
            self._to(State.INIT, "no DHCPACK after the retransmissions: start again")
            self._discover(now)
        elif self.state is State.REBOOTING:
            self._retransmit(now, self._reboot_request(now))
        else:
            assert self._offer is not None
            self._retransmit(now, self._selecting_request(self._offer))

    def _retransmit(self, now: float, msg: DhcpMessage) -> None:
        self._tries += 1
        if msg.message_type == DHCPREQUEST:
            self._sent_at = now
        self._out.append(Transmit(msg, ANY, BROADCAST))
        self._backoff(now)

    def _discover_message(self, now: float) -> DhcpMessage:
        self._secs = min(int(now - self._started), 0xFFFF)
        opts: list[Option] = []
        hint = self.lease or self.previous_lease  # §4.4.1: the client MAY suggest one
        if hint is not None:
            opts.append(address_option(OPT_REQUESTED_IP, hint.address))
        return self._message(DHCPDISCOVER, opts, secs=self._secs)

    def _reboot_request(self, now: float) -> DhcpMessage:
        """§4.4.2 and the table of §4.4.1: option 50 the known address, no server
        identifier, ciaddr 0."""
        assert self.previous_lease is not None
        self._secs = min(int(now - self._started), 0xFFFF)
        requested = address_option(OPT_REQUESTED_IP, self.previous_lease.address)
        return self._message(DHCPREQUEST, [requested], secs=self._secs)

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
        self.previous_lease = None
        self._defended_at = None
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
        """§3.1 step 5, §3.2 (a NAK of INIT-REBOOT: the remembered address cannot be
        reused, discover afresh), §4.4.5 (in RENEWING/REBINDING: stop using it)."""
        if self.state not in (State.REQUESTING, State.REBOOTING):
            self._lost(now, f"DHCPNAK from {msg.server_id}")
            return
        self.lease = self.previous_lease = None
        self._to(State.INIT, f"DHCPNAK from {msg.server_id}: start again")
        self._discover(now)

    def _lost(self, now: float, why: str) -> None:
        lease = self.lease
        assert lease is not None
        self._out.append(Deconfigure(lease, why))
        self.lease = None
        self._to(State.INIT, why)
        self._discover(now)

    def _claimed(self, lease: Lease, mac: str, op: int, now: float) -> None:
        """RFC 5227 §2.4: an ARP packet from ``mac`` with our address as sender. If no
        conflict was seen in the last DEFEND_INTERVAL, policy (b): record the time and
        broadcast one announcement. Otherwise the host "MUST immediately cease using this
        address and signal an error to the configuring agent as described above", that
        is §2.1.1's "indicate to the configuring agent (human operator, DHCP server,
        etc.) that the proposed address is not acceptable": for a DHCP lease the
        DHCPDECLINE, RFC 2131's one message for "network address is already in use"
        (§3.1 table, §4.4.1), after which §3.1 step 5's ten seconds pass before INIT."""
        last = self._defended_at
        if last is None or now - last >= DEFEND_INTERVAL:
            self._defended_at = now
            self._out.append(Defend(lease.address, mac))
            return
        how = "request" if op == 1 else "reply"
        why = f"claimed it again ({how}) {now - last:.3g} s after the last claim"
        self._conflict(Conflict(lease.address, mac, why), now, in_use=True)

    def _conflict(self, conflict: Conflict, now: float, *, in_use: bool = False) -> None:
        """The address is someone else's: DHCPDECLINE it (RFC 2131 §3.1 step 5, §4.4.1),
        after taking it off the interface if it was ``in_use`` (RFC 5227 §2.4)."""
        lease = self.lease
        assert lease is not None
        self.previous_lease = None
        self._out.append(conflict)
        if in_use:
            self._out.append(Deconfigure(lease, f"{conflict.mac} {conflict.how}"))
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


_ASKING = (State.REQUESTING, State.REBOOTING, State.RENEWING, State.REBINDING)
_IN_USE = (State.BOUND, State.RENEWING, State.REBINDING)  # the address is configured


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
    "Defend",
    "DhcpClient",
    "Ignored",
    "Lease",
    "State",
    "StateChange",
    "Transmit",
]
