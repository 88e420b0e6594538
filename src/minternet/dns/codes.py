"""The numbers of DNS: record types, classes, opcodes and response codes, with names.

RFC 1035 §3.2.2–3.2.4 and §4.1.1, RFC 3596 (AAAA), RFC 6891 (OPT, extended rcodes).
Values that are not in an enum stay plain ints (a type we do not know is still a type, RFC
3597), and :func:`type_name` writes them ``TYPE65`` the way RFC 3597 §5 says.
"""

from __future__ import annotations

from enum import IntEnum


class RType(IntEnum):
    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    HINFO = 13
    MX = 15
    TXT = 16
    AAAA = 28
    SRV = 33
    OPT = 41
    DS = 43
    RRSIG = 46
    DNSKEY = 48
    HTTPS = 65
    AXFR = 252
    ANY = 255


class RClass(IntEnum):
    IN = 1
    CH = 3
    HS = 4
    NONE = 254
    ANY = 255


class Opcode(IntEnum):
    QUERY = 0
    IQUERY = 1
    STATUS = 2
    NOTIFY = 4
    UPDATE = 5


class Rcode(IntEnum):
    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    YXDOMAIN = 6
    YXRRSET = 7
    NXRRSET = 8
    NOTAUTH = 9
    NOTZONE = 10
    BADVERS = 16


_TYPES = {t.value: t for t in RType}
_CLASSES = {c.value: c for c in RClass}
_RCODES = {r.value: r for r in Rcode}


def type_name(t: int) -> str:
    known = _TYPES.get(t)
    return known.name if known is not None else f"TYPE{t}"


def class_name(c: int) -> str:
    known = _CLASSES.get(c)
    return known.name if known is not None else f"CLASS{c}"


def rcode_name(r: int) -> str:
    known = _RCODES.get(r)
    return known.name if known is not None else f"RCODE{r}"


def type_from_text(text: str) -> int:
    """``"AAAA"`` → 28, ``"TYPE65"`` → 65; raises ValueError for anything else."""
    up = text.upper()
    if up in RType.__members__:
        return int(RType[up])
    if up.startswith("TYPE") and up[4:].isdigit() and int(up[4:]) < 65536:
        return int(up[4:])
    raise ValueError(f"unknown record type {text!r}")
