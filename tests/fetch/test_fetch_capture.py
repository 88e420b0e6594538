"""One capture proves the whole seed: tshark 4.0, with its default settings, reads the
DEFAULT ``minternet fetch --pcap`` file (one capture point per link-layer segment, merged by
time) and finds every step of the four phases in it — the DNS walk, the three-way
handshake's numbers, every TLS 1.2 handshake message with both Finished decrypted, the
decrypted GET and 200, one packet's copies hop by hop, and the four-way close — with no
retransmission, duplicate or out-of-order note on the laptop's copies of a clean run.

Everything asserted here is tshark's reading of the bytes, not our own objects.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from clitools import CliRunner

pytestmark = pytest.mark.tools("tshark")

LAPTOP = "laptop/eth0"
SERVER = "93.184.216.34"
ROOT, COM, IANA = "198.41.0.4", "192.5.6.30", "199.43.135.53"
FIELDS = (
    "frame.number",
    "frame.interface_name",
    "eth.src",
    "eth.dst",
    "ip.src",
    "ip.dst",
    "ip.id",
    "ip.ttl",
    "tcp.flags",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.len",
    "tls.handshake.type",
    "tls.record.content_type",
    "tls.handshake.extensions_server_name",
    "dns.flags.response",
    "dns.qry.name",
    "dns.a",
    "http.request.method",
    "http.request.uri",
    "http.response.code",
    "tcp.analysis.flags",
    "_ws.expert.message",
)
SYN, ACK, FIN, RST = 0x02, 0x10, 0x01, 0x04


@dataclass
class Row:
    f: dict[str, str]

    def __getitem__(self, k: str) -> str:
        return self.f[k]

    @property
    def iface(self) -> str:
        return self.f["frame.interface_name"]

    @property
    def flags(self) -> int:
        return int(self.f["tcp.flags"], 16) if self.f["tcp.flags"] else 0

    def ints(self, k: str) -> list[int]:
        return [int(v) for v in self.f[k].split("|") if v]


def read(pcap: Path) -> list[Row]:
    """Every frame as tshark 4.0 dissects it with default settings (two passes, so TCP
    analysis and TLS decryption are what Wireshark shows)."""
    args = ["tshark", "-r", str(pcap), "-2", "-T", "fields", "-E", "occurrence=a"]
    args += ["-E", "aggregator=|", "-E", "separator=\t"]
    for name in FIELDS:
        args += ["-e", name]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=120).stdout
    return [Row(dict(zip(FIELDS, line.split("\t"), strict=True))) for line in out.splitlines()]


def check_dns(rows: list[Row]) -> None:
    """The resolver's queries reach the root, .com and example.com's server in that order,
    and the laptop receives the A record."""
    asked = [
        r["ip.dst"]
        for r in rows
        if r["dns.flags.response"] == "0" and r["ip.dst"] in (ROOT, COM, IANA)
    ]
    firsts = [asked.index(s) for s in (ROOT, COM, IANA)]
    assert firsts == sorted(firsts), asked
    answers = [
        r
        for r in rows
        if r.iface == LAPTOP and r["dns.flags.response"] == "1" and SERVER in r["dns.a"]
    ]
    assert answers and answers[0]["ip.dst"] == "192.168.1.10"
    assert answers[0]["dns.qry.name"] == "www.example.com"


def check_handshake(lap: list[Row]) -> tuple[int, int]:
    syn = next(r for r in lap if r.flags == SYN)
    synack = next(r for r in lap if r.flags == SYN | ACK)
    x, y = int(syn["tcp.seq_raw"]), int(synack["tcp.seq_raw"])
    assert int(synack["tcp.ack_raw"]) == (x + 1) % 2**32
    third = lap[lap.index(synack) + 1]
    assert third.flags == ACK and third["ip.src"] == syn["ip.src"]
    assert int(third["tcp.seq_raw"]) == (x + 1) % 2**32
    assert int(third["tcp.ack_raw"]) == (y + 1) % 2**32
    return x, y


def check_tls(lap: list[Row], *, ske: bool) -> None:
    """ClientHello(SNI) → ServerHello → Certificate → [ServerKeyExchange] → ServerHelloDone
    → ClientKeyExchange → ChangeCipherSpec → Finished, both ways; the Finished are
    decrypted (tshark names them only when it can read them)."""
    seen: list[tuple[str, str]] = []
    for r in lap:
        who = "c" if r["ip.src"] != SERVER else "s"
        types = r["tls.record.content_type"].split("|")
        hs = iter(r.ints("tls.handshake.type"))
        for ct in types:
            if ct == "20":
                seen.append((who, "ccs"))
            elif ct == "22":
                t = next(hs, None)
                seen.append((who, str(t)))
                # several messages in one record
                if who == "s" and t == 2:
                    seen.extend((who, str(m)) for m in hs)
    expect = [("c", "1"), ("s", "2"), ("s", "11")]
    expect += [("s", "12")] if ske else []
    expect += [("s", "14"), ("c", "16"), ("c", "ccs"), ("c", "20"), ("s", "ccs"), ("s", "20")]
    assert seen[: len(expect)] == expect, seen
    hello = next(r for r in lap if "1" in r["tls.handshake.type"].split("|"))
    assert hello["tls.handshake.extensions_server_name"] == "www.example.com"


def check_http(lap: list[Row]) -> None:
    gets = [r for r in lap if r["http.request.method"] == "GET"]
    assert [r["http.request.uri"] for r in gets] == ["/index.html"]
    assert [r["http.response.code"] for r in lap if r["http.response.code"]] == ["200"]


def check_hops(rows: list[Row]) -> None:
    """One IP packet of the laptop's request: the same IP id on ≥ 4 capture points, its TTL
    one lower at each, and new MAC addresses at each."""
    by_id: dict[str, list[Row]] = {}
    for r in rows:
        if r["ip.dst"] == SERVER and r["tcp.len"] not in ("", "0"):
            by_id.setdefault(r["ip.id"], []).append(r)
    path = next(p for p in by_id.values() if p[0].iface == LAPTOP)
    assert len({r.iface for r in path}) >= 4, [r.iface for r in path]
    ttls = [int(r["ip.ttl"]) for r in path]
    assert ttls == list(range(64, 64 - len(path), -1)), ttls
    macs = [(r["eth.src"], r["eth.dst"]) for r in path]
    assert len(set(macs)) == len(macs), macs
    assert path[0]["ip.src"] == "192.168.1.10" and path[1]["ip.src"] == "203.0.113.2"  # NAT


def check_close(lap: list[Row]) -> None:
    """FIN, ACK, FIN, ACK: the client's FIN, the server's ACK of it, the server's FIN, the
    client's ACK of that. The server may first ACK the client's close_notify on its own (a
    quick ACK: its first data after a pause, as Linux acknowledges it)."""
    start = next(i for i, r in enumerate(lap) if r.flags & FIN)
    close = [r for r in lap[start:] if r.flags & (FIN | ACK) and r["tcp.len"] == "0"]
    cfin = close[0]
    assert cfin["ip.src"] != SERVER and cfin.flags & FIN
    fin_seq = int(cfin["tcp.seq_raw"])
    acks = [int(r["tcp.ack_raw"]) for r in close if r["ip.src"] == SERVER]
    assert acks[0] in (fin_seq, (fin_seq + 1) % 2**32)  # the close_notify's, or the FIN's
    assert (fin_seq + 1) % 2**32 in acks[:2]
    sfin = next(r for r in close if r["ip.src"] == SERVER and r.flags & FIN)
    last = close[-1]
    assert last["ip.src"] != SERVER and not last.flags & FIN
    assert int(last["tcp.ack_raw"]) == (int(sfin["tcp.seq_raw"]) + 1) % 2**32
    assert not any(r.flags & RST for r in lap)


def check_laptop_clean(lap: list[Row]) -> None:
    """No TCP analysis note of a problem on the laptop's copies: each segment is there once."""
    bad = ("retransmission", "duplicate", "dup ack", "out-of-order", "previous segment")
    for r in lap:
        note = r["_ws.expert.message"].lower()
        assert not any(b in note for b in bad), (r["frame.number"], note)


@pytest.mark.parametrize(
    ("args", "ske"),
    [
        ((), True),
        (("--kex", "rsa"), False),
        (("--cipher", "ECDHE-RSA-AES128-SHA256"), True),  # CBC + HMAC (encrypt_then_mac)
    ],
    ids=["seed1", "kex-rsa", "cbc"],
)
def test_default_capture_proves_the_seed(
    args: tuple[str, ...], ske: bool, tmp_path: Path, run_cli: CliRunner
) -> None:
    pcap = tmp_path / "run.pcapng"
    run_cli("fetch", "-q", "--seed", "1", "--pcap", str(pcap), *args)
    rows = read(pcap)
    lap = [r for r in rows if r.iface == LAPTOP and r["tcp.flags"]]
    check_dns(rows)
    check_handshake(lap)
    check_tls(lap, ske=ske)
    check_http(lap)
    check_hops(rows)
    check_close(lap)
    check_laptop_clean(lap)
