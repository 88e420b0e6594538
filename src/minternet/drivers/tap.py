"""Ethernet frames to and from a Linux TAP device, on the :class:`RealtimeLoop`.

A TAP device is a virtual Ethernet card whose other end is a file descriptor: every
``write`` puts one frame on the kernel's side of the link, every ``read`` takes one frame
the kernel sent. Opened with ``IFF_TAP | IFF_NO_PI`` (see the kernel's
``Documentation/networking/tuntap.rst``) a read returns exactly the Ethernet frame —
destination MAC first, no packet-information header, no FCS.

- :class:`TapDevice` opens ``/dev/net/tun``, creates the interface with the ``TUNSETIFF``
  ioctl and reads/writes frames without blocking. The interface disappears when the
  descriptor is closed, so a crashed run leaves no TAP device behind.
- :class:`TapPort` drives a device from the loop: frames read go to a ``deliver`` callback
  (our host's interface), frames given to :meth:`TapPort.send` are written (queued while the
  kernel's queue is full, dropped and counted beyond a bound, as a NIC would). Every frame
  is reported to the :class:`~minternet.trace.bus.TraceBus`, so ``--pcap`` works on real
  interfaces too.
- :class:`TapLink` cables a host's interface to a port, in place of a simulated link.
- :func:`tap_network` puts the kernel's end of a TAP device in a namespace of its own with
  an address in a private subnet, and removes everything when its block ends.
"""

from __future__ import annotations

import fcntl
import ipaddress
import itertools
import os
import struct
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

from ..errors import ConfigError
from ..randomness import RandomSource
from ..trace.bus import FrameRecord, TraceBus
from .entropy import SystemRandom
from .netns import DEFAULT_SUBNET, Namespace, link_name, require_root, unique_suffix
from .realtime import RealtimeLoop

# <linux/if_tun.h>
TUNSETIFF = 0x400454CA  # _IOW('T', 202, int)
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
_IFREQ = struct.Struct("16sH22x")  # struct ifreq: ifr_name[IFNAMSIZ], ifr_flags, padding
_MAX_FRAME = 65535 + 14


class TapDevice:
    """A TAP interface created by this process; one read or write is one Ethernet frame."""

    def __init__(self, name: str | None = None) -> None:
        """Create the interface ``name`` (default: a name unique to this process and call,
        so parallel runs never race for ``tap0``)."""
        name = link_name("tap") if name is None else name
        if len(name.encode()) > 15:
            raise ConfigError(f"interface name too long (15 bytes at most): {name!r}")
        try:
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ConfigError("no /dev/net/tun: the Linux tun module is not available") from None
        except PermissionError:
            raise ConfigError("opening /dev/net/tun needs root: run it with sudo") from None
        try:
            ifr = fcntl.ioctl(fd, TUNSETIFF, _IFREQ.pack(name.encode(), IFF_TAP | IFF_NO_PI))
        except OSError as e:
            os.close(fd)
            raise ConfigError(f"cannot create TAP device {name!r}: {e.strerror}") from None
        self._fd = fd
        self.name: str = _IFREQ.unpack(ifr)[0].rstrip(b"\0").decode()
        self.closed = False

    def fileno(self) -> int:
        return self._fd

    def read(self) -> bytes | None:
        """The next frame the kernel sent, or None if there is none yet."""
        try:
            return os.read(self._fd, _MAX_FRAME)
        except (BlockingIOError, InterruptedError):
            return None

    def write(self, frame: bytes) -> bool:
        """Hand one frame to the kernel; False if its queue is full (try again later)."""
        try:
            os.write(self._fd, frame)
        except (BlockingIOError, InterruptedError):
            return False
        return True

    def close(self) -> None:
        """Close the descriptor; the kernel removes the interface with it."""
        if not self.closed:
            self.closed = True
            os.close(self._fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TapDevice({self.name!r})"


class TapPort:
    """A :class:`TapDevice` driven by the loop, reported to the trace bus as ``node/iface``.

    ``deliver(frame)`` receives each frame the kernel sent (it must not raise; a host's
    interface drops and counts what it cannot decode). :meth:`send` writes our frames.

    ``loss`` drops that share of frames in each direction, as a lossy cable would (for
    machines whose kernel has no ``sch_netem``); ``report_frames=False`` when the host's
    interface already reports its frames to the trace bus.
    """

    def __init__(
        self,
        loop: RealtimeLoop,
        tap: TapDevice,
        *,
        trace: TraceBus,
        node: str,
        iface: str,
        deliver: Callable[[bytes], object] | None = None,
        queue_limit: int = 1024,
        batch: int = 64,
        loss: float = 0.0,
        random: RandomSource | None = None,
        report_frames: bool = True,
    ) -> None:
        if not 0.0 <= loss < 1.0:
            raise ConfigError(f"loss must be within [0, 1): {loss}")
        self.random = random if random is not None else SystemRandom()
        if self.random.deterministic:
            raise ConfigError("a deterministic random source must never reach a real network")
        self.loss = loss
        self.report_frames = report_frames
        self.loop = loop
        self.tap = tap
        self.trace = trace
        self.node = node
        self.iface = iface
        self.deliver = deliver
        self.queue_limit = queue_limit
        self.batch = batch
        self._outq: deque[bytes] = deque()
        self._writing = False
        self.running = False
        self.frames_in = 0
        self.frames_out = 0
        self.dropped = 0

    def start(self) -> None:
        if not self.running:
            self.running = True
            self.loop.add_reader(self.tap.fileno(), self._on_readable)

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.loop.remove_reader(self.tap.fileno())
            self.loop.remove_writer(self.tap.fileno())
            self._writing = False

    def send(self, frame: bytes) -> None:
        """Write one Ethernet frame to the kernel's side (queued if it is busy)."""
        if not self.running:
            self._drop("stopped", "the TAP port is stopped")
            return
        if self.loss and self.random.random() < self.loss:
            self._drop("loss", "injected loss (to the kernel)")
            return
        if self._outq:
            if len(self._outq) >= self.queue_limit:
                self._drop("queue-full", "the TAP queue is full")
                return
            self._outq.append(frame)
            return
        if self.tap.write(frame):
            self._sent(frame)
            return
        self._outq.append(frame)
        self._writing = True
        self.loop.add_writer(self.tap.fileno(), self._on_writable)

    def _sent(self, frame: bytes) -> None:
        self.frames_out += 1
        if self.report_frames and self.trace.frames_active:
            self.trace.frame(FrameRecord(self.loop.now(), self.node, self.iface, "out", frame))

    def _drop(self, reason: str, why: str) -> None:
        self.dropped += 1
        self.trace.count(f"drop.tap.{reason}")
        self.trace.emit(self.loop.now(), self.node, "link", "drop", iface=self.iface, why=why)

    def _on_writable(self) -> None:
        q = self._outq
        while q:
            if not self.tap.write(q[0]):
                return
            self._sent(q.popleft())
        self._writing = False
        self.loop.remove_writer(self.tap.fileno())

    def _on_readable(self) -> None:
        # a bounded batch per wake-up, so timers and other descriptors are not starved
        for _ in range(self.batch):
            frame = self.tap.read()
            if frame is None:
                return
            if self.loss and self.random.random() < self.loss:
                self._drop("loss", "injected loss (from the kernel)")
                continue
            self.frames_in += 1
            if self.report_frames and self.trace.frames_active:
                self.trace.frame(FrameRecord(self.loop.now(), self.node, self.iface, "in", frame))
            if self.deliver is not None:
                self.deliver(frame)


class TapEnd(Protocol):
    """What a :class:`TapLink` plugs into: a node's interface (``node/interface.py``)."""

    link: Any

    def deliver(self, data: bytes, packet_id: int | None) -> None: ...


class TapLink:
    """A host's interface cabled to a :class:`TapPort`: the same node code as in the
    simulator, on the wall clock, with the kernel at the other end of the cable.

    The interface calls :meth:`transmit` for each frame it sends (as it would on a
    simulated :class:`~minternet.sim.link.Link`); each frame the kernel sends is handed to
    the interface's ``deliver``. The interface reports both to the trace bus itself, so the
    port's own frame reporting is switched off.
    """

    def __init__(self, port: TapPort, end: TapEnd) -> None:
        self.port = port
        self.end = end
        self.name = f"tap:{port.tap.name}"
        port.report_frames = False
        port.deliver = self._from_kernel
        end.link = self

    def transmit(self, sender: object, data: bytes, packet_id: int | None = None) -> None:
        self.port.send(data)

    def _from_kernel(self, frame: bytes) -> None:
        self.end.deliver(frame, None)

    def __repr__(self) -> str:
        return f"TapLink({self.name})"


@dataclass(frozen=True, slots=True)
class TapNetwork:
    """A TAP device whose kernel side lives in a namespace of its own.

    ``kernel_ip`` is the address of the TAP interface inside ``ns`` (the Linux kernel's
    end); ``host_ip`` is free for our host, which speaks through ``tap``'s descriptor.
    """

    ns: Namespace
    tap: TapDevice
    subnet: ipaddress.IPv4Network
    kernel_ip: str
    host_ip: str
    kernel_ifname: str = ""  # where kernel_ip lives: the TAP itself, or the veth end
    kernel_loss: float = 0.0  # the share the namespace's bridge drops each way (nftables)

    def loss_counters(self) -> dict[str, tuple[int, int]]:
        """With ``kernel_loss``: frames (seen, dropped) by direction, ``"to-kernel"``
        (from our host) and ``"to-host"`` (from the kernel)."""
        if not self.kernel_loss:
            return {}
        counts = self.ns.bridge_loss_counters()
        zero = (0, 0)
        return {
            "to-kernel": counts.get(self.tap.name, zero),
            "to-host": counts.get(next((p for p in counts if p != self.tap.name), ""), zero),
        }

    @property
    def prefixlen(self) -> int:
        return self.subnet.prefixlen

    @property
    def ifname(self) -> str:
        """The TAP interface's name (inside :attr:`ns`)."""
        return self.tap.name


@contextmanager
def tap_network(
    subnet: str = DEFAULT_SUBNET,
    *,
    kernel_ip: str | None = None,
    host_ip: str | None = None,
    mtu: int = 1500,
    ns_name: str | None = None,
    kernel_loss: float = 0.0,
) -> Iterator[TapNetwork]:
    """Create a namespace and a TAP device inside it; remove both when the block ends.

    With ``kernel_loss`` the kernel's address sits on a veth pair bridged to the TAP, and
    the bridge drops that share of frames in each direction with nftables
    (:meth:`~minternet.drivers.netns.Namespace.bridge_loss`): loss made by the kernel, not
    by our code, for machines whose kernel has no ``sch_netem``.

    The kernel side gets ``kernel_ip`` (default: the subnet's first address) and the
    subnet's route; ``host_ip`` (default: the second address) is left for our host. The
    TAP device is created by this process and moved into the namespace, so the subnet exists
    only there: nothing can be routed off the machine.
    """
    require_root("a TAP network")
    try:
        net = ipaddress.IPv4Network(subnet)
    except ValueError as e:
        raise ConfigError(f"bad subnet {subnet!r}: {e}") from None
    hosts = list(itertools.islice(net.hosts(), 2))
    if len(hosts) < 2:
        raise ConfigError(f"subnet {subnet} is too small for two addresses")
    k_ip = kernel_ip or str(hosts[0])
    h_ip = host_ip or str(hosts[1])
    for a in (k_ip, h_ip):
        if ipaddress.IPv4Address(a) not in net:
            raise ConfigError(f"{a} is not in {subnet}")
    if k_ip == h_ip:
        raise ConfigError("the kernel side and our host need different addresses")
    if not 0.0 <= kernel_loss < 1.0:
        raise ConfigError(f"kernel-side loss must be within [0, 1): {kernel_loss}")
    with Namespace(ns_name) as ns, TapDevice() as tap:
        ns.adopt(tap.name)
        ns.ip("link", "set", tap.name, "mtu", str(mtu))
        kernel_if = tap.name
        if kernel_loss:
            # kernel (veth) ── veth ─┬─ bridge ─┬─ TAP ── our host; the bridge drops.
            suffix = unique_suffix()
            kernel_if, wire = link_name("vk", suffix), link_name("vb", suffix)
            ns.ip("link", "add", kernel_if, "type", "veth", "peer", "name", wire)
            for link in (kernel_if, wire):
                ns.ip("link", "set", link, "mtu", str(mtu))
            # one frame per skb: with GSO a drop would take a whole 64 KiB burst at once
            ns.ip("link", "set", kernel_if, "gso_max_segs", "1")
            br = ns.bridge(ports=[tap.name, wire])
            # Linux answers ARP for any local address on any interface (the weak host
            # model): the bridge itself would answer for kernel_ip with its own MAC, and
            # frames sent there are delivered locally instead of forwarded past the loss.
            ns.ip("link", "set", br, "arp", "off")
            ns.sysctl("net.ipv4.conf.all.arp_ignore", "1")
            ns.bridge_loss([tap.name, wire], kernel_loss)
        ns.add_address(kernel_if, f"{k_ip}/{net.prefixlen}")
        ns.up(kernel_if)
        ns.up(tap.name)
        yield TapNetwork(ns, tap, net, k_ip, h_ip, kernel_if, kernel_loss)
