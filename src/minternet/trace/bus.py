"""One bus that every layer reports to; layers never print.

A :class:`TraceEvent` is what happened (time, node, interface, layer, kind, fields, why); a
:class:`FrameRecord` is a frame seen on an interface, for pcapng. Renderers — the terminal
timeline, pcapng, JSON lines, the key log, the report — subscribe. Emitting with no
subscribers costs one attribute check, so hot paths test :attr:`TraceBus.active` first
when building the fields is itself expensive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["in", "out"]


@dataclass(frozen=True, slots=True)
class TraceEvent:
    time: float
    node: str
    layer: str  # "link", "arp", "ip", "icmp", "udp", "tcp", "dns", "tls", "http", "app", "sim"
    kind: str  # e.g. "state", "drop", "send", "recv", "retransmit", "referral"
    fields: dict[str, Any] = field(default_factory=dict)
    iface: str | None = None
    why: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "time": self.time,
            "node": self.node,
            "layer": self.layer,
            "kind": self.kind,
        }
        if self.iface is not None:
            d["iface"] = self.iface
        if self.fields:
            d["fields"] = self.fields
        if self.why is not None:
            d["why"] = self.why
        return d


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """An Ethernet frame as seen on ``node/iface`` (``direction`` relative to the node)."""

    time: float
    node: str
    iface: str
    direction: Direction
    data: bytes
    packet_id: int | None = None  # the same id on a router's ingress and egress of one packet
    comment: str | None = None


EventSink = Callable[[TraceEvent], object]
FrameSink = Callable[[FrameRecord], object]


class TraceBus:
    """Fan-out of events and frames to subscribers."""

    def __init__(self) -> None:
        self._event_sinks: list[EventSink] = []
        self._frame_sinks: list[FrameSink] = []
        self.active = False
        self.frames_active = False
        self.counters: dict[str, int] = {}

    def subscribe(self, sink: EventSink) -> None:
        self._event_sinks.append(sink)
        self.active = True

    def subscribe_frames(self, sink: FrameSink) -> None:
        self._frame_sinks.append(sink)
        self.frames_active = True

    def count(self, name: str, n: int = 1) -> None:
        """Count something (drops by reason, retransmissions) whether or not anyone listens."""
        self.counters[name] = self.counters.get(name, 0) + n

    def emit(
        self,
        time: float,
        node: str,
        layer: str,
        kind: str,
        fields: dict[str, Any] | None = None,
        *,
        iface: str | None = None,
        why: str | None = None,
    ) -> None:
        if not self.active:
            return
        ev = TraceEvent(time, node, layer, kind, fields or {}, iface, why)
        for sink in self._event_sinks:
            sink(ev)

    def frame(self, rec: FrameRecord) -> None:
        if not self.frames_active:
            return
        for sink in self._frame_sinks:
            sink(rec)


class EventLog:
    """A sink that keeps every event in a list (tests, JSON output, the timeline)."""

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []

    def __call__(self, ev: TraceEvent) -> None:
        self.events.append(ev)

    def of(self, layer: str | None = None, kind: str | None = None) -> list[TraceEvent]:
        return [
            e
            for e in self.events
            if (layer is None or e.layer == layer) and (kind is None or e.kind == kind)
        ]
