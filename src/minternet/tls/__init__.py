"""TLS 1.2 (RFC 5246) and TLS 1.3 (RFC 8446): record layers, handshakes, certificates and
the keys behind them — the sans-IO client and server machines of both versions, the key log
and the PKI (a protocol core: bytes and objects in and out; no loop, socket or file).

Drive :class:`TlsClient` / :class:`TlsServer` (1.2), :class:`TlsClient13` /
:class:`TlsServer13` (1.3) or :class:`NegotiatingClient` / :class:`NegotiatingServer`
(both, 1.3 preferred, the RFC 8446 §4.1.3 downgrade sentinel checked) directly:
``receive_data(bytes) -> events``, ``receive_eof()``, ``data_to_send() -> bytes``,
``send_application_data``, ``close``. Events: :class:`HandshakeComplete` (``.info``:
:class:`TlsInfo` or :class:`Tls13Info`, secrets included), :class:`ApplicationData`,
:class:`AlertReceived`, :class:`Closed`, and for 1.3 :class:`NewTicket` (pass its
:class:`Ticket13` as ``ClientConfig13.session`` to resume).

TLS over a stream socket on the event loop is an adapter of the application ring,
:mod:`minternet.apps.tls_stream` (``tls_connect``, ``tls_accept``, ``TlsStream``); trust
stores and PEM files are read and written at the edge, :mod:`minternet.drivers.pem`.

Modules are named in the protocol's words: ``record``, ``cipher``, ``messages``,
``extensions``, ``prf``, ``suites``, ``alerts``, ``client``, ``server``, ``keylog``; for 1.3
``schedule`` (the HKDF key schedule), ``record13``, ``messages13``, ``extensions13``,
``suites13``, ``connection13``, ``client13``, ``server13``, and ``negotiate`` (both
versions side by side); the PKI side is ``keygen``, ``signing``, ``verify`` and ``pki``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Every name is imported on first use (PEP 562), as the root package does: importing one
# module of the package (``minternet.tls.record``, say, which imports this package first)
# loads only what that module needs, not both machines, the PKI and ``cryptography.x509``.
# Name -> submodule that defines it.
_LAZY = {
    "AlertDescription": "alerts",
    "AlertLevel": "alerts",
    "TlsAlert": "alerts",
    "ClientConfig": "client",
    "TlsClient": "client",
    "ClientConfig13": "client13",
    "TlsClient13": "client13",
    "AlertReceived": "connection",
    "ApplicationData": "connection",
    "Closed": "connection",
    "Event": "connection",
    "HandshakeComplete": "connection",
    "Session": "connection",
    "TlsInfo": "connection",
    "NewTicket": "connection13",
    "Ticket13": "connection13",
    "Tls13Info": "connection13",
    "KeyLogFile": "keylog",
    "client_random_line": "keylog",
    "NegotiatingClient": "negotiate",
    "NegotiatingServer": "negotiate",
    "KeyAndChain": "server",
    "ServerConfig": "server",
    "SessionCache": "server",
    "TlsServer": "server",
    "ServerConfig13": "server13",
    "TlsServer13": "server13",
    "SUITES": "suites",
    "CipherSuite": "suites",
    "suite_by_name": "suites",
    "suites_by_names": "suites",
    "TLS13_SUITES": "suites13",
    "Tls13Suite": "suites13",
}

if TYPE_CHECKING:
    from .alerts import AlertDescription, AlertLevel, TlsAlert
    from .client import ClientConfig, TlsClient
    from .client13 import ClientConfig13, TlsClient13
    from .connection import (
        AlertReceived,
        ApplicationData,
        Closed,
        Event,
        HandshakeComplete,
        Session,
        TlsInfo,
    )
    from .connection13 import NewTicket, Ticket13, Tls13Info
    from .keylog import KeyLogFile, client_random_line
    from .negotiate import NegotiatingClient, NegotiatingServer
    from .server import KeyAndChain, ServerConfig, SessionCache, TlsServer
    from .server13 import ServerConfig13, TlsServer13
    from .suites import SUITES, CipherSuite, suite_by_name, suites_by_names
    from .suites13 import TLS13_SUITES, Tls13Suite


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "SUITES",
    "TLS13_SUITES",
    "AlertDescription",
    "AlertLevel",
    "AlertReceived",
    "ApplicationData",
    "CipherSuite",
    "ClientConfig",
    "ClientConfig13",
    "Closed",
    "Event",
    "HandshakeComplete",
    "KeyAndChain",
    "KeyLogFile",
    "NegotiatingClient",
    "NegotiatingServer",
    "NewTicket",
    "ServerConfig",
    "ServerConfig13",
    "Session",
    "SessionCache",
    "Ticket13",
    "Tls13Info",
    "Tls13Suite",
    "TlsAlert",
    "TlsClient",
    "TlsClient13",
    "TlsInfo",
    "TlsServer",
    "TlsServer13",
    "client_random_line",
    "suite_by_name",
    "suites_by_names",
]
