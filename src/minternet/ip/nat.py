"""NAPT, network address and port translation (RFC 3022 §2.2, §4.1), as a home router does it.

A sans-IO machine: packets and ``now`` in, translated packets (or a reason to drop) out.
Hosts on the inside prefix share one public address; each (protocol, inside address,
inside port) gets one public port, whatever the destination — *endpoint-independent
mapping* (RFC 4787 REQ-1, RFC 5382 REQ-1) — and keeps its own port when no other mapping
holds it (port preservation, RFC 4787 §4.2.1; REQ-3: a port ≥ 1024 is never mapped below
1024). Inbound packets pass only from a remote endpoint the inside host has sent to
(*address and port-dependent filtering*, RFC 4787 §5; REQ-8 allows it): anything unsolicited
is dropped silently (RFC 5382 REQ-4: no answer to an unsolicited SYN).

Timeouts (refreshed by outbound traffic, RFC 4787 REQ-6, and by inbound): UDP 5 min (RFC 4787
REQ-5: at least 2 min, 5 recommended); TCP established 2 h 4 min and transitory — opening,
closing, reset — 4 min (RFC 5382 REQ-5); ICMP query 60 s (RFC 5508 REQ-1). Expiry is lazy:
a mapping is removed when a packet or :meth:`Napt.expire` finds its time up, which keeps a
translating router from adding far-future timers to a simulation.

ICMP (RFC 5508): an echo's identifier is the "port" of its mapping (REQ-1, REQ-2); an error
(time exceeded, destination unreachable — port unreachable, fragmentation needed —) coming
in about a translated packet is translated back, outer destination and the embedded header
alike: embedded source address and port, the embedded IP and transport checksums, the ICMP
checksum (REQ-3); one going out about an inbound packet is translated forward (REQ-4).
So traceroute and path MTU discovery work through the NAT.

Every checksum is adjusted incrementally (RFC 1624 eqn. 3, :func:`checksum_adjust`), never
recomputed, so a packet corrupted before the NAT stays detectably corrupt after it (RFC 3022
§4.2). A UDP checksum of zero (none, RFC 768) stays zero. Fragments: the first carries the
ports and decides; later fragments of the same datagram follow it by IP identification
(RFC 4787 REQ-14 asks for out-of-order fragments too; one arriving before the first is
dropped here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..checksum import checksum_adjust, ones_complement_sum
from ..randomness import RandomSource
from . import icmp
from .address import ip_to_bytes, ip_to_int, mask_of, parse_prefix
from .ipv4 import PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTOCOL_NAMES, IPv4Packet

UDP_TIMEOUT = 300.0
TCP_ESTABLISHED_TIMEOUT = 7440.0
TCP_TRANSITORY_TIMEOUT = 240.0
ICMP_TIMEOUT = 60.0
FRAGMENT_TIMEOUT = 30.0

_TCP_FIN = 0x01
_TCP_SYN = 0x02
_TCP_RST = 0x04
_TCP_ACK = 0x10

# Where the checksum sits in each transport's header (the port, ICMP: identifier, is in its
# first 6 bytes), and how many bytes must be there to rewrite them.
CHECKSUM_AT = {PROTO_TCP: 16, PROTO_UDP: 6, PROTO_ICMP: 2}
NEEDED = {PROTO_TCP: 18, PROTO_UDP: 8, PROTO_ICMP: 8}
_QUERY_TYPES = {icmp.ECHO_REQUEST: icmp.ECHO_REPLY}
_ERROR_TYPES = (icmp.DEST_UNREACHABLE, icmp.TIME_EXCEEDED)


@dataclass(slots=True)
class Session:
    """One remote endpoint an inside host talked to through a mapping (the filter)."""

    remote: str
    remote_port: int
    state: str  # "udp", "icmp"; TCP: "opening", "established", "closing"
    expires: float
    syn_out: bool = False
    syn_in: bool = False
    fin_out: bool = False
    fin_in: bool = False


@dataclass(slots=True)
class Mapping:
    """(protocol, inside address, inside port) ↔ (public address, public port)."""

    protocol: int
    inside: str
    inside_port: int
    public: str
    public_port: int
    created: float
    sessions: dict[tuple[str, int], Session] = field(default_factory=dict)

    @property
    def expires(self) -> float:
        return max((s.expires for s in self.sessions.values()), default=self.created)

    @property
    def protocol_name(self) -> str:
        return PROTOCOL_NAMES.get(self.protocol, str(self.protocol))

    def describe(self) -> str:
        return (
            f"{self.protocol_name} {self.inside}:{self.inside_port} → "
            f"{self.public}:{self.public_port}"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "protocol": self.protocol_name,
            "inside": f"{self.inside}:{self.inside_port}",
            "public": f"{self.public}:{self.public_port}",
            "created": round(self.created, 6),
            "expires": round(self.expires, 6),
            "sessions": [
                {"remote": f"{s.remote}:{s.remote_port}", "state": s.state,
                 "expires": round(s.expires, 6)}
                for s in self.sessions.values()
            ],
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Translation:
    """What the NAT did with one packet: ``packet`` to send on, or None and why not.

    ``event`` is ``"new-mapping"``, ``"translated"``, or a drop reason: ``"no-mapping"``
    (unsolicited: nothing inside asked for it), ``"filtered"`` (mapped, but not from an
    endpoint the inside host sent to), ``"ports-exhausted"``, ``"untranslatable"`` (a
    protocol or ICMP type NAPT cannot map, a header too short to rewrite).
    """

    packet: IPv4Packet | None
    event: str
    mapping: Mapping | None = None
    detail: str = ""

    @property
    def dropped(self) -> bool:
        return self.packet is None


class Napt:
    """The translation table of one public address for one inside prefix."""

    def __init__(
        self,
        inside: str,
        public: str,
        random: RandomSource,
        *,
        udp_timeout: float = UDP_TIMEOUT,
        tcp_established_timeout: float = TCP_ESTABLISHED_TIMEOUT,
        tcp_transitory_timeout: float = TCP_TRANSITORY_TIMEOUT,
        icmp_timeout: float = ICMP_TIMEOUT,
    ) -> None:
        net, plen = parse_prefix(inside)
        ip_to_bytes(public)
        self.inside = inside
        self.public = public
        self.random = random
        self.udp_timeout = udp_timeout
        self.tcp_established_timeout = tcp_established_timeout
        self.tcp_transitory_timeout = tcp_transitory_timeout
        self.icmp_timeout = icmp_timeout
        self._net = ip_to_int(net)
        self._mask = mask_of(plen)
        self._by_inside: dict[tuple[int, str, int], Mapping] = {}
        self._by_public: dict[tuple[int, int], Mapping] = {}
        self._fragments: dict[tuple[int, str, str, int], tuple[Mapping, float]] = {}
        self._check_at = float("inf")  # no expiry can be due before this

    # -- the table --------------------------------------------------------------------------

    def is_inside(self, addr: str) -> bool:
        return ip_to_int(addr) & self._mask == self._net

    def mappings(self) -> list[Mapping]:
        """The table, by protocol and public port."""
        return [self._by_public[k] for k in sorted(self._by_public)]

    def next_deadline(self) -> float | None:
        return min((m.expires for m in self._by_public.values()), default=None)

    def expire(self, now: float) -> list[Mapping]:
        """Remove sessions whose time is up, and mappings left without one; the latter."""
        if now < self._check_at:
            return []
        gone: list[Mapping] = []
        for key in sorted(self._by_public):
            m = self._by_public[key]
            for rkey in [k for k, s in m.sessions.items() if s.expires <= now]:
                del m.sessions[rkey]
            if not m.sessions:
                gone.append(m)
                del self._by_public[key]
                del self._by_inside[(m.protocol, m.inside, m.inside_port)]
        for fkey in [k for k, (_, t) in self._fragments.items() if t <= now]:
            del self._fragments[fkey]
        deadlines = [m.expires for m in self._by_public.values()]
        deadlines += [t for _, t in self._fragments.values()]
        self._check_at = min(deadlines, default=float("inf"))
        return gone

    def _touch(self, expires: float) -> None:
        self._check_at = min(self._check_at, expires)

    def _allocate(self, protocol: int, port: int) -> int | None:
        """Port preservation when free (RFC 4787 §4.2.1), else a random free port of the
        same range: below 1024 stays below, 1024 and up stays up (REQ-3)."""
        if (protocol, port) not in self._by_public and port != 0:
            return port
        lo, hi = (1024, 65535) if port >= 1024 else (1, 1023)
        start = self.random.randint(lo, hi)
        span = hi - lo + 1
        for i in range(span):
            candidate = lo + (start - lo + i) % span
            if (protocol, candidate) not in self._by_public:
                return candidate
        return None

    def _ports(
        self, packet: IPv4Packet, now: float, *, outbound: bool
    ) -> tuple[int, int, int] | Translation:
        """(protocol, the NAT-side port, the remote port) of a packet to map — an echo's
        identifier is its port, the remote's 0 — or what became of a packet that is not
        mapped by its own ports (a later fragment, an ICMP error, an untranslatable one)."""
        self.expire(now)
        if packet.fragment_offset:
            return self._later_fragment(packet, now, outbound=outbound)
        proto = packet.protocol
        data = packet.payload
        if proto not in NEEDED or len(data) < NEEDED[proto]:
            return Translation(None, "untranslatable", detail=f"{packet}: cannot be mapped")
        if proto == PROTO_ICMP:
            if data[0] in _ERROR_TYPES:
                return self._error(packet, now, outbound=outbound)
            if outbound and data[0] not in _QUERY_TYPES:
                return Translation(None, "untranslatable", detail=f"ICMP type {data[0]}")
            if not outbound and data[0] not in _QUERY_TYPES.values():
                return Translation(None, "no-mapping", detail=f"ICMP type {data[0]} unsolicited")
            return proto, _word(data, 4), 0
        if outbound:
            return proto, _word(data, 0), _word(data, 2)
        return proto, _word(data, 2), _word(data, 0)

    # -- outbound: inside → outside ---------------------------------------------------------

    def outbound(self, packet: IPv4Packet, now: float) -> Translation:
        """Translate a packet from an inside host on its way out (RFC 3022 §4.1)."""
        ports = self._ports(packet, now, outbound=True)
        if isinstance(ports, Translation):
            return ports
        proto, port, remote_port = ports
        data = packet.payload
        mapping = self._by_inside.get((proto, packet.src, port))
        event = "translated"
        if mapping is None:
            public_port = self._allocate(proto, port)
            if public_port is None:
                return Translation(None, "ports-exhausted", detail=f"{packet}: no free port")
            mapping = Mapping(proto, packet.src, port, self.public, public_port, now)
            self._by_inside[(proto, packet.src, port)] = mapping
            self._by_public[(proto, public_port)] = mapping
            event = "new-mapping"
        self._session(mapping, packet.dst, remote_port, data, now, outbound=True)
        out = _rewrite(packet, self.public, packet.dst, 4 if proto == PROTO_ICMP else 0,
                       mapping.public_port)  # fmt: skip
        self._remember_fragments(packet, out, mapping, now)
        return Translation(out, event, mapping)

    # -- inbound: outside → the public address ----------------------------------------------

    def inbound(self, packet: IPv4Packet, now: float) -> Translation:
        """Translate a packet for the public address back to the inside host, or drop it."""
        ports = self._ports(packet, now, outbound=False)
        if isinstance(ports, Translation):
            return ports
        proto, port, remote_port = ports
        data = packet.payload
        mapping = self._by_public.get((proto, port))
        name = PROTOCOL_NAMES.get(proto, str(proto))
        if mapping is None:
            return Translation(
                None, "no-mapping",
                detail=f"{name} from {packet.src}:{remote_port} to {packet.dst}:{port}: "
                "no inside host opened this port (unsolicited)",
            )  # fmt: skip
        if (packet.src, remote_port) not in mapping.sessions:
            return Translation(
                None, "filtered", mapping,
                f"{name} from {packet.src}:{remote_port} to {packet.dst}:{port}: "
                f"{mapping.inside}:{mapping.inside_port} never sent to that endpoint",
            )  # fmt: skip
        self._session(mapping, packet.src, remote_port, data, now, outbound=False)
        out = _rewrite(packet, packet.src, mapping.inside, 4 if proto == PROTO_ICMP else 2,
                       mapping.inside_port)  # fmt: skip
        self._remember_fragments(packet, out, mapping, now)
        return Translation(out, "translated", mapping)

    # -- the translating router's fast path ------------------------------------------------

    def mapping_out(self, protocol: int, inside: str, port: int) -> Mapping | None:
        """The mapping :meth:`outbound` would use for an unfragmented TCP or UDP packet from
        ``inside``:``port``, if it exists (it then translates it, ``"translated"``)."""
        return self._by_inside.get((protocol, inside, port))

    def mapping_in(self, protocol: int, port: int, remote: str, remote_port: int) -> Mapping | None:
        """The mapping :meth:`inbound` would translate an unfragmented TCP or UDP packet from
        ``remote``:``remote_port`` to public ``port`` by, if it exists and passes the filter."""
        m = self._by_public.get((protocol, port))
        return m if m is not None and (remote, remote_port) in m.sessions else None

    def track(
        self, m: Mapping, remote: str, remote_port: int, transport: bytes, now: float,
        *, outbound: bool,
    ) -> None:  # fmt: skip
        """What :meth:`outbound`/:meth:`inbound` do to ``m``'s session with the remote
        endpoint when they translate a packet whose transport header is ``transport``
        (TCP: at least its first 14 bytes, for the flags): create or refresh it."""
        self._session(m, remote, remote_port, transport, now, outbound=outbound)

    # -- sessions and TCP state (RFC 5382 §5) -------------------------------------------------

    def _session(
        self, m: Mapping, remote: str, remote_port: int, data: bytes, now: float, *, outbound: bool
    ) -> None:
        key = (remote, remote_port)
        s = m.sessions.get(key)
        if m.protocol != PROTO_TCP:
            state, timeout = ("icmp", self.icmp_timeout) if m.protocol == PROTO_ICMP else (
                "udp", self.udp_timeout)  # fmt: skip
            if s is None:
                s = m.sessions[key] = Session(remote, remote_port, state, 0.0)
            s.expires = max(s.expires, now + timeout)
            self._touch(s.expires)
            return
        flags = data[13]
        if s is None:
            # A connection we did not see open (the mapping timed out, or the NAT restarted)
            # is picked up as established; a SYN opens one.
            s = m.sessions[key] = Session(remote, remote_port, "opening", 0.0)
            if not flags & _TCP_SYN:
                s.state = "established"
                s.syn_out = s.syn_in = True
        if flags & _TCP_SYN:
            if outbound:
                s.syn_out = True
            else:
                s.syn_in = True
        if flags & _TCP_FIN:
            if outbound:
                s.fin_out = True
            else:
                s.fin_in = True
        if flags & _TCP_RST or (s.fin_out and s.fin_in):
            s.state = "closing"
        elif s.state == "opening" and s.syn_out and s.syn_in and flags & _TCP_ACK:
            s.state = "established"
        timeout = (
            self.tcp_established_timeout
            if s.state == "established"
            else self.tcp_transitory_timeout
        )
        s.expires = now + timeout
        self._touch(s.expires)

    # -- fragments ------------------------------------------------------------------------------

    def _remember_fragments(
        self, packet: IPv4Packet, out: IPv4Packet, m: Mapping, now: float
    ) -> None:
        if packet.more_fragments:
            t = now + FRAGMENT_TIMEOUT
            self._fragments[(packet.protocol, packet.src, packet.dst, packet.identification)] = (
                m, t)  # fmt: skip
            self._touch(t)

    def _later_fragment(self, packet: IPv4Packet, now: float, *, outbound: bool) -> Translation:
        key = (packet.protocol, packet.src, packet.dst, packet.identification)
        entry = self._fragments.get(key)
        if entry is None:
            return Translation(None, "untranslatable",
                               detail=f"{packet}: fragment before its first fragment")  # fmt: skip
        m = entry[0]
        if not packet.more_fragments:
            del self._fragments[key]
        if outbound:
            out = packet.with_addresses(self.public, packet.dst, packet.payload)
        else:
            out = packet.with_addresses(packet.src, m.inside, packet.payload)
        return Translation(out, "translated", m)

    # -- ICMP errors (RFC 5508 §7) ----------------------------------------------------------------

    def _error(self, packet: IPv4Packet, now: float, *, outbound: bool) -> Translation:
        """An ICMP error about a translated packet: the embedded packet is the one the far
        side saw (inbound: sent from the public address; outbound: sent to it)."""
        data = packet.payload
        quoted_bytes = data[8:]
        try:
            quoted = IPv4Packet.decode(quoted_bytes, verify_checksum=False, allow_truncated=True)
        except ValueError:
            return Translation(None, "untranslatable", detail="ICMP error quotes no IPv4 header")
        hlen = quoted.header_len
        qdata = quoted.payload
        proto = quoted.protocol
        if proto not in NEEDED or len(qdata) < 8:
            return Translation(None, "untranslatable", detail="ICMP error quotes too little")
        if proto == PROTO_ICMP:
            port_at, port, remote_port = 4, _word(qdata, 4), 0
        elif outbound:  # the quoted packet came in: its destination is the inside endpoint
            port_at, port, remote_port = 2, _word(qdata, 2), _word(qdata, 0)
        else:  # the quoted packet went out: its source is the public endpoint
            port_at, port, remote_port = 0, _word(qdata, 0), _word(qdata, 2)
        if outbound:
            m = self._by_inside.get((proto, quoted.dst, port))
            remote = quoted.src
        else:
            m = self._by_public.get((proto, port)) if quoted.src == self.public else None
            remote = quoted.dst
        if m is None or (remote, remote_port) not in m.sessions:
            return Translation(None, "no-mapping", m, f"{icmp_name(data)} about no mapping")
        new_port = m.public_port if outbound else m.inside_port
        src, dst = (quoted.src, self.public) if outbound else (m.inside, quoted.dst)
        header = bytearray(quoted_bytes[:hlen])
        hc = checksum_adjust(_word(header, 10), ones_complement_sum(bytes(header[12:20])),
                             ones_complement_sum(ip_to_bytes(src) + ip_to_bytes(dst)))  # fmt: skip
        header[10:12] = hc.to_bytes(2, "big")
        header[12:20] = ip_to_bytes(src) + ip_to_bytes(dst)
        inner = _transport(proto, quoted.src, quoted.dst, src, dst, qdata, port_at, new_port)
        new_quote = bytes(header) + inner
        # The ICMP checksum covers the quote: adjust it by the quote's old and new sums.
        old_sum = ones_complement_sum(quoted_bytes[: len(new_quote)])
        hc = checksum_adjust(_word(data, 2), old_sum, ones_complement_sum(new_quote))
        payload = data[:2] + hc.to_bytes(2, "big") + data[4:8] + new_quote
        if outbound:
            out = packet.with_addresses(self.public, packet.dst, payload)
        else:
            out = packet.with_addresses(packet.src, m.inside, payload)
        return Translation(out, "translated", m, icmp_name(data))


def icmp_name(data: bytes) -> str:
    return str(icmp.IcmpMessage(data[0], data[1], _word(data, 4) << 16 | _word(data, 6)))


def _word(data: bytes | bytearray, at: int) -> int:
    return (data[at] << 8) | data[at + 1]


def _rewrite(packet: IPv4Packet, src: str, dst: str, port_at: int, port: int) -> IPv4Packet:
    """``packet`` with new addresses and the 16-bit port (ICMP: identifier) at ``port_at``
    of its transport header, every checksum adjusted incrementally (RFC 1624)."""
    payload = _transport(packet.protocol, packet.src, packet.dst, src, dst, packet.payload,
                         port_at, port)  # fmt: skip
    return packet.with_addresses(src, dst, payload)


def _transport(
    proto: int, old_src: str, old_dst: str, src: str, dst: str, payload: bytes,
    port_at: int, port: int,
) -> bytes:  # fmt: skip
    """A transport header and payload with its port rewritten and its checksum — which
    covers the IPv4 pseudo-header for TCP and UDP — adjusted, if it is there (a quote may
    stop short of it)."""
    data = bytearray(payload)
    old_port = _word(data, port_at)
    data[port_at : port_at + 2] = port.to_bytes(2, "big")
    at = CHECKSUM_AT[proto]
    if len(data) < at + 2:
        return bytes(data)
    old = ip_to_bytes(old_src) + ip_to_bytes(old_dst)
    hc = port_checksum(proto, _word(data, at), old, ip_to_bytes(src) + ip_to_bytes(dst),
                       old_port, port)  # fmt: skip
    data[at : at + 2] = hc.to_bytes(2, "big")
    return bytes(data)


def port_checksum(
    proto: int, hc: int, old_addresses: bytes, addresses: bytes, old_port: int, port: int
) -> int:
    """The transport checksum ``hc`` once the IPv4 source and destination (8 bytes, which
    TCP's and UDP's pseudo-header covers) and one port (ICMP: the identifier) changed,
    adjusted incrementally (RFC 1624 eqn. 3, RFC 3022 §4.2). No UDP checksum (zero) stays
    none, and a computed zero is sent as 0xFFFF (RFC 768)."""
    if proto == PROTO_UDP and hc == 0:
        return 0
    if proto == PROTO_ICMP:
        old_sum, new_sum = old_port, port
    else:
        old_sum = ones_complement_sum(old_addresses + old_port.to_bytes(2, "big"))
        new_sum = ones_complement_sum(addresses + port.to_bytes(2, "big"))
    hc = checksum_adjust(hc, old_sum, new_sum)
    if proto == PROTO_UDP and hc == 0:
        hc = 0xFFFF
    return hc
