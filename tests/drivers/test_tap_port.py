"""TapPort's queueing, dropping and reporting, on a stand-in for a TAP descriptor.

A SOCK_DGRAM socketpair keeps frame boundaries exactly like a TAP device (one write, one
frame; one read, one frame) and can be made to refuse writes (EAGAIN) by not reading the
other end — so this runs without root.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from minternet import ConfigError, EventLog, SeededRandom, TraceBus
from minternet.drivers.realtime import RealtimeLoop
from minternet.drivers.tap import TapPort
from minternet.trace.bus import FrameRecord


class PairTap:
    """The TapDevice interface over one end of a datagram socketpair."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.name = "pairtap"
        sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> bytes | None:
        try:
            return os.read(self.sock.fileno(), 65535)
        except BlockingIOError:
            return None

    def write(self, frame: bytes) -> bool:
        try:
            os.write(self.sock.fileno(), frame)
        except BlockingIOError:
            return False
        return True


@pytest.fixture
def pair() -> Iterator[tuple[PairTap, socket.socket]]:
    ours, kernel = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    yield PairTap(ours), kernel
    ours.close()
    kernel.close()


def frame(i: int, size: int = 100) -> bytes:
    return i.to_bytes(4, "big") + bytes(size - 4)


def feed(loop: RealtimeLoop, kernel: socket.socket, frames: list[bytes]) -> None:
    """Send frames from the "kernel" end; a full queue lets the loop read some first."""
    for f in frames:
        while True:
            try:
                kernel.send(f, socket.MSG_DONTWAIT)
                break
            except BlockingIOError:
                loop.run_until_complete(loop.sleep(0.002))
    loop.run_until_complete(loop.sleep(0.1))


def test_frames_in_are_delivered_in_order_and_reported(pair: tuple[PairTap, socket.socket]) -> None:
    tap, kernel = pair
    loop = RealtimeLoop()
    trace = TraceBus()
    frames: list[FrameRecord] = []
    trace.subscribe_frames(frames.append)
    got: list[bytes] = []
    port = TapPort(loop, tap, trace=trace, node="n", iface="eth0", deliver=got.append, batch=8)  # type: ignore[arg-type]
    port.start()
    feed(loop, kernel, [frame(i) for i in range(50)])
    assert got == [frame(i) for i in range(50)]
    assert [f.direction for f in frames] == ["in"] * 50 and port.frames_in == 50
    port.stop()
    loop.close()


def test_a_full_kernel_queue_is_waited_for_then_bounded(
    pair: tuple[PairTap, socket.socket],
) -> None:
    tap, kernel = pair
    loop = RealtimeLoop()
    log = EventLog()
    trace = TraceBus()
    trace.subscribe(log)
    port = TapPort(loop, tap, trace=trace, node="n", iface="eth0", queue_limit=100)  # type: ignore[arg-type]
    port.start()
    sent = [frame(i, 1000) for i in range(300)]
    for f in sent:
        port.send(f)  # the kernel end reads nothing yet: writes fail, frames queue up
    assert 0 < port.frames_out < 300
    queued = len(port._outq)
    assert queued == 100 and port.dropped == 300 - port.frames_out - queued
    assert trace.counters["drop.tap.queue-full"] == port.dropped
    assert {e.why for e in log.of("link", "drop")} == {"the TAP queue is full"}
    received: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                received.append(kernel.recv(65535, socket.MSG_DONTWAIT))
            except BlockingIOError:
                break
        if len(received) < port.frames_out or port._outq:
            loop.call_later(0.005, drain)

    drain()
    loop.run_until_complete(loop.sleep(0.5))
    # what was not dropped arrives, in order, exactly once
    kept = [f for f in sent if f in set(received)]
    assert received == kept and len(received) == port.frames_out == 300 - port.dropped
    port.stop()
    loop.close()


def test_injected_loss_drops_about_that_share_both_ways(
    pair: tuple[PairTap, socket.socket],
) -> None:
    tap, kernel = pair
    loop = RealtimeLoop()
    got: list[bytes] = []
    port = TapPort(
        loop, tap, trace=TraceBus(), node="n", iface="eth0", deliver=got.append, loss=0.3
    )  # type: ignore[arg-type]
    port.start()
    n = 400
    feed(loop, kernel, [frame(i) for i in range(n)])
    out = 0
    for i in range(n):
        port.send(frame(i))
        try:
            kernel.recv(65535, socket.MSG_DONTWAIT)
            out += 1
        except BlockingIOError:
            pass
    assert 0.15 * n < n - len(got) < 0.45 * n
    assert 0.15 * n < n - out < 0.45 * n
    assert port.dropped == (n - len(got)) + (n - out)
    port.stop()
    loop.close()


def test_loss_needs_real_randomness(pair: tuple[PairTap, socket.socket]) -> None:
    tap, _ = pair
    loop = RealtimeLoop()
    with pytest.raises(ConfigError):
        TapPort(loop, tap, trace=TraceBus(), node="n", iface="e", random=SeededRandom(1))  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        TapPort(loop, tap, trace=TraceBus(), node="n", iface="e", loss=1.0)  # type: ignore[arg-type]
    loop.close()
