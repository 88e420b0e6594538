"""The seed's routing step in the story (issue 12, step 3), each sentence checked against
what scapy reads from the run's own default capture: the gateway and the ARP exchange for
its MAC (shown once, without ``-v``), each node's route choice, the response's path back
hop by hop, the laptop taking the response apart layer by layer, the simulated "now" of
the validity checks, and the JSON's certificate checks with subject and detail."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from scapy.layers.dhcp import BOOTP
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet
from scapy.utils import rdpcap

from minternet.apps.fetch_run import FetchOptions, run_fetch
from minternet.cli.fetch_story import write_outputs
from minternet.report.story import build_story, story_lines
from minternet.report.summary import fetch_summary

SERVER, LAPTOP, PUBLIC = "93.184.216.34", "192.168.1.10", "203.0.113.2"


def _run(tmp_path: Path, **kw: object) -> tuple[str, dict[str, object], list[Packet]]:
    run = run_fetch(FetchOptions(**kw))  # type: ignore[arg-type]
    pcap = tmp_path / "run.pcapng"
    write_outputs(run, pcap, False, None)  # the default capture: one point per segment
    story = build_story(run)
    text = "\n".join(story_lines(story))
    return text, fetch_summary(story), list(rdpcap(str(pcap)))


def _at(pkts: list[Packet], where: str) -> list[Packet]:
    return [p for p in pkts if p.sniffed_on == where]


def _mac_of(pkts: list[Packet], ip: str) -> str:
    """The MAC ``ip`` announced in ARP (a reply, or a request it sent: RFC 826 lets the
    target learn the asker's mapping), as scapy reads it from the capture."""
    return next(str(p[ARP].hwsrc) for p in pkts if p.haslayer(ARP) and p[ARP].psrc == ip)


def test_gateway_and_its_arp_are_in_the_story_once(tmp_path: Path) -> None:
    text, _, pkts = _run(tmp_path)
    lap = _at(pkts, "laptop/eth0")
    # after DHCP: not its DHCP exchange, nor its RFC 5227 probes (sender 0.0.0.0) and
    # announcements (sender = target), which ask no one for a MAC
    first_ip = next(p for p in lap if p.haslayer(IP) and not p.haslayer(BOOTP))
    asks = [p for p in lap if p.haslayer(ARP) and p[ARP].op == 1
            and p[ARP].psrc not in ("0.0.0.0", p[ARP].pdst)]  # fmt: skip
    req = asks[0]
    rep = next(p for p in lap if p.haslayer(ARP) and p[ARP].op == 2)
    # scapy: the laptop asked for 192.168.1.1 by broadcast before its first IP packet, and
    # sent that packet to the MAC the reply gave
    assert req[ARP].pdst == "192.168.1.1" and req[Ether].dst == "ff:ff:ff:ff:ff:ff"
    assert req.time <= first_ip.time and first_ip[Ether].dst == rep[ARP].hwsrc
    line = f"sends it to the gateway {req[ARP].pdst} (the home router) out eth0"
    assert line in text and "is not on the laptop's network, so the route 0.0.0.0/0" in text
    assert f"{req[ARP].pdst} is at {rep[ARP].hwsrc}" in text
    # once: the later packets use the ARP cache (no second request in the capture either)
    assert text.count("who has 192.168.1.1?") == 1
    assert len(asks) == 1


def _path(text: str, head: str) -> list[str]:
    block = text.split(head, 1)[1].split("\n")
    return [ln.split("│[/] ", 1)[1] for ln in block[1:] if "│[/] " in ln][:7]


def test_each_route_choice_and_the_response_path_back(tmp_path: Path) -> None:
    text, _, pkts = _run(tmp_path)
    # the response's first packet: its IP id in the story, its copies in the capture
    m = re.search(r"the response's first packet, id (\d+), (\S+) → (\S+);", text)
    assert m is not None
    ip_id, src, dst = int(m[1]), m[2], m[3]
    assert (src, dst) == (SERVER, PUBLIC)
    copies = [p for p in pkts if p.haslayer(IP) and p[IP].id == ip_id and p[IP].src == SERVER]
    where = [p.sniffed_on for p in copies]
    assert where == ["www/eth0", "transit/eth1", "isp-router/eth2", "home-router/eth1",
                     "laptop/eth0"]  # fmt: skip
    ttls = [p[IP].ttl for p in copies]
    assert ttls == [64, 63, 62, 61, 60]
    assert copies[-1][IP].dst == LAPTOP and copies[-2][IP].dst == PUBLIC  # NAT back in
    lines = _path(text, "the response's first packet")
    hops = [ln for ln in lines if " sends it: " in ln]
    assert [int(h.split("IP TTL ")[1].split(",")[0]) for h in hops] == [64, 63, 62, 61, 60]
    assert lines[len(hops)] == "laptop receives it with TTL 60 = 64 − 4 routers"
    # every route choice names a next hop whose MAC (from ARP in the capture) is the
    # destination MAC the capture shows on that hop
    for hop, copy in zip(hops, copies, strict=False):
        route = re.search(r"route (\S+) → (?:next hop (\S+)|(\S+) is on that link), out (\w+);",
                          hop)  # fmt: skip
        assert route is not None, hop
        assert f"Ethernet {copy[Ether].src} → {copy[Ether].dst}," in hop
        nh = route[2] or route[3]
        assert _mac_of(pkts, nh) == copy[Ether].dst, (hop, nh)
    # the request's path: the same route words, the home router's NAT on the source
    req = _path(text, "its path, hop by hop")
    assert req[0].startswith("laptop/eth0 sends it: route 0.0.0.0/0 → next hop 192.168.1.1")
    assert "source 203.0.113.2 (NAT)" in req[1] and "(NAT)" not in req[2]
    assert "93.184.216.34 is on that link, out eth1" in req[4]


def test_the_laptop_takes_the_response_apart(tmp_path: Path) -> None:
    text, _, pkts = _run(tmp_path)
    m = re.search(r"the response's first packet, id (\d+),", text)
    assert m is not None
    got = next(p for p in _at(pkts, "laptop/eth0") if p.haslayer(IP) and p[IP].id == int(m[1]))
    steps = text.split("laptop side (反向解封装):", 1)[1].split("\n")[1:6]
    steps = [s.split("│[/] ", 1)[1] for s in steps]
    assert steps[0].startswith(f"1. Ethernet {got[Ether].src} → {got[Ether].dst} (its own MAC)")
    assert f"2. IPv4 {got[IP].dst} ← {got[IP].src}, TTL {got[IP].ttl}, protocol 6" in steps[1]
    tcp = got[TCP]
    assert (f"3. TCP: destination port {tcp.dport} → the browser's connection; "
            f"{len(bytes(tcp.payload))} bytes in order (Seq = {tcp.seq})") in steps[2]  # fmt: skip
    assert steps[3].startswith("4. TLS: ") and "server write key" in steps[3]
    assert steps[4] == "5. HTTP: HTTP/1.1 200 OK → the browser renders the page"


def test_validity_shows_the_simulated_now_and_json_checks_carry_subject(tmp_path: Path) -> None:
    text, summary, pkts = _run(tmp_path)
    day = datetime.fromtimestamp(float(pkts[0].time), UTC).strftime("%Y-%m-%d")
    assert day == "2026-06-01"  # the capture's calendar
    validity = [ln for ln in text.split("\n") if "✓[/] validity" in ln]
    # the simulated now is the check's virtual time (after the laptop joined by DHCP)
    at = int(float(validity[0].split("[dim]", 1)[1].split("[/]", 1)[0]))
    now = f"(now {day} 00:00:{at:02d} UTC)"
    assert len(validity) == 3 and all(now in ln for ln in validity)
    checks = json.loads(json.dumps(summary))["tls"]["certificate_checks"]
    assert all(c["subject"] and c["detail"] for c in checks)
    valid = [c for c in checks if c["check"] == "validity"]
    assert len(valid) == 3 and all(c["ok"] for c in valid)
    assert all(now in c["detail"] for c in valid)
