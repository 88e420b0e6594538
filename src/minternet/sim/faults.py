"""Faults a link can inject: loss, reordering, duplication, corruption, extra latency."""

from __future__ import annotations

from dataclasses import dataclass


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
