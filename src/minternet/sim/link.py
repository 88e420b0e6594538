"""Simulated links: a full-duplex point-to-point cable with latency, bandwidth, MTU, a
drop-tail queue and injected faults.

A shared LAN segment is a :class:`~minternet.node.switch.LearningSwitch` with one such link
to each station (how switched Ethernet is built today). Each direction of a link has its own
transmitter: a frame waits in a drop-tail queue of ``queue_frames`` frames, takes
``(len + 24) * 8 / bandwidth`` seconds to serialise (preamble, FCS and inter-frame gap
included), then ``latency`` seconds to propagate.

Faults (:class:`~minternet.sim.faults.Faults`) are applied by the simulator's one rule,
:func:`~minternet.sim.faults.impair`, drawing from the link's own child stream of the
world's :class:`~minternet.randomness.SeededRandom`, so one seed fixes every loss,
reordering, duplicate and flipped bit. Corruption flips a bit after the Ethernet header — as
if the FCS were not checked — so that IP, ICMP, UDP and TCP checksums have to catch it.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from ..loop import EventLoop
from ..randomness import RandomSource
from ..trace.bus import TraceBus
from .faults import Faults, impair

WIRE_OVERHEAD = 24  # preamble+SFD (8), FCS (4), inter-frame gap (12)
ETH_HEADER = 14


class LinkEnd(Protocol):
    """Something a link delivers frames to: a node's interface or a switch port."""

    @property
    def full_name(self) -> str: ...

    def deliver(self, data: bytes, packet_id: int | None) -> None: ...


class _Direction:
    __slots__ = ("busy_until", "deliver", "dst", "queue")

    def __init__(self, dst: LinkEnd) -> None:
        self.dst = dst
        self.deliver = dst.deliver  # bound once, not per frame
        self.busy_until = 0.0
        self.queue: deque[float] = deque()  # finish times of frames not yet on the wire


class Link:
    """A point-to-point link between two :class:`LinkEnd`."""

    def __init__(
        self,
        name: str,
        loop: EventLoop,
        random: RandomSource,
        trace: TraceBus,
        a: LinkEnd,
        b: LinkEnd,
        *,
        latency: float = 0.001,
        bandwidth: float = 1e9,
        mtu: int = 1500,
        queue_frames: int = 100,
        faults: Faults | None = None,
    ) -> None:
        if latency < 0 or bandwidth <= 0 or mtu < 68 or queue_frames < 1:
            raise ValueError(f"link {name}: bad latency/bandwidth/mtu/queue")
        self.name = name
        self.loop = loop
        self.random = random
        self.trace = trace
        self.a = a
        self.b = b
        self.latency = latency
        self.bandwidth = bandwidth
        self.mtu = mtu
        self.queue_frames = queue_frames
        self.faults = faults or Faults()
        self._dirs = {id(a): _Direction(b), id(b): _Direction(a)}
        # Faults is frozen: whether it does anything is worked out once per Faults object.
        self._faults_seen: Faults | None = None
        self._faults_any = False
        self.impaired = False
        self.frames_sent = 0
        self.frames_dropped = 0

    def other(self, end: LinkEnd) -> LinkEnd:
        return self.b if end is self.a else self.a

    def replace_end(self, old: LinkEnd, new: LinkEnd) -> None:
        """Plug ``new`` into the socket ``old`` used (before any frame is sent): how a real
        interface takes a simulated host's cable (``minternet tap world --as NODE``)."""
        if old is self.a:
            self.a = new
        elif old is self.b:
            self.b = new
        else:
            raise ValueError(f"{old.full_name} is not an end of link {self.name}")
        self._dirs = {id(self.a): _Direction(self.b), id(self.b): _Direction(self.a)}

    def _drop(self, sender: LinkEnd, reason: str, why: str, size: int) -> None:
        self.frames_dropped += 1
        self.trace.count(f"drop.{reason}")
        self.trace.emit(
            self.loop.now(),
            self.name,
            "sim",
            "drop",
            {"from": sender.full_name, "bytes": size, "reason": reason},
            why=why,
        )

    def transmit(self, sender: LinkEnd, data: bytes, packet_id: int | None = None) -> None:
        """Queue ``data`` from ``sender`` for the other end (it may be lost on the way)."""
        d = self._dirs[id(sender)]
        loop = self.loop
        now = loop.now()
        size = len(data)
        if size - ETH_HEADER > self.mtu:
            self._drop(sender, "link-mtu", f"frame payload {size - 14} > MTU {self.mtu}", 0)
            return
        q = d.queue
        while q and q[0] <= now:
            q.popleft()
        if len(q) >= self.queue_frames:
            self._drop(sender, "queue-full", f"drop-tail queue of {self.queue_frames} full", 0)
            return
        busy = d.busy_until
        done = (busy if busy > now else now) + (size + WIRE_OVERHEAD) * 8 / self.bandwidth
        d.busy_until = done
        q.append(done)
        self.frames_sent += 1
        arrival = done + self.latency
        f = self.faults
        if f is not self._faults_seen:
            self._faults_seen = f
            self._faults_any = f.any
        if not self._faults_any:
            loop.schedule_at(arrival, d.deliver, (data, packet_id))
            return
        arrival += f.latency
        fate = impair(f, self.random, data, delay=self.latency + f.latency, protect=ETH_HEADER)
        if fate is None:
            self._drop(sender, "loss", f"lost on {self.name} (loss {f.loss:g})", len(data))
            return
        data = fate.data
        if fate.flipped_bit is not None:
            bit = fate.flipped_bit
            self.trace.count("sim.corrupted")
            self.trace.emit(now, self.name, "sim", "corrupt", {"byte": bit >> 3, "bit": bit & 7})
        if fate.hold:
            # Held back so that frames sent after it overtake it.
            arrival += fate.hold
            self.trace.count("sim.reordered")
            self.trace.emit(now, self.name, "sim", "reorder", {"arrival": arrival})
        if fate.duplicate:
            self.trace.count("sim.duplicated")
            self.trace.emit(now, self.name, "sim", "duplicate", {})
            gap = (len(data) + WIRE_OVERHEAD) * 8 / self.bandwidth
            loop.schedule_at(arrival + gap, d.deliver, (data, packet_id))
        loop.schedule_at(arrival, d.deliver, (data, packet_id))

    def __repr__(self) -> str:
        return f"Link({self.name}: {self.a.full_name} <-> {self.b.full_name})"
