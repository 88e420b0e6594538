"""The DHCP server and client machines (RFC 2131 §4.3, §4.4; RFC 5227), driven in virtual
time with nothing between them: the timers T1, T2 and expiry, the backoff, DECLINE after a
conflicting ARP, RELEASE, NAK, and where every reply goes (§4.1)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from minternet.dhcp.client import (
    ANNOUNCE_WAIT,
    DECLINE_WAIT,
    PROBE_NUM,
    Action,
    ArpAnnounce,
    ArpProbe,
    ClientConfig,
    Configure,
    Conflict,
    Deconfigure,
    DhcpClient,
    Lease,
    State,
    Transmit,
)
from minternet.dhcp.message import (
    BOOTREQUEST,
    DHCPACK,
    DHCPDECLINE,
    DHCPDISCOVER,
    DHCPINFORM,
    DHCPNAK,
    DHCPOFFER,
    DHCPRELEASE,
    DHCPREQUEST,
    FLAG_BROADCAST,
    OPT_REQUESTED_IP,
    OPT_SERVER_ID,
    DhcpMessage,
    address_option,
    type_option,
)
from minternet.dhcp.server import DhcpServer, ServerConfig
from minternet.errors import LocalProtocolError
from minternet.randomness import SeededRandom

MAC = "02:00:00:00:00:01"
OTHER_MAC = "02:00:00:00:00:99"
CONFIG = ServerConfig(
    "192.168.1.1",
    "192.168.1.10",
    "192.168.1.20",
    24,
    ("192.168.1.1",),
    ("198.51.100.53",),
    "home.arpa",
    lease_time=3600,
)


class Pair:
    """A client and a server joined in memory; the client's clock is advanced by hand."""

    def __init__(
        self,
        *,
        probe: bool = True,
        broadcast: bool = False,
        seed: int = 1,
        previous: Lease | None = None,
        server: DhcpServer | None = None,
        now: float = 0.0,
    ) -> None:
        self.server = server or DhcpServer(CONFIG)
        cfg = ClientConfig(MAC, "laptop", broadcast_flag=broadcast, probe=probe)
        self.client = DhcpClient(cfg, SeededRandom(seed), previous_lease=previous)
        self.now = now
        self.sent: list[Transmit] = []
        self.sent_at: list[float] = []
        self.replies: list[tuple[DhcpMessage, str, str | None]] = []
        self.actions: list[Action] = []
        self.server_up = True

    def feed(self, actions: list[Action]) -> None:
        for a in actions:
            self.actions.append(a)
            if isinstance(a, Transmit):
                self.sent.append(a)
                self.sent_at.append(self.now)
                if not self.server_up:
                    continue
                r = self.server.handle(a.message.encode(), self.now)
                for reply in r.replies:
                    self.replies.append((reply.message, reply.dst, reply.link_mac))
                    self.feed(self.client.on_message(reply.message.encode(), self.now))

    def run_until(self, t: float) -> None:
        while (d := self.client.next_deadline()) is not None and d <= t:
            self.now = d
            self.feed(self.client.on_timer(d))
        self.now = t

    def start(self) -> None:
        self.feed(self.client.start(self.now))

    def types(self) -> list[int]:
        return [t.message.message_type for t in self.sent]


def bound_pair(*, probe: bool = True, broadcast: bool = False) -> Pair:
    p = Pair(probe=probe, broadcast=broadcast)
    p.start()
    p.run_until(30.0)
    assert p.client.state is State.BOUND
    return p


def test_discover_offer_request_ack_probe_announce_bound() -> None:
    p = bound_pair()
    assert p.types() == [DHCPDISCOVER, DHCPREQUEST]
    assert [m.message_type for m, _, _ in p.replies] == [DHCPOFFER, DHCPACK]
    # RFC 2131 §4.1: no broadcast flag, no ciaddr → unicast to yiaddr at chaddr, no ARP.
    assert all(dst == "192.168.1.10" and mac == MAC for _, dst, mac in p.replies)
    discover, request = p.sent
    assert (discover.src, discover.dst) == ("0.0.0.0", "255.255.255.255")
    assert request.message.xid == discover.message.xid  # the same exchange
    assert request.message.server_id == "192.168.1.1"
    assert request.message.requested_ip == "192.168.1.10"
    assert request.message.secs == discover.message.secs  # §4.4.1
    probes = [a for a in p.actions if isinstance(a, ArpProbe)]
    announces = [a for a in p.actions if isinstance(a, ArpAnnounce)]
    assert [a.number for a in probes] == [1, 2, 3] and len(announces) == 2
    lease = p.client.lease
    assert lease is not None and lease.address == "192.168.1.10" and lease.prefix_len == 24
    assert lease.routers == ("192.168.1.1",) and lease.dns_servers == ("198.51.100.53",)
    assert lease.domain_name == "home.arpa" and lease.lease_time == 3600
    assert (lease.t1 - lease.start, lease.t2 - lease.start) == (1800, 3150)
    # Configured only after the probes and ANNOUNCE_WAIT: RFC 5227 §2.1.1.
    configure = next(i for i, a in enumerate(p.actions) if isinstance(a, Configure))
    last_probe = max(i for i, a in enumerate(p.actions) if isinstance(a, ArpProbe))
    assert configure > last_probe


def test_broadcast_flag_makes_the_server_broadcast() -> None:
    p = bound_pair(broadcast=True)
    assert all(m.flags & FLAG_BROADCAST for m, _, _ in p.replies)
    assert all(dst == "255.255.255.255" and mac == "ff:ff:ff:ff:ff:ff" for _, dst, mac in p.replies)


def test_renewing_at_t1_unicast_with_ciaddr_then_bound_again() -> None:
    p = bound_pair()
    lease = p.client.lease
    assert lease is not None
    p.run_until(lease.t1 + 0.001)
    renew = p.sent[-1]
    assert renew.message.message_type == DHCPREQUEST
    assert (renew.src, renew.dst) == ("192.168.1.10", "192.168.1.1")  # unicast (§4.4.5)
    assert renew.message.ciaddr == "192.168.1.10"
    assert renew.message.server_id is None and renew.message.requested_ip is None  # table 5
    assert p.replies[-1][1] == "192.168.1.10" and p.replies[-1][2] is None  # to ciaddr
    assert p.client.state is State.BOUND
    new = p.client.lease
    assert new is not None and new.expires == pytest.approx(lease.t1 + 3600, abs=0.01)


def test_rebinding_at_t2_broadcast_then_expiry_deconfigures() -> None:
    p = bound_pair()
    lease = p.client.lease
    assert lease is not None
    p.server_up = False  # the server is gone
    p.run_until(lease.t1 + 1)
    assert p.client.state is State.RENEWING
    p.run_until(lease.t2 + 0.001)
    assert p.client.state is State.REBINDING
    rebind = p.sent[-1]
    assert rebind.dst == "255.255.255.255" and rebind.message.ciaddr == "192.168.1.10"
    # Retransmissions: half the time left to T2 / expiry, at least 60 s (§4.4.5).
    p.run_until(lease.expires - 0.001)
    times = [t for t, m in zip(p.sent_at, p.sent, strict=True) if t > lease.t1 - 0.01]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) >= 5 and all(
        g >= 59.999 or abs(b - lease.t2) < 1e-6 or abs(b - lease.expires) < 1e-6
        for g, b in zip(gaps, times[1:], strict=True)
    )
    p.run_until(lease.expires + 0.001)
    gone = [a for a in p.actions if isinstance(a, Deconfigure)]
    assert gone and gone[-1].reason == "the lease expired"
    assert p.client.state is State.SELECTING  # starts again: a new DHCPDISCOVER
    assert p.sent[-1].message.message_type == DHCPDISCOVER


def test_conflict_declines_waits_ten_seconds_and_gets_another_address() -> None:
    p = Pair()
    p.start()
    while p.client.state is not State.PROBING:
        d = p.client.next_deadline()
        assert d is not None
        p.run_until(d)
    # Someone answers our probe for .10 (RFC 5227 §2.1.1).
    t_conflict = p.now
    p.feed(p.client.on_arp(2, OTHER_MAC, "192.168.1.10", "0.0.0.0", p.now))
    conflict = next(a for a in p.actions if isinstance(a, Conflict))
    assert conflict.address == "192.168.1.10" and conflict.mac == OTHER_MAC
    decline = p.sent[-1]
    assert decline.message.message_type == DHCPDECLINE and decline.dst == "255.255.255.255"
    assert decline.message.requested_ip == "192.168.1.10"
    assert decline.message.server_id == "192.168.1.1" and decline.message.ciaddr == "0.0.0.0"
    assert not any(isinstance(a, Configure) for a in p.actions)
    assert p.client.state is State.INIT
    assert p.client.next_deadline() == pytest.approx(t_conflict + DECLINE_WAIT)
    p.run_until(t_conflict + 60)
    assert p.client.state is State.BOUND
    lease = p.client.lease
    assert lease is not None and lease.address == "192.168.1.11"  # .10 is marked bad
    declined = [b for b in p.server.bindings(p.now) if b.state == "declined"]
    assert [b.address for b in declined] == ["192.168.1.10"]


def test_a_rival_probe_is_a_conflict_our_own_echo_is_not() -> None:
    p = Pair()
    p.start()
    while p.client.state is not State.PROBING:
        p.run_until(p.client.next_deadline() or 0)
    assert p.client.on_arp(1, MAC, "0.0.0.0", "192.168.1.10", p.now) == []  # ours
    assert p.client.on_arp(1, OTHER_MAC, "192.168.1.5", "192.168.1.10", p.now) == []
    acts = p.client.on_arp(1, OTHER_MAC, "0.0.0.0", "192.168.1.10", p.now)
    assert any(isinstance(a, Conflict) and a.how == "is probing for it too" for a in acts)


def test_release_frees_the_address_and_deconfigures() -> None:
    p = bound_pair()
    p.feed(p.client.release(p.now))
    rel = p.sent[-1]
    assert rel.message.message_type == DHCPRELEASE
    assert (rel.src, rel.dst, rel.message.ciaddr) == ("192.168.1.10", "192.168.1.1", "192.168.1.10")
    assert any(isinstance(a, Deconfigure) and a.reason == "released" for a in p.actions)
    assert p.client.state is State.RELEASED and p.client.next_deadline() is None
    assert [b.state for b in p.server.bindings(p.now)] == ["free"]
    with pytest.raises(LocalProtocolError):
        p.client.release(p.now)
    # Another client may now be offered the address; the first one gets it back first.
    again = Pair()
    again.server = p.server
    again.start()
    again.run_until(30)
    assert again.client.lease is not None and again.client.lease.address == "192.168.1.10"


def test_no_server_backoff_4_8_16_32_64_with_jitter() -> None:
    p = Pair(probe=False)
    p.server_up = False
    p.start()
    p.run_until(300)
    gaps = [b - a for a, b in zip(p.sent_at, p.sent_at[1:], strict=False)]
    assert len(gaps) >= 5
    for gap, base in zip(gaps, (4, 8, 16, 32, 64, 64), strict=False):
        assert base - 1 <= gap <= base + 1
    assert p.client.state is State.SELECTING


def test_nak_in_requesting_restarts_and_nak_in_renewing_deconfigures() -> None:
    p = bound_pair()
    lease = p.client.lease
    assert lease is not None
    p.server = DhcpServer(CONFIG)  # the server forgot everything (a reboot)
    p.run_until(lease.t1 + 0.001)
    assert any(m.message_type == DHCPNAK for m, _, _ in p.replies)
    assert any(isinstance(a, Deconfigure) for a in p.actions)
    # the NAK was broadcast (§4.3.2) and the client went back to INIT and on to SELECTING
    nak = next((m, d, mac) for m, d, mac in p.replies if m.message_type == DHCPNAK)
    assert nak[1] == "255.255.255.255"
    assert p.client.state in (State.REQUESTING, State.PROBING, State.BOUND, State.SELECTING)


def test_server_init_reboot_and_inform_and_other_server() -> None:
    s = DhcpServer(CONFIG)
    req = DhcpMessage(
        BOOTREQUEST,
        1,
        MAC,
        (type_option(DHCPREQUEST), address_option(OPT_REQUESTED_IP, "10.9.9.9")),
    )
    assert s.handle(req.encode(), 0).replies[0].message.message_type == DHCPNAK  # wrong net
    req2 = DhcpMessage(
        BOOTREQUEST,
        1,
        MAC,
        (type_option(DHCPREQUEST), address_option(OPT_REQUESTED_IP, "192.168.1.15")),
    )
    quiet = DhcpServer(replace(CONFIG, authoritative=False))
    assert quiet.handle(req2.encode(), 0).replies == []  # no record: silent (§4.3.2)
    inform = DhcpMessage(BOOTREQUEST, 2, MAC, (type_option(DHCPINFORM),), ciaddr="192.168.1.50")
    r = s.handle(inform.encode(), 0)
    m = r.replies[0].message
    assert m.message_type == DHCPACK and m.lease_time is None and m.yiaddr == "0.0.0.0"
    assert r.replies[0].dst == "192.168.1.50" and m.dns_servers == ("198.51.100.53",)
    disc = DhcpMessage(BOOTREQUEST, 3, MAC, (type_option(DHCPDISCOVER),))
    assert s.handle(disc.encode(), 0).event == "offer"
    other = DhcpMessage(
        BOOTREQUEST,
        3,
        MAC,
        (
            type_option(DHCPREQUEST),
            address_option(OPT_SERVER_ID, "192.168.1.254"),
            address_option(OPT_REQUESTED_IP, "192.168.1.10"),
        ),
    )
    assert s.handle(other.encode(), 0).event == "withdrawn"
    assert s.bindings(0) == []


def test_pool_is_bounded_and_offers_expire() -> None:
    s = DhcpServer(CONFIG)
    for i in range(40):
        mac = f"02:00:00:00:01:{i:02x}"
        s.handle(DhcpMessage(BOOTREQUEST, i, mac, (type_option(DHCPDISCOVER),)).encode(), 0)
    assert len(s.bindings(0)) == 11  # .10–.20: every address offered, no more
    late = DhcpMessage(BOOTREQUEST, 99, OTHER_MAC, (type_option(DHCPDISCOVER),))
    assert s.handle(late.encode(), 1).event == "ignored"  # exhausted
    assert s.handle(late.encode(), CONFIG.offer_hold + 1).event == "offer"  # offers expired


def test_probing_timing_follows_rfc5227() -> None:
    p = Pair()
    p.start()
    t_probe: list[float] = []
    while p.client.state is not State.BOUND:
        d = p.client.next_deadline()
        assert d is not None
        p.now = d
        acts = p.client.on_timer(d)
        if any(isinstance(a, ArpProbe) for a in acts):
            t_probe.append(d)
        p.feed(acts)
    assert len(t_probe) == PROBE_NUM
    gaps = [b - a for a, b in itertools.pairwise(t_probe)]
    assert all(1.0 <= g <= 2.0 for g in gaps)
    configured = p.now
    assert configured - t_probe[-1] == pytest.approx(ANNOUNCE_WAIT)
