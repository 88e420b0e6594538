"""tshark decrypts a TLS session using the key log we wrote.

The session is ours (client and server machines in memory, HTTP inside); its bytes are put
into TCP segments of a pcap with scapy, and tshark — with only the NSS key log line — must
find the HTTP request and response inside the encrypted records.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap
from tls_support import HOST, NOW, Certs, make_trust

from minternet.randomness import SeededRandom
from minternet.tls import ClientConfig, ServerConfig, TlsClient, TlsServer, suite_by_name
from minternet.tls.server import KeyAndChain
from tshark_table import has, table

pytestmark = pytest.mark.tools("tshark")


class Flow:
    """A TCP connection's packets, with real sequence numbers, for a pcap."""

    def __init__(self) -> None:
        self.pkts: list[Any] = []
        self.seq = {"c": 1000, "s": 5000}
        self.t = 0.0
        self._emit("c", "S", b"")
        self._emit("s", "SA", b"")
        self._emit("c", "A", b"")

    def _emit(self, side: str, flags: str, data: bytes) -> None:
        other = "s" if side == "c" else "c"
        src, dst = ("10.0.0.1", "10.0.0.2") if side == "c" else ("10.0.0.2", "10.0.0.1")
        sport, dport = (50000, 443) if side == "c" else (443, 50000)
        ack = self.seq[other] if "A" in flags else 0
        p = (
            Ether()
            / IP(src=src, dst=dst)
            / TCP(sport=sport, dport=dport, flags=flags, seq=self.seq[side], ack=ack)
        )
        if data:
            p = p / data
        self.t += 0.001
        p.time = self.t
        self.pkts.append(p)
        self.seq[side] += len(data) + (1 if "S" in flags or "F" in flags else 0)

    def send(self, side: str, data: bytes) -> None:
        for i in range(0, len(data), 1400):
            self._emit(side, "PA", data[i : i + 1400])

    def shuttle(self, client: Any, server: Any, rounds: int) -> list[Any]:
        """Carry bytes between two sans-IO TLS machines (either version) for ``rounds``
        round trips, recording each flight; the server's events."""
        events: list[Any] = []
        for _ in range(rounds):
            a = client.data_to_send()
            if a:
                self.send("c", a)
                events += server.receive_data(a)
            b = server.data_to_send()
            if b:
                self.send("s", b)
                client.receive_data(b)
        return events

    def get_page(self, client: Any, server: Any) -> None:
        """The client's GET of /index.html and the server's ``200``, recorded."""
        client.send_application_data(b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
        a = client.data_to_send()
        self.send("c", a)
        server.receive_data(a)
        server.send_application_data(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        self.send("s", server.data_to_send())


@pytest.mark.parametrize(
    "suite", ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305", "AES128-SHA"]
)
def test_tshark_decrypts_with_our_keylog(pki: Certs, tmp_path: Path, suite: str) -> None:
    lines: list[str] = []
    c = TlsClient(
        ClientConfig(
            random=SeededRandom(1), server_name=HOST, trust=make_trust([pki.root]), now=NOW,
            suites=(suite_by_name(suite),), keylog=lines.append,
        )
    )  # fmt: skip
    s = TlsServer(ServerConfig([KeyAndChain(pki.rsa.chain, pki.rsa.key)], SeededRandom(2)))
    flow = Flow()
    c.start()
    flow.shuttle(c, s, 4)
    assert c.established
    flow.get_page(c, s)
    pcap, keylog = tmp_path / "s.pcap", tmp_path / "keys.log"
    wrpcap(str(pcap), flow.pkts)
    keylog.write_text("\n".join(lines) + "\n")
    # one pass with the key log answers every question about the decrypted capture
    rows = table(pcap, "http.request.uri", "http.response.code", "_ws.malformed",
                 "tls.handshake.type", "tls.record.version", "tls.handshake.version",
                 options=["-o", f"tls.keylog_file:{keylog}"])  # fmt: skip
    assert any(has(r, "http.request.uri", "/index.html") for r in rows), rows
    assert any(has(r, "http.response.code", "200") for r in rows), rows
    # tshark finds no malformed packets in our records
    assert [r for r in rows if r["_ws.malformed"]] == []
    # tshark reads the record versions: {3, 1} for the ClientHello's record only (the
    # first occurrence in each frame with a record)
    firsts = [
        [r[f].split(",")[0] for f in ("tls.handshake.type", "tls.record.version",
                                      "tls.handshake.version")]
        for r in rows if r["tls.record.version"]
    ]  # fmt: skip
    hello = [f for f in firsts if f[0] == "1"]
    assert hello == [["1", "0x0301", "0x0303"]], firsts
    assert len(firsts) >= 4 and all(f[1] == "0x0303" for f in firsts if f[0] != "1"), firsts
    # and without the key log, nothing is readable
    res = subprocess.run(
        ["tshark", "-r", str(pcap), "-Y", "http"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0 and res.stdout.strip() == "", res
