"""``traceroute`` with ICMP echo probes (like ``traceroute -I`` / Windows ``tracert``).

Probes go out with TTL 1, 2, 3 …; the router at which the TTL runs out drops the probe and
answers ICMP time exceeded from its own address (RFC 1812 §5.3.1), which names the hop. The
destination answers with an echo reply, and the trace ends there. Each probe carries its own
sequence number, so answers are matched to probes through the quoted header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ip import icmp
from ..ip.icmp import IcmpMessage
from ..loop import LoopTimeout
from ..node.host import Host


@dataclass(slots=True)
class Probe:
    ttl: int
    sequence: int
    sent_at: float
    rtt: float | None = None
    source: str | None = None
    kind: str | None = None  # "time-exceeded", "echo-reply", "unreachable"


@dataclass(slots=True)
class Hop:
    ttl: int
    probes: list[Probe] = field(default_factory=list)

    @property
    def address(self) -> str | None:
        return next((p.source for p in self.probes if p.source), None)

    @property
    def reached(self) -> bool:
        return any(p.kind in ("echo-reply", "unreachable") for p in self.probes)


@dataclass(slots=True)
class TracerouteResult:
    target: str
    hops: list[Hop] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return bool(self.hops) and self.hops[-1].reached

    def as_dict(self, names: dict[str, str] | None = None) -> dict[str, Any]:
        names = names or {}
        return {
            "target": self.target,
            "reached": self.reached,
            "hops": [
                {
                    "ttl": h.ttl,
                    "address": h.address,
                    "name": names.get(h.address or ""),
                    "rtt_ms": [None if p.rtt is None else p.rtt * 1000 for p in h.probes],
                    "kind": next((p.kind for p in h.probes if p.kind), None),
                }
                for h in self.hops
            ],
        }


async def traceroute(
    host: Host,
    target: str,
    *,
    max_hops: int = 30,
    probes: int = 3,
    timeout: float = 2.0,
) -> TracerouteResult:
    """Probe hop by hop until ``target`` answers or ``max_hops`` is reached."""
    loop = host.loop
    ident = host.random.child("traceroute").randint(1, 0xFFFF)
    sock = host.icmp_socket()
    result = TracerouteResult(target)
    by_seq: dict[int, Probe] = {}
    seq = 0
    try:
        for ttl in range(1, max_hops + 1):
            hop = Hop(ttl)
            result.hops.append(hop)
            for _ in range(probes):
                seq += 1
                probe = Probe(ttl, seq, loop.now())
                by_seq[seq] = probe
                hop.probes.append(probe)
                sock.send(target, IcmpMessage.echo_request(ident, seq, bytes(32)), ttl=ttl)
                deadline = loop.now() + timeout
                while probe.rtt is None and loop.now() < deadline:
                    try:
                        packet, msg = await sock.recv(timeout=deadline - loop.now())
                    except LoopTimeout:  # this probe stays unanswered: "*"
                        break
                    matched = _match(ident, msg, by_seq)
                    if matched is None or matched.rtt is not None:
                        continue
                    matched.rtt = loop.now() - matched.sent_at
                    matched.source = packet.src
                    if msg.type == icmp.ECHO_REPLY:
                        matched.kind = "echo-reply"
                    elif msg.type == icmp.TIME_EXCEEDED:
                        matched.kind = "time-exceeded"
                    else:
                        matched.kind = "unreachable"
            if hop.reached:
                break
    finally:
        sock.close()
    return result


def _match(ident: int, msg: IcmpMessage, by_seq: dict[int, Probe]) -> Probe | None:
    if msg.type == icmp.ECHO_REPLY:
        return by_seq.get(msg.sequence) if msg.identifier == ident else None
    if msg.type in (icmp.TIME_EXCEEDED, icmp.DEST_UNREACHABLE):
        q = msg.quoted()
        if q is None or q.protocol != 1 or len(q.payload) < 8:
            return None
        if int.from_bytes(q.payload[4:6], "big") != ident:
            return None
        return by_seq.get(int.from_bytes(q.payload[6:8], "big"))
    return None
