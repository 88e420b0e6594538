"""Frames with a bad checksum, told and left out as the receiver leaves them out.

``--corrupt`` flips one bit after the Ethernet header (the FCS is not modelled), so the IPv4
header checksum (RFC 791, RFC 1071) or the TCP or UDP checksum over the pseudo-header (RFC
9293 §3.1, RFC 768) catches it: the receiving host drops the packet, the sender
retransmits. The page marks each such frame — its checksum field "[incorrect, should be
0x…]", a warning line, a marker in the Info column — exactly where tshark with checksum
validation on (``ip``/``tcp``/``udp.check_checksum``) says ``checksum.status == 0``
(bad); and a bad segment's bytes are not put into the flow's stream (tshark does not
reassemble them either: "[incorrect TCP checksum]"), so when one arrives before its good
copy every record tshark decrypts is still decrypted on the page in the same frame, and no
record is decrypted in a bad frame.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from panel_dom import capture_point, minternet
from test_html_reassembly import FIELDS, decrypted_records, page_frames, same_frame
from test_html_tls13 import page_model

from tshark_table import table

pytestmark = pytest.mark.tools("tshark")

CHECK = ("-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
         "-o", "udp.check_checksum:TRUE")  # fmt: skip
#: the page's layer titles by the tshark protocol whose checksum they tell
LAYERS = {
    "ip": "Internet Protocol Version 4",
    "tcp": "Transmission Control Protocol",
    "udp": "User Datagram Protocol",
}


def fetch(tmp_path: Path, *args: str) -> tuple[Path, Path, Path]:
    """A simulated fetch with ``args``: its page, pcapng and key log."""
    html, pcap, keys = tmp_path / "run.html", tmp_path / "run.pcapng", tmp_path / "keys.txt"
    minternet("fetch", "-q", *args, "--html", str(html), "--pcap", str(pcap),
              "--no-pcap-secrets", "--keylog", str(keys))  # fmt: skip
    assert html.exists()
    return html, pcap, keys


def page_bad(model: dict[str, Any]) -> dict[str, set[int]]:
    """Per protocol (ip, tcp, udp), the captured frames the page says have a bad checksum
    (a warning line in that layer), each also marked in its Info column."""
    strings: list[str] = model["strings"]
    f = model["f"]
    bad: dict[str, set[int]] = {proto: set() for proto in LAYERS}
    for k, number in enumerate(f["no"]):
        if not number:
            continue
        for layer in model["trees"][f["tree"][k]]:
            if any(strings[r[0]] == "Warning: bad checksum" for r in layer[3]):
                title = strings[layer[0]]
                proto = next(p for p, name in LAYERS.items() if title.startswith(name))
                bad[proto].add(number)
                info = strings[f["info"][k]]
                marker = "IPv4 HEADER" if proto == "ip" else proto.upper()
                assert info.endswith(f"[{marker} CHECKSUM INCORRECT]"), (number, info)
    return bad


def check_flags(model: dict[str, Any], every: list[dict[str, str]]) -> int:
    """The page flags bad checksums exactly where tshark does; returns how many frames."""
    ours = page_bad(model)
    for proto in LAYERS:
        theirs = {n for n, r in enumerate(every, 1) if r[f"{proto}.checksum.status"] == "0"}
        assert ours[proto] == theirs, proto
    return sum(len(v) for v in ours.values())


def bad_before_good(every: list[dict[str, str]]) -> int:
    """How many segments with payload and a bad checksum reached a capture point before a
    good copy of some of the bytes they claim (by their sequence number as received, which
    the flipped bit may have changed): bytes no good segment brought before, one after."""
    seen: dict[tuple[str, str, str], list[tuple[int, int, bool]]] = defaultdict(list)
    for r in every:
        if r["tcp.len"] in ("", "0"):
            continue
        key = (r["frame.interface_name"], r["tcp.srcport"], r["tcp.dstport"])
        good = r["tcp.checksum.status"] == "1" and r["ip.checksum.status"] == "1"
        seen[key].append((int(r["tcp.seq_raw"]), int(r["tcp.len"]), good))
    found = 0
    for segments in seen.values():
        for i, (seq, n, good) in enumerate(segments):
            if good:
                continue
            before = {k for s, m, g in segments[:i] if g for k in range(s, s + m)}
            after = {k for s, m, g in segments[i + 1 :] if g for k in range(s, s + m)}
            found += any(k not in before and k in after for k in range(seq, seq + n))
    return found


@pytest.mark.parametrize(
    ("tls", "seed", "corrupt"), [("1.2", 3, "0.1"), ("1.3", 3, "0.1"), ("1.3", 2, "0.2")]
)
def test_bad_segment_before_its_good_copy(
    tmp_path: Path, tls: str, seed: int, corrupt: str
) -> None:
    html, pcap, keys = fetch(tmp_path, "--tls", tls, "--seed", str(seed), "--corrupt", corrupt)
    every = table(pcap, "frame.interface_name", "tcp.srcport", "tcp.dstport", "tcp.seq_raw",
                  "tcp.len", "ip.checksum.status", "tcp.checksum.status",
                  "udp.checksum.status", options=CHECK)  # fmt: skip
    assert bad_before_good(every) >= 1, "no bad segment before its good copy: pick another seed"
    model = page_model(html)
    assert check_flags(model, every) >= 2
    page = page_frames(model)
    options = ("-o", f"tls.keylog_file:{keys}", "-o", "tcp.reassemble_out_of_order:TRUE", *CHECK)
    theirs = ours = 0
    for point in sorted({r["frame.interface_name"] for r in every}):
        numbers = [k + 1 for k, r in enumerate(every) if r["frame.interface_name"] == point]
        alone = capture_point(pcap, point, tmp_path / f"{point.replace('/', '_')}.pcapng")
        decrypted = decrypted_records(alone, options)
        rows = table(alone, "tcp.analysis.flags", "ip.checksum.status", "tcp.checksum.status",
                     *FIELDS, options=options)  # fmt: skip
        for n, row in enumerate(rows, 1):
            got = page[numbers[n - 1]]
            where = f"{point} frame {n} (capture frame {numbers[n - 1]})"
            if "0" in (row["ip.checksum.status"], row["tcp.checksum.status"]):
                assert got[0] == 0, where  # the receiver dropped it: nothing to open
                continue
            theirs, ours = same_frame(row, got, decrypted[n], where, theirs, ours)
    # every point: the Finished (both), the GET, the answer and the two alerts at least
    assert ours == theirs >= 6 * 5


@pytest.mark.parametrize(
    ("seed", "what"),
    [(1, "ip header only, its tcp good"), (5, "udp: a DNS answer"), (6, "ip: a fragment")],
)
def test_bad_checksums_flagged_where_tshark_flags_them(
    tmp_path: Path, seed: int, what: str
) -> None:
    html, pcap, _ = fetch(tmp_path, "--tls", "1.2", "--seed", str(seed), "--corrupt", "0.2")
    every = table(pcap, "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
                  "ip.flags.mf", "ip.frag_offset", options=CHECK)  # fmt: skip
    proto = what.split(":")[0].split()[0]
    case = [r for r in every if r[f"{proto}.checksum.status"] == "0"]
    if what.startswith("ip header only"):
        case = [r for r in case if r["tcp.checksum.status"] == "1"]
    elif what.startswith("ip: a fragment"):
        case = [r for r in case if r["ip.flags.mf"] == "1" or r["ip.frag_offset"] not in ("", "0")]
    assert case, f"the run has no {what}: pick another seed"
    assert check_flags(page_model(html), every) >= len(case)


def test_icmp_checksum_told_where_tshark_flags_it(tmp_path: Path) -> None:
    """ICMP's checksum covers the whole message (RFC 792): an echo request with one bit of
    its data flipped is flagged (field, warning, Info), the intact ones are told as
    before, and tshark's ``icmp.checksum.status`` agrees frame by frame."""
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    from minternet.report.html.dissect import Dissector

    frames = []
    for seq in range(3):
        frame = bytearray(bytes(Ether() / IP(src="192.168.1.10", dst="93.184.216.34")
                                / ICMP(id=7, seq=seq) / (b"minternet" * 6)))  # fmt: skip
        if seq == 1:
            frame[-5] ^= 0x10  # a bit of the data: the checksum no longer adds up
        frames.append(bytes(frame))
    pcap = tmp_path / "ping.pcap"
    wrpcap(str(pcap), [Ether(f) for f in frames])
    theirs = [r["icmp.checksum.status"] for r in table(pcap, "icmp.checksum.status")]
    assert theirs == ["1", "0", "1"]
    for frame, status in zip(frames, theirs, strict=True):
        diss = Dissector().dissect(frame)
        (icmp,) = (lay for lay in diss.layers if lay.title.startswith("Internet Control"))
        rows = {row[0]: row for row in icmp.fields}
        flagged = "Warning: bad checksum" in rows
        assert flagged == (status == "0")
        assert diss.info.endswith("[ICMP CHECKSUM INCORRECT]") == flagged, diss.info
        if flagged:  # scapy computes what the field should be for the bytes as they are
            pkt = Ether(frame)
            got = pkt[ICMP].chksum
            del pkt[ICMP].chksum
            good = Ether(bytes(pkt))[ICMP].chksum
            assert rows["Checksum"][4] == f"0x{got:04x} [incorrect, should be 0x{good:04x}]"
