"""``minternet tcp-transfer`` in the default world, judged by its report and by tshark."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

CLIENT = ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"]
SERVER = ["CLOSED", "LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]


def test_transfer_report(run_cli) -> None:  # type: ignore[no-untyped-def]
    out = json.loads(run_cli("tcp-transfer", "--size", "200000", "--json").stdout)
    assert out["intact"] is True
    sha = out["sha256"]
    assert sha["sent_up"] == sha["received_up"] and sha["sent_down"] == sha["received_down"]
    h = out["handshake"]
    assert h["synack_ack"] == (h["client_isn"] + 1) % 2**32
    assert [s["state"] for s in out["states"]["client"]] == CLIENT
    assert [s["state"] for s in out["states"]["server"]] == SERVER
    assert out["client"]["address"].startswith("192.168.1.10:")
    assert out["server"]["address"] == "93.184.216.34:443"
    assert out["retransmissions"] == {"client": 0, "server": 0}
    assert out["goodput_bytes_per_s"]["up"] > 0
    again = json.loads(run_cli("tcp-transfer", "--size", "200000", "--json").stdout)
    assert again == out  # one seed fixes everything


def test_text_output_and_seed_changes_isn(run_cli) -> None:  # type: ignore[no-untyped-def]
    text = run_cli("tcp-transfer", "--size", "5000", "--seed", "7").stdout
    assert "intact (sha256 equal both ways)" in text
    assert "SYN,ACK  seq=Y=" in text and "TIME-WAIT" in text
    other = run_cli("tcp-transfer", "--size", "5000", "--seed", "8").stdout
    isn = [line for line in text.splitlines() if "SYN      seq=X=" in line]
    isn2 = [line for line in other.splitlines() if "SYN      seq=X=" in line]
    assert isn != isn2


def test_bad_arguments_are_one_line(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("tcp-transfer", "--to", "nowhere", check=False)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.tools("tshark")
def test_lossy_transfer_pcapng_is_clean_for_tshark(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pcap = tmp_path / "tcp.pcapng"
    out = json.loads(
        run_cli(
            "tcp-transfer",
            "--size",
            "300000",
            "--loss",
            "0.05",
            "--reorder",
            "0.05",
            "--duplicate",
            "0.02",
            "--pcap",
            str(pcap),
            "--json",
        ).stdout
    )
    assert out["intact"]
    assert out["retransmissions"]["client"] + out["retransmissions"]["server"] > 0

    def tshark(path: Path, *args: str) -> list[str]:
        r = subprocess.run(
            ["tshark", "-r", str(path), "-o", "tcp.check_checksum:TRUE", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return r.stdout.splitlines()

    # The whole capture holds each packet once per interface it crossed (ten views of one
    # segment); Wireshark's stream reassembly cannot tell those apart, so judge the whole
    # capture packet by packet, and one interface's view with full stream analysis.
    # (one pass: a checksum is verified per packet, with or without reassembly)
    errors = "_ws.malformed || _ws.expert.severity >= error"
    bad_checksum = "tcp.checksum.status == 0"  # none anywhere
    assert tshark(pcap, "-o", "tcp.desegment_tcp_streams:FALSE", "-Y",
                  f"{errors} || {bad_checksum}") == []  # fmt: skip
    laptop = tmp_path / "laptop.pcapng"
    tshark(pcap, "-Y", 'frame.interface_name == "laptop/eth0"', "-w", str(laptop))
    assert len(tshark(laptop, "-Y", "tcp")) > 300
    # The transfer's bytes are not TLS, though they go to port 443: decoded as TLS, tshark
    # 4.0 reports a "reassembly error" for an exact duplicate of a segment its TLS
    # desegmentation already consumed (seen with seed 1 since the laptop joins by DHCP).
    raw = ("-d", "tcp.port==443,data")
    assert tshark(laptop, *raw, "-Y", errors) == []
    # and every byte that reached the laptop more than once was the same each time
    seen: dict[tuple[str, int], int] = {}
    for line in tshark(laptop, *raw, "-Y", "tcp.len > 0", "-T", "fields", "-e", "ip.src",
                       "-e", "tcp.seq_raw", "-e", "data.data"):  # fmt: skip
        src, seq, data = line.split("\t")
        for k, byte in enumerate(bytes.fromhex(data)):
            key = (src, (int(seq) + k) % 2**32)
            assert seen.setdefault(key, byte) == byte, f"{src} seq {key[1]} changed"
    assert tshark(laptop, "-Y", "tcp.analysis.retransmission || tcp.analysis.fast_retransmission")


def test_same_seed_byte_identical_pcapng(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = [tmp_path / "a.pcapng", tmp_path / "b.pcapng"]
    for p in paths:
        run_cli("tcp-transfer", "--size", "50000", "--loss", "0.05", "--pcap", str(p))
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_timeline_shows_relative_and_absolute_numbers(run_cli) -> None:  # type: ignore[no-untyped-def]
    out = json.loads(run_cli("tcp-transfer", "--size", "3000", "--timeline", "--json").stdout)
    events = out["timeline"]
    synack_in = next(
        e
        for e in events
        if e["node"] == "laptop" and e["kind"] == "recv" and e["fields"]["flags"] == "SYN,ACK"
    )
    assert synack_in["fields"]["rel_seq"] == 0 and synack_in["fields"]["rel_ack"] == 1
    assert synack_in["fields"]["ack"] == (out["handshake"]["client_isn"] + 1) % 2**32
    text = run_cli("tcp-transfer", "--size", "3000", "--timeline").stdout
    assert "SYN-SENT → ESTABLISHED" in text and "[SYN,ACK] seq=0" in text
