"""TLS 1.2 (RFC 5246): record layer, handshake, certificates and the keys behind them — the
sans-IO client and server machines, the key log and the PKI (a protocol core: bytes and
objects in and out; no loop, socket or file).

Drive :class:`TlsClient` / :class:`TlsServer` directly: ``receive_data(bytes) -> events``,
``receive_eof()``, ``data_to_send() -> bytes``, ``send_application_data``, ``close``.
Events: :class:`HandshakeComplete` (``.info``: :class:`TlsInfo`, secrets included),
:class:`ApplicationData`, :class:`AlertReceived`, :class:`Closed`.

TLS over a stream socket on the event loop is an adapter of the application ring,
:mod:`minternet.apps.tls_stream` (``tls_connect``, ``tls_accept``, ``TlsStream``); trust
stores and PEM files are read and written at the edge, :mod:`minternet.drivers.pem`.

Modules are named in the protocol's words: ``record``, ``cipher``, ``messages``,
``extensions``, ``prf``, ``suites``, ``alerts``, ``client``, ``server``, ``keylog``; the PKI
side is ``keygen``, ``signing``, ``verify`` and ``pki``.
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
from .keylog import KeyLogFile, client_random_line
from .server import KeyAndChain, ServerConfig, SessionCache, TlsServer
from .suites import SUITES, CipherSuite, suite_by_name, suites_by_names

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
    "KeyAndChain",
    "KeyLogFile",
    "ServerConfig",
    "Session",
    "SessionCache",
    "TlsAlert",
    "TlsClient",
    "TlsInfo",
    "TlsServer",
    "client_random_line",
    "suite_by_name",
    "suites_by_names",
]
