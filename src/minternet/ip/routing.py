"""The routing table: longest-prefix match (RFC 1812 §5.2.4.3) and a default gateway.

Routes are kept sorted longest prefix first, then by metric, then by insertion; the first
route whose prefix covers the destination wins. Lookups are cached per destination until the
table changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .address import ip_to_int, mask_of, network_of

ROUTE_KINDS = ("unicast", "blackhole", "unreachable")


@dataclass(frozen=True, slots=True)
class Route:
    """``prefix/prefix_len`` reached through ``iface``, directly or via ``gateway``."""

    prefix: str
    prefix_len: int
    iface: str
    gateway: str | None = None
    metric: int = 0
    origin: str = "static"  # "connected", "computed", "static"
    # "unicast" forwards; like Linux's route types (ip-route(8)), "blackhole" discards
    # silently and "unreachable" discards with ICMP host unreachable (RFC 1812 §5.2.7.1).
    kind: str = "unicast"

    def __post_init__(self) -> None:
        if network_of(self.prefix, self.prefix_len) != self.prefix:
            raise ValueError(f"route {self.prefix}/{self.prefix_len} has host bits set")
        if self.kind not in ROUTE_KINDS:
            raise ValueError(f"route kind {self.kind!r} is not one of {', '.join(ROUTE_KINDS)}")

    @property
    def destination(self) -> str:
        return f"{self.prefix}/{self.prefix_len}"

    def covers(self, dst: str) -> bool:
        m = mask_of(self.prefix_len)
        return ip_to_int(dst) & m == ip_to_int(self.prefix)

    def __str__(self) -> str:
        if self.kind != "unicast":
            return f"{self.kind} {self.destination} ({self.origin})"
        via = f"via {self.gateway} " if self.gateway else ""
        return f"{self.destination} {via}dev {self.iface} ({self.origin})"


class RoutingTable:
    """A node's IPv4 routes."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._keys: list[tuple[int, int, int, int]] = []  # (-len, metric, seq, net)
        self._seq = 0
        self._cache: dict[str, Route | None] = {}
        # Counts the table's changes: what a cache of lookups (a router's fast path)
        # compares to know it still holds.
        self.generation = 0

    @property
    def routes(self) -> list[Route]:
        return list(self._routes)

    def add(self, route: Route) -> None:
        self._seq += 1
        key = (-route.prefix_len, route.metric, self._seq, ip_to_int(route.prefix))
        i = 0
        while i < len(self._keys) and self._keys[i] < key:
            i += 1
        self._keys.insert(i, key)
        self._routes.insert(i, route)
        self._cache.clear()
        self.generation += 1

    def remove(self, prefix: str, prefix_len: int) -> None:
        keep = [
            (k, r)
            for k, r in zip(self._keys, self._routes, strict=True)
            if (r.prefix, r.prefix_len) != (prefix, prefix_len)
        ]
        self._keys = [k for k, _ in keep]
        self._routes = [r for _, r in keep]
        self._cache.clear()
        self.generation += 1

    def set_default(self, gateway: str, iface: str) -> None:
        """Replace the default route (0.0.0.0/0) by one via ``gateway``."""
        self.remove("0.0.0.0", 0)
        self.add(Route("0.0.0.0", 0, iface, gateway, origin="static"))

    @property
    def default_gateway(self) -> str | None:
        for r in self._routes:
            if r.prefix_len == 0:
                return r.gateway
        return None

    def lookup(self, dst: str) -> Route | None:
        """The route for ``dst`` by longest-prefix match, or None."""
        try:
            return self._cache[dst]
        except KeyError:
            pass
        d = ip_to_int(dst)
        found = None
        for (neg_len, _, _, net), route in zip(self._keys, self._routes, strict=True):
            if d & mask_of(-neg_len) == net:
                found = route
                break
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[dst] = found
        return found

    def __iter__(self) -> Iterator[Route]:
        return iter(list(self._routes))

    def __len__(self) -> int:
        return len(self._routes)
