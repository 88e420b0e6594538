"""The whole world in real time, with the Linux kernel as one of its hosts.

``minternet tap world`` (issue 17) joins the simulator and the TAP driver: the world — the
built-in one or a TOML file — is built on the :class:`~minternet.drivers.realtime.RealtimeLoop`
with the OS's randomness, and a TAP device whose kernel side sits in a fresh network
namespace takes the place of one host's network interface. The namespace's kernel *is* that
host: its frames enter the world's LAN through a :class:`KernelNic` at the end of an
ordinary simulated :class:`~minternet.sim.link.Link` (latency, bandwidth, drop-tail queue,
faults), are switched, NATed by the home router, routed hop by hop by our routers (TTL − 1,
new MACs) and answered by our resolver and servers. Every link's latency and bandwidth, and
the faults of the command line on the impaired links (the home access line), apply in
wall-clock time, so the kernel's TCP meets them as it would on a real path.

Which host the kernel becomes:

- by default a new host on the LAN of the world's ``laptop`` (a new port of the switch the
  laptop hangs off, a cable like the laptop's), with the highest free address of that
  network (``192.168.1.254`` in the built-in world), its gateway and the ISP's resolver;
- or an existing host (``--as laptop``): the host leaves the world and the kernel takes
  its cable, its MAC address, its address and gateway.

The namespace is configured statically (address, default route, ``resolv.conf`` through
``/etc/netns/NAME/``). It trusts the PKI of the world's web server, minted at start-up with
the OS's randomness and today's date: a CA file for ``curl --cacert``/OpenSSL and an NSS
database under a HOME of its own for Chromium (``$HOME/.pki/nssdb``, with ``certutil``).
Everything — namespace, TAP, resolver files, CA file, NSS database — is removed when the
``with`` block of :func:`world_on_tap` ends.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ..apps.dns_world import DnsDeployment, install_dns
from ..apps.site import Site
from ..apps.web_server import ServerConfig as WebConfig
from ..apps.web_world import WEB_NODE, WebDeployment, install_web
from ..errors import ConfigError
from ..node.host import Host
from ..node.interface import Interface
from ..node.switch import LearningSwitch, SwitchPort
from ..node.tcp import TcpStack
from ..sim.faults import Faults
from ..sim.link import Link
from ..sim.world import World, load_world
from ..tls.pki import Pki
from ..trace.bus import FrameRecord, TraceBus
from .entropy import SystemRandom
from .netns import Namespace, require_root
from .realtime import RealtimeLoop
from .tap import TapDevice, TapPort

# The buffers of the world's TCP stacks in real time: a path of ~50 ms at 100 Mb/s holds
# ~600 KB (its bandwidth-delay product), more than the simulator's 256 KiB let a sender
# keep in flight; 4 MiB is Linux's tcp_wmem maximum.
REAL_TIME_BUFFER = 4 * 1024 * 1024
RUN_DIR = Path("/run/minternet")  # state files, CA files and NSS homes of running commands
KERNEL_NODE = "kernel"  # the node name of the new host the kernel becomes by default
NEIGHBOUR = "laptop"  # the default host's LAN is this node's
RESOLVER_NODE = "resolver"
KeyLog = Callable[[str], None]


class KernelNic:
    """The kernel's network card, as the world sees it: one end of a simulated link.

    Frames the link delivers are written to the TAP device (the kernel receives them);
    frames the kernel sends are put on the link with a fresh packet id. Both are reported
    to the trace bus as ``NODE/eth0`` (``in`` towards the kernel, ``out`` from it), so the
    pcapng has the kernel's interface beside every interface of the world.
    """

    def __init__(self, node: str, iface: str, port: TapPort, packet_ids: Callable[[], int]):
        self.node = node
        self.iface = iface
        self.port = port
        self.packet_ids = packet_ids
        self.link: Link | None = None
        self.trace = port.trace
        self.loop = port.loop
        port.report_frames = False
        port.deliver = self._from_kernel

    @property
    def full_name(self) -> str:
        return f"{self.node}/{self.iface}"

    def deliver(self, data: bytes, packet_id: int | None) -> None:
        """A frame from the world, for the kernel."""
        if self.trace.frames_active:
            rec = FrameRecord(self.loop.now(), self.node, self.iface, "in", data, packet_id)
            self.trace.frame(rec)
        self.port.send(data)

    def _from_kernel(self, data: bytes) -> None:
        pid = self.packet_ids()
        if self.trace.frames_active:
            rec = FrameRecord(self.loop.now(), self.node, self.iface, "out", data, pid)
            self.trace.frame(rec)
        if self.link is not None:
            self.link.transmit(self, data, pid)


@dataclass(frozen=True, slots=True)
class KernelHost:
    """Who the kernel is in the world: its node name, MAC, address, gateway, resolver."""

    node: str
    mac: str
    address: str
    prefix_len: int
    gateway: str | None
    nameserver: str | None
    replaces: str | None = None  # the world's host whose cable the kernel took

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix_len}"


@dataclass(slots=True)
class TapWorld:
    """A running world with the kernel in it (what :func:`world_on_tap` yields)."""

    world: World
    loop: RealtimeLoop
    ns: Namespace
    tap: TapDevice
    port: TapPort
    nic: KernelNic
    kernel: KernelHost
    dns: DnsDeployment | None
    web: WebDeployment | None
    ca_file: Path | None
    home: Path | None  # HOME whose .pki/nssdb trusts our CA (Chromium), or None
    notes: list[str] = field(default_factory=list)

    def interfaces(self) -> list[tuple[str, str]]:
        """Every capture point: the world's interfaces, then the kernel's."""
        desc = f"{self.kernel.mac} {self.kernel.cidr} (the Linux kernel, namespace {self.ns.name})"
        return [*self.world.interfaces(), (self.nic.full_name, desc)]

    def access_address(self) -> str:
        """The address the world's servers see the kernel's traffic come from: the public
        address of the NAT in front of it, or its own."""
        for router, inside in self.world.nat_prefixes:
            if ipaddress.IPv4Address(self.kernel.address) in ipaddress.IPv4Network(inside):
                for nat in router.nats.values():
                    return str(nat.public)
        return self.kernel.address


def _free_address(world: World, iface: Interface) -> str:
    """The highest address of ``iface``'s network that no node of the world uses."""
    assert iface.address is not None
    net = ipaddress.IPv4Network(f"{iface.address}/{iface.prefix_len}", strict=False)
    for addr in reversed(list(net.hosts())):
        if world.owner_of(str(addr)) is None:
            return str(addr)
    raise ConfigError(f"no free address left on {net} for the kernel's host")


def _gateway_of(host: Host) -> str | None:
    for route in host.routes:
        if route.prefix_len == 0 and route.gateway is not None:
            return str(route.gateway)
    return None


def _nameserver(world: World) -> str | None:
    node = world.nodes.get(RESOLVER_NODE)
    return node.address if isinstance(node, Host) and node.interfaces else None


def _only_interface(host: Host, what: str) -> Interface:
    if host.forwarding or len(host.interfaces) != 1:
        raise ConfigError(f"{what}: the kernel can take the place of a host with one interface")
    iface = next(iter(host.interfaces.values()))
    if iface.link is None or iface.address is None:
        raise ConfigError(f"{what}: {host.name} has no cable or no address")
    return iface


def attach_kernel(world: World, port: TapPort, as_node: str | None) -> tuple[KernelNic, KernelHost]:
    """Cable the kernel (``port``) into ``world``: in place of host ``as_node``, or as a new
    host on the laptop's LAN (see the module's docstring)."""
    nameserver = _nameserver(world)
    if as_node is not None:
        node = world.nodes.get(as_node)
        if not isinstance(node, Host):
            raise ConfigError(f"--as {as_node}: no host of that name in this world")
        iface = _only_interface(node, f"--as {as_node}")
        assert iface.address is not None and isinstance(iface.link, Link)
        nic = KernelNic(as_node, iface.name, port, world.next_packet_id)
        iface.link.replace_end(iface, nic)
        nic.link = iface.link
        iface.link = None
        del world.nodes[as_node]  # the host is gone; the kernel is it now
        gateway = _gateway_of(node)
        kernel = KernelHost(
            as_node, iface.mac, iface.address, iface.prefix_len, gateway, nameserver, as_node
        )
        return nic, kernel
    neighbour = world.nodes.get(NEIGHBOUR)
    if not isinstance(neighbour, Host):
        raise ConfigError(
            f"this world has no {NEIGHBOUR!r} host whose LAN the kernel could join: "
            "say which host it replaces with --as NODE"
        )
    if KERNEL_NODE in world.nodes:
        raise ConfigError(f"this world already has a node {KERNEL_NODE!r}: use --as NODE")
    iface = _only_interface(neighbour, f"the {NEIGHBOUR}'s LAN")
    link = iface.link
    assert isinstance(link, Link) and iface.address is not None
    other = link.other(iface)
    if not isinstance(other, SwitchPort):
        raise ConfigError(
            f"the {NEIGHBOUR} is cabled straight to {other.full_name}, not to a switch: "
            "the kernel can only replace it (--as NODE)"
        )
    switch: LearningSwitch = other.switch
    address = _free_address(world, iface)
    mac = world.next_mac()
    nic = KernelNic(KERNEL_NODE, "eth0", port, world.next_packet_id)
    sport = switch.add_port()
    cable = Link(
        f"{nic.full_name}-{sport.full_name}",
        world.loop,
        world.random.child(f"link:{KERNEL_NODE}"),
        world.trace,
        nic,
        sport,
        latency=link.latency,
        bandwidth=link.bandwidth,
        mtu=link.mtu,
        queue_frames=link.queue_frames,
        faults=link.faults if link.impaired else Faults(),
    )
    nic.link = cable
    sport.link = cable
    world.links.append(cable)
    gateway = _gateway_of(neighbour)
    return nic, KernelHost(KERNEL_NODE, mac, address, iface.prefix_len, gateway, nameserver)


def configure_kernel(ns: Namespace, ifname: str, kernel: KernelHost, mtu: int) -> None:
    """The namespace's static configuration: MAC, address, default route, resolver."""
    ns.ip("link", "set", ifname, "address", kernel.mac, "mtu", str(mtu))
    ns.add_address(ifname, kernel.cidr)
    ns.up(ifname)
    if kernel.gateway is not None:
        ns.ip("route", "add", "default", "via", kernel.gateway)
    if kernel.nameserver is not None:
        ns.use_resolver(kernel.nameserver)


def nss_trust(home: Path, ca_file: Path) -> None:
    """An NSS database at ``home/.pki/nssdb`` trusting ``ca_file`` to issue server
    certificates (``certutil -t C,,``): where Chromium on Linux looks for the user's CAs."""
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True, exist_ok=True)
    for args in (
        ["-N", "--empty-password"],
        ["-A", "-n", "minternet root CA", "-t", "C,,", "-i", str(ca_file)],
    ):
        proc = subprocess.run(
            ["certutil", "-d", f"sql:{db}", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if proc.returncode != 0:
            err = (proc.stderr or proc.stdout).strip().splitlines()
            raise ConfigError(f"certutil {args[0]}: {err[-1] if err else 'failed'}")


@contextmanager
def world_on_tap(
    *,
    world_file: Path | None = None,
    as_node: str | None = None,
    faults: Faults | None = None,
    trace: TraceBus | None = None,
    server_trace: TraceBus | None = None,
    site: Site | None = None,
    ns_name: str | None = None,
    keylog: KeyLog | None = None,
    mtu: int = 1500,
) -> Iterator[TapWorld]:
    """Build the world on a wall-clock loop, put the kernel in it, start DNS and the web
    server; remove everything when the block ends.

    ``trace`` is the world's bus (frames for ``--pcap``); ``server_trace``, if given, takes
    the web server's events (its access log) without switching on every node's."""
    require_root("minternet tap world")
    loop = RealtimeLoop()
    rnd = SystemRandom()
    bus = trace if trace is not None else TraceBus()
    notes: list[str] = []
    with ExitStack() as stack:
        stack.callback(loop.close)
        world = load_world(world_file, faults=faults, trace=bus, loop=loop, random=rnd)
        for node in world.hosts_and_routers:
            if isinstance(node.tcp, TcpStack):
                node.tcp.config = replace(
                    node.tcp.config, send_buffer=REAL_TIME_BUFFER, recv_buffer=REAL_TIME_BUFFER
                )
        tap = stack.enter_context(TapDevice())
        port = TapPort(loop, tap, trace=bus, node=KERNEL_NODE, iface="eth0", random=rnd)
        nic, kernel = attach_kernel(world, port, as_node)  # a bad --as fails here, early
        port.node, port.iface = nic.node, nic.iface
        ns = stack.enter_context(Namespace(ns_name))
        ns.adopt(tap.name)
        configure_kernel(ns, tap.name, kernel, mtu)
        dns = None
        if all(n in world.nodes for n in (RESOLVER_NODE, "a.root-servers.net")):
            dns = install_dns(world, laptop=None)
            stack.callback(dns.stop)
        else:
            notes.append("no DNS: this world has no resolver and root server nodes")
        web = ca_file = home = None
        if WEB_NODE in world.nodes:
            pki = Pki.create(rnd, datetime.now(UTC), name="minternet tap world")
            web = install_web(
                world,
                site=site,
                pki=pki,
                tls_versions=("1.3", "1.2"),
                clock=time.time,
                keylog=keylog,
                web_config=WebConfig(),
                trace=server_trace,
            )
            stack.callback(web.stop)
            RUN_DIR.mkdir(parents=True, exist_ok=True)
            ca_file = RUN_DIR / f"{ns.name}-ca.pem"
            ca_file.write_bytes(pki.root.cert_pem())
            stack.callback(ca_file.unlink, missing_ok=True)
            if shutil.which("certutil") is not None:
                home = RUN_DIR / f"{ns.name}-home"
                stack.callback(shutil.rmtree, home, ignore_errors=True)
                nss_trust(home, ca_file)
            else:
                notes.append("no certutil (libnss3-tools): Chromium will not trust our CA")
        else:
            notes.append(f"no web server: this world has no {WEB_NODE!r} node")
        port.start()
        stack.callback(port.stop)
        yield TapWorld(world, loop, ns, tap, port, nic, kernel, dns, web, ca_file, home, notes)
