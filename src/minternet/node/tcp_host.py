"""TCP on a simulated host: IP protocol 6 in, ``ip_send`` out.

:func:`attach_tcp` gives a host (:class:`minternet.node.host.Host` or a router) its
:class:`~minternet.node.tcp.TcpStack` as ``host.tcp``: the host hands every IPv4 packet of
protocol 6 addressed to it to the stack (which verifies the checksum, demultiplexes and
answers closed ports with RST), and every ICMP error quoting one of our segments (Path MTU
Discovery, unreachable while connecting). Segments leave through ``host.ip_send`` with DF
set, from the address of the interface the route leaves by.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..loop import EventLoop
from ..randomness import RandomSource
from ..tcp.connection import TcpConfig
from ..tcp.segment import PROTOCOL
from ..trace.bus import TraceBus
from .tcp import IcmpReport, TcpStack


class IpPacket(Protocol):
    src: str
    dst: str
    payload: bytes


class IpHost(Protocol):
    """What TCP needs of a host's IP layer."""

    name: str
    loop: EventLoop
    random: RandomSource
    trace: TraceBus

    def ip_send(
        self, dst: str, protocol: int, payload: bytes, *, src: str | None = ...
    ) -> None: ...

    def source_address_for(self, dst: str) -> str: ...

    def register_protocol(self, protocol: int, handler: Any) -> None: ...


class TcpInput:
    """The handler registered for IP protocol 6."""

    __slots__ = ("stack",)

    def __init__(self, stack: TcpStack) -> None:
        self.stack = stack

    def __call__(self, packet: IpPacket) -> None:
        self.stack.deliver(packet.src, packet.dst, packet.payload)

    def icmp_error(self, report: IcmpReport) -> None:
        self.stack.icmp_error(report)


def attach_tcp(host: IpHost, config: TcpConfig | None = None) -> TcpStack:
    """Create the host's TCP, register it for protocol 6 and set ``host.tcp``."""

    def send_ip(src: str, dst: str, segment: bytes) -> None:
        host.ip_send(dst, PROTOCOL, segment, src=src)

    stack = TcpStack(
        loop=host.loop,
        random=host.random.child("tcp"),
        trace=host.trace,
        node=host.name,
        send_ip=send_ip,
        source_for=host.source_address_for,
        config=config,
    )
    host.register_protocol(PROTOCOL, TcpInput(stack))
    host.tcp = stack  # type: ignore[attr-defined]
    return stack
