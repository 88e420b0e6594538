"""Our :class:`~minternet.node.host.Host` on a TAP device, the kernel at the other end.

The same host as in the simulator — Ethernet, ARP, IPv4, ICMP, UDP (and TCP, DNS, TLS, HTTP
on top once attached) — runs on the :class:`~minternet.drivers.realtime.RealtimeLoop` with the OS's
randomness, its interface cabled to a TAP device whose kernel side sits in a namespace of
its own (:func:`~minternet.drivers.tap.tap_network`). Frames are reported to the trace bus
by the host's interface, exactly as in the simulator, so ``--pcap`` works unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..errors import ConfigError
from ..node.host import Host
from ..randomness import RandomSource
from ..trace.bus import TraceBus
from .entropy import SystemRandom
from .netns import DEFAULT_SUBNET
from .realtime import RealtimeLoop
from .tap import TapLink, TapNetwork, TapPort, tap_network


@dataclass(frozen=True, slots=True)
class TapHost:
    """A running host on a TAP network (what :func:`host_on_tap` yields)."""

    host: Host
    port: TapPort
    link: TapLink
    net: TapNetwork

    @property
    def address(self) -> str:
        return self.net.host_ip

    @property
    def kernel_address(self) -> str:
        return self.net.kernel_ip


def random_mac(random: RandomSource) -> str:
    """A random locally administered unicast MAC (IEEE 802: U/L bit set, I/G bit clear)."""
    b = bytearray(random.random_bytes(6))
    b[0] = (b[0] & 0xFC) | 0x02
    return ":".join(f"{x:02x}" for x in b)


@contextmanager
def host_on_tap(
    loop: RealtimeLoop,
    trace: TraceBus,
    *,
    subnet: str = DEFAULT_SUBNET,
    name: str = "ours",
    hostname: str = "www.example.com",
    mac: str | None = None,
    mtu: int = 1500,
    loss: float = 0.0,
    random: RandomSource | None = None,
    ns_name: str | None = None,
    kernel_loss: float = 0.0,
) -> Iterator[TapHost]:
    """Build a namespace + TAP, our host on it (address, route via the kernel side), and
    run its frames through the loop; everything is removed when the block ends."""
    rnd = random if random is not None else SystemRandom()
    if rnd.deterministic:
        raise ConfigError("a deterministic random source must never reach a real network")
    with tap_network(subnet, mtu=mtu, ns_name=ns_name, kernel_loss=kernel_loss) as tn:
        host = Host(name, loop, rnd, trace, hostname=hostname)
        iface = host.add_interface("eth0", mac or random_mac(rnd), tn.host_ip, tn.prefixlen, mtu)
        host.set_default_gateway(tn.kernel_ip)
        port = TapPort(loop, tn.tap, trace=trace, node=name, iface="eth0", loss=loss, random=rnd)
        link = TapLink(port, iface)
        port.start()
        try:
            yield TapHost(host, port, link, tn)
        finally:
            port.stop()
