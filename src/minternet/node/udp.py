"""UDP demultiplexing and the sockets a host gives to applications (RFC 768, RFC 1122 §4.1).

:class:`UdpLayer` is registered with the host as the handler of IP protocol 17: it checks
the datagram (length, pseudo-header checksum), finds the socket bound to the destination
port (a specific address before the wildcard 0.0.0.0) and queues the datagram, or answers
ICMP port unreachable. Ephemeral ports are drawn from the host's random source in
49152–65535 (RFC 6335 §6). An ICMP error quoting one of our datagrams is kept on the socket
(:attr:`UdpSocket.errors`) and traced; like an unconnected BSD socket, it does not fail
``recvfrom``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..errors import DecodeError, LocalProtocolError
from ..ip.address import ANY, BROADCAST, ip_to_bytes
from ..ip.icmp import DEST_UNREACHABLE, PORT_UNREACHABLE, IcmpErrorReport
from ..ip.ipv4 import PROTO_UDP, IPv4Packet
from ..loop import EventLoop, Future
from ..randomness import RandomSource
from ..trace.bus import TraceBus
from ..udp.datagram import MAX_PAYLOAD, UdpDatagram
from .inbox import Inbox

Address = tuple[str, int]
EPHEMERAL = (49152, 65535)


class IpService(Protocol):
    """What UDP needs from the host below it."""

    name: str
    loop: EventLoop
    random: RandomSource
    trace: TraceBus

    def ip_send(
        self,
        dst: str,
        protocol: int,
        payload: bytes,
        *,
        src: str | None = None,
        ttl: int | None = None,
        df: bool = True,
    ) -> None: ...

    def source_address_for(self, dst: str) -> str: ...

    def is_local_address(self, addr: str) -> bool: ...

    def send_icmp_error(
        self, original: IPv4Packet, type_: int, code: int, next_hop_mtu: int = 0
    ) -> None: ...

    def drop(self, reason: str, why: str, iface: str | None = None, **fields: object) -> None: ...


@dataclass(frozen=True, slots=True)
class UdpError:
    """An ICMP error about a datagram this socket sent."""

    reporter: str
    type: int
    code: int
    remote: Address


class UdpSocket:
    """A bound UDP socket (implements :class:`minternet.node.api.DatagramSocket`)."""

    def __init__(self, layer: UdpLayer, local: Address, queue: int) -> None:
        self._layer = layer
        self._local = local
        self.inbox: Inbox[tuple[bytes, Address]] = Inbox(layer.host.loop, queue)
        self.errors: list[UdpError] = []

    @property
    def local(self) -> Address:
        return self._local

    def sendto(self, data: bytes, addr: Address) -> None:
        if self.inbox.closed:
            raise LocalProtocolError("sendto on a closed UDP socket")
        self._layer.send(self, data, addr)

    def recvfrom(self, timeout: float | None = None) -> Future[tuple[bytes, Address]]:
        return self.inbox.get(timeout)

    def close(self) -> None:
        if not self.inbox.closed:
            self._layer.unbind(self)
            self.inbox.close()

    def __repr__(self) -> str:
        return f"UdpSocket({self._local[0]}:{self._local[1]})"


class UdpLayer:
    """The UDP protocol handler of one host."""

    def __init__(self, host: IpService, queue: int = 256) -> None:
        self.host = host
        self.queue = queue
        self._bound: dict[tuple[str, int], UdpSocket] = {}
        self._random = host.random.child("udp")

    def bind(self, addr: Address = (ANY, 0)) -> UdpSocket:
        ip, port = addr
        try:
            ip_to_bytes(ip)
        except ValueError:
            raise LocalProtocolError(f"bind: not an IPv4 address: {ip!r}") from None
        if ip != ANY and not self.host.is_local_address(ip):
            raise LocalProtocolError(f"bind: {ip} is not an address of {self.host.name}")
        if not 0 <= port <= 65535:
            raise LocalProtocolError(f"bind: port {port} out of range")
        if port == 0:
            port = self._ephemeral(ip)
        elif self._in_use(ip, port):
            raise LocalProtocolError(f"bind: UDP port {port} already in use on {self.host.name}")
        sock = UdpSocket(self, (ip, port), self.queue)
        self._bound[(ip, port)] = sock
        return sock

    def is_bound(self, ip: str, port: int) -> bool:
        """A socket would receive a datagram for ``ip``:``port``."""
        return (ip, port) in self._bound or (ANY, port) in self._bound

    def _in_use(self, ip: str, port: int) -> bool:
        if ip == ANY:
            return any(p == port for _, p in self._bound)
        return (ip, port) in self._bound or (ANY, port) in self._bound

    def _ephemeral(self, ip: str) -> int:
        lo, hi = EPHEMERAL
        start = self._random.randint(lo, hi)
        for i in range(hi - lo + 1):
            port = lo + (start - lo + i) % (hi - lo + 1)
            if not self._in_use(ip, port):
                return port
        raise LocalProtocolError(f"no free UDP port on {self.host.name}")

    def unbind(self, sock: UdpSocket) -> None:
        self._bound.pop(sock.local, None)

    def send(self, sock: UdpSocket, data: bytes, addr: Address) -> None:
        dst, dport = addr
        if len(data) > MAX_PAYLOAD:
            raise LocalProtocolError(f"UDP payload of {len(data)} bytes exceeds {MAX_PAYLOAD}")
        if not 0 < dport <= 65535:
            raise LocalProtocolError(f"sendto: port {dport} out of range")
        try:
            ip_to_bytes(dst)
        except ValueError:
            raise LocalProtocolError(f"sendto: not an IPv4 address: {dst!r}") from None
        src = sock.local[0]
        if src == ANY:
            src = self.host.source_address_for(dst)
        dgram = UdpDatagram(sock.local[1], dport, data)
        h = self.host
        if h.trace.active:
            h.trace.emit(
                h.loop.now(),
                h.name,
                "udp",
                "send",
                {"src": f"{src}:{sock.local[1]}", "dst": f"{dst}:{dport}", "bytes": len(data)},
            )
        # Datagrams may be fragmented (DF clear), as Linux does for UDP without PMTU discovery.
        h.ip_send(dst, PROTO_UDP, dgram.encode(src, dst), src=src, df=False)

    def __call__(self, packet: IPv4Packet) -> None:
        h = self.host
        try:
            dgram = UdpDatagram.decode(packet.payload, packet.src, packet.dst)
        except DecodeError as e:
            reason = "udp-bad-checksum" if e.field == "checksum" else "udp-malformed"
            h.drop(reason, str(e), src=packet.src)
            return
        sock = self._bound.get((packet.dst, dgram.dst_port)) or self._bound.get(
            (ANY, dgram.dst_port)
        )
        if sock is None:
            h.drop(
                "udp-port-unreachable",
                f"no socket on UDP port {dgram.dst_port}",
                src=f"{packet.src}:{dgram.src_port}",
            )
            if packet.dst != BROADCAST:
                h.send_icmp_error(packet, DEST_UNREACHABLE, PORT_UNREACHABLE)
            return
        if h.trace.active:
            h.trace.emit(
                h.loop.now(),
                h.name,
                "udp",
                "recv",
                {
                    "src": f"{packet.src}:{dgram.src_port}",
                    "dst": f"{packet.dst}:{dgram.dst_port}",
                    "bytes": len(dgram.payload),
                },
            )
        if not sock.inbox.put((dgram.payload, (packet.src, dgram.src_port))):
            h.drop("udp-receive-buffer-full", f"socket {sock.local} queue full")

    def icmp_error(self, report: IcmpErrorReport) -> None:
        q = report.quoted
        if len(q.payload) < 4:
            return
        sport = int.from_bytes(q.payload[0:2], "big")
        dport = int.from_bytes(q.payload[2:4], "big")
        sock = self._bound.get((q.src, sport)) or self._bound.get((ANY, sport))
        if sock is not None:
            sock.errors.append(UdpError(report.reporter, report.type, report.code, (q.dst, dport)))
