"""DHCP on simulated nodes: a server on a router's LAN interface, clients on hosts that
configure their interface from the lease, a device that already holds the address. Every
DHCP frame is read by scapy (UDP checksum, BOOTP/DHCP fields)."""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether

from minternet.dhcp.client import State
from minternet.dhcp.server import DhcpServer
from minternet.errors import ConfigError
from minternet.report.dhcp import dhcp_facts, story_items, summary
from minternet.sim.world import World
from minternet.trace.bus import EventLog, FrameRecord


def lan(*, squatter: bool = False, clients: int = 1) -> dict[str, Any]:
    nodes: dict[str, Any] = {
        "r": {"kind": "router"},
        "sw": {"kind": "switch"},
        "far": {"kind": "host"},
    }
    links: list[dict[str, Any]] = [
        {
            "a": "r",
            "a_ip": "10.0.0.1/24",
            "a_dhcp": {"pool": "10.0.0.10-10.0.0.12", "dns": ["10.9.0.53"], "domain": "lan"},
            "b": "sw",
        },
        {"a": "r", "a_ip": "10.9.0.1/24", "b": "far", "b_ip": "10.9.0.53/24"},
    ]
    for i in range(clients):
        nodes[f"h{i}"] = {"kind": "host"}
        links.append({"a": f"h{i}", "a_ip": "dhcp", "b": "sw"})
    if squatter:
        nodes["printer"] = {"kind": "host"}
        links.append({"a": "printer", "a_ip": "10.0.0.10/24", "b": "sw"})
    return {"nodes": nodes, "links": links}


def traced(desc: dict[str, Any], seed: int = 1) -> tuple[World, EventLog, list[FrameRecord]]:
    w = World.from_dict(desc, join=False, seed=seed)
    log, frames = EventLog(), []
    w.trace.subscribe(log)
    w.trace.subscribe_frames(frames.append)
    w.join()
    return w, log, frames


def dhcp_frames(frames: list[FrameRecord]) -> list[Ether]:
    out = []
    for f in frames:
        e = Ether(f.data)
        if f.direction == "out" and e.haslayer(BOOTP):
            out.append(e)
    return out


def test_a_host_leases_its_address_gateway_and_dns() -> None:
    w, log, frames = traced(lan())
    h = w.node("h0")
    assert h.addresses == ["10.0.0.10"]
    assert h.routes.default_gateway == "10.0.0.1"
    client = w.dhcp_clients[0]
    assert client.client.state is State.BOUND
    assert client.dns_servers == ("10.9.0.53",) and client.domain_name == "lan"
    kinds = [str(e.fields["type"]) for e in log.of("dhcp", "send")]
    assert kinds == ["DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK"]
    desc = {n["name"]: n for n in w.describe()["nodes"]}  # what `minternet world` shows
    assert [(b["address"], b["state"]) for b in desc["r"]["dhcp_leases"]] == [
        ("10.0.0.10", "bound")
    ]
    assert desc["h0"]["interfaces"][0]["dhcp"] == "client"
    assert desc["r"]["interfaces"][0]["dhcp"] == "server"
    sent = dhcp_frames(frames)
    assert len(sent) == 4
    for e in sent:
        udp = e[UDP]
        chk = udp.chksum
        del udp.chksum
        assert UDP(bytes(udp))[UDP].chksum == chk  # scapy recomputes the same checksum
    disc, offer, _req, ack = sent
    assert (disc[IP].src, disc[IP].dst, disc.dst) == (
        "0.0.0.0",
        "255.255.255.255",
        "ff:ff:ff:ff:ff:ff",
    )
    assert (disc[UDP].sport, disc[UDP].dport) == (68, 67)
    # no broadcast flag: the offer goes to the client's MAC and yiaddr (RFC 2131 §4.1)
    assert (offer[IP].dst, offer.dst) == ("10.0.0.10", disc.src)
    assert offer[BOOTP].yiaddr == "10.0.0.10" and offer[BOOTP].xid == disc[BOOTP].xid
    opts = {o[0]: o[1:] for o in ack[DHCP].options if isinstance(o, tuple)}
    assert opts["router"] == ("10.0.0.1",) and opts["name_server"] == ("10.9.0.53",)
    assert opts["message-type"] == (5,) and opts["server_id"] == ("10.0.0.1",)
    # RFC 5227: three probes from 0.0.0.0, then two announcements from the address
    arps = [
        Ether(f.data)[ARP]
        for f in frames
        if f.direction == "out" and f.node == "h0" and Ether(f.data).haslayer(ARP)
    ]
    assert [(a.psrc, a.pdst) for a in arps] == [("0.0.0.0", "10.0.0.10")] * 3 + [
        ("10.0.0.10", "10.0.0.10")
    ] * 2  # join() returns after both announcements


def test_it_then_reaches_the_far_side() -> None:
    w, _, _ = traced(lan())
    h = w.node("h0")
    sock = h.udp_socket(("0.0.0.0", 5000))
    far = w.node("far").udp_socket(("0.0.0.0", 7))
    sock.sendto(b"hi", ("10.9.0.53", 7))
    got = w.loop.run_until_complete(far.recvfrom(), 5)
    assert got == (b"hi", ("10.0.0.10", 5000))


def test_three_clients_three_addresses() -> None:
    w, _, _ = traced(lan(clients=3))
    got = sorted(w.node(f"h{i}").addresses[0] for i in range(3))
    assert got == ["10.0.0.10", "10.0.0.11", "10.0.0.12"]


def test_the_probe_finds_a_squatter_declines_and_takes_another() -> None:
    w, log, _ = traced(lan(squatter=True))
    conflicts = log.of("dhcp", "conflict")
    assert [c.fields["address"] for c in conflicts] == ["10.0.0.10"]
    assert conflicts[0].fields["mac"] == w.node("printer").interfaces["eth0"].mac
    kinds = [str(e.fields["type"]) for e in log.of("dhcp", "send") if e.node == "h0"]
    assert kinds == ["DHCPDISCOVER", "DHCPREQUEST", "DHCPDECLINE", "DHCPDISCOVER", "DHCPREQUEST"]
    assert w.node("h0").addresses == ["10.0.0.11"]
    lease = [e for e in log.of("dhcp", "lease") if e.fields["event"] == "decline"]
    assert lease and lease[0].fields["address"] == "10.0.0.10"
    # RFC 2131 §3.1: at least ten seconds between the DECLINE and the new DISCOVER
    sends = [e for e in log.of("dhcp", "send") if e.node == "h0"]
    assert sends[3].time - sends[2].time >= 10.0


def test_release_takes_the_address_off() -> None:
    w, log, _ = traced(lan())
    c = w.dhcp_clients[0]
    c.release()
    w.run(until=w.loop.now() + 1)
    assert w.node("h0").addresses == [] and w.node("h0").routes.default_gateway is None
    assert [e.fields["event"] for e in log.of("dhcp", "lease")][-1] == "release"


@pytest.mark.parametrize(
    "bad",
    [
        {"pool": "10.0.0.10"},
        {"pool": "10.0.1.10-10.0.1.20"},
        {"dns": ["nope"]},
        {"colour": "red"},
        {"authoritative": "yes"},
        "yes",
    ],
)
def test_bad_dhcp_declarations_are_config_errors(bad: Any) -> None:
    desc = lan()
    desc["links"][0]["a_dhcp"] = bad
    with pytest.raises(ConfigError, match="a_dhcp"):
        World.from_dict(desc)


def test_a_router_cannot_be_a_dhcp_client() -> None:
    desc = lan()
    desc["links"][1]["a_ip"] = "dhcp"
    with pytest.raises(ConfigError, match="for hosts"):
        World.from_dict(desc)


# -- INIT-REBOOT and the defence of the address (RFC 2131 §3.2, RFC 5227 §2.4) ---------
def sent_since(log: EventLog, t: float) -> list[tuple[str, str]]:
    return [(e.node, str(e.fields["type"])) for e in log.of("dhcp", "send") if e.time >= t]


def test_a_rebooted_host_asks_for_its_address_again() -> None:
    w, log, frames = traced(lan())
    c = w.dhcp_clients[0]
    w.run(until=w.loop.now() + 100)
    t = w.loop.now()
    c.reboot()
    assert w.node("h0").addresses == []  # down and up: the address went with it
    lease = w.loop.run_until_complete(c.wait_bound(), 60)
    assert lease.address == "10.0.0.10" and w.node("h0").addresses == ["10.0.0.10"]
    assert sent_since(log, t) == [("h0", "DHCPREQUEST"), ("r", "DHCPACK")]
    [reboot] = log.of("dhcp", "reboot")
    assert reboot.fields == {"previous": "10.0.0.10", "state": "INIT-REBOOT"}
    states = [(e.fields["old"], e.fields["new"]) for e in log.of("dhcp", "state") if e.time >= t]
    assert states[:2] == [("INIT-REBOOT", "REBOOTING"), ("REBOOTING", "PROBING")]
    req = dhcp_frames([f for f in frames if f.time >= t and f.node == "h0"])[0]
    opts = {o[0]: o[1:] for o in req[DHCP].options if isinstance(o, tuple)}
    assert opts["message-type"] == (3,) and opts["requested_addr"] == ("10.0.0.10",)
    assert "server_id" not in opts and req[BOOTP].ciaddr == "0.0.0.0"
    assert (req[IP].src, req[IP].dst) == ("0.0.0.0", "255.255.255.255")
    lines = [text for _, _, text, _ in story_items(dhcp_facts(log.events, "h0"))]
    assert "DHCPREQUEST (broadcast): may I keep 10.0.0.10? (INIT-REBOOT, RFC 2131 §4.4.2)" in lines


def test_a_restarted_server_answers_a_reboot_only_if_authoritative() -> None:
    for authoritative, expect in ((True, ["DHCPREQUEST", "DHCPACK"]), (False, None)):
        desc = lan()
        desc["links"][0]["a_dhcp"]["authoritative"] = authoritative
        w, log, _ = traced(desc)
        c, srv = w.dhcp_clients[0], w.dhcp_servers[0]
        srv.server = DhcpServer(srv.server.config)  # the router restarted, its leases lost
        t = w.loop.now()
        c.reboot()
        lease = w.loop.run_until_complete(c.wait_bound(), 120)
        kinds = [k for _, k in sent_since(log, t)]
        if expect is not None:
            assert kinds == expect and lease.address == "10.0.0.10"
            continue
        # §4.3.2: silent; after four DHCPREQUESTs (about 60 s) the client discovers
        assert kinds[:5] == ["DHCPREQUEST"] * 4 + ["DHCPDISCOVER"]
        assert lease.address == "10.0.0.10"  # suggested in the DISCOVER, offered again


def claim(w: World, address: str, op: str) -> None:
    """A scapy-built ARP frame from another device that gives ``address`` as its own."""
    h = w.node("h0")
    iface = h.interfaces["eth0"]
    frame = Ether(src=THIEF, dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=op, hwsrc=THIEF, psrc=address, hwdst="00:00:00:00:00:00", pdst=address
    )
    h.frame_received(iface, bytes(frame), None)


THIEF = "02:aa:bb:cc:dd:ee"


def test_a_bound_host_defends_once_then_gives_the_address_up() -> None:
    w, log, frames = traced(lan())
    h, c = w.node("h0"), w.dhcp_clients[0]
    mac = h.interfaces["eth0"].mac
    w.run(until=w.loop.now() + 30)
    t0 = w.loop.now()
    claim(w, "10.0.0.10", "who-has")
    w.run(until=t0 + 1)
    [defend] = log.of("dhcp", "defend")
    assert defend.fields == {"address": "10.0.0.10", "mac": THIEF}
    arps = [Ether(f.data)[ARP] for f in frames
            if f.time >= t0 and f.node == "h0" and f.direction == "out"
            and Ether(f.data).haslayer(ARP)]  # fmt: skip
    announcements = [a for a in arps if a.op == 1 and a.psrc == a.pdst == "10.0.0.10"]
    assert len(announcements) == 1 and announcements[0].hwsrc == mac
    assert h.addresses == ["10.0.0.10"] and c.client.state is State.BOUND
    w.run(until=t0 + 5)
    claim(w, "10.0.0.10", "is-at")  # again, 5 s later: within DEFEND_INTERVAL
    t1 = w.loop.now()
    assert h.addresses == [] and len(log.of("dhcp", "defend")) == 1
    [conflict] = [e for e in log.of("dhcp", "conflict") if e.time >= t0]
    assert conflict.fields["mac"] == THIEF
    lease = w.loop.run_until_complete(c.wait_bound(), 60)
    assert lease.address == "10.0.0.11" and h.addresses == ["10.0.0.11"]
    assert [k for _, k in sent_since(log, t1)] == [
        "DHCPDECLINE", "DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK",
    ]  # fmt: skip
    decline = next(e for e in log.of("dhcp", "lease") if e.fields["event"] == "decline")
    assert decline.fields["address"] == "10.0.0.10"
    facts = dhcp_facts(log.events, "h0")  # what the report's DHCP section and JSON show
    lines = [text for _, _, text, _ in story_items(facts)]
    assert "ARP announcement (RFC 5227 §2.4): 10.0.0.10 is mine — defended once" in lines
    assert any(line.startswith(f"conflict: {THIEF} claimed it again (reply)") for line in lines)
    probes = (summary(facts) or {})["probes"]
    assert [p["kind"] for p in probes].count("defend") == 1


def test_reboot_and_defence_are_deterministic_with_the_seed() -> None:
    def run(seed: int) -> list[tuple[float, str, str, bytes]]:
        w, _, frames = traced(lan(), seed)
        c = w.dhcp_clients[0]
        w.run(until=w.loop.now() + 50)
        c.reboot()
        w.loop.run_until_complete(c.wait_bound(), 60)
        w.run(until=w.loop.now() + 10)
        claim(w, "10.0.0.10", "who-has")
        w.run(until=w.loop.now() + 3)
        claim(w, "10.0.0.10", "is-at")
        w.loop.run_until_complete(c.wait_bound(), 60)
        return [(f.time, f.node, f.direction, f.data) for f in frames]

    assert run(5) == run(5)
    assert run(5) != run(6)
