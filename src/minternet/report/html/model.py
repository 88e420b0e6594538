"""The data of one report page: a run's frames, topology, states and story as one JSON value.

:func:`build_model` turns what a run recorded — every frame at every interface it crossed
(:class:`~minternet.trace.bus.FrameRecord`), the trace events, the world's plain description
and the story's phases — into the compact, deterministic JSON the page's script renders.

The page shows what ``fetch --pcap`` holds: the frames at the capture points (one per
link-layer segment, :meth:`~minternet.sim.world.World.capture_points`), each one arrow from
its sender to its receiver, with both ends' times — the other end of its trip is found among
all of the run's frames (the same bytes arriving on the same segment). A frame sent and
never received was lost on that link; it is shown even when its sender is not a capture
point, marked so.

Per frame, columnar arrays (time, capture point, direction, sender, receiver, the other
end's time, phase, flags, the run's frame index); one string table; the decoded layers as
layouts shared between frames (:mod:`.dissect`); and each frame's bytes once: a copy of a
packet at the next hop is stored as the few bytes that changed (MACs, TTL, checksums, NAT).
"""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...trace.bus import FrameRecord, TraceEvent
from .dissect import Dissection, Dissector

PHASES = ("DNS", "TCP", "TLS", "HTTP", "data", "close", "ARP", "ICMP", "other")
_P = {name: i for i, name in enumerate(PHASES)}
RETRANSMISSION, LOST, DROPPED_HERE, UNCAPTURED = 1, 2, 4, 8
BROADCAST = b"\xff" * 6


@dataclass(frozen=True, slots=True)
class StoryStep:
    time: float
    node: str
    text: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryPhase:
    title: str
    start: float | None
    end: float | None
    steps: tuple[StoryStep, ...] = ()


@dataclass(frozen=True, slots=True)
class FailureMark:
    summary: str
    explanation: str
    where: str
    time: float | None  # where the ladder marks it (None: the end of the run)


@dataclass(frozen=True, slots=True)
class ReportInput:
    """Everything a report page shows; each command builds one from its run."""

    title: str
    command: str
    topology: dict[str, Any]  # World.describe()
    segments: dict[str, str]  # World.segments(): node/iface → its link-layer segment
    points: tuple[str, ...] | None  # the capture points shown (None: every interface)
    frames: Sequence[FrameRecord]
    events: Sequence[TraceEvent]
    summary: str = ""
    story: tuple[StoryPhase, ...] = ()
    failure: FailureMark | None = None
    panels: dict[str, str] = field(default_factory=dict)  # title → HTML fragment
    keylog: tuple[str, ...] = ()  # NSS key log lines: TLS 1.2 and 1.3 records shown decrypted


class _Strings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.items: list[str] = []

    def __call__(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.items)
            self.items.append(s)
        return i


def _phase(d: Dissection, conn_phase: dict[str, int]) -> int:
    if d.protocol == "ARP":
        return _P["ARP"]
    if d.protocol == "DNS":
        return _P["DNS"]
    if d.protocol == "ICMP":
        return _P["ICMP"]
    if d.flow is None:
        return _P["other"]
    point, ends = d.flow.split("|")
    a, b = ends.split(">")
    conn = point + "|" + "|".join(sorted((a, b)))
    last = conn_phase.get(conn)
    flags = d.tcp_flags
    if d.payload_len and d.tls:  # what the records are, whatever the flags
        if "Encrypted Alert" in d.tls or "Alert" in d.tls:
            ph = _P["close"]
        elif "Application Data" in d.tls:
            ph = _P["HTTP"]
        else:
            ph = _P["TLS"]
    elif d.payload_len and d.tls_stream:  # the middle of a record: carries on its phase
        ph = last if last is not None else _P["TLS"]
    elif d.payload_len:  # bytes that are not TLS: a transfer's data
        ph = _P["data"]
    elif "SYN" in flags:
        ph = _P["TCP"]
    elif "FIN" in flags or "RST" in flags:
        ph = _P["close"]
    else:  # a bare ACK belongs to what it acknowledges
        ph = last if last is not None else _P["TCP"]
    conn_phase[conn] = ph
    return ph


def _pairs(frames: Sequence[FrameRecord], segments: dict[str, str]) -> list[int]:
    """For each frame, the other end of its trip over one link: an ``out`` frame → the
    first ``in`` copy of the same bytes on its segment, an ``in`` frame → the ``out`` one;
    -1 when there is none (a lost frame, or one whose sender is outside the record)."""
    pair = [-1] * len(frames)
    waiting: dict[tuple[str, bytes], deque[int]] = {}
    for k, fr in enumerate(frames):
        name = f"{fr.node}/{fr.iface}"
        key = (segments.get(name, name), fr.data)
        if fr.direction == "out":
            waiting.setdefault(key, deque()).append(k)
            continue
        q = waiting.get(key)
        if q:
            # a unicast copy arrives in the order sent (FIFO); a broadcast stays queued for
            # every receiver, so a copy belongs to the latest identical one sent (the same
            # bytes broadcast again later, like RFC 5227's probes, are new frames)
            broadcast = fr.data[:6] == BROADCAST
            j = q[-1] if broadcast else q[0]
            pair[k] = j
            if pair[j] < 0:
                pair[j] = k
            if not broadcast:
                q.popleft()
    return pair


def build_model(rep: ReportInput) -> dict[str, Any]:
    """The page's JSON value (see the module docstring); same input ⇒ same value."""
    strings = _Strings()
    topo = rep.topology
    nodes = [n for n in topo["nodes"] if n["kind"] != "switch"]
    node_index = {n["name"]: i for i, n in enumerate(nodes)}
    capturable = [f"{n['name']}/{i['name']}" for n in nodes for i in n["interfaces"]]
    members: dict[str, list[str]] = {}
    for name in capturable:
        members.setdefault(rep.segments.get(name, name), []).append(name)
    mac_owner = {
        bytes.fromhex(i["mac"].replace(":", "")): n["name"] for n in nodes for i in n["interfaces"]
    }
    everything = rep.frames
    pair = _pairs(everything, rep.segments)
    points = set(rep.points) if rep.points is not None else set(capturable)

    def others(fr: FrameRecord) -> list[str]:
        name = f"{fr.node}/{fr.iface}"
        return [m.split("/")[0] for m in members.get(rep.segments.get(name, name), []) if m != name]

    # what the page shows: the frames at the capture points (what the pcapng holds), and
    # the frames lost on a link whose sender is not a capture point
    shown = [
        k
        for k, fr in enumerate(everything)
        if f"{fr.node}/{fr.iface}" in points
        or (fr.direction == "out" and pair[k] < 0 and others(fr))
    ]
    frames = [everything[k] for k in shown]
    n = len(frames)
    numbers: list[int] = []  # the frame's number in the capture (tshark's), 0 if not in it
    count = 0
    for fr in frames:
        if f"{fr.node}/{fr.iface}" in points:
            count += 1
            numbers.append(count)
        else:
            numbers.append(0)
    t_us = [round(f.time * 1e6) for f in frames]
    col_node = [node_index.get(f.node, -1) for f in frames]
    col_iface = [strings(f.iface) for f in frames]
    col_dir = [0 if f.direction == "out" else 1 for f in frames]
    col_from = [-1] * n
    col_to = [-1] * n
    col_t2 = [-1] * n
    col_flags = [0] * n
    col_info = [0] * n
    col_phase = [0] * n
    col_tree = [0] * n
    col_bytes: list[Any] = [None] * n
    col_note = [-1] * n
    col_packet = [-1 if f.packet_id is None else f.packet_id for f in frames]
    trees: list[Any] = []
    tree_index: dict[str, int] = {}
    dissector = Dissector(rep.keylog)
    conn_phase: dict[str, int] = {}
    seen_end: dict[str, int] = {}  # per flow: the highest sequence number sent + 1
    first_copy: dict[int, int] = {}  # packet id → the frame holding its full bytes
    by_bytes: dict[bytes, int] = {}
    for k, fr in enumerate(frames):
        point = f"{fr.node}/{fr.iface}"
        d = dissector.dissect(fr.data, point)
        col_info[k] = strings(d.info)
        col_phase[k] = _phase(d, conn_phase)
        layout = repr([lay.as_row() for lay in d.layers])
        t = tree_index.get(layout)
        if t is None:
            t = tree_index[layout] = len(trees)
            trees.append(
                [[strings(lay.title), lay.start, lay.length,
                  [[strings(f[0]), f[1], f[2], f[3], strings(f[4]) if f[3] == "t" else 0]
                   for f in lay.fields]] for lay in d.layers]
            )  # fmt: skip
        col_tree[k] = t
        # the two ends of the trip over the link, and the narration of the sending end
        other = pair[shown[k]]
        sender = everything[other] if fr.direction == "in" and other >= 0 else fr
        if sender.comment:
            col_note[k] = strings(sender.comment)
        if other >= 0:
            col_t2[k] = round(everything[other].time * 1e6)
            far = node_index.get(everything[other].node, -1)
        else:
            mac = fr.data[0:6] if fr.direction == "out" else fr.data[6:12]
            owner = mac_owner.get(mac)
            names = others(fr)
            peer = owner if owner in names else (names[0] if names else None)
            far = node_index.get(peer, -1) if peer is not None else -1
            if fr.direction == "out" and names:
                col_flags[k] |= LOST
        if point not in points:
            col_flags[k] |= UNCAPTURED
        col_from[k], col_to[k] = (col_node[k], far) if fr.direction == "out" else (far, col_node[k])
        if d.flow is not None and d.seq is not None:
            span = d.payload_len + (1 if {"SYN", "FIN"} & set(d.tcp_flags) else 0)
            if span:
                end = (d.seq + span) % 2**32
                prev = seen_end.get(d.flow)
                delta = None if prev is None else (end - prev) % 2**32
                if delta is not None and (delta == 0 or delta >= 2**31):
                    col_flags[k] |= RETRANSMISSION
                else:
                    seen_end[d.flow] = end
        # the bytes: a reference, a diff against the packet's first copy, or base64
        same = by_bytes.get(fr.data)
        base = first_copy.get(col_packet[k]) if col_packet[k] >= 0 else None
        if same is not None:
            col_bytes[k] = same
        elif base is not None and len(frames[base].data) == len(fr.data):
            col_bytes[k] = [base, _diff(frames[base].data, fr.data)]
        else:
            col_bytes[k] = base64.b64encode(fr.data).decode("ascii")
            if col_packet[k] >= 0:
                first_copy.setdefault(col_packet[k], k)
        by_bytes.setdefault(fr.data, k)
    # a retransmitted packet is one at every hop
    retrans_ids = {col_packet[k] for k in range(n) if col_flags[k] & RETRANSMISSION}
    for k in range(n):
        if col_packet[k] in retrans_ids and col_packet[k] >= 0:
            col_flags[k] |= RETRANSMISSION
    drops = []
    states = []
    for e in rep.events:
        if e.kind == "drop" and e.layer in ("ip", "sim", "link"):
            drops.append(
                [round(e.time * 1e6), strings(e.node), strings(str(e.fields.get("reason", "")))]
            )
        elif e.layer == "tcp" and e.kind == "state":
            f = e.fields
            states.append(
                [round(e.time * 1e6), node_index.get(e.node, -1), strings(str(f.get("conn", ""))),
                 strings(str(f.get("old"))), strings(str(f.get("new"))), strings(e.why or "")]
            )  # fmt: skip
    # a frame a node received and dropped (no route, blackhole, NAT filter): marked there
    drop_at = {(d[0], strings.items[d[1]]) for d in drops}
    for k, fr in enumerate(frames):
        other = pair[shown[k]]
        got = fr if fr.direction == "in" else everything[other] if other >= 0 else None
        if got is not None and (round(got.time * 1e6), got.node) in drop_at:
            col_flags[k] |= DROPPED_HERE
    lanes = sorted({i for i in col_from + col_to if i >= 0})
    end_t = max([t_us[-1] if n else 0] + [s[0] for s in states])
    model: dict[str, Any] = {
        "v": 1,
        "title": rep.title,
        "command": rep.command,
        "summary": rep.summary,
        "phases": list(PHASES),
        "nodes": [
            {
                "name": nd["name"],
                "kind": nd["kind"],
                "hostname": nd.get("hostname", nd["name"]),
                "ifaces": [[i["name"], i["mac"], i["address"]] for i in nd["interfaces"]],
            }
            for nd in nodes
        ],
        "switches": [nd["name"] for nd in topo["nodes"] if nd["kind"] == "switch"],
        "links": [
            [lk["a"], lk["b"], lk["latency_ms"], lk["bandwidth_mbps"], sorted(lk["faults"])]
            for lk in topo["links"]
        ],
        "lanes": lanes,
        "end": end_t,
        "f": {
            "t": t_us,
            "n": col_node,
            "i": col_iface,
            "d": col_dir,
            "from": col_from,
            "to": col_to,
            "t2": col_t2,
            "fl": col_flags,
            "info": col_info,
            "ph": col_phase,
            "tree": col_tree,
            "note": col_note,
            "pk": col_packet,
            "src": shown,
            "no": numbers,
            "b": col_bytes,
        },
        "trees": trees,
        "states": states,
        "drops": drops,
        "story": [
            {
                "title": ph.title,
                "start": None if ph.start is None else round(ph.start * 1e6),
                "end": None if ph.end is None else round(ph.end * 1e6),
                "steps": [
                    [round(st.time * 1e6), node_index.get(st.node, -1), st.text, list(st.details)]
                    for st in ph.steps
                ],
            }
            for ph in rep.story
        ],
        "failure": None
        if rep.failure is None
        else {
            "summary": rep.failure.summary,
            "explanation": rep.failure.explanation,
            "where": rep.failure.where,
            "t": end_t if rep.failure.time is None else round(rep.failure.time * 1e6),
        },
        "strings": strings.items,
    }
    return model


def _diff(base: bytes, data: bytes) -> str:
    """The runs where ``data`` differs from ``base`` (same length): ``"off:hex,off:hex"``."""
    out: list[str] = []
    i, n = 0, len(data)
    while i < n:
        if base[i] == data[i]:
            i += 1
            continue
        j = i
        while j < n and (base[j] != data[j] or (j + 1 < n and base[j + 1] != data[j + 1])):
            j += 1
        out.append(f"{i}:{data[i:j].hex()}")
        i = j
    return ",".join(out)


__all__ = [
    "PHASES",
    "FailureMark",
    "ReportInput",
    "StoryPhase",
    "StoryStep",
    "build_model",
]
