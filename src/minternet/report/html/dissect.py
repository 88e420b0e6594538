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

TLS records are found per TCP flow and capture point, as Wireshark's TCP reassembly finds
them: the flow's bytes are put back in sequence order (:mod:`.tcp_stream`; a segment that
comes before the bytes in front of it, after a loss or a reordering, is held), a record
starts where the previous one ended (from ISN + 1), and each record is taken apart in the
frame whose arrival completed it; one spread over several segments is named in each.

Checksums are checked as Wireshark checks them with validation on: the IPv4 header checksum
(RFC 791, RFC 1071), the ICMP one over the whole message (RFC 792) and the TCP and UDP ones
over the pseudo-header (RFC 9293 §3.1, RFC 768: zero is none), with
:mod:`minternet.checksum`. A frame with a bad one (``--corrupt`` flips a bit past the
Ethernet header) shows the field as "[incorrect, should be 0x…]", a warning line and an
Info marker; a good one is told as before. A TCP segment the receiver drops for it is not
put into its flow's stream and sets nothing up (ISN, TLS), so its good retransmission is
the copy that counts.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from ...checksum import internet_checksum, pseudo_header_sum
from ...dns.codes import class_name, rcode_name, type_name
from ...dns.message import Message
from ...dns.name import decode_name
from ...errors import DecodeError, MinternetError
from ...ip.icmp import ECHO_REPLY, ECHO_REQUEST, IcmpMessage
from ...ip.ipv4 import PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTOCOL_NAMES, IPv4Packet
from ...link.arp import ArpPacket
from ...link.ethernet import ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_NAMES, EthernetFrame
from ...randomness import SeededRandom
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
from ...tls.cipher import RecordProtection, protection_for
from ...tls.extensions import ExtensionType, parse_server_name
from ...tls.keylog import read_key_log
from ...tls.messages import ClientHello, HandshakeType, ServerHello
from ...tls.messages13 import HELLO_RETRY_REQUEST_RANDOM
from ...tls.prf import key_block
from ...tls.record import ContentType
from ...tls.suites import BY_CODE, CipherSuite
from ...tls.suites13 import TLS13_BY_CODE
from ...trace.narrate import describe_option
from ...udp.datagram import HEADER_LEN as UDP_HEADER_LEN
from ...udp.datagram import UdpDatagram
from .tcp_stream import StreamBytes
from .tls13_open import Opened, Tls13Session, message_fields, message_name, secrets13

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
    tls_stream: bool = False  # the TCP payload belongs to a TLS stream
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
_ETM = 22  # encrypt_then_mac (RFC 7366)
TLS13 = 0x0304
_SEALED: dict[int, str] = {
    ContentType.handshake: "Encrypted Handshake Message",
    ContentType.alert: "Encrypted Alert",
    ContentType.application_data: "Application Data",
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
    s = BY_CODE.get(code) or TLS13_BY_CODE.get(code)
    return f"{s.name} (0x{code:04x})" if s is not None else f"0x{code:04x}"


@dataclass
class _Session:
    """A TLS 1.2 connection as seen at one capture point: what opening its records needs."""

    client_flow: str | None = None  # the flow that sent the ClientHello
    client_random: bytes = b""
    server_random: bytes = b""
    suite: CipherSuite | None = None
    etm_offered: bool = False
    etm: bool = False  # encrypt_then_mac agreed (RFC 7366)
    tls13: Tls13Session | None = None  # the ServerHello chose TLS 1.3 (or 0-RTT was offered)


@dataclass
class _Flow:
    """One direction of a TCP connection at one capture point: its bytes put back in
    order, where its TLS records start (stream offsets: 0 is the byte after the SYN) and
    its record protection."""

    key: str = ""
    session: _Session = field(default_factory=_Session)
    isn: int | None = None
    base: int | None = None  # the sequence number of stream offset 0
    tls: bool | None = None  # None: not known yet; False: the stream is not TLS
    stream: StreamBytes | None = field(default_factory=StreamBytes)  # None once not TLS
    starts: list[int] = field(default_factory=list)  # the complete records' offsets
    next_record: int = 0  # the offset of the first record not complete yet
    sealed_from: int | None = None  # past its ChangeCipherSpec (1.2) records are sealed
    protection: RecordProtection | None = None  # from the key log, once encrypted
    record_no: dict[int, int] = field(default_factory=dict)  # record start → its seq_num


class Dissector:
    """Takes frames apart in capture order (TCP flows keep state across frames). With the
    run's NSS key log, TLS records are opened too: TLS 1.2 ones from ``CLIENT_RANDOM``
    lines (the keys come from the master secret by RFC 5246 §6.3, the records from
    :mod:`minternet.tls.cipher`), TLS 1.3 ones from the traffic secrets (:mod:`.tls13_open`).
    """

    def __init__(self, keylog: Sequence[str] = ()) -> None:
        self._flows: dict[str, _Flow] = {}
        self._sessions: dict[str, _Session] = {}
        secrets = read_key_log(keylog)
        self._masters = {r: s["CLIENT_RANDOM"] for r, s in secrets.items() if "CLIENT_RANDOM" in s}
        self._secrets13 = secrets13(secrets)

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
        # the header checksum is checked below, to be shown: the frame is still taken apart
        ip = IPv4Packet.decode(data[14:], verify_checksum=False)
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
        ip_ok = _checksum_field(
            lay,
            "Header checksum",
            o + 10,
            data[o : o + hlen],
            10,
            "the receiving host drops the whole packet (RFC 791 §3.1)",
        )
        lay.add("Source address", o + 12, 4, "i")
        lay.add("Destination address", o + 16, 4, "i")
        if hlen > 20:
            lay.add("Options", o + 20, hlen - 20, "x")
        layers.append(lay)
        p = o + hlen
        diss = self._ipv4_payload(data, p, ip, layers, point, ip_ok)
        if not ip_ok:
            diss.info += " [IPv4 HEADER CHECKSUM INCORRECT]"
        return diss

    def _ipv4_payload(
        self, data: bytes, p: int, ip: IPv4Packet, layers: list[Layer], point: str, ok: bool
    ) -> Dissection:
        """What an IPv4 packet carries; not ``ok`` (a bad header checksum): told, but it
        changes no flow's state, as the receiving host never sees it."""
        proto = PROTOCOL_NAMES.get(ip.protocol, "unknown")
        if ip.is_fragment and (ip.fragment_offset or ip.more_fragments):
            info = f"Fragmented IP protocol (proto={proto}, off={ip.fragment_offset})"
            return Dissection(layers, info, "IPv4")
        if ip.protocol == PROTO_TCP:
            return self._tcp(data, p, ip, layers, point, ok)
        if ip.protocol == PROTO_UDP:
            return self._udp(data, p, ip, layers)
        if ip.protocol == PROTO_ICMP:
            return self._icmp(data, p, ip, layers)
        return Dissection(layers, f"IPv4 protocol {ip.protocol}", "IPv4")

    # -- ICMP, RFC 792 --------------------------------------------------------------------
    def _icmp(self, data: bytes, p: int, ip: IPv4Packet, layers: list[Layer]) -> Dissection:
        msg = IcmpMessage.decode(ip.payload, verify_checksum=False)  # checked here, to be shown
        lay = Layer("Internet Control Message Protocol", p, len(ip.payload))
        lay.add("Type", p, 1)
        lay.add("Code", p + 1, 1)
        ok = _checksum_field(lay, "Checksum", p + 2, ip.payload, 2,
                             "the receiving host drops this message (RFC 792: the checksum "
                             "covers the whole ICMP message)")  # fmt: skip
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
        if not ok:
            info += " [ICMP CHECKSUM INCORRECT]"
        return Dissection(layers, info, "ICMP")

    # -- UDP, RFC 768 ; DNS, RFC 1035 §4.1 ------------------------------------------------
    def _udp(self, data: bytes, p: int, ip: IPv4Packet, layers: list[Layer]) -> Dissection:
        udp = UdpDatagram.decode(ip.payload)  # the checksum is checked here, to be shown
        lay = Layer(f"User Datagram Protocol, {udp.src_port} → {udp.dst_port}", p, 8)
        lay.add("Source port", p, 2)
        lay.add("Destination port", p + 2, 2)
        lay.add("Length", p + 4, 2)
        length = UDP_HEADER_LEN + len(udp.payload)
        o = p - (data[14] & 0x0F) * 4
        start = pseudo_header_sum(data[o + 12 : o + 16], data[o + 16 : o + 20], PROTO_UDP,
                                  length)  # fmt: skip
        ok = _checksum_field(lay, "Checksum", p + 6, ip.payload[:length], 6,
                             "the receiving host drops this datagram (RFC 768)", start,
                             udp=True)  # fmt: skip
        layers.append(lay)
        if 53 in (udp.src_port, udp.dst_port) and udp.payload:
            diss = self._dns(data, p + 8, len(udp.payload), layers)
        else:
            info = f"{udp.src_port} → {udp.dst_port} Len={len(udp.payload)}"
            diss = Dissection(layers, info, "UDP")
        if not ok:
            diss.info += " [UDP CHECKSUM INCORRECT]"
        return diss

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
        self, data: bytes, p: int, ip: IPv4Packet, layers: list[Layer], point: str, ip_ok: bool
    ) -> Dissection:
        """A TCP segment; one with a bad checksum (or in a packet with a bad IPv4 header
        checksum) is told but not used: its bytes are not put in the flow's stream and it
        sets up nothing (no ISN, no TLS state), as the receiving TCP drops it (RFC 9293
        §3.1) — so its good retransmission is the copy that counts."""
        seg = Segment.decode(ip.payload)
        o = p - (data[14] & 0x0F) * 4
        src, dst = data[o + 12 : o + 16], data[o + 16 : o + 20]
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
        start = pseudo_header_sum(src, dst, PROTO_TCP, len(ip.payload))
        ok = _checksum_field(
            lay,
            "Checksum",
            p + 16,
            ip.payload,
            16,
            "the receiving TCP drops this segment (RFC 9293 §3.1)",
            start,
        )
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
        if not (ok and ip_ok):
            return self._dropped(seg, ip, p + hlen, names, opts, layers, point, ok)
        a, b = f"{ip.src}:{seg.src_port}", f"{ip.dst}:{seg.dst_port}"
        key = f"{point}|{a}>{b}"
        flow = self._flows.get(key)
        if flow is None:
            conn = f"{point}|" + "|".join(sorted((a, b)))
            flow = self._flows[key] = _Flow(key, self._sessions.setdefault(conn, _Session()))
        if "SYN" in names:
            if flow.base is not None and seg.seq != flow.isn:  # the addresses used again
                conn = f"{point}|" + "|".join(sorted((a, b)))
                if "ACK" not in names:  # a new connection: a new TLS session too
                    self._sessions[conn] = _Session()
                flow = self._flows[key] = _Flow(key, self._sessions[conn])
            flow.isn = seg.seq
        back = self._flows.get(f"{point}|{ip.dst}:{seg.dst_port}>{ip.src}:{seg.src_port}")
        info = _tcp_info(seg, names, opts, flow.isn, back.isn if back is not None else None)
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

    def _dropped(
        self,
        seg: Segment,
        ip: IPv4Packet,
        p: int,
        names: tuple[str, ...],
        opts: list[str],
        layers: list[Layer],
        point: str,
        ok: bool,
    ) -> Dissection:
        """A segment the receiver drops (a bad checksum): its Info line with numbers
        relative to what the flows already know, its payload told as bytes, no state."""
        here = self._flows.get(f"{point}|{ip.src}:{seg.src_port}>{ip.dst}:{seg.dst_port}")
        back = self._flows.get(f"{point}|{ip.dst}:{seg.dst_port}>{ip.src}:{seg.src_port}")
        isn = here.isn if here is not None and "SYN" not in names else None
        info = _tcp_info(seg, names, opts, isn, back.isn if back is not None else None)
        if not ok:
            info += " [TCP CHECKSUM INCORRECT]"
        if seg.payload:
            n = len(seg.payload)
            layers.append(Layer(f"TCP payload ({n} bytes, not reassembled: bad checksum)", p, n))
        # no flow, no sequence number: nothing (phase, retransmission) is inferred from it
        return Dissection(layers, info, "TCP", tcp_flags=names, payload_len=len(seg.payload))

    # -- TLS records, RFC 5246 §6.2.1 and §7.4 --------------------------------------------
    def _tls(self, data: bytes, p: int, seg: Segment, flow: _Flow, diss: Dissection) -> None:
        """The TLS records of a segment's flow that its arrival completes, and those that
        start in it, as layers. The flow's bytes are put back in order first
        (:class:`StreamBytes`): every record is parsed once the stream holds it whole, in
        stream order, and told in the frame whose arrival completed it — in that frame's
        bytes when it lies within them, else as a reassembled record — so a segment that
        came before the bytes in front of it (a loss, a reordering) is held and its
        records told when the gap is filled."""
        payload = seg.payload
        stream = flow.stream
        if stream is None:  # not TLS
            diss.layers.append(Layer(f"TCP payload ({len(payload)} bytes)", p, len(payload)))
            return
        if flow.base is None:  # stream offset 0: after the SYN, else this first payload
            flow.base = (flow.isn + 1) % 2**32 if flow.isn is not None else seg.seq
        s = (seg.seq - flow.base) % 2**32
        n = len(payload)
        if s >= 2**31:  # before the stream's first byte: a flow whose SYN was not seen
            diss.layers.append(Layer(f"TCP payload ({n} bytes)", p, n))
            return
        differ = stream.add(s, payload)
        held = f"TCP segment held for reassembly ({n} bytes: the bytes before it are missing)"
        if flow.tls is None:
            if stream.end < 2:  # what the stream carries is told by its first bytes
                diss.layers.append(
                    Layer(held if s >= stream.end else f"TCP payload ({n} bytes)", p, n)
                )
                return
            head = stream.get(0, 2)
            flow.tls = head[0] in _CT_NAMES and head[1] == 3
            if not flow.tls:
                flow.stream = None
                diss.layers.append(Layer(f"TCP payload ({n} bytes)", p, n))
                return
        diss.tls_stream = True
        done: dict[int, bytes] = {}  # the records this arrival completes, by offset
        while flow.next_record + 5 <= stream.end:
            r = flow.next_record
            size = 5 + int.from_bytes(stream.get(r + 3, r + 5), "big")
            if r + size > stream.end:
                break
            done[r] = stream.get(r, r + size)
            flow.starts.append(r)
            flow.next_record = r + size
        stream.release(flow.next_record)
        names: list[str] = []
        labels: list[str] = []

        def reassembled(r: int) -> None:  # a record completed here, not in this frame's bytes
            lay = self._record(done[r], p, flow, r, names, labels, True, reassembled=True)
            lay.length = n
            diss.layers.append(lay)

        if differ:
            what = f"Data again, {differ} bytes unlike their first copy (the first is kept)"
            diss.layers.append(Layer(what, p, n))
        for r in done:  # completed here, started before this segment
            if r < s:
                reassembled(r)
        if s >= stream.end:  # past a gap: held until the bytes before it arrive
            diss.layers.append(Layer(held, p, n))
        else:
            lo = bisect_left(flow.starts, s)
            inside = flow.starts[lo : bisect_left(flow.starts, s + n)]
            if s <= flow.next_record < s + n:
                inside.append(flow.next_record)
            off = inside[0] - s if inside else n
            if off > 0:
                diss.layers.append(Layer("TLS segment of a reassembled record", p, off))
            for r in inside:
                off = r - s
                if off + 5 > n:
                    rest = n - off
                    diss.layers.append(Layer("TLS record header (continues)", p + off, rest))
                    break
                size = 5 + int.from_bytes(payload[off + 3 : off + 5], "big")
                whole = off + size <= n
                record = done.get(r, b"")
                if not record:  # not complete yet, or complete before (a copy again)
                    record = payload[off : off + size]
                elif not whole:  # completed here by bytes held after this segment's
                    reassembled(r)
                    continue
                again = r < flow.next_record and r not in done
                lay = self._record(record, p + off, flow, r, names, labels, whole, again=again)
                if not whole:
                    lay.title += " (continues in later segments)"
                diss.layers.append(lay)
        for r in done:  # completed here, starting after this segment (held bytes)
            if r >= s + n:
                reassembled(r)
        if names:
            diss.tls = tuple(names)
            diss.protocol = "TLS"
            diss.info = ", ".join(labels)

    def _record(
        self,
        record: bytes,
        at: int,
        flow: _Flow,
        start: int,
        names: list[str],
        labels: list[str],
        whole: bool,
        reassembled: bool = False,
        again: bool = False,
    ) -> Layer:
        """One TLS record (``record`` begins with its header, at ``at`` in the frame unless
        ``reassembled``: then its fields are not in this frame's bytes and are told as text;
        ``again``: a copy of a record told before, which changes no state). ``start``: its
        stream offset."""
        sealed = flow.sealed_from is not None and start >= flow.sealed_from
        ct = record[0]
        frag = record[5:]
        ct_name = _CT_NAMES.get(ct, f"type {ct}")
        title = f"TLS record: {ct_name}"
        if reassembled:
            title = f"Reassembled TLS record: {ct_name}, {len(frag)} bytes"
        lay = Layer(title, at, len(record))
        if not reassembled:
            lay.add("Content type", at, 1, "t", f"{ct_name} ({ct})")
            v = int.from_bytes(record[1:3], "big")
            lay.add("Version", at + 1, 2, "t", f"0x{v:04x}")
            lay.add("Length", at + 3, 2)
        body = at + 5
        if not whole:
            names.append(ct_name)
            labels.append(ct_name)
            return lay
        t13 = flow.session.tls13
        if t13 is not None and ct == ContentType.change_cipher_spec:
            if not reassembled:
                lay.add("Change cipher spec message", body, len(frag), "x")
            lay.add("TLS 1.3: middlebox compatibility (RFC 8446 §D.4)", at, len(record), "t",
                    "changes no keys")  # fmt: skip
            names.append("Change Cipher Spec")
            labels.append("Change Cipher Spec")
        elif t13 is not None and ct == ContentType.application_data:
            if not reassembled:
                lay.add("Encrypted Application Data (ciphertext)", body, len(frag), "x")
            side = t13.client if flow.key == flow.session.client_flow else t13.server
            got = side.open(start, record[:5], frag)
            if isinstance(got, Opened):
                names.append(_SEALED.get(got.content_type, "Application Data"))
                labels.append(_opened13(got, t13, lay, at, len(record)))
            else:
                if got is not None:
                    lay.add("Decryption", at, len(record), "t", got)
                names.append("Application Data")
                labels.append("Application Data")
        elif ct == ContentType.handshake and not sealed:
            if reassembled:
                hs = self._handshake(frag, body, Layer("", 0, 0), flow, again)
                lay.add("Handshake messages", at, 0, "t", ", ".join(hs))
            else:
                hs = self._handshake(frag, body, lay, flow, again)
            names += hs
            labels += hs
        elif ct == ContentType.change_cipher_spec:
            if not reassembled:
                lay.add("Change cipher spec message", body, len(frag), "x")
            if flow.sealed_from is None:
                flow.sealed_from = start + len(record)
                flow.protection = self._protection(flow)
            names.append("Change Cipher Spec")
            labels.append("Change Cipher Spec")
        elif sealed:
            what = _SEALED.get(ct, ct_name)
            if not reassembled:
                lay.add(f"{what} (ciphertext)", body, len(frag), "x")
            names.append(what)
            labels.append(self._open(flow, start, ct, frag, lay, at, len(record)) or what)
        elif ct == ContentType.alert and not reassembled:
            lay.add("Level", body, 1)
            lay.add("Description", body + 1, 1)
            names.append("Alert")
            labels.append("Alert")
        else:
            names.append(ct_name)
            labels.append(ct_name)
        return lay

    def _protection(self, flow: _Flow) -> RecordProtection | None:
        """The record protection of ``flow``'s direction from the key log (RFC 5246 §6.3)."""
        sess = flow.session
        master = self._masters.get(sess.client_random)
        suite = sess.suite
        if master is None or suite is None or not sess.server_random:
            return None
        kb = key_block(suite.prf_hash, master, sess.client_random, sess.server_random,
                       suite.mac_len, suite.key_len, suite.fixed_iv_len)  # fmt: skip
        if flow.key == sess.client_flow:
            key, iv, mac = kb.client_write_key, kb.client_write_iv, kb.client_write_mac_key
        else:
            key, iv, mac = kb.server_write_key, kb.server_write_iv, kb.server_write_mac_key
        # opening never draws randomness (only sealing a CBC record picks an IV)
        return protection_for(suite, key, iv, mac, SeededRandom(0), sess.etm)

    def _open(
        self, flow: _Flow, start: int, ct: int, frag: bytes, lay: Layer, at: int, n: int
    ) -> str | None:
        """Decrypt one protected record; its plaintext told in ``lay``; the Info label."""
        if flow.protection is None:
            return None
        seq_num = flow.record_no.setdefault(start, len(flow.record_no))
        try:
            plain = flow.protection.open(seq_num, ct, frag)
        except (MinternetError, ValueError):
            lay.add("Decryption", at, n, "t", "failed (the key log does not open it)")
            return None
        if ct == ContentType.handshake and plain[:1] == bytes([HandshakeType.finished]):
            lay.add("Decrypted: Finished, verify_data", at, n, "t", plain[4:].hex())
            return "Finished (decrypted)"
        return _plaintext(ct, plain, lay, at, n)

    def _handshake(
        self, frag: bytes, at: int, lay: Layer, flow: _Flow, again: bool = False
    ) -> list[str]:
        """The handshake messages of a plaintext record told in ``lay``; a ClientHello and
        a ServerHello set the session up (not ``again``: a copy of a record shown before)."""
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
                sess = flow.session if not again else _Session()  # a copy: set nothing up
                if t == HandshakeType.client_hello:
                    ch = ClientHello.decode_body(body)
                    sni = _client_hello(ch, body, b, lay)
                    name += f" (SNI={sni})" if sni else ""
                    sess.client_flow, sess.client_random = flow.key, ch.random
                    sess.etm_offered = any(e.type == _ETM for e in ch.extensions)
                    if any(e.type == ExtensionType.early_data for e in ch.extensions):
                        sess.tls13 = Tls13Session(self._secrets13.get(ch.random, {}))
                        sess.tls13.early_data(ch.cipher_suites)
                elif t == HandshakeType.server_hello:
                    sh = ServerHello.decode_body(body)
                    _server_hello(sh, b, lay)
                    sess.server_random, sess.suite = sh.random, BY_CODE.get(sh.cipher_suite)
                    sess.etm = sess.etm_offered and any(e.type == _ETM for e in sh.extensions)
                    if _selected_version(sh) == TLS13:
                        retry = sh.random == HELLO_RETRY_REQUEST_RANDOM
                        name = "Hello Retry Request" if retry else name
                        if sess.tls13 is None:
                            sess.tls13 = Tls13Session(self._secrets13.get(sess.client_random, {}))
                        sess.tls13.server_hello(sh.cipher_suite, retry)
                    else:
                        sess.tls13 = None
                else:
                    lay.add(f"{name} body", b, n, "x")
            except (DecodeError, MinternetError) as e:
                lay.add(f"{name} (malformed: {e})", b, n, "x")
            names.append(name)
            i += 4 + n
        return names


def _tcp_info(
    seg: Segment, names: tuple[str, ...], opts: list[str], isn: int | None, peer_isn: int | None
) -> str:
    """A segment's Info line as Wireshark writes it: numbers relative to the ISNs when known
    (``isn`` its sender's, ``peer_isn`` the other side's), raw otherwise."""
    rel = (seg.seq - isn) % 2**32 if isn is not None else seg.seq
    info = f"{seg.src_port} → {seg.dst_port} [{', '.join(names)}] Seq={rel}"
    if "ACK" in names:
        info += f" Ack={(seg.ack - peer_isn) % 2**32 if peer_isn is not None else seg.ack}"
    info += f" Win={seg.window} Len={len(seg.payload)}"
    if opts:
        info += " " + " ".join(opts)
    return info


def _checksum_field(
    lay: Layer, name: str, at: int, covered: bytes, field: int, what: str, start: int = 0,
    *, udp: bool = False,
) -> bool:  # fmt: skip
    """The checksum at ``covered[field:field + 2]``, over ``covered`` and the partial sum
    ``start`` (a pseudo-header): told as a plain field when the words sum to all ones (RFC
    1071), else as Wireshark tells a wrong one with validation on — "[incorrect, should be
    0x…]" — and a warning saying ``what`` the receiver does with the frame. ``udp``: a zero
    field means no checksum was sent, and a computed zero is sent as all ones (RFC 768).
    Returns whether the frame passes."""
    got = int.from_bytes(covered[field : field + 2], "big")
    if (udp and not got) or internet_checksum(covered, start) == 0:
        lay.add(name, at, 2, "x")
        return True
    good = internet_checksum(covered[:field] + b"\0\0" + covered[field + 2 :], start)
    if udp and not good:
        good = 0xFFFF
    lay.add(name, at, 2, "t", f"0x{got:04x} [incorrect, should be 0x{good:04x}]")
    lay.add("Warning: bad checksum", at, 2, "t", what)
    return False


def _plaintext(ct: int, plain: bytes, lay: Layer, at: int, n: int) -> str | None:
    """A decrypted alert or application data record told in ``lay``; the Info label."""
    if ct == ContentType.alert and len(plain) == 2:
        what = "close_notify" if plain == b"\x01\x00" else f"alert {plain[0]}/{plain[1]}"
        lay.add("Decrypted: Alert", at, n, "t", what)
        return f"Alert: {what}"
    if ct == ContentType.application_data:
        head, _, body = plain.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if lines and (lines[0].startswith("HTTP/") or " HTTP/" in lines[0]):
            for line in lines[:24]:
                lay.add("Decrypted HTTP", at, n, "t", line)
            lay.add("Decrypted HTTP body", at, n, "t", f"{len(body)} bytes")
            return lines[0]
        lay.add("Decrypted data", at, n, "t", f"{len(plain)} bytes")
        return f"Application Data ({len(plain)} bytes decrypted)"
    return None


def _opened13(got: Opened, t13: Tls13Session, lay: Layer, at: int, n: int) -> str:
    """A TLS 1.3 record the key log opened (RFC 8446 §5.2), told in ``lay``: its real
    content type, the secret and sequence number that opened it, the padding, then the
    handshake messages it completes with their key fields, or its alert or data; the
    Info label."""
    ct = got.content_type
    lay.add("Decrypted: content type", at, n, "t", f"{_CT_NAMES.get(ct, 'type')} ({ct})")
    lay.add("Decrypted with", at, n, "t", f"{got.secret}, record {got.seq}")
    if got.padding:
        lay.add("Decrypted: padding", at, n, "t", f"{got.padding} zero bytes")
    if ct != ContentType.handshake:
        return _plaintext(ct, got.content, lay, at, n) or _CT_NAMES.get(ct, f"type {ct}")
    names = []
    for t, body in got.messages:
        name = message_name(t)
        names.append(name)
        lay.add("Decrypted: Handshake type", at, n, "t", f"{name} ({t})")
        for what, text in message_fields(t, body, t13.suite):
            lay.add(f"Decrypted: {name}, {what}", at, n, "t", text)
    if not names:
        return "Handshake message fragment (decrypted)"
    return ", ".join(names) + " (decrypted)"


def _selected_version(sh: ServerHello) -> int | None:
    """The version a ServerHello's supported_versions selects (RFC 8446 §4.2.1), if any."""
    for e in sh.extensions:
        if e.type == ExtensionType.supported_versions and len(e.data) == 2:
            return int.from_bytes(e.data, "big")
    return None


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
            if ext.type == ExtensionType.supported_versions and len(ext.data) == 2:
                v = int.from_bytes(ext.data, "big")  # the version chosen (RFC 8446 §4.2.1)
                what = "TLS 1.3" if v == TLS13 else "unknown"
                lay.add("Supported version", q + 4, 2, "t", f"{what} (0x{v:04x})")
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
