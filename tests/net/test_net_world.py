"""The default world, TOML worlds and their one-line configuration errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from netutil import run

from minternet.apps.traceroute import traceroute
from minternet.errors import ConfigError
from minternet.sim.world import World

PATH = ["192.168.1.1", "203.0.113.1", "192.0.2.2", "192.0.2.6", "93.184.216.34"]


def test_default_world_matches_the_design() -> None:
    w = World.default()
    assert w.node("laptop").address == "192.168.1.10"
    assert w.node("www").hostname == "www.example.com"
    assert w.node("www.example.com").address == "93.184.216.34"
    assert w.node("resolver").address == "198.51.100.53"
    assert w.node("a.root-servers.net").address == "198.41.0.4"
    assert w.node("a.gtld-servers.net").address == "192.5.6.30"
    assert w.node("a.iana-servers.net").address == "199.43.135.53"
    assert {r.name for r in w.routers} == {"home-router", "isp-router", "transit", "dc-router"}
    assert w.node("home-router").is_local_address("192.168.1.1")
    assert w.node("laptop").routes.default_gateway == "192.168.1.1"
    assert w.resolve("www.example.com") == "93.184.216.34"
    macs = [i.mac for h in w.hosts_and_routers for i in h.interfaces.values()]
    assert len(set(macs)) == len(macs)


def test_path_to_www_crosses_exactly_the_four_routers() -> None:
    w = World.default()
    r = run(w, traceroute(w.node("laptop"), "93.184.216.34"))
    assert [h.address for h in r.hops] == PATH
    assert r.reached
    owners = [w.owner_of(h.address or "") for h in r.hops]
    assert [o.name for o in owners if o] == [
        "home-router",
        "isp-router",
        "transit",
        "dc-router",
        "www",
    ]


@pytest.mark.parametrize(
    ("src", "dst", "routers"),
    [
        ("resolver", "a.root-servers.net", ["isp-router", "transit"]),
        ("resolver", "a.gtld-servers.net", ["isp-router", "transit"]),
        ("resolver", "a.iana-servers.net", ["isp-router", "transit", "dc-router"]),
        ("laptop", "resolver", ["home-router", "isp-router"]),
    ],
)
def test_dns_queries_cross_routers(src: str, dst: str, routers: list[str]) -> None:
    w = World.default()
    r = run(w, traceroute(w.node(src), w.resolve(dst)))
    seen = [w.owner_of(h.address or "") for h in r.hops]
    assert [o.name for o in seen[:-1] if o] == routers
    assert r.reached


TOML = """
[nodes.alice]
kind = "host"
hostname = "alice.example"
[nodes.r]
kind = "router"
[nodes.bob]
routes = [{to = "10.99.0.0/16", via = "10.0.2.1"}]

[[links]]
a = "alice"
a_ip = "10.0.1.2/24"
b = "r"
b_ip = "10.0.1.1/24"
latency_ms = 2.5
[[links]]
a = "r"
a_ip = "10.0.2.1/24"
b = "bob"
b_ip = "10.0.2.2/24"
mtu = 1400
"""


def test_world_from_toml(tmp_path: Path) -> None:
    p = tmp_path / "w.toml"
    p.write_text(TOML)
    w = World.from_toml(p)
    assert w.node("alice.example").address == "10.0.1.2"
    bob = w.node("bob")
    assert bob.interfaces["eth0"].mtu == 1400
    assert bob.routes.lookup("10.99.1.1").gateway == "10.0.2.1"  # type: ignore[union-attr]
    r = run(w, traceroute(w.node("alice"), "10.0.2.2"))
    assert [h.address for h in r.hops] == ["10.0.1.1", "10.0.2.2"]
    assert w.links[0].latency == 0.0025


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nodes = 3", "needs a [nodes] table"),
        ("[nodes.a]\nkind = 'toaster'\n[[links]]", "kind must be host, router or switch"),
        ("[nodes.a]\n[[links]]\na = 'a'\nb = 'zz'\na_ip = '1.2.3.4/24'", "'zz' is not a node"),
        (
            "[nodes.a]\n[nodes.b]\n[[links]]\na='a'\nb='b'\na_ip='1.2.3/24'\nb_ip='1.2.3.5/24'",
            "not an IPv4 address",
        ),
        ("[nodes.a]\ncolour = 1\n[[links]]", "unknown key(s) colour"),
        (
            "[nodes.a]\n[nodes.b]\n[[links]]\na='a'\nb='b'\na_ip='1.1.1.1/24'\nb_ip='1.1.1.1/24'",
            "already used",
        ),
        ("[[[", "not valid TOML"),
    ],
)
def test_bad_worlds_give_one_line_config_errors(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        World.from_toml(p)
    assert message in str(e.value) and "\n" not in str(e.value).strip()
    assert str(e.value).startswith(str(p))


def test_the_example_world_file_works() -> None:
    from minternet.apps.ping import ping

    w = World.from_toml(Path(__file__).resolve().parents[2] / "examples" / "office.toml")
    assert [lk.impaired for lk in w.links].count(True) == 0  # no faults given: none active
    r = run(w, ping(w.node("bob"), w.resolve("server.example.net"), count=2, size=3000))
    assert r.received == 2 and r.replies[0].ttl == 61  # three routers, fragmented on the way
