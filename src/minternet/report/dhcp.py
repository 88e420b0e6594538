"""How the laptop joined the network, as typed facts read once from the run's ``dhcp``
trace events (node/dhcp.py), and their renderings: the story's "before phase 1" lines,
the JSON's ``dhcp`` section and the ``dhcp-conflict`` paragraph.

:func:`dhcp_facts` gives a :class:`DhcpFacts`: every DHCP message sent (by either end,
with its fields), the RFC 5227 probes and announcements, conflicts, the server's decisions,
the client's state changes and the lease it configured. Renderers read only these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..trace.bus import TraceEvent


@dataclass(frozen=True, slots=True)
class DhcpMessageFact:
    """One DHCP message as its sender put it on the wire."""

    seq: int  # the event's place in the run (orders same-time lines)
    time: float
    node: str
    role: str  # "client" | "server"
    type: str  # "DHCPDISCOVER" …
    xid: int
    flags: int
    ciaddr: str
    yiaddr: str
    src: str
    dst: str
    link_mac: str | None  # a server's reply sent straight to this MAC (no ARP)
    requested_ip: str | None
    server_id: str | None
    subnet_mask: str | None
    routers: tuple[str, ...]
    dns_servers: tuple[str, ...]
    domain_name: str | None
    lease_time: int | None
    renewal_time: int | None
    rebinding_time: int | None
    options: tuple[int, ...]
    fields: str  # every field, one line (``-v``)

    @property
    def broadcast_flag(self) -> bool:
        return bool(self.flags & 0x8000)


@dataclass(frozen=True, slots=True)
class ArpCheck:
    """An RFC 5227 probe (sender 0.0.0.0) or announcement (sender = target) of ``node``."""

    seq: int  # the event's place in the run (orders same-time lines)
    time: float
    node: str
    kind: str  # "probe" | "announce" | "defend" (RFC 5227 §2.4: one announcement)
    address: str
    number: int


@dataclass(frozen=True, slots=True)
class AddressConflict:
    seq: int  # the event's place in the run (orders same-time lines)
    time: float
    node: str
    address: str
    mac: str  # who holds it
    how: str
    holder: str | None  # the node with that MAC, if the run knows it


@dataclass(frozen=True, slots=True)
class ServerDecision:
    seq: int  # the event's place in the run (orders same-time lines)
    time: float
    node: str
    event: str  # offer, ack, nak, decline, release, inform, withdrawn, ignored
    address: str | None
    note: str


@dataclass(frozen=True, slots=True)
class ClientState:
    seq: int  # the event's place in the run (orders same-time lines)
    time: float
    node: str
    old: str
    new: str
    why: str


@dataclass(frozen=True, slots=True)
class LeaseFact:
    """What the client put on its interface."""

    seq: int  # the event's place in the run (orders same-time lines)
    time: float
    node: str
    iface: str
    address: str
    prefix_len: int
    routers: tuple[str, ...]
    dns_servers: tuple[str, ...]
    domain_name: str | None
    lease_time: int
    server_id: str
    t1: float
    t2: float
    expires: float


@dataclass(frozen=True, slots=True)
class DhcpFacts:
    messages: tuple[DhcpMessageFact, ...]
    checks: tuple[ArpCheck, ...]
    conflicts: tuple[AddressConflict, ...]
    decisions: tuple[ServerDecision, ...]
    states: tuple[ClientState, ...]
    lease: LeaseFact | None  # the client's lease (the last configured)
    ack: DhcpMessageFact | None  # the DHCPACK that gave it

    @property
    def happened(self) -> bool:
        return bool(self.messages)

    @property
    def start(self) -> float | None:
        return self.messages[0].time if self.messages else None

    @property
    def end(self) -> float | None:
        return self.lease.time if self.lease is not None else None


EMPTY_DHCP = DhcpFacts((), (), (), (), (), None, None)  # a run without DHCP


def _tuple(v: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in v) if isinstance(v, list | tuple) else ()


def _message(i: int, e: TraceEvent) -> DhcpMessageFact:
    f = e.fields
    return DhcpMessageFact(
        i,
        e.time,
        e.node,
        str(f.get("role")),
        str(f.get("type")),
        int(f.get("xid", 0)),
        int(f.get("flags", 0)),
        str(f.get("ciaddr")),
        str(f.get("yiaddr")),
        str(f.get("src")),
        str(f.get("dst")),
        f.get("link_mac"),
        f.get("requested_ip"),
        f.get("server_id"),
        f.get("subnet_mask"),
        _tuple(f.get("routers")),
        _tuple(f.get("dns_servers")),
        f.get("domain_name"),
        f.get("lease_time"),
        f.get("renewal_time"),
        f.get("rebinding_time"),
        tuple(int(c) for c in f.get("options", ())),
        str(f.get("describe", "")),
    )


def dhcp_facts(
    events: Iterable[TraceEvent], client_node: str, macs: dict[str, str] | None = None
) -> DhcpFacts:
    """The DHCP of a run, as seen by ``client_node``'s client and the servers; ``macs``
    names the node of a MAC address (who holds a conflicting address)."""
    messages: list[DhcpMessageFact] = []
    checks: list[ArpCheck] = []
    conflicts: list[AddressConflict] = []
    decisions: list[ServerDecision] = []
    states: list[ClientState] = []
    lease: LeaseFact | None = None
    ack: DhcpMessageFact | None = None
    for i, e in enumerate(events):
        if e.layer != "dhcp":
            continue
        f = e.fields
        if e.kind == "send" and "type" in f:
            m = _message(i, e)
            if m.role == "server" or e.node == client_node:
                messages.append(m)
        elif e.kind in ("probe", "announce", "defend") and e.node == client_node:
            addr = str(f.get("target") or f.get("address"))
            checks.append(ArpCheck(i, e.time, e.node, e.kind, addr, int(f.get("number", 0))))
        elif e.kind == "conflict" and e.node == client_node:
            mac = str(f.get("mac"))
            conflicts.append(
                AddressConflict(
                    i,
                    e.time,
                    e.node,
                    str(f.get("address")),
                    mac,
                    str(f.get("how")),
                    (macs or {}).get(mac),
                )
            )
        elif e.kind == "lease":
            decisions.append(
                ServerDecision(
                    i,
                    e.time,
                    e.node,
                    str(f.get("event")),
                    f.get("address"),
                    str(f.get("note") or ""),
                )
            )
        elif e.kind == "state" and e.node == client_node:
            states.append(
                ClientState(
                    i, e.time, e.node, str(f.get("old")), str(f.get("new")), str(e.why or "")
                )
            )
        elif e.kind == "configure" and e.node == client_node:
            lease = LeaseFact(
                i,
                e.time,
                e.node,
                str(e.iface),
                str(f.get("address")),
                int(f.get("prefix_len", 0)),
                _tuple(f.get("routers")),
                _tuple(f.get("dns_servers")),
                f.get("domain_name"),
                int(f.get("lease_time", 0)),
                str(f.get("server_id")),
                float(f.get("t1", 0)),
                float(f.get("t2", 0)),
                float(f.get("expires", 0)),
            )
            acks = [m for m in messages if m.type == "DHCPACK" and m.yiaddr == lease.address]
            ack = acks[-1] if acks else None
    return DhcpFacts(
        tuple(messages),
        tuple(checks),
        tuple(conflicts),
        tuple(decisions),
        tuple(states),
        lease,
        ack,
    )


# -- renderings -------------------------------------------------------------------------------
def _where(m: DhcpMessageFact) -> str:
    if m.dst == "255.255.255.255":
        return "broadcast"
    if m.link_mac:
        return f"unicast to {m.link_mac}, no ARP"
    return f"unicast to {m.dst}"


def _config(m: DhcpMessageFact) -> str:
    parts = []
    if m.routers:
        parts.append(f"router {', '.join(m.routers)}")
    if m.dns_servers:
        parts.append(f"DNS server {', '.join(m.dns_servers)}")
    if m.domain_name:
        parts.append(f"domain {m.domain_name}")
    if m.lease_time is not None:
        parts.append(f"lease {m.lease_time} s")
    return ", ".join(parts)


def message_line(m: DhcpMessageFact, first: bool = False) -> str:
    """One line per DHCP message (RFC 2131 §3.1's exchange); ``-v`` adds every field."""
    t, how = m.type, _where(m)
    if t == "DHCPDISCOVER":
        wait = f" (after a random {m.time:.3f} s wait, RFC 2131 §4.4.1)" if first else ""
        return f"{t} ({how}, from 0.0.0.0): who can lend me an address?{wait}"
    if t == "DHCPOFFER":
        return f"{t} ({how}): {m.yiaddr} — {_config(m)}"
    if t == "DHCPREQUEST" and m.server_id is not None:
        return f"{t} ({how}): {m.requested_ip} from server {m.server_id}, please"
    if t == "DHCPREQUEST" and m.ciaddr == "0.0.0.0":
        return f"{t} ({how}): may I keep {m.requested_ip}? (INIT-REBOOT, RFC 2131 §4.4.2)"
    if t == "DHCPREQUEST":
        return f"{t} ({how}): renew {m.ciaddr}"
    if t == "DHCPACK":
        mask = f" (mask {m.subnet_mask})" if m.subnet_mask else ""
        return f"{t} ({how}): {m.yiaddr}{mask} is yours — {_config(m)}"
    if t == "DHCPNAK":
        return f"{t} ({how}): refused"
    if t == "DHCPDECLINE":
        return f"{t} ({how}): {m.requested_ip} is taken by another device; not using it"
    if t == "DHCPRELEASE":
        return f"{t} ({how}): {m.ciaddr} given back"
    return f"{t} ({how})"


def check_line(c: ArpCheck) -> str:
    if c.kind == "probe":
        return f"ARP probe {c.number}/3 (RFC 5227): who has {c.address}? tell 0.0.0.0"
    if c.kind == "defend":
        return f"ARP announcement (RFC 5227 §2.4): {c.address} is mine — defended once"
    return f"ARP announcement {c.number}/2 (RFC 5227): {c.address} is mine"


def conflict_line(c: AddressConflict) -> str:
    who = f"{c.holder} ({c.mac})" if c.holder else c.mac
    return f"conflict: {who} {c.how} — {c.address} is already in use"


def lease_line(lease: LeaseFact) -> str:
    router = lease.routers[0] if lease.routers else "none"
    dns = ", ".join(lease.dns_servers) or "none"
    return (
        f"no answer, so {lease.address} is free: {lease.iface} = "
        f"{lease.address}/{lease.prefix_len}, default route via {router}, DNS server {dns}"
    )


def story_items(facts: DhcpFacts) -> list[tuple[float, str, str, list[str]]]:
    """(time, node, text, verbose fields) of the joining section, in the run's order."""
    items: list[tuple[int, float, str, str, list[str]]] = []
    for i, m in enumerate(facts.messages):
        items.append((m.seq, m.time, m.node, message_line(m, first=i == 0), [m.fields]))
    if facts.lease is not None:  # before the announcement made at the same instant
        lease = facts.lease
        items.append((lease.seq, lease.time, lease.node, lease_line(lease), []))
    for c in facts.checks:
        items.append((c.seq, c.time, c.node, check_line(c), []))
    for k in facts.conflicts:
        items.append((k.seq, k.time, k.node, conflict_line(k), []))
    for d in facts.decisions:
        if d.event == "decline":
            text = f"marks {d.address} unusable (DHCPDECLINE)"
            items.append((d.seq, d.time, d.node, text, []))
    for s in facts.states:
        if s.new == "INIT" and "in use" in s.why:
            items.append((s.seq, s.time, s.node, f"back to INIT: {s.why}", []))
    items.sort(key=lambda it: it[0])
    return [it[1:] for it in items]


def dns_origin(facts: DhcpFacts, server: str) -> str | None:
    """Where the laptop's DNS server came from, if DHCP gave it."""
    lease, ack = facts.lease, facts.ack
    if lease is None or server not in lease.dns_servers:
        return None
    by = f" from {ack.node} ({lease.server_id})" if ack is not None else ""
    at = f" at {ack.time:.6f} s" if ack is not None else ""
    return f"configured by DHCP: option 6 (DNS server) of the DHCPACK{by}{at}"


def summary(facts: DhcpFacts) -> dict[str, Any] | None:
    """The JSON's ``dhcp`` section."""
    if not facts.happened:
        return None
    lease = facts.lease
    return {
        "messages": [
            {
                "time": round(m.time, 6),
                "node": m.node,
                "type": m.type,
                "xid": m.xid,
                "flags": m.flags,
                "src": m.src,
                "dst": m.dst,
                "ciaddr": m.ciaddr,
                "yiaddr": m.yiaddr,
                "options": list(m.options),
            }
            for m in facts.messages
        ],
        "probes": [
            {"time": round(c.time, 6), "kind": c.kind, "address": c.address} for c in facts.checks
        ],
        "conflicts": [
            {"time": round(c.time, 6), "address": c.address, "mac": c.mac} for c in facts.conflicts
        ],
        "lease": None
        if lease is None
        else {
            "address": f"{lease.address}/{lease.prefix_len}",
            "routers": list(lease.routers),
            "dns_servers": list(lease.dns_servers),
            "domain_name": lease.domain_name,
            "lease_time": lease.lease_time,
            "server_id": lease.server_id,
            "t1": round(lease.t1, 6),
            "t2": round(lease.t2, 6),
            "expires": round(lease.expires, 6),
            "configured": round(lease.time, 6),
        },
    }


def conflict_paragraph(facts: DhcpFacts) -> str | None:
    """The ``dhcp-conflict`` story's closing words; None if nothing conflicted."""
    if not facts.conflicts:
        return None
    c = facts.conflicts[0]
    lease = facts.lease
    after = (
        f"After waiting (RFC 2131 §3.1: at least ten seconds) it asked again and was offered "
        f"{lease.address}, which no one answered for; it configured that address and the "
        "fetch went on from it."
        if lease is not None
        else "It never got another address."
    )
    who = f"{c.holder}, {c.mac}" if c.holder else c.mac
    return (
        f"The home router's DHCP server offered {c.address}, but another device on the LAN "
        f"({who}) already uses it — it was configured by hand, outside DHCP, so the server "
        f"did not know. Before using the address the laptop asked by ARP who has it, with "
        f"sender 0.0.0.0 (RFC 5227), and that device answered. Had the laptop taken "
        f"{c.address} anyway, both would lose packets to each other's ARP replies. So it "
        f"sent DHCPDECLINE, and the server marked {c.address} unusable. {after}"
    )
