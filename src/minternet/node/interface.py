"""A node's network interface: a MAC address, an IPv4 address with its prefix, an MTU and
the link it is plugged into. Every frame it sends or receives is reported to the trace bus
as a :class:`~minternet.trace.bus.FrameRecord` (what pcapng captures)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..ip.address import directed_broadcast, network_of
from ..link.ethernet import mac_to_bytes
from ..trace.bus import FrameRecord, TraceBus

if TYPE_CHECKING:
    from ..loop import EventLoop


class Medium(Protocol):
    """What an interface is plugged into: a simulated :class:`~minternet.sim.link.Link`, or
    a real device (``drivers.tap.TapLink``)."""

    def transmit(self, sender: Any, data: bytes, packet_id: int | None = None) -> None: ...


class FrameReceiver(Protocol):
    name: str
    loop: EventLoop
    trace: TraceBus

    def frame_received(self, iface: Interface, data: bytes, packet_id: int | None) -> None: ...


class Interface:
    """``eth0`` of a node."""

    def __init__(
        self,
        node: FrameReceiver,
        name: str,
        mac: str,
        address: str | None = None,
        prefix_len: int = 24,
        mtu: int = 1500,
    ) -> None:
        self.node = node
        self.name = name
        self.mac = mac
        self.mac_bytes = mac_to_bytes(mac)  # as it is on the wire (it never changes)
        self.address = address
        self.prefix_len = prefix_len
        self.mtu = mtu
        self.link: Medium | None = None
        # The directed broadcast address of the network (RFC 919), or None.
        self.broadcast = None if address is None else directed_broadcast(address, prefix_len)
        self.frames_in = 0
        self.frames_out = 0

    def set_address(self, address: str | None, prefix_len: int) -> None:
        """Change the address (DHCP configures and deconfigures it at run time)."""
        self.address = address
        self.prefix_len = prefix_len
        self.broadcast = None if address is None else directed_broadcast(address, prefix_len)

    @property
    def full_name(self) -> str:
        return f"{self.node.name}/{self.name}"

    @property
    def network(self) -> str | None:
        if self.address is None:
            return None
        return f"{network_of(self.address, self.prefix_len)}/{self.prefix_len}"

    def transmit(self, data: bytes, packet_id: int | None, comment: str | None = None) -> None:
        """Put a frame on the link (recorded as outgoing even if the link then loses it)."""
        self.frames_out += 1
        trace = self.node.trace
        if trace.frames_active:
            trace.frame(
                FrameRecord(
                    self.node.loop.now(), self.node.name, self.name, "out", data, packet_id, comment
                )
            )
        link = self.link
        if link is not None:
            link.transmit(self, data, packet_id)

    def deliver(self, data: bytes, packet_id: int | None) -> None:
        """A frame arrives from the link."""
        self.frames_in += 1
        node = self.node
        trace = node.trace
        if trace.frames_active:
            trace.frame(FrameRecord(node.loop.now(), node.name, self.name, "in", data, packet_id))
        node.frame_received(self, data, packet_id)

    def describe(self) -> str:
        """``02:00:00:00:00:01 192.168.1.10/24 mtu 1500`` (the pcapng if_description)."""
        addr = f" {self.address}/{self.prefix_len}" if self.address else ""
        return f"{self.mac}{addr} mtu {self.mtu}"

    def __repr__(self) -> str:
        addr = f" {self.address}/{self.prefix_len}" if self.address else ""
        return f"Interface({self.full_name} {self.mac}{addr} mtu={self.mtu})"
