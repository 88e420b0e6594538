"""INIT-REBOOT (RFC 2131 §3.2, §4.3.2, §4.4.2, figure 5) and the defence of a bound
address (RFC 5227 §2.4), the machines driven in virtual time with nothing between them:
every transition, the server's answers with and without authority, and the same seed
giving the same bytes at the same times."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from test_dhcp_machines import CONFIG, MAC, OTHER_MAC, Pair, bound_pair

from minternet.dhcp.client import (
    DEFEND_INTERVAL,
    ArpProbe,
    Conflict,
    Deconfigure,
    Defend,
    State,
    StateChange,
    Transmit,
)
from minternet.dhcp.message import (
    BOOTREQUEST,
    DHCPACK,
    DHCPDECLINE,
    DHCPDISCOVER,
    DHCPNAK,
    DHCPREQUEST,
    OPT_REQUESTED_IP,
    OPT_SERVER_ID,
    DhcpMessage,
    address_option,
    type_option,
)
from minternet.dhcp.server import DhcpServer, client_key

ARP_REQUEST, ARP_REPLY = 1, 2


def rebooted(
    p: Pair, *, after: float = 100.0, seed: int = 7, server: DhcpServer | None = None
) -> Pair:
    """The host of ``p`` down and up again ``after`` seconds later, with its lease."""
    lease = p.client.lease
    assert lease is not None
    return Pair(previous=lease, server=server or p.server, now=p.now + after, seed=seed)


def request_for(address: str, mac: str = MAC, xid: int = 5) -> DhcpMessage:
    """An INIT-REBOOT DHCPREQUEST: option 50, no server identifier, ciaddr 0."""
    options = (type_option(DHCPREQUEST), address_option(OPT_REQUESTED_IP, address))
    return DhcpMessage(BOOTREQUEST, xid, mac, options)


# -- the client: INIT-REBOOT -----------------------------------------------------------
def test_reboot_requests_its_address_without_server_id_then_probes_and_is_bound() -> None:
    p = bound_pair()
    old = p.client.lease
    assert old is not None
    q = rebooted(p)
    assert q.client.state is State.INIT_REBOOT
    q.start()
    q.run_until(q.now + 30)
    assert q.client.state is State.BOUND
    first = q.sent[0]
    m = first.message
    assert m.message_type == DHCPREQUEST and q.types() == [DHCPREQUEST]  # no DISCOVER
    assert m.requested_ip == old.address and m.server_id is None and m.ciaddr == "0.0.0.0"
    assert OPT_SERVER_ID not in [code for code, _ in m.options]
    assert (first.src, first.dst) == ("0.0.0.0", "255.255.255.255")
    states = [(a.old, a.new) for a in q.actions if isinstance(a, StateChange)]
    assert states == [
        (State.INIT_REBOOT, State.REBOOTING),
        (State.REBOOTING, State.PROBING),
        (State.PROBING, State.BOUND),
    ]
    assert sum(isinstance(a, ArpProbe) for a in q.actions) == 3  # RFC 5227 as on a new lease
    new = q.client.lease
    assert new is not None and new.address == old.address
    # T1, T2 and expiry from this DHCPACK, counted from when its DHCPREQUEST was sent
    sent = q.sent_at[0]
    assert (new.start, new.t1, new.t2) == (sent, sent + CONFIG.t1, sent + CONFIG.t2)
    assert new.expires == sent + CONFIG.lease_time


def test_reboot_nak_goes_to_init_and_discovers_afresh() -> None:
    p = bound_pair()
    other = DhcpServer(replace(CONFIG, server_id="192.168.2.1", pool_start="192.168.2.10",
                               pool_end="192.168.2.20", routers=("192.168.2.1",)))  # fmt: skip
    q = rebooted(p, server=other)  # the laptop woke up on another network
    q.start()
    q.run_until(q.now + 30)
    naks = [m for m, _, _ in q.replies if m.message_type == DHCPNAK]
    assert len(naks) == 1 and naks[0].server_id == "192.168.2.1"
    assert q.types() == [DHCPREQUEST, DHCPDISCOVER, DHCPREQUEST]
    discover = q.sent[1].message
    assert discover.requested_ip is None  # after a NAK the old address is not suggested
    assert (State.REBOOTING, State.INIT) in [
        (a.old, a.new) for a in q.actions if isinstance(a, StateChange)
    ]
    assert q.client.state is State.BOUND and q.client.lease is not None
    assert q.client.lease.address == "192.168.2.10"


def test_reboot_without_answer_backs_off_then_falls_back_to_init() -> None:
    p = bound_pair()
    q = rebooted(p)
    q.server_up = False
    q.start()
    q.run_until(q.now + 75)
    # RFC 2131 §3.1 step 5 / §3.2: four DHCPREQUESTs, 4, 8, 16 s apart (±1 s, §4.1), then
    # 32 s more: about 60 s in all before restarting with a DHCPDISCOVER
    assert q.types()[:5] == [DHCPREQUEST] * 4 + [DHCPDISCOVER]
    gaps = [b - a for a, b in itertools.pairwise(q.sent_at[:5])]
    for gap, base in zip(gaps, (4, 8, 16, 32), strict=True):
        assert base - 1 <= gap <= base + 1
    assert 56 <= q.sent_at[4] - q.sent_at[0] <= 64
    requests = [t.message for t in q.sent[:4]]
    assert len({m.xid for m in requests}) == 1  # one exchange: 'secs' counts from its start
    secs = [m.secs for m in requests]
    assert secs[0] == 0 and secs == sorted(secs) and 26 <= secs[-1] <= 30
    assert all(m.server_id is None for m in requests)
    # the DISCOVER still suggests the old address (§4.4.1 MAY), the lease is not used
    assert q.sent[4].message.requested_ip == p.client.lease.address  # type: ignore[union-attr]
    assert q.client.state is State.SELECTING
    assert not any(isinstance(a, Deconfigure) for a in q.actions)


def test_an_expired_previous_lease_starts_in_init() -> None:
    p = bound_pair()
    lease = p.client.lease
    assert lease is not None
    q = rebooted(p, after=lease.expires - p.now + 1)
    acts = q.client.start(q.now)
    assert [(a.old, a.new) for a in acts if isinstance(a, StateChange)] == [
        (State.INIT_REBOOT, State.INIT)
    ]
    q.run_until(q.now + 30)
    assert q.types()[0] == DHCPDISCOVER and q.client.state is State.BOUND


def test_a_conflict_while_probing_after_reboot_declines() -> None:
    p = bound_pair()
    q = rebooted(p)
    q.start()
    while not any(isinstance(a, ArpProbe) for a in q.actions):
        q.run_until(q.client.next_deadline() or q.now)
    lease = q.client.lease
    assert lease is not None and q.client.state is State.PROBING
    q.feed(q.client.on_arp(ARP_REPLY, OTHER_MAC, lease.address, lease.address, q.now))
    assert q.types()[-1] == DHCPDECLINE and q.client.state is State.INIT
    assert q.client.previous_lease is None


def test_same_seed_same_bytes_at_the_same_times() -> None:
    def run(seed: int) -> list[tuple[float, bytes]]:
        q = rebooted(bound_pair(), seed=seed)
        q.server_up = False
        q.start()
        q.run_until(q.now + 120)
        return [(t, s.message.encode()) for t, s in zip(q.sent_at, q.sent, strict=True)]

    assert run(3) == run(3)
    assert run(3) != run(4)


# -- the server: §4.3.2 INIT-REBOOT ----------------------------------------------------
def test_server_acks_the_clients_own_binding() -> None:
    p = bound_pair()
    lease = p.client.lease
    assert lease is not None
    r = p.server.handle(request_for(lease.address).encode(), p.now + 5)
    assert r.event == "ack" and r.replies[0].message.yiaddr == lease.address
    assert r.replies[0].message.message_type == DHCPACK


@pytest.mark.parametrize("authoritative", [True, False])
def test_server_naks_someone_elses_address_and_a_wrong_network(authoritative: bool) -> None:
    p = bound_pair()
    lease = p.client.lease
    assert lease is not None
    s = p.server
    s.config = replace(CONFIG, authoritative=authoritative)
    # the laptop's address, asked for by another client that the server knows
    s.handle(DhcpMessage(BOOTREQUEST, 9, OTHER_MAC, (type_option(DHCPDISCOVER),)).encode(), 1)
    theirs = s.handle(request_for(lease.address, OTHER_MAC).encode(), 2)
    assert theirs.event == "nak" and theirs.replies[0].dst == "255.255.255.255"
    wrong = s.handle(request_for("10.1.2.3").encode(), 3)  # the laptop knows us: NAK
    assert wrong.event == "nak" and "not on this network" in wrong.note


def test_authority_decides_an_unknown_client() -> None:
    quiet = DhcpServer(replace(CONFIG, authoritative=False))
    for address in ("192.168.1.15", "10.1.2.3"):  # §4.3.2: no record, MUST remain silent
        r = quiet.handle(request_for(address).encode(), 0)
        assert r.replies == [] and "silent" in r.note
    boss = DhcpServer(CONFIG)
    assert boss.handle(request_for("10.1.2.3").encode(), 0).event == "nak"
    assert boss.handle(request_for("192.168.1.200").encode(), 0).event == "nak"  # not in pool
    ok = boss.handle(request_for("192.168.1.15").encode(), 0)  # free in the pool: its own
    assert ok.event == "ack" and ok.replies[0].message.yiaddr == "192.168.1.15"
    [b] = boss.bindings(1)
    assert (b.address, b.state, b.client) == (
        "192.168.1.15",
        "bound",
        client_key(ok.replies[0].message),
    )
    assert b.expires == CONFIG.lease_time
    other = boss.handle(request_for("192.168.1.15", OTHER_MAC).encode(), 1)
    assert other.event == "nak"  # now someone else's


# -- the client: RFC 5227 §2.4 --------------------------------------------------------
def claim(p: Pair, op: int = ARP_REQUEST, mac: str = OTHER_MAC) -> list[object]:
    lease = p.client.lease
    assert lease is not None
    acts = p.client.on_arp(op, mac, lease.address, lease.address, p.now)
    p.feed(acts)
    return list(acts)


def test_one_claim_is_defended_with_one_announcement() -> None:
    p = bound_pair()
    lease = p.client.lease
    assert lease is not None
    p.run_until(p.now + 5)
    assert claim(p) == [Defend(lease.address, OTHER_MAC)]
    assert p.client.state is State.BOUND
    p.run_until(p.now + DEFEND_INTERVAL)  # a claim DEFEND_INTERVAL later: defended again
    assert claim(p, ARP_REPLY) == [Defend(lease.address, OTHER_MAC)]
    assert claim(p, mac=MAC) == []  # our own announcement, echoed
    other = p.client.on_arp(ARP_REQUEST, OTHER_MAC, "192.168.1.99", lease.address, p.now)
    assert other == []  # someone asking for our address is no claim on it


def test_a_second_claim_within_defend_interval_gives_the_address_up() -> None:
    p = bound_pair()
    lease = p.client.lease
    assert lease is not None
    p.run_until(p.now + 5)
    claim(p)
    p.run_until(p.now + DEFEND_INTERVAL - 0.5)
    acts = claim(p, ARP_REPLY)
    kinds = [type(a) for a in acts]
    assert kinds == [Conflict, Deconfigure, Transmit, StateChange]
    decline = next(a for a in acts if isinstance(a, Transmit)).message
    assert decline.message_type == DHCPDECLINE and decline.requested_ip == lease.address
    assert decline.server_id == CONFIG.server_id and decline.ciaddr == "0.0.0.0"
    assert p.client.state is State.INIT and p.client.lease is None
    [b] = [b for b in p.server.bindings(p.now) if b.address == lease.address]
    assert b.state == "declined"
    # RFC 2131 §3.1 step 5: ten seconds later it starts again and gets another address
    p.run_until(p.now + 40)
    assert p.client.state is State.BOUND and p.client.lease is not None
    assert p.client.lease.address != lease.address
    assert p.sent_at[-2] - p.sent_at[-3] >= 10  # DECLINE → DISCOVER


def test_defence_goes_on_while_renewing() -> None:
    p = bound_pair()
    lease = p.client.lease
    assert lease is not None
    p.server_up = False
    p.run_until(lease.t1 + 1)
    assert p.client.state is State.RENEWING
    assert claim(p) == [Defend(lease.address, OTHER_MAC)]
    assert Deconfigure in [type(a) for a in claim(p)]
    assert p.client.state is State.INIT
