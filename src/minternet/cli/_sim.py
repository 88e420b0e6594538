"""Helpers shared by the simulator commands: build the world, capture, run one app."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from ..errors import ConfigError
from ..loop import LoopTimeout
from ..node.host import Host
from ..sim.world import load_world
from ..trace.bus import EventLog, FrameRecord
from ..trace.pcapng import PcapngWriter
from .options import SimOptions

T = TypeVar("T")


class Session:
    """A world (built from a simulator command's options) plus its optional capture."""

    def __init__(self, sim: SimOptions) -> None:
        self.world = load_world(sim.world_file, seed=sim.seed, faults=sim.faults.faults)
        self.pcap_path = pcap = sim.pcap
        self.capture: PcapngWriter | None = None
        if pcap is not None:
            self.capture = PcapngWriter(self.world.interfaces())
            self.world.trace.subscribe_frames(self.capture)

    def record(self) -> tuple[list[FrameRecord], EventLog]:
        """Keep every frame and event from now on (for ``--html``)."""
        frames: list[FrameRecord] = []
        log = EventLog()
        self.world.trace.subscribe_frames(frames.append)
        self.world.trace.subscribe(log)
        return frames, log

    def source(self, name: str | None) -> Host:
        if name is not None:
            return self.world.node(name)
        try:
            return self.world.node("laptop")
        except ConfigError:
            hosts = self.world.hosts
            if not hosts:
                raise ConfigError("this world has no host to start from") from None
            return hosts[0]

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 3600.0) -> T:
        task = self.world.loop.create_task(coro)
        try:
            result = self.world.loop.run_until_complete(task, timeout)
        except LoopTimeout:
            loop = self.world.loop
            if loop.next_timer() is None and not task.done():
                raise ConfigError(
                    f"nothing left to happen at {loop.now():.3f} s of simulated time: every "
                    "endpoint is waiting with no timer"
                ) from None
            raise ConfigError(f"the simulation did not finish within {timeout:g} s") from None
        # Let what is still in flight land (it is part of the capture), then write it.
        self.world.run(until=self.world.loop.now() + 1.0)
        if self.capture is not None and self.pcap_path is not None:
            self.capture.write(self.pcap_path)
        return result

    def name_of(self, address: str | None) -> str | None:
        if address is None:
            return None
        owner = self.world.owner_of(address)
        return None if owner is None else owner.hostname
