"""One-line descriptions of frames and packets, for pcapng comments and the timeline.

Decodes what it can (Ethernet, ARP, IPv4, ICMP, UDP, the TCP ports and flags) and never
raises: what does not decode is described as such.
"""

from __future__ import annotations

from ..errors import DecodeError
from ..ip.icmp import IcmpMessage
from ..ip.ipv4 import PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTOCOL_NAMES, IPv4Packet
from ..link.arp import ArpPacket
from ..link.ethernet import ETHERTYPE_ARP, ETHERTYPE_IPV4, EthernetFrame
from ..tcp.segment import (
    Flags,
    MaximumSegmentSize,
    Sack,
    SackPermitted,
    Segment,
    Timestamps,
    WindowScale,
    flag_names,
)


def describe_transport(packet: IPv4Packet) -> str:
    p = packet.payload
    if packet.fragment_offset:
        return f"fragment at offset {packet.fragment_offset}"
    if packet.protocol == PROTO_ICMP:
        try:
            return str(IcmpMessage.decode(p))
        except DecodeError as e:
            return f"ICMP (undecodable: {e.reason})"
    if packet.protocol == PROTO_TCP and not packet.more_fragments:
        try:
            return describe_segment(Segment.decode(p))
        except DecodeError:
            pass  # described from the ports and flags below
    if packet.protocol in (PROTO_UDP, PROTO_TCP) and len(p) >= 4:
        sport = int.from_bytes(p[0:2], "big")
        dport = int.from_bytes(p[2:4], "big")
        if packet.protocol == PROTO_UDP:
            return f"UDP {sport} → {dport}"
        flags = ""
        if len(p) >= 14:
            flags = (
                " ["
                + ",".join(
                    n
                    for i, n in enumerate(("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"))
                    if p[13] >> i & 1
                )
                + "]"
            )
        return f"TCP {sport} → {dport}{flags}"
    return PROTOCOL_NAMES.get(packet.protocol, f"protocol {packet.protocol}")


def describe_option(o: object) -> str | None:
    """A TCP option in a few words (``MSS 1460``, ``TS 123/0``); None for NOP and EOL."""
    if isinstance(o, MaximumSegmentSize):
        return f"MSS {o.mss}"
    if isinstance(o, WindowScale):
        return f"WS {o.shift}"
    if isinstance(o, SackPermitted):
        return "SACK_PERM"
    if isinstance(o, Sack):
        return "SACK " + " ".join(f"{a}-{b}" for a, b in o.blocks)
    if isinstance(o, Timestamps):
        return f"TS {o.tsval}/{o.tsecr}"
    return None


def describe_segment(seg: Segment) -> str:
    """``TCP 50096 → 443 [SYN] seq=… ack=… len=0 win=65535 <MSS 1460,SACK_PERM,TS,WS 3>``."""
    opts = [text for o in seg.options if (text := describe_option(o)) is not None]
    ack = f" ack={seg.ack}" if seg.flags & Flags.ACK else ""
    tail = f" <{','.join(opts)}>" if opts else ""
    return (
        f"TCP {seg.src_port} → {seg.dst_port} [{flag_names(seg.flags)}] seq={seg.seq}{ack}"
        f" len={len(seg.payload)} win={seg.window}{tail}"
    )


def describe_ip(data: bytes) -> str:
    try:
        packet = IPv4Packet.decode(data, verify_checksum=False, allow_truncated=True)
    except DecodeError as e:
        return f"an undecodable IPv4 packet ({e.reason})"
    return f"{packet.src} → {packet.dst} TTL {packet.ttl}: {describe_transport(packet)}"


def describe_frame(data: bytes) -> str:
    try:
        frame = EthernetFrame.decode(data)
    except DecodeError as e:
        return f"undecodable frame ({e.reason})"
    if frame.ethertype == ETHERTYPE_IPV4:
        return describe_ip(frame.payload)
    if frame.ethertype == ETHERTYPE_ARP:
        try:
            return str(ArpPacket.decode(frame.payload))
        except DecodeError as e:
            return f"ARP (undecodable: {e.reason})"
    return str(frame)
