"""A router (RFC 1812): a host that forwards.

Forwarding (RFC 1812 §5.2, §5.3.1): check the TTL — at 1 or less the packet is dropped and
answered with ICMP time exceeded —, look the destination up (longest-prefix match; no route:
ICMP net unreachable), send it on with TTL − 1 and a recomputed header checksum in a new
Ethernet frame (our MAC as source, the next hop's as destination), fragmenting it or
answering "fragmentation needed" with the next-hop MTU if it does not fit. The frame keeps
the ingress packet id, so pcapng shows one packet id on both sides of the router.

NAT (RFC 3022): an interface may be a NAT's outside interface (:meth:`Router.enable_nat`).
Packets from the inside prefix leaving through it are translated by its
:class:`~minternet.ip.nat.Napt` after the TTL check and before the TTL decrement; packets
arriving on it for its address are translated back and forwarded inside, or — unsolicited,
filtered — dropped silently (RFC 5382 REQ-4), except ICMP and UDP for the router's own
sockets, which the router itself answers. A packet from outside addressed straight to an
inside (private) address is dropped. Each translation, new mapping and expiry is a ``nat``
trace event; the table expires lazily (no timers), when the NAT sees a packet or is read.

Fast path (:meth:`Router.frame_received`): the common transit frame — IPv4 without options
addressed to our MAC, a valid header checksum, TTL above 1, no tap on the interface that
could take a packet in transit (a DHCP server's takes only its own), a unicast route away
from any NAT interface, a next hop whose MAC is known, fitting the egress MTU — is forwarded
on its bytes as real routers do (RFC 1812 §5.2.2, §5.3.1): the header is checked, its TTL byte
decremented and its checksum updated incrementally (RFC 1624 §3, eqn. 3), and the Ethernet
addresses rewritten, with no packet object built. The frame, its packet id, its comment and
its trace event are exactly what the full path (decode → :meth:`forward` → ``_output``)
gives; anything else — options, TTL expiry, local delivery, broadcasts, fragmentation, NAT,
an unresolved next hop, a header whose checksum reads 0xFFFF (which the full path
re-encodes as 0x0000) — takes the full path. The route to each destination, its interface
and next hop, and the Ethernet header to that next hop are kept (``_Hop``) until the
routing table changes, or the ARP cache changes or the entry's expiry comes: the ARP cache
is asked exactly when its answer, or its removing an expired entry, could differ.

The NAT takes the same byte path for the packets of its established flows: an unfragmented
TCP or UDP packet from an inside host whose mapping exists, leaving through the NAT's
interface, or one for the public address from a remote endpoint such a mapping talked to
(RFC 4787 §5's filter passed). Its session is refreshed as :meth:`Napt.outbound` /
:meth:`Napt.inbound` would, and the frame is translated in place: the address and port
replaced, the IPv4 checksum adjusted for the address and then for the TTL, and the TCP/UDP
checksum for the pseudo-header's address and the port (RFC 3022 §4.2, RFC 1624 eqn. 3 —
adjusted, never recomputed, so a corrupt datagram stays corrupt; a UDP checksum of zero
stays zero). A new mapping, ICMP, a fragment, an unsolicited or filtered packet takes the
full path, which makes or refuses the translation.
"""

from __future__ import annotations

from typing import Any

from ..ip import icmp
from ..ip.address import BROADCAST, ip_from_bytes, ip_to_bytes
from ..ip.ipv4 import PROTO_ICMP, PROTO_TCP, PROTO_UDP, IPv4Packet
from ..ip.nat import CHECKSUM_AT, NEEDED, Mapping, Napt, Translation
from ..ip.routing import Route
from ..link.ethernet import mac_to_bytes
from .host import Host
from .interface import Interface

_IPV4_NO_OPTIONS = 0x45  # version 4, IHL 5 (RFC 791 §3.1)
_from_bytes = int.from_bytes  # a global, not an attribute lookup, on the fast path
# What the NAT's fast path translates (ICMP takes the full path): how many bytes of the
# transport header Napt needs to map a packet.
_NAT_NEEDED = {p: n for p, n in NEEDED.items() if p in (PROTO_TCP, PROTO_UDP)}


def _nat_transport(data: bytes, total: int) -> int | None:
    """The protocol of a packet the NAT's fast path may translate: TCP or UDP with the
    transport bytes Napt reads, not a fragment (offset and MF zero); else None."""
    proto = data[23]
    needed = _NAT_NEEDED.get(proto)
    if needed is None or total - 20 < needed or data[20] & 0x3F or data[21]:
        return None
    return proto


def _nat_frame(
    data: bytes, total: int, header: bytes, addresses: bytes, port_at: int, port: int
) -> bytes:
    """The NAT's translated frame with Ethernet ``header``: the IPv4 addresses replaced by
    ``addresses``, the port at frame offset ``port_at`` by ``port``, TTL − 1, and both
    checksums adjusted, never recomputed (RFC 1624 §3 eqn. 3, HC' = ~(~HC + ~m + m')).

    The arithmetic of :meth:`IPv4Packet.with_addresses` then :meth:`IPv4Packet.with_ttl`
    for the header checksum and of :func:`~minternet.ip.nat.port_checksum` for the
    transport's, on ints and inlined (this runs for every packet of a NAT's flows): the
    one's-complement sum of bytes read as the number ``n`` is ``n % 0xFFFF``, except that
    non-zero bytes summing to a multiple of 0xFFFF give 0xFFFF (as
    :func:`~minternet.checksum.ones_complement_sum` does). The two header adjustments are
    one: end-around-carry sums are associative, and the TTL's ~m + m' is 0xFEFF whatever
    the TTL (as in the plain fast path)."""
    ttl, proto = data[22], data[23]
    old = _from_bytes(data[26:34], "big")
    new = _from_bytes(addresses, "big")
    old_sum = old % 0xFFFF or (0xFFFF if old else 0)
    new_sum = new % 0xFFFF or (0xFFFF if new else 0)
    hc = (((data[24] << 8) | data[25]) ^ 0xFFFF) + (old_sum ^ 0xFFFF) + new_sum + 0xFEFF
    hc = (hc & 0xFFFF) + (hc >> 16)
    hc = ((hc & 0xFFFF) + (hc >> 16)) ^ 0xFFFF
    at = 34 + CHECKSUM_AT[proto]
    tc = (data[at] << 8) | data[at + 1]
    if tc or proto != PROTO_UDP:  # no UDP checksum (zero) stays none (RFC 768)
        # The pseudo-header's addresses and the port, as one number each.
        old = (old << 16) | (data[port_at] << 8) | data[port_at + 1]
        new = (new << 16) | port
        old_sum = old % 0xFFFF or (0xFFFF if old else 0)
        new_sum = new % 0xFFFF or (0xFFFF if new else 0)
        tc = (tc ^ 0xFFFF) + (old_sum ^ 0xFFFF) + new_sum
        tc = (tc & 0xFFFF) + (tc >> 16)
        tc = ((tc & 0xFFFF) + (tc >> 16)) ^ 0xFFFF
        if tc == 0 and proto == PROTO_UDP:
            tc = 0xFFFF  # a computed zero is sent as all ones (RFC 768)
    frame = b"".join((
        header, data[14:22], bytes((ttl - 1, proto, hc >> 8, hc & 0xFF)), addresses,
        data[34:port_at], port.to_bytes(2, "big"), data[port_at + 2 : at],
        tc.to_bytes(2, "big"), data[at + 2 : 14 + total],
    ))  # fmt: skip
    if len(frame) < 60:
        frame += bytes(60 - len(frame))
    return frame


class _Hop:
    """The fast path's way to one destination: its unicast route, the interface and next
    hop that route gives, and — once resolved — the Ethernet header to the next hop.

    ``routes`` is the routing table's generation the route was looked up in (a route added
    or removed makes a new one); ``arp`` the ARP cache's generation when ``header`` was
    made and ``expires`` when that ARP entry expires: while both hold, :meth:`ArpCache.lookup`
    would answer the same MAC and change nothing, so the fast path need not ask it. (An
    interface's MAC never changes; its MTU and broadcast address are read per packet.)
    """

    __slots__ = ("arp", "expires", "header", "next_hop", "out", "route", "routes")

    def __init__(self, routes: int, route: Route, out: Interface, next_hop: str) -> None:
        self.routes = routes
        self.route = route
        self.out = out
        self.next_hop = next_hop
        self.arp = -1  # not resolved yet
        self.expires = 0.0
        self.header = b""  # the next hop's MAC, ours, EtherType IPv4


_MAX_HOPS = 4096  # destinations the fast path remembers (then it starts afresh)


class Router(Host):
    kind = "router"
    forwarding = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.nats: dict[str, Napt] = {}  # outside interface → its translator
        self._hops: dict[str, _Hop] = {}  # destination → the fast path's way there

    def enable_nat(self, iface_name: str, inside: str) -> Napt:
        """Make ``iface_name`` a NAT's outside interface for the hosts of ``inside``
        (a prefix), sharing the interface's address (RFC 3022 §2.2, NAPT)."""
        iface = self.interfaces[iface_name]
        if iface.address is None:
            raise ValueError(f"{self.name}/{iface_name}: a NAT interface needs an address")
        nat = Napt(inside, iface.address, self.random.child(f"nat:{iface_name}"))
        self.nats[iface_name] = nat
        return nat

    def nat_table(self, now: float | None = None) -> list[tuple[str, Mapping]]:
        """Every NAT's live mappings (expired ones reported and removed first)."""
        out: list[tuple[str, Mapping]] = []
        for name, nat in sorted(self.nats.items()):
            self._nat_expire(name, nat, self.loop.now() if now is None else now)
            out += [(name, m) for m in nat.mappings()]
        return out

    def _nat_expire(self, iface: str, nat: Napt, now: float) -> None:
        for m in nat.expire(now):
            if self.trace.active:
                self.trace.emit(
                    now, self.name, "nat", "expire",
                    {"protocol": m.protocol_name, "inside": f"{m.inside}:{m.inside_port}",
                     "public": f"{m.public}:{m.public_port}", "expired": round(m.expires, 6)},
                    iface=iface,
                )  # fmt: skip

    def _nat_event(self, iface: str, direction: str, packet: IPv4Packet, t: Translation) -> str:
        """Trace one translation; the frame comment's words for it."""
        assert t.mapping is not None and t.packet is not None
        return self._nat_note(
            iface, direction, t.mapping, t.event == "new-mapping", t.detail,
            (packet.src, t.packet.src), (packet.dst, t.packet.dst), packet.identification,
        )  # fmt: skip

    def _nat_note(
        self, iface: str, direction: str, m: Mapping, new: bool, detail: str,
        src: tuple[str, str], dst: tuple[str, str], ident: int,
    ) -> str:  # fmt: skip
        """The ``nat translate`` event of a packet from ``src[0]`` to ``dst[0]`` sent on as
        ``src[1]`` to ``dst[1]`` (when events are on); the frame comment's words for it."""
        inside, public = f"{m.inside}:{m.inside_port}", f"{m.public}:{m.public_port}"
        what = f"{inside} → {public}" if direction == "out" else f"{public} → {inside}"
        if new:
            what += ", new mapping"
        if detail:
            what += f" ({detail})"
        if self.trace.active:
            remote = dst[0] if direction == "out" else src[0]
            fields: dict[str, Any] = {
                "direction": direction, "protocol": m.protocol_name, "inside": inside,
                "public": public, "remote": remote, "new": new,
                "src": list(src), "dst": list(dst), "id": ident,
            }  # fmt: skip
            if detail:
                fields["icmp"] = detail
            self.trace.emit(self.loop.now(), self.name, "nat", "translate", fields, iface=iface)
        return f"NAT {what}"

    def frame_received(self, iface: Interface, data: bytes, packet_id: int | None) -> None:
        if not self._fast_forward(iface, data, packet_id):
            super().frame_received(iface, data, packet_id)

    def _fast_forward(self, iface: Interface, data: bytes, pid: int | None) -> bool:
        """Forward a plain transit frame on its bytes (see the module's "Fast path"); False,
        having changed nothing, when the frame needs the full path."""
        if len(data) < 34 or data[14] != _IPV4_NO_OPTIONS or data[12] != 8 or data[13]:
            return False
        if not self.forwarding or data[0:6] != iface.mac_bytes:
            return False
        total = (data[16] << 8) | data[17]
        ttl = data[22]
        # RFC 1812 §5.2.2: version, length and checksum checked; 0xFFFF is re-encoded 0x0000
        # by the full path, so it is left to it.
        if total < 20 or len(data) < 14 + total or ttl <= 1 or data[24] == data[25] == 0xFF:
            return False
        # The header verifies when its 16-bit words sum to 0xFFFF (RFC 1071); as 2**16 ≡ 1
        # (mod 0xFFFF), the 20 bytes read as one number are then ≡ 0 (they are never all 0).
        if _from_bytes(data[14:34], "big") % 0xFFFF:
            return False
        taps = self.ip_taps
        if (
            taps
            and iface.name in taps
            and taps[iface.name] is not self.local_ip_taps.get(iface.name)
        ):
            return False
        dst = ip_from_bytes(data[30:34])
        nats = self.nats
        if dst in self._local:
            nat = nats.get(iface.name) if nats else None
            if nat is None or dst != nat.public:
                return False
            return self._fast_nat_in(iface, data, pid, total, nat)
        if dst == BROADCAST or dst == iface.broadcast:
            return False
        hop = self._hop(dst)
        if hop is None:
            return False
        if nats and (hop.route.iface in nats or iface.name in nats):
            nat = nats.get(hop.route.iface)
            if nat is None or iface.name in nats:
                return False
            return self._fast_nat_out(iface, data, pid, total, dst, hop, nat)
        if not self._egress(hop, dst, total):
            return False
        # RFC 1812 §5.3.1: TTL − 1; RFC 1624 §3 eqn. 3, HC' = ~(~HC + ~m + m'), with the
        # word m = TTL·256 + protocol and m' = m − 256: ~m + m' = 0xFEFF whatever they are
        # (checksum_adjust's arithmetic, inlined: this runs for every frame at every hop).
        # ~HC + 0xFEFF < 0x1FEFF, so one end-around carry folds it into 16 bits.
        hc = (((data[24] << 8) | data[25]) ^ 0xFFFF) + 0xFEFF
        hc = ((hc & 0xFFFF) + (hc >> 16)) ^ 0xFFFF
        frame = b"".join((
            hop.header, data[14:22], ((ttl - 1) << 24 | data[23] << 16 | hc).to_bytes(4, "big"),
            data[26 : 14 + total],
        ))  # fmt: skip
        if len(frame) < 60:
            frame += bytes(60 - len(frame))
        trace = self.trace
        if trace.active or trace.frames_active:
            return self._send_on(iface, hop, frame, pid, data)
        hop.out.transmit(frame, pid)
        return True

    def _fast_nat_out(
        self, iface: Interface, data: bytes, pid: int | None, total: int, dst: str, hop: _Hop,
        nat: Napt,
    ) -> bool:  # fmt: skip
        """An unfragmented TCP or UDP packet from an inside host of an existing mapping,
        leaving through the NAT's interface: translated and forwarded on its bytes, as
        :meth:`forward` does it with :meth:`Napt.outbound` (see the module's "NAT")."""
        proto = _nat_transport(data, total)
        if proto is None:
            return False
        src = ip_from_bytes(data[26:30])
        if not nat.is_inside(src):
            return False
        if not self._egress(hop, dst, total):
            return False
        now = self.loop.now()
        self._nat_expire(hop.route.iface, nat, now)  # the full path's first step too
        port = (data[34] << 8) | data[35]
        m = nat.mapping_out(proto, src, port)
        if m is None:
            return False  # a new mapping: the full path makes it
        nat.track(m, dst, (data[36] << 8) | data[37], data[34:48], now, outbound=True)
        public = m.public
        frame = _nat_frame(data, total, hop.header, ip_to_bytes(public) + data[30:34], 34,
                           m.public_port)  # fmt: skip
        return self._send_on(iface, hop, frame, pid, data, m, (public, dst))

    def _fast_nat_in(
        self, iface: Interface, data: bytes, pid: int | None, total: int, nat: Napt
    ) -> bool:
        """An unfragmented TCP or UDP packet for the NAT's public address from a remote
        endpoint an existing mapping talked to: translated back and forwarded inside on its
        bytes, as :meth:`for_us` and :meth:`forward` do it with :meth:`Napt.inbound`."""
        proto = _nat_transport(data, total)
        if proto is None:
            return False
        now = self.loop.now()
        self._nat_expire(iface.name, nat, now)  # the full path's first step too
        src = ip_from_bytes(data[26:30])
        remote_port = (data[34] << 8) | data[35]
        m = nat.mapping_in(proto, (data[36] << 8) | data[37], src, remote_port)
        if m is None:
            return False  # unsolicited or filtered: the full path drops it
        inside = m.inside
        hop = self._hop(inside)
        if hop is None or hop.route.iface in self.nats:
            return False
        if inside == BROADCAST or not self._egress(hop, inside, total):
            return False
        nat.track(m, src, remote_port, data[34:48], now, outbound=False)
        frame = _nat_frame(data, total, hop.header, data[26:30] + ip_to_bytes(inside), 36,
                           m.inside_port)  # fmt: skip
        return self._send_on(iface, hop, frame, pid, data, m, (src, inside))

    def _hop(self, dst: str) -> _Hop | None:
        """The fast path's way to ``dst``: what ``routes.lookup`` answers, kept until the
        routing table changes; None without a unicast route (the full path then drops or
        discards the packet)."""
        routes = self.routes
        hop = self._hops.get(dst)
        if hop is not None and hop.routes == routes.generation:
            return hop
        route = routes.lookup(dst)
        if route is None or route.kind != "unicast":
            return None
        if len(self._hops) >= _MAX_HOPS:
            self._hops.clear()
        hop = _Hop(routes.generation, route, self.interfaces[route.iface], route.gateway or dst)
        self._hops[dst] = hop
        return hop

    def _egress(self, hop: _Hop, dst: str, total: int) -> bool:
        """Whether the fast path can send a ``total``-byte packet for ``dst`` by ``hop``:
        False if it does not fit the MTU, is the interface's broadcast or its next hop's MAC
        is not known (the full path then fragments, broadcasts or resolves it). The MAC is
        what :meth:`ArpCache.lookup` answers now, asked only when the answer ``hop`` keeps
        may have changed: an entry learnt or removed since, or its expiry reached (the
        lookup then removes it, as the full path's would)."""
        out = hop.out
        if total > out.mtu or dst == out.broadcast:
            return False
        if hop.arp == self.arp.generation and hop.expires > self.loop.now():
            return True
        return self._resolve(hop)

    def _resolve(self, hop: _Hop) -> bool:
        """Ask the ARP cache for ``hop``'s next hop (which removes an expired entry); if it
        knows the MAC, keep it in ``hop`` with the entry's expiry."""
        arp = self.arp
        iface, next_hop = hop.route.iface, hop.next_hop
        mac = arp.lookup(iface, next_hop)
        if mac is None:
            return False
        hop.arp, hop.expires = arp.generation, arp.expires(iface, next_hop)
        hop.header = mac_to_bytes(mac) + hop.out.mac_bytes + b"\x08\x00"
        return True

    def _send_on(
        self, iface: Interface, hop: _Hop, frame: bytes, pid: int | None, data: bytes,
        m: Mapping | None = None, sent: tuple[str, str] | None = None,
    ) -> bool:  # fmt: skip
        """Send the fast path's ``frame`` (made of the received ``data``) by ``hop`` with
        the full path's events and comment: ``ip forward``, and for a packet translated by
        mapping ``m`` to the addresses ``sent`` (source, destination), ``nat translate``."""
        route = hop.route
        comment = None
        trace = self.trace
        if trace.active or trace.frames_active:
            ttl = data[22]
            src, dst = ip_from_bytes(data[26:30]), ip_from_bytes(data[30:34])
            to, note = dst, ""
            if m is not None and sent is not None:
                to = sent[1]
                outbound = sent[0] != src
                note = "; " + self._nat_note(
                    route.iface if outbound else iface.name, "out" if outbound else "in", m,
                    False, "", (src, sent[0]), (dst, to), (data[18] << 8) | data[19],
                )  # fmt: skip
            if trace.active:
                self._forward_event(src, dst, ttl, iface, route, to)
            if trace.frames_active:
                comment = (
                    f"{self.name} forwards {src} → {dst}: TTL {ttl}→{ttl - 1}, in "
                    f"{iface.name}, out {route.iface} to {hop.next_hop}{note}"
                )
        hop.out.transmit(frame, pid, comment)
        return True

    def _forward_event(
        self, src: str, dst: str, ttl: int, iface: Interface, route: Route, to: str | None = None
    ) -> None:
        """The ``ip forward`` trace event: ``src``/``dst`` as the packet arrived, ``to`` its
        destination after any NAT (the next hop when the route has no gateway)."""
        self.trace.emit(
            self.loop.now(),
            self.name,
            "ip",
            "forward",
            {
                "src": src,
                "dst": dst,
                "ttl": [ttl, ttl - 1],
                "in": iface.name,
                "out": route.iface,
                "next_hop": route.gateway or to or dst,
                "route": f"{route.prefix}/{route.prefix_len}",
                "gateway": route.gateway,
            },
            iface=route.iface,
        )

    def for_us(self, packet: IPv4Packet, iface: Interface, pid: int | None) -> None:
        nat = self.nats.get(iface.name)
        if nat is None or packet.dst != nat.public:
            self._local_input(packet, iface)
            return
        now = self.loop.now()
        self._nat_expire(iface.name, nat, now)
        t = nat.inbound(packet, now)
        if t.packet is not None:
            comment = self._nat_event(iface.name, "in", packet, t)
            self.forward(t.packet, iface, pid, nat_comment=comment, received=packet)
            return
        proto = packet.protocol
        if proto == PROTO_ICMP or (
            proto == PROTO_UDP and len(packet.payload) >= 4
            and self.udp.is_bound(packet.dst, int.from_bytes(packet.payload[2:4], "big"))
        ):  # fmt: skip
            self._local_input(packet, iface)  # the router's own: ping, its ICMP errors, DHCP
            return
        reason = "nat-filtered" if t.event == "filtered" else "nat-unsolicited"
        self.drop(reason, t.detail, iface=iface.name, src=packet.src, dst=packet.dst)

    def forward(
        self,
        packet: IPv4Packet,
        iface: Interface,
        pid: int | None,
        *,
        nat_comment: str | None = None,
        received: IPv4Packet | None = None,
    ) -> None:
        if packet.ttl <= 1:
            self.drop(
                "ttl-expired",
                f"TTL {packet.ttl} from {packet.src} to {packet.dst} expired",
                iface=iface.name,
            )
            self.send_icmp_error(received or packet, icmp.TIME_EXCEEDED, icmp.TTL_EXCEEDED)
            return
        route = self.routes.lookup(packet.dst)
        if route is None:
            self.drop("no-route", f"no route to {packet.dst}", iface=iface.name, dst=packet.dst)
            self.send_icmp_error(received or packet, icmp.DEST_UNREACHABLE, icmp.NET_UNREACHABLE)
            return
        if route.kind != "unicast":
            self.discard_by_route(route, packet, iface)
            return
        nats = self.nats
        if nats:
            nat = nats.get(route.iface)
            if nat is not None and nat.is_inside(packet.src) and route.iface != iface.name:
                now = self.loop.now()
                self._nat_expire(route.iface, nat, now)
                t = nat.outbound(packet, now)
                if t.packet is None:
                    self.drop(f"nat-{t.event}", f"NAT cannot translate it: {t.detail}",
                              iface=iface.name, src=packet.src)  # fmt: skip
                    return
                nat_comment = self._nat_event(route.iface, "out", packet, t)
                received = packet
                packet = t.packet
            elif received is None and iface.name in nats and nats[iface.name].is_inside(packet.dst):
                self.drop("nat-private-destination",
                          f"{packet.dst} is inside the NAT; not reachable from outside",
                          iface=iface.name, src=packet.src)  # fmt: skip
                return
        out = packet.with_ttl(packet.ttl - 1)
        comment = None
        trace = self.trace
        seen = received or packet  # as it arrived here, before any translation
        if trace.active:  # the fields cost more than the rest of forwarding
            self._forward_event(seen.src, seen.dst, packet.ttl, iface, route, packet.dst)
        if trace.frames_active:
            comment = (
                f"{self.name} forwards {seen.src} → {seen.dst}: TTL {packet.ttl}→"
                f"{out.ttl}, in {iface.name}, out {route.iface} to "
                f"{route.gateway or packet.dst}"
            )
            if nat_comment:
                comment += f"; {nat_comment}"
        self._output(out, pid, iface, comment, original=seen)
