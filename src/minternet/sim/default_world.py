"""The built-in world of design.md, as the same plain data a user can write in TOML.

::

  laptop ─ home-switch ─ home-router ─ isp-router ─ transit ─ dc-router ─ www (93.184.216.34)
                                          │            │  │        │
                          isp-switch ─ resolver   root  gtld    iana

Latencies are realistic orders of magnitude: tens of microseconds on a LAN, a few
milliseconds on the access line and across the backbone. The laptop boots without an
address: the home router's DHCP server (RFC 2131) leases it 192.168.1.10/24 with the router
192.168.1.1 and the ISP's resolver 198.51.100.53 as its DNS server. The home router does
NAPT (RFC 3022): the LAN 192.168.1.0/24 leaves the house as its WAN address 203.0.113.2, a
static address (not DHCP; from the documentation block 203.0.113.0/24, RFC 5737) on the
access line 203.0.113.0/30 to the ISP; private addresses are not routed beyond it.
World-wide faults (``--loss`` …) apply to the access line between home-router and
isp-router, in both directions.
"""

from __future__ import annotations

from typing import Any

DEFAULT_WORLD: dict[str, Any] = {
    "nodes": {
        "laptop": {"kind": "host", "hostname": "laptop.home.arpa"},
        "home-switch": {"kind": "switch"},
        "home-router": {"kind": "router"},
        "isp-router": {"kind": "router"},
        "isp-switch": {"kind": "switch"},
        "resolver": {"kind": "host", "hostname": "resolver.isp.example"},
        "transit": {"kind": "router"},
        "dc-router": {"kind": "router"},
        "www": {"kind": "host", "hostname": "www.example.com"},
        "a.root-servers.net": {"kind": "host"},
        "a.gtld-servers.net": {"kind": "host"},
        "a.iana-servers.net": {"kind": "host"},
    },
    "links": [
        # The home LAN: a switch with the laptop and the home router's inside port.
        # The laptop boots without an address and asks for one by DHCP (a_ip = "dhcp").
        {
            "a": "laptop",
            "a_ip": "dhcp",
            "b": "home-switch",
            "latency_ms": 0.05,
            "bandwidth_mbps": 1000,
        },
        {
            "a": "home-router",
            "a_ip": "192.168.1.1/24",
            "a_dhcp": {
                "pool": "192.168.1.10-192.168.1.100",
                "dns": ["198.51.100.53"],
                "domain": "home.arpa",
                "lease_time": 86400,
                # the LAN's one server, as dnsmasq's dhcp-authoritative: it answers a
                # rebooting laptop's DHCPREQUEST even after losing its leases (RFC 2131
                # §4.3.2)
                "authoritative": True,
            },
            "b": "home-switch",
            "latency_ms": 0.05,
            "bandwidth_mbps": 1000,
        },
        # The access line to the ISP: where the command line's --loss etc. apply.
        {
            "a": "home-router",
            "a_ip": "203.0.113.2/30",
            "a_nat": "192.168.1.0/24",
            "b": "isp-router",
            "b_ip": "203.0.113.1/30",
            "latency_ms": 4,
            "bandwidth_mbps": 100,
            "impaired": True,
        },
        # The ISP's server subnet with its recursive resolver.
        {
            "a": "isp-router",
            "a_ip": "198.51.100.1/24",
            "b": "isp-switch",
            "latency_ms": 0.05,
            "bandwidth_mbps": 1000,
        },
        {
            "a": "resolver",
            "a_ip": "198.51.100.53/24",
            "b": "isp-switch",
            "latency_ms": 0.05,
            "bandwidth_mbps": 1000,
        },
        # The backbone.
        {
            "a": "isp-router",
            "a_ip": "192.0.2.1/30",
            "b": "transit",
            "b_ip": "192.0.2.2/30",
            "latency_ms": 8,
            "bandwidth_mbps": 10000,
        },
        {
            "a": "transit",
            "a_ip": "192.0.2.5/30",
            "b": "dc-router",
            "b_ip": "192.0.2.6/30",
            "latency_ms": 12,
            "bandwidth_mbps": 10000,
        },
        # The data centre of www.example.com.
        {
            "a": "dc-router",
            "a_ip": "93.184.216.1/24",
            "b": "www",
            "b_ip": "93.184.216.34/24",
            "latency_ms": 0.1,
            "bandwidth_mbps": 10000,
        },
        # The DNS hierarchy, each server behind a router.
        {
            "a": "transit",
            "a_ip": "198.41.0.1/24",
            "b": "a.root-servers.net",
            "b_ip": "198.41.0.4/24",
            "latency_ms": 3,
            "bandwidth_mbps": 1000,
        },
        {
            "a": "transit",
            "a_ip": "192.5.6.1/24",
            "b": "a.gtld-servers.net",
            "b_ip": "192.5.6.30/24",
            "latency_ms": 5,
            "bandwidth_mbps": 1000,
        },
        {
            "a": "dc-router",
            "a_ip": "199.43.135.1/24",
            "b": "a.iana-servers.net",
            "b_ip": "199.43.135.53/24",
            "latency_ms": 2,
            "bandwidth_mbps": 1000,
        },
    ],
}
