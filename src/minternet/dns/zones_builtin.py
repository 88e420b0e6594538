"""The zones of the built-in world, as master files (RFC 1035 §5).

Like the real Internet, the servers are::

    a.root-servers.net  198.41.0.4      .  (the root)
    a.gtld-servers.net  192.5.6.30      com.  and  net.   (like Verisign, one server for both)
    a.iana-servers.net  199.43.135.53   example.com.  and  iana-servers.net.

The root delegates ``com.`` and ``net.`` with glue for a.gtld-servers.net. ``com.`` delegates
``example.com.`` to a.iana-servers.net; the gtld server also sends that server's address
(from its ``net.`` zone), but a careful resolver drops it — it is outside ``com.``'s
bailiwick — and looks a.iana-servers.net up through ``net.``, as real resolvers do.

``example.com.`` has what the lessons need: ``www`` (93.184.216.34), a CNAME (``web`` →
``www``) and a CNAME across zones (``docs`` → ``www.iana-servers.net.``), MX and TXT, a
large TXT (``big``) that does not fit 512 bytes (TC, then TCP), and — by not having it —
``nope.example.com`` for NXDOMAIN.
"""

from __future__ import annotations

from functools import cache

from .message import ResourceRecord
from .name import Name
from .zone import Zone, parse_zone


@cache
def _parsed(text: str, where: str) -> tuple[Name, tuple[ResourceRecord, ...]]:
    """The zone text parsed once per process (records are immutable)."""
    zone = parse_zone(text, where=where)
    return zone.origin, tuple(
        r for rrsets in zone.nodes.values() for rs in rrsets.values() for r in rs
    )


def _zone(text: str, where: str) -> Zone:
    """A fresh :class:`Zone` (zones are mutable) from the records parsed once: every world
    gets its own, without tokenising the master file again."""
    origin, records = _parsed(text, where)
    return Zone(origin, records)


ROOT_SERVER = ("a.root-servers.net", "198.41.0.4")
GTLD_SERVER = ("a.gtld-servers.net", "192.5.6.30")
IANA_SERVER = ("a.iana-servers.net", "199.43.135.53")
ISP_RESOLVER = "198.51.100.53"
WWW_ADDRESS = "93.184.216.34"

ROOT_ZONE = """\
$ORIGIN .
$TTL 518400
@                       86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. (
                                2026113000 1800 900 604800 86400 )
@                       IN NS a.root-servers.net.
com.                    172800 IN NS a.gtld-servers.net.
net.                    172800 IN NS a.gtld-servers.net.
; glue: the root also holds the addresses of the servers it delegates to
a.root-servers.net.     IN A 198.41.0.4
a.gtld-servers.net.     172800 IN A 192.5.6.30
"""

COM_ZONE = """\
$ORIGIN com.
$TTL 172800
@              900 IN SOA a.gtld-servers.net. nstld.verisign-grs.com. (
                       1764500000 1800 900 604800 900 )
@              IN NS a.gtld-servers.net.
example        IN NS a.iana-servers.net.
"""

NET_ZONE = """\
$ORIGIN net.
$TTL 172800
@                  900 IN SOA a.gtld-servers.net. nstld.verisign-grs.com. (
                           1764500000 1800 900 604800 900 )
@                  IN NS a.gtld-servers.net.
a.gtld-servers.net.   IN A 192.5.6.30
a.root-servers.net.   IN A 198.41.0.4
iana-servers       IN NS a.iana-servers.net.
a.iana-servers     IN A 199.43.135.53
"""

IANA_SERVERS_ZONE = """\
$ORIGIN iana-servers.net.
$TTL 3600
@      IN SOA a.iana-servers.net. hostmaster.iana.org. 2026113001 7200 3600 1209600 3600
@      IN NS a.iana-servers.net.
a      IN A 199.43.135.53
www    300 IN A 192.0.43.8
"""

EXAMPLE_COM_ZONE = """\
$ORIGIN example.com.
$TTL 86400
@      3600 IN SOA ns.icann.org. noc.dns.icann.org. (
               2026113001 ; serial
               7200       ; refresh
               3600       ; retry
               1209600    ; expire
               300 )      ; minimum: the negative TTL (RFC 2308)
@      IN NS a.iana-servers.net.
@      300 IN A 93.184.216.34
www    300 IN A 93.184.216.34
web    300 IN CNAME www            ; a CNAME inside the zone
docs   300 IN CNAME www.iana-servers.net.  ; a CNAME to another zone
@      IN MX 0 .                   ; "null MX": example.com takes no mail (RFC 7505)
@      IN TXT "v=spf1 -all"
big    60 IN TXT "This record is too large for a 512-byte UDP answer, so the server sets TC" (
               "and the resolver asks again over TCP (RFC 1035 4.2.1, RFC 7766)."
               {filler} )
"""


# 20 strings of 64 characters: about 1.4 kB, more than even the EDNS payload of 1232 bytes.
EXAMPLE_COM_ZONE = EXAMPLE_COM_ZONE.replace(
    "{filler}", "\n               ".join(['"' + "0123456789abcdef" * 4 + '"'] * 20)
)


def root_zone() -> Zone:
    return _zone(ROOT_ZONE, "root zone")


def com_zone() -> Zone:
    return _zone(COM_ZONE, "com zone")


def net_zone() -> Zone:
    return _zone(NET_ZONE, "net zone")


def iana_servers_zone() -> Zone:
    return _zone(IANA_SERVERS_ZONE, "iana-servers.net zone")


def example_com_zone() -> Zone:
    return _zone(EXAMPLE_COM_ZONE, "example.com zone")


def servers() -> dict[str, tuple[str, list[Zone]]]:
    """Host name → (address, zones it serves) for every authoritative server of the world."""
    return {
        ROOT_SERVER[0]: (ROOT_SERVER[1], [root_zone()]),
        GTLD_SERVER[0]: (GTLD_SERVER[1], [com_zone(), net_zone()]),
        IANA_SERVER[0]: (IANA_SERVER[1], [example_com_zone(), iana_servers_zone()]),
    }


def all_zones() -> list[Zone]:
    return [root_zone(), com_zone(), net_zone(), iana_servers_zone(), example_com_zone()]


ROOT_HINTS = [ROOT_SERVER]
