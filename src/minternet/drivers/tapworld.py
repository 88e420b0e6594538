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
  laptop hangs off, a cable like the laptop's; statically, the highest free address of
  that network, ``192.168.1.254`` in the built-in world, its gateway and the ISP's
  resolver);
- or an existing host (``--as laptop``): the host leaves the world and the kernel takes
  its cable and its MAC address (statically, its address and gateway too).

The namespace joins the network as a laptop does: busybox's ``udhcpc`` runs in it and gets
its address, gateway and DNS server from the world's DHCP server on its LAN (started on the
gateway's LAN port if the world declares none), its hook script writing them into the
interface, the routing table and ``/etc/netns/NAME/resolv.conf``; or, with ``dhcp=False``,
they are configured statically. It trusts the PKI of the world's web server, minted at start-up with
the OS's randomness and today's date: a CA file for ``curl --cacert``/OpenSSL and an NSS
database under a HOME of its own for Chromium (``$HOME/.pki/nssdb``, with ``certutil``).
Everything — namespace, TAP, resolver files, CA file, NSS database — is removed when the
``with`` block of :func:`world_on_tap` ends.
"""

from __future__ import annotations

import ipaddress
import re
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
from ..errors import ConfigError, MinternetError
from ..ip.address import ip_from_int
from ..loop import LoopTimeout
from ..node.dhcp import DhcpServerService, serve_dhcp
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
from .netns import ETC_NETNS, Namespace, require_root
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
DHCP_TIMEOUT = 30.0  # seconds the namespace's DHCP client may take to get a lease

# busybox udhcpc's hook (udhcpc(8): it runs the script with "deconfig", "bound", "renew",
# "leasefail" and the lease in the environment): the lease's address with its subnet mask
# (option 1), a default route via its first router (option 3), resolv.conf from its DNS
# servers (option 6) and domain (option 15). `ip netns exec` bind-mounts the namespace's
# own /etc/netns/NAME/resolv.conf over /etc/resolv.conf, so it is written in place (">").
UDHCPC_SCRIPT = """#!/bin/sh
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/$subnet" dev "$interface"
    for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
    : > /etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    ;;
esac
exit 0
"""


class DhcpFailed(MinternetError):
    """The namespace's DHCP client got no lease from the world (a network outcome)."""


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
    dhcp_server: str | None = None  # who gave the lease ("node/iface"), or None: static

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


def configure_static(ns: Namespace, ifname: str, kernel: KernelHost) -> None:
    """The namespace's static configuration: address, default route, resolver."""
    ns.add_address(ifname, kernel.cidr)
    if kernel.gateway is not None:
        ns.ip("route", "add", "default", "via", kernel.gateway)
    if kernel.nameserver is not None:
        ns.use_resolver(kernel.nameserver)


def lan_dhcp_server(world: World, kernel: KernelHost) -> DhcpServerService:
    """The world's DHCP server on the kernel's network; if it has none, the (``dhcp``
    package's) server started on the interface of the kernel's gateway there, handing out
    the highest run of up to 100 addresses no node uses, the resolver as DNS server."""
    net = ipaddress.IPv4Network(kernel.cidr, strict=False)
    for srv in world.dhcp_servers:
        if srv.iface.address is not None and ipaddress.IPv4Address(srv.iface.address) in net:
            return srv
    router = world.owner_of(kernel.gateway) if kernel.gateway is not None else None
    iface = None
    if router is not None:
        iface = next(i for i in router.interfaces.values() if i.address == kernel.gateway)
    if router is None or iface is None:
        raise ConfigError(f"no DHCP server and no gateway on {net}: use --static")
    free: list[int] = []
    for addr in reversed(list(net.hosts())):
        if world.owner_of(str(addr)) is not None or len(free) == 100:
            break
        free.append(int(addr))
    if not free:
        raise ConfigError(f"no free addresses on {net} for a DHCP pool: use --static")
    dns = (kernel.nameserver,) if kernel.nameserver is not None else ()
    srv = serve_dhcp(
        router,
        iface.name,
        pool=(ip_from_int(min(free)), ip_from_int(max(free))),
        dns_servers=dns,
        domain_name="home.arpa",
    )
    world.dhcp_servers.append(srv)
    return srv


def lease_by_dhcp(
    loop: RealtimeLoop, ns: Namespace, ifname: str, kernel: KernelHost, server: DhcpServerService
) -> KernelHost:
    """Run busybox's ``udhcpc`` in the namespace (the world keeps running meanwhile) until
    it has a lease from ``server``; the kernel's address, route and resolver as it left
    them. :class:`DhcpFailed` if no lease came within :data:`DHCP_TIMEOUT` seconds."""
    if shutil.which("udhcpc") is None:
        raise ConfigError("DHCP in the namespace needs udhcpc (Debian package udhcpc): or --static")
    etc = ETC_NETNS / ns.name
    etc.mkdir(parents=True, exist_ok=True)
    resolv = etc / "resolv.conf"
    resolv.write_text("")  # exists, so `ip netns exec` mounts it and the script writes it
    script = RUN_DIR / f"{ns.name}-udhcpc.sh"
    script.write_text(UDHCPC_SCRIPT)
    script.chmod(0o700)
    try:
        proc = ns.popen(
            ["udhcpc", "-i", ifname, "-f", "-q", "-n", "-t", "5", "-T", "2", "-s", str(script),
             "-x", f"hostname:{kernel.node}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

        async def exited() -> int:
            while proc.poll() is None:
                await loop.sleep(0.02)
            return proc.returncode

        try:
            status = loop.run_until_complete(loop.create_task(exited()), DHCP_TIMEOUT)
        except LoopTimeout:
            proc.kill()
            status = -1
        said = (proc.communicate()[0] or "").strip().splitlines()
    finally:
        script.unlink(missing_ok=True)
    where = server.iface.full_name
    if status != 0:
        last = said[-1] if said else f"exit {status}"
        raise DhcpFailed(f"udhcpc in {ns.name} got no lease from {where}: {last}")
    addr = re.search(r"inet (\S+)/(\d+)", ns.ip("-4", "-o", "addr", "show", "dev", ifname))
    route = re.search(r"default via (\S+)", ns.ip("-4", "route", "show", "default"))
    dns = re.search(r"^nameserver (\S+)", resolv.read_text(), re.MULTILINE)
    if addr is None:
        raise DhcpFailed(f"udhcpc in {ns.name} reported a lease but set no address")
    return replace(
        kernel,
        address=addr.group(1),
        prefix_len=int(addr.group(2)),
        gateway=None if route is None else route.group(1),
        nameserver=None if dns is None else dns.group(1),
        dhcp_server=where,
    )


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
    dhcp: bool = True,
    loop: RealtimeLoop | None = None,
) -> Iterator[TapWorld]:
    """Build the world on a wall-clock loop, put the kernel in it, start DNS and the web
    server; remove everything when the block ends.

    ``trace`` is the world's bus (frames for ``--pcap``); ``server_trace``, if given, takes
    the web server's events (its access log) without switching on every node's. With
    ``dhcp`` the namespace gets its address, gateway and DNS server from the world's DHCP
    server on its LAN (busybox ``udhcpc``); else they are configured statically."""
    require_root("minternet tap world")
    loop = loop if loop is not None else RealtimeLoop()
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
        server = lan_dhcp_server(world, kernel) if dhcp else None
        ns = stack.enter_context(Namespace(ns_name))
        ns.adopt(tap.name)
        ns.ip("link", "set", tap.name, "address", kernel.mac, "mtu", str(mtu))
        ns.up(tap.name)
        port.start()
        stack.callback(port.stop)
        if server is not None:
            kernel = lease_by_dhcp(loop, ns, tap.name, kernel, server)
        else:
            configure_static(ns, tap.name, kernel)
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
        yield TapWorld(world, loop, ns, tap, port, nic, kernel, dns, web, ca_file, home, notes)
