"""TLS records of lossy runs told where tshark reassembles them.

Under loss and reordering a capture point sees a flow's segments out of sequence order: a
segment lost before the point comes again later, one the link reordered comes after the one
behind it. Two such orders are checked, each on runs where the capture has it:

- the flow's first data segment (at ISN + 1) arrives after a later one (the server's first
  flight segment lost: the ServerHello comes after the rest of its flight);
- a TLS record starts inside a segment that arrived before the bytes in front of it.

tshark reads each capture point's frames (split out of the run's pcapng, so that its TCP
analysis sees one point's segments) with the run's key log and its out-of-order TCP
reassembly on (``tcp.reassemble_out_of_order``; off by default in tshark 4.0, which then
reassembles nothing past a hole). Every TLS record tshark decrypts — each ``Decrypted TLS``
data source of a frame, in the frame whose arrival completed the record ("Reassembled in")
— is decrypted on the page in that frame, which names the same handshake messages (in the
clear and decrypted), the same GET and URI, status and alerts. Frames tshark calls a
retransmission it does not dissect again; the page tells a copy of a record again (so it
may decrypt more there), and elsewhere decrypts exactly what tshark does.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from panel_dom import capture_point, minternet
from test_html_tls13 import ALERTS, page_model

from tshark_table import table

pytestmark = pytest.mark.tools("tshark")

FIELDS = (
    "tls.handshake.type",
    "http.request.method",
    "http.request.uri",
    "http.response.code",
    "tls.alert_message.desc",
)
#: The page's names of the handshake messages a TLS 1.2 record holds in the clear, and
#: their HandshakeType (RFC 5246 §7.4): a reassembled record lists them as text.
HANDSHAKE_TYPES = {
    "Client Hello": 1,
    "Server Hello": 2,
    "Certificate": 11,
    "Server Key Exchange": 12,
    "Server Hello Done": 14,
    "Client Key Exchange": 16,
    "Finished": 20,
}
LOSSY = ("--loss", "0.15", "--reorder", "0.1")


def decrypted_records(pcap: Path, options: tuple[str, ...]) -> Counter[int]:
    """Per frame number, the records tshark decrypted there (its ``Decrypted TLS`` data
    sources, printed by ``-x`` after the frame's summary line)."""
    out = subprocess.run(
        ["tshark", "-r", str(pcap), *options, "-P", "-x"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    counts: Counter[int] = Counter()
    frame = 0
    for line in out.splitlines():
        summary = re.match(r"\s*(\d+)\s+\d+\.\d+\s", line)
        if summary:
            frame = int(summary.group(1))
        elif line.startswith("Decrypted TLS ("):
            counts[frame] += 1
    return counts


def out_of_order(rows: list[dict[str, str]]) -> dict[str, set[str]]:
    """The capture points where some flow's data arrived out of order, by case: ``first``
    (a segment before the one at ISN + 1) and ``inside`` (a TLS record starts in a segment
    that came before the bytes in front of it). ``rows``: the whole capture's frames."""
    flows: dict[tuple[str, str, str], list[tuple[int, bytes]]] = defaultdict(list)
    for r in rows:
        if r["tcp.len"] not in ("", "0") and "443" in (r["tcp.srcport"], r["tcp.dstport"]):
            key = (r["frame.interface_name"], r["tcp.stream"], r["tcp.srcport"])
            payload = bytes.fromhex(r["tcp.payload"].replace(":", ""))
            flows[key].append((int(r["tcp.seq"]) - 1, payload))  # relative: ISN + 1 is 1
    found: dict[str, set[str]] = defaultdict(set)
    for (point, _, _), segments in flows.items():
        whole: dict[int, int] = {}
        for off, payload in segments:
            for k, b in enumerate(payload):
                whole.setdefault(off + k, b)
        data = bytes(whole.get(k, 0) for k in range(max(whole) + 1))
        starts, r = [], 0
        while r + 5 <= len(data):
            starts.append(r)
            r += 5 + int.from_bytes(data[r + 3 : r + 5], "big")
        end, have = 0, set()
        for off, payload in segments:
            if off > end:
                if end == 0:
                    found["first"].add(point)
                if any(off <= s < off + len(payload) for s in starts):
                    found["inside"].add(point)
            have.update(range(off, off + len(payload)))
            while end in have:
                end += 1
    return found


def page_frames(model: dict[str, Any]) -> dict[int, tuple[int, dict[str, str]]]:
    """Per captured frame (its number in the pcapng): the records the page decrypted in it
    (layers with a decrypted field) and what it names, in tshark's terms."""
    strings: list[str] = model["strings"]
    f = model["f"]
    out: dict[int, tuple[int, dict[str, str]]] = {}
    for k, number in enumerate(f["no"]):
        if not number:
            continue
        opened = 0
        found: dict[str, list[str]] = {name: [] for name in FIELDS}
        for layer in model["trees"][f["tree"][k]]:
            rows = [(strings[r[0]], strings[r[4]]) for r in layer[3] if r[3] == "t"]
            opened += any(name.startswith("Decrypted") for name, _ in rows)
            types13 = any(name == "Decrypted: Handshake type" for name, _ in rows)
            for name, text in rows:
                if name in ("Handshake type", "Decrypted: Handshake type"):
                    found["tls.handshake.type"].append(text.rsplit("(", 1)[1].rstrip(")"))
                elif name == "Handshake messages":  # a reassembled record in the clear
                    for message in text.split(", "):
                        t = HANDSHAKE_TYPES[message.split(" (")[0]]
                        found["tls.handshake.type"].append(str(t))
                elif name == "Decrypted: Finished, verify_data" and not types13:  # TLS 1.2
                    found["tls.handshake.type"].append("20")
                elif name == "Decrypted HTTP" and re.match(r"HTTP/1\.1 \d{3} ", text):
                    found["http.response.code"].append(text.split()[1])
                elif name == "Decrypted HTTP" and re.match(r"[A-Z]+ \S+ HTTP/1\.1$", text):
                    method, uri, _ = text.split()
                    found["http.request.method"].append(method)
                    found["http.request.uri"].append(uri)
                elif name == "Decrypted: Alert":
                    found["tls.alert_message.desc"].append(ALERTS.get(text, text))
        out[number] = (opened, {name: ",".join(v) for name, v in found.items()})
    return out


def check_against_tshark(tmp_path: Path, case: str, *args: str) -> tuple[int, int, int]:
    """Fetch with ``args``; at each capture point where the capture has ``case``, the
    page against tshark. Returns (records tshark decrypted there, how many the page
    decrypted in the same frames, the number of those capture points)."""
    html, pcap, keys = tmp_path / "run.html", tmp_path / "run.pcapng", tmp_path / "keys.txt"
    proc = minternet("fetch", "-q", *args, "--html", str(html), "--pcap", str(pcap),
                     "--no-pcap-secrets", "--keylog", str(keys))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    every = table(pcap, "frame.interface_name", "tcp.stream", "tcp.srcport", "tcp.dstport",
                  "tcp.seq", "tcp.len", "tcp.payload")  # fmt: skip
    points = sorted(out_of_order(every)[case])
    assert points, f"the run has no {case!r} case: pick another seed"
    page = page_frames(page_model(html))
    options = ("-o", f"tls.keylog_file:{keys}", "-o", "tcp.reassemble_out_of_order:TRUE")
    theirs = ours = 0
    for point in points:
        numbers = [k + 1 for k, r in enumerate(every) if r["frame.interface_name"] == point]
        alone = capture_point(pcap, point, tmp_path / f"{point.replace('/', '_')}.pcapng")
        decrypted = decrypted_records(alone, options)
        for n, row in enumerate(table(alone, "tcp.analysis.flags", *FIELDS, options=options), 1):
            where = f"{point} frame {n} (capture frame {numbers[n - 1]})"
            theirs, ours = same_frame(row, page[numbers[n - 1]], decrypted[n], where, theirs, ours)
    return theirs, ours, len(points)


def same_frame(
    row: dict[str, str], got: tuple[int, dict[str, str]], decrypted: int, where: str,
    theirs: int, ours: int,
) -> tuple[int, int]:  # fmt: skip
    """One frame of a capture point: the page opens at least the records tshark decrypts in
    it, with tshark's names; exactly those in a frame tshark does not call a retransmission
    (the page shows a copy's records again). Returns the running counts (tshark's, ours)."""
    opened, names = got
    want = {name: row[name] for name in FIELDS}
    if decrypted:
        assert opened >= decrypted, where
        assert names == want, where
    if not row["tcp.analysis.flags"]:
        assert (opened, names) == (decrypted, want), where
    return theirs + decrypted, ours + min(opened, decrypted)


@pytest.mark.parametrize(("tls", "seed"), [("1.3", 9), ("1.2", 9)])
def test_first_data_segment_after_a_later_one(tmp_path: Path, tls: str, seed: int) -> None:
    theirs, ours, points = check_against_tshark(tmp_path, "first", "--tls", tls,
                                                "--seed", str(seed), *LOSSY)  # fmt: skip
    # not vacuous: per point the Finished (both), the GET, the answer and the two alerts
    assert ours == theirs >= 6 * points


@pytest.mark.parametrize(("tls", "seed"), [("1.3", 2), ("1.2", 8)])
def test_record_starting_inside_an_early_segment(tmp_path: Path, tls: str, seed: int) -> None:
    theirs, ours, points = check_against_tshark(tmp_path, "inside", "--tls", tls,
                                                "--seed", str(seed), *LOSSY)  # fmt: skip
    assert ours == theirs >= 6 * points
