"""RoutingTable: longest-prefix match and the default gateway."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet.ip.address import ip_from_int, ip_to_int, mask_of
from minternet.ip.routing import Route, RoutingTable


def test_longest_prefix_wins_regardless_of_insertion_order() -> None:
    t = RoutingTable()
    t.add(Route("0.0.0.0", 0, "eth0", "192.168.1.1"))
    t.add(Route("10.0.0.0", 8, "eth1", "10.255.0.1"))
    t.add(Route("10.1.0.0", 16, "eth2", "10.1.255.1"))
    t.add(Route("10.1.2.0", 24, "eth3"))
    assert t.lookup("10.1.2.3").iface == "eth3"  # type: ignore[union-attr]
    assert t.lookup("10.1.9.9").iface == "eth2"  # type: ignore[union-attr]
    assert t.lookup("10.200.0.1").iface == "eth1"  # type: ignore[union-attr]
    assert t.lookup("8.8.8.8").gateway == "192.168.1.1"  # type: ignore[union-attr]
    assert t.default_gateway == "192.168.1.1"
    t.remove("0.0.0.0", 0)
    assert t.lookup("8.8.8.8") is None


def test_host_bits_rejected() -> None:
    with pytest.raises(ValueError):
        Route("10.0.0.1", 8, "eth0")


@given(
    st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)), max_size=20),
    st.integers(0, 2**32 - 1),
)
def test_lookup_equals_brute_force(prefixes: list[tuple[int, int]], dst: int) -> None:
    t = RoutingTable()
    routes = []
    for i, (addr, plen) in enumerate(prefixes):
        r = Route(ip_from_int(addr & mask_of(plen)), plen, f"eth{i}")
        t.add(r)
        routes.append(r)
    matches = [r for r in routes if dst & mask_of(r.prefix_len) == ip_to_int(r.prefix)]
    best = max((r.prefix_len for r in matches), default=None)
    got = t.lookup(ip_from_int(dst))
    if best is None:
        assert got is None
    else:
        assert got is not None and got.prefix_len == best
        first = next(r for r in matches if r.prefix_len == best)
        assert got == first
