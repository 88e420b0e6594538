"""A simulated world: nodes, links and switches built from a plain data description.

The description is a dict (or the same thing in a TOML file, :meth:`World.from_toml`)::

    [nodes.laptop]
    kind = "host"                      # host | router | switch
    hostname = "laptop.home.arpa"      # optional; gateway = "…" optional for hosts
    congestion_control = "cubic"       # optional: newreno (default) | cubic (RFC 9438)
    [[links]]
    a = "laptop"
    a_ip = "192.168.1.10/24"           # an address for a host/router end
    b = "home-switch"                  # b_ip likewise; switch ends have none
    latency_ms = 0.05                  # optional: bandwidth_mbps, mtu, queue, loss,
                                       # reorder, duplicate, corrupt, a_iface, b_iface,
                                       # impaired; a_nat = "192.168.1.0/24" makes
                                       # a router's end the outside of a NAT for it
                                       # a_ip = "dhcp": a host end leases its address
                                       # a_dhcp = {pool = "A-B", dns = […], domain =
                                       # "…", lease_time = N, authoritative =
                                       # true}: a DHCP server there

Interfaces are named ``eth0, eth1 …`` in link order, MACs are locally administered and
numbered in order. Routes are computed from the topology: every host gets its connected
networks and a default route via a router on its network (or its ``gateway``); every router
gets a route to every network of the world along a shortest path in router hops (ties
broken by name, so it is deterministic) — except the networks inside a NAT's prefix, which
(private, RFC 1918) only the NAT router and routers on its inside get routes to;
``routes = [{to = "…/n", via = "…"}]`` adds static routes.

World-wide faults (the command line's ``--loss`` and friends) apply to the links marked
``impaired = true`` — in the built-in world the home access line, in both directions, like
``tc netem`` on both of its ends — or to every link if none is marked. Per-link values in the
description apply on top. One :class:`~minternet.randomness.SeededRandom` feeds everything:
node ``N`` draws from ``random.child(N)``, link ``L`` from ``random.child("link:" + L)``.
"""

from __future__ import annotations

import contextlib
import json
import tomllib
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..dhcp.client import ClientConfig
from ..errors import ConfigError
from ..ip.address import is_ip, network_of, parse_interface, parse_prefix
from ..ip.routing import ROUTE_KINDS, Route
from ..link.ethernet import local_mac
from ..loop import EventLoop, LoopTimeout, VirtualLoop
from ..node.dhcp import DhcpClientService, DhcpServerService, serve_dhcp, start_dhcp_client
from ..node.host import Host
from ..node.interface import Interface
from ..node.router import Router
from ..node.switch import LearningSwitch, SwitchPort
from ..node.tcp import TcpStack
from ..node.tcp_host import attach_tcp
from ..randomness import RandomSource, SeededRandom
from ..tcp.connection import TcpConfig
from ..trace.bus import TraceBus
from .default_world import DEFAULT_WORLD
from .faults import Faults
from .link import Link

_NODE_KEYS = {"kind", "hostname", "gateway", "routes", "congestion_control"}
CONGESTION_CONTROLS = ("newreno", "cubic")
_LINK_KEYS = {
    "a",
    "b",
    "a_ip",
    "b_ip",
    "a_iface",
    "b_iface",
    "latency_ms",
    "bandwidth_mbps",
    "mtu",
    "queue",
    "loss",
    "reorder",
    "duplicate",
    "corrupt",
    "impaired",
    "a_nat",
    "b_nat",
    "a_dhcp",
    "b_dhcp",
}
# A DHCP server on a link end: a_dhcp = {pool = "192.168.1.10-192.168.1.100", dns = […],
# domain = "home.arpa", lease_time = 86400, routers = […], authoritative = true}
# (authoritative: it answers INIT-REBOOT requests it has no record of, RFC 2131 §4.3.2).
_DHCP_KEYS = {"pool", "dns", "domain", "lease_time", "routers", "authoritative"}


class World:
    """Everything of one simulation: the loop, the random source, the trace bus, the nodes."""

    def __init__(
        self,
        *,
        seed: int = 1,
        trace: TraceBus | None = None,
        loop: EventLoop | None = None,
        random: RandomSource | None = None,
    ) -> None:
        """The simulator's world: a :class:`VirtualLoop` and a :class:`SeededRandom` of
        ``seed``. A real driver passes its own ``loop`` (the wall clock) and ``random`` (the
        OS's), and the same nodes and links run in real time (``minternet tap world``)."""
        self.seed = seed
        self.loop: EventLoop = loop if loop is not None else VirtualLoop()
        self.random: RandomSource = random if random is not None else SeededRandom(seed)
        self.trace = trace or TraceBus()
        self.nodes: dict[str, Host | LearningSwitch] = {}
        self.links: list[Link] = []
        self.faults = Faults()
        self._packet_id = 0
        self._mac_index = 0
        self.nat_prefixes: list[tuple[Router, str]] = []  # (NAT router, inside prefix)
        self.dhcp_servers: list[DhcpServerService] = []
        self.dhcp_clients: list[DhcpClientService] = []

    # -- construction -----------------------------------------------------------------
    @classmethod
    def default(
        cls,
        *,
        seed: int = 1,
        faults: Faults | None = None,
        trace: TraceBus | None = None,
        join: bool = True,
        loop: EventLoop | None = None,
        random: RandomSource | None = None,
    ) -> World:
        """The built-in world of design.md (``join``: see :meth:`from_dict`)."""
        return cls.from_dict(
            DEFAULT_WORLD,
            seed=seed,
            faults=faults,
            trace=trace,
            join=join,
            loop=loop,
            random=random,
        )

    @classmethod
    def from_toml(
        cls,
        path: str | Path,
        *,
        seed: int = 1,
        faults: Faults | None = None,
        trace: TraceBus | None = None,
        join: bool = True,
        loop: EventLoop | None = None,
        random: RandomSource | None = None,
    ) -> World:
        try:
            with open(path, "rb") as f:
                desc = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
        except OSError as e:
            raise ConfigError(f"{path}: {e.strerror}") from None
        try:
            return cls.from_dict(
                desc, seed=seed, faults=faults, trace=trace, join=join, loop=loop, random=random
            )
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from None

    @classmethod
    def from_dict(
        cls,
        desc: dict[str, Any],
        *,
        seed: int = 1,
        faults: Faults | None = None,
        trace: TraceBus | None = None,
        join: bool = True,
        loop: EventLoop | None = None,
        random: RandomSource | None = None,
    ) -> World:
        """Build the world; with ``join`` (the default) its DHCP clients get their leases
        before it is returned (:meth:`join`), so every host has its address. A caller that
        wants to see them join (``fetch``) passes ``join=False`` and calls :meth:`join`.
        ``loop`` and ``random``: see :class:`World`."""
        world = cls(seed=seed, trace=trace, loop=loop, random=random)
        world.faults = faults or Faults()
        world._build(desc)
        if join:
            world.join()
        return world

    def next_packet_id(self) -> int:
        self._packet_id += 1
        return self._packet_id

    def next_mac(self) -> str:
        """The next locally administered MAC in the world's numbering (interfaces in link
        order, then whatever joins later)."""
        self._mac_index += 1
        return local_mac(self._mac_index)

    def _build(self, desc: dict[str, Any]) -> None:
        if not isinstance(desc, dict):
            raise ConfigError("a world description is a table with [nodes] and [[links]]")
        unknown = set(desc) - {"nodes", "links"}
        if unknown:
            raise ConfigError(f"unknown top-level key(s): {', '.join(sorted(unknown))}")
        nodes = desc.get("nodes")
        links = desc.get("links")
        if not isinstance(nodes, dict) or not nodes:
            raise ConfigError("the world needs a [nodes] table with at least one node")
        if not isinstance(links, list):
            raise ConfigError("the world needs a [[links]] list")
        for name, spec in nodes.items():
            self._add_node(str(name), spec)
        if not all(isinstance(spec, dict) for spec in links):
            raise ConfigError("every [[links]] entry must be a table")
        any_impaired = any(spec.get("impaired") for spec in links)
        for i, spec in enumerate(links):
            self._add_link(i, spec, impaired=bool(spec.get("impaired")) or not any_impaired)
        self._check_subnets()
        self._compute_routes(nodes)

    def _add_node(self, name: str, spec: Any) -> None:
        if not isinstance(spec, dict):
            raise ConfigError(f"node {name!r}: expected a table")
        bad = set(spec) - _NODE_KEYS
        if bad:
            raise ConfigError(f"node {name!r}: unknown key(s) {', '.join(sorted(bad))}")
        if not name or "/" in name or " " in name:
            raise ConfigError(f"node name {name!r}: must be non-empty, without '/' or spaces")
        kind = spec.get("kind", "host")
        rnd = self.random.child(name)
        node: Host | LearningSwitch
        if kind in ("host", "router"):
            cls_ = Router if kind == "router" else Host
            hostname = spec.get("hostname")
            if hostname is not None and not isinstance(hostname, str):
                raise ConfigError(f"node {name!r}: hostname must be a string")
            cc = spec.get("congestion_control", "newreno")
            if cc not in CONGESTION_CONTROLS:
                raise ConfigError(f"node {name!r}: congestion_control must be newreno or cubic")
            node = cls_(
                name, self.loop, rnd, self.trace, hostname=hostname, packet_ids=self.next_packet_id
            )
            attach_tcp(node, TcpConfig(congestion_control=cc))
        elif kind == "switch":
            if set(spec) - {"kind"}:
                raise ConfigError(f"switch {name!r}: takes no hostname, gateway or routes")
            node = LearningSwitch(name, self.loop, self.trace)
        else:
            raise ConfigError(f"node {name!r}: kind must be host, router or switch, not {kind!r}")
        self.nodes[name] = node

    def _end(self, spec: dict[str, Any], side: str, link_name: str) -> Interface | SwitchPort:
        name = spec.get(side)
        if not isinstance(name, str) or name not in self.nodes:
            raise ConfigError(f"{link_name}: {side} = {name!r} is not a node of the world")
        node = self.nodes[name]
        ip = spec.get(f"{side}_ip")
        if isinstance(node, LearningSwitch):
            if ip is not None:
                raise ConfigError(f"{link_name}: switch {name!r} takes no address ({side}_ip)")
            return node.add_port()
        if ip == "dhcp":
            if node.forwarding:
                raise ConfigError(f"{link_name}: {side}_ip = 'dhcp' is for hosts, not routers")
            iface_name = spec.get(f"{side}_iface") or f"eth{len(node.interfaces)}"
            if iface_name in node.interfaces:
                raise ConfigError(f"{link_name}: {name} already has an interface {iface_name}")
            self._mac_index += 1
            iface = node.add_interface(
                str(iface_name), local_mac(self._mac_index), None, 24, spec.get("mtu", 1500)
            )
            config = None
            if not isinstance(self.loop, VirtualLoop):
                # On a real driver's wall clock the simulated host joins at once, without
                # RFC 2131's start-up wait or RFC 5227's probes (seconds of real time).
                host = node.hostname.split(".", 1)[0]
                config = ClientConfig(iface.mac, host, initial_delay=(0.0, 0.0), probe=False)
            self.dhcp_clients.append(start_dhcp_client(node, iface.name, config, start=False))
            return iface
        if not isinstance(ip, str):
            raise ConfigError(
                f"{link_name}: {side}_ip (ADDRESS/LEN or 'dhcp') is needed for {name!r}"
            )
        try:
            addr, plen = parse_interface(ip)
        except ValueError as e:
            raise ConfigError(f"{link_name}: {side}_ip: {e}") from None
        for other in self.nodes.values():
            if isinstance(other, Host) and other.is_local_address(addr):
                raise ConfigError(f"{link_name}: address {addr} is already used by {other.name}")
        iface_name = spec.get(f"{side}_iface") or f"eth{len(node.interfaces)}"
        if iface_name in node.interfaces:
            raise ConfigError(f"{link_name}: {name} already has an interface {iface_name}")
        mtu = spec.get("mtu", 1500)
        return node.add_interface(str(iface_name), self.next_mac(), addr, plen, mtu)

    def _add_link(self, i: int, spec: Any, *, impaired: bool) -> None:
        label = f"link #{i + 1}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{label}: expected a table")
        bad = set(spec) - _LINK_KEYS
        if bad:
            raise ConfigError(f"{label}: unknown key(s) {', '.join(sorted(bad))}")
        try:
            latency = float(spec.get("latency_ms", 1.0)) / 1000.0
            bandwidth = float(spec.get("bandwidth_mbps", 1000.0)) * 1e6
            mtu = int(spec.get("mtu", 1500))
            queue = int(spec.get("queue", 100))
            own = Faults(
                float(spec.get("loss", 0.0)),
                float(spec.get("reorder", 0.0)),
                float(spec.get("duplicate", 0.0)),
                float(spec.get("corrupt", 0.0)),
            )
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{label}: {e}") from None
        if latency < 0 or bandwidth <= 0 or not 68 <= mtu <= 65535 or queue < 1:
            raise ConfigError(f"{label}: latency >= 0, bandwidth > 0, 68 <= mtu, queue >= 1")
        a = self._end(spec, "a", label)
        b = self._end(spec, "b", label)
        if a is b:
            raise ConfigError(f"{label}: a link needs two different ends")
        for side, end in (("a", a), ("b", b)):
            if spec.get(f"{side}_nat") is not None:
                self._enable_nat(label, side, end, spec[f"{side}_nat"])
            if spec.get(f"{side}_dhcp") is not None:
                self._serve_dhcp(label, side, end, spec[f"{side}_dhcp"])
        w = self.faults if impaired else Faults()
        faults = Faults(
            w.loss or own.loss,
            w.reorder or own.reorder,
            w.duplicate or own.duplicate,
            w.corrupt or own.corrupt,
            w.latency,
        )
        name = f"{a.full_name}-{b.full_name}"
        link = Link(
            name,
            self.loop,
            self.random.child(f"link:{name}"),
            self.trace,
            a,
            b,
            latency=latency,
            bandwidth=bandwidth,
            mtu=mtu,
            queue_frames=queue,
            faults=faults,
        )
        link.impaired = impaired and self.faults.any
        a.link = link
        b.link = link
        self.links.append(link)

    def _enable_nat(self, label: str, side: str, end: Interface | SwitchPort, inside: Any) -> None:
        node = getattr(end, "node", None)
        if not isinstance(node, Router) or not isinstance(end, Interface):
            raise ConfigError(f"{label}: {side}_nat: only a router's interface can do NAT")
        if not isinstance(inside, str):
            raise ConfigError(f"{label}: {side}_nat: the inside prefix, like '192.168.1.0/24'")
        try:
            parse_prefix(inside)
            node.enable_nat(end.name, inside)
        except ValueError as e:
            raise ConfigError(f"{label}: {side}_nat: {e}") from None
        self.nat_prefixes.append((node, inside))

    def _serve_dhcp(self, label: str, side: str, end: Interface | SwitchPort, spec: Any) -> None:
        node = getattr(end, "node", None)
        where = f"{label}: {side}_dhcp"
        if not isinstance(node, Host) or not isinstance(end, Interface):
            raise ConfigError(f"{where}: only a host's or router's interface can serve DHCP")
        if not isinstance(spec, dict) or set(spec) - _DHCP_KEYS:
            raise ConfigError(f"{where}: a table of {', '.join(sorted(_DHCP_KEYS))}")
        try:
            pool = None
            if "pool" in spec:
                lo, sep, hi = str(spec["pool"]).partition("-")
                if not sep or not is_ip(lo.strip()) or not is_ip(hi.strip()):
                    raise ValueError(f"pool {spec['pool']!r}: FIRST-LAST addresses")
                pool = (lo.strip(), hi.strip())
            dns = tuple(str(a) for a in spec.get("dns", ()))
            routers = spec.get("routers")
            for a in (*dns, *(routers or ())):
                if not is_ip(str(a)):
                    raise ValueError(f"{a!r} is not an IPv4 address")
            authoritative = spec.get("authoritative", True)
            if not isinstance(authoritative, bool):
                raise ValueError(f"authoritative = {authoritative!r}: true or false")
            self.dhcp_servers.append(
                serve_dhcp(
                    node,
                    end.name,
                    pool=pool,
                    dns_servers=dns,
                    domain_name=str(spec["domain"]) if "domain" in spec else None,
                    lease_time=int(spec.get("lease_time", 86400)),
                    routers=None if routers is None else tuple(str(r) for r in routers),
                    authoritative=authoritative,
                )
            )
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{where}: {e}") from None

    def join(self, timeout: float = 120.0) -> None:
        """Start every DHCP client and run until each is configured and has announced its
        address, or ``timeout`` virtual seconds have passed (a client without a lease then
        stays unconfigured)."""
        clients = [c for c in self.dhcp_clients if c.client.state.value == "INIT"]
        if not clients:
            return
        for c in clients:
            c.start()
        deadline = self.loop.now() + timeout
        for c in clients:
            fut = c.wait_bound()
            with contextlib.suppress(LoopTimeout):
                self.loop.run_until_complete(fut, max(deadline - self.loop.now(), 0.0))
        # and until the last ARP announcement (RFC 5227 §2.3): joining is then over
        settled = [t for c in clients if (t := c.client.settled_at()) is not None]
        if settled and isinstance(self.loop, VirtualLoop):
            self.run(until=max(settled))

    def _behind_nat(self, router: Host, net: str) -> bool:
        """``net`` is inside a NAT of another router than ``router``, which is not on the
        NAT's inside: private addresses are not routed beyond their NAT."""
        addr, plen = net.split("/")
        for nat_router, inside in self.nat_prefixes:
            if nat_router is router:
                continue
            prefix, ilen = parse_prefix(inside)
            if (
                int(plen) >= ilen
                and network_of(addr, ilen) == prefix
                and not any(
                    i.address is not None and network_of(i.address, ilen) == prefix
                    for i in router.interfaces.values()
                )
            ):
                return True
        return False

    # -- routes -----------------------------------------------------------------------
    def _l2_domains(self) -> dict[str, str]:
        """Interface full name → a representative of its broadcast domain."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(x: str, y: str) -> None:
            parent[find(x)] = find(y)

        for link in self.links:
            ea = _domain_key(link.a)
            eb = _domain_key(link.b)
            union(ea, eb)
        return {k: find(k) for k in list(parent)}

    def _check_subnets(self) -> None:
        dom = self._l2_domains()
        seen: dict[str, str] = {}
        for node in self.hosts_and_routers:
            for iface in node.interfaces.values():
                net = iface.network
                if net is None:
                    continue
                d = dom.get(iface.full_name, iface.full_name)
                if seen.setdefault(net, d) != d:
                    raise ConfigError(f"network {net} appears on two separate links/LANs")

    def _compute_routes(self, nodes: dict[str, Any]) -> None:
        routers = sorted((n for n in self.hosts_and_routers if n.forwarding), key=lambda n: n.name)
        on_net: dict[str, list[tuple[Host, Interface]]] = {}
        for node in self.hosts_and_routers:
            for iface in node.interfaces.values():
                if iface.network is not None:
                    on_net.setdefault(iface.network, []).append((node, iface))
        # Router adjacency: routers sharing a network.
        neighbours: dict[str, list[tuple[str, Interface, str]]] = {r.name: [] for r in routers}
        for net in sorted(on_net):
            members = [(n, i) for n, i in on_net[net] if n.forwarding]
            for n1, i1 in members:
                for n2, i2 in members:
                    if n1 is not n2:
                        neighbours[n1.name].append((n2.name, i1, str(i2.address)))
        for r in routers:
            neighbours[r.name].sort(key=lambda t: (t[0], t[1].name))
            # BFS from r: first hop for every other router.
            first: dict[str, tuple[Interface, str]] = {}
            dist = {r.name: 0}
            queue: deque[str] = deque([r.name])
            while queue:
                cur = queue.popleft()
                for nb, iface, gw in neighbours[cur]:
                    if nb in dist:
                        continue
                    dist[nb] = dist[cur] + 1
                    first[nb] = (iface, gw) if cur == r.name else first[cur]
                    queue.append(nb)
            connected = {i.network for i in r.interfaces.values()}
            for net in sorted(on_net):
                if net in connected or self._behind_nat(r, net):
                    continue
                best = sorted(
                    (dist[n.name], n.name)
                    for n, _ in on_net[net]
                    if n.forwarding and n.name in dist
                )
                if not best:
                    continue
                iface, gw = first[best[0][1]]
                prefix, plen = net.split("/")
                r.routes.add(Route(prefix, int(plen), iface.name, gw, origin="computed"))
        for node in self.hosts_and_routers:
            spec = nodes[node.name]
            if not node.forwarding:
                gateway = spec.get("gateway")
                if gateway is None:
                    gateway = self._default_gateway_for(node, on_net)
                if gateway is not None:
                    try:
                        node.set_default_gateway(str(gateway))
                    except ValueError as e:
                        raise ConfigError(str(e)) from None
            for static in spec.get("routes", []) or []:
                self.add_static_route(node, static)

    def _default_gateway_for(
        self, host: Host, on_net: dict[str, list[tuple[Host, Interface]]]
    ) -> str | None:
        for iface in host.interfaces.values():
            if iface.network is None:
                continue
            rs = sorted((n.name, str(i.address)) for n, i in on_net[iface.network] if n.forwarding)
            if rs:
                return rs[0][1]
        return None

    def add_static_route(self, node: Host, static: Any) -> None:
        """A ``{to = "P/n", via = "GW"}`` route, or ``{to = "P/n", kind = "blackhole"}``
        (or ``"unreachable"``) discarding what matches, like ``ip route add blackhole P/n``.
        It replaces any route to the same prefix."""
        if (
            not isinstance(static, dict)
            or set(static) - {"to", "via", "kind"}
            or "to" not in static
        ):
            raise ConfigError(
                f"node {node.name!r}: routes entries are {{to = …, via = …}} "
                'or {to = …, kind = "blackhole" | "unreachable"}'
            )
        try:
            prefix, plen = parse_prefix(str(static["to"]))
        except ValueError as e:
            raise ConfigError(f"node {node.name!r}: route: {e}") from None
        kind = str(static.get("kind", "unicast"))
        if kind != "unicast":
            if kind not in ROUTE_KINDS or "via" in static:
                raise ConfigError(
                    f"node {node.name!r}: route to {prefix}/{plen}: kind is blackhole or "
                    "unreachable, without via"
                )
            node.routes.remove(prefix, plen)
            node.routes.add(Route(prefix, plen, "", origin="static", kind=kind))
            return
        via = static.get("via")
        if via is None or not is_ip(str(via)):
            raise ConfigError(f"node {node.name!r}: route to {prefix}/{plen} needs via = ADDRESS")
        r = node.routes.lookup(str(via))
        if r is None or r.gateway is not None:
            raise ConfigError(f"node {node.name!r}: gateway {via} is not on a connected network")
        node.routes.remove(prefix, plen)
        node.routes.add(Route(prefix, plen, r.iface, str(via), origin="static"))

    def set_congestion_control(self, name: str) -> None:
        """Every host and router's TCP uses ``name`` (``newreno`` or ``cubic``) from now on."""
        if name not in CONGESTION_CONTROLS:
            raise ConfigError(f"congestion control must be newreno or cubic, not {name!r}")
        for node in self.hosts_and_routers:
            stack = node.tcp
            if isinstance(stack, TcpStack):
                stack.config = replace(stack.config, congestion_control=name)

    # -- queries ----------------------------------------------------------------------
    @property
    def hosts_and_routers(self) -> list[Host]:
        return [n for n in self.nodes.values() if isinstance(n, Host)]

    @property
    def hosts(self) -> list[Host]:
        return [n for n in self.hosts_and_routers if not n.forwarding]

    @property
    def routers(self) -> list[Router]:
        return [n for n in self.nodes.values() if isinstance(n, Router)]

    @property
    def switches(self) -> list[LearningSwitch]:
        return [n for n in self.nodes.values() if isinstance(n, LearningSwitch)]

    def node(self, name: str) -> Host:
        """A host or router by node name, hostname or address."""
        n = self.nodes.get(name)
        if isinstance(n, Host):
            return n
        for h in self.hosts_and_routers:
            if h.hostname == name or h.is_local_address(name):
                return h
        raise ConfigError(f"no host or router called {name!r} in this world")

    def resolve(self, target: str) -> str:
        """An IPv4 address for ``target``: an address, a node name or a hostname."""
        if is_ip(target):
            return target
        return self.node(target).address

    def owner_of(self, address: str) -> Host | None:
        for h in self.hosts_and_routers:
            if h.is_local_address(address):
                return h
        return None

    def interfaces(self) -> list[tuple[str, str]]:
        """Every capturable interface in world order, as (``node/iface``, description):
        the pcapng interface blocks."""
        return [
            (i.full_name, i.describe())
            for n in self.hosts_and_routers
            for i in n.interfaces.values()
        ]

    def segments(self) -> dict[str, str]:
        """``node/iface`` → a name of its link-layer segment (the same for every interface
        on one cable or switched LAN)."""
        return self._l2_domains()

    def capture_points(self) -> list[tuple[str, str]]:
        """One capture point per link-layer segment (a cable, or a switched LAN with its
        cables), in world order: the interfaces of the hosts on it, or, where only routers
        meet, the first router interface in world order.

        Like a tcpdump on one interface of each segment, merged by time: every frame is
        kept once per segment it crosses (not once per interface end), so a packet routed
        through the world appears once per hop with that hop's TTL and MACs.
        """
        dom = self._l2_domains()
        members: dict[str, list[tuple[str, bool]]] = {}
        for n in self.hosts_and_routers:
            for i in n.interfaces.values():
                members.setdefault(dom.get(i.full_name, i.full_name), []).append(
                    (i.full_name, not n.forwarding)
                )
        keep: set[str] = set()
        for ifaces in members.values():
            hosts = [name for name, is_host in ifaces if is_host]
            keep.update(hosts or [ifaces[0][0]])
        return [(name, d) for name, d in self.interfaces() if name in keep]

    @property
    def impaired_links(self) -> list[Link]:
        return [link for link in self.links if link.faults.any]

    def run(self, until: float | None = None) -> None:
        """Run the simulation (up to virtual time ``until``); a world on a real driver's
        loop is run by that driver."""
        if not isinstance(self.loop, VirtualLoop):
            raise ConfigError("this world runs in real time: its driver runs the loop")
        self.loop.run(until=until)

    def _describe_iface(self, i: Interface) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": i.name,
            "mac": i.mac,
            "address": f"{i.address}/{i.prefix_len}" if i.address else None,
            "mtu": i.mtu,
        }
        if any(c.iface is i for c in self.dhcp_clients):
            d["dhcp"] = "client"
        elif any(sv.iface is i for sv in self.dhcp_servers):
            d["dhcp"] = "server"
        return d

    def describe(self) -> dict[str, Any]:
        """A plain-data picture of the world (``minternet world --json``)."""
        out: dict[str, Any] = {"seed": self.seed, "nodes": [], "links": []}
        for n in self.nodes.values():
            if isinstance(n, LearningSwitch):
                out["nodes"].append(
                    {"name": n.name, "kind": "switch", "ports": [p.name for p in n.ports]}
                )
                continue
            out["nodes"].append(
                {
                    "name": n.name,
                    "kind": n.kind,
                    "hostname": n.hostname,
                    "interfaces": [self._describe_iface(i) for i in n.interfaces.values()],
                    "routes": [
                        {"to": r.destination, "via": r.gateway, "dev": r.iface, "origin": r.origin}
                        for r in n.routes
                    ],
                }
            )
            leases = [
                {"iface": sv.iface.name, "address": b.address, "chaddr": b.chaddr,
                 "state": b.state, "expires": round(b.expires, 6)}
                for sv in self.dhcp_servers if sv.node is n
                for b in sv.server.bindings(self.loop.now())
            ]  # fmt: skip
            if leases:
                out["nodes"][-1]["dhcp_leases"] = leases
            if isinstance(n, Router) and n.nats:
                out["nodes"][-1]["nat"] = [
                    {"iface": name, "inside": nat.inside, "public": nat.public}
                    for name, nat in sorted(n.nats.items())
                ]
                out["nodes"][-1]["nat_table"] = [
                    {"iface": name, **m.to_json()} for name, m in n.nat_table()
                ]
        for link in self.links:
            out["links"].append(
                {
                    "a": link.a.full_name,
                    "b": link.b.full_name,
                    "latency_ms": link.latency * 1000,
                    "bandwidth_mbps": link.bandwidth / 1e6,
                    "mtu": link.mtu,
                    "faults": {
                        k: getattr(link.faults, k)
                        for k in ("loss", "reorder", "duplicate", "corrupt", "latency")
                        if getattr(link.faults, k)
                    },
                }
            )
        return out


def _domain_key(end: Interface | SwitchPort | Any) -> str:
    if isinstance(end, SwitchPort):
        return f"switch:{end.switch.name}"
    return str(end.full_name)


def load_world(
    path: str | Path | None,
    *,
    seed: int = 1,
    faults: Faults | None = None,
    trace: TraceBus | None = None,
    join: bool = True,
    loop: EventLoop | None = None,
    random: RandomSource | None = None,
) -> World:
    """The world of a TOML file, or the built-in one if ``path`` is None (on ``loop`` and
    ``random`` when a real driver runs it)."""
    kw: dict[str, Any] = {"join": join, "loop": loop, "random": random}
    if path is None:
        return World.default(seed=seed, faults=faults, trace=trace, **kw)
    return World.from_toml(path, seed=seed, faults=faults, trace=trace, **kw)


def world_toml(desc: dict[str, Any]) -> str:
    """A world description (the dict :meth:`World.from_dict` takes, of strings, numbers,
    booleans, lists and tables) as the TOML text :meth:`World.from_toml` reads back."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, dict):  # an inline table (a_dhcp)
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)  # a TOML basic string is a JSON string for these plain values

    out = []
    for name, spec in desc["nodes"].items():
        out.append(f"[nodes.{json.dumps(name)}]")
        out += [f"{k} = {value(v)}" for k, v in spec.items()]
    for link in desc.get("links", []):
        out.append("[[links]]")
        out += [f"{k} = {value(v)}" for k, v in link.items()]
    return "\n".join(out) + "\n"


__all__ = ["World", "load_world", "world_toml"]
