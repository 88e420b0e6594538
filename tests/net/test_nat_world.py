"""The home router's NAT in the default world, judged on the run's pcapng by tshark (checksum
validation on) and scapy, and by what the far side sees."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from netutil import run
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.utils import PcapNgReader

from minternet.apps.ping import ping
from minternet.apps.traceroute import traceroute
from minternet.ip.nat import TCP_TRANSITORY_TIMEOUT, UDP_TIMEOUT
from minternet.node.router import Router
from minternet.sim.world import World
from minternet.trace.bus import EventLog

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
PUBLIC = "203.0.113.2"
LAN = "192.168.1."


def _frames(pcap: Path) -> list[tuple[str, IP]]:
    out = []
    with PcapNgReader(str(pcap)) as reader:
        for pkt in reader:
            if IP in pkt:
                out.append((str(pkt.sniffed_on), pkt[IP]))
    return out


def _normalised(ip: IP, src: str | None = None, dst: str | None = None) -> bytes:
    """The packet with the translated fields and every checksum set to fixed values, TTL
    left as is: what must be identical on both sides of the NAT."""
    p = IP(bytes(ip))
    p.chksum = 0
    p.ttl = 0
    if src:
        p.src = src
    if dst:
        p.dst = dst
    for layer in (TCP, UDP, ICMP):
        if layer in p:
            p[layer].chksum = 0
            if layer is ICMP:
                p[ICMP].id = 0
            elif src:
                p[layer].sport = 0
            else:
                p[layer].dport = 0
    return bytes(p)


@pytest.mark.tools("tshark")
def test_fetch_pcapng_translated_copies_match_and_checksums_are_valid(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    every, pcap = tmp_path / "run.pcapng", tmp_path / "nat.pcapng"
    run_cli("fetch", "-q", "--pcap", str(every))
    # both sides of the NAT: the home router's LAN and WAN interfaces (the default capture
    # keeps one point per segment, the laptop's on the LAN)
    run_cli("fetch", "-q", "--pcap", str(pcap), "--pcap-at", "home-router")
    # tshark validates every IP, TCP, UDP and ICMP checksum: none may be bad (status 2)
    for path, least in ((every, 100), (pcap, 40)):
        fields = subprocess.run(
            ["tshark", "-r", str(path), "-o", "ip.check_checksum:TRUE", "-o",
             "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields",
             "-e", "frame.interface_name", "-e", "ip.checksum.status", "-e",
             "tcp.checksum.status", "-e", "udp.checksum.status", "-e", "icmp.checksum.status",
             "-e", "_ws.malformed", "-Y", "ip"],
            capture_output=True, text=True, check=True,
        ).stdout.splitlines()  # fmt: skip
        assert len(fields) > least
        for line in fields:
            cols = line.split("\t")
            assert "2" not in cols[1:5] and not cols[5], line
    frames = _frames(pcap)
    lan_in = [(ip) for where, ip in frames if where == "home-router/eth0"]
    wan = [(ip) for where, ip in frames if where == "home-router/eth1"]
    pairs = {"out": 0, "in": 0}
    for w in wan:  # every packet through the NAT, out (from PUBLIC) and back in (to PUBLIC)
        way = "out" if w.src == PUBLIC else "in" if w.dst == PUBLIC else None
        if way is None:
            continue
        far = w.dst if way == "out" else w.src
        match = [
            p for p in lan_in
            if p.id == w.id and (p.dst if way == "out" else p.src) == far
            and (p.src if way == "out" else p.dst).startswith(LAN)
        ]  # fmt: skip
        assert match, f"no LAN copy of {w.summary()}"
        inside = match[0]
        # the router's ingress copy vs its egress copy: one hop of TTL apart
        assert (w.ttl, inside.ttl) in ((inside.ttl - 1, inside.ttl), (w.ttl, w.ttl - 1))
        if way == "out":
            assert _normalised(w, src=inside.src) == _normalised(inside, src=inside.src)
        else:
            assert _normalised(inside, dst=PUBLIC) == _normalised(w, dst=PUBLIC)
        pairs[way] += 1
    assert pairs["out"] > 10 and pairs["in"] > 10


def test_json_hops_and_the_server_see_the_public_address(run_cli: CliRunner) -> None:
    data = json.loads(run_cli("fetch", "--json").stdout)
    assert data["ok"]
    srcs = [(h["node"], h["src"]) for h in data["hops"]]
    assert srcs[0] == ("laptop", "192.168.1.10")
    assert all(src == PUBLIC for node, src in srcs[1:]), srcs
    story = run_cli("fetch").stdout
    assert "NAT TCP 192.168.1.10:" in story and "new mapping" in story
    assert "SYN from 203.0.113.2:" in story and "SYN from 192.168.1" not in story


def test_traceroute_from_the_laptop_lists_every_router_through_the_nat() -> None:
    w = World.default()
    r = run(w, traceroute(w.node("laptop"), "93.184.216.34"))
    assert [h.address for h in r.hops] == [
        "192.168.1.1", "203.0.113.1", "192.0.2.2", "192.0.2.6", "93.184.216.34"]  # fmt: skip
    assert r.reached


def test_ping_through_the_nat_maps_the_identifier() -> None:
    w = World.default()
    result = run(w, ping(w.node("laptop"), "93.184.216.34", count=3))
    assert result.received == 3
    home = w.node("home-router")
    assert isinstance(home, Router)
    table = home.nat_table()
    assert [m.protocol_name for _, m in table] == ["ICMP"]


def test_ping_cli_and_tcp_transfer_with_loss_work_through_the_nat(run_cli: CliRunner) -> None:
    assert (
        "2 packets transmitted, 2 received" in run_cli("ping", "www.example.com", "-c", "2").stdout
    )
    out = json.loads(run_cli("tcp-transfer", "--size", "100000", "--loss", "0.1", "--json").stdout)
    assert out["intact"] and out["received"] == {"up": 100000, "down": 100000}
    assert out["retransmissions"]["client"] > 0  # the loss was real
    assert out["final"]["server"]["state"] == "CLOSED"


def test_inbound_syn_to_the_public_address_gets_no_answer() -> None:
    w = World.default()
    www = w.node("www")
    frames: list[tuple[str, bytes]] = []
    w.trace.subscribe_frames(lambda fr: frames.append((fr.node, fr.data)))
    fut = www.tcp_connect((PUBLIC, 22), timeout=10.0)
    w.run(until=30.0)
    assert fut.done() and fut.exception() is not None
    home = w.node("home-router")
    assert home.drops.get("nat-unsolicited", 0) >= 1
    # nothing ever came back to www: no SYN-ACK, no RST, no ICMP
    back = [IP(d[14:]) for n, d in frames if n == "home-router" and d[12:14] == b"\x08\x00"]
    assert not [p for p in back if p.src == PUBLIC and p.dst == "93.184.216.34"]
    assert not [p for p in back if p.dst.startswith(LAN)]


def test_udp_mapping_expires_and_frees_the_port_in_virtual_time() -> None:
    w = World.default()
    laptop, home = w.node("laptop"), w.node("home-router")
    assert isinstance(home, Router)
    sock = laptop.udp_socket(("0.0.0.0", 40000))
    t0 = w.loop.now()  # the laptop has joined the network by DHCP
    sock.sendto(b"hello", ("198.51.100.53", 9))
    w.run(until=t0 + 1.0)
    assert [(m.inside_port, m.public_port) for _, m in home.nat_table()] == [(40000, 40000)]
    w.run(until=t0 + UDP_TIMEOUT - 1)
    assert len(home.nat_table()) == 1
    w.run(until=t0 + UDP_TIMEOUT + 2)
    assert home.nat_table() == []
    # the port is free again: the next datagram makes a new mapping, port preserved
    log = EventLog()
    w.trace.subscribe(log)
    sock.sendto(b"again", ("198.51.100.53", 9))
    w.run(until=w.loop.now() + 1.0)
    assert [(m.inside_port, m.public_port) for _, m in home.nat_table()] == [(40000, 40000)]
    out = [e for e in log.of("nat", "translate") if e.fields["direction"] == "out"]
    assert [e.fields["new"] for e in out] == [True]
    assert TCP_TRANSITORY_TIMEOUT < UDP_TIMEOUT


def test_the_dns_walk_works_through_the_nat(run_cli: CliRunner) -> None:
    """``dig --trace``: the laptop asks the ISP resolver across the NAT, which walks from the
    root; the answer comes back through the NAT's UDP mapping."""
    out = run_cli("dig", "www.example.com", "--trace").stdout
    assert "93.184.216.34" in out and "a.root-servers.net" in out
    data = json.loads(run_cli("dig", "www.example.com", "--json").stdout)
    assert data["status"] == "NOERROR"
    assert any("93.184.216.34" in str(a) for a in data["answers"])


def test_world_after_fetch_shows_the_nat_table(run_cli: CliRunner) -> None:
    data = json.loads(run_cli("world", "--after", "fetch", "--json").stdout)
    home = next(n for n in data["nodes"] if n["name"] == "home-router")
    assert home["nat"] == [{"iface": "eth1", "inside": "192.168.1.0/24", "public": PUBLIC}]
    protos = sorted(m["protocol"] for m in home["nat_table"])
    assert protos == ["TCP", "UDP"]
    assert all(m["public"].startswith(PUBLIC + ":") for m in home["nat_table"])
    text = run_cli("world", "--after", "fetch").stdout
    assert "NAT (RFC 3022 NAPT)" in text and "192.168.1.10:" in text
    assert (
        run_cli("world", "--after", "fetch", "--json").stdout == json.dumps(data, indent=2) + "\n"
    )


def test_nat_declared_in_a_world_file_and_errors_are_one_line(tmp_path: Path) -> None:
    w = World.from_dict({
        "nodes": {"h": {"kind": "host"}, "r": {"kind": "router"}, "s": {"kind": "host"}},
        "links": [
            {"a": "h", "a_ip": "10.0.0.2/24", "b": "r", "b_ip": "10.0.0.1/24"},
            {"a": "r", "a_ip": "198.18.0.1/24", "a_nat": "10.0.0.0/24",
             "b": "s", "b_ip": "198.18.0.9/24"},
        ],
    })  # fmt: skip
    r = run(w, ping(w.node("h"), "198.18.0.9", count=1))
    assert r.received == 1
    from minternet.errors import ConfigError

    with pytest.raises(ConfigError, match="a_nat: only a router"):
        World.from_dict({
            "nodes": {"h": {"kind": "host"}, "s": {"kind": "host"}},
            "links": [{"a": "h", "a_ip": "10.0.0.2/24", "a_nat": "10.0.0.0/24",
                       "b": "s", "b_ip": "10.0.0.3/24"}],
        })  # fmt: skip
    with pytest.raises(ConfigError, match="a_nat"):
        World.from_dict({
            "nodes": {"r": {"kind": "router"}, "s": {"kind": "host"}},
            "links": [{"a": "r", "a_ip": "10.0.0.2/24", "a_nat": "10.0.0.1/24",
                       "b": "s", "b_ip": "10.0.0.3/24"}],
        })  # fmt: skip


def test_the_web_servers_access_log_sees_the_public_address() -> None:
    from minternet.apps.fetch_run import FetchOptions, run_fetch

    r = run_fetch(FetchOptions(seed=3, record_frames=False))
    assert r.failure is None
    peers = {
        str(e.fields.get("peer")) for e in r.log.events if e.node == "www" and e.layer == "http"
    }
    assert peers and all(p.startswith(PUBLIC + ":") for p in peers), peers


@pytest.mark.tools("tshark")
def test_scenario_inbound_blocked(run_cli: CliRunner, tmp_path: Path) -> None:
    pcap = tmp_path / "in.pcapng"
    proc = run_cli("fetch", "--scenario", "inbound-blocked", "--pcap", str(pcap))
    assert proc.returncode == 0
    out = proc.stdout
    assert "What happened: the NAT blocked it" in out
    assert "NAT drops TCP from 198.51.100.53:" in out and "to 203.0.113.2:22" in out
    assert "no RST and no ICMP" in out
    # tshark: the SYN reached the home router's WAN side; nothing went back to its sender
    rows = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", "-e", "frame.interface_name", "-e",
         "ip.src", "-e", "ip.dst", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags",
         "-Y", "tcp.port == 22 || icmp"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    syns = [r.split("\t") for r in rows if r.startswith("home-router/eth1\t198.51.100.53")]
    assert syns and syns[0][4] == "22" and syns[0][5] == "0x0002"
    sport = syns[0][3]
    answers = [r for r in rows if "\t198.51.100.53\t22\t" + sport in r or "\ticmp" in r]
    assert not [r for r in rows if r.split("\t")[1] == PUBLIC], rows
    assert not answers
    assert not [r for r in rows if r.startswith("home-router/eth0")]  # never let in
