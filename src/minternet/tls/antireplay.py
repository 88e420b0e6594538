"""Anti-replay for TLS 1.3 0-RTT data (RFC 8446 §8): ClientHello recording (§8.2) inside a
freshness window checked with the ticket age (§8.3).

0-RTT data is not protected against replay (§2.3, §8): whoever copies a ClientHello and
its early records can send them again, and the server that accepts them again acts twice.
RFC 8446 offers two guards:

- §8.1 single-use tickets: the server remembers every ticket used (or keeps per-ticket
  state it deletes on use). Our tickets are self-contained (sealed state, no server-side
  session store, see :mod:`minternet.tls.server13`), and one ticket may resume several
  connections; remembering used tickets means keeping every identity for the whole
  ticket lifetime (up to 7 days) — a store bounded only by the ticket lifetime.
- §8.2 ClientHello recording: the server records a value unique to each ClientHello (we
  use the PSK binder: an HMAC over the whole hello, random included) and accepts 0-RTT
  only from a hello it has not seen. To bound the record, §8.3 adds a freshness check:
  the client's ticket age (``obfuscated_ticket_age - ticket_age_add``) plus the time the
  ticket was issued gives the hello's *expected arrival time*; a hello that arrives more
  than ``window`` from it is refused 0-RTT (it may still resume, 1-RTT).

We do §8.2 + §8.3, because it fits stateless tickets and its store is bounded by the
window, not by the lifetime. The arithmetic that makes forgetting safe: a hello accepted
at ``now`` with expected arrival ``e`` satisfies ``|now - e| <= window``; a replay of the
same bytes carries the same ticket age, so the same ``e``, and after ``e + window`` it fails
the freshness check by itself — its record can go then, and not before. The store also
has a hard ``capacity``: when it is full of records that may not go yet, 0-RTT is refused
(fail closed) rather than forgetting one. Refusing 0-RTT never fails a connection: the
server skips the early records and the handshake goes on in 1-RTT (§4.2.10).

What this does not cover (§8, §8.2): the record lives in one server process; servers that
share a ticket key must share the store too, or an attacker replays to each of them once.
Also, like every such scheme, the first copy wins: an attacker who delays the client's
hello and sends it first is not stopped (§8.3 bounds how long it can be held).

Sans-IO: time comes in as milliseconds from the caller's clock.
"""

from __future__ import annotations

import heapq

from ..errors import ConfigError

__all__ = ["ClientHelloRecorder"]


class ClientHelloRecorder:
    """The ClientHellos whose 0-RTT data was accepted, remembered within the freshness
    window (RFC 8446 §8.2, §8.3); at most ``capacity`` at a time."""

    def __init__(self, window_ms: int = 10_000, capacity: int = 4096) -> None:
        if window_ms <= 0 or capacity <= 0:
            raise ConfigError("an anti-replay window and capacity must be positive")
        self.window_ms = window_ms
        self.capacity = capacity
        self._expiry: dict[bytes, int] = {}  # binder -> when it may be forgotten (ms)
        self._heap: list[tuple[int, bytes]] = []  # (expiry, binder), earliest first

    def __len__(self) -> int:
        return len(self._expiry)

    def _forget_expired(self, now_ms: int) -> None:
        while self._heap and self._heap[0][0] < now_ms:
            _, key = heapq.heappop(self._heap)
            self._expiry.pop(key, None)

    def admit(self, unique: bytes, issued_ms: int, client_age_ms: int, now_ms: int) -> str | None:
        """Record this ClientHello (``unique``: its PSK binder) and say whether its 0-RTT
        data may be accepted: None if so, else why not (for the trace).

        ``issued_ms``: when the ticket was issued by our clock; ``client_age_ms``: the ticket
        age the client claims (§4.2.11.1); ``now_ms``: our clock now.
        """
        expected = issued_ms + client_age_ms
        skew = now_ms - expected
        if abs(skew) > self.window_ms:
            return (
                f"ticket age off by {skew} ms, outside the {self.window_ms} ms freshness "
                "window (RFC 8446 §8.3)"
            )
        self._forget_expired(now_ms)
        if unique in self._expiry:
            return "this ClientHello was seen before: a replay (RFC 8446 §8.2)"
        if len(self._expiry) >= self.capacity:
            return f"the anti-replay store is full ({self.capacity} hellos in the window)"
        expiry = expected + self.window_ms  # >= now: see the module docstring
        self._expiry[unique] = expiry
        heapq.heappush(self._heap, (expiry, unique))
        return None
