"""Faults a carrier can inject: loss, reordering, duplication, corruption, extra latency.

:class:`Faults` says how likely each is; :func:`impair` is the one rule by which every
simulated carrier — each :class:`~minternet.sim.link.Link` and the TCP test
:class:`~minternet.sim.wire.Wire` — applies them to a frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..randomness import RandomSource


@dataclass(frozen=True, slots=True)
class Faults:
    """Per-link (or world-wide) fault settings; probabilities are per frame, in [0, 1]."""

    loss: float = 0.0
    reorder: float = 0.0
    duplicate: float = 0.0
    corrupt: float = 0.0
    latency: float = 0.0  # extra one-way latency in seconds, added to the link's own

    def __post_init__(self) -> None:
        for name in ("loss", "reorder", "duplicate", "corrupt"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], not {p}")
        if self.latency < 0:
            raise ValueError(f"latency must be >= 0, not {self.latency}")

    @property
    def any(self) -> bool:
        return bool(self.loss or self.reorder or self.duplicate or self.corrupt or self.latency)


@dataclass(frozen=True, slots=True)
class Fate:
    """What the faults did to one frame that was not lost.

    ``data`` is what arrives (with one bit flipped if ``flipped_bit`` is not None: bit
    ``flipped_bit & 7`` of byte ``flipped_bit >> 3``, counted from the most significant);
    ``hold`` is the extra delay of a reordered frame (0.0 if it was not); ``duplicate`` says
    whether a copy follows it.
    """

    data: bytes
    flipped_bit: int | None
    hold: float
    duplicate: bool


def impair(
    faults: Faults, random: RandomSource, data: bytes, *, delay: float, protect: int = 0
) -> Fate | None:
    """Apply ``faults`` to one frame: None if it is lost, else its :class:`Fate`.

    The one rule every simulated carrier follows (links and the TCP test wire), drawing from
    the carrier's own stream in this order: loss; corruption — one bit in
    ``data[protect:]`` (a link protects the Ethernet header, as if the FCS were not checked,
    so that IP, ICMP, UDP and TCP checksums must catch it); reordering — the frame is held
    back ``max(delay, 1 ms) × (1 + u)`` for ``delay`` the carrier's one-way delay, so frames
    sent after it overtake it; duplication. (``faults.latency`` is the carrier's to add.)
    """
    if faults.loss and random.random() < faults.loss:
        return None
    flipped = None
    if faults.corrupt and random.random() < faults.corrupt and len(data) > protect:
        flipped = random.randint(protect * 8, len(data) * 8 - 1)
        buf = bytearray(data)
        buf[flipped >> 3] ^= 0x80 >> (flipped & 7)
        data = bytes(buf)
    hold = 0.0
    if faults.reorder and random.random() < faults.reorder:
        hold = max(delay, 0.001) * (1.0 + random.random())
    duplicate = bool(faults.duplicate and random.random() < faults.duplicate)
    return Fate(data, flipped, hold, duplicate)
