"""pcapng: tshark reads it cleanly, hops differ only where routing says, same seed same bytes."""

from __future__ import annotations

import hashlib
import itertools
import shutil
import subprocess
from pathlib import Path

import pytest
from netutil import run

from minternet.apps.ping import ping
from minternet.sim.faults import Faults
from minternet.sim.world import World
from minternet.trace.bus import FrameRecord
from minternet.trace.pcapng import PcapngWriter
from tshark_table import WARNING, severity_at_least, table

tshark = shutil.which("tshark")
needs_tshark = pytest.mark.tools("tshark")


def capture(seed: int = 1, faults: Faults | None = None, count: int = 3) -> tuple[World, bytes]:
    w = World.default(seed=seed, faults=faults)
    cap = PcapngWriter(w.interfaces())
    w.trace.subscribe_frames(cap)
    run(w, ping(w.node("laptop"), "93.184.216.34", count=count, interval=0.2))
    w.run(until=w.loop.now() + 1)
    return w, cap.getvalue()


def _tshark(path: Path, *args: str) -> list[list[str]]:
    out = subprocess.run(
        [str(tshark), "-r", str(path), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [line.split("\t") for line in out.stdout.splitlines() if line]


@needs_tshark
def test_tshark_reads_every_frame_with_no_malformed_packets(tmp_path: Path) -> None:
    _, data = capture(faults=Faults(loss=0.05, reorder=0.1, duplicate=0.05), count=10)
    p = tmp_path / "ping.pcapng"
    p.write_bytes(data)
    rows = table(p, "frame.number", "frame.interface_name", "frame.packet_id",
                 "frame.p2p_dir", "frame.comment", "_ws.malformed", "_ws.expert.severity",
                 "_ws.expert.message")  # fmt: skip
    assert len(rows) > 50
    assert {r["frame.interface_name"] for r in rows} >= {
        "laptop/eth0", "home-router/eth1", "www/eth0"
    }  # fmt: skip
    assert all(r["frame.packet_id"] for r in rows)  # every frame carries a packet id
    assert any("forwards" in r["frame.comment"] for r in rows)
    bad = [r for r in rows if r["_ws.malformed"] or severity_at_least(r, WARNING)]
    assert bad == []


@needs_tshark
def test_corrupted_frames_show_as_bad_checksums_never_malformed(tmp_path: Path) -> None:
    w, data = capture(faults=Faults(corrupt=0.2), count=20)
    assert w.trace.counters.get("sim.corrupted", 0) > 0
    p = tmp_path / "corrupt.pcapng"
    p.write_bytes(data)
    rows = table(p, "frame.number", "frame.packet_id", "_ws.malformed", "_ws.expert.severity",
                 "_ws.expert.message")  # fmt: skip
    assert [r for r in rows if r["_ws.malformed"]] == []
    # Flipped bits make bad checksums (or a bad length field): tshark warns about those
    # frames — never about a packet as its sender first sent it, only after a faulty wire
    # (routers check the IP header checksum only, so they pass on a corrupted payload).
    warned = [r for r in rows if severity_at_least(r, WARNING)]
    first_of_packet: dict[str, str] = {}
    for r in rows:
        first_of_packet.setdefault(r["frame.packet_id"], r["frame.number"])
    assert warned and not {r["frame.number"] for r in warned} & set(first_of_packet.values())
    assert any("Bad checksum" in r["_ws.expert.message"] for r in warned)


def _hops_of_first_echo(path: Path) -> list[list[str]]:
    rows = _tshark(
        path,
        "-Y",
        "icmp.type == 8 && icmp.seq == 1 && frame.p2p_dir == 0",
        "-T",
        "fields",
        "-e",
        "frame.interface_name",
        "-e",
        "frame.packet_id",
    )
    return rows


@needs_tshark
def test_frames_of_one_packet_at_successive_hops_differ_only_in_macs_ttl_checksum(
    tmp_path: Path,
) -> None:
    _, data = capture()
    recs: list[FrameRecord] = []
    w2 = World.default()
    w2.trace.subscribe_frames(recs.append)
    run(w2, ping(w2.node("laptop"), "93.184.216.34", count=1))
    first_echo = next(r for r in recs if r.data[23] == 1 and r.data[34] == 8)
    frames = [r for r in recs if r.packet_id == first_echo.packet_id and r.direction == "out"]
    assert [f"{r.node}/{r.iface}" for r in frames] == [
        "laptop/eth0",
        "home-router/eth1",
        "isp-router/eth2",
        "transit/eth1",
        "dc-router/eth1",
    ]
    for prev, cur in itertools.pairwise(frames):
        a, b = prev.data, cur.data
        assert len(a) == len(b)
        diff = {i for i in range(len(a)) if a[i] != b[i]}
        allowed = set(range(0, 12)) | {14 + 8} | {14 + 10, 14 + 11}  # MACs, TTL, checksum
        if cur.node == "home-router":  # NAT: the source address, the echo id, ICMP checksum
            allowed |= set(range(14 + 12, 14 + 16)) | {34 + 2, 34 + 3, 34 + 4, 34 + 5}
        assert diff <= allowed, sorted(diff - allowed)
        assert b[22] == a[22] - 1
        assert b[6:12] != a[6:12] and b[0:6] != a[0:6]  # a new Ethernet header on every hop
    # And the same packet id marks each router's ingress and egress frames.
    p = tmp_path / "p.pcapng"
    p.write_bytes(data)
    rows = _tshark(
        p,
        "-Y",
        "icmp.type == 8 && icmp.seq == 1",
        "-T",
        "fields",
        "-e",
        "frame.interface_name",
        "-e",
        "frame.packet_id",
    )
    ids = {r[1] for r in rows}
    assert len(ids) == 1
    names = [r[0] for r in rows]
    for router in ("home-router", "isp-router", "transit", "dc-router"):
        assert sum(n.startswith(router + "/") for n in names) == 2


def test_same_seed_gives_identical_pcapng_bytes() -> None:
    faults = Faults(loss=0.2, reorder=0.1, duplicate=0.1, corrupt=0.05)
    _, a = capture(seed=5, faults=faults, count=8)
    _, b = capture(seed=5, faults=faults, count=8)
    _, c = capture(seed=6, faults=faults, count=8)
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest()
    assert a != c


@needs_tshark
def test_decryption_secrets_block_is_accepted(tmp_path: Path) -> None:
    w, _ = capture(count=1)
    cap = PcapngWriter(w.interfaces())
    cap.add_decryption_secrets("CLIENT_RANDOM " + "00" * 32 + " " + "11" * 48 + "\n")
    p = tmp_path / "dsb.pcapng"
    p.write_bytes(cap.getvalue())
    data = p.read_bytes()
    assert data[:4] == b"\x0a\x0d\x0d\x0a"
    # The DSB follows the SHB directly: block type 10, secrets type "TLSK".
    shb_len = int.from_bytes(data[4:8], "little")
    assert int.from_bytes(data[shb_len : shb_len + 4], "little") == 0x0A
    assert data[shb_len + 8 : shb_len + 12] == (0x544C534B).to_bytes(4, "little")
    out = subprocess.run([str(tshark), "-r", str(p)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
