"""Wireshark's dissector judges our segments: a lossy, reordered transfer written as pcapng
(IPv4 headers added by scapy) has no malformed packet and no bad checksum, and tshark's
relative sequence numbers match the ones our trace reports."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import IP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import PcapNgWriter
from tcp_transfer import start_transfer

from minternet.sim.faults import Faults
from minternet.trace.bus import EventLog

pytestmark = pytest.mark.tools("tshark")


def _tshark(path: Path, *args: str) -> list[str]:
    out = subprocess.run(
        ["tshark", "-r", str(path), "-o", "tcp.check_checksum:TRUE", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [line for line in out.stdout.splitlines() if line.strip()]


def test_lossy_transfer_pcapng_has_no_malformed_packets(tmp_path: Path) -> None:
    t = start_transfer(4, size=200_000, faults=Faults(loss=0.05, reorder=0.05, duplicate=0.02))
    t.net.wire.taps = []
    log = EventLog()
    t.net.trace.subscribe(log)
    t.net.loop.run()
    assert t.intact
    pcap = tmp_path / "lossy.pcapng"
    writer = PcapNgWriter(str(pcap))
    for when, src, dst, seg in t.net.wire.taps:
        pkt = (
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / IP(src=src, dst=dst, proto=6, ttl=64)
            / Raw(seg)
        )
        pkt.time = when
        writer.write(pkt)
    writer.close()
    n = len(t.net.wire.taps)
    assert n > 300
    assert _tshark(pcap, "-Y", "_ws.malformed || _ws.expert.severity >= error") == []
    # every other question from one pass: the fields of every segment
    names = ("tcp.checksum.status", "tcp.analysis.retransmission",
             "tcp.analysis.fast_retransmission", "tcp.srcport", "tcp.len", "tcp.seq",
             "tcp.seq_raw", "tcp.flags.syn", "tcp.flags.fin", "tcp.flags.str")  # fmt: skip
    args = [a for name in names for a in ("-e", name)]
    rows = [dict(zip(names, line.split("\t"), strict=True))
            for line in _tshark(pcap, "-T", "fields", *args)]  # fmt: skip
    assert len(rows) == n
    assert all(r["tcp.checksum.status"] == "1" for r in rows)  # all verified good
    assert any(r["tcp.analysis.retransmission"] or r["tcp.analysis.fast_retransmission"]
               for r in rows)  # fmt: skip
    # tshark's relative numbers equal ours: compare the first data segments of the client.
    theirs = [
        (int(r["tcp.seq"]), int(r["tcp.seq_raw"]))
        for r in rows if r["tcp.srcport"] != "443" and int(r["tcp.len"]) > 0
    ][:20]  # fmt: skip
    ours = [
        (e.fields["rel_seq"], e.fields["seq"])
        for e in log.of("tcp", "recv")
        if e.node == "www" and e.fields["len"] > 0
    ][:20]
    assert theirs == ours
    # the handshake and the close as Wireshark sees them
    flags = [r["tcp.flags.str"] for r in rows if "1" in (r["tcp.flags.syn"], r["tcp.flags.fin"])]
    assert any("S" in f and "A" not in f.replace("·", "") for f in flags)
    assert sum("F" in f for f in flags) >= 2
