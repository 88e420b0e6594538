"""``ping``: ICMP echo requests and their replies (RFC 792), measured on the node's clock.

Each request carries the sequence number and a payload; a reply with our identifier and a
sequence we sent is matched (late and duplicate replies are counted, not double-counted).
The reply's TTL is reported: 64 minus the routers on the way back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ip import icmp
from ..ip.icmp import IcmpMessage
from ..node.host import Host


@dataclass(slots=True)
class EchoResult:
    sequence: int
    sent_at: float
    rtt: float | None = None  # seconds; None: no reply in time
    ttl: int | None = None
    source: str | None = None
    error: str | None = None  # an ICMP error instead of a reply
    bytes: int = 0
    duplicates: int = 0


@dataclass(slots=True)
class PingResult:
    target: str
    count: int
    size: int
    replies: list[EchoResult] = field(default_factory=list)

    @property
    def received(self) -> int:
        return sum(1 for r in self.replies if r.rtt is not None)

    @property
    def loss(self) -> float:
        return 1.0 - self.received / self.count if self.count else 0.0

    def rtts(self) -> list[float]:
        return [r.rtt for r in self.replies if r.rtt is not None]

    def as_dict(self) -> dict[str, Any]:
        rtts = self.rtts()
        return {
            "target": self.target,
            "transmitted": self.count,
            "received": self.received,
            "loss": self.loss,
            "rtt_ms": {
                "min": min(rtts) * 1000 if rtts else None,
                "avg": sum(rtts) / len(rtts) * 1000 if rtts else None,
                "max": max(rtts) * 1000 if rtts else None,
            },
            "replies": [
                {
                    "seq": r.sequence,
                    "rtt_ms": None if r.rtt is None else r.rtt * 1000,
                    "ttl": r.ttl,
                    "from": r.source,
                    "bytes": r.bytes,
                    "error": r.error,
                    "duplicates": r.duplicates,
                }
                for r in self.replies
            ],
        }


async def ping(
    host: Host,
    target: str,
    *,
    count: int = 4,
    interval: float = 1.0,
    timeout: float = 2.0,
    size: int = 56,
    ttl: int | None = None,
) -> PingResult:
    """Send ``count`` echo requests to ``target`` every ``interval`` s; wait ``timeout`` s
    after the last one for stragglers."""
    loop = host.loop
    ident = host.random.child("ping").randint(1, 0xFFFF)
    sock = host.icmp_socket()
    result = PingResult(target, count, size)
    by_seq: dict[int, EchoResult] = {}
    pattern = bytes(i & 0xFF for i in range(size))

    async def receiver() -> None:
        while True:
            packet, msg = await sock.recv()
            if msg.type == icmp.ECHO_REPLY and msg.identifier == ident:
                r = by_seq.get(msg.sequence)
                if r is None:
                    continue
                if r.rtt is not None:
                    r.duplicates += 1
                    continue
                r.rtt = loop.now() - r.sent_at
                r.ttl = packet.ttl
                r.source = packet.src
                r.bytes = len(msg.payload) + 8
            elif msg.is_error:
                q = msg.quoted()
                if q is None or q.protocol != 1 or len(q.payload) < 8:
                    continue
                if int.from_bytes(q.payload[4:6], "big") != ident:
                    continue
                r = by_seq.get(int.from_bytes(q.payload[6:8], "big"))
                if r is not None and r.rtt is None:
                    r.error = f"{msg} from {packet.src}"
                    r.source = packet.src

    task = loop.create_task(receiver(), name=f"ping-receiver@{host.name}")
    try:
        for seq in range(1, count + 1):
            r = EchoResult(seq, loop.now())
            by_seq[seq] = r
            result.replies.append(r)
            sock.send(target, IcmpMessage.echo_request(ident, seq, pattern), ttl=ttl)
            if seq < count:
                await loop.sleep(interval)
        await loop.sleep(timeout)
    finally:
        task.cancel()
        sock.close()
    return result  # replies later than ``timeout`` after the last request are not counted


__all__ = ["EchoResult", "PingResult", "ping"]
