"""A learning Ethernet switch (IEEE 802.1D transparent bridging, without spanning tree).

It learns which port each source MAC lives behind, forwards frames for a known unicast MAC
out of that port only, and floods broadcast, multicast and unknown destinations out of every
other port. Entries age out after ``aging`` seconds (802.1D's default: 300 s). A switch is
transparent: it has no addresses and its ports are not captured in pcapng.
"""

from __future__ import annotations

from ..link.ethernet import mac_from_bytes
from ..loop import EventLoop
from ..trace.bus import TraceBus
from .interface import Medium


class SwitchPort:
    """One port of a :class:`LearningSwitch`; a :class:`~minternet.sim.link.LinkEnd`."""

    def __init__(self, switch: LearningSwitch, name: str) -> None:
        self.switch = switch
        self.name = name
        self.link: Medium | None = None

    @property
    def full_name(self) -> str:
        return f"{self.switch.name}/{self.name}"

    def deliver(self, data: bytes, packet_id: int | None) -> None:
        self.switch.frame_received(self, data, packet_id)

    def transmit(self, data: bytes, packet_id: int | None) -> None:
        if self.link is not None:
            self.link.transmit(self, data, packet_id)


class LearningSwitch:
    kind = "switch"

    def __init__(
        self, name: str, loop: EventLoop, trace: TraceBus, *, aging: float = 300.0
    ) -> None:
        self.name = name
        self.loop = loop
        self.trace = trace
        self.aging = aging
        self.ports: list[SwitchPort] = []
        self.table: dict[bytes, tuple[SwitchPort, float]] = {}  # MAC -> (port, expiry)

    def add_port(self) -> SwitchPort:
        port = SwitchPort(self, f"port{len(self.ports)}")
        self.ports.append(port)
        return port

    def mac_table(self) -> dict[str, str]:
        now = self.loop.now()
        return {mac_from_bytes(m): p.name for m, (p, exp) in self.table.items() if exp > now}

    def frame_received(self, port: SwitchPort, data: bytes, packet_id: int | None) -> None:
        if len(data) < 14:
            self.trace.count("drop.ethernet-truncated")
            self.trace.emit(
                self.loop.now(),
                self.name,
                "link",
                "drop",
                {"bytes": len(data)},
                iface=port.name,
                why="truncated Ethernet header",
            )
            return
        now = self.loop.now()
        src = data[6:12]
        if not src[0] & 1:  # never learn a group address
            known = self.table.get(src)
            if known is None or known[0] is not port:
                self.trace.emit(
                    now, self.name, "link", "learn", {"mac": mac_from_bytes(src)}, iface=port.name
                )
            self.table[src] = (port, now + self.aging)
        dst = data[0:6]
        entry = None if dst[0] & 1 else self.table.get(dst)
        if entry is not None and entry[1] > now:
            out = entry[0]
            if out is not port:
                out.transmit(data, packet_id)
            return
        for p in self.ports:
            if p is not port:
                p.transmit(data, packet_id)
