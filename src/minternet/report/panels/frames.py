"""Which captured frame carries which TCP segment, so a panel can point at the ladder.

A frame's index is its position in the sequence of frames the caller gives — the run's
capture order as the caller shows it (see :mod:`minternet.report.panels`).

A segment is found by what does not change along the path: its sequence and
acknowledgment numbers, flags and payload length (a NAT rewrites addresses and ports, not
these). The segment a TCP sent at time *t* is the first not yet claimed frame with those
values leaving the sender's node at *t* or later; one it received is the first entering
its node. A frame a link lost (a ``sim`` ``drop`` event) is the last frame that left the
dropping interface at that moment.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Container, Sequence

from ...errors import DecodeError
from ...ip.ipv4 import PROTO_TCP, IPv4Packet
from ...link.ethernet import EthernetFrame
from ...tcp.segment import ACK, Segment, flag_names
from ...trace.bus import FrameRecord

ETHERTYPE_IPV4 = 0x0800

SegmentKey = tuple[int, int | None, str, int]
"""(seq, ack — None without the ACK flag —, flags as the trace names them, payload bytes)."""


def segment_of(data: bytes) -> Segment | None:
    """The TCP segment in an Ethernet frame, decoded with our codecs; None if it holds
    none (ARP, UDP, ICMP, a fragment) or does not decode."""
    try:
        eth = EthernetFrame.decode(data)
        if eth.ethertype != ETHERTYPE_IPV4:
            return None
        ip = IPv4Packet.decode(eth.payload, verify_checksum=False)
        if ip.protocol != PROTO_TCP or ip.is_fragment:
            return None
        return Segment.decode(ip.payload)
    except DecodeError:
        return None


def key_of(seg: Segment) -> SegmentKey:
    return (seg.seq, seg.ack if seg.flags & ACK else None, flag_names(seg.flags), len(seg.payload))


class FrameIndex:
    """The TCP frames seen at some nodes, claimed one by one by the segments traced there."""

    def __init__(self, frames: Sequence[FrameRecord], nodes: Container[str]) -> None:
        self._frames = frames
        self._queues: dict[tuple[str, str, SegmentKey], deque[int]] = {}
        self._egress: dict[str, tuple[list[float], list[int]]] = {}
        for i, fr in enumerate(frames):
            if fr.direction == "out":
                times, idxs = self._egress.setdefault(f"{fr.node}/{fr.iface}", ([], []))
                times.append(fr.time)
                idxs.append(i)
            if fr.node not in nodes:
                continue
            seg = segment_of(fr.data)
            if seg is not None:
                self._queues.setdefault((fr.node, fr.direction, key_of(seg)), deque()).append(i)

    def claim(self, node: str, direction: str, key: SegmentKey, time: float) -> int | None:
        """The index of the first unclaimed frame of ``key`` at ``node`` in ``direction``
        ("out" for a segment sent, "in" for one received) at ``time`` or later."""
        q = self._queues.get((node, direction, key))
        while q:
            i = q.popleft()
            if self._frames[i].time >= time - 1e-9:
                return i
        return None

    def dropped(self, iface: str, time: float) -> tuple[int, Segment | None] | None:
        """The frame that left ``iface`` (``node/iface``) last at or before ``time`` — the
        one a link lost at ``time`` — and its TCP segment, if any."""
        found = self._egress.get(iface)
        if found is None:
            return None
        times, idxs = found
        j = bisect.bisect_right(times, time + 1e-9) - 1
        if j < 0:
            return None
        i = idxs[j]
        return i, segment_of(self._frames[i].data)
