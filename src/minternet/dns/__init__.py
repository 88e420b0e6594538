"""DNS: the codec (names, RDATA, messages), zones, cache, stub and recursive resolution.

Public names are re-exported here; the servers live in :mod:`minternet.apps`.
"""

from __future__ import annotations

from .codes import Opcode, RClass, Rcode, RType, class_name, rcode_name, type_from_text, type_name
from .message import Edns, Header, Message, Question, ResourceRecord, make_query, peek_header, rr
from .name import ROOT, BadName, Name, decode_name, encode_name, name
from .rdata import AAAA, CNAME, MX, NS, PTR, SOA, TXT, A, Rdata, Unknown, decode_rdata

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
    "BadName",
    "Edns",
    "Header",
    "Message",
    "Name",
    "Opcode",
    "Question",
    "RClass",
    "RType",
    "Rcode",
    "Rdata",
    "ResourceRecord",
    "Unknown",
    "class_name",
    "decode_name",
    "decode_rdata",
    "encode_name",
    "make_query",
    "name",
    "peek_header",
    "rcode_name",
    "rr",
    "type_from_text",
    "type_name",
]
