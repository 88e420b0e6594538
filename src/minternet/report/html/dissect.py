"""Frames taken apart with our own codecs, for the report's detail pane and ladder labels.

:class:`Dissector` decodes each captured Ethernet frame layer by layer — Ethernet II, ARP
(RFC 826), IPv4 (RFC 791), ICMP (RFC 792), UDP (RFC 768), TCP with options (RFC 9293
§3.1), DNS (RFC 1035 §4.1), TLS records (RFC 5246 §6.2.1) and handshake messages (§7.4) —
with the codecs of :mod:`minternet.link`, :mod:`minternet.ip`, :mod:`minternet.udp`,
:mod:`minternet.tcp`, :mod:`minternet.dns` and :mod:`minternet.tls`, and says where each
field lies in the frame (offset and length), so the page can highlight its bytes.

A field's value is either given as text or named by a *kind* the page formats from the
frame's own bytes (``u`` an unsigned big-endian number, ``x`` hex, ``m`` a MAC, ``i`` an IPv4
address): the layout of, say, every full-sized TCP data segment is then one shared entry,
which keeps a report of tens of thousands of frames small.

TLS records are found per TCP flow and capture point: a record starts where the previous
one ended (from ISN + 1), so one spread over several segments is named in each of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...dns.codes import class_name, rcode_name, type_name
from ...dns.message import Message
from ...dns.name import decode_name
from ...errors import DecodeError, MinternetError
from ...ip.icmp import ECHO_REPLY, ECHO_REQUEST, IcmpMessage
from ...ip.ipv4 import PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTOCOL_NAMES, IPv4Packet
from ...link.arp import ArpPacket
from ...link.ethernet import ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_NAMES, EthernetFrame
from ...tcp.segment import (
    MaximumSegmentSize,
    Option,
    Sack,
    SackPermitted,
    Segment,
    Timestamps,
    WindowScale,
    flag_names,
)
from ...tls.extensions import ExtensionType, parse_server_name
from ...tls.messages import ClientHello, HandshakeType, ServerHello
from ...tls.record import ContentType
from ...tls.suites import BY_CODE
from ...trace.narrate import describe_option
from ...udp.datagram import UdpDatagram

# (name, offset, length, kind, text): kind "t" shows text; u/x/m/i format the bytes
FieldRow = tuple[str, int, int, str, str]


@dataclass
class Layer:
    title: str
    start: int
    length: int
    fields: list[FieldRow] = field(default_factory=list)

    def add(self, name: str, start: int, length: int, kind: str = "u", text: str = "") -> None:
        self.fields.append((name, start, length, kind, text))

    def as_row(self) -> list[object]:
        return [self.title, self.start, self.length, [list(f) for f in self.fields]]


@dataclass
class Dissection:
    """One frame, taken apart: its layers, a Wireshark-like Info line and what it carries."""

    layers: list[Layer]
    info: str
    protocol: str  # the topmost protocol: ARP, DNS, TCP, TLS, ICMP, UDP, IPv4, Ethernet
    tls: tuple[str, ...] = ()  # the TLS record/handshake names in it, in order
    tcp_flags: tuple[str, ...] = ()
    payload_len: int = 0
    flow: str | None = None  # "point|src:port>dst:port" for TCP
    seq: int | None = None
    dns_rcode: str | None = None


_HS_NAMES: dict[int, str] = {
    HandshakeType.hello_request: "Hello Request",
    HandshakeType.client_hello: "Client Hello",
    HandshakeType.server_hello: "Server Hello",
    HandshakeType.certificate: "Certificate",
    HandshakeType.server_key_exchange: "Server Key Exchange",
    HandshakeType.certificate_request: "Certificate Request",
    HandshakeType.server_hello_done: "Server Hello Done",
    HandshakeType.client_key_exchange: "Client Key Exchange",
    HandshakeType.finished: "Finished",
}
_CT_NAMES: dict[int, str] = {
    ContentType.change_cipher_spec: "Change Cipher Spec",
    ContentType.alert: "Alert",
    ContentType.handshake: "Handshake",
    ContentType.application_data: "Application Data",
}


def _ext_name(t: int) -> str:
    try:
        return ExtensionType(t).name
    except ValueError:
        return f"unknown ({t})"


def _suite(code: int) -> str:
    s = BY_CODE.get(code)
    return f"{s.name} (0x{code:04x})" if s is not None else f"0x{code:04x}"


@dataclass
class _Flow:
    """One direction of a TCP connection at one capture point: where TLS records start."""

    isn: int | None = None
    tls: bool | None = None  # None: not known yet; False: the stream is not TLS
    starts: set[int] = field(default_factory=set)
    encrypted: bool = False  # a ChangeCipherSpec went by: handshake records are sealed


class Dissector:
    """Takes frames apart in capture order (TCP flows keep state across frames)."""

    def __init__(self) -> None:
        self._flows: dict[str, _Flow] = {}

    def dissect(self, data: bytes, point: str = "") -> Dissection:
        try:
            eth = EthernetFrame.decode(data)
        except DecodeError as e:
            return Dissection([Layer("Malformed frame", 0, len(data))], str(e), "Ethernet")
        lay = Layer(f"Ethernet II, {eth.src} → {eth.dst}", 0, 14)
        lay.add("Destination", 0, 6, "m")
        lay.add("Source", 6, 6, "m")
        name = ETHERTYPE_NAMES.get(eth.ethertype, "unknown")
        lay.add("Type", 12, 2, "t", f"{name} (0x{eth.ethertype:04x})")
        layers = [lay]
        try:
            if eth.ethertype == ETHERTYPE_ARP:
                return self._arp(data, layers)
            if eth.ethertype == ETHERTYPE_IPV4:
                return self._ipv4(data, layers, point)
        except (DecodeError, MinternetError, ValueError) as e:
            return Dissection(layers, f"malformed: {e}", layers[-1].title.split(",")[0])
        return Dissection(layers, f"Ethernet type 0x{eth.ethertype:04x}", "Ethernet")

    # -- ARP, RFC 826 ---------------------------------------------------------------------
    def _arp(self, data: bytes, layers: list[Layer]) -> Dissection:
        arp = ArpPacket.decode(data[14:])
        op = "request" if arp.op == 1 else "reply" if arp.op == 2 else str(arp.op)
        lay = Layer(f"Address Resolution Protocol ({op})", 14, 28)
        lay.add("Hardware type", 14, 2, "t", "Ethernet (1)")
        lay.add("Protocol type", 16, 2, "t", "IPv4 (0x0800)")
        lay.add("Hardware size", 18, 1)
        lay.add("Protocol size", 19, 1)
        lay.add("Opcode", 20, 2, "t", f"{op} ({arp.op})")
        lay.add("Sender MAC address", 22, 6, "m")
        lay.add("Sender IP address", 28, 4, "i")
        lay.add("Target MAC address", 32, 6, "m")
        lay.add("Target IP address", 38, 4, "i")
        layers.append(lay)
        if arp.op == 1:
            info = f"Who has {arp.target_ip}? Tell {arp.sender_ip}"
        else:
            info = f"{arp.sender_ip} is at {arp.sender_mac}"
        return Dissection(layers, info, "ARP")

    # -- IPv4, RFC 791 §3.1 ---------------------------------------------------------------
    def _ipv4(self, data: bytes, layers: list[Layer], point: str) -> Dissection:
        ip = IPv4Packet.decode(data[14:])
        o = 14
        hlen = (data[o] & 0x0F) * 4
        lay = Layer(f"Internet Protocol Version 4, {ip.src} → {ip.dst}", o, hlen)
        lay.add("Version", o, 1, "t", "4")
        lay.add("Header length", o, 1, "t", f"{hlen} bytes ({hlen // 4})")
        lay.add("Type of service", o + 1, 1, "x")
        lay.add("Total length", o + 2, 2)
        lay.add("Identification", o + 4, 2, "h")
        flags = [n for n, on in (("DF", ip.dont_fragment), ("MF", ip.more_fragments)) if on]
        lay.add("Flags", o + 6, 1, "t", ", ".join(flags) or "none")
        lay.add("Fragment offset", o + 6, 2, "t", str(ip.fragment_offset))
        lay.add("Time to live", o + 8, 1)
        proto = PROTOCOL_NAMES.get(ip.protocol, "unknown")
        lay.add("Protocol", o + 9, 1, "t", f"{proto} ({ip.protocol})")
        lay.add("Header checksum", o + 10, 2, "x")
        lay.add("Source address", o + 12, 4, "i")
        lay.add("Destination address", o + 16, 4, "i")
        if hlen > 20:
            lay.add("Options", o + 20, hlen - 20, "x")
        layers.append(lay)
        p = o + hlen
        if ip.is_fragment and (ip.fragment_offset or ip.more_fragments):
            info = f"Fragmented IP protocol (proto={proto}, off={ip.fragment_offset})"
            return Dissection(layers, info, "IPv4")
        if ip.protocol == PROTO_TCP:
            return self._tcp(data, p, ip, layers, point)
        if ip.protocol == PROTO_UDP:
            return self._udp(data, p, ip, layers)
        if ip.protocol == PROTO_ICMP:
            return self._icmp(data, p, ip, layers)
        return Dissection(layers, f"IPv4 protocol {ip.protocol}", "IPv4")

    # -- ICMP, RFC 792 --------------------------------------------------------------------
    def _icmp(self, data: bytes, p: int, ip: IPv4Packet, layers: list[Layer]) -> Dissection:
        msg = IcmpMessage.decode(ip.payload)
        lay = Layer("Internet Control Message Protocol", p, len(ip.payload))
        lay.add("Type", p, 1)
        lay.add("Code", p + 1, 1)
        lay.add("Checksum", p + 2, 2, "x")
        if msg.type in (ECHO_REQUEST, ECHO_REPLY):
            lay.add("Identifier", p + 4, 2)
            lay.add("Sequence number", p + 6, 2)
            what = "request" if msg.type == ECHO_REQUEST else "reply"
            info = f"Echo (ping) {what} id=0x{msg.identifier:04x}, seq={msg.sequence}, ttl={ip.ttl}"
        else:
            lay.add("Rest of header", p + 4, 4, "x")
            info = str(msg).removeprefix("ICMP ")
        if msg.payload:
            lay.add("Data", p + 8, len(msg.payload), "x")
        layers.append(lay)
        return Dissection(layers, info, "ICMP")

    # -- UDP, RFC 768 ; DNS, RFC 1035 §4.1 ------------------------------------------------
    def _udp(self, data: bytes, p: int, ip: IPv4Packet, layers: list[Layer]) -> Dissection:
        udp = UdpDatagram.decode(ip.payload, ip.src, ip.dst)
        lay = Layer(f"User Datagram Protocol, {udp.src_port} → {udp.dst_port}", p, 8)
        lay.add("Source port", p, 2)
        lay.add("Destination port", p + 2, 2)
        lay.add("Length", p + 4, 2)
        lay.add("Checksum", p + 6, 2, "x")
        layers.append(lay)
        if 53 in (udp.src_port, udp.dst_port) and udp.payload:
            return self._dns(data, p + 8, len(udp.payload), layers)
        info = f"{udp.src_port} → {udp.dst_port} Len={len(udp.payload)}"
        return Dissection(layers, info, "UDP")

    def _dns(self, data: bytes, p: int, n: int, layers: list[Layer]) -> Dissection:
        body = data[p : p + n]
        msg = Message.decode(body)
        kind = "response" if msg.qr else "query"
        lay = Layer(f"Domain Name System ({kind})", p, n)
        lay.add("Transaction ID", p, 2, "x")
        flags = " ".join(msg.flag_names())
        lay.add("Flags", p + 2, 2, "t", f"{flags} rcode={rcode_name(msg.rcode)}")
        for i, name in enumerate(("Questions", "Answer RRs", "Authority RRs", "Additional RRs")):
            lay.add(name, p + 4 + 2 * i, 2)
        pos = 12
        for question in msg.questions:
            _, end = decode_name(body, pos, len(body))
            lay.add("Query", p + pos, end + 4 - pos, "t", question.to_text())
            pos = end + 4
        answers: list[str] = []
        for title, section in (
            ("Answer", msg.answers),
            ("Authority", msg.authority),
            ("Additional", msg.additional),
        ):
            for rr in section:
                _, end = decode_name(body, pos, len(body))
                rdlen = int.from_bytes(body[end + 8 : end + 10], "big")
                lay.add(title, p + pos, end + 10 + rdlen - pos, "t", rr.to_text())
                if title == "Answer" or (title == "Authority" and not msg.answers):
                    answers.append(f"{type_name(rr.rtype)} {rr.rdata.to_text()}")
                pos = end + 10 + rdlen
        if msg.edns is not None and pos < len(body):
            lay.add("OPT (EDNS)", p + pos, len(body) - pos, "t", f"udp {msg.edns.udp_size}")
        layers.append(lay)
        q = msg.question
        qtext = f" {type_name(q.rtype)} {q.name.to_text().rstrip('.')}" if q else ""
        info = f"Standard query{' response' if msg.qr else ''} 0x{msg.id:04x}"
        if msg.qr and msg.rcode:
            info += f" {rcode_name(msg.rcode)}"
        info += qtext + "".join(f" {a}" for a in answers[:3])
        if q is not None and q.rclass != 1:
            info += f" {class_name(q.rclass)}"
        rcode = rcode_name(msg.rcode) if msg.qr else None
        return Dissection(layers, info, "DNS", dns_rcode=rcode)

    # -- TCP, RFC 9293 §3.1 ---------------------------------------------------------------
    def _tcp(
        self, data: bytes, p: int, ip: IPv4Packet, layers: list[Layer], point: str
    ) -> Dissection:
        seg = Segment.decode(ip.payload)
        hlen = (data[p + 12] >> 4) * 4
        names = tuple(flag_names(seg.flags).split(",")) if seg.flags else ()
        lay = Layer(
            f"Transmission Control Protocol, {seg.src_port} → {seg.dst_port}, Len: "
            f"{len(seg.payload)}",
            p,
            hlen,
        )
        lay.add("Source port", p, 2)
        lay.add("Destination port", p + 2, 2)
        lay.add("Sequence number (raw)", p + 4, 4)
        lay.add("Acknowledgment number (raw)", p + 8, 4)
        lay.add("Header length", p + 12, 1, "t", f"{hlen} bytes ({hlen // 4})")
        lay.add("Flags", p + 12, 2, "f")
        lay.add("Window", p + 14, 2)
        lay.add("Checksum", p + 16, 2, "x")
        lay.add("Urgent pointer", p + 18, 2)
        opts: list[str] = []
        q = p + 20
        for opt in seg.options:
            size = len(opt.encode())
            _option_fields(lay, opt, q, size)
            if short := _option_info(opt):
                opts.append(short)
            q += size
        if q < p + hlen:
            lay.add("Option padding", q, p + hlen - q, "x")
        layers.append(lay)
        key = f"{point}|{ip.src}:{seg.src_port}>{ip.dst}:{seg.dst_port}"
        flow = self._flows.setdefault(key, _Flow())
        if "SYN" in names:
            flow.isn = seg.seq
            flow.starts.add((seg.seq + 1) % 2**32)
        rel = (seg.seq - flow.isn) % 2**32 if flow.isn is not None else seg.seq
        back = self._flows.get(f"{point}|{ip.dst}:{seg.dst_port}>{ip.src}:{seg.src_port}")
        rel_ack = (
            (seg.ack - back.isn) % 2**32 if back is not None and back.isn is not None else seg.ack
        )
        info = f"{seg.src_port} → {seg.dst_port} [{', '.join(names)}] Seq={rel}"
        if "ACK" in names:
            info += f" Ack={rel_ack}"
        info += f" Win={seg.window} Len={len(seg.payload)}"
        if opts:
            info += " " + " ".join(opts)
        diss = Dissection(
            layers,
            info,
            "TCP",
            tcp_flags=names,
            payload_len=len(seg.payload),
            flow=key,
            seq=seg.seq,
        )
        if seg.payload:
            self._tls(data, p + hlen, seg, flow, diss)
        return diss

    # -- TLS records, RFC 5246 §6.2.1 and §7.4 --------------------------------------------
    def _tls(self, data: bytes, p: int, seg: Segment, flow: _Flow, diss: Dissection) -> None:
        payload = seg.payload
        if flow.tls is None:
            first = (flow.isn + 1) % 2**32 if flow.isn is not None else seg.seq
            if seg.seq == first:
                flow.tls = payload[0] in _CT_NAMES and payload[1:2] == b"\x03"
        if not flow.tls:
            diss.layers.append(Layer(f"TCP payload ({len(payload)} bytes)", p, len(payload)))
            return
        names: list[str] = []
        ahead = [(st - seg.seq) % 2**32 for st in sorted(flow.starts)]
        ahead = [a for a in ahead if a < len(payload)]
        off = min(ahead) if ahead else len(payload)
        if off > 0:
            diss.layers.append(Layer("TLS segment of a reassembled record", p, off))
        while off < len(payload):
            if off + 5 > len(payload):
                rest = len(payload) - off
                diss.layers.append(Layer("TLS record header (continues)", p + off, rest))
                break
            ct = payload[off]
            length = int.from_bytes(payload[off + 3 : off + 5], "big")
            flow.starts.add((seg.seq + off + 5 + length) % 2**32)
            next_off = off + 5 + length
            whole = off + 5 + length <= len(payload)
            frag = payload[off + 5 : off + 5 + length]
            ct_name = _CT_NAMES.get(ct, f"type {ct}")
            lay = Layer(
                f"TLS record: {ct_name}" + ("" if whole else " (continues in later segments)"),
                p + off,
                min(5 + length, len(payload) - off),
            )
            lay.add("Content type", p + off, 1, "t", f"{ct_name} ({ct})")
            v = int.from_bytes(payload[off + 1 : off + 3], "big")
            lay.add("Version", p + off + 1, 2, "t", f"0x{v:04x}")
            lay.add("Length", p + off + 3, 2)
            body = p + off + 5
            if ct == ContentType.handshake and not flow.encrypted:
                names += self._handshake(frag, body, lay, whole)
            elif ct == ContentType.handshake:
                lay.add("Encrypted handshake message", body, len(frag), "x")
                names.append("Encrypted Handshake Message")
            elif ct == ContentType.change_cipher_spec:
                lay.add("Change cipher spec message", body, len(frag), "x")
                flow.encrypted = True
                names.append("Change Cipher Spec")
            elif ct == ContentType.alert:
                if flow.encrypted:
                    lay.add("Encrypted alert", body, len(frag), "x")
                    names.append("Encrypted Alert")
                else:
                    lay.add("Level", body, 1)
                    lay.add("Description", body + 1, 1)
                    names.append("Alert")
            elif ct == ContentType.application_data:
                lay.add("Encrypted application data", body, len(frag), "x")
                names.append("Application Data")
            diss.layers.append(lay)
            off = next_off
        if names:
            diss.tls = tuple(names)
            diss.protocol = "TLS"
            diss.info = ", ".join(names)

    def _handshake(self, frag: bytes, at: int, lay: Layer, whole: bool) -> list[str]:
        names: list[str] = []
        i = 0
        while i + 4 <= len(frag):
            t = frag[i]
            n = int.from_bytes(frag[i + 1 : i + 4], "big")
            name = _HS_NAMES.get(t, f"Handshake type {t}")
            lay.add("Handshake type", at + i, 1, "t", f"{name} ({t})")
            lay.add("Handshake length", at + i + 1, 3)
            body = frag[i + 4 : i + 4 + n]
            if len(body) < n:
                lay.add(f"{name} (continues)", at + i + 4, len(body), "x")
                names.append(name)
                break
            b = at + i + 4
            try:
                if t == HandshakeType.client_hello:
                    sni = _client_hello(ClientHello.decode_body(body), body, b, lay)
                    name += f" (SNI={sni})" if sni else ""
                elif t == HandshakeType.server_hello:
                    _server_hello(ServerHello.decode_body(body), b, lay)
                else:
                    lay.add(f"{name} body", b, n, "x")
            except (DecodeError, MinternetError) as e:
                lay.add(f"{name} (malformed: {e})", b, n, "x")
            names.append(name)
            i += 4 + n
        return names


def _client_hello(ch: ClientHello, body: bytes, b: int, lay: Layer) -> str | None:
    """ClientHello fields at their offsets (RFC 5246 §7.4.1.2); returns the SNI."""
    lay.add("Version", b, 2, "t", f"0x{ch.version:04x}")
    lay.add("Random", b + 2, 32, "x")
    q = b + 34
    lay.add("Session ID length", q, 1)
    if ch.session_id:
        lay.add("Session ID", q + 1, len(ch.session_id), "x")
    q += 1 + len(ch.session_id)
    lay.add("Cipher suites length", q, 2)
    for k, code in enumerate(ch.cipher_suites):
        lay.add("Cipher suite", q + 2 + 2 * k, 2, "t", _suite(code))
    q += 2 + 2 * len(ch.cipher_suites)
    lay.add("Compression methods", q, 1 + len(ch.compression_methods), "x")
    q += 1 + len(ch.compression_methods)
    sni: str | None = None
    if ch.extensions:
        lay.add("Extensions length", q, 2)
        q += 2
        for ext in ch.extensions:
            lay.add(f"Extension: {_ext_name(ext.type)}", q, 4 + len(ext.data), "x")
            if ext.type == ExtensionType.server_name:
                sni = parse_server_name(ext.data)
                # server_name_list length (2), name type (1), name length (2), then the name
                lay.add("Server Name", q + 4 + 5, len(sni), "t", sni)
            q += 4 + len(ext.data)
    return sni


def _server_hello(sh: ServerHello, b: int, lay: Layer) -> None:
    """ServerHello fields at their offsets (RFC 5246 §7.4.1.3)."""
    lay.add("Version", b, 2, "t", f"0x{sh.version:04x}")
    lay.add("Random", b + 2, 32, "x")
    q = b + 34
    lay.add("Session ID length", q, 1)
    if sh.session_id:
        lay.add("Session ID", q + 1, len(sh.session_id), "x")
    q += 1 + len(sh.session_id)
    lay.add("Cipher suite", q, 2, "t", _suite(sh.cipher_suite))
    lay.add("Compression method", q + 2, 1)
    q += 3
    if sh.extensions:
        lay.add("Extensions length", q, 2)
        q += 2
        for ext in sh.extensions:
            lay.add(f"Extension: {_ext_name(ext.type)}", q, 4 + len(ext.data), "x")
            q += 4 + len(ext.data)


def _option_fields(lay: Layer, opt: Option, q: int, size: int) -> None:
    """An option's kind and values at their offsets (RFC 9293 §3.2, RFC 7323 §3.2, RFC 2018
    §3): numbers the page reads from the bytes, so segments share one layout."""
    if isinstance(opt, MaximumSegmentSize):
        lay.add("Option: MSS", q + 2, 2)
    elif isinstance(opt, WindowScale):
        lay.add("Option: window scale shift", q + 2, 1)
    elif isinstance(opt, Timestamps):
        lay.add("Option: TS value", q + 2, 4)
        lay.add("Option: TS echo reply", q + 6, 4)
    elif isinstance(opt, Sack):
        for i in range(len(opt.blocks)):
            lay.add("Option: SACK left edge", q + 2 + 8 * i, 4)
            lay.add("Option: SACK right edge", q + 6 + 8 * i, 4)
    else:
        text = describe_option(opt) or {0: "EOL", 1: "NOP"}.get(opt.encode()[0], "unknown")
        lay.add("Option", q, size, "t", text)


def _option_info(opt: object) -> str:
    """The option as Wireshark's Info column shortens it, or "" (RFC 9293 §3.2, RFC 7323)."""
    if isinstance(opt, MaximumSegmentSize):
        return f"MSS={opt.mss}"
    if isinstance(opt, WindowScale):
        return f"WS={1 << opt.shift}"
    if isinstance(opt, SackPermitted):
        return "SACK_PERM"
    if isinstance(opt, Sack):
        return f"SLE={opt.blocks[0][0]} SRE={opt.blocks[0][1]}"
    if isinstance(opt, Timestamps):
        return f"TSval={opt.tsval} TSecr={opt.tsecr}"
    return ""


__all__ = ["Dissection", "Dissector", "FieldRow", "Layer"]
