"""TCP per RFC 9293: the segment codec, a sans-IO connection, and a host's TCP stack.

- :mod:`.segment` — the header, options (MSS, window scale, SACK, timestamps) and checksum.
- :mod:`.seq` — sequence arithmetic modulo 2**32.
- :mod:`.connection` — :class:`Connection`, the state machine (states and transitions in
  :data:`TRANSITIONS`), with :mod:`.rto` (RFC 6298), :mod:`.congestion` (RFC 5681/6582)
  and :mod:`.sack` (RFC 6675) as small pure modules.
- :mod:`.stack` — :class:`TcpStack`: demultiplexing, listeners, ephemeral ports, sockets.
- :mod:`.wire` — a simulated IP wire joining stacks, for tests and benchmarks.
"""

from .connection import TRANSITIONS, Connection, ConnectionFailed, State, StateChanged, TcpConfig
from .segment import (
    EndOfOptions,
    Flags,
    MaximumSegmentSize,
    NoOperation,
    Sack,
    SackPermitted,
    Segment,
    Timestamps,
    UnknownOption,
    WindowScale,
)
from .stack import TcpListener, TcpSocket, TcpStack

__all__ = [
    "TRANSITIONS",
    "Connection",
    "ConnectionFailed",
    "EndOfOptions",
    "Flags",
    "MaximumSegmentSize",
    "NoOperation",
    "Sack",
    "SackPermitted",
    "Segment",
    "State",
    "StateChanged",
    "TcpConfig",
    "TcpListener",
    "TcpSocket",
    "TcpStack",
    "Timestamps",
    "UnknownOption",
    "WindowScale",
]
