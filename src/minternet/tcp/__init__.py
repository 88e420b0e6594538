"""TCP per RFC 9293: the segment codec and a sans-IO connection (a protocol core).

- :mod:`.segment` — the header, options (MSS, window scale, SACK, timestamps) and checksum.
- :mod:`.seq` — sequence arithmetic modulo 2**32.
- :mod:`.connection` — :class:`Connection`, the state machine (states and transitions in
  :data:`TRANSITIONS`), with :mod:`.rto` (RFC 6298), :mod:`.congestion` (RFC 5681/6582)
  and :mod:`.sack` (RFC 6675) as small pure modules.

A host's TCP — demultiplexing, listeners, ephemeral ports and sockets on the event loop — is
an adapter in the node ring: :class:`minternet.node.tcp.TcpStack`, attached to a host by
:func:`minternet.node.tcp_host.attach_tcp`. The wire joining bare stacks for tests and
benchmarks is the simulator's: :mod:`minternet.sim.wire`.
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
    "Timestamps",
    "UnknownOption",
    "WindowScale",
]
