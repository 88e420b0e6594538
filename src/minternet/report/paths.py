"""Facts of the seed's routing step, derived from a run's frames (decoded with our own
codecs) and its ``ip`` trace events: the laptop's gateway and the ARP exchange that found
its MAC, each node's route choice, a packet's path hop by hop (the request's and the
response's), and the decapsulation of one frame at the node that received it.

Part of :mod:`minternet.report.facts` (which re-exports every name and puts them into
:class:`~minternet.report.facts.RunFacts`); renderers never decode frames themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import DecodeError
from ..ip.ipv4 import PROTO_TCP, IPv4Packet
from ..link.arp import OP_REPLY, OP_REQUEST, ArpPacket
from ..link.ethernet import ETHERTYPE_ARP, ETHERTYPE_IPV4, EthernetFrame
from ..tcp.segment import Segment as TcpSegment
from ..tls.record import ContentType, Record
from ..trace.bus import FrameRecord, TraceEvent


@dataclass(frozen=True, slots=True)
class ArpExchange:
    """An ARP request a node broadcast and the reply it got (RFC 826), from the frames."""

    node: str
    iface: str
    asked: str  # the IPv4 address asked for
    sender_ip: str
    request_time: float
    reply_time: float | None
    mac: str | None  # the answer: the MAC of ``asked``
    answered_by: str | None  # the node that sent the reply


@dataclass(frozen=True, slots=True)
class RouteChoice:
    """The routing-table entry a node chose for a destination (longest-prefix match)."""

    node: str
    dst: str
    prefix: str  # "0.0.0.0/0", "93.184.216.0/24" …
    gateway: str | None  # None: the destination is on a connected network
    iface: str

    @property
    def next_hop(self) -> str:
        return self.gateway or self.dst


@dataclass(frozen=True, slots=True)
class Hop:
    """One copy of a packet as a node sent it onto a link."""

    time: float
    node: str
    iface: str
    ttl: int
    src: str
    dst: str
    src_mac: str
    dst_mac: str
    route: RouteChoice | None
    translated: bool  # this node's NAT rewrote the source or the destination


@dataclass(frozen=True, slots=True)
class PacketPath:
    """One IP packet (one IP id) from the node that made it to the node that took it in."""

    kind: Literal["request", "response"]
    ip_id: int
    src: str  # as its sender wrote it
    dst: str
    hops: tuple[Hop, ...]
    arrived_at: str | None
    arrived_ttl: int | None
    arrived_time: float | None


@dataclass(frozen=True, slots=True)
class Gateway:
    """The laptop's way off its own network: the default route's gateway and its MAC."""

    node: str
    address: str
    iface: str
    prefix: str  # the route that names it, e.g. "0.0.0.0/0"
    for_dst: str  # the destination of that first packet
    mac: str | None
    arp: ArpExchange | None  # the first exchange that found the MAC


@dataclass(frozen=True, slots=True)
class Decapsulation:
    """One received frame taken apart layer by layer, as the receiving node does it."""

    node: str
    iface: str
    time: float
    eth_src: str
    eth_dst: str
    ethertype: int
    ip_src: str
    ip_dst: str
    ttl: int
    protocol: int
    src_port: int
    dst_port: int
    seq: int
    payload: int  # TCP payload bytes
    records: tuple[tuple[str, int], ...]  # complete TLS records in it: (type, length)


def _decode(data: bytes) -> tuple[EthernetFrame, IPv4Packet] | None:
    try:
        eth = EthernetFrame.decode(data)
        if eth.ethertype != ETHERTYPE_IPV4:
            return None
        return eth, IPv4Packet.decode(eth.payload, verify_checksum=False, allow_truncated=True)
    except DecodeError:
        return None


def arp_exchanges(frames: Sequence[FrameRecord], node: str) -> list[ArpExchange]:
    """Each ARP request ``node`` sent, with the first reply to it that came back."""
    out: list[ArpExchange] = []
    open_: dict[tuple[str, str], int] = {}
    for fr in frames:
        try:
            eth = EthernetFrame.decode(fr.data)
            if eth.ethertype != ETHERTYPE_ARP:
                continue
            arp = ArpPacket.decode(eth.payload)
        except DecodeError:
            continue
        if fr.node == node and fr.direction == "out" and arp.op == OP_REQUEST:
            open_[(fr.iface, arp.target_ip)] = len(out)
            out.append(
                ArpExchange(
                    fr.node, fr.iface, arp.target_ip, arp.sender_ip, fr.time, None, None, None
                )
            )
        elif fr.direction == "out" and arp.op == OP_REPLY:
            for (iface, asked), i in list(open_.items()):
                ex = out[i]
                if asked == arp.sender_ip and arp.target_ip == ex.sender_ip:
                    out[i] = ArpExchange(
                        ex.node, iface, asked, ex.sender_ip, ex.request_time, None,
                        arp.sender_mac, fr.node,
                    )  # fmt: skip
        elif fr.node == node and fr.direction == "in" and arp.op == OP_REPLY:
            key = next((k for k in open_ if k[1] == arp.sender_ip), None)
            if key is not None:
                ex = out[open_.pop(key)]
                out[out.index(ex)] = ArpExchange(
                    ex.node, ex.iface, ex.asked, ex.sender_ip, ex.request_time, fr.time,
                    arp.sender_mac, ex.answered_by,
                )  # fmt: skip
    return out


def _route_of(e: TraceEvent) -> RouteChoice | None:
    f = e.fields
    prefix = f.get("route")
    if not isinstance(prefix, str):
        return None
    gw = f.get("gateway")
    gateway = gw if isinstance(gw, str) else None
    iface = str(f.get("out"))
    # a router names the next hop (after any NAT); a host, the destination
    dst = str(f.get("next_hop")) if e.kind == "forward" and gateway is None else str(f.get("dst"))
    return RouteChoice(e.node, dst, prefix, gateway, iface)


def gateway_of(events: Sequence[TraceEvent], arps: list[ArpExchange], node: str) -> Gateway | None:
    """The gateway of ``node``'s first packet that left its own network."""
    for e in events:
        if (e.node, e.layer, e.kind) != (node, "ip", "send"):
            continue
        r = _route_of(e)
        if r is None or r.gateway is None:
            continue
        arp = next((a for a in arps if a.asked == r.gateway and a.iface == r.iface), None)
        return Gateway(node, r.gateway, r.iface, r.prefix, r.dst, arp.mac if arp else None, arp)
    return None


def packet_path(
    kind: Literal["request", "response"],
    frames: Sequence[FrameRecord],
    events: Sequence[TraceEvent],
    sender: str,
    receiver: str,
    after: float,
    src: str,
    dst: str,
    public: str,
) -> PacketPath | None:
    """The first TCP data packet ``sender`` sent from ``src`` to ``dst`` at or after
    ``after``, followed through every node that sent it on (the ``out`` copies; across a
    NAT, ``public`` stands for the inside address), until ``receiver`` took it in."""
    addresses = {src, dst, public}
    ip_id: int | None = None
    hops: list[Hop] = []
    arrived: tuple[str, int, float] | None = None
    forwards = [e for e in events if e.layer == "ip" and e.kind == "forward"]
    sends = [e for e in events if (e.node, e.layer, e.kind) == (sender, "ip", "send")]
    for fr in frames:
        if fr.time < after:
            continue
        got = _decode(fr.data)
        if got is None:
            continue
        eth, pkt = got
        if pkt.src not in addresses or pkt.dst not in addresses:
            continue
        if ip_id is None:
            if fr.node != sender or fr.direction != "out" or pkt.protocol != PROTO_TCP:
                continue
            try:
                if not TcpSegment.decode(pkt.payload).payload:
                    continue
            except DecodeError:
                continue
            ip_id = pkt.identification
        elif pkt.identification != ip_id:
            continue
        if fr.direction == "in":
            if fr.node == receiver:
                arrived = (fr.node, pkt.ttl, fr.time)
                break
            continue
        if fr.node == sender:
            route = next(
                (_route_of(e) for e in sends if e.time == fr.time and e.fields.get("id") == ip_id),
                None,
            )
        else:
            route = next(
                (
                    _route_of(e)
                    for e in reversed(forwards)
                    if e.node == fr.node and e.time <= fr.time and e.fields.get("dst") in addresses
                ),
                None,
            )
        prev = hops[-1] if hops else None
        translated = prev is not None and (prev.src, prev.dst) != (pkt.src, pkt.dst)
        hops.append(
            Hop(fr.time, fr.node, fr.iface, pkt.ttl, pkt.src, pkt.dst, eth.src, eth.dst,
                route, translated)
        )  # fmt: skip
        if pkt.ttl <= 1:
            break
    if ip_id is None or not hops:
        return None
    return PacketPath(
        kind,
        ip_id,
        hops[0].src,
        hops[0].dst,
        tuple(hops),
        arrived[0] if arrived else None,
        arrived[1] if arrived else None,
        arrived[2] if arrived else None,
    )


def decapsulation(
    frames: Sequence[FrameRecord], node: str, path: PacketPath
) -> Decapsulation | None:
    """``path``'s packet as ``node`` received it, taken apart: Ethernet, IPv4, TCP, and the
    complete TLS records in the TCP payload (RFC 5246 §6.2.1; a longer record goes on in
    the next segments)."""
    for fr in frames:
        if fr.node != node or fr.direction != "in" or fr.time != path.arrived_time:
            continue
        got = _decode(fr.data)
        if got is None:
            continue
        eth, pkt = got
        if pkt.identification != path.ip_id or pkt.protocol != PROTO_TCP:
            continue
        try:
            seg = TcpSegment.decode(pkt.payload)
        except DecodeError:
            return None
        return Decapsulation(
            node, fr.iface, fr.time, eth.src, eth.dst, eth.ethertype, pkt.src, pkt.dst,
            pkt.ttl, pkt.protocol, seg.src_port, seg.dst_port, seg.seq, len(seg.payload),
            tuple(
                (ContentType(t).name if t in (20, 21, 22, 23) else str(t), n)
                for t, n in record_types(seg.payload)
            ),
        )  # fmt: skip
    return None


def records_in(data: bytes) -> list[Record]:
    """Each complete TLS record in ``data`` (a stream of one side's writes, or one TCP
    payload), decoded with the record codec (RFC 5246 §6.2.1); protected records are not
    opened. Stops at the first record that is not complete."""
    out: list[Record] = []
    i = 0
    while i + 5 <= len(data):
        end = i + 5 + int.from_bytes(data[i + 3 : i + 5], "big")
        if end > len(data):
            break
        try:
            out.append(Record.decode(data[i:end]))
        except DecodeError:
            break
        i = end
    return out


def record_types(data: bytes) -> list[tuple[int, int]]:
    """(content type, fragment length) of each complete TLS record in ``data``."""
    return [(r.content_type, len(r.fragment)) for r in records_in(data)]


__all__ = [
    "ArpExchange",
    "Decapsulation",
    "Gateway",
    "Hop",
    "PacketPath",
    "RouteChoice",
    "arp_exchanges",
    "decapsulation",
    "gateway_of",
    "packet_path",
    "record_types",
    "records_in",
]
