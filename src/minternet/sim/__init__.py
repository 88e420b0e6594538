"""The simulator: virtual time, seeded randomness, links with faults, and worlds of nodes."""

from .faults import Faults

__all__ = ["Faults"]
