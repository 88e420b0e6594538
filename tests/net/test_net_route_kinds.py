"""Blackhole and unreachable routes (Linux's route types, ip-route(8)): a blackhole discards
silently, an unreachable route answers with ICMP host unreachable; both counted and traced."""

from __future__ import annotations

import pytest
from netutil import chain, run

from minternet.apps.ping import ping
from minternet.errors import ConfigError, LocalProtocolError
from minternet.ip.routing import Route
from minternet.trace.bus import EventLog


@pytest.mark.parametrize("kind", ["blackhole", "unreachable"])
def test_router_discards_by_route_kind(kind: str) -> None:
    w = chain()
    log = EventLog()
    w.trace.subscribe(log)
    w.add_static_route(w.node("r2"), {"to": "10.3.0.0/24", "kind": kind})
    result = run(w, ping(w.node("h1"), "10.3.0.10", count=2, interval=1.0, timeout=2.0))
    assert result.received == 0
    drops = [e for e in log.of(kind="drop") if e.node == "r2"]
    assert [e.fields["reason"] for e in drops] == [kind, kind]
    errors = [r.error for r in result.replies]
    if kind == "blackhole":
        assert errors == [None, None]  # silence: the sender only sees no reply
    else:
        assert all(e and "host unreachable" in e and "10.2.0.2" in e for e in errors), errors


def test_a_host_cannot_send_into_a_blackhole_route() -> None:
    w = chain()
    w.node("h1").routes.add(Route("10.3.0.0", 24, "", kind="blackhole"))
    with pytest.raises(LocalProtocolError, match="blackhole"):
        w.node("h1").source_address_for("10.3.0.10")


def test_world_description_routes_of_each_kind() -> None:
    from minternet.sim.world import World

    desc = {
        "nodes": {
            "h": {"kind": "host"},
            "r": {"kind": "router", "routes": [{"to": "203.0.113.0/24", "kind": "blackhole"}]},
        },
        "links": [{"a": "h", "a_ip": "10.0.0.2/24", "b": "r", "b_ip": "10.0.0.1/24"}],
    }
    w = World.from_dict(desc)
    assert "blackhole 203.0.113.0/24 (static)" in [str(r) for r in w.node("r").routes]
    bad = {**desc, "nodes": {**desc["nodes"], "r": {"kind": "router", "routes": [
        {"to": "203.0.113.0/24", "kind": "blackhole", "via": "10.0.0.2"}]}}}  # fmt: skip
    with pytest.raises(ConfigError, match="without via"):
        World.from_dict(bad)
    with pytest.raises(ValueError, match="route kind"):
        Route("10.0.0.0", 8, "", kind="prohibit")
