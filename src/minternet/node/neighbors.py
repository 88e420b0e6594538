"""The ARP cache (RFC 826, RFC 1122 §2.3.2): IPv4 → MAC per interface, with timeouts and a
queue of packets waiting for resolution.

A packet for a next hop whose MAC is unknown waits (at most ``queue_limit`` per next hop,
RFC 1122 §2.3.2.2 says "at least one") while ARP requests go out every
``retry_interval`` seconds; after ``retries`` unanswered requests the queued packets are
handed back to :attr:`on_give_up` so the host can drop them (counted: "no ARP answer") and
answer with ICMP host unreachable. Entries expire ``timeout`` seconds after they were
learnt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..loop import EventLoop, Timer

Pending = tuple[bytes, int | None, str | None]  # IP packet bytes, packet id, frame comment


@dataclass(slots=True)
class _Resolution:
    iface: str
    ip: str
    packets: list[Pending] = field(default_factory=list)
    tries: int = 0
    timer: Timer | None = None


class ArpCache:
    def __init__(
        self,
        loop: EventLoop,
        send_request: Callable[[str, str], None],
        on_give_up: Callable[[str, str, list[Pending]], None],
        *,
        timeout: float = 60.0,
        retries: int = 3,
        retry_interval: float = 1.0,
        queue_limit: int = 16,
    ) -> None:
        self.loop = loop
        self.send_request = send_request
        self.on_give_up = on_give_up
        self.timeout = timeout
        self.retries = retries
        self.retry_interval = retry_interval
        self.queue_limit = queue_limit
        self._entries: dict[tuple[str, str], tuple[str, float]] = {}
        self._pending: dict[tuple[str, str], _Resolution] = {}
        # Counts the changes to the entries (learnt, replaced, expired on lookup): a cache
        # of lookups (a router's fast path) that also honours the expiry time it saw
        # answers exactly what :meth:`lookup` would while this stays the same.
        self.generation = 0

    def lookup(self, iface: str, ip: str) -> str | None:
        """The MAC of ``ip`` on ``iface``, or None; an expired entry is removed."""
        e = self._entries.get((iface, ip))
        if e is None:
            return None
        if e[1] <= self.loop.now():
            del self._entries[(iface, ip)]
            self.generation += 1
            return None
        return e[0]

    def expires(self, iface: str, ip: str) -> float:
        """When the entry of ``ip`` on ``iface`` (which :meth:`lookup` just answered)
        expires: until then, and while :attr:`generation` stays the same, lookup gives the
        same answer and changes nothing."""
        return self._entries[(iface, ip)][1]

    def entries(self) -> dict[tuple[str, str], str]:
        now = self.loop.now()
        return {k: mac for k, (mac, exp) in sorted(self._entries.items()) if exp > now}

    def has(self, iface: str, ip: str) -> bool:
        return (iface, ip) in self._entries

    def learn(self, iface: str, ip: str, mac: str) -> list[Pending]:
        """Record ``ip is-at mac``; returns the packets that were waiting for it."""
        self._entries[(iface, ip)] = (mac, self.loop.now() + self.timeout)
        self.generation += 1
        res = self._pending.pop((iface, ip), None)
        if res is None:
            return []
        if res.timer is not None:
            res.timer.cancel()
        return res.packets

    def enqueue(self, iface: str, ip: str, packet: Pending) -> bool:
        """Queue a packet for an unresolved next hop; False if the queue is full."""
        key = (iface, ip)
        res = self._pending.get(key)
        if res is None:
            res = self._pending[key] = _Resolution(iface, ip)
            self._ask(res)
        if len(res.packets) >= self.queue_limit:
            return False
        res.packets.append(packet)
        return True

    def _ask(self, res: _Resolution) -> None:
        if res.tries >= self.retries:
            del self._pending[(res.iface, res.ip)]
            self.on_give_up(res.iface, res.ip, res.packets)
            return
        res.tries += 1
        self.send_request(res.iface, res.ip)
        res.timer = self.loop.call_later(self.retry_interval, self._ask, res)
