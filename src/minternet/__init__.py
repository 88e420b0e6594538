"""minternet — a miniature internet in pure Python.

Every protocol of an HTTPS page load (Ethernet, ARP, IPv4, ICMP, UDP, DNS, TCP, TLS 1.2,
HTTP/1.1), byte-exact from the RFCs, on a deterministic simulated network or real interfaces.
The public API is what this module exports.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Every name is imported on first use (PEP 562), so that importing one protocol core —
# ``minternet.tcp.segment``, say, which imports this package first — loads nothing else:
# not the loop, the simulator nor the trace bus. Name -> module that defines it.
_LAZY = {
    "Reader": "codec",
    "Writer": "codec",
    "ConfigError": "errors",
    "DecodeError": "errors",
    "LocalProtocolError": "errors",
    "MinternetError": "errors",
    "RemoteProtocolError": "errors",
    "Cancelled": "loop",
    "EventLoop": "loop",
    "Future": "loop",
    "LoopTimeout": "loop",
    "Task": "loop",
    "VirtualLoop": "loop",
    "RealtimeLoop": "drivers.realtime",
    "RandomSource": "randomness",
    "SeededRandom": "randomness",
    "SystemRandom": "drivers.entropy",
    "Faults": "sim.faults",
    "EventLog": "trace",
    "FrameRecord": "trace",
    "TraceBus": "trace",
    "TraceEvent": "trace",
    "World": "sim.world",
    "Host": "node.host",
    "Router": "node.router",
    "PcapngWriter": "trace.pcapng",
    "TcpStack": "node.tcp",
    "TcpConfig": "tcp",
    "StubResolver": "apps.dns_stub",
    "Message": "dns",
    "TlsClient": "tls",
    "TlsServer": "tls",
    "ClientConfig": "tls",
    "ServerConfig": "tls",
    "Pki": "tls.pki",
    "TrustStore": "tls.verify",
    "verify_server_chain": "tls.verify",
    "HttpConnection": "http",
    "WebServer": "apps.web_server",
    "Browser": "apps.browser",
    "FetchOptions": "apps.fetch_run",
    "run_fetch": "apps.fetch_run",
    "KernelStack": "drivers.kernel",
}

if TYPE_CHECKING:
    from .apps.browser import Browser
    from .apps.dns_stub import StubResolver
    from .apps.fetch_run import FetchOptions, run_fetch
    from .apps.web_server import WebServer
    from .codec import Reader, Writer
    from .dns import Message
    from .drivers.entropy import SystemRandom
    from .drivers.kernel import KernelStack
    from .drivers.realtime import RealtimeLoop
    from .errors import (
        ConfigError,
        DecodeError,
        LocalProtocolError,
        MinternetError,
        RemoteProtocolError,
    )
    from .http import HttpConnection
    from .loop import Cancelled, EventLoop, Future, LoopTimeout, Task, VirtualLoop
    from .node.host import Host
    from .node.router import Router
    from .node.tcp import TcpStack
    from .randomness import RandomSource, SeededRandom
    from .sim.faults import Faults
    from .sim.world import World
    from .tcp import TcpConfig
    from .tls import ClientConfig, ServerConfig, TlsClient, TlsServer
    from .tls.pki import Pki
    from .tls.verify import TrustStore, verify_server_chain
    from .trace import EventLog, FrameRecord, TraceBus, TraceEvent
    from .trace.pcapng import PcapngWriter


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'minternet' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Browser",
    "Cancelled",
    "ClientConfig",
    "ConfigError",
    "DecodeError",
    "EventLog",
    "EventLoop",
    "Faults",
    "FetchOptions",
    "FrameRecord",
    "Future",
    "Host",
    "HttpConnection",
    "KernelStack",
    "LocalProtocolError",
    "LoopTimeout",
    "Message",
    "MinternetError",
    "PcapngWriter",
    "Pki",
    "RandomSource",
    "Reader",
    "RealtimeLoop",
    "RemoteProtocolError",
    "Router",
    "SeededRandom",
    "ServerConfig",
    "StubResolver",
    "SystemRandom",
    "Task",
    "TcpConfig",
    "TcpStack",
    "TlsClient",
    "TlsServer",
    "TraceBus",
    "TraceEvent",
    "TrustStore",
    "VirtualLoop",
    "WebServer",
    "World",
    "Writer",
    "__version__",
    "run_fetch",
    "verify_server_chain",
]
