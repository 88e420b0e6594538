"""TLS 1.2 (RFC 5246): record layer, handshake codec, sans-IO client and server machines.

The public names are re-exported here; the modules are named in the protocol's own words
(``record``, ``cipher``, ``messages``, ``extensions``, ``prf``, ``suites``, ``alerts``,
``client``, ``server``, ``keylog``, ``stream``).
"""

from __future__ import annotations

from .alerts import AlertDescription, AlertLevel, TlsAlert
from .client import ClientConfig, TlsClient
from .connection import (
    AlertReceived,
    ApplicationData,
    Closed,
    Event,
    HandshakeComplete,
    Session,
    TlsInfo,
)
from .server import ServerConfig, SessionCache, TlsServer
from .suites import SUITES, CipherSuite, suite_by_name

__all__ = [
    "SUITES",
    "AlertDescription",
    "AlertLevel",
    "AlertReceived",
    "ApplicationData",
    "CipherSuite",
    "ClientConfig",
    "Closed",
    "Event",
    "HandshakeComplete",
    "ServerConfig",
    "Session",
    "SessionCache",
    "TlsAlert",
    "TlsClient",
    "TlsInfo",
    "TlsServer",
    "suite_by_name",
]
