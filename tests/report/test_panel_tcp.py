"""The TCP panel judged by tshark: for a lossy fetch and a lossy tcp-transfer, the panel's
retransmission marks are the segments Wireshark's TCP analysis calls resent at the
sender's own capture point, its last ACK is tshark's last ``tcp.ack`` towards the sender,
each mark's ``data-frame`` is a frame tshark reads as that segment, and the states strip
ends as the run's connections did.

Wireshark at the sender's interface labels a resent segment either ``retransmission`` or
— when it leaves within one round trip of the highest segment so far — ``out_of_order``
(its heuristic for data that overtook other data, packet-tcp.c); at the sender's own
egress nothing can overtake, so both labels (and ``spurious_retransmission``) mean "sent
again", and together they must be exactly our marks.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from panel_dom import capture_point, has, having, minternet, parse, table

from clitools import cli_env
from minternet.apps.fetch_run import FetchOptions, run_fetch
from minternet.apps.tcp_transfer import run_transfer
from minternet.cli.fetch_story import captured
from minternet.report.panels import tcp_panel_html
from minternet.sim.faults import Faults
from minternet.sim.world import load_world
from minternet.trace.bus import EventLog, FrameRecord, TraceEvent
from minternet.trace.pcapng import PcapngWriter

pytestmark = pytest.mark.tools("tshark")

#: tshark's labels of a segment sent again (any of them; see the module docstring).
RESENT = (
    "tcp.analysis.retransmission",
    "tcp.analysis.out_of_order",
    "tcp.analysis.spurious_retransmission",
)


@dataclass
class Run:
    events: list[TraceEvent]
    frames: list[FrameRecord]
    pcap: Path
    addresses: dict[str, str]  # node -> its address
    final_states: dict[str, str]  # node -> the state its connection ended in
    html: str


@pytest.fixture(scope="module")
def fetch_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    pcap = tmp_path_factory.mktemp("fetch") / "fetch.pcapng"
    proc = minternet("fetch", "--loss", "0.1", "--seed", "9", "-q", "--pcap", str(pcap))
    assert proc.returncode == 0, proc.stderr
    run = run_fetch(FetchOptions(seed=9, faults=Faults(loss=0.1)))  # what the command ran
    ends: dict[str, str] = {}
    for e in run.log.events:
        if e.layer == "tcp" and e.kind == "state":
            ends[e.node] = str(e.fields["new"])
    addresses = {n: run.world.node(n).address for n in ("laptop", "www")}
    frames = captured(run, {name for name, _ in run.world.capture_points()})  # the pcapng's
    html = tcp_panel_html(run.log.events, frames)
    return Run(run.log.events, frames, pcap, addresses, ends, html)


@pytest.fixture(scope="module")
def transfer_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``tcp-transfer --size 2000000 --loss 0.05``: the same run on the command line (its
    pcapng) and here (its events and frames; the capture is rebuilt byte for byte)."""
    pcap = tmp_path_factory.mktemp("transfer") / "transfer.pcapng"
    args = ("--size", "2000000", "--loss", "0.05", "--seed", "2")
    proc = minternet("tcp-transfer", *args, "--pcap", str(pcap))
    assert proc.returncode == 0, proc.stderr
    world = load_world(None, seed=2, faults=Faults(loss=0.05))
    log = EventLog()
    world.trace.subscribe(log)
    frames: list[FrameRecord] = []
    world.trace.subscribe_frames(frames.append)
    report = run_transfer(
        world, world.node("laptop"), world.node("www"), size=2_000_000, faults=Faults(loss=0.05)
    )
    assert report["intact"]
    writer = PcapngWriter(world.interfaces())
    for fr in frames:
        writer(fr)
    assert writer.getvalue() == pcap.read_bytes(), "not the same run as the command line's"
    ends = {
        "laptop": report["final"]["client"]["state"],
        "www": report["final"]["server"]["state"],
    }
    addresses = {n: world.node(n).address for n in ("laptop", "www")}
    return Run(log.events, frames, pcap, addresses, ends, tcp_panel_html(log.events, frames))


def _end(root: ET.Element, node: str) -> ET.Element:
    (fig,) = [f for f in having(root, "mp-tcp-end") if f.get("data-node") == node]
    return fig


#: What the checks read of every frame at one capture point (one tshark pass per point).
POINT_FIELDS = (
    "ip.src", "ip.dst", "tcp.flags.syn", "tcp.flags.ack", "tcp.seq", "tcp.seq_raw",
    "tcp.ack", "tcp.window_size", *RESENT,
)  # fmt: skip
#: What they read of the frames of the whole capture that marks name (one pass per run).
WHOLE_FIELDS = (
    "frame.number", "frame.interface_name", "frame.packet_flags_direction", "tcp.seq_raw",
    "tcp.options.sack_le", "tcp.options.sack_re",
)  # fmt: skip


def _resent(row: dict[str, str]) -> bool:
    """The display filter ``RESENT``: tshark flagged the segment with one of the labels."""
    return any(row[label] for label in RESENT)


def _frame(whole: list[dict[str, str]], el: ET.Element) -> dict[str, str]:
    """tshark's row of the frame an element names (``data-frame`` counts from 0)."""
    index = int(el.get("data-frame", "-1"))
    assert 0 <= index < len(whole), el.attrib
    assert whole[index]["frame.number"] == str(index + 1)
    return whole[index]


def _check_against_tshark(run: Run, tmp_path: Path) -> list[dict[str, str]]:
    """Every number the panel shows against tshark's reading of the run's capture (each
    question a selection of rows tshark printed: one pass per file, not one per
    question). Returns tshark's rows of the whole capture."""
    root = parse(run.html)
    whole = table(run.pcap, *WHOLE_FIELDS)  # row i is frame i + 1
    for node in ("laptop", "www"):
        fig = _end(root, node)
        addr = run.addresses[node]
        iface = next(f"{fr.node}/{fr.iface}" for fr in run.frames if fr.node == node)
        here = table(capture_point(run.pcap, iface, tmp_path / f"{node}.pcapng"), *POINT_FIELDS)
        # the retransmission marks: one per segment tshark says was sent again
        marks = having(fig, "mp-retx")
        theirs = [r for r in here if has(r, "ip.src", addr) and _resent(r)]
        assert len(marks) == len(theirs)
        assert sorted(int(m.get("data-seq", "-1")) for m in marks) == sorted(
            int(r["tcp.seq"]) for r in theirs
        )
        assert fig.get("data-retransmissions") == str(len(theirs))
        # each mark's frame is, in the whole capture, that segment leaving this node
        if marks:
            iss = int(next(r["tcp.seq_raw"] for r in here
                           if has(r, "ip.src", addr) and has(r, "tcp.flags.syn", "1")))  # fmt: skip
            assert len({m.get("data-frame") for m in marks}) == len(marks)  # distinct frames
            for m in marks:
                got = _frame(whole, m)
                assert got["frame.interface_name"] == iface
                assert int(got["frame.packet_flags_direction"], 16) == 2  # outbound
                seq = (int(got["tcp.seq_raw"]) - iss) % 2**32
                assert seq in {int(m.get("data-seq", "")) for m in marks}
        # the last ACK that reached this end
        acks = [r for r in here if has(r, "ip.dst", addr) and has(r, "tcp.flags.ack", "1")]
        (final,) = having(fig, "mp-ack-final")
        assert final.get("data-ack") == acks[-1]["tcp.ack"] == fig.get("data-final-ack")
        # the right edge of the window offered last: ACK + the scaled window, as tshark
        # works it out from the SYNs' window-scale options
        last = acks[-1]
        edge = int(last["tcp.ack"]) + int(last["tcp.window_size"])
        assert fig.get("data-final-window-edge") == str(edge)
        # SACK blocks: each one is in the SACK option of the frame it names
        for el in having(fig, "mp-sack")[:60]:
            row = _frame(whole, el)
            le, ri = row["tcp.options.sack_le"], row["tcp.options.sack_re"]
            blocks = list(zip(map(int, le.split(",")), map(int, ri.split(",")), strict=True))
            assert (int(el.get("data-left", "")), int(el.get("data-right", ""))) in blocks
        # the states strip ends where the run's connection ended
        states = [el.get("data-state") for el in having(fig, "mp-state")]
        assert states[-1] == run.final_states[node] == fig.get("data-final-state")
    return whole


def test_fetch_panel_matches_tshark(fetch_run: Run, tmp_path: Path) -> None:
    whole = _check_against_tshark(fetch_run, tmp_path)
    assert len(whole) == len(fetch_run.frames)  # the same run, same points
    root = parse(fetch_run.html)
    assert having(root, "mp-retx")  # this seed loses some of www's segments
    assert having(root, "mp-sack")  # and the laptop tells www what it holds
    laptop = [el.get("data-state") for el in having(_end(root, "laptop"), "mp-state")]
    assert laptop[-2:] == ["TIME-WAIT", "CLOSED"]  # the seed's phase 4


def test_transfer_panel_matches_tshark_and_stays_small(transfer_run: Run, tmp_path: Path) -> None:
    """Tens of thousands of frames: bars and lines are thinned to the pixel, every
    retransmission and every loss keeps its mark, and the fragment stays small. (One test,
    so the two-megabyte run is made once however the tests are spread over workers.)"""
    root = parse(transfer_run.html)
    assert all(having(_end(root, node), "mp-retx") for node in ("laptop", "www"))
    _check_against_tshark(transfer_run, tmp_path)
    size = len(transfer_run.html.encode())
    assert size < 3_000_000, size
    root = parse(transfer_run.html)
    for node in ("laptop", "www"):
        fig = _end(root, node)
        assert int(fig.get("data-segments", "0")) > 1300
        bars = having(fig, "mp-seg")
        assert len(bars) <= 1500  # merged per pixel column
        assert sum(int(b.get("data-count", "1")) for b in bars) + len(having(fig, "mp-retx")) == (
            int(fig.get("data-segments", "0"))
            - sum(1 for e in _pure_acks(transfer_run.events, node))
        )
        # every loss of this end's data is marked, at a frame that left the link's sender
        lost = having(fig, "mp-drop-data")
        assert len(lost) == int(fig.get("data-lost", "-1")) > 0
        for el in lost:
            fr = transfer_run.frames[int(el.get("data-frame", "-1"))]
            assert fr.direction == "out"


def _pure_acks(events: Sequence[TraceEvent], node: str) -> list[dict[str, Any]]:
    """This end's segments that occupy no sequence space (pure ACKs): not drawn as bars."""
    return [
        e.fields
        for e in events
        if e.layer == "tcp" and e.kind == "send" and e.node == node
        and e.fields["len"] == 0 and not {"SYN", "FIN"} & set(str(e.fields["flags"]).split(","))
    ]  # fmt: skip


_SCRIPT = """
import hashlib, sys
from minternet.apps.fetch_run import FetchOptions, run_fetch
from minternet.report.facts import run_facts
from minternet.report.panels import tcp_panel_html, tls_panel_html
from minternet.sim.faults import Faults
run = run_fetch(FetchOptions(seed=9, faults=Faults(loss=0.1)))
page = tcp_panel_html(run.log.events, run.frames)
page += tls_panel_html(run_facts(run), run.keylog, run.frames)
print(hashlib.sha256(page.encode()).hexdigest())
"""


def test_same_seed_same_bytes(fetch_run: Run) -> None:
    """Two interpreters with different hash seeds draw the same bytes."""
    digests = []
    for hash_seed in ("1", "2"):
        env = {**cli_env(), "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, env=env,
            timeout=300, check=True,
        )  # fmt: skip
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1]
    assert len(digests[0]) == 64
    again = tcp_panel_html(fetch_run.events, fetch_run.frames)
    assert (
        hashlib.sha256(again.encode()).hexdigest()
        == hashlib.sha256(fetch_run.html.encode()).hexdigest()
    )


def test_no_frames_no_links(fetch_run: Run) -> None:
    """Without the capture the panel is drawn the same, only without ``data-frame``."""
    plain = tcp_panel_html(fetch_run.events)
    assert "data-frame" not in plain
    root = parse(plain)
    assert len(having(root, "mp-retx")) == len(having(parse(fetch_run.html), "mp-retx"))
