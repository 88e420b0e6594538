"""DNS: the codec (names, RDATA, messages), zones, cache, stub and recursive resolution.

All sans-IO: nothing here imports the loop, a node or a socket. Public names are
re-exported here; the exchange, the serve loop and the servers and resolvers on a stack live in
:mod:`minternet.apps` (``dns_transport``, ``dns_authoritative``, ``dns_recursive``,
``dns_stub``).
"""

from __future__ import annotations

from .authoritative import AuthoritativeServer
from .cache import DnsCache
from .codes import Opcode, RClass, Rcode, RType, class_name, rcode_name, type_from_text, type_name
from .hosts import HostsFile
from .message import Edns, Header, Message, Question, ResourceRecord, make_query, peek_header, rr
from .name import ROOT, BadName, Name, decode_name, encode_name, name
from .rdata import AAAA, CNAME, MX, NS, PTR, SOA, TXT, A, Rdata, Unknown, decode_rdata
from .resolution import Resolution, Resolved, ResolverConfig
from .stub import ResolvConf, Stub, StubAnswer, StubLookup
from .zone import Zone, parse_zone

__all__ = [
    "AAAA",
    "CNAME",
    "MX",
    "NS",
    "PTR",
    "ROOT",
    "SOA",
    "TXT",
    "A",
    "AuthoritativeServer",
    "BadName",
    "DnsCache",
    "Edns",
    "Header",
    "HostsFile",
    "Message",
    "Name",
    "Opcode",
    "Question",
    "RClass",
    "RType",
    "Rcode",
    "Rdata",
    "Resolution",
    "ResolvConf",
    "Resolved",
    "ResolverConfig",
    "ResourceRecord",
    "Stub",
    "StubAnswer",
    "StubLookup",
    "Unknown",
    "Zone",
    "class_name",
    "decode_name",
    "decode_rdata",
    "encode_name",
    "make_query",
    "name",
    "parse_zone",
    "peek_header",
    "rcode_name",
    "rr",
    "type_from_text",
    "type_name",
]
