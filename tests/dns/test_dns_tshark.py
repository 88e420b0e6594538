"""Wireshark's dissector (tshark) reads our DNS messages: the fields we meant, nothing
malformed. The Ethernet/IP/UDP around them is built by scapy, so only DNS is ours."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP  # (not scapy.all: every worker imports this module)
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from minternet.dns import Edns, RType, make_query, zones_builtin
from minternet.dns.authoritative import AuthoritativeServer

pytestmark = pytest.mark.tools("tshark")

CASES = [
    ("www.example.com", RType.A, "0", "93.184.216.34", "", "1"),
    ("web.example.com", RType.A, "0", "93.184.216.34", "www.example.com", "2"),
    ("nope.example.com", RType.A, "3", "", "", "0"),
    ("example.com", RType.MX, "0", "", "", "1"),
    ("big.example.com", RType.TXT, "0", "", "", "1"),
    ("www.google.com", RType.A, "3", "", "", "0"),  # com. is ours: no such name
]


def test_tshark_dissects_our_queries_and_answers(tmp_path: Path) -> None:
    srv = AuthoritativeServer(zones_builtin.all_zones())
    frames = []
    for qname, qtype, *_ in CASES:
        q = make_query(qname, qtype, 4321, edns=Edns()).encode()
        r = srv.respond(q, over_tcp=True)
        assert r is not None
        for src, dst, sport, dport, payload in (
            ("192.168.1.10", "198.51.100.53", 40000, 53, q),
            ("198.51.100.53", "192.168.1.10", 53, 40000, r),
        ):
            frames.append(Ether() / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / payload)
    pcap = tmp_path / "dns.pcap"
    wrpcap(str(pcap), frames)
    fields = ["dns.qry.name", "dns.flags.response", "dns.flags.rcode", "dns.a", "dns.cname",
              "dns.count.answers", "dns.id", "_ws.malformed", "_ws.expert.severity"]  # fmt: skip
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", "-E", "separator=|",
         *[x for f in fields for x in ("-e", f)]],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.splitlines()  # fmt: skip
    rows = [line.split("|") for line in out]
    assert len(rows) == 2 * len(CASES)
    for i, (qname, _t, rcode, a, cname, count) in enumerate(CASES):
        query, answer = rows[2 * i], rows[2 * i + 1]
        assert query[0] == qname and query[1] in ("0", "False") and query[6] == "0x10e1"
        assert answer[0] == qname and answer[1] in ("1", "True")
        assert (answer[2], answer[3], answer[4], answer[5]) == (rcode, a, cname, count)
        assert query[7] == answer[7] == "", "tshark found a malformed packet"
        assert "error" not in (query[8] + answer[8]).lower()
