"""A small simulated IP "wire" joining TCP stacks, for tests and benchmarks.

No Ethernet, ARP or routing: :class:`Wire` carries whole TCP segments between the
:class:`~minternet.node.tcp.TcpStack` attached at each address, one direction at a time with
its own latency and bandwidth (a FIFO serialisation queue per direction), and injects the
:class:`~minternet.sim.faults.Faults` — loss, reordering, duplication, single-bit corruption —
by the same rule as every simulated link (:func:`~minternet.sim.faults.impair`), drawn from a
seeded :class:`~minternet.randomness.RandomSource`. The full network layer
(:mod:`minternet.sim`) carries TCP in real IPv4 packets; this exists so TCP can be tested and
measured on its own, including an attacker that injects forged segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..loop import VirtualLoop
from ..node.tcp import TcpStack, ip_bytes
from ..randomness import RandomSource, SeededRandom
from ..tcp.connection import TcpConfig
from ..tcp.segment import Segment
from ..trace.bus import TraceBus
from .faults import Faults, impair

IP_HEADER = 20


@dataclass
class WireStats:
    sent: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    corrupted: int = 0
    reordered: int = 0
    injected: int = 0
    bytes: int = 0


class Wire:
    """Point-to-point IP delivery between attached stacks with latency, bandwidth and faults."""

    def __init__(
        self,
        loop: VirtualLoop,
        random: RandomSource,
        *,
        latency: float = 0.005,
        bandwidth: float | None = None,  # bytes per second per direction; None = unlimited
        faults: Faults | None = None,
        mtu: int = 1500,
    ) -> None:
        self.loop = loop
        self.random = random
        self.latency = latency
        self.bandwidth = bandwidth
        self.faults = faults or Faults()
        self.mtu = mtu
        self.stacks: dict[str, TcpStack] = {}
        self.stats = WireStats()
        self._busy_until: dict[tuple[str, str], float] = {}
        self.taps: list[tuple[float, str, str, bytes]] | None = None

    def attach(self, ip: str, stack: TcpStack) -> None:
        self.stacks[ip] = stack

    def send(self, src: str, dst: str, data: bytes) -> None:
        """What a stack's ``send_ip`` calls."""
        stats = self.stats
        stats.sent += 1
        stats.bytes += len(data)
        if len(data) + IP_HEADER > self.mtu:
            raise ValueError(f"{len(data) + IP_HEADER}-byte packet exceeds the MTU {self.mtu}")
        now = self.loop.now()
        at = now
        if self.bandwidth:
            key = (src, dst)
            start = max(now, self._busy_until.get(key, 0.0))
            at = start + (len(data) + IP_HEADER) / self.bandwidth
            self._busy_until[key] = at
        f = self.faults
        delay = self.latency + f.latency
        if f.any:
            fate = impair(f, self.random, data, delay=delay)
            if fate is None:
                stats.lost += 1
                return
            data = fate.data
            if fate.flipped_bit is not None:
                stats.corrupted += 1
            if fate.hold:
                delay += fate.hold
                stats.reordered += 1
            if fate.duplicate:
                stats.duplicated += 1
                gap = (len(data) + IP_HEADER) / self.bandwidth if self.bandwidth else 0.0
                self.loop.call_at(at + delay + gap, self._arrive, src, dst, data)
        self.loop.call_at(at + delay, self._arrive, src, dst, data)

    def inject(self, src: str, dst: str, seg: Segment, delay: float = 0.0) -> None:
        """An attacker's forged segment, with a correct checksum, straight to ``dst``."""
        data = seg.encode(ip_bytes(src), ip_bytes(dst))
        self.stats.injected += 1
        self.loop.call_at(self.loop.now() + delay, self._arrive, src, dst, data)

    def _arrive(self, src: str, dst: str, data: bytes) -> None:
        if self.taps is not None:
            self.taps.append((self.loop.now(), src, dst, data))
        stack = self.stacks.get(dst)
        if stack is not None:
            self.stats.delivered += 1
            stack.deliver(src, dst, data)


@dataclass
class WireNet:
    """A loop, a trace bus, a wire and stacks named by address."""

    loop: VirtualLoop
    trace: TraceBus
    wire: Wire
    stacks: dict[str, TcpStack] = field(default_factory=dict)

    def add(self, ip: str, name: str, config: TcpConfig | None = None) -> TcpStack:
        seed_root = self.wire.random
        stack = TcpStack(
            loop=self.loop,
            random=seed_root.child(f"node-{name}"),
            trace=self.trace,
            node=name,
            send_ip=self.wire.send,
            source_for=lambda _dst, ip=ip: ip,  # type: ignore[misc]
            config=config,
        )
        self.wire.attach(ip, stack)
        self.stacks[ip] = stack
        return stack


def wire_net(
    seed: int = 1,
    *,
    latency: float = 0.005,
    bandwidth: float | None = None,
    faults: Faults | None = None,
    mtu: int = 1500,
) -> WireNet:
    """An empty testbed; add stacks with :meth:`WireNet.add`."""
    loop = VirtualLoop()
    rnd = SeededRandom(seed)
    wire = Wire(loop, rnd, latency=latency, bandwidth=bandwidth, faults=faults, mtu=mtu)
    return WireNet(loop, TraceBus(), wire)
