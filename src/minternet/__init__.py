"""minternet — a miniature internet in pure Python.

Every protocol of an HTTPS page load (Ethernet, ARP, IPv4, ICMP, UDP, DNS, TCP, TLS 1.2,
HTTP/1.1), byte-exact from the RFCs, on a deterministic simulated network or real interfaces.
The public API is what this module exports.
"""

from .codec import Reader, Writer
from .errors import (
    ConfigError,
    DecodeError,
    LocalProtocolError,
    MinternetError,
    RemoteProtocolError,
)
from .loop import Cancelled, EventLoop, Future, LoopTimeout, RealtimeLoop, Task, VirtualLoop
from .randomness import RandomSource, SeededRandom, SystemRandom
from .sim.faults import Faults
from .trace import EventLog, FrameRecord, TraceBus, TraceEvent

__version__ = "0.1.0"

__all__ = [
    "Cancelled",
    "ConfigError",
    "DecodeError",
    "EventLog",
    "EventLoop",
    "Faults",
    "FrameRecord",
    "Future",
    "LocalProtocolError",
    "LoopTimeout",
    "MinternetError",
    "RandomSource",
    "Reader",
    "RealtimeLoop",
    "RemoteProtocolError",
    "SeededRandom",
    "SystemRandom",
    "Task",
    "TraceBus",
    "TraceEvent",
    "VirtualLoop",
    "Writer",
    "__version__",
]
