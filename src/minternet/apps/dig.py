"""``dig`` in the simulated world: one query from the laptop, shown the way dig shows it.

:func:`dig` runs the exchange on a node (by default the laptop asking the ISP resolver,
recursion desired), and :func:`render` lays out the answer like dig. :func:`render_trace`
turns the resolver's trace events into a ``dig +trace``-like story: each server asked, what
it answered (referral, glue kept or dropped, answer), how long it took.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..dns import zones_builtin
from ..dns.codes import RType, type_name
from ..dns.message import Edns, make_query
from ..dns.name import Name
from ..errors import ConfigError
from ..node.api import NetworkStack
from ..trace.bus import TraceEvent
from .dns_transport import Exchange, exchange

SERVERS = {
    "resolver": zones_builtin.ISP_RESOLVER,
    **{host: addr for host, (addr, _z) in zones_builtin.servers().items()},
}


def server_address(server: str) -> str:
    """``resolver``, ``a.root-servers.net``… or a dotted quad."""
    s = server.lstrip("@")
    if s in SERVERS:
        return SERVERS[s]
    parts = s.split(".")
    if len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts):
        return s
    raise ConfigError(f"unknown server {server!r} (try one of: {', '.join(SERVERS)})")


def server_name(addr: str) -> str:
    for n, a in SERVERS.items():
        if a == addr:
            return n
    return addr


@dataclass(frozen=True, slots=True)
class DigResult:
    qname: Name
    qtype: int
    exchange: Exchange
    started: float
    ended: float


async def dig(
    stack: NetworkStack,
    qname: Name,
    qtype: int = RType.A,
    server: str = zones_builtin.ISP_RESOLVER,
    *,
    rd: bool = True,
    tcp: bool = False,
    timeout: float = 5.0,
    tries: int = 3,
) -> DigResult:
    """Ask ``server`` about ``qname``/``qtype`` from ``stack`` (dig's defaults: 5 s, 3 tries)."""
    query = make_query(qname, qtype, 0, rd=rd, edns=Edns(1232))
    started = stack.loop.now()
    ex = await exchange(
        stack, stack.random.child("dig"), query, (server, 53), timeout=timeout, tries=tries, tcp=tcp
    )
    return DigResult(qname, qtype, ex, started, stack.loop.now())


def render(result: DigResult, explanation: str | None = None) -> list[str]:
    ex = result.exchange
    head = f"; <<>> minternet dig <<>> {result.qname} {type_name(result.qtype)}"
    if ex.response is None:
        if ex.error and ex.transport == "tcp":
            return [head, f";; {ex.server[0]}#{ex.server[1]}: {ex.error}"]
        return [head, ";; connection timed out; no servers could be reached"]
    lines = [head, ";; Got answer:", *ex.response.to_text().split("\n"), ""]
    lines.append(f";; Query time: {ex.rtt * 1000:.0f} msec (virtual time)")
    name = server_name(ex.server[0])
    lines.append(f";; SERVER: {ex.server[0]}#{ex.server[1]}({name}) ({ex.transport.upper()})")
    lines.append(f";; MSG SIZE  rcvd: {len(ex.wire)}")
    if ex.truncated_first:
        lines.append(";; Truncated (TC) over UDP, retried over TCP")
    if explanation:
        lines.append(f";; {name}: {explanation}")
    return lines


def _records(fields: dict[str, Any], key: str) -> list[str]:
    out = []
    for text in fields.get(key, []):
        owner, ttl, rclass, rtype, *rdata = str(text).split(" ", 4)
        pad = "\t" * max(1, 3 - len(owner) // 8)
        out.append(f"{owner}{pad}{ttl}\t{rclass}\t{rtype}\t{' '.join(rdata)}")
    return out


def render_trace(events: list[TraceEvent], node: str = "resolver") -> list[str]:
    """The resolver's walk, like ``dig +trace``: records, then who sent them and when."""
    lines: list[str] = []
    for e in events:
        if e.node != node or e.layer != "dns":
            continue
        f = e.fields
        if e.kind == "cache" and f.get("hit"):
            what = f.get("negative") or f"{f.get('qtype')}"
            lines.append(f";; {f['name']} {what}: from the resolver's cache ({f['ttl']} s left)")
        elif e.kind == "lookup-ns":
            lines.append(f";; {f['server']} has no address in bailiwick: resolving it first")
        elif e.kind == "response":
            if lines and lines[-1] != "":
                lines.append("")
            lines += _records(f, "answers") + _records(f, "authority")
            if f.get("additional"):
                lines += [";; additional: " + a for a in f["additional"]]
            lines.append(
                f";; Received {f['bytes']} bytes from {f['address']}#53"
                f"({server_name(str(f['address']))}) in {f['rtt_ms']:.1f} ms"
                f" [{f['rcode']}, {', '.join(f['flags'])}, {str(f['transport']).upper()}]"
            )
        elif e.kind == "referral":
            lines.append("")
        elif e.kind == "scrub":
            lines += [f";; dropped ({e.why}): {d}" for d in f["dropped"]]
        elif e.kind == "timeout":
            lines.append(f";; no answer from {f['server']} ({e.why or 'timeout'})")
        elif e.kind == "truncated":
            lines.append(f";; {e.why}")
        elif e.kind == "ignored":
            lines.append(f";; ignored a datagram {f['from']}: {e.why}")
        elif e.kind == "resolved":
            lines.append(f";; resolved: {e.why}")
            lines.append("")
    return lines


def _ms(t: float) -> str:
    return f"{t * 1000:10.3f} ms"


def render_timeline(events: list[TraceEvent]) -> list[str]:
    """Phase 1 of a page load, one line per step: the laptop's layers, then the resolver's
    walk, then the answer — times in virtual milliseconds."""
    lines: list[str] = []
    for e in events:
        if e.layer != "dns":
            continue
        f = e.fields
        t = _ms(e.time)
        who = f"{e.node:<20}"
        if e.kind == "lookup":
            layer = str(f.get("layer"))
            label = {"browser-cache": "browser cache", "os-cache": "OS cache",
                     "hosts": "hosts file"}.get(layer)  # fmt: skip
            if label is not None:
                if f.get("hit"):
                    what = f.get("negative") or ", ".join(map(str, f.get("addresses", [])))
                    ttl = f" (TTL {f['ttl']} s left)" if "ttl" in f else ""
                    lines.append(f"{t}  {who}{label}: hit {f['name']} {what}{ttl}")
                else:
                    lines.append(f"{t}  {who}{label}: miss {f['name']} {f['qtype']}")
            elif "rcode" in f:
                answers = "; ".join(map(str, f.get("answers", []))) or "no records"
                lines.append(f"{t}  {who}<- {f['server']}: {f['rcode']}, {answers}")
            elif "timeout" in f:
                lines.append(f"{t}  {who}no answer from {f['server']} in {f['timeout']} s")
            else:
                lines.append(f"{t}  {who}-> asks the name server {f['server']} (recursion desired)")
        elif e.kind == "query" and "zone" in f:
            lines.append(
                f"{t}  {who}-> {f['server']}: {f['qname']} {f['qtype']}? "
                f"(id {f['id']}, port {f['sport']}, {str(f['transport']).upper()})"
            )
        elif e.kind == "referral":
            glue = ", ".join(g.split()[-1] for g in f.get("glue", [])) or "no usable glue"
            lines.append(f"{t}  {who}<- referral to {f['to']} {', '.join(f['ns'])} ({glue})")
        elif e.kind == "response" and "aa" in f.get("flags", []):
            answers = "; ".join(map(str, f.get("answers", []))) or "no records"
            lines.append(f"{t}  {who}<- {f['server']}: {f['rcode']} (authoritative), {answers}")
        elif e.kind == "resolved":
            lines.append(f"{t}  {who}{e.why}")
        elif e.kind == "scrub":
            for d in f.get("dropped", []):
                lines.append(f"{t}  {who}dropped {d} ({e.why})")
        elif e.kind == "lookup-ns":
            lines.append(f"{t}  {who}{f['server']} has no trusted address: resolving it first")
        elif e.kind in ("timeout", "truncated", "fallback", "ignored"):
            lines.append(f"{t}  {who}{e.kind}: {e.why or f}")
    return lines
